"""Is each feed stream live, stale or down — and when to try again. Plain maths, testable on a fake clock.

A stream is *live* while its last success is at most ``stale_after_intervals`` poll intervals old, *stale* after
that (the numbers on the wall are the last good ones and say so), and *down* when it has failed several times in a
row and has had no success for longer than that, or has had none for ``down_after_intervals`` intervals.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum


class Freshness(StrEnum):
    LIVE = "live"
    STALE = "stale"
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class StreamHealth:
    """What the header shows for one stream. Times are board-clock POSIX seconds (what the wall's clock shows)."""

    name: str  # reference, calls, units, queue
    state: Freshness
    last_success_at: float | None
    last_attempt_at: float | None
    last_error: str | None
    consecutive_failures: int
    invalid_items_total: int
    interval_s: float


def assess(
    *,
    interval_s: float,
    seconds_since_success: float | None,
    seconds_since_start: float,
    consecutive_failures: int,
    stale_after_intervals: int = 3,
    down_after_intervals: int = 10,
    failures_for_down: int = 3,
) -> Freshness:
    """Freshness from elapsed real time (not board time: a replay at ×60 must not make a live feed look stale)."""
    stale_after = stale_after_intervals * interval_s
    age = seconds_since_start if seconds_since_success is None else seconds_since_success
    if age > down_after_intervals * interval_s:
        return Freshness.DOWN
    if age > stale_after:
        return Freshness.DOWN if consecutive_failures >= failures_for_down else Freshness.STALE
    if seconds_since_success is None:
        # Starting up: no data yet. Down as soon as it is clear the API does not answer.
        return Freshness.DOWN if consecutive_failures >= failures_for_down else Freshness.STALE
    return Freshness.LIVE


def backoff_delay(
    failures: int,
    *,
    base_s: float,
    cap_s: float,
    rng: random.Random,
    retry_after_s: float | None = None,
) -> float:
    """Seconds to wait before the next attempt after ``failures`` consecutive failures.

    Exponential backoff with full jitter (spreads out a room full of boards hitting a recovering API), never shorter
    than the server's Retry-After, never longer than ``cap_s`` unless the server asked for more.
    """
    if failures <= 0:
        return base_s
    ceiling = min(cap_s, base_s * (2 ** min(failures, 30)))
    delay = rng.uniform(base_s, max(base_s, ceiling))
    if retry_after_s is not None:
        delay = max(delay, retry_after_s)
    return delay


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Retry-After as seconds from ``now``: delta-seconds or an HTTP date. None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)
