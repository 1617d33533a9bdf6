"""Planner: heuristic decomposition offline, validated model plans with one repair, dependency waves."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orchestrator.clients.embeddings.embedded import EmbeddedEmbedder
from orchestrator.clients.llm.base import TokenUsage
from orchestrator.config import Settings
from orchestrator.errors import ModelResponseError, ModelUnavailableError
from orchestrator.reasoning.planner import Planner, PlanValidationError, next_wave, validate_plan
from orchestrator.reasoning.router import IntentRouter
from orchestrator.reasoning.routes import load_routes
from orchestrator.state import PlanStep
from tests.support.scripted_llm import ScriptedLLM

#: What each scripted planning call reports; the usage assertions add these up.
PLAN_USAGE = TokenUsage(tokens_in=300, tokens_out=80)


def _step(id_: str, node: str = "llm_agent", depends_on: list[str] | None = None) -> dict[str, Any]:
    return {"id": id_, "description": f"step {id_}", "node": node, "depends_on": depends_on or []}


def _plan_json(*steps: dict[str, Any]) -> str:
    return json.dumps({"steps": list(steps)})


VALID = _plan_json(
    _step("s1", "tool_executor"), _step("s2", "grounding"), _step("s3", "llm_agent", ["s1", "s2"])
)


@pytest.fixture(scope="module")
def router() -> IntentRouter:
    router = IntentRouter(load_routes(Settings(_env_file=None)), EmbeddedEmbedder())  # type: ignore[call-arg]
    router.warm_up()
    return router


@pytest.fixture(scope="module")
def offline(router: IntentRouter) -> Planner:
    return Planner(router, None, max_steps=6)


def _shape(steps: list[PlanStep]) -> list[tuple[str, str, list[str]]]:
    return [(s.id, s.node, s.depends_on) for s in steps]


# Heuristic decomposition (no model)


def test_sequence_markers_chain_a_tool_step_into_a_writing_step(offline: Planner) -> None:
    outcome = offline.plan("First calculate 12 * 12, then write a haiku about the result.")

    assert outcome.method == "heuristic" and outcome.usage is None
    assert _shape(outcome.steps) == [("s1", "tool_executor", []), ("s2", "llm_agent", ["s1"])]
    assert outcome.steps[0].inputs == {"request": "calculate 12 * 12"}


def test_independent_gathering_steps_run_in_parallel_before_the_synthesis(offline: Planner) -> None:
    prompt = (
        "Check our travel policy in the knowledge base for hotel limits, search the web for hotel prices "
        "in Paris, and write a summary of what a three-night trip would cost."
    )

    outcome = offline.plan(prompt)

    assert _shape(outcome.steps) == [
        ("s1", "grounding", []),
        ("s2", "tool_executor", []),
        ("s3", "llm_agent", ["s1", "s2"]),
    ]
    assert [s.id for s in next_wave(outcome.steps, set())] == ["s1", "s2"]
    assert outcome.steps[0].inputs["query"].startswith("Check our travel policy")


def test_a_numbered_list_becomes_ordered_steps_on_the_routed_nodes(offline: Planner) -> None:
    prompt = (
        "Do the following: 1) analyze churn by customer cohort for the last quarter "
        "2) search the web for current competitor pricing 3) draft a pricing recommendation"
    )

    outcome = offline.plan(prompt)

    assert _shape(outcome.steps) == [
        ("s1", "external_agent", []),
        ("s2", "tool_executor", ["s1"]),
        ("s3", "llm_agent", ["s1", "s2"]),
    ]
    assert outcome.steps[2].description == "Draft a pricing recommendation"


def test_a_back_reference_makes_a_step_depend_on_the_previous_one(offline: Planner) -> None:
    outcome = offline.plan(
        "Look up the current weather in Oslo and Bergen, compare them, and suggest which city to visit."
    )

    steps = outcome.steps
    assert [s.node for s in steps] == ["tool_executor", "llm_agent", "llm_agent"]
    assert steps[1].depends_on == ["s1"]  # "them"
    assert steps[2].depends_on == ["s2"]
    assert steps[0].description == "Look up the current weather in Oslo and Bergen"


def test_a_single_clause_still_gets_two_steps_that_say_why(offline: Planner) -> None:
    gather = offline.plan("What does our employee handbook say about parental leave?")
    think = offline.plan("Tell me a story about a brave little toaster.")

    assert _shape(gather.steps) == [("s1", "grounding", []), ("s2", "llm_agent", ["s1"])]
    assert "one clause" in gather.steps[1].description
    assert _shape(think.steps) == [("s1", "llm_agent", []), ("s2", "llm_agent", ["s1"])]
    assert all("brave little toaster" in s.description for s in think.steps)


def test_plans_come_from_the_request_not_a_template(offline: Planner) -> None:
    a = offline.plan("Collect the open bugs, group them by component, and write a triage report.")
    b = offline.plan("Pick three sci-fi novels, summarize each, and rank them by originality.")

    assert [s.description for s in a.steps] == [
        "Collect the open bugs",
        "Group them by component",
        "Write a triage report",
    ]
    assert [s.description for s in b.steps] == [
        "Pick three sci-fi novels",
        "Summarize each",
        "Rank them by originality",
    ]


def test_more_clauses_than_allowed_merge_into_the_last_step(router: IntentRouter) -> None:
    prompt = "Find the venue, book the caterer, print the badges, send the invites, and write the agenda."

    steps = Planner(router, None, max_steps=3).plan(prompt).steps

    assert len(steps) == 3
    assert steps[2].description == "Print the badges; send the invites; write the agenda"
    validate_plan(steps, 3)


# Model plans


def test_a_valid_model_plan_is_used_as_is(router: IntentRouter) -> None:
    llm = ScriptedLLM([VALID], usage=PLAN_USAGE)

    outcome = Planner(router, llm, max_steps=4).plan("Research hotels and flights, then write an itinerary.")

    assert outcome.method == "llm"
    assert _shape(outcome.steps) == [
        ("s1", "tool_executor", []),
        ("s2", "grounding", []),
        ("s3", "llm_agent", ["s1", "s2"]),
    ]
    assert outcome.usage == TokenUsage(tokens_in=300, tokens_out=80)
    schema = llm.calls[0]["response_format"]
    assert schema["properties"]["steps"]["maxItems"] == 4


@pytest.mark.parametrize(
    "broken",
    [
        "Sure! Step one: search. Step two: write.",
        _plan_json(_step("s1"), _step("s2", depends_on=["s3"]), _step("s3")),  # forward reference
        _plan_json(_step("s1"), _step("s1")),  # duplicate id
        _plan_json(_step("s1", node="teleporter"), _step("s2")),  # unknown node
        _plan_json(_step("s1")),  # too short
        _plan_json(*[_step(f"s{i}") for i in range(1, 7)]),  # over the cap of 4
    ],
)
def test_a_malformed_model_plan_is_repaired_on_the_retry(router: IntentRouter, broken: str) -> None:
    llm = ScriptedLLM([broken, VALID], usage=PLAN_USAGE)

    outcome = Planner(router, llm, max_steps=4).plan("Research hotels and flights, then write an itinerary.")

    assert outcome.method == "llm"
    assert len(outcome.steps) == 3
    assert outcome.usage == TokenUsage(tokens_in=600, tokens_out=160)
    repair = llm.calls[1]["messages"]
    assert repair[-2].role == "assistant" and repair[-2].content == broken
    assert repair[-1].role == "user" and "invalid" in repair[-1].content


def test_a_plan_invalid_twice_falls_back_to_the_heuristic_and_says_so(router: IntentRouter) -> None:
    llm = ScriptedLLM(["not json", _plan_json(_step("s1"))], usage=PLAN_USAGE)

    outcome = Planner(router, llm, max_steps=4).plan("First calculate 12 * 12, then write a haiku about it.")

    assert outcome.method == "heuristic"
    assert outcome.note is not None and "at least 2 steps" in outcome.note
    assert _shape(outcome.steps) == [("s1", "tool_executor", []), ("s2", "llm_agent", ["s1"])]
    assert outcome.usage == TokenUsage(tokens_in=600, tokens_out=160)


def test_a_plan_invalid_twice_is_refused_cleanly_when_configured(router: IntentRouter) -> None:
    llm = ScriptedLLM(["not json", "still not json"], usage=PLAN_USAGE)
    planner = Planner(router, llm, max_steps=4, on_invalid="refuse")

    with pytest.raises(ModelResponseError) as caught:
        planner.plan("Research hotels and flights, then write an itinerary.")

    assert caught.value.code == "model_error"
    assert "no JSON object" in caught.value.details["reason"]


def test_an_unavailable_model_propagates_for_the_state_machine_to_retry(router: IntentRouter) -> None:
    llm = ScriptedLLM([ModelUnavailableError("model down")], usage=PLAN_USAGE)

    with pytest.raises(ModelUnavailableError):
        Planner(router, llm, max_steps=4).plan("Research hotels and flights, then write an itinerary.")


# Validation and waves


def _steps(*specs: tuple[str, list[str]]) -> list[PlanStep]:
    return [PlanStep(id=i, description=f"step {i}", node="llm_agent", depends_on=d) for i, d in specs]


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (_steps(("a", [])), "at least 2"),
        (_steps(("a", []), ("b", []), ("c", []), ("d", [])), "at most 3"),
        (_steps(("a", []), ("a", [])), "duplicate"),
        (_steps(("a", ["a"]), ("b", [])), "not an earlier step"),
        (_steps(("a", ["b"]), ("b", ["a"])), "not an earlier step"),  # a cycle
        (_steps(("a", []), ("b", ["zzz"])), "does not exist"),
    ],
)
def test_validate_plan_rejects_structural_errors(steps: list[PlanStep], message: str) -> None:
    with pytest.raises(PlanValidationError, match=message):
        validate_plan(steps, max_steps=3)


def test_next_wave_runs_independent_steps_together_in_dependency_order() -> None:
    plan = _steps(("a", []), ("b", []), ("c", ["a"]), ("d", ["b", "c"]))

    waves, done = [], set[str]()
    while wave := next_wave(plan, done):
        waves.append([s.id for s in wave])
        done |= {s.id for s in wave}

    assert waves == [["a", "b"], ["c"], ["d"]]
    assert next_wave(plan, {"a", "b", "c", "d"}) == []
