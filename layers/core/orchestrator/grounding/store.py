"""Documents in DynamoDB: chunks with their embeddings, retrieved by cosine similarity.

Table (``DOCUMENTS_TABLE``): HASH ``doc_id`` (S), RANGE ``chunk_id`` (S, zero-padded index).
The stored ``doc_id`` is ``<tenant>#<owner>#<public id>`` (none of the three holds a '#'), so two
tenants, or two users, may use the same document id without ever touching each other's chunks;
``public_id`` holds the id the user chose. Each item holds ``tenant_id``, ``owner`` (a user id,
or ``"shared"`` for documents every user of the tenant may read),
``title``, ``text``, ``embedding`` (float32 bytes, unit length), ``embedder`` (the model that
made it), ``source``, ``chunk_count`` and ``created_at``.

Retrieval scans the table with a filter on the owner and ranks in memory. That is deliberate
at this scale: a scan reads about 1 MB (roughly 800 chunks of 800 characters) per page, so up
to a few thousand chunks it costs tens of milliseconds and no extra index. Past that, every
query pays for the whole table: move to a vector database (``VECTOR_DB_URL``) or an owner index.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from orchestrator.aws.dynamodb import all_items
from orchestrator.errors import NotFoundError, ValidationError
from orchestrator.grounding.chunking import chunk_text
from orchestrator.state import Passage, truncate, utc_now

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from orchestrator.clients.embeddings.base import Embedder
    from orchestrator.config import Settings

logger = logging.getLogger(__name__)

#: Owner of documents every user retrieves from.
SHARED_OWNER = "shared"
_DOC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")
MAX_TITLE_CHARS = 300
# "owner" and "text" are DynamoDB reserved words; every expression goes through placeholders.
_NAMES = {"#o": "owner", "#t": "text", "#e": "embedding", "#m": "embedder", "#ti": "title"}


def _stored_id(tenant_id: str, owner: str, doc_id: str) -> str:
    # A '#' inside a part would let ("t#a", "b") and ("t", "a#b") name the same document.
    if "#" in tenant_id or "#" in owner or "#" in doc_id:
        raise ValidationError("tenant, owner and doc_id may not contain '#'")
    return f"{tenant_id}#{owner}#{doc_id}"


def _public_id(item: dict[str, Any]) -> str:
    return str(item.get("public_id") or str(item["doc_id"]).rsplit("#", 1)[-1])


class IngestResult(BaseModel):
    doc_id: str
    chunks: int
    owner: str
    title: str


class DocumentStats(BaseModel):
    documents: int
    chunks: int
    owners: int


def _vector(value: Any) -> bytes:
    # The resource API hands binary attributes back as boto3's Binary wrapper.
    return bytes(getattr(value, "value", value))


class DocumentStore:
    def __init__(
        self,
        table_name: str,
        *,
        region: str = "us-east-1",
        embedder: Embedder | None = None,
        resource: Any | None = None,
        chunk_chars: int = 500,
        chunk_overlap: int = 100,
        max_chars: int = 200_000,
        max_chunks: int = 400,
        min_score: float = 0.15,
        passage_max_chars: int = 2_000,
    ) -> None:
        if embedder is None:
            from orchestrator.clients.embeddings.embedded import EmbeddedEmbedder

            embedder = EmbeddedEmbedder()
        self.table_name = table_name
        self.region = region
        self.embedder = embedder
        self._resource = resource
        self.chunk_chars = chunk_chars
        self.chunk_overlap = chunk_overlap
        self.max_chars = max_chars
        self.max_chunks = max_chunks
        self.min_score = min_score
        self.passage_max_chars = passage_max_chars

    @classmethod
    def from_settings(
        cls, settings: Settings, *, embedder: Embedder | None = None, resource: Any | None = None
    ) -> DocumentStore:
        return cls(
            settings.documents_table,
            region=settings.aws_region,
            embedder=embedder,
            resource=resource,
            chunk_chars=settings.documents_chunk_chars,
            chunk_overlap=min(settings.documents_chunk_overlap, settings.documents_chunk_chars - 1),
            max_chars=settings.documents_max_chars,
            max_chunks=settings.documents_max_chunks,
            min_score=settings.grounding_min_score,
            passage_max_chars=settings.grounding_passage_max_chars,
        )

    def _table(self) -> Any:
        # Resolved per call: the shared resource is rebuilt when tests or the local runtime reset it.
        from orchestrator.aws.dynamodb import table

        return table(self.table_name, self.region, self._resource)

    def _chunk_keys(self, doc_id: str) -> list[dict[str, Any]]:
        return list(
            all_items(
                self._table().query,
                KeyConditionExpression="doc_id = :d",
                ExpressionAttributeValues={":d": doc_id},
                ProjectionExpression="doc_id, chunk_id, #o",
                ExpressionAttributeNames={"#o": "owner"},
            )
        )

    def ingest(
        self,
        tenant_id: str,
        owner: str,
        title: str,
        text: str,
        *,
        doc_id: str | None = None,
        source: str | None = None,
    ) -> IngestResult:
        """Chunk, embed and store a document; the same ``doc_id`` from the same owner replaces it."""
        owner, title = owner.strip(), " ".join(title.split())[:MAX_TITLE_CHARS]
        if not owner:
            raise ValidationError("A document needs an owner (a user id, or 'shared')")
        if len(text) > self.max_chars:
            raise ValidationError(
                f"The document has {len(text)} characters; the limit is {self.max_chars}",
                details={"limit": self.max_chars},
            )
        chunks = chunk_text(text, self.chunk_chars, self.chunk_overlap)
        if not chunks:
            raise ValidationError("The document has no text")
        if len(chunks) > self.max_chunks:
            raise ValidationError(
                f"The document makes {len(chunks)} chunks; the limit is {self.max_chunks}",
                details={"limit": self.max_chunks},
            )
        if doc_id is None:
            # A content hash makes re-ingesting the same document idempotent.
            digest = hashlib.sha256(f"{owner}\0{title}\0{text}".encode()).hexdigest()
            doc_id = f"doc-{digest[:16]}"
        elif not _DOC_ID.match(doc_id):
            raise ValidationError(
                "doc_id must be 1-128 characters: letters, digits and . _ : / - (not first)"
            )
        public_id = doc_id
        doc_id = _stored_id(tenant_id, owner, public_id)
        existing = self._chunk_keys(doc_id)

        import numpy as np

        vectors = np.asarray(self.embedder.embed([f"{title}\n{c}" for c in chunks]), dtype=np.float32)
        created_at = utc_now()
        new_ids = {f"{index:05d}" for index in range(len(chunks))}
        with self._table().batch_writer() as batch:
            for index, (chunk, vector) in enumerate(zip(chunks, vectors, strict=True)):
                item: dict[str, Any] = {
                    "doc_id": doc_id,
                    "chunk_id": f"{index:05d}",
                    "public_id": public_id,
                    "tenant_id": tenant_id,
                    "owner": owner,
                    "title": title,
                    "text": chunk,
                    "embedding": vector.tobytes(),
                    "embedder": self.embedder.name,
                    "chunk_count": len(chunks),
                    "created_at": created_at,
                }
                if source:
                    item["source"] = source[:1000]
                batch.put_item(Item=item)
            # New chunks are written before stale ones go, so a reader never sees the doc vanish.
            for old in existing:
                if old["chunk_id"] not in new_ids:
                    batch.delete_item(Key={"doc_id": doc_id, "chunk_id": old["chunk_id"]})
        return IngestResult(doc_id=public_id, chunks=len(chunks), owner=owner, title=title)

    def _scan(self, tenant_id: str, owner: str) -> list[dict[str, Any]]:
        return list(
            all_items(
                self._table().scan,
                FilterExpression="tenant_id = :tenant AND #o IN (:owner, :shared)",
                ProjectionExpression="doc_id, public_id, chunk_id, #o, #ti, #t, #e, #m",
                ExpressionAttributeNames=_NAMES,
                ExpressionAttributeValues={":tenant": tenant_id, ":owner": owner, ":shared": SHARED_OWNER},
            )
        )

    def retrieve(
        self, query: str, tenant_id: str, owner: str, top_k: int = 4, *, min_score: float | None = None
    ) -> list[Passage]:
        """The ``top_k`` chunks of ``owner``'s and the tenant's shared documents most like ``query``."""
        import numpy as np

        threshold = self.min_score if min_score is None else min_score
        items = self._scan(tenant_id, owner)
        usable = [
            item
            for item in items
            if item.get("embedder") == self.embedder.name
            and len(_vector(item["embedding"])) == 4 * self.embedder.dim
        ]
        if len(usable) < len(items):
            # Chunks embedded by another model live in another vector space: re-ingest them.
            logger.warning(
                "skipped chunks embedded by a different model",
                extra={"skipped": len(items) - len(usable), "embedder": self.embedder.name},
            )
        if not usable or not query.strip():
            return []
        matrix: npt.NDArray[np.float32] = np.stack(
            [np.frombuffer(_vector(item["embedding"]), dtype=np.float32) for item in usable]
        )
        query_vector = np.asarray(self.embedder.embed([query]), dtype=np.float32)[0]
        scores = matrix @ query_vector
        order = np.argsort(-scores, kind="stable")
        passages: list[Passage] = []
        for index in order[:top_k]:
            score = float(scores[index])
            if score < threshold:
                break
            item = usable[int(index)]
            passages.append(
                Passage(
                    source_id=f"{_public_id(item)}#{int(item['chunk_id'])}",
                    text=truncate(str(item["text"]), self.passage_max_chars),
                    score=round(score, 4),
                    title=str(item.get("title") or "") or None,
                )
            )
        return passages

    def stats(self, tenant_id: str, owner: str | None = None) -> DocumentStats:
        """Counts of a tenant's documents, chunks and owners (one owner's when ``owner`` is given)."""
        kwargs: dict[str, Any] = {
            "ProjectionExpression": "doc_id, #o",
            "ExpressionAttributeNames": {"#o": "owner"},
            "FilterExpression": "tenant_id = :tenant",
            "ExpressionAttributeValues": {":tenant": tenant_id},
        }
        if owner is not None:
            kwargs["FilterExpression"] = "tenant_id = :tenant AND #o = :owner"
            kwargs["ExpressionAttributeValues"] = {":tenant": tenant_id, ":owner": owner}
        docs: set[str] = set()
        owners: set[str] = set()
        chunks = 0
        for item in all_items(self._table().scan, **kwargs):
            chunks += 1
            docs.add(str(item["doc_id"]))
            owners.add(str(item.get("owner")))
        return DocumentStats(documents=len(docs), chunks=chunks, owners=len(owners))

    def delete(self, tenant_id: str, owner: str, doc_id: str) -> int:
        """Remove every chunk of ``owner``'s document ``doc_id``; the count (404 when none)."""
        public_id = doc_id
        doc_id = _stored_id(tenant_id, owner, public_id)
        existing = self._chunk_keys(doc_id)
        if not existing:
            raise NotFoundError(f"No document '{public_id}'")
        with self._table().batch_writer() as batch:
            for item in existing:
                batch.delete_item(Key={"doc_id": doc_id, "chunk_id": item["chunk_id"]})
        return len(existing)
