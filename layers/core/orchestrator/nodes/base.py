"""What every graph node shares: actions by name, typed state in and out, one clock, one meter.

A node is a :class:`Node` with the dependencies it declares (a small frozen dataclass built from
the :class:`~orchestrator.container.Container`) and actions registered by name::

    node = Node("planner", deps=lambda c: PlannerDeps(planner=c.planner))

    @node.action("plan")
    def plan(call: Invocation, deps: PlannerDeps) -> GraphState: ...

:meth:`Node.run` parses the envelope, runs the action within the invocation's deadline, and fills
``usage`` in one place: the action's latency plus every model call it reported to ``call.meter``
(tokens and cost from ``LLM_PRICE_TABLE``). Typed errors propagate unchanged so the state
machine's Catch sees their class names; anything else becomes :class:`InternalNodeError` after
its traceback is logged. A failed plan step is a failed result, not a failed run.

Each action also leaves a :class:`~orchestrator.state.Span` (:mod:`orchestrator.nodes.tracing`):
on the state's ``trace``, or on the ``ToolResult``/``NodeResult`` a Map iteration returns (folded
into the trace by the next action that receives the state). Actions state what they decided in
``call.decision``; retries are counted from the clients' tenacity loops and Step Functions' own
``$$.State.RetryCount``.

When given a run-events store, :meth:`Node.run` also publishes what a watching client wants to
see (:mod:`orchestrator.nodes.progress`): the intent, plan, tool calls and results, step results
and citations it finds new in the action's output, and whatever the action itself sends to
``call.emit`` (the agent's answer tokens). Nodes stay unaware of streaming.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from orchestrator.errors import InternalNodeError, OrchestratorError, ValidationError
from orchestrator.state import (
    SPAN_SUMMARY_CHARS,
    GraphState,
    NodeEvent,
    NodeResult,
    NodeUsage,
    PlanStep,
    Span,
    SpanError,
    ToolResult,
    clip,
    utc_now,
)

if TYPE_CHECKING:
    from orchestrator.clients.llm.base import ChatResult, TokenUsage
    from orchestrator.container import Container
    from orchestrator.memory.run_events import RunEventStore
    from orchestrator.nodes.progress import Progress

logger = logging.getLogger("orchestrator.nodes")

D = TypeVar("D")


@dataclass
class Meter:
    """Counts and prices the model calls one action makes (router, planner, selector, agent)."""

    price_table: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    model: str | None = None
    provider: str | None = None

    def record(self, model: str | None, usage: TokenUsage | None, provider: str | None = None) -> None:
        if usage is None:
            return
        from orchestrator.clients.llm.pricing import cost_usd

        self.tokens_in += usage.tokens_in
        self.tokens_out += usage.tokens_out
        if model:
            self.cost_usd += cost_usd(model, usage, self.price_table)
            self.model = model
        self.provider = provider or self.provider

    def record_result(self, result: ChatResult | None) -> None:
        if result is not None:
            self.record(result.model, result.usage, result.provider)

    def usage(self, latency_ms: float) -> NodeUsage:
        return NodeUsage(
            latency_ms=latency_ms,
            tokens_in=self.tokens_in,
            tokens_out=self.tokens_out,
            cost_usd=round(self.cost_usd, 8),
            model=self.model,
            provider=self.provider,
        )


@dataclass
class Invocation:
    """One action's input: the envelope, the instant its remote calls must end by, and its meter."""

    node: str
    event: NodeEvent
    deadline: float
    meter: Meter
    #: Run after ``usage`` is filled in, on the action's output (e.g. persist the finished state).
    after: list[Callable[[BaseModel], None]] = field(default_factory=list)
    #: Where progress goes while the action runs; None when nobody can watch.
    progress: Progress | None = None
    #: What the action decided and why (intent, plan source, tools): its span's ``decision``.
    decision: dict[str, Any] | None = None

    def emit(self, kind: str, data: dict[str, Any]) -> None:
        """Tell a watching client about progress (``token`` deltas are batched)."""
        if self.progress is not None:
            self.progress.emit(kind, data)

    @property
    def state(self) -> GraphState:
        if self.event.state is None:
            raise ValidationError(f"{self.node}: action {self.event.action!r} needs 'state'")
        return self.event.state

    @property
    def step(self) -> PlanStep:
        if self.event.step is None:
            raise ValidationError(f"{self.node}: action {self.event.action!r} needs 'step'")
        return self.event.step

    def remaining_s(self) -> float:
        return max(0.0, self.deadline - time.monotonic())


