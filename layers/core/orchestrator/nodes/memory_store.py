"""Memory store node: record each turn and its run, even when it failed, and cache complete answers;
park a run that waits for a person's approval (its task token) until the API brings the decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from orchestrator.errors import StorageUnavailableError, ValidationError
from orchestrator.failures import describe_failure
from orchestrator.memory.approvals import PendingApproval
from orchestrator.memory.cache import CACHEABLE_INTENTS
from orchestrator.memory.conversations import turn_of
from orchestrator.memory.runs import RunRecord, RunStatus
from orchestrator.monitoring.health import UNAVAILABLE_DEPENDENCY
from orchestrator.nodes.base import Invocation, Node
from orchestrator.nodes.tracing import failure_span
from orchestrator.state import GraphState, utc_now

if TYPE_CHECKING:
    from orchestrator.memory import ConversationMemory, ResponseCache, RunStore
    from orchestrator.memory.approvals import ApprovalStore
    from orchestrator.memory.semantic_cache import SemanticCache
    from orchestrator.monitoring.events import RunCompletedPublisher


@dataclass(frozen=True)
class MemoryDeps:
    conversations: ConversationMemory
    cache: ResponseCache
    runs: RunStore
    cache_ttl_s: int
    #: None unless SEMANTIC_CACHE_ENABLED: then each cached answer is also stored by meaning.
    semantic_cache: SemanticCache | None = None
    approvals: ApprovalStore | None = None
    #: None when RUN_COMPLETED_EVENT_BUS is empty: then no event is put when a run ends.
    run_completed: RunCompletedPublisher | None = None


node: Node[MemoryDeps] = Node(
    "memory_store",
    deps=lambda c: MemoryDeps(
        conversations=c.conversations,
        cache=c.response_cache,
        runs=c.run_store,
        cache_ttl_s=c.settings.cache_ttl_s,
        semantic_cache=c.semantic_cache,
        approvals=c.approvals,
        run_completed=c.run_completed_events,
    ),
)


def _record_run(state: GraphState, deps: MemoryDeps, *, succeeded: bool) -> None:
    status: RunStatus = "SUCCEEDED" if succeeded else "FAILED"
    if succeeded and state.approval.status in ("rejected", "timed_out"):
        status = "REJECTED"
    record = _run_record(state, status)
    deps.runs.put(record)
    if deps.run_completed is not None:
        deps.run_completed.publish(record)


def _run_record(state: GraphState, status: RunStatus) -> RunRecord:
    return RunRecord(
        run_id=state.run_id,
        status=status,
        tenant_id=state.tenant_id,
        user_id=state.user_id,
        session_id=state.session_id,
        started_at=state.started_at,
        finished_at=None if status == "WAITING_FOR_APPROVAL" else utc_now(),
        intent=state.intent.model_dump() if state.intent else None,
        response=state.response.model_dump() if state.response else None,
        plan=[s.model_dump() for s in state.plan],
        results=[r.model_dump(mode="json") for r in state.results],
        usage={k: v.model_dump() for k, v in state.usage.items()},
        errors=[e.model_dump() for e in state.errors],
        tool_calls=_tool_calls(state),
        cached=state.cached,
        approval=state.approval.model_dump(mode="json") if state.approval.status != "none" else None,
        planning=state.planning.model_dump(mode="json") if state.planning else None,
        trace=[span.model_dump(mode="json") for span in state.trace],
    )


def _tool_calls(state: GraphState) -> list[dict[str, Any]]:
    """What monitoring counts of each tool call: the tool branch's and the plan steps' (no outputs)."""
    calls: list[dict[str, Any]] = [r.model_dump(mode="json") for r in state.tool_results]
    for result in state.results:
        if result.node == "tool_executor":
            calls.extend(result.data.get("tool_results", []))
    keep = ("name", "ok", "error", "latency_ms")
    return [{k: c.get(k) for k in keep} for c in calls]


def cacheable(state: GraphState) -> bool:
    """Only complete answers that don't depend on live data: no tools, no cut-off or empty text."""
    response, intent = state.response, state.intent.name if state.intent else None
    return (
        not state.cached
        and response is not None
        and response.complete
        and intent in CACHEABLE_INTENTS
        and not state.tool_calls
        and not response.client_tool_calls
        and not (state.client is not None and state.client.background)
    )


@node.action("record")
def record(call: Invocation, deps: MemoryDeps) -> GraphState:
    state = call.state
    text = state.response.text if state.response else ""
    # A chat UI's background task (a title, tags) is not part of the conversation.
    if state.client is None or not state.client.background:
        deps.conversations.append(state.tenant_id, state.user_id, state.session_id, turn_of(state, text))
    if cacheable(state) and state.response is not None:
        value = {
            "response": state.response.model_dump(),
            "intent": state.intent.model_dump() if state.intent else None,
        }
        deps.cache.put(state.tenant_id, state.user_id, state.cache_prompt(), value, deps.cache_ttl_s)
        if deps.semantic_cache is not None and state.intent is not None and state.client is None:
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
    call.after.append(lambda output: _record_run(state, deps, succeeded=True))
    return state


@node.action("record_failure")
def record_failure(call: Invocation, deps: MemoryDeps) -> GraphState:
    """The Catch path: the turn is still remembered, with the error instead of an answer."""
    state = call.state
    failure = call.event.failure or {}
    error = describe_failure(failure.get("Error"), failure.get("Cause"))
    state.errors.append(error)
    # The failed Task returned no state to carry its span: rebuilt here, so the trace shows it.
    state.add_spans([failure_span(state, call.event, error.code, error.message)])
    try:
        deps.conversations.append(
            state.tenant_id,
            state.user_id,
            state.session_id,
            turn_of(state, f"[failed: {error.code}] {error.message}", ok=False),
        )
    except StorageUnavailableError:
        # The conversations table is refusing: the run record still tells the client what happened.
        _record_run(state, deps, succeeded=False)
        raise
    # Written once this action's own span is in, like the record of a run that succeeded.
    call.after.append(lambda output: _record_run(state, deps, succeeded=False))
    dependency = UNAVAILABLE_DEPENDENCY.get(error.code)
    if dependency:
        deps.runs.note_dependency_failure(dependency, error.code, utc_now())
    return state


@node.action("await_approval")
def await_approval(call: Invocation, deps: MemoryDeps) -> GraphState:
    """The first half of the approval wait (``.waitForTaskToken``): keep the token where the API
    finds it, and show the run as waiting. Step Functions ignores this output; the run resumes
    with what the API sends (``SendTaskSuccess``/``SendTaskFailure``) or times out."""
    state, token = call.state, call.event.task_token
    if not token or deps.approvals is None:
        raise ValidationError(f"{node.name}: action 'await_approval' needs 'task_token'")
    now = datetime.now(UTC)
    approval = state.approval
    approval.requested_at = now.isoformat(timespec="milliseconds")
    approval.expires_at = (now + timedelta(seconds=approval.timeout_s)).isoformat(timespec="milliseconds")
    deps.approvals.put(
        PendingApproval(
            run_id=state.run_id,
            tenant_id=state.tenant_id,
            user_id=state.user_id,
            task_token=token,
            calls=approval.calls,
            timeout_s=approval.timeout_s,
            requested_at=approval.requested_at,
            expires_at=approval.expires_at,
        )
    )
    deps.runs.put(_run_record(state, "WAITING_FOR_APPROVAL"))
    return state


handle = node.handle
