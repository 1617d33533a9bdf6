"""LLM agent node: answer with the model, offering tools, within the conversation's history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator import services
from orchestrator.config import get_settings
from orchestrator.nodes import prompts
from orchestrator.nodes._dispatch import handle as _handle
from orchestrator.nodes._dispatch import require_state, require_step, timed
from orchestrator.state import GraphState, NodeEvent, NodeResult, NodeUsage, Response, truncate

if TYPE_CHECKING:
    from orchestrator.agent.loop import AgentOutcome
    from orchestrator.clients.llm.base import LLMClient

NODE = "llm_agent"


def _run(system: str, message: str, state: GraphState, llm: LLMClient, *, with_history: bool) -> AgentOutcome:
    from orchestrator.agent.loop import build_messages, run_agent
    from orchestrator.clients.llm.allowlist import chosen_model
    from orchestrator.nodes.tool_executor import run_call

    settings = get_settings()
    history: list[tuple[str, str]] = []
    if with_history:
        for turn in services.conversations().recent(
            state.tenant_id, state.user_id, state.session_id, settings.history_max_turns
        ):
            history += [("user", turn.prompt), ("assistant", turn.response)]
    messages = build_messages(system, history, message, settings.llm_history_token_budget)
    # The offline stand-in never calls tools, so offering them would only cost prompt space.
    tools = (
        [tool.to_spec() for tool in services.tool_registry().for_tenant(state.tenant_id).list()]
        if llm.is_real_model and settings.llm_max_tool_rounds > 0
        else []
    )
    return run_agent(
        llm,
        messages,
        tools=tools,
        execute_tool=lambda call: run_call(call, state.tenant_id),
        max_rounds=settings.llm_max_tool_rounds,
        # Runs started without the API (EventBridge) meet the same allowlist here.
        model=chosen_model(state.metadata, settings),
    )


def _usage(outcome: AgentOutcome, latency_ms: float, llm: LLMClient) -> NodeUsage:
    from orchestrator.clients.llm.pricing import cost_usd

    table = get_settings().llm_price_table
    tokens_in = sum(call.usage.tokens_in for call in outcome.calls)
    tokens_out = sum(call.usage.tokens_out for call in outcome.calls)
    cost = sum(cost_usd(call.model, call.usage, table) for call in outcome.calls)
    model = outcome.calls[-1].model if outcome.calls else None
    return NodeUsage(
        latency_ms=latency_ms,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        cost_usd=round(cost, 8),
        model=model,
        provider=llm.provider,
    )


def _citations(text: str, state: GraphState) -> list[str]:
    known = [p.source_id for p in state.context]
    cited = [source for source in known if f"[{source}]" in text]
    # A model that used the context without bracketed ids still owes the reader its sources.
    return cited or known


def answer(event: NodeEvent) -> GraphState:
    state: GraphState = require_state(event, NODE)
    if state.tool_results:
        state.add_usage("tool_executor", NodeUsage(latency_ms=sum(r.latency_ms for r in state.tool_results)))
    llm = services.llm_client()
    with timed() as watch:
        outcome = _run(
            prompts.system_prompt(state), prompts.user_message(state), state, llm, with_history=True
        )
    state.tool_calls += outcome.tool_calls
    state.tool_results += outcome.tool_results
    node_usage = _usage(outcome, watch.elapsed_ms, llm)
    state.response = Response(
        text=outcome.text,
        citations=_citations(outcome.text, state),
        provider=llm.provider,
        model=node_usage.model,
    )
    state.add_usage(NODE, node_usage)
    return state


def run_step(event: NodeEvent) -> NodeResult:
    state: GraphState = require_state(event, NODE)
    step = require_step(event, NODE)
    llm = services.llm_client()
    with timed() as watch:
        outcome = _run(prompts.SYSTEM_BASE, prompts.step_message(step, state), state, llm, with_history=False)
    return NodeResult(
        node=NODE,
        step_id=step.id,
        output=truncate(outcome.text),
        data={"tool_calls": [c.model_dump() for c in outcome.tool_calls]} if outcome.tool_calls else {},
        usage=_usage(outcome, watch.elapsed_ms, llm),
    )


def handle(event: dict[str, Any]) -> dict[str, Any]:
    return _handle(NODE, event, {"answer": answer, "step": run_step})
