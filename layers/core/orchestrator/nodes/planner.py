"""Planner node: decompose a multi-step request, then feed the state machine one wave at a time."""

from __future__ import annotations

from typing import Any

from orchestrator import services
from orchestrator.nodes._dispatch import handle as _handle
from orchestrator.nodes._dispatch import require_state, timed, usage
from orchestrator.state import GraphState, NodeEvent

NODE = "planner"


def plan(event: NodeEvent) -> GraphState:
    from orchestrator.reasoning.planner import next_wave

    state: GraphState = require_state(event, NODE)
    with timed() as watch:
        outcome = services.planner().plan(state.prompt)
    state.plan = outcome.steps
    state.pending_steps = next_wave(state.plan, set())
    state.add_usage(NODE, usage(watch.elapsed_ms, outcome.usage))
    return state


def advance(event: NodeEvent) -> GraphState:
    """Fold a finished wave's results into the state and pick the next wave."""
    from orchestrator.reasoning.planner import next_wave

    state: GraphState = require_state(event, NODE)
    with timed() as watch:
        state.results.extend(event.wave_results)
        for result in event.wave_results:
            if result.usage is not None:
                state.add_usage(result.node, result.usage)
        done = {r.step_id for r in state.results if r.step_id}
        state.pending_steps = next_wave(state.plan, done)
    state.add_usage(NODE, usage(watch.elapsed_ms))
    return state


def handle(event: dict[str, Any]) -> dict[str, Any]:
    return _handle(NODE, event, {"plan": plan, "advance": advance})
