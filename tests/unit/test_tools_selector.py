"""Given a request, the selector picks tool calls: the model's when there is one, rules offline."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.clients.llm.base import ChatResult, TokenUsage
from orchestrator.clients.llm.offline import OfflineLLMClient
from orchestrator.errors import ModelUnavailableError
from orchestrator.state import ToolCall
from orchestrator.tools.registry import ToolRegistry
from orchestrator.tools.selection.selector import select_tool_calls
from tests.support.scripted_llm import ScriptedLLM


def choosing(calls: list[ToolCall]) -> ScriptedLLM:
    """A real-model stand-in that answers once with ``calls``."""
    result = ChatResult(
        tool_calls=calls, usage=TokenUsage(tokens_in=120, tokens_out=30), model="m", provider="scripted"
    )
    return ScriptedLLM([result])


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("what is 17 * (3 + 4)?", [("calculator", {"expression": "17 * (3 + 4)"})]),
        ("calculate 2^10", [("calculator", {"expression": "2**10"})]),
        ("What's 15% of 240?", [("calculator", {"expression": "(15/100*240)"})]),
        ("what is the square root of 144", [("calculator", {"expression": "sqrt(144)"})]),
        ("compute 12 times 7 plus 3", [("calculator", {"expression": "12 * 7 + 3"})]),
        ("How much is 1,250 ÷ 5?", [("calculator", {"expression": "1250 / 5"})]),
        (
            "Summarise https://example.com/page.html.",
            [("fetch_url", {"url": "https://example.com/page.html"})],
        ),
        ("what time is it in Tokyo?", [("current_time", {"timezone": "Asia/Tokyo"})]),
        ("What's the current time?", [("current_time", {})]),
        ("today's date in America/Sao_Paulo please", [("current_time", {"timezone": "America/Sao_Paulo"})]),
        ("run this code: print(sum(range(10)))", [("run_python", {"code": "print(sum(range(10)))"})]),
        ("What does this print?\n```python\nprint(2**5)\n```", [("run_python", {"code": "print(2**5)"})]),
        (
            "what is 2+2, and what time is it in New York?",
            [("current_time", {"timezone": "America/New_York"}), ("calculator", {"expression": "2+2"})],
        ),
        ("Tell me a joke about cats", []),
        ("On 2024-01-05 we sold 3 apples", []),
        ("Is COVID-19 still a pandemic?", []),
    ],
)
def test_offline_rules(prompt: str, expected: list[tuple[str, dict[str, Any]]]) -> None:
    outcome = select_tool_calls(prompt, ToolRegistry(), OfflineLLMClient())

    assert outcome.method == "heuristic"
    assert outcome.usage is None
    assert [(c.name, c.arguments) for c in outcome.calls] == expected
    assert [c.id for c in outcome.calls] == [f"call_{i}" for i in range(1, len(expected) + 1)]


def test_selection_is_capped_at_max_calls() -> None:
    prompt = " ".join(f"https://example.com/{i}" for i in range(6))

    outcome = select_tool_calls(prompt, ToolRegistry(), None, max_calls=2)

    assert [c.arguments["url"] for c in outcome.calls] == ["https://example.com/0", "https://example.com/1"]


def test_a_real_model_chooses_from_every_tool() -> None:
    model = choosing([ToolCall(id="", name="current_time", arguments={"timezone": "Europe/Paris"})])

    outcome = select_tool_calls("Is it morning in Paris?", ToolRegistry(), model)

    assert outcome.method == "llm"
    assert outcome.calls == [
        ToolCall(id="call_1", name="current_time", arguments={"timezone": "Europe/Paris"})
    ]
    assert outcome.usage == TokenUsage(tokens_in=120, tokens_out=30)
    offered, messages = model.calls[-1]["tools"], model.calls[-1]["messages"]
    assert {s.name for s in offered} == {
        "calculator",
        "fetch_url",
        "http_request",
        "web_search",
        "run_python",
        "current_time",
    }
    assert messages[-1].content == "Is it morning in Paris?"


def test_model_ids_are_kept_when_unique_and_calls_capped() -> None:
    calls = [ToolCall(id=f"tc{i}", name="calculator", arguments={"expression": f"{i}+1"}) for i in range(6)]

    outcome = select_tool_calls("sums", ToolRegistry(), choosing(calls), max_calls=3)

    assert [c.id for c in outcome.calls] == ["tc0", "tc1", "tc2"]


def test_a_model_that_is_down_falls_back_to_the_rules() -> None:
    model = ScriptedLLM([ModelUnavailableError("model down")])

    outcome = select_tool_calls("what is 6 * 7", ToolRegistry(), model)

    assert outcome.method == "heuristic"
    assert [(c.name, c.arguments) for c in outcome.calls] == [("calculator", {"expression": "6 * 7"})]


def test_the_model_is_required_to_pick_a_tool_and_the_rules_step_in_when_it_picks_none() -> None:
    model = choosing([])  # a model that answers in prose although a tool is needed

    outcome = select_tool_calls("what is 17 * (3 + 4)?", ToolRegistry(), model, deadline=123.0)

    assert model.calls[-1]["tool_choice"] == "required"
    assert model.calls[-1]["deadline"] == 123.0
    assert outcome.method == "heuristic"
    assert [c.name for c in outcome.calls] == ["calculator"]
    assert outcome.usage == TokenUsage(tokens_in=120, tokens_out=30)  # the call was made: it is billed
