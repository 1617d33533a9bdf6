"""The external agents' clients by name, built on first use from one ``Settings``."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Protocol

from orchestrator.agents.config import DEFAULT_AGENT, ExternalAgentConfig, ExternalAgentsConfig, load_agents

if TYPE_CHECKING:
    from orchestrator.clients.external_agent import AgentHealth, ExternalAgentReply
    from orchestrator.config import Settings


class AgentClient(Protocol):
    """What the external agent node needs of an agent, whatever its protocol."""

    def run(
        self,
        prompt: str,
        *,
        user_id: str,
        session_id: str,
        metadata: dict[str, Any] | None = None,
        run_id: str,
        deadline: float | None = None,
    ) -> ExternalAgentReply: ...

    def health(self) -> AgentHealth: ...

    def close(self) -> None: ...


class AgentRegistry:
    """Name → client. Clients are built on first use; tests pass ready ones in ``clients``."""

    def __init__(
        self,
        settings: Settings | None = None,
        agents: ExternalAgentsConfig | None = None,
        *,
        clients: dict[str, AgentClient] | None = None,
    ) -> None:
        self._settings = settings
        self._agents = agents or ExternalAgentsConfig()
        self._clients: dict[str, AgentClient] = dict(clients or {})
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> AgentRegistry:
        """The configured agents (file or SSM) plus the legacy ``EXTERNAL_AGENT_BASE_URL`` agent."""
        from orchestrator.errors import ConfigurationError

        agents = load_agents(settings)
        if agents.agent(DEFAULT_AGENT) is not None and (settings.external_agent_base_url or "").strip():
            raise ConfigurationError(
                f"the agent '{DEFAULT_AGENT}' is configured twice: by EXTERNAL_AGENT_BASE_URL and in "
                "the external agents configuration; keep one",
                details={"agent": DEFAULT_AGENT},
            )
        return cls(settings, agents)

    @property
    def names(self) -> list[str]:
        """Every agent that has an address (the legacy one first, when set)."""
        names = list(self._clients)
        legacy = self._settings is not None and bool((self._settings.external_agent_base_url or "").strip())
        if legacy and DEFAULT_AGENT not in names:
            names.insert(0, DEFAULT_AGENT)
        return names + [a.name for a in self._agents.agents if a.name not in names]

    def get(self, name: str) -> AgentClient | None:
        """The agent's client, or None when no agent of that name has an address."""
        client = self._clients.get(name)
        if client is not None:
            return client
        with self._lock:
            client = self._clients.get(name)
            if client is None:
                client = self._build(name)
                if client is not None:
                    self._clients[name] = client
        return client

    def _build(self, name: str) -> AgentClient | None:
        settings = self._settings
        if settings is None:
            return None
        from orchestrator.clients.external_agent import build_external_agent_client

        configured = self._agents.agent(name)
        if configured is not None:
            return build_configured_agent(configured, settings)
        if name == DEFAULT_AGENT:
            return build_external_agent_client(settings)
        return None

    def close(self) -> None:
        for client in list(self._clients.values()):
            client.close()


def build_configured_agent(agent: ExternalAgentConfig, settings: Settings) -> AgentClient:
    """One configured agent's client, for its protocol."""
    from orchestrator.secrets import get_agent_token

    def token() -> str | None:
        return get_agent_token(agent.auth_secret_id, agent.auth_token_env)

    options: dict[str, Any] = {
        "timeout_s": agent.timeout_s or settings.external_agent_timeout_s,
        "max_retries": settings.external_agent_max_retries,
        "budget_s": settings.external_agent_retry_budget_s,
        "backoff_base_s": settings.http_backoff_base_s,
        "token_provider": token,
    }
    if agent.protocol == "a2a":
        from orchestrator.clients.a2a_agent import A2AAgentClient

        return A2AAgentClient(
            agent.url, name=agent.name, card_ttl_s=settings.external_agent_card_ttl_s, **options
        )
    from orchestrator.clients.external_agent import ExternalAgentClient

    return ExternalAgentClient(agent.url, **options)
