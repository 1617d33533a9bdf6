"""Conversation history per (tenant, user, session): one item per turn, newest read first."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from orchestrator.aws.dynamodb import all_items, expires_at, from_dynamo, table, to_dynamo
from orchestrator.state import GraphState

#: Conversations are kept for 30 days unless configured otherwise.
DEFAULT_TTL_S = 30 * 24 * 3600


class Turn(BaseModel):
    run_id: str
    prompt: str
    response: str
    intent: str | None = None
    created_at: str
    ok: bool = True


def _pk(tenant_id: str, user_id: str, session_id: str) -> str:
    # None of the three may contain '#' (the API's id alphabet), so the key is unambiguous.
    return f"{tenant_id}#{user_id}#{session_id}"


class ConversationMemory:
    def __init__(self, table_name: str, *, region: str, resource: Any | None = None) -> None:
        self._table = table(table_name, region, resource)

    def append(
        self, tenant_id: str, user_id: str, session_id: str, turn: Turn, ttl_s: int = DEFAULT_TTL_S
    ) -> None:
        item = {
            "pk": _pk(tenant_id, user_id, session_id),
            # The run id after the timestamp keeps two turns in the same millisecond apart.
            "sk": f"{turn.created_at}#{turn.run_id}",
            "tenant_id": tenant_id,
            "user_id": user_id,
            "session_id": session_id,
            "expires_at": expires_at(ttl_s),
            **turn.model_dump(),
        }
        self._table.put_item(Item=to_dynamo(item))

    def recent(self, tenant_id: str, user_id: str, session_id: str, max_turns: int) -> list[Turn]:
        """The last ``max_turns`` turns, oldest first (the order a prompt wants them in)."""
        if max_turns <= 0:
            return []
        from boto3.dynamodb.conditions import Key

        page = self._table.query(
            KeyConditionExpression=Key("pk").eq(_pk(tenant_id, user_id, session_id)),
            ScanIndexForward=False,
            Limit=max_turns,
        )
        turns = [Turn.model_validate(from_dynamo(item)) for item in page.get("Items", [])]
        return list(reversed(turns))

    def clear(self, tenant_id: str, user_id: str, session_id: str) -> int:
        """Delete a session's turns; returns how many were deleted."""
        from boto3.dynamodb.conditions import Key

        deleted = 0
        turns = all_items(
            self._table.query,
            KeyConditionExpression=Key("pk").eq(_pk(tenant_id, user_id, session_id)),
            ProjectionExpression="pk, sk",
        )
        with self._table.batch_writer() as batch:
            for item in turns:
                batch.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
                deleted += 1
        return deleted

    def count(self) -> int:
        """Approximate item count (DynamoDB's own, refreshed about every six hours on AWS)."""
        return int(self._table.item_count)


def turn_of(state: GraphState, response: str, *, ok: bool = True) -> Turn:
    """A run's turn, keyed by when the run started: a retried write replaces it, never duplicates it."""
    intent = state.intent.name if state.intent else None
    return Turn(
        run_id=state.run_id,
        prompt=state.prompt,
        response=response,
        intent=intent,
        created_at=state.started_at,
        ok=ok,
    )
