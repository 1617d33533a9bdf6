"""One reading of a state machine failure (``Error`` + ``Cause``), for the record and for the API."""

from __future__ import annotations

import json
from typing import Any

from orchestrator.errors import ERRORS_BY_NAME, OrchestratorError, WorkflowError, WorkflowTimeoutError
from orchestrator.state import ErrorInfo


def describe_failure(error: str | None, cause: Any) -> ErrorInfo:
    """Typed errors keep their message; anything else is named but its message withheld."""
    error_type = str(error or "States.Runtime")
    parsed: dict[str, Any] = {}
    if isinstance(cause, str) and cause.startswith("{"):
        try:
            parsed = json.loads(cause)
        except json.JSONDecodeError:
            parsed = {}
    known = ERRORS_BY_NAME.get(error_type)
    if known is not None:
        return ErrorInfo(
            node=str(parsed.get("node") or "state_machine"),
            code=known.code,
            message=str(parsed.get("errorMessage") or "The run failed."),
            error_type=error_type,
        )
    if error_type == "States.Timeout":
        return ErrorInfo(
            node="state_machine",
            code=WorkflowTimeoutError.code,
            message="The run timed out.",
            error_type=error_type,
        )
    if error_type.startswith("States."):
        return ErrorInfo(
            node="state_machine",
            code=WorkflowError.code,
            message=f"The state machine stopped: {error_type}.",
            error_type=error_type,
        )
    # An exception we did not type: its message may carry internals, so it is not repeated.
    return ErrorInfo(
        node="state_machine",
        code="internal_error",
        message=f"A node failed unexpectedly ({error_type}).",
        error_type=error_type,
    )


def error_from_failure(error: str | None, cause: Any, run_id: str) -> OrchestratorError:
    """The exception the API raises for a failed run: same status as the node's typed error."""
    info = describe_failure(error, cause)
    cls = ERRORS_BY_NAME.get(info.error_type or "")
    if cls is None:
        cls = WorkflowTimeoutError if info.code == WorkflowTimeoutError.code else WorkflowError
    exc = cls(info.message, details={"run_id": run_id})
    exc.code = info.code
    return exc
