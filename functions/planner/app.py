"""Lambda handler for the planner node: the logic lives in orchestrator.nodes.planner."""

from orchestrator.nodes import planner
from orchestrator.observability import node_handler

handler = node_handler(planner.node)
