"""Given a plain chat turn on the real ASL, it costs three Lambda invocations and six state entries.

Counted from the execution history, as the Step Functions console shows it: the cache check lives
in the router node, so a chat is router → agent → memory.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import boto3
from fastapi.testclient import TestClient

from orchestrator.local.runtime import LocalRuntime


def history_of(stack: LocalRuntime, client: TestClient, prompt: str) -> list[dict[str, Any]]:
    accepted = client.post(
        "/v1/runs", json={"prompt": prompt, "user_id": f"hops-{uuid.uuid4().hex[:6]}"}
    ).json()
    sfn = boto3.client("stepfunctions")
    arn = (
        stack.state_machine_arn("RunsStateMachine").replace(":stateMachine:", ":execution:")
        + ":"
        + accepted["run_id"]
    )
    deadline = time.monotonic() + 30
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    events: list[dict[str, Any]] = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return events


def test_a_plain_chat_takes_three_invocations_and_at_most_seven_transitions(
    stack: LocalRuntime, client: TestClient
) -> None:
    events = history_of(stack, client, f"Explain what an operating system does ({uuid.uuid4().hex[:6]}).")

    entered = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
    invocations = [e for e in events if e["type"] in {"LambdaFunctionScheduled", "TaskScheduled"}]

    assert entered[:2] == ["Start run", "Classify intent"]
    assert len(invocations) == 3, entered
    assert len(entered) <= 7, entered
    assert entered == [
        "Start run",
        "Classify intent",
        "Route by intent",
        "Answer with model",
        "Remember turn",
        "Done",
    ]
