"""Given A2A agents on 127.0.0.1, when a chat needs one, then the turn goes through the committed
state machine's one external_agent branch to the agent that configuration names."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orchestrator.local.runtime import LocalRuntime
from tests.e2e.conftest import chat, reconfigured
from tests.support.a2a_agents import ANSWERS, A2AAgentServer


@pytest.fixture(scope="module")
def agents() -> Iterator[A2AAgentServer]:
    with A2AAgentServer() as server:
        yield server


def user() -> str:
    return f"a2a-{uuid.uuid4().hex[:8]}"


def test_an_analytics_question_is_answered_by_the_a2a_agent(
    client: TestClient, stack: LocalRuntime, agents: A2AAgentServer
) -> None:
    before = len(agents.methods)

    with reconfigured(EXTERNAL_AGENT_BASE_URL=agents.url("answer"), EXTERNAL_AGENT_PROTOCOL="a2a"):
        response = chat(client, "What was our customer churn rate last quarter, by cohort?", user())

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["intent"]["name"] == "external_agent"
    assert body["response"] == ANSWERS["churn"]
    assert agents.methods[before:] == ["message/send"]


def test_a_configured_agent_gets_its_own_questions(
    client: TestClient, stack: LocalRuntime, agents: A2AAgentServer, tmp_path: Path
) -> None:
    config = tmp_path / "agents.json"
    config.write_text(
        json.dumps(
            [
                {
                    "name": "billing",
                    "description": "Invoices, refunds, payment methods and charges on an account.",
                    "examples": [
                        "Why was I charged twice this month?",
                        "Refund my last invoice, please.",
                        "Has invoice INV-2001 been paid?",
                        "When is my next invoice due?",
                        "I was billed for a plan I cancelled.",
                        "Send me a copy of the March invoice.",
                    ],
                    "url": agents.url("answer"),
                    "protocol": "a2a",
                }
            ]
        ),
        encoding="utf-8",
    )
    before = len(agents.prompts)

    with reconfigured(EXTERNAL_AGENTS_CONFIG_PATH=str(config)):
        response = chat(client, "Is invoice INV-1042 paid yet?", user())

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["intent"]["name"], body["intent"].get("agent")) == ("external_agent", "billing")
    assert body["response"] == ANSWERS["invoice"]
    assert agents.prompts[before:] == ["Is invoice INV-1042 paid yet?"]
