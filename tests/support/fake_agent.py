"""A real HTTP server on 127.0.0.1 that plays the external agent and the data source.

It speaks the wire protocols documented in :mod:`orchestrator.clients.external_agent`
(``POST /invoke``, ``GET /health``) and :mod:`orchestrator.clients.datasource`
(``POST /search``)::

    with FakeAgentServer(reply_text="42 customers churned") as agent:
        agent.fail_next(status=503, times=2, retry_after="0")   # then succeeds
        client = ExternalAgentClient(agent.base_url, ...)
        ...
        assert agent.requests[-1]["headers"]["authorization"] == "Bearer t0k"

Scripted behaviours are queued per path and consumed in order; when a path's queue is empty
the default answer is given: ``/invoke`` → ``{"output": reply_text, "data": reply_data,
"agent": agent_name}``, ``/search`` → a naive word-overlap search over ``documents``,
``/health`` → ``health_status``. Every request is recorded (method, path, lower-cased headers,
decoded JSON) before its behaviour runs, so failed attempts are counted too.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

INVOKE = "/invoke"
SEARCH = "/search"
HEALTH = "/health"


@dataclass
class Scripted:
    status: int = 200
    body: Any = None
    #: Raw bytes sent instead of ``body`` (malformed replies).
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds to wait before answering (longer than a client's timeout = a hang).
    delay_s: float = 0.0


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        fake = self.server.fake
        path = self.path.split("?", 1)[0]
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            decoded: Any = json.loads(raw) if raw else None
        except ValueError:
            decoded = None
        fake.record(
            {
                "method": self.command,
                "path": path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "json": decoded,
                "raw": raw,
            }
        )
        reply = fake.next_reply(path, decoded if isinstance(decoded, dict) else {})
        if reply.delay_s and fake.stopping.wait(reply.delay_s):
            return  # the server is closing: drop the connection instead of answering
        payload = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        headers = {"Content-Type": "application/json", **reply.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeAgentServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out has closed its socket; the late write fails. That is the test.
        pass


class FakeAgentServer:
    def __init__(
        self,
        reply_text: str = "Churn last quarter was 4.2% (fake analytics agent).",
        *,
        agent_name: str = "fake-analytics-agent",
        documents: list[dict[str, Any]] | None = None,
    ) -> None:
        self.reply_text = reply_text
        self.reply_data: dict[str, Any] = {"source": "fake"}
        self.agent_name = agent_name
        #: ``/search`` corpus: ``{"id", "text", "title"?, "user_id"?}``; ``user_id`` restricts a doc.
        self.documents: list[dict[str, Any]] = list(documents or [])
        self.health_status = 200
        self.requests: list[dict[str, Any]] = []
        self.stopping = threading.Event()
        self._scripts: dict[str, deque[Scripted]] = {}
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FakeAgentServer:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeAgentServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    url = base_url

    # -- scripting ---------------------------------------------------------------------------
    def script(self, reply: Scripted, *, path: str = INVOKE, times: int = 1) -> None:
        with self._lock:
            queue = self._scripts.setdefault(path, deque())
            queue.extend(reply for _ in range(times))

    def fail_next(
        self,
        status: int = 503,
        times: int = 1,
        *,
        path: str = INVOKE,
        retry_after: str | None = None,
        message: str | None = None,
    ) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        body = {"error": {"message": message or f"scripted failure ({status})"}}
        self.script(Scripted(status=status, body=body, headers=headers), path=path, times=times)

    def hang_next(self, seconds: float, times: int = 1, *, path: str = INVOKE) -> None:
        """Answer normally, but only after ``seconds`` (pick longer than the client's timeout)."""
        self.script(Scripted(delay_s=seconds), path=path, times=times)

    def malformed_next(self, times: int = 1, *, path: str = INVOKE, raw: bytes = b"<html>oops") -> None:
        self.script(Scripted(raw=raw, headers={"Content-Type": "text/html"}), path=path, times=times)

    def reply_next(self, body: Any, *, status: int = 200, path: str = INVOKE) -> None:
        self.script(Scripted(status=status, body=body), path=path)

    def reset(self) -> None:
        with self._lock:
            self._scripts.clear()
            self.requests.clear()

    def requests_to(self, path: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["path"] == path]

    # -- called by the handler ---------------------------------------------------------------
    def record(self, request: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(request)

    def next_reply(self, path: str, body: dict[str, Any]) -> Scripted:
        with self._lock:
            queue = self._scripts.get(path)
            scripted = queue.popleft() if queue else None
        if scripted is not None and (scripted.body is not None or scripted.raw is not None):
            return scripted
        default = self._default(path, body)
        if scripted is not None:  # a delay-only script: the default answer, late
            default.delay_s = scripted.delay_s
        return default

    def _default(self, path: str, body: dict[str, Any]) -> Scripted:
        if path == INVOKE:
            return Scripted(
                body={"output": self.reply_text, "data": dict(self.reply_data), "agent": self.agent_name}
            )
        if path == HEALTH:
            return Scripted(status=self.health_status, body={"status": "ok"})
        if path == SEARCH:
            return Scripted(body={"results": self._search(body)})
        return Scripted(status=404, body={"error": {"message": f"no route {path}"}})

    def _search(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        query = _words(str(body.get("query", "")))
        user_id = body.get("user_id")
        results = []
        for doc in self.documents:
            if doc.get("user_id") not in (None, user_id):
                continue
            overlap = len(query & _words(f"{doc.get('title', '')} {doc['text']}"))
            if overlap:
                result = {"id": doc["id"], "text": doc["text"], "score": round(overlap / len(query), 4)}
                if doc.get("title"):
                    result["title"] = doc["title"]
                results.append(result)
        results.sort(key=lambda r: r["score"], reverse=True)
        return results[: int(body.get("top_k") or 5)]
