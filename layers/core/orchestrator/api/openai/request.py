"""An OpenAI ``chat/completions`` request as one turn of the graph.

The last user message is the prompt; earlier messages are the conversation the agent reads
(``ClientTurn.history``, instead of memory); an assistant's tool calls and the tool results after
it are follow-ups; system (and developer) messages become the client's instructions. The session
is a stable key of the caller and the conversation (its first user message and system prompt), so
memory records each conversation under one id and the cache keys on the whole conversation.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.api.openai.catalog import ModelChoice
from orchestrator.api.openai.tasks import is_background_task
from orchestrator.api.schemas import ID_PATTERN
from orchestrator.clients.llm.allowlist import chosen_model
from orchestrator.clients.llm.pricing import estimate_tokens
from orchestrator.errors import PayloadTooLargeError, UnsupportedParameterError, ValidationError
from orchestrator.state import ClientMessage, ClientTool, ClientTurn, GraphState, ToolCall

if TYPE_CHECKING:
    from orchestrator.config import Settings
    from orchestrator.identity import Principal


class WireFunction(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    description: str = Field(default="", max_length=4_000)
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class WireTool(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["function"]
    function: WireFunction


class WireToolCallFunction(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    arguments: str | dict[str, Any] = "{}"


class WireToolCall(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    type: Literal["function"] = "function"
    function: WireToolCallFunction


class CompatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    tool_calls: list[WireToolCall] | None = None

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        parts = self.content or []
        return "".join(str(p.get("text", "")) for p in parts if p.get("type") == "text")


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class CompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = "orchestrator"
    messages: list[CompatMessage] = Field(min_length=1, max_length=500)
    user: str | None = Field(default=None, max_length=128, pattern=ID_PATTERN)
    stream: bool = False
    stream_options: StreamOptions | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    tools: list[WireTool] | None = Field(default=None, max_length=128)
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    max_tokens: int | None = Field(default=None, gt=0)
    max_completion_tokens: int | None = Field(default=None, gt=0)
    temperature: float | None = Field(default=None, ge=0, le=2)
    n: int | None = Field(default=None, ge=1)


def _arguments(raw: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        parsed = json.loads(raw or "{}")
    except ValueError:
        return {"_raw": raw}
    return parsed if isinstance(parsed, dict) else {"_value": parsed}


def _client_message(message: CompatMessage) -> ClientMessage:
    role: Literal["user", "assistant", "tool"] = "assistant" if message.role == "assistant" else "user"
    if message.role == "tool":
        role = "tool"
    calls = [
        ToolCall(id=c.id, name=c.function.name, arguments=_arguments(c.function.arguments))
        for c in message.tool_calls or []
    ]
    return ClientMessage(
        role=role, content=message.text(), tool_call_id=message.tool_call_id, tool_calls=calls
    )


def _response_format(body: CompletionRequest) -> dict[str, Any] | None:
    fmt = body.response_format
    if not fmt or fmt.get("type") == "text":
        return None
    if fmt.get("type") == "json_object":
        return {"type": "json_object"}
    schema = fmt.get("json_schema")
    if (
        fmt.get("type") == "json_schema"
        and isinstance(schema, dict)
        and isinstance(schema.get("schema"), dict)
    ):
        return {"type": "json_schema", "json_schema": schema}
    raise UnsupportedParameterError(
        "response_format: must be {'type': 'text'}, {'type': 'json_object'} or "
        "{'type': 'json_schema', 'json_schema': {'name': ..., 'schema': {...}}}",
        details={"field": "response_format"},
    )


def _tools(body: CompletionRequest) -> list[ClientTool]:
    choice = body.tool_choice
    if not body.tools or choice == "none":
        return []
    if choice not in (None, "auto"):
        raise UnsupportedParameterError(
            "tool_choice: only 'auto' and 'none' are supported; the model decides whether to call a tool",
            details={"field": "tool_choice"},
        )
    return [
        ClientTool(name=t.function.name, description=t.function.description, parameters=t.function.parameters)
        for t in body.tools
    ]


def conversation_key(tenant_id: str, user_id: str, first_user: str, system: str) -> str:
    """A stable session id for a conversation: the same caller, opening message and system prompt."""
    digest = hashlib.sha256("\x00".join((tenant_id, user_id, system, first_user)).encode()).hexdigest()
    return f"oai-{digest[:40]}"


def check_size(body: CompletionRequest, settings: Settings, max_tokens: int) -> None:
    """A hard byte cap on the messages, and the turn itself (system prompt, prompt, tool results)
    within the model's context minus the answer; earlier turns that do not fit are dropped by the
    agent, oldest first."""
    texts = [m.text() for m in body.messages]
    size = sum(len(t.encode()) for t in texts)
    if size > settings.openai_max_messages_bytes:
        raise PayloadTooLargeError(
            f"messages: {size} bytes is over the limit of {settings.openai_max_messages_bytes}",
            details={"field": "messages", "limit": settings.openai_max_messages_bytes},
        )
    last_user = max(i for i, m in enumerate(body.messages) if m.role == "user")
    turn = [
        t for i, t in enumerate(texts) if i >= last_user or body.messages[i].role in ("system", "developer")
    ]
    tokens = sum(estimate_tokens(t) for t in turn)
    limit = settings.llm_context_tokens - max_tokens
    if tokens > limit:
        raise UnsupportedParameterError(
            f"messages: this turn is about {tokens} tokens, over the {limit} the model's context "
            f"({settings.llm_context_tokens}) leaves after {max_tokens} for the answer",
            details={"field": "messages", "code": "context_length_exceeded", "limit": limit},
        )


def to_state(
    body: CompletionRequest, choice: ModelChoice, settings: Settings, principal: Principal, user_id: str
) -> GraphState:
    """The run's initial state; typed errors (400, 404, 413, 422) for what cannot be honoured."""
    if body.n is not None and body.n > 1:
        raise UnsupportedParameterError("n: only one choice per request is supported", details={"field": "n"})
    users = [i for i, m in enumerate(body.messages) if m.role == "user"]
    if not users:
        raise ValidationError("messages: at least one message with role 'user' is required")
    last = users[-1]
    prompt = body.messages[last].text().strip()
    if not prompt:
        raise ValidationError("messages: the last user message is empty", details={"field": "messages"})
    session = body.metadata.get("session_id")
    if isinstance(session, str) and not (len(session) <= 128 and re.fullmatch(ID_PATTERN, session)):
        raise ValidationError("metadata.session_id: must be 1 to 128 of A-Z a-z 0-9 _ . : @ -")
    metadata = {k: v for k, v in body.metadata.items() if k != "session_id"}
    if choice.provider_model:
        metadata["model"] = choice.provider_model
    metadata_size = len(json.dumps(metadata, default=str).encode())
    if metadata_size > settings.max_metadata_bytes:
        raise ValidationError(
            f"metadata: {metadata_size} bytes is over the limit of {settings.max_metadata_bytes}",
            details={"field": "metadata", "problem": "too large", "limit": settings.max_metadata_bytes},
        )
    chosen_model(metadata, settings)  # 422 for a metadata.model not configured

    background = is_background_task(prompt)
    asked = body.max_completion_tokens or body.max_tokens
    max_tokens = min(asked or settings.llm_max_tokens, settings.llm_max_output_tokens)
    if background:
        max_tokens = min(max_tokens, settings.openai_task_max_tokens)
    check_size(body, settings, max_tokens)
    tools = _tools(body)
    response_format = _response_format(body)
    if (tools or response_format) and settings.llm_provider == "offline":
        raise UnsupportedParameterError(
            "tools and response_format need a model, and no model is configured (LLM_PROVIDER=offline)",
            details={"field": "tools" if tools else "response_format"},
        )
    if (tools or response_format) and choice.external:
        raise UnsupportedParameterError(
            "tools and response_format cannot reach an external agent; use another model",
            details={"field": "tools" if tools else "response_format"},
        )

    system = "\n\n".join(m.text() for m in body.messages if m.role in ("system", "developer") and m.text())
    conversation = [m for m in body.messages if m.role not in ("system", "developer")]
    before = [_client_message(m) for m in body.messages[:last] if m.role not in ("system", "developer")]
    after = [_client_message(m) for m in body.messages[last + 1 :] if m.role not in ("system", "developer")]
    first_user = conversation[0].text() if conversation else prompt
    # Turns the model's context could never hold do not travel through the run's state either.
    while before and sum(estimate_tokens(m.content) for m in before) > settings.llm_context_tokens:
        before.pop(0)
    client = ClientTurn(
        system=system or None,
        history=before,
        followups=after,
        tools=tools,
        response_format=response_format,
        max_tokens=max_tokens if (asked or background) else None,
        temperature=body.temperature,
        route="chat" if background else choice.route,
        direct=background or choice.provider_model is not None,
        background=background,
    )
    return GraphState(
        tenant_id=principal.tenant_id,
        user_id=user_id,
        session_id=session
        if isinstance(session, str)
        else conversation_key(principal.tenant_id, user_id, first_user, system),
        prompt=prompt,
        metadata=metadata,
        client=client,
    )
