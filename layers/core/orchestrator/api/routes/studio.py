"""What the Studio page reads besides runs: the graph, the effective settings, agents and routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from orchestrator.api.auth import PrincipalDep
from orchestrator.api.deps import SettingsDep
from orchestrator.api.schemas import ErrorBody
from orchestrator.errors import ForbiddenError
from orchestrator.monitoring.graph import Machine, StateMachineGraph, load_graph

router = APIRouter(prefix="/v1/studio", tags=["studio"])


class SettingsView(BaseModel):
    provider: str
    model: str
    fallback_model: str | None = None
    tables: dict[str, str]
    state_machines: dict[str, str | None]
    routes: list[str]
    #: Every setting by name; secrets (keys, tokens, passwords, secret ids) are ``••••`` or null.
    settings: dict[str, Any]


class AgentView(BaseModel):
    name: str
    description: str
    protocol: str
    #: The agent's address without credentials, query or fragment.
    url: str | None = None
    #: The routes whose requests this agent answers.
    intents: list[str] = Field(default_factory=list)


class RouteView(BaseModel):
    name: str
    description: str
    examples: list[str]


class AgentsView(BaseModel):
    agents: list[AgentView]
    routes: list[RouteView]


@router.get("/graph", response_model=StateMachineGraph, responses={503: {"model": ErrorBody}})
def graph(
    settings: SettingsDep, machine: Annotated[Machine, Query(description="chat or runs")] = "chat"
) -> StateMachineGraph:
    """The state machine's states and transitions, read from its ASL definition."""
    arn = settings.chat_state_machine_arn if machine == "chat" else settings.runs_state_machine_arn
    return load_graph(machine, arn=arn, region=settings.aws_region)


@router.get("/settings", response_model=SettingsView, responses={403: {"model": ErrorBody}})
def effective_settings(principal: PrincipalDep, settings: SettingsDep) -> SettingsView:
    """The effective configuration, secrets masked (admins only when authentication is on)."""
    from orchestrator.monitoring.configuration import masked_settings
    from orchestrator.reasoning.routes import load_routes

    if settings.auth_enabled and not principal.is_admin:
        raise ForbiddenError("The configuration is shown to admins only.")
    return SettingsView(
        provider=settings.llm_provider,
        model=settings.llm_default_model,
        fallback_model=settings.llm_fallback_model,
        tables={
            "conversations": settings.conversations_table,
            "cache": settings.cache_table,
            "runs": settings.runs_table,
            "run_events": settings.run_events_table,
            "tools": settings.tools_table,
            "documents": settings.documents_table,
        },
        state_machines={"chat": settings.chat_state_machine_arn, "runs": settings.runs_state_machine_arn},
        routes=load_routes(settings).names,
        settings=masked_settings(settings),
    )


@router.get("/agents", response_model=AgentsView)
def agents(settings: SettingsDep) -> AgentsView:
    """External agents (address without credentials) and the routes with their example utterances."""
    from orchestrator.agents.config import DEFAULT_AGENT, agent_routes, load_agents
    from orchestrator.monitoring.configuration import shown_url
    from orchestrator.reasoning.routes import load_routes

    routes = load_routes(settings)
    configured = load_agents(settings)
    views: list[AgentView] = []
    legacy_url = (settings.external_agent_base_url or "").strip()
    default_route = routes.route(DEFAULT_AGENT)
    if legacy_url:
        views.append(
            AgentView(
                name=DEFAULT_AGENT,
                description=default_route.description if default_route else "The default external agent.",
                protocol=settings.external_agent_protocol,
                url=shown_url(legacy_url),
                intents=[DEFAULT_AGENT],
            )
        )
    for agent in configured.agents:
        views.append(
            AgentView(
                name=agent.name,
                description=agent.description,
                protocol=agent.protocol,
                url=shown_url(agent.url),
                intents=[DEFAULT_AGENT] if agent.name == DEFAULT_AGENT else [agent.name],
            )
        )
    every_route = [*routes.routes, *agent_routes(configured, routes.names)]
    return AgentsView(
        agents=views,
        routes=[RouteView(name=r.name, description=r.description, examples=r.examples) for r in every_route],
    )
