"""Runs for the Studio: a filtered list from the runs index, and one run's progress as it happens.

``GET /v1/runs`` reads the runs table's ``by_tenant_time`` index (tenant, finished_at) over a
window, newest first; status, intent and user are a FilterExpression on that Query, never a Scan.
A caller who is not an admin names their user (``principal.end_user``) and sees only that user's
runs, the rule ``/v1/monitoring/metrics`` follows. A user filter on the tenant's index reads the
other users' runs of the window too (bounded by ``MONITORING_MAX_RUNS``); a per-user index would
read less, at the price of one more index written on every run.

``GET /v1/runs/{id}/events`` streams a run's progress records (the kinds a streamed chat turn
sends) until its run record says it finished: then ``done`` with the record, or ``error``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

import anyio
from fastapi import APIRouter, Path, Query
from sse_starlette import EventSourceResponse

from orchestrator.api.auth import PrincipalDep
from orchestrator.api.deps import ContainerDep, RunnerDep, SettingsDep
from orchestrator.api.errors import error_body
from orchestrator.api.routes.chat import InFlight, find_run
from orchestrator.api.schemas import ID_PATTERN, ErrorBody, RunList, RunSummary
from orchestrator.api.streaming import sse_event
from orchestrator.config import Settings
from orchestrator.container import Container
from orchestrator.identity import Principal
from orchestrator.memory.runs import RunQuery, RunRecord, RunStatus
from orchestrator.monitoring.metrics import parse_window
from orchestrator.workflow import WorkflowRunner

router = APIRouter(prefix="/v1", tags=["runs"])

#: Statuses of a run that has ended: its record will not change any more.
FINISHED: frozenset[str] = frozenset({"SUCCEEDED", "FAILED", "REJECTED"})
#: Progress records read per poll.
_PAGE = 200

UserQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=128,
        pattern=ID_PATTERN,
        description="Whose runs (required unless admin; a user token names its own user).",
    ),
]


def summary_of(record: RunRecord) -> RunSummary:
    """A run record as one row of the runs list."""
    elapsed = record.elapsed_ms
    last_error = record.errors[-1] if record.errors else None
    return RunSummary(
        run_id=record.run_id,
        status=record.status,
        user_id=record.user_id,
        session_id=record.session_id,
        intent=str(record.intent.get("name")) if record.intent else None,
        started_at=record.started_at,
        finished_at=record.finished_at,
        latency_ms=round(elapsed, 3) if elapsed is not None else None,
        cost_usd=round(sum(float(u.get("cost_usd") or 0.0) for u in record.usage.values()), 8),
        cached=record.cached,
        error=f"{last_error.get('code')}: {last_error.get('message')}" if last_error else None,
    )


@router.get("/runs", response_model=RunList, responses={403: {"model": ErrorBody}, 422: {"model": ErrorBody}})
def list_runs(
    *,
    principal: PrincipalDep,
    settings: SettingsDep,
    container: ContainerDep,
    status: Annotated[RunStatus | None, Query(description="SUCCEEDED, FAILED, REJECTED…")] = None,
    intent: Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")] = None,
    user_id: UserQuery = None,
    window: Annotated[str, Query(max_length=8, description="15m, 1h, 24h, 7d… (at most 30d)")] = "24h",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RunList:
    """Finished runs of the tenant (admins) or of one user, newest first, filtered."""
    user = principal.viewed_user(user_id)
    since = datetime.now(UTC) - parse_window(window)
    found = container.run_store.list_runs(
        principal.tenant_id,
        since.isoformat(timespec="milliseconds"),
        RunQuery(
            limit=limit,
            user_id=user,
            status=status,
            intent=intent,
            max_read=settings.monitoring_max_runs,
        ),
    )
    return RunList(runs=[summary_of(r) for r in found.records], truncated=found.truncated)


def _run_owner(
    run_id: str, principal: Principal, user_id: str | None, container: Container, runner: WorkflowRunner
) -> tuple[str, str]:
    """The (tenant, session) of a run the caller may watch; 404 for any other id, like a missing one."""
    run = find_run(run_id, principal, user_id, container, runner)
    if isinstance(run, InFlight):  # still running: no record yet
        return run.started.tenant_id, run.started.session_id
    return run.tenant_id, run.session_id


async def run_events(
    container: Container, settings: Settings, tenant_id: str, run_id: str, session_id: str
) -> AsyncIterator[dict[str, str]]:
    """``run``, the run's progress records, then ``done`` (its record) or ``error``; bounded in time."""
    yield sse_event("run", {"run_id": run_id, "session_id": session_id})
    events, store = container.run_events, container.run_store
    poll_s = settings.stream_poll_ms / 1000
    deadline = anyio.current_time() + settings.workflow_timeout_s
    after, status = 0, ""
    finished: RunRecord | None = None
    while finished is None:
        # The record first: progress written before it is read below, so none is missed.
        record = await anyio.to_thread.run_sync(store.get, tenant_id, run_id)
        records = (
            await anyio.to_thread.run_sync(events.read, tenant_id, run_id, after, _PAGE) if events else []
        )
        for progress in records:
            after = progress.seq
            yield sse_event(progress.kind, progress.data)
        if len(records) == _PAGE:
            continue
        if record is not None and record.status != status:
            status = record.status
            if status in FINISHED:
                finished = record
                continue
            yield sse_event("status", {"run_id": run_id, "status": status})
        if anyio.current_time() >= deadline:
            watched = f"{settings.workflow_timeout_s:.0f} s"
            message = f"The run is still {status or 'RUNNING'} after {watched} of watching; read it later."
            yield sse_event("error", error_body("stream_timeout", message, None, run_id))
            return
        await asyncio.sleep(poll_s)
    if finished.status == "FAILED":
        last = finished.errors[-1] if finished.errors else {}
        code, message = (
            str(last.get("code") or "workflow_error"),
            str(last.get("message") or "The run failed."),
        )
        yield sse_event("error", error_body(code, message, None, run_id))
        return
    yield {"event": "done", "data": json.dumps(finished.model_dump(mode="json"), default=str)}


@router.get(
    "/runs/{run_id}/events",
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "run, progress events, then done or error.",
        },
        404: {"model": ErrorBody},
    },
)
def watch_run(
    run_id: Annotated[str, Path(min_length=1, max_length=128, pattern=ID_PATTERN)],
    *,
    principal: PrincipalDep,
    settings: SettingsDep,
    runner: RunnerDep,
    container: ContainerDep,
    user_id: UserQuery = None,
) -> EventSourceResponse:
    """A run's progress as server-sent events while it runs; ends with ``done`` or ``error``."""
    tenant_id, session_id = _run_owner(run_id, principal, user_id, container, runner)
    stream = run_events(container, settings, tenant_id, run_id, session_id)
    return EventSourceResponse(stream, ping=settings.stream_ping_s)
