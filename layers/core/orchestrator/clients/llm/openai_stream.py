"""Reading a chat-completions reply sent with ``"stream": true``: server-sent ``chat.completion.chunk``
events, ending with ``data: [DONE]``.

Text deltas are yielded as they arrive; tool-call fragments (by ``index``: the id and name come
first, the arguments in pieces) are assembled; the last chunk's ``usage`` (sent when
``stream_options.include_usage`` is set) and the ``finish_reason`` go into the final
:class:`ChatResult`. A server that ignores ``stream`` and answers JSON is read as a whole reply.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from orchestrator.clients.llm.base import ChatResult
from orchestrator.clients.llm.openai import parse_completion
from orchestrator.errors import ModelResponseError, ModelUnavailableError

if TYPE_CHECKING:
    import httpx


def read_stream(
    response: httpx.Response, *, model: str, provider: str, prompt_chars: int
) -> Iterator[str | ChatResult]:
    """The text deltas of ``response``, then its :class:`ChatResult`; closes ``response``."""
    import httpx

    started = time.perf_counter()
    try:
        if "text/event-stream" not in response.headers.get("content-type", ""):
            response.read()
            try:
                body = response.json()
            except ValueError:
                raise ModelResponseError(
                    f"The {provider} endpoint returned a body that is neither JSON nor an event stream",
                    details={"provider": provider},
                ) from None
            result = parse_completion(body, model=model, provider=provider, prompt_chars=prompt_chars)
            if result.text:
                yield result.text
        else:
            assembled = _Assembled()
            for line in response.iter_lines():
                delta = assembled.add(line, provider)
                if delta is None:
                    break
                if delta:
                    yield delta
            result = parse_completion(
                assembled.as_completion(), model=model, provider=provider, prompt_chars=prompt_chars
            )
    except (httpx.TimeoutException, httpx.TransportError) as error:
        raise ModelUnavailableError(
            f"The {provider} model '{model}' stopped streaming its reply ({type(error).__name__})",
            details={"provider": provider, "model": model},
        ) from None
    finally:
        response.close()
    result.latency_ms = round((time.perf_counter() - started) * 1000, 2)
    yield result


class _Assembled:
    """The reply so far: text, tool calls by index, finish reason and usage."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.calls: dict[int, dict[str, str]] = {}
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None

    def add(self, line: str, provider: str) -> str | None:
        """Take one line of the stream; the text it adds ("" for none), or None at ``[DONE]``."""
        if not line.startswith("data:"):
            return ""  # comments, event names, blank separators
        data = line[5:].strip()
        if data == "[DONE]":
            return None
        try:
            chunk = json.loads(data)
        except ValueError:
            raise ModelResponseError(
                f"The {provider} endpoint streamed an event that is not JSON", details={"provider": provider}
            ) from None
        if not isinstance(chunk, dict):
            return ""
        if chunk.get("error"):
            message = str((chunk["error"] or {}).get("message", "error"))[:300]
            raise ModelResponseError(
                f"The {provider} endpoint failed mid-stream: {message}", details={"provider": provider}
            )
        self.usage = chunk.get("usage") or self.usage
        added = []
        for choice in chunk.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue  # n > 1 is not asked for
            delta = choice.get("delta") or {}
            if delta.get("content"):
                added.append(str(delta["content"]))
            for raw in delta.get("tool_calls") or []:
                slot = self.calls.setdefault(int(raw.get("index", len(self.calls))), {})
                function = raw.get("function") or {}
                if raw.get("id"):
                    slot["id"] = str(raw["id"])
                if function.get("name") and not slot.get("name"):
                    slot["name"] = str(function["name"])
                slot["arguments"] = slot.get("arguments", "") + str(function.get("arguments") or "")
            self.finish_reason = choice.get("finish_reason") or self.finish_reason
        self.text += added
        return "".join(added)

    def as_completion(self) -> dict[str, Any]:
        """The same reply as a non-streamed chat-completions body."""
        calls = [
            {
                "id": slot.get("id") or f"call_{index}",
                "type": "function",
                "function": {"name": slot.get("name", ""), "arguments": slot.get("arguments", "")},
            }
            for index, slot in sorted(self.calls.items())
        ]
        message: dict[str, Any] = {"role": "assistant", "content": "".join(self.text)}
        if calls:
            message["tool_calls"] = calls
        return {"choices": [{"message": message, "finish_reason": self.finish_reason}], "usage": self.usage}
