"""Progress records of a run (intent, plan, steps, tool calls, answer tokens), read by the
streaming API while the graph runs.

Their own table, not the runs table: that one is keyed by ``run_id`` alone, and a stream needs a
Query "everything after the last record I saw", i.e. a sort key. Items are keyed
``pk = <tenant>#<run_id>`` (another tenant's read finds nothing) and ``seq``, a sequence number
made of the writer's clock in microseconds and a per-writer counter: parallel plan steps write
from different Lambdas at once, so there is no shared counter to contend on, and nodes that run
one after another (the graph's order) get increasing numbers. Items expire after minutes.
"""

from __future__ import annotations

import itertools
import random
import time
from typing import Any

from pydantic import BaseModel, Field

from orchestrator.aws.dynamodb import expires_at, from_dynamo, table, to_dynamo

DEFAULT_TTL_S = 900

#: ``seq`` = clock (µs) × 10⁶ + writer (3 random digits) × 10³ + the writer's counter.
_WRITER_SLOTS = 1_000


class RunEventRecord(BaseModel):
    seq: int
    kind: str
    node: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class RunEventStore:
    """Append and read one run's progress records."""

    def __init__(
        self, table_name: str, *, region: str, resource: Any | None = None, ttl_s: int = DEFAULT_TTL_S
    ) -> None:
        self._table = table(table_name, region, resource)
        self._ttl_s = ttl_s

    @staticmethod
    def _pk(tenant_id: str, run_id: str) -> str:
        return f"{tenant_id}#{run_id}"

    def append(
        self,
        tenant_id: str,
        run_id: str,
        events: list[tuple[str, dict[str, Any]]],
        *,
        node: str | None = None,
    ) -> None:
        """Write ``events`` (kind, data) in order, after everything this process wrote before."""
        if not events:
            return
        writer = random.randrange(_WRITER_SLOTS)  # noqa: S311 - tells writers apart, not a secret
        base = time.time_ns() // 1_000 * 1_000_000 + writer * _WRITER_SLOTS
        ttl = expires_at(self._ttl_s)
        with self._table.batch_writer() as batch:
            for index, (kind, data) in zip(itertools.count(), events, strict=False):
                item = {
                    "pk": self._pk(tenant_id, run_id),
                    "seq": base + index,
                    "kind": kind,
                    "data": to_dynamo(data),
                    "expires_at": ttl,
                }
                if node:
                    item["node"] = node
                batch.put_item(Item=item)

    def read(self, tenant_id: str, run_id: str, after: int = 0, limit: int = 200) -> list[RunEventRecord]:
        """Records with ``seq`` greater than ``after``, oldest first (one page of ``limit``)."""
        from boto3.dynamodb.conditions import Key

        page = self._table.query(
            KeyConditionExpression=Key("pk").eq(self._pk(tenant_id, run_id)) & Key("seq").gt(after),
            ConsistentRead=True,
            Limit=limit,
        )
        return [
            RunEventRecord(
                seq=int(item["seq"]),
                kind=str(item["kind"]),
                node=item.get("node"),
                data=from_dynamo(item["data"]),
            )
            for item in page.get("Items", [])
        ]
