"""Retrieval across the document store and the optional external data source.

The two sources score on different scales (cosine similarity here, whatever the data source
uses there, often BM25), so their lists are merged by reciprocal rank fusion: a passage's
place in the merged list is ``sum(1 / (60 + rank))`` over the lists it appears in. Passages
keep the score their own source gave them. Duplicates (same source id, or the same text from
both sources) are merged into one, which then ranks higher.

A data source that is down (after its retries) does not fail retrieval: the document store's
passages are returned and the failure is logged and reported in :class:`RetrievalResult`. A
data source that rejects the request (bad token, bad URL) does fail it, because retrying or
ignoring will not fix configuration.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from orchestrator.errors import TransientError
from orchestrator.grounding.query import strip_framing
from orchestrator.state import Passage

if TYPE_CHECKING:
    from orchestrator.clients.datasource import DatasourceClient
    from orchestrator.clients.embeddings.base import Embedder
    from orchestrator.config import Settings
    from orchestrator.grounding.store import DocumentStore

logger = logging.getLogger(__name__)

#: The usual reciprocal-rank-fusion constant: damps the gap between the first few ranks.
RRF_K = 60


class RetrievalResult(BaseModel):
    passages: list[Passage]
    #: Sources that failed transiently and were left out (e.g. ``["datasource"]``).
    failed_sources: list[str] = Field(default_factory=list)


def _text_key(text: str) -> str:
    return " ".join(text.lower().split())


def fuse(ranked_lists: list[list[Passage]], top_k: int) -> list[Passage]:
    """Reciprocal rank fusion of best-first lists, de-duplicated, best ``top_k`` first.

    Ties (the same rank in different lists) go to the earlier list, and of duplicates the first
    seen is kept: raw scores from different sources are not comparable, so they never decide.
    """
    fused: dict[str, float] = {}
    chosen: dict[str, Passage] = {}
    key_of_text: dict[str, str] = {}
    for passages in ranked_lists:
        for rank, passage in enumerate(passages, start=1):
            key = key_of_text.setdefault(_text_key(passage.text), passage.source_id)
            fused[key] = fused.get(key, 0.0) + 1.0 / (RRF_K + rank)
            chosen.setdefault(key, passage)
    # sorted() is stable and dicts keep first-seen order, so equal fused scores keep list order.
    order = sorted(fused, key=lambda key: fused[key], reverse=True)
    return [chosen[key] for key in order[:top_k]]


class Retriever:
    """Passages for a query from ``store`` (always) and ``datasource`` (when configured)."""

    def __init__(
        self,
        store: DocumentStore,
        datasource: DatasourceClient | None = None,
        *,
        top_k: int = 4,
    ) -> None:
        self.store = store
        self.datasource = datasource
        self.top_k = top_k
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="datasource")
            return self._pool

    def search(
        self,
        query: str,
        tenant_id: str,
        owner: str,
        top_k: int | None = None,
        *,
        deadline: float | None = None,
    ) -> RetrievalResult:
        """Both sources (the data source in a worker thread, overlapping the store's scan)."""
        k = top_k or self.top_k
        # "According to our documents, …" routed the turn here; it is noise to both sources.
        query = strip_framing(query)
        pending: Future[list[Passage]] | None = None
        if self.datasource is not None:
            pending = self._executor().submit(
                self.datasource.search, query, top_k=k, user_id=owner, tenant_id=tenant_id, deadline=deadline
            )
        ranked = [self.store.retrieve(query, tenant_id, owner, k, deadline=deadline)]
        failed: list[str] = []
        if pending is not None:
            try:
                ranked.append(pending.result())
            except TransientError as error:
                logger.warning(
                    "data source unavailable; answering from stored documents only",
                    extra={"error": error.message},
                )
                failed.append("datasource")
        return RetrievalResult(passages=fuse(ranked, k), failed_sources=failed)

    def retrieve(
        self,
        query: str,
        tenant_id: str,
        owner: str,
        top_k: int | None = None,
        *,
        deadline: float | None = None,
    ) -> list[Passage]:
        """The best passages, with source ids for citations."""
        return self.search(query, tenant_id, owner, top_k, deadline=deadline).passages


def build_retriever(settings: Settings, embedder: Embedder) -> Retriever:
    """The configured retriever over ``embedder``'s vectors (the container keeps one per process)."""
    from orchestrator.grounding.store import DocumentStore

    datasource = None
    if (settings.datasource_base_url or "").strip():
        from orchestrator.clients.datasource import DatasourceClient

        datasource = DatasourceClient.from_settings(settings)
    store = DocumentStore.from_settings(settings, embedder=embedder)
    return Retriever(store, datasource, top_k=settings.grounding_top_k)
