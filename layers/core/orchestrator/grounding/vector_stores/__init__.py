"""Vector stores for the dense half of retrieval, one file each, chosen by ``VECTOR_STORE``.

``dynamodb`` (default): vectors in the documents table's index segments. ``s3vectors``: Amazon
S3 Vectors (``S3_VECTORS_BUCKET``, ``S3_VECTORS_INDEX``). The BM25 half stays in the table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.grounding.vector_stores.base import VectorStore

if TYPE_CHECKING:
    from orchestrator.config import Settings

__all__ = ["VectorStore", "build_vector_store"]


def build_vector_store(settings: Settings, *, client: Any | None = None) -> VectorStore:
    """The configured vector store (``client``: an injected boto3 ``s3vectors`` client)."""
    if settings.vector_store == "s3vectors":
        from orchestrator.grounding.vector_stores.s3_vectors import S3Vectors

        # Settings refuses s3vectors without both names.
        return S3Vectors(
            str(settings.s3_vectors_bucket),
            str(settings.s3_vectors_index),
            region=settings.aws_region,
            candidates=settings.s3_vectors_candidates,
            client=client,
        )
    from orchestrator.grounding.vector_stores.dynamodb import SegmentVectors

    return SegmentVectors()
