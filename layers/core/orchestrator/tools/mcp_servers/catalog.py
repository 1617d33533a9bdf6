"""Each MCP server's tools as tool definitions, cached per server with a TTL.

A server registered as ``search`` that lists ``web`` and ``news`` gives the tools
``search__web`` and ``search__news``, each with the server's input schema. Listing degrades:
a server that is down or slow is skipped (and logged) and not asked again for
``MCP_UNAVAILABLE_RETRY_S``, so one bad server costs a chat turn at most one
``MCP_LIST_TIMEOUT_S``. Looking up one tool to *call* it always asks again, so a call reports
why the server is unavailable now. Tools whose names or schemas cannot be used here (a name
outside ``[a-zA-Z0-9_-]``, more than 64 characters in all, a schema that is not an object or is
too large) are skipped with a log line.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrator.errors import OrchestratorError, ToolNotFoundError, ToolUnavailableError
from orchestrator.tools.json_schema.parameters import check_object_root
from orchestrator.tools.models import MCP_SEPARATOR, TOOL_NAME_PATTERN, ToolDefinition

if TYPE_CHECKING:
    from orchestrator.config import Settings
    from orchestrator.tools.mcp_servers.client import RemoteTool

logger = logging.getLogger(__name__)

#: Servers listed at once when several are stale.
MAX_PARALLEL_LISTS = 8

Lister = Callable[[ToolDefinition, float], "list[RemoteTool]"]


def split_tool_name(name: str) -> tuple[str, str] | None:
    """``(server, tool)`` for ``<server>__<tool>``, else None."""
    server, separator, tool = name.partition(MCP_SEPARATOR)
    return (server, tool) if separator and server and tool else None


@dataclass(frozen=True)
class _Entry:
    tools: dict[str, ToolDefinition] | None  # None: the server failed
    error: OrchestratorError | None
    expires: float


class McpCatalog:
    """The tools of MCP servers, per (tenant, server), fetched on demand and kept ``ttl_s``."""

    def __init__(
        self,
        *,
        allowed_hosts: list[str] | None = None,
        ttl_s: float = 300.0,
        list_timeout_s: float = 5.0,
        unavailable_retry_s: float = 30.0,
        max_description_chars: int = 1_024,
        max_schema_bytes: int = 8_192,
        lister: Lister | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._allowed_hosts = list(allowed_hosts or [])
        self._ttl_s = ttl_s
        self._list_timeout_s = list_timeout_s
        self._unavailable_retry_s = unavailable_retry_s
        self._max_description_chars = max_description_chars
        self._max_schema_bytes = max_schema_bytes
        self._lister = lister or self._list_remote
        self._clock = clock
        self._entries: dict[tuple[str, str, str], _Entry] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> McpCatalog:
        return cls(
            allowed_hosts=settings.http_tool_allowed_hosts,
            ttl_s=settings.mcp_tools_cache_ttl_s,
            list_timeout_s=settings.mcp_list_timeout_s,
            unavailable_retry_s=settings.mcp_unavailable_retry_s,
            max_description_chars=settings.tools_max_description_chars,
            max_schema_bytes=settings.tools_max_schema_bytes,
        )

    def tools(self, scope: str, servers: list[ToolDefinition]) -> list[ToolDefinition]:
        """The tools of ``servers`` (all of ``scope``: a tenant, or ``*`` for configured ones)."""
        now = self._clock()
        with self._lock:
            stale = [s for s in servers if self._fresh(scope, s, now) is None]
        if stale:
            workers = min(MAX_PARALLEL_LISTS, len(stale))
            if workers == 1:
                self._refresh(scope, stale[0])
            else:
                with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mcp-list") as pool:
                    list(pool.map(lambda server: self._refresh(scope, server), stale))
        found: list[ToolDefinition] = []
        with self._lock:
            for server in servers:
                entry = self._entries.get(self._key(scope, server))
                if entry is not None and entry.tools is not None:
                    found.extend(entry.tools.values())
        return found

    def tool(self, scope: str, server: ToolDefinition, tool: str) -> ToolDefinition:
        """One tool of ``server`` to call: :class:`ToolUnavailableError` if the server cannot say."""
        with self._lock:
            entry = self._fresh(scope, server, self._clock())
        if entry is None or entry.tools is None:
            entry = self._refresh(scope, server)
        if entry.tools is None:
            raise entry.error or ToolUnavailableError(f"MCP server '{server.name}' is unavailable")
        name = f"{server.name}{MCP_SEPARATOR}{tool}"
        found = entry.tools.get(name)
        if found is None:
            raise ToolNotFoundError(f"no tool named '{name}'", details={"name": name})
        return found

    def forget(self, scope: str, server_name: str) -> None:
        """Drop what is cached for ``server_name`` (it was replaced or deleted)."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == scope and k[1] == server_name]:
                del self._entries[key]

    @staticmethod
    def _key(scope: str, server: ToolDefinition) -> tuple[str, str, str]:
        # The whole definition: a replaced server (new URL, new secret) is a new entry.
        return scope, server.name, server.model_dump_json()

    def _fresh(self, scope: str, server: ToolDefinition, now: float) -> _Entry | None:
        entry = self._entries.get(self._key(scope, server))
        return entry if entry is not None and entry.expires > now else None

    def _refresh(self, scope: str, server: ToolDefinition) -> _Entry:
        started = self._clock()
        try:
            remote = self._lister(server, self._list_timeout_s)
        except OrchestratorError as error:
            logger.warning("MCP server %s skipped (%s): %s", server.name, scope, error.message)
            entry = _Entry(tools=None, error=error, expires=started + self._unavailable_retry_s)
        else:
            tools = {d.name: d for d in (self._definition(server, t) for t in remote) if d is not None}
            entry = _Entry(tools=tools, error=None, expires=started + self._ttl_s)
        with self._lock:
            self._entries[self._key(scope, server)] = entry
        return entry

    def _definition(self, server: ToolDefinition, remote: RemoteTool) -> ToolDefinition | None:
        assert server.mcp is not None  # only servers are listed
        name = f"{server.name}{MCP_SEPARATOR}{remote.name}"
        problem: str | None = None
        if not re.fullmatch(TOOL_NAME_PATTERN, name):
            problem = "its name does not fit [a-zA-Z0-9_-]{1,64} with the server's prefix"
        elif len(json.dumps(remote.input_schema).encode()) > self._max_schema_bytes:
            problem = f"its input schema is over {self._max_schema_bytes} bytes"
        else:
            try:
                check_object_root(remote.input_schema)
            except ValueError as error:
                problem = str(error)
        if problem is not None:
            logger.warning("MCP tool %r of server %s skipped: %s", remote.name, server.name, problem)
            return None
        description = remote.description.strip() or f"{remote.name} (from the MCP server {server.name})"
        return ToolDefinition(
            name=name,
            description=description[: self._max_description_chars],
            parameters=remote.input_schema,
            kind="mcp",
            mcp=server.mcp.model_copy(update={"tool": remote.name}),
        )

    def _list_remote(self, server: ToolDefinition, timeout_s: float) -> list[RemoteTool]:
        from orchestrator.tools.mcp_servers.client import list_server_tools

        assert server.mcp is not None
        return list_server_tools(
            server.name, server.mcp, allowed_hosts=self._allowed_hosts, deadline=time.monotonic() + timeout_s
        )
