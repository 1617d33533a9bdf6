"""Planner: decompose a multi-step request into a small DAG of steps the state machine runs in waves.

With a real model: one call for a JSON plan (structured output), validated with pydantic and
:func:`validate_plan`. An invalid plan gets one repair attempt with the validation error in the
conversation. If the repair is invalid too, the default is the offline heuristic
(:mod:`orchestrator.reasoning.decompose`): it always yields a valid plan from the request's own
clauses, so the run still answers, and the outcome says so: ``source`` is ``rule-based`` and
``rejected`` the model plan's last validation error (the planner node logs it with the run id and
puts it in the run's trace, record and response).
``on_invalid="refuse"`` raises :class:`~orchestrator.errors.ModelResponseError` instead.
Model *failures* (unavailable, throttled) are not caught: they are transient errors the state
machine retries.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

from pydantic import BaseModel, Field, ValidationError

from orchestrator.clients.llm.base import ChatMessage, ChatResult, LLMClient, TokenUsage
from orchestrator.errors import ModelResponseError
from orchestrator.reasoning.decompose import INPUT_KEY, heuristic_plan
from orchestrator.state import NodeName, PlanSource, PlanStep, clip

if TYPE_CHECKING:
    from orchestrator.reasoning.router import IntentRouter

logger = logging.getLogger(__name__)

_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
_NODES = list(get_args(NodeName))


class PlanValidationError(ValueError):
    """A plan breaks a structural rule (size, ids, dependencies)."""


@dataclass(frozen=True)
class PlanOutcome:
    steps: list[PlanStep]
    method: Literal["llm", "heuristic"]
    #: Tokens of every model call made for this plan (None when no model ran).
    usage: TokenUsage | None = None
    #: Why the heuristic was used although a model is configured.
    note: str | None = None
    #: Every model call made for this plan, so each is priced by its own model.
    calls: tuple[ChatResult, ...] = ()
    #: Why the model's plan was rejected (the last validation error); None when it was not.
    rejected: str | None = None

    @property
    def source(self) -> PlanSource:
        """Who made the plan: the model, or the rule-based decomposition."""
        return "model" if self.method == "llm" else "rule-based"


class _PlanDraft(BaseModel):
    steps: list[PlanStep] = Field(min_length=1)


def validate_plan(steps: list[PlanStep], max_steps: int) -> list[PlanStep]:
    """Check a plan's structure; return it unchanged when valid.

    Rules: 2 to ``max_steps`` steps; unique ids; every ``depends_on`` names an *earlier* step.
    Pointing only backwards makes the graph acyclic by construction, so cycles (including a step
    depending on itself) are rejected by the same check.
    """
    if len(steps) < 2:
        raise PlanValidationError(f"a plan needs at least 2 steps, got {len(steps)}")
    if len(steps) > max_steps:
        raise PlanValidationError(f"a plan may have at most {max_steps} steps, got {len(steps)}")
    seen: set[str] = set()
    all_ids = {step.id for step in steps}
    for step in steps:
        if step.id in seen:
            raise PlanValidationError(f"duplicate step id '{step.id}'")
        for dependency in step.depends_on:
            if dependency not in seen:
                problem = "is not an earlier step" if dependency in all_ids else "does not exist"
                raise PlanValidationError(
                    f"step '{step.id}' depends on '{dependency}', which {problem}; "
                    "list steps in order and depend only on earlier ids"
                )
        seen.add(step.id)
    return steps


def next_wave(plan: list[PlanStep], done: set[str]) -> list[PlanStep]:
    """Every step not done yet whose dependencies are all done: they run in parallel, in plan order."""
    return [step for step in plan if step.id not in done and all(d in done for d in step.depends_on)]


def plan_schema(max_steps: int) -> dict[str, object]:
    """The JSON schema a model's plan must follow."""
    return {
        "title": "plan",
        "type": "object",
        "properties": {
            "steps": {
                "type": "array",
                "minItems": 2,
                "maxItems": max_steps,
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "description": {"type": "string"},
                        "node": {"type": "string", "enum": _NODES},
                        "inputs": {"type": "object"},
                        "depends_on": {"type": "array", "items": {"type": "string"}},
                    },
                    "required": ["id", "description", "node", "depends_on"],
                },
            }
        },
        "required": ["steps"],
    }


