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


def test_root_lists_the_endpoints(client: TestClient) -> None:
    body = client.get("/").json()

    assert "POST /v1/chat" in body["endpoints"]
    assert "GET /health" in body["endpoints"]
    assert body["docs"] == "/docs"
