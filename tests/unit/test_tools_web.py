"""Given local servers playing a web API and search providers, the HTTP and web-search tools work
within the URL guard, and web search is offered only when configured."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr

from orchestrator.config import Settings
from orchestrator.state import ToolCall
from orchestrator.tools.executor import execute_tool_call
from orchestrator.tools.network.url_guard import is_allowlisted
from orchestrator.tools.registry import ToolRegistry


class Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.seen.append(
            {
                "method": self.command,
                "path": parts.path,
                "query": query,
                "body": body,
                "headers": {k.lower(): v for k, v in self.headers.items()},
            }
        )
        if parts.path == "/search":  # SearxNG
            payload: Any = {
                "results": [{"title": f"About {query.get('q')}", "url": "https://e.x/1", "content": "snip"}]
                * 3
            }
        elif parts.path == "/res/v1/web/search":  # Brave
            payload = {"web": {"results": [{"title": "Brave hit", "url": "https://b.x", "description": "d"}]}}
        elif parts.path == "/tavily":
            payload = {"results": [{"title": "Tavily hit", "url": "https://t.x", "content": "c"}]}
        else:
            payload = {"echo": {"method": self.command, "body": body}}
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer


@pytest.fixture
def server() -> Iterator[str]:
    Recorder.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def run(name: str, arguments: dict[str, Any], **settings: Any) -> Any:
    config = Settings(_env_file=None, tools_table="", **settings)  # type: ignore[call-arg]
    return execute_tool_call(
        ToolCall(id="c1", name=name, arguments=arguments), ToolRegistry.from_settings(config), config
    )


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_http_request_sends_each_method_with_a_json_body(server: str) -> None:
    allowed = [f"127.0.0.1:{port_of(server)}"]
    for method in ("POST", "PUT", "PATCH"):
        result = run(
            "http_request",
            {"url": server + "/items", "method": method, "body": {"a": 1}},
            http_tool_allowed_hosts=allowed,
        )
        assert result.ok, result.error
        assert result.output["body"]["echo"] == {"method": method, "body": '{"a": 1}'}
    deleted = run(
        "http_request", {"url": server + "/items/1", "method": "DELETE"}, http_tool_allowed_hosts=allowed
    )
    assert deleted.ok and deleted.output["status"] == 200


def test_a_host_port_entry_opens_that_port_only(server: str) -> None:
    other_port = port_of(server) + 1 if port_of(server) < 65535 else port_of(server) - 1

    refused = run("http_request", {"url": server + "/x"}, http_tool_allowed_hosts=[f"127.0.0.1:{other_port}"])

    assert refused.ok is False and refused.error.startswith("blocked_address")
    assert Recorder.seen == []
    assert is_allowlisted("127.0.0.1", ["127.0.0.1:8080"], 8080)
    assert not is_allowlisted("127.0.0.1", ["127.0.0.1:8080"], 8081)
    assert is_allowlisted("127.0.0.1", ["127.0.0.1"], 1)
    assert is_allowlisted("::1", ["[::1]:80"], 80) and not is_allowlisted("::1", ["[::1]:80"], 81)


def test_http_request_refuses_private_addresses_credentials_and_connection_headers(server: str) -> None:
    private = run("http_request", {"url": server + "/x"})  # 127.0.0.1 not allowlisted
    creds = run(
        "http_request",
        {"url": server + "/x", "headers": {"Authorization": "Bearer x"}},
        http_tool_allowed_hosts=["127.0.0.1"],
    )
    host = run(
        "http_request",
        {"url": server + "/x", "headers": {"Host": "internal"}},
        http_tool_allowed_hosts=["127.0.0.1"],
    )
    metadata = run(
        "http_request",
        {"url": "http://169.254.169.254/latest/meta-data/"},
        http_tool_allowed_hosts=["169.254.169.254"],
    )

    for result in (private, creds, host, metadata):
        assert result.ok is False
    assert Recorder.seen == []


def test_web_search_over_searxng_returns_title_url_snippet(server: str) -> None:
    result = run(
        "web_search",
        {"query": "lambda cold start", "max_results": 2},
        web_search_provider="searxng",
        web_search_url=server,
    )

    assert result.ok, result.error
    assert (
        result.output["results"]
        == [{"title": "About lambda cold start", "url": "https://e.x/1", "snippet": "snip"}] * 2
    )
    assert Recorder.seen[0]["query"] == {"q": "lambda cold start", "format": "json"}


def test_hosted_providers_send_their_key_and_map_their_results(server: str) -> None:
    brave = run(
        "web_search",
        {"query": "q"},
        web_search_provider="brave",
        web_search_url=server + "/res/v1/web/search",
        web_search_api_key=SecretStr("brave-key-1"),
    )
    tavily = run(
        "web_search",
        {"query": "q"},
        web_search_provider="tavily",
        web_search_url=server + "/tavily",
        web_search_api_key=SecretStr("tvly-key-2"),
    )

    assert brave.output["results"][0]["title"] == "Brave hit"
    assert tavily.output["results"][0]["title"] == "Tavily hit"
    assert Recorder.seen[0]["headers"]["x-subscription-token"] == "brave-key-1"
    assert Recorder.seen[1]["headers"]["authorization"] == "Bearer tvly-key-2"
    assert "tvly-key-2" not in json.dumps(tavily.model_dump())


def test_unconfigured_web_search_is_not_offered_and_says_why() -> None:
    config = Settings(_env_file=None, tools_table="")  # type: ignore[call-arg]
    configured = Settings(
        _env_file=None, tools_table="", web_search_provider="searxng", web_search_url="http://s"
    )  # type: ignore[call-arg]

    offered = {t.name for t in ToolRegistry.from_settings(config).list()}
    direct = run("web_search", {"query": "x"})

    assert "web_search" not in offered and "http_request" in offered
    assert "web_search" in {t.name for t in ToolRegistry.from_settings(configured).list()}
    assert direct.ok is False and "not configured" in (direct.error or "")