Action = Callable[[Invocation, D], BaseModel]


def deadline_from(context: Any, *, margin_s: float, default_budget_s: float) -> float:
    """The monotonic instant remote calls must end by: the Lambda's remaining time minus a margin."""
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    budget = remaining_ms() / 1000 - margin_s if callable(remaining_ms) else default_budget_s
    return time.monotonic() + max(0.5, budget)


class Node(Generic[D]):
    """A graph node: its name, how to build its dependencies, and its actions."""

    def __init__(self, name: str, deps: Callable[[Container], D]) -> None:
        self.name = name
        self._build_deps = deps
        self.actions: dict[str, Action[D]] = {}
        self._deps: tuple[Container, D] | None = None

    def action(self, name: str) -> Callable[[Action[D]], Action[D]]:
        def register(function: Action[D]) -> Action[D]:
            self.actions[name] = function
            return function

        return register

    def deps_for(self, container: Container) -> D:
        """This node's dependencies, built once per container (once per warm Lambda)."""
        cached = self._deps
        if cached is None or cached[0] is not container:
            cached = self._deps = (container, self._build_deps(container))
        return cached[1]

    def handle(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        """The Lambda entry point: this process's container, the invocation's deadline, :meth:`run`."""
        from orchestrator.container import current

        container = current()
        settings = container.settings
        deadline = deadline_from(
            context, margin_s=settings.node_deadline_margin_s, default_budget_s=settings.node_default_budget_s
        )
        return self.run(
            event,
            self.deps_for(container),
            deadline=deadline,
            price_table=settings.llm_price_table,
            events=container.run_events,
            flush_ms=settings.run_events_flush_ms,
            flush_chars=settings.run_events_flush_chars,
        )

    def run(
        self,
        event: dict[str, Any],
        deps: D,
        *,
        deadline: float,
        price_table: Mapping[str, Mapping[str, float]] | None = None,
        events: RunEventStore | None = None,
        flush_ms: float = 50.0,
        flush_chars: int = 200,
    ) -> dict[str, Any]:
        """Parse ``event``, run its action with ``deps``, return JSON-ready output with usage filled."""
        try:
            parsed = NodeEvent.model_validate(event)
        except PydanticValidationError as exc:
            raise ValidationError(f"{self.name}: malformed event: {exc.error_count()} problem(s)") from exc
        action = self.actions.get(parsed.action)
        if action is None:
            raise ValidationError(
                f"{self.name}: unknown action {parsed.action!r}; expected one of {sorted(self.actions)}"
            )
        call = Invocation(self.name, parsed, deadline, Meter(price_table or {}))
        run_id = parsed.run_id or (parsed.state.run_id if parsed.state else None)
        if events is not None and run_id:
            call.progress = _progress(
                self.name, parsed, run_id, events, flush_ms=flush_ms, flush_chars=flush_chars
            )
        if parsed.state is not None:
            parsed.state.collect_spans()  # what the Map iterations before this one left
        before = _Seen.of(parsed.state)
        from orchestrator.clients.retrying import counting_retries
        from orchestrator.nodes.tracing import function_id, input_summary, output_summary

        started_at = utc_now()
        started = time.perf_counter()
        failed: SpanError | None = None
        try:
            with counting_retries() as retries:
                output = action(call, deps)
        except OrchestratorError as exc:
            if parsed.action == "step" and parsed.step is not None:
                # One failed plan step should not sink the plan: synthesis reports it instead.
                logger.warning("plan step %s failed in run %s: %s", parsed.step.id, run_id, exc.code)
                output = NodeResult(
                    node=self.name, step_id=parsed.step.id, ok=False, output=exc.message, error=exc.code
                )
                failed = SpanError(code=exc.code, message=clip(exc.message, SPAN_SUMMARY_CHARS))
            else:
                raise
        except Exception as exc:
            logger.exception("node %s action %s failed in run %s", self.name, parsed.action, run_id)
            kind = type(exc).__name__
            raise InternalNodeError(
                f"The {self.name} node failed unexpectedly ({kind}); see the logs of run {run_id}."
            ) from exc
        usage = call.meter.usage(round((time.perf_counter() - started) * 1000, 3))
        span = Span(
            node=self.name,
            action=parsed.action,
            function=function_id(self.name),
            step_id=parsed.step.id if parsed.step is not None else None,
            started_at=started_at,
            duration_ms=usage.latency_ms,
            retries=retries.retries + parsed.retry_count,
            error=failed,
            input=input_summary(parsed),
            output=output_summary(before, output),
            decision=call.decision,
        )
        if isinstance(output, GraphState):
            output.add_usage(self.name, usage)
            output.add_spans([span])
        elif isinstance(output, NodeResult | ToolResult):
            output.span = span
            if isinstance(output, NodeResult) and output.usage is None:
                output.usage = usage
        for finish in call.after:
            finish(output)
        if call.progress is not None:
            before.publish_new(output, call.progress)
            call.progress.flush()
        return output.model_dump(mode="json")


def _progress(
    node: str, event: NodeEvent, run_id: str, events: RunEventStore, *, flush_ms: float, flush_chars: int
) -> Progress | None:
    """Where the action's progress goes, or None when nobody can watch the run."""
    state = event.state
    if not (state.watched if state is not None else event.watched):
        return None
    from orchestrator.nodes.progress import Progress

    tenant_id = state.tenant_id if state is not None else event.tenant_id
    return Progress(events, tenant_id, run_id, node=node, flush_ms=flush_ms, flush_chars=flush_chars)


@dataclass(frozen=True)
class _Seen:
    """What the input state already held, so only what the action added is published."""

    intent: bool = False
    plan: int = 0
    tool_calls: int = 0
    tool_results: int = 0
    response: bool = False
    context: bool = False

    @classmethod
    def of(cls, state: GraphState | None) -> _Seen:
        if state is None:
            return cls()
        return cls(
            intent=state.intent is not None,
            plan=len(state.plan),
            tool_calls=len(state.tool_calls),
            tool_results=len(state.tool_results),
            response=state.response is not None,
            context=bool(state.context),
        )

    def publish_new(self, output: BaseModel, progress: Progress) -> None:
        """Queue what ``output`` holds beyond this; the caller flushes (one write for all)."""
        if isinstance(output, ToolResult):
            progress.add("tool_result", output.model_dump(mode="json"))
        elif isinstance(output, NodeResult) and output.step_id:
            progress.add("step", output.model_dump(mode="json"))
        if not isinstance(output, GraphState):
            return
        if output.intent is not None and not self.intent:
            progress.add("intent", output.intent.model_dump(mode="json"))
        if len(output.plan) > self.plan:
            progress.add("plan", {"steps": [s.model_dump(mode="json") for s in output.plan]})
        for tool_call in output.tool_calls[self.tool_calls :]:
            progress.add("tool_call", tool_call.model_dump(mode="json"))
        for result in output.tool_results[self.tool_results :]:
            progress.add("tool_result", result.model_dump(mode="json"))
        if output.response is not None and not self.response and output.response.citations:
            citations = [c.model_dump(mode="json") for c in output.response.citations]
            progress.add("citations", {"citations": citations})
