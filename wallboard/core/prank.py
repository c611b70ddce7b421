"""The prank watch: numbers with repeated prank or silent calls, the prank share per Polres, and where prank calls
come from (counted per grid cell, never single points).

Kept up to date one call at a time (:class:`PrankIndex`), so a snapshot reads only the numbers that called more
than once, not every call of the week. Numbers leave the core masked (``core.privacy.mask_phone``) unless the desk
is authorised: the snapshot, and so the wall, the drill-down, the JSON, the export and the log, never holds a full
number otherwise.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from wallboard.core.model import NUISANCE_CATEGORIES, Call, CallCategory
from wallboard.core.privacy import mask_phone

CELL_DEG = 0.05  # where prank calls come from, per cell of about 5.5 km: never a single caller's position
CELL_KM = CELL_DEG * 111.32  # a cell's side in km (north-south; narrower east-west away from the equator)
MAX_NUMBERS = 100  # the longest list a snapshot carries
MAX_CELLS = 2000  # the busiest cells of the day (a national board has far fewer with prank calls in most hours)


@dataclass(frozen=True, slots=True)
class PrankNumber:
    number: str  # masked unless board.unmask_caller_numbers
    today: int  # prank or silent calls from it today (the board's local day)
    week: int  # ... in the last 7 local days, today included
    polres_id: str  # where it called most this week
    polres_name: str
    last_at: float
    flagged: bool  # week >= flag_at


@dataclass(frozen=True, slots=True)
class PrankShare:
    polres_id: str
    name: str
    nuisance: int  # prank or silent calls today
    categorised: int  # calls with a known category today

    @property
    def share_pct(self) -> float | None:
        return None if self.categorised == 0 else 100.0 * self.nuisance / self.categorised


@dataclass(frozen=True, slots=True)
class PrankCell:
    lat: float  # south-west corner of the cell
    lon: float
    size_deg: float
    calls: int  # prank or silent calls today from inside the cell


@dataclass(frozen=True, slots=True)
class PrankWatch:
    """The lists are cut (``MAX_NUMBERS``, ``MAX_CELLS``); the counts are taken before the cut, so the wall can say
    how many there are in all: never count the lists."""

    numbers: tuple[PrankNumber, ...]  # repeated callers, most calls today first (at most MAX_NUMBERS)
    repeat_numbers: int  # how many numbers called more than once this week (the list may be cut)
    flag_at: int
    share_by_polres: tuple[PrankShare, ...]  # highest share first
    cells: tuple[PrankCell, ...]  # the busiest cells today (at most MAX_CELLS)
    flagged_numbers: int = 0  # numbers with flag_at or more prank/silent calls this week, all of them
    calls_today: int = 0  # prank or silent calls today (the board's local day), all of them
    located_today: int = 0  # ... of them with a caller location, over every cell
    cells_today: int = 0  # cells with such calls today, all of them


class _NumbersKept(NamedTuple):
    """The repeated numbers' part of a watch, with what it was computed for (PrankIndex.watch)."""

    key: tuple[object, ...]  # index version, day and week start, flag count, unmasking, scope filter
    end: float
    names: dict[str, str]
    numbers: tuple[PrankNumber, ...]
    repeat_numbers: int
    flagged: int


