"""List an MCP server's tools and call one, over streamable HTTP, with the official ``mcp`` SDK.

Callers are synchronous (the tool executor's worker thread, a route's thread): each operation
runs its own short event loop (``anyio.run``), opens one connection, does its work and closes,
all within a deadline. Nothing here keeps a session between calls, so a Lambda container frozen
between invocations leaves nothing half-open. Failures are typed: :class:`ToolTimeoutError` when
the deadline passes, :class:`ToolUnavailableError` when the server cannot be reached or answers
something that is not MCP, :class:`BlockedAddressError` when the guard refuses its address.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from orchestrator.errors import OrchestratorError, ToolExecutionError, ToolTimeoutError, ToolUnavailableError
from orchestrator.secrets import read_secret, redact
from orchestrator.tools.models import MCP_SEPARATOR, McpServerConfig, ToolContext, ToolDefinition

if TYPE_CHECKING:
    from mcp import Client

logger = logging.getLogger(__name__)

T = TypeVar("T")
#: Longest text of a failed call's message kept in the error (the output keeps the whole, capped).
_ERROR_SNIPPET = 300


@dataclass(frozen=True)
class RemoteTool:
    """A tool as an MCP server lists it."""

    name: str
    description: str
    input_schema: dict[str, Any]


def _headers(config: McpServerConfig) -> tuple[dict[str, str], str | None]:
    headers = dict(config.headers)
    secret = read_secret(config.auth_secret_id) if config.auth_secret_id else None
    if secret:
        scheme = config.auth_scheme.strip()
        headers[config.auth_header] = f"{scheme} {secret}" if scheme else secret
    return headers, secret


def _leaf_errors(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaf_errors(inner)]
    return [error]


def _run(
    server: str,
    config: McpServerConfig,
    allowed_hosts: list[str],
    deadline: float,
    work: Callable[[Client], Awaitable[T]],
) -> T:
    """``work`` on a connected client, within ``deadline``; only typed errors escape."""
    import anyio

    headers, secret = _headers(config)

    async def connect_and_work() -> T:
        import httpx2
        from mcp import Client
        from mcp.client.streamable_http import streamable_http_client

        from orchestrator.tools.mcp_servers.transport import GuardedTransport

        remaining = max(deadline - time.monotonic(), 0.001)
        with anyio.fail_after(remaining):
            async with httpx2.AsyncClient(
                transport=GuardedTransport(allowed_hosts),
                headers=headers,
                timeout=httpx2.Timeout(remaining),
                trust_env=False,
                follow_redirects=False,
            ) as http:
                transport = streamable_http_client(config.url, http_client=http, terminate_on_close=False)
                async with Client(transport, cache=None, read_timeout_seconds=remaining) as client:
                    return await work(client)

    try:
        return anyio.run(connect_and_work)
    except BaseException as error:  # the SDK's task groups wrap errors in groups
        leaves = _leaf_errors(error)
        for leaf in leaves:
            if isinstance(leaf, OrchestratorError):  # the guard's refusal, a failed call
                raise leaf from None
        if any(isinstance(leaf, TimeoutError) for leaf in leaves) or time.monotonic() >= deadline:
            raise ToolTimeoutError(f"MCP server '{server}' did not answer in time") from None
        if not all(isinstance(leaf, Exception) for leaf in leaves):
            raise  # KeyboardInterrupt, SystemExit: not ours to translate
        reason = redact(type(leaves[0]).__name__ + (f": {leaves[0]}" if str(leaves[0]) else ""), secret)
        logger.info("MCP server %s failed: %s", server, reason)
        raise ToolUnavailableError(
            f"MCP server '{server}' is unavailable ({reason[:_ERROR_SNIPPET]})", details={"server": server}
        ) from None


def list_server_tools(
    server: str, config: McpServerConfig, *, allowed_hosts: list[str], deadline: float
) -> list[RemoteTool]:
    """Every tool ``server`` lists (following pagination), within ``deadline``."""

    async def work(client: Client) -> list[RemoteTool]:
        tools: list[RemoteTool] = []
        cursor: str | None = None
        while True:
            page = await client.list_tools(cursor=cursor)
            tools.extend(
                RemoteTool(name=t.name, description=t.description or "", input_schema=dict(t.input_schema))
                for t in page.tools
            )
            cursor = page.next_cursor
            if not cursor:
                return tools

    return _run(server, config, allowed_hosts, deadline, work)


def call_server_tool(
    server: str,
    config: McpServerConfig,
    arguments: dict[str, Any],
    *,
    allowed_hosts: list[str],
    deadline: float,
) -> Any:
    """The tool's structured result, or its text; :class:`ToolExecutionError` when it reports an error."""
    tool = config.tool
    if tool is None:
        raise ToolExecutionError(f"'{server}' is an MCP server, not one of its tools")

    async def work(client: Client) -> Any:
        result = await client.call_tool(tool, arguments)
        texts = [getattr(block, "text", None) or f"[{block.type} content]" for block in result.content]
        text = "\n".join(texts)
        if result.is_error:
            raise ToolExecutionError(
                f"{server}{MCP_SEPARATOR}{tool}: the MCP tool reported an error: {text[:_ERROR_SNIPPET]}",
                details={"output": {"content": text}},
            )
        if result.structured_content is not None:
            return result.structured_content
        return text

    return _run(server, config, allowed_hosts, deadline, work)


def run_mcp_tool(definition: ToolDefinition, arguments: dict[str, Any], context: ToolContext) -> Any:
    """Run ``<server>__<tool>`` for the tool executor, within the call's deadline and the server's timeout."""
    config = definition.mcp
    if config is None:  # guarded by ToolDefinition's validator; kept for the type checker
        raise ToolExecutionError(f"tool '{definition.name}' has no mcp section")
    server = definition.name.partition(MCP_SEPARATOR)[0]
    deadline = min(context.deadline, time.monotonic() + config.timeout_s)
    return call_server_tool(
        server, config, arguments, allowed_hosts=context.settings.http_tool_allowed_hosts, deadline=deadline
    )
