"""Given a real HTTP server on 127.0.0.1, URL tools reach it only when allowed, and never past it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from orchestrator.config import Settings
from orchestrator.state import ToolCall
from orchestrator.tools.executor import execute_tool_call
from orchestrator.tools.models import HttpToolConfig, ToolDefinition
from orchestrator.tools.registry import ToolRegistry

Route = Callable[[BaseHTTPRequestHandler, bytes], tuple[int, dict[str, str], bytes]]


@dataclass
class LocalServer:
    port: int
    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def paths_hit(self) -> list[str]:
        return [urlsplit(path).path for _method, path, _headers, _body in self.hits]


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    state = LocalServer(port=0)

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.hits.append((self.command, self.path, dict(self.headers), body))
            route = state.routes.get(urlsplit(self.path).path)
            status, headers, payload = route(self, body) if route else (404, {}, b"not found")
            self.send_response(status)
            for name, value in {"Content-Length": str(len(payload)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def fresh(server: LocalServer) -> None:
    server.routes.clear()
    server.hits.clear()


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"http_tool_allowed_hosts": ["127.0.0.1"], "tool_timeout_s": 5.0, **overrides}
    return Settings(_env_file=None, tools_table="", **values)  # type: ignore[call-arg]


def fetch(url: str, config: Settings) -> Any:
    call = ToolCall(id="call_1", name="fetch_url", arguments={"url": url})
    return execute_tool_call(call, ToolRegistry(), config)


def html(title: str, body: str) -> Route:
    page = (
        f"<html><head><title>{title}</title><script>var x=1;</script></head><body><p>{body}</p></body></html>"
    )
    return lambda _h, _b: (200, {"Content-Type": "text/html; charset=utf-8"}, page.encode())


def redirect(location: str) -> Route:
    return lambda _h, _b: (302, {"Location": location}, b"")


def test_fetch_from_an_allowlisted_local_server_returns_visible_text(server: LocalServer) -> None:
    server.routes["/page"] = html("Hello page", "Orchestrators route requests.")

    result = fetch(server.url("/page"), settings())

    assert result.ok, result.error
    assert result.output["status"] == 200
    assert result.output["title"] == "Hello page"
    assert result.output["text"] == "Orchestrators route requests."
    assert "var x" not in result.output["text"]
    assert result.latency_ms > 0


def test_fetch_caps_the_body_at_http_tool_max_bytes(server: LocalServer) -> None:
    server.routes["/big"] = lambda _h, _b: (200, {"Content-Type": "text/plain"}, b"a" * 50_000)

    result = fetch(server.url("/big"), settings(http_tool_max_bytes=1_000))

    assert result.ok, result.error
    assert result.output["bytes"] == 1_000
    assert result.output["truncated"] is True
    assert result.output["text"] == "a" * 1_000


def test_fetch_of_a_local_server_without_allowlist_is_blocked_before_connecting(server: LocalServer) -> None:
    server.routes["/page"] = html("x", "secret")

    result = fetch(server.url("/page"), settings(http_tool_allowed_hosts=[]))

    assert not result.ok
    assert result.error is not None and result.error.startswith("blocked_address:")
    assert server.hits == []


def test_a_name_resolving_to_loopback_is_blocked_too(server: LocalServer) -> None:
    result = fetch(server.url("/page", host="localhost"), settings())  # only 127.0.0.1 is allowlisted

    assert result.error is not None and result.error.startswith("blocked_address:")
    assert "127.0.0.1" in result.error or "::1" in result.error
    assert server.hits == []


@pytest.mark.parametrize(
    "location", ["http://10.0.0.1/admin", "http://169.254.169.254/latest/meta-data/", "http://[::1]/"]
)
def test_redirect_from_an_allowlisted_server_to_a_private_address_is_blocked(
    server: LocalServer, location: str
) -> None:
    server.routes["/go"] = redirect(location)

    result = fetch(server.url("/go"), settings())

    assert result.error is not None and result.error.startswith("blocked_address:")
    assert server.paths_hit() == ["/go"]


def test_redirect_to_a_reachable_but_not_allowlisted_local_name_is_not_followed(server: LocalServer) -> None:
    server.routes["/go"] = redirect(server.url("/inside", host="localhost"))
    server.routes["/inside"] = html("internal", "internal data")

    result = fetch(server.url("/go"), settings())

    assert result.error is not None and result.error.startswith("blocked_address:")
    assert "/inside" not in server.paths_hit()


def test_redirects_within_allowed_hosts_are_followed_up_to_three(server: LocalServer) -> None:
    server.routes["/a"] = redirect("/b")
    server.routes["/b"] = redirect(server.url("/c"))
    server.routes["/c"] = lambda _h, _b: (200, {"Content-Type": "text/plain"}, b"arrived")
    server.routes["/loop"] = redirect("/loop")

    followed = fetch(server.url("/a"), settings())
    looping = fetch(server.url("/loop"), settings())

    assert followed.ok and followed.output["text"] == "arrived"
    assert followed.output["url"].endswith("/c")
    assert looping.error is not None and looping.error.startswith("tool_failed:")
    assert "redirects" in looping.error
    assert server.paths_hit().count("/loop") == 4  # the first request and three redirects


def test_the_connection_is_pinned_but_the_host_header_is_the_name(server: LocalServer) -> None:
    server.routes["/host"] = lambda h, _b: (200, {"Content-Type": "text/plain"}, h.headers["Host"].encode())

    result = fetch(server.url("/host", host="localhost"), settings(http_tool_allowed_hosts=["localhost"]))

    assert result.ok, result.error
    assert result.output["text"] == f"localhost:{server.port}"


def http_registry(url: str, method: str = "POST", timeout_s: float = 2.0) -> ToolRegistry:
    registry = ToolRegistry(allowed_hosts=["127.0.0.1"])
    registry.register(
        ToolDefinition(
            name="lookup",
            description="Look something up.",
            parameters={
                "type": "object",
                "properties": {"q": {"type": "string"}, "n": {"type": "integer"}},
                "required": ["q"],
            },
            http=HttpToolConfig(url=url, method=method, headers={"X-Client": "tests"}, timeout_s=timeout_s),  # type: ignore[arg-type]
        )
    )
    return registry


def test_http_tool_retries_a_500_then_succeeds(server: LocalServer) -> None:
    answers = iter([(500, {}, b"try later"), (200, {"Content-Type": "application/json"}, b'{"answer": 42}')])
    server.routes["/flaky"] = lambda _h, _b: next(answers)
    call = ToolCall(id="c1", name="lookup", arguments={"q": "life", "n": 1})

    result = execute_tool_call(call, http_registry(server.url("/flaky")), settings())

    assert result.ok, result.error
    assert result.output["body"] == {"answer": 42}
    assert result.output["attempts"] == 2
    bodies = [json.loads(body) for _m, _p, _h, body in server.hits]
    assert bodies == [{"q": "life", "n": 1}] * 2
    assert all(headers["X-Client"] == "tests" for _m, _p, headers, _b in server.hits)


def test_http_tool_get_sends_arguments_as_query(server: LocalServer) -> None:
    server.routes["/search"] = lambda h, _b: (
        200,
        {"Content-Type": "application/json"},
        json.dumps(dict(parse_qsl(urlsplit(h.path).query))).encode(),
    )
    call = ToolCall(id="c1", name="lookup", arguments={"q": "x y", "n": 3})

    result = execute_tool_call(call, http_registry(server.url("/search?fixed=1"), method="GET"), settings())

    assert result.ok, result.error
    assert result.output["body"] == {"fixed": "1", "q": "x y", "n": "3"}


def test_http_tool_client_errors_are_not_retried(server: LocalServer) -> None:
    server.routes["/missing"] = lambda _h, _b: (404, {"Content-Type": "text/plain"}, b"no such thing")

    result = execute_tool_call(
        ToolCall(id="c1", name="lookup", arguments={"q": "x"}),
        http_registry(server.url("/missing")),
        settings(),
    )

    assert result.error == "tool_failed: lookup: endpoint answered 404"
    assert result.output["body"] == "no such thing"
    assert len(server.hits) == 1


def test_http_tool_that_hangs_times_out_within_the_budget(server: LocalServer) -> None:
    def slow(_h: BaseHTTPRequestHandler, _b: bytes) -> tuple[int, dict[str, str], bytes]:
        time.sleep(1.5)
        return 200, {}, b"late"

    server.routes["/slow"] = slow
    started = time.perf_counter()

    result = execute_tool_call(
        ToolCall(id="c1", name="lookup", arguments={"q": "x"}),
        http_registry(server.url("/slow"), timeout_s=0.3),
        settings(tool_timeout_s=0.8),
    )

    assert result.error is not None and result.error.startswith("tool_timeout:")
    assert time.perf_counter() - started < 1.4


def test_a_redirect_to_another_origin_drops_the_tools_own_headers(server: LocalServer) -> None:
    server.routes["/hop"] = redirect(server.url("/land", host="localhost"))
    server.routes["/land"] = lambda _h, _b: (200, {"Content-Type": "application/json"}, b"{}")
    config = settings(http_tool_allowed_hosts=["127.0.0.1", "localhost"])

    result = execute_tool_call(
        ToolCall(id="c1", name="lookup", arguments={"q": "x"}),
        http_registry(server.url("/hop"), "GET"),
        config,
    )

    assert result.ok, result.error
    (_, _, first, _), (_, _, landed, _) = server.hits
    assert first["X-Client"] == "tests"
    assert "X-Client" not in landed
    assert landed["Host"] == f"localhost:{server.port}"
