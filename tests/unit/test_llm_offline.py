"""Offline stand-in, provider selection, cost accounting and the connection check."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.clients.llm import (
    ChatMessage,
    ChatResult,
    LLMClient,
    ModelInfo,
    TokenUsage,
    ToolSpec,
    build_llm_client,
    connection,
)
from orchestrator.clients.llm.offline import OFFLINE_MARKER, OfflineLLMClient
from orchestrator.clients.llm.openai import OpenAICompatibleClient
from orchestrator.clients.llm.pricing import cost_usd, estimate_tokens, price_call
from orchestrator.config import Settings
from orchestrator.errors import ConfigurationError, ModelUnavailableError
from orchestrator.state import ToolCall
from tests.support.fake_openai import FakeOpenAIServer

RAG_MESSAGE = """What is our refund window?

Context passages:
[policy-7] Refunds are accepted within 30 days of purchase. After that, store credit is offered. Always.
[faq-2] Shipping is free over 50 EUR.

Tool results:
- calculator (call_1): {"result": 4}

Plan step results:
- step s1 [llm_agent] Summarise the policy (ok)
  The policy allows refunds for 30 days."""


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_offline_reply_is_labelled_and_quotes_what_it_was_given() -> None:
    result = OfflineLLMClient().chat(
        [
            ChatMessage(role="system", content="Answer from context."),
            ChatMessage(role="user", content=RAG_MESSAGE),
        ]
    )
    assert result.text.startswith(OFFLINE_MARKER)
    assert 'You asked: "What is our refund window?"' in result.text
    # The sentence that answers, citing its passage; the other passage is shown but not cited.
    assert "> Refunds are accepted within 30 days of purchase. [policy-7]" in result.text
    assert "Always." not in result.text
    assert "- faq-2: Shipping is free over 50 EUR." in result.text
    assert "[faq-2]" not in result.text
    assert 'calculator (call_1): {"result": 4}' in result.text
    assert "The policy allows refunds for 30 days." in result.text
    assert result.tool_calls == []
    assert (result.provider, result.model) == ("offline", "offline-stand-in")


def test_offline_reads_passages_from_system_messages_but_not_from_the_question() -> None:
    result = OfflineLLMClient().chat(
        [
            ChatMessage(role="system", content="Use these:\n[kb-1] The office opens at 9. It closes at 5."),
            ChatMessage(role="user", content="[urgent] When does the office open?"),
        ]
    )
    assert "> The office opens at 9. [kb-1]" in result.text
    assert "- [urgent]" not in result.text
    assert 'You asked: "[urgent] When does the office open?"' in result.text


def test_offline_reply_is_deterministic_and_reads_tool_messages() -> None:
    messages = [
        ChatMessage(role="user", content="Weather?"),
        ChatMessage(role="assistant", tool_calls=[ToolCall(id="c1", name="get_weather", arguments={})]),
        ChatMessage(role="tool", tool_call_id="c1", content='{"ok": true, "output": "sunny"}'),
    ]
    client = OfflineLLMClient()
    first, second = client.chat(messages, tools=[ToolSpec(name="t", description="d")]), client.chat(messages)
    assert first.text == second.text
    assert 'get_weather: {"ok": true, "output": "sunny"}' in first.text
    assert first.tool_calls == []


def test_offline_says_when_it_was_given_nothing_and_estimates_usage() -> None:
    result = OfflineLLMClient().chat([ChatMessage(role="user", content="x" * 40)])
    assert "No context passages, tool results or step results" in result.text
    assert result.usage.tokens_in == 10
    assert result.usage.tokens_out == estimate_tokens(result.text) > 0
    assert cost_usd(result.model, result.usage, {}) == 0.0


def test_offline_identity() -> None:
    client = OfflineLLMClient()
    assert client.is_real_model is False
    assert [m.id for m in client.list_models()] == ["offline-stand-in"]


def test_build_llm_client_selects_the_configured_provider() -> None:
    offline = build_llm_client(_settings())
    assert isinstance(offline, OfflineLLMClient)
    openai = build_llm_client(
        _settings(llm_provider="openai", llm_default_model="m", llm_base_url="http://127.0.0.1:9/v1")
    )
    assert isinstance(openai, OpenAICompatibleClient)
    assert openai.base_url == "http://127.0.0.1:9/v1"


def test_a_real_provider_without_a_model_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="LLM_DEFAULT_MODEL"):
        build_llm_client(_settings(llm_provider="bedrock"))


def test_price_table_costs_calls_and_flags_unpriced_models() -> None:
    table = {
        "gpt-4o-mini": {"input_per_1k": 0.00015, "output_per_1k": 0.0006},
        "anthropic.claude-3-haiku-20240307-v1:0": {"input_per_1k": 0.00025, "output_per_1k": 0.00125},
    }
    usage = TokenUsage(tokens_in=2000, tokens_out=500)
    assert cost_usd("gpt-4o-mini", usage, table) == pytest.approx(0.0006)
    assert price_call("us.anthropic.claude-3-haiku-20240307-v1:0", usage, table).usd == pytest.approx(
        0.001125
    )
    assert price_call("openai/gpt-4o-mini", usage, table).priced is True
    unknown = price_call("mystery-model", usage, table)
    assert (unknown.usd, unknown.priced) == (0.0, False)
    assert price_call("mystery-model", usage, {"*": {"input_per_1k": 1.0}}).usd == pytest.approx(2.0)


def test_connection_check_reports_reply_and_latency() -> None:
    with FakeOpenAIServer(models=["m"]) as server:
        server.reply_text("pong")
        report = connection.test_connection(OpenAICompatibleClient(base_url=server.url, default_model="m"))
    assert report.ok is True
    assert (report.provider, report.model, report.reply) == ("openai", "m", "pong")
    assert report.latency_ms > 0
    assert report.error_code is None


class _Broken(LLMClient):
    provider = "broken"
    default_model = "nothing"

    def __init__(self, error: Exception) -> None:
        self.error = error

    def chat(self, messages: list[ChatMessage], **_: Any) -> ChatResult:  # type: ignore[override]
        raise self.error

    def list_models(self) -> list[ModelInfo]:
        return []


def test_connection_check_never_raises() -> None:
    down = connection.test_connection(_Broken(ModelUnavailableError("The openai model 'x' is unavailable")))
    assert (down.ok, down.error_code, down.provider, down.model) == (
        False,
        "model_unavailable",
        "broken",
        "nothing",
    )
    assert "unavailable" in (down.error or "")
    crashed = connection.test_connection(_Broken(RuntimeError("secret internals")))
    assert (crashed.ok, crashed.error_code) == (False, "unexpected_error")
    assert "secret internals" not in (crashed.error or "")
