"""Lambda handler for the intent router node: the logic lives in orchestrator.nodes.intent_router."""

from orchestrator.nodes import intent_router
from orchestrator.observability import node_handler

handler = node_handler(intent_router.node)
