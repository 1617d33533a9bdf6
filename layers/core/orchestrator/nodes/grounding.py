"""Grounding node: retrieve passages from the user's documents (and the configured data source)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrator.nodes.base import Invocation, Node
from orchestrator.state import GraphState, NodeResult, Passage

if TYPE_CHECKING:
    from orchestrator.grounding import Retriever


@dataclass(frozen=True)
class GroundingDeps:
    retriever: Retriever
    top_k: int


node: Node[GroundingDeps] = Node(
    "grounding", deps=lambda c: GroundingDeps(retriever=c.retriever, top_k=c.settings.grounding_top_k)
)


def _retrieve(query: str, call: Invocation, deps: GroundingDeps) -> list[Passage]:
    state = call.state
    return deps.retriever.retrieve(
        query, state.tenant_id, state.user_id, top_k=deps.top_k, deadline=call.deadline
    )


@node.action("retrieve")
def retrieve(call: Invocation, deps: GroundingDeps) -> GraphState:
    state = call.state
    state.context = _retrieve(state.prompt, call, deps)
    return state


@node.action("step")
def run_step(call: Invocation, deps: GroundingDeps) -> NodeResult:
    step = call.step
    passages = _retrieve(str(step.inputs.get("query") or step.description), call, deps)
    text = "\n".join(f"[{p.source_id}] {p.text}" for p in passages) or "No matching passages found."
    return NodeResult(
        node=node.name,
        step_id=step.id,
        output=text,
        data={"passages": [p.model_dump() for p in passages]},
    )


handle = node.handle
