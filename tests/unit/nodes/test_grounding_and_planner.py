"""Given fake retrievers and planners, the grounding and planner nodes pass scope and count calls."""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestrator.clients.llm.base import ChatResult, TokenUsage
from orchestrator.nodes import grounding, planner
from orchestrator.reasoning.planner import PlanOutcome
from orchestrator.state import GraphState, NodeResult, Passage, PlanStep
from tests.support.fakes import FakeRetriever, deadline_in

PASSAGE = Passage(source_id="handbook#0", text="Leave is 27 days.", score=0.9)


def test_retrieval_is_scoped_to_the_runs_tenant_and_user() -> None:
    retriever = FakeRetriever([PASSAGE])
    deps = grounding.GroundingDeps(retriever=retriever, top_k=3)  # type: ignore[arg-type]
    state = GraphState(tenant_id="acme", user_id="ada", prompt="How much leave?")

    out = grounding.node.run(
        {"action": "retrieve", "state": state.model_dump()}, deps, deadline=deadline_in()
    )

    assert GraphState.model_validate(out).context == [PASSAGE]
    assert retriever.queries == [("How much leave?", "acme", "ada", 3)]


def test_a_retrieval_step_cites_its_passages() -> None:
    deps = grounding.GroundingDeps(retriever=FakeRetriever([PASSAGE]), top_k=3)  # type: ignore[arg-type]
    step = PlanStep(id="s1", description="find the leave policy", node="grounding")
    event = {
        "action": "step",
        "step": step.model_dump(),
        "state": GraphState(user_id="u", prompt="p").model_dump(),
    }

    out = NodeResult.model_validate(grounding.node.run(event, deps, deadline=deadline_in()))

    assert out.output == "[handbook#0] Leave is 27 days."


@dataclass
class FakePlanner:
    outcome: PlanOutcome
    prompts: list[str] = field(default_factory=list)

    def plan(self, prompt: str, *, deadline: float | None = None) -> PlanOutcome:
        self.prompts.append(prompt)
        return self.outcome


def test_both_model_calls_of_a_retried_plan_are_counted() -> None:
    steps = [
        PlanStep(id="s1", description="calculate 12 * 12", node="tool_executor"),
        PlanStep(id="s2", description="write a haiku", node="llm_agent", depends_on=["s1"]),
    ]
    call = ChatResult(text="{}", usage=TokenUsage(tokens_in=100, tokens_out=50), model="m", provider="p")
    deps = planner.PlannerDeps(
        planner=FakePlanner(PlanOutcome(steps=steps, method="llm", calls=(call, call)))
    )  # type: ignore[arg-type]
    state = GraphState(user_id="u", prompt="First calculate, then write.")

    out = GraphState.model_validate(
        planner.node.run({"action": "plan", "state": state.model_dump()}, deps, deadline=deadline_in())
    )

    assert [s.id for s in out.pending_steps] == ["s1"]
    assert (out.usage["planner"].tokens_in, out.usage["planner"].tokens_out) == (200, 100)
