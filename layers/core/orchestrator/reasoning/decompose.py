"""The offline planner: a transparent decomposition of the request's own clauses.

Rules, in order:
1. Clauses come from :func:`orchestrator.reasoning.text.split_clauses` (list items, sentences,
   ";", and comma/"and"/"then" fragments that start with a task verb).
2. Each clause is scored by the intent router's first stage; the top route's configured ``node``
   runs it (chat → llm_agent, rag → grounding, tool → tool_executor, external_agent → external_agent).
3. Dependencies: a clause opened by a sequence marker ("then", "finally", "2.") or that refers back
   ("it", "them", "the results") depends on the step before it; an llm_agent step composes, so it
   depends on every step since the previous llm_agent step (inclusive); other gathering steps with
   neither marker nor reference are independent and run in parallel.
4. More clauses than ``max_steps``: the tail is merged into the last step. One clause only: a
   gathering step then an answering step (or an outline then an answer), and the step says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.reasoning.text import Clause, split_clauses
from orchestrator.state import NodeName, PlanStep

if TYPE_CHECKING:
    from orchestrator.reasoning.router import IntentRouter
    from orchestrator.reasoning.routes import Route

#: The input key each node reads its request from (see orchestrator.nodes.*).
INPUT_KEY: dict[str, str] = {"grounding": "query", "tool_executor": "request", "external_agent": "prompt"}
_DESCRIPTION_CHARS = 2_000


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:])[:_DESCRIPTION_CHARS]


def node_for(router: IntentRouter, text: str) -> NodeName:
    """The node of the route stage one scores highest for this clause (offline: never a model).

    The top score, not the thresholded answer: a step must run somewhere, and the safety net the
    default route gives an uncertain request is already there in the plan's final llm_agent step.
    """
    route = _top_route(router, text)
    return route.node if route is not None else "llm_agent"


def _top_route(router: IntentRouter, text: str) -> Route | None:
    scores = router.scores(_sentence(text))  # capitalised like the examples the router learnt from
    return router.routes.route(max(scores, key=scores.__getitem__))


def _step(
    index: int, text: str, node: NodeName, depends_on: list[str], router: IntentRouter | None = None
) -> PlanStep:
    key = INPUT_KEY.get(node)
    inputs = {key: text.strip()} if key else {}
    if node == "external_agent" and router is not None:
        # A clause routed to a configured agent's route runs on that agent.
        route = _top_route(router, text)
        if route is not None and route.agent:
            inputs["agent"] = route.agent
    return PlanStep(
        id=f"s{index}",
        description=_sentence(text),
        node=node,
        inputs=inputs,
        depends_on=depends_on,
    )


def _cap(clauses: list[Clause], max_steps: int) -> list[Clause]:
    if len(clauses) <= max_steps:
        return clauses
    tail = clauses[max_steps - 1 :]
    merged = Clause("; ".join(c.text for c in tail), any(c.sequenced for c in tail))
    return [*clauses[: max_steps - 1], merged]


def _single_clause_plan(router: IntentRouter, text: str) -> list[PlanStep]:
    node = node_for(router, text)
    if node != "llm_agent":
        return [
            _step(1, text, node, [], router),
            PlanStep(
                id="s2",
                description=_sentence(
                    f"Answer the request using what step s1 found (the request is one clause: "
                    f"gather with {node}, then answer): {text}"
                ),
                node="llm_agent",
                depends_on=["s1"],
            ),
        ]
    return [
        PlanStep(
            id="s1",
            description=_sentence(f"Outline the parts of an answer (the request is one clause): {text}"),
            node="llm_agent",
        ),
        PlanStep(
            id="s2",
            description=_sentence(f"Write the answer following the outline from step s1: {text}"),
            node="llm_agent",
            depends_on=["s1"],
        ),
    ]


def heuristic_plan(prompt: str, router: IntentRouter, max_steps: int) -> list[PlanStep]:
    """At least two steps, derived from the prompt's own clauses; see the module docstring."""
    _, clauses = split_clauses(prompt)
    if len(clauses) < 2:
        return _single_clause_plan(router, clauses[0].text if clauses else prompt)
    steps: list[PlanStep] = []
    last_composer = 0  # index (1-based) of the latest llm_agent step, 0 when none yet
    for index, clause in enumerate(_cap(clauses, max_steps), start=1):
        node = node_for(router, clause.text)
        depends: set[int] = set()
        if index > 1 and (clause.sequenced or clause.refers_back):
            depends.add(index - 1)
        if node == "llm_agent":
            depends.update(range(max(last_composer, 1), index))
            last_composer = index
        steps.append(_step(index, clause.text, node, [f"s{i}" for i in sorted(depends)], router))
    return steps
