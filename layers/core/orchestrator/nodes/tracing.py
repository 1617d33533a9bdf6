"""A run's trace: one :class:`~orchestrator.state.Span` per node action, built by :meth:`Node.run`.

A span's ``input`` and ``output`` are one-line summaries clipped to ``SPAN_SUMMARY_CHARS``: the
prompt, a step or tool call going in; the intent, plan, tool calls, passages or answer coming
out. Never metadata, history or documents: the state already caps what it carries, and the
trace travels with the state (Step Functions' 256 KiB), so it says what happened, not everything.

A failing action cannot add its span to a state nobody receives (the Lambda returns an error),
so the failure path rebuilds it from what the ASL's Catch assigned: :func:`failed_task`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel

from orchestrator.state import (
    SPAN_SUMMARY_CHARS,
    GraphState,
    NodeEvent,
    NodeResult,
    Span,
    SpanError,
    ToolResult,
    clip,
    utc_now,
)


def function_id(node: str) -> str:
    """The template's logical id of a node's Lambda: ``intent_router`` → ``IntentRouterFunction``."""
    return "".join(part.capitalize() for part in node.split("_")) + "Function"


def _clip(text: str) -> str:
    return clip(text, SPAN_SUMMARY_CHARS)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def input_summary(event: NodeEvent) -> str:
    """What the action was given, in one clipped line."""
    if event.call is not None:
        return _clip(f"{event.call.name}({_json(event.call.arguments)})")
    if event.step is not None:
        step = event.step
        return _clip(f"step {step.id} on {step.node}: {step.description}")
    if event.action == "advance":
        ids = ", ".join(r.step_id or r.node for r in event.wave_results)
        return _clip(f"{len(event.wave_results)} step result(s): {ids}")
    if event.failure is not None:
        return _clip(f"failure {event.failure.get('Error') or 'unknown'}")
    if event.state is not None:
        return _clip(event.state.prompt)
    return ""


class Snapshot(Protocol):
    """What the input state held before the action ran (``nodes.base._Seen``)."""

    @property
    def intent(self) -> bool: ...
    @property
    def plan(self) -> int: ...
    @property
    def tool_calls(self) -> int: ...
    @property
    def context(self) -> bool: ...
    @property
    def response(self) -> bool: ...


def output_summary(before: Snapshot, output: BaseModel) -> str:
    """What the action added, in one clipped line."""
    if isinstance(output, ToolResult):
        shown = output.output if output.ok else f"error: {output.error}"
        return _clip(f"{output.name}: {shown if isinstance(shown, str) else _json(shown)}")
    if isinstance(output, NodeResult):
        return _clip(("" if output.ok else f"[{output.error}] ") + output.output)
    if not isinstance(output, GraphState):
        return ""
    parts: list[str] = []
    if output.intent is not None and not before.intent:
        intent = output.intent
        parts.append(f"intent {intent.name} ({intent.confidence:.2f}, {intent.method})")
    if output.cached:
        parts.append(f"cached ({output.cached})")
    if len(output.plan) > before.plan:
        parts.append(f"plan of {len(output.plan)} step(s): " + ", ".join(s.id for s in output.plan))
    new_calls = output.tool_calls[before.tool_calls :]
    if new_calls:
        parts.append("tool calls: " + ", ".join(c.name for c in new_calls))
    if output.context and not before.context:
        parts.append(f"{len(output.context)} passage(s): " + ", ".join(p.source_id for p in output.context))
    if output.pending_steps:
        parts.append("next wave: " + ", ".join(s.id for s in output.pending_steps))
    if output.response is not None and (not before.response or output.cached):
        parts.append(f"answer: {output.response.text}")
    return _clip("; ".join(parts))


def tool_decision(names: list[str], chosen_by: str) -> dict[str, Any] | None:
    """A tool selection's decision: which tools, and who chose them (model, rules, client…)."""
    return {"tools": names, "chosen_by": chosen_by} if names else None


def failed_task(state: GraphState, event: NodeEvent) -> tuple[str, str, str | None]:
    """The (node, action, step id) of the Task whose failure the Catch path received.

    Each Catch assigns the state it guards, with that state's node and action (the ASL contract
    test checks they match the Task's function and action). A failed plan wave names the step when
    it ran one; with several, the first pending one stands for the wave.
    """
    node, action = event.failed_node, event.failed_action or "unknown"
    step_id: str | None = None
    if action == "step" and state.pending_steps:
        step = state.pending_steps[0]
        node = node or step.node
        step_id = step.id if len(state.pending_steps) == 1 else None
    return node or "unknown", action, step_id


def failure_span(state: GraphState, event: NodeEvent, code: str, message: str) -> Span:
    """The failed Task's span: from the end of the last span (or the run's start) until now."""
    node, action, step_id = failed_task(state, event)
    started = state.started_at
    if state.trace:
        last = state.trace[-1]
        started = _plus_ms(last.started_at, last.duration_ms) or started
    duration = _ms_between(started, utc_now())
    return Span(
        node=node,
        action=action,
        function=function_id(node),
        step_id=step_id,
        started_at=started,
        duration_ms=duration,
        error=SpanError(code=code, message=_clip(message)),
        input=_clip(state.prompt),
    )


def _parse(instant: str) -> datetime | None:
    try:
        return datetime.fromisoformat(instant)
    except ValueError:
        return None


def _plus_ms(instant: str, ms: float) -> str | None:
    from datetime import timedelta

    parsed = _parse(instant)
    if parsed is None:
        return None
    return (parsed + timedelta(milliseconds=ms)).isoformat(timespec="milliseconds")


def _ms_between(start: str, end: str) -> float:
    first, last = _parse(start), _parse(end)
    if first is None or last is None:
        return 0.0
    return round(max(0.0, (last - first).total_seconds() * 1000), 3)
