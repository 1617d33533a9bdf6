"""The retrieval index of one (tenant, owner): compact segments in DynamoDB, cached per warm Lambda.

Ingestion writes, next to a document's chunks, its *segments*: up to :data:`SEGMENT_CHUNKS`
chunks each, holding the chunks' BM25 terms (zlib) and, with the default vector store, their
vectors (float16; :mod:`.vector_stores`), never their text. A
reader loads an owner's segments once into a :class:`~orchestrator.grounding.ranking.HybridIndex`
and keeps it while the owner's version counter (bumped by every ingestion and deletion) is
unchanged: a question costs one small BatchGetItem for the counters, the ranking in memory, and
one BatchGetItem for the text of the ``top_k`` chunks it returns.
"""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from orchestrator.grounding.ranking import HybridIndex

#: Chunks per segment item: 128 x 256-d float16 vectors (64 KiB) plus their terms stay far below
#: DynamoDB's 400 KB item limit.
SEGMENT_CHUNKS = 128


@dataclass(frozen=True)
class ChunkRef:
    """Where a chunk's text lives: its owner's document and its index there."""

    owner: str
    doc_id: str
    chunk: int
    title: str


def encode_terms(chunk_terms: list[list[str]]) -> dict[str, bytes]:
    """A segment's BM25 terms; its vectors are the configured vector store's (``vector_stores``)."""
    return {"terms": zlib.compress("\n".join(" ".join(t) for t in chunk_terms).encode(), 6)}


def decode_terms(item: dict[str, Any]) -> list[list[str]]:
    if not int(item["count"]):
        return []
    # The resource API hands binary attributes back as boto3's Binary wrapper.
    raw = bytes(getattr(item["terms"], "value", item["terms"]))
    return [line.split() for line in zlib.decompress(raw).decode().split("\n")]


@dataclass
class PartitionData:
    """One owner's segments, decoded."""

    #: The owner's stamp when loaded ('' for an owner without documents).
    version: str
    refs: list[ChunkRef]
    vectors: npt.NDArray[np.float32]
    terms: list[list[str]]


@dataclass
class CachedIndex:
    key: tuple[tuple[str, str], ...]
    refs: list[ChunkRef]
    index: HybridIndex

    @cached_property
    def positions(self) -> dict[tuple[str, str, int], int]:
        """Position in the index of each (owner, doc_id, chunk): where a remote vector store's hits go."""
        return {(ref.owner, ref.doc_id, ref.chunk): i for i, ref in enumerate(self.refs)}


class IndexCache:
    """Hybrid indexes of the owners searched together (a user and the tenant's shared documents).

    ``load`` reads one owner's segments; partitions and the combined index are rebuilt only when
    a version they were built from changed. Least recently used entries go past ``max_entries``.
    """

    def __init__(self, load: Callable[[str, str, str], PartitionData], *, max_entries: int = 32) -> None:
        self._load = load
        self._max = max_entries
        self._partitions: OrderedDict[tuple[str, str], PartitionData] = OrderedDict()
        self._indexes: OrderedDict[tuple[str, str], CachedIndex] = OrderedDict()
        self._lock = threading.Lock()
        #: Partition loads since start (tests and the benchmark read it).
        self.loads = 0

    def get(self, tenant_id: str, owners: list[str], versions: dict[str, str]) -> CachedIndex:
        key = tuple((owner, versions.get(owner, "")) for owner in owners)
        with self._lock:
            cached = self._indexes.get((tenant_id, owners[0]))
            if cached is not None and cached.key == key:
                self._indexes.move_to_end((tenant_id, owners[0]))
                return cached
            parts = [self._partition(tenant_id, owner, version) for owner, version in key]
            built = _combine(key, parts)
            self._remember(self._indexes, (tenant_id, owners[0]), built)
            return built

    def _partition(self, tenant_id: str, owner: str, version: str) -> PartitionData:
        part = self._partitions.get((tenant_id, owner))
        if part is None or part.version != version:
            part = self._load(tenant_id, owner, version) if version else _empty(version)
            self.loads += 1 if version else 0
        self._remember(self._partitions, (tenant_id, owner), part)
        return part

    def _remember(self, entries: OrderedDict[tuple[str, str], Any], key: tuple[str, str], value: Any) -> None:
        entries[key] = value
        entries.move_to_end(key)
        while len(entries) > self._max:
            entries.popitem(last=False)


def _empty(version: str) -> PartitionData:
    import numpy as np

    return PartitionData(version=version, refs=[], vectors=np.zeros((0, 0), dtype=np.float32), terms=[])


def _combine(key: tuple[tuple[str, str], ...], parts: list[PartitionData]) -> CachedIndex:
    import numpy as np

    from orchestrator.grounding.ranking import HybridIndex

    refs = [ref for part in parts for ref in part.refs]
    matrices = [part.vectors for part in parts if len(part.refs)]
    vectors = np.concatenate(matrices) if matrices else np.zeros((0, 0), dtype=np.float32)
    terms = [t for part in parts for t in part.terms]
    return CachedIndex(key=key, refs=refs, index=HybridIndex(vectors, terms))
