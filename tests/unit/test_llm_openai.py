"""OpenAI-compatible provider against a real HTTP server on 127.0.0.1 (tests/support/fake_openai.py)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from orchestrator.clients.llm import ChatMessage, ToolSpec
from orchestrator.clients.llm.openai import OpenAICompatibleClient
from orchestrator.clients.retrying import RetryPolicy
from orchestrator.errors import ModelResponseError, ModelUnavailableError
from tests.support import FakeClock
from tests.support.fake_openai import FakeOpenAIServer

KEY = "sk-test-0123456789abcdef"
CALCULATOR = ToolSpec(
    name="calculator",
    description="Evaluate an arithmetic expression",
    parameters={
        "type": "object",
        "properties": {"expression": {"type": "string"}},
        "required": ["expression"],
    },
)


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(models=["fake-model", "fake-fallback"], api_key=KEY) as running:
        yield running


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _client(
    server: FakeOpenAIServer,
    clock: FakeClock,
    *,
    max_retries: int = 3,
    read_timeout_s: float = 5.0,
    fallback_model: str | None = None,
) -> OpenAICompatibleClient:
    policy = RetryPolicy(max_retries=max_retries, budget_s=30.0, sleep=clock.sleep, clock=clock.now)
    return OpenAICompatibleClient(
        base_url=server.url,
        default_model="fake-model",
        api_key=KEY,
        retry_policy=policy,
        read_timeout_s=read_timeout_s,
        fallback_model=fallback_model,
    )


def _ask(text: str = "What is 2+2?") -> list[ChatMessage]:
    return [ChatMessage(role="system", content="Be brief."), ChatMessage(role="user", content=text)]


def test_text_reply_with_usage_and_the_request_in_wire_format(
    server: FakeOpenAIServer, clock: FakeClock
) -> None:
    server.reply_text("Four.", usage=(21, 3))
    result = _client(server, clock).chat(_ask(), tools=[CALCULATOR], response_format={"type": "object"})

    assert (result.text, result.model, result.provider) == ("Four.", "fake-model", "openai")
    assert (result.usage.tokens_in, result.usage.tokens_out) == (21, 3)
    assert result.finish_reason == "stop"
    request = server.chat_requests[0]
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.body["model"] == "fake-model"
    assert request.body["messages"][1] == {"role": "user", "content": "What is 2+2?"}
    assert request.body["tools"][0]["function"]["name"] == "calculator"
    assert request.body["tools"][0]["function"]["parameters"]["required"] == ["expression"]
    assert request.body["response_format"]["type"] == "json_schema"
    assert request.body["response_format"]["json_schema"]["schema"] == {"type": "object"}


def test_tool_calls_are_parsed_into_dicts(server: FakeOpenAIServer, clock: FakeClock) -> None:
    server.reply_tool_calls([("calculator", {"expression": "2+2"}), ("calculator", {"expression": "3*3"})])
    result = _client(server, clock).chat(_ask(), tools=[CALCULATOR])
    assert [c.arguments for c in result.tool_calls] == [{"expression": "2+2"}, {"expression": "3*3"}]
    assert result.tool_calls[0].id != result.tool_calls[1].id
    assert result.finish_reason == "tool_calls"


def test_tool_messages_round_trip_in_wire_format(server: FakeOpenAIServer, clock: FakeClock) -> None:
    server.reply_tool_calls([("calculator", {"expression": "2+2"})])
    client = _client(server, clock)
    first = client.chat(_ask(), tools=[CALCULATOR])
    history = [
        *_ask(),
        ChatMessage(role="assistant", tool_calls=first.tool_calls),
        ChatMessage(role="tool", tool_call_id=first.tool_calls[0].id, content='{"ok": true, "output": 4}'),
    ]
    client.chat(history, tools=[CALCULATOR])
    sent = server.chat_requests[1].body["messages"]
    assert sent[2]["tool_calls"][0]["function"] == {
        "name": "calculator",
        "arguments": '{"expression": "2+2"}',
    }
    assert sent[2]["content"] is None
    assert sent[3] == {
        "role": "tool",
        "tool_call_id": first.tool_calls[0].id,
        "content": '{"ok": true, "output": 4}',
    }


def test_tool_arguments_that_are_not_json_are_a_model_error(
    server: FakeOpenAIServer, clock: FakeClock
) -> None:
    server.reply_tool_calls([("calculator", {})], raw_arguments='{"expression": "2+')
    with pytest.raises(ModelResponseError, match="not valid JSON"):
        _client(server, clock).chat(_ask(), tools=[CALCULATOR])
    assert len(server.chat_requests) == 1


def test_429_honours_retry_after_then_succeeds(server: FakeOpenAIServer, clock: FakeClock) -> None:
    server.reply_rate_limited(retry_after="3")
    server.reply_text("ok")
    result = _client(server, clock).chat(_ask())
    assert result.text == "ok"
    assert clock.sleeps == [3.0]
    assert len(server.chat_requests) == 2


def test_500_burst_is_retried_with_jittered_backoff(server: FakeOpenAIServer, clock: FakeClock) -> None:
    server.reply_server_errors(3)
    server.reply_text("recovered")
    assert _client(server, clock).chat(_ask()).text == "recovered"
    assert len(server.chat_requests) == 4
    assert len(clock.sleeps) == 3
    for n, wait in enumerate(clock.sleeps):  # full jitter: uniform in [0, min(8, 0.5 × 2**n)]
        assert 0.0 <= wait <= 0.5 * 2**n


def test_model_that_stays_down_raises_unavailable_without_the_key(
    server: FakeOpenAIServer, clock: FakeClock
) -> None:
    server.reply_server_errors(10, status=503)
    with pytest.raises(ModelUnavailableError) as caught:
        _client(server, clock, max_retries=2).chat(_ask())
    assert len(server.chat_requests) == 3
    assert caught.value.status_code == 503
    assert "openai" in caught.value.message and "fake-model" in caught.value.message
    assert "HTTP 503" in caught.value.message
    assert KEY not in caught.value.message


def test_other_4xx_fail_at_once(server: FakeOpenAIServer, clock: FakeClock) -> None:
    server.reply_error(400, message="max_tokens is too large")
    with pytest.raises(ModelResponseError, match=r"HTTP 400.*max_tokens is too large") as caught:
        _client(server, clock).chat(_ask())
    assert caught.value.status_code == 502
    assert len(server.chat_requests) == 1
    assert clock.sleeps == []


def test_wrong_key_is_reported_without_echoing_it(server: FakeOpenAIServer, clock: FakeClock) -> None:
    client = OpenAICompatibleClient(
        base_url=server.url, default_model="fake-model", api_key="sk-wrong-key-123"
    )
    with pytest.raises(ModelResponseError) as caught:
        client.chat(_ask())
    assert "HTTP 401" in caught.value.message and "LLM_API_KEY" in caught.value.message
    assert "sk-wrong-key-123" not in caught.value.message


def test_slow_reply_beyond_the_read_timeout_is_retried(server: FakeOpenAIServer, clock: FakeClock) -> None:
    server.reply_slow(1.0)
    server.reply_text("fast enough")
    result = _client(server, clock, read_timeout_s=0.15).chat(_ask())
    assert result.text == "fast enough"
    assert len(server.chat_requests) == 2


def test_malformed_json_body_is_a_model_error(server: FakeOpenAIServer, clock: FakeClock) -> None:
    server.reply_malformed()
    with pytest.raises(ModelResponseError, match="not JSON"):
        _client(server, clock).chat(_ask())


def test_fallback_model_answers_and_says_so(server: FakeOpenAIServer, clock: FakeClock) -> None:
    server.reply_server_errors(2, status=502)
    result = _client(server, clock, max_retries=1, fallback_model="fake-fallback").chat(_ask())
    assert result.model == "fake-fallback"
    assert [r.body["model"] for r in server.chat_requests] == ["fake-model", "fake-model", "fake-fallback"]


def test_connection_refused_is_retried_then_unavailable(clock: FakeClock) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    policy = RetryPolicy(max_retries=2, sleep=clock.sleep, clock=clock.now)
    client = OpenAICompatibleClient(
        base_url=f"http://127.0.0.1:{port}/v1", default_model="m", retry_policy=policy
    )
    with pytest.raises(ModelUnavailableError, match="connection failed"):
        client.chat(_ask())
    assert len(clock.sleeps) == 2


def test_list_models_reads_the_models_endpoint(server: FakeOpenAIServer, clock: FakeClock) -> None:
    models = _client(server, clock).list_models()
    assert [m.id for m in models] == ["fake-model", "fake-fallback"]
    assert {m.provider for m in models} == {"openai"}
    assert server.requests_to("/models")[0].method == "GET"


def test_missing_usage_is_estimated(server: FakeOpenAIServer, clock: FakeClock) -> None:
    server.reply_text("abcdefgh", usage=None)
    result = _client(server, clock).chat([ChatMessage(role="user", content="x" * 40)])
    assert (result.usage.tokens_in, result.usage.tokens_out) == (10, 2)


def test_a_slow_model_ends_as_model_unavailable_by_the_callers_deadline(server: FakeOpenAIServer) -> None:
    # Given a model slower than the time the caller has left, and a read timeout that would wait for it
    server.reply_slow(3.0)
    client = OpenAICompatibleClient(
        base_url=server.url, default_model="fake-model", api_key=KEY, read_timeout_s=10.0
    )
    started = time.monotonic()

    # When the caller has 1 s left
    with pytest.raises(ModelUnavailableError, match="timed out") as caught:
        client.chat(_ask(), deadline=started + 1.0)

    # Then the call ends with the typed error by then, not with the caller's own timeout
    assert 0.9 <= time.monotonic() - started < 1.5
    assert caught.value.details["attempts"] == 1
    assert KEY not in caught.value.message


def test_without_a_deadline_the_retry_budget_caps_the_read_timeout(server: FakeOpenAIServer) -> None:
    server.reply_slow(3.0)
    policy = RetryPolicy(max_retries=3, budget_s=1.0)
    client = OpenAICompatibleClient(
        base_url=server.url, default_model="fake-model", api_key=KEY, read_timeout_s=10.0, retry_policy=policy
    )
    started = time.monotonic()

    with pytest.raises(ModelUnavailableError, match="timed out"):
        client.chat(_ask())

    assert time.monotonic() - started < 1.5  # the 1 s budget, not the 10 s read timeout
