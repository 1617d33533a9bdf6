"""The ``http_request`` builtin: the generic HTTP tool (GET/POST/PUT/PATCH/DELETE), behind the URL guard.

Every hop is checked (:mod:`orchestrator.tools.network.guarded_http`), the response is capped at
``HTTP_TOOL_MAX_BYTES`` and the call ends by the tool's deadline. Headers the model chooses may
not steer the connection (``Host``, hop-by-hop headers) or carry credentials: secrets belong in a
registered tool's ``auth_secret_id``, never in a model's arguments.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from orchestrator.errors import ToolInputError
from orchestrator.state import MAX_INLINE_OUTPUT_CHARS
from orchestrator.tools.models import SECRET_HEADERS, ToolContext
from orchestrator.tools.network.guarded_http import guarded_request

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
#: Headers that would change how the request travels rather than what it says.
_CONNECTION_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer", "keep-alive"}
)
MAX_BODY_BYTES = 64_000


def _headers(raw: Any) -> dict[str, str]:
    headers = {str(k): str(v) for k, v in (raw or {}).items()}
    refused = sorted(k for k in headers if k.strip().lower() in _CONNECTION_HEADERS | SECRET_HEADERS)
    if refused:
        raise ToolInputError(f"headers {refused} may not be set by a tool call")
    return headers


def _body(raw: Any, headers: dict[str, str]) -> Any:
    if raw is None:
        return None
    if isinstance(raw, str):
        data = raw.encode("utf-8")
        headers.setdefault("Content-Type", "text/plain; charset=utf-8")
    else:  # an object or array: sent as JSON
        data = json.dumps(raw).encode("utf-8")
        headers.setdefault("Content-Type", "application/json")
    if len(data) > MAX_BODY_BYTES:
        raise ToolInputError(f"body: {len(data)} bytes is over the limit of {MAX_BODY_BYTES}")
    return data


def http_request(arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
    settings = context.settings
    method = str(arguments.get("method", "GET")).upper()
    headers = _headers(arguments.get("headers"))
    body = _body(arguments.get("body"), headers)
    if body is not None and method in ("GET", "DELETE"):
        raise ToolInputError(f"a {method} request takes no body")
    fetched = guarded_request(
        method,
        str(arguments["url"]),
        allowed_hosts=settings.http_tool_allowed_hosts,
        max_bytes=settings.http_tool_max_bytes,
        deadline=context.deadline,
        attempt_timeout_s=settings.tool_timeout_s,
        headers=headers,
        json_body=body,
    )
    text = fetched.text()
    parsed: Any = text[:MAX_INLINE_OUTPUT_CHARS]
    if "json" in fetched.content_type.lower() and not fetched.truncated:
        with contextlib.suppress(ValueError):  # a server that says JSON and sends text: keep the text
            parsed = json.loads(text)
    return {
        "url": fetched.url,
        "status": fetched.status,
        "content_type": fetched.content_type,
        "body": parsed,
        "truncated": fetched.truncated or len(text) > MAX_INLINE_OUTPUT_CHARS,
    }
