"""Lambda handler for the external agent node: the logic lives in orchestrator.nodes.external_agent."""

from orchestrator.nodes import external_agent
from orchestrator.observability import node_handler

handler = node_handler(external_agent.node)
