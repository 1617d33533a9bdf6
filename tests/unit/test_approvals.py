"""Given a run waiting for approval, a decision is claimed once, sent once, and never widens the calls."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from orchestrator.approvals import decide
from orchestrator.errors import ApprovalNotPendingError
from orchestrator.memory.approvals import ApprovalStore, PendingApproval, PendingStatus
from orchestrator.nodes import tool_executor
from orchestrator.state import Approval, GraphState, ToolCall
from orchestrator.workflow import WorkflowRunner

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
CALL = ToolCall(id="call_1", name="deploy_service", arguments={"version": "7"})


class FakeStore:
    def __init__(self, status: PendingStatus = "waiting") -> None:
        self.status = status

    def claim(self, run_id: str, status: PendingStatus, *, expected: PendingStatus = "waiting") -> bool:
        if self.status != expected:
            return False
        self.status = status
        return True


class FakeRunner:
    def __init__(self, fail_with: Exception | None = None) -> None:
        self.sent: list[tuple[str, ...]] = []
        self.fail_with = fail_with

    def send_task_success(self, task_token: str, output: str) -> None:
        self._send("success", task_token, output)

    def send_task_failure(self, task_token: str, error: str, cause: str) -> None:
        self._send("failure", task_token, error, cause)

    def _send(self, *message: str) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(message)


def pending(expires_in_s: int = 60) -> PendingApproval:
    return PendingApproval(
        run_id="r1",
        user_id="alice",
        task_token="token-1",
        calls=[CALL],
        timeout_s=60,
        requested_at=NOW.isoformat(),
        expires_at=(NOW + timedelta(seconds=expires_in_s)).isoformat(),
    )


def run_decide(
    store: FakeStore, runner: FakeRunner, item: PendingApproval, decision: Any, **kw: Any
) -> Approval:
    return decide(
        item,
        decision,
        store=cast(ApprovalStore, store),
        runner=cast(WorkflowRunner, runner),
        decided_by="alice",
        now=NOW,
        **kw,
    )


def test_approving_sends_the_stored_calls_once() -> None:
    store, runner = FakeStore(), FakeRunner()

    approval = run_decide(store, runner, pending(), "approved")

    assert store.status == "approved"
    ((kind, token, output),) = runner.sent
    assert (kind, token) == ("success", "token-1")
    assert Approval.model_validate_json(output) == approval and approval.covers(CALL)
    with pytest.raises(ApprovalNotPendingError):
        run_decide(store, runner, pending().model_copy(update={"status": "approved"}), "approved")


def test_rejecting_names_the_error_the_asl_catches_and_carries_the_reason() -> None:
    store, runner = FakeStore(), FakeRunner()

    run_decide(store, runner, pending(), "rejected", reason="freeze")

    ((kind, _, error, cause),) = runner.sent
    assert (kind, error) == ("failure", "ApprovalRejectedError")
    assert json.loads(cause)["reason"] == "freeze"


def test_a_late_or_concurrent_decision_is_refused_without_asking_step_functions() -> None:
    runner = FakeRunner()
    with pytest.raises(ApprovalNotPendingError, match="stopped waiting"):
        run_decide(FakeStore(), runner, pending(expires_in_s=-1), "approved")
    with pytest.raises(ApprovalNotPendingError, match="someone else"):
        run_decide(FakeStore(status="rejected"), runner, pending(), "approved")
    assert runner.sent == []


def test_a_stale_token_expires_the_item_and_a_failed_send_releases_it() -> None:
    stale, lost = FakeStore(), FakeStore()
    with pytest.raises(ApprovalNotPendingError):
        run_decide(stale, FakeRunner(ApprovalNotPendingError("gone")), pending(), "approved")
    with pytest.raises(RuntimeError):
        run_decide(lost, FakeRunner(RuntimeError("throttled")), pending(), "approved")
    assert (stale.status, lost.status) == ("expired", "waiting")


def test_approval_covers_only_the_exact_approved_call() -> None:
    approved = Approval(status="approved", calls=[CALL])

    assert approved.covers(CALL)
    assert not approved.covers(CALL.model_copy(update={"arguments": {"version": "8"}}))
    assert not Approval(status="required", calls=[CALL]).covers(CALL)


def test_decline_answers_with_the_reason_and_runs_nothing() -> None:
    state = GraphState(user_id="alice", prompt="deploy", tool_calls=[CALL])
    state.approval = Approval(status="required", calls=[CALL], timeout_s=5)
    failure = {
        "Error": "ApprovalRejectedError",
        "Cause": json.dumps({"reason": "freeze", "decided_by": "bob"}),
    }
    event = {"action": "decline", "state": state.model_dump(mode="json"), "failure": failure}

    out = GraphState.model_validate(tool_executor.node.run(event, cast(Any, None), deadline=1e12))

    assert out.approval.status == "rejected" and out.approval.reason == "freeze"
    assert out.response is not None and "rejected by bob: freeze" in out.response.text
    assert [r.ok for r in out.tool_results] == [False]
    timed_out = {**event, "failure": {"Error": "States.Timeout", "Cause": ""}}
    late = GraphState.model_validate(tool_executor.node.run(timed_out, cast(Any, None), deadline=1e12))
    assert late.approval.status == "timed_out" and "no decision within 5 s" in str(late.response)
