"""External agent node: hand the request to the external agent the router (or the plan) named.

Agents are configuration (:mod:`orchestrator.agents`): the intent's ``agent`` (a plan step's
``inputs.agent``) names one; none names the default agent, ``EXTERNAL_AGENT_BASE_URL``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestrator.nodes.base import Invocation, Node
from orchestrator.state import GraphState, NodeResult, Response, truncate

if TYPE_CHECKING:
    from orchestrator.agents import AgentRegistry

NOT_CONFIGURED = (
    "No external agent is configured (EXTERNAL_AGENT_BASE_URL is unset), so this request "
    "was not sent anywhere. Configure the agent's address to enable this route."
)
UNKNOWN_AGENT = (
    "No external agent named '{name}' is configured, so this request was not sent anywhere. "
    "Add it to the external agents configuration to enable this route."
)


@dataclass(frozen=True)
class ExternalAgentDeps:
    agents: AgentRegistry


node: Node[ExternalAgentDeps] = Node(
    "external_agent", deps=lambda c: ExternalAgentDeps(agents=c.external_agents)
)


def _call(
    prompt: str, call: Invocation, deps: ExternalAgentDeps, name: str | None
) -> tuple[str, dict[str, Any], bool]:
    from orchestrator.agents import DEFAULT_AGENT

    state = call.state
    call.meter.provider = "external_agent"
    agent = deps.agents.get(name or DEFAULT_AGENT)
    if agent is None:
        return (UNKNOWN_AGENT.format(name=name) if name else NOT_CONFIGURED), {}, False
    reply = agent.run(
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
    text, data, ok = _call(state.prompt, call, deps, state.intent.agent if state.intent else None)
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
    agent = step.inputs.get("agent")
    text, data, ok = _call(
        str(step.inputs.get("prompt") or step.description),
        call,
        deps,
        agent if isinstance(agent, str) else None,
    )
    return NodeResult(
        node=node.name,
        step_id=step.id,
        ok=ok,
        output=truncate(text),
        data=data,
        error=None if ok else "not_configured",
    )


handle = node.handle
