"""Planner node: decompose a multi-step request, then feed the state machine one wave at a time."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrator.nodes.base import Invocation, Node
from orchestrator.state import GraphState, PlanInfo

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from orchestrator.reasoning.planner import Planner


@dataclass(frozen=True)
class PlannerDeps:
    planner: Planner


node: Node[PlannerDeps] = Node("planner", deps=lambda c: PlannerDeps(planner=c.planner))


@node.action("plan")
def plan(call: Invocation, deps: PlannerDeps) -> GraphState:
    from orchestrator.reasoning.planner import next_wave

    state = call.state
    outcome = deps.planner.plan(state.prompt, deadline=call.deadline)
    for result in outcome.calls:
        call.meter.record_result(result)
    state.plan = outcome.steps
    state.pending_steps = next_wave(state.plan, set())
    state.planning = PlanInfo(source=outcome.source, steps=len(outcome.steps), rejected=outcome.rejected)
    if outcome.rejected:
        # The run still answers, with the rule-based plan: say so where an operator looks.
        logger.warning(
            "run %s: model plan rejected, using the rule-based plan: %s", state.run_id, outcome.rejected
        )
    call.decision = state.planning.model_dump(mode="json")
    return state


@node.action("advance")
def advance(call: Invocation, deps: PlannerDeps) -> GraphState:
    """Fold a finished wave's results into the state and pick the next wave."""
    from orchestrator.reasoning.planner import next_wave

    state = call.state
    state.results.extend(call.event.wave_results)
    state.collect_spans()  # the wave's steps, each with its own span
    for result in call.event.wave_results:
        if result.usage is not None:
            state.add_usage(result.node, result.usage)
    done = {r.step_id for r in state.results if r.step_id}
    state.pending_steps = next_wave(state.plan, done)
    return state


handle = node.handle
