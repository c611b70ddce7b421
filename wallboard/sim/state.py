"""The simulated world as the HTTP side sees it: change logs per stream and one lock, behind a small facade.

The world itself is single-threaded (:class:`wallboard.sim.world.World`); the server's world thread advances it
while request threads read pages and the queue. Every access goes through :class:`SimState`, which holds the lock;
nothing outside this class touches it.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wallboard.core import records
from wallboard.core.model import Call, Incident, Polres, QueueState, Unit
from wallboard.sim.world import PolresProfile, Ring, World

STREAMS = ("calls", "incidents", "units")


@dataclass
class ChangeLog:
    """Per-stream change sequence: every change of an entity gets the next number; a page lists entities whose
    latest change is after the cursor, once each, in sequence order (no gaps, no duplicates)."""

    seq: int = 0
    latest: dict[str, tuple[int, Any]] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)  # sequence numbers, ascending
    order_ids: list[str] = field(default_factory=list)

    def record(self, entity_id: str, record: Any) -> None:
        self.seq += 1
        self.latest[entity_id] = (self.seq, record)
        self.order.append(self.seq)
        self.order_ids.append(entity_id)
        if len(self.order) > 4 * len(self.latest) + 10_000:
            pairs = sorted((seq, eid) for eid, (seq, _) in self.latest.items())
            self.order = [p[0] for p in pairs]
            self.order_ids = [p[1] for p in pairs]

    def page(self, cursor: int, limit: int, keep: Callable[[Any], bool]) -> tuple[list[Any], int, bool]:
        """(records, next_cursor, has_more) after ``cursor``; ``keep(record)`` filters (e.g. by Polda)."""
        items: list[Any] = []
        i = bisect.bisect_right(self.order, cursor)
        next_cursor = cursor
        n = len(self.order)
        # (next_cursor is the last sequence number handed out or skipped; it is only used when the page is full)
        while i < n:
            seq, eid = self.order[i], self.order_ids[i]
            i += 1
            latest_seq, record = self.latest[eid]
            if latest_seq != seq:
                continue  # superseded by a later change: it comes at its own place
            if not keep(record):
                next_cursor = seq
                continue
            if len(items) == limit:
                return items, next_cursor, True
            items.append(record)
            next_cursor = seq
        return items, max(self.seq, cursor), False  # everything up to the newest change has been scanned


@dataclass(frozen=True)
class Page:
    """One page of a stream: records in wire form, where the next page starts, and the stream's sequence now."""

    items: list[dict[str, Any]]
    next_cursor: int
    has_more: bool
    stream_seq: int


class SimState:
    """A :class:`World` with a change log per stream, safe to use from several threads."""

    def __init__(
        self,
        polres: list[Polres],
        *,
        seed: int,
        start_time: float,
        history_hours: float = 0.0,
        polsek_tier: bool = False,
        profiles: Mapping[str, PolresProfile] | None = None,
        areas: Mapping[str, list[Ring]] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._logs = {stream: ChangeLog() for stream in STREAMS}
        self._polda_of = {p.id: p.polda_id for p in polres}
        self._tz_of = {p.id: p.tz for p in polres}
        self._world = World(
            polres,
            seed=seed,
            start_time=start_time - history_hours * 3600,
            polsek_tier=polsek_tier,
            profiles=profiles,
            listener=self._on_change,
            live_units=history_hours <= 0,
            areas=areas,
        )
        if history_hours > 0:
            self._world.advance_to(start_time)
            self._world.enable_live_units()

    @property
    def world(self) -> World:
        """The world itself, for tests and benchmarks that read it while nothing advances it (not locked)."""
        return self._world

    def _on_change(self, stream: str, record: object) -> None:
        assert isinstance(record, (Call, Incident, Unit))
        self._logs[stream].record(record.id, record)

    def advance_to(self, t: float, tick_s: float | None = None) -> None:
        with self._lock:
            self._world.advance_to(t, tick_s)

    def polda_of(self, polres_id: str) -> str | None:
        return self._polda_of.get(polres_id)

    def page(self, stream: str, cursor: int, limit: int, polda: str | None) -> Page:
        """Records of ``stream`` changed after ``cursor`` (of ``polda``'s Polres only, when given)."""

        def keep(record: Any) -> bool:
            return polda is None or self._polda_of.get(record.polres_id) == polda

        changes = self._logs[stream]
        with self._lock:
            found, next_cursor, has_more = changes.page(cursor, limit, keep)
            seq = changes.seq
        items = [records.to_wire(r, self._tz_of.get(r.polres_id))[1] for r in found]
        return Page(items, next_cursor, has_more, seq)

    def stream_seq(self, stream: str) -> int:
        with self._lock:
            return self._logs[stream].seq

    def queue(self, polda: str | None) -> QueueState:
        with self._lock:
            queue = self._world.queue()
        if polda is None:
            return queue
        return QueueState(queue.as_of, tuple(e for e in queue.entries if self._polda_of.get(e.polres_id) == polda))

    def counts(self) -> dict[str, int]:
        with self._lock:
            world = self._world
            return {
                "calls": len(world.calls),
                "incidents": len(world.incidents),
                "units": len(world.units),
                "ringing": len(world.ringing),
            }
