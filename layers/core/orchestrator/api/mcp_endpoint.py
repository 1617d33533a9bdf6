"""The orchestrator as an MCP server at ``/mcp`` (streamable HTTP, stateless, JSON responses).

Tools: ``chat`` (a turn through the graph, built by the API's own :func:`new_state`, so the
identity rules of ``/v1/chat`` apply), ``search_documents`` (the caller's documents, through the
container's retriever) and every tool of the caller's tenant (run by :func:`execute_tool_call`,
as the state machine's Map runs them).

The caller is authenticated exactly as on the API (:func:`~orchestrator.api.auth.authenticate`:
an API key, or the JWT authorizer's claims) before any MCP message is read; each request then
gets an MCP server bound to that principal, so a tool never sees another tenant.

**Stateless, one exchange per HTTP request.** On AWS the API runs behind Mangum, which buffers
each response and runs the ASGI lifespan per invocation, and successive requests may reach
different Lambda containers: an MCP session kept in one container's memory would be lost on the
next. So every request builds its own session manager (about 20 µs), handles its message and
ends; responses are JSON rather than SSE streams, which API Gateway would buffer anyway. Clients
lose nothing they need here: the tools answer in one response and send no server-initiated
requests. The ``mcp`` SDK (about 1 s of imports) loads on the first ``/mcp`` request, never
during the API's cold start.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from orchestrator.api.errors import error_body
from orchestrator.errors import OrchestratorError

if TYPE_CHECKING:
    from mcp.server.lowlevel import Server
    from mcp_types import CallToolResult
    from starlette.types import Receive, Scope, Send

    from orchestrator.config import Settings
    from orchestrator.container import Container
    from orchestrator.identity import Principal
    from orchestrator.workflow import WorkflowRunner

logger = logging.getLogger("orchestrator.api.mcp")

CHAT = "chat"
SEARCH_DOCUMENTS = "search_documents"
#: Hosts a browser page may not rebind to when auth is off (local use): the SDK's own defaults.
_LOCAL_HOSTS = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
_LOCAL_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
_ID = {"type": "string", "minLength": 1, "maxLength": 128, "pattern": r"^[A-Za-z0-9_.:@\-]+$"}
_USER_ID = {**_ID, "description": "The end user inside your tenant (API keys); a user token names its own."}

CHAT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "prompt": {"type": "string", "minLength": 1, "description": "The user's message."},
        "session_id": {**_ID, "description": "Continue this conversation (omit to start one)."},
        "user_id": _USER_ID,
    },
    "required": ["prompt"],
    "additionalProperties": False,
}
SEARCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "minLength": 1, "description": "What to look for."},
        "top_k": {"type": "integer", "minimum": 1, "maximum": 20, "description": "Passages to return."},
        "user_id": _USER_ID,
    },
    "required": ["query"],
    "additionalProperties": False,
}


def end_user(principal: Principal, requested: str | None) -> str:
    """Who a call acts for: the named user, else the token's user, else one user per API key."""
    if requested:
        return principal.end_user(requested) or requested
    if principal.user_id:
        return principal.user_id
    return principal.subject if principal.via == "api_key" else "mcp"


