"""Runs waiting for a person: the task token, the calls that wait and the deadline, one item per run.

The item lives in the runs table, under ``approval#<run_id>`` (run ids never contain ``#``), next
to the run record rather than in it: the memory store rewrites the record whole when the run
ends and ``GET /v1/runs/{id}`` returns the record as it is, so the token — which is all it takes
to resume the run — must never be in it. Same table, so the same lifetime (TTL), backups and
deletion protection as the run, and no table more to create; the API may write only keys under
``approval#`` (an IAM ``dynamodb:LeadingKeys`` condition in ``template.yaml``).

A decision is claimed with a conditional update (``waiting`` → ``approved``/``rejected``), so two
people deciding at once cannot both resume the run.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from orchestrator.aws.dynamodb import expires_at, from_dynamo, table, to_dynamo
from orchestrator.memory.runs import DEFAULT_TTL_S
from orchestrator.state import DEFAULT_TENANT, ToolCall

KEY_PREFIX = "approval#"
PendingStatus = Literal["waiting", "approved", "rejected", "expired"]


class PendingApproval(BaseModel):
    run_id: str
    tenant_id: str = DEFAULT_TENANT
    user_id: str
    #: ``$$.Task.Token`` of the waiting state; sent back with SendTaskSuccess/SendTaskFailure.
    task_token: str
    calls: list[ToolCall] = Field(default_factory=list)
    timeout_s: int
    requested_at: str
    #: ISO 8601; the wait times out then, and later decisions are refused without asking Step Functions.
    expires_at: str
    status: PendingStatus = "waiting"


class ApprovalStore:
    def __init__(self, table_name: str, *, region: str, resource: Any | None = None) -> None:
        self._table = table(table_name, region, resource)

    def put(self, pending: PendingApproval, ttl_s: int = DEFAULT_TTL_S) -> None:
        item = {
            **pending.model_dump(mode="json"),
            "run_id": KEY_PREFIX + pending.run_id,
            "expires_at": expires_at(ttl_s + pending.timeout_s),
            "deadline": pending.expires_at,
        }
        self._table.put_item(Item=to_dynamo(item))

    def get(self, tenant_id: str, run_id: str) -> PendingApproval | None:
        """The run's approval, if it belongs to ``tenant_id``: another tenant's is as absent as none."""
        item = self._table.get_item(Key={"run_id": KEY_PREFIX + run_id}, ConsistentRead=True).get("Item")
        if not item:
            return None
        data = from_dynamo(item)
        data.update(run_id=run_id, expires_at=data.pop("deadline"))
        pending = PendingApproval.model_validate(data)
        return pending if pending.tenant_id == tenant_id else None

    def claim(self, run_id: str, status: PendingStatus, *, expected: PendingStatus = "waiting") -> bool:
        """Move the item from ``expected`` to ``status``; False when someone else moved it first."""
        from botocore.exceptions import ClientError

        try:
            self._table.update_item(
                Key={"run_id": KEY_PREFIX + run_id},
                UpdateExpression="SET #s = :new",
                ConditionExpression="attribute_exists(run_id) AND #s = :expected",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":new": status, ":expected": expected},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True
