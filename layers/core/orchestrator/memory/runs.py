"""Run records: one item per run, written when the run ends (or fails), read by GET /v1/runs/{id}."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from orchestrator.aws.dynamodb import expires_at, from_dynamo, table, to_dynamo
from orchestrator.state import DEFAULT_TENANT, Cached

#: ``WAITING_FOR_APPROVAL``: paused until a person approves or rejects its tool calls.
#: ``REJECTED``: finished without running them (rejected, or no decision in time).
RunStatus = Literal["RUNNING", "WAITING_FOR_APPROVAL", "SUCCEEDED", "REJECTED", "FAILED"]
DEFAULT_TTL_S = 30 * 24 * 3600


class RunRecord(BaseModel):
    run_id: str
    status: RunStatus
    tenant_id: str = DEFAULT_TENANT
    user_id: str
    session_id: str
    started_at: str
    finished_at: str | None = None
    intent: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    plan: list[dict[str, Any]] = Field(default_factory=list)
    results: list[dict[str, Any]] = Field(default_factory=list)
    usage: dict[str, Any] = Field(default_factory=dict)
    errors: list[dict[str, Any]] = Field(default_factory=list)
    cached: Cached = False
    #: What waits for a person (tool, arguments, deadline) or what was decided; never the token.
    approval: dict[str, Any] | None = None


class RunStore:
    def __init__(self, table_name: str, *, region: str, resource: Any | None = None) -> None:
        self._table = table(table_name, region, resource)

    def put(self, record: RunRecord, ttl_s: int = DEFAULT_TTL_S) -> None:
        item = to_dynamo({**record.model_dump(mode="json"), "expires_at": expires_at(ttl_s)})
        self._table.put_item(Item=item)

    def get(self, tenant_id: str, run_id: str) -> RunRecord | None:
        """The run, if it belongs to ``tenant_id``: another tenant's run is as absent as none."""
        if "#" in run_id:  # never a run id: keys of other items in this table (approval#…)
            return None
        item = self._table.get_item(Key={"run_id": run_id}).get("Item")
        if not item:
            return None
        record = RunRecord.model_validate(from_dynamo(item))
        return record if record.tenant_id == tenant_id else None
