"""The simulated world behind the dispatch API: 110 calls, escalation, incidents and patrol units in sim time.

Calibration (public figures, see resources/data/SOURCES.md):
- most calls are prank or silent: about 90 % of categorised calls here (published yearly figures: 85–99 %);
- the 10-second rule: a call not answered within 10 s escalates Polsek → Polres → Polda → Mabes;
- Balikpapan's 2021 pilot fleet: 70 R2 motorbikes and 10 R4 cars; Kaltim's other Polres get fleets by size
  (``KALTIM_PROFILES``);
- officers on scene within 10 minutes is the promise: dense Balikpapan mostly meets it, remote Mahakam Ulu mostly not;
- most nuisance calls come from numbers that call once, but a few callers ring again and again: each Polres has a
  small pool of repeat nuisance callers (``REPEAT_CALL_SHARE`` of its calls, several calls a day each), so over a
  day the prank watch has numbers to flag. A call's category is drawn first and the pool only takes calls that are
  prank or silent already, so the category mix is the calibrated one with or without the pool.

Every other Polres is one regency (``regency_profile``), and the data says only two things about it: whether it is
a kota or a kabupaten, and its area (from its boundary polygon). A kota is dense: more calls the larger it is (a
big city is also a large one: Surabaya 350 km², Kota Sibolga 11 km²), incidents within a few km of the centre,
fleets sized to the calls, so most responses are within 10 minutes. A kabupaten's calls fall with its area (small
Javanese kabupaten are densely peopled; the largest, in Kalimantan and Papua, are not), its incidents lie farther
out the larger it is, dispatch takes longer and roads wind more (a detour factor from 1.3 up to 2), so small,
dense kabupaten mostly make 10 minutes and the large ones mostly miss it, by far. Over a simulated day: kota about
95 % within 10 minutes (median 4 min), kabupaten under 2,500 km² about 70 %, over 10,000 km² about 20 % (median 18).
No population, road or distance-to-capital data is used: none ships with the project.

Movement costs nothing between events. A unit's motion is a route of *legs*: start time and point, target, road
speed and arrival time; its position at any moment is interpolated on the leg (straight, with the detour factor for
the roads when responding), so it is continuous and never faster than the vehicle. Patrol is a *beat*: a loop round
a few points, repeated until the unit is called away, so patrolling costs no events at all; calls, dispatches,
arrivals and returns are the only work. Position fixes are computed for the moment they are sent: at each status
change and, while units are live, at the ticks the caller advances by, when one is due (every 10 s moving, 60 s
still). So catching up N minutes costs the events in them plus one pass over the units per tick (one tick for a
catch-up), not units × seconds. Patrol points, homes and incidents are drawn inside the Polres area (its regency
polygon), in batches tested with numpy. Everything random comes from two seeded generators (``random.Random`` and
numpy's for the batches of points), so a seed repeats a run.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from wallboard.core.model import (
    Call,
    CallCategory,
    Escalation,
    GeoPoint,
    Incident,
    Polres,
    PositionFix,
    Priority,
    QueueEntry,
    QueueState,
    Tier,
    Unit,
    UnitKind,
    UnitStatus,
)

ANSWER_THRESHOLD_S = 10.0
KM_PER_DEG = 111.32
MAX_SPEED_KMH = {UnitKind.R2: 80.0, UnitKind.R4: 100.0}
PATROL_SPEED_KMH = {UnitKind.R2: 25.0, UnitKind.R4: 30.0}
RESPONSE_SPEED_KMH = {UnitKind.R2: 45.0, UnitKind.R4: 55.0}
FIX_INTERVAL_MOVING_S = 10.0
FIX_INTERVAL_STILL_S = 60.0
PATROL_BEAT_POINTS = 5
POINT_BATCH = 64  # candidate points tested inside an area at once
# Category shares of answered calls (prank + silent = 90 %).
CATEGORY_WEIGHTS: tuple[tuple[CallCategory, float], ...] = (
    (CallCategory.PRANK, 0.55),
    (CallCategory.SILENT, 0.35),
    (CallCategory.GENUINE, 0.08),
    (CallCategory.INFORMATION, 0.015),
    (CallCategory.COMPLAINT, 0.005),
)
NUISANCE_WEIGHTS: tuple[tuple[CallCategory, float], ...] = (CallCategory.PRANK, 0.55), (CallCategory.SILENT, 0.35)
NUISANCE = frozenset(c for c, _ in NUISANCE_WEIGHTS)
NUISANCE_SHARE = sum(w for _, w in NUISANCE_WEIGHTS) / sum(w for _, w in CATEGORY_WEIGHTS)  # 0.9
# Operator prefixes of Indonesian mobile numbers (Telkomsel, Indosat, XL, Tri): 08xx, then 7 to 9 digits.
MOBILE_PREFIXES = ("0811", "0812", "0813", "0821", "0822", "0852", "0853", "0857", "0878", "0896")
# Repeat nuisance callers: the few numbers behind many prank and silent calls, which the prank watch is there to flag.
# Each Polres has a small pool of them; a share of its calls comes from the pool, the rest from one-off numbers.
REPEAT_CALL_SHARE = 0.1  # of a Polres' calls (so most nuisance calls still come from numbers that call once)
# Only nuisance calls come from the pool: a prank or silent call does with probability REPEAT_CALL_SHARE /
# NUISANCE_SHARE (about 0.11), so the pool still makes REPEAT_CALL_SHARE of all calls and the category mix is untouched.
REPEAT_CALLS_PER_DAY = 5.0  # a repeat caller's calls a day on average: "several times a day"
MAX_REPEAT_CALLERS = 8  # per Polres, however busy
# Probability that a tier answers within the 10 s it has before the call moves on.
ANSWER_WITHIN_10S = {Tier.POLSEK: 0.55, Tier.POLRES: 0.8, Tier.POLDA: 0.85, Tier.MABES: 0.97}
ABANDON_PER_TIER = 0.03  # caller hangs up while a tier rings
INCIDENT_KINDS = (
    "Kecelakaan lalu lintas",
    "Pencurian",
    "Perkelahian",
    "Kebakaran",
    "Orang hilang",
    "KDRT",
    "Gangguan ketertiban",
    "Pencurian kendaraan bermotor",
    "Penganiayaan",
    "Banjir / bencana",
)


@dataclass(frozen=True)
class PolresProfile:
    """How busy and how spread out a Polres is."""

    calls_per_hour: float  # daily mean of 110 calls ringing here
    r2: int
    r4: int
    area_km: float  # typical distance of an incident from the HQ town
    dispatch_delay_s: float  # answer → unit dispatched, typical
    detour: float = 1.3  # road distance / straight distance when responding


KALTIM_PROFILES = {
    "64.71": PolresProfile(9.0, 70, 10, 4.0, 40),  # Balikpapan: the 2021 pilot fleet
    "64.72": PolresProfile(10.0, 40, 8, 5.0, 50),  # Samarinda
    "64.74": PolresProfile(2.5, 14, 4, 4.0, 50),  # Bontang
    "64.02": PolresProfile(4.0, 16, 5, 10.0, 70),  # Kutai Kartanegara
    "64.08": PolresProfile(2.0, 10, 4, 14.0, 70),  # Kutai Timur
    "64.07": PolresProfile(1.0, 8, 3, 16.0, 80),  # Kutai Barat
    "64.03": PolresProfile(1.5, 10, 3, 12.0, 70),  # Berau
    "64.01": PolresProfile(1.5, 10, 3, 12.0, 70),  # Paser
    "64.09": PolresProfile(1.2, 8, 3, 10.0, 70),  # Penajam Paser Utara
    "64.11": PolresProfile(0.8, 5, 2, 22.0, 90),  # Mahakam Ulu: remote, few units, long roads
}


def _clamp(value: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, value))


def regency_profile(kind: str, area_km2: float) -> PolresProfile:
    """A Polres that is one regency, from what the data has: ``kind`` (kota / kabupaten) and its area in km².

    See the module docstring for why; the constants put Kaltim's regencies near their hand-made profiles.
    """
    root = math.sqrt(max(area_km2, 1.0))
    if kind == "kota":
        calls = _clamp(1.0 + 0.3 * root, 1.5, 8.0)
        spread_km = _clamp(0.18 * root, 2.0, 6.0)
        dispatch_s = 45.0
        detour = 1.3
    else:
        calls = _clamp(0.5 + 60.0 / root, 0.6, 4.0)
        spread_km = _clamp(3.0 + 0.1 * root, 6.0, 25.0)
        dispatch_s = _clamp(55.0 + 0.15 * root, 60.0, 90.0)
        detour = _clamp(1.3 + 0.004 * root, 1.3, 2.0)  # fewer roads, rivers and hills in the large ones
    return PolresProfile(
        calls_per_hour=round(calls, 2),
        r2=max(4, round(4 * calls)),
        r4=max(2, round(calls) + 1),
        area_km=round(spread_km, 1),
        dispatch_delay_s=round(dispatch_s),
        detour=round(detour, 2),
    )


def hourly_rate_factor(local_hour: float) -> float:
    """Day/night curve: quiet before dawn, busiest in the evening; mean over a day is 1."""
    return 1.0 + 0.65 * math.sin(2 * math.pi * (local_hour - 14.0) / 24.0)


Ring = list[tuple[float, float]]  # (lon, lat) vertices, GeoJSON order


def areas_from_geojson(doc: dict[str, object], key: str = "kode") -> dict[str, list[Ring]]:
    """Outer rings of each feature's (Multi)Polygon, by the feature property ``key`` (a Polres id)."""
    areas: dict[str, list[Ring]] = {}
    features = doc.get("features")
    for feature in features if isinstance(features, list) else []:
        geometry, props = feature.get("geometry") or {}, feature.get("properties") or {}
        polygons = geometry.get("coordinates") or []
        if geometry.get("type") == "Polygon":
            polygons = [polygons]
        rings = [[(float(x), float(y)) for x, y, *_ in polygon[0]] for polygon in polygons if polygon]
        if rings and props.get(key):
            areas[str(props[key])] = rings
    return areas


