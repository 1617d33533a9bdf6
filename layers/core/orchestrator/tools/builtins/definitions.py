"""The builtin tools: their definitions (what the model sees) and where their implementations live.

Implementations are imported on first call, so listing tools never loads httpx or subprocess code.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from orchestrator.state import MAX_INLINE_OUTPUT_CHARS
from orchestrator.tools.builtins.calculator import MAX_EXPRESSION_CHARS
from orchestrator.tools.models import ToolContext, ToolDefinition

ToolFunction = Callable[[dict[str, Any], ToolContext], Any]

#: Program size accepted by run_python; larger programs are not "short snippets".
MAX_CODE_CHARS = 20_000

BUILTIN_DEFINITIONS: tuple[ToolDefinition, ...] = (
    ToolDefinition(
        name="calculator",
        kind="builtin",
        description=(
            "Evaluate an arithmetic expression exactly. Supports + - * / // % ** and parentheses, "
            "sqrt, log, log10, log2, exp, sin, cos, tan, abs, round, min, max, floor, ceil, pi, e."
        ),
        parameters={
            "type": "object",
            "properties": {
                "expression": {
                    "type": "string",
                    "description": "For example '17 * (3 + 4)' or 'sqrt(2) ** 10'. Use ** for powers.",
                    "minLength": 1,
                    "maxLength": MAX_EXPRESSION_CHARS,
                }
            },
            "required": ["expression"],
            "additionalProperties": False,
        },
    ),
    ToolDefinition(
        name="fetch_url",
        kind="builtin",
        description=(
            "Fetch a public web page or HTTP API with GET and return its status, content type and "
            "text (HTML reduced to visible text). Private and internal addresses are refused."
        ),
        parameters={
            "type": "object",
            "properties": {
                "url": {"type": "string", "description": "An http:// or https:// URL.", "maxLength": 2048},
                "max_chars": {
                    "type": "integer",
                    "description": "Most characters of text to return.",
                    "minimum": 100,
                    "maximum": MAX_INLINE_OUTPUT_CHARS,
                    "default": MAX_INLINE_OUTPUT_CHARS,
                },
            },
            "required": ["url"],
            "additionalProperties": False,
        },
    ),
    ToolDefinition(
        name="http_request",
        kind="builtin",
        description=(
            "Send an HTTP request (GET, POST, PUT, PATCH or DELETE) to a public URL and return the "
            "status, content type and body (parsed when JSON). Private and internal addresses are "
            "refused; credentials cannot be sent in headers."
        ),
        parameters={
            "type": "object",
            "properties": {
                "url": {"type": "string", "description": "An http:// or https:// URL.", "maxLength": 2048},
                "method": {
                    "type": "string",
                    "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"],
                    "default": "GET",
                },
                "headers": {
                    "type": "object",
                    "additionalProperties": {"type": "string", "maxLength": 1024},
                    "maxProperties": 20,
                },
                "body": {
                    "description": "A JSON object or array (sent as JSON) or a string (sent as text).",
                    "type": ["object", "array", "string"],
                },
            },
            "required": ["url"],
            "additionalProperties": False,
        },
    ),
    ToolDefinition(
        name="web_search",
        kind="builtin",
        description="Search the web; returns a list of results with title, url and snippet.",
        parameters={
            "type": "object",
            "properties": {
                "query": {"type": "string", "minLength": 1, "maxLength": 400},
                "max_results": {"type": "integer", "minimum": 1, "maximum": 10, "default": 5},
            },
            "required": ["query"],
            "additionalProperties": False,
        },
    ),
    ToolDefinition(
        name="run_python",
        kind="builtin",
        description=(
            "Run a short Python 3 program (standard library only, no network guarantees, a few "
            "seconds of CPU) and return its stdout, stderr and exit code. Print what you need."
        ),
        parameters={
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "description": "The program.",
                    "minLength": 1,
                    "maxLength": MAX_CODE_CHARS,
                }
            },
            "required": ["code"],
            "additionalProperties": False,
        },
    ),
    ToolDefinition(
        name="current_time",
        kind="builtin",
        description="The current date and time, in UTC or in a given IANA time zone.",
        parameters={
            "type": "object",
            "properties": {
                "timezone": {
                    "type": "string",
                    "description": "IANA zone such as 'Europe/Paris' or 'America/New_York'. Default UTC.",
                    "maxLength": 64,
                }
            },
            "additionalProperties": False,
        },
    ),
)

BUILTIN_NAMES = frozenset(d.name for d in BUILTIN_DEFINITIONS)

#: name → "module:function", resolved on first use.
_IMPLEMENTATIONS = {
    "calculator": "orchestrator.tools.builtins.calculator:calculator_tool",
    "fetch_url": "orchestrator.tools.builtins.fetch_url:fetch_url",
    "http_request": "orchestrator.tools.builtins.http_request:http_request",
    "web_search": "orchestrator.tools.builtins.web_search:web_search",
    "run_python": "orchestrator.tools.sandbox:run_python",
    "current_time": "orchestrator.tools.builtins.clock:current_time_tool",
}


def builtin_function(name: str) -> ToolFunction:
    """The implementation of builtin ``name`` (a KeyError for anything else is a programming error)."""
    module_name, function_name = _IMPLEMENTATIONS[name].split(":")
    function: ToolFunction = getattr(importlib.import_module(module_name), function_name)
    return function
