"""MCP servers as tool sources: a registered server's tools become ``<server>__<tool>`` tools.

- :mod:`.catalog` — :class:`McpCatalog`: each server's tool list, cached with a TTL, degrading to
  "skip that server" when it is down;
- :mod:`.client` — list a server's tools and call one, with the official ``mcp`` SDK (imported on
  first use: the SDK costs a cold start only to the functions that reach a server);
- :mod:`.transport` — the SDK's HTTP transport, pinned to addresses the SSRF guard has checked.
"""

from orchestrator.tools.mcp_servers.catalog import McpCatalog, split_tool_name

__all__ = ["McpCatalog", "split_tool_name"]
