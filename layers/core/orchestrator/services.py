"""Per-container singletons: each is built on first use and reused across invocations.

Factories import their modules lazily so a handler pays only for what its node uses.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from orchestrator.config import get_settings

if TYPE_CHECKING:
    from orchestrator.clients.external_agent import ExternalAgentClient
    from orchestrator.clients.llm.base import LLMClient
    from orchestrator.grounding import Retriever
    from orchestrator.memory import ConversationMemory, ResponseCache, RunStore
    from orchestrator.reasoning.planner import Planner
    from orchestrator.reasoning.router import IntentRouter
    from orchestrator.tools.registry import ToolRegistry


def llm_client() -> LLMClient:
    from orchestrator.clients.llm import get_llm_client

    return get_llm_client(get_settings())


def router() -> IntentRouter:
    from orchestrator.reasoning.router import get_router

    return get_router(get_settings(), llm_factory=llm_client)


@lru_cache(maxsize=1)
def planner() -> Planner:
    from orchestrator.reasoning.planner import Planner

    return Planner(router(), llm_client(), max_steps=get_settings().planner_max_steps)


@lru_cache(maxsize=1)
def tool_registry() -> ToolRegistry:
    from orchestrator.tools.registry import ToolRegistry

    return ToolRegistry.from_settings(get_settings())


def retriever() -> Retriever:
    from orchestrator.grounding import get_retriever

    return get_retriever(get_settings())


def external_agent() -> ExternalAgentClient | None:
    from orchestrator.clients.external_agent import get_external_agent_client

    return get_external_agent_client(get_settings())


@lru_cache(maxsize=1)
def conversations() -> ConversationMemory:
    from orchestrator.memory import ConversationMemory

    settings = get_settings()
    return ConversationMemory(settings.conversations_table, region=settings.aws_region)


@lru_cache(maxsize=1)
def response_cache() -> ResponseCache:
    from orchestrator.memory import ResponseCache

    settings = get_settings()
    return ResponseCache(settings.cache_table, region=settings.aws_region)


@lru_cache(maxsize=1)
def run_store() -> RunStore:
    from orchestrator.memory import RunStore

    settings = get_settings()
    return RunStore(settings.runs_table, region=settings.aws_region)


def reset() -> None:
    """Drop every cached service and the settings (tests and the local runtime change config)."""
    from orchestrator.clients.embeddings import reset_embedders
    from orchestrator.clients.external_agent import reset_external_agent_clients
    from orchestrator.clients.llm import reset_llm_clients
    from orchestrator.grounding import reset_retrievers
    from orchestrator.memory._dynamodb import reset_clients
    from orchestrator.reasoning.router import reset_router_cache

    for reset_cache in (
        reset_embedders,
        reset_external_agent_clients,
        reset_llm_clients,
        reset_retrievers,
        reset_router_cache,
    ):
        reset_cache()
    get_settings.cache_clear()
    for factory in (planner, tool_registry, conversations, response_cache, run_store):
        factory.cache_clear()
    reset_clients()
