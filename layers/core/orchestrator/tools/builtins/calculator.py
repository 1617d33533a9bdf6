"""The ``calculator`` builtin: safe arithmetic, parsed with :mod:`ast` and walked, never ``eval``-ed.

Only numbers, ``+ - * / // % **``, unary signs, parentheses, a few :mod:`math` functions and
the constants ``pi``, ``e`` and ``tau`` are understood. Sizes are capped so one expression
cannot pin a CPU: its length, every integer's bit length, and every exponent.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orchestrator.errors import ToolInputError

if TYPE_CHECKING:
    from orchestrator.tools.models import ToolContext

MAX_EXPRESSION_CHARS = 500
#: About 3,000 decimal digits: large enough for any real calculation, small enough to be instant.
MAX_INT_BITS = 10_000
MAX_EXPONENT = 10_000
#: Evaluation recurses once per level ("1+1+...+1" is a left-deep chain); far below the interpreter's limit.
MAX_DEPTH = 200

Number = int | float

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sqrt": math.sqrt,
    "log": math.log,
    "log10": math.log10,
    "log2": math.log2,
    "exp": math.exp,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "floor": math.floor,
    "ceil": math.ceil,
}
_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}


def evaluate(expression: str) -> Number:
    """The value of ``expression``, or :class:`ToolInputError` saying what is not allowed."""
    text = expression.strip()
    if not text:
        raise ToolInputError("empty expression")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ToolInputError(f"expression longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError) as exc:
        raise ToolInputError(f"not an arithmetic expression: {text!r}") from exc
    try:
        return _eval(tree.body, 0)
    except ZeroDivisionError as exc:
        raise ToolInputError("division by zero") from exc
    except OverflowError as exc:
        raise ToolInputError("result too large") from exc
    except (ValueError, TypeError) as exc:
        # math domain errors (sqrt(-1), log(0)) and wrong argument counts
        raise ToolInputError(f"cannot evaluate: {exc}") from exc


def _eval(node: ast.expr, depth: int) -> Number:
    if depth > MAX_DEPTH:
        raise ToolInputError("expression nested too deeply")
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise ToolInputError(f"only numbers are allowed, not {node.value!r}")
        return _checked(node.value)
    if isinstance(node, ast.BinOp):
        op = _BINARY.get(type(node.op))
        if op is None:
            hint = " (use ** for powers)" if isinstance(node.op, ast.BitXor) else ""
            raise ToolInputError(f"operator {type(node.op).__name__} is not allowed{hint}")
        left, right = _eval(node.left, depth + 1), _eval(node.right, depth + 1)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        return _checked(op(left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _checked(_UNARY[type(node.op)](_eval(node.operand, depth + 1)))
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise ToolInputError(f"unknown name {node.id!r}; constants: {sorted(_CONSTANTS)}")
    if isinstance(node, ast.Call):
        return _call(node, depth)
    raise ToolInputError(f"{type(node).__name__} is not allowed in an arithmetic expression")


def _call(node: ast.Call, depth: int) -> Number:
    if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
        raise ToolInputError(f"unknown function; allowed: {sorted(_FUNCTIONS)}")
    if node.keywords:
        raise ToolInputError("keyword arguments are not allowed")
    args = [_eval(arg, depth + 1) for arg in node.args]
    if node.func.id == "round" and len(args) == 2 and not isinstance(args[1], int):
        raise ToolInputError("round() takes a whole number of digits")
    return _checked(_FUNCTIONS[node.func.id](*args))


def _check_power(base: Number, exponent: Number) -> None:
    if abs(exponent) > MAX_EXPONENT:
        raise ToolInputError(f"exponent larger than {MAX_EXPONENT}")
    # Estimate before computing: 9**9999 would take a while and be thousands of digits long.
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        bits_at_least = max(abs(base).bit_length() - 1, 0) * exponent
        if bits_at_least > MAX_INT_BITS:
            raise ToolInputError("result too large")


def _checked(value: Any) -> Number:
    if isinstance(value, bool) or not isinstance(value, int | float):
        # (-8) ** 0.5 is complex in Python; a calculator answer should be a real number.
        raise ToolInputError("result is not a real number")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ToolInputError("result too large")
    if isinstance(value, float) and not math.isfinite(value):
        raise ToolInputError("result is not a finite number")
    return value


def is_expression(text: str) -> bool:
    """True when ``text`` uses only what :func:`evaluate` understands (its value may still be an error).

    The offline selector uses this to tell a formula from prose: "10 / 0" is a formula whose
    answer is an error message, "version 3.11-beta" is not a formula.
    """
    if not text.strip() or len(text) > MAX_EXPRESSION_CHARS:
        return False
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError):
        return False
    for node in ast.walk(tree.body):
        if isinstance(node, ast.Constant):
            ok = isinstance(node.value, int | float) and not isinstance(node.value, bool)
        elif isinstance(node, ast.Name):
            ok = node.id in _CONSTANTS or node.id in _FUNCTIONS
        elif isinstance(node, ast.Call):
            ok = isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS and not node.keywords
        else:
            ok = (
                isinstance(node, ast.BinOp | ast.UnaryOp | ast.Load)
                or type(node) in _BINARY
                or type(node) in _UNARY
            )
        if not ok:
            return False
    return True


def calculator_tool(arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
    expression = str(arguments["expression"])
    return {"expression": expression, "result": evaluate(expression)}
