"""Tool executor node: choose tool calls for a request, and run one call per Map iteration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrator.errors import ValidationError
from orchestrator.nodes.base import Invocation, Node
from orchestrator.state import GraphState, NodeResult, ToolCall, ToolResult, truncate

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


def run_call(call: ToolCall, tenant_id: str, tools: ToolRegistry, settings: Settings) -> ToolResult:
    """Run one call with the tools ``tenant_id`` may use (the global ones and its own)."""
    from orchestrator.tools.executor import execute_tool_call

    return execute_tool_call(call, tools.for_tenant(tenant_id), settings)


@node.action("select")
def select(call: Invocation, deps: ToolDeps) -> GraphState:
    """Decide which tools to call; the state machine then runs them in parallel (Map)."""
    from orchestrator.tools.selection.selector import select_tool_calls

    state = call.state
    outcome = select_tool_calls(state.prompt, deps.tools.for_tenant(state.tenant_id), deps.llm)
    call.meter.record_result(outcome.result)
    state.tool_calls = outcome.calls
    return state


@node.action("execute")
def execute(call: Invocation, deps: ToolDeps) -> ToolResult:
    if call.event.call is None:
        raise ValidationError(f"{node.name}: action 'execute' needs 'call'")
    return run_call(call.event.call, call.event.tenant_id, deps.tools, deps.settings)


@node.action("step")
def run_step(call: Invocation, deps: ToolDeps) -> NodeResult:
    """A plan step that needs tools: select and run them in sequence inside this one invocation."""
    from orchestrator.tools.selection.selector import select_tool_calls

    state, step = call.state, call.step
    request = str(step.inputs.get("request") or step.description)
    outcome = select_tool_calls(request, deps.tools.for_tenant(state.tenant_id), deps.llm)
    call.meter.record_result(outcome.result)
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
