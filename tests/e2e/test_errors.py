"""Given bad input or a failing node, the API answers with a JSON error, never a bare 500."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from orchestrator import container
from tests.e2e.conftest import chat
from tests.support.fake_agent import FakeAgentServer


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user_id": "u1"}, "prompt"),
        ({"prompt": "hi"}, "user_id"),
        ({"prompt": 42, "user_id": "u1"}, "prompt"),
        ({"prompt": "hi", "user_id": "u1", "metadata": "not a dict"}, "metadata"),
        ({"prompt": "hi", "user_id": "bad id with spaces"}, "user_id"),
        ({"prompt": "hi", "user_id": "u1", "surprise": True}, "surprise"),
    ],
)
def test_malformed_bodies_are_422_naming_the_field(
    client: TestClient, body: dict[str, object], field: str
) -> None:
    response = client.post("/v1/chat", json=body)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in error["message"]


def test_empty_prompt_is_rejected(client: TestClient) -> None:
    response = chat(client, "   ", "u1")

    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("prompt")


def test_prompt_over_the_configured_cap_is_rejected(client: TestClient) -> None:
    cap = container.current().settings.max_prompt_chars

    response = chat(client, "a" * (cap + 1), "u1")

    assert response.status_code == 422
    assert str(cap) in response.json()["error"]["message"]


def test_body_far_over_the_cap_is_413(client: TestClient) -> None:
    response = client.post(
        "/v1/chat",
        content=b'{"prompt": "' + b"a" * 2_000_000 + b'"}',
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_invalid_json_is_422(client: TestClient) -> None:
    response = client.post("/v1/chat", content=b"{not json", headers={"content-type": "application/json"})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_unknown_path_is_a_json_404(client: TestClient) -> None:
    response = client.get("/v1/nope")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_failing_node_gives_a_typed_error_with_run_id_and_the_turn_is_kept(
    client: TestClient, fake_agent: FakeAgentServer
) -> None:
    who = f"user-{uuid.uuid4().hex[:8]}"
    fake_agent.fail_next(status=401, times=1)

    response = chat(
        client, "Forecast next quarter's revenue and churn for our customers.", who, session_id="s-fail"
    )

    assert response.status_code == 502, response.text
    body = response.json()
    assert body["error"]["code"] == "external_agent_error"
    run_id = body["run_id"]
    assert run_id and body["error"]["run_id"] == run_id
    assert "Traceback" not in response.text
    record = client.get(f"/v1/runs/{run_id}").json()
    assert record["status"] == "FAILED"
    assert record["errors"][0]["code"] == "external_agent_error"
    turns = container.current().conversations.recent("default", who, "s-fail", 5)
    assert len(turns) == 1 and turns[0].ok is False
