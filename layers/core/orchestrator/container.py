"""The one place where the application's services are built: from one ``Settings``, once each.

A Lambda handler (or the API) asks :func:`current` for the process's container and hands each
node only the dependencies it declares (``nodes/*.py`` ``…Deps``), so a node's signature says what
it may touch, as its IAM policy does. Services are built on first use, so a handler pays at cold
start only for what its node uses. Tests build a ``Container`` from their own settings, or pass
fakes to a node's deps directly; the local runtime and tests that change the environment call
:func:`reset` so the next :func:`current` reads it again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from orchestrator.config import Settings

if TYPE_CHECKING:
    from orchestrator.agents import AgentClient, AgentRegistry
    from orchestrator.clients.embeddings.base import Embedder
    from orchestrator.clients.llm.base import LLMClient
    from orchestrator.grounding import Retriever
    from orchestrator.grounding.uploads import DocumentUploads
    from orchestrator.memory import ConversationMemory, ResponseCache, RunStore
    from orchestrator.memory.approvals import ApprovalStore
    from orchestrator.memory.run_events import RunEventStore
    from orchestrator.memory.semantic_cache import SemanticCache
    from orchestrator.monitoring.events import RunCompletedPublisher
    from orchestrator.reasoning.planner import Planner
    from orchestrator.reasoning.router import IntentRouter
    from orchestrator.tools.registry import ToolRegistry

T = TypeVar("T")
_MISSING = object()


class Container:
    """Services for one configuration. Each property is built once, on first use, thread-safely."""

    def __init__(self, settings: Settings, **overrides: Any) -> None:
        self.settings = settings
        self._built: dict[str, Any] = dict(overrides)
        self._lock = threading.RLock()

    def _once(self, name: str, build: Callable[[], T]) -> T:
        value = self._built.get(name, _MISSING)
        if value is _MISSING:
            with self._lock:
                value = self._built.get(name, _MISSING)
                if value is _MISSING:
                    value = self._built[name] = build()
        return value  # type: ignore[no-any-return]  # stored by the same name's builder

    def close(self) -> None:
        """Release what holds connections (HTTP pools); the container is not used afterwards."""
        agents = self._built.get("external_agents")
        if agents is not None:
            agents.close()

    @property
    def llm(self) -> LLMClient:
        def build() -> LLMClient:
            from orchestrator.clients.llm import build_llm_client

            return build_llm_client(self.settings)

        return self._once("llm", build)

    @property
    def router(self) -> IntentRouter:
        def build() -> IntentRouter:
            from orchestrator.reasoning.router import build_router

            # The model is only built if the router needs it (low confidence, real model).
            return build_router(self.settings, llm_factory=lambda: self.llm)

        return self._once("router", build)

    @property
    def planner(self) -> Planner:
        def build() -> Planner:
            from orchestrator.reasoning.planner import Planner

            return Planner(self.router, self.llm, max_steps=self.settings.planner_max_steps)

        return self._once("planner", build)

    @property
    def tools(self) -> ToolRegistry:
        def build() -> ToolRegistry:
            from orchestrator.tools.registry import ToolRegistry

            return ToolRegistry.from_settings(self.settings)

        return self._once("tools", build)

    @property
    def embedder(self) -> Embedder:
        def build() -> Embedder:
            from orchestrator.clients.embeddings import build_embedder

            return build_embedder(self.settings)

        return self._once("embedder", build)

    @property
    def retriever(self) -> Retriever:
        def build() -> Retriever:
            from orchestrator.grounding import build_retriever

            return build_retriever(self.settings, self.embedder)

        return self._once("retriever", build)

    @property
    def document_uploads(self) -> DocumentUploads:
        """Presigned uploads into DOCUMENT_UPLOADS_BUCKET and their ingestion (an S3 client)."""

        def build() -> DocumentUploads:
            from orchestrator.grounding.uploads import DocumentUploads

            return DocumentUploads.from_settings(self.settings)

        return self._once("document_uploads", build)

    @property
    def external_agents(self) -> AgentRegistry:
        """Every configured external agent's client by name (``EXTERNAL_AGENTS_CONFIG_PATH``/SSM)."""

        def build() -> AgentRegistry:
            from orchestrator.agents import AgentRegistry

            return AgentRegistry.from_settings(self.settings)

        return self._once("external_agents", build)

    @property
    def external_agent(self) -> AgentClient | None:
        """The default agent (``EXTERNAL_AGENT_BASE_URL``'s), or None when unset."""
        from orchestrator.agents import DEFAULT_AGENT

        return self.external_agents.get(DEFAULT_AGENT)

    @property
    def conversations(self) -> ConversationMemory:
        def build() -> ConversationMemory:
            from orchestrator.memory import ConversationMemory

            return ConversationMemory(self.settings.conversations_table, region=self.settings.aws_region)

        return self._once("conversations", build)

    @property
    def response_cache(self) -> ResponseCache:
        def build() -> ResponseCache:
            from orchestrator.memory import ResponseCache

            return ResponseCache(self.settings.cache_table, region=self.settings.aws_region)

        return self._once("response_cache", build)

    @property
    def semantic_cache(self) -> SemanticCache | None:
        """None unless ``SEMANTIC_CACHE_ENABLED``; it embeds prompts with :attr:`embedder`."""

        def build() -> SemanticCache | None:
            if not self.settings.semantic_cache_enabled:
                return None
            from orchestrator.memory.semantic_cache import SemanticCache

            return SemanticCache(
                self.settings.cache_table,
                self.embedder,
                region=self.settings.aws_region,
                threshold=self.settings.semantic_cache_threshold,
                max_entries=self.settings.semantic_cache_max_entries,
            )

        return self._once("semantic_cache", build)

    @property
    def run_store(self) -> RunStore:
        def build() -> RunStore:
            from orchestrator.memory import RunStore

            return RunStore(self.settings.runs_table, region=self.settings.aws_region)

        return self._once("run_store", build)

    @property
    def run_completed_events(self) -> RunCompletedPublisher | None:
        """Publisher of ``orchestrator.run.completed``; None when ``RUN_COMPLETED_EVENT_BUS`` is empty."""

        def build() -> RunCompletedPublisher | None:
            from orchestrator.monitoring.events import RunCompletedPublisher

            bus = self.settings.run_completed_event_bus
            return RunCompletedPublisher(bus, region=self.settings.aws_region) if bus else None

        return self._once("run_completed_events", build)

    @property
    def run_events(self) -> RunEventStore | None:
        """Progress records of runs, for streaming clients; None when ``RUN_EVENTS_TABLE`` is empty."""

        def build() -> RunEventStore | None:
            from orchestrator.memory.run_events import RunEventStore

            name = self.settings.run_events_table
            if not name:
                return None
            return RunEventStore(name, region=self.settings.aws_region, ttl_s=self.settings.run_events_ttl_s)

        return self._once("run_events", build)

    @property
    def approvals(self) -> ApprovalStore:
        """Runs waiting for a person (their task tokens), in the runs table."""

        def build() -> ApprovalStore:
            from orchestrator.memory.approvals import ApprovalStore

            return ApprovalStore(self.settings.runs_table, region=self.settings.aws_region)

        return self._once("approvals", build)


_current: Container | None = None
_current_lock = threading.Lock()


def current() -> Container:
    """The process's container (one per warm Lambda), built from the environment on first use."""
    global _current  # noqa: PLW0603 - the one process-wide object; everything else is passed in
    if _current is None:
        with _current_lock:
            if _current is None:
                _current = Container(Settings())
    return _current


def reset() -> None:
    """Forget the process's container (the environment changed: tests, the local runtime)."""
    global _current
    from orchestrator.aws.dynamodb import reset_clients
    from orchestrator.config import get_settings

    with _current_lock:
        old, _current = _current, None
    if old is not None:
        old.close()
    get_settings.cache_clear()
    # The DynamoDB helpers keep one boto3 resource per process; a new moto means a new one.
    reset_clients()
