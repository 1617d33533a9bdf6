"""External agents are configuration: a JSON document (a file path, or an SSM parameter), like routes.

::

    {"agents": [
      {"name": "billing", "description": "Invoices, refunds and payment questions.",
       "examples": ["Why was I charged twice this month?", "Refund my last invoice"],
       "url": "https://billing-agent.internal", "protocol": "a2a",
       "auth_secret_id": "/orchestrator/prod/agents/billing"}
    ]}

Each agent becomes a route of the intent router (its examples train the classifier, the route's
name is the agent's name). A request classified on it gets intent ``external_agent`` naming the
agent (``intent.agent``), so the state machine's existing ``external_agent`` branch runs it and
nothing in the ASL names an agent. Agent URLs are operator configuration, not user input; tokens
never are: ``auth_secret_id`` names a Secrets Manager secret, ``auth_token_env`` an environment
variable. The legacy ``EXTERNAL_AGENT_BASE_URL`` stays the agent named ``external_agent``, whose
route is the packaged ``external_agent`` route.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from orchestrator.errors import ConfigurationError
from orchestrator.reasoning.routes import Route
from orchestrator.settings_documents import read_document

if TYPE_CHECKING:
    from orchestrator.config import Settings

#: The agent of ``EXTERNAL_AGENT_BASE_URL``, and of requests whose intent names no agent.
DEFAULT_AGENT = "external_agent"

AgentProtocol = Literal["http", "a2a"]


class ExternalAgentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    description: str = Field(min_length=1)
    #: Utterances this agent should get: they train the router.
    examples: list[str] = Field(min_length=1)
    url: str
    protocol: AgentProtocol = "http"
    #: Secrets Manager secret holding the bearer token (bare, or JSON ``{"token": ...}``).
    auth_secret_id: str | None = None
    #: Environment variable holding the bearer token (local use).
    auth_token_env: str | None = None
    #: The router's confidence threshold for this agent's route; None: the router default.
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    keywords: list[str] = Field(default_factory=list)
    #: One attempt's read timeout; None: EXTERNAL_AGENT_TIMEOUT_S.
    timeout_s: float | None = Field(default=None, gt=0)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return value.rstrip("/")


class ExternalAgentsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agents: list[ExternalAgentConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> ExternalAgentsConfig:
        names = [agent.name for agent in self.agents]
        if len(set(names)) != len(names):
            raise ValueError(f"agent names must be unique, got {names}")
        return self

    def agent(self, name: str) -> ExternalAgentConfig | None:
        return next((agent for agent in self.agents if agent.name == name), None)


def parse_agents(document: Any, *, source: str) -> ExternalAgentsConfig:
    """Validate an agents document (``{"agents": [...]}`` or the bare list); a bad one fails fast."""
    try:
        if isinstance(document, str | bytes):
            document = json.loads(document)
        if isinstance(document, list):
            document = {"agents": document}
        return ExternalAgentsConfig.model_validate(document)
    except (ValueError, ValidationError) as exc:
        raise ConfigurationError(
            f"invalid external agents configuration from {source}: {exc}", details={"source": source}
        ) from exc


def load_agents(settings: Settings) -> ExternalAgentsConfig:
    """``EXTERNAL_AGENTS_CONFIG_PATH`` first, then ``EXTERNAL_AGENTS_SSM_PARAMETER``, else no agents."""
    found = read_document(
        settings.external_agents_config_path, settings.external_agents_ssm_parameter, what="external agents"
    )
    if found is None:
        return ExternalAgentsConfig()
    document, source = found
    return parse_agents(document, source=source)


def agent_routes(agents: ExternalAgentsConfig, route_names: list[str]) -> list[Route]:
    """One router route per configured agent (``external_agent`` already has the packaged route)."""
    routes = []
    for agent in agents.agents:
        if agent.name == DEFAULT_AGENT:
            continue
        if agent.name in route_names:
            raise ConfigurationError(
                f"external agent '{agent.name}' has the name of a route; rename the agent",
                details={"agent": agent.name},
            )
        routes.append(
            Route(
                name=agent.name,
                description=agent.description,
                examples=agent.examples,
                threshold=agent.threshold,
                keywords=agent.keywords,
                node="external_agent",
                agent=agent.name,
            )
        )
    return routes
