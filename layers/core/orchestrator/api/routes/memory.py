"""Memory and storage status: conversation stats, clearing, table reachability."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from orchestrator.api.auth import PrincipalDep
from orchestrator.api.deps import ContainerDep, SettingsDep
from orchestrator.api.schemas import ID_PATTERN
from orchestrator.errors import ForbiddenError, ValidationError

router = APIRouter(prefix="/v1", tags=["memory"])


class ClearRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=1, max_length=128, pattern=ID_PATTERN)
    session_id: str = Field(min_length=1, max_length=128, pattern=ID_PATTERN)
    #: Also drop this user's cached answers.
    clear_cache: bool = False
    #: Drop every cached answer of the caller's tenant (admins only).
    clear_tenant_cache: bool = False


class ClearResult(BaseModel):
    turns_deleted: int
    cache_entries_deleted: int


class MemoryStats(BaseModel):
    session_turns: int | None = None
    documents: dict[str, Any]


@router.get("/memory/stats", response_model=MemoryStats)
def memory_stats(
    principal: PrincipalDep,
    container: ContainerDep,
    user_id: Annotated[str | None, Query(min_length=1, max_length=128, pattern=ID_PATTERN)] = None,
    session_id: Annotated[str | None, Query(min_length=1, max_length=128, pattern=ID_PATTERN)] = None,
) -> MemoryStats:
    """Turns in a session (when given) and the size of the user's documents (the tenant's: admins)."""
    user = principal.end_user(user_id)
    if user is None and not principal.is_admin:
        raise ValidationError("user_id: required (whose memory?)")
    turns = None
    if user and session_id:
        turns = len(container.conversations.recent(principal.tenant_id, user, session_id, 1000))
    documents = container.retriever.store.stats(principal.tenant_id, owner=user)
    return MemoryStats(session_turns=turns, documents=documents.model_dump())


@router.post("/memory/clear", response_model=ClearResult)
def memory_clear(body: ClearRequest, principal: PrincipalDep, container: ContainerDep) -> ClearResult:
    """Forget a session's conversation (and optionally cached answers: the user's, or the tenant's)."""
    if body.clear_tenant_cache and not principal.is_admin:
        raise ForbiddenError("clear_tenant_cache: clearing every user's cached answers needs the admin role")
    user = principal.end_user(body.user_id) or body.user_id
    turns = container.conversations.clear(principal.tenant_id, user, body.session_id)
    cache = container.response_cache
    cached = 0
    if body.clear_tenant_cache:
        cached = cache.clear(principal.tenant_id)
    elif body.clear_cache:
        cached = cache.clear(principal.tenant_id, user)
    return ClearResult(turns_deleted=turns, cache_entries_deleted=cached)


@router.get("/db/status")
def db_status(settings: SettingsDep, principal: PrincipalDep) -> dict[str, Any]:
    """Whether each DynamoDB table is reachable, with DynamoDB's approximate item counts (admins)."""
    if not principal.is_admin:
        # Item counts span every tenant: operators' information, not a tenant's.
        raise ForbiddenError("the table status is for admins")
    import boto3

    client = boto3.client("dynamodb", region_name=settings.aws_region)
    tables: dict[str, Any] = {}
    for role in ("conversations", "cache", "runs", "tools", "documents"):
        name = getattr(settings, f"{role}_table")
        try:
            table = client.describe_table(TableName=name)["Table"]
            tables[role] = {"name": name, "status": table["TableStatus"], "items": table.get("ItemCount", 0)}
        except Exception as exc:  # status must report, never fail
            tables[role] = {"name": name, "status": f"unreachable ({type(exc).__name__})"}
    healthy = all(t["status"] == "ACTIVE" for t in tables.values())
    return {"status": "ok" if healthy else "degraded", "tables": tables}
