"""The metrics engine: what every panel shows, kept up to date one record at a time.

Ingesting a record costs the same whatever the history holds: a call adds +1 to a few counters of its minute (and of
its hour); an incident inserts its response time into the sorted list of its Polres and local day. When a newer
revision replaces an older one, the old record's contributions are taken back first, so late, repeated and
out-of-order delivery ends in exactly the numbers a recomputation from the latest revisions gives (the property
tests check this against a brute-force implementation).

Windows are read from those counters to the second: whole hours and whole minutes inside a window come from the
counters, and the partial minute at each edge is recounted from the few calls received in it (an index of calls per
minute). "Today" is the board's local calendar day (the zone's midnight, not UTC's); "last 60 min" and "previous 60
min" slide with ``now``. Indonesian zones have no daylight saving time, so for them the local day is computed with
one fixed UTC offset (fast); a zone whose offset changes goes through ``zoneinfo`` for every day boundary.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from wallboard.core.model import (
    TIERS_IN_ORDER,
    Call,
    CallCategory,
    CallKindGroup,
    Incident,
    QueueState,
    Tier,
    Unit,
    UnitStatus,
)
from wallboard.core.prank import PrankIndex
from wallboard.core.privacy import mask_phone
from wallboard.core.reference import ReferenceData
from wallboard.core.risk import UnitIndex, at_risk
from wallboard.core.snapshot import (
    BoardSnapshot,
    IncidentTimeline,
    PoldaEscalations,
    PolresDetail,
    QueueSnapshot,
    ResponseStats,
    TierStats,
    VolumeSeries,
    Window,
)
from wallboard.core.timeutil import local_date
from wallboard.core.units import (
    STATUS_ORDER,
    StatusLimits,
    UnitBoard,
    UnitBoardRow,
    overruns,
    status_since,
    unit_board,
)

MINUTE = 60
HOUR = 3600
DAY = 86400
SERIES_SPAN_S = DAY
RATE_SPAN_S = 15 * MINUTE
ALIGN_S = 5 * MINUTE  # the chart's bins: the volume series ends on a local 5-minute boundary

# One bucket's counters are a flat list of ints (fast to update, fast to add up): one block of FIELDS counters per
# kind of call (genuine, nuisance, other), so the supervisor's "only genuine calls" filter reads the same counters.
RECEIVED = 0
CATEGORISED = 1
ABANDONED = 2
WAITING = 3
ANSWERED_WITHIN = 4
ANSWERED_AT = {tier: 5 + i for i, tier in enumerate(TIERS_IN_ORDER)}  # 5..8
ESCALATION_PAIRS: tuple[tuple[Tier, Tier], ...] = tuple(
    (a, b) for i, a in enumerate(TIERS_IN_ORDER) for b in TIERS_IN_ORDER[i + 1 :]
)
ESCALATION_AT = {pair: 9 + i for i, pair in enumerate(ESCALATION_PAIRS)}  # 9..14
FIELDS = 9 + len(ESCALATION_PAIRS)
KIND_GROUPS: tuple[CallKindGroup, ...] = (CallKindGroup.GENUINE, CallKindGroup.NUISANCE, CallKindGroup.OTHER)
BLOCK_OF = {group: i * FIELDS for i, group in enumerate(KIND_GROUPS)}
VECTOR_LEN = FIELDS * len(KIND_GROUPS)
ALL_KINDS = frozenset(KIND_GROUPS)

_BLOCK_OF_CATEGORY = {category: BLOCK_OF[CallKindGroup.of(category)] for category in CallCategory}
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


#: The Polres detail lists units in this order of status.
UNIT_LIST_ORDER = {
    UnitStatus.ON_SCENE: 0,
    UnitStatus.EN_ROUTE: 1,
    UnitStatus.DISPATCHED: 2,
    UnitStatus.RETURNING: 3,
    UnitStatus.AVAILABLE: 4,
    UnitStatus.OUT_OF_SERVICE: 5,
}


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    tz: str = "Asia/Makassar"
    answer_threshold_s: float = 10.0
    target_s: float = 600.0
    aspiration_s: float = 300.0
    bucket_s: int = 60
    queue_max_age_s: float = 30.0  # an older queue document is ignored; waiting calls come from call records
    min_sample: int = 5  # fewer response times than this: no p90 shown or alerted on ("small sample")
    stale_fix_s: float = 120.0  # a unit's position is stale after this (the map greys it; the unit board counts it)
    status_limits: StatusLimits = StatusLimits()  # time-in-status alerts
    at_risk_limit: int = 50  # incidents at risk carried in a snapshot (the total is counted in full)
    prank_flag_at: int = 3  # a number is flagged at this many prank/silent calls in 7 days
    unmask_caller_numbers: bool = False  # numbers leave the core in full only for an authorised desk

    def __post_init__(self) -> None:
        # The volume chart is read from per-minute counters: a bucket must be whole minutes that tile the 24 h span.
        if not _valid_bucket(self.bucket_s):
            raise ValueError(f"bucket_s must be a multiple of 60 that divides 86400, got {self.bucket_s!r}")


def _valid_bucket(bucket_s: int) -> bool:
    return isinstance(bucket_s, int) and bucket_s >= MINUTE and bucket_s % MINUTE == 0 and DAY % bucket_s == 0


def percentile(sorted_values: list[float], p: float) -> float | None:
    """numpy.percentile's default ("linear"): interpolate between the closest ranks of ``sorted_values``."""
    n = len(sorted_values)
    if n == 0:
        return None
    rank = (p / 100.0) * (n - 1)
    lo = math.floor(rank)
    hi = min(lo + 1, n - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (rank - lo)


def overdue_at(incident: Incident, target_s: float) -> float | None:
    """When an incident turns overdue (call received + target), or None if it cannot: a unit is on scene or it is
    closed. The one overdue rule: the gauges count with it, the drill-down marks with it, the map gets its deadline."""
    if incident.on_scene_at is not None or incident.closed_at is not None:
        return None
    return incident.call_received_at + target_s


def ageing_at(incident: Incident, target_s: float) -> float | None:
    """When an incident without a unit on scene has used half its target (the map turns it amber), or None."""
    deadline = overdue_at(incident, target_s)
    return None if deadline is None else deadline - target_s / 2


def is_overdue(incident: Incident, now: float, target_s: float) -> bool:
    """Open, no unit on scene, and the call came in more than ``target_s`` before ``now``."""
    deadline = overdue_at(incident, target_s)
    return deadline is not None and now > deadline


def _call_indices(call: Call, threshold_s: float) -> list[int]:
    """The counters one call adds 1 to in the bucket of its received time."""
    base = _BLOCK_OF_CATEGORY[call.category]
    out = [base + RECEIVED]
    if call.category is not CallCategory.UNKNOWN:
        out.append(base + CATEGORISED)
    for e in call.escalations:
        pair_index = ESCALATION_AT.get((e.from_tier, e.to_tier))
        if pair_index is not None:
            out.append(base + pair_index)
    if call.answered_at is not None and call.answered_tier is not None:
        out.append(base + ANSWERED_AT[call.answered_tier])
        if call.answered_at - call.received_at <= threshold_s:
            out.append(base + ANSWERED_WITHIN)
    elif call.abandoned_at is not None:
        out.append(base + ABANDONED)
    else:
        out.append(base + WAITING)
    return out


def _fixed_utc_offset(zone: ZoneInfo) -> float | None:
    """The zone's UTC offset in seconds if it does not change from 2000 to 2100 (checked twice a year), else None.

    Read from the tz database, not from the wall clock (core code does not read the clock). Board data is from this
    century, so a zone that changed before 2000 (Pontianak moved from WITA to WIB in 1988) still takes the fast path.
    """
    offsets = {datetime(year, month, 15, 12, tzinfo=zone).utcoffset() for year in range(2000, 2101) for month in (1, 7)}
    if len(offsets) != 1:
        return None
    (offset,) = offsets
    return None if offset is None else offset.total_seconds()


class _Buckets:
    """Counter vectors per minute and per hour, keyed by integer bucket number (POSIX seconds // size), and the
    calls of each minute (to count the partial minutes at a window's edges exactly)."""

    __slots__ = ("calls", "hours", "minutes")

    def __init__(self) -> None:
        self.minutes: dict[int, list[int]] = {}
        self.hours: dict[int, list[int]] = {}
        self.calls: dict[int, dict[str, Call]] = {}

    def add(self, call: Call, indices: list[int]) -> None:
        minute = int(call.received_at // MINUTE)
        vec = self.minutes.get(minute)
        if vec is None:
            vec = self.minutes[minute] = [0] * VECTOR_LEN
            self.calls[minute] = {}
        hour_vec = self.hours.get(minute // 60)
        if hour_vec is None:
            hour_vec = self.hours[minute // 60] = [0] * VECTOR_LEN
        for i in indices:
            vec[i] += 1
            hour_vec[i] += 1
        self.calls[minute][call.id] = call

    def remove(self, call: Call, indices: list[int]) -> None:
        minute = int(call.received_at // MINUTE)
        vec = self.minutes[minute]
        hour_vec = self.hours[minute // 60]
        for i in indices:
            vec[i] -= 1
            hour_vec[i] -= 1
        del self.calls[minute][call.id]

    def sum_range(self, start: float, end: float, threshold_s: float) -> list[int]:
        """Totals over the calls received in [start, end)."""
        total = [0] * VECTOR_LEN
        if not start < end:
            return total
        first_whole = math.ceil(start / MINUTE)
        end_whole = math.floor(end / MINUTE)  # exclusive
        if first_whole >= end_whole:  # the window lies inside one minute, or straddles two partial ones
            self._add_partial(total, int(start // MINUTE), start, end, threshold_s)
            if int(end // MINUTE) != int(start // MINUTE):
                self._add_partial(total, int(end // MINUTE), start, end, threshold_s)
            return total
        if first_whole * MINUTE > start:
            self._add_partial(total, first_whole - 1, start, end, threshold_s)
        if end_whole * MINUTE < end:
            self._add_partial(total, end_whole, start, end, threshold_s)
        minutes, hours = self.minutes, self.hours
        minute = first_whole
        while minute < end_whole:
            if minute % 60 == 0 and minute + 60 <= end_whole:
                vec = hours.get(minute // 60)
                minute += 60
            else:
                vec = minutes.get(minute)
                minute += 1
            if vec is not None:
                for i, v in enumerate(vec):
                    if v:
                        total[i] += v
        return total

    def _add_partial(self, total: list[int], minute: int, start: float, end: float, threshold_s: float) -> None:
        for call in self.calls.get(minute, {}).values():
            if start <= call.received_at < end:
                for i in _call_indices(call, threshold_s):
                    total[i] += 1

    def earliest(self) -> float | None:
        """The earliest received time of any counted call."""
        hours = [h for h, vec in self.hours.items() if any(vec[BLOCK_OF[g] + RECEIVED] for g in KIND_GROUPS)]
        if not hours:
            return None
        first_hour = min(hours)
        for minute in range(first_hour * 60, first_hour * 60 + 60):
            calls = self.calls.get(minute)
            if calls:
                return min(c.received_at for c in calls.values())
        return None  # unreachable while hour and minute counters agree

    def prune(self, before_minute: int) -> None:
        for key in [k for k in self.minutes if k < before_minute]:
            del self.minutes[key]
            del self.calls[key]
        for key in [k for k in self.hours if k < before_minute // 60]:
            del self.hours[key]


class _PolresDay:
    """One Polres' incidents of one local day: call times and sorted response times."""

    __slots__ = ("received", "responses", "timed")

    def __init__(self) -> None:
        self.received: list[float] = []  # sorted call_received_at of every incident
        self.responses: list[float] = []  # sorted response times (incidents with an on-scene time)
        self.timed: list[tuple[float, float]] = []  # sorted (call_received_at, response) for partial days


class MetricsEngine:
    """Incremental metrics for one Polda's board (or the whole country when ``polda_id`` is None).

    Records of Polres outside the board's Polda are kept (the newest revision still wins) but count in nothing.
    """

    def __init__(self, reference: ReferenceData, polda_id: str | None, settings: MetricsSettings) -> None:
        self.settings = settings
        self.polda_id = polda_id
        self._zone = ZoneInfo(settings.tz)
        self._fixed_offset_s = _fixed_utc_offset(self._zone)
        self._calls: dict[str, Call] = {}
        self._incidents: dict[str, Incident] = {}
        self._incidents_by_polres: dict[str, dict[str, Incident]] = {}
        self._units: dict[str, Unit] = {}
        self._queue: QueueState | None = None
        self._buckets = _Buckets()
        self._days: dict[tuple[str, int], _PolresDay] = {}
        self._open: dict[str, dict[str, Incident]] = {}  # in-scope polres -> its open incidents
        self._waiting: dict[str, Call] = {}  # in-scope calls still ringing
        self._unit_status: dict[str, int] = {}
        self._status_since: dict[str, float | None] = {}  # unit id -> when it entered its status (core/units.py)
        self._prank = PrankIndex()
        self._horizon = -math.inf  # calls received before this were pruned
        # National board: per hour, per Polda, [received, escalated, to Mabes] (who sends calls up the tiers).
        self._polda_hours: dict[int, dict[str, list[int]]] = {}
        self._polda_of: dict[str, str] = {}  # Polres id -> Polda id, as the counters above were made with
        self.reference = reference
        self._scope: frozenset[str] | None = None
        self._scope_known = False
        self.set_reference(reference)

    # --- reference and scope -------------------------------------------------------------------------------------

    def set_reference(self, reference: ReferenceData) -> None:
        """New reference data may change which Polres are in scope: then recount everything from the kept records."""
        self.reference = reference
        scope = None if self.polda_id is None else frozenset(p.id for p in reference.polres_of(self.polda_id))
        if self.polda_id is None:
            polda_of = {p.id: p.polda_id for p in reference.polres.values()}
            if polda_of != self._polda_of:  # Polres moved between Polda (or arrived): recount who escalates
                self._polda_of = polda_of
                self._polda_hours.clear()
                for c in self._calls.values():
                    self._count_polda(c, 1)
        if self._scope_known and scope == self._scope:
            return
        self._scope, self._scope_known = scope, True
        calls, incidents, units = list(self._calls.values()), list(self._incidents.values()), list(self._units.values())
        self._calls.clear()
        self._incidents.clear()
        self._incidents_by_polres.clear()
        self._units.clear()
        self._buckets = _Buckets()
        self._polda_hours.clear()
        self._days.clear()
        self._open.clear()
        self._waiting.clear()
        self._unit_status.clear()
        self._prank = PrankIndex()
        since = dict(self._status_since)
        for c in calls:
            self.ingest_call(c)
        for i in incidents:
            self.ingest_incident(i)
        for u in units:
            self.ingest_unit(u)
        self._status_since.update(since)  # a recount keeps when each unit entered its status

    def in_scope(self, polres_id: str) -> bool:
        return self._scope is None or polres_id in self._scope

    @property
    def calls(self) -> Mapping[str, Call]:
        return MappingProxyType(self._calls)

    @property
    def incidents(self) -> Mapping[str, Incident]:
        return MappingProxyType(self._incidents)

    @property
    def units(self) -> Mapping[str, Unit]:
        return MappingProxyType(self._units)

    # --- ingest --------------------------------------------------------------------------------------------------

    def ingest_call(self, call: Call) -> bool:
        """Take a call revision; True if it changed state (a new call, or a newer revision of a known one)."""
        old = self._calls.get(call.id)
        if old is not None and old.rev >= call.rev:
            return False
        received = call.received_at
        # The wire decoder rejects non-finite times; a record built elsewhere must not crash the board either.
        if not math.isfinite(received) or (received < self._horizon and old is None):
            return False
        threshold = self.settings.answer_threshold_s
        scope = self._scope
        if old is not None and (scope is None or old.polres_id in scope):
            self._buckets.remove(old, _call_indices(old, threshold))
            self._waiting.pop(old.id, None)
            self._prank.apply(old, self._day_key(old.received_at), -1)
        if old is not None:
            self._count_polda(old, -1)
        if received < self._horizon:  # a correction moved it into pruned history: forget it
            del self._calls[call.id]
            return True
        self._calls[call.id] = call
        self._count_polda(call, 1)
        if scope is None or call.polres_id in scope:
            self._buckets.add(call, _call_indices(call, threshold))
            self._prank.apply(call, self._day_key(received), 1)
            if call.answered_at is None and call.abandoned_at is None:
                self._waiting[call.id] = call
        return True

    def _count_polda(self, call: Call, sign: int) -> None:
        """National board: add (or take back) a call in its Polda's hourly escalation counters."""
        polda = self._polda_of.get(call.polres_id) if self.polda_id is None else None
        if polda is None:
            return
        hour = self._polda_hours.setdefault(int(call.received_at // HOUR), {})
        vec = hour.get(polda)
        if vec is None:
            vec = hour[polda] = [0, 0, 0]
        for i, value in enumerate(_escalation_vector(call)):
            vec[i] += sign * value

    def ingest_calls(self, calls: Iterable[Call]) -> int:
        return sum(self.ingest_call(c) for c in calls)

    def _incident_contribution(self, incident: Incident, sign: int) -> None:
        key = (incident.polres_id, self._day_key(incident.call_received_at))
        received = incident.call_received_at
        response = incident.response_time_s
        if sign > 0:
            day = self._days.get(key)
            if day is None:
                day = self._days[key] = _PolresDay()
            bisect.insort(day.received, received)
            if response is not None:
                bisect.insort(day.responses, response)
                bisect.insort(day.timed, (received, response))
            if incident.closed_at is None:
                self._open.setdefault(incident.polres_id, {})[incident.id] = incident
            return
        open_here = self._open.get(incident.polres_id)
        if open_here is not None:
            open_here.pop(incident.id, None)
        day = self._days.get(key)
        if day is not None:  # None: its day was pruned
            _remove_sorted(day.received, received)
            if response is not None:
                _remove_sorted(day.responses, response)
                _remove_sorted(day.timed, (received, response))
            if not day.received:  # an empty day would list a Polres that no longer has incidents
                del self._days[key]

    def ingest_incident(self, incident: Incident) -> bool:
        """Take an incident revision; True if it changed state."""
        old = self._incidents.get(incident.id)
        if old is not None and old.rev >= incident.rev:
            return False
        received, on_scene = incident.call_received_at, incident.on_scene_at
        if not math.isfinite(received) or (on_scene is not None and not math.isfinite(on_scene)):
            return False
        self._incidents[incident.id] = incident
        if old is not None:
            del self._incidents_by_polres[old.polres_id][old.id]
            if self.in_scope(old.polres_id):
                self._incident_contribution(old, -1)
        self._incidents_by_polres.setdefault(incident.polres_id, {})[incident.id] = incident
        if self.in_scope(incident.polres_id):
            self._incident_contribution(incident, 1)
        return True

    def ingest_unit(self, unit: Unit) -> bool:
        """Take a unit revision; True if it changed state."""
        old = self._units.get(unit.id)
        if old is not None and old.rev >= unit.rev:
            return False
        self._units[unit.id] = unit
        self._status_since[unit.id] = status_since(old, unit, self._status_since.get(unit.id))
        if old is not None and self.in_scope(old.polres_id):
            self._unit_status[old.status.value] -= 1
        if self.in_scope(unit.polres_id):
            key = unit.status.value
            self._unit_status[key] = self._unit_status.get(key, 0) + 1
        return True

    def forget_units(self, unit_ids: Iterable[str]) -> int:
        """Forget these units (the feed has not sent them for a long time); returns how many were held. A later
        revision of one is taken as a new unit."""
        forgotten = 0
        for unit_id in unit_ids:
            unit = self._units.pop(unit_id, None)
            if unit is None:
                continue
            forgotten += 1
            if self.in_scope(unit.polres_id):
                self._unit_status[unit.status.value] -= 1
        return forgotten

    def set_queue(self, queue: QueueState) -> None:
        """The live-queue document; an older one than the one held is ignored."""
        if self._queue is None or queue.as_of >= self._queue.as_of:
            self._queue = queue

    def prune(self, before: float) -> None:
        """Forget calls and closed incidents received before ``before`` (rounded down to the hour; open incidents
        stay: they are still work). Late revisions of pruned calls are ignored."""
        horizon = math.floor(before / HOUR) * HOUR
        if horizon <= self._horizon:
            return
        self._horizon = horizon
        for call_id in [k for k, c in self._calls.items() if c.received_at < horizon]:
            call = self._calls.pop(call_id)
            self._waiting.pop(call.id, None)
            if self.in_scope(call.polres_id):
                self._prank.apply(call, self._day_key(call.received_at), -1)
        self._buckets.prune(int(horizon // MINUTE))
        for hour in [h for h in self._polda_hours if h < horizon // HOUR]:
            del self._polda_hours[hour]
        cut_day = self._day_key(horizon)
        self._prank.forget_days_before(cut_day)
        for key in [k for k in self._days if k[1] < cut_day]:
            del self._days[key]
        for incident_id in [
            k for k, i in self._incidents.items() if i.call_received_at < horizon and i.closed_at is not None
        ]:
            incident = self._incidents.pop(incident_id)
            del self._incidents_by_polres[incident.polres_id][incident_id]

    # --- local days and windows ----------------------------------------------------------------------------------

    def _day_key(self, t: float) -> int:
        """The board-local day containing ``t``, as days since 1970-01-01."""
        if self._fixed_offset_s is not None:
            return int((t + self._fixed_offset_s) // DAY)
        return local_date(t, self._zone).toordinal() - _EPOCH_ORDINAL

    def _day_start(self, day_key: int) -> float:
        if self._fixed_offset_s is not None:
            return day_key * DAY - self._fixed_offset_s
        d = date.fromordinal(day_key + _EPOCH_ORDINAL)
        return datetime(d.year, d.month, d.day, tzinfo=self._zone).timestamp()

    def local_midnight(self, t: float) -> float:
        return self._day_start(self._day_key(t))

    def window_bounds(self, window: Window, now: float) -> tuple[float, float]:
        """[start, end) of a window; ``end`` is the next float after ``now`` so a call received at ``now`` counts."""
        end = math.nextafter(now, math.inf)
        if window is Window.LAST_60_MIN:
            return now - HOUR, end
        if window is Window.PREVIOUS_60_MIN:
            return now - 2 * HOUR, now - HOUR
        if window is Window.TODAY:
            return self.local_midnight(now), end
        return self._day_start(self._day_key(now) - 6), end

    # --- snapshot ------------------------------------------------------------------------------------------------

    def snapshot(
        self, now: float, response_window: Window = Window.TODAY, details: Iterable[str] = ()
    ) -> BoardSnapshot:
        """Everything the board shows at ``now``; ``details`` names the Polres (or the board's Polda) whose drill-down
        is open somewhere, so the snapshot carries it too."""
        polres_ids = self._board_polres_ids()
        response = [self.response_stats(pid, now, response_window) for pid in polres_ids]
        response.sort(key=_worst_first)
        polda = self.reference.poldas.get(self.polda_id) if self.polda_id else None
        tiers: dict[Window, TierStats] = {}
        tiers_by_kind: dict[Window, dict[CallKindGroup, TierStats]] = {}
        for window in Window:
            vector = self._tier_vector(window, now)
            tiers[window] = self._tier_stats_of(vector, window, ALL_KINDS)
            tiers_by_kind[window] = {g: self._tier_stats_of(vector, window, frozenset((g,))) for g in KIND_GROUPS}
        return BoardSnapshot(
            as_of=now,
            tz=self.settings.tz,
            polda_id=self.polda_id or "national",
            polda_name=polda.name if polda else (self.polda_id or "Indonesia"),
            volume=self.volume(now),
            queue=self.queue(now),
            tiers=tiers,
            tiers_by_kind=tiers_by_kind,
            response_window=response_window,
            response_by_polres=tuple(response),
            response_polda=self.response_stats(None, now, response_window, polres_ids=polres_ids),
            units_by_status={k: v for k, v in self._unit_status.items() if v},
            details={unit_id: self.detail(unit_id, now, response_window) for unit_id in details},
            **self._panels(now, polres_ids),
            response_by_polda=self.response_by_polda(now, response_window) if self.polda_id is None else (),
            escalations_by_polda=(
                {w: self.escalations_by_polda(w, now) for w in (Window.TODAY, Window.LAST_60_MIN)}
                if self.polda_id is None
                else {}
            ),
        )

    def _panels(self, now: float, polres_ids: list[str]) -> dict[str, Any]:
        """The unit board, time-in-status overruns, incidents at risk and the prank watch (one pass over the units,
        the open incidents, and the numbers that called more than once)."""
        names = {pid: self._polres_name(pid) for pid in polres_ids}
        units = self._units.values()
        s = self.settings
        scope, cutoff, free = self._scope, now - s.stale_fix_s, UnitStatus.AVAILABLE

        def available() -> UnitIndex:
            return UnitIndex(
                u for u in units
                if u.status is free and u.fix is not None and u.fix.at >= cutoff
                and (scope is None or u.polres_id in scope)
            )  # fmt: skip

        risky, deadlines = at_risk(
            (i for pid in polres_ids for i in self._open.get(pid, {}).values()),
            names,
            lambda i: overdue_at(i, s.target_s),
            available,
            s.at_risk_limit,
            lambda i: ageing_at(i, s.target_s),
        )
        today = self._day_key(now)
        end = math.nextafter(now, math.inf)
        late = overruns(units, self._status_since, names, now, s.status_limits)
        return {
            "unit_board": UnitBoard.of(unit_board(units, names, now, s.stale_fix_s, late)),
            "unit_overruns": late,
            "at_risk": risky,
            "at_risk_total": len(deadlines),
            "at_risk_deadlines": deadlines,
            "prank_watch": self._prank.watch(
                today=today,
                today_start=self._day_start(today),
                week_start=self._day_start(today - 6),
                end=end,
                names=names,
                flag_at=s.prank_flag_at,
                unmasked=s.unmask_caller_numbers,
                polres_ok=self.in_scope,
            ),
        }

    def _polres_name(self, polres_id: str) -> str:
        polres = self.reference.polres.get(polres_id)
        return polres.name if polres else polres_id

    def response_by_polda(self, now: float, window: Window) -> tuple[ResponseStats, ...]:
        """One figure per Polda over all its Polres (the national board's tiles), worst first: the same rules as a
        Polres gauge, computed over the union of its Polres' incidents."""
        out = []
        for polda in self.reference.poldas.values():
            ids = [p.id for p in self.reference.polres_of(polda.id)]
            stats = self.response_stats(None, now, window, polres_ids=ids)
            out.append(replace(stats, unit_id=polda.id, name=polda.name))
        out.sort(key=_worst_first)
        return tuple(out)

    def escalations_by_polda(self, window: Window, now: float) -> tuple[PoldaEscalations, ...]:
        """Per Polda (national board), calls received in the window, how many rang beyond their first tier and how
        many reached Mabes; most sent to Mabes first. Whole hours come from counters, the partial hours at the edges
        are recounted from their calls, so the window is exact to the second like every other."""
        start, end = self.window_bounds(window, now)
        totals: dict[str, list[int]] = {p: [0, 0, 0] for p in self.reference.poldas}

        def add(polda: str | None, vec: list[int] | tuple[int, int, int]) -> None:
            if polda is not None:
                row = totals.setdefault(polda, [0, 0, 0])
                for i, v in enumerate(vec):
                    row[i] += v

        first_whole, end_whole = math.ceil(start / HOUR), math.floor(end / HOUR)
        if first_whole >= end_whole:
            edges = [(start, end)]
        else:
            for hour in range(first_whole, end_whole):
                for polda, vec in self._polda_hours.get(hour, {}).items():
                    add(polda, vec)
            edges = [(start, first_whole * HOUR), (end_whole * HOUR, end)]
        for lo, hi in edges:
            for minute in range(int(lo // MINUTE), math.ceil(hi / MINUTE)):
                for call in self._buckets.calls.get(minute, {}).values():
                    if lo <= call.received_at < hi:
                        add(self._polda_of.get(call.polres_id), _escalation_vector(call))
        out = []
        for polda_id, (received, escalated, to_mabes) in totals.items():
            known = self.reference.poldas.get(polda_id)
            out.append(PoldaEscalations(polda_id, known.name if known else polda_id, window, received, escalated,
                                        to_mabes))  # fmt: skip
        out.sort(key=lambda e: (-e.to_mabes, -e.escalated, -e.received, e.name))
        return tuple(out)

    def _board_polres_ids(self) -> list[str]:
        """The board's Polres in reference order; on a national board also unknown Polres that have incidents."""
        if self.polda_id is not None:
            return [p.id for p in self.reference.polres_of(self.polda_id)]
        known = list(self.reference.polres)
        seen = set(known)
        extra = sorted({pid for pid, _ in self._days} - seen)
        return known + extra

    def volume(self, now: float, bucket_s: int | None = None) -> VolumeSeries:
        """Calls per bucket over the 24 h ending with the bucket that holds ``now`` (``bucket_s`` defaults to the
        settings'; 300 and 3600 give the 5-minute and hourly roll-ups)."""
        bucket_s = self.settings.bucket_s if bucket_s is None else bucket_s
        if not _valid_bucket(bucket_s):
            raise ValueError(f"bucket_s must be a multiple of 60 that divides 86400, got {bucket_s!r}")
        n = SERIES_SPAN_S // bucket_s
        # End at the close of the local 5-minute bin (or of the bucket, if longer) that holds ``now``: the bins stay
        # on the local clock's boundaries, so the day's curve does not change shape every minute.
        align = max(bucket_s, ALIGN_S)
        offset = self._utc_offset(now)
        start = (math.floor((now + offset) / align) + 1) * align - offset - SERIES_SPAN_S
        genuine, nuisance, other = self._series(start, n, bucket_s)
        previous_day = same_weekday = None
        earliest = self._buckets.earliest()
        if earliest is not None and earliest < start:
            previous_day = _totals(self._series(start - DAY, n, bucket_s))
        if earliest is not None and earliest < start - 6 * DAY:
            same_weekday = _totals(self._series(start - 7 * DAY, n, bucket_s))
        end = math.nextafter(now, math.inf)
        recent = self._buckets.sum_range(now - RATE_SPAN_S, end, self.settings.answer_threshold_s)
        return VolumeSeries(
            bucket_s=bucket_s,
            start=start,
            genuine=genuine,
            nuisance=nuisance,
            other=other,
            previous_day=previous_day,
            same_weekday_last_week=same_weekday,
            current_rate_per_hour=_received(recent, ALL_KINDS) * HOUR / RATE_SPAN_S,
            as_of=now,
            align_s=align,
        )

    def _utc_offset(self, t: float) -> float:
        if self._fixed_offset_s is not None:
            return self._fixed_offset_s
        offset = datetime.fromtimestamp(math.floor(t), self._zone).utcoffset()  # floor: see local_date
        return 0.0 if offset is None else offset.total_seconds()

    def _series(self, start: float, n: int, bucket_s: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """Received calls per bucket, per kind (genuine, nuisance, other)."""
        minutes = self._buckets.minutes
        per = bucket_s // MINUTE
        first_minute = int(start // MINUTE)
        g_at, n_at, o_at = (BLOCK_OF[g] + RECEIVED for g in KIND_GROUPS)
        genuine, nuisance, other = [0] * n, [0] * n, [0] * n
        for i in range(n):
            base = first_minute + i * per
            for m in range(base, base + per):
                vec = minutes.get(m)
                if vec is not None:
                    genuine[i] += vec[g_at]
                    nuisance[i] += vec[n_at]
                    other[i] += vec[o_at]
        return tuple(genuine), tuple(nuisance), tuple(other)

    def queue(self, now: float) -> QueueSnapshot:
        q = self._queue
        if q is not None and now - q.as_of <= self.settings.queue_max_age_s:
            entries = [(e.received_at, e.tier) for e in q.entries if self.in_scope(e.polres_id)]
            source = "queue"
        else:
            entries = [(c.received_at, c.current_tier) for c in self._waiting.values() if c.received_at <= now]
            source = "calls"
        by_tier = dict.fromkeys(TIERS_IN_ORDER, 0)
        for _, tier in entries:
            by_tier[tier] += 1
        oldest = min((t for t, _ in entries), default=None)
        return QueueSnapshot(
            waiting=len(entries),
            longest_wait_s=None if oldest is None else max(0.0, now - oldest),
            waiting_by_tier=by_tier,
            source=source,
        )

    def tier_stats(self, window: Window, now: float, kinds: frozenset[CallKindGroup] = ALL_KINDS) -> TierStats:
        """Calls received in the window and what became of them; ``kinds`` keeps only those kinds of call."""
        return self._tier_stats_of(self._tier_vector(window, now), window, kinds)

    def _tier_vector(self, window: Window, now: float) -> list[int]:
        start, end = self.window_bounds(window, now)
        return self._buckets.sum_range(start, end, self.settings.answer_threshold_s)

    def _tier_stats_of(self, v: list[int], window: Window, kinds: frozenset[CallKindGroup]) -> TierStats:
        blocks = [BLOCK_OF[g] for g in KIND_GROUPS if g in kinds]

        def total(index: int) -> int:
            return sum(v[b + index] for b in blocks)

        return TierStats(
            window=window,
            received=total(RECEIVED),
            answered_by_tier={t: total(ANSWERED_AT[t]) for t in TIERS_IN_ORDER},
            escalations={pair: total(ESCALATION_AT[pair]) for pair in ESCALATION_PAIRS},
            abandoned=total(ABANDONED),
            waiting=total(WAITING),
            answered_within_threshold=total(ANSWERED_WITHIN),
            answer_threshold_s=self.settings.answer_threshold_s,
            genuine=v[BLOCK_OF[CallKindGroup.GENUINE] + RECEIVED] if CallKindGroup.GENUINE in kinds else 0,
            nuisance=v[BLOCK_OF[CallKindGroup.NUISANCE] + RECEIVED] if CallKindGroup.NUISANCE in kinds else 0,
            categorised=total(CATEGORISED),
        )

    def _window_responses(self, polres_ids: Iterable[str], start: float, end: float) -> tuple[list[float], int]:
        """Sorted response times and incident count for incidents whose call was received in [start, end).

        The returned list may be an engine-owned list: callers only read it.
        """
        first_day, last_day = self._day_key(start), self._day_key(math.nextafter(end, -math.inf))
        responses: list[float] = []
        count = 0
        whole_days = []
        for pid in polres_ids:
            for day_key in range(first_day, last_day + 1):
                day = self._days.get((pid, day_key))
                if day is None or not day.received:
                    continue
                # Every incident of this day inside the window: take its sorted list as it is.
                if start <= day.received[0] and day.received[-1] < end:
                    whole_days.append(day.responses)
                    count += len(day.received)
                else:
                    lo = bisect.bisect_left(day.received, start)
                    hi = bisect.bisect_left(day.received, end)
                    count += hi - lo
                    lo = bisect.bisect_left(day.timed, (start, -math.inf))
                    hi = bisect.bisect_left(day.timed, (end, -math.inf))
                    responses.extend(r for _, r in day.timed[lo:hi])
        if len(whole_days) == 1 and not responses:
            return whole_days[0], count
        for values in whole_days:
            responses.extend(values)
        responses.sort()
        return responses, count

    def response_stats(
        self, polres_id: str | None, now: float, window: Window, *, polres_ids: list[str] | None = None
    ) -> ResponseStats:
        """One Polres' response stats, or (``polres_id`` None) the whole board's over ``polres_ids``."""
        ids = [polres_id] if polres_id is not None else (self._board_polres_ids() if polres_ids is None else polres_ids)
        start, end = self.window_bounds(window, now)
        values, count_in_window = self._window_responses(ids, start, end)
        target, aspiration = self.settings.target_s, self.settings.aspiration_s
        n = len(values)
        within = bisect.bisect_right(values, target)
        within_aspiration = bisect.bisect_right(values, aspiration)
        open_count = overdue = 0
        for pid in ids:
            for incident in self._open.get(pid, {}).values():
                open_count += 1
                overdue += is_overdue(incident, now, target)
        if polres_id is not None:
            polres = self.reference.polres.get(polres_id)
            name = polres.name if polres else polres_id
            unit_id = polres_id
        else:
            polda = self.reference.poldas.get(self.polda_id) if self.polda_id else None
            name = polda.name if polda else (self.polda_id or "Indonesia")
            unit_id = self.polda_id or "national"
        return ResponseStats(
            unit_id=unit_id,
            name=name,
            window=window,
            count=n,
            median_s=percentile(values, 50),
            p90_s=percentile(values, 90),
            within_target_pct=None if n == 0 else 100.0 * within / n,
            within_aspiration_pct=None if n == 0 else 100.0 * within_aspiration / n,
            target_s=target,
            aspiration_s=aspiration,
            incidents=count_in_window,
            open_incidents=open_count,
            overdue_now=overdue,
            min_sample=self.settings.min_sample,
        )

    def detail(self, unit_id: str, now: float, window: Window) -> PolresDetail:
        """The drill-down of a Polres, or of the board's Polda (``unit_id`` = its id, or ``national``): every one of
        its Polres' incidents and units."""
        board_id = self.polda_id or "national"
        if unit_id == board_id or (self.polda_id is None and unit_id in self.reference.poldas):
            ids = self._board_polres_ids() if unit_id == board_id else [p.id for p in self.reference.polres_of(unit_id)]
            stats = self.response_stats(None, now, window, polres_ids=ids)
            if unit_id != board_id:
                polda = self.reference.poldas[unit_id]
                stats = replace(stats, unit_id=unit_id, name=polda.name)
                detail = self._detail(unit_id, ids, stats, now, window)
                per_polres = sorted((self.response_stats(pid, now, window) for pid in ids), key=_worst_first)
                return replace(detail, polres_stats=tuple(per_polres))
            return self._detail(unit_id, ids, stats, now, window)
        return self._detail(unit_id, [unit_id], self.response_stats(unit_id, now, window), now, window)

    def polres_detail(self, polres_id: str, now: float, window: Window) -> PolresDetail:
        """A Polres' drill-down: its response stats, its incidents in the window (plus any still open) newest first
        with their timelines, and its units."""
        return self._detail(polres_id, [polres_id], self.response_stats(polres_id, now, window), now, window)

    def _detail(
        self, unit_id: str, polres_ids: list[str], stats: ResponseStats, now: float, window: Window
    ) -> PolresDetail:
        start, end = self.window_bounds(window, now)
        wanted = set(polres_ids)
        incidents = [
            i
            for pid in polres_ids
            for i in self._incidents_by_polres.get(pid, {}).values()
            if start <= i.call_received_at < end or i.closed_at is None
        ]
        incidents.sort(key=lambda i: (i.call_received_at, i.id), reverse=True)
        target = self.settings.target_s
        unmasked = self.settings.unmask_caller_numbers
        timelines = []
        for i in incidents:
            call = self._calls.get(i.call_id) if i.call_id else None
            number = call.caller_number if call else None
            timelines.append(
                IncidentTimeline(
                    incident=i,
                    answered_at=call.answered_at if call else None,
                    # Masked here, so no snapshot (wall, drill-down, JSON, export, log) holds a full number unless
                    # the desk is authorised.
                    caller_number=mask_phone(number, unmasked=unmasked) if number else None,
                    overdue=is_overdue(i, now, target),
                )
            )
        # Units out on a job first (on scene, en route, dispatched, returning), then the free ones, then those out of
        # service: a wall shows the top of the list, and that is who is working the incidents.
        units = sorted(
            (u for u in self._units.values() if u.polres_id in wanted),
            key=lambda u: (UNIT_LIST_ORDER.get(u.status, len(UNIT_LIST_ORDER)), u.callsign, u.id),
        )
        # The same figures as the unit board's rows (same functions, same units): a Polres' drill-down shows its row.
        mine = {pid: pid for pid in polres_ids}
        late = overruns(units, self._status_since, mine, now, self.settings.status_limits)
        rows = unit_board(units, mine, now, self.settings.stale_fix_s, late)
        board = UnitBoardRow(
            unit_id,
            stats.name,
            {s.value: sum(r.by_status[s.value] for r in rows) for s in STATUS_ORDER},
            sum(r.stale_position for r in rows),
            sum(r.overruns for r in rows),
        )
        return PolresDetail(
            polres_id=unit_id,
            stats=stats,
            incidents=tuple(timelines),
            units=tuple(units),
            polres_ids=tuple(polres_ids),
            unit_board=board,
            status_since={u.id: self._status_since.get(u.id) for u in units},
        )

    def earliest_call_at(self) -> float | None:
        """The earliest received time of a call the board counts (None: no calls)."""
        return self._buckets.earliest()


def _worst_first(r: ResponseStats) -> tuple[bool, float, int, str, str]:
    """Sort key: highest p90 first, Polres without a meaningful p90 (none, or a small sample) last; ties by overdue
    count, then name."""
    p90 = None if r.small_sample else r.p90_s
    return (p90 is None, -(p90 or 0.0), -r.overdue_now, r.name, r.unit_id)


def _escalation_vector(call: Call) -> tuple[int, int, int]:
    """(received, escalated beyond the first tier, reached Mabes) for one call: 1 or 0 each."""
    escalated = 1 if call.escalations else 0
    to_mabes = 1 if any(e.to_tier is Tier.MABES for e in call.escalations) else 0
    return 1, escalated, to_mabes


def _received(vec: list[int], kinds: frozenset[CallKindGroup]) -> int:
    return sum(vec[BLOCK_OF[g] + RECEIVED] for g in KIND_GROUPS if g in kinds)


def _totals(series: tuple[tuple[int, ...], ...]) -> tuple[int, ...]:
    return tuple(sum(values) for values in zip(*series, strict=True))


def _remove_sorted(values: list[Any], item: object) -> None:
    index = bisect.bisect_left(values, item)
    if index < len(values) and values[index] == item:
        del values[index]
