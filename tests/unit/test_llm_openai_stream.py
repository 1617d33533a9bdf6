"""Given an OpenAI-compatible server that streams, stream_chat yields the text as it arrives and
then the whole reply: tool calls assembled from fragments, usage and finish_reason from the end."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from orchestrator.clients.llm import ChatMessage
from orchestrator.clients.llm.base import ChatResult
from orchestrator.clients.llm.openai import OpenAICompatibleClient
from orchestrator.clients.retrying import RetryPolicy
from orchestrator.errors import ModelResponseError, ModelUnavailableError
from tests.support import FakeClock

ASK = [ChatMessage(role="user", content="Say hello")]


def sse(*chunks: dict[str, Any], done: bool = True) -> bytes:
    lines = [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks]
    return ("".join(lines) + ("data: [DONE]\n\n" if done else "")).encode()


def delta(content: str | None = None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"content": content} if content is not None else {}
    return {"choices": [{"index": 0, "delta": {**body, **extra}, "finish_reason": finish}]}


def client_for(*replies: httpx.Response, seen: list[dict[str, Any]] | None = None) -> OpenAICompatibleClient:
    queue = list(replies)

    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(json.loads(request.content))
        return queue.pop(0)

    clock = FakeClock()
    return OpenAICompatibleClient(
        base_url="http://model.test/v1",
        default_model="m-1",
        api_key="sk-x",
        retry_policy=RetryPolicy(max_retries=1, budget_s=30.0, sleep=clock.sleep, clock=clock.now),
        http_client=httpx.Client(transport=httpx.MockTransport(handle)),
    )


def streamed(body: bytes) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)


def test_text_deltas_arrive_in_order_then_the_result_with_usage_and_finish_reason() -> None:
    seen: list[dict[str, Any]] = []
    body = sse(
        delta("Hel"),
        delta("lo"),
        delta(finish="length"),
        {"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 2}},
    )
    llm = client_for(streamed(body), seen=seen)

    *deltas, result = list(llm.stream_chat(ASK, max_tokens=2))

    assert deltas == ["Hel", "lo"]
    assert isinstance(result, ChatResult)
    assert (result.text, result.finish_reason, result.model) == ("Hello", "length", "m-1")
    assert (result.usage.tokens_in, result.usage.tokens_out) == (7, 2)
    assert seen[0]["stream"] is True and seen[0]["stream_options"] == {"include_usage": True}
    assert seen[0]["max_tokens"] == 2


def test_tool_calls_are_assembled_from_their_fragments() -> None:
    first = {"index": 0, "id": "call_1", "function": {"name": "calculator", "arguments": '{"expr'}}
    rest = {"index": 0, "function": {"arguments": 'ession": "6*7"}'}}
    llm = client_for(streamed(sse(delta(tool_calls=[first]), delta(tool_calls=[rest], finish="tool_calls"))))

    (result,) = list(llm.stream_chat(ASK))

    assert isinstance(result, ChatResult) and result.finish_reason == "tool_calls"
    assert [(c.id, c.name, c.arguments) for c in result.tool_calls] == [
        ("call_1", "calculator", {"expression": "6*7"})
    ]


def test_a_server_that_answers_json_is_read_as_one_delta() -> None:
    completion = {"choices": [{"message": {"content": "Hi."}, "finish_reason": "stop"}]}
    llm = client_for(httpx.Response(200, json=completion))

    pieces = list(llm.stream_chat(ASK))

    assert pieces[0] == "Hi." and isinstance(pieces[1], ChatResult) and pieces[1].text == "Hi."


def test_opening_is_retried_and_then_the_model_is_unavailable() -> None:
    llm = client_for(httpx.Response(503, json={"error": {"message": "busy"}}), httpx.Response(503))

    with pytest.raises(ModelUnavailableError):
        list(llm.stream_chat(ASK))


def test_an_error_event_mid_stream_is_a_model_error() -> None:
    llm = client_for(streamed(sse(delta("Hi"), {"error": {"message": "overloaded"}}, done=False)))

    pieces = llm.stream_chat(ASK)
    assert next(pieces) == "Hi"
    with pytest.raises(ModelResponseError, match="overloaded"):
        next(pieces)
