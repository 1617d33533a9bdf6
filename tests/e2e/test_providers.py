"""Given a real model provider (an OpenAI-compatible server on 127.0.0.1), /v1/chat runs the
model's tool calls through the ASL, accounts for tokens and cost, and fails cleanly when it is down."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from orchestrator import container
from tests.e2e.conftest import chat, reconfigured
from tests.support.fake_openai import FakeOpenAIServer

PRICES = json.dumps({"gpt-test": {"input_per_1k": 0.5, "output_per_1k": 1.5}})


@pytest.fixture
def model_server() -> Iterator[FakeOpenAIServer]:
    with (
        FakeOpenAIServer(models=["gpt-test"]) as server,
        reconfigured(
            LLM_PROVIDER="openai",
            LLM_BASE_URL=server.url,
            LLM_DEFAULT_MODEL="gpt-test",
            LLM_API_KEY="sk-e2e-secret",
            LLM_PRICE_TABLE=PRICES,
            LLM_MAX_RETRIES="1",
            LLM_BACKOFF_BASE_S="0.01",
            LLM_READ_TIMEOUT_S="5",
        ),
    ):
        yield server


def test_model_tool_call_runs_and_its_result_goes_back_to_the_model(
    client: TestClient, model_server: FakeOpenAIServer
) -> None:
    model_server.reply_tool_calls([("calculator", {"expression": "6 * 7"})])
    model_server.reply_text("The answer is 42.")

    response = chat(client, "Hi! Could you tell me what six times seven is, in a friendly way?", "p-user")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["response"] == "The answer is 42."
    assert body["provider"] == "openai" and body["model"] == "gpt-test"
    assert [c["name"] for c in body["tool_calls"]] == ["calculator"]
    assert body["tool_results"][0]["ok"] is True and "42" in str(body["tool_results"][0]["output"])
    second = model_server.chat_requests[-1].body
    tool_messages = [m for m in second["messages"] if m["role"] == "tool"]
    assert tool_messages and "42" in tool_messages[0]["content"]
    assert {t["function"]["name"] for t in model_server.chat_requests[0].body["tools"]} >= {"calculator"}
    usage = body["usage"]["llm_agent"]
    assert usage["tokens_in"] == 24 and usage["tokens_out"] == 10  # two calls, 12 in / 5 out each
    assert usage["cost_usd"] == pytest.approx((24 * 0.5 + 10 * 1.5) / 1000)
    assert "sk-e2e-secret" not in response.text


def test_model_down_is_a_503_with_run_id_and_the_turn_is_recorded(
    client: TestClient, model_server: FakeOpenAIServer
) -> None:
    for _ in range(8):  # more than the router and the agent together may try
        model_server.reply_error(503, message="overloaded")
    who = f"down-{uuid.uuid4().hex[:6]}"

    response = chat(client, "Tell me a joke about penguins, please.", who, session_id="s-down")

    assert response.status_code == 503, response.text
    body = response.json()
    assert body["error"]["code"] == "model_unavailable"
    assert len(body["run_id"]) == 32
    assert "sk-e2e-secret" not in response.text
    turns = container.current().conversations.recent("default", who, "s-down", 5)
    assert len(turns) == 1 and turns[0].ok is False and turns[0].run_id == body["run_id"]
    # and /health names the model as degraded (then forgets it, for the tests after this one)
    health = client.get("/health").json()
    assert health["status"] == "degraded" and "model_unavailable" in health["degraded"]["model"]
    container.current().run_store.note_dependency_failure(
        "model", "model_unavailable", "2000-01-01T00:00:00+00:00"
    )


def test_a_route_added_by_configuration_alone_is_routed(client: TestClient, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from orchestrator.reasoning.routes import load_routes

    routes = load_routes(container.current().settings).model_dump()
    routes["routes"].append(
        {
            "name": "travel",
            "description": "Booking flights, hotels and trips.",
            "examples": [
                "Book me a flight to Lisbon next Friday",
                "Find a hotel in Rome for two nights",
                "I need a train ticket from Paris to Berlin",
                "Reserve a rental car at the Denver airport",
                "Plan my trip itinerary for Tokyo",
                "Cancel my hotel reservation in Madrid",
            ],
            "keywords": ["flight", "hotel", "trip", "train ticket", "rental car"],
        }
    )
    path = tmp_path / "routes.json"
    path.write_text(json.dumps(routes))

    with reconfigured(ROUTES_CONFIG_PATH=str(path)):
        response = chat(client, "Book a hotel room in Vienna for three nights", "route-user")

    assert response.status_code == 200, response.text
    assert response.json()["intent"]["name"] == "travel"
    # The ASL's Choice has no branch for it: the default branch answers with the model.
    assert "llm_agent" in response.json()["usage"]
