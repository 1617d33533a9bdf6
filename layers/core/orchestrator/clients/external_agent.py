"""Client of the specialised external agent (``EXTERNAL_AGENT_BASE_URL``), protocol ``http``.

Agents that speak A2A (``EXTERNAL_AGENT_PROTOCOL=a2a``) get :mod:`orchestrator.clients.a2a_agent`.

Wire protocol (ours; any agent that speaks it can be plugged in)::

    POST {base_url}/invoke
    Authorization: Bearer <token>          (only when a token is configured)
    X-Request-Id: <run_id>                 (idempotency key: a retried call carries the same id)
    Content-Type: application/json
    {"input": str, "user_id": str, "session_id": str, "run_id": str, "metadata": {...}}

    200 → {"output": str, "data": {...} (optional), "agent": str (optional)}
    4xx → {"error": str | {"message": str}} or {"message": str} or {"detail": str}: not retried
    408, 429, 5xx gateway errors, timeouts, connection errors → retried with backoff, then
              :class:`~orchestrator.errors.ExternalAgentUnavailableError`

    GET {base_url}/health → any 2xx means reachable (the body is ignored)

A reply that is not JSON, or has no string ``output``, is an
:class:`~orchestrator.errors.ExternalAgentError`, like any other non-retried failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel, Field, SecretStr

from orchestrator.clients.retrying import RetryPolicy
from orchestrator.clients.transport import HttpTransport, error_text
from orchestrator.errors import ExternalAgentError, ExternalAgentUnavailableError

if TYPE_CHECKING:
    from orchestrator.clients.a2a_agent import A2AAgentClient
    from orchestrator.config import Settings

HEALTH_TIMEOUT_S = 3.0
CONNECT_TIMEOUT_S = 5.0


class ExternalAgentReply(BaseModel):
    text: str
    data: dict[str, Any] = Field(default_factory=dict)
    agent: str | None = None
    latency_ms: float = 0.0


class AgentHealth(BaseModel):
    """Reachability for ``/health``: never an exception, always a verdict."""

    ok: bool
    latency_ms: float
    status_code: int | None = None
    error: str | None = None


class ExternalAgentClient:
    """Synchronous client; one instance (and one connection pool) per Lambda container."""

    def __init__(
        self,
        base_url: str,
        auth_token: SecretStr | None = None,
        timeout_s: float = 20.0,
        max_retries: int = 2,
        http_client: httpx.Client | None = None,
        *,
        token_provider: Callable[[], str | None] | None = None,
        budget_s: float | None = None,
        backoff_base_s: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``token_provider`` (read per call, so a rotated secret is picked up) beats ``auth_token``.

        ``budget_s`` bounds one :meth:`run` with its retries (default: ``timeout_s`` per attempt).
        """
        self.base_url = base_url.rstrip("/")
        self._auth_token = auth_token
        self._token_provider = token_provider
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.budget_s = budget_s if budget_s is not None else timeout_s * (max_retries + 1)
        self._transport = HttpTransport(
            service="external agent",
            error_cls=ExternalAgentUnavailableError,
            policy=RetryPolicy(
                max_retries=max_retries, budget_s=self.budget_s, backoff_base_s=backoff_base_s, sleep=sleep
            ),
            connect_timeout_s=min(timeout_s, CONNECT_TIMEOUT_S),
            read_timeout_s=timeout_s,
            http_client=http_client,
        )
        self._http = self._transport.http

    def _token(self) -> str | None:
        if self._token_provider is not None:
            return self._token_provider()
        return self._auth_token.get_secret_value() if self._auth_token else None

    def _headers(self, token: str | None, request_id: str | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if request_id:
            headers["X-Request-Id"] = request_id
        return headers

    def run(
        self,
        prompt: str,
        *,
        user_id: str,
        session_id: str,
        metadata: dict[str, Any] | None = None,
        run_id: str,
        deadline: float | None = None,
    ) -> ExternalAgentReply:
        """Send ``prompt`` to the agent and return its answer, or raise a typed error.

        ``deadline`` (a :func:`time.monotonic` instant) shortens the retry budget: the call ends
        by then, with :class:`~orchestrator.errors.ExternalAgentUnavailableError` if it must.
        """
        token = self._token()
        payload = {
            "input": prompt,
            "user_id": user_id,
            "session_id": session_id,
            "run_id": run_id,
            "metadata": metadata or {},
        }
        started = time.perf_counter()
        response = self._transport.request(
            "POST",
            f"{self.base_url}/invoke",
            json=payload,
            headers=self._headers(token, run_id),
            deadline=deadline,
            secret=token,
        )
        latency_ms = (time.perf_counter() - started) * 1000.0
        return self._parse(response, token, latency_ms)

    def _parse(self, response: httpx.Response, token: str | None, latency_ms: float) -> ExternalAgentReply:
        status = response.status_code
        if not 200 <= status < 300:
            hint = " (check EXTERNAL_AGENT_AUTH_TOKEN)" if status in (401, 403) else ""
            raise ExternalAgentError(
                f"The external agent rejected the request with HTTP {status}{hint}: "
                f"{error_text(response, token)}",
                details={"status": status},
            )
        try:
            body: Any = response.json()
        except ValueError:
            raise ExternalAgentError(
                f"The external agent returned a body that is not JSON (HTTP {status})",
                details={"status": status},
            ) from None
        if not isinstance(body, dict) or not isinstance(body.get("output"), str):
            raise ExternalAgentError(
                "The external agent's reply has no string 'output' field",
                details={"status": status},
            )
        data = body.get("data")
        if data is not None and not isinstance(data, dict):
            raise ExternalAgentError(
                "The external agent's 'data' field must be a JSON object", details={"status": status}
            )
        agent = body.get("agent")
        return ExternalAgentReply(
            text=body["output"],
            data=data or {},
            agent=agent if isinstance(agent, str) else None,
            latency_ms=latency_ms,
        )

    def health(self) -> AgentHealth:
        """GET {base_url}/health once, with a short timeout and no retries. Never raises."""
        started = time.perf_counter()
        try:
            response = self._http.get(
                f"{self.base_url}/health",
                headers=self._headers(self._token()),
                timeout=min(self.timeout_s, HEALTH_TIMEOUT_S),
            )
        except Exception as error:  # a health probe reports, it never fails its caller
            return AgentHealth(
                ok=False,
                latency_ms=(time.perf_counter() - started) * 1000.0,
                error=type(error).__name__,
            )
        latency_ms = (time.perf_counter() - started) * 1000.0
        ok = 200 <= response.status_code < 300
        return AgentHealth(
            ok=ok,
            latency_ms=latency_ms,
            status_code=response.status_code,
            error=None if ok else f"HTTP {response.status_code}",
        )

    def close(self) -> None:
        self._http.close()


def build_external_agent_client(settings: Settings) -> ExternalAgentClient | A2AAgentClient | None:
    """``EXTERNAL_AGENT_BASE_URL``'s client for ``EXTERNAL_AGENT_PROTOCOL``, or None when unset."""
    base_url = (settings.external_agent_base_url or "").strip()
    if not base_url:
        return None
    from orchestrator.secrets import get_external_agent_token

    if settings.external_agent_protocol == "a2a":
        from orchestrator.clients.a2a_agent import A2AAgentClient

        return A2AAgentClient(
            base_url,
            timeout_s=settings.external_agent_timeout_s,
            max_retries=settings.external_agent_max_retries,
            token_provider=lambda: get_external_agent_token(settings),
            budget_s=settings.external_agent_retry_budget_s,
            backoff_base_s=settings.http_backoff_base_s,
            card_ttl_s=settings.external_agent_card_ttl_s,
        )
    return ExternalAgentClient(
        base_url,
        timeout_s=settings.external_agent_timeout_s,
        max_retries=settings.external_agent_max_retries,
        token_provider=lambda: get_external_agent_token(settings),
        budget_s=settings.external_agent_retry_budget_s,
        backoff_base_s=settings.http_backoff_base_s,
    )
