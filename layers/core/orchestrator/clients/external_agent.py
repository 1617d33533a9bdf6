"""Client of the specialised external agent (``EXTERNAL_AGENT_BASE_URL``).

Wire protocol (ours; any agent that speaks it can be plugged in)::

    POST {base_url}/invoke
    Authorization: Bearer <token>          (only when a token is configured)
    X-Request-Id: <run_id>                 (idempotency key: a retried call carries the same id)
    Content-Type: application/json
    {"input": str, "user_id": str, "session_id": str, "run_id": str, "metadata": {...}}

    200 → {"output": str, "data": {...} (optional), "agent": str (optional)}
    4xx → {"error": str | {"message": str}} or {"message": str} or {"detail": str}: not retried
    429, 5xx, timeouts, connection errors → retried with backoff, then
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

from orchestrator.caching import PerConfiguration
from orchestrator.clients.http import request_with_retries
from orchestrator.errors import ExternalAgentError, ExternalAgentUnavailableError
from orchestrator.secrets import redact

if TYPE_CHECKING:
    from orchestrator.config import Settings

#: Characters of an error body quoted in a message (bodies can be whole HTML pages).
ERROR_TEXT_CHARS = 300
HEALTH_TIMEOUT_S = 3.0


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


def error_text(response: httpx.Response, token: str | None = None) -> str:
    """The message of an error body, truncated and with the token redacted."""
    try:
        body: Any = response.json()
    except ValueError:
        text = response.text
    else:
        text = str(body)
        if isinstance(body, dict):
            error = body.get("error") or body.get("message") or body.get("detail") or body
            if isinstance(error, dict):
                error = error.get("message") or error
            text = str(error)
    return redact(text.strip(), token)[:ERROR_TEXT_CHARS]


class ExternalAgentClient:
    """Synchronous client; one instance (and one connection pool) per Lambda container."""

    def __init__(
        self,
        base_url: str,
        auth_token: SecretStr | None = None,
        timeout_s: float = 30.0,
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
        self.backoff_base_s = backoff_base_s
        self._sleep = sleep
        self._http = http_client or httpx.Client(follow_redirects=False)

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
    ) -> ExternalAgentReply:
        """Send ``prompt`` to the agent and return its answer, or raise a typed error."""
        token = self._token()
        payload = {
            "input": prompt,
            "user_id": user_id,
            "session_id": session_id,
            "run_id": run_id,
            "metadata": metadata or {},
        }
        started = time.perf_counter()
        response = request_with_retries(
            self._http,
            "POST",
            f"{self.base_url}/invoke",
            json=payload,
            headers=self._headers(token, run_id),
            timeout=httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, 5.0)),
            max_retries=self.max_retries,
            backoff_base_s=self.backoff_base_s,
            budget_s=self.budget_s,
            error_cls=ExternalAgentUnavailableError,
            service="external agent",
            sleep=self._sleep,
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


_clients: PerConfiguration[tuple[object, ...], ExternalAgentClient] = PerConfiguration()


def get_external_agent_client(settings: Settings) -> ExternalAgentClient | None:
    """The configured agent's client (one per configuration per process), or None when unset."""
    base_url = (settings.external_agent_base_url or "").strip()
    if not base_url:
        return None
    direct = settings.external_agent_auth_token
    key: tuple[object, ...] = (
        base_url,
        direct.get_secret_value() if direct else None,
        settings.external_agent_token_secret_id,
        settings.external_agent_timeout_s,
        settings.external_agent_max_retries,
        settings.external_agent_retry_budget_s,
        settings.http_backoff_base_s,
    )

    def build() -> ExternalAgentClient:
        from orchestrator.secrets import get_external_agent_token

        return ExternalAgentClient(
            base_url,
            timeout_s=settings.external_agent_timeout_s,
            max_retries=settings.external_agent_max_retries,
            token_provider=lambda: get_external_agent_token(settings),
            budget_s=settings.external_agent_retry_budget_s,
            backoff_base_s=settings.http_backoff_base_s,
        )

    return _clients.get(key, build)


def reset_external_agent_clients() -> None:
    _clients.clear(dispose=ExternalAgentClient.close)
