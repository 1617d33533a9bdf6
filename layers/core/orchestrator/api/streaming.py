"""``POST /v1/chat`` as server-sent events: the run's progress while the graph runs, then the answer.

The Express execution is started synchronously (StartSyncExecution blocks until the run ends) on
one worker thread, while the response reads the run's progress records
(:class:`~orchestrator.memory.run_events.RunEventStore`, written by the node Lambdas) every
``STREAM_POLL_MS`` and forwards them: ``run`` first, then ``intent``, ``plan``, ``step``,
``tool_call``, ``tool_result``, ``citations`` and ``token`` as the nodes publish them, and last
``done`` with exactly the body the non-streaming call answers, or ``error`` with the error body.

A client that disconnects stops the reading; the worker thread still waits for its execution,
which completes and is recorded as any other turn (``GET /v1/runs/{id}``). Nothing else is left
running in the API.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from orchestrator.api.errors import error_body
from orchestrator.api.turns import run_chat_turn, to_response
from orchestrator.errors import OrchestratorError, WorkflowError

if TYPE_CHECKING:
    from orchestrator.memory.run_events import RunEventStore
    from orchestrator.state import GraphState
    from orchestrator.workflow import WorkflowRunner

logger = logging.getLogger("orchestrator.api")

#: Records read per poll; a longer backlog is read on the next poll without waiting.
_PAGE = 200


def wants_stream(stream: bool, accept: str | None) -> bool:
    """``"stream": true`` in the body, or a client that only accepts an event stream."""
    return stream or "text/event-stream" in (accept or "").lower()


@dataclass
class _Turn:
    """The run on its worker thread: its final state or its error, once ``finished`` is set."""

    finished: threading.Event
    state: GraphState | None = None
    error: OrchestratorError | None = None


def _start(runner: WorkflowRunner, state: GraphState) -> tuple[_Turn, threading.Thread]:
    turn = _Turn(threading.Event())

    def work() -> None:
        try:
            turn.state = run_chat_turn(runner, state)
        except OrchestratorError as exc:
            turn.error = exc
        except Exception:
            logger.exception("streamed chat turn %s failed", state.run_id)
            turn.error = WorkflowError(f"The run failed unexpectedly; see the logs of run {state.run_id}.")
        finally:
            turn.finished.set()

    # Not a daemon: a process shutting down lets the run it started finish and be recorded.
    thread = threading.Thread(target=work, name=f"chat-turn-{state.run_id}")
    thread.start()
    return turn, thread


def sse_event(kind: str, data: Any) -> dict[str, str]:
    """One server-sent event as sse-starlette sends it: the kind, and compact JSON data."""
    return {"event": kind, "data": json.dumps(data, separators=(",", ":"), default=str)}


async def chat_events(
    runner: WorkflowRunner, state: GraphState, events: RunEventStore | None, *, poll_s: float
) -> AsyncIterator[dict[str, str]]:
    """The events of one streamed turn (sse-starlette sends each dict as one event)."""
    yield sse_event("run", {"run_id": state.run_id, "session_id": state.session_id})
    turn, _ = _start(runner, state)
    after, tokens = 0, []
    while True:
        finished = turn.finished.is_set()  # read before the records: none written later is missed
        records = (
            await anyio.to_thread.run_sync(events.read, state.tenant_id, state.run_id, after, _PAGE)
            if events is not None
            else []
        )
        for record in records:
            after = record.seq
            if record.kind == "token":
                tokens.append(str(record.data.get("text", "")))
            yield sse_event(record.kind, record.data)
        if finished and len(records) < _PAGE:
            break
        if not records:
            await asyncio.sleep(poll_s)
    if turn.error is not None or turn.state is None:
        error = turn.error or WorkflowError("The run ended without a result.")
        details = dict(error.details)
        run_id = details.pop("run_id", None) or state.run_id
        yield sse_event("error", error_body(error.code, error.message, details or None, run_id))
        return
    body = to_response(turn.state)
    if not tokens and body.response:
        # Answered without the model streaming (a cached answer, an approval notice): one delta.
        yield sse_event("token", {"text": body.response})
    yield {"event": "done", "data": body.model_dump_json()}
