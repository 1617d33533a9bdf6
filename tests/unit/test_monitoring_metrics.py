"""Given run records, the monitoring figures are computed exactly (nearest-rank percentiles)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orchestrator.errors import ValidationError
from orchestrator.memory.runs import RunRecord
from orchestrator.monitoring.metrics import parse_window, percentile, summarize

NOW = datetime(2026, 1, 1, 10, tzinfo=UTC)


def _run(i: int, ms: int, user: str = "u1", **extra: object) -> RunRecord:
    started = NOW - timedelta(minutes=30)
    return RunRecord.model_validate(
        {
            "run_id": f"r{i}",
            "status": "SUCCEEDED",
            "user_id": user,
            "session_id": "s",
            "started_at": started.isoformat(),
            "finished_at": (started + timedelta(milliseconds=ms)).isoformat(),
            **extra,
        }
    )


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 50) == 10.0
    assert percentile(values, 95) == 19.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_windows_are_durations_of_at_most_thirty_days() -> None:
    assert parse_window("15m") == timedelta(minutes=15)
    assert parse_window("7d") == timedelta(days=7)
    for bad in ("1w", "0m", "31d", ""):
        with pytest.raises(ValidationError):
            parse_window(bad)


def test_figures_of_one_users_runs() -> None:
    llm = {"latency_ms": 100.0, "tokens_in": 10, "tokens_out": 5, "cost_usd": 0.001, "model": "m1"}
    records = [
        _run(1, 200, usage={"llm_agent": llm}, intent={"name": "chat", "method": "embedding"}),
        _run(
            2,
            400,
            usage={"llm_agent": {**llm, "latency_ms": 300.0}},
            intent={"name": "chat", "method": "llm"},
        ),
        _run(3, 50, cached="exact", intent={"name": "chat", "method": "embedding"}),
        _run(
            4,
            900,
            status="FAILED",
            errors=[{"node": "tool_executor", "code": "tool_timeout", "message": "slow"}],
            tool_calls=[{"name": "web", "ok": False}, {"name": "calculator", "ok": True}],
        ),
        _run(5, 10, user="u2"),
    ]

    m = summarize(
        records,
        tenant_id="default",
        user_id="u1",
        window="1h",
        since=NOW,
        until=NOW,
        max_runs=10,
        truncated=False,
    )

    assert (m.requests, m.runs_read) == (4, 5)
    assert m.by_status == {"SUCCEEDED": 3, "FAILED": 1}
    assert m.errors_by_code == {"tool_timeout": 1}
    assert (m.latency_ms.p50_ms, m.latency_ms.p95_ms) == (200.0, 900.0)
    assert m.node_latency_ms["llm_agent"].model_dump() == {"count": 2, "p50_ms": 100.0, "p95_ms": 300.0}
    assert m.routing.intents == {"chat": 3} and m.routing.methods == {"embedding": 2, "llm": 1}
    assert m.usage_by_model["m1"].model_dump() == {
        "calls": 2,
        "tokens_in": 20,
        "tokens_out": 10,
        "cost_usd": 0.002,
    }
    assert (m.cache.exact, m.cache.hit_rate) == (1, 0.25)
    assert (m.tools.calls, m.tools.failures) == (2, 1)
    assert m.tools.by_tool["web"].failures == 1
