"""Clocks and time zones. The board clock is injected so tests and replays control "now"."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

#: Indonesian zone abbreviations, for the header clock.
ZONE_ABBREVIATIONS = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


class Clock(Protocol):
    """The board's clock: POSIX seconds, running at ``rate`` board seconds per real second (1 for a real clock; a
    simulation or a replay at ×N runs at N, and everything that turns real delays into board time reads it)."""

    def now(self) -> float:
        """POSIX seconds."""
        ...

    @property
    def rate(self) -> float:
        """Board seconds per real second."""
        ...


class SystemClock:
    rate = 1.0

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when told to (tests, headless metrics, snapshots)."""

    def __init__(self, start: float, rate: float = 1.0) -> None:
        self._now = start
        self.rate = rate

    def now(self) -> float:
        return self._now

    def set(self, t: float) -> None:
        self._now = t

    def advance(self, seconds: float) -> None:
        self._now += seconds


class ScaledClock:
    """Board time that starts at ``start`` and runs ``rate`` times as fast as ``base`` (a real-time source, by
    default the monotonic clock), plus whatever :meth:`step` adds. The simulator's clock (``rate`` = demo speed,
    0 for tests that step by hand) and a replay's (``start`` = the recording's first arrival) are both this.
    Thread-safe: the simulator's HTTP threads and the GUI read it while a test steps it."""

    def __init__(self, start: float, rate: float = 1.0, base: Callable[[], float] = time.monotonic) -> None:
        if not math.isfinite(start) or not math.isfinite(rate) or rate < 0:
            raise ValueError(f"a clock needs a finite start and a rate >= 0, not {start!r} and {rate!r}")
        self._start = start
        self._rate = float(rate)
        self._base = base
        self._origin = base()
        self._stepped = 0.0
        self._lock = threading.Lock()

    @property
    def rate(self) -> float:
        return self._rate

    def now(self) -> float:
        with self._lock:
            return self._start + self._stepped + (self._base() - self._origin) * self._rate

    def step(self, seconds: float) -> None:
        with self._lock:
            self._stepped += seconds


def zone_abbreviation(tz: str) -> str:
    return ZONE_ABBREVIATIONS.get(tz, tz)


def local_date(t: float, zone: tzinfo) -> date:
    """The local date containing POSIX time ``t``. ``fromtimestamp`` rounds to the microsecond, so a call 0.2 µs
    before midnight would fall on the next day; days and offsets change on whole seconds, so the floored second
    is always on the right side."""
    return datetime.fromtimestamp(math.floor(t), zone).date()


def local_midnight(t: float, tz: str) -> float:
    """POSIX time of the local midnight that starts the board-local day containing ``t``."""
    zone = ZoneInfo(tz)
    local = datetime.fromtimestamp(math.floor(t), zone)  # floor: see local_date
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.timestamp()


def local_day_start(t: float, tz: str, days_back: int = 0) -> float:
    """Local midnight ``days_back`` days before the day containing ``t``."""
    zone = ZoneInfo(tz)
    local = local_date(t, zone) - timedelta(days=days_back)
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
