"""Real A2A agents on 127.0.0.1, built with ``a2a-sdk``'s server side and served by uvicorn.

One server hosts several agents, each under its own path with its own card::

    with A2AAgentServer() as server:
        server.url("answer")          # completes with an artifact: ANSWERS[...] or an echo
        server.url("needs_input")     # input-required, asking which quarter
        server.url("fails")           # failed, with the agent's reason
        server.url("slow")            # sleeps ``slow_s`` before answering
        server.methods                # JSON-RPC methods received, in order ("message/send", ...)

Cards advertise A2A 0.3 over JSON-RPC (``enable_v0_3_compat``), which is what deployed agents
speak today: clients send ``message/send``. ``protocol_version="1.0"`` serves 1.0 cards instead.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import uvicorn
from a2a.helpers import new_task_from_user_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types.a2a_pb2 import AgentCapabilities, AgentCard, AgentInterface, AgentSkill, Part
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: What the answering agent says to a prompt containing the key (else it echoes the prompt).
ANSWERS = {
    "churn": "Churn was 4.2% last quarter, down from 5.1%; the March cohort retained best.",
    "invoice": "Invoice INV-1042 was paid on 3 May.",
}
NEEDS_INPUT = "Which quarter do you mean: Q1 or Q2?"
FAILURE = "The warehouse is offline for maintenance."


class _Executor(AgentExecutor):
    def __init__(self, behaviour: str, server: A2AAgentServer) -> None:
        self.behaviour = behaviour
        self.server = server

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.task_id and context.context_id
        if context.current_task is None and context.message is not None:
            task = new_task_from_user_message(context.message)
            task.id, task.context_id = context.task_id, context.context_id
            await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, context.task_id, context.context_id)
        await updater.start_work()
        prompt = context.get_user_input()
        self.server.prompts.append(prompt)
        if self.behaviour == "slow":
            await asyncio.sleep(self.server.slow_s)
        if self.behaviour == "needs_input":
            await updater.requires_input(updater.new_agent_message([Part(text=NEEDS_INPUT)]))
            return
        if self.behaviour == "fails":
            await updater.failed(updater.new_agent_message([Part(text=FAILURE)]))
            return
        answer = next((text for key, text in ANSWERS.items() if key in prompt.lower()), f"echo: {prompt}")
        await updater.add_artifact([Part(text=answer)], name="answer")
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise NotImplementedError


class _RecordMethods:
    """ASGI middleware noting each JSON-RPC method (and auth header) the agents receive."""

    def __init__(self, app: ASGIApp, server: A2AAgentServer) -> None:
        self.app = app
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        try:
            self.server.methods.append(json.loads(body).get("method", ""))
        except ValueError:
            self.server.methods.append("")
        headers = dict(scope["headers"])
        self.server.authorizations.append(headers.get(b"authorization", b"").decode())
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class A2AAgentServer:
    BEHAVIOURS = ("answer", "needs_input", "fails", "slow")

    def __init__(self, *, protocol_version: str = "0.3", slow_s: float = 3.0) -> None:
        self.port = _free_port()
        self.protocol_version = protocol_version
        self.slow_s = slow_s
        self.methods: list[str] = []
        self.authorizations: list[str] = []
        self.prompts: list[str] = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def url(self, behaviour: str) -> str:
        return f"http://127.0.0.1:{self.port}/{behaviour}"

    def _card(self, behaviour: str) -> AgentCard:
        return AgentCard(
            name=f"{behaviour}-agent",
            description=f"A test agent that {behaviour.replace('_', ' ')}s.",
            version="1.0.0",
            supported_interfaces=[
                AgentInterface(
                    url=f"{self.url(behaviour)}/",
                    protocol_binding="JSONRPC",
                    protocol_version=self.protocol_version,
                )
            ],
            capabilities=AgentCapabilities(streaming=False),
            default_input_modes=["text/plain"],
            default_output_modes=["text/plain"],
            skills=[AgentSkill(id="analytics", name="analytics", description="Answers.", tags=["test"])],
        )

    def _app(self) -> ASGIApp:
        mounts = []
        for behaviour in self.BEHAVIOURS:
            card = self._card(behaviour)
            handler = DefaultRequestHandler(
                agent_executor=_Executor(behaviour, self), task_store=InMemoryTaskStore(), agent_card=card
            )
            routes = [
                *create_agent_card_routes(card),
                *create_jsonrpc_routes(handler, "/", enable_v0_3_compat=True),
            ]
            mounts.append(Mount(f"/{behaviour}", routes=routes))
        return _RecordMethods(Starlette(routes=mounts), self)

    def __enter__(self) -> A2AAgentServer:
        config = uvicorn.Config(
            self._app(), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="a2a-agents", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10.0
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the A2A test server did not start within 10 s")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=10.0)


__all__ = ["ANSWERS", "FAILURE", "NEEDS_INPUT", "A2AAgentServer"]
