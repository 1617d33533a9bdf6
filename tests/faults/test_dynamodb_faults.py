"""Given DynamoDB throttling or failing under the real ASL, when a turn runs, then a burst is
retried and the turn stored once, and a table that keeps refusing gives a clean 503 with the run
id: nothing half-written, and the client's retry is stored exactly once."""

from __future__ import annotations

import time
import uuid

from fastapi.testclient import TestClient

from orchestrator import container
from orchestrator.memory.conversations import Turn
from tests.e2e.conftest import chat
from tests.faults.conftest import DynamoFaults

THROTTLED = "ProvisionedThroughputExceededException"
#: Botocore's standard mode: three attempts, jittered backoff of at most 1 s then 2 s.
RETRIED_WITHIN_S = 10.0


def user() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


def stored(who: str, session_id: str) -> list[Turn]:
    return container.current().conversations.recent("default", who, session_id, 10)


def tables() -> tuple[str, str, str]:
    settings = container.current().settings
    return settings.conversations_table, settings.cache_table, settings.runs_table


def test_a_burst_of_throttling_on_the_turn_write_is_retried_and_the_turn_stored_once(
    client: TestClient, dynamo_faults: DynamoFaults
) -> None:
    conversations, _, _ = tables()
    dynamo_faults.fail("PutItem", table=conversations, code=THROTTLED, times=2)
    who = user()

    started = time.monotonic()
    response = chat(client, "Hi there! How are you doing this morning?", who, session_id="s-burst")

    assert response.status_code == 200, response.text
    assert time.monotonic() - started < RETRIED_WITHIN_S
    assert dynamo_faults.injected == [("PutItem", conversations)] * 2
    turns = stored(who, "s-burst")
    assert len(turns) == 1 and turns[0].ok is True


def test_throttled_cache_reads_are_retried_then_answered_as_a_miss(
    client: TestClient, dynamo_faults: DynamoFaults
) -> None:
    _, cache, _ = tables()
    who = user()
    dynamo_faults.fail("GetItem", table=cache, code="ThrottlingException", times=2)
    burst = chat(client, "Tell me a fun fact about octopuses.", who, session_id="s-cache-1")
    dynamo_faults.fail("GetItem", table=cache, code="ThrottlingException")  # for ever
    persistent = chat(client, "Tell me a fun fact about penguins.", who, session_id="s-cache-2")

    assert burst.status_code == 200, burst.text
    assert persistent.status_code == 200, persistent.text  # a cache is an optimisation
    assert persistent.json()["cached"] is False
    assert len(stored(who, "s-cache-1")) == len(stored(who, "s-cache-2")) == 1


def test_transient_500s_on_the_run_record_are_retried(
    client: TestClient, dynamo_faults: DynamoFaults
) -> None:
    _, _, runs = tables()
    dynamo_faults.fail("PutItem", table=runs, code="InternalServerError", status=500, times=2)
    who = user()

    response = chat(client, "Calculate 6 * 7 for me", who, session_id="s-500")

    assert response.status_code == 200, response.text
    assert ("PutItem", runs) in dynamo_faults.injected
    record = client.get(f"/v1/runs/{response.json()['run_id']}")
    assert record.status_code == 200 and record.json()["status"] == "SUCCEEDED"
    assert len(stored(who, "s-500")) == 1


def test_a_table_that_keeps_throttling_gives_a_clean_503_and_the_retry_is_stored_once(
    client: TestClient, dynamo_faults: DynamoFaults
) -> None:
    conversations, _, _ = tables()
    dynamo_faults.fail("PutItem", table=conversations, code=THROTTLED)
    who = user()
    prompt = "Explain how a hash map works in simple terms."

    failed = chat(client, prompt, who, session_id="s-down")
    nothing_half_written = stored(who, "s-down")
    dynamo_faults.clear()
    retried = chat(client, prompt, who, session_id="s-down")

    assert failed.status_code == 503, failed.text
    body = failed.json()
    assert body["error"]["code"] == "storage_unavailable"
    assert body["run_id"] and body["error"]["run_id"] == body["run_id"]
    assert (
        "Traceback" not in failed.text and THROTTLED not in failed.text and conversations not in failed.text
    )
    assert nothing_half_written == []
    record = client.get(f"/v1/runs/{body['run_id']}").json()  # the runs table still answers
    assert record["status"] == "FAILED" and record["errors"][-1]["code"] == "storage_unavailable"
    assert retried.status_code == 200, retried.text
    turns = stored(who, "s-down")
    assert [t.run_id for t in turns] == [retried.json()["run_id"]]


def test_a_run_table_that_keeps_throttling_leaves_the_turn_recorded_once_by_the_failure_path(
    client: TestClient, dynamo_faults: DynamoFaults
) -> None:
    _, _, runs = tables()
    dynamo_faults.fail("PutItem", table=runs, code=THROTTLED)
    who = user()

    response = chat(client, "Tell me a fun fact about otters.", who, session_id="s-runs-down")

    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "storage_unavailable"
    assert response.json()["run_id"]
    turns = stored(who, "s-runs-down")
    assert len(turns) == 1 and turns[0].ok is False
    assert turns[0].run_id == response.json()["run_id"]


def test_a_cache_that_keeps_refusing_writes_does_not_cost_the_answer(
    client: TestClient, dynamo_faults: DynamoFaults
) -> None:
    _, cache, _ = tables()
    dynamo_faults.fail("PutItem", table=cache, code=THROTTLED)
    who = user()

    response = chat(client, "Explain the difference between TCP and UDP.", who, session_id="s-nocache")

    assert response.status_code == 200, response.text
    assert ("PutItem", cache) in dynamo_faults.injected
    turns = stored(who, "s-nocache")
    assert len(turns) == 1 and turns[0].ok is True


def test_an_api_read_of_a_throttled_table_is_a_json_503(
    client: TestClient, dynamo_faults: DynamoFaults
) -> None:
    _, _, runs = tables()
    finished = chat(client, "Calculate 3 * 3 for me", user())
    dynamo_faults.fail("GetItem", table=runs, code=THROTTLED)

    response = client.get(f"/v1/runs/{finished.json()['run_id']}")

    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "storage_unavailable"
    assert "Traceback" not in response.text


def test_an_async_run_survives_a_burst_and_its_idempotent_retry_stores_nothing_twice(
    client: TestClient, dynamo_faults: DynamoFaults
) -> None:
    conversations, _, runs = tables()
    dynamo_faults.fail("PutItem", table=conversations, code=THROTTLED, times=1)
    dynamo_faults.fail("PutItem", table=runs, code=THROTTLED, times=1)
    who = user()
    body = {"prompt": "Calculate 21 * 2 for me", "user_id": who, "session_id": "s-async"}
    key = {"Idempotency-Key": f"order-{uuid.uuid4().hex[:8]}"}

    accepted = client.post("/v1/runs", json=body, headers=key)
    record: dict[str, object] = {}
    for _ in range(300):  # bounded: 15 s
        record = client.get(accepted.json()["status_url"]).json()
        if record.get("status") not in (None, "RUNNING"):
            break
        time.sleep(0.05)
    again = client.post("/v1/runs", json=body, headers=key)

    assert accepted.status_code == 202, accepted.text
    assert record["status"] == "SUCCEEDED", record
    assert again.status_code == 202 and again.json()["status"] == "EXISTING"
    assert again.json()["run_id"] == accepted.json()["run_id"]
    assert len(dynamo_faults.injected) == 2
    assert len(stored(who, "s-async")) == 1
