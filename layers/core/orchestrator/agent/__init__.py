"""The LLM agent's tool-calling loop and prompt assembly (history within a token budget)."""

from orchestrator.agent.history import build_messages
from orchestrator.agent.loop import AgentOutcome, run_agent

__all__ = ["AgentOutcome", "build_messages", "run_agent"]
