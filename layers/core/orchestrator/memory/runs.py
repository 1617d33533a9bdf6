"""Run records: one item per run, written when the run ends (or fails), read by GET /v1/runs/{id}."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from orchestrator.aws.dynamodb import expires_at, from_dynamo, table, to_dynamo
from orchestrator.state import DEFAULT_TENANT, Cached

#: ``WAITING_FOR_APPROVAL``: paused until a person approves or rejects its tool calls.
#: ``REJECTED``: finished without running them (rejected, or no decision in time).
RunStatus = Literal["RUNNING", "WAITING_FOR_APPROVAL", "SUCCEEDED", "REJECTED", "FAILED"]
DEFAULT_TTL_S = 30 * 24 * 3600
#: The item where the memory store notes each dependency's last failure (read by /health).
DEPENDENCY_FAILURES_KEY = "health#dependencies"
#: The runs table's index of a tenant's finished runs by ``finished_at`` (see template.yaml).
BY_TENANT_TIME = "by_tenant_time"
#: What :meth:`RunStore.list_runs` reads of each record: a runs list row's fields.
_SUMMARY_FIELDS = (
    "run_id",
    "status",
    "tenant_id",
    "user_id",
    "session_id",
    "started_at",
    "finished_at",
    "intent",
    "usage",
    "cached",
    "errors",
)


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
    #: Every tool the run called (tool branch and plan steps): name, ok, error, latency_ms; no outputs.
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    cached: Cached = False
    #: What waits for a person (tool, arguments, deadline) or what was decided; never the token.
    approval: dict[str, Any] | None = None
    #: The plan's source (``model`` / ``rule-based``), its size, and why a model plan was rejected.
    planning: dict[str, Any] | None = None
    #: One span per node action (``orchestrator.state.Span``): start, duration, retries, error,
    #: clipped input and output, and the decision taken.
    trace: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def elapsed_ms(self) -> float | None:
        """Start to finish in milliseconds; None while running (or for a time that does not parse)."""
        if not self.finished_at:
            return None
        try:
            elapsed = datetime.fromisoformat(self.finished_at) - datetime.fromisoformat(self.started_at)
        except ValueError:
            return None
        return elapsed.total_seconds() * 1000


class RunStore:
    def __init__(self, table_name: str, *, region: str, resource: Any | None = None) -> None:
        self._table = table(table_name, region, resource)

    def put(self, record: RunRecord, ttl_s: int = DEFAULT_TTL_S) -> None:
        item = to_dynamo({**record.model_dump(mode="json"), "expires_at": expires_at(ttl_s)})
        if item.get("finished_at") is None:
            # An index key is a string or absent: an unfinished run stays out of by_tenant_time.
            item.pop("finished_at", None)
        self._table.put_item(Item=item)

    def note_dependency_failure(self, dependency: str, code: str, at: str) -> None:
        """Remember that a run failed because ``dependency`` was unavailable (one item, one map)."""
        self._table.update_item(
            Key={"run_id": DEPENDENCY_FAILURES_KEY},
            UpdateExpression="SET #dependency = :failure",
            ExpressionAttributeNames={"#dependency": dependency},
            ExpressionAttributeValues={":failure": {"code": code, "at": at}},
        )

    def dependency_failures(self) -> dict[str, dict[str, str]]:
        """Each dependency's last noted failure: ``{"model": {"code": …, "at": ISO time}}``."""
        item = self._table.get_item(Key={"run_id": DEPENDENCY_FAILURES_KEY}).get("Item") or {}
        return {
            k: {"code": str(v.get("code")), "at": str(v.get("at"))}
            for k, v in item.items()
            if isinstance(v, dict)
        }

    def finished_since(self, tenant_id: str, since: str, *, limit: int) -> RecentRuns:
        """The tenant's runs finished at or after ``since`` (ISO time), newest first, at most ``limit``."""
        whole = RunQuery(limit=limit, max_read=limit, page_size=limit)
        return self._finished_window(tenant_id, since, whole, summaries=False)

    def list_runs(self, tenant_id: str, since: str, query: RunQuery) -> RecentRuns:
        """The tenant's runs finished since ``since`` that match ``query``, newest first.

        A Query on ``by_tenant_time`` with the filters as a FilterExpression: DynamoDB filters
        after reading, so at most ``query.max_read`` items are read; ``truncated`` says there was
        more to look at (in the window) than was read or returned.
        """
        return self._finished_window(tenant_id, since, query, summaries=True)

    def _finished_window(self, tenant_id: str, since: str, query: RunQuery, *, summaries: bool) -> RecentRuns:
        """One Query of ``by_tenant_time``, page by page; ``summaries`` reads only the list's fields."""
        from boto3.dynamodb.conditions import Attr, ConditionBase, Key

        condition = Key("tenant_id").eq(tenant_id) & Key("finished_at").gte(since)
        filters = [
            Attr(name).eq(value)
            for name, value in (
                ("user_id", query.user_id),
                ("status", query.status),
                ("intent.name", query.intent),
            )
            if value is not None
        ]
        options: dict[str, Any] = {}
        if summaries:
            # A list row needs none of the answer, plan, results or trace: far less to read back.
            names = {f"#{field}": field for field in _SUMMARY_FIELDS}
            options = {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
        if filters:
            expression: ConditionBase = filters[0]
            for extra in filters[1:]:
                expression = expression & extra
            options["FilterExpression"] = expression
        records: list[RunRecord] = []
        start: dict[str, Any] | None = None
        read = 0
        while True:
            page = self._table.query(
                IndexName=BY_TENANT_TIME,
                KeyConditionExpression=condition,
                ScanIndexForward=False,
                Limit=max(1, min(query.page_size, query.max_read - read)),
                **options,
                **({"ExclusiveStartKey": start} if start else {}),
            )
            read += int(page.get("ScannedCount", 0))
            records.extend(RunRecord.model_validate(from_dynamo(i)) for i in page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if len(records) > query.limit:
                return RecentRuns(records=records[: query.limit], truncated=True)
            if not start:
                return RecentRuns(records=records, truncated=False)
            if len(records) == query.limit or read >= query.max_read:
                return RecentRuns(records=records, truncated=True)

    def get(self, tenant_id: str, run_id: str) -> RunRecord | None:
        """The run, if it belongs to ``tenant_id``: another tenant's run is as absent as none."""
        if "#" in run_id:  # never a run id: keys of other items in this table (approval#…)
            return None
        item = self._table.get_item(Key={"run_id": run_id}).get("Item")
        if not item:
            return None
        record = RunRecord.model_validate(from_dynamo(item))
        return record if record.tenant_id == tenant_id else None


@dataclass(frozen=True)
class RunQuery:
    """Which runs :meth:`RunStore.list_runs` returns (None: any) and how much it may read."""

    limit: int = 50
    user_id: str | None = None
    status: str | None = None
    intent: str | None = None
    #: Items read (before filtering) at most: the cost of one listing stays bounded.
    max_read: int = 2000
    page_size: int = 200


@dataclass(frozen=True)
class RecentRuns:
    records: list[RunRecord]
    #: True when more runs finished in the window than were read.
    truncated: bool
