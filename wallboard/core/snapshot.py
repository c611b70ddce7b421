"""What every panel shows at one moment: the metrics engine's output, as plain immutable values.

The UI renders a :class:`BoardSnapshot` and nothing else; ``wallboard metrics --json`` prints the same object
(``to_jsonable``), so the numbers on the wall can be checked against anyone's own calculation.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import Enum, StrEnum
from typing import Any

from wallboard.core.model import CallKindGroup, Incident, Tier, Unit
from wallboard.core.prank import PrankWatch
from wallboard.core.risk import AtRisk, overdue_count
from wallboard.core.units import StatusOverrun, UnitBoard, UnitBoardRow


class Window(StrEnum):
    """The period a number covers. Every number on the board names its window."""

    LAST_60_MIN = "last_60_min"
    PREVIOUS_60_MIN = "previous_60_min"  # the hour before the last 60 min, for trend arrows
    TODAY = "today"  # the board's local calendar day, from local midnight to now
    LAST_7_DAYS = "last_7_days"  # local midnight six days ago to now


@dataclass(frozen=True, slots=True)
class VolumeSeries:
    """Calls received per bucket over the last 24 h, oldest bucket first.

    ``start`` is the POSIX time at which bucket 0 begins; bucket ``i`` covers
    ``[start + i*bucket_s, start + (i+1)*bucket_s)``. The series ends where the local clock's ``align_s`` bin
    (5 minutes) holding ``as_of`` ends, so every roll-up bin starts on a local :00/:05/... boundary and the curve
    keeps its shape from one minute to the next; the buckets after ``as_of`` are still to come (zero), and the bin
    holding ``as_of`` is partial.
    """

    bucket_s: int
    start: float
    genuine: tuple[int, ...]
    nuisance: tuple[int, ...]  # prank + silent
    other: tuple[int, ...]  # information, complaint, not yet categorised
    previous_day: tuple[int, ...] | None  # all calls, same buckets 24 h earlier (None: no history)
    same_weekday_last_week: tuple[int, ...] | None  # all calls, same buckets 7 days earlier
    current_rate_per_hour: float  # calls received in the last 15 min, scaled to an hour
    as_of: float = 0.0  # the moment the series was taken: the bin holding it is partial
    align_s: int = 300  # roll-up bins the series is aligned to (local clock boundaries)

    @property
    def partial_bin_start(self) -> float:
        """Where the current (partial) ``align_s`` bin starts."""
        end = self.start + len(self.genuine) * self.bucket_s
        return end - self.align_s

    @property
    def total(self) -> tuple[int, ...]:
        return tuple(g + n + o for g, n, o in zip(self.genuine, self.nuisance, self.other, strict=True))


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    waiting: int
    longest_wait_s: float | None
    waiting_by_tier: dict[Tier, int]
    source: str  # "queue" (the live-queue stream) or "calls" (derived from call records)


@dataclass(frozen=True, slots=True)
class TierStats:
    """Calls received in a window and what happened to them."""

    window: Window
    received: int
    answered_by_tier: dict[Tier, int]
    escalations: dict[tuple[Tier, Tier], int]  # (from, to) -> count
    abandoned: int
    waiting: int  # received in the window, still ringing
    answered_within_threshold: int
    answer_threshold_s: float
    genuine: int
    nuisance: int  # prank + silent
    categorised: int  # calls whose category is known

    @property
    def answered(self) -> int:
        return sum(self.answered_by_tier.values())

    @property
    def service_level_pct(self) -> float | None:
        """% of answered calls answered within the threshold (the 10-second rule)."""
        return None if self.answered == 0 else 100.0 * self.answered_within_threshold / self.answered

    @property
    def prank_share_pct(self) -> float | None:
        """% of categorised calls that were prank or silent."""
        return None if self.categorised == 0 else 100.0 * self.nuisance / self.categorised

    @property
    def abandoned_pct(self) -> float | None:
        return None if self.received == 0 else 100.0 * self.abandoned / self.received

    def plus(self, other: TierStats) -> TierStats:
        """The statistics of both sets of calls together (every field is a count; shares follow from them)."""
        if other.window is not self.window:
            raise ValueError(f"cannot add {other.window.value} statistics to {self.window.value} ones")
        return TierStats(
            window=self.window,
            received=self.received + other.received,
            answered_by_tier={t: n + other.answered_by_tier.get(t, 0) for t, n in self.answered_by_tier.items()},
            escalations={pair: n + other.escalations.get(pair, 0) for pair, n in self.escalations.items()},
            abandoned=self.abandoned + other.abandoned,
            waiting=self.waiting + other.waiting,
            answered_within_threshold=self.answered_within_threshold + other.answered_within_threshold,
            answer_threshold_s=self.answer_threshold_s,
            genuine=self.genuine + other.genuine,
            nuisance=self.nuisance + other.nuisance,
            categorised=self.categorised + other.categorised,
        )


@dataclass(frozen=True, slots=True)
class ResponseStats:
    """Response times (first unit on scene − call received) for one Polres, or the whole Polda."""

    unit_id: str  # Polres id, or the Polda id for the Polda's own gauge
    name: str
    window: Window
    count: int  # incidents in the window with an on-scene time
    median_s: float | None
    p90_s: float | None  # linear interpolation between closest ranks (numpy.percentile default)
    within_target_pct: float | None  # % of count within target_s (10 min)
    within_aspiration_pct: float | None  # % of count within aspiration_s (5 min)
    target_s: float
    aspiration_s: float
    incidents: int  # incidents whose call was received in the window
    open_incidents: int  # open now (any window)
    overdue_now: int  # open, no unit on scene, call received more than target_s ago
    min_sample: int = 5  # below this many response times no percentile is shown, judged or alerted on

    @property
    def small_sample(self) -> bool:
        """Too few response times for a 90th percentile to mean anything (one incident's time is not a p90)."""
        return 0 < self.count < self.min_sample

    @property
    def status(self) -> str:
        """The gauge's status, the rule stated on the wall (STATUS_RULE):

        ``bad`` (OVER TARGET) when an incident is overdue now or the p90 is over the target; ``small`` (SMALL
        SAMPLE) when fewer than ``min_sample`` responses; ``watch`` (WATCH) when the p90 is over the aspiration;
        ``ok`` (ON TARGET) otherwise; ``none`` (NO DATA) when there is no response time and nothing overdue.
        """
        if self.overdue_now:
            return "bad"
        if self.count == 0 or self.p90_s is None:
            return "none"
        if self.small_sample:
            return "small"
        if self.p90_s > self.target_s:
            return "bad"
        if self.p90_s > self.aspiration_s:
            return "watch"
        return "ok"


#: The status rule in words (English source; the wall shows it translated on the gauges panel, the README states it).
STATUS_RULE = (
    "Status from p90 (90% of responses): ON TARGET ≤ {aspiration} min · WATCH ≤ {target} min · OVER TARGET > {target} "
    "min or an incident overdue · SMALL SAMPLE < {n} responses · NO DATA: none"
)


@dataclass(frozen=True, slots=True)
class PoldaEscalations:
    """One Polda's calls in a window and how many of them left it (national board: who escalates most).

    ``escalated``: calls that rang beyond their first tier (Polres → Polda or Mabes); ``to_mabes``: calls that reached
    Mabes. Counts over the same calls as ``TierStats`` (by received time, exact to the second)."""

    polda_id: str
    name: str
    window: Window
    received: int
    escalated: int
    to_mabes: int

    @property
    def escalated_pct(self) -> float | None:
        return None if self.received == 0 else 100.0 * self.escalated / self.received

    @property
    def to_mabes_pct(self) -> float | None:
        return None if self.received == 0 else 100.0 * self.to_mabes / self.received


@dataclass(frozen=True, slots=True)
class BoardSnapshot:
    as_of: float
    tz: str
    polda_id: str
    polda_name: str
    volume: VolumeSeries
    queue: QueueSnapshot
    tiers: dict[Window, TierStats]  # at least TODAY, LAST_60_MIN, PREVIOUS_60_MIN
    response_window: Window
    response_by_polres: tuple[ResponseStats, ...]  # one per Polres, worst (highest p90) first
    response_polda: ResponseStats
    units_by_status: dict[str, int] = field(default_factory=dict)  # UnitStatus value -> count
    # The same tier statistics split by kind of call, for the supervisor's genuine / prank / other filter.
    tiers_by_kind: dict[Window, dict[CallKindGroup, TierStats]] = field(default_factory=dict)
    # Drill-downs the hub was asked for (an open Polres or Polda detail), by Polres or Polda id.
    details: dict[str, PolresDetail] = field(default_factory=dict)
    # The unit board (its rows in the wall's order with their overruns, and the totals) and every unit over a
    # time-in-status limit (core/units.py).
    unit_board: UnitBoard = UnitBoard()
    unit_overruns: tuple[StatusOverrun, ...] = ()
    # Open incidents without a unit on scene, most urgent first (cut at a limit), and how many in all (core/risk.py).
    at_risk: tuple[AtRisk, ...] = ()
    at_risk_total: int = 0
    # The deadlines of every incident at risk (not only the rows carried), earliest first: how many are overdue at any
    # moment between snapshots is ``at_risk_overdue(now)``.
    at_risk_deadlines: tuple[float, ...] = ()
    # Repeated prank callers (numbers masked unless the desk is authorised), shares, cells (core/prank.py).
    prank_watch: PrankWatch | None = None
    # National board only (empty on a Polda's board): one response figure per Polda, worst first, computed like a
    # Polres gauge over all of that Polda's Polres; and per Polda, who sends calls up the tiers (worst first) for
    # TODAY and LAST_60_MIN.
    response_by_polda: tuple[ResponseStats, ...] = ()
    escalations_by_polda: dict[Window, tuple[PoldaEscalations, ...]] = field(default_factory=dict)

    def at_risk_overdue(self, now: float) -> int:
        """Incidents at risk that are overdue at ``now`` (the overdue rule's edge: strictly past the deadline), over
        all of them. Valid until the next snapshot: an incident reached or closed since is still counted."""
        return overdue_count(self.at_risk_deadlines, now)

    def tier_stats(self, window: Window, kinds: frozenset[CallKindGroup] | None = None) -> TierStats:
        """``tiers[window]`` counting only calls of ``kinds`` (None or every kind: the whole figure as computed)."""
        whole = self.tiers[window]
        if kinds is None or kinds >= frozenset(CallKindGroup) or window not in self.tiers_by_kind:
            return whole
        parts = self.tiers_by_kind[window]
        empty = TierStats(window, 0, dict.fromkeys(whole.answered_by_tier, 0), dict.fromkeys(whole.escalations, 0),
                          0, 0, 0, whole.answer_threshold_s, 0, 0, 0)  # fmt: skip
        total = empty
        for kind in sorted(kinds):
            total = total.plus(parts[kind])
        return total


@dataclass(frozen=True, slots=True)
class IncidentTimeline:
    """One incident for the drill-down: received → answered → dispatched → en route → on scene → closed."""

    incident: Incident
    answered_at: float | None  # from the linked call
    caller_number: str | None  # masked (core.privacy) unless unmask_caller_numbers: the desk is authorised
    overdue: bool  # open, no unit on scene, past the target (core.metrics.is_overdue)


@dataclass(frozen=True, slots=True)
class PolresDetail:
    """What a supervisor sees after clicking a Polres gauge."""

    polres_id: str
    stats: ResponseStats
    incidents: tuple[IncidentTimeline, ...]  # newest first: those received in the window, plus any still open
    units: tuple[Unit, ...]
    polres_ids: tuple[str, ...] = ()  # the Polres it covers: one, or every Polres of a Polda's detail
    unit_board: UnitBoardRow | None = None  # its units by status (summed over a Polda's Polres)
    status_since: dict[str, float | None] = field(default_factory=dict)  # unit id -> when it entered its status
    polres_stats: tuple[ResponseStats, ...] = ()  # a Polda's detail on the national board: its Polres, worst first


def to_jsonable(value: Any) -> Any:
    """Turn a snapshot (or any part of it) into JSON-ready data: enums to values, tuple keys to "a->b"."""
    if hasattr(value, "__dataclass_fields__"):
        out = {f.name: to_jsonable(getattr(value, f.name)) for f in fields(value)}
        for name in ("service_level_pct", "prank_share_pct", "abandoned_pct", "answered", "total", "small_sample",
                     "status", "escalated_pct", "to_mabes_pct"):  # fmt: skip
            if hasattr(type(value), name) and isinstance(getattr(type(value), name), property):
                out[name] = to_jsonable(getattr(value, name))
        return out
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {_json_key(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def _json_key(key: Any) -> str:
    if isinstance(key, tuple):
        return "->".join(_json_key(k) for k in key)
    if isinstance(key, Enum):
        return str(key.value)
    return str(key)
