"""Every error leaves the API as JSON with a code and a message, and the status of its type."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from orchestrator.errors import OrchestratorError

logger = logging.getLogger("orchestrator.api")


def error_body(code: str, message: str, details: Any = None, run_id: str | None = None) -> dict[str, Any]:
    """The API's one error shape: ``{"error": {code, message, details?, run_id?}, "run_id"?}``."""
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if run_id:
        body["error"]["run_id"] = run_id
        body["run_id"] = run_id
    if details:
        body["error"]["details"] = details
    return body


#: Paths whose clients are OpenAI SDKs: errors there also carry OpenAI's ``type`` and ``param``.
OPENAI_PATHS = ("/v1/chat/completions", "/v1/models")

_OPENAI_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    429: "rate_limit_error",
}


def openai_shaped(request: Request | str, status: int, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with OpenAI's ``{"error": {"message", "type", "param", "code"}}`` on OpenAI paths
    (``request`` or its path), which the OpenAI SDKs parse into their typed errors; other paths
    keep the API's own shape."""
    path = (request if isinstance(request, str) else request.url.path).rstrip("/")
    if not any(path == p or path.startswith(p + "/") for p in OPENAI_PATHS):
        return body
    error = body["error"]
    error.setdefault(
        "type", _OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    )
    details = error.get("details")
    field = details.get("field") if isinstance(details, dict) else None
    if field is None and isinstance(details, list) and details and isinstance(details[0], dict):
        field = details[0].get("field")
    error.setdefault("param", field)
    return body


def _problems(exc: RequestValidationError) -> list[dict[str, str]]:
    problems = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        problems.append({"field": location or "body", "problem": str(error.get("msg", "invalid"))})
    return problems


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = _problems(exc)
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems[:5])
        body = error_body("invalid_request", summary, problems)
        return JSONResponse(status_code=422, content=openai_shaped(request, 422, body))

    @app.exception_handler(OrchestratorError)
    async def _typed(request: Request, exc: OrchestratorError) -> JSONResponse:
        details = dict(exc.details)
        run_id = details.pop("run_id", None)
        if exc.status_code >= 500:
            logger.warning("request failed: %s %s (run %s)", exc.code, exc.message, run_id)
        # RFC 9110: a 401 names the scheme the client should use.
        headers = {"WWW-Authenticate": 'Bearer realm="orchestrator"'} if exc.status_code == 401 else None
        return JSONResponse(
            status_code=exc.status_code,
            content=openai_shaped(
                request, exc.status_code, error_body(exc.code, exc.message, details or None, run_id)
            ),
            headers=headers,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            exc.status_code, "http_error"
        )
        body = error_body(code, str(exc.detail))
        return JSONResponse(
            status_code=exc.status_code, content=openai_shaped(request, exc.status_code, body)
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            status_code=500,
            content=openai_shaped(
                request,
                500,
                error_body("internal_error", "The server hit an unexpected error; it has been logged."),
            ),
        )
