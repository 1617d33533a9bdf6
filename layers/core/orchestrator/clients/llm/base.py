"""The one model interface every provider implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, Field

from orchestrator.state import ToolCall


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    #: Set on ``tool`` messages: which call this is the result of.
    tool_call_id: str | None = None
    #: Set on ``assistant`` messages that asked for tools.
    tool_calls: list[ToolCall] = Field(default_factory=list)


class ToolSpec(BaseModel):
    """A tool offered to the model: JSON-schema parameters, as in OpenAI and Bedrock tool configs."""

    name: str
    description: str
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


#: Whether the model may answer without a tool call ("auto") or must call one ("required").
ToolChoice = Literal["auto", "required"]


class TokenUsage(BaseModel):
    tokens_in: int = 0
    tokens_out: int = 0


class ChatResult(BaseModel):
    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: TokenUsage = Field(default_factory=TokenUsage)
    model: str
    provider: str
    latency_ms: float = 0.0
    finish_reason: str | None = None


class ModelInfo(BaseModel):
    id: str
    provider: str
    owned_by: str | None = None


class LLMClient(ABC):
    """A chat model. Implementations retry transient failures themselves and raise
    :class:`orchestrator.errors.ModelUnavailableError` when the model stays down."""

    provider: str

    @abstractmethod
    def chat(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSpec] | None = None,
        response_format: dict[str, Any] | None = None,
        model: str | None = None,
        deadline: float | None = None,
        tool_choice: ToolChoice = "auto",
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> ChatResult:
        """One model turn. ``response_format`` is a JSON schema the reply must follow.

        ``tool_choice="required"`` asks the model to call at least one of ``tools`` (where the
        provider supports it; the caller must still handle a reply without calls).
        ``deadline`` (a :func:`time.monotonic` instant) is when the caller must have an answer:
        retries stop, and each attempt's timeout shrinks, so the call ends by then.
        ``max_tokens`` and ``temperature`` override the client's configured ones for this call.
        """

    def stream_chat(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSpec] | None = None,
        model: str | None = None,
        deadline: float | None = None,
        **options: Any,
    ) -> Iterator[str | ChatResult]:
        """:meth:`chat`, yielding the answer's text deltas as they arrive, then the :class:`ChatResult`
        (with usage and ``finish_reason``) last. Providers that cannot stream yield the whole text
        once. ``options`` are :meth:`chat`'s (``response_format``, ``max_tokens``, ``temperature``)."""
        result = self.chat(messages, tools=tools, model=model, deadline=deadline, **options)
        if result.text:
            yield result.text
        yield result

    @abstractmethod
    def list_models(self) -> list[ModelInfo]:
        """Models the configured provider offers."""

    @property
    def is_real_model(self) -> bool:
        """False for the offline stand-in: callers skip optional model calls (router, planner)."""
        return True
