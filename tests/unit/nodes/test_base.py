"""Given a node's actions, Node parses envelopes, shapes errors for the ASL and fills usage once."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pydantic import BaseModel

from orchestrator.clients.llm.base import ChatResult, TokenUsage
from orchestrator.errors import ExternalAgentError, InternalNodeError, TransientError, ValidationError
from orchestrator.nodes.base import Invocation, Node, deadline_from
from orchestrator.state import GraphState, NodeResult
from tests.support.fakes import deadline_in

STATE = {"run_id": "r1", "user_id": "u1", "session_id": "s1", "prompt": "hi"}
STEP = {"id": "s1", "description": "ask the agent", "node": "external_agent"}
PRICES = {"m-1": {"input_per_1k": 1.0, "output_per_1k": 2.0}}


def make_node(action: Any, name: str = "go", node_name: str = "n") -> Node[None]:
    node: Node[None] = Node(node_name, deps=lambda c: None)
    node.action(name)(action)
    return node


def run(node: Node[None], event: dict[str, Any]) -> dict[str, Any]:
    return node.run(event, None, deadline=deadline_in(), price_table=PRICES)


def echo(call: Invocation, deps: None) -> BaseModel:
    return call.state


def raises(exc: Exception) -> Any:
    def action(call: Invocation, deps: None) -> BaseModel:
        raise exc

    return action


def test_action_output_is_json_ready_state_with_the_nodes_usage() -> None:
    out = run(make_node(echo), {"action": "go", "state": STATE})

    state = GraphState.model_validate(out)
    assert state.run_id == "r1"
    assert state.usage["n"].latency_ms >= 0


def test_every_model_call_an_action_reports_is_counted_and_priced() -> None:
    def two_calls(call: Invocation, deps: None) -> BaseModel:
        usage = TokenUsage(tokens_in=1000, tokens_out=500)
        call.meter.record_result(ChatResult(text="a", usage=usage, model="m-1", provider="p"))
        call.meter.record_result(ChatResult(text="b", usage=usage, model="unpriced", provider="p"))
        return call.state

    usage = GraphState.model_validate(run(make_node(two_calls), {"action": "go", "state": STATE})).usage["n"]

    assert (usage.tokens_in, usage.tokens_out) == (2000, 1000)
    assert usage.cost_usd == pytest.approx(1.0 + 1.0)  # only m-1 is in the price table
    assert usage.provider == "p"


def test_a_step_result_gets_the_usage_and_after_hooks_see_it() -> None:
    seen: list[Any] = []

    def step(call: Invocation, deps: None) -> BaseModel:
        call.after.append(seen.append)
        return NodeResult(node="n", step_id=call.step.id, output="done")

    out = run(make_node(step, "step"), {"action": "step", "step": STEP, "state": STATE})

    assert out["usage"]["latency_ms"] >= 0
    assert isinstance(seen[0], NodeResult) and seen[0].usage is not None


def test_unknown_action_is_a_validation_error_naming_the_choices() -> None:
    with pytest.raises(ValidationError, match=r"unknown action 'nope'.*\['go'\]"):
        run(make_node(echo), {"action": "nope", "state": STATE})


def test_malformed_envelope_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="malformed event"):
        run(make_node(echo), {"state": STATE})


def test_an_action_that_needs_state_says_so() -> None:
    with pytest.raises(ValidationError, match="needs 'state'"):
        run(make_node(echo), {"action": "go"})


def test_typed_errors_propagate_with_their_class_for_the_catch() -> None:
    with pytest.raises(TransientError):
        run(make_node(raises(TransientError("later"))), {"action": "go", "state": STATE})


def test_unexpected_errors_become_internal_node_errors_without_internals() -> None:
    with pytest.raises(InternalNodeError) as info:
        run(make_node(raises(KeyError("db-password"))), {"action": "go", "state": STATE})

    assert "db-password" not in info.value.message
    assert "KeyError" in info.value.message and "r1" in info.value.message


def test_a_failed_plan_step_is_a_result_not_a_failed_run() -> None:
    node = make_node(raises(ExternalAgentError("agent said 401")), "step", "external_agent")

    out = run(node, {"action": "step", "step": STEP, "state": STATE})

    assert out["ok"] is False
    assert out["step_id"] == "s1"
    assert out["error"] == "external_agent_error"
    assert out["output"] == "agent said 401"


class FakeContext:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_the_deadline_is_the_lambdas_remaining_time_minus_the_margin() -> None:
    before = time.monotonic()

    deadline = deadline_from(FakeContext(30_000), margin_s=2.0, default_budget_s=99.0)
    without_context = deadline_from(None, margin_s=2.0, default_budget_s=25.0)

    assert 27.9 <= deadline - before <= 28.1
    assert 24.9 <= without_context - before <= 25.1
