"""Given the memory node's deps, every turn is recorded once, and only complete answers are cached."""

from __future__ import annotations

from typing import Any

from orchestrator.nodes.memory_store import MemoryDeps, node
from orchestrator.state import GraphState, Intent, Response, ToolCall
from tests.support.fakes import FakeCache, FakeConversations, FakeRuns, deadline_in


def deps() -> MemoryDeps:
    return MemoryDeps(
        conversations=FakeConversations(),  # type: ignore[arg-type]
        cache=FakeCache(),  # type: ignore[arg-type]
        runs=FakeRuns(),  # type: ignore[arg-type]
        cache_ttl_s=60,
    )


def answered(
    text: str = "Paris.", *, complete: bool = True, intent: str = "chat", **extra: Any
) -> GraphState:
    return GraphState(
        tenant_id="acme",
        user_id="ada",
        session_id="s1",
        prompt="Capital of France?",
        intent=Intent(name=intent, confidence=0.9, method="embedding"),
        response=Response(text=text, complete=complete),
        **extra,
    )


def record(d: MemoryDeps, state: GraphState, action: str = "record", **extra: Any) -> dict[str, Any]:
    return node.run(
        {"action": action, "state": state.model_dump(mode="json"), **extra}, d, deadline=deadline_in()
    )


def test_a_turn_is_remembered_cached_and_its_run_recorded_with_this_nodes_usage() -> None:
    d, state = deps(), answered()

    record(d, state)

    assert [t.response for t in d.conversations.recent("acme", "ada", "s1", 5)] == ["Paris."]
    assert d.cache.get("acme", "ada", "Capital of France?") is not None
    run = d.runs.get("acme", state.run_id)
    assert run is not None and run.status == "SUCCEEDED" and "memory_store" in run.usage


def test_recording_the_same_run_twice_keeps_one_turn() -> None:
    d, state = deps(), answered()

    record(d, state)
    record(d, state)

    assert len(d.conversations.recent("acme", "ada", "s1", 5)) == 1


def test_cut_off_empty_tool_and_uncacheable_answers_are_not_cached() -> None:
    d = deps()
    for state in (
        answered(complete=False),
        answered(text="   ", complete=False),
        answered(tool_calls=[ToolCall(id="c1", name="calculator")]),
        answered(intent="external_agent"),
    ):
        record(d, state)

    assert d.cache.items == {}


def test_a_failed_run_is_still_remembered_with_its_error() -> None:
    d, state = deps(), answered()
    failure = {"Error": "ModelUnavailableError", "Cause": '{"errorMessage": "down"}'}

    record(d, state, "record_failure", failure=failure)

    turn = d.conversations.recent("acme", "ada", "s1", 5)[0]
    run = d.runs.get("acme", state.run_id)
    assert turn.ok is False and "model_unavailable" in turn.response
    assert run is not None and run.status == "FAILED"
    # and /health will name the model as degraded
    assert d.runs.dependency_failures["model"]["code"] == "model_unavailable"  # type: ignore[attr-defined]


def test_a_chat_uis_background_task_is_neither_remembered_nor_cached() -> None:
    from orchestrator.state import ClientTurn

    d, state = (
        deps(),
        answered("Trip to Vienna", client=ClientTurn(background=True, direct=True, route="chat")),
    )

    record(d, state)

    assert d.conversations.recent("acme", "ada", "s1", 5) == []
    assert d.cache.get("acme", "ada", state.cache_prompt()) is None
    assert d.runs.get("acme", state.run_id) is not None


def test_a_client_tool_call_is_not_cached() -> None:
    d = deps()
    state = answered("", intent="chat")
    state.response = Response(text="", client_tool_calls=[ToolCall(id="c", name="w")])

    record(d, state)

    assert d.cache.get("acme", "ada", "Capital of France?") is None
