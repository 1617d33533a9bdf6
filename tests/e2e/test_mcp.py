"""Given a real MCP server on 127.0.0.1 (built with the ``mcp`` SDK), its tools are registered,
listed, executed and offered to the model; and the orchestrator itself answers MCP clients at /mcp."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from tests.e2e.conftest import chat, reconfigured
from tests.support.fake_openai import FakeOpenAIServer, ScriptedReply, completion
from tests.support.mcp_servers import FAILURE_TEXT, McpToolServer, ServedApp, free_port

TOOL_TIMEOUT_S = 1.5
ADMIN_A = "acme-admin-0123456789abcdef"
ADMIN_B = "zeta-admin-0123456789abcdef"
KEYS = f"{ADMIN_A}:acme:admin,{ADMIN_B}:zeta:admin"


@pytest.fixture(scope="module")
def mcp_server() -> Iterator[McpToolServer]:
    with McpToolServer() as server:
        yield server


@pytest.fixture
def api(stack: Any, mcp_server: McpToolServer) -> Iterator[TestClient]:
    """The API with the test server's address allowed and a short tool timeout (auth off)."""
    from orchestrator.api import create_app

    with (
        reconfigured(HTTP_TOOL_ALLOWED_HOSTS="127.0.0.1", TOOL_TIMEOUT_S=str(TOOL_TIMEOUT_S)),
        TestClient(create_app(), raise_server_exceptions=False) as client,
    ):
        yield client


def register(client: TestClient, url: str, name: str | None = None, **headers: str) -> tuple[str, Any]:
    name = name or f"inv{uuid.uuid4().hex[:6]}"
    body = {"name": name, "kind": "mcp", "description": "The inventory service.", "mcp": {"url": url}}
    return name, client.post("/v1/tools/register", json=body, headers=headers)


def tools_by_name(client: TestClient, **headers: str) -> dict[str, Any]:
    response = client.get("/v1/tools/list", headers=headers)
    assert response.status_code == 200, response.text
    return {tool["name"]: tool for tool in response.json()["tools"]}


def execute(client: TestClient, name: str, arguments: dict[str, Any]) -> Any:
    return client.post(f"/v1/tools/{name}/execute", json={"arguments": arguments})


def test_a_registered_servers_tools_are_listed_with_their_schemas(
    api: TestClient, mcp_server: McpToolServer
) -> None:
    name, created = register(api, mcp_server.url)

    listed = tools_by_name(api)

    assert created.status_code == 201, created.text
    assert name not in listed  # the server is a source of tools, not a tool
    echo = listed[f"{name}__slow_echo"]
    assert echo["kind"] == "mcp" and echo["mcp"]["tool"] == "slow_echo"
    assert echo["parameters"]["required"] == ["text"] and "delay_s" in echo["parameters"]["properties"]
    assert f"{name}__always_fails" in listed


def test_execute_ok_slow_and_failing_tools(api: TestClient, mcp_server: McpToolServer) -> None:
    name, _ = register(api, mcp_server.url)

    ok = execute(api, f"{name}__slow_echo", {"text": "hello"})
    started = time.monotonic()
    slow = execute(api, f"{name}__slow_echo", {"text": "hello", "delay_s": 30})
    slow_s = time.monotonic() - started
    failing = execute(api, f"{name}__always_fails", {})
    bad = execute(api, f"{name}__slow_echo", {"delay_s": 1})
    unknown = execute(api, f"{name}__no_such_tool", {})

    assert ok.status_code == 200 and ok.json()["ok"] is True, ok.text
    assert "echo: hello" in str(ok.json()["output"])
    assert slow.status_code == 200 and slow.json()["ok"] is False
    assert slow.json()["error"].startswith("tool_timeout")
    assert slow_s < TOOL_TIMEOUT_S + 2.0
    assert failing.status_code == 200 and failing.json()["ok"] is False
    assert failing.json()["error"].startswith("tool_failed") and FAILURE_TEXT in failing.json()["error"]
    assert bad.json()["ok"] is False and bad.json()["error"].startswith("tool_invalid_input")
    assert unknown.status_code == 404


