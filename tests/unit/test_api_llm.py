"""Given a model provider over HTTP on 127.0.0.1, the LLM endpoints report it, never a 500."""

from __future__ import annotations

import socket

from fastapi.testclient import TestClient
from pydantic import SecretStr

from orchestrator.api import create_app
from orchestrator.config import Settings
from tests.support.fake_openai import FakeOpenAIServer


def app_for(base_url: str, **extra: object) -> TestClient:
    settings = Settings(
        llm_provider="openai",
        llm_base_url=base_url,
        llm_default_model="m1",
        llm_api_key=SecretStr("sk-test-never-shown"),
        llm_max_retries=0,
        llm_connect_timeout_s=0.5,
        llm_read_timeout_s=2,
        **extra,  # type: ignore[arg-type]
    )
    return TestClient(create_app(settings), raise_server_exceptions=False)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_models_lists_the_providers_models() -> None:
    with FakeOpenAIServer(models=["m1", "m2"]) as server:
        response = app_for(server.url).get("/v1/llm/models")

    assert response.status_code == 200
    body = response.json()
    assert body["provider"] == "openai"
    assert [m["id"] for m in body["models"]] == ["m1", "m2"]


def test_connection_reports_latency_and_reply() -> None:
    with FakeOpenAIServer(models=["m1"]) as server:
        server.reply_text("pong")
        response = app_for(server.url).post("/v1/llm/test-connection", json={})
        sent = server.chat_requests[-1]

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["reply"] == "pong"
    assert body["latency_ms"] > 0
    assert sent.headers.get("Authorization") == "Bearer sk-test-never-shown"
    assert "sk-test-never-shown" not in response.text


def test_connection_to_a_dead_endpoint_is_reported_not_raised() -> None:
    response = app_for(f"http://127.0.0.1:{closed_port()}/v1").post("/v1/llm/test-connection")

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False
    assert body["error_code"] == "model_unavailable"


def test_misconfiguration_is_reported_by_test_connection() -> None:
    client = TestClient(create_app(Settings(llm_provider="openai", llm_base_url="http://127.0.0.1:9/v1")))

    response = client.post("/v1/llm/test-connection")

    assert response.status_code == 200
    assert response.json()["error_code"] == "configuration_error"


def test_models_from_a_dead_endpoint_is_a_json_503() -> None:
    response = app_for(f"http://127.0.0.1:{closed_port()}/v1").get("/v1/llm/models")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "model_unavailable"
