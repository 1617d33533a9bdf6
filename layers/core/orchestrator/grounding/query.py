"""What a question becomes before it is searched: the routing framing removed, then terms.

"According to our documents, what is the launch code?" is routed to retrieval *because* of its
framing, but "documents" and "according" are noise to a ranker: they match every boilerplate
paragraph that mentions documents. :func:`strip_framing` removes such phrases (and only them);
:func:`terms` turns text into the lexical ranker's terms, the same way at ingestion and query.
"""

from __future__ import annotations

import re

_SOURCES = (
    r"(?:documents?|docs?|files?|notes?|records?|knowledge[ -]?base|kb|uploads?|handbooks?|"
    r"manuals?|wiki|materials?|papers?|pdfs?|data|sources?)"
)
_WHOSE = r"(?:my|our|the|these|those|your|this|that|uploaded|stored|internal|company)"
# After "in" or "from", "the" is too common ("in the file system"): only possessives count.
_MINE = r"(?:my|our|your|these|uploaded|stored)"
_FRAMINGS = [
    # "according to our documents", "based on the uploaded docs", "as per my notes"
    rf"\b(?:according to|based on|as per|with reference to|referring to)"
    rf"(?:\s+{_WHOSE}){{1,2}}\s+(?:own\s+)?{_SOURCES}\b",
    # "in our files", "from my notes", "using my uploaded documents"
    rf"\b(?:in|from|within|using)\s+{_MINE}(?:\s+{_WHOSE})?\s+(?:own\s+)?{_SOURCES}\b",
    # "search my documents for", "check our files:", "look in the docs and tell me"
    rf"\b(?:please\s+)?(?:search|check|look (?:in|at|through)|consult|go through|read|scan)"
    rf"(?:\s+{_WHOSE}){{1,2}}\s+{_SOURCES}(?:\s+(?:for|about|and tell me|to find(?: out)?))?\b",
    # "what do my documents say about", "do our files mention"
    rf"\b(?:what\s+)?(?:do|does|did)(?:\s+{_WHOSE}){{1,2}}\s+{_SOURCES}\s+(?:say|mention|state|tell me)"
    r"(?:\s+(?:about|on|regarding))?\b",
]
_FRAMING = re.compile("|".join(f"(?:{pattern})" for pattern in _FRAMINGS), re.IGNORECASE)
_LEFTOVER_PUNCTUATION = re.compile(r"^[\s,;:.\-–—]+|[\s,;:\-–—]+$")
_SPACES_BEFORE_PUNCTUATION = re.compile(r"\s+([,;:.?!])")
_DANGLING_COMMA = re.compile(r"[,;:]+([.?!])")


def strip_framing(query: str) -> str:
    """``query`` without the phrases that only say *where* to look; the query itself if all framing."""
    stripped = _FRAMING.sub(" ", query)
    stripped = _SPACES_BEFORE_PUNCTUATION.sub(r"\1", " ".join(stripped.split()))
    stripped = _DANGLING_COMMA.sub(r"\1", stripped)
    stripped = _LEFTOVER_PUNCTUATION.sub("", stripped).strip()
    # "Search my documents." has nothing left to search for: keep the words it has.
    return stripped if re.search(r"\w", stripped) else query.strip()


def terms(texts: list[str]) -> list[list[str]]:
    """Lower-cased word terms of each text, English stop words removed (bm25s's tokenizer)."""
    import bm25s

    tokens = bm25s.tokenize(texts, stopwords="en", return_ids=False, show_progress=False)
    return [list(t) for t in tokens]  # type: ignore[union-attr]  # return_ids=False: lists of str
