"""Documents for retrieval: ingest into the user's knowledge base."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from orchestrator.api.auth import PrincipalDep
from orchestrator.api.deps import ContainerDep
from orchestrator.api.schemas import ID_PATTERN, ErrorBody
from orchestrator.errors import ForbiddenError
from orchestrator.grounding import SHARED_OWNER
from orchestrator.grounding.store import IngestResult

router = APIRouter(prefix="/v1/documents", tags=["documents"])


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(
        min_length=1, max_length=128, pattern=ID_PATTERN, description="Owner of the document."
    )
    title: str = Field(min_length=1, max_length=300)
    text: str = Field(min_length=1, description="Plain text; size capped by DOCUMENTS_MAX_CHARS.")
    doc_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=ID_PATTERN)
    source: str | None = Field(default=None, max_length=2000)


@router.post(
    "",
    response_model=IngestResult,
    status_code=status.HTTP_201_CREATED,
    responses={422: {"model": ErrorBody}},
)
def ingest_document(body: DocumentIn, principal: PrincipalDep, container: ContainerDep) -> IngestResult:
    """Chunk, embed and store a document for the user's `rag` questions (in the caller's tenant).

    ``user_id: "shared"`` makes a document every user of the tenant retrieves from: admins only.
    """
    owner = principal.end_user(body.user_id) or body.user_id
    if owner == SHARED_OWNER and not principal.is_admin:
        raise ForbiddenError(f"user_id: {SHARED_OWNER!r} documents are readable by every user; admins only")
    store = container.retriever.store
    return store.ingest(
        principal.tenant_id, owner, body.title, body.text, doc_id=body.doc_id, source=body.source
    )