class PrankIndex:
    """Prank and silent calls by caller number, per-Polres-day category counts and per-cell counts, kept as calls
    arrive (add the new revision, remove the old one)."""

    __slots__ = ("_latest", "_numbers_cache", "_version", "by_number", "cells", "nuisance_days", "repeats", "shares")

    def __init__(self) -> None:
        # The repeated numbers' part of the watch is the dear part (every repeated number's calls of the week, at
        # every snapshot: a third of a national snapshot). It changes only when a repeated number's calls change
        # (``_version``) or the day or settings do, so it is kept between snapshots with what it was computed for.
        self._version = 0
        self._latest = -math.inf  # no call held was received at or after this (an upper bound)
        self._numbers_cache: _NumbersKept | None = None
        self.by_number: dict[str, dict[str, tuple[float, str]]] = {}  # number -> call id -> (received, polres)
        self.repeats: set[str] = set()  # numbers with two or more nuisance calls held
        self.shares: dict[tuple[str, int], list[int]] = {}  # (polres, day) -> [nuisance, categorised]
        self.cells: dict[int, dict[tuple[int, int], int]] = {}  # day -> (cell lat, cell lon) -> nuisance calls
        self.nuisance_days: dict[int, int] = {}  # day -> nuisance calls (with or without a number or a location)

    def apply(self, call: Call, day: int, sign: int) -> None:
        """Count ``call`` (of local day ``day``) in (``sign`` 1) or out (-1)."""
        nuisance = call.category in NUISANCE_CATEGORIES
        if call.category is not CallCategory.UNKNOWN:
            share = self.shares.setdefault((call.polres_id, day), [0, 0])
            share[0] += sign * nuisance
            share[1] += sign
            if share[1] <= 0:
                del self.shares[(call.polres_id, day)]
        if not nuisance:
            return
        n_day = self.nuisance_days.get(day, 0) + sign
        if n_day > 0:
            self.nuisance_days[day] = n_day
        else:
            self.nuisance_days.pop(day, None)
        if call.caller_location is not None:
            where = call.caller_location
            key = (math.floor(where.lat / CELL_DEG), math.floor(where.lon / CELL_DEG))
            cells = self.cells.setdefault(day, {})
            n = cells.get(key, 0) + sign
            if n > 0:
                cells[key] = n
            else:
                cells.pop(key, None)
        number = call.caller_number
        if not number:
            return
        calls = self.by_number.setdefault(number, {})
        if len(calls) >= 1:  # a repeated number before or after this change: what the watch lists moves
            self._version += 1
        self._latest = max(self._latest, call.received_at)
        if sign > 0:
            calls[call.id] = (call.received_at, call.polres_id)
        else:
            calls.pop(call.id, None)
        if len(calls) >= 2:
            self.repeats.add(number)
        else:
            self.repeats.discard(number)
            if not calls:
                del self.by_number[number]

    def forget_days_before(self, day: int) -> None:
        for key in [k for k in self.shares if k[1] < day]:
            del self.shares[key]
        for old in [d for d in self.cells if d < day]:
            del self.cells[old]
        for old in [d for d in self.nuisance_days if d < day]:
            del self.nuisance_days[old]

    def watch(
        self,
        *,
        today: int,
        today_start: float,
        week_start: float,
        end: float,
        names: Mapping[str, str],
        flag_at: int,
        unmasked: bool,
        polres_ok: Callable[[str], bool] = lambda _: True,
    ) -> PrankWatch:
        key = (self._version, today_start, week_start, flag_at, unmasked, polres_ok)
        cached = self._numbers_cache
        # Valid for a new ``end`` when no call held lies between the two ends (every call is before both). With
        # flag_at 1 the one-off numbers count too, and their calls do not move _version: never kept then.
        if (
            flag_at > 1
            and cached is not None
            and cached.key == key
            and cached.names == names
            and self._latest < min(end, cached.end)
        ):
            kept, repeat_numbers, flagged = cached.numbers, cached.repeat_numbers, cached.flagged
        else:
            kept, repeat_numbers, flagged = self._numbers(today_start, week_start, end, names, flag_at, unmasked,
                                                          polres_ok)  # fmt: skip
            self._numbers_cache = _NumbersKept(key, end, dict(names), kept, repeat_numbers, flagged)
        shares = [PrankShare(pid, name, *self.shares.get((pid, today), (0, 0))) for pid, name in names.items()]
        shares.sort(key=lambda s: (s.share_pct is None, -(s.share_pct or 0.0), -s.nuisance, s.name))
        today_cells = self.cells.get(today, {})
        busiest = heapq.nlargest(MAX_CELLS, today_cells.items(), key=lambda c: (c[1], c[0]))
        cells = tuple(PrankCell(i * CELL_DEG, j * CELL_DEG, CELL_DEG, n) for (i, j), n in busiest)
        return PrankWatch(
            numbers=kept,
            repeat_numbers=repeat_numbers,
            flag_at=flag_at,
            share_by_polres=tuple(shares),
            cells=cells,
            flagged_numbers=flagged,
            calls_today=self.nuisance_days.get(today, 0),
            located_today=sum(today_cells.values()),
            cells_today=len(today_cells),
        )

    def _numbers(
        self,
        today_start: float,
        week_start: float,
        end: float,
        names: Mapping[str, str],
        flag_at: int,
        unmasked: bool,
        polres_ok: Callable[[str], bool],
    ) -> tuple[tuple[PrankNumber, ...], int, int]:
        """The repeated numbers of the week, most calls today first, cut to MAX_NUMBERS; how many there are; and how
        many are flagged."""
        numbers: list[PrankNumber] = []
        flagged = 0
        for number in self.repeats:
            week = today_n = 0
            last = -math.inf
            where: dict[str, int] = {}
            for received, polres_id in self.by_number[number].values():
                if week_start <= received < end and polres_ok(polres_id):
                    week += 1
                    today_n += received >= today_start
                    where[polres_id] = where.get(polres_id, 0) + 1
                    last = max(last, received)
            if week >= flag_at and week > 0:
                flagged += 1
            if week < 2:
                continue
            top = min(where, key=lambda p: (-where[p], p))
            numbers.append(PrankNumber(mask_phone(number, unmasked=unmasked), today_n, week, top,
                                       names.get(top, top), last, week >= flag_at))  # fmt: skip
        if flag_at <= 1:  # one call flags a number: the numbers that called once this week count too (rare setting)
            for number, calls in self.by_number.items():
                if number not in self.repeats:
                    ((received, polres_id),) = calls.values()
                    flagged += week_start <= received < end and polres_ok(polres_id)
        numbers.sort(key=lambda n: (-n.today, -n.week, -n.last_at, n.number))
        return tuple(numbers[:MAX_NUMBERS]), len(numbers), flagged
