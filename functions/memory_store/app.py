"""Lambda handler for the memory store node: the logic lives in orchestrator.nodes.memory_store."""

from orchestrator.nodes import memory_store
from orchestrator.observability import node_handler

handler = node_handler(memory_store.node)
