"""Memory and storage status: conversation stats, clearing, table reachability."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from orchestrator import services
from orchestrator.api.deps import SettingsDep
from orchestrator.api.schemas import ID_PATTERN

router = APIRouter(prefix="/v1", tags=["memory"])


class ClearRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=1, max_length=128, pattern=ID_PATTERN)
    session_id: str = Field(min_length=1, max_length=128, pattern=ID_PATTERN)
    #: Also drop every cached answer (the cache is keyed by a hash, not listable per user).
    clear_cache: bool = False


class ClearResult(BaseModel):
    turns_deleted: int
    cache_entries_deleted: int


class MemoryStats(BaseModel):
    session_turns: int | None = None
    documents: dict[str, Any]


@router.get("/memory/stats", response_model=MemoryStats)
def memory_stats(user_id: str | None = None, session_id: str | None = None) -> MemoryStats:
    """Turns in a session (when given) and the document store's size."""
    turns = None
    if user_id and session_id:
        turns = len(services.conversations().recent(user_id, session_id, 1000))
    documents = services.retriever().store.stats(owner=user_id)
    return MemoryStats(session_turns=turns, documents=documents.model_dump())


@router.post("/memory/clear", response_model=ClearResult)
def memory_clear(body: ClearRequest) -> ClearResult:
    """Forget a session's conversation (and optionally the response cache)."""
    turns = services.conversations().clear(body.user_id, body.session_id)
    cached = services.response_cache().clear() if body.clear_cache else 0
    return ClearResult(turns_deleted=turns, cache_entries_deleted=cached)


@router.get("/db/status")
def db_status(settings: SettingsDep) -> dict[str, Any]:
    """Whether each DynamoDB table is reachable, with DynamoDB's approximate item counts."""
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
