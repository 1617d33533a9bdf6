"""The LLM agent's tool-calling loop and history assembly."""

from __future__ import annotations

import json
from typing import Any

from orchestrator.agent import build_messages, run_agent
from orchestrator.agent.loop import FINAL_ANSWER_NUDGE
from orchestrator.clients.llm import ChatMessage, ChatResult, TokenUsage, ToolSpec
from orchestrator.clients.llm.openai import OpenAICompatibleClient
from orchestrator.errors import ToolTimeoutError
from orchestrator.state import ToolCall, ToolResult
from tests.support.fake_openai import FakeOpenAIServer
from tests.support.scripted_llm import ScriptedLLM

ADD = ToolSpec(
    name="add",
    description="Add two numbers",
    parameters={"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}},
)


def _calls(*pairs: tuple[str, dict[str, Any]]) -> ChatResult:
    calls = [ToolCall(id=f"c{i}-{name}", name=name, arguments=args) for i, (name, args) in enumerate(pairs)]
    return ChatResult(
        tool_calls=calls, model="m", provider="scripted", usage=TokenUsage(tokens_in=10, tokens_out=2)
    )


def _text(text: str) -> ChatResult:
    return ChatResult(text=text, model="m", provider="scripted", usage=TokenUsage(tokens_in=20, tokens_out=4))


def add(call: ToolCall) -> ToolResult:
    return ToolResult(
        call_id=call.id, name=call.name, ok=True, output=call.arguments["a"] + call.arguments["b"]
    )


def test_two_tool_rounds_then_an_answer() -> None:
    model = ScriptedLLM(
        [_calls(("add", {"a": 1, "b": 2})), _calls(("add", {"a": 3, "b": 4})), _text("3 and 7")]
    )
    outcome = run_agent(
        model, [ChatMessage(role="user", content="sums?")], tools=[ADD], execute_tool=add, max_rounds=4
    )

    assert outcome.text == "3 and 7"
    assert outcome.rounds == 2
    assert len(outcome.calls) == 3
    assert [r.output for r in outcome.tool_results] == [3, 7]
    assert [c.arguments for c in outcome.tool_calls] == [{"a": 1, "b": 2}, {"a": 3, "b": 4}]
    last_messages, last_tools = model.calls[-1]["messages"], model.calls[-1]["tools"]
    assert last_tools == [ADD]  # still offered: the model chose to answer
    assert [m.role for m in last_messages] == ["user", "assistant", "tool", "assistant", "tool"]
    assert json.loads(last_messages[2].content) == {"ok": True, "output": 3}
    assert last_messages[2].tool_call_id == last_messages[1].tool_calls[0].id


def test_max_rounds_caps_the_loop_and_forces_an_answer_without_tools() -> None:
    model = ScriptedLLM([_calls(("add", {"a": 1, "b": 1})), _calls(("add", {"a": 2, "b": 2})), _text("done")])
    outcome = run_agent(
        model, [ChatMessage(role="user", content="loop")], tools=[ADD], execute_tool=add, max_rounds=2
    )

    assert (outcome.text, outcome.rounds, len(outcome.calls)) == ("done", 2, 3)
    final_messages, final_tools = model.calls[-1]["messages"], model.calls[-1]["tools"]
    assert final_tools is None
    assert final_messages[-1] == ChatMessage(role="user", content=FINAL_ANSWER_NUDGE)


def test_zero_rounds_or_no_tools_is_a_single_plain_call() -> None:
    for tools, rounds in (([ADD], 0), ([], 3)):
        model = ScriptedLLM([_text("plain")])
        outcome = run_agent(
            model, [ChatMessage(role="user", content="hi")], tools=tools, execute_tool=add, max_rounds=rounds
        )
        assert (outcome.text, outcome.rounds, len(outcome.calls)) == ("plain", 0, 1)
        assert model.calls[0]["tools"] is None


def test_failing_tools_are_reported_to_the_model_and_long_results_truncated() -> None:
    def flaky(call: ToolCall) -> ToolResult:
        if call.name == "slow":
            raise ToolTimeoutError("Tool 'slow' timed out after 10 s")
        return ToolResult(call_id=call.id, name=call.name, ok=True, output="x" * 10_000)

    model = ScriptedLLM([_calls(("slow", {}), ("big", {})), _text("partial answer")])
    outcome = run_agent(
        model,
        [ChatMessage(role="user", content="go")],
        tools=[ADD],
        execute_tool=flaky,
        max_rounds=3,
        tool_result_max_chars=500,
    )
    assert outcome.tool_results[0].ok is False
    assert outcome.tool_results[0].error == "Tool 'slow' timed out after 10 s"
    tool_messages = [m for m in model.calls[-1]["messages"] if m.role == "tool"]
    assert json.loads(tool_messages[0].content) == {"ok": False, "error": "Tool 'slow' timed out after 10 s"}
    assert len(tool_messages[1].content) < 600 and "truncated" in tool_messages[1].content


def test_loop_over_the_real_wire_with_a_tool_call() -> None:
    with FakeOpenAIServer(models=["m"]) as server:
        server.reply_tool_calls([("add", {"a": 20, "b": 22})])
        server.reply_text("The sum is 42.", usage=(40, 6))
        client = OpenAICompatibleClient(base_url=server.url, default_model="m")
        outcome = run_agent(
            client, build_messages("sys", [], "20+22?", 100), tools=[ADD], execute_tool=add, max_rounds=3
        )
        second = server.chat_requests[1].body
    assert outcome.text == "The sum is 42."
    assert [r.output for r in outcome.tool_results] == [42]
    assert sum(c.usage.tokens_in for c in outcome.calls) == 52
    assert second["messages"][-1]["role"] == "tool"
    assert json.loads(second["messages"][-1]["content"]) == {"ok": True, "output": 42}


def test_history_keeps_the_newest_turns_within_the_budget() -> None:
    history = [("user", "a" * 40), ("assistant", "b" * 40), ("user", "c" * 40), ("assistant", "d" * 40)]
    messages = build_messages("system prompt", history, "now?", token_budget=25)  # 10 tokens a turn
    assert [m.role for m in messages] == ["system", "user", "assistant", "user"]
    assert [m.content[0] for m in messages[1:3]] == ["c", "d"]
    assert messages[-1].content == "now?"


def test_history_never_starts_with_an_assistant_turn_and_zero_budget_drops_all() -> None:
    history = [("user", "a" * 40), ("assistant", "b" * 40), ("user", "c" * 40), ("assistant", "d" * 40)]
    messages = build_messages("", history, "q", token_budget=30)  # fits b, c, d; b is dropped
    assert [m.content[0] for m in messages] == ["c", "d", "q"]
    assert build_messages("s", history, "q", token_budget=0) == [
        ChatMessage(role="system", content="s"),
        ChatMessage(role="user", content="q"),
    ]
