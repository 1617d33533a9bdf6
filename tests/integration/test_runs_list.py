"""Given the runs table as template.yaml declares it (on moto), the Studio's runs list is a Query on
by_tenant_time with filters: newest first, only the tenant's, bounded in what it reads, and each
row without the record's heavy parts (answer, trace)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from orchestrator.local.resources import create_table
from orchestrator.local.template import Template
from orchestrator.memory.runs import RunQuery, RunRecord, RunStore
from tests.support.aws import use_fake_credentials

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
SINCE = "2026-01-01T09:00:00.000+00:00"


@pytest.fixture
def runs() -> Iterator[RunStore]:
    template = Template.from_file(TEMPLATE, region="us-east-1", stack_name="orchestrator-test")
    props = template.resources("AWS::DynamoDB::Table")["RunsTable"]["Properties"]
    with pytest.MonkeyPatch.context() as env:
        use_fake_credentials(env)
        with mock_aws():
            create_table(boto3.client("dynamodb", region_name="us-east-1"), "runs", props)
            yield RunStore(
                "runs", region="us-east-1", resource=boto3.resource("dynamodb", region_name="us-east-1")
            )


def _run(run_id: str, second: int, **fields: Any) -> RunRecord:
    values: dict[str, Any] = {
        "status": "SUCCEEDED",
        "tenant_id": "acme",
        "user_id": "u1",
        "session_id": "s1",
        "started_at": SINCE,
        "finished_at": f"2026-01-01T09:00:{second:02d}.000+00:00",
        "intent": {"name": "chat", "confidence": 0.9, "method": "embedding"},
        "response": {"text": "a long answer " * 50},
        "trace": [{"node": "intent_router", "action": "route", "started_at": SINCE}],
        **fields,
    }
    return RunRecord(run_id=run_id, **values)


def test_filters_apply_to_the_tenants_runs_newest_first(runs: RunStore) -> None:
    runs.put(_run("a", 1))
    runs.put(_run("b", 2, user_id="u2"))
    runs.put(_run("c", 3, status="FAILED", errors=[{"code": "model_unavailable", "message": "down"}]))
    runs.put(_run("d", 4, intent={"name": "tool", "confidence": 1.0, "method": "embedding"}))
    runs.put(_run("e", 5, tenant_id="globex"))

    def ids(**query: Any) -> list[str]:
        return [r.run_id for r in runs.list_runs("acme", SINCE, RunQuery(**query)).records]

    assert ids() == ["d", "c", "b", "a"]
    assert ids(user_id="u1") == ["d", "c", "a"]
    assert ids(status="FAILED") == ["c"]
    assert ids(intent="tool") == ["d"]
    assert ids(user_id="u2", intent="tool") == []
    row = runs.list_runs("acme", SINCE, RunQuery(status="FAILED")).records[0]
    assert row.errors[0]["code"] == "model_unavailable"
    assert row.response is None and row.trace == []  # projected away: rows stay small


def test_a_listing_stops_at_its_limit_or_its_read_budget_and_says_so(runs: RunStore) -> None:
    for second in range(10):
        runs.put(_run(f"r{second}", second, user_id="u1" if second < 2 else "busy"))

    limited = runs.list_runs("acme", SINCE, RunQuery(limit=3))
    budget = runs.list_runs("acme", SINCE, RunQuery(user_id="u1", max_read=4, page_size=2))
    everything = runs.list_runs("acme", SINCE, RunQuery(user_id="u1", page_size=3))

    assert [r.run_id for r in limited.records] == ["r9", "r8", "r7"] and limited.truncated
    assert budget.records == [] and budget.truncated  # u1's runs are older than the 4 read
    assert [r.run_id for r in everything.records] == ["r1", "r0"] and not everything.truncated
