"""Chat (synchronous, Express state machine) and runs (asynchronous, Standard state machine)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Header, status

from orchestrator import services
from orchestrator.api.deps import RunnerDep, SettingsDep
from orchestrator.api.schemas import ID_PATTERN, ChatRequest, ChatResponse, ErrorBody, RunAccepted
from orchestrator.api.turns import new_state, to_response

router = APIRouter(prefix="/v1", tags=["chat"])

ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorBody},
    422: {"model": ErrorBody},
    502: {"model": ErrorBody},
    503: {"model": ErrorBody},
    504: {"model": ErrorBody},
}


@router.post("/chat", response_model=ChatResponse, responses=ERRORS)
def chat(body: ChatRequest, settings: SettingsDep, runner: RunnerDep) -> ChatResponse:
    """Run one turn through the graph and answer."""
    state = new_state(body, settings)
    return to_response(runner.run_sync(state))


@router.post("/runs", response_model=RunAccepted, status_code=status.HTTP_202_ACCEPTED, responses=ERRORS)
def start_run(
    body: ChatRequest,
    settings: SettingsDep,
    runner: RunnerDep,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=128, pattern=ID_PATTERN)] = None,
) -> RunAccepted:
    """Start a run in the background (Standard state machine); poll its status URL.

    Send an ``Idempotency-Key`` header to make retries safe: the same user and key always name
    the same run, which is started once.
    """
    state = new_state(body, settings)
    if idempotency_key:
        state.run_id = hashlib.sha256(f"{body.user_id}\x00{idempotency_key}".encode()).hexdigest()[:32]
        # A retry must describe the same run, so an unnamed session is named after it too.
        state.session_id = body.session_id or state.run_id
    started = runner.start(state)
    return RunAccepted(
        run_id=state.run_id,
        session_id=state.session_id,
        status="RUNNING" if started else "EXISTING",
        status_url=f"/v1/runs/{state.run_id}",
    )


@router.get("/runs/{run_id}", responses={404: {"model": ErrorBody}})
def get_run(run_id: str, runner: RunnerDep) -> dict[str, Any]:
    """A run's status, and its result once finished (chat turns included)."""
    record = services.run_store().get(run_id)
    if record is not None:
        return record.model_dump(mode="json")
    execution = runner.describe(run_id)
    return {"run_id": run_id, "status": execution["status"]}
