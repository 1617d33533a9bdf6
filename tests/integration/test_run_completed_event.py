"""Given moto's EventBridge with a rule on orchestrator.run.completed, when the memory store records
the end of a run, then one event with run id, tenant, outcome, latency and cost reaches the rule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from orchestrator.monitoring.events import DETAIL_TYPE, SOURCE, RunCompletedPublisher
from orchestrator.nodes.memory_store import MemoryDeps, node
from orchestrator.state import GraphState, Intent, NodeUsage, Response
from tests.support.aws import use_fake_credentials
from tests.support.fakes import FakeCache, FakeConversations, FakeRuns, deadline_in

REGION = "us-east-1"


@pytest.fixture
def queue() -> Iterator[tuple[Any, str]]:
    """An SQS queue fed by a default-bus rule on the run.completed event."""
    with pytest.MonkeyPatch.context() as env:
        use_fake_credentials(env)
        with mock_aws():
            sqs = boto3.client("sqs", region_name=REGION)
            url = sqs.create_queue(QueueName="run-completed")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            events = boto3.client("events", region_name=REGION)
            pattern = {"source": [SOURCE], "detail-type": [DETAIL_TYPE]}
            events.put_rule(Name="run-completed", EventPattern=json.dumps(pattern))
            events.put_targets(Rule="run-completed", Targets=[{"Id": "q", "Arn": arn}])
            yield sqs, url


def _deps() -> MemoryDeps:
    return MemoryDeps(
        conversations=FakeConversations(),  # type: ignore[arg-type]
        cache=FakeCache(),  # type: ignore[arg-type]
        runs=FakeRuns(),  # type: ignore[arg-type]
        cache_ttl_s=60,
        run_completed=RunCompletedPublisher("default", region=REGION),
    )


def _received(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_a_finished_run_puts_one_run_completed_event(queue: tuple[Any, str]) -> None:
    state = GraphState(
        tenant_id="acme",
        user_id="ada",
        prompt="Capital of France?",
        started_at="2026-01-01T09:00:00.000+00:00",
        intent=Intent(name="chat", confidence=0.9, method="embedding"),
        response=Response(text="Paris."),
        usage={"llm_agent": NodeUsage(cost_usd=0.0025, tokens_in=10)},
    )

    node.run({"action": "record", "state": state.model_dump(mode="json")}, _deps(), deadline=deadline_in())

    (event,) = _received(*queue)
    assert event["source"] == "orchestrator" and event["detail-type"] == "orchestrator.run.completed"
    detail = event["detail"]
    assert detail["run_id"] == state.run_id and detail["tenant_id"] == "acme"
    assert detail["outcome"] == "SUCCEEDED" and detail["error_code"] is None
    assert detail["cost_usd"] == 0.0025 and detail["latency_ms"] > 0
    assert "Paris" not in json.dumps(event)  # a notice, not the conversation


def test_a_failed_run_says_so_with_its_error_code(queue: tuple[Any, str]) -> None:
    state = GraphState(tenant_id="acme", user_id="ada", prompt="Hello?")
    failure = {"Error": "ModelUnavailableError", "Cause": '{"errorMessage": "down"}'}

    node.run(
        {"action": "record_failure", "state": state.model_dump(mode="json"), "failure": failure},
        _deps(),
        deadline=deadline_in(),
    )

    (event,) = _received(*queue)
    assert event["detail"]["outcome"] == "FAILED"
    assert event["detail"]["error_code"] == "model_unavailable"


def test_an_unreachable_bus_does_not_fail_the_run() -> None:
    class Down:
        def put_events(self, **_: Any) -> dict[str, Any]:
            raise ConnectionError("no route")

    state = GraphState(tenant_id="acme", user_id="ada", prompt="Hello?", response=Response(text="Hi."))
    deps = MemoryDeps(
        conversations=FakeConversations(),  # type: ignore[arg-type]
        cache=FakeCache(),  # type: ignore[arg-type]
        runs=FakeRuns(),  # type: ignore[arg-type]
        cache_ttl_s=60,
        run_completed=RunCompletedPublisher("default", region=REGION, client=Down()),
    )

    node.run({"action": "record", "state": state.model_dump(mode="json")}, deps, deadline=deadline_in())

    assert deps.runs.get("acme", state.run_id) is not None
