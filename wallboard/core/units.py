"""The unit board: units per Polres by status, the available share, stale positions, and time in status.

Plain functions over the engine's units: no Qt, no I/O. One pass over the units per snapshot (a national board has
about 7,000), so the cost stays bounded whatever the history holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from wallboard.core.model import Unit, UnitStatus

#: The unit board's columns, in the order a dispatcher reads them.
STATUS_ORDER: tuple[UnitStatus, ...] = (
    UnitStatus.AVAILABLE,
    UnitStatus.DISPATCHED,
    UnitStatus.EN_ROUTE,
    UnitStatus.ON_SCENE,
    UnitStatus.RETURNING,
    UnitStatus.OUT_OF_SERVICE,
)

#: Kinds of time-in-status overrun (also the suffix of their alert ids).
DISPATCHED_TOO_LONG = "dispatched"  # dispatched, not yet moving off
ON_SCENE_TOO_LONG = "on_scene"
NO_POSITION = "no_position"  # no fix, or the last fix is too old


#: Which status has a time limit: (overrun kind, the StatusLimits field holding its seconds).
_STATUS_RULES = {
    UnitStatus.DISPATCHED: (DISPATCHED_TOO_LONG, "dispatched_s"),
    UnitStatus.ON_SCENE: (ON_SCENE_TOO_LONG, "on_scene_s"),
}


@dataclass(frozen=True, slots=True)
class StatusLimits:
    """When a unit's time in a status becomes an alert (seconds; 0 turns that rule off)."""

    dispatched_s: float = 180.0
    on_scene_s: float = 3600.0
    no_position_s: float = 600.0


@dataclass(frozen=True, slots=True)
class UnitBoardRow:
    """One Polres' units now."""

    polres_id: str
    name: str
    by_status: dict[str, int] = field(default_factory=dict)  # UnitStatus value -> count (every status present)
    stale_position: int = 0  # on duty, no fix or a fix older than the map's stale age
    overruns: int = 0  # time-in-status overruns now (``overruns``): a unit can have two, its status and no position

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def on_duty(self) -> int:
        return self.total - self.by_status.get(UnitStatus.OUT_OF_SERVICE.value, 0)

    @property
    def available(self) -> int:
        return self.by_status.get(UnitStatus.AVAILABLE.value, 0)

    @property
    def available_pct(self) -> float | None:
        """Available units as a share of the units on duty (None: nobody on duty)."""
        return None if self.on_duty == 0 else 100.0 * self.available / self.on_duty


def least_available_first(row: UnitBoardRow) -> tuple[bool, float, str, str]:
    """The wall's order: lowest available share first, Polres with nobody on duty last; ties by name, then id."""
    pct = row.available_pct
    return (pct is None, pct or 0.0, row.name, row.polres_id)


@dataclass(frozen=True, slots=True)
class UnitBoard:
    """The unit board as the wall shows it: the rows in the wall's order and the headline totals, summed over the
    same rows, so the headline always equals the table (and the export, which writes these rows)."""

    rows: tuple[UnitBoardRow, ...] = ()  # board Polres with at least one unit, least available first
    available: int = 0
    on_duty: int = 0  # units not out of service
    overruns: int = 0  # time-in-status overruns now, all rows

    @staticmethod
    def of(rows: Iterable[UnitBoardRow]) -> UnitBoard:
        """The wall's board from per-Polres rows: a Polres without units has no row (nothing to dispatch there)."""
        shown = sorted((r for r in rows if r.total), key=least_available_first)
        return UnitBoard(
            rows=tuple(shown),
            available=sum(r.available for r in shown),
            on_duty=sum(r.on_duty for r in shown),
            overruns=sum(r.overruns for r in shown),
        )


@dataclass(frozen=True, slots=True)
class StatusOverrun:
    """A unit longer in a status than its limit (``since`` None: no fix ever, for ``no_position``)."""

    unit_id: str
    callsign: str
    polres_id: str
    kind: str  # DISPATCHED_TOO_LONG, ON_SCENE_TOO_LONG or NO_POSITION
    since: float | None
    limit_s: float


def status_since(old: Unit | None, new: Unit, old_since: float | None) -> float | None:
    """When ``new`` entered its status: kept from the older revision while the status is unchanged, else the time of
    the revision's own fix (a unit first seen already in a status counts from its first fix: a lower bound)."""
    if old is not None and old.status is new.status and old_since is not None:
        return old_since
    return new.fix.at if new.fix is not None else None


def is_stale(unit: Unit, now: float, stale_fix_s: float) -> bool:
    """No fix, or the last fix is older than ``stale_fix_s`` (the map greys such a unit)."""
    return unit.fix is None or now - unit.fix.at > stale_fix_s


def unit_board(
    units: Iterable[Unit],
    polres: Mapping[str, str],
    now: float,
    stale_fix_s: float,
    late: Iterable[StatusOverrun] = (),
) -> tuple[UnitBoardRow, ...]:
    """Per Polres of ``polres`` (id -> name, in board order) its units by status, those with a stale position and
    its time-in-status overruns among ``late``. Units of other Polres are not counted. One tight pass: a national
    board has ~7,000 units, every second."""
    template = {s.value: 0 for s in STATUS_ORDER}
    counts = {pid: dict(template) for pid in polres}
    stale = dict.fromkeys(polres, 0)
    cutoff = now - stale_fix_s
    off = UnitStatus.OUT_OF_SERVICE
    for u in units:
        row = counts.get(u.polres_id)
        if row is None:
            continue
        status = u.status
        row[status] += 1  # a StrEnum hashes as its value
        if status is not off and (u.fix is None or u.fix.at < cutoff):
            stale[u.polres_id] += 1
    over = dict.fromkeys(polres, 0)
    for o in late:
        if o.polres_id in over:
            over[o.polres_id] += 1
    return tuple(UnitBoardRow(pid, name, counts[pid], stale[pid], over[pid]) for pid, name in polres.items())


def overruns(
    units: Iterable[Unit],
    since: Mapping[str, float | None],
    in_scope: Mapping[str, str],
    now: float,
    limits: StatusLimits,
) -> tuple[StatusOverrun, ...]:
    """Units over a time-in-status limit now. A limit is passed when *more* than its seconds have gone by (the same
    edge as the overdue rule: at exactly the limit, not yet). Units out of service raise nothing."""
    out: list[StatusOverrun] = []
    rules = {status: (kind, getattr(limits, field)) for status, (kind, field) in _STATUS_RULES.items()
             if getattr(limits, field) > 0}  # fmt: skip
    off = UnitStatus.OUT_OF_SERVICE
    no_fix_s = limits.no_position_s
    for u in units:
        status = u.status
        if status is off or u.polres_id not in in_scope:
            continue
        rule = rules.get(status)
        if rule is not None:
            entered = since.get(u.id)
            if entered is not None and now - entered > rule[1]:
                out.append(StatusOverrun(u.id, u.callsign, u.polres_id, rule[0], entered, rule[1]))
        if no_fix_s > 0 and (u.fix is None or now - u.fix.at > no_fix_s):
            out.append(StatusOverrun(u.id, u.callsign, u.polres_id, NO_POSITION, None if u.fix is None else u.fix.at,
                                     limits.no_position_s))  # fmt: skip
    return tuple(out)
