"""External agents as configuration: who they are (``config``) and their clients by name (``registry``)."""

from orchestrator.agents.config import (
    DEFAULT_AGENT,
    ExternalAgentConfig,
    ExternalAgentsConfig,
    agent_routes,
    load_agents,
)
from orchestrator.agents.registry import AgentClient, AgentRegistry

__all__ = [
    "DEFAULT_AGENT",
    "AgentClient",
    "AgentRegistry",
    "ExternalAgentConfig",
    "ExternalAgentsConfig",
    "agent_routes",
    "load_agents",
]
