"""The retrieval query, hybrid ranking, the versioned index cache, extraction and numbered sources."""

from __future__ import annotations

import numpy as np
import pytest

from orchestrator.api.citations import with_sources
from orchestrator.clients.llm.base import ChatMessage
from orchestrator.clients.llm.offline import OfflineLLMClient
from orchestrator.grounding import chunk_text, strip_framing
from orchestrator.grounding.extract import best_sentences
from orchestrator.grounding.index import ChunkRef, IndexCache, PartitionData, decode_terms, encode_terms
from orchestrator.grounding.query import terms
from orchestrator.grounding.ranking import HybridIndex
from orchestrator.grounding.vector_stores.dynamodb import SegmentVectors
from orchestrator.state import Citation, Passage, Response
from tests.support import zephyr


@pytest.mark.parametrize(
    ("question", "query"),
    [
        (zephyr.QUESTION, "what is the Zephyr-9 launch authorization code?"),
        ("In our files, who owns the VPN?", "who owns the VPN?"),
        ("Based on the docs what is the refund window?", "what is the refund window?"),
        ("What do my documents say about parental leave?", "parental leave?"),
        ("Search my documents for the travel policy", "the travel policy"),
        ("When is the offsite, according to my notes?", "When is the offsite?"),
        # Not framing: a question about files, or data, keeps its words.
        ("What is in the file system?", "What is in the file system?"),
        ("How much data per user from the API?", "How much data per user from the API?"),
        # Nothing but framing: the words are all there is to search for.
        ("Search my documents.", "Search my documents."),
    ],
)
def test_routing_framing_is_stripped_from_the_query(question: str, query: str) -> None:
    assert strip_framing(question) == query


def unit(rows: list[list[float]]) -> np.ndarray:
    matrix = np.asarray(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def test_the_blend_lets_an_exact_rare_term_beat_look_alike_boilerplate() -> None:
    texts = [
        "The manual is confidential; do not copy the manual.",
        "The manual is confidential; the code word is 4471-delta.",
        "Lunch is served at noon in the cafeteria.",
    ]
    # The dense ranker prefers the boilerplate (as static embeddings do); BM25 knows "4471".
    vectors = unit([[1.0, 0.1, 0.0], [0.9, 0.3, 0.0], [0.0, 0.0, 1.0]])
    index = HybridIndex(vectors, terms(texts))
    query = unit([[1.0, 0.0, 0.0]])[0]

    hybrid = index.search(query, terms(["code word 4471"])[0], 3)
    dense = index.search(query, terms(["code word 4471"])[0], 3, dense_weight=1.0)

    assert [h.position for h in hybrid][:1] == [1]
    assert [h.position for h in dense][:1] == [0]
    assert 2 not in [h.position for h in hybrid]  # neither similar nor sharing a term: not eligible
    assert hybrid[0].score == pytest.approx(max(h.score for h in hybrid)) and hybrid[0].score <= 1.0


def test_an_unrelated_question_finds_nothing() -> None:
    index = HybridIndex(unit([[1.0, 0.0], [0.9, 0.1]]), terms(["refund policy", "annual plans"]))

    assert index.search(unit([[0.0, 1.0]])[0], terms(["capital of France"])[0], 3, min_similarity=0.5) == []


def test_segments_round_trip() -> None:
    vectors = unit([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])

    item = {
        "count": 2,
        **encode_terms([["zephyr", "code"], ["lunch"]]),
        **SegmentVectors().segment_fields(vectors),
    }

    decoded = SegmentVectors().segment_vectors(item, 3)

    assert decoded is not None and np.allclose(decoded, vectors, atol=1e-3)
    assert decode_terms(item) == [["zephyr", "code"], ["lunch"]]
    # A segment written while S3 Vectors held the vectors has none for the in-table store.
    assert SegmentVectors().segment_vectors({"count": 2, **encode_terms([["a"], ["b"]])}, 3) is None


def test_rank_blends_similarities_computed_elsewhere_like_search() -> None:
    vectors = unit([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]])
    index = HybridIndex(
        vectors, terms(["refund policy thirty days", "annual plans", "refund of annual plans"])
    )
    query = unit([[1.0, 0.1]])[0]
    query_terms = terms(["refund policy"])[0]

    assert index.rank(vectors @ query, query_terms, 2) == index.search(query, query_terms, 2)
    with pytest.raises(ValueError, match="one similarity per chunk"):
        index.rank(np.zeros(2, np.float32), query_terms, 2)


