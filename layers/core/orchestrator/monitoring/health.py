"""What /health concludes: ``down`` without the runs' store or the workflow, ``degraded`` when a
dependency failed runs recently or does not answer its probe, else ``ok``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

HealthStatus = Literal["ok", "degraded", "down"]

#: A run that failed with one of these codes says which dependency was unavailable.
UNAVAILABLE_DEPENDENCY = {
    "model_unavailable": "model",
    "external_agent_unavailable": "external_agent",
    "datasource_unavailable": "datasource",
    "sandbox_unavailable": "code_sandbox",
}


def recent_failures(failures: dict[str, dict[str, str]], *, now: datetime, window_s: int) -> dict[str, str]:
    """The dependencies that failed a run within ``window_s`` of ``now``, with code and time."""
    since = now - timedelta(seconds=window_s)
    recent = {}
    for dependency, failure in failures.items():
        try:
            at = datetime.fromisoformat(failure["at"])
        except (KeyError, ValueError):
            continue
        if at >= since:
            recent[dependency] = f"{failure.get('code')} at {failure['at']}"
    return recent


def overall(backends: dict[str, str], degraded: dict[str, str]) -> HealthStatus:
    if backends.get("dynamodb") != "ok" or backends.get("state_machine") != "configured":
        return "down"
    return "degraded" if degraded else "ok"
