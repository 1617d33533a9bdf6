"""Reading a Bedrock ``ConverseStream`` reply: text deltas as they arrive, then the whole reply.

The events (``contentBlockStart`` with a tool use's id and name, ``contentBlockDelta`` with text
or a piece of a tool use's JSON input, ``messageStop`` with the stop reason, ``metadata`` with
usage) are assembled into the shape ``Converse`` answers, so :func:`parse_converse` reads both.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from orchestrator.clients.llm.base import ChatResult
from orchestrator.clients.llm.converse import parse_converse, strip_json_fence
from orchestrator.errors import ModelResponseError, ModelUnavailableError


def read_converse_stream(
    events: Iterable[dict[str, Any]], *, model: str, provider: str, json_reply: bool = False
) -> Iterator[str | ChatResult]:
    """Yield each text delta of ``events``, then the :class:`ChatResult`."""
    blocks: dict[int, dict[str, Any]] = {}
    stop_reason: str | None = None
    usage: dict[str, Any] = {}
    try:
        for event in events:
            if "contentBlockStart" in event:
                start = event["contentBlockStart"]
                use = (start.get("start") or {}).get("toolUse")
                if use:
                    blocks[int(start.get("contentBlockIndex", 0))] = {"toolUse": {**use, "input": ""}}
            elif "contentBlockDelta" in event:
                piece = event["contentBlockDelta"]
                index = int(piece.get("contentBlockIndex", 0))
                change = piece.get("delta") or {}
                if "text" in change:
                    block = blocks.setdefault(index, {"text": ""})
                    block["text"] = block.get("text", "") + str(change["text"])
                    if change["text"]:
                        yield str(change["text"])
                elif "toolUse" in change:
                    use = blocks.setdefault(index, {"toolUse": {"input": ""}})["toolUse"]
                    use["input"] += str(change["toolUse"].get("input") or "")
            elif "messageStop" in event:
                stop_reason = event["messageStop"].get("stopReason")
            elif "metadata" in event:
                usage = event["metadata"].get("usage") or usage
            else:
                failure = next((key for key in event if key.endswith("Exception")), None)
                if failure:
                    message = str((event[failure] or {}).get("message", failure))[:300]
                    raise ModelUnavailableError(
                        f"The {provider} model '{model}' failed mid-stream: {message}",
                        details={"provider": provider, "model": model},
                    )
    except (ModelUnavailableError, ModelResponseError):
        raise
    except Exception as error:  # botocore's event-stream errors: the reply broke off
        raise ModelUnavailableError(
            f"The {provider} model '{model}' stopped streaming its reply ({type(error).__name__})",
            details={"provider": provider, "model": model},
        ) from None
    content = [_finished(blocks[index], model) for index in sorted(blocks)]
    response = {"output": {"message": {"content": content}}, "stopReason": stop_reason, "usage": usage}
    result = parse_converse(response, model=model, provider=provider)
    if json_reply:
        result.text = strip_json_fence(result.text)
    yield result


def _finished(block: dict[str, Any], model: str) -> dict[str, Any]:
    if "toolUse" not in block:
        return block
    use = block["toolUse"]
    try:
        arguments = json.loads(use["input"]) if use["input"].strip() else {}
    except ValueError:
        raise ModelResponseError(
            f"The model called tool '{use.get('name')}' with input that is not valid JSON",
            details={"model": model},
        ) from None
    return {"toolUse": {**use, "input": arguments}}
