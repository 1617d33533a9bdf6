"""Citations as chat UIs show them: numbered ``[n]`` markers and a "Sources:" footer."""

from __future__ import annotations

from orchestrator.state import Citation


def with_sources(text: str, citations: list[Citation]) -> str:
    """``text`` with each cited ``[doc#chunk]`` marker numbered, and the numbered sources below it."""
    if not citations:
        return text
    lines = []
    for number, citation in enumerate(citations, start=1):
        source = citation.doc_id if citation.chunk_id is None else f"{citation.doc_id}#{citation.chunk_id}"
        text = text.replace(f"[{source}]", f"[{number}]")
        name = f"{citation.title} ({source})" if citation.title else source
        lines.append(f"[{number}] {name}: {citation.snippet}" if citation.snippet else f"[{number}] {name}")
    return f"{text.rstrip()}\n\nSources:\n" + "\n".join(lines)
