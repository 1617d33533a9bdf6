"""Tool executor node: choose tool calls for a request, and run one call per Map iteration.

Selecting marks the turn's approval ``required`` when a chosen tool is marked
``requires_approval``; the state machine then waits for a person (asynchronous runs) or hands
the turn over to one (chat). A rejected or unanswered approval ends in :func:`decline`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrator.errors import ApprovalRejectedError, OrchestratorError, ValidationError
from orchestrator.nodes.base import Invocation, Node
from orchestrator.nodes.tracing import tool_decision
from orchestrator.state import (
    Approval,
    GraphState,
    NodeResult,
    Response,
    ToolCall,
    ToolResult,
    truncate,
    utc_now,
)

if TYPE_CHECKING:
    from orchestrator.clients.llm.base import LLMClient
    from orchestrator.config import Settings
    from orchestrator.tools.registry import ToolRegistry


@dataclass(frozen=True)
class ToolDeps:
    tools: ToolRegistry
    llm: LLMClient
    settings: Settings


node: Node[ToolDeps] = Node(
    "tool_executor", deps=lambda c: ToolDeps(tools=c.tools, llm=c.llm, settings=c.settings)
)


def run_call(
    call: ToolCall, tenant_id: str, tools: ToolRegistry, settings: Settings, *, approved: bool = False
) -> ToolResult:
    """Run one call with the tools ``tenant_id`` may use (the global ones and its own)."""
    from orchestrator.tools.executor import execute_tool_call

    return execute_tool_call(call, tools.for_tenant(tenant_id), settings, approved=approved)


def needs_approval(calls: list[ToolCall], tools: ToolRegistry) -> list[ToolCall]:
    """The calls of tools marked ``requires_approval`` (unknown tools fail when they run)."""
    waiting = []
    for candidate in calls:
        try:
            if tools.get(candidate.name).requires_approval:
                waiting.append(candidate)
        except OrchestratorError:
            continue
    return waiting


@node.action("select")
def select(call: Invocation, deps: ToolDeps) -> GraphState:
    """Decide which tools to call; the state machine then runs them in parallel (Map)."""
    from orchestrator.tools.selection.selector import select_tool_calls

    state = call.state
    tools = deps.tools.for_tenant(state.tenant_id)
    outcome = select_tool_calls(state.prompt, tools, deps.llm, deadline=call.deadline)
    call.meter.record_result(outcome.result)
    state.tool_calls = outcome.calls
    call.decision = tool_decision([c.name for c in outcome.calls], outcome.chosen_by)
    waiting = needs_approval(outcome.calls, tools)
    state.approval = (
        Approval(status="required", calls=waiting, timeout_s=deps.settings.approval_timeout_s)
        if waiting
        else Approval()
    )
    return state


@node.action("execute")
def execute(call: Invocation, deps: ToolDeps) -> ToolResult:
    tool_call, approval = call.event.call, call.event.approval
    if tool_call is None:
        raise ValidationError(f"{node.name}: action 'execute' needs 'call'")
    approved = approval is not None and approval.covers(tool_call)
    return run_call(tool_call, call.event.tenant_id, deps.tools, deps.settings, approved=approved)


@node.action("decline")
def decline(call: Invocation, deps: ToolDeps) -> GraphState:
    """The approval was rejected or timed out: no call runs, and the answer says so and why."""
    state, failure = call.state, call.event.failure or {}
    approval = state.approval
    if failure.get("Error") == ApprovalRejectedError.__name__:
        decision = _decision(failure.get("Cause"))
        approval.status = "rejected"
        approval.decided_by = decision.get("decided_by")
        approval.decided_at = decision.get("decided_at") or utc_now()
        approval.reason = decision.get("reason") or "no reason given"
        why = f"rejected by {approval.decided_by or 'a reviewer'}: {approval.reason}"
    else:  # States.Timeout: nobody decided within APPROVAL_TIMEOUT_S
        approval.status = "timed_out"
        approval.decided_at = utc_now()
        approval.reason = f"no decision within {approval.timeout_s} s"
        why = f"rejected because {approval.reason}"
    names = ", ".join(sorted({c.name for c in approval.calls})) or "the requested tools"
    state.tool_results = [
        ToolResult(call_id=c.id, name=c.name, ok=False, error=f"approval_{approval.status}: {why}")
        for c in state.tool_calls
    ]
    state.response = Response(
        text=f"I did not run {names}: the action was {why}. Nothing was sent.",
        provider=None,
        model=None,
    )
    return state


def _decision(cause: object) -> dict[str, str]:
    """The reject endpoint's ``Cause``: JSON ``{"reason", "decided_by", "decided_at"}``."""
    if isinstance(cause, str):
        try:
            parsed = json.loads(cause)
        except ValueError:
            return {"reason": truncate(cause, 500)}
        if isinstance(parsed, dict):
            return {k: truncate(str(v), 500) for k, v in parsed.items() if v is not None}
    return {}


@node.action("step")
def run_step(call: Invocation, deps: ToolDeps) -> NodeResult:
    """A plan step that needs tools: select and run them in sequence inside this one invocation."""
    from orchestrator.tools.selection.selector import select_tool_calls

    state, step = call.state, call.step
    request = str(step.inputs.get("request") or step.description)
    outcome = select_tool_calls(
        request, deps.tools.for_tenant(state.tenant_id), deps.llm, deadline=call.deadline
    )
    call.meter.record_result(outcome.result)
    call.decision = tool_decision([c.name for c in outcome.calls], outcome.chosen_by)
    results = [run_call(c, state.tenant_id, deps.tools, deps.settings) for c in outcome.calls]
    if not results:
        output, ok = f"No tool matched this step: {request}", False
    else:
        output = "\n".join(f"{r.name}: {r.output if r.ok else 'error: ' + str(r.error)}" for r in results)
        ok = all(r.ok for r in results)
    return NodeResult(
        node=node.name,
        step_id=step.id,
        ok=ok,
        output=truncate(output),
        data={"tool_results": [r.model_dump(mode="json") for r in results]},
        error=None if ok else "tool_failed" if results else "no_tool_matched",
    )


handle = node.handle
