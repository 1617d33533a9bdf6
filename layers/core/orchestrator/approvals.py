"""Deciding on a run that waits for a person: approve (the calls run) or reject (none runs).

The decision is claimed on the stored approval first (one decision per run, even when two people
click at once), then sent to Step Functions with the run's task token: ``SendTaskSuccess`` with
the approval as the waiting state's result, or ``SendTaskFailure`` named
:class:`~orchestrator.errors.ApprovalRejectedError` with the reason as its cause. The approved
calls are the stored ones: a decision cannot add or change a call.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from orchestrator.errors import ApprovalNotPendingError, ApprovalRejectedError
from orchestrator.state import Approval

if TYPE_CHECKING:
    from orchestrator.memory.approvals import ApprovalStore, PendingApproval
    from orchestrator.workflow import WorkflowRunner

Decision = Literal["approved", "rejected"]


def decide(
    pending: PendingApproval,
    decision: Decision,
    *,
    store: ApprovalStore,
    runner: WorkflowRunner,
    decided_by: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> Approval:
    """Send ``decision`` to the run; :class:`ApprovalNotPendingError` (409) if it no longer waits."""
    now = now or datetime.now(UTC)
    if pending.status != "waiting":
        raise ApprovalNotPendingError(
            f"Run {pending.run_id} is not waiting for a decision (it was {pending.status}).",
            details={"run_id": pending.run_id, "approval": pending.status},
        )
    if now >= datetime.fromisoformat(pending.expires_at):
        raise ApprovalNotPendingError(
            f"Run {pending.run_id} stopped waiting at {pending.expires_at}; its calls were rejected.",
            details={"run_id": pending.run_id, "approval": "timed_out"},
        )
    if not store.claim(pending.run_id, decision):
        raise ApprovalNotPendingError(
            f"Run {pending.run_id} was decided by someone else first.", details={"run_id": pending.run_id}
        )
    approval = Approval(
        status=decision,
        calls=pending.calls,
        timeout_s=pending.timeout_s,
        requested_at=pending.requested_at,
        expires_at=pending.expires_at,
        decided_by=decided_by,
        decided_at=now.isoformat(timespec="milliseconds"),
        reason=reason,
    )
    try:
        if decision == "approved":
            runner.send_task_success(pending.task_token, approval.model_dump_json())
        else:
            cause = {"reason": reason, "decided_by": decided_by, "decided_at": approval.decided_at}
            runner.send_task_failure(pending.task_token, ApprovalRejectedError.__name__, json.dumps(cause))
    except ApprovalNotPendingError:
        store.claim(pending.run_id, "expired", expected=decision)
        raise
    except Exception:
        # Step Functions did not take it (throttled, unreachable): the run still waits.
        store.claim(pending.run_id, "waiting", expected=decision)
        raise
    return approval
