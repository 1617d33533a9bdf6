"""The sentences of retrieved passages that best match a question (snippets, extractive answers).

Pure Python and cheap to import: the offline provider and the store both use it. A sentence
scores the inverse-document-frequency weight of the question's terms it contains, frequencies
counted over the sentences considered, so a term every boilerplate sentence repeats ("Zephyr-9")
weighs little and the one sentence holding "launch authorization code" wins.
"""

from __future__ import annotations

import math
import re

from orchestrator.state import clip

_WORD = re.compile(r"\w\w+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
# Question words and glue that carry no content; kept short on purpose (what a question adds).
_STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "may",
        "me",
        "might",
        "must",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "please",
        "shall",
        "should",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "us",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "whose",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "about",
        "tell",
        "give",
        "find",
        "know",
        "say",
        "says",
        "said",
        "document",
        "documents",
        "docs",
        "doc",
        "file",
        "files",
        "according",
        "based",
    ]
)


def key_terms(text: str) -> list[str]:
    """Lower-cased words of two or more characters, stop words removed, plurals folded, in order."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOP_WORDS]
    # "refunds" should meet "refund", "opens" "open": the one suffix worth folding without a stemmer.
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words]


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(" ".join(text.split())) if s.strip()]


def rank_sentences(question: str, texts: list[str]) -> list[tuple[float, int, str]]:
    """``(score, text index, sentence)`` of every sentence of ``texts``, best first (stable)."""
    wanted = set(key_terms(question))
    found = [(i, s, set(key_terms(s))) for i, text in enumerate(texts) for s in sentences(text)]
    if not found:
        return []
    frequency = {t: sum(1 for _, _, words in found if t in words) for t in wanted}
    weight = {t: math.log(1 + len(found) / n) for t, n in frequency.items() if n}
    scored = [(sum(weight.get(t, 0.0) for t in words & wanted), i, s) for i, s, words in found]
    order = sorted(range(len(scored)), key=lambda n: -scored[n][0])
    return [scored[n] for n in order]


def best_sentences(question: str, text: str, *, max_chars: int = 300) -> str:
    """The sentence of ``text`` nearest ``question`` (with the next one when it fits), clipped."""
    ranked = rank_sentences(question, [text])
    if not ranked or ranked[0][0] <= 0:
        return clip(text, max_chars)
    best = ranked[0][2]
    every = sentences(text)
    position = every.index(best)
    if position + 1 < len(every) and len(best) + 1 + len(every[position + 1]) <= max_chars:
        best = f"{best} {every[position + 1]}"
    return clip(best, max_chars)
