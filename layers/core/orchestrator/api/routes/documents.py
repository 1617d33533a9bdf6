"""Documents for retrieval: ingest (JSON, file upload, presigned S3 upload), list, read, delete.

Every route acts for one owner inside the caller's tenant: the end user the principal allows
(``principal.end_user``), or ``shared`` for admins. A document id is looked up only under that
owner, so another user's (or tenant's) id answers 404 exactly like one that never existed.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field

from orchestrator.api.auth import PrincipalDep
from orchestrator.api.deps import ContainerDep, SettingsDep
from orchestrator.api.schemas import ID_PATTERN, ErrorBody
from orchestrator.errors import ForbiddenError, PayloadTooLargeError, ValidationError
from orchestrator.grounding import SHARED_OWNER
from orchestrator.grounding.parsing import SUPPORTED, detect_content_type, extract_text
from orchestrator.grounding.store import DocumentInfo, DocumentPage, IngestResult
from orchestrator.grounding.uploads import PresignedUpload, UploadTarget, safe_filename
from orchestrator.identity import Principal

router = APIRouter(prefix="/v1/documents", tags=["documents"])


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these statuses, each with the API's one error body."""
    return {code: {"model": ErrorBody} for code in statuses}


UserQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=128,
        pattern=ID_PATTERN,
        description="Whose documents (required with API keys; a user token names its own user).",
    ),
]
DocIdPath = Annotated[str, Path(min_length=1, max_length=128, pattern=ID_PATTERN)]


def document_owner(principal: Principal, user_id: str | None) -> str:
    """The owner a request acts for; ``shared`` documents are every user's, so admins only."""
    owner = principal.end_user(user_id) or user_id
    if not owner:
        raise ValidationError("user_id: required (whose documents?)")
    if owner == SHARED_OWNER and not principal.is_admin:
        raise ForbiddenError(f"user_id: {SHARED_OWNER!r} documents are readable by every user; admins only")
    return owner


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(
        min_length=1, max_length=128, pattern=ID_PATTERN, description="Owner of the document."
    )
    title: str = Field(min_length=1, max_length=300)
    text: str = Field(min_length=1, description="Plain text; size capped by DOCUMENTS_MAX_CHARS.")
    doc_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=ID_PATTERN)
    source: str | None = Field(default=None, max_length=2000)


class UploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=1, max_length=128, pattern=ID_PATTERN)
    filename: str = Field(min_length=1, max_length=255, description="Its extension helps name the type.")
    content_type: str | None = Field(
        default=None, max_length=100, description=f"One of {', '.join(SUPPORTED)}; else from the extension."
    )
    title: str | None = Field(default=None, min_length=1, max_length=300)
    doc_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=ID_PATTERN)


@router.post(
    "",
    response_model=IngestResult,
    status_code=status.HTTP_201_CREATED,
    responses=_errors(403, 422),
)
def ingest_document(body: DocumentIn, principal: PrincipalDep, container: ContainerDep) -> IngestResult:
    """Chunk, embed and store a document for the user's `rag` questions (in the caller's tenant).

    ``user_id: "shared"`` makes a document every user of the tenant retrieves from: admins only.
    """
    owner = document_owner(principal, body.user_id)
    store = container.retriever.store
    return store.ingest(
        principal.tenant_id, owner, body.title, body.text, doc_id=body.doc_id, source=body.source
    )


@router.post(
    "/upload",
    response_model=IngestResult,
    status_code=status.HTTP_201_CREATED,
    responses=_errors(403, 413, 415, 422),
)
def upload_document(
    *,
    principal: PrincipalDep,
    container: ContainerDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="Plain text, Markdown, HTML or PDF.")],
    user_id: Annotated[str, Form(min_length=1, max_length=128, pattern=ID_PATTERN)],
    title: Annotated[str | None, Form(min_length=1, max_length=300)] = None,
    doc_id: Annotated[str | None, Form(min_length=1, max_length=128, pattern=ID_PATTERN)] = None,
) -> IngestResult:
    """Upload a file (multipart) and store its text; files over the direct cap go through `/uploads`."""
    owner = document_owner(principal, user_id)
    cap = settings.documents_direct_upload_max_bytes
    data = file.file.read(cap + 1)
    if len(data) > cap:
        raise PayloadTooLargeError(
            f"The file is over {cap} bytes; upload it through POST /v1/documents/uploads",
            details={"limit": cap},
        )
    parsed = extract_text(
        data,
        content_type=file.content_type,
        filename=file.filename,
        max_chars=settings.documents_max_chars,
        max_pages=settings.documents_max_pages,
    )
    name = PurePosixPath((file.filename or "").replace("\\", "/")).name
    return container.retriever.store.ingest(
        principal.tenant_id,
        owner,
        title or parsed.title or PurePosixPath(name).stem or "Untitled",
        parsed.text,
        doc_id=doc_id,
        source=name or None,
        content_type=parsed.content_type,
    )


