"""``stream: true`` on the OpenAI route: the run's answer tokens as ``chat.completion.chunk`` events.

Reuses the streaming of ``POST /v1/chat`` (:func:`orchestrator.api.streaming.chat_events`: the
Express run on a worker thread, its progress records read while it runs) and keeps only what an
OpenAI client understands: each ``token`` becomes a content delta as it arrives; at ``done`` the
rest of the message (the sources footer, tool calls the client must run) and the finishing chunk
with the true ``finish_reason``, then ``usage`` when ``stream_options.include_usage``, then
``[DONE]``. An error after the stream began goes out as OpenAI streams them: ``{"error": {...}}``.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import anyio

from orchestrator.api.openai import reply
from orchestrator.api.schemas import ChatResponse
from orchestrator.api.streaming import chat_events
from orchestrator.state import GraphState, Intent, Response

if TYPE_CHECKING:
    from orchestrator.memory import RunStore
    from orchestrator.memory.run_events import RunEventStore
    from orchestrator.workflow import WorkflowRunner


def _final(state: GraphState, done: ChatResponse, record_response: dict[str, object] | None) -> GraphState:
    """The finished turn as far as the OpenAI reply needs it: the ``done`` body, plus the finish
    reason and client tool calls from the run's record (written by the memory node)."""
    final = state.model_copy(deep=True)
    final.run_id, final.session_id, final.cached = done.run_id, done.session_id, done.cached
    final.intent = Intent.model_validate(done.intent.model_dump()) if done.intent else None
    final.usage = dict(done.usage)
    response = Response(
        text=done.response, citations=done.citations, provider=done.provider, model=done.model
    )
    if record_response is not None:
        recorded = Response.model_validate(record_response)
        response.finish_reason = recorded.finish_reason
        response.client_tool_calls = recorded.client_tool_calls
    final.response = response
    return final


async def completion_chunks(
    runner: WorkflowRunner,
    state: GraphState,
    events: RunEventStore | None,
    runs: RunStore,
    *,
    model: str,
    include_usage: bool,
    poll_s: float,
) -> AsyncIterator[dict[str, str]]:
    """The SSE events (sse-starlette dicts) of one streamed OpenAI completion."""
    created = int(time.time())
    yield {"data": reply.chunk(state, model, created, {"role": "assistant", "content": ""})}
    streamed = ""
    async for event in chat_events(runner, state, events, poll_s=poll_s):
        kind, data = event.get("event"), event.get("data", "")
        if kind == "token":
            text = str(json.loads(data).get("text", ""))
            if text:
                streamed += text
                yield {"data": reply.chunk(state, model, created, {"content": text})}
        elif kind == "error":
            error = json.loads(data).get("error", {})
            error.setdefault("type", "server_error")
            error.setdefault("param", None)
            yield {"data": json.dumps({"error": error})}
            return
        elif kind == "done":
            done = ChatResponse.model_validate_json(data)
            record = await anyio.to_thread.run_sync(runs.get, state.tenant_id, state.run_id)
            final = _final(state, done, record.response if record else None)
            content = reply.content(final) or ""
            rest = content[len(streamed) :] if content.startswith(streamed) else ""
            if rest:
                yield {"data": reply.chunk(final, model, created, {"content": rest})}
            calls = reply.tool_calls(final)
            if calls:
                delta = {"tool_calls": [{"index": i, **call} for i, call in enumerate(calls)]}
                yield {"data": reply.chunk(final, model, created, delta)}
            yield {"data": reply.chunk(final, model, created, {}, reply.finish_reason(final))}
            if include_usage:
                yield {"data": reply.usage_chunk(final, model, created)}
    yield {"data": "[DONE]"}