def _system_prompt(max_steps: int) -> str:
    inputs = ", ".join(f"{node} reads inputs.{key}" for node, key in INPUT_KEY.items())
    return (
        "You plan multi-step requests for an AI orchestrator. Split the user's request into 2 to "
        f"{max_steps} steps. Each step runs on one node: llm_agent (reasoning, writing, comparing, "
        "summarising), tool_executor (web search, HTTP APIs, running code, calculation, current "
        "time), grounding (retrieval from the user's own documents), external_agent (customer and "
        f"business analytics: churn, retention, cohorts, revenue, forecasts). {inputs}. "
        "Use ids s1, s2, …; list steps in execution order; depends_on may name only earlier ids and "
        "only when a step needs that step's output (independent steps run in parallel). "
        'Reply with JSON only: {"steps": [{"id", "description", "node", "inputs", "depends_on"}]}.'
    )


def _add(total: TokenUsage | None, result: ChatResult) -> TokenUsage:
    base = total or TokenUsage()
    return TokenUsage(
        tokens_in=base.tokens_in + result.usage.tokens_in,
        tokens_out=base.tokens_out + result.usage.tokens_out,
    )


class Planner:
    def __init__(
        self,
        router: IntentRouter,
        llm: LLMClient | None,
        max_steps: int,
        *,
        on_invalid: Literal["heuristic", "refuse"] = "heuristic",
    ) -> None:
        if max_steps < 2:
            raise ValueError("max_steps must be at least 2")
        self.router = router
        self.llm = llm
        self.max_steps = max_steps
        self.on_invalid = on_invalid

    def plan(self, prompt: str, *, deadline: float | None = None) -> PlanOutcome:
        if self.llm is None or not self.llm.is_real_model:
            return PlanOutcome(steps=self._heuristic(prompt), method="heuristic")
        return self._plan_with_model(self.llm, prompt, deadline)

    def _heuristic(self, prompt: str) -> list[PlanStep]:
        return validate_plan(heuristic_plan(prompt, self.router, self.max_steps), self.max_steps)

    def _plan_with_model(self, llm: LLMClient, prompt: str, deadline: float | None) -> PlanOutcome:
        messages = [
            ChatMessage(role="system", content=_system_prompt(self.max_steps)),
            ChatMessage(role="user", content=prompt),
        ]
        schema = plan_schema(self.max_steps)
        usage: TokenUsage | None = None
        calls: list[ChatResult] = []
        error = ""
        for attempt in range(2):
            result = llm.chat(messages, response_format=schema, deadline=deadline)
            usage = _add(usage, result)
            calls.append(result)
            try:
                return PlanOutcome(
                    steps=self._parse(result.text), method="llm", usage=usage, calls=tuple(calls)
                )
            except (PlanValidationError, ValidationError, ValueError) as exc:
                error = str(exc)
                logger.warning("model plan invalid (attempt %d): %s", attempt + 1, error)
                messages += [
                    ChatMessage(role="assistant", content=result.text),
                    ChatMessage(
                        role="user",
                        content=f"That plan is invalid: {error}\nReply with a corrected JSON plan only.",
                    ),
                ]
        if self.on_invalid == "refuse":
            raise ModelResponseError(
                "The model did not produce a valid plan for this request.", details={"reason": error[:500]}
            )
        note = f"model plan invalid twice ({error[:200]}); used the heuristic decomposition"
        return PlanOutcome(
            steps=self._heuristic(prompt),
            method="heuristic",
            usage=usage,
            note=note,
            calls=tuple(calls),
            rejected=clip(error, 300),
        )

    def _parse(self, text: str) -> list[PlanStep]:
        match = _JSON_OBJECT.search(text or "")
        if match is None:
            raise PlanValidationError("the reply contains no JSON object")
        draft = _PlanDraft.model_validate(json.loads(match.group(0)))
        return validate_plan(draft.steps, self.max_steps)
