"""Retry timing shared by the model retry policy and the HTTP retry loop.

Full jitter (a uniform wait below an exponentially growing ceiling) spreads the retries of many
clients apart; a server's ``Retry-After`` says how long it wants us to stay away.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def backoff_delay(retry_number: int, *, base_s: float, max_s: float, rand: Callable[[], float]) -> float:
    """Full jitter: uniform in [0, min(max_s, base_s * 2**retry_number)] (``retry_number`` 0-based)."""
    return float(rand() * min(max_s, base_s * (2**retry_number)))


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date. Missing or unparseable → None."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)
