"""Given a hostile client, bad bodies end as 413 or 422 with the JSON error body, never a 5xx.

Each test sends what an attacker would, as raw bytes where the JSON matters (a ``\\ud800`` escape
cannot be produced by ``json=`` from a Python string), against the real local stack.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from orchestrator.api.limits import BYTES_PER_CHAR, RequestBodyGuard, documents_body_limit
from orchestrator.clients.llm.allowlist import chosen_model
from orchestrator.config import Settings
from orchestrator.errors import ValidationError
from orchestrator.state import GraphState

JSON = {"content-type": "application/json"}
LONE = "\\ud800"  # as it travels in the JSON text: backslash, u, d, 8, 0, 0
PAIR = "\\ud83d\\ude00"  # 😀 as a valid surrogate pair

#: One raw body per POST route, with ``{s}`` where a hostile string goes.
ROUTES = {
    "/v1/chat": '{{"prompt": "{s}", "user_id": "u1"}}',
    "/v1/runs": '{{"prompt": "{s}", "user_id": "u1"}}',
    "/v1/chat/completions": '{{"messages": [{{"role": "user", "content": "{s}"}}]}}',
    "/v1/documents": '{{"user_id": "u1", "title": "t", "text": "{s}"}}',
    "/v1/tools/register": '{{"name": "t", "description": "{s}"}}',
    "/v1/tools/calculator/execute": '{{"arguments": {{"expression": "{s}"}}}}',
    "/v1/memory/clear": '{{"user_id": "u1", "session_id": "{s}"}}',
    "/v1/llm/test-connection": '{{"prompt": "{s}"}}',
}


def post_raw(client: TestClient, path: str, body: bytes | str, headers: dict[str, str] | None = None) -> Any:
    content = body.encode() if isinstance(body, str) else body
    return client.post(path, content=content, headers=JSON if headers is None else headers)


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


@pytest.mark.parametrize("path", sorted(ROUTES))
def test_a_lone_surrogate_is_422_on_every_route(client: TestClient, path: str) -> None:
    response = post_raw(client, path, ROUTES[path].format(s=f"a{LONE}b"))

    error = assert_error(response, 422, "invalid_request")
    assert "surrogate" in error["message"]
    assert error["details"][0]["field"] != "body"  # the field is named, not just "the body"


def test_the_field_with_the_lone_surrogate_is_named(client: TestClient) -> None:
    response = post_raw(
        client, "/v1/chat", '{"prompt": "hi", "user_id": "u1", "metadata": {"tags": ["ok", "\\udfff"]}}'
    )

    error = assert_error(response, 422, "invalid_request")
    assert error["details"] == [{"field": "metadata.tags.1", "problem": "contains a lone UTF-16 surrogate"}]


def test_a_lone_surrogate_in_a_field_name_is_422_and_the_error_is_valid_json(client: TestClient) -> None:
    response = post_raw(client, "/v1/chat", '{"prompt": "hi", "user_id": "u1", "metadata": {"\\ud800": 1}}')

    error = assert_error(response, 422, "invalid_request")
    assert error["details"][0]["field"] == "metadata.\\ud800"


@pytest.mark.parametrize("path", ["/v1/chat", "/v1/documents"])
def test_a_valid_surrogate_pair_still_works(client: TestClient, path: str) -> None:
    response = post_raw(client, path, ROUTES[path].format(s=f"smile {PAIR} please"))

    assert response.status_code in (200, 201), response.text


def test_documents_keep_a_valid_surrogate_pair_as_one_character(client: TestClient) -> None:
    body = '{"user_id": "u-pair", "title": "emoji", "text": "' + PAIR + ' grin"}'

    response = post_raw(client, "/v1/documents", body)

    assert response.status_code == 201, response.text
    assert response.json()["chunks"] == 1


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"prompt": "\xff\xfe", "user_id": "u1"}', "UTF-8"),
        (b'{"prompt": "\xed\xa0\x80", "user_id": "u1"}', "UTF-8"),  # a surrogate encoded as UTF-8
        ('{"prompt": "hi", "user_id": "u1"}'.encode("utf-16"), "UTF-8"),
        (b'{"prompt": "hi", "user_id": "u1", "metadata": {"n": ' + b"9" * 5000 + b"}}", "number"),
        (b'{"prompt": "hi", "user_id": "u1", "metadata": {"n": ' + b"9" * 50 + b"}}", "38 digits"),
        (b'{"prompt": "hi", "user_id": "u1", "metadata": {"n": 1e999}}', "1e126"),
        (b'{"prompt": "hi", "user_id": "u1", "metadata": {"n": 1e-320}}', "1e-130"),
        (b'{"prompt": "hi", "user_id": "u1", "metadata": {"n": NaN}}', "NaN"),
        (b'{"prompt": "hi", "user_id": "u1", "metadata": {"n": -Infinity}}', "Infinity"),
        (b'{"prompt": "hi", "user_id": "u1", "metadata": ' + b"[" * 30_000 + b"]" * 30_000 + b"}", "nested"),
        (
            b'{"prompt": "hi", "user_id": "u1", "metadata": ' + b'{"a": ' * 25 + b"1" + b"}" * 25 + b"}",
            "nested",
        ),
        (b'{"prompt": "hi", "user_id": "u1"', "JSON"),
        (b"", "Field required"),
    ],
    ids=[
        "invalid-utf8",
        "utf8-encoded-surrogate",
        "utf16",
        "5000-digit-int",
        "50-digit-int",
        "infinite-float",
        "subnormal-float",
        "nan",
        "infinity",
        "30k-deep-array",
        "25-deep-object",
        "truncated",
        "empty",
    ],
)
def test_malformed_json_is_422_not_400_or_500(client: TestClient, body: bytes, problem: str) -> None:
    response = post_raw(client, "/v1/chat", body)

    error = assert_error(response, 422, "invalid_request")
    assert problem in error["message"]


@pytest.mark.parametrize(
    "headers",
    [
        {"content-type": "text/plain"},
        {"content-type": "application/x-www-form-urlencoded"},
        {"content-type": "multipart/form-data; boundary=x"},
        {"content-type": "application/json; charset=latin-1"},
        {},
    ],
)
def test_a_wrong_content_type_is_422_with_the_json_error_body(
    client: TestClient, headers: dict[str, str]
) -> None:
    body = '{"prompt": "caf\xe9", "user_id": "u1"}'.encode("latin-1")

    response = post_raw(client, "/v1/chat", body, headers)

    assert_error(response, 422, "invalid_request")


def test_openai_compat_session_id_in_metadata_is_checked(client: TestClient) -> None:
    body = {"messages": [{"role": "user", "content": "hi"}], "metadata": {"session_id": "../../etc"}}

    response = client.post("/v1/chat/completions", json=body)

    error = assert_error(response, 422, "invalid_request")
    assert "metadata.session_id" in error["message"]


# --- Body caps --------------------------------------------------------------------------------


def test_a_chunked_body_is_cut_off_at_the_cap_without_reading_it_all(client: TestClient) -> None:
    chunk = b"a" * 65_536
    total_chunks = 800  # 52 MB
    yielded = 0

    async def hostile_body() -> AsyncIterator[bytes]:
        nonlocal yielded
        yield b'{"prompt": "'
        for _ in range(total_chunks):
            yielded += 1
            yield chunk

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await http.post("/v1/chat", content=hostile_body(), headers=JSON)

    response = asyncio.run(send())

    assert "content-length" not in {k.lower() for k in response.request.headers}
    error = assert_error(response, 413, "payload_too_large")
    assert str(_cap(client)) in error["message"]
    assert yielded <= _cap(client) // len(chunk) + 2, f"the server read {yielded} of {total_chunks} chunks"


def test_a_chunked_body_under_the_cap_reaches_the_route_intact(client: TestClient) -> None:
    text = "chunked documents arrive whole. " * 100

    async def body() -> AsyncIterator[bytes]:
        encoded = json.dumps({"user_id": "u-chunked", "title": "chunked", "text": text}).encode()
        for start in range(0, len(encoded), 100):
            yield encoded[start : start + 100]

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await http.post("/v1/documents", content=body(), headers=JSON)

    response = asyncio.run(send())

    assert response.status_code == 201, response.text


def test_a_declared_length_over_the_cap_is_refused_before_reading(client: TestClient) -> None:
    response = post_raw(client, "/v1/chat", b"x" * (_cap(client) + 1))

    assert_error(response, 413, "payload_too_large")


def test_a_document_at_the_character_limit_fits_its_own_cap() -> None:
    settings = Settings(documents_max_chars=5_000)
    # Every character as a \\uXXXX escape: what json.dumps (ensure_ascii) sends for accented text.
    body = json.dumps({"user_id": "u1", "title": "t" * 300, "text": "é" * 5_000, "source": "s" * 2000})
    assert len(body) > 5_000 * BYTES_PER_CHAR

    status, seen = asyncio.run(_through_guard(settings, "/v1/documents", body.encode()))

    assert status == 200
    assert seen == body.encode()


def test_other_routes_keep_the_smaller_cap() -> None:
    settings = Settings(documents_max_chars=5_000, max_prompt_chars=100, max_metadata_bytes=100)
    body = json.dumps({"prompt": "é" * 5_000, "user_id": "u1"}).encode()

    status, seen = asyncio.run(_through_guard(settings, "/v1/chat", body))

    assert status == 413
    assert seen is None
    assert documents_body_limit(settings) > len(body)


def _cap(client: TestClient) -> int:
    from orchestrator.api.app import _body_limit

    return _body_limit(client.app.state.settings)


async def _through_guard(settings: Settings, path: str, body: bytes) -> tuple[int, bytes | None]:
    """Send ``body`` in 1 KiB chunks through the guard alone; return the status and what the app saw."""
    from orchestrator.api.app import _body_limit

    seen: list[bytes] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        seen.append(message["body"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    guard = RequestBodyGuard(
        app,
        max_bytes=_body_limit(settings),
        documents_max_bytes=documents_body_limit(settings),
        max_json_depth=settings.max_json_depth,
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=guard), base_url="http://test") as http:

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(body), 1024):
                yield body[start : start + 1024]

        response = await http.post(path, content=chunks(), headers=JSON)
    return response.status_code, (seen[0] if seen else None)


# --- metadata.model ---------------------------------------------------------------------------


def test_an_unconfigured_model_is_422_naming_the_field(client: TestClient) -> None:
    body = {"prompt": "hi", "user_id": "u1", "metadata": {"model": "gpt-4-32k-most-expensive"}}

    for path in ("/v1/chat", "/v1/runs"):
        response = client.post(path, json=body)

        error = assert_error(response, 422, "invalid_request")
        assert error["details"]["field"] == "metadata.model"


def test_a_model_that_is_not_a_string_is_422(client: TestClient) -> None:
    response = client.post("/v1/chat", json={"prompt": "hi", "user_id": "u1", "metadata": {"model": ["a"]}})

    error = assert_error(response, 422, "invalid_request")
    assert error["details"]["field"] == "metadata.model"


def test_openai_compat_metadata_model_meets_the_same_allowlist(client: TestClient) -> None:
    body = {"messages": [{"role": "user", "content": "hi"}], "metadata": {"model": "o1-pro"}}

    response = client.post("/v1/chat/completions", json=body)

    error = assert_error(response, 422, "invalid_request")
    assert "metadata.model" in error["message"]


def test_a_connection_test_cannot_pick_an_expensive_model_either(client: TestClient) -> None:
    response = client.post("/v1/llm/test-connection", json={"model": "o1-pro", "prompt": "hi"})

    assert_error(response, 422, "invalid_request")


def test_the_default_model_and_listed_models_may_be_chosen() -> None:
    settings = Settings(
        llm_default_model="small", llm_fallback_model="backup", llm_allowed_models="big, huge"
    )

    chosen = [chosen_model({"model": m}, settings) for m in ("small", "backup", "big", "huge")]

    assert chosen == ["small", "backup", "big", "huge"]
    assert chosen_model({}, settings) is None
    with pytest.raises(ValidationError):
        chosen_model({"model": "giant"}, settings)


def test_the_allowlist_setting_reads_json_too() -> None:
    assert Settings(llm_allowed_models='["a", "b"]').llm_allowed_models == ["a", "b"]


def test_the_node_refuses_an_unconfigured_model_even_without_the_api() -> None:
    # A run started by EventBridge never meets the API: the node must refuse by itself.
    from orchestrator.nodes.llm_agent import AgentDeps, node
    from orchestrator.tools.registry import ToolRegistry
    from tests.support.fakes import FakeConversations, deadline_in
    from tests.support.scripted_llm import ScriptedLLM

    llm = ScriptedLLM(["an answer nobody should pay for"])
    deps = AgentDeps(
        llm=llm,
        conversations=FakeConversations(),  # type: ignore[arg-type]
        tools=ToolRegistry(),
        settings=Settings(_env_file=None, llm_allowed_models=["cheap"]),  # type: ignore[call-arg]
    )
    state = GraphState(user_id="u1", prompt="hi", metadata={"model": "gpt-4-32k-most-expensive"})

    with pytest.raises(ValidationError) as refused:
        node.run({"action": "answer", "state": state.model_dump(mode="json")}, deps, deadline=deadline_in())

    assert "metadata.model" in refused.value.message
    assert llm.calls == []
