"""Real servers on 127.0.0.1 for the MCP tests, served by uvicorn in a thread (bounded start/stop).

- :func:`tool_server` — an MCP server built with the ``mcp`` SDK (``MCPServer``) with two tools:
  ``slow_echo`` (echoes ``text`` after ``delay_s`` seconds: quick is a normal call, long is past
  any tool timeout) and ``always_fails`` (raises, so the call is an MCP error result);
- :class:`ServedApp` — any ASGI app (the orchestrator's API, for MCP clients of ``/mcp``).
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

#: What ``always_fails`` says; tests look for it in the tool error.
FAILURE_TEXT = "the warehouse database is on fire"
START_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServedApp:
    """``app`` served on 127.0.0.1 (a free port unless ``port``) while the ``with`` block runs."""

    def __init__(self, app: Any, *, port: int | None = None, name: str = "served-app") -> None:
        self.app = app
        self.port = port or free_port()
        self.name = name
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServedApp:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=self.name, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"{self.name} did not start within {START_TIMEOUT_S:g} s")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=START_TIMEOUT_S)


def tool_server_app(calls: list[str] | None = None) -> Any:
    """The Starlette app of a two-tool MCP server (stateless streamable HTTP at ``/mcp``)."""
    import anyio
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    server = MCPServer("inventory")
    record = calls if calls is not None else []

    @server.tool(description="Echo the text back after waiting delay_s seconds.")
    async def slow_echo(text: str, delay_s: float = 0.0) -> str:
        record.append("slow_echo")
        await anyio.sleep(delay_s)
        return f"echo: {text}"

    @server.tool(description="A tool that always fails.")
    def always_fails(reason: str = "") -> str:
        record.append("always_fails")
        raise ToolError(FAILURE_TEXT)

    return server.streamable_http_app(stateless_http=True, json_response=True)


class McpToolServer(ServedApp):
    """The two-tool MCP server on 127.0.0.1; ``url`` is its endpoint, ``calls`` the tools it ran."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        super().__init__(tool_server_app(self.calls), name="mcp-tool-server")

    @property
    def url(self) -> str:
        return f"{self.base_url}/mcp"
