"""Given node actions, Node.run leaves one span per action: timing, retries, errors, clipped
summaries and the decision taken; Map iterations carry theirs on the result until folded; the
failure path names the Task that failed; the configuration view masks every secret."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, SecretStr

from orchestrator.clients.retrying import RetryPolicy, TransientFailure, call_with_retries
from orchestrator.errors import ToolExecutionError
from orchestrator.nodes.base import Invocation, Node
from orchestrator.nodes.tracing import failed_task, failure_span, function_id
from orchestrator.reasoning.planner import PlanOutcome
from orchestrator.state import (
    MAX_TRACE_SPANS,
    GraphState,
    Intent,
    NodeEvent,
    NodeResult,
    PlanStep,
    Span,
    ToolResult,
)
from tests.support.fakes import deadline_in

STATE = {"run_id": "r1", "user_id": "u1", "session_id": "s1", "prompt": "hi " * 500}


def run(action: Any, event: dict[str, Any], node_name: str = "intent_router") -> dict[str, Any]:
    node: Node[None] = Node(node_name, deps=lambda c: None)
    node.action(event["action"])(action)
    return node.run(event, None, deadline=deadline_in())


def test_an_action_leaves_a_span_with_its_decision_and_clipped_summaries() -> None:
    def route(call: Invocation, deps: None) -> BaseModel:
        call.state.intent = Intent(name="chat", confidence=0.9, method="embedding", alternatives={"rag": 0.1})
        call.decision = {"intent": "chat"}
        return call.state

    state = GraphState.model_validate(run(route, {"action": "route", "state": STATE, "retry_count": 2}))

    (span,) = state.trace
    assert (span.node, span.action, span.function) == ("intent_router", "route", "IntentRouterFunction")
    assert span.decision == {"intent": "chat"} and span.retries == 2 and span.error is None
    assert span.output == "intent chat (0.90, embedding)"
    assert len(span.input) <= 400 and "\n" not in span.input and span.input.endswith("…")
    assert span.duration_ms == state.usage["intent_router"].latency_ms


def test_client_retries_inside_an_action_are_counted_on_its_span() -> None:
    attempts = iter([TransientFailure("503"), TransientFailure("503"), "ok"])

    def attempt(remaining_s: float) -> str:
        outcome = next(attempts)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def flaky(call: Invocation, deps: None) -> BaseModel:
        policy = RetryPolicy(max_retries=3, sleep=lambda s: None)
        call_with_retries(attempt, policy=policy, give_up=lambda g: RuntimeError(str(g)))
        return call.state

    state = GraphState.model_validate(run(flaky, {"action": "route", "state": STATE, "retry_count": 1}))

    assert state.trace[0].retries == 3  # two by the client, one by Step Functions


def test_a_failed_plan_step_carries_its_error_span_on_the_result() -> None:
    def step(call: Invocation, deps: None) -> BaseModel:
        raise ToolExecutionError("the calculator broke")

    step_event = {"id": "s2", "description": "calculate", "node": "tool_executor"}
    out = run(step, {"action": "step", "state": STATE, "step": step_event}, node_name="tool_executor")

    result = NodeResult.model_validate(out)
    assert result.ok is False and result.span is not None
    assert result.span.step_id == "s2" and result.span.function == "ToolExecutorFunction"
    assert result.span.error is not None and result.span.error.code == ToolExecutionError.code
    assert result.span.input == "step s2 on tool_executor: calculate"


def test_map_spans_are_folded_into_the_trace_in_start_order_and_left_off_the_results() -> None:
    def execute(call: Invocation, deps: None) -> BaseModel:
        assert call.event.call is not None
        return ToolResult(call_id=call.event.call.id, name=call.event.call.name, ok=True, output="42")

    results = [
        run(execute, {"action": "execute", "call": {"id": f"c{i}", "name": "calculator"}, "run_id": "r1"})
        for i in range(2)
    ]
    state = GraphState.model_validate({**STATE, "tool_results": list(reversed(results))})

    state.collect_spans()

    assert [s.input for s in state.trace] == ["calculator({})", "calculator({})"]
    assert state.trace[0].started_at <= state.trace[1].started_at
    assert all(r.span is None for r in state.tool_results)
    assert state.trace[0].output == "calculator: 42"


def test_the_trace_keeps_the_newest_spans_up_to_its_cap() -> None:
    state = GraphState.model_validate(STATE)
    spans = [
        Span(node="n", action=str(i), started_at=f"2026-01-01T00:00:{i:02d}.000+00:00") for i in range(60)
    ]

    state.add_spans(spans)
    state.add_spans(spans[:10])

    assert len(state.trace) == MAX_TRACE_SPANS
    assert state.trace[-1].action == "9"


def _state(**fields: Any) -> GraphState:
    return GraphState.model_validate({**STATE, **fields})


def _after(node: str, action: str, **fields: Any) -> GraphState:
    span = Span(node=node, action=action, started_at="2026-01-01T00:00:00.000+00:00", duration_ms=5)
    return _state(trace=[span.model_dump()], **fields)


def _caught(node: str, action: str) -> NodeEvent:
    """What Record failed turn receives after a Catch assigned the failed state's node and action."""
    return NodeEvent(action="record_failure", failed_state="X", failed_node=node, failed_action=action)