def test_the_cache_reloads_an_owner_only_when_its_version_changes() -> None:
    loaded: list[tuple[str, str, str]] = []

    def load(tenant: str, owner: str, version: str) -> PartitionData:
        loaded.append((tenant, owner, version))
        return PartitionData(
            version=version,
            refs=[ChunkRef(owner, f"{owner}-doc", 0, "T")],
            vectors=unit([[1.0, 0.0]]),
            terms=[[owner]],
        )

    cache = IndexCache(load, max_entries=4)
    first = cache.get("acme", ["alice", "shared"], {"alice": "v1", "shared": "s1"})
    again = cache.get("acme", ["alice", "shared"], {"alice": "v1", "shared": "s1"})
    assert again is first and len(loaded) == 2

    changed = cache.get("acme", ["alice", "shared"], {"alice": "v2", "shared": "s1"})
    assert loaded[2:] == [("acme", "alice", "v2")]  # the shared index was not read again
    assert [r.doc_id for r in changed.refs] == ["alice-doc", "shared-doc"]

    other_tenant = cache.get("globex", ["alice", "shared"], {"alice": "v2", "shared": ""})
    assert loaded[3:] == [("globex", "alice", "v2")]  # no documents: nothing to read
    assert [r.doc_id for r in other_tenant.refs] == ["alice-doc"]


def test_the_snippet_is_the_sentence_that_answers() -> None:
    text = chunk_text(zephyr.MANUAL, 500, 100)[3]

    assert best_sentences("what is the Zephyr-9 launch authorization code?", text).startswith(
        zephyr.FACT[:40]
    )


def test_the_offline_provider_answers_extractively_and_cites_only_its_source() -> None:
    chunks = chunk_text(zephyr.MANUAL, 500, 100)
    context = "\n".join(f"[zephyr#{i}] {c}" for i, c in enumerate(chunks) if i in (1, 3, 5))
    message = f"{zephyr.QUESTION}\n\nContext passages:\n{context}"

    text = OfflineLLMClient().chat([ChatMessage(role="user", content=message)]).text

    assert "4471-delta, and it must be entered by two officers. [zephyr#3]" in text
    assert "[zephyr#1]" not in text and "[zephyr#5]" not in text
    assert "- zephyr#1:" in text  # shown, not cited


def test_chat_uis_get_numbered_markers_and_a_sources_footer() -> None:
    citations = [
        Passage(
            source_id="zephyr#3", text=zephyr.FACT, doc_id="zephyr", chunk_id=3, title="Manual"
        ).citation(),
        Citation(doc_id="faq", chunk_id=0, snippet="Shipping is free."),
    ]

    text = with_sources("The code is 4471-delta [zephyr#3], see also [faq#0].", citations)

    assert text.startswith("The code is 4471-delta [1], see also [2].")
    assert "Sources:\n[1] Manual (zephyr#3): The Zephyr-9 launch authorization code is 4471-delta" in text
    assert "\n[2] faq#0: Shipping is free." in text
    assert with_sources("No sources.", []) == "No sources."


def test_citations_of_older_states_still_load() -> None:
    response = Response.model_validate({"text": "x", "citations": ["refund-policy#2", "datasource:kb-1"]})

    assert [(c.doc_id, c.chunk_id) for c in response.citations] == [
        ("refund-policy", 2),
        ("datasource:kb-1", None),
    ]
