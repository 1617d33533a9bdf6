"""Event dispatch, timing and error shaping shared by every node."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from orchestrator.clients.llm.base import TokenUsage
from orchestrator.errors import InternalNodeError, OrchestratorError, ValidationError
from orchestrator.state import NodeEvent, NodeResult, NodeUsage, PlanStep

logger = logging.getLogger("orchestrator.nodes")

Action = Callable[[NodeEvent], BaseModel]


def handle(node: str, event: dict[str, Any], actions: dict[str, Action]) -> dict[str, Any]:
    """Parse the envelope, run the action, return JSON-ready output.

    Typed errors propagate unchanged so the state machine can Retry/Catch on their class
    names; anything else becomes an :class:`InternalNodeError` after its traceback is logged.
    """
    try:
        parsed = NodeEvent.model_validate(event)
    except PydanticValidationError as exc:
        raise ValidationError(f"{node}: malformed event: {exc.error_count()} problem(s)") from exc
    action = actions.get(parsed.action)
    if action is None:
        raise ValidationError(f"{node}: unknown action {parsed.action!r}; expected one of {sorted(actions)}")
    run_id = parsed.run_id or (parsed.state.run_id if parsed.state else None)
    try:
        return action(parsed).model_dump(mode="json")
    except OrchestratorError as exc:
        if parsed.action == "step" and parsed.step is not None:
            # One failed plan step should not sink the plan: synthesis reports it instead.
            logger.warning("plan step %s failed in run %s: %s", parsed.step.id, run_id, exc.code)
            return NodeResult(
                node=node, step_id=parsed.step.id, ok=False, output=exc.message, error=exc.code
            ).model_dump(mode="json")
        raise
    except Exception as exc:
        logger.exception("node %s action %s failed in run %s", node, parsed.action, run_id)
        raise InternalNodeError(
            f"The {node} node failed unexpectedly ({type(exc).__name__}); see the logs of run {run_id}."
        ) from exc


class Stopwatch:
    def __init__(self) -> None:
        self._start = time.perf_counter()
        self.elapsed_ms = 0.0

    def stop(self) -> float:
        self.elapsed_ms = round((time.perf_counter() - self._start) * 1000, 3)
        return self.elapsed_ms


@contextmanager
def timed() -> Iterator[Stopwatch]:
    watch = Stopwatch()
    try:
        yield watch
    finally:
        watch.stop()


def usage(latency_ms: float, tokens: TokenUsage | None = None, **extra: Any) -> NodeUsage:
    """A node's usage; ``tokens`` is a model call's count when one ran."""
    if tokens is not None:
        extra.setdefault("tokens_in", tokens.tokens_in)
        extra.setdefault("tokens_out", tokens.tokens_out)
    return NodeUsage(latency_ms=latency_ms, **extra)


def require_state(event: NodeEvent, node: str) -> Any:
    if event.state is None:
        raise ValidationError(f"{node}: action {event.action!r} needs 'state'")
    return event.state


def require_step(event: NodeEvent, node: str) -> PlanStep:
    if event.step is None:
        raise ValidationError(f"{node}: action {event.action!r} needs 'step'")
    return event.step
