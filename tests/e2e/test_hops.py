"""Given a plain chat turn on the real ASL, it costs three Lambda invocations and six state entries.

Counted from the execution history, as the Step Functions console shows it: the cache check lives
in the router node, so a chat is router → agent → memory. ``bench/hops.py`` counts every branch
with the same rule (``tests/support/execution_history.py``).
"""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from orchestrator.local.runtime import LocalRuntime
from tests.support.execution_history import captured_sync_executions, count_hops, run_history


def test_a_plain_chat_takes_three_invocations_and_at_most_seven_transitions(
    stack: LocalRuntime, client: TestClient
) -> None:
    events = run_history(
        stack.state_machine_arn("RunsStateMachine"),
        client,
        f"Explain what an operating system does ({uuid.uuid4().hex[:6]}).",
    )

    hops = count_hops(events)

    assert hops.entered[:2] == ("Start run", "Classify intent")
    assert hops.invocations == 3, hops.entered
    assert hops.transitions <= 7, hops.entered
    assert hops.entered == (
        "Start run",
        "Classify intent",
        "Route by intent",
        "Answer with model",
        "Remember turn",
        "Done",
    )


def test_the_chat_path_express_execution_takes_the_same_hops(stack: LocalRuntime, client: TestClient) -> None:
    with captured_sync_executions() as executions:
        response = client.post(
            "/v1/chat",
            json={"prompt": f"Explain what a compiler does ({uuid.uuid4().hex[:6]}).", "user_id": "hops"},
        )

    assert response.status_code == 200, response.text
    assert len(executions) == 1
    hops = count_hops(executions[0].to_history_output()["events"])
    assert (hops.invocations, hops.transitions) == (3, 6), hops.entered