def inside(lat: float, lon: float, rings: list[Ring]) -> bool:
    """Ray casting: is the point inside any of the rings?"""
    for ring in rings:
        hit = False
        x0, y0 = ring[-1]
        for x1, y1 in ring:
            if (y1 > lat) != (y0 > lat) and lon < x0 + (lat - y0) * (x1 - x0) / (y1 - y0):
                hit = not hit
            x0, y0 = x1, y1
        if hit:
            return True
    return False


def area_km2(rings: list[Ring]) -> float:
    """Area of the rings (shoelace on a local equirectangular projection; good to a few % at regency size)."""
    total = 0.0
    for ring in rings:
        lat0 = sum(y for _, y in ring) / len(ring)
        kx = KM_PER_DEG * math.cos(math.radians(lat0))
        twice = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True))
        total += abs(twice) / 2 * kx * KM_PER_DEG
    return total


class _Area:
    """A Polres area's outer rings as edge arrays: many candidate points tested in one go.

    The crossing rule is :func:`inside`'s, counted over the edges of all rings at once: the parts of a regency do
    not overlap, so an odd count means inside exactly one part (where simplification left two parts overlapping, a
    point in both counts as outside, which only ever rejects a candidate).
    """

    def __init__(self, rings: list[Ring]) -> None:
        xs1 = [x for r in rings for x, _ in r]
        ys1 = [y for r in rings for _, y in r]
        xs0 = [r[(i - 1) % len(r)][0] for r in rings for i in range(len(r))]
        ys0 = [r[(i - 1) % len(r)][1] for r in rings for i in range(len(r))]
        self.x1, self.y1 = np.array(xs1)[:, None], np.array(ys1)[:, None]
        self.x0, self.y0 = np.array(xs0)[:, None], np.array(ys0)[:, None]

    def contains(self, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
        crosses = (self.y1 > lats) != (self.y0 > lats)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = self.x0 + (lats - self.y0) * (self.x1 - self.x0) / (self.y1 - self.y0)
        result: np.ndarray = (np.count_nonzero(crosses & (lons < at), axis=0) % 2) == 1
        return result


def distance_km(a: GeoPoint, b: GeoPoint) -> float:
    dy = (a.lat - b.lat) * KM_PER_DEG
    dx = (a.lon - b.lon) * KM_PER_DEG * math.cos(math.radians((a.lat + b.lat) / 2))
    return math.hypot(dx, dy)


def heading_deg(a: GeoPoint, b: GeoPoint) -> float:
    dy = (b.lat - a.lat) * KM_PER_DEG
    dx = (b.lon - a.lon) * KM_PER_DEG * math.cos(math.radians(a.lat))
    return (math.degrees(math.atan2(dx, dy)) + 360.0) % 360.0


@dataclass(frozen=True)
class Leg:
    """A straight move from ``origin`` (at ``start_at``) to ``target`` (at ``arrive_at``); ``speed_kmh`` is the road
    speed a fix reports (the straight-line speed is lower when the leg has a detour)."""

    start_at: float
    origin: GeoPoint
    target: GeoPoint
    speed_kmh: float
    arrive_at: float
    heading: float

    @staticmethod
    def between(start_at: float, origin: GeoPoint, target: GeoPoint, speed_kmh: float, detour: float = 1.0) -> Leg:
        hours = distance_km(origin, target) * detour / speed_kmh
        return Leg(start_at, origin, target, speed_kmh, start_at + hours * 3600.0, heading_deg(origin, target))

    def position(self, t: float) -> GeoPoint:
        span = self.arrive_at - self.start_at
        f = 1.0 if span <= 0 else _clamp((t - self.start_at) / span, 0.0, 1.0)
        o, g = self.origin, self.target
        return GeoPoint(o.lat + (g.lat - o.lat) * f, o.lon + (g.lon - o.lon) * f)


@dataclass(frozen=True)
class Beat:
    """A patrol beat: legs through a few points near the HQ town, stopping a while at each, as a loop that repeats
    every ``period`` seconds from ``legs[0].start_at`` until the unit is called away. Costs no events."""

    legs: tuple[Leg, ...]  # the first round, in time order; the last leg ends where the first starts
    period: float

    @property
    def start_at(self) -> float:
        return self.legs[0].start_at

    def round_start(self, t: float) -> float:
        """Start of the round that ``t`` (at or after the beat's start) falls in."""
        return self.start_at + math.floor((t - self.start_at) / self.period) * self.period


def _latest_started(legs: tuple[Leg, ...], t: float) -> Leg | None:
    found = None
    for leg in legs:
        if leg.start_at > t:
            break
        found = leg
    return found


@dataclass
class SimUnit:
    unit: Unit
    home: GeoPoint
    place: GeoPoint  # where it stands before its first leg starts (where its last plan was cut or ended)
    legs: tuple[Leg, ...] = ()  # one-off legs in time order, standing still between them
    beat: Beat | None = None  # after the one-off legs: a patrol loop
    heading: float = 0.0  # before the first leg
    plan: int = 0  # bumped whenever the unit's plan changes: movement events of an older plan are void
    last_fix_at: float = -math.inf

    def leg_at(self, t: float) -> tuple[Leg, float] | None:
        """The latest leg started by ``t`` (the unit is on it, or stands at its end), and the time on that leg's
        clock that ``t`` is (a beat's legs are those of its first round)."""
        beat = self.beat
        if beat is not None and t >= beat.start_at:
            on_leg = t - (beat.round_start(t) - beat.start_at)
            leg = _latest_started(beat.legs, on_leg)
            return (leg, on_leg) if leg is not None else None
        leg = _latest_started(self.legs, t)
        return (leg, t) if leg is not None else None

    def position_at(self, t: float) -> GeoPoint:
        found = self.leg_at(t)
        return self.place if found is None else found[0].position(found[1])

    def moved_between(self, t0: float, t1: float) -> bool:
        """Whether it was on the move at some time in (t0, t1]."""
        if any(leg.start_at < t1 and leg.arrive_at > t0 for leg in self.legs):
            return True
        beat = self.beat
        if beat is None or t1 <= beat.start_at:
            return False
        if t1 - t0 >= beat.period:
            return True
        first = beat.round_start(max(t0, beat.start_at)) - beat.start_at
        return any(
            leg.start_at + shift < t1 and leg.arrive_at + shift > t0
            for shift in (first, first + beat.period)
            for leg in beat.legs
        )


@dataclass
class SimCall:
    call: Call
    tier: Tier
    tiers: list[Tier]
    purpose: CallCategory = CallCategory.UNKNOWN  # what the caller rings about, drawn with the call, told on answer
    repeat_caller: bool = False  # from a Polres' pool of repeat nuisance callers: only for a prank or silent call


@dataclass(frozen=True)
class RepeatCallers:
    """A Polres' repeat nuisance callers: their numbers and how much more some call than others (relative weights)."""

    numbers: tuple[str, ...]
    weights: tuple[float, ...]


def repeat_pool_size(calls_per_hour: float) -> int:
    """How many repeat callers a Polres has: enough to make ``REPEAT_CALL_SHARE`` of its calls at about
    ``REPEAT_CALLS_PER_DAY`` each; at least one (a quiet regency has its nuisance caller too), at most a few."""
    per_day = calls_per_hour * 24.0 * REPEAT_CALL_SHARE
    return int(_clamp(round(per_day / REPEAT_CALLS_PER_DAY), 1, MAX_REPEAT_CALLERS))


class World:
    """The simulated region in sim time. Call :meth:`advance_to` to move it forward; read changes via ``listener``.

    Not thread-safe: :class:`wallboard.sim.state.SimState` is the locked facade the HTTP server uses.
    """

    def __init__(
        self,
        polres: list[Polres],
        *,
        seed: int,
        start_time: float,
        polsek_tier: bool = False,
        profiles: Mapping[str, PolresProfile] | None = None,
        listener: Callable[[str, object], None] | None = None,
        live_units: bool = True,
        areas: Mapping[str, list[Ring]] | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self._np_rng = np.random.default_rng(seed)  # for points drawn in batches
        # Repeat callers draw from their own generator (seeded from the same seed): a seed still repeats a run, and
        # the main sequence (arrivals, answers, units) stays what it was without them.
        self._callers_rng = random.Random(f"repeat-callers:{seed}")
        self.now = start_time
        self.polres = {p.id: p for p in polres}
        self.polsek_tier = polsek_tier
        self.profiles: dict[str, PolresProfile] = {}
        for p in polres:
            profile = (profiles or {}).get(p.id) or KALTIM_PROFILES.get(p.id)
            if profile is None:
                raise KeyError(f"no simulation profile for Polres {p.id} ({p.name})")
            self.profiles[p.id] = profile
        # Indonesia keeps no daylight saving time: a fixed offset per Polres gives the local hour cheaply.
        self._utc_offset = {
            p.id: (datetime.fromtimestamp(start_time, ZoneInfo(p.tz)).utcoffset() or timedelta(0)).total_seconds()
            for p in polres
        }
        self.listener = listener or (lambda stream, record: None)
        self.units: dict[str, SimUnit] = {}
        self._units_of: dict[str, list[SimUnit]] = {p.id: [] for p in polres}
        self.calls: dict[str, SimCall] = {}
        self.incidents: dict[str, Incident] = {}
        self.ringing: dict[str, SimCall] = {}
        self._events: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = 0
        self._call_seq = 0
        self._incident_seq = 0
        self.live_units = live_units
        # Polres areas (regency polygons): patrol points, homes and incidents stay inside them, not in the sea.
        self.areas = {pid: rings for pid, rings in (areas or {}).items() if pid in self.polres}
        self._area_tests = {pid: _Area(rings) for pid, rings in self.areas.items()}
        self._points: dict[tuple[str, float], list[GeoPoint]] = {}
        self.repeat_callers = {p.id: self._repeat_callers(self.profiles[p.id]) for p in polres}
        for p in polres:
            self._create_units(p)
            self._schedule_next_call(p.id, start_time)

    # --- set-up ------------------------------------------------------------------------------------------------

    def _prefix(self, polres: Polres) -> str:
        letters = "".join(ch for ch in polres.name.split()[-1].upper() if ch.isalpha())
        return (letters[:3] or "POL") + polres.id.replace(".", "")[-2:]

    def _create_units(self, p: Polres) -> None:
        profile = self.profiles[p.id]
        prefix = self._prefix(p)
        for kind, count in ((UnitKind.R2, profile.r2), (UnitKind.R4, profile.r4)):
            for n in range(1, count + 1):
                home = self._random_point(p, profile.area_km * 0.5)
                unit = Unit(
                    id=f"{p.id}-{kind.value}-{n:02d}",
                    rev=1,
                    callsign=f"{prefix}-{kind.value}-{n:02d}",
                    polres_id=p.id,
                    kind=kind,
                    status=UnitStatus.OUT_OF_SERVICE if self.rng.random() < 0.05 else UnitStatus.AVAILABLE,
                )
                sim = SimUnit(unit, home, home)
                self.units[unit.id] = sim
                self._units_of[p.id].append(sim)
                self._emit_fix(sim, forced=True)
                if self.live_units:
                    self._patrol_after(sim, self.rng.uniform(0, 60))

    def _random_point(self, p: Polres, scale_km: float) -> GeoPoint:
        """A point near the HQ town (roads and people cluster there), inside the Polres area when it is known.

        Points are drawn a batch at a time per (Polres, scale) and handed out in the order drawn, so a seed still
        repeats a run; near a coast or border where a batch has no point inside, the batch is drawn closer.
        """
        pool = self._points.setdefault((p.id, scale_km), [])
        if pool:
            return pool.pop()
        area = self._area_tests.get(p.id)
        scale = scale_km
        for _ in range(12):
            lats, lons = self._candidates(p, scale, POINT_BATCH)
            keep = area.contains(lats, lons) if area is not None else np.ones(len(lats), dtype=bool)
            kept = zip(lats[keep][::-1].tolist(), lons[keep][::-1].tolist(), strict=True)  # floats, not numpy scalars
            pool.extend(GeoPoint(lat, lon) for lat, lon in kept)
            if pool:
                return pool.pop()  # the pool is reversed: pop() hands points out in the order drawn
            scale *= 0.8
        return GeoPoint(round(p.lat, 6), round(p.lon, 6))

    def _candidates(self, p: Polres, scale_km: float, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` points around the HQ: distance exponential (mean ``scale_km``, at most 4×), direction uniform."""
        scale_km = max(scale_km, 0.5)
        r = np.minimum(self._np_rng.exponential(scale_km, n), scale_km * 4)
        angle = self._np_rng.uniform(0, 2 * math.pi, n)
        lats = np.round(p.lat + r * np.cos(angle) / KM_PER_DEG, 6)
        lons = np.round(p.lon + r * np.sin(angle) / (KM_PER_DEG * math.cos(math.radians(p.lat))), 6)
        return lats, lons

    # --- the event queue ---------------------------------------------------------------------------------------

    def _at(self, t: float, action: Callable[[], None]) -> None:
        self._seq += 1
        heapq.heappush(self._events, (t, self._seq, action))

    def advance_to(self, t: float, tick_s: float | None = None) -> None:
        """Run every event up to ``t``; while units are live, send the position fixes due at each tick.

        Ticks are every ``tick_s`` of sim time, or only at ``t`` when it is None: a server ticking at 1 Hz sends
        fixes about as often as a real fleet does, and a catch-up over hours sends one per unit at its end.
        """
        step = tick_s if tick_s and self.live_units else math.inf
        events = self._events
        while self.now < t:
            step_end = min(t, self.now + step)
            while events and events[0][0] <= step_end:
                at, _, action = heapq.heappop(events)
                if at > self.now:
                    self.now = at
                action()
            self.now = step_end
            if self.live_units:
                self._send_due_fixes()

    # --- calls ---------------------------------------------------------------------------------------------------

    def _schedule_next_call(self, polres_id: str, after: float) -> None:
        """Poisson arrivals with the day/night curve, by thinning at the curve's peak rate."""
        base = self.profiles[polres_id].calls_per_hour / 3600.0
        peak = base * 1.65
        offset = self._utc_offset[polres_id]
        t = after
        while True:
            t += self.rng.expovariate(peak)
            local_hour = ((t + offset) % 86400.0) / 3600.0
            if self.rng.random() * 1.65 <= hourly_rate_factor(local_hour):
                break
        self._at(t, lambda: self._new_call(polres_id))

    def _caller_number(self) -> str:
        """A one-off caller's number: 08xx and 8 digits."""
        prefix = self.rng.choice(MOBILE_PREFIXES)
        return f"{prefix}{self.rng.randrange(10**8):08d}"

    def _repeat_callers(self, profile: PolresProfile) -> RepeatCallers:
        rng = self._callers_rng
        numbers = []
        for _ in range(repeat_pool_size(profile.calls_per_hour)):
            digits = rng.choice((7, 8, 8, 9))  # 11 to 13 digits in all, as Indonesian mobile numbers run
            numbers.append(f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**digits):0{digits}d}")
        # Uneven: one caller may ring four times as often as another.
        return RepeatCallers(tuple(numbers), tuple(rng.uniform(0.5, 2.0) for _ in numbers))

    def _repeat_caller(self, polres_id: str, purpose: CallCategory) -> str | None:
        """A repeat nuisance caller's number for a call about ``purpose``, or None (a one-off caller): never for a
        call that is not prank or silent, so the pool leaves the category mix alone. O(1): a few callers each."""
        if purpose not in NUISANCE:
            return None
        rng = self._callers_rng
        if rng.random() >= REPEAT_CALL_SHARE / NUISANCE_SHARE:
            return None
        pool = self.repeat_callers[polres_id]
        return rng.choices(pool.numbers, pool.weights)[0]

    def _new_call(self, polres_id: str) -> None:
        self._schedule_next_call(polres_id, self.now)
        self._call_seq += 1
        tiers = [Tier.POLSEK, Tier.POLRES, Tier.POLDA, Tier.MABES] if self.polsek_tier else [
            Tier.POLRES, Tier.POLDA, Tier.MABES
        ]  # fmt: skip
        p = self.polres[polres_id]
        location = self._random_point(p, self.profiles[polres_id].area_km) if self.rng.random() < 0.7 else None
        number = self._caller_number()  # drawn either way, so the main sequence does not depend on repeat callers
        categories = [c for c, _ in CATEGORY_WEIGHTS]
        purpose = self.rng.choices(categories, [w for _, w in CATEGORY_WEIGHTS])[0]  # first: it decides the caller
        repeat = self._repeat_caller(polres_id, purpose)
        call = Call(
            id=f"C{polres_id.replace('.', '')}-{self._call_seq:07d}",
            rev=1,
            polres_id=polres_id,
            received_at=self.now,
            first_tier=tiers[0],
            caller_number=repeat or number,
            caller_location=location,
        )
        sim = SimCall(call, tiers[0], tiers, purpose=purpose, repeat_caller=repeat is not None)
        self.calls[call.id] = sim
        self.ringing[call.id] = sim
        self.listener("calls", call)
        self._ring(sim)

    def _ring(self, sim: SimCall) -> None:
        """The call rings at its current tier: answered within 10 s, abandoned, or escalated at 10 s."""
        tier = sim.tier
        is_last = tier is sim.tiers[-1]
        roll = self.rng.random()
        if roll < ABANDON_PER_TIER:
            self._at(self.now + self.rng.uniform(2, ANSWER_THRESHOLD_S), lambda: self._abandon(sim))
        elif roll < ABANDON_PER_TIER + ANSWER_WITHIN_10S[tier] or is_last:
            wait = self.rng.uniform(1.5, ANSWER_THRESHOLD_S) if not is_last or roll < 0.9 else self.rng.uniform(10, 40)
            self._at(self.now + wait, lambda: self._answer(sim))
        else:
            self._at(self.now + ANSWER_THRESHOLD_S, lambda: self._escalate(sim))

    def _update_call(self, sim: SimCall, **changes: object) -> None:
        sim.call = replace(sim.call, rev=sim.call.rev + 1, **changes)  # type: ignore[arg-type]
        self.listener("calls", sim.call)

    def _escalate(self, sim: SimCall) -> None:
        nxt = sim.tiers[sim.tiers.index(sim.tier) + 1]
        self._update_call(sim, escalations=(*sim.call.escalations, Escalation(sim.tier, nxt, self.now)))
        sim.tier = nxt
        self._ring(sim)

    def _abandon(self, sim: SimCall) -> None:
        self.ringing.pop(sim.call.id, None)
        self._update_call(sim, abandoned_at=self.now)

    def _answer(self, sim: SimCall) -> None:
        self.ringing.pop(sim.call.id, None)
        self._update_call(sim, answered_at=self.now, answered_tier=sim.tier)
        category = sim.purpose
        talk = self.rng.uniform(5, 25) if category in NUISANCE else self.rng.uniform(30, 120)
        self._at(self.now + talk, lambda: self._categorise(sim, category))

    def _categorise(self, sim: SimCall, category: CallCategory) -> None:
        self._update_call(sim, category=category)
        if category is CallCategory.GENUINE:
            self._create_incident(sim.call)

    # --- incidents -----------------------------------------------------------------------------------------------

    def _create_incident(self, call: Call) -> None:
        self._incident_seq += 1
        p = self.polres[call.polres_id]
        location = call.caller_location or self._random_point(p, self.profiles[p.id].area_km)
        incident = Incident(
            id=f"I{call.polres_id.replace('.', '')}-{self._incident_seq:06d}",
            rev=1,
            polres_id=call.polres_id,
            call_id=call.id,
            call_received_at=call.received_at,
            priority=self.rng.choices(list(Priority), (0.2, 0.5, 0.3))[0],
            kind=self.rng.choice(INCIDENT_KINDS),
            location=location,
        )
        self.incidents[incident.id] = incident
        self.listener("incidents", incident)
        delay = self.rng.uniform(0.5, 1.5) * self.profiles[p.id].dispatch_delay_s
        self._at(self.now + delay, lambda: self._dispatch(incident.id))

    def _set_incident(self, incident_id: str, **changes: object) -> Incident:
        incident = self.incidents[incident_id]
        incident = replace(incident, rev=incident.rev + 1, **changes)  # type: ignore[arg-type]
        self.incidents[incident_id] = incident
        self.listener("incidents", incident)
        return incident

    def _dispatch(self, incident_id: str) -> None:
        incident = self.incidents[incident_id]
        assert incident.location is not None
        candidates = [s for s in self._units_of[incident.polres_id] if s.unit.status is UnitStatus.AVAILABLE]
        if not candidates:  # everyone busy: try again in a minute (this is how incidents become overdue)
            self._at(self.now + 60, lambda: self._dispatch(incident_id))
            return
        location = incident.location
        unit = min(candidates, key=lambda s: distance_km(s.position_at(self.now), location))
        self._set_incident(incident_id, dispatched_at=self.now, unit_ids=(*incident.unit_ids, unit.unit.id))
        self._stop(unit)
        self._set_unit(unit, status=UnitStatus.DISPATCHED, incident_id=incident_id)
        self._at(self.now + self.rng.uniform(20, 60), lambda: self._en_route(unit, incident_id))

    # --- units: plans, legs and fixes --------------------------------------------------------------------------

    def _stop(self, sim: SimUnit) -> None:
        """Cut the unit's route where it is now and void its pending movement events."""
        found = sim.leg_at(self.now)
        if found is not None:
            leg, on_leg = found
            sim.place, sim.heading = leg.position(on_leg), leg.heading
        sim.legs, sim.beat = (), None
        sim.plan += 1

    def _go(self, sim: SimUnit, target: GeoPoint, speed_kmh: float, detour: float = 1.0) -> Leg:
        self._stop(sim)
        leg = Leg.between(self.now, sim.place, target, speed_kmh, detour)
        sim.legs = (leg,)
        return leg

    def _patrol_after(self, sim: SimUnit, delay_s: float) -> None:
        plan = sim.plan
        self._at(self.now + delay_s, lambda: self._patrol(sim, plan))

    def _patrol(self, sim: SimUnit, plan: int) -> None:
        """An available unit goes on its beat: to the first of a few points near the HQ town, then round them at
        patrol speed, stopping a while at each, until it is dispatched (no events while it patrols)."""
        if sim.plan != plan or not self.live_units or sim.unit.status is not UnitStatus.AVAILABLE:
            return
        self._stop(sim)
        p = self.polres[sim.unit.polres_id]
        scale = self.profiles[p.id].area_km * 0.5
        speed = PATROL_SPEED_KMH[sim.unit.kind] * self.rng.uniform(0.6, 1.2)
        points = [self._random_point(p, scale) for _ in range(PATROL_BEAT_POINTS)]
        approach = Leg.between(self.now, sim.place, points[0], speed)
        t = approach.arrive_at + self.rng.uniform(60, 600)
        legs = []
        for origin, target in zip(points, points[1:] + points[:1], strict=True):
            leg = Leg.between(t, origin, target, speed)
            legs.append(leg)
            t = leg.arrive_at + self.rng.uniform(60, 600)
        sim.legs = (approach,)
        sim.beat = Beat(tuple(legs), t - legs[0].start_at)

    def _en_route(self, unit: SimUnit, incident_id: str) -> None:
        if unit.unit.incident_id != incident_id or unit.unit.status is not UnitStatus.DISPATCHED:
            return
        incident = self.incidents[incident_id]
        assert incident.location is not None
        if incident.en_route_at is None:
            self._set_incident(incident_id, en_route_at=self.now)
        speed = RESPONSE_SPEED_KMH[unit.unit.kind] * self.rng.uniform(0.8, 1.2)
        leg = self._go(unit, incident.location, speed, self.profiles[unit.unit.polres_id].detour)
        self._set_unit(unit, status=UnitStatus.EN_ROUTE)
        plan = unit.plan
        self._at(leg.arrive_at, lambda: self._arrive(unit, plan))

    def _arrive(self, unit: SimUnit, plan: int) -> None:
        incident_id = unit.unit.incident_id
        if unit.plan != plan or incident_id is None or unit.unit.status is not UnitStatus.EN_ROUTE:
            return
        self._stop(unit)
        if self.incidents[incident_id].on_scene_at is None:
            self._set_incident(incident_id, on_scene_at=self.now)
        self._set_unit(unit, status=UnitStatus.ON_SCENE)
        self._at(self.now + self.rng.uniform(600, 2400), lambda: self._clear(unit, incident_id))

    def _clear(self, unit: SimUnit, incident_id: str) -> None:
        if self.incidents[incident_id].closed_at is None:
            self._set_incident(incident_id, closed_at=self.now)
        if unit.unit.incident_id != incident_id:
            return
        leg = self._go(unit, unit.home, PATROL_SPEED_KMH[unit.unit.kind] * 1.5)
        self._set_unit(unit, status=UnitStatus.RETURNING, incident_id=None)
        plan = unit.plan
        self._at(leg.arrive_at, lambda: self._home(unit, plan))

    def _home(self, unit: SimUnit, plan: int) -> None:
        if unit.plan != plan or unit.unit.status is not UnitStatus.RETURNING:
            return
        self._stop(unit)
        self._set_unit(unit, status=UnitStatus.AVAILABLE)
        if self.live_units:
            self._patrol_after(unit, self.rng.uniform(60, 600))

    def _set_unit(self, sim: SimUnit, **changes: object) -> None:
        sim.unit = replace(sim.unit, rev=sim.unit.rev + 1, **changes)  # type: ignore[arg-type]
        self._emit_fix(sim, forced=True)

    def _emit_fix(self, sim: SimUnit, *, forced: bool) -> None:
        """Send the unit's position now. A forced fix rides on the revision its status change already took."""
        t = self.now
        found = sim.leg_at(t)
        if found is None:
            at, heading, speed = sim.place, sim.heading, 0.0
        else:
            leg, on_leg = found
            at, heading = leg.position(on_leg), leg.heading
            speed = leg.speed_kmh if on_leg < leg.arrive_at else 0.0
        fix = PositionFix(round(at.lat, 6), round(at.lon, 6), round(heading, 1), round(speed, 1), t)
        sim.last_fix_at = t
        u = sim.unit  # built directly: dataclasses.replace costs more than the rest of a fix (thousands per tick)
        rev = u.rev if forced else u.rev + 1
        sim.unit = Unit(u.id, rev, u.callsign, u.polres_id, u.kind, u.status, fix, u.incident_id)
        self.listener("units", sim.unit)

    def _send_due_fixes(self) -> None:
        """A fix from every unit that has moved since its last one 10 s ago or more, or stood still for 60 s.

        One pass over the units per tick (a few ms nationally), however long the tick."""
        now = self.now
        for sim in self.units.values():
            since = now - sim.last_fix_at
            if since >= FIX_INTERVAL_STILL_S or (
                since >= FIX_INTERVAL_MOVING_S and sim.moved_between(sim.last_fix_at, now)
            ):
                self._emit_fix(sim, forced=False)

    # --- views ---------------------------------------------------------------------------------------------------

    def queue(self) -> QueueState:
        entries = tuple(
            QueueEntry(s.call.id, s.call.polres_id, s.tier, s.call.received_at)
            for s in sorted(self.ringing.values(), key=lambda s: s.call.received_at)
        )
        return QueueState(self.now, entries)

    def all_units(self) -> Iterator[Unit]:
        return (s.unit for s in self.units.values())

    def enable_live_units(self) -> None:
        """After a history run: available units start patrolling and every unit reports its position on schedule."""
        if self.live_units:
            return
        self.live_units = True
        for sim in self.units.values():
            if sim.unit.status is UnitStatus.AVAILABLE:
                self._patrol_after(sim, self.rng.uniform(0, 60))
