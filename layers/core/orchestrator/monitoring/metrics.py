"""Figures over a window of run records: what GET /v1/monitoring/metrics returns.

Computed from the runs table (the same on AWS as locally), never from one process's memory.
Percentiles are nearest-rank: p95 of 20 latencies is the 19th smallest.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from orchestrator.errors import ValidationError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from orchestrator.memory.runs import RunRecord

_WINDOW = re.compile(r"^(\d{1,4})([mhd])$")
_UNIT_S = {"m": 60, "h": 3600, "d": 86_400}
#: Run records live 30 days (their TTL): a longer window would read nothing more.
MAX_WINDOW = timedelta(days=30)


def parse_window(text: str) -> timedelta:
    """``15m``, ``1h``, ``7d`` as a duration (at most 30 days), or :class:`ValidationError`."""
    match = _WINDOW.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise ValidationError("window: a number and a unit, m, h or d (for example 15m, 1h, 7d)")
    window = timedelta(seconds=int(match.group(1)) * _UNIT_S[match.group(2)])
    if window > MAX_WINDOW:
        raise ValidationError("window: at most 30d (run records are kept 30 days)")
    return window


class Latency(BaseModel):
    count: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None


class Usage(BaseModel):
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0


class Routing(BaseModel):
    #: Runs per intent (route) name.
    intents: dict[str, int] = Field(default_factory=dict)
    #: Runs per routing method: embedding, llm, default, cache, client…
    methods: dict[str, int] = Field(default_factory=dict)


class CacheHits(BaseModel):
    exact: int = 0
    semantic: int = 0
    #: Cached answers over requests (0 when there were none).
    hit_rate: float = 0.0


class ToolCallCount(BaseModel):
    calls: int = 0
    failures: int = 0


class ToolCalls(BaseModel):
    calls: int = 0
    failures: int = 0
    #: Calls and failures per tool name.
    by_tool: dict[str, ToolCallCount] = Field(default_factory=dict)


class MonitoringMetrics(BaseModel):
    tenant_id: str
    #: Only this user's runs, or the whole tenant's (None: admins).
    user_id: str | None
    window: str
    since: str
    until: str
    #: The tenant's run records read, newest first, at most ``max_runs`` (MONITORING_MAX_RUNS);
    #: ``truncated`` when the window held more. A user's figures come from these records.
    runs_read: int
    max_runs: int
    truncated: bool
    requests: int
    by_status: dict[str, int]
    #: Errors recorded by the nodes, by code (a run may carry several).
    errors_by_code: dict[str, int]
    latency_ms: Latency
    node_latency_ms: dict[str, Latency]
    routing: Routing
    usage: Usage
    usage_by_node: dict[str, Usage]
    usage_by_model: dict[str, Usage]
    cache: CacheHits
    tools: ToolCalls


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)], 3)


def _latency(values: list[float]) -> Latency:
    return Latency(count=len(values), p50_ms=percentile(values, 50), p95_ms=percentile(values, 95))


def _add(totals: Usage, usage: dict[str, object]) -> None:
    totals.calls += 1
    totals.tokens_in += int(str(usage.get("tokens_in") or 0))
    totals.tokens_out += int(str(usage.get("tokens_out") or 0))
    totals.cost_usd = round(totals.cost_usd + float(str(usage.get("cost_usd") or 0.0)), 8)


def summarize(
    records: Iterable[RunRecord],
    *,
    tenant_id: str,
    user_id: str | None,
    window: str,
    since: datetime,
    until: datetime,
    max_runs: int,
    truncated: bool,
) -> MonitoringMetrics:
    """The figures over ``records`` (already limited to the tenant and the window)."""
    read = list(records)
    runs = [r for r in read if user_id is None or r.user_id == user_id]
    statuses: Counter[str] = Counter(r.status for r in runs)
    errors: Counter[str] = Counter(e.get("code", "unknown") for r in runs for e in r.errors)
    intents: Counter[str] = Counter()
    methods: Counter[str] = Counter()
    end_to_end: list[float] = []
    per_node: dict[str, list[float]] = {}
    usage, by_node, by_model = Usage(), dict[str, Usage](), dict[str, Usage]()
    cache = CacheHits()
    tools = ToolCalls()
    for run in runs:
        if run.intent:
            intents[str(run.intent.get("name"))] += 1
            methods[str(run.intent.get("method"))] += 1
        elapsed = run.elapsed_ms
        if elapsed is not None:
            end_to_end.append(elapsed)
        for node, node_usage in run.usage.items():
            per_node.setdefault(node, []).append(float(node_usage.get("latency_ms") or 0.0))
            _add(usage, node_usage)
            _add(by_node.setdefault(node, Usage()), node_usage)
            if node_usage.get("model"):
                _add(by_model.setdefault(str(node_usage["model"]), Usage()), node_usage)
        if run.cached == "exact":
            cache.exact += 1
        elif run.cached == "semantic":
            cache.semantic += 1
        for call in run.tool_calls:
            count = tools.by_tool.setdefault(str(call.get("name")), ToolCallCount())
            count.calls += 1
            tools.calls += 1
            if not call.get("ok"):
                count.failures += 1
                tools.failures += 1
    if runs:
        cache.hit_rate = round((cache.exact + cache.semantic) / len(runs), 4)
    return MonitoringMetrics(
        tenant_id=tenant_id,
        user_id=user_id,
        window=window,
        since=since.astimezone(UTC).isoformat(timespec="milliseconds"),
        until=until.astimezone(UTC).isoformat(timespec="milliseconds"),
        runs_read=len(read),
        max_runs=max_runs,
        truncated=truncated,
        requests=len(runs),
        by_status=dict(statuses),
        errors_by_code=dict(errors),
        latency_ms=_latency(end_to_end),
        node_latency_ms={node: _latency(values) for node, values in sorted(per_node.items())},
        routing=Routing(intents=dict(intents), methods=dict(methods)),
        usage=usage,
        usage_by_node=by_node,
        usage_by_model=by_model,
        cache=cache,
        tools=tools,
    )
