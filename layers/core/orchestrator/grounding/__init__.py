"""Grounding: document ingestion (chunk, embed, index, store in DynamoDB) and hybrid retrieval.

Importing this package is cheap: numpy, bm25s, boto3 and httpx load on first use.
"""

from __future__ import annotations

from orchestrator.grounding.chunking import chunk_text
from orchestrator.grounding.query import strip_framing
from orchestrator.grounding.retriever import (
    RetrievalResult,
    Retriever,
    build_retriever,
    fuse,
)
from orchestrator.grounding.store import (
    SHARED_OWNER,
    DocumentInfo,
    DocumentPage,
    DocumentStats,
    DocumentStore,
    IngestResult,
)

__all__ = [
    "SHARED_OWNER",
    "DocumentInfo",
    "DocumentPage",
    "DocumentStats",
    "DocumentStore",
    "IngestResult",
    "RetrievalResult",
    "Retriever",
    "build_retriever",
    "chunk_text",
    "fuse",
    "strip_framing",
]
