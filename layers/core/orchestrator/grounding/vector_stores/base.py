"""Where the dense half of the retrieval index lives: the interface the document store uses.

The lexical half (BM25 terms in the documents table's index segments, ranked in the warm
Lambda) is the same for every vector store; only the vectors move. A store takes part at three
moments: ingestion (:meth:`VectorStore.segment_fields`, :meth:`VectorStore.put`), deletion and
replacement (:meth:`VectorStore.remove`), and the question (:meth:`VectorStore.similarities`,
one cosine similarity per chunk of the owners' cached index, blended with BM25 there).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from orchestrator.grounding.index import CachedIndex


class VectorStore(ABC):
    """The dense side of retrieval, scoped by tenant, then owner, like everything in grounding."""

    #: The ``VECTOR_STORE`` setting that selects this store.
    name: str

    @abstractmethod
    def segment_fields(self, vectors: npt.NDArray[np.float32]) -> dict[str, Any]:
        """What an index segment item holds of its chunks' ``vectors`` (nothing, if kept elsewhere)."""

    @abstractmethod
    def segment_vectors(self, item: dict[str, Any], dim: int) -> npt.NDArray[np.float32] | None:
        """The vectors a segment item holds (``count`` rows), or None when it holds none it can use."""

    @abstractmethod
    def put(self, tenant_id: str, owner: str, doc_id: str, vectors: npt.NDArray[np.float32]) -> None:
        """Store the vectors of chunks ``0 .. len(vectors) - 1`` of a document, replacing earlier ones."""

    @abstractmethod
    def remove(self, tenant_id: str, owner: str, doc_id: str, chunks: range) -> None:
        """Forget the vectors of a document's ``chunks`` (a deleted document, or a shorter new version)."""

    @abstractmethod
    def similarities(
        self,
        tenant_id: str,
        owners: list[str],
        query_vector: npt.NDArray[np.float32],
        index: CachedIndex,
    ) -> npt.NDArray[np.float32]:
        """Cosine similarity of ``query_vector`` to each chunk of ``index`` (0 where unknown)."""
