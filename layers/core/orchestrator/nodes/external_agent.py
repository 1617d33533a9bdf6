"""External agent node: hand the request to the configured specialised agent over HTTP."""

from __future__ import annotations

from typing import Any

from orchestrator import services
from orchestrator.nodes._dispatch import handle as _handle
from orchestrator.nodes._dispatch import require_state, require_step, timed, usage
from orchestrator.state import GraphState, NodeEvent, NodeResult, Response, truncate

NODE = "external_agent"

NOT_CONFIGURED = (
    "No external agent is configured (EXTERNAL_AGENT_BASE_URL is unset), so this request "
    "was not sent anywhere. Configure the agent's address to enable this route."
)


def _call(prompt: str, state: GraphState) -> tuple[str, dict[str, Any], str | None, bool]:
    client = services.external_agent()
    if client is None:
        return NOT_CONFIGURED, {}, None, False
    reply = client.run(
        prompt,
        user_id=state.user_id,
        session_id=state.session_id,
        metadata=state.metadata,
        run_id=state.run_id,
    )
    return reply.text, reply.data, reply.agent, True


def run(event: NodeEvent) -> GraphState:
    state: GraphState = require_state(event, NODE)
    with timed() as watch:
        text, data, agent, ok = _call(state.prompt, state)
    state.response = Response(text=text, provider="external_agent", model=agent)
    state.results.append(
        NodeResult(node=NODE, ok=ok, output=truncate(text), data=data, error=None if ok else "not_configured")
    )
    state.add_usage(NODE, usage(watch.elapsed_ms, provider="external_agent", model=agent))
    return state


def run_step(event: NodeEvent) -> NodeResult:
    state: GraphState = require_state(event, NODE)
    step = require_step(event, NODE)
    prompt = str(step.inputs.get("prompt") or step.description)
    with timed() as watch:
        text, data, agent, ok = _call(prompt, state)
    return NodeResult(
        node=NODE,
        step_id=step.id,
        ok=ok,
        output=truncate(text),
        data=data,
        error=None if ok else "not_configured",
        usage=usage(watch.elapsed_ms, provider="external_agent", model=agent),
    )


def handle(event: dict[str, Any]) -> dict[str, Any]:
    return _handle(NODE, event, {"run": run, "step": run_step})
