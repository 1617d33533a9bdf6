"""Chat (synchronous, Express state machine) and runs (asynchronous, Standard state machine)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, status
from pydantic import ValidationError as PydanticValidationError
from sse_starlette import EventSourceResponse

from orchestrator.api.auth import PrincipalDep
from orchestrator.api.deps import ContainerDep, RunnerDep, SettingsDep
from orchestrator.api.schemas import ID_PATTERN, ChatRequest, ChatResponse, ErrorBody, RunAccepted
from orchestrator.api.streaming import chat_events, wants_stream
from orchestrator.api.turns import new_state, run_chat_turn, status_url, to_response
from orchestrator.container import Container
from orchestrator.errors import NotFoundError
from orchestrator.identity import Principal
from orchestrator.memory.runs import RunRecord
from orchestrator.state import GraphState
from orchestrator.workflow import WorkflowRunner

router = APIRouter(prefix="/v1", tags=["chat"])

ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorBody},
    422: {"model": ErrorBody},
    502: {"model": ErrorBody},
    503: {"model": ErrorBody},
    504: {"model": ErrorBody},
}


STREAM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/event-stream": {}},
        "description": "With stream true: run, progress events, token deltas, then done or error.",
    }
}


@router.post("/chat", response_model=ChatResponse, responses={**ERRORS, **STREAM_RESPONSE})
def chat(
    body: ChatRequest,
    *,
    settings: SettingsDep,
    runner: RunnerDep,
    principal: PrincipalDep,
    container: ContainerDep,
    accept: Annotated[str | None, Header()] = None,
) -> ChatResponse | EventSourceResponse:
    """Run one turn through the graph and answer (or say that a tool waits for approval)."""
    state = new_state(body, settings, principal)
    if wants_stream(body.stream, accept):
        events = chat_events(runner, state, container.run_events, poll_s=settings.stream_poll_ms / 1000)
        return EventSourceResponse(events, ping=settings.stream_ping_s)
    state.watched = False
    return to_response(run_chat_turn(runner, state))


@router.post("/runs", response_model=RunAccepted, status_code=status.HTTP_202_ACCEPTED, responses=ERRORS)
def start_run(
    body: ChatRequest,
    settings: SettingsDep,
    runner: RunnerDep,
    principal: PrincipalDep,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=128, pattern=ID_PATTERN)] = None,
) -> RunAccepted:
    """Start a run in the background (Standard state machine); poll its status URL.

    Send an ``Idempotency-Key`` header to make retries safe: the same user and key always name
    the same run, which is started once.
    """
    state = new_state(body, settings, principal)
    state.asynchronous = True  # a Standard run: it may wait for a person's approval
    if idempotency_key:
        # Scoped by tenant and user: the same key from someone else names a different run.
        scope = f"{state.tenant_id}\x00{state.user_id}\x00{idempotency_key}"
        state.run_id = hashlib.sha256(scope.encode()).hexdigest()[:32]
        # A retry must describe the same run, so an unnamed session is named after it too.
        state.session_id = body.session_id or state.run_id
    started = runner.start(state)
    return RunAccepted(
        run_id=state.run_id,
        session_id=state.session_id,
        status="RUNNING" if started else "EXISTING",
        status_url=status_url(state),
    )


def visible(principal: Principal, requested_user: str | None, tenant_id: str, user_id: str) -> bool:
    """Whether the caller may see a run of ``user_id`` in ``tenant_id``."""
    if tenant_id != principal.tenant_id:
        return False
    return principal.is_admin or principal.end_user(requested_user) == user_id


@dataclass(frozen=True)
class InFlight:
    """A run with no record yet: the input it started with and its execution's status."""

    started: GraphState
    status: str


def find_run(
    run_id: str, principal: Principal, user_id: str | None, container: Container, runner: WorkflowRunner
) -> RunRecord | InFlight:
    """The run if the caller may see it: its record, or while it runs, its execution's input.

    Visible within the caller's tenant, to the run's user (``user_id`` names it for API keys) and
    to admins; any other run id raises 404, like one that does not exist.
    """
    missing = NotFoundError(f"No run with id {run_id}.")
    record = container.run_store.get(principal.tenant_id, run_id)
    if record is not None:
        if not visible(principal, user_id, record.tenant_id, record.user_id):
            raise missing
        return record
    execution = runner.describe(run_id)
    try:
        started = GraphState.model_validate_json(execution.get("input") or "{}")
    except PydanticValidationError:
        raise missing from None
    if not visible(principal, user_id, started.tenant_id, started.user_id):
        raise missing
    return InFlight(started=started, status=str(execution["status"]))


@router.get("/runs/{run_id}", responses={404: {"model": ErrorBody}})
def get_run(
    run_id: str,
    runner: RunnerDep,
    principal: PrincipalDep,
    container: ContainerDep,
    user_id: Annotated[str | None, Query(min_length=1, max_length=128, pattern=ID_PATTERN)] = None,
) -> dict[str, Any]:
    """A run's status, and its result once finished (chat turns included).

    Visible within the caller's tenant, to the run's user (``user_id`` names it for API keys) and
    to admins; any other run id answers 404, like one that does not exist.
    """
    run = find_run(run_id, principal, user_id, container, runner)
    if isinstance(run, InFlight):
        # Spans travel with the state until the memory store records them: none to show yet.
        return {"run_id": run_id, "status": run.status, "trace": []}
    if run.status == "WAITING_FOR_APPROVAL":
        # Approved since: the calls are running, and the record is rewritten when the run ends.
        pending = container.approvals.get(principal.tenant_id, run_id)
        if pending is not None and pending.status == "approved":
            approval = {**(run.approval or {}), "status": "approved"}
            return {**run.model_dump(mode="json"), "status": "RUNNING", "approval": approval}
    return run.model_dump(mode="json")
