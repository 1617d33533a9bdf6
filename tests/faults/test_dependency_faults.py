"""Given a node that raises, or an external agent or HTTP tool that is slow or down, when a turn
runs through the real ASL, then the answer comes back within the configured budget with a clear
error, and the turn is recorded by the Catch path."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orchestrator import container
from orchestrator.local.runtime import LocalRuntime
from tests.e2e.conftest import chat, reconfigured
from tests.support.fake_agent import FakeAgentServer

ANALYTICS = "What was our customer churn rate last quarter, by cohort?"


def user() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def agent(fake_agent: FakeAgentServer) -> Iterator[FakeAgentServer]:
    fake_agent.reset()
    yield fake_agent
    fake_agent.reset()


def assert_failed_turn_recorded(
    client: TestClient, response: Any, who: str, session_id: str, code: str
) -> None:
    body = response.json()
    assert body["error"]["code"] == code, body
    assert body["run_id"] and body["error"]["run_id"] == body["run_id"]
    assert "Traceback" not in response.text
    record = client.get(f"/v1/runs/{body['run_id']}").json()
    assert record["status"] == "FAILED" and record["errors"][-1]["code"] == code, record
    turns = container.current().conversations.recent("default", who, session_id, 5)
    assert len(turns) == 1 and turns[0].ok is False and code in turns[0].response


def test_a_node_raising_an_unexpected_exception_takes_the_catch_path(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestrator.reasoning.router import IntentRouter

    def broken(self: IntentRouter, *args: object, **kwargs: object) -> object:
        raise RuntimeError("internal detail: connection string postgres://admin:hunter2@db")

    monkeypatch.setattr(IntentRouter, "route", broken)
    who = user()

    response = chat(client, "Hi there! How are you doing this morning?", who, session_id="s-raise")

    assert response.status_code == 502, response.text
    assert "hunter2" not in response.text and "postgres" not in response.text
    assert "intent_router" in response.json()["error"]["message"]
    assert_failed_turn_recorded(client, response, who, "s-raise", "internal_error")


def test_a_slow_external_agent_ends_within_its_budget_with_a_clear_error(
    client: TestClient, agent: FakeAgentServer
) -> None:
    agent.hang_next(10, times=5)
    who = user()
    budget = {
        "EXTERNAL_AGENT_TIMEOUT_S": "1",
        "EXTERNAL_AGENT_MAX_RETRIES": "1",
        "EXTERNAL_AGENT_RETRY_BUDGET_S": "3",
    }

    with reconfigured(**budget):
        started = time.monotonic()
        response = chat(client, ANALYTICS, who, session_id="s-slow-agent")
        elapsed = time.monotonic() - started

    assert response.status_code == 503, response.text
    assert elapsed < 8, f"{elapsed:.1f} s for a 1 s timeout, one retry and a 3 s budget"
    assert_failed_turn_recorded(client, response, who, "s-slow-agent", "external_agent_unavailable")


def test_an_external_agent_that_is_down_fails_fast_with_a_clear_error(
    client: TestClient, closed_port: int
) -> None:
    who = user()

    with reconfigured(
        EXTERNAL_AGENT_BASE_URL=f"http://127.0.0.1:{closed_port}", EXTERNAL_AGENT_RETRY_BUDGET_S="3"
    ):
        started = time.monotonic()
        response = chat(client, ANALYTICS, who, session_id="s-agent-down")
        elapsed = time.monotonic() - started

    assert response.status_code == 503, response.text
    assert elapsed < 8
    assert_failed_turn_recorded(client, response, who, "s-agent-down", "external_agent_unavailable")


@contextmanager
def api_with(**env: str) -> Iterator[TestClient]:
    """An app built under ``env``: the routes read the settings the app was created with."""
    from orchestrator.api import create_app

    with reconfigured(**env), TestClient(create_app(), raise_server_exceptions=False) as api:
        yield api


def register_http_tool(client: TestClient, url: str) -> str:
    name = f"lookup_{uuid.uuid4().hex[:6]}"
    definition = {
        "name": name,
        "description": "Looks a customer up in the local CRM.",
        "parameters": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
        "kind": "http",
        "http": {"url": url, "method": "POST"},
    }
    created = client.post("/v1/tools/register", json=definition)
    assert created.status_code == 201, created.text
    return name


def test_a_slow_http_tool_times_out_within_the_tool_budget(
    client: TestClient, agent: FakeAgentServer
) -> None:
    agent.hang_next(10, path="/crm")

    host = agent.base_url.removeprefix("http://")
    with api_with(HTTP_TOOL_ALLOWED_HOSTS=host, TOOL_TIMEOUT_S="1") as api:
        name = register_http_tool(api, f"{agent.base_url}/crm")
        started = time.monotonic()
        response = api.post(f"/v1/tools/{name}/execute", json={"arguments": {"id": "c-1"}})
        elapsed = time.monotonic() - started

    assert response.status_code == 200, response.text
    result = response.json()
    assert result["ok"] is False and result["error"].startswith("tool_timeout"), result
    assert elapsed < 4, f"{elapsed:.1f} s for a 1 s tool timeout"


def test_an_http_tool_that_is_down_answers_with_a_clear_error(stack: LocalRuntime, closed_port: int) -> None:
    with api_with(HTTP_TOOL_ALLOWED_HOSTS=f"127.0.0.1:{closed_port}", TOOL_TIMEOUT_S="2") as api:
        name = register_http_tool(api, f"http://127.0.0.1:{closed_port}/crm")
        started = time.monotonic()
        response = api.post(f"/v1/tools/{name}/execute", json={"arguments": {"id": "c-1"}})
        elapsed = time.monotonic() - started

    assert response.status_code == 200, response.text
    result = response.json()
    assert result["ok"] is False, result
    assert result["error"].split(":")[0] in {"tool_unavailable", "tool_failed"}, result
    assert elapsed < 4
