"""Grounding: document ingestion (chunk, embed, store in DynamoDB) and retrieval with citations.

Importing this package is cheap: numpy, boto3 and httpx load on first use.
"""

from __future__ import annotations

from orchestrator.grounding.chunking import chunk_text
from orchestrator.grounding.retriever import (
    RetrievalResult,
    Retriever,
    build_retriever,
    fuse,
)
from orchestrator.grounding.store import SHARED_OWNER, DocumentStats, DocumentStore, IngestResult

__all__ = [
    "SHARED_OWNER",
    "DocumentStats",
    "DocumentStore",
    "IngestResult",
    "RetrievalResult",
    "Retriever",
    "build_retriever",
    "chunk_text",
    "fuse",
]
