"""The ``orchestrator.run.completed`` EventBridge event, put when a run ends, so other systems can
react (bill, alert, archive) without reading the runs table."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator.memory.runs import RunRecord

logger = logging.getLogger("orchestrator.monitoring.events")

SOURCE = "orchestrator"
DETAIL_TYPE = "orchestrator.run.completed"


def run_completed_detail(record: RunRecord) -> dict[str, Any]:
    """Run id, tenant, outcome, latency and cost: what a subscriber needs, never the text."""
    latency_ms = None
    if record.finished_at:
        elapsed = datetime.fromisoformat(record.finished_at) - datetime.fromisoformat(record.started_at)
        latency_ms = round(elapsed.total_seconds() * 1000, 3)
    return {
        "run_id": record.run_id,
        "tenant_id": record.tenant_id,
        "user_id": record.user_id,
        "outcome": record.status,
        "error_code": record.errors[-1].get("code") if record.errors else None,
        "intent": record.intent.get("name") if record.intent else None,
        "cached": record.cached,
        "latency_ms": latency_ms,
        "cost_usd": round(sum(float(u.get("cost_usd") or 0.0) for u in record.usage.values()), 8),
        "started_at": record.started_at,
        "finished_at": record.finished_at,
    }


class RunCompletedPublisher:
    """Puts one event per finished run on ``bus`` (RUN_COMPLETED_EVENT_BUS)."""

    def __init__(self, bus: str, *, region: str, client: Any | None = None) -> None:
        from orchestrator.aws.boto import build_boto3_client

        self._bus = bus
        self._client = build_boto3_client("events", region=region, client=client)

    def publish(self, record: RunRecord) -> None:
        """Best effort: a run that ended stays ended when EventBridge does not answer."""
        entry = {
            "Source": SOURCE,
            "DetailType": DETAIL_TYPE,
            "Detail": json.dumps(run_completed_detail(record)),
            "EventBusName": self._bus,
        }
        try:
            failed = self._client.put_events(Entries=[entry]).get("FailedEntryCount", 0)
        except Exception as exc:  # an event is a notice, never a reason to fail the run
            logger.warning("run.completed: not published for run %s (%s)", record.run_id, type(exc).__name__)
            return
        if failed:
            logger.warning("run.completed: EventBridge refused the event of run %s", record.run_id)
