"""Given the local runtime, every file in events/ drives its function through Lambda's Invoke API,
exactly as `sam local invoke <Function> -e events/<file>` does where Docker exists."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest

from orchestrator.local.runtime import LocalRuntime
from orchestrator.local.server import local_stack

ROOT = Path(__file__).resolve().parents[2]
EVENTS = sorted((ROOT / "events").glob("*.json"))
FUNCTIONS = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists())


def logical_id(event_file: Path) -> str:
    """``intent_router_route.json`` → ``IntentRouterFunction`` (longest function-folder prefix)."""
    if event_file.name.startswith("eventbridge_"):
        return "RunsStateMachine"
    folder = max((f for f in FUNCTIONS if event_file.name.startswith(f + "_")), key=len)
    return "".join(part.title() for part in folder.split("_")) + "Function"


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    with local_stack() as stack:
        yield stack


def invoke(runtime: LocalRuntime, logical: str, event: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    client = boto3.client("lambda", region_name="us-east-1")
    response = client.invoke(FunctionName=runtime.physical_id(logical), Payload=json.dumps(event).encode())
    return json.loads(response["Payload"].read()), "FunctionError" in response


def put_uploaded_objects(event: dict[str, Any]) -> None:
    """Put each object an S3 event names, with the bucket's notifications off meanwhile (moto
    would otherwise run the function on the put, before the event file does)."""
    s3 = boto3.client("s3", region_name="us-east-1")
    for record in event["Records"]:
        bucket, key = record["s3"]["bucket"]["name"], unquote_plus(record["s3"]["object"]["key"])
        saved = s3.get_bucket_notification_configuration(Bucket=bucket)
        saved.pop("ResponseMetadata", None)
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
        body = "# Zephyr-9 manual\n\nThe Zephyr-9 launch authorization code is 4471-delta.\n"
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode(), ContentType="text/markdown")
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=saved)


def test_every_function_has_at_least_one_event() -> None:
    covered = {logical_id(path) for path in EVENTS}

    for folder in FUNCTIONS:
        assert "".join(part.title() for part in folder.split("_")) + "Function" in covered, folder


@pytest.mark.parametrize(
    "event_file", [p for p in EVENTS if logical_id(p) != "RunsStateMachine"], ids=lambda p: p.stem
)
def test_event_file_runs_its_function(runtime: LocalRuntime, event_file: Path) -> None:
    event = json.loads(event_file.read_text())
    if "Records" in event:  # an S3 notification: the object it names must exist
        put_uploaded_objects(event)

    payload, errored = invoke(runtime, logical_id(event_file), event)

    assert not errored, payload
    if "Records" in event:  # the document ingestion function: each object became a document
        assert [d["doc_id"] for d in payload["ingested"]] == [
            r["s3"]["object"]["key"].split("/")[3] for r in event["Records"]
        ], payload
    elif "code" in event:  # the code executor: one program, its SandboxResult
        assert payload["exit_code"] == 0 and payload["stdout"] == "119\n", payload
    elif "requestContext" in event:  # API Gateway HTTP API v2 → Mangum → FastAPI
        assert payload["statusCode"] == 200, payload
        assert json.loads(payload["body"])
    elif event["action"] in {"step"}:
        assert payload["step_id"] == event["step"]["id"] and payload["ok"] is True
    elif event["action"] == "execute":
        assert payload["ok"] is True and payload["output"]
    else:
        assert payload["run_id"] == event["state"]["run_id"]


def test_eventbridge_event_detail_starts_a_standard_run(runtime: LocalRuntime) -> None:
    event = json.loads((ROOT / "events" / "eventbridge_run_requested.json").read_text())
    sfn = boto3.client("stepfunctions", region_name="us-east-1")

    # The rule's target uses InputPath $.detail; moto's EventBridge does not start Step Functions.
    execution = sfn.start_execution(
        stateMachineArn=runtime.runs_state_machine_arn, name="eb-run-1", input=json.dumps(event["detail"])
    )
    for _ in range(400):
        status = sfn.describe_execution(executionArn=execution["executionArn"])
        if status["status"] != "RUNNING":
            break
        time.sleep(0.05)

    assert status["status"] == "SUCCEEDED", status
    output = json.loads(status["output"])
    assert output["run_id"] == "eb-run-1"
    assert output["response"]["text"]


def test_a_retried_record_writes_the_turn_once(runtime: LocalRuntime) -> None:
    from orchestrator import container

    event = json.loads((ROOT / "events" / "memory_store_record.json").read_text())
    event["state"]["session_id"] = "retry-session"
    event["state"]["tenant_id"] = "acme"

    for _ in range(2):  # Step Functions retried the task after a timeout
        _, errored = invoke(runtime, "MemoryStoreFunction", event)
        assert not errored

    user = event["state"]["user_id"]
    turns = container.current().conversations.recent("acme", user, "retry-session", 10)
    assert [t.run_id for t in turns] == [event["state"]["run_id"]]
    assert container.current().conversations.recent("default", user, "retry-session", 10) == []
