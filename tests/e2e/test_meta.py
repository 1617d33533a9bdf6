"""Given the local stack, health and the API index describe the service without secrets."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_health_reports_provider_and_reachable_backends(client: TestClient) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["provider"] == "offline"
    assert body["backends"]["dynamodb"] == "ok"
    assert body["backends"]["state_machine"] == "configured"
    assert body["backends"]["external_agent"] == "ok"
    # run_python goes to the code-executor function, whose handler runs here in namespaces.
    assert body["backends"]["code_sandbox"] == "lambda-function (namespaces)"
    assert body["auth"] == "off"


def test_root_lists_the_endpoints(client: TestClient) -> None:
    body = client.get("/").json()

    assert "POST /v1/chat" in body["endpoints"]
    assert "GET /health" in body["endpoints"]
    assert body["docs"] == "/docs"


def test_db_status_sees_every_table(client: TestClient) -> None:
    body = client.get("/v1/db/status").json()

    assert body["status"] == "ok"
    assert set(body["tables"]) == {"conversations", "cache", "runs", "tools", "documents"}


def test_documents_are_ingested_counted_and_memory_cleared(client: TestClient) -> None:
    created = client.post(
        "/v1/documents",
        json={"user_id": "doc-owner", "title": "Handbook", "text": "Laptops are replaced every three years."},
    )
    stats = client.get("/v1/memory/stats", params={"user_id": "doc-owner", "session_id": "s-x"}).json()
    client.post("/v1/chat", json={"prompt": "Hello there!", "user_id": "doc-owner", "session_id": "s-x"})
    cleared = client.post("/v1/memory/clear", json={"user_id": "doc-owner", "session_id": "s-x"}).json()
    oversized = client.post("/v1/documents", json={"user_id": "doc-owner", "title": "t", "text": ""})
    shared = client.post("/v1/documents", json={"user_id": "shared", "title": "t", "text": "for everyone"})

    assert created.status_code == 201, created.text
    assert created.json()["chunks"] >= 1
    assert stats["documents"]["documents"] >= 1
    assert cleared["turns_deleted"] == 1
    assert oversized.status_code == 422
    # Auth is off here, so the caller is the default tenant's admin, who may load shared documents.
    assert shared.status_code == 201, shared.text


def test_openai_compatible_completion_runs_the_graph(client: TestClient) -> None:
    response = client.post(
        "/v1/chat/completions",
        json={
            "model": "orchestrator",
            "user": "sdk-user",
            "messages": [{"role": "user", "content": "Hi! Who are you?"}],
        },
    )
    streaming = client.post(
        "/v1/chat/completions", json={"stream": True, "messages": [{"role": "user", "content": "hi"}]}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"].startswith("[offline provider]")
    assert len(body["orchestrator"]["run_id"]) == 32
    assert streaming.status_code == 200 and streaming.text.rstrip().endswith("data: [DONE]")
    assert client.get("/v1/models").json()["data"][0]["id"] == "orchestrator"


def test_no_endpoint_or_log_shows_the_api_key(stack: object, caplog) -> None:  # type: ignore[no-untyped-def]
    from orchestrator.api import create_app
    from tests.e2e.conftest import reconfigured

    secret = "sk-live-do-not-leak-1234567890"
    env = {"LLM_PROVIDER": "openai", "LLM_DEFAULT_MODEL": "m", "LLM_API_KEY": secret, "LLM_MAX_RETRIES": "0"}
    env["LLM_BASE_URL"] = "http://127.0.0.1:9/v1"  # the discard port: nothing answers, nothing leaves
    with reconfigured(**env), caplog.at_level("DEBUG"):
        client = TestClient(create_app(), raise_server_exceptions=False)
        bodies = [
            client.get("/health").text,
            client.get("/").text,
            client.post("/v1/llm/test-connection", json={}).text,
            client.get("/v1/llm/models").text,
        ]

    assert all(secret not in body for body in bodies)
    assert secret not in caplog.text
    assert '"provider":"openai"' in bodies[0]
