"""Given the local stack served by uvicorn, when POST /v1/chat asks for a stream, then server-sent
events arrive as the graph runs (parsed by a real SSE client), ending with the non-streaming body."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from orchestrator import container
from orchestrator.local.runtime import LocalRuntime
from tests.e2e.conftest import reconfigured
from tests.support.fake_openai import FakeOpenAIServer
from tests.support.served import served

#: Bounds every wait of this module.
TIMEOUT_S = 30.0


@pytest.fixture(scope="module")
def base_url(stack: LocalRuntime) -> Iterator[str]:
    from orchestrator.api import create_app

    with served(create_app()) as url:
        yield url


def user() -> str:
    return f"stream-{uuid.uuid4().hex[:8]}"


def stream_chat(base_url: str, prompt: str, user_id: str, **extra: Any) -> list[tuple[str, Any]]:
    """Every event of one streamed turn, as (event, parsed data)."""
    body = {"prompt": prompt, "user_id": user_id, "stream": True, **extra}
    with (
        httpx.Client(base_url=base_url, timeout=TIMEOUT_S) as http,
        connect_sse(http, "POST", "/v1/chat", json=body) as source,
    ):
        assert source.response.status_code == 200
        assert source.response.headers["content-type"].startswith("text/event-stream")
        return [(event.event, json.loads(event.data)) for event in source.iter_sse()]


def kinds(events: list[tuple[str, Any]]) -> list[str]:
    return [kind for kind, _ in events]


def answer_of(events: list[tuple[str, Any]]) -> str:
    return "".join(data["text"] for kind, data in events if kind == "token")


def test_a_streamed_chat_starts_with_run_ends_with_the_plain_body_and_tokens_make_the_answer(
    base_url: str,
) -> None:
    events = stream_chat(base_url, "Hi there! How are you doing this morning?", user())

    assert kinds(events)[0] == "run" and kinds(events)[-1] == "done", kinds(events)
    run, done = events[0][1], events[-1][1]
    assert done["run_id"] == run["run_id"] and done["session_id"] == run["session_id"]
    assert done["intent"]["name"] == "chat"
    assert kinds(events).index("intent") < kinds(events).index("token")
    assert len([k for k in kinds(events) if k == "token"]) >= 1
    assert answer_of(events) == done["response"]
    plain = httpx.post(
        f"{base_url}/v1/chat", json={"prompt": "Hello, how are you?", "user_id": user()}, timeout=TIMEOUT_S
    ).json()
    assert set(done) == set(plain)


def test_accept_event_stream_alone_asks_for_a_stream(base_url: str) -> None:
    body = {"prompt": "Good evening! How was your day?", "user_id": user()}
    with (
        httpx.Client(base_url=base_url, timeout=TIMEOUT_S) as http,
        connect_sse(http, "POST", "/v1/chat", json=body) as source,  # sends Accept: text/event-stream
    ):
        names = [event.event for event in source.iter_sse()]
    assert names[0] == "run" and names[-1] == "done"


def test_a_tool_turn_streams_its_call_and_result_before_the_answer(base_url: str) -> None:
    events = stream_chat(base_url, "Calculate 17 * (3 + 4) for me", user())

    names = kinds(events)
    assert names[0] == "run" and names[-1] == "done"
    assert (
        names.index("intent") < names.index("tool_call") < names.index("tool_result") < names.index("token")
    )
    result = next(data for kind, data in events if kind == "tool_result")
    assert result["name"] == "calculator" and "119" in str(result["output"])
    assert answer_of(events) == events[-1][1]["response"]


def test_a_turn_answered_in_one_response_writes_no_progress_but_a_stream_does(base_url: str) -> None:
    # Nobody can watch a plain turn (its run id comes with the answer): its nodes, the tool Map's
    # iterations included, skip the run-events table, most of a chat's DynamoDB writes.
    events = container.current().run_events
    assert events is not None
    prompt = "Calculate 17 * (3 + 4) for me"
    plain = httpx.post(f"{base_url}/v1/chat", json={"prompt": prompt, "user_id": user()}, timeout=TIMEOUT_S)
    streamed = stream_chat(base_url, prompt, user())

    assert plain.status_code == 200 and "119" in plain.json()["response"]
    assert events.read("default", plain.json()["run_id"]) == []
    written = {record.kind for record in events.read("default", streamed[0][1]["run_id"])}
    assert {"intent", "tool_call", "tool_result"} <= written


def test_a_planning_turn_streams_the_plan_then_each_step(base_url: str) -> None:
    prompt = "First calculate 12 * 12, then write a short haiku that mentions the result."

    events = stream_chat(base_url, prompt, user())

    names = kinds(events)
    done = events[-1][1]
    assert names[0] == "run" and names[-1] == "done"
    assert done["intent"]["name"] == "planning"
    steps = [data for kind, data in events if kind == "step"]
    assert len(steps) == len(done["plan"]) >= 2
    assert names.index("plan") < names.index("step") < names.index("token")
    assert "144" in steps[0]["output"]
    assert answer_of(events) == done["response"]


#: Which state's node publishes which event kind.
PUBLISHER = {
    "intent": "Classify intent",
    "tool_call": "Select tools",
    "tool_result": "Run tool call",
    "plan": "Plan steps",
    "step": "Run step with",
    "token": "Answer with model",
}


@pytest.mark.parametrize(
    "prompt", ["Calculate 6 * 7 for me", "First calculate 11 * 11, then write a short haiku about it."]
)
def test_the_events_follow_the_state_machine_s_execution_history(base_url: str, prompt: str) -> None:
    """Express executions keep no history (in moto either), so the same prompt also runs as a
    Standard run, whose history orders the node invocations the events came from."""
    import boto3

    events = stream_chat(base_url, prompt, user())
    accepted = httpx.post(
        f"{base_url}/v1/runs", json={"prompt": prompt, "user_id": user()}, timeout=TIMEOUT_S
    )
    run_id = accepted.json()["run_id"]
    finished = wait_for_run(base_url, accepted.json()["status_url"])
    assert finished["status"] == "SUCCEEDED", finished

    settings = container.current().settings
    sfn = boto3.client("stepfunctions", region_name=settings.aws_region)
    arn = str(settings.runs_state_machine_arn).replace(":stateMachine:", ":execution:") + f":{run_id}"
    history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    order = []
    for kind in kinds(events):
        if kind in PUBLISHER and kind not in order:
            order.append(kind)
    assert len(order) >= 3, order
    positions = [first_state(entered, PUBLISHER[kind]) for kind in order]
    assert positions == sorted(positions), (order, entered)


def first_state(entered: list[str], prefix: str) -> int:
    return next(i for i, name in enumerate(entered) if name.startswith(prefix))


def wait_for_run(base_url: str, status_url: str) -> dict[str, Any]:
    deadline = time.monotonic() + TIMEOUT_S
    record: dict[str, Any] = {}
    while time.monotonic() < deadline:
        record = httpx.get(f"{base_url}{status_url}", timeout=TIMEOUT_S).json()
        if record.get("status") not in (None, "RUNNING"):
            break
        time.sleep(0.05)
    return record


def test_a_failing_model_ends_the_stream_with_the_error_body(base_url: str) -> None:
    with (
        FakeOpenAIServer(models=["gpt-test"]) as model,
        reconfigured(
            LLM_PROVIDER="openai",
            LLM_BASE_URL=model.url,
            LLM_DEFAULT_MODEL="gpt-test",
            LLM_API_KEY="sk-e2e-secret",
            LLM_MAX_RETRIES="1",
            LLM_BACKOFF_BASE_S="0.01",
            LLM_READ_TIMEOUT_S="5",
        ),
    ):
        for _ in range(8):
            model.reply_error(503, message="overloaded")
        events = stream_chat(base_url, "Tell me a joke about penguins, please.", user())

    names = kinds(events)
    assert names[0] == "run" and names[-1] == "error" and "done" not in names
    error = events[-1][1]
    assert error["error"]["code"] == "model_unavailable"
    assert error["run_id"] == events[0][1]["run_id"]


def test_a_client_that_leaves_mid_stream_leaves_the_turn_recorded_and_no_thread_behind(
    base_url: str,
) -> None:
    who = user()
    body = {
        "prompt": "First calculate 9 * 9, then write a short poem about it.",
        "user_id": who,
        "stream": True,
    }
    with (
        httpx.Client(base_url=base_url, timeout=TIMEOUT_S) as http,
        connect_sse(http, "POST", "/v1/chat", json=body) as source,
    ):
        first = next(source.iter_sse())
        run_id = json.loads(first.data)["run_id"]
    # The connection is closed: the run goes on without a reader, and is recorded.
    record = wait_for_run(base_url, f"/v1/runs/{run_id}?user_id={who}")
    assert record["status"] == "SUCCEEDED", record
    deadline = time.monotonic() + TIMEOUT_S
    while any(t.name == f"chat-turn-{run_id}" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the turn's worker thread is still running"
        time.sleep(0.05)
