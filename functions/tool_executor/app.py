"""Lambda handler for the tool executor node: the logic lives in orchestrator.nodes.tool_executor."""

from orchestrator.nodes import tool_executor
from orchestrator.observability import node_handler

handler = node_handler(tool_executor.node)
