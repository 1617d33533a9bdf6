"""Run one tool call: look the tool up, check the arguments, run it within its time budget.

A tool's failure is a *result*, never an exception: the model (or the plan's synthesis) reads
``ToolResult(ok=False, error="<code>: <message>")`` and can react, and one bad call in the
state machine's Map does not fail its siblings. Outputs are capped so the state stays far
below Step Functions' 256 KiB payload limit.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orchestrator.errors import ApprovalRequiredError, OrchestratorError, ToolTimeoutError
from orchestrator.state import MAX_INLINE_OUTPUT_CHARS, ToolCall, ToolResult, truncate
from orchestrator.tools.json_schema.arguments import validate_arguments
from orchestrator.tools.models import ToolContext, ToolDefinition

if TYPE_CHECKING:
    from orchestrator.config import Settings
    from orchestrator.tools.registry import ToolRegistry

logger = logging.getLogger(__name__)

#: Beyond its own budget, how long a tool may take to notice its deadline before it is abandoned.
GRACE_S = 1.0
#: run_python's budget on top of CODE_EXEC_TIMEOUT_S (and the wait for a slot, CODE_EXEC_QUEUE_WAIT_S):
#: sandbox set-up, interpreter start-up and clean-up, or the code-executor Lambda's round trip.
CODE_EXEC_OVERHEAD_S = 2.0
#: One call's whole output, serialised; each string inside is also capped at MAX_INLINE_OUTPUT_CHARS.
MAX_OUTPUT_CHARS = 2 * MAX_INLINE_OUTPUT_CHARS


def tool_budget_s(definition: ToolDefinition, settings: Settings) -> float:
    """Seconds a call of ``definition`` may take, retries included."""
    if definition.kind == "builtin" and definition.name == "run_python":
        return settings.code_exec_timeout_s + settings.code_exec_queue_wait_s + CODE_EXEC_OVERHEAD_S
    return settings.tool_timeout_s


def _function(definition: ToolDefinition) -> Callable[[dict[str, Any], ToolContext], Any]:
    if definition.kind == "builtin":
        from orchestrator.tools.builtins.definitions import builtin_function

        return builtin_function(definition.name)
    if definition.kind == "mcp":

        def call_mcp(arguments: dict[str, Any], context: ToolContext) -> Any:
            from orchestrator.tools.mcp_servers.client import run_mcp_tool

            return run_mcp_tool(definition, arguments, context)

        return call_mcp

    def call_http(arguments: dict[str, Any], context: ToolContext) -> Any:
        from orchestrator.tools.registry.http_tools import run_http_tool

        return run_http_tool(definition, arguments, context)

    return call_http


def _run_with_deadline(function: Callable[[], Any], timeout_s: float, name: str) -> Any:
    """Run ``function`` on a daemon thread; give up on it after ``timeout_s``.

    Tools honour their deadline themselves (HTTP timeouts, the sandbox's kill); this is the
    backstop for one that does not. An abandoned daemon thread cannot keep the process alive.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = function()
        except BaseException as exc:  # re-raised on the caller's thread below
            outcome["error"] = exc

    worker = threading.Thread(target=target, name=f"tool-{name}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise ToolTimeoutError(f"tool '{name}' did not finish within {timeout_s:g}s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def cap_output(value: Any) -> Any:
    """``value`` with long strings truncated; if still too large, its JSON text truncated."""

    def shorten(item: Any) -> Any:
        if isinstance(item, str):
            return truncate(item)
        if isinstance(item, dict):
            return {str(k): shorten(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [shorten(v) for v in item]
        return item

    shortened = shorten(value)
    serialised = json.dumps(shortened, default=str, ensure_ascii=False)
    return shortened if len(serialised) <= MAX_OUTPUT_CHARS else truncate(serialised, MAX_OUTPUT_CHARS)


def execute_tool_call(
    call: ToolCall, registry: ToolRegistry, settings: Settings, *, approved: bool = False
) -> ToolResult:
    """The result of ``call``; ``ok=False`` with ``error="<code>: <message>"`` when it failed.

    A tool marked ``requires_approval`` runs only when ``approved`` (a person approved this very
    call in its run, or an admin runs it directly); anywhere else (the answering model's own tool
    rounds, plan steps) it is refused with ``approval_required`` and nothing is sent.
    """
    started = time.perf_counter()

    def elapsed_ms() -> float:
        return round((time.perf_counter() - started) * 1000, 3)

    try:
        definition = registry.get(call.name)
        if definition.requires_approval and not approved:
            raise ApprovalRequiredError(
                f"tool '{call.name}' needs a person's approval; ask for it in a run (POST /v1/runs)"
            )
        arguments = validate_arguments(definition.parameters, call.arguments)
        budget_s = tool_budget_s(definition, settings)
        context = ToolContext(settings=settings, deadline=time.monotonic() + budget_s)
        function = _function(definition)
        output = _run_with_deadline(lambda: function(arguments, context), budget_s + GRACE_S, call.name)
    except OrchestratorError as exc:
        logger.info("tool %s (%s) failed: %s", call.name, call.id, exc.code)
        partial = exc.details.get("output")
        return ToolResult(
            call_id=call.id,
            name=call.name,
            ok=False,
            output=cap_output(partial) if partial is not None else None,
            error=f"{exc.code}: {exc.message}",
            latency_ms=elapsed_ms(),
        )
    except Exception as exc:
        logger.exception("tool %s (%s) raised unexpectedly", call.name, call.id)
        return ToolResult(
            call_id=call.id,
            name=call.name,
            ok=False,
            error=f"tool_failed: tool '{call.name}' failed unexpectedly ({type(exc).__name__})",
            latency_ms=elapsed_ms(),
        )
    return ToolResult(
        call_id=call.id, name=call.name, ok=True, output=cap_output(output), latency_ms=elapsed_ms()
    )
