"""Given MCP servers that answer, fail or list unusable tools, the catalog caches, degrades and skips."""

from __future__ import annotations

import pytest

from orchestrator.errors import ToolNotFoundError, ToolUnavailableError
from orchestrator.tools.mcp_servers import McpCatalog, split_tool_name
from orchestrator.tools.mcp_servers.client import RemoteTool
from orchestrator.tools.models import ToolDefinition

SCHEMA = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}


def server(name: str = "inv", url: str = "https://mcp.example.com/mcp") -> ToolDefinition:
    return ToolDefinition(name=name, description="d", kind="mcp", mcp={"url": url})  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Lister:
    def __init__(self, tools: list[RemoteTool]) -> None:
        self.tools = tools
        self.calls = 0
        self.down = False

    def __call__(self, definition: ToolDefinition, timeout_s: float) -> list[RemoteTool]:
        self.calls += 1
        if self.down:
            raise ToolUnavailableError(f"MCP server '{definition.name}' is unavailable (ConnectError)")
        return self.tools


def test_tools_are_named_after_the_server_and_cached_for_the_ttl() -> None:
    lister, clock = Lister([RemoteTool("search", "Search.", SCHEMA)]), Clock()
    catalog = McpCatalog(ttl_s=60, lister=lister, clock=clock)

    first = catalog.tools("acme", [server()])
    clock.now = 59
    catalog.tools("acme", [server()])
    clock.now = 61
    catalog.tools("acme", [server()])

    assert [t.name for t in first] == ["inv__search"]
    assert first[0].parameters == SCHEMA and first[0].mcp is not None and first[0].mcp.tool == "search"
    assert lister.calls == 2


def test_a_down_server_is_skipped_then_retried_later_but_a_call_asks_at_once() -> None:
    lister, clock = Lister([RemoteTool("search", "", SCHEMA)]), Clock()
    lister.down = True
    catalog = McpCatalog(unavailable_retry_s=30, lister=lister, clock=clock)

    assert catalog.tools("acme", [server()]) == []
    assert catalog.tools("acme", [server()]) == []
    with pytest.raises(ToolUnavailableError, match="unavailable"):
        catalog.tool("acme", server(), "search")
    lister.down = False
    found = catalog.tool("acme", server(), "search")

    assert lister.calls == 3
    assert found.description == "search (from the MCP server inv)"
    with pytest.raises(ToolNotFoundError):
        catalog.tool("acme", server(), "nope")


def test_tenants_and_replaced_servers_have_their_own_entries() -> None:
    lister = Lister([RemoteTool("search", "Search.", SCHEMA)])
    catalog = McpCatalog(lister=lister)

    catalog.tools("acme", [server()])
    catalog.tools("zeta", [server()])
    catalog.tools("acme", [server(url="https://other.example.com/mcp")])
    catalog.forget("acme", "inv")
    catalog.tools("acme", [server()])

    assert lister.calls == 4


def test_unusable_tools_are_skipped() -> None:
    lister = Lister(
        [
            RemoteTool("ok", "fine", SCHEMA),
            RemoteTool("has.dot", "bad name", SCHEMA),
            RemoteTool("x" * 70, "too long", SCHEMA),
            RemoteTool("array", "not an object", {"type": "array"}),
            RemoteTool("huge", "too large", {"type": "object", "description": "x" * 10_000}),
        ]
    )
    catalog = McpCatalog(lister=lister, max_schema_bytes=8_192, max_description_chars=3)

    tools = catalog.tools("acme", [server()])

    assert [t.name for t in tools] == ["inv__ok"] and tools[0].description == "fin"


def test_names_split_at_the_first_separator_only_when_both_sides_exist() -> None:
    assert split_tool_name("inv__search") == ("inv", "search")
    assert split_tool_name("inv__deep__name") == ("inv", "deep__name")
    assert split_tool_name("calculator") is None and split_tool_name("__x") is None


def test_a_server_name_may_not_contain_the_separator_and_mcp_needs_its_section() -> None:
    with pytest.raises(ValueError, match="may not contain"):
        server(name="a__b")
    with pytest.raises(ValueError, match="needs an 'mcp' section"):
        ToolDefinition(name="x", description="d", kind="mcp")


def test_the_guard_refuses_a_loopback_server_that_is_not_allowlisted() -> None:
    import time

    from orchestrator.errors import BlockedAddressError
    from orchestrator.tools.mcp_servers.client import list_server_tools
    from orchestrator.tools.models import McpServerConfig

    with pytest.raises(BlockedAddressError):
        list_server_tools(
            "inv",
            McpServerConfig(url="http://127.0.0.1:9/mcp"),
            allowed_hosts=[],
            deadline=time.monotonic() + 5,
        )
