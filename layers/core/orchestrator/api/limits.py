"""What a request body may be, checked once for every route before any route runs.

:class:`RequestBodyGuard` is a pure ASGI middleware. It reads the body as it arrives, counting
bytes, and answers 413 the moment the cap is passed, so a chunked upload without a
``Content-Length`` is never held in memory beyond the cap. A JSON body is then parsed once and
refused with 422 when no route could use it safely: bytes that are not UTF-8, text that is not
JSON, lone surrogates (``"\\ud800"`` parses in Python but cannot be encoded for DynamoDB, Step
Functions or a model), nesting deeper than DynamoDB stores, and numbers DynamoDB cannot hold
(NaN, infinities, more than 38 digits, magnitudes outside 1e-130..1e126). The route then
receives the same bytes, unchanged; valid surrogate pairs (``"\\ud83d\\ude00"``) are one
character after parsing and pass.

A middleware rather than a shared string type because the holes are not only in ``str`` fields:
``metadata``, tool arguments and JSON schemas are ``dict[str, Any]``, which no field type reaches,
and one check in front of the router covers every route, including the ones added later.
"""

from __future__ import annotations

import email.message
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi.responses import JSONResponse

from orchestrator.api.errors import error_body, openai_shaped

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from orchestrator.config import Settings

DOCUMENTS_PATH = "/v1/documents"
#: Multipart file uploads: the file plus its form fields and boundaries.
DOCUMENT_UPLOAD_PATH = "/v1/documents/upload"
#: OpenAI-compatible completions: the whole conversation, tool schemas and the client's options.
OPENAI_COMPLETIONS_PATH = "/v1/chat/completions"
#: Tool schemas, response format and message envelopes around the messages' text.
OPENAI_ENVELOPE_BYTES = 262_144
#: The most one character can take in a JSON body: a ``\\uXXXX`` escape.
BYTES_PER_CHAR = 6
#: Title, source, ids and JSON punctuation around a document's text.
DOCUMENT_ENVELOPE_BYTES = 16_384
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
#: DynamoDB numbers: at most 38 significant digits, magnitude in [1e-130, 1e126).
_MAX_INTEGER = 10**38
_MIN_MAGNITUDE, _MAX_MAGNITUDE = 1e-130, 1e126


def documents_body_limit(settings: Settings) -> int:
    """A document of ``DOCUMENTS_MAX_CHARS`` fits even when every character is sent escaped."""
    return settings.documents_max_chars * BYTES_PER_CHAR + DOCUMENT_ENVELOPE_BYTES


def openai_body_limit(settings: Settings) -> int:
    """Messages of ``OPENAI_MAX_MESSAGES_BYTES`` even when every character is sent escaped; the route
    then checks the text itself against that cap and the model's context."""
    return settings.openai_max_messages_bytes * BYTES_PER_CHAR + OPENAI_ENVELOPE_BYTES


def document_upload_body_limit(settings: Settings) -> int:
    """A file of ``DOCUMENTS_DIRECT_UPLOAD_MAX_BYTES`` with its form fields (title, ids)."""
    return settings.documents_direct_upload_max_bytes + DOCUMENT_ENVELOPE_BYTES


@dataclass(frozen=True)
class Problem:
    """Why a body was refused, in the shape of the API's validation details."""

    field: str
    problem: str

    def response(self, path: str = "") -> JSONResponse:
        body = error_body(
            "invalid_request",
            f"{self.field}: {self.problem}",
            [{"field": self.field, "problem": self.problem}],
        )
        return JSONResponse(status_code=422, content=openai_shaped(path, 422, body))


class _Refused(ValueError):
    """A JSON constant (NaN, Infinity) Python accepts but JSON does not."""


def _refuse_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def _printable(key: str) -> str:
    # A lone surrogate in a field name must not break the error response that names it.
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def _children(value: dict[str, Any] | list[Any]) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        yield from value.items()
    else:
        yield from ((str(index), item) for index, item in enumerate(value))


