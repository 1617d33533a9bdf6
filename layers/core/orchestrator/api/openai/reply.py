"""A finished turn as OpenAI's ``chat.completion``, or as the ``chat.completion.chunk`` events of
a stream (``data: {...}`` lines ending with ``data: [DONE]``)."""

from __future__ import annotations

import json
import time
from typing import Any

from orchestrator.api.citations import with_sources
from orchestrator.state import GraphState

_FINISH = {
    "length": "length",
    "max_tokens": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_calls",
}


def finish_reason(state: GraphState) -> str:
    """What OpenAI clients expect: ``tool_calls``, ``length`` when the model was cut off, else ``stop``."""
    response = state.response
    if response is None:
        return "stop"
    if response.client_tool_calls:
        return "tool_calls"
    mapped = _FINISH.get(response.finish_reason or "")
    if mapped:
        return mapped
    return "stop"


def content(state: GraphState) -> str | None:
    response = state.response
    if response is None:
        return ""
    if response.client_tool_calls and not response.text:
        return None
    if state.client is not None and state.client.response_format:
        return response.text  # JSON mode: a sources footer would break the JSON
    return with_sources(response.text, response.citations)


def tool_calls(state: GraphState) -> list[dict[str, Any]]:
    calls = state.response.client_tool_calls if state.response else []
    return [
        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
        for c in calls
    ]


def usage(state: GraphState) -> dict[str, int]:
    """Tokens billed by this run's model calls: zero on a cache hit, because nothing was billed."""
    tokens_in = sum(u.tokens_in for u in state.usage.values())
    tokens_out = sum(u.tokens_out for u in state.usage.values())
    return {
        "prompt_tokens": tokens_in,
        "completion_tokens": tokens_out,
        "total_tokens": tokens_in + tokens_out,
    }


def extension(state: GraphState) -> dict[str, Any]:
    """The orchestrator's own fields, beside OpenAI's (clients ignore what they don't know)."""
    citations = state.response.citations if state.response else []
    return {
        "run_id": state.run_id,
        "session_id": state.session_id,
        "intent": state.intent.model_dump() if state.intent else None,
        #: ``"exact"`` or ``"semantic"`` when the answer came from the cache (usage is then zero).
        "cached": state.cached,
        # The same sources as data, numbered as in the text ([1] is the first).
        "citations": [c.model_dump() for c in citations],
    }


def completion(state: GraphState, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content(state)}
    calls = tool_calls(state)
    if calls:
        message["tool_calls"] = calls
    return {
        "id": f"chatcmpl-{state.run_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(state)}],
        "usage": usage(state),
        "orchestrator": extension(state),
    }


def chunk(
    state: GraphState, model: str, created: int, delta: dict[str, Any], finish: str | None = None
) -> str:
    """One ``chat.completion.chunk`` as the JSON of an SSE ``data:`` line."""
    body: dict[str, Any] = {
        "id": f"chatcmpl-{state.run_id}",
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if finish is not None:
        body["orchestrator"] = extension(state)
    return json.dumps(body)


def usage_chunk(state: GraphState, model: str, created: int) -> str:
    """The last chunk when ``stream_options.include_usage``: no choices, the run's usage."""
    body = {
        "id": f"chatcmpl-{state.run_id}",
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [],
        "usage": usage(state),
    }
    return json.dumps(body)
