"""Approve or reject the tool calls an asynchronous run waits on (``requires_approval`` tools)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from orchestrator.api.auth import PrincipalDep
from orchestrator.api.deps import ContainerDep, RunnerDep
from orchestrator.api.routes.chat import visible
from orchestrator.api.schemas import ID_PATTERN, ApprovalDecided, ApprovalDecisionRequest, ErrorBody
from orchestrator.approvals import Decision, decide
from orchestrator.container import Container
from orchestrator.errors import NotFoundError
from orchestrator.identity import Principal
from orchestrator.memory.approvals import PendingApproval
from orchestrator.workflow import WorkflowRunner

router = APIRouter(prefix="/v1/runs", tags=["chat"])

RESPONSES: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}, 409: {"model": ErrorBody}}
UserQuery = Annotated[str | None, Query(min_length=1, max_length=128, pattern=ID_PATTERN)]


def _pending(run_id: str, principal: Principal, user_id: str | None, container: Container) -> PendingApproval:
    """The run's approval, if the caller may decide it (admins, or the run's user): else 404."""
    pending = container.approvals.get(principal.tenant_id, run_id)
    if pending is None or not visible(principal, user_id, pending.tenant_id, pending.user_id):
        raise NotFoundError(f"No run with id {run_id} waits for approval.")
    return pending


def _decide(
    decision: Decision,
    run_id: str,
    *,
    body: ApprovalDecisionRequest | None,
    principal: Principal,
    user_id: str | None,
    container: Container,
    runner: WorkflowRunner,
) -> ApprovalDecided:
    pending = _pending(run_id, principal, user_id, container)
    decided_by = principal.end_user(user_id) or principal.subject
    approval = decide(
        pending,
        decision,
        store=container.approvals,
        runner=runner,
        decided_by=f"{decided_by} (admin)" if principal.is_admin else decided_by,
        reason=body.reason if body else None,
    )
    return ApprovalDecided(
        run_id=run_id,
        status="RUNNING" if decision == "approved" else "REJECTED",
        approval=approval,
        status_url=f"/v1/runs/{run_id}?user_id={pending.user_id}",
    )


@router.post(
    "/{run_id}/approve",
    response_model=ApprovalDecided,
    status_code=status.HTTP_202_ACCEPTED,
    responses=RESPONSES,
)
def approve_run(
    run_id: str,
    *,
    principal: PrincipalDep,
    container: ContainerDep,
    runner: RunnerDep,
    body: ApprovalDecisionRequest | None = None,
    user_id: UserQuery = None,
) -> ApprovalDecided:
    """Approve the tool calls the run waits on; they run, and the run finishes."""
    return _decide(
        "approved",
        run_id,
        body=body,
        principal=principal,
        user_id=user_id,
        container=container,
        runner=runner,
    )


@router.post(
    "/{run_id}/reject",
    response_model=ApprovalDecided,
    status_code=status.HTTP_202_ACCEPTED,
    responses=RESPONSES,
)
def reject_run(
    run_id: str,
    *,
    principal: PrincipalDep,
    container: ContainerDep,
    runner: RunnerDep,
    body: ApprovalDecisionRequest | None = None,
    user_id: UserQuery = None,
) -> ApprovalDecided:
    """Reject the tool calls the run waits on (optional ``reason``); none runs, and the answer says why."""
    return _decide(
        "rejected",
        run_id,
        body=body,
        principal=principal,
        user_id=user_id,
        container=container,
        runner=runner,
    )
