"""Incidents at risk: open, no unit on scene yet, most urgent first, with the time left to the response target and
the nearest available unit (straight-line distance).

The deadline is ``core.metrics.overdue_at`` (the one overdue rule); the countdown's edges follow ``is_overdue``: at
exactly the deadline 0:00 is left and the incident is not yet overdue, a second later it is "+0:01" and red.
Nearest units come from a grid index built once per snapshot, so a national board (7,000 units) stays cheap.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from wallboard.core.model import Incident, Priority, Unit

EARTH_RADIUS_KM = 6371.0088
CELL_DEG = 0.25  # grid cell of the nearest-unit index (~28 km)
MAX_RINGS = 40  # search at most 10° around an incident; beyond that "no unit near"


@dataclass(frozen=True, slots=True)
class AtRisk:
    """One open incident without a unit on scene."""

    incident_id: str
    polres_id: str
    polres_name: str
    kind: str  # free text from the CAD: never markup
    priority: Priority
    received_at: float
    deadline: float  # call received + target (core.metrics.overdue_at)
    nearest_unit_id: str | None = None
    nearest_callsign: str | None = None
    nearest_km: float | None = None
    ageing_at: float | None = None  # past half the target from here (core.metrics.ageing_at): the panel's amber


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle ("straight-line") distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def countdown(deadline: float, now: float) -> tuple[bool, int]:
    """(overdue, whole seconds): before or at the deadline the seconds left (rounded up, so it reaches 0:00 exactly
    at the deadline); past it the seconds since (rounded down), as ``is_overdue`` decides."""
    if now > deadline:
        return True, math.floor(now - deadline)
    return False, math.ceil(deadline - now)


def overdue_count(deadlines: Sequence[float], now: float) -> int:
    """How many of the sorted ``deadlines`` have passed at ``now``: past means strictly after, as ``is_overdue``
    decides (at exactly the deadline, not yet). A binary search, so a panel can ask every second for every incident
    at risk, not only the rows it shows."""
    return bisect.bisect_left(deadlines, now)


def countdown_text(deadline: float, now: float) -> tuple[str, bool]:
    """("9:59" or "+0:01", overdue): minutes and seconds, hours when it runs that long."""
    overdue, s = countdown(deadline, now)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    body = f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"
    return ("+" + body if overdue else body), overdue


class UnitIndex:
    """Available units with a usable fix, bucketed by grid cell for nearest-unit queries."""

    __slots__ = ("cells",)

    def __init__(self, units: Iterable[Unit]) -> None:
        self.cells: dict[tuple[int, int], list[Unit]] = {}
        for u in units:
            if u.fix is None:
                continue
            key = (math.floor(u.fix.lat / CELL_DEG), math.floor(u.fix.lon / CELL_DEG))
            self.cells.setdefault(key, []).append(u)

    def nearest(self, lat: float, lon: float) -> tuple[Unit, float] | None:
        """The nearest unit and its distance in km; ties by unit id (the same answer every time)."""
        if not self.cells:
            return None
        ci, cj = math.floor(lat / CELL_DEG), math.floor(lon / CELL_DEG)
        best: tuple[float, str, Unit] | None = None
        for ring in range(MAX_RINGS + 1):
            if best is not None:
                # Every cell of this ring is at least (ring - 1) whole cells away in latitude or longitude.
                shrink = math.cos(math.radians(min(89.0, abs(lat) + (ring + 1) * CELL_DEG)))
                bound = (ring - 1) * CELL_DEG * (math.pi / 180) * EARTH_RADIUS_KM * shrink
                if bound > best[0]:
                    break
            for i in range(ci - ring, ci + ring + 1):
                for j in range(cj - ring, cj + ring + 1):
                    if max(abs(i - ci), abs(j - cj)) != ring:
                        continue
                    for u in self.cells.get((i, j), ()):
                        assert u.fix is not None
                        d = haversine_km(lat, lon, u.fix.lat, u.fix.lon)
                        if best is None or (d, u.id) < (best[0], best[1]):
                            best = (d, u.id, u)
        return None if best is None else (best[2], best[0])


def at_risk(
    incidents: Iterable[Incident],
    names: dict[str, str],
    deadline_of: Callable[[Incident], float | None],
    available: UnitIndex | Callable[[], UnitIndex],
    limit: int,
    ageing_of: Callable[[Incident], float | None] = lambda i: None,
) -> tuple[tuple[AtRisk, ...], tuple[float, ...]]:
    """The ``limit`` most urgent open incidents without a unit on scene (earliest deadline first, then priority), each
    with its nearest available unit; and the deadlines of all of them, sorted (their count is how many there are;
    ``overdue_count`` counts those past at any moment). ``deadline_of`` is the overdue rule
    (``core.metrics.overdue_at``): None means the incident is not at risk. ``available`` may be a function that
    builds the index, called only if there is an incident at risk."""
    candidates = []
    for i in incidents:
        deadline = deadline_of(i)
        if deadline is not None:
            candidates.append((deadline, int(i.priority), i.id, i))
    candidates.sort(key=lambda c: c[:3])
    out = []
    # Built only when some incident is at risk: indexing 6,600 units took 11 ms of every national snapshot, and
    # most of the time no incident is waiting for a unit.
    index = available if isinstance(available, UnitIndex) else available() if candidates else UnitIndex(())
    for deadline, _, _, i in candidates[:limit]:
        near = index.nearest(i.location.lat, i.location.lon) if i.location is not None else None
        out.append(
            AtRisk(
                incident_id=i.id,
                polres_id=i.polres_id,
                polres_name=names.get(i.polres_id, i.polres_id),
                kind=i.kind,
                priority=i.priority,
                received_at=i.call_received_at,
                deadline=deadline,
                nearest_unit_id=near[0].id if near else None,
                nearest_callsign=near[0].callsign if near else None,
                nearest_km=near[1] if near else None,
                ageing_at=ageing_of(i),
            )
        )
    return tuple(out), tuple(c[0] for c in candidates)