def test_the_failure_path_names_the_task_the_catch_assigned() -> None:
    state = _after("intent_router", "route", intent={"name": "rag", "confidence": 1, "method": "embedding"})

    assert failed_task(state, _caught("grounding", "retrieve")) == ("grounding", "retrieve", None)


def test_a_failed_plan_wave_names_its_step_when_it_ran_one() -> None:
    one = _after(
        "planner", "plan", pending_steps=[PlanStep(id="s1", description="d", node="grounding").model_dump()]
    )
    two = _after(
        "planner",
        "plan",
        pending_steps=[
            PlanStep(id="s1", description="d", node="tool_executor").model_dump(),
            PlanStep(id="s2", description="e", node="llm_agent").model_dump(),
        ],
    )

    assert failed_task(one, _caught("", "step")) == ("grounding", "step", "s1")
    assert failed_task(two, _caught("", "step")) == ("tool_executor", "step", None)


def test_a_failure_no_catch_described_is_unknown_not_a_guess() -> None:
    assert failed_task(_state(), NodeEvent(action="record_failure")) == ("unknown", "unknown", None)


def test_the_failure_span_starts_where_the_last_span_ended() -> None:
    state = _after("intent_router", "route", intent={"name": "chat", "confidence": 1, "method": "embedding"})

    span = failure_span(state, _caught("llm_agent", "answer"), "model_unavailable", "The model is down.")

    assert (span.node, span.action, span.function) == ("llm_agent", "answer", "LlmAgentFunction")
    assert span.started_at == "2026-01-01T00:00:00.005+00:00" and span.duration_ms > 0
    assert span.error is not None and span.error.code == "model_unavailable"


def test_function_ids_are_the_template_logical_ids_the_asl_invokes() -> None:
    import importlib
    import re

    from tests.integration.test_asl_contract import tasks

    for name, task in tasks():
        logical_id = re.fullmatch(r"\$\{(\w+)Arn\}", task["Parameters"]["FunctionName"])
        assert logical_id, name
        folder = re.sub(r"(?<!^)(?=[A-Z])", "_", logical_id.group(1).removesuffix("Function")).lower()
        node = importlib.import_module(f"orchestrator.nodes.{folder}").node
        assert function_id(node.name) == logical_id.group(1)


def test_a_plan_outcome_says_its_source_and_why_a_model_plan_was_rejected() -> None:
    steps = [PlanStep(id="s1", description="d", node="llm_agent")]

    assert PlanOutcome(steps=steps, method="llm").source == "model"
    fallback = PlanOutcome(steps=steps, method="heuristic", rejected="a plan needs at least 2 steps, got 1")
    assert (fallback.source, fallback.rejected) == ("rule-based", "a plan needs at least 2 steps, got 1")


def test_the_configuration_view_masks_secrets_and_url_credentials() -> None:
    from orchestrator.config import Settings
    from orchestrator.monitoring.configuration import MASK, masked, masked_settings

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        llm_api_key=SecretStr("sk-unit-secret"),
        llm_base_url="https://user:pw-unit@models.example/v1?api-key=qs-unit#frag",
        external_agent_token_secret_id="/orchestrator/dev/agent-token",
    )

    shown = masked_settings(settings)

    text = repr(shown)
    assert "sk-unit-secret" not in text and "pw-unit" not in text and "qs-unit" not in text
    assert shown["llm_api_key"] == MASK and shown["external_agent_token_secret_id"] == MASK
    assert shown["llm_base_url"] == "https://models.example/v1"
    assert shown["llm_max_tokens"] == settings.llm_max_tokens and shown["api_keys"] is None
    assert masked("llm_history_token_budget", 2000) == 2000  # a size named "token", not a secret
    assert masked("auth_token", "abc") == MASK
    assert set(shown) == set(Settings.model_fields)
