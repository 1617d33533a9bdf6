"""Monitoring: figures over a window of a tenant's (or a user's) run records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from orchestrator.api.auth import PrincipalDep
from orchestrator.api.deps import ContainerDep, SettingsDep
from orchestrator.api.schemas import ID_PATTERN
from orchestrator.monitoring.metrics import MonitoringMetrics, parse_window, summarize

router = APIRouter(prefix="/v1/monitoring", tags=["monitoring"])


@router.get("/metrics", response_model=MonitoringMetrics)
def metrics(
    principal: PrincipalDep,
    settings: SettingsDep,
    container: ContainerDep,
    window: Annotated[str, Query(max_length=8, description="15m, 1h, 7d… (at most 30d)")] = "1h",
    user_id: Annotated[str | None, Query(min_length=1, max_length=128, pattern=ID_PATTERN)] = None,
) -> MonitoringMetrics:
    """Requests, errors, latency, routing, tokens and cost, cache and tools over a window of runs."""
    user = principal.viewed_user(user_id)
    until = datetime.now(UTC)
    since = until - parse_window(window)
    recent = container.run_store.finished_since(
        principal.tenant_id, since.isoformat(timespec="milliseconds"), limit=settings.monitoring_max_runs
    )
    return summarize(
        recent.records,
        tenant_id=principal.tenant_id,
        user_id=user,
        window=window,
        since=since,
        until=until,
        max_runs=settings.monitoring_max_runs,
        truncated=recent.truncated,
    )
