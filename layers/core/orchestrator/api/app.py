"""The FastAPI application: routes, JSON errors, request size cap, CORS."""

from __future__ import annotations

import logging

from fastapi import Depends, FastAPI

from orchestrator import __version__
from orchestrator.api.auth import get_principal
from orchestrator.api.errors import install_error_handlers
from orchestrator.api.limits import (
    RequestBodyGuard,
    document_upload_body_limit,
    documents_body_limit,
    openai_body_limit,
)
from orchestrator.api.routes import (
    approvals,
    chat,
    documents,
    llm,
    memory,
    meta,
    monitoring,
    openai_compat,
    runs,
    studio,
    tools,
)
from orchestrator.config import Settings, get_settings
from orchestrator.container import Container
from orchestrator.workflow import WorkflowRunner

logger = logging.getLogger("orchestrator.api")


def _body_limit(settings: Settings) -> int:
    # The prompt may be all multi-byte characters, and JSON escaping can double it again.
    return settings.max_prompt_chars * 8 + settings.max_metadata_bytes * 2 + 4096


def create_app(
    settings: Settings | None = None, runner: WorkflowRunner | None = None, container: Container | None = None
) -> FastAPI:
    """The API. With explicit ``settings`` it gets a container of its own; else it uses the process's."""
    if settings is not None and container is None:
        container = Container(settings)
    settings = settings or get_settings()
    app = FastAPI(
        title="Serverless agent orchestrator",
        version=__version__,
        description="Routes each request through a Step Functions graph of agent nodes.",
    )
    app.state.settings = settings
    app.state.runner = runner or WorkflowRunner(settings)
    app.state.container = container
    install_error_handlers(app)
    if settings.auth_enabled and not (settings.api_keys or settings.api_keys_secret_id):
        logger.warning("AUTH_ENABLED is on with no API keys: only JWT-authorised callers get in")
    limit = _body_limit(settings)

    # Counts bytes as they arrive (chunked bodies too) and refuses JSON no route could use.
    app.add_middleware(
        RequestBodyGuard,
        max_bytes=limit,
        documents_max_bytes=documents_body_limit(settings),
        max_json_depth=settings.max_json_depth,
        upload_max_bytes=document_upload_body_limit(settings),
        openai_max_bytes=openai_body_limit(settings),
    )

    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"], allow_headers=["*"]
        )
    # Every route but /health (and the OpenAPI docs) needs a caller when AUTH_ENABLED is on.
    authenticated = [Depends(get_principal)]
    app.include_router(meta.public_router)
    app.include_router(meta.router, dependencies=authenticated)
    for module in (chat, runs, approvals, llm, tools, documents, memory, monitoring, openai_compat, studio):
        app.include_router(module.router, dependencies=authenticated)
    if settings.mcp_server_enabled:
        from starlette.routing import Route

        from orchestrator.api.mcp_endpoint import McpEndpoint

        # An ASGI app that authenticates like the routes above; the MCP SDK loads on first use.
        app.router.routes.append(Route("/mcp", McpEndpoint(), methods=["GET", "POST", "DELETE"]))
    from orchestrator.studio import mount_studio

    # The Studio page is public like /docs (it holds no data); its calls carry the user's key.
    mount_studio(app)
    return app
