"""How an OpenAI request becomes a turn, which models it may name, and how the reply tells the truth."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.api.openai import catalog, reply
from orchestrator.api.openai.request import CompletionRequest, conversation_key, to_state
from orchestrator.api.openai.tasks import is_background_task
from orchestrator.config import Settings
from orchestrator.errors import ModelNotFoundError, PayloadTooLargeError, UnsupportedParameterError
from orchestrator.identity import Principal
from orchestrator.state import GraphState, Response, ToolCall

ROUTES = ["chat", "rag", "tool", "external_agent", "planning"]


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"llm_provider": "openai", "llm_default_model": "gpt-x", **overrides}
    return Settings(**values)


def principal() -> Principal:
    return Principal(tenant_id="acme", role="user", via="api_key", subject="key-1")


def turn(body: dict[str, Any], **overrides: Any) -> GraphState:
    config = settings(**overrides)
    request = CompletionRequest.model_validate(body)
    return to_state(request, catalog.resolve(request.model, config, ROUTES), config, principal(), "u1")


def test_system_prompt_history_and_followups_become_the_client_turn() -> None:
    # Given a conversation with a system prompt, an earlier exchange and a tool round after the prompt
    body = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi, I'm Ada."},
            {"role": "assistant", "content": "Hello Ada."},
            {"role": "user", "content": "Weather in Oslo?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "w", "arguments": '{"city": "Oslo"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        ]
    }

    # When it becomes a turn
    state = turn(body)

    # Then the last user message is the prompt and the rest is carried for the agent
    assert state.prompt == "Weather in Oslo?"
    assert state.client is not None and state.client.system == "Be brief."
    assert [(m.role, m.content) for m in state.client.history or []] == [
        ("user", "Hi, I'm Ada."),
        ("assistant", "Hello Ada."),
    ]
    assert [m.role for m in state.client.followups] == ["assistant", "tool"]
    assert state.client.followups[0].tool_calls[0].arguments == {"city": "Oslo"}
    assert state.session_id == conversation_key("acme", "u1", "Hi, I'm Ada.", "Be brief.")


def test_the_session_is_stable_across_turns_of_one_conversation() -> None:
    first = turn({"messages": [{"role": "user", "content": "Start"}]})
    second = turn(
        {
            "messages": [
                {"role": "user", "content": "Start"},
                {"role": "assistant", "content": "ok"},
                {"role": "user", "content": "Next"},
            ]
        }
    )
    other = turn({"messages": [{"role": "user", "content": "Another start"}]})

    assert first.session_id == second.session_id != other.session_id


def test_long_pasted_text_is_accepted_up_to_the_context_window() -> None:
    pasted = "word " * 5_000  # 25,000 characters: over MAX_PROMPT_CHARS, within 8,192 tokens

    state = turn({"messages": [{"role": "user", "content": pasted}]})

    assert len(state.prompt) > Settings().max_prompt_chars


def test_a_turn_over_the_context_window_is_refused() -> None:
    with pytest.raises(UnsupportedParameterError, match="context"):
        turn({"messages": [{"role": "user", "content": "x" * 40_000}]}, llm_context_tokens=4096)


def test_messages_over_the_byte_cap_are_refused() -> None:
    with pytest.raises(PayloadTooLargeError):
        turn({"messages": [{"role": "user", "content": "x" * 2_000}]}, openai_max_messages_bytes=1_000)


def test_n_above_one_and_tools_without_a_model_are_refused() -> None:
    with pytest.raises(UnsupportedParameterError, match="n:"):
        turn({"n": 2, "messages": [{"role": "user", "content": "hi"}]})
    tools = [{"type": "function", "function": {"name": "w", "parameters": {"type": "object"}}}]
    with pytest.raises(UnsupportedParameterError, match="offline"):
        turn({"tools": tools, "messages": [{"role": "user", "content": "hi"}]}, llm_provider="offline")


def test_max_tokens_is_bounded_by_settings() -> None:
    state = turn({"max_tokens": 100_000, "messages": [{"role": "user", "content": "hi"}]})

    assert state.client is not None and state.client.max_tokens == Settings().llm_max_output_tokens


def test_models_resolve_to_the_graph_a_route_or_a_provider_model() -> None:
    config = settings(llm_allowed_models=["gpt-y"])

    assert catalog.resolve("orchestrator", config, ROUTES).route is None
    assert catalog.resolve("orchestrator/rag", config, ROUTES).route == "rag"
    assert catalog.resolve("gpt-y", config, ROUTES).provider_model == "gpt-y"
    with pytest.raises(ModelNotFoundError):
        catalog.resolve("gpt-unknown", config, ROUTES)
    with pytest.raises(ModelNotFoundError):
        catalog.resolve("orchestrator/nope", config, ROUTES)
    assert catalog.model_ids(config, ROUTES)[:2] == ["orchestrator", "orchestrator/chat"]


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("### Task:\nGenerate a concise, 3-5 word title with an emoji summarizing the chat history.", True),
        ("### Task:\nGenerate 1-3 broad tags categorizing the main themes of the chat history", True),
        (
            "Please generate a concise, 5-word-or-less title for the conversation, using its same language",
            True,
        ),
        ("### Task:\nSuggest 3-5 relevant follow-up questions", True),
        ("What is a good title for my thesis about tides?", False),
        ("Summarise this document and suggest a title", False),
    ],
)
def test_background_tasks_are_recognised_by_their_prompts(prompt: str, expected: bool) -> None:
    assert is_background_task(prompt) is expected


def test_a_background_task_is_one_direct_uncached_call() -> None:
    state = turn({"messages": [{"role": "user", "content": "### Task:\nGenerate 1-3 broad tags"}]})

    assert state.client is not None
    assert state.client.background and state.client.direct and state.client.route == "chat"
    assert state.client.max_tokens == Settings().openai_task_max_tokens


def test_finish_reason_and_cache_extension_tell_the_truth() -> None:
    state = GraphState(user_id="u", prompt="p")
    state.response = Response(text="Once upon a", complete=False, finish_reason="length")
    assert reply.finish_reason(state) == "length"

    state.response = Response(text="", client_tool_calls=[ToolCall(id="c", name="w", arguments={"a": 1})])
    body = reply.completion(state, "orchestrator")
    assert body["choices"][0]["finish_reason"] == "tool_calls"
    assert body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == '{"a": 1}'

    state.response, state.cached = Response(text="cached answer"), "exact"
    body = reply.completion(state, "orchestrator")
    assert body["orchestrator"]["cached"] == "exact" and body["usage"]["total_tokens"] == 0
