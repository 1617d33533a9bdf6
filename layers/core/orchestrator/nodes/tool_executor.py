"""Tool executor node: choose tool calls for a request, and run one call per Map iteration."""

from __future__ import annotations

from typing import Any

from orchestrator import services
from orchestrator.config import get_settings
from orchestrator.errors import ValidationError
from orchestrator.nodes._dispatch import handle as _handle
from orchestrator.nodes._dispatch import require_state, require_step, timed, usage
from orchestrator.state import GraphState, NodeEvent, NodeResult, ToolCall, ToolResult, truncate

NODE = "tool_executor"


def select(event: NodeEvent) -> GraphState:
    """Decide which tools to call; the state machine then runs them in parallel (Map)."""
    from orchestrator.tools.selector import select_tool_calls

    state: GraphState = require_state(event, NODE)
    with timed() as watch:
        tools = services.tool_registry().for_tenant(state.tenant_id)
        outcome = select_tool_calls(state.prompt, tools, services.llm_client())
    state.tool_calls = outcome.calls
    state.add_usage(NODE, usage(watch.elapsed_ms, outcome.usage))
    return state


def run_call(call: ToolCall, tenant_id: str) -> ToolResult:
    """Run one call with the tools ``tenant_id`` may use (the global ones and its own)."""
    from orchestrator.tools.executor import execute_tool_call

    return execute_tool_call(call, services.tool_registry().for_tenant(tenant_id), get_settings())


def execute(event: NodeEvent) -> ToolResult:
    if event.call is None:
        raise ValidationError(f"{NODE}: action 'execute' needs 'call'")
    return run_call(event.call, event.tenant_id)


def run_step(event: NodeEvent) -> NodeResult:
    """A plan step that needs tools: select and run them in sequence inside this one invocation."""
    from orchestrator.tools.selector import select_tool_calls

    state: GraphState = require_state(event, NODE)
    step = require_step(event, NODE)
    request = str(step.inputs.get("request") or step.description)
    with timed() as watch:
        tools = services.tool_registry().for_tenant(state.tenant_id)
        outcome = select_tool_calls(request, tools, services.llm_client())
        results = [run_call(call, state.tenant_id) for call in outcome.calls]
    if not results:
        output, ok = f"No tool matched this step: {request}", False
    else:
        output = "\n".join(f"{r.name}: {r.output if r.ok else 'error: ' + str(r.error)}" for r in results)
        ok = all(r.ok for r in results)
    return NodeResult(
        node=NODE,
        step_id=step.id,
        ok=ok,
        output=truncate(output),
        data={"tool_results": [r.model_dump(mode="json") for r in results]},
        error=None if ok else "tool_failed" if results else "no_tool_matched",
        usage=usage(watch.elapsed_ms, outcome.usage),
    )


def handle(event: dict[str, Any]) -> dict[str, Any]:
    return _handle(NODE, event, {"select": select, "execute": execute, "step": run_step})
