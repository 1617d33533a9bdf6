"""Documents in DynamoDB: chunks, a per-owner retrieval index, and counters; Queries, never Scans.

Table (``DOCUMENTS_TABLE``): HASH ``pk`` (S), RANGE ``sk`` (S). No tenant, owner or document id
holds a '#', so the three partition shapes never meet:

==============================  ========================  =====================================
``pk``                          ``sk``                    item
==============================  ========================  =====================================
``<tenant>``                    ``owner#<owner>``         an owner's counters: ``version``,
                                                          ``stamp`` (changes on every write),
                                                          ``documents``, ``chunks``
``<tenant>#<owner>``            ``doc#<doc_id>``          a document's metadata (one Query
                                                          lists an owner's documents)
``<tenant>#<owner>``            ``seg#<doc_id>#<nnn>``    index segment: BM25 terms (and,
                                                          with ``VECTOR_STORE=dynamodb``,
                                                          vectors) of up to 128 chunks, no text
``<tenant>#<owner>#<doc_id>``   ``<nnnnn>``               one chunk's text
==============================  ========================  =====================================

``owner`` is a user id, or ``"shared"`` for documents every user of the tenant reads; a user's
retrieval searches their own index and their tenant's shared one, never another tenant's.
Retrieval itself (ranking, the warm cache, the text fetch) is in :mod:`.search`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import uuid
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from orchestrator.aws.dynamodb import all_items
from orchestrator.errors import NotFoundError, ValidationError
from orchestrator.grounding.chunking import chunk_text
from orchestrator.grounding.index import SEGMENT_CHUNKS, encode_terms
from orchestrator.grounding.search import DocumentSearch
from orchestrator.state import Passage, utc_now

if TYPE_CHECKING:
    from orchestrator.clients.embeddings.base import Embedder
    from orchestrator.config import Settings
    from orchestrator.grounding.vector_stores import VectorStore

logger = logging.getLogger(__name__)

#: Owner of documents every user retrieves from.
SHARED_OWNER = "shared"
MAX_TITLE_CHARS = 300
MAX_SOURCE_CHARS = 1_000
MAX_PAGE = 100
_DOC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")


def owner_pk(tenant_id: str, owner: str) -> str:
    # A '#' inside a part would let ("t#a", "b") and ("t", "a#b") name the same partition.
    if "#" in tenant_id or "#" in owner:
        raise ValidationError("tenant and owner may not contain '#'")
    return f"{tenant_id}#{owner}"


def chunks_pk(tenant_id: str, owner: str, doc_id: str) -> str:
    if "#" in doc_id:
        raise ValidationError("doc_id may not contain '#'")
    return f"{owner_pk(tenant_id, owner)}#{doc_id}"


class IngestResult(BaseModel):
    doc_id: str
    chunks: int
    owner: str
    title: str
    #: True when the document replaced an earlier one with the same id.
    replaced: bool = False


class DocumentInfo(BaseModel):
    doc_id: str
    title: str
    owner: str
    chunks: int
    source: str | None = None
    content_type: str = "text/plain"
    created_at: str
    chars: int


class DocumentPage(BaseModel):
    items: list[DocumentInfo]
    next_cursor: str | None = None


class DocumentStats(BaseModel):
    documents: int
    chunks: int
    owners: int


def _info(item: dict[str, Any]) -> DocumentInfo:
    return DocumentInfo(
        doc_id=str(item["doc_id"]),
        title=str(item.get("title") or ""),
        owner=str(item["owner"]),
        chunks=int(item.get("chunks", 0)),
        source=item.get("source"),
        content_type=str(item.get("content_type") or "text/plain"),
        created_at=str(item.get("created_at") or ""),
        chars=int(item.get("chars", 0)),
    )


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
        max_chunks: int = 600,
        min_score: float = 0.15,
        min_lexical_score: float = 2.0,
        passage_max_chars: int = 2_000,
        index_cache_entries: int = 32,
        vectors: VectorStore | None = None,
    ) -> None:
        if vectors is None:
            from orchestrator.grounding.vector_stores.dynamodb import SegmentVectors

            vectors = SegmentVectors()
        if embedder is None:
            from orchestrator.clients.embeddings.embedded import EmbeddedEmbedder

            embedder = EmbeddedEmbedder()
        self.table_name = table_name
        self.region = region
        self.embedder = embedder
        #: Where the chunks' vectors live (``VECTOR_STORE``); the BM25 terms are always in the table.
        self.vectors = vectors
        self._resource = resource
        self.chunk_chars = chunk_chars
        self.chunk_overlap = chunk_overlap
        self.max_chars = max_chars
        self.max_chunks = max_chunks
        self.search = DocumentSearch(
            self._table,
            embedder,
            vectors=vectors,
            min_score=min_score,
            min_lexical_score=min_lexical_score,
            passage_max_chars=passage_max_chars,
            cache_entries=index_cache_entries,
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        resource: Any | None = None,
        vector_client: Any | None = None,
    ) -> DocumentStore:
        from orchestrator.grounding.vector_stores import build_vector_store

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
            min_lexical_score=settings.grounding_min_lexical_score,
            passage_max_chars=settings.grounding_passage_max_chars,
            index_cache_entries=settings.grounding_index_cache_entries,
            vectors=build_vector_store(settings, client=vector_client),
        )

    def _table(self) -> Any:
        # Resolved per call: the shared resource is rebuilt when tests or the local runtime reset it.
        from orchestrator.aws.dynamodb import table

        return table(self.table_name, self.region, self._resource)

    # ------------------------------------------------------------------ writes
    def ingest(
        self,
        tenant_id: str,
        owner: str,
        title: str,
        text: str,
        *,
        doc_id: str | None = None,
        source: str | None = None,
        content_type: str = "text/plain",
    ) -> IngestResult:
        """Chunk, embed, index and store a document; the same ``doc_id`` from the same owner replaces it."""
        from orchestrator.grounding.query import terms

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
        pk, chunk_pk = owner_pk(tenant_id, owner), chunks_pk(tenant_id, owner, doc_id)
        table = self._table()
        previous = table.get_item(Key={"pk": pk, "sk": f"doc#{doc_id}"}).get("Item")

        import numpy as np

        # The title goes with every chunk: "the VPN guide says…" finds the guide's chunks.
        titled = [f"{title}\n{chunk}" for chunk in chunks]
        vectors = np.asarray(self.embedder.embed(titled), dtype=np.float32)
        chunk_terms = terms(titled)
        segments = range(0, len(chunks), SEGMENT_CHUNKS)
        # Vectors before the segments that make them findable (a remote store's are idempotent puts).
        self.vectors.put(tenant_id, owner, doc_id, vectors)
        with table.batch_writer() as batch:
            # Text first, then the index that points at it, then the metadata that lists it.
            for index, chunk in enumerate(chunks):
                batch.put_item(Item={"pk": chunk_pk, "sk": f"{index:05d}", "text": chunk, "title": title})
            for number, start in enumerate(segments):
                end = start + SEGMENT_CHUNKS
                item = {
                    "pk": pk,
                    "sk": f"seg#{doc_id}#{number:03d}",
                    "doc_id": doc_id,
                    "title": title,
                    "first_chunk": start,
                    "count": len(chunks[start:end]),
                    "embedder": self.embedder.name,
                    "dim": int(vectors.shape[1]),
                    **encode_terms(chunk_terms[start:end]),
                    **self.vectors.segment_fields(vectors[start:end]),
                }
                batch.put_item(Item=item)
            info: dict[str, Any] = {
                "pk": pk,
                "sk": f"doc#{doc_id}",
                "doc_id": doc_id,
                "tenant_id": tenant_id,
                "owner": owner,
                "title": title,
                "chunks": len(chunks),
                "segments": len(segments),
                "content_type": content_type[:200],
                "created_at": utc_now(),
                "chars": len(text),
            }
            if source:
                info["source"] = source[:MAX_SOURCE_CHARS]
            batch.put_item(Item=info)
        old_chunks = int(previous["chunks"]) if previous else 0
        self._bump(tenant_id, owner, documents=0 if previous else 1, chunks=len(chunks) - old_chunks)
        # Stale pieces of the replaced version go last, so a reader never finds the document gone.
        if previous:
            self._delete_keys(
                [{"pk": chunk_pk, "sk": f"{i:05d}"} for i in range(len(chunks), old_chunks)]
                + [
                    {"pk": pk, "sk": f"seg#{doc_id}#{n:03d}"}
                    for n in range(len(segments), int(previous.get("segments", 0)))
                ]
            )
            self.vectors.remove(tenant_id, owner, doc_id, range(len(chunks), old_chunks))
        return IngestResult(
            doc_id=doc_id, chunks=len(chunks), owner=owner, title=title, replaced=previous is not None
        )

    def delete(self, tenant_id: str, owner: str, doc_id: str) -> int:
        """Remove ``owner``'s document ``doc_id``: chunks, index segments, metadata; the chunk count."""
        pk, chunk_pk = owner_pk(tenant_id, owner), chunks_pk(tenant_id, owner, doc_id)
        table = self._table()
        info = table.get_item(Key={"pk": pk, "sk": f"doc#{doc_id}"}).get("Item")
        if info is None:
            raise NotFoundError(f"No document '{doc_id}'")
        keys = [{"pk": pk, "sk": f"doc#{doc_id}"}]
        keys += self._keys(pk, begins_with=f"seg#{doc_id}#")
        keys += self._keys(chunk_pk)
        chunks = int(info.get("chunks", 0))
        # Vectors first: a failure leaves the document listed, so deleting it again finishes the job.
        self.vectors.remove(tenant_id, owner, doc_id, range(chunks))
        self._delete_keys(keys)
        self._bump(tenant_id, owner, documents=-1, chunks=-chunks)
        return chunks

    def _bump(self, tenant_id: str, owner: str, *, documents: int, chunks: int) -> None:
        """A new index version: readers holding another ``stamp`` reload this owner's segments."""
        self._table().update_item(
            Key={"pk": tenant_id, "sk": f"owner#{owner}"},
            UpdateExpression="ADD version :one, documents :d, chunks :c SET stamp = :s, #o = :o",
            ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues={
                ":one": 1,
                ":d": documents,
                ":c": chunks,
                ":s": uuid.uuid4().hex,
                ":o": owner,
            },
        )

    def _keys(self, pk: str, *, begins_with: str | None = None) -> list[dict[str, Any]]:
        condition = "pk = :pk" + (" AND begins_with(sk, :prefix)" if begins_with else "")
        values: dict[str, Any] = {":pk": pk}
        if begins_with:
            values[":prefix"] = begins_with
        return [
            {"pk": item["pk"], "sk": item["sk"]}
            for item in all_items(
                self._table().query,
                KeyConditionExpression=condition,
                ExpressionAttributeValues=values,
                ProjectionExpression="pk, sk",
            )
        ]

    def _delete_keys(self, keys: list[dict[str, Any]]) -> None:
        if not keys:
            return
        with self._table().batch_writer() as batch:
            for key in keys:
                batch.delete_item(Key=key)

    # ------------------------------------------------------------------ reads
    def list_documents(
        self, tenant_id: str, owner: str, *, limit: int = 50, cursor: str | None = None
    ) -> DocumentPage:
        """One page of ``owner``'s documents (id order); ``next_cursor`` fetches the next."""
        pk = owner_pk(tenant_id, owner)
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :doc)",
            "ExpressionAttributeValues": {":pk": pk, ":doc": "doc#"},
            "Limit": max(1, min(limit, MAX_PAGE)),
        }
        if cursor:
            # The cursor names only a position (a sort key); the partition always comes from the
            # caller, so a cursor can never reach another owner's documents.
            kwargs["ExclusiveStartKey"] = {"pk": pk, "sk": _decode_cursor(cursor)}
        page = self._table().query(**kwargs)
        last = page.get("LastEvaluatedKey")
        return DocumentPage(
            items=[_info(item) for item in page.get("Items", [])],
            next_cursor=_encode_cursor(str(last["sk"])) if last else None,
        )

    def get_document(self, tenant_id: str, owner: str, doc_id: str) -> DocumentInfo:
        """``owner``'s document ``doc_id`` (NotFoundError for an unknown or another owner's id)."""
        pk = owner_pk(tenant_id, owner)
        if "#" in doc_id:
            raise NotFoundError(f"No document '{doc_id}'")
        item = self._table().get_item(Key={"pk": pk, "sk": f"doc#{doc_id}"}).get("Item")
        if item is None:
            raise NotFoundError(f"No document '{doc_id}'")
        return _info(item)

    def chunks(self, tenant_id: str, owner: str, doc_id: str) -> list[str]:
        """The text of ``owner``'s document ``doc_id``, chunk by chunk (one Query)."""
        items = all_items(
            self._table().query,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": chunks_pk(tenant_id, owner, doc_id)},
        )
        return [str(item["text"]) for item in items]

    def retrieve(
        self,
        query: str,
        tenant_id: str,
        owner: str,
        top_k: int = 4,
        *,
        deadline: float | None = None,
        min_score: float | None = None,
    ) -> list[Passage]:
        """The ``top_k`` chunks of ``owner``'s and the tenant's shared documents best answering ``query``."""
        owners = [owner] if owner == SHARED_OWNER else [owner, SHARED_OWNER]
        for name in owners:
            owner_pk(tenant_id, name)
        return self.search.retrieve(query, tenant_id, owners, top_k, deadline=deadline, min_score=min_score)

    def stats(self, tenant_id: str, owner: str | None = None) -> DocumentStats:
        """Counts of a tenant's documents, chunks and owners (one owner's when ``owner`` is given)."""
        if owner is not None:
            key = {"pk": tenant_id, "sk": f"owner#{owner}"}
            item = self._table().get_item(Key=key).get("Item") or {}
            documents = int(item.get("documents", 0))
            return DocumentStats(
                documents=documents, chunks=int(item.get("chunks", 0)), owners=int(documents > 0)
            )
        counters = [
            item
            for item in all_items(
                self._table().query,
                KeyConditionExpression="pk = :t AND begins_with(sk, :o)",
                ExpressionAttributeValues={":t": tenant_id, ":o": "owner#"},
            )
            if int(item.get("documents", 0)) > 0
        ]
        return DocumentStats(
            documents=sum(int(item["documents"]) for item in counters),
            chunks=sum(int(item.get("chunks", 0)) for item in counters),
            owners=len(counters),
        )


def _encode_cursor(sort_key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"sk": sort_key}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        sort_key = json.loads(base64.urlsafe_b64decode(padded.encode()))["sk"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValidationError("cursor: not a cursor this API returned") from error
    if not isinstance(sort_key, str) or not sort_key.startswith("doc#"):
        raise ValidationError("cursor: not a cursor this API returned")
    return sort_key
