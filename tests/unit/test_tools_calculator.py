"""Given arithmetic from a user or a model, the calculator computes it without ever running code."""

from __future__ import annotations

import math
import time

import pytest

from orchestrator.errors import ToolInputError
from orchestrator.tools.builtins.calculator import MAX_EXPRESSION_CHARS, evaluate, is_expression


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("17 * (3 + 4)", 119),
        ("2 ** 10", 1024),
        ("-3 + +5", 2),
        ("7 // 2 + 7 % 2", 4),
        ("15/100*240", 36.0),
        ("sqrt(144) + abs(-2)", 14.0),
        ("round(pi, 3)", 3.142),
        ("max(1, 9, 4) - min(3, 2)", 7),
        ("log(e)", 1.0),
        ("2 ** -1", 0.5),
    ],
)
def test_valid_expressions_have_their_value(expression: str, expected: float) -> None:
    assert evaluate(expression) == pytest.approx(expected)


def test_trigonometry_uses_radians() -> None:
    assert evaluate("sin(pi / 2)") == pytest.approx(1.0)
    assert evaluate("cos(0)") == pytest.approx(math.cos(0))


def test_division_by_zero_is_an_input_error() -> None:
    with pytest.raises(ToolInputError, match="division by zero"):
        evaluate("1 / (3 - 3)")


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('id')",
        "().__class__.__bases__",
        "x + 1",
        "open('/etc/passwd')",
        "'a' * 3",
        "[1, 2]",
        "lambda: 1",
        "True + 1",
        "1 if 1 else 2",
        "round(2.5, ndigits=1)",
        "math.sqrt(4)",
    ],
)
def test_names_attributes_and_non_numbers_are_refused(expression: str) -> None:
    with pytest.raises(ToolInputError):
        evaluate(expression)
    assert not is_expression(expression)


@pytest.mark.parametrize("expression", ["2 ** 100000", "9 ** 9999", "(10 ** 1000) ** 20", "10.0 ** 400"])
def test_huge_powers_are_refused_quickly(expression: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ToolInputError, match=r"too large|exponent"):
        evaluate(expression)
    assert time.perf_counter() - started < 0.5


def test_caret_is_not_silently_xor() -> None:
    with pytest.raises(ToolInputError, match=r"use \*\* for powers"):
        evaluate("2 ^ 10")


def test_complex_results_and_domain_errors_are_refused() -> None:
    with pytest.raises(ToolInputError, match="real number"):
        evaluate("(-8) ** 0.5")
    with pytest.raises(ToolInputError, match="cannot evaluate"):
        evaluate("sqrt(-1)")


def test_long_and_deeply_nested_expressions_are_refused() -> None:
    with pytest.raises(ToolInputError, match="longer than"):
        evaluate("1+" * MAX_EXPRESSION_CHARS + "1")
    with pytest.raises(ToolInputError, match="nested"):
        evaluate("-" * 300 + "1")
    assert evaluate("+".join(["1"] * 150)) == 150  # a long sum is a left-deep chain, and fine


def test_is_expression_accepts_formulas_whose_value_is_an_error() -> None:
    assert is_expression("10 / 0")
    assert not is_expression("version 3.11 beta")
