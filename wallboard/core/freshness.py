"""Is each feed stream live, stale or down — and when to try again. Plain maths, testable on a fake clock.

A stream is *live* while its last success is at most ``stale_after_intervals`` poll intervals old, *stale* after
that (the numbers on the wall are the last good ones and say so), and *down* when it has failed several times in a
row and has had no success for longer than that, or has had none for ``down_after_intervals`` intervals.

Through a shared cache a success is not proof of fresh data: the cache may answer from a copy while the API
behind it is down. So a success counts from when its data was fresh — the moment it arrived, less its ``Age``
beyond what the contract lets a cache add (``CACHE_AGE_ALLOWANCE_S``) — and a cache serving an ever older copy turns
the stream stale after the usual threshold, as a failing API would.

Ages are measured on a monotonic "real" clock, not the board clock: a replay at ×60 must not make a live feed look
stale, and a board clock corrected by NTP must not make it look down. The times *shown* (last success, last
attempt, next attempt) are board-clock POSIX seconds, because that is the clock on the wall.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

#: The longest Retry-After honoured beyond ``backoff_max_s``. A proxy that answers "come back tomorrow" must not
#: blind a 110 wall for a day; five minutes is long enough for any planned restart of the dispatch API.
RETRY_AFTER_MAX_S = 300.0
#: How old a shared cache's copy may be before it counts against freshness: the contract's shared lifetime for the
#: queue and stream pages (``s-maxage=1``) plus its ``stale-while-revalidate=1``.
CACHE_AGE_ALLOWANCE_S = 2.0
#: The shortest wait between attempts, so full jitter (which may draw ~0) never turns into a busy loop.
MIN_DELAY_S = 0.1


#: Each stream's name on the wall (English source strings; the UI translates them).
STREAM_LABELS = {"reference": "Reference", "calls": "Calls", "units": "Units", "queue": "Queue"}


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
    next_attempt_at: float | None = None  # when the next poll is due (None: not scheduled, e.g. a replay)
    #: The API refused our token (HTTP 401 or 403) on the last attempt: a configuration fault, not a network one.
    #: Set by whoever saw the status (never read back from ``last_error``, which is free, translatable text).
    auth_rejected: bool = False

    @property
    def since(self) -> float | None:
        """Since when the stream has not been live: its last success (None: it never had one)."""
        return self.last_success_at


@dataclass(frozen=True, slots=True)
class HistoryFailure:
    """The local history (the store) is not being saved: since when and why. The one value the hub keeps while the
    failure lasts, and what every place that shows it (the log, the problem report, each screen's header) is given.
    """

    since: float  # board-clock POSIX seconds of the first failed write of this run of failures
    reason: str  # in words: disk full, read-only, permission denied, database corrupt...

    def since_text(self, tz: str) -> str:
        """``since`` as HH:MM in the board's zone."""
        return datetime.fromtimestamp(self.since, ZoneInfo(tz)).strftime("%H:%M")

    def describe(self, tz: str) -> str:
        """'history not saved since 14:05: disk full' (English: the log and the problem report)."""
        return f"history not saved since {self.since_text(tz)}: {self.reason}"


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


class FreshnessTracker:
    """The health of one stream, fed with attempts, successes and failures; times are passed in, never read.

    ``real`` arguments are monotonic seconds (ages, states); ``board`` arguments are board-clock POSIX seconds
    (what is shown). A tracker for a rarely changing stream (reference data) can be ``sticky``: once it has
    succeeded it stays live until it fails, because its data does not age like a call queue does.
    """

    def __init__(
        self,
        name: str,
        interval_s: float,
        *,
        started_real: float,
        stale_after_intervals: int = 3,
        down_after_intervals: int = 10,
        failures_for_down: int = 3,
        sticky: bool = False,
    ) -> None:
        self.name = name
        self.interval_s = interval_s
        self.stale_after_intervals = stale_after_intervals
        self.down_after_intervals = down_after_intervals
        self.failures_for_down = failures_for_down
        self.sticky = sticky
        self.started_real = started_real
        self.last_success_real: float | None = None
        self.last_success_at: float | None = None
        self.last_attempt_at: float | None = None
        self.next_attempt_at: float | None = None
        self.last_error: str | None = None
        self.consecutive_failures = 0
        self.invalid_items_total = 0
        self.auth_rejected = False

    def restart(self, real: float) -> None:
        """The poller (re)starts now: the start-up grace period counts from here."""
        self.started_real = real

    def attempt(self, *, board: float) -> None:
        self.last_attempt_at = board
        self.next_attempt_at = None

    def success(self, *, real: float, board: float, age_s: float = 0.0, rate: float = 1.0) -> bool:
        """Record a success whose data was ``age_s`` old on arrival (its ``Age`` from a shared cache; ``rate``: board
        seconds per real second). The stream counts as fresh as of when the data was, less the cache allowance, and
        never moves back. True if it ends a run of failures (the stream recovered)."""
        recovered = self.consecutive_failures > 0
        self.consecutive_failures = 0
        self.last_error = None
        self.auth_rejected = False
        late = cache_lateness(age_s)
        fresh_real, fresh_board = real - late, board - late * rate
        if self.last_success_real is None or fresh_real > self.last_success_real:
            self.last_success_real = fresh_real
            self.last_success_at = fresh_board
        return recovered

    def failure(self, message: str, *, board: float | None = None, auth_rejected: bool = False) -> int:
        """Record a failure (``auth_rejected``: the API refused our token); returns the number of consecutive
        failures."""
        self.consecutive_failures += 1
        self.last_error = message
        self.auth_rejected = auth_rejected
        if board is not None:
            self.last_attempt_at = board
        return self.consecutive_failures

    def count_invalid(self, items: int) -> None:
        self.invalid_items_total += max(0, items)

    def schedule(self, board: float | None) -> None:
        self.next_attempt_at = board

    def state(self, real: float) -> Freshness:
        if self.sticky and self.last_success_real is not None and self.consecutive_failures == 0:
            return Freshness.LIVE
        return assess(
            interval_s=self.interval_s,
            seconds_since_success=None if self.last_success_real is None else real - self.last_success_real,
            seconds_since_start=real - self.started_real,
            consecutive_failures=self.consecutive_failures,
            stale_after_intervals=self.stale_after_intervals,
            down_after_intervals=self.down_after_intervals,
            failures_for_down=self.failures_for_down,
        )

    def health(self, real: float) -> StreamHealth:
        return StreamHealth(
            name=self.name,
            state=self.state(real),
            last_success_at=self.last_success_at,
            last_attempt_at=self.last_attempt_at,
            last_error=self.last_error,
            consecutive_failures=self.consecutive_failures,
            invalid_items_total=self.invalid_items_total,
            interval_s=self.interval_s,
            next_attempt_at=self.next_attempt_at,
            auth_rejected=self.auth_rejected,
        )


def cache_lateness(age_s: float) -> float:
    """Seconds by which data ``age_s`` old (from a shared cache) is older than the contract lets a cache make it."""
    if not age_s > 0:  # also NaN
        return 0.0
    return max(0.0, age_s - CACHE_AGE_ALLOWANCE_S)


def backoff_delay(
    failures: int,
    *,
    base_s: float,
    cap_s: float,
    rng: random.Random,
    retry_after_s: float | None = None,
) -> float:
    """Seconds to wait before the next attempt after ``failures`` consecutive failures.

    Exponential backoff with full jitter — uniform between 0 and ``min(cap_s, base_s × 2^(failures-1))`` — spreads
    out a room full of boards hitting a recovering API. Never shorter than the server's Retry-After (bounded by
    ``max(cap_s, RETRY_AFTER_MAX_S)``), never shorter than ``MIN_DELAY_S``.
    """
    if failures <= 0:
        return max(MIN_DELAY_S, base_s)
    ceiling = min(cap_s, base_s * (2.0 ** min(failures - 1, 30)))
    delay = max(MIN_DELAY_S, rng.uniform(0.0, max(ceiling, 0.0)))
    if retry_after_s is not None and retry_after_s > 0:  # NaN compares False: ignored
        delay = max(delay, min(retry_after_s, max(cap_s, RETRY_AFTER_MAX_S)))
    return delay


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Retry-After as seconds from ``now``: delta-seconds or an HTTP date. None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": UTC with no claim about the local zone (RFC 5322)
        when = when.replace(tzinfo=UTC)
    try:
        return max(0.0, when.timestamp() - now)
    except (OverflowError, OSError, ValueError):
        return None
