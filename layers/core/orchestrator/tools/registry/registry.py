"""The tools a request may use: builtins, then the operator's config file, then its tenant's tools.

A name resolves in that order and cannot be shadowed: registering a builtin's or a configured
tool's name is refused. Config-file and run-time tools are ``http`` tools (a builtin needs code)
or ``mcp`` servers, which are never tools themselves: each of their tools is listed and called
as ``<server>__<tool>`` (:mod:`orchestrator.tools.mcp_servers`).
Builtin and configured tools are global; a registered tool belongs to the tenant that registered
it, and no other tenant sees it. What may be added, and what a tenant's admin may register, is
decided in :mod:`orchestrator.tools.registry.policy`.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from orchestrator.errors import ConflictError, LimitExceededError, ToolNotFoundError, TransientError
from orchestrator.state import DEFAULT_TENANT
from orchestrator.tools.builtins.definitions import BUILTIN_DEFINITIONS
from orchestrator.tools.mcp_servers import McpCatalog, split_tool_name
from orchestrator.tools.models import TOOL_NAME_PATTERN, ToolDefinition
from orchestrator.tools.registry.config_file import load_config_tools
from orchestrator.tools.registry.policy import ToolPolicy, check_addable
from orchestrator.tools.registry.store import DynamoToolStore, InMemoryToolStore, ToolStore

if TYPE_CHECKING:
    from orchestrator.config import Settings

logger = logging.getLogger(__name__)


@contextmanager
def _store_errors(action: str) -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        logger.warning("tool registry: %s failed: %s", action, type(exc).__name__)
        raise TransientError(f"the tool registry is unavailable ({action})") from exc


class ToolRegistry:
    def __init__(
        self,
        *,
        config_tools: list[ToolDefinition] | None = None,
        store: ToolStore | None = None,
        allowed_hosts: list[str] | None = None,
        policy: ToolPolicy | None = None,
        tenant_id: str = DEFAULT_TENANT,
        unconfigured: frozenset[str] = frozenset(),
        mcp: McpCatalog | None = None,
    ) -> None:
        self._builtins = {d.name: d for d in BUILTIN_DEFINITIONS}
        #: Builtins whose backend is not configured (web_search without a provider): never offered
        #: to the model or listed, but their names stay reserved and a direct call says why it fails.
        self._unconfigured = unconfigured
        self._configured = {d.name: d for d in config_tools or []}
        self._store = store if store is not None else InMemoryToolStore()
        self._allowed_hosts = list(allowed_hosts or [])
        self._policy = policy or ToolPolicy()
        self.tenant_id = tenant_id
        #: Shared by every tenant's view (``for_tenant`` copies are shallow); keyed by tenant inside.
        self._mcp = mcp or McpCatalog(allowed_hosts=self._allowed_hosts)

    @classmethod
    def from_settings(cls, settings: Settings, *, dynamodb_resource: Any | None = None) -> ToolRegistry:
        """Builtins, ``TOOLS_CONFIG_PATH`` (if set) and the ``TOOLS_TABLE`` (if set)."""
        allowed = settings.http_tool_allowed_hosts
        path = settings.tools_config_path
        configured = load_config_tools(path, allowed) if path else []
        store: ToolStore | None = None
        if settings.tools_table.strip():
            store = DynamoToolStore(
                settings.tools_table.strip(), region=settings.aws_region, resource=dynamodb_resource
            )
        from orchestrator.tools.builtins.web_search import is_configured

        return cls(
            config_tools=configured,
            store=store,
            allowed_hosts=allowed,
            policy=ToolPolicy.from_settings(settings),
            unconfigured=frozenset() if is_configured(settings) else frozenset({"web_search"}),
            mcp=McpCatalog.from_settings(settings),
        )

    def for_tenant(self, tenant_id: str) -> ToolRegistry:
        """The same registry seen by ``tenant_id``: the global tools plus that tenant's own."""
        scoped = copy.copy(self)
        scoped.tenant_id = tenant_id
        return scoped

    def is_builtin(self, name: str) -> bool:
        return name in self._builtins

    def is_global(self, name: str) -> bool:
        return name in self._builtins or name in self._configured

    def list(self) -> list[ToolDefinition]:
        """Every tool this tenant may use; if the table is unreachable, the global ones (logged).

        MCP servers are replaced by their tools; a server that cannot list them is skipped.
        """
        builtins = [t for name, t in self._builtins.items() if name not in self._unconfigured]
        configured = list(self._configured.values())
        tools = [*builtins, *(t for t in configured if not t.is_mcp_server)]
        tools += self._mcp.tools("*", [t for t in configured if t.is_mcp_server])
        try:
            with _store_errors("list"):
                stored = self._store.list(self.tenant_id)
        except TransientError:
            # A chat turn should still have the builtins when DynamoDB has a bad minute.
            return tools
        tools += [t for t in stored if not t.is_mcp_server]
        tools += self._mcp.tools(self.tenant_id, [t for t in stored if t.is_mcp_server])
        # The first of a name wins: an MCP tool cannot shadow a tool listed before it.
        unique: dict[str, ToolDefinition] = {}
        for tool in tools:
            unique.setdefault(tool.name, tool)
        return list(unique.values())

    def get(self, name: str) -> ToolDefinition:
        found = self._builtins.get(name) or self._configured.get(name)
        if found is None and re.fullmatch(TOOL_NAME_PATTERN, name):
            with _store_errors("get"):
                found = self._store.get(self.tenant_id, name)
        if found is None or found.is_mcp_server:
            found = self._mcp_tool(name)
        if found is None:
            raise ToolNotFoundError(f"no tool named '{name}'", details={"name": name})
        return found

    def _mcp_tool(self, name: str) -> ToolDefinition | None:
        """``<server>__<tool>`` of one of this tenant's MCP servers (asking the server if need be)."""
        parts = split_tool_name(name)
        if parts is None or not re.fullmatch(TOOL_NAME_PATTERN, name):
            return None
        server_name, tool = parts
        server = self._configured.get(server_name)
        scope = "*"
        if server is None:
            with _store_errors("get"):
                server = self._store.get(self.tenant_id, server_name)
            scope = self.tenant_id
        if server is None or not server.is_mcp_server:
            return None
        return self._mcp.tool(scope, server, tool)

    def register(self, definition: ToolDefinition, *, replace: bool = False) -> ToolDefinition:
        """Add an ``http`` tool or ``mcp`` server for this tenant; ``replace=True`` replaces one of its own.

        Builtin and configured names are never replaced (409), nor is an existing tool without
        ``replace`` (409); the policy's checks are 422; past the tenant's limit is 409.
        """
        if self.is_global(definition.name):
            where = "a builtin" if self.is_builtin(definition.name) else "defined in the tools config file"
            raise ConflictError(f"'{definition.name}' is {where} and cannot be replaced")
        check_addable(definition, self._allowed_hosts, existing=set())
        self._policy.check(definition, self.tenant_id)
        with _store_errors("register"):
            existing = self._store.list(self.tenant_id)
            is_new = all(t.name != definition.name for t in existing)
            if is_new and len(existing) >= self._policy.max_per_tenant:
                raise LimitExceededError(
                    f"this tenant already has {len(existing)} registered tools, the limit",
                    details={"limit": self._policy.max_per_tenant},
                )
            self._store.put(self.tenant_id, definition, replace=replace)
        self._mcp.forget(self.tenant_id, definition.name)
        logger.info(
            "tool registered: %s (%s) for tenant %s", definition.name, definition.kind, self.tenant_id
        )
        return definition

    def delete(self, name: str) -> None:
        """Delete this tenant's tool ``name``; global tools are 409, unknown names 404."""
        if self.is_global(name):
            raise ConflictError(f"'{name}' is a builtin or configured tool and cannot be deleted")
        with _store_errors("delete"):
            deleted = re.fullmatch(TOOL_NAME_PATTERN, name) is not None and self._store.delete(
                self.tenant_id, name
            )
        if not deleted:
            raise ToolNotFoundError(f"no tool named '{name}'", details={"name": name})
        self._mcp.forget(self.tenant_id, name)
        logger.info("tool deleted: %s for tenant %s", name, self.tenant_id)
