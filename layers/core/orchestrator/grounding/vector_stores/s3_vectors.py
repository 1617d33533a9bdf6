"""Vectors in Amazon S3 Vectors (``VECTOR_STORE=s3vectors``): the dense half scales past the Lambda.

One vector per chunk, keyed ``<tenant>#<owner>#<doc_id>#<nnnnn>`` (none of the parts holds a
'#', so keys never collide across tenants or owners) with filterable metadata ``tenant_id``,
``owner``, ``doc_id`` and ``chunk``. Keys are fixed by position, so a new version of a document
overwrites its vectors and only the chunks past its new end are deleted: nothing is listed.

A question asks for the ``candidates`` nearest chunks with a filter naming the caller's tenant and
owners (the user and ``shared``), then scores those chunks in the owners' cached BM25 index: the
blend with the lexical ranker is the same as with in-table vectors, over fewer dense scores.
Results that name another tenant or owner are dropped and logged, whatever the filter said.
A throttled or unreachable S3 Vectors leaves the question to BM25 alone; any other error raises.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestrator.aws.boto import boto_config, build_boto3_client, transient_failure
from orchestrator.errors import ConfigurationError
from orchestrator.grounding.vector_stores.base import VectorStore

if TYPE_CHECKING:
    import boto3
    import numpy as np
    import numpy.typing as npt

    from orchestrator.grounding.index import CachedIndex

logger = logging.getLogger(__name__)

#: PutVectors and DeleteVectors take at most 500 vectors or keys per call.
BATCH = 500
CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 5.0


def vector_key(tenant_id: str, owner: str, doc_id: str, chunk: int) -> str:
    from orchestrator.grounding.store import chunks_pk

    return f"{chunks_pk(tenant_id, owner, doc_id)}#{chunk:05d}"


def tenant_filter(tenant_id: str, owners: Sequence[str]) -> dict[str, Any]:
    """The metadata filter of every query: this tenant, and only these owners in it."""
    return {"$and": [{"tenant_id": {"$eq": tenant_id}}, {"owner": {"$in": list(owners)}}]}


@dataclass(frozen=True)
class DenseMatch:
    """A chunk S3 Vectors found near the question, and its cosine similarity."""

    owner: str
    doc_id: str
    chunk: int
    similarity: float


class S3Vectors(VectorStore):
    """The vectors of every tenant's chunks in one S3 Vectors index (``float32``, ``cosine``)."""

    name = "s3vectors"

    def __init__(
        self,
        bucket: str,
        index: str,
        *,
        region: str | None = None,
        candidates: int = 30,
        client: Any | None = None,
        session: boto3.Session | None = None,
    ) -> None:
        self.bucket = bucket
        self.index = index
        self.candidates = candidates
        self._client = client
        self._region = region
        self._session = session

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = build_boto3_client(
                "s3vectors",
                region=self._region,
                session=self._session,
                config=boto_config(connect_timeout_s=CONNECT_TIMEOUT_S, read_timeout_s=READ_TIMEOUT_S),
            )
        return self._client

    def _target(self) -> dict[str, str]:
        return {"vectorBucketName": self.bucket, "indexName": self.index}

    # ------------------------------------------------------------------ segments hold no vectors
    def segment_fields(self, vectors: npt.NDArray[np.float32]) -> dict[str, Any]:
        return {}

    def segment_vectors(self, item: dict[str, Any], dim: int) -> npt.NDArray[np.float32]:
        import numpy as np

        return np.zeros((int(item["count"]), 0), dtype=np.float32)

    # ------------------------------------------------------------------ writes
    def put(self, tenant_id: str, owner: str, doc_id: str, vectors: npt.NDArray[np.float32]) -> None:
        records = [
            {
                "key": vector_key(tenant_id, owner, doc_id, chunk),
                "data": {"float32": [float(x) for x in vector]},
                "metadata": {"tenant_id": tenant_id, "owner": owner, "doc_id": doc_id, "chunk": chunk},
            }
            for chunk, vector in enumerate(vectors)
        ]
        for batch in _batches(records):
            self.client.put_vectors(**self._target(), vectors=batch)

    def remove(self, tenant_id: str, owner: str, doc_id: str, chunks: range) -> None:
        keys = [vector_key(tenant_id, owner, doc_id, chunk) for chunk in chunks]
        for batch in _batches(keys):
            self.client.delete_vectors(**self._target(), keys=batch)

    # ------------------------------------------------------------------ reads
    def query(
        self, tenant_id: str, owners: list[str], query_vector: npt.NDArray[np.float32], top_k: int
    ) -> list[DenseMatch]:
        """The ``top_k`` chunks of ``owners`` in ``tenant_id`` nearest ``query_vector``, nearest first."""
        from orchestrator.grounding.store import owner_pk

        for owner in owners:
            owner_pk(tenant_id, owner)  # refuses a '#' that would bend the key scheme
        response = self.client.query_vectors(
            **self._target(),
            topK=top_k,
            queryVector={"float32": [float(x) for x in query_vector]},
            filter=tenant_filter(tenant_id, owners),
            returnMetadata=True,
            returnDistance=True,
        )
        metric = str(response.get("distanceMetric") or "cosine")
        if metric != "cosine":
            raise ConfigurationError(
                f"S3 Vectors index '{self.index}' uses {metric} distance; retrieval needs cosine"
            )
        return list(self._matches(tenant_id, owners, response.get("vectors", [])))

    def _matches(
        self, tenant_id: str, owners: list[str], found: list[dict[str, Any]]
    ) -> Iterator[DenseMatch]:
        allowed = set(owners)
        for vector in found:
            metadata = vector.get("metadata") or {}
            owner, doc_id = str(metadata.get("owner", "")), str(metadata.get("doc_id", ""))
            key = str(vector.get("key", ""))
            if (
                metadata.get("tenant_id") != tenant_id
                or owner not in allowed
                or not key.startswith(f"{tenant_id}#{owner}#{doc_id}#")
            ):
                # The filter names the tenant, so this is a bug or a tampered index: never serve it.
                logger.warning(
                    "dropped a vector outside the caller's tenant or owners",
                    extra={"key": key, "tenant_id": tenant_id},
                )
                continue
            yield DenseMatch(
                owner=owner,
                doc_id=doc_id,
                chunk=int(metadata.get("chunk", key.rsplit("#", 1)[-1])),
                similarity=1.0 - float(vector.get("distance", 1.0)),
            )

    def similarities(
        self,
        tenant_id: str,
        owners: list[str],
        query_vector: npt.NDArray[np.float32],
        index: CachedIndex,
    ) -> npt.NDArray[np.float32]:
        import numpy as np
        from botocore.exceptions import BotoCoreError, ClientError

        similarity = np.zeros(index.index.size, dtype=np.float32)
        try:
            matches = self.query(tenant_id, owners, query_vector, self.candidates)
        except (BotoCoreError, ClientError) as error:
            failure = transient_failure(error, service="s3vectors")
            if failure is None:
                raise
            logger.warning("S3 Vectors unavailable; ranking by BM25 only", extra={"error": str(failure)})
            return similarity
        for match in matches:
            # A chunk indexed after the cached index was loaded has no position yet: skipped.
            position = index.positions.get((match.owner, match.doc_id, match.chunk))
            if position is not None:
                similarity[position] = match.similarity
        return similarity


def _batches(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]
