"""The FastAPI application: routes, JSON errors, request size cap, CORS."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from orchestrator import __version__
from orchestrator.api.errors import error_body, install_error_handlers
from orchestrator.api.routes import chat, documents, llm, memory, meta, openai_compat, tools
from orchestrator.config import Settings, get_settings
from orchestrator.workflow import WorkflowRunner


def _body_limit(settings: Settings) -> int:
    # The prompt may be all multi-byte characters, and JSON escaping can double it again.
    return settings.max_prompt_chars * 8 + settings.max_metadata_bytes * 2 + 4096


def create_app(settings: Settings | None = None, runner: WorkflowRunner | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Serverless agent orchestrator",
        version=__version__,
        description="Routes each request through a Step Functions graph of agent nodes.",
    )
    app.state.settings = settings
    app.state.runner = runner or WorkflowRunner(settings)
    install_error_handlers(app)
    limit = _body_limit(settings)

    @app.middleware("http")
    async def cap_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return JSONResponse(
                status_code=413, content=error_body("payload_too_large", f"Request body over {limit} bytes.")
            )
        return await call_next(request)

    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"], allow_headers=["*"]
        )
    app.include_router(meta.router)
    app.include_router(chat.router)
    app.include_router(llm.router)
    app.include_router(tools.router)
    app.include_router(documents.router)
    app.include_router(memory.router)
    app.include_router(openai_compat.router)
    return app
