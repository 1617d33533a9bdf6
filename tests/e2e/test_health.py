"""Given the local stack, /health says ok, degraded (naming the dependency) or down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from httpx import Response

from orchestrator import container
from orchestrator.state import utc_now
from tests.e2e.conftest import reconfigured


def test_a_recent_model_outage_degrades_health_and_names_the_model(client: TestClient) -> None:
    runs = container.current().run_store
    runs.note_dependency_failure("model", "model_unavailable", utc_now())
    try:
        response = client.get("/health")

        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "degraded"
        assert set(body["degraded"]) == {"model"}
        assert body["degraded"]["model"].startswith("model_unavailable at ")
    finally:
        an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="milliseconds")
        runs.note_dependency_failure("model", "model_unavailable", an_hour_ago)


def test_an_old_outage_is_forgotten(client: TestClient) -> None:
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="milliseconds")
    container.current().run_store.note_dependency_failure("model", "model_unavailable", an_hour_ago)

    body = client.get("/health").json()

    assert body["status"] == "ok" and body["degraded"] == {}


def _health(**env: str) -> Response:
    """/health of an app started with these settings (an app reads its settings once)."""
    from orchestrator.api import create_app

    with reconfigured(**env), TestClient(create_app(), raise_server_exceptions=False) as fresh:
        return fresh.get("/health")


def test_without_a_workflow_the_service_is_down(client: TestClient) -> None:
    response = _health(CHAT_STATE_MACHINE_ARN="")

    assert response.status_code == 503
    assert response.json()["status"] == "down"
    assert response.json()["backends"]["state_machine"] == "not configured"


def test_without_dynamodb_the_service_is_down(client: TestClient) -> None:
    response = _health(CONVERSATIONS_TABLE="no-such-table")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["backends"]["dynamodb"].startswith("unreachable")
