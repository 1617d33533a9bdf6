"""Splitting documents into overlapping chunks on paragraph and sentence boundaries.

Paragraphs (blank-line separated) are kept whole when they fit; longer ones are split into
sentences, and sentences longer than a chunk into words (a single over-long token is cut). Pieces
are packed greedily up to ``max_chars``. Each chunk after the first starts with the last whole
sentences of the previous chunk that fit in ``overlap`` characters (or, when the last sentence
is longer, its tail cut at a word boundary), so a fact that straddles a boundary is retrievable
from either side.
"""

from __future__ import annotations

import re

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# A sentence ends at . ! ? (optionally followed by closing quotes or brackets) before whitespace.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)\]]))\s+")
_WHITESPACE = re.compile(r"\s+")


def _split_long(sentence: str, max_chars: int) -> list[str]:
    """Words packed up to ``max_chars``; a single word longer than that is cut."""
    words: list[str] = []
    for word in sentence.split(" "):
        words.extend(word[i : i + max_chars] for i in range(0, len(word), max_chars))
    pieces: list[str] = []
    current = ""
    for word in words:
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= max_chars:
            current = f"{current} {word}"
        else:
            pieces.append(current)
            current = word
    if current:
        pieces.append(current)
    return pieces


def _units(text: str, max_chars: int) -> list[tuple[str, str]]:
    """(separator before, piece) pairs: paragraphs join with a blank line, sentences with a space."""
    units: list[tuple[str, str]] = []
    for paragraph in _PARAGRAPH_BREAK.split(text.replace("\r\n", "\n").replace("\r", "\n")):
        flat = _WHITESPACE.sub(" ", paragraph).strip()
        if not flat:
            continue
        if len(flat) <= max_chars:
            pieces = [flat]
        else:
            pieces = []
            for sentence in _SENTENCE_END.split(flat):
                if sentence.strip():
                    pieces.extend(_split_long(sentence.strip(), max_chars))
        for index, piece in enumerate(pieces):
            units.append(("\n\n" if index == 0 else " ", piece))
    return units


def _overlap_tail(last: str, overlap: int) -> str:
    """The last whole sentences of ``last`` within ``overlap`` chars, else its word-aligned tail."""
    if overlap <= 0 or not last:
        return ""
    tail = ""
    for sentence in reversed([s for s in _SENTENCE_END.split(last) if s.strip()]):
        candidate = f"{sentence} {tail}".strip()
        if len(candidate) > overlap:
            break
        tail = candidate
    if tail:
        return tail
    cut = last[-overlap:]
    space = cut.find(" ")
    return cut[space + 1 :] if 0 <= space < len(cut) - 1 else cut


def chunk_text(text: str, max_chars: int = 800, overlap: int = 100) -> list[str]:
    """``text`` as chunks of at most ``max_chars`` characters, consecutive ones overlapping."""
    if max_chars <= 0:
        raise ValueError("max_chars must be positive")
    if not 0 <= overlap < max_chars:
        raise ValueError("overlap must be at least 0 and smaller than max_chars")
    chunks: list[str] = []
    current = ""
    last_piece = ""
    for separator, piece in _units(text, max_chars):
        if not current:
            current = piece
        elif len(current) + len(separator) + len(piece) <= max_chars:
            current = f"{current}{separator}{piece}"
        else:
            chunks.append(current)
            tail = _overlap_tail(last_piece, overlap)
            fits = tail and len(tail) + len(separator) + len(piece) <= max_chars
            current = f"{tail}{separator}{piece}" if fits else piece
        last_piece = piece
    if current:
        chunks.append(current)
    return chunks
