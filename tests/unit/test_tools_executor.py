"""Given tool calls from a model, the executor checks arguments and turns every failure into a result."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from orchestrator.config import Settings
from orchestrator.errors import ToolInputError
from orchestrator.state import MAX_INLINE_OUTPUT_CHARS, ToolCall
from orchestrator.tools.builtins.clock import current_time
from orchestrator.tools.executor import MAX_OUTPUT_CHARS, cap_output, execute_tool_call
from orchestrator.tools.registry import ToolRegistry

SETTINGS = Settings(_env_file=None, tools_table="")  # type: ignore[call-arg]


def run(name: str, arguments: dict[str, Any]) -> Any:
    return execute_tool_call(ToolCall(id="call_1", name=name, arguments=arguments), ToolRegistry(), SETTINGS)


def test_calculator_call_succeeds_with_latency_measured() -> None:
    result = run("calculator", {"expression": "17 * (3 + 4)"})

    assert result.ok
    assert result.output == {"expression": "17 * (3 + 4)", "result": 119}
    assert result.call_id == "call_1"
    assert result.latency_ms > 0


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({}, "arguments.expression: required"),
        ({"expression": 12}, "arguments.expression: expected string, got integer"),
        ({"expression": "1+1", "extra": True}, "arguments.extra: unexpected argument"),
        ({"expression": ""}, "shorter than 1"),
    ],
)
def test_schema_violations_are_tool_invalid_input_results(arguments: dict[str, Any], problem: str) -> None:
    result = run("calculator", arguments)

    assert not result.ok
    assert result.error is not None
    assert result.error.startswith("tool_invalid_input: invalid arguments")
    assert problem in result.error


def test_a_tool_error_is_a_result_with_its_code() -> None:
    result = run("calculator", {"expression": "1/0"})

    assert (result.ok, result.error) == (False, "tool_invalid_input: division by zero")


def test_unknown_tool_is_a_result_not_an_exception() -> None:
    result = run("launch_rockets", {})

    assert not result.ok
    assert result.error == "tool_not_found: no tool named 'launch_rockets'"
    assert result.name == "launch_rockets"


def test_current_time_in_a_time_zone() -> None:
    fixed = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

    tokyo = current_time("Asia/Tokyo", now=lambda: fixed)

    assert tokyo["iso"] == "2026-01-15T21:00:00+09:00"
    assert (tokyo["weekday"], tokyo["utc_offset"]) == ("Thursday", "+09:00")
    assert current_time(None, now=lambda: fixed)["time"] == "12:00:00"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "/etc/localtime"])
def test_bad_time_zones_are_input_errors(zone: str) -> None:
    with pytest.raises(ToolInputError, match="unknown time zone"):
        current_time(zone)
    assert run("current_time", {"timezone": zone}).error.startswith("tool_invalid_input:")  # type: ignore[union-attr]


def test_current_time_through_the_executor_defaults_to_utc() -> None:
    result = run("current_time", {})

    assert result.ok
    assert result.output["timezone"] == "UTC"
    assert abs(result.output["unix"] - datetime.now(UTC).timestamp()) < 5


def test_outputs_are_capped_per_string_and_in_total() -> None:
    long_text = "y" * (MAX_INLINE_OUTPUT_CHARS + 500)
    many = {f"k{i}": "z" * 1_000 for i in range(40)}

    one = cap_output({"text": long_text})
    total = cap_output(many)

    assert one["text"].startswith("y" * MAX_INLINE_OUTPUT_CHARS)
    assert "truncated 500 chars" in one["text"]
    assert isinstance(total, str)
    assert len(total) < MAX_OUTPUT_CHARS + 100


@pytest.mark.parametrize("url", ["http://[::1/", "javascript:alert(1)", "http://exa mple.com/"])
def test_malformed_urls_are_input_errors(url: str) -> None:
    result = run("fetch_url", {"url": url})

    assert result.error is not None and result.error.startswith("tool_invalid_input:")


@pytest.mark.parametrize("name", ["", "../etc", "x" * 65])
def test_names_a_tool_could_never_have_are_not_found(name: str) -> None:
    assert run(name, {}).error == f"tool_not_found: no tool named '{name}'"