@router.post(
    "/uploads",
    response_model=PresignedUpload,
    status_code=status.HTTP_201_CREATED,
    responses=_errors(403, 415, 422),
)
def create_upload(body: UploadRequest, principal: PrincipalDep, container: ContainerDep) -> PresignedUpload:
    """A presigned S3 form for a large file; the document appears under `doc_id` once ingested.

    The object key is built here from the caller's tenant and owner (never from the request),
    and the form can create only that key, of the type given, up to DOCUMENTS_UPLOAD_MAX_BYTES.
    """
    owner = document_owner(principal, body.user_id)
    kind = detect_content_type(b"", content_type=body.content_type, filename=body.filename)
    target = UploadTarget(
        tenant_id=principal.tenant_id,
        owner=owner,
        doc_id=body.doc_id or f"doc-{uuid.uuid4().hex[:16]}",
        filename=safe_filename(body.filename),
    )
    return container.document_uploads.presign(target, content_type=kind, title=body.title)


@router.get("", response_model=DocumentPage, responses=_errors(403, 422))
def list_documents(
    principal: PrincipalDep,
    container: ContainerDep,
    user_id: UserQuery = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(min_length=1, max_length=2048)] = None,
) -> DocumentPage:
    """The caller's documents, a page at a time (pass `next_cursor` back as `cursor`)."""
    owner = document_owner(principal, user_id)
    return container.retriever.store.list_documents(principal.tenant_id, owner, limit=limit, cursor=cursor)


@router.get("/{doc_id}", response_model=DocumentInfo, responses=_errors(403, 404, 422))
def get_document(
    doc_id: DocIdPath, principal: PrincipalDep, container: ContainerDep, user_id: UserQuery = None
) -> DocumentInfo:
    """One of the caller's documents: title, source, type, size and when it was stored."""
    owner = document_owner(principal, user_id)
    return container.retriever.store.get_document(principal.tenant_id, owner, doc_id)


@router.delete(
    "/{doc_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_errors(403, 404, 422),
)
def delete_document(
    doc_id: DocIdPath, principal: PrincipalDep, container: ContainerDep, user_id: UserQuery = None
) -> Response:
    """Delete one of the caller's documents with its chunks and index entries."""
    owner = document_owner(principal, user_id)
    container.retriever.store.delete(principal.tenant_id, owner, doc_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=2_000, description="What to look for.")
    k: int = Field(default=5, ge=1, le=20, description="How many passages at most.")
    user_id: str | None = Field(
        default=None, min_length=1, max_length=128, pattern=ID_PATTERN, description="Whose documents."
    )


class SearchPassage(BaseModel):
    doc_id: str
    title: str | None = None
    chunk_id: int | None = None
    score: float
    #: The sentences nearest the query, for display.
    snippet: str | None = None
    text: str


class SearchResult(BaseModel):
    passages: list[SearchPassage]
    latency_ms: float


@router.post("/search", response_model=SearchResult, responses=_errors(403, 422))
def search_documents(
    body: SearchRequest, principal: PrincipalDep, container: ContainerDep, settings: SettingsDep
) -> SearchResult:
    """Ranked passages for a query: the retriever and scoping a `rag` turn's grounding uses."""
    import time

    owner = document_owner(principal, body.user_id)
    started = time.perf_counter()
    passages = container.retriever.retrieve(
        body.query.strip() or body.query,
        principal.tenant_id,
        owner,
        top_k=body.k,
        deadline=time.monotonic() + settings.node_default_budget_s,
    )
    return SearchResult(
        passages=[
            SearchPassage(
                doc_id=p.doc_id or p.source_id,
                title=p.title,
                chunk_id=p.chunk_id,
                score=p.score,
                snippet=p.snippet,
                text=p.text,
            )
            for p in passages
        ],
        latency_ms=round((time.perf_counter() - started) * 1000, 3),
    )
