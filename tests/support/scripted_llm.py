"""A fake model for unit tests: it answers from a script, so no test patches our own code."""

from __future__ import annotations

from typing import Any

from orchestrator.clients.llm.base import ChatMessage, ChatResult, LLMClient, ModelInfo, TokenUsage, ToolSpec


class ScriptedLLM(LLMClient):
    """Each ``chat`` pops the next reply and records what it was sent in ``calls``.

    A reply is text (wrapped in a ChatResult with ``usage``), a whole ChatResult, or an
    exception to raise. ``real=False`` makes it pass for the offline stand-in.
    """

    provider = "scripted"

    def __init__(
        self,
        replies: list[str | ChatResult | Exception],
        *,
        usage: TokenUsage | None = None,
        real: bool = True,
    ) -> None:
        self.replies = list(replies)
        self.usage = usage or TokenUsage(tokens_in=120, tokens_out=9)
        self.real = real
        #: One entry a call: ``messages`` (a copy), ``tools`` and ``response_format`` as passed.
        self.calls: list[dict[str, Any]] = []

    def chat(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSpec] | None = None,
        response_format: dict[str, Any] | None = None,
        model: str | None = None,
        deadline: float | None = None,
        tool_choice: str = "auto",
    ) -> ChatResult:
        self.calls.append(
            {
                "messages": list(messages),
                "tools": tools,
                "response_format": response_format,
                "deadline": deadline,
                "tool_choice": tool_choice,
            }
        )
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, ChatResult):
            return reply
        return ChatResult(
            text=reply, usage=self.usage.model_copy(), model="scripted-1", provider=self.provider
        )

    def list_models(self) -> list[ModelInfo]:
        return [ModelInfo(id="scripted-1", provider=self.provider)]

    @property
    def is_real_model(self) -> bool:
        return self.real
