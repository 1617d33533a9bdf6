"""One JSON request to an OpenAI-compatible server, with failures sorted for the retry policy.

429, 408, 5xx, timeouts and connection errors become :class:`RetryableFailure` (with the
server's Retry-After); any other 4xx, or a body that is not JSON, is a
:class:`ModelResponseError` at once. Messages never contain the API key: it travels only in
the Authorization header, and any echo of it in an error body is redacted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from orchestrator.caching import Lazy
from orchestrator.clients.backoff import parse_retry_after
from orchestrator.clients.llm.retry import RetryableFailure
from orchestrator.errors import ModelResponseError
from orchestrator.secrets import redact

# 408 is the server timing out our request, so it counts as a timeout.
_RETRYABLE_STATUS = frozenset({408, 429})
_ERROR_TEXT_CHARS = 300


def build_http_client(connect_timeout_s: float, read_timeout_s: float) -> httpx.Client:
    """A pooled client reused across warm invocations; timeouts are set on every request too."""
    timeout = httpx.Timeout(read_timeout_s, connect=connect_timeout_s)
    return httpx.Client(timeout=timeout, follow_redirects=False)


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:_ERROR_TEXT_CHARS]
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            return str(error.get("message") or error)[:_ERROR_TEXT_CHARS]
        return str(error)[:_ERROR_TEXT_CHARS]
    return str(body)[:_ERROR_TEXT_CHARS]


def _retry_after(response: httpx.Response) -> float | None:
    # OpenAI also sends retry-after-ms, which is more precise than whole seconds.
    millis = response.headers.get("retry-after-ms")
    if millis:
        try:
            return max(float(millis) / 1000.0, 0.0)
        except ValueError:
            pass
    return parse_retry_after(response.headers.get("retry-after"))


def request_json(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    api_key: Callable[[], str | None],
    connect_timeout_s: float,
    read_timeout_s: float,
    provider: str,
    body: dict[str, Any] | None = None,
) -> Any:
    """Send one request and return the decoded JSON body, or raise as described above."""
    key = api_key()
    headers = {"Accept": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    timeout = httpx.Timeout(read_timeout_s, connect=min(connect_timeout_s, read_timeout_s))
    try:
        response = http.request(method, url, json=body, headers=headers, timeout=timeout)
    except httpx.TimeoutException as error:
        raise RetryableFailure(f"{type(error).__name__} after {read_timeout_s:.1f} s") from None
    except httpx.TransportError as error:
        raise RetryableFailure(f"connection failed ({type(error).__name__})") from None

    status = response.status_code
    if status in _RETRYABLE_STATUS or status >= 500:
        reason = f"HTTP {status}: {redact(_error_text(response), key)}"
        raise RetryableFailure(reason, retry_after_s=_retry_after(response))
    if status >= 400:
        hint = " (check LLM_API_KEY)" if status in (401, 403) else ""
        raise ModelResponseError(
            f"The {provider} endpoint rejected the request with HTTP {status}{hint}: "
            f"{redact(_error_text(response), key)}",
            details={"provider": provider, "status": status},
        )
    try:
        return response.json()
    except ValueError:
        raise ModelResponseError(
            f"The {provider} endpoint returned a body that is not JSON (HTTP {status})",
            details={"provider": provider, "status": status},
        ) from None


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
        http_client: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # The key is read per request (Powertools caches it) so a rotated secret is picked up.
        self._api_key: Callable[[], str | None] = api_key if callable(api_key) else (lambda: api_key)
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.provider = provider
        self._http = Lazy(lambda: build_http_client(connect_timeout_s, read_timeout_s), http_client)

    def request(self, method: str, path: str, remaining_s: float, body: dict[str, Any] | None = None) -> Any:
        """:func:`request_json` to ``{base_url}{path}``, its read timeout capped at ``remaining_s``."""
        return request_json(
            self._http.get(),
            method,
            f"{self.base_url}{path}",
            api_key=self._api_key,
            connect_timeout_s=self.connect_timeout_s,
            read_timeout_s=min(self.read_timeout_s, remaining_s),
            provider=self.provider,
            body=body,
        )
