"""The HTTP transport every remote client shares: one pooled httpx client, retries, a typed error.

Used by the OpenAI-compatible model and embeddings endpoint, the external agent and the data
source. One request is retried (see :mod:`orchestrator.clients.retrying`) on timeouts,
connection errors and :data:`~orchestrator.clients.retrying.RETRYABLE_STATUSES`; every other
response goes back to the caller, who decides what it means. When the retries run out the
caller's :class:`~orchestrator.errors.TransientError` subclass is raised. Each attempt's
timeouts are capped by what is left of the call's deadline.

Messages never hold the URL (hosts are internal, query strings may carry credentials: the log
gets :func:`safe_url`) or a secret (quoted error bodies are redacted).

Retrying a POST after a timeout may deliver it twice; callers send an idempotency key (the
external agent gets ``X-Request-Id``) so the server can tell.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from orchestrator.clients.retrying import (
    RETRYABLE_STATUSES,
    GiveUp,
    RetryPolicy,
    TransientFailure,
    call_with_retries,
    parse_retry_after,
)
from orchestrator.errors import TransientError
from orchestrator.secrets import redact, safe_url

#: Characters of an error body quoted in a message (bodies can be whole HTML pages).
ERROR_TEXT_CHARS = 300


def error_text(response: httpx.Response, secret: str | None = None) -> str:
    """The message of an error body (``error``, ``error.message``, ``message`` or ``detail``),
    truncated and with ``secret`` redacted."""
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
    return redact(text.strip(), secret)[:ERROR_TEXT_CHARS]


def retry_after(response: httpx.Response) -> float | None:
    """The wait a response asks for: ``retry-after-ms`` (OpenAI's, more precise), else ``Retry-After``."""
    millis = response.headers.get("retry-after-ms")
    if millis:
        try:
            return max(float(millis) / 1000.0, 0.0)
        except ValueError:
            pass
    return parse_retry_after(response.headers.get("retry-after"))


def attempt_timeout(connect_timeout_s: float, read_timeout_s: float, remaining_s: float) -> httpx.Timeout:
    """The configured timeouts, each capped by what is left of the deadline."""
    left = max(remaining_s, 0.001)
    return httpx.Timeout(min(read_timeout_s, left), connect=min(connect_timeout_s, read_timeout_s, left))


class HttpTransport:
    """One remote service over HTTP; one instance (and one connection pool) per Lambda container."""

    def __init__(
        self,
        *,
        service: str,
        error_cls: type[TransientError],
        policy: RetryPolicy,
        connect_timeout_s: float,
        read_timeout_s: float,
        http_client: httpx.Client | None = None,
    ) -> None:
        """``service`` names the dependency in messages ("external agent", "openai model 'gpt-x'")."""
        self.service = service
        self.error_cls = error_cls
        self.policy = policy
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.http = http_client or httpx.Client(
            timeout=httpx.Timeout(read_timeout_s, connect=connect_timeout_s), follow_redirects=False
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        deadline: float | None = None,
        secret: str | None = None,
        service: str | None = None,
        give_up: Callable[[GiveUp], Exception] | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """Send the request until it gets a response that is not retried, or raise.

        ``deadline`` (a :func:`time.monotonic` instant) shortens the policy's budget; ``secret``
        is redacted from quoted bodies; ``service`` overrides the name in messages for this call;
        ``give_up`` overrides the error raised when the retries stop. With ``stream`` the body is
        not read: only opening the response is retried, and the caller reads and closes it.
        """
        name = service or self.service
        where = safe_url(url)

        def attempt(remaining_s: float) -> httpx.Response:
            timeout = attempt_timeout(self.connect_timeout_s, self.read_timeout_s, remaining_s)
            try:
                if stream:
                    built = self.http.build_request(
                        method, url, json=json, params=params, headers=headers, timeout=timeout
                    )
                    response = self.http.send(built, stream=True)
                else:
                    response = self.http.request(
                        method, url, json=json, params=params, headers=headers, timeout=timeout
                    )
            except httpx.TimeoutException as error:
                raise TransientFailure(f"{type(error).__name__} (timed out)") from None
            except httpx.TransportError as error:
                raise TransientFailure(f"connection failed ({type(error).__name__})") from None
            if response.status_code not in RETRYABLE_STATUSES:
                return response
            reason = f"HTTP {response.status_code}"
            if stream:
                response.read()
            text = error_text(response, secret)
            response.close()
            raise TransientFailure(
                f"{reason}: {text}" if text else reason,
                status=response.status_code,
                retry_after_s=retry_after(response),
            )

        def unavailable(summary: GiveUp) -> Exception:
            return self.error_cls(
                f"The {name} is unavailable after {summary.attempts} attempt(s) "
                f"in {summary.elapsed_s:.1f} s: {summary.reason}",
                details={"service": name, "attempts": summary.attempts, "status": summary.status},
            )

        return call_with_retries(
            attempt,
            policy=self.policy,
            give_up=give_up or unavailable,
            deadline=deadline,
            # The URL goes to the log only: error details can reach API clients, internal hosts must not.
            log_extra={"service": name, "url": where},
        )

    def close(self) -> None:
        self.http.close()