def test_a_server_that_is_down_is_a_clear_tool_error_and_listing_still_answers(api: TestClient) -> None:
    name, created = register(api, f"http://127.0.0.1:{free_port()}/mcp")

    started = time.monotonic()
    listed = tools_by_name(api)
    result = execute(api, f"{name}__slow_echo", {"text": "x"})

    assert created.status_code == 201
    assert "calculator" in listed and not any(n.startswith(f"{name}__") for n in listed)
    assert result.status_code == 200 and result.json()["ok"] is False
    assert result.json()["error"].startswith("tool_unavailable") and name in result.json()["error"]
    assert time.monotonic() - started < 10


def test_registration_is_guarded_like_http_tools(api: TestClient) -> None:
    _, metadata = register(api, "http://169.254.169.254/mcp")
    _, private = register(api, "http://10.1.2.3/mcp")
    _, doubled = register(api, "https://mcp.example.com/mcp", name="two__parts")
    secret = api.post(
        "/v1/tools/register",
        json={
            "name": "withsecret",
            "kind": "mcp",
            "description": "x",
            "mcp": {"url": "https://mcp.example.com/mcp"},
            "auth_secret_id": "orchestrator/llm-api-key",
        },
    )

    assert metadata.status_code == 422 and metadata.json()["error"]["code"] == "blocked_address"
    assert private.status_code == 422
    assert doubled.status_code == 422
    assert secret.status_code == 422 and "mcp.auth_secret_id" in secret.json()["error"]["message"]


@pytest.fixture
def two_tenants(stack: Any, mcp_server: McpToolServer) -> Iterator[TestClient]:
    from orchestrator.api import create_app

    with (
        reconfigured(AUTH_ENABLED="true", API_KEYS=KEYS, HTTP_TOOL_ALLOWED_HOSTS="127.0.0.1"),
        TestClient(create_app(), raise_server_exceptions=False) as client,
    ):
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_another_tenant_does_not_see_or_run_the_servers_tools(
    two_tenants: TestClient, mcp_server: McpToolServer
) -> None:
    name, created = register(two_tenants, mcp_server.url, **bearer(ADMIN_A))

    seen_by_a = tools_by_name(two_tenants, **bearer(ADMIN_A))
    seen_by_b = tools_by_name(two_tenants, **bearer(ADMIN_B))
    run_by_b = two_tenants.post(
        f"/v1/tools/{name}__slow_echo/execute", json={"arguments": {"text": "x"}}, headers=bearer(ADMIN_B)
    )

    assert created.status_code == 201, created.text
    assert f"{name}__slow_echo" in seen_by_a
    assert not any(n.startswith(name) for n in seen_by_b)
    assert run_by_b.status_code == 404


# --- The OpenAI-compatible model calls an MCP tool through /v1/chat ------------------------------


def test_the_model_calls_an_mcp_tool_and_answers_with_its_result(
    stack: Any, mcp_server: McpToolServer
) -> None:
    from orchestrator.api import create_app

    name = f"inv{uuid.uuid4().hex[:6]}"
    with (
        FakeOpenAIServer(models=["gpt-test"]) as model,
        reconfigured(
            LLM_PROVIDER="openai",
            LLM_BASE_URL=model.url,
            LLM_DEFAULT_MODEL="gpt-test",
            LLM_API_KEY="sk-e2e-secret",
            LLM_MAX_RETRIES="0",
            HTTP_TOOL_ALLOWED_HOSTS="127.0.0.1",
        ),
        TestClient(create_app(), raise_server_exceptions=False) as client,
    ):
        assert register(client, mcp_server.url, name=name)[1].status_code == 201
        model.reply_tool_calls([(f"{name}__slow_echo", {"text": "forty-two widgets"})])

        def answer_from_the_tool(path: str, body: dict[str, Any]) -> ScriptedReply | None:
            tool_messages = [m for m in body.get("messages", []) if m.get("role") == "tool"]
            said = tool_messages[-1]["content"] if tool_messages else "no tool result"
            return ScriptedReply(body=completion(body, text=f"The inventory says: {said}"))

        model.responder = answer_from_the_tool

        response = chat(client, "Hi! Could you tell me what a widget is, in a friendly way?", "mcp-user")

    assert response.status_code == 200, response.text
    body = response.json()
    assert [c["name"] for c in body["tool_calls"]] == [f"{name}__slow_echo"]
    assert body["tool_results"][0]["ok"] is True
    assert "echo: forty-two widgets" in body["response"]
    offered = {t["function"]["name"] for t in model.chat_requests[0].body.get("tools", [])}
    assert f"{name}__slow_echo" in offered


