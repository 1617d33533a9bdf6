"""Given Bedrock's ConverseStream events, stream_chat yields the text as it arrives, then the reply
with tool uses assembled from their JSON pieces, the stop reason and usage."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from orchestrator.clients.llm import ChatMessage
from orchestrator.clients.llm.base import ChatResult
from orchestrator.clients.llm.bedrock import BedrockClient
from orchestrator.clients.retrying import RetryPolicy
from orchestrator.errors import ModelUnavailableError
from tests.support import FakeClock

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
ASK = [ChatMessage(role="system", content="Be brief."), ChatMessage(role="user", content="Hi")]


class FakeRuntime:
    """The one ConverseStream call a test scripts: events, or errors before them."""

    def __init__(self, *replies: list[dict[str, Any]] | Exception) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []

    def converse_stream(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return {"stream": iter(reply)}


def client(runtime: FakeRuntime) -> BedrockClient:
    clock = FakeClock()
    return BedrockClient(
        default_model=MODEL,
        runtime_client=runtime,  # type: ignore[arg-type]
        retry_policy=RetryPolicy(max_retries=1, sleep=clock.sleep, clock=clock.now),
    )


def text(index: int, piece: str) -> dict[str, Any]:
    return {"contentBlockDelta": {"contentBlockIndex": index, "delta": {"text": piece}}}


def test_text_arrives_in_pieces_then_the_reply_with_stop_reason_and_usage() -> None:
    runtime = FakeRuntime(
        [
            {"messageStart": {"role": "assistant"}},
            text(0, "Bon"),
            text(0, "jour"),
            {"contentBlockStop": {"contentBlockIndex": 0}},
            {"messageStop": {"stopReason": "max_tokens"}},
            {"metadata": {"usage": {"inputTokens": 9, "outputTokens": 2}}},
        ]
    )

    *deltas, result = list(client(runtime).stream_chat(ASK, max_tokens=2))

    assert deltas == ["Bon", "jour"]
    assert isinstance(result, ChatResult)
    assert (result.text, result.finish_reason, result.model) == ("Bonjour", "max_tokens", MODEL)
    assert (result.usage.tokens_in, result.usage.tokens_out) == (9, 2)
    assert runtime.requests[0]["inferenceConfig"]["maxTokens"] == 2


def test_a_tool_use_is_assembled_from_its_input_pieces() -> None:
    runtime = FakeRuntime(
        [
            {
                "contentBlockStart": {
                    "contentBlockIndex": 0,
                    "start": {"toolUse": {"toolUseId": "t1", "name": "calc"}},
                }
            },
            {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"toolUse": {"input": '{"expr'}}}},
            {
                "contentBlockDelta": {
                    "contentBlockIndex": 0,
                    "delta": {"toolUse": {"input": 'ession": "6*7"}'}},
                }
            },
            {"messageStop": {"stopReason": "tool_use"}},
        ]
    )

    (result,) = list(client(runtime).stream_chat(ASK))

    assert isinstance(result, ChatResult) and result.finish_reason == "tool_use"
    assert [(c.id, c.name, c.arguments) for c in result.tool_calls] == [("t1", "calc", {"expression": "6*7"})]


def test_throttling_when_opening_is_retried_and_then_the_model_is_unavailable() -> None:
    throttled = ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "ConverseStream"
    )
    runtime = FakeRuntime(throttled, throttled)

    with pytest.raises(ModelUnavailableError):
        list(client(runtime).stream_chat(ASK))
    assert len(runtime.requests) == 2


def test_an_exception_event_mid_stream_is_a_model_error() -> None:
    runtime = FakeRuntime([text(0, "Hi"), {"modelStreamErrorException": {"message": "broke"}}])

    pieces = client(runtime).stream_chat(ASK)
    assert next(pieces) == "Hi"
    with pytest.raises(ModelUnavailableError, match="broke"):
        next(pieces)
