"""Memory store node: record each turn and its run, even when it failed, and cache complete answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrator.failures import describe_failure
from orchestrator.memory.cache import CACHEABLE_INTENTS
from orchestrator.memory.conversations import turn_of
from orchestrator.memory.runs import RunRecord
from orchestrator.nodes.base import Invocation, Node
from orchestrator.state import GraphState, utc_now

if TYPE_CHECKING:
    from orchestrator.memory import ConversationMemory, ResponseCache, RunStore
    from orchestrator.memory.semantic_cache import SemanticCache


@dataclass(frozen=True)
class MemoryDeps:
    conversations: ConversationMemory
    cache: ResponseCache
    runs: RunStore
    cache_ttl_s: int
    #: None unless SEMANTIC_CACHE_ENABLED: then each cached answer is also stored by meaning.
    semantic_cache: SemanticCache | None = None


node: Node[MemoryDeps] = Node(
    "memory_store",
    deps=lambda c: MemoryDeps(
        conversations=c.conversations,
        cache=c.response_cache,
        runs=c.run_store,
        cache_ttl_s=c.settings.cache_ttl_s,
        semantic_cache=c.semantic_cache,
    ),
)


def _record_run(state: GraphState, runs: RunStore, *, succeeded: bool) -> None:
    runs.put(
        RunRecord(
            run_id=state.run_id,
            status="SUCCEEDED" if succeeded else "FAILED",
            tenant_id=state.tenant_id,
            user_id=state.user_id,
            session_id=state.session_id,
            started_at=state.started_at,
            finished_at=utc_now(),
            intent=state.intent.model_dump() if state.intent else None,
            response=state.response.model_dump() if state.response else None,
            plan=[s.model_dump() for s in state.plan],
            results=[r.model_dump(mode="json") for r in state.results],
            usage={k: v.model_dump() for k, v in state.usage.items()},
            errors=[e.model_dump() for e in state.errors],
            cached=state.cached,
        )
    )


def cacheable(state: GraphState) -> bool:
    """Only complete answers that don't depend on live data: no tools, no cut-off or empty text."""
    response, intent = state.response, state.intent.name if state.intent else None
    return (
        not state.cached
        and response is not None
        and response.complete
        and intent in CACHEABLE_INTENTS
        and not state.tool_calls
    )


@node.action("record")
def record(call: Invocation, deps: MemoryDeps) -> GraphState:
    state = call.state
    text = state.response.text if state.response else ""
    deps.conversations.append(state.tenant_id, state.user_id, state.session_id, turn_of(state, text))
    if cacheable(state) and state.response is not None:
        value = {
            "response": state.response.model_dump(),
            "intent": state.intent.model_dump() if state.intent else None,
        }
        deps.cache.put(state.tenant_id, state.user_id, state.prompt, value, deps.cache_ttl_s)
        if deps.semantic_cache is not None and state.intent is not None:
            deps.semantic_cache.put(
                state.tenant_id,
                state.user_id,
                state.intent.name,
                state.prompt,
                value,
                ttl_s=deps.cache_ttl_s,
                deadline=call.deadline,
            )
    # Written once this node's own usage is in, so the run record holds the whole run's usage.
    call.after.append(lambda output: _record_run(state, deps.runs, succeeded=True))
    return state


@node.action("record_failure")
def record_failure(call: Invocation, deps: MemoryDeps) -> GraphState:
    """The Catch path: the turn is still remembered, with the error instead of an answer."""
    state = call.state
    failure = call.event.failure or {}
    error = describe_failure(failure.get("Error"), failure.get("Cause"))
    state.errors.append(error)
    deps.conversations.append(
        state.tenant_id,
        state.user_id,
        state.session_id,
        turn_of(state, f"[failed: {error.code}] {error.message}", ok=False),
    )
    _record_run(state, deps.runs, succeeded=False)
    return state


handle = node.handle
