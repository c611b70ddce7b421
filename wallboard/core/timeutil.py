"""Clocks and time zones. The board clock is injected so tests and replays control "now"."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

#: Indonesian zone abbreviations, for the header clock.
ZONE_ABBREVIATIONS = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


class Clock(Protocol):
    def now(self) -> float:
        """POSIX seconds."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when told to (tests, headless metrics)."""

    def __init__(self, start: float) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def set(self, t: float) -> None:
        self._now = t

    def advance(self, seconds: float) -> None:
        self._now += seconds


class OffsetClock:
    """Another clock shifted by a fixed amount (replays run "now" from the recording's start)."""

    def __init__(self, base: Clock, offset_s: float, rate: float = 1.0) -> None:
        self._base = base
        self._origin = base.now()
        self._offset = offset_s
        self._rate = rate

    def now(self) -> float:
        return self._origin + self._offset + (self._base.now() - self._origin) * self._rate


def zone_abbreviation(tz: str) -> str:
    return ZONE_ABBREVIATIONS.get(tz, tz)


def local_midnight(t: float, tz: str) -> float:
    """POSIX time of the local midnight that starts the board-local day containing ``t``."""
    zone = ZoneInfo(tz)
    local = datetime.fromtimestamp(t, zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.timestamp()


def local_day_start(t: float, tz: str, days_back: int = 0) -> float:
    """Local midnight ``days_back`` days before the day containing ``t``."""
    zone = ZoneInfo(tz)
    local = datetime.fromtimestamp(t, zone).date() - timedelta(days=days_back)
    return datetime(local.year, local.month, local.day, tzinfo=zone).timestamp()


def parse_rfc3339(text: str) -> float:
    """RFC 3339 timestamp (an offset is required) to POSIX seconds. Raises ValueError."""
    if not isinstance(text, str) or len(text) < 20:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"timestamp without offset: {text!r}")
    return value.timestamp()


def format_rfc3339(t: float, tz: str | None = None) -> str:
    """POSIX seconds to RFC 3339 with offset, in ``tz`` (UTC if None), millisecond precision."""
    zone = ZoneInfo(tz) if tz else UTC
    return datetime.fromtimestamp(t, zone).isoformat(timespec="milliseconds")