def _scalar_problem(value: Any) -> str | None:
    if isinstance(value, str):
        return "contains a lone UTF-16 surrogate" if _LONE_SURROGATE.search(value) else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return "number has more than 38 digits" if abs(value) >= _MAX_INTEGER else None
    if isinstance(value, float):
        storable = math.isfinite(value) and (value == 0 or _MIN_MAGNITUDE <= abs(value) < _MAX_MAGNITUDE)
        return None if storable else "number is outside 1e-130..1e126"
    return None


def _walk(document: Any, max_depth: int) -> Problem | None:
    """The first value no route could store or send on, without recursion (depth is untrusted)."""
    stack: list[tuple[tuple[str, ...], Any, int]] = [((), document, 0)]
    while stack:
        path, value, depth = stack.pop()
        where = ".".join(path) or "body"
        if isinstance(value, dict | list):
            if depth >= max_depth:
                return Problem(where, f"nested deeper than {max_depth} levels")
            for key, child in _children(value):
                name = _printable(key)
                if name != key:
                    return Problem(".".join((*path, name)), "field name contains a lone UTF-16 surrogate")
                stack.append(((*path, key), child, depth + 1))
        elif problem := _scalar_problem(value):
            return Problem(where, problem)
    return None


def json_problem(body: bytes, max_depth: int) -> Problem | None:
    """Why ``body`` is not JSON every route can use, or ``None`` when it is."""
    try:
        document = json.loads(body.decode("utf-8-sig"), parse_constant=_refuse_constant)
    except UnicodeDecodeError as exc:
        return Problem("body", f"is not valid UTF-8 (byte {exc.start})")
    except json.JSONDecodeError as exc:
        return Problem("body", f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    except _Refused as exc:
        return Problem("body", f"is not valid JSON: {exc}")
    except ValueError:  # an integer of more than 4300 digits
        return Problem("body", "is not valid JSON: a number is too long")
    except RecursionError:
        return Problem("body", f"nested deeper than {max_depth} levels")
    return _walk(document, max_depth)


def _is_json(scope: Scope) -> bool:
    # The same reading of Content-Type as FastAPI's, so every body a route parses is checked here.
    for name, value in scope["headers"]:
        if name == b"content-type":
            message = email.message.Message()
            message["content-type"] = value.decode("latin-1")
            subtype = message.get_content_subtype()
            return message.get_content_maintype() == "application" and (
                subtype == "json" or subtype.endswith("+json")
            )
    return False


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class _BodyTooLarge(Exception):
    pass


class _ClientGone(Exception):
    pass


async def _read_capped(receive: Receive, cap: int) -> bytes:
    """The whole body, or :class:`_BodyTooLarge` as soon as more than ``cap`` bytes arrived."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            raise _BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class RequestBodyGuard:
    """Caps every request body while it streams in and refuses JSON no route could use."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        documents_max_bytes: int,
        max_json_depth: int,
        upload_max_bytes: int | None = None,
        openai_max_bytes: int | None = None,
    ) -> None:
        self.app = app
        self.openai_max_bytes = max_bytes if openai_max_bytes is None else openai_max_bytes
        self.max_bytes = max_bytes
        self.documents_max_bytes = documents_max_bytes
        self.upload_max_bytes = documents_max_bytes if upload_max_bytes is None else upload_max_bytes
        self.max_json_depth = max_json_depth

    def cap_for(self, scope: Scope) -> int:
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        path = path.rstrip("/")
        if path == DOCUMENT_UPLOAD_PATH:
            return self.upload_max_bytes
        if path == OPENAI_COMPLETIONS_PATH:
            return self.openai_max_bytes
        return self.documents_max_bytes if path == DOCUMENTS_PATH else self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.cap_for(scope)
        try:
            if (_declared_length(scope) or 0) > cap:
                raise _BodyTooLarge
            body = await _read_capped(receive, cap)
        except _BodyTooLarge:
            # The rest of the body is never read, so the connection cannot be reused.
            await JSONResponse(
                status_code=413,
                content=openai_shaped(
                    scope["path"], 413, error_body("payload_too_large", f"Request body over {cap} bytes.")
                ),
                headers={"Connection": "close"},
            )(scope, receive, send)
            return
        except _ClientGone:
            return
        if body and _is_json(scope) and (problem := json_problem(body, self.max_json_depth)):
            await problem.response(scope["path"])(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """Hand the buffered body to the app once, then the client's own messages (a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
