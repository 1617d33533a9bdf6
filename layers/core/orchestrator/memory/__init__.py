"""Memory: conversation history, response cache and run records, each in its own DynamoDB table."""

from orchestrator.memory.cache import ResponseCache, cache_key
from orchestrator.memory.conversations import ConversationMemory, Turn
from orchestrator.memory.runs import RunRecord, RunStore

__all__ = ["ConversationMemory", "ResponseCache", "RunRecord", "RunStore", "Turn", "cache_key"]
