"""The ``current_time`` builtin: the time now, in UTC or an IANA time zone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from orchestrator.errors import ConfigurationError, ToolInputError
from orchestrator.tools.models import ToolContext


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _zone(name: str) -> ZoneInfo:
    try:
        # Path-like keys would make zoneinfo read files outside its database.
        if ".." in name or name.startswith("/"):
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        if not available_timezones():
            # Some minimal images ship no /usr/share/zoneinfo; the ``tzdata`` package fills the gap.
            raise ConfigurationError("no time zone database here: install the 'tzdata' package") from exc
        raise ToolInputError(f"unknown time zone {name!r}; use an IANA name such as 'Europe/Paris'") from exc


def current_time(timezone: str | None = None, *, now: Callable[[], datetime] = _utc_now) -> dict[str, Any]:
    """ISO timestamp, date, time, weekday and UTC offset in ``timezone`` (default UTC)."""
    name = (timezone or "UTC").strip() or "UTC"
    moment = now().astimezone(UTC if name.upper() in ("UTC", "Z", "GMT") else _zone(name))
    offset = moment.strftime("%z")
    return {
        "timezone": name,
        "iso": moment.isoformat(timespec="seconds"),
        "date": moment.date().isoformat(),
        "time": moment.strftime("%H:%M:%S"),
        "weekday": moment.strftime("%A"),
        "utc_offset": f"{offset[:3]}:{offset[3:]}" if offset else "+00:00",
        "unix": int(moment.timestamp()),
    }


def current_time_tool(arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
    return current_time(arguments.get("timezone"))
