"""Memory store node: answer from the cache, record each turn and its run, even when it failed."""

from __future__ import annotations

from typing import Any

from orchestrator import services
from orchestrator.config import get_settings
from orchestrator.failures import describe_failure
from orchestrator.memory.cache import CACHEABLE_INTENTS
from orchestrator.memory.conversations import turn_of
from orchestrator.memory.runs import RunRecord
from orchestrator.nodes._dispatch import handle as _handle
from orchestrator.nodes._dispatch import require_state, timed, usage
from orchestrator.state import GraphState, Intent, NodeEvent, Response, utc_now

NODE = "memory_store"


def lookup(event: NodeEvent) -> GraphState:
    """Serve a cached answer to the same prompt from the same user, unless asked not to."""
    state: GraphState = require_state(event, NODE)
    if event.execution_name:
        # The API names executions by run id; EventBridge does not, so the name becomes the id.
        state.run_id = event.execution_name
    with timed() as watch:
        hit = None
        if not state.metadata.get("no_cache") and get_settings().cache_ttl_s > 0:
            hit = services.response_cache().get(state.tenant_id, state.user_id, state.prompt)
        if hit is not None:
            state.response = Response.model_validate(hit["response"])
            state.intent = Intent.model_validate(hit["intent"]) if hit.get("intent") else None
            state.cached = True
    state.add_usage(NODE, usage(watch.elapsed_ms))
    return state


def _record_run(state: GraphState, status: str) -> None:
    services.run_store().put(
        RunRecord(
            run_id=state.run_id,
            status="SUCCEEDED" if status == "SUCCEEDED" else "FAILED",
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


def record(event: NodeEvent) -> GraphState:
    state: GraphState = require_state(event, NODE)
    settings = get_settings()
    with timed() as watch:
        text = state.response.text if state.response else ""
        intent = state.intent.name if state.intent else None
        services.conversations().append(
            state.tenant_id, state.user_id, state.session_id, turn_of(state, text)
        )
        if not state.cached and state.response and intent in CACHEABLE_INTENTS and not state.tool_calls:
            services.response_cache().put(
                state.tenant_id,
                state.user_id,
                state.prompt,
                {
                    "response": state.response.model_dump(),
                    "intent": state.intent.model_dump() if state.intent else None,
                },
                settings.cache_ttl_s,
            )
    state.add_usage(NODE, usage(watch.elapsed_ms))
    # Written last so the run record holds the whole run's usage.
    _record_run(state, "SUCCEEDED")
    return state


def record_failure(event: NodeEvent) -> GraphState:
    """The Catch path: the turn is still remembered, with the error instead of an answer."""
    state: GraphState = require_state(event, NODE)
    failure = event.failure or {}
    error = describe_failure(failure.get("Error"), failure.get("Cause"))
    state.errors.append(error)
    services.conversations().append(
        state.tenant_id,
        state.user_id,
        state.session_id,
        turn_of(state, f"[failed: {error.code}] {error.message}", ok=False),
    )
    _record_run(state, "FAILED")
    return state


def handle(event: dict[str, Any]) -> dict[str, Any]:
    return _handle(NODE, event, {"lookup": lookup, "record": record, "record_failure": record_failure})
