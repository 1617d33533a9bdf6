"""Prompt assembly: system prompt, recent conversation history within a token budget, the prompt."""

from __future__ import annotations

from collections.abc import Sequence

from orchestrator.clients.llm.base import ChatMessage
from orchestrator.clients.llm.pricing import estimate_tokens

_HISTORY_ROLES = ("user", "assistant")


def build_messages(
    system: str,
    history: Sequence[tuple[str, str]],
    prompt: str,
    token_budget: int,
) -> list[ChatMessage]:
    """``[system, *history, user prompt]`` with as much recent history as ``token_budget`` allows.

    ``history`` is oldest first, as ``(role, text)``. Turns are taken newest first while they
    fit (about four characters a token), so the oldest are dropped first; taking stops at the
    first turn that does not fit, so the kept history has no gaps. A kept history never starts
    with an assistant turn, because some providers (Bedrock) require the user to speak first.
    """
    kept: list[ChatMessage] = []
    used = 0
    for role, text in reversed(history):
        if role not in _HISTORY_ROLES or not text:
            continue
        cost = estimate_tokens(text)
        if used + cost > token_budget:
            break
        used += cost
        kept.append(ChatMessage(role="user" if role == "user" else "assistant", content=text))
    kept.reverse()
    while kept and kept[0].role == "assistant":
        kept.pop(0)
    messages = [ChatMessage(role="system", content=system)] if system else []
    return [*messages, *kept, ChatMessage(role="user", content=prompt)]
