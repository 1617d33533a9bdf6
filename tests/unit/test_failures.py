"""Given a state machine failure, the record and the API read it the same, safe way."""

from __future__ import annotations

import json

from orchestrator.errors import ModelUnavailableError, WorkflowError, WorkflowTimeoutError
from orchestrator.failures import describe_failure, error_from_failure


def lambda_cause(error_type: str, message: str) -> str:
    return json.dumps({"errorType": error_type, "errorMessage": message, "stackTrace": ["  File x"]})


def test_typed_error_keeps_code_and_message() -> None:
    info = describe_failure(
        "ModelUnavailableError", lambda_cause("ModelUnavailableError", "model down after 4 tries")
    )

    assert info.code == "model_unavailable"
    assert info.message == "model down after 4 tries"


def test_untyped_error_is_named_but_its_message_withheld() -> None:
    info = describe_failure("KeyError", lambda_cause("KeyError", "'secret-internal-key'"))

    assert info.code == "internal_error"
    assert "secret-internal-key" not in info.message
    assert "KeyError" in info.message


def test_states_timeout_maps_to_workflow_timeout() -> None:
    exc = error_from_failure("States.Timeout", "", run_id="r1")

    assert isinstance(exc, WorkflowTimeoutError)
    assert exc.status_code == 504
    assert exc.details["run_id"] == "r1"


def test_api_error_has_the_nodes_status_and_the_run_id() -> None:
    exc = error_from_failure(
        "ModelUnavailableError", lambda_cause("ModelUnavailableError", "down"), run_id="r2"
    )

    assert isinstance(exc, ModelUnavailableError)
    assert exc.status_code == 503
    assert exc.details == {"run_id": "r2"}


def test_unknown_error_is_a_502_workflow_error() -> None:
    exc = error_from_failure("ValueError", "not json", run_id="r3")

    assert type(exc) is WorkflowError
    assert exc.status_code == 502
    assert exc.code == "internal_error"
