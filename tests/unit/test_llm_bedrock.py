"""Bedrock provider through botocore's Stubber (moto does not implement Converse)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from orchestrator.clients.llm import ChatMessage, ToolSpec
from orchestrator.clients.llm.bedrock import BedrockClient
from orchestrator.clients.llm.converse import to_converse
from orchestrator.clients.retrying import RetryPolicy
from orchestrator.errors import ModelResponseError, ModelUnavailableError
from orchestrator.state import ToolCall
from tests.support import FakeClock

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
WEATHER = ToolSpec(
    name="get_weather",
    description="Current weather for a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def _reply(
    content: list[dict[str, Any]], stop: str = "end_turn", tokens: tuple[int, int] = (30, 7)
) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": {"inputTokens": tokens[0], "outputTokens": tokens[1], "totalTokens": sum(tokens)},
        "metrics": {"latencyMs": 12},
    }


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def session() -> boto3.Session:
    # One session for the module: its loader caches the service models, which keeps setup fast.
    return boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")


@pytest.fixture
def stubbed(clock: FakeClock, session: boto3.Session) -> Iterator[tuple[BedrockClient, Stubber, Stubber]]:
    runtime = session.client("bedrock-runtime")
    control = session.client("bedrock")
    policy = RetryPolicy(max_retries=2, sleep=clock.sleep, clock=clock.now)
    client = BedrockClient(
        default_model=MODEL,
        runtime_client=runtime,
        control_client=control,
        retry_policy=policy,
        fallback_model="amazon.nova-lite-v1:0",
        max_tokens=256,
        temperature=0.1,
    )
    with Stubber(runtime) as runtime_stub, Stubber(control) as control_stub:
        yield client, runtime_stub, control_stub
        runtime_stub.assert_no_pending_responses()


def test_text_reply_sends_system_messages_and_inference_config(stubbed: Any) -> None:
    client, runtime, _ = stubbed
    runtime.add_response(
        "converse",
        _reply([{"text": "Paris."}]),
        expected_params={
            "modelId": MODEL,
            "system": [{"text": "Be brief."}],
            "messages": [{"role": "user", "content": [{"text": "Capital of France?"}]}],
            "inferenceConfig": {"maxTokens": 256, "temperature": 0.1},
        },
    )
    result = client.chat(
        [
            ChatMessage(role="system", content="Be brief."),
            ChatMessage(role="user", content="Capital of France?"),
        ]
    )
    assert (result.text, result.model, result.provider) == ("Paris.", MODEL, "bedrock")
    assert (result.usage.tokens_in, result.usage.tokens_out) == (30, 7)
    assert result.finish_reason == "end_turn"


def test_tool_use_reply_becomes_tool_calls_and_tools_become_tool_specs(stubbed: Any) -> None:
    client, runtime, _ = stubbed
    runtime.add_response(
        "converse",
        _reply(
            [
                {"text": "Let me check."},
                {"toolUse": {"toolUseId": "tu-1", "name": "get_weather", "input": {"city": "Oslo"}}},
            ],
            stop="tool_use",
        ),
        expected_params={
            "modelId": MODEL,
            "messages": ANY,
            "inferenceConfig": ANY,
            "toolConfig": {
                "tools": [
                    {
                        "toolSpec": {
                            "name": "get_weather",
                            "description": "Current weather for a city",
                            "inputSchema": {"json": WEATHER.parameters},
                        }
                    }
                ]
            },
        },
    )
    result = client.chat([ChatMessage(role="user", content="Weather in Oslo?")], tools=[WEATHER])
    assert result.tool_calls == [ToolCall(id="tu-1", name="get_weather", arguments={"city": "Oslo"})]
    assert result.text == "Let me check."


def test_tool_turns_map_to_tool_use_and_tool_result_blocks() -> None:
    messages = [
        ChatMessage(role="user", content="Weather in Oslo and Rome?"),
        ChatMessage(
            role="assistant",
            tool_calls=[
                ToolCall(id="a", name="get_weather", arguments={"city": "Oslo"}),
                ToolCall(id="b", name="get_weather", arguments={"city": "Rome"}),
            ],
        ),
        ChatMessage(role="tool", tool_call_id="a", content='{"temp": 3}'),
        ChatMessage(role="tool", tool_call_id="b", content='{"temp": 18}'),
    ]
    _, with_tools = to_converse(messages, with_tools=True)
    assert [m["role"] for m in with_tools] == ["user", "assistant", "user"]
    assert with_tools[1]["content"][0] == {
        "toolUse": {"toolUseId": "a", "name": "get_weather", "input": {"city": "Oslo"}}
    }
    # Both results travel in one user turn, because Converse wants the roles to alternate.
    assert [b["toolResult"]["toolUseId"] for b in with_tools[2]["content"]] == ["a", "b"]

    _, without_tools = to_converse(messages, with_tools=False)
    flat = str(without_tools)
    assert "toolUse" not in flat and "toolResult" not in flat
    assert '{"temp": 18}' in flat


def test_throttling_is_retried_then_succeeds(stubbed: Any, clock: FakeClock) -> None:
    client, runtime, _ = stubbed
    runtime.add_client_error("converse", service_error_code="ThrottlingException", http_status_code=429)
    runtime.add_response("converse", _reply([{"text": "ok"}]))
    assert client.chat([ChatMessage(role="user", content="hi")]).text == "ok"
    assert len(clock.sleeps) == 1 and 0.0 <= clock.sleeps[0] <= 0.5  # full jitter below the base


def test_primary_down_falls_back_to_the_configured_model(stubbed: Any) -> None:
    client, runtime, _ = stubbed
    for _ in range(3):
        runtime.add_client_error(
            "converse", service_error_code="ServiceUnavailableException", http_status_code=503
        )
    runtime.add_response(
        "converse",
        _reply([{"text": "from nova"}]),
        expected_params={"modelId": "amazon.nova-lite-v1:0", "messages": ANY, "inferenceConfig": ANY},
    )
    result = client.chat([ChatMessage(role="user", content="hi")])
    assert (result.text, result.model) == ("from nova", "amazon.nova-lite-v1:0")


def test_everything_down_is_model_unavailable(stubbed: Any) -> None:
    client, runtime, _ = stubbed
    for _ in range(6):
        runtime.add_client_error("converse", service_error_code="ThrottlingException", http_status_code=429)
    with pytest.raises(ModelUnavailableError) as caught:
        client.chat([ChatMessage(role="user", content="hi")])
    assert "bedrock" in caught.value.message and MODEL in caught.value.message
    assert "ThrottlingException" in caught.value.message


def test_validation_errors_are_not_retried(stubbed: Any, clock: FakeClock) -> None:
    client, runtime, _ = stubbed
    runtime.add_client_error(
        "converse",
        service_error_code="ValidationException",
        service_message="bad model id",
        http_status_code=400,
    )
    with pytest.raises(ModelResponseError, match=r"ValidationException.*bad model id"):
        client.chat([ChatMessage(role="user", content="hi")])
    assert clock.sleeps == []


def test_response_format_becomes_an_instruction_and_fences_are_stripped(stubbed: Any) -> None:
    client, runtime, _ = stubbed
    runtime.add_response("converse", _reply([{"text": '```json\n{"intent": "chat"}\n```'}]))
    result = client.chat(
        [ChatMessage(role="user", content="classify")],
        response_format={"type": "object", "properties": {"intent": {"type": "string"}}},
    )
    assert result.text == '{"intent": "chat"}'


def test_list_models_filters_text_models(stubbed: Any) -> None:
    client, _, control = stubbed
    summaries = [
        {"modelArn": "arn:a", "modelId": MODEL, "providerName": "Anthropic", "outputModalities": ["TEXT"]},
        {
            "modelArn": "arn:b",
            "modelId": "stability.sd3",
            "providerName": "Stability",
            "outputModalities": ["IMAGE"],
        },
    ]
    control.add_response(
        "list_foundation_models", {"modelSummaries": summaries}, {"byOutputModality": "TEXT"}
    )
    models = client.list_models()
    assert [(m.id, m.owned_by) for m in models] == [(MODEL, "Anthropic")]


def test_a_required_tool_choice_becomes_converses_any() -> None:
    from orchestrator.clients.llm.base import ToolSpec
    from orchestrator.clients.llm.converse import converse_request

    tools = [ToolSpec(name="calculator", description="math", parameters={"type": "object", "properties": {}})]
    required = converse_request(
        [], tools=tools, response_format=None, max_tokens=10, temperature=0, tool_choice="required"
    )
    default = converse_request([], tools=tools, response_format=None, max_tokens=10, temperature=0)

    assert required["toolConfig"]["toolChoice"] == {"any": {}}
    assert "toolChoice" not in default["toolConfig"]
