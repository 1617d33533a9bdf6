"""Lambda handler for the grounding node: the logic lives in orchestrator.nodes.grounding."""

from orchestrator.nodes import grounding
from orchestrator.observability import node_handler

handler = node_handler(grounding.node)
