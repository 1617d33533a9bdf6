"""LLM agent node: answer with the model, offering tools, within the conversation's history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestrator.nodes import prompts
from orchestrator.nodes.base import Invocation, Node
from orchestrator.nodes.tracing import tool_decision
from orchestrator.state import Citation, GraphState, NodeResult, NodeUsage, Response, truncate

if TYPE_CHECKING:
    from orchestrator.agent.loop import AgentOutcome
    from orchestrator.clients.llm.base import ChatMessage, LLMClient
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


def _history(state: GraphState, deps: AgentDeps) -> list[tuple[str, str]]:
    """Earlier turns, oldest first: the client's own when it sent them, else from memory."""
    if state.client is not None and state.client.history is not None:
        return [(m.role, m.content) for m in state.client.history if m.role in ("user", "assistant")]
    turns = deps.conversations.recent(
        state.tenant_id, state.user_id, state.session_id, deps.settings.history_max_turns
    )
    history: list[tuple[str, str]] = []
    for turn in turns:
        history += [("user", turn.prompt), ("assistant", turn.response)]
    return history


def _history_budget(state: GraphState, settings: Settings, system: str, message: str) -> int:
    """Memory's history gets its configured budget; a client's conversation gets what the model's
    context leaves after the system prompt, the prompt, follow-ups and the answer."""
    from orchestrator.clients.llm.pricing import estimate_tokens

    client = state.client
    if client is None or client.history is None:
        return settings.llm_history_token_budget
    used = estimate_tokens(system) + estimate_tokens(message)
    used += sum(estimate_tokens(m.content) for m in client.followups)
    return max(0, settings.llm_context_tokens - _max_tokens(state, settings) - used)


def _max_tokens(state: GraphState, settings: Settings) -> int:
    asked = state.client.max_tokens if state.client is not None else None
    return min(asked, settings.llm_max_output_tokens) if asked else settings.llm_max_tokens


def _options(state: GraphState, settings: Settings) -> dict[str, Any]:
    """Per-call model options a client chose (only those it set, so providers keep their defaults)."""
    client = state.client
    if client is None:
        return {}
    return {
        "response_format": client.response_format,
        "max_tokens": _max_tokens(state, settings) if client.max_tokens else None,
        "temperature": client.temperature,
    }


def _followups(state: GraphState) -> list[ChatMessage]:
    from orchestrator.clients.llm.base import ChatMessage

    if state.client is None:
        return []
    return [
        ChatMessage(role=m.role, content=m.content, tool_call_id=m.tool_call_id, tool_calls=m.tool_calls)
        for m in state.client.followups
    ]


def _run(
    system: str, message: str, call: Invocation, deps: AgentDeps, *, with_history: bool, stream: bool = False
) -> AgentOutcome:
    from orchestrator.agent.loop import build_messages, run_agent
    from orchestrator.clients.llm.allowlist import chosen_model
    from orchestrator.clients.llm.base import ToolSpec
    from orchestrator.nodes.tool_executor import run_call

    state, settings = call.state, deps.settings
    # Checked again here: runs started without the API (EventBridge) never reach an unlisted model.
    model = chosen_model(state.metadata, settings)
    history = _history(state, deps) if with_history else []
    budget = _history_budget(state, settings, system, message)
    messages = build_messages(system, history, message, budget)
    client = state.client if with_history else None
    if client is not None:
        messages += _followups(state)
    client_tools = [ToolSpec(**t.model_dump()) for t in client.tools] if client is not None else []
    tools = deps.tools.for_tenant(state.tenant_id)
    # The offline stand-in never calls tools, so offering them would only cost prompt space.
    # Tools that need a person's approval are chosen by "Select tools", where the run can wait.
    # A client's own tools replace the registry's: a call to one goes back to the client.
    specs = client_tools or (
        [t.to_spec() for t in tools.list() if not t.requires_approval]
        if deps.llm.is_real_model
        and settings.llm_max_tool_rounds > 0
        and not (state.client is not None and state.client.direct)
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
        options=_options(state, settings) if with_history else None,
        return_calls=bool(client_tools),
        on_token=(lambda text: call.emit("token", {"text": text})) if stream and call.progress else None,
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
    outcome = _run(
        prompts.system_prompt(state), prompts.user_message(state), call, deps, with_history=True, stream=True
    )
    state.tool_calls += outcome.tool_calls
    state.tool_results += outcome.tool_results
    if outcome.returned_calls:
        call.decision = tool_decision([c.name for c in outcome.returned_calls], "client")
    elif outcome.tool_calls:
        call.decision = tool_decision([c.name for c in outcome.tool_calls], "model")
    last = outcome.calls[-1] if outcome.calls else None
    state.response = Response(
        text=outcome.text,
        citations=_citations(outcome.text, state),
        provider=deps.llm.provider,
        model=call.meter.model,
        complete=is_complete(outcome) or bool(outcome.returned_calls),
        finish_reason="tool_calls" if outcome.returned_calls else (last.finish_reason if last else None),
        client_tool_calls=outcome.returned_calls,
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
