"""Retrieval over the stored index: versions, the warm cache, hybrid ranking, then the top texts.

A question costs: one BatchGetItem for the owners' version stamps; the ranking in memory (an
owner's segments are read again only when their stamp changed); one BatchGetItem for the text
of the chunks returned. Nothing reads every chunk.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orchestrator.errors import TransientError
from orchestrator.grounding.extract import best_sentences
from orchestrator.grounding.index import ChunkRef, IndexCache, PartitionData, decode_terms
from orchestrator.state import Passage, truncate

if TYPE_CHECKING:
    from orchestrator.clients.embeddings.base import Embedder
    from orchestrator.grounding.vector_stores import VectorStore

logger = logging.getLogger(__name__)

#: BatchGetItem takes at most 100 keys; unprocessed keys are asked for again this many times.
_BATCH_ATTEMPTS = 3


class DocumentSearch:
    """Hybrid retrieval for :class:`~orchestrator.grounding.store.DocumentStore` (its ``search``)."""

    def __init__(
        self,
        table: Callable[[], Any],
        embedder: Embedder,
        *,
        vectors: VectorStore | None = None,
        min_score: float = 0.15,
        min_lexical_score: float = 2.0,
        passage_max_chars: int = 2_000,
        cache_entries: int = 32,
    ) -> None:
        if vectors is None:
            from orchestrator.grounding.vector_stores.dynamodb import SegmentVectors

            vectors = SegmentVectors()
        self._table = table
        self.embedder = embedder
        self.vectors = vectors
        self.min_score = min_score
        self.min_lexical_score = min_lexical_score
        self.passage_max_chars = passage_max_chars
        self.cache = IndexCache(self._load, max_entries=cache_entries)

    def retrieve(
        self,
        query: str,
        tenant_id: str,
        owners: list[str],
        top_k: int,
        *,
        deadline: float | None = None,
        min_score: float | None = None,
    ) -> list[Passage]:
        import numpy as np

        from orchestrator.grounding.query import strip_framing, terms

        question = strip_framing(query)
        if not question.strip():
            return []
        _check(deadline)
        versions = self.versions(tenant_id, owners)
        if not any(versions.values()):
            return []
        cached = self.cache.get(tenant_id, owners, versions)
        if cached.index.size == 0:
            return []
        vector = np.asarray(self.embedder.embed([question]), dtype=np.float32)[0]
        hits = cached.index.rank(
            self.vectors.similarities(tenant_id, owners, vector, cached),
            terms([question])[0],
            top_k,
            min_similarity=self.min_score if min_score is None else min_score,
            min_lexical=self.min_lexical_score,
        )
        _check(deadline)
        refs = [cached.refs[hit.position] for hit in hits]
        texts = self._texts(tenant_id, refs)
        passages = []
        for hit, ref in zip(hits, refs, strict=True):
            text = texts.get((ref.owner, ref.doc_id, ref.chunk))
            if text is None:  # deleted since the index was loaded
                continue
            passages.append(
                Passage(
                    source_id=f"{ref.doc_id}#{ref.chunk}",
                    text=truncate(text, self.passage_max_chars),
                    score=round(hit.score, 4),
                    title=ref.title or None,
                    doc_id=ref.doc_id,
                    chunk_id=ref.chunk,
                    snippet=best_sentences(question, text),
                )
            )
        return passages

    def versions(self, tenant_id: str, owners: list[str]) -> dict[str, str]:
        """Each owner's index stamp ('' when the owner has no documents): one BatchGetItem."""
        keys = [{"pk": tenant_id, "sk": f"owner#{owner}"} for owner in owners]
        items = self._batch_get(keys, "sk, stamp, documents")
        found = {
            str(item["sk"]).removeprefix("owner#"): str(item["stamp"])
            for item in items
            if int(item.get("documents", 0)) > 0
        }
        return {owner: found.get(owner, "") for owner in owners}

    def _texts(self, tenant_id: str, refs: list[ChunkRef]) -> dict[tuple[str, str, int], str]:
        from orchestrator.grounding.store import chunks_pk

        keys = {
            (ref.owner, ref.doc_id, ref.chunk): {
                "pk": chunks_pk(tenant_id, ref.owner, ref.doc_id),
                "sk": f"{ref.chunk:05d}",
            }
            for ref in refs
        }
        by_key = {(k["pk"], k["sk"]): ref for ref, k in keys.items()}
        texts: dict[tuple[str, str, int], str] = {}
        for item in self._batch_get(list(keys.values()), "pk, sk, #t", names={"#t": "text"}):
            texts[by_key[(str(item["pk"]), str(item["sk"]))]] = str(item["text"])
        return texts

    def _batch_get(
        self, keys: list[dict[str, Any]], projection: str, names: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        # The resource's client (un)marshals plain Python values, as the Table methods do.
        table = self._table()
        items: list[dict[str, Any]] = []
        for start in range(0, len(keys), 100):
            request: dict[str, Any] = {"Keys": keys[start : start + 100], "ProjectionExpression": projection}
            if names:
                request["ExpressionAttributeNames"] = names
            pending = {table.name: request}
            for _ in range(_BATCH_ATTEMPTS):
                page = table.meta.client.batch_get_item(RequestItems=pending)
                items += page.get("Responses", {}).get(table.name, [])
                pending = page.get("UnprocessedKeys") or {}
                if not pending:
                    break
            else:
                raise TransientError("The documents table is throttling reads; try again shortly")
        return items

    def _load(self, tenant_id: str, owner: str, version: str) -> PartitionData:
        """One owner's segments (a Query over index items only: no chunk text)."""
        import numpy as np

        from orchestrator.aws.dynamodb import all_items
        from orchestrator.grounding.store import owner_pk

        refs: list[ChunkRef] = []
        matrices: list[Any] = []
        chunk_terms: list[list[str]] = []
        skipped = 0
        for item in all_items(
            self._table().query,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :seg)",
            ExpressionAttributeValues={":pk": owner_pk(tenant_id, owner), ":seg": "seg#"},
        ):
            dim = int(item.get("dim", 0))
            same_model = item.get("embedder") == self.embedder.name and dim == self.embedder.dim
            vectors = self.vectors.segment_vectors(item, self.embedder.dim) if same_model else None
            if vectors is None:
                skipped += int(item.get("count", 0))
                continue
            seg_terms = decode_terms(item)
            first, title = int(item["first_chunk"]), str(item.get("title") or "")
            refs += [ChunkRef(owner, str(item["doc_id"]), first + i, title) for i in range(len(seg_terms))]
            matrices.append(vectors)
            chunk_terms += seg_terms
        if skipped:
            # Chunks embedded by another model live in another vector space, and chunks indexed for
            # another vector store have no vectors here: re-ingest them.
            logger.warning(
                "skipped chunks embedded by a different model or for another vector store",
                extra={"skipped": skipped, "embedder": self.embedder.name, "vector_store": self.vectors.name},
            )
        matrix = np.concatenate(matrices) if matrices else np.zeros((0, self.embedder.dim), np.float32)
        return PartitionData(version=version, refs=refs, vectors=matrix, terms=chunk_terms)


def _check(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() >= deadline:
        raise TransientError("Retrieval ran out of time")
