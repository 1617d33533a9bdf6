"""Given the local stack, the tools endpoints list, register (in DynamoDB) and execute tools."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient


def test_builtins_are_listed(client: TestClient) -> None:
    names = {tool["name"] for tool in client.get("/v1/tools/list").json()["tools"]}

    assert {"calculator", "fetch_url", "run_python", "current_time"} <= names


def test_execute_runs_a_tool_and_reports_bad_arguments(client: TestClient) -> None:
    ok = client.post("/v1/tools/calculator/execute", json={"arguments": {"expression": "2 ** 10"}})
    bad = client.post("/v1/tools/calculator/execute", json={"arguments": {"nope": 1}})
    missing = client.post("/v1/tools/no_such_tool/execute", json={"arguments": {}})

    assert ok.status_code == 200 and ok.json()["ok"] is True
    assert "1024" in str(ok.json()["output"])
    assert bad.status_code == 200 and bad.json()["ok"] is False
    assert bad.json()["error"].startswith("tool_invalid_input")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "tool_not_found"


def test_registered_http_tool_is_stored_and_listed(client: TestClient) -> None:
    name = f"weather_{uuid.uuid4().hex[:6]}"
    definition = {
        "name": name,
        "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        "kind": "http",
        "http": {"url": "https://weather.example.com/v1/current", "method": "GET"},
    }

    created = client.post("/v1/tools/register", json=definition)
    listed = {tool["name"] for tool in client.get("/v1/tools/list").json()["tools"]}

    assert created.status_code == 201, created.text
    assert name in listed


def test_builtin_names_cannot_be_replaced_and_private_urls_are_refused(client: TestClient) -> None:
    base = {"description": "x", "parameters": {"type": "object", "properties": {}}, "kind": "http"}

    builtin = client.post(
        "/v1/tools/register", json={**base, "name": "calculator", "http": {"url": "https://example.com/"}}
    )
    metadata = client.post(
        "/v1/tools/register", json={**base, "name": "imds", "http": {"url": "http://169.254.169.254/latest/"}}
    )

    assert builtin.status_code == 409 and builtin.json()["error"]["code"] == "conflict"
    assert metadata.status_code == 422
    assert metadata.json()["error"]["code"] in {"blocked_address", "invalid_request", "tool_invalid_input"}
