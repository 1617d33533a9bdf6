"""LLM agent node: answer with the model, offering tools, within the conversation's history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrator.nodes import prompts
from orchestrator.nodes.base import Invocation, Node
from orchestrator.state import Citation, GraphState, NodeResult, NodeUsage, Response, truncate

if TYPE_CHECKING:
    from orchestrator.agent.loop import AgentOutcome
    from orchestrator.clients.llm.base import LLMClient
    from orchestrator.config import Settings
    from orchestrator.memory import ConversationMemory
    from orchestrator.tools.registry import ToolRegistry

#: Finish reasons meaning the model stopped before it was done (OpenAI, Bedrock).
CUT_OFF = frozenset({"length", "max_tokens", "content_filter"})


@dataclass(frozen=True)
class AgentDeps:
    llm: LLMClient
    conversations: ConversationMemory
    tools: ToolRegistry
    settings: Settings


node: Node[AgentDeps] = Node(
    "llm_agent",
    deps=lambda c: AgentDeps(llm=c.llm, conversations=c.conversations, tools=c.tools, settings=c.settings),
)


def _run(system: str, message: str, call: Invocation, deps: AgentDeps, *, with_history: bool) -> AgentOutcome:
    from orchestrator.agent.loop import build_messages, run_agent
    from orchestrator.clients.llm.allowlist import chosen_model
    from orchestrator.nodes.tool_executor import run_call

    state, settings = call.state, deps.settings
    # Checked again here: runs started without the API (EventBridge) never reach an unlisted model.
    model = chosen_model(state.metadata, settings)
    history: list[tuple[str, str]] = []
    if with_history:
        turns = deps.conversations.recent(
            state.tenant_id, state.user_id, state.session_id, settings.history_max_turns
        )
        for turn in turns:
            history += [("user", turn.prompt), ("assistant", turn.response)]
    messages = build_messages(system, history, message, settings.llm_history_token_budget)
    tools = deps.tools.for_tenant(state.tenant_id)
    # The offline stand-in never calls tools, so offering them would only cost prompt space.
    # Tools that need a person's approval are chosen by "Select tools", where the run can wait.
    specs = (
        [t.to_spec() for t in tools.list() if not t.requires_approval]
        if deps.llm.is_real_model and settings.llm_max_tool_rounds > 0
        else []
    )
    outcome = run_agent(
        deps.llm,
        messages,
        tools=specs,
        execute_tool=lambda tool_call: run_call(tool_call, state.tenant_id, deps.tools, settings),
        max_rounds=settings.llm_max_tool_rounds,
        model=model,
        deadline=call.deadline,
    )
    for result in outcome.calls:
        call.meter.record_result(result)
    call.meter.provider = deps.llm.provider
    return outcome


def _citations(text: str, state: GraphState) -> list[Citation]:
    cited = [p for p in state.context if f"[{p.source_id}]" in text]
    # A model that used the context without bracketed ids still owes the reader its sources.
    return [p.citation() for p in cited or state.context]


def is_complete(outcome: AgentOutcome) -> bool:
    """An answer worth caching: not empty, and the model was not cut off."""
    last = outcome.calls[-1] if outcome.calls else None
    return bool(outcome.text.strip()) and (last is None or (last.finish_reason or "") not in CUT_OFF)


@node.action("answer")
def answer(call: Invocation, deps: AgentDeps) -> GraphState:
    state = call.state
    if state.tool_results:
        state.add_usage("tool_executor", NodeUsage(latency_ms=sum(r.latency_ms for r in state.tool_results)))
    outcome = _run(prompts.system_prompt(state), prompts.user_message(state), call, deps, with_history=True)
    state.tool_calls += outcome.tool_calls
    state.tool_results += outcome.tool_results
    state.response = Response(
        text=outcome.text,
        citations=_citations(outcome.text, state),
        provider=deps.llm.provider,
        model=call.meter.model,
        complete=is_complete(outcome),
    )
    return state


@node.action("step")
def run_step(call: Invocation, deps: AgentDeps) -> NodeResult:
    step = call.step
    outcome = _run(
        prompts.SYSTEM_BASE, prompts.step_message(step, call.state), call, deps, with_history=False
    )
    return NodeResult(
        node=node.name,
        step_id=step.id,
        output=truncate(outcome.text),
        data={"tool_calls": [c.model_dump() for c in outcome.tool_calls]} if outcome.tool_calls else {},
    )


handle = node.handle
