"""Lambda handler for the llm agent node: the logic lives in orchestrator.nodes.llm_agent."""

from orchestrator.nodes import llm_agent
from orchestrator.observability import node_handler

handler = node_handler(llm_agent.node)
