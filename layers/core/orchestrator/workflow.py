"""Runs the state machine: synchronously for chat (Express), asynchronously for runs (Standard)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from orchestrator.config import Settings
from orchestrator.errors import (
    ApprovalNotPendingError,
    ConfigurationError,
    NotFoundError,
    WorkflowTimeoutError,
)
from orchestrator.failures import error_from_failure
from orchestrator.state import GraphState


class WorkflowRunner:
    """Starts executions named by run id, so a run is found by the id the user was given."""

    def __init__(self, settings: Settings, client: Any | None = None) -> None:
        self._settings = settings
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            # StartSyncExecution holds the connection for the whole run, so the read timeout is the
            # run's deadline. No blind retries: a retried start would run the turn a second time.
            config = Config(
                read_timeout=max(1, int(self._settings.workflow_timeout_s)),
                connect_timeout=5,
                retries={"mode": "standard", "total_max_attempts": 1},
            )
            self._client = boto3.client("stepfunctions", region_name=self._settings.aws_region, config=config)
        return self._client

    def _arn(self, arn: str | None, name: str) -> str:
        if not arn:
            raise ConfigurationError(f"{name} is not configured; the API cannot start runs.")
        return arn

    def run_sync(self, state: GraphState) -> GraphState:
        """Run the chat state machine to completion; a failed run raises its typed error."""
        arn = self._arn(self._settings.chat_state_machine_arn, "CHAT_STATE_MACHINE_ARN")
        payload = state.model_dump_json()
        from botocore.exceptions import ReadTimeoutError

        try:
            result = self.client.start_sync_execution(stateMachineArn=arn, name=state.run_id, input=payload)
        except ReadTimeoutError as exc:
            raise WorkflowTimeoutError(
                f"The run did not finish within {self._settings.workflow_timeout_s:.0f} s; "
                "long requests belong in POST /v1/runs.",
                details={"run_id": state.run_id},
            ) from exc
        return self._result(result, state.run_id)

    def start(self, state: GraphState) -> bool:
        """Start an asynchronous run on the Standard state machine, named by its run id.

        Returns False when a run with that id already exists: a retried request with the same
        idempotency key finds the run it started the first time instead of starting another.
        """
        arn = self._arn(self._settings.runs_state_machine_arn, "RUNS_STATE_MACHINE_ARN")
        try:
            self.client.start_execution(stateMachineArn=arn, name=state.run_id, input=state.model_dump_json())
        except self.client.exceptions.ExecutionAlreadyExists:
            return False
        return True

    def describe(self, run_id: str) -> dict[str, Any]:
        """Status of an asynchronous run, by run id."""
        arn = self._arn(self._settings.runs_state_machine_arn, "RUNS_STATE_MACHINE_ARN")
        execution_arn = arn.replace(":stateMachine:", ":execution:") + f":{run_id}"
        try:
            result: dict[str, Any] = self.client.describe_execution(executionArn=execution_arn)
        except self.client.exceptions.ExecutionDoesNotExist as exc:
            raise NotFoundError(f"No run with id {run_id}.") from exc
        return result

    def send_task_success(self, task_token: str, output: str) -> None:
        """Resume a run waiting on ``task_token`` with ``output`` (JSON) as the waiting state's result."""
        with _token_errors():
            self.client.send_task_success(taskToken=task_token, output=output)

    def send_task_failure(self, task_token: str, error: str, cause: str) -> None:
        """Fail the waiting state with ``error`` (an ASL Catch matches it by name) and ``cause``."""
        with _token_errors():
            self.client.send_task_failure(taskToken=task_token, error=error, cause=cause)

    @staticmethod
    def _result(result: dict[str, Any], run_id: str) -> GraphState:
        status = result.get("status")
        if status == "SUCCEEDED":
            return GraphState.model_validate(json.loads(result.get("output") or "{}"))
        if status == "TIMED_OUT":
            raise WorkflowTimeoutError("The run timed out.", details={"run_id": run_id})
        raise error_from_failure(result.get("error"), result.get("cause"), run_id)


#: Step Functions' answers for a token nobody waits on any more (timed out, decided, run stopped).
_STALE_TOKEN_ERRORS = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})


@contextmanager
def _token_errors() -> Iterator[None]:
    from botocore.exceptions import ClientError

    try:
        yield
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _STALE_TOKEN_ERRORS:
            raise ApprovalNotPendingError("The run is no longer waiting for a decision.") from exc
        raise