# --- MCP clients of the official SDK calling the orchestrator's /mcp -----------------------------


async def _session(url: str, key: str | None, work: Any) -> Any:
    import mcp
    from mcp.client.streamable_http import streamable_http_client

    headers = bearer(key) if key else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        mcp.Client(streamable_http_client(url, http_client=http)) as client,
    ):
        return await work(client)


def call_mcp(url: str, key: str | None, work: Any) -> Any:
    return asyncio.run(_session(url, key, work))


@pytest.fixture(scope="module")
def served(stack: Any) -> Iterator[ServedApp]:
    """The API served by uvicorn on 127.0.0.1, auth off (its /mcp accepts localhost hosts)."""
    from orchestrator.api import create_app

    with reconfigured(), ServedApp(create_app(), name="orchestrator-api") as server:
        yield server


def test_an_mcp_client_lists_the_tools_and_chats(served: ServedApp) -> None:
    url = f"{served.base_url}/mcp"

    async def work(client: Any) -> Any:
        listed = await client.list_tools()
        answer = await client.call_tool("chat", {"prompt": "Hello there, how are you?", "user_id": "mcp-a"})
        calculated = await client.call_tool("calculator", {"expression": "6 * 7"})
        return listed, answer, calculated

    listed, answer, calculated = call_mcp(url, None, work)

    names = {tool.name for tool in listed.tools}
    assert {"chat", "search_documents", "calculator"} <= names
    assert answer.is_error is False
    assert answer.structured_content["response"] and len(answer.structured_content["run_id"]) == 32
    assert calculated.is_error is False and calculated.structured_content["output"]["result"] == 42


def test_an_mcp_client_searches_the_callers_documents(served: ServedApp) -> None:
    user = f"mcp-docs-{uuid.uuid4().hex[:6]}"
    fact = "The Zephyr turbine's maintenance interval is 1700 operating hours."
    with httpx2.Client(base_url=served.base_url, timeout=30) as http:
        ingested = http.post("/v1/documents", json={"user_id": user, "title": "Turbine manual", "text": fact})
    assert ingested.status_code == 201, ingested.text

    query = "Zephyr maintenance interval"

    async def work(client: Any) -> Any:
        mine = await client.call_tool("search_documents", {"query": query, "user_id": user})
        theirs = await client.call_tool("search_documents", {"query": query, "user_id": "someone-else"})
        return mine, theirs

    mine, theirs = call_mcp(f"{served.base_url}/mcp", None, work)

    assert mine.is_error is False
    assert any("1700" in p["text"] for p in mine.structured_content["passages"])
    assert not any("1700" in p["text"] for p in theirs.structured_content["passages"])


def test_with_auth_on_mcp_needs_a_key_and_sees_the_keys_tenant(stack: Any, mcp_server: McpToolServer) -> None:
    from orchestrator.api import create_app

    with (
        reconfigured(AUTH_ENABLED="true", API_KEYS=KEYS, HTTP_TOOL_ALLOWED_HOSTS="127.0.0.1"),
        ServedApp(create_app(), name="orchestrator-api-auth") as server,
    ):
        url = f"{server.base_url}/mcp"
        name = f"inv{uuid.uuid4().hex[:6]}"
        body = {"name": name, "kind": "mcp", "description": "Inventory.", "mcp": {"url": mcp_server.url}}
        registered = httpx2.post(f"{server.base_url}/v1/tools/register", json=body, headers=bearer(ADMIN_A))
        refused = httpx2.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        wrong = httpx2.post(url, json={}, headers=bearer("not-a-key-0123456789abcdef"))

        async def names(client: Any) -> set[str]:
            return {tool.name for tool in (await client.list_tools()).tools}

        async def echo(client: Any) -> Any:
            return await client.call_tool(f"{name}__slow_echo", {"text": "via mcp"})

        seen_by_a = call_mcp(url, ADMIN_A, names)
        seen_by_b = call_mcp(url, ADMIN_B, names)
        echoed = call_mcp(url, ADMIN_A, echo)
        with pytest.raises(BaseException):  # noqa: B017 - the SDK raises a group around its HTTP error
            call_mcp(url, None, names)

    assert registered.status_code == 201, registered.text
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert wrong.status_code == 401
    assert f"{name}__slow_echo" in seen_by_a and not any(n.startswith(name) for n in seen_by_b)
    assert echoed.is_error is False and "echo: via mcp" in echoed.content[0].text
