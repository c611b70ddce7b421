"""The simulated world behind the dispatch API: 110 calls, escalation, incidents and patrol units in sim time.

Calibration (public figures, see resources/data/SOURCES.md):
- most calls are prank or silent: about 90 % of categorised calls here (published yearly figures: 85–99 %);
- the 10-second rule: a call not answered within 10 s escalates Polsek → Polres → Polda → Mabes;
- Balikpapan's 2021 pilot fleet: 70 R2 motorbikes and 10 R4 cars; other Polres get fleets by size;
- officers on scene within 10 minutes is the promise: dense Balikpapan mostly meets it, remote Mahakam Ulu mostly not.

Units move continuously (no jumps) at road speeds along straight legs with a detour factor, and report a position fix
every few seconds while moving. Everything random comes from one seeded ``random.Random``, so a seed repeats a run.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

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

# Category shares of answered calls (prank + silent = 90 %).
CATEGORY_WEIGHTS: tuple[tuple[CallCategory, float], ...] = (
    (CallCategory.PRANK, 0.55),
    (CallCategory.SILENT, 0.35),
    (CallCategory.GENUINE, 0.08),
    (CallCategory.INFORMATION, 0.015),
    (CallCategory.COMPLAINT, 0.005),
)
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


def default_profile(rng: random.Random) -> PolresProfile:
    """A synthetic Polres for the national scale run."""
    size = rng.random()
    return PolresProfile(
        calls_per_hour=0.6 + 4 * size,
        r2=int(5 + 12 * size),
        r4=int(2 + 3 * size),
        area_km=6 + 14 * (1 - size),
        dispatch_delay_s=50 + 40 * (1 - size),
    )


def hourly_rate_factor(local_hour: float) -> float:
    """Day/night curve: quiet before dawn, busiest in the evening; mean over a day is 1."""
    return 1.0 + 0.65 * math.sin(2 * math.pi * (local_hour - 14.0) / 24.0)


def move_towards(lat: float, lon: float, target: GeoPoint, km: float) -> tuple[float, float, float, bool]:
    """Move up to ``km`` along the straight leg to ``target``: (lat, lon, heading_deg, arrived)."""
    dy = (target.lat - lat) * KM_PER_DEG
    dx = (target.lon - lon) * KM_PER_DEG * math.cos(math.radians(lat))
    dist = math.hypot(dx, dy)
    heading = (math.degrees(math.atan2(dx, dy)) + 360.0) % 360.0
    if dist <= km or dist == 0:
        return target.lat, target.lon, heading, True
    f = km / dist
    return lat + (target.lat - lat) * f, lon + (target.lon - lon) * f, heading, False


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


def distance_km(a: GeoPoint, b: GeoPoint) -> float:
    dy = (a.lat - b.lat) * KM_PER_DEG
    dx = (a.lon - b.lon) * KM_PER_DEG * math.cos(math.radians((a.lat + b.lat) / 2))
    return math.hypot(dx, dy)


@dataclass
class SimUnit:
    unit: Unit
    lat: float
    lon: float
    home: GeoPoint
    target: GeoPoint | None = None
    speed_kmh: float = 0.0
    heading: float = 0.0
    last_fix_at: float = -math.inf
    dwell_until: float = 0.0
    moved_at: float = -math.inf  # sim time up to which this unit's position has been advanced


@dataclass
class SimCall:
    call: Call
    tier: Tier
    tiers: list[Tier]


@dataclass(order=True)
class _Event:
    at: float
    seq: int
    action: Callable[[], None] = field(compare=False)


class World:
    """The simulated region in sim time. Call :meth:`advance_to` to move it forward; read changes via ``listener``."""

    def __init__(
        self,
        polres: list[Polres],
        *,
        seed: int,
        start_time: float,
        polsek_tier: bool = False,
        tz: str = "Asia/Makassar",
        profiles: dict[str, PolresProfile] | None = None,
        listener: Callable[[str, object], None] | None = None,
        live_units: bool = True,
        areas: dict[str, list[Ring]] | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.now = start_time
        self.polres = {p.id: p for p in polres}
        self.tz = ZoneInfo(tz)
        self.polsek_tier = polsek_tier
        self.profiles = {
            p.id: (profiles or {}).get(p.id) or KALTIM_PROFILES.get(p.id) or default_profile(self.rng) for p in polres
        }
        self.listener = listener or (lambda stream, record: None)
        self.units: dict[str, SimUnit] = {}
        self.calls: dict[str, SimCall] = {}
        self.incidents: dict[str, Incident] = {}
        self.ringing: dict[str, SimCall] = {}
        self._events: list[_Event] = []
        self._seq = 0
        self._call_seq = 0
        self._incident_seq = 0
        self.live_units = live_units
        # Polres areas (regency polygons): patrol points, homes and incidents stay inside them, not in the sea.
        self.areas = {pid: rings for pid, rings in (areas or {}).items() if pid in self.polres}
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
                sim = SimUnit(unit, home.lat, home.lon, home, moved_at=self.now)
                self.units[unit.id] = sim
                self._emit_unit(sim, force=True)

    def _random_point(self, p: Polres, scale_km: float) -> GeoPoint:
        """A point near the HQ town (roads and people cluster there), inside the Polres area when it is known."""
        rings = self.areas.get(p.id)
        for _ in range(12):
            r = min(self.rng.expovariate(1.0 / max(scale_km, 0.5)), scale_km * 4)
            angle = self.rng.uniform(0, 2 * math.pi)
            lat = p.lat + (r * math.cos(angle)) / KM_PER_DEG
            lon = p.lon + (r * math.sin(angle)) / (KM_PER_DEG * math.cos(math.radians(p.lat)))
            if rings is None or inside(lat, lon, rings):
                break
            scale_km *= 0.8  # near a coast or border: draw closer to the HQ
        else:
            lat, lon = p.lat, p.lon
        return GeoPoint(round(lat, 6), round(lon, 6))

    # --- the event queue ---------------------------------------------------------------------------------------

    def _at(self, t: float, action: Callable[[], None]) -> None:
        self._seq += 1
        heapq.heappush(self._events, _Event(t, self._seq, action))

    def advance_to(self, t: float, tick_s: float = 1.0) -> None:
        """Run every event up to ``t`` and move units in steps of at most ``tick_s``.

        Units move once per step, not once per event: an event that changes a unit first brings that one unit up to
        the event's time (:meth:`_catch_up`), so a national tick costs one pass over the units plus the events.
        """
        while self.now < t:
            step_end = min(t, self.now + tick_s)
            while self._events and self._events[0].at <= step_end:
                event = heapq.heappop(self._events)
                self.now = max(self.now, event.at)
                event.action()
            self.now = step_end
            self._move_units()

    # --- calls ---------------------------------------------------------------------------------------------------

    def _schedule_next_call(self, polres_id: str, after: float) -> None:
        """Poisson arrivals with the day/night curve, by thinning at the curve's peak rate."""
        base = self.profiles[polres_id].calls_per_hour / 3600.0
        peak = base * 1.65
        t = after
        while True:
            t += self.rng.expovariate(peak)
            hour = datetime.fromtimestamp(t, self.tz)
            local_hour = hour.hour + hour.minute / 60
            if self.rng.random() * 1.65 <= hourly_rate_factor(local_hour):
                break
        self._at(t, lambda: self._new_call(polres_id))

    def _caller_number(self) -> str:
        prefix = self.rng.choice(("0811", "0812", "0813", "0821", "0822", "0852", "0853", "0857", "0878", "0896"))
        return prefix + "".join(str(self.rng.randrange(10)) for _ in range(8))

    def _new_call(self, polres_id: str) -> None:
        self._schedule_next_call(polres_id, self.now)
        self._call_seq += 1
        tiers = [Tier.POLSEK, Tier.POLRES, Tier.POLDA, Tier.MABES] if self.polsek_tier else [
            Tier.POLRES, Tier.POLDA, Tier.MABES
        ]  # fmt: skip
        p = self.polres[polres_id]
        location = self._random_point(p, self.profiles[polres_id].area_km) if self.rng.random() < 0.7 else None
        call = Call(
            id=f"C{polres_id.replace('.', '')}-{self._call_seq:07d}",
            rev=1,
            polres_id=polres_id,
            received_at=self.now,
            first_tier=tiers[0],
            caller_number=self._caller_number(),
            caller_location=location,
        )
        sim = SimCall(call, tiers[0], tiers)
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
        categories = [c for c, _ in CATEGORY_WEIGHTS]
        category = self.rng.choices(categories, [w for _, w in CATEGORY_WEIGHTS])[0]
        talk = (
            self.rng.uniform(5, 25)
            if category in (CallCategory.PRANK, CallCategory.SILENT)
            else self.rng.uniform(30, 120)
        )
        self._at(self.now + talk, lambda: self._categorise(sim, category))

    def _categorise(self, sim: SimCall, category: CallCategory) -> None:
        self._update_call(sim, category=category)
        if category is CallCategory.GENUINE:
            self._create_incident(sim.call)

    # --- incidents and units -------------------------------------------------------------------------------------

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
        candidates = [
            s
            for s in self.units.values()
            if s.unit.polres_id == incident.polres_id and s.unit.status is UnitStatus.AVAILABLE
        ]
        if not candidates:  # everyone busy: try again in a minute (this is how incidents become overdue)
            self._at(self.now + 60, lambda: self._dispatch(incident_id))
            return
        location = incident.location
        unit = min(candidates, key=lambda s: distance_km(GeoPoint(s.lat, s.lon), location))
        self._set_incident(incident_id, dispatched_at=self.now, unit_ids=(*incident.unit_ids, unit.unit.id))
        self._set_unit(unit, status=UnitStatus.DISPATCHED, incident_id=incident_id)
        unit.target = None
        unit.speed_kmh = 0.0
        self._at(self.now + self.rng.uniform(20, 60), lambda: self._en_route(unit, incident_id))
        if not self.live_units:
            # History mode: no movement detail, the same geometry gives the travel time.
            travel_h = distance_km(GeoPoint(unit.lat, unit.lon), location) * 1.3 / RESPONSE_SPEED_KMH[unit.unit.kind]
            self._at(self.now + 40 + travel_h * 3600, lambda: self._arrive(unit))

    def _en_route(self, unit: SimUnit, incident_id: str) -> None:
        if unit.unit.incident_id != incident_id or unit.unit.status is not UnitStatus.DISPATCHED:
            return
        incident = self.incidents[incident_id]
        if incident.en_route_at is None:
            self._set_incident(incident_id, en_route_at=self.now)
        self._set_unit(unit, status=UnitStatus.EN_ROUTE)
        unit.target = incident.location
        unit.speed_kmh = RESPONSE_SPEED_KMH[unit.unit.kind] * self.rng.uniform(0.8, 1.2)

    def _arrive(self, unit: SimUnit) -> None:
        incident_id = unit.unit.incident_id
        if incident_id is None or unit.unit.status not in (UnitStatus.DISPATCHED, UnitStatus.EN_ROUTE):
            return  # already arrived (history-mode timer and live movement can both get here)
        if not self.live_units and unit.unit.status is UnitStatus.DISPATCHED:
            self._en_route(unit, incident_id)
        incident = self.incidents[incident_id]
        if incident.location is not None:
            unit.lat, unit.lon = incident.location.lat, incident.location.lon
        unit.target = None
        unit.speed_kmh = 0.0
        if incident.on_scene_at is None:
            self._set_incident(incident_id, on_scene_at=self.now)
        self._set_unit(unit, status=UnitStatus.ON_SCENE)
        self._at(self.now + self.rng.uniform(600, 2400), lambda: self._clear(unit, incident_id))

    def _clear(self, unit: SimUnit, incident_id: str) -> None:
        if self.incidents[incident_id].closed_at is None:
            self._set_incident(incident_id, closed_at=self.now)
        if unit.unit.incident_id != incident_id:
            return
        self._set_unit(unit, status=UnitStatus.RETURNING, incident_id=None)
        unit.target = unit.home
        unit.speed_kmh = PATROL_SPEED_KMH[unit.unit.kind] * 1.5
        if not self.live_units:
            self._at(self.now + 900, lambda: self._home(unit))

    def _home(self, unit: SimUnit) -> None:
        if unit.unit.status is not UnitStatus.RETURNING:
            return
        unit.lat, unit.lon = unit.home.lat, unit.home.lon
        unit.target = None
        unit.speed_kmh = 0.0
        self._set_unit(unit, status=UnitStatus.AVAILABLE)

    def _set_unit(self, sim: SimUnit, **changes: object) -> None:
        self._catch_up(sim)
        sim.unit = replace(sim.unit, rev=sim.unit.rev + 1, **changes)  # type: ignore[arg-type]
        self._emit_unit(sim, force=True)

    def _emit_unit(self, sim: SimUnit, force: bool = False) -> None:
        moving = sim.speed_kmh > 0
        interval = FIX_INTERVAL_MOVING_S if moving else FIX_INTERVAL_STILL_S
        if not force and self.now - sim.last_fix_at < interval:
            return
        sim.last_fix_at = self.now
        fix = PositionFix(
            round(sim.lat, 6), round(sim.lon, 6), round(sim.heading, 1), round(sim.speed_kmh, 1), self.now
        )
        # A forced fix rides on the revision its status change already took; a periodic one takes its own.
        sim.unit = replace(sim.unit, fix=fix) if force else replace(sim.unit, rev=sim.unit.rev + 1, fix=fix)
        self.listener("units", sim.unit)

    def _catch_up(self, sim: SimUnit) -> None:
        """Move one unit from where it last was up to now (before its status changes and a fix is sent)."""
        if self.live_units and sim.moved_at < self.now:
            dt = self.now - sim.moved_at if sim.moved_at > -math.inf else 0.0
            sim.moved_at = self.now
            self._step_unit(sim, dt)

    def _move_units(self) -> None:
        if not self.live_units:
            return
        for sim in self.units.values():
            self._catch_up(sim)

    def _step_unit(self, sim: SimUnit, dt: float) -> None:
        status = sim.unit.status
        if sim.target is None:
            if status is UnitStatus.AVAILABLE and self.now >= sim.dwell_until:
                # Patrol: a new leg to a point near home, at patrol speed.
                p = self.polres[sim.unit.polres_id]
                sim.target = self._random_point(p, self.profiles[p.id].area_km * 0.5)
                sim.speed_kmh = PATROL_SPEED_KMH[sim.unit.kind] * self.rng.uniform(0.6, 1.2)
            else:
                self._emit_unit(sim)
                return
            if dt <= 0:
                return
        lat, lon, heading, arrived = move_towards(sim.lat, sim.lon, sim.target, sim.speed_kmh * dt / 3600.0)
        sim.lat, sim.lon, sim.heading = lat, lon, heading
        if arrived:
            sim.target = None
            if status is UnitStatus.EN_ROUTE:
                self._arrive(sim)
            elif status is UnitStatus.RETURNING:
                self._home(sim)
            else:
                sim.speed_kmh = 0.0
                sim.dwell_until = self.now + self.rng.uniform(60, 600)
                self._emit_unit(sim, force=True)
        else:
            self._emit_unit(sim)

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
        """After a history run: units start moving, and any history-mode unit in transit is sent home."""
        self.live_units = True
        for sim in self.units.values():
            sim.moved_at = self.now
            if sim.unit.status is UnitStatus.RETURNING:
                sim.target = sim.home
