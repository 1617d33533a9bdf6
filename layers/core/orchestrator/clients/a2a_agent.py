"""Client of an external agent that speaks A2A, through the official ``a2a-sdk``.

The agent card is read from ``{base_url}/.well-known/agent-card.json`` (cached for
``card_ttl_s``); the SDK picks the card's JSON-RPC interface and protocol version (``message/send``
for A2A 0.3 agents, ``SendMessage`` for 1.0) and the prompt goes out as one blocking, non-streaming
message. What comes back is mapped once, here:

- a ``Message``, or a ``Task`` in state ``completed``: the answer is the text of the task's
  artifacts (else of its status message, else of the last agent message in its history);
- ``input-required`` (and ``auth-required``): a clear answer saying what the agent asks for, with
  ``data.a2a.state`` set, never an exception: the user reads the question and replies next turn;
- ``failed``, ``rejected``, ``canceled``: :class:`~orchestrator.errors.ExternalAgentError` with the
  agent's own words;
- ``submitted``/``working`` (an agent that answered before finishing): the task is polled until it
  settles or the deadline comes.

Retries and deadlines are the other clients' (:mod:`orchestrator.clients.retrying`): timeouts,
connection errors and retryable HTTP statuses are retried within the budget, each attempt's httpx
timeouts (and an ``asyncio`` timeout around the whole attempt) are capped by what is left, and
running out ends as :class:`~orchestrator.errors.ExternalAgentUnavailableError`. A retried
``message/send`` carries the same ``messageId`` (derived from the run id) so the agent can tell.

The SDK is async and heavy (protobuf, google-api-core): it is imported on the first call, and
each call runs on its own event loop with its own ``httpx.AsyncClient`` (a sync Lambda handler
has no loop to share).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from orchestrator.clients.external_agent import AgentHealth, ExternalAgentReply
from orchestrator.clients.retrying import (
    RETRYABLE_STATUSES,
    GiveUp,
    RetryPolicy,
    TransientFailure,
    call_with_retries,
)
from orchestrator.clients.transport import attempt_timeout, retry_after
from orchestrator.errors import ExternalAgentError, ExternalAgentUnavailableError
from orchestrator.secrets import redact

if TYPE_CHECKING:
    from a2a.client import Client
    from a2a.types.a2a_pb2 import AgentCard, Message, Task

T = TypeVar("T")

CARD_PATH = "/.well-known/agent-card.json"
HEALTH_TIMEOUT_S = 3.0
CONNECT_TIMEOUT_S = 5.0
#: Wait between two ``GetTask`` polls of a task the agent has not finished.
POLL_INTERVAL_S = 0.5
#: Characters of the agent's own words quoted in an error message.
_QUOTE_CHARS = 300

#: States the agent is still working in: poll.
_RUNNING = frozenset({"TASK_STATE_SUBMITTED", "TASK_STATE_WORKING", "TASK_STATE_UNSPECIFIED"})
#: States where the agent waits for the user: a clear answer, not an error.
_WAITING = {"TASK_STATE_INPUT_REQUIRED": "input-required", "TASK_STATE_AUTH_REQUIRED": "auth-required"}
_FAILED = {
    "TASK_STATE_FAILED": "failed",
    "TASK_STATE_REJECTED": "rejected",
    "TASK_STATE_CANCELED": "canceled",
}


def _run(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from sync code, on a fresh loop (another thread if one runs here)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def _failure(error: BaseException) -> TransientFailure | None:
    """The retryable failure behind an SDK error (timeouts, connections, 408/429/5xx), else None."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, TimeoutError | httpx.TimeoutException):
            return TransientFailure(f"{type(seen).__name__} (timed out)")
        if isinstance(seen, httpx.HTTPStatusError):
            status = seen.response.status_code
            if status in RETRYABLE_STATUSES:
                return TransientFailure(
                    f"HTTP {status}", status=status, retry_after_s=retry_after(seen.response)
                )
            return None
        if isinstance(seen, httpx.TransportError):
            return TransientFailure(f"connection failed ({type(seen).__name__})")
        if type(seen).__name__ == "A2AClientTimeoutError":
            return TransientFailure("A2AClientTimeoutError (timed out)")
        seen = seen.__cause__ or seen.__context__
    return None


def _http_status(error: BaseException) -> int | None:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, httpx.HTTPStatusError):
            return seen.response.status_code
        status = getattr(seen, "status_code", None)
        if isinstance(status, int):
            return status
        seen = seen.__cause__ or seen.__context__
    return None


