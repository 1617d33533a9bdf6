"""External agent node: hand the request to the configured specialised agent over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestrator.nodes.base import Invocation, Node
from orchestrator.state import GraphState, NodeResult, Response, truncate

if TYPE_CHECKING:
    from orchestrator.clients.external_agent import ExternalAgentClient

NOT_CONFIGURED = (
    "No external agent is configured (EXTERNAL_AGENT_BASE_URL is unset), so this request "
    "was not sent anywhere. Configure the agent's address to enable this route."
)


@dataclass(frozen=True)
class ExternalAgentDeps:
    agent: ExternalAgentClient | None


node: Node[ExternalAgentDeps] = Node(
    "external_agent", deps=lambda c: ExternalAgentDeps(agent=c.external_agent)
)


def _call(prompt: str, call: Invocation, deps: ExternalAgentDeps) -> tuple[str, dict[str, Any], bool]:
    state = call.state
    call.meter.provider = "external_agent"
    if deps.agent is None:
        return NOT_CONFIGURED, {}, False
    reply = deps.agent.run(
        prompt,
        user_id=state.user_id,
        session_id=state.session_id,
        metadata=state.metadata,
        run_id=state.run_id,
        deadline=call.deadline,
    )
    call.meter.model = reply.agent
    return reply.text, reply.data, True


@node.action("run")
def run(call: Invocation, deps: ExternalAgentDeps) -> GraphState:
    state = call.state
    text, data, ok = _call(state.prompt, call, deps)
    state.response = Response(text=text, provider="external_agent", model=call.meter.model)
    state.results.append(
        NodeResult(
            node=node.name, ok=ok, output=truncate(text), data=data, error=None if ok else "not_configured"
        )
    )
    return state


@node.action("step")
def run_step(call: Invocation, deps: ExternalAgentDeps) -> NodeResult:
    step = call.step
    text, data, ok = _call(str(step.inputs.get("prompt") or step.description), call, deps)
    return NodeResult(
        node=node.name,
        step_id=step.id,
        ok=ok,
        output=truncate(text),
        data=data,
        error=None if ok else "not_configured",
    )


handle = node.handle