class McpEndpoint:
    """The ASGI app mounted at ``/mcp``: authenticate, then one stateless MCP exchange."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from orchestrator.api.auth import authenticate
        from orchestrator.api.deps import get_app_settings, get_container, get_runner

        request = Request(scope, receive)
        settings = get_app_settings(request)
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        credentials = None
        if scheme.lower() == "bearer" and token.strip():
            from fastapi.security import HTTPAuthorizationCredentials

            credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token.strip())
        try:
            principal = authenticate(request, settings, credentials)
        except OrchestratorError as error:
            response = JSONResponse(
                error_body(error.code, error.message),
                status_code=error.status_code,
                headers={"WWW-Authenticate": 'Bearer realm="orchestrator"'}
                if error.status_code == 401
                else None,
            )
            await response(scope, receive, send)
            return
        server = build_server(principal, settings, get_runner(request), get_container(request))
        await _serve_once(server, settings, scope, receive, send)


async def _serve_once(
    server: Server[Any], settings: Settings, scope: Scope, receive: Receive, send: Send
) -> None:
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
    from mcp.server.transport_security import TransportSecuritySettings

    # With auth on, a rebound browser page has no key to send; with it off (local use), only
    # localhost names are accepted, as the SDK does for a server on 127.0.0.1.
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=not settings.auth_enabled,
        allowed_hosts=_LOCAL_HOSTS,
        allowed_origins=_LOCAL_ORIGINS,
    )
    manager = StreamableHTTPSessionManager(
        app=server, stateless=True, json_response=True, security_settings=security
    )
    async with manager.run():
        await manager.handle_request(scope, receive, send)


def build_server(
    principal: Principal, settings: Settings, runner: WorkflowRunner, container: Container
) -> Server[Any]:
    """An MCP server whose tools act for ``principal`` (its tenant, its user rules) only."""
    import anyio.to_thread
    import mcp_types as types
    from mcp.server.lowlevel import Server

    registry = container.tools.for_tenant(principal.tenant_id)

    def own_tools() -> list[types.Tool]:
        return [
            types.Tool(
                name=CHAT,
                description="Send a message to the orchestrator's agents; returns the answer.",
                input_schema=CHAT_SCHEMA,
            ),
            types.Tool(
                name=SEARCH_DOCUMENTS,
                description="Search the caller's documents; returns passages.",
                input_schema=SEARCH_SCHEMA,
            ),
        ]

    def list_tools() -> list[types.Tool]:
        tools = own_tools()
        taken = {t.name for t in tools}
        tools += [
            types.Tool(name=d.name, description=d.description, input_schema=d.parameters)
            for d in registry.list()
            if d.name not in taken
        ]
        return tools

    def call(name: str, arguments: dict[str, Any]) -> CallToolResult:
        try:
            if name == CHAT:
                return _result(_chat(arguments, principal, settings, runner))
            if name == SEARCH_DOCUMENTS:
                return _result(_search(arguments, principal, settings, container))
            return _registry_call(name, arguments, registry, settings)
        except OrchestratorError as error:
            return _failure(f"{error.code}: {error.message}")

    async def on_list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=await anyio.to_thread.run_sync(list_tools))

    async def on_call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        return await anyio.to_thread.run_sync(call, params.name, dict(params.arguments or {}))

    return Server("orchestrator", on_list_tools=on_list_tools, on_call_tool=on_call_tool)


def _chat(
    arguments: dict[str, Any], principal: Principal, settings: Settings, runner: WorkflowRunner
) -> dict[str, Any]:
    from pydantic import ValidationError as PydanticValidationError

    from orchestrator.api.schemas import ChatRequest
    from orchestrator.api.turns import new_state, run_chat_turn, to_response
    from orchestrator.errors import ValidationError

    try:
        request = ChatRequest(
            prompt=str(arguments.get("prompt") or ""),
            user_id=end_user(principal, arguments.get("user_id")),
            session_id=arguments.get("session_id"),
        )
    except PydanticValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()[:5])
        raise ValidationError(problems) from None
    # The same turn as POST /v1/chat: a turn that needs approval is handed to a Standard run.
    response = to_response(run_chat_turn(runner, new_state(request, settings, principal)))
    return response.model_dump(
        mode="json",
        include={"response", "run_id", "session_id", "citations", "intent", "status", "status_url"},
    )


def _search(
    arguments: dict[str, Any], principal: Principal, settings: Settings, container: Container
) -> dict[str, Any]:
    from orchestrator.errors import ValidationError

    query = str(arguments.get("query") or "").strip()
    if not query:
        raise ValidationError("query: must not be empty")
    if len(query) > settings.max_prompt_chars:
        raise ValidationError(f"query: over the limit of {settings.max_prompt_chars} characters")
    top_k = arguments.get("top_k")
    user_id = end_user(principal, arguments.get("user_id"))
    deadline = time.monotonic() + settings.node_default_budget_s
    found = container.retriever.search(
        query, principal.tenant_id, user_id, top_k if isinstance(top_k, int) else None, deadline=deadline
    )
    keep = {"source_id", "doc_id", "chunk_id", "title", "score", "snippet", "text"}
    return {
        "passages": [p.model_dump(mode="json", include=keep) for p in found.passages],
        "failed_sources": found.failed_sources,
    }


def _registry_call(name: str, arguments: dict[str, Any], registry: Any, settings: Settings) -> CallToolResult:
    from orchestrator.state import ToolCall
    from orchestrator.tools.executor import execute_tool_call

    registry.get(name)  # unknown → tool_not_found, as a failed call
    result = execute_tool_call(ToolCall(id="mcp", name=name, arguments=arguments), registry, settings)
    if not result.ok:
        return _failure(result.error or "tool_failed", result.model_dump(mode="json"))
    return _result(result.model_dump(mode="json"))


def _result(value: dict[str, Any]) -> CallToolResult:
    import mcp_types as types

    text = json.dumps(value, ensure_ascii=False, default=str)
    return types.CallToolResult(content=[types.TextContent(text=text)], structured_content=value)


def _failure(message: str, value: dict[str, Any] | None = None) -> CallToolResult:
    import mcp_types as types

    return types.CallToolResult(
        content=[types.TextContent(text=message)], structured_content=value, is_error=True
    )
