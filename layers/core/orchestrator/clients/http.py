"""One HTTP request with retries: exponential backoff with full jitter, Retry-After, a time budget.

Generic over the remote service (external agent, data source, …): the caller picks the
:class:`~orchestrator.errors.TransientError` subclass raised when the retries run out, and handles
every response that is not retried (2xx, 4xx) itself. Retried: the ``retry_on`` statuses,
timeouts and connection errors. Sleep, clock and randomness are injectable so tests never wait.

Retrying a POST after a timeout may deliver it twice; callers send an idempotency key (the
external agent gets ``X-Request-Id``) so the server can tell.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from orchestrator.clients.backoff import backoff_delay, parse_retry_after
from orchestrator.errors import TransientError

logger = logging.getLogger(__name__)

DEFAULT_RETRY_ON = (429, 500, 502, 503, 504)
#: Longest server-requested wait honoured; a longer Retry-After means "give up now".
RETRY_AFTER_MAX_S = 20.0
BACKOFF_MAX_S = 8.0


def safe_url(url: str) -> str:
    """Scheme, host and path only: query strings and userinfo may carry credentials."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _attempt_timeout(timeout: float | httpx.Timeout | None, remaining_s: float) -> httpx.Timeout:
    # Each attempt may use at most what is left of the budget, so the caller's deadline holds.
    if timeout is None:
        return httpx.Timeout(remaining_s)
    if isinstance(timeout, httpx.Timeout):
        read = min(timeout.read or remaining_s, remaining_s)
        connect = min(timeout.connect or remaining_s, remaining_s)
        return httpx.Timeout(read, connect=connect)
    return httpx.Timeout(min(timeout, remaining_s))


def request_with_retries(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    json: Any = None,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float | httpx.Timeout | None = None,
    max_retries: int = 2,
    backoff_base_s: float = 0.2,
    backoff_max_s: float = BACKOFF_MAX_S,
    budget_s: float = 30.0,
    retry_after_max_s: float = RETRY_AFTER_MAX_S,
    retry_on: Iterable[int] = DEFAULT_RETRY_ON,
    error_cls: type[TransientError] = TransientError,
    service: str = "upstream service",
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rand: Callable[[], float] = random.random,
) -> httpx.Response:
    """Send the request until it gets a non-retried response, or raise ``error_cls``.

    At most ``1 + max_retries`` attempts, all within ``budget_s`` seconds: a wait that would end
    past the budget is not started. The n-th wait is the server's Retry-After (a longer one than
    ``retry_after_max_s`` means give up now) or full jitter. The error names the service, the
    attempts and the last failure; never the URL or a header value (those are logged).
    """
    retryable = frozenset(retry_on)
    started = clock()
    attempts = 0
    last_reason = ""
    last_status: int | None = None
    where = safe_url(url)
    while True:
        attempts += 1
        remaining = max(budget_s - (clock() - started), 0.001)
        retry_after: float | None = None
        try:
            response = client.request(
                method,
                url,
                json=json,
                params=params,
                headers=headers,
                timeout=_attempt_timeout(timeout, remaining),
            )
        except httpx.TimeoutException as error:
            last_reason, last_status = f"{type(error).__name__} (timed out)", None
        except httpx.TransportError as error:
            last_reason, last_status = f"connection failed ({type(error).__name__})", None
        else:
            if response.status_code not in retryable:
                return response
            last_status = response.status_code
            last_reason = f"HTTP {response.status_code}"
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            response.close()

        if attempts > max_retries:
            break
        if retry_after is not None:
            wait = min(retry_after, retry_after_max_s)
            if retry_after > retry_after_max_s:
                last_reason += f"; Retry-After {retry_after:.0f} s exceeds the {retry_after_max_s:.0f} s cap"
                break
        else:
            wait = backoff_delay(attempts - 1, base_s=backoff_base_s, max_s=backoff_max_s, rand=rand)
        if wait >= budget_s - (clock() - started):
            last_reason += f"; the next wait ({wait:.1f} s) would exceed the {budget_s:.0f} s budget"
            break
        logger.warning(
            "request failed, retrying",
            extra={"service": service, "url": where, "reason": last_reason, "wait_s": round(wait, 3)},
        )
        sleep(wait)

    # The URL goes to the log only: error details can reach API clients, internal hosts must not.
    logger.warning(
        "request failed, giving up",
        extra={"service": service, "url": where, "reason": last_reason, "attempts": attempts},
    )
    raise error_cls(
        f"The {service} is unavailable after {attempts} attempt(s) "
        f"in {clock() - started:.1f} s: {last_reason}",
        details={"service": service, "attempts": attempts, "status": last_status},
    )
