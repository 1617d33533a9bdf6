"""An OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp server, LiteLLM), as the chat
client and the embeddings client both reach it: a base URL, a key, JSON in and out.

Retried by the shared :class:`~orchestrator.clients.transport.HttpTransport`, then
:class:`~orchestrator.errors.ModelUnavailableError`; any other 4xx or 5xx, or a body that is
not JSON, is a :class:`~orchestrator.errors.ModelResponseError` at once. Messages never contain
the API key: it travels only in the Authorization header, and an echo of it in an error body is
redacted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from orchestrator.clients.retrying import GiveUp, RetryPolicy
from orchestrator.clients.transport import HttpTransport, error_text
from orchestrator.errors import ModelResponseError, ModelUnavailableError

if TYPE_CHECKING:
    import httpx

#: ``LLM_BASE_URL`` includes the version prefix; this is OpenAI's.
DEFAULT_BASE_URL = "https://api.openai.com/v1"


class JsonReply(NamedTuple):
    body: Any
    #: The answering attempt's own time, without the failed attempts and waits before it.
    latency_ms: float


class OpenAIEndpoint:
    """One OpenAI-compatible server: its base URL, a key read per request, one pooled client."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: Callable[[], str | None] | str | None,
        connect_timeout_s: float,
        read_timeout_s: float,
        provider: str,
        policy: RetryPolicy,
        http_client: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # The key is read per request (Powertools caches it) so a rotated secret is picked up.
        self._api_key: Callable[[], str | None] = api_key if callable(api_key) else (lambda: api_key)
        self.provider = provider
        self.transport = HttpTransport(
            service=f"{provider} endpoint",
            error_cls=ModelUnavailableError,
            policy=policy,
            connect_timeout_s=connect_timeout_s,
            read_timeout_s=read_timeout_s,
            http_client=http_client,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        model: str,
        body: dict[str, Any] | None = None,
        deadline: float | None = None,
    ) -> JsonReply:
        """``{base_url}{path}`` with retries; the decoded JSON body, or a typed error naming ``model``."""
        response = self._send(
            method, path, model=model, body=body, deadline=deadline, accept="application/json"
        )
        status = response.status_code
        try:
            return JsonReply(response.json(), round(response.elapsed.total_seconds() * 1000, 2))
        except ValueError:
            raise ModelResponseError(
                f"The {self.provider} endpoint returned a body that is not JSON (HTTP {status})",
                details={"provider": self.provider, "status": status},
            ) from None

    def open_stream(
        self, path: str, *, model: str, body: dict[str, Any], deadline: float | None = None
    ) -> httpx.Response:
        """POST ``body`` to ``{base_url}{path}`` and return the open response (an event stream, or
        JSON from a server that does not stream) for the caller to read and close. Opening is
        retried as :meth:`request` is; an error status is a typed error."""
        return self._send(
            "POST",
            path,
            model=model,
            body=body,
            deadline=deadline,
            accept="text/event-stream, application/json",
            stream=True,
        )

    def _send(
        self,
        method: str,
        path: str,
        *,
        model: str,
        body: dict[str, Any] | None,
        deadline: float | None,
        accept: str,
        stream: bool = False,
    ) -> httpx.Response:
        """One call with retries; a response below 400, or the typed error for what went wrong."""
        key = self._api_key()
        headers = {"Accept": accept}
        if key:
            headers["Authorization"] = f"Bearer {key}"

        def unavailable(summary: GiveUp) -> Exception:
            return ModelUnavailableError(
                f"The {self.provider} model '{model}' is unavailable after {summary.attempts} attempt(s) "
                f"in {summary.elapsed_s:.1f} s: {summary.reason}",
                details={"provider": self.provider, "model": model, "attempts": summary.attempts},
            )

        response = self.transport.request(
            method,
            f"{self.base_url}{path}",
            json=body,
            headers=headers,
            deadline=deadline,
            secret=key,
            give_up=unavailable,
            stream=stream,
        )
        status = response.status_code
        if status >= 400:
            if stream:
                response.read()
                response.close()
            hint = " (check LLM_API_KEY)" if status in (401, 403) else ""
            raise ModelResponseError(
                f"The {self.provider} endpoint rejected the request with HTTP {status}{hint}: "
                f"{error_text(response, key)}",
                details={"provider": self.provider, "status": status},
            )
        return response

    def close(self) -> None:
        self.transport.close()
