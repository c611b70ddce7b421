"""The metrics engine: what every panel shows, kept up to date one record at a time.

Ingesting a record costs the same whatever the history holds: a call adds +1 to a few counters of its minute (and of
its hour); an incident inserts its response time into the sorted list of its Polres and local day. When a newer
revision replaces an older one, the old record's contributions are taken back first, so late, repeated and
out-of-order delivery ends in exactly the numbers a recomputation from the latest revisions gives (the property
tests check this against a brute-force implementation).

Windows are read from those counters: "today" is the board's local calendar day (the zone's midnight, not UTC's),
"last 60 min" and "previous 60 min" are sliding. Indonesian zones have no daylight saving time, so the board zone's
UTC offset is fixed and a local day is a whole number of hours.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from wallboard.core.model import (
    NUISANCE_CATEGORIES,
    TIERS_IN_ORDER,
    Call,
    CallCategory,
    Incident,
    QueueState,
    Tier,
    Unit,
    UnitStatus,
)
from wallboard.core.reference import ReferenceData
from wallboard.core.snapshot import (
    BoardSnapshot,
    IncidentTimeline,
    PolresDetail,
    QueueSnapshot,
    ResponseStats,
    TierStats,
    VolumeSeries,
    Window,
)

MINUTE = 60
HOUR = 3600
DAY = 86400
SERIES_SPAN_S = DAY
RATE_SPAN_S = 15 * MINUTE

# Layout of one time bucket's counter vector (a plain list of ints: fast to update, fast to add up).
RECEIVED = 0
GENUINE = 1
NUISANCE = 2
OTHER = 3
CATEGORISED = 4
ABANDONED = 5
WAITING = 6
ANSWERED_WITHIN = 7
ANSWERED_AT = {tier: 8 + i for i, tier in enumerate(TIERS_IN_ORDER)}  # 8..11
ESCALATION_PAIRS: tuple[tuple[Tier, Tier], ...] = tuple(
    (a, b) for i, a in enumerate(TIERS_IN_ORDER) for b in TIERS_IN_ORDER[i + 1 :]
)
ESCALATION_AT = {pair: 12 + i for i, pair in enumerate(ESCALATION_PAIRS)}  # 12..17
VECTOR_LEN = 12 + len(ESCALATION_PAIRS)

_GROUP_INDEX = {
    CallCategory.GENUINE: GENUINE,
    CallCategory.PRANK: NUISANCE,
    CallCategory.SILENT: NUISANCE,
    CallCategory.INFORMATION: OTHER,
    CallCategory.COMPLAINT: OTHER,
    CallCategory.UNKNOWN: OTHER,
}


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    tz: str = "Asia/Makassar"
    answer_threshold_s: float = 10.0
    target_s: float = 600.0
    aspiration_s: float = 300.0
    bucket_s: int = 60
    queue_max_age_s: float = 30.0  # an older queue document is ignored; waiting calls come from call records


def percentile(sorted_values: list[float], p: float) -> float | None:
    """numpy.percentile's default ("linear"): interpolate between the closest ranks of ``sorted_values``."""
    n = len(sorted_values)
    if n == 0:
        return None
    rank = (p / 100.0) * (n - 1)
    lo = math.floor(rank)
    hi = min(lo + 1, n - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (rank - lo)


def _call_indices(call: Call, threshold_s: float) -> list[int]:
    """The counters one call adds 1 to in the bucket of its received time."""
    out = [RECEIVED, _GROUP_INDEX[call.category]]
    if call.category is not CallCategory.UNKNOWN:
        out.append(CATEGORISED)
    for e in call.escalations:
        pair_index = ESCALATION_AT.get((e.from_tier, e.to_tier))
        if pair_index is not None:
            out.append(pair_index)
    if call.answered_at is not None and call.answered_tier is not None:
        out.append(ANSWERED_AT[call.answered_tier])
        if call.answered_at - call.received_at <= threshold_s:
            out.append(ANSWERED_WITHIN)
    elif call.abandoned_at is not None:
        out.append(ABANDONED)
    else:
        out.append(WAITING)
    return out


class _Buckets:
    """Counter vectors per minute and per hour, keyed by integer bucket number (POSIX seconds // size)."""

    __slots__ = ("hours", "minutes")

    def __init__(self) -> None:
        self.minutes: dict[int, list[int]] = {}
        self.hours: dict[int, list[int]] = {}

    def add(self, t: float, indices: list[int], sign: int) -> None:
        minute = int(t // MINUTE)
        vec = self.minutes.get(minute)
        if vec is None:
            vec = self.minutes[minute] = [0] * VECTOR_LEN
        hour_vec = self.hours.get(minute // 60)
        if hour_vec is None:
            hour_vec = self.hours[minute // 60] = [0] * VECTOR_LEN
        for i in indices:
            vec[i] += sign
            hour_vec[i] += sign

    def sum_range(self, start: float, end: float) -> list[int]:
        """Totals over calls received in [start, end), to the minute; whole hours are read from the hour counters."""
        first = math.ceil(start / MINUTE)
        last = math.ceil(end / MINUTE)  # exclusive
        total = [0] * VECTOR_LEN
        minute = first
        while minute < last:
            if minute % 60 == 0 and minute + 60 <= last:
                vec = self.hours.get(minute // 60)
                minute += 60
            else:
                vec = self.minutes.get(minute)
                minute += 1
            if vec is not None:
                for i, v in enumerate(vec):
                    if v:
                        total[i] += v
        return total

    def prune(self, before: float) -> None:
        minute_cut = int(before // MINUTE)
        for key in [k for k in self.minutes if k < minute_cut]:
            del self.minutes[key]
        for key in [k for k in self.hours if k < minute_cut // 60]:
            del self.hours[key]


class _PolresDay:
    """One Polres' incidents of one local day: call times and sorted response times."""

    __slots__ = ("received", "responses", "timed")

    def __init__(self) -> None:
        self.received: list[float] = []  # sorted call_received_at of every incident
        self.responses: list[float] = []  # sorted response times (incidents with an on-scene time)
        self.timed: list[tuple[float, float]] = []  # sorted (call_received_at, response) for sliding windows


class MetricsEngine:
    """Incremental metrics for one Polda's board (or the whole country when ``polda_id`` is None)."""

    def __init__(self, reference: ReferenceData, polda_id: str | None, settings: MetricsSettings) -> None:
        self.settings = settings
        self.polda_id = polda_id
        zone = ZoneInfo(settings.tz)
        offset = datetime.now(zone).utcoffset()
        self._utc_offset_s = offset.total_seconds() if offset is not None else 0.0
        self._calls: dict[str, Call] = {}
        self._incidents: dict[str, Incident] = {}
        self._units: dict[str, Unit] = {}
        self._queue: QueueState | None = None
        self._buckets = _Buckets()
        self._days: dict[tuple[str, int], _PolresDay] = {}
        self._open: dict[str, dict[str, Incident]] = {}  # polres -> open incidents
        self._waiting: dict[str, Call] = {}  # in-scope calls still ringing
        self._unit_status: dict[str, int] = {}
        self._earliest_call: float = math.inf
        self.reference = reference
        self._scope: frozenset[str] | None = None
        self.set_reference(reference)

    # --- reference and scope -------------------------------------------------------------------------------------

    def set_reference(self, reference: ReferenceData) -> None:
        """New reference data may change which Polres are in scope: recount everything from the kept records."""
        self.reference = reference
        scope = None if self.polda_id is None else frozenset(p.id for p in reference.polres_of(self.polda_id))
        if scope == self._scope and self._calls.keys() | self._incidents.keys() | self._units.keys():
            return
        self._scope = scope
        calls, incidents, units = list(self._calls.values()), list(self._incidents.values()), list(self._units.values())
        self._calls.clear()
        self._incidents.clear()
        self._units.clear()
        self._buckets = _Buckets()
        self._days.clear()
        self._open.clear()
        self._waiting.clear()
        self._unit_status.clear()
        self._earliest_call = math.inf
        for c in calls:
            self.ingest_call(c)
        for i in incidents:
            self.ingest_incident(i)
        for u in units:
            self.ingest_unit(u)

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
        old = self._calls.get(call.id)
        if old is not None and old.rev >= call.rev:
            return False
        self._calls[call.id] = call
        threshold = self.settings.answer_threshold_s
        if old is not None and self.in_scope(old.polres_id):
            self._buckets.add(old.received_at, _call_indices(old, threshold), -1)
            self._waiting.pop(old.id, None)
        if self.in_scope(call.polres_id):
            self._buckets.add(call.received_at, _call_indices(call, threshold), 1)
            if call.is_waiting:
                self._waiting[call.id] = call
            if call.received_at < self._earliest_call:
                self._earliest_call = call.received_at
        return True

    def ingest_calls(self, calls: Iterable[Call]) -> int:
        return sum(self.ingest_call(c) for c in calls)

    def _day_key(self, t: float) -> int:
        return int((t + self._utc_offset_s) // DAY)

    def _incident_contribution(self, incident: Incident, sign: int) -> None:
        key = (incident.polres_id, self._day_key(incident.call_received_at))
        day = self._days.get(key)
        if day is None:
            if sign < 0:
                return
            day = self._days[key] = _PolresDay()
        received = incident.call_received_at
        response = incident.response_time_s
        if sign > 0:
            bisect.insort(day.received, received)
            if response is not None:
                bisect.insort(day.responses, response)
                bisect.insort(day.timed, (received, response))
            if incident.closed_at is None:
                self._open.setdefault(incident.polres_id, {})[incident.id] = incident
        else:
            _remove_sorted(day.received, received)
            if response is not None:
                _remove_sorted(day.responses, response)
                _remove_sorted(day.timed, (received, response))
            self._open.get(incident.polres_id, {}).pop(incident.id, None)

    def ingest_incident(self, incident: Incident) -> bool:
        old = self._incidents.get(incident.id)
        if old is not None and old.rev >= incident.rev:
            return False
        self._incidents[incident.id] = incident
        if old is not None and self.in_scope(old.polres_id):
            self._incident_contribution(old, -1)
        if self.in_scope(incident.polres_id):
            self._incident_contribution(incident, 1)
        return True

    def ingest_unit(self, unit: Unit) -> bool:
        old = self._units.get(unit.id)
        if old is not None and old.rev >= unit.rev:
            return False
        self._units[unit.id] = unit
        if old is not None and self.in_scope(old.polres_id):
            self._unit_status[old.status.value] -= 1
        if self.in_scope(unit.polres_id):
            key = unit.status.value
            self._unit_status[key] = self._unit_status.get(key, 0) + 1
        return True

    def set_queue(self, queue: QueueState) -> None:
        if self._queue is None or queue.as_of >= self._queue.as_of:
            self._queue = queue

    def prune(self, before: float) -> None:
        """Forget calls and closed incidents received before ``before`` (open incidents stay: they are still work)."""
        for call_id in [k for k, c in self._calls.items() if c.received_at < before]:
            call = self._calls.pop(call_id)
            self._waiting.pop(call.id, None)
        self._buckets.prune(before)
        cut_day = self._day_key(before)
        for key in [k for k in self._days if k[1] < cut_day]:
            del self._days[key]
        for incident_id in [
            k for k, i in self._incidents.items() if i.call_received_at < before and i.closed_at is not None
        ]:
            del self._incidents[incident_id]
        self._earliest_call = min((c.received_at for c in self._calls.values()), default=math.inf)

    # --- windows -------------------------------------------------------------------------------------------------

    def local_midnight(self, t: float) -> float:
        return self._day_key(t) * DAY - self._utc_offset_s

    def window_bounds(self, window: Window, now: float) -> tuple[float, float]:
        """[start, end) of a window; ``end`` is just after ``now`` so a call received at ``now`` counts."""
        end = now + 1e-6
        if window is Window.LAST_60_MIN:
            return now - HOUR, end
        if window is Window.PREVIOUS_60_MIN:
            return now - 2 * HOUR, now - HOUR
        if window is Window.TODAY:
            return self.local_midnight(now), end
        return self.local_midnight(now) - 6 * DAY, end

    # --- snapshot ------------------------------------------------------------------------------------------------

    def snapshot(self, now: float, response_window: Window = Window.TODAY) -> BoardSnapshot:
        polres_ids = self._board_polres_ids()
        response = [self.response_stats(pid, now, response_window) for pid in polres_ids]
        response.sort(key=lambda r: (r.p90_s is None, -(r.p90_s or 0.0), -r.overdue_now, r.name))
        polda = self.reference.poldas.get(self.polda_id) if self.polda_id else None
        return BoardSnapshot(
            as_of=now,
            tz=self.settings.tz,
            polda_id=self.polda_id or "national",
            polda_name=polda.name if polda else "Indonesia",
            volume=self.volume(now),
            queue=self.queue(now),
            tiers={w: self.tier_stats(w, now) for w in Window},
            response_window=response_window,
            response_by_polres=tuple(response),
            response_polda=self.response_stats(None, now, response_window, polres_ids=polres_ids),
            units_by_status={k: v for k, v in self._unit_status.items() if v},
        )

    def _board_polres_ids(self) -> list[str]:
        if self._scope is not None:
            return [p.id for p in self.reference.polres_of(self.polda_id or "")]
        known = list(self.reference.polres)
        seen = set(known)
        extra = sorted({pid for pid, _ in self._days} - seen)
        return known + extra

    def volume(self, now: float) -> VolumeSeries:
        bucket_s = self.settings.bucket_s
        n = SERIES_SPAN_S // bucket_s
        start = (math.floor(now / bucket_s) + 1) * bucket_s - SERIES_SPAN_S
        genuine, nuisance, other = self._series(start, n, bucket_s, (GENUINE, NUISANCE, OTHER))
        previous_day = same_weekday = None
        if self._earliest_call < start:
            (previous_day,) = self._series(start - DAY, n, bucket_s, (RECEIVED,))
        if self._earliest_call < start - 6 * DAY:
            (same_weekday,) = self._series(start - 7 * DAY, n, bucket_s, (RECEIVED,))
        recent = self._buckets.sum_range(now - RATE_SPAN_S, now + 1e-6)[RECEIVED]
        return VolumeSeries(
            bucket_s=bucket_s,
            start=start,
            genuine=genuine,
            nuisance=nuisance,
            other=other,
            previous_day=previous_day,
            same_weekday_last_week=same_weekday,
            current_rate_per_hour=recent * HOUR / RATE_SPAN_S,
        )

    def _series(self, start: float, n: int, bucket_s: int, fields: tuple[int, ...]) -> list[tuple[int, ...]]:
        minutes = self._buckets.minutes
        per = bucket_s // MINUTE
        first_minute = int(start // MINUTE)
        out: list[list[int]] = [[0] * n for _ in fields]
        for i in range(n):
            base = first_minute + i * per
            for m in range(base, base + per):
                vec = minutes.get(m)
                if vec is not None:
                    for j, f in enumerate(fields):
                        out[j][i] += vec[f]
        return [tuple(series) for series in out]

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

    def tier_stats(self, window: Window, now: float) -> TierStats:
        start, end = self.window_bounds(window, now)
        v = self._buckets.sum_range(start, end)
        return TierStats(
            window=window,
            received=v[RECEIVED],
            answered_by_tier={t: v[ANSWERED_AT[t]] for t in TIERS_IN_ORDER},
            escalations={pair: v[ESCALATION_AT[pair]] for pair in ESCALATION_PAIRS},
            abandoned=v[ABANDONED],
            waiting=v[WAITING],
            answered_within_threshold=v[ANSWERED_WITHIN],
            answer_threshold_s=self.settings.answer_threshold_s,
            genuine=v[GENUINE],
            nuisance=v[NUISANCE],
            categorised=v[CATEGORISED],
        )

    def _window_responses(self, polres_ids: Iterable[str], start: float, end: float) -> tuple[list[float], int]:
        """Sorted response times and incident count for incidents whose call was received in [start, end)."""
        first_day, last_day = self._day_key(start), self._day_key(end - 1e-6)
        responses: list[float] = []
        count = 0
        whole_days = []
        for pid in polres_ids:
            for day_key in range(first_day, last_day + 1):
                day = self._days.get((pid, day_key))
                if day is None:
                    continue
                day_start = day_key * DAY - self._utc_offset_s
                # Every incident of this day inside the window: use its sorted list as it is.
                if day_start >= start and (not day.received or day.received[-1] < end):
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
        ids = [polres_id] if polres_id is not None else (polres_ids or self._board_polres_ids())
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
                if incident.on_scene_at is None and now - incident.call_received_at > target:
                    overdue += 1
        if polres_id is not None:
            polres = self.reference.polres.get(polres_id)
            name = polres.name if polres else polres_id
            unit_id = polres_id
        else:
            polda = self.reference.poldas.get(self.polda_id) if self.polda_id else None
            name = polda.name if polda else "Indonesia"
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
        )

    def polres_detail(self, polres_id: str, now: float, window: Window) -> PolresDetail:
        """A Polres' drill-down: its response stats, its incidents in the window with timelines, and its units."""
        start, end = self.window_bounds(window, now)
        incidents = [
            i
            for i in self._incidents.values()
            if i.polres_id == polres_id and (start <= i.call_received_at < end or i.closed_at is None)
        ]
        incidents.sort(key=lambda i: i.call_received_at, reverse=True)
        timelines = []
        for i in incidents:
            call = self._calls.get(i.call_id) if i.call_id else None
            timelines.append(
                IncidentTimeline(
                    incident=i,
                    answered_at=call.answered_at if call else None,
                    caller_number=call.caller_number if call else None,
                    overdue=i.closed_at is None
                    and i.on_scene_at is None
                    and now - i.call_received_at > self.settings.target_s,
                )
            )
        units = sorted((u for u in self._units.values() if u.polres_id == polres_id), key=lambda u: u.callsign)
        return PolresDetail(
            polres_id=polres_id,
            stats=self.response_stats(polres_id, now, window),
            incidents=tuple(timelines),
            units=tuple(units),
        )

    def waiting_calls(self) -> list[Call]:
        return sorted(self._waiting.values(), key=lambda c: c.received_at)

    def unit_status_counts(self) -> dict[UnitStatus, int]:
        return {UnitStatus(k): v for k, v in self._unit_status.items() if v}

    def earliest_call_at(self) -> float | None:
        return None if self._earliest_call == math.inf else self._earliest_call

    def nuisance_share(self, window: Window, now: float) -> float | None:
        return self.tier_stats(window, now).prank_share_pct

    @staticmethod
    def is_nuisance(category: CallCategory) -> bool:
        return category in NUISANCE_CATEGORIES


def _remove_sorted(values: list[Any], item: object) -> None:
    index = bisect.bisect_left(values, item)
    if index < len(values) and values[index] == item:
        del values[index]
