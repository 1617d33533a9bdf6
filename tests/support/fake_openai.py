"""A real HTTP server on 127.0.0.1 that speaks the OpenAI wire format, with scripted replies.

Use it as a context manager or through the ``fake_openai`` fixture (add
``pytest_plugins = ["tests.support.fake_openai"]`` to a conftest, or import the fixture)::

    with FakeOpenAIServer(models=["m1"]) as server:
        server.reply_rate_limited(retry_after="0")
        server.reply_tool_calls([("calculator", {"expression": "2+2"})])
        server.reply_text("4")
        client = OpenAICompatibleClient(base_url=server.url, default_model="m1")

Scripted replies are consumed in order, per endpoint (``/chat/completions``, ``/embeddings``,
``/models``). When a queue is empty, ``responder`` (if set) decides; otherwise chat answers
``"fake reply to: <last user message>"``, embeddings are deterministic hash vectors (not unit
length, so callers' normalisation shows) and ``/models`` lists ``models``. Every request is
recorded with its headers and decoded body.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

CHAT = "/chat/completions"
EMBEDDINGS = "/embeddings"
MODELS = "/models"

Body = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class ScriptedReply:
    status: int = 200
    #: A JSON body, or a function of the request body that returns one.
    body: Body | None = None
    #: Raw bytes sent instead of ``body`` (malformed replies).
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


def _last_user_text(request: dict[str, Any]) -> str:
    for message in reversed(request.get("messages") or []):
        if message.get("role") == "user":
            return str(message.get("content") or "")
    return ""


def completion(
    request: dict[str, Any],
    *,
    text: str | None = "",
    tool_calls: list[dict[str, Any]] | None = None,
    usage: tuple[int, int] | None = (12, 5),
    finish_reason: str | None = None,
) -> dict[str, Any]:
    """A chat.completion body answering ``request``."""
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if tool_calls:
        message["tool_calls"] = tool_calls
    body: dict[str, Any] = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": request.get("model", "unknown"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": finish_reason or ("tool_calls" if tool_calls else "stop"),
            }
        ],
    }
    if usage is not None:
        body["usage"] = {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)}
    return body


def hash_vector(text: str, dim: int) -> list[float]:
    """A deterministic, non-normalised vector for ``text``."""
    digest = hashlib.sha256(text.encode()).digest()
    stream = itertools.cycle(digest)
    return [(next(stream) - 127.5) / 10.0 for _ in range(dim)]


class FakeOpenAIServer:
    def __init__(
        self,
        *,
        models: list[str] | tuple[str, ...] = ("fake-model",),
        api_key: str | None = None,
        embedding_dim: int = 8,
        prefix: str = "/v1",
    ) -> None:
        self.models = list(models)
        self.api_key = api_key
        self.embedding_dim = embedding_dim
        self.prefix = prefix
        self.requests: list[RecordedRequest] = []
        self.responder: Callable[[str, dict[str, Any]], ScriptedReply | None] | None = None
        self._queues: dict[str, deque[ScriptedReply]] = {CHAT: deque(), EMBEDDINGS: deque(), MODELS: deque()}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The base URL clients use (includes the ``/v1`` prefix)."""
        assert self._server is not None, "server not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.prefix}"

    def start(self) -> FakeOpenAIServer:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        # A short poll interval keeps shutdown (and so each test's teardown) fast.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting ---------------------------------------------------------------------------
    def script(self, reply: ScriptedReply, path: str = CHAT) -> None:
        with self._lock:
            self._queues[path].append(reply)

    def reply_text(self, text: str, *, usage: tuple[int, int] | None = (12, 5), delay_s: float = 0.0) -> None:
        self.script(ScriptedReply(body=lambda req: completion(req, text=text, usage=usage), delay_s=delay_s))

    def reply_tool_calls(
        self, calls: list[tuple[str, dict[str, Any]]], *, text: str = "", raw_arguments: str | None = None
    ) -> None:
        """Ask for tools; ``raw_arguments`` replaces every call's arguments string (bad JSON)."""
        wire = [
            {
                "id": f"call_{index}_{name}",
                "type": "function",
                "function": {"name": name, "arguments": raw_arguments or json.dumps(arguments)},
            }
            for index, (name, arguments) in enumerate(calls)
        ]
        self.script(ScriptedReply(body=lambda req: completion(req, text=text or None, tool_calls=wire)))

    def reply_error(
        self, status: int, *, message: str = "error", retry_after: str | None = None, path: str = CHAT
    ) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        body = {"error": {"message": message, "type": "fake_error", "code": status}}
        self.script(ScriptedReply(status=status, body=body, headers=headers), path)

    def reply_rate_limited(self, *, retry_after: str | None = "1", path: str = CHAT) -> None:
        self.reply_error(429, message="Rate limit reached", retry_after=retry_after, path=path)

    def reply_server_errors(self, count: int, *, status: int = 500, path: str = CHAT) -> None:
        for _ in range(count):
            self.reply_error(status, message="upstream exploded", path=path)

    def reply_slow(self, delay_s: float, text: str = "slow reply") -> None:
        self.reply_text(text, delay_s=delay_s)

    def reply_malformed(self, *, path: str = CHAT) -> None:
        self.script(ScriptedReply(raw=b'{"choices": [ this is not json'), path)

    # -- inspection --------------------------------------------------------------------------
    def requests_to(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == self.prefix + path]

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return self.requests_to(CHAT)

    # -- serving -----------------------------------------------------------------------------
    def _next(self, path: str, body: dict[str, Any]) -> ScriptedReply:
        with self._lock:
            queue = self._queues.get(path)
            if queue:
                return queue.popleft()
        if self.responder is not None:
            reply = self.responder(path, body)
            if reply is not None:
                return reply
        if path == CHAT:
            return ScriptedReply(body=completion(body, text=f"fake reply to: {_last_user_text(body)}"))
        if path == EMBEDDINGS:
            inputs = body.get("input")
            texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
            dim = int(body.get("dimensions") or self.embedding_dim)
            data = [
                {"object": "embedding", "index": i, "embedding": hash_vector(t, dim)}
                for i, t in enumerate(texts)
            ]
            return ScriptedReply(body={"object": "list", "data": data, "model": body.get("model")})
        if path == MODELS:
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.models]
            return ScriptedReply(body={"object": "list", "data": data})
        return ScriptedReply(status=404, body={"error": {"message": f"no route {path}"}})


def _handler_for(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; without this, Nagle plus delayed ACKs add
        # about 40 ms to every keep-alive request.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = {"_unparsed": raw.decode(errors="replace")}
            with server._lock:
                server.requests.append(RecordedRequest(method, self.path, dict(self.headers.items()), body))
            if server.api_key is not None and self.headers.get("Authorization") != f"Bearer {server.api_key}":
                reply = ScriptedReply(status=401, body={"error": {"message": "Incorrect API key provided"}})
            elif not self.path.startswith(server.prefix):
                reply = ScriptedReply(status=404, body={"error": {"message": "not found"}})
            else:
                reply = server._next(self.path[len(server.prefix) :], body)
            if reply.delay_s:
                time.sleep(reply.delay_s)
            payload = reply.raw
            if payload is None:
                content = reply.body(body) if callable(reply.body) else reply.body
                payload = json.dumps(content if content is not None else {}).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a read timeout); nothing to answer

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

    return Handler


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    """A started server, stopped after the test."""
    with FakeOpenAIServer(models=["fake-model", "fake-fallback"]) as server:
        yield server
