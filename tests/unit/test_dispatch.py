"""Given a node's actions, the dispatcher parses envelopes and shapes errors the ASL can act on."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from orchestrator.errors import ExternalAgentError, InternalNodeError, TransientError, ValidationError
from orchestrator.nodes._dispatch import handle
from orchestrator.state import GraphState, NodeEvent

STATE = {"run_id": "r1", "user_id": "u1", "session_id": "s1", "prompt": "hi"}
STEP = {"id": "s1", "description": "ask the agent", "node": "external_agent"}


def echo(event: NodeEvent) -> BaseModel:
    assert event.state is not None
    return event.state


def raises(exc: Exception):  # type: ignore[no-untyped-def]
    def action(event: NodeEvent) -> BaseModel:
        raise exc

    return action


def test_action_output_is_json_ready_state() -> None:
    out = handle("n", {"action": "go", "state": STATE}, {"go": echo})

    assert GraphState.model_validate(out).run_id == "r1"


def test_unknown_action_is_a_validation_error_naming_the_choices() -> None:
    with pytest.raises(ValidationError, match=r"unknown action 'nope'.*\['go'\]"):
        handle("n", {"action": "nope", "state": STATE}, {"go": echo})


def test_malformed_envelope_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="malformed event"):
        handle("n", {"state": STATE}, {"go": echo})


def test_typed_errors_propagate_with_their_class_for_retry_and_catch() -> None:
    with pytest.raises(TransientError):
        handle("n", {"action": "go", "state": STATE}, {"go": raises(TransientError("later"))})


def test_unexpected_errors_become_internal_node_errors_without_internals() -> None:
    with pytest.raises(InternalNodeError) as info:
        handle("n", {"action": "go", "state": STATE}, {"go": raises(KeyError("db-password"))})

    assert "db-password" not in info.value.message
    assert "KeyError" in info.value.message and "r1" in info.value.message


def test_a_failed_plan_step_is_a_result_not_a_failed_run() -> None:
    event = {"action": "step", "step": STEP, "state": STATE}

    out = handle("external_agent", event, {"step": raises(ExternalAgentError("agent said 401"))})

    assert out["ok"] is False
    assert out["step_id"] == "s1"
    assert out["error"] == "external_agent_error"
    assert out["output"] == "agent said 401"
