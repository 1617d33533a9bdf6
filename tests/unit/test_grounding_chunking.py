"""Given documents of various shapes, when chunked, then chunks respect size, boundaries and overlap."""

from __future__ import annotations

import itertools
import re

import pytest

from orchestrator.grounding import chunk_text

SENTENCES = [f"Fact number {i} says the warehouse {i} ships on day {i % 7}." for i in range(40)]
LONG = "Intro paragraph about shipping.\n\n" + " ".join(SENTENCES) + "\n\nClosing paragraph."


def test_short_text_is_one_chunk_with_whitespace_normalised() -> None:
    assert chunk_text("  Hello   world.\nSecond line.  ") == ["Hello world. Second line."]


def test_empty_text_has_no_chunks() -> None:
    assert chunk_text(" \n\n \t") == []


def test_paragraphs_that_fit_are_kept_whole_and_separated() -> None:
    text = "First paragraph here.\n\nSecond paragraph here.\n\n\nThird."
    assert chunk_text(text, max_chars=200) == ["First paragraph here.\n\nSecond paragraph here.\n\nThird."]


def test_chunks_respect_the_size_limit_and_cover_every_sentence() -> None:
    chunks = chunk_text(LONG, max_chars=200, overlap=60)

    assert len(chunks) > 5
    assert all(len(c) <= 200 for c in chunks)
    joined = "\n".join(chunks)
    for sentence in [*SENTENCES, "Intro paragraph about shipping.", "Closing paragraph."]:
        assert sentence in joined, sentence


def test_chunks_split_on_sentence_boundaries() -> None:
    chunks = chunk_text(LONG, max_chars=200, overlap=60)

    for chunk in chunks:
        assert re.search(r"[.!?]$", chunk), chunk  # no sentence is cut in the middle
        assert chunk[0].isupper(), chunk


def test_consecutive_chunks_overlap_by_whole_sentences() -> None:
    chunks = chunk_text(" ".join(SENTENCES), max_chars=200, overlap=60)

    for previous, current in itertools.pairwise(chunks):
        last_sentence = re.split(r"(?<=\.) ", previous)[-1]
        assert current.startswith(last_sentence), (previous, current)


def test_no_overlap_when_disabled() -> None:
    chunks = chunk_text(" ".join(SENTENCES), max_chars=200, overlap=0)

    assert "\n".join(chunks).count(SENTENCES[5]) == 1


def test_a_giant_token_is_cut_to_the_limit() -> None:
    chunks = chunk_text("Start. " + "x" * 450 + " end.", max_chars=200, overlap=20)

    assert all(len(c) <= 200 for c in chunks)
    assert sum(c.count("x") for c in chunks) >= 450


@pytest.mark.parametrize(("max_chars", "overlap"), [(0, 0), (100, 100), (100, -1)])
def test_invalid_sizes_are_rejected(max_chars: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        chunk_text("text", max_chars=max_chars, overlap=overlap)


def test_closing_quotes_and_brackets_stay_with_their_sentence() -> None:
    text = 'He said "stop." Then (it ended.) ' * 10

    chunks = chunk_text(text, max_chars=60, overlap=20)

    assert all(c.count('"') % 2 == 0 and c.count("(") == c.count(")") for c in chunks), chunks
    assert all(len(c) <= 60 for c in chunks)
