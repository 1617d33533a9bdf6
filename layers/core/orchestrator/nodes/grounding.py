"""Grounding node: retrieve passages from the user's documents (and the configured data source)."""

from __future__ import annotations

from typing import Any

from orchestrator import services
from orchestrator.config import get_settings
from orchestrator.nodes._dispatch import handle as _handle
from orchestrator.nodes._dispatch import require_state, require_step, timed, usage
from orchestrator.state import GraphState, NodeEvent, NodeResult, Passage

NODE = "grounding"


def _retrieve(query: str, state: GraphState) -> list[Passage]:
    top_k = get_settings().grounding_top_k
    return services.retriever().retrieve(query, state.tenant_id, state.user_id, top_k=top_k)


def retrieve(event: NodeEvent) -> GraphState:
    state: GraphState = require_state(event, NODE)
    with timed() as watch:
        state.context = _retrieve(state.prompt, state)
    state.add_usage(NODE, usage(watch.elapsed_ms))
    return state


def run_step(event: NodeEvent) -> NodeResult:
    state: GraphState = require_state(event, NODE)
    step = require_step(event, NODE)
    query = str(step.inputs.get("query") or step.description)
    with timed() as watch:
        passages = _retrieve(query, state)
    text = "\n".join(f"[{p.source_id}] {p.text}" for p in passages) or "No matching passages found."
    return NodeResult(
        node=NODE,
        step_id=step.id,
        output=text,
        data={"passages": [p.model_dump() for p in passages]},
        usage=usage(watch.elapsed_ms),
    )


def handle(event: dict[str, Any]) -> dict[str, Any]:
    return _handle(NODE, event, {"retrieve": retrieve, "step": run_step})
