"""Given the runs table as template.yaml declares it (on moto), a tenant's finished runs are read
by time with a Query on by_tenant_time, newest first and capped; unfinished runs stay out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from orchestrator.local.resources import create_table
from orchestrator.local.template import Template
from orchestrator.memory.runs import RunRecord, RunStore
from tests.support.aws import use_fake_credentials

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


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


def _run(run_id: str, finished_at: str | None, tenant_id: str = "acme", **extra: Any) -> RunRecord:
    status = "SUCCEEDED" if finished_at else "WAITING_FOR_APPROVAL"
    return RunRecord(
        run_id=run_id,
        status=status,
        tenant_id=tenant_id,
        user_id="u1",
        session_id="s1",
        started_at="2026-01-01T09:00:00.000+00:00",
        finished_at=finished_at,
        **extra,
    )


def test_finished_runs_of_the_tenant_in_the_window_newest_first(runs: RunStore) -> None:
    runs.put(_run("old", "2026-01-01T08:59:59.000+00:00"))
    runs.put(_run("a", "2026-01-01T09:00:01.000+00:00"))
    runs.put(_run("b", "2026-01-01T09:00:02.000+00:00"))
    runs.put(_run("waiting", None))
    runs.put(_run("other", "2026-01-01T09:00:03.000+00:00", tenant_id="globex"))

    recent = runs.finished_since("acme", "2026-01-01T09:00:00.000+00:00", limit=10)

    assert [r.run_id for r in recent.records] == ["b", "a"]
    assert recent.truncated is False
    assert runs.get("acme", "waiting") is not None  # kept, only out of the index


def test_reading_stops_at_the_cap_and_says_so(runs: RunStore) -> None:
    for i in range(5):
        runs.put(_run(f"r{i}", f"2026-01-01T09:00:0{i}.000+00:00"))

    recent = runs.finished_since("acme", "2026-01-01T09:00:00.000+00:00", limit=3)

    assert [r.run_id for r in recent.records] == ["r4", "r3", "r2"]
    assert recent.truncated is True
