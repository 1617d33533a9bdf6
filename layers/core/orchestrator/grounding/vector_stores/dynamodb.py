"""Vectors inside the documents table's index segments (the default): ranked in the warm Lambda.

Each segment item carries its chunks' vectors as float16 bytes next to their BM25 terms, so an
owner's whole index loads with one Query and a question is a matrix product in memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.grounding.vector_stores.base import VectorStore

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from orchestrator.grounding.index import CachedIndex


class SegmentVectors(VectorStore):
    """Vectors in the index segments: nothing to write or delete besides the segments themselves."""

    name = "dynamodb"

    def segment_fields(self, vectors: npt.NDArray[np.float32]) -> dict[str, Any]:
        import numpy as np

        return {"vectors": np.asarray(vectors, dtype=np.float16).tobytes()}

    def segment_vectors(self, item: dict[str, Any], dim: int) -> npt.NDArray[np.float32] | None:
        import numpy as np

        if "vectors" not in item:  # written while another vector store held the vectors
            return None
        raw = bytes(getattr(item["vectors"], "value", item["vectors"]))  # boto3's Binary wrapper
        vectors = np.frombuffer(raw, dtype=np.float16).astype(np.float32)
        return vectors.reshape(int(item["count"]), dim)

    def put(self, tenant_id: str, owner: str, doc_id: str, vectors: npt.NDArray[np.float32]) -> None:
        return None

    def remove(self, tenant_id: str, owner: str, doc_id: str, chunks: range) -> None:
        return None

    def similarities(
        self,
        tenant_id: str,
        owners: list[str],
        query_vector: npt.NDArray[np.float32],
        index: CachedIndex,
    ) -> npt.NDArray[np.float32]:
        import numpy as np

        return np.asarray(index.index.vectors @ query_vector, dtype=np.float32)
