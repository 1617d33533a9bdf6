"""Given the API with a stubbed Step Functions client, results and failures map to the contract."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from fastapi.testclient import TestClient

from orchestrator.api import create_app
from orchestrator.config import Settings
from orchestrator.workflow import WorkflowRunner

ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:chat"


@pytest.fixture
def stubbed() -> Iterator[tuple[TestClient, Stubber]]:
    settings = Settings(chat_state_machine_arn=ARN, max_prompt_chars=50)
    sfn = boto3.client(
        "stepfunctions", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(sfn) as stubber:
        app = create_app(settings, runner=WorkflowRunner(settings, client=sfn))
        yield TestClient(app, raise_server_exceptions=False), stubber


def sync_response(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "executionArn": ARN.replace("stateMachine", "express") + ":x:y",
        "startDate": "2026-11-24T00:00:00Z",
        "stopDate": "2026-11-24T00:00:01Z",
        "status": status,
        **extra,
    }


def test_succeeded_run_is_mapped_to_the_chat_response(stubbed: tuple[TestClient, Stubber]) -> None:
    client, stubber = stubbed

    def output(run_id: str) -> str:
        return json.dumps(
            {
                "run_id": run_id,
                "user_id": "u1",
                "session_id": "s1",
                "prompt": "hi",
                "intent": {"name": "chat", "confidence": 0.9, "method": "embedding"},
                "response": {"text": "hello", "provider": "offline", "model": "offline-stand-in"},
                "usage": {"llm_agent": {"latency_ms": 1.5, "tokens_in": 3, "tokens_out": 2}},
            }
        )

    stubber.add_response(
        "start_sync_execution",
        sync_response("SUCCEEDED", output=output("r-1")),
        {"stateMachineArn": ARN, "name": ANY, "input": ANY},
    )
    response = client.post("/v1/chat", json={"prompt": "hi", "user_id": "u1", "session_id": "s1"})

    assert response.status_code == 200
    body = response.json()
    assert body["response"] == "hello"
    assert body["intent"] == {
        "name": "chat",
        "confidence": 0.9,
        "method": "embedding",
        "alternatives": {},
        "agent": None,
    }
    assert body["usage"]["llm_agent"]["tokens_in"] == 3
    assert body["plan"] is None


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        ("ModelUnavailableError", 503, "model_unavailable"),
        ("ExternalAgentError", 502, "external_agent_error"),
        ("ZeroDivisionError", 502, "internal_error"),
    ],
)
def test_failed_run_is_a_typed_json_error_with_run_id(
    stubbed: tuple[TestClient, Stubber], error: str, status: int, code: str
) -> None:
    client, stubber = stubbed
    cause = json.dumps(
        {"errorType": error, "errorMessage": "upstream said no", "stackTrace": ["secret frame"]}
    )
    stubber.add_response("start_sync_execution", sync_response("FAILED", error=error, cause=cause))

    response = client.post("/v1/chat", json={"prompt": "hi", "user_id": "u1"})

    assert response.status_code == status
    body = response.json()
    assert body["error"]["code"] == code
    assert len(body["run_id"]) == 32
    assert "secret frame" not in response.text


def test_timed_out_run_is_504(stubbed: tuple[TestClient, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_response("start_sync_execution", sync_response("TIMED_OUT"))

    response = client.post("/v1/chat", json={"prompt": "hi", "user_id": "u1"})

    assert response.status_code == 504
    assert response.json()["error"]["code"] == "workflow_timeout"


def test_configured_prompt_cap_applies(stubbed: tuple[TestClient, Stubber]) -> None:
    client, _ = stubbed

    response = client.post("/v1/chat", json={"prompt": "x" * 51, "user_id": "u1"})

    assert response.status_code == 422
    assert "50" in response.json()["error"]["message"]


def test_missing_state_machine_configuration_is_explained() -> None:
    client = TestClient(create_app(Settings(chat_state_machine_arn=None)), raise_server_exceptions=False)

    response = client.post("/v1/chat", json={"prompt": "hi", "user_id": "u1"})

    assert response.status_code == 500
    assert "CHAT_STATE_MACHINE_ARN" in response.json()["error"]["message"]


def test_a_run_outlasting_the_timeout_is_a_504_not_a_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    calls: list[str] = []

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            calls.append(self.path)
            time.sleep(3)  # longer than the run's deadline

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_SFN", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
    settings = Settings(chat_state_machine_arn=ARN, workflow_timeout_s=1)
    try:
        client = TestClient(create_app(settings), raise_server_exceptions=False)
        started = time.monotonic()
        response = client.post("/v1/chat", json={"prompt": "hi", "user_id": "u1"})
        elapsed = time.monotonic() - started
    finally:
        server.shutdown()

    assert response.status_code == 504
    assert response.json()["error"]["code"] == "workflow_timeout"
    assert len(response.json()["run_id"]) == 32
    assert elapsed < 2.5
    assert len(calls) == 1  # not retried: a second start would run the turn twice
