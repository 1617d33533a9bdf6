"""Our chat messages and tools in Bedrock's Converse shape, and Converse replies back as ChatResults."""

from __future__ import annotations

import json
import re
from typing import Any

from orchestrator.clients.llm.base import ChatMessage, ChatResult, TokenUsage, ToolSpec
from orchestrator.errors import ModelResponseError
from orchestrator.state import ToolCall

_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


def _append(messages: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
    if not blocks:
        return
    # Converse wants user and assistant turns to alternate: merge neighbours of the same role.
    if messages and messages[-1]["role"] == role:
        messages[-1]["content"].extend(blocks)
    else:
        messages.append({"role": role, "content": blocks})


def to_converse(
    messages: list[ChatMessage], *, with_tools: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(system blocks, messages) for Converse.

    Without a toolConfig, Converse rejects toolUse/toolResult blocks, so when no tools are
    offered (the loop's forced final answer) earlier tool turns are written out as text.
    """
    system: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    for message in messages:
        text_block: list[dict[str, Any]] = [{"text": message.content}] if message.content.strip() else []
        if message.role == "system":
            system.extend(text_block)
        elif message.role == "user":
            _append(out, "user", text_block)
        elif message.role == "assistant":
            blocks = list(text_block)
            for call in message.tool_calls:
                if with_tools:
                    blocks.append(
                        {"toolUse": {"toolUseId": call.id, "name": call.name, "input": call.arguments}}
                    )
                else:
                    blocks.append({"text": f"[called tool {call.name} with {json.dumps(call.arguments)}]"})
            _append(out, "assistant", blocks)
        elif with_tools:
            result = {"toolUseId": message.tool_call_id or "", "content": [{"text": message.content or "{}"}]}
            _append(out, "user", [{"toolResult": result}])
        else:
            _append(
                out, "user", [{"text": f"[result of tool call {message.tool_call_id}: {message.content}]"}]
            )
    if out and out[0]["role"] != "user":
        out.insert(0, {"role": "user", "content": [{"text": "(earlier conversation follows)"}]})
    return system, out


def converse_request(
    messages: list[ChatMessage],
    *,
    tools: list[ToolSpec] | None,
    response_format: dict[str, Any] | None,
    max_tokens: int,
    temperature: float,
    tool_choice: str = "auto",
) -> dict[str, Any]:
    """The Converse arguments except ``modelId``."""
    system, converse_messages = to_converse(messages, with_tools=bool(tools))
    if response_format:
        # Converse has no portable structured-output switch; an instruction works on every family.
        schema = json.dumps(response_format.get("json_schema", {}).get("schema", response_format))
        system.append(
            {"text": f"Reply with one JSON value that follows this JSON schema, and nothing else: {schema}"}
        )
    request: dict[str, Any] = {
        "messages": converse_messages,
        "inferenceConfig": {"maxTokens": max_tokens, "temperature": temperature},
    }
    if system:
        request["system"] = system
    if tools:
        request["toolConfig"] = {
            "tools": [
                {
                    "toolSpec": {
                        "name": t.name,
                        "description": t.description,
                        "inputSchema": {"json": t.parameters},
                    }
                }
                for t in tools
            ]
        }
        if tool_choice == "required":
            # Converse's "any" is OpenAI's "required": at least one tool call.
            request["toolConfig"]["toolChoice"] = {"any": {}}
    return request


def parse_converse(response: dict[str, Any], *, model: str, provider: str) -> ChatResult:
    """A ChatResult from a Converse reply; a reply of the wrong shape is a :class:`ModelResponseError`."""
    try:
        return _converse(response, model=model, provider=provider)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError):
        raise ModelResponseError("Bedrock returned a malformed reply", details={"model": model}) from None


def _converse(response: dict[str, Any], *, model: str, provider: str) -> ChatResult:
    try:
        blocks = response["output"]["message"]["content"]
    except (KeyError, TypeError):
        raise ModelResponseError(
            "Bedrock returned a reply without a message", details={"model": model}
        ) from None
    texts: list[str] = []
    calls: list[ToolCall] = []
    for block in blocks:
        if "text" in block:
            texts.append(str(block["text"]))
        elif "toolUse" in block:
            use = block["toolUse"]
            arguments = use.get("input") or {}
            if not isinstance(arguments, dict):
                raise ModelResponseError(f"The model called tool '{use.get('name')}' with non-object input")
            calls.append(ToolCall(id=str(use["toolUseId"]), name=str(use["name"]), arguments=arguments))
    usage = response.get("usage") or {}
    return ChatResult(
        text="".join(texts),
        tool_calls=calls,
        usage=TokenUsage(
            tokens_in=int(usage.get("inputTokens", 0)), tokens_out=int(usage.get("outputTokens", 0))
        ),
        model=model,
        provider=provider,
        finish_reason=response.get("stopReason"),
    )


def strip_json_fence(text: str) -> str:
    """A JSON reply without the Markdown fence some model families wrap it in."""
    match = _FENCE.match(text.strip())
    return match.group(1) if match else text
