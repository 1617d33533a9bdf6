"""The offline provider: a deterministic, clearly labelled stand-in used when no model is configured.

It never pretends to be a model. Every reply starts with :data:`OFFLINE_MARKER`, then shows what
the orchestrator gathered for the turn, quoted from the messages: the question, an *extractive*
answer (the sentences of the retrieved passages that best match the question, each with the
``[source id]`` of its passage, which is what makes that passage a citation), the first sentences
of the other passages (by id, without brackets: shown, not cited), tool results and earlier step
results. It reads the headings :mod:`orchestrator.nodes.prompts` writes ("Context passages:",
"Tool results:", "Plan step results:", "Results of earlier steps:") plus ``tool`` messages, and
the system prompt's answer-language line, so the reply says which language was detected.
It never asks for tools and ignores ``response_format`` (callers check ``is_real_model``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from orchestrator.clients.llm.base import (
    ChatMessage,
    ChatResult,
    LLMClient,
    ModelInfo,
    TokenUsage,
    ToolChoice,
    ToolSpec,
)
from orchestrator.clients.llm.pricing import estimate_tokens
from orchestrator.grounding.extract import rank_sentences

OFFLINE_MODEL = "offline-stand-in"
OFFLINE_MARKER = (
    "[offline provider] No model is configured, so this is a deterministic stand-in, not a model's answer."
)

_HEADINGS = {
    "context passages": "context",
    "tool results": "tools",
    "plan step results": "steps",
    "results of earlier steps": "steps",
}
_PASSAGE = re.compile(r"^\s*(?:[-*]\s+)?\[([^\]\n]{1,200})\]\s+(\S.*)$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
#: The answer-language line of :data:`orchestrator.nodes.prompts.ANSWER_LANGUAGE`.
_ANSWER_LANGUAGE = re.compile(r"The user wrote in ([^()\n]{1,40}) \(([a-z]{2,3})\): write your answer in")
_QUOTE_CHARS = 300
#: Streaming: pieces of this many words (each with the whitespace after it).
_STREAM_WORDS = 4
_WORD = re.compile(r"\s*\S+\s*|\s+")
_ITEM_CHARS = 400
_MAX_ITEMS = 8
#: Sentences quoted as the answer: the best one, and a runner-up only if it scores nearly as well.
_ANSWER_SENTENCES = 2
_RUNNER_UP_RATIO = 0.8


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def first_sentences(text: str, count: int = 2) -> str:
    """The first ``count`` sentences of ``text``, capped in length."""
    sentences = _SENTENCE_END.split(" ".join(text.split()))
    return _clip(" ".join(sentences[:count]), _QUOTE_CHARS)


def _sections(content: str) -> dict[str, list[str]]:
    """Split a message into the question and the headed sections, one item per bullet."""
    sections: dict[str, list[str]] = {"question": [], "context": [], "tools": [], "steps": []}
    current = "question"
    for line in content.splitlines():
        heading = _HEADINGS.get(line.strip().rstrip(":").strip().lower())
        if heading is not None and line.strip().endswith(":"):
            current = heading
            continue
        items = sections[current]
        if current == "question":
            items.append(line)
        elif line.startswith((" ", "\t")) and items and line.strip():
            items[-1] += " " + line.strip()  # continuation of the previous bullet
        elif line.strip():
            items.append(line.strip())
    return sections


class OfflineLLMClient(LLMClient):
    """Deterministic: the same messages always give the same reply. Costs nothing."""

    provider = "offline"
    default_model = OFFLINE_MODEL

    @property
    def is_real_model(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "OfflineLLMClient()"

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
        text = self.compose(messages)
        tokens_in = sum(estimate_tokens(m.content) for m in messages)
        return ChatResult(
            text=text,
            usage=TokenUsage(tokens_in=tokens_in, tokens_out=estimate_tokens(text)),
            model=model or OFFLINE_MODEL,
            provider=self.provider,
            latency_ms=0.0,
            finish_reason="stop",
        )

    def stream_chat(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSpec] | None = None,
        model: str | None = None,
        deadline: float | None = None,
        **options: Any,
    ) -> Iterator[str | ChatResult]:
        """The same reply as :meth:`chat`, in pieces of a few words, as a streaming model sends it."""
        result = self.chat(messages, tools=tools, model=model, deadline=deadline, **options)
        words = _WORD.findall(result.text)
        for start in range(0, len(words), _STREAM_WORDS):
            yield "".join(words[start : start + _STREAM_WORDS])
        yield result

    def list_models(self) -> list[ModelInfo]:
        return [ModelInfo(id=OFFLINE_MODEL, provider=self.provider, owned_by="orchestrator")]

    @staticmethod
    def compose(messages: list[ChatMessage]) -> str:
        """Build the transparent reply from the messages."""
        question = ""
        language: re.Match[str] | None = None
        passages: dict[str, str] = {}
        tools: list[str] = []
        steps: list[str] = []
        tool_names = {call.id: call.name for m in messages for call in m.tool_calls}
        for message in messages:
            if message.role == "tool":
                name = tool_names.get(message.tool_call_id or "", "tool")
                tools.append(f"{name}: {_clip(message.content, _ITEM_CHARS)}")
                continue
            if message.role not in ("system", "user"):
                continue
            if message.role == "system":
                language = _ANSWER_LANGUAGE.search(message.content) or language
            sections = _sections(message.content)
            # In a user message only the context section holds passages: a question may itself
            # start with a bracket ("[urgent] ...").
            lines = message.content.splitlines() if message.role == "system" else sections["context"]
            current: str | None = None
            for line in lines:
                match = _PASSAGE.match(line)
                if match and match.group(1) not in passages:
                    current = match.group(1)
                    passages[current] = match.group(2)
                elif current is not None and line.strip() and message.role == "user":
                    passages[current] += " " + line.strip()  # a passage's next paragraph
            tools += [_clip(item.removeprefix("- "), _ITEM_CHARS) for item in sections["tools"]]
            steps += [_clip(item.removeprefix("- "), _ITEM_CHARS) for item in sections["steps"]]
            if message.role == "user":
                question = "\n".join(sections["question"]).strip() or question

        parts = [OFFLINE_MARKER]
        if language:
            # A model would answer in this language; the stand-in can only say it noticed.
            parts.append(f"Detected language: {language.group(1)} ({language.group(2)}).")
        if question:
            parts.append(f'You asked: "{_clip(question, 500)}"')
        if passages:
            parts.append(_extractive_answer(question, passages))
        if tools:
            parts.append("From the tools:\n" + "\n".join(f"- {t}" for t in tools[:_MAX_ITEMS]))
        if steps:
            parts.append("From earlier steps:\n" + "\n".join(f"- {s}" for s in steps[:_MAX_ITEMS]))
        if not (passages or tools or steps):
            parts.append("No context passages, tool results or step results were provided for this turn.")
        parts.append("Set LLM_PROVIDER to openai or bedrock (with a model) for a real answer.")
        return "\n\n".join(parts)


def _extractive_answer(question: str, passages: dict[str, str]) -> str:
    """The best-matching sentences, each citing its passage; then the other passages, uncited."""
    sources = list(passages)[:_MAX_ITEMS]
    ranked = rank_sentences(question, [passages[s] for s in sources])
    chosen: list[tuple[int, str]] = []
    if ranked and ranked[0][0] > 0:
        top = ranked[0][0]
        chosen = [(i, s) for score, i, s in ranked[:_ANSWER_SENTENCES] if score >= _RUNNER_UP_RATIO * top]
    else:  # nothing in common with the question: the first passage's opening is the best guess
        chosen = [(0, first_sentences(passages[sources[0]], 1))]
    answer = "\n".join(f"> {_clip(sentence, _QUOTE_CHARS)} [{sources[i]}]" for i, sentence in chosen)
    used = {i for i, _ in chosen}
    others = [
        f"- {source}: {first_sentences(passages[source])}"
        for i, source in enumerate(sources)
        if i not in used
    ]
    text = "Answer, quoted from the best-matching passage:\n" + answer
    if others:
        text += "\n\nOther retrieved passages (not used):\n" + "\n".join(others)
    return text
