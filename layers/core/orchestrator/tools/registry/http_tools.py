"""Runs ``http`` tools: the arguments go to the configured URL, through the SSRF guard.

GET sends the arguments as query parameters (non-scalar values JSON-encoded), POST as a JSON
body. 429, 5xx and timeouts are retried by the shared policy (:mod:`orchestrator.clients.retrying`:
at most :data:`MAX_RETRIES` times, full-jitter backoff, Retry-After honoured) while the call's
deadline allows; other 4xx answers fail at once.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from orchestrator.clients.retrying import (
    RETRYABLE_STATUSES,
    GiveUp,
    RetryPolicy,
    TransientFailure,
    call_with_retries,
)
from orchestrator.errors import ToolExecutionError, ToolTimeoutError
from orchestrator.secrets import read_secret, redact
from orchestrator.tools.models import HttpToolConfig, ToolContext, ToolDefinition
from orchestrator.tools.network.guarded_http import Fetched, guarded_request

logger = logging.getLogger(__name__)

MAX_RETRIES = 2
BACKOFF_BASE_S = 0.2
_BODY_SNIPPET = 300


def _query(arguments: dict[str, Any]) -> dict[str, str]:
    def encode(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else json.dumps(value)

    return {name: encode(value) for name, value in arguments.items() if value is not None}


def _headers(config: HttpToolConfig) -> tuple[dict[str, str], str | None]:
    headers = {"Accept": "application/json, text/plain;q=0.9, */*;q=0.5", **config.headers}
    secret = read_secret(config.auth_secret_id) if config.auth_secret_id else None
    if secret:
        scheme = config.auth_scheme.strip()
        headers[config.auth_header] = f"{scheme} {secret}" if scheme else secret
    return headers, secret


def _body(fetched: Fetched) -> Any:
    text = fetched.text()
    if "json" in fetched.content_type.lower() and not fetched.truncated:
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


def run_http_tool(
    definition: ToolDefinition,
    arguments: dict[str, Any],
    context: ToolContext,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Call the tool's endpoint; its answer (parsed JSON or text) with status, or a typed error."""
    config = definition.http
    if config is None:  # guarded by ToolDefinition's validator; kept for the type checker
        raise ToolExecutionError(f"tool '{definition.name}' has no http section")
    settings = context.settings
    headers, secret = _headers(config)
    is_get = config.method == "GET"
    last: list[Fetched] = []
    attempts = 0

    def attempt(remaining_s: float) -> Fetched:
        nonlocal attempts
        attempts += 1
        try:
            fetched = guarded_request(
                config.method,
                config.url,
                allowed_hosts=settings.http_tool_allowed_hosts,
                max_bytes=settings.http_tool_max_bytes,
                deadline=context.deadline,
                attempt_timeout_s=min(config.timeout_s, remaining_s),
                headers=headers,
                params=_query(arguments) if is_get else None,
                json_body=None if is_get else arguments,
            )
        except ToolTimeoutError as error:
            raise TransientFailure("timed out") from error
        last[:] = [fetched]
        if fetched.status in RETRYABLE_STATUSES:
            raise TransientFailure(f"HTTP {fetched.status}", status=fetched.status)
        return fetched

    def give_up(summary: GiveUp) -> Exception:
        if summary.status is None or not last:
            return ToolTimeoutError(
                f"{definition.name}: the endpoint did not answer in time ({summary.reason})"
            )
        return _failed(definition.name, last[0], secret, summary.attempts)

    policy = RetryPolicy(
        max_retries=MAX_RETRIES,
        budget_s=max(context.remaining(), 0.001),
        backoff_base_s=BACKOFF_BASE_S,
        sleep=sleep,
    )
    fetched = call_with_retries(attempt, policy=policy, give_up=give_up, deadline=context.deadline)
    if fetched.status >= 400:
        raise _failed(definition.name, fetched, secret, attempts)
    return {
        "status": fetched.status,
        "content_type": fetched.content_type,
        "body": _body(fetched),
        "truncated": fetched.truncated,
        "attempts": attempts,
    }


def _failed(name: str, fetched: Fetched, secret: str | None, attempts: int) -> ToolExecutionError:
    snippet = redact(fetched.text()[:_BODY_SNIPPET], secret)
    return ToolExecutionError(
        f"{name}: endpoint answered {fetched.status}",
        details={"output": {"status": fetched.status, "body": snippet, "attempts": attempts}},
    )
