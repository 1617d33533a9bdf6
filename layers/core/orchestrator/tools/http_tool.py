"""Runs ``http`` tools: the arguments go to the configured URL, through the SSRF guard.

GET sends the arguments as query parameters (non-scalar values JSON-encoded), POST as a JSON
body. 429, 5xx and timeouts are retried (at most :data:`MAX_RETRIES` times, exponential backoff
with jitter) while the call's deadline allows; other 4xx answers fail at once.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from orchestrator.errors import ToolExecutionError, ToolTimeoutError
from orchestrator.secrets import read_secret, redact
from orchestrator.tools.fetcher import Fetched, guarded_request
from orchestrator.tools.models import HttpToolConfig, ToolContext, ToolDefinition

logger = logging.getLogger(__name__)

MAX_RETRIES = 2
BACKOFF_BASE_S = 0.2
JITTER_S = 0.1
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


def _retryable(fetched: Fetched) -> bool:
    return fetched.status == 429 or fetched.status >= 500


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
    for attempt in range(MAX_RETRIES + 1):
        last_try = attempt == MAX_RETRIES
        try:
            fetched = guarded_request(
                config.method,
                config.url,
                allowed_hosts=settings.http_tool_allowed_hosts,
                max_bytes=settings.http_tool_max_bytes,
                deadline=context.deadline,
                attempt_timeout_s=config.timeout_s,
                headers=headers,
                params=_query(arguments) if is_get else None,
                json_body=None if is_get else arguments,
            )
        except ToolTimeoutError:
            if last_try or not _wait(attempt, context, sleep):
                raise
            logger.info("http tool %s: timeout, retrying (attempt %d)", definition.name, attempt + 1)
            continue
        if _retryable(fetched) and not last_try and _wait(attempt, context, sleep):
            logger.info("http tool %s: status %d, retrying", definition.name, fetched.status)
            continue
        if fetched.status >= 400:
            snippet = redact(fetched.text()[:_BODY_SNIPPET], secret)
            raise ToolExecutionError(
                f"{definition.name}: endpoint answered {fetched.status}",
                details={"output": {"status": fetched.status, "body": snippet, "attempts": attempt + 1}},
            )
        return {
            "status": fetched.status,
            "content_type": fetched.content_type,
            "body": _body(fetched),
            "truncated": fetched.truncated,
            "attempts": attempt + 1,
        }
    raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover


def _wait(attempt: int, context: ToolContext, sleep: Callable[[float], None]) -> bool:
    """Sleep before the next attempt; False (no sleep) when the deadline leaves no room for one."""
    delay = BACKOFF_BASE_S * 2**attempt + random.uniform(0, JITTER_S)  # noqa: S311 - jitter, not crypto
    if context.remaining() <= delay + 0.05:
        return False
    sleep(delay)
    return True