class A2AAgentClient:
    """One A2A agent; one instance per Lambda container (the card is cached, connections are not)."""

    def __init__(
        self,
        base_url: str,
        *,
        name: str = "external_agent",
        timeout_s: float = 20.0,
        max_retries: int = 2,
        budget_s: float | None = None,
        backoff_base_s: float = 0.2,
        card_ttl_s: float = 300.0,
        token_provider: Callable[[], str | None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """``transport`` replaces httpx's network transport (tests); ``clock`` drives the card cache."""
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.timeout_s = timeout_s
        self.card_ttl_s = card_ttl_s
        self.budget_s = budget_s if budget_s is not None else timeout_s * (max_retries + 1)
        self._policy = RetryPolicy(
            max_retries=max_retries, budget_s=self.budget_s, backoff_base_s=backoff_base_s, sleep=sleep
        )
        self._connect_timeout_s = min(timeout_s, CONNECT_TIMEOUT_S)
        self._token_provider = token_provider
        self._clock = clock
        self._transport = transport
        self._card: tuple[float, AgentCard] | None = None
        self._card_lock = threading.Lock()

    # ------------------------------------------------------------------ plumbing

    def _http(self, token: str | None, timeout: httpx.Timeout) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(
            headers=headers, timeout=timeout, follow_redirects=False, transport=self._transport
        )

    def _retrying(
        self,
        what: str,
        attempt: Callable[[httpx.AsyncClient], Awaitable[T]],
        *,
        deadline: float | None,
        token: str | None,
    ) -> T:
        """``attempt`` on a fresh client and loop, retried like every remote call, within the deadline."""

        def one(remaining_s: float) -> T:
            timeout = attempt_timeout(self._connect_timeout_s, self.timeout_s, remaining_s)

            async def bounded() -> T:
                async with self._http(token, timeout) as http:
                    return await asyncio.wait_for(attempt(http), timeout=max(remaining_s, 0.001))

            try:
                return _run(bounded)
            except ExternalAgentError:
                raise
            except Exception as error:
                failure = _failure(error)
                if failure is not None:
                    raise failure from None
                raise self._rejected(what, error, token) from None

        def unavailable(summary: GiveUp) -> Exception:
            return ExternalAgentUnavailableError(
                f"The external agent '{self.name}' is unavailable after {summary.attempts} attempt(s) "
                f"in {summary.elapsed_s:.1f} s: {summary.reason}",
                details={"agent": self.name, "attempts": summary.attempts, "status": summary.status},
            )

        return call_with_retries(
            one,
            policy=self._policy,
            give_up=unavailable,
            deadline=deadline,
            log_extra={"service": f"external agent {self.name}", "protocol": "a2a", "what": what},
        )

    def _rejected(self, what: str, error: Exception, token: str | None) -> ExternalAgentError:
        status = _http_status(error)
        hint = " (check the agent's token)" if status in (401, 403) else ""
        text = redact(str(error), token)[:_QUOTE_CHARS]
        return ExternalAgentError(
            f"The external agent '{self.name}' failed on {what}{hint}: {type(error).__name__}: {text}",
            details={"agent": self.name, "status": status, "protocol": "a2a"},
        )

    def _token(self) -> str | None:
        return self._token_provider() if self._token_provider is not None else None

    # ------------------------------------------------------------------ the card

    def card(self, *, deadline: float | None = None) -> AgentCard:
        """The agent card, fetched at most once per ``card_ttl_s``."""
        with self._card_lock:
            cached = self._card
            if cached is not None and self._clock() - cached[0] < self.card_ttl_s:
                return cached[1]
        from a2a.client import A2ACardResolver

        async def fetch(http: httpx.AsyncClient) -> AgentCard:
            return await A2ACardResolver(http, self.base_url, CARD_PATH).get_agent_card()

        card = self._retrying("reading its agent card", fetch, deadline=deadline, token=self._token())
        with self._card_lock:
            self._card = (self._clock(), card)
        return card

    # ------------------------------------------------------------------ a turn

    def run(
        self,
        prompt: str,
        *,
        user_id: str,
        session_id: str,
        metadata: dict[str, Any] | None = None,
        run_id: str,
        deadline: float | None = None,
    ) -> ExternalAgentReply:
        """Send ``prompt`` as one A2A message and return the answer, or raise a typed error."""
        from a2a.client import ClientConfig, ClientFactory
        from a2a.types.a2a_pb2 import Message, Part, Role, SendMessageRequest

        started = time.perf_counter()
        end = self._policy.deadline(deadline)
        card = self.card(deadline=end)
        token = self._token()
        message = Message(
            message_id=f"{run_id}-{self.name}",
            context_id=session_id,
            role=Role.ROLE_USER,
            parts=[Part(text=prompt)],
        )
        message.metadata.update({"user_id": user_id, "run_id": run_id, **(metadata or {})})
        request = SendMessageRequest(message=message)

        async def send(http: httpx.AsyncClient) -> Task | Message:
            client = ClientFactory(ClientConfig(streaming=False, httpx_client=http)).create(card)
            async for event in client.send_message(request):
                if event.HasField("message"):
                    return event.message
                if event.HasField("task"):
                    return await self._settle(client, event.task)
            raise ExternalAgentError(
                f"The external agent '{self.name}' answered with neither a task nor a message",
                details={"agent": self.name, "protocol": "a2a"},
            )

        result = self._retrying("message/send", send, deadline=end, token=token)
        latency_ms = (time.perf_counter() - started) * 1000.0
        return self._reply(result, card.name or self.name, latency_ms)

    async def _settle(self, client: Client, task: Task) -> Task:
        """Poll a task the agent has not finished until it settles (the attempt's timeout bounds this)."""
        from a2a.types.a2a_pb2 import GetTaskRequest, TaskState

        while TaskState.Name(task.status.state) in _RUNNING:
            await asyncio.sleep(POLL_INTERVAL_S)
            task = await client.get_task(GetTaskRequest(id=task.id))
        return task

    def _reply(self, result: Task | Message, agent: str, latency_ms: float) -> ExternalAgentReply:
        from a2a.helpers import get_message_text, get_text_parts
        from a2a.types.a2a_pb2 import Message, Role, TaskState

        if isinstance(result, Message):
            return ExternalAgentReply(
                text=get_message_text(result),
                data={"a2a": {"kind": "message"}},
                agent=agent,
                latency_ms=latency_ms,
            )
        task = result
        state = TaskState.Name(task.status.state)
        said = get_message_text(task.status.message) if task.status.HasField("message") else ""
        data: dict[str, Any] = {"a2a": {"task_id": task.id, "context_id": task.context_id}}
        if state in _FAILED:
            data["a2a"]["state"] = _FAILED[state]
            raise ExternalAgentError(
                f"The external agent '{self.name}' {_FAILED[state]} the task"
                + (f": {said[:_QUOTE_CHARS]}" if said else ""),
                details={"agent": self.name, "protocol": "a2a", **data["a2a"]},
            )
        if state in _WAITING:
            data["a2a"]["state"] = _WAITING[state]
            needs = "more input" if state == "TASK_STATE_INPUT_REQUIRED" else "authorization"
            text = f"The agent '{agent}' needs {needs} to continue" + (f": {said}" if said else ".")
            return ExternalAgentReply(text=text, data=data, agent=agent, latency_ms=latency_ms)
        data["a2a"]["state"] = "completed"
        texts = [text for artifact in task.artifacts for text in get_text_parts(artifact.parts)]
        if not texts and said:
            texts = [said]
        if not texts:
            answers = [m for m in task.history if m.role == Role.ROLE_AGENT]
            texts = [get_message_text(answers[-1])] if answers else []
        if not texts:
            raise ExternalAgentError(
                f"The external agent '{self.name}' completed the task without any text",
                details={"agent": self.name, "protocol": "a2a", **data["a2a"]},
            )
        return ExternalAgentReply(text="\n".join(texts), data=data, agent=agent, latency_ms=latency_ms)

    # ------------------------------------------------------------------ health

    def health(self) -> AgentHealth:
        """GET the agent card once, with a short timeout and no retries. Never raises."""
        started = time.perf_counter()
        token = self._token_provider() if self._token_provider is not None else None
        timeout = httpx.Timeout(min(self.timeout_s, HEALTH_TIMEOUT_S))

        async def probe() -> httpx.Response:
            async with self._http(token, timeout) as http:
                return await http.get(f"{self.base_url}{CARD_PATH}")

        try:
            response = _run(probe)
        except Exception as error:  # a health probe reports, it never fails its caller
            return AgentHealth(
                ok=False, latency_ms=(time.perf_counter() - started) * 1000.0, error=type(error).__name__
            )
        ok = 200 <= response.status_code < 300
        return AgentHealth(
            ok=ok,
            latency_ms=(time.perf_counter() - started) * 1000.0,
            status_code=response.status_code,
            error=None if ok else f"HTTP {response.status_code}",
        )

    def close(self) -> None:
        """Nothing held between calls: each call opens and closes its own connections."""
