"""A recording as the board's data source: records are released as the replay clock passes their arrival time.

The replay clock is a ``ScaledClock`` that starts at the recording's first arrival time when the replay opens and
runs at ``speed`` recording-seconds per real second (its ``rate``). The board uses it as its clock, so every panel
(day boundaries, "last 60 minutes", overdue incidents) sees the recording's time, not today's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from wallboard.core.timeutil import Clock, ScaledClock, SystemClock
from wallboard.feed.ndjson import FeedLine, FeedReader, Record


class ReplaySource:
    """Releases a recording's records in arrival order as ``due(now)`` is called with a later and later ``now``.

    A recording in arrival order (every file ``wallboard record`` writes) is read as it plays: only the next line is
    held, so a month's recording costs no more memory than a minute's. One out of order (a converted export) is read
    whole and sorted first."""

    def __init__(
        self,
        lines: Iterable[FeedLine],
        clock: Clock,
        problems: list[tuple[int, str]] | None = None,
        *,
        span: tuple[float, float] | None = None,
    ) -> None:
        """``lines`` in any order; or, with their ``span`` (first and last arrival time), already in arrival order
        and read lazily."""
        if span is None:
            # Stable sort: a converted export need not be in order; lines with the same time keep file order.
            ordered = sorted(lines, key=lambda line: line.t)
            if not ordered:
                raise ValueError("a replay needs at least one record")
            span = (ordered[0].t, ordered[-1].t)
            lines = ordered
        self._pending = iter(lines)
        self._next: FeedLine | None = next(self._pending, None)
        if self._next is None:
            raise ValueError("a replay needs at least one record")
        self._span = span
        self.clock = clock
        self.problems = problems or []  # (line number, reason) of every line the reader skipped

    @classmethod
    def open(cls, path: Path, *, speed: float = 1.0, base: Clock | None = None) -> ReplaySource:
        """Read ``path`` and start a replay clock at its first record, running at ``speed`` (> 0)."""
        if not speed > 0:
            raise ValueError(f"replay speed must be positive, not {speed}")
        if not path.is_file():
            raise OSError(f"{path}: no such recording")
        # A first pass keeps nothing but the span and whether the file is in arrival order.
        reader = FeedReader(path)
        first, last, previous, in_order = math.inf, -math.inf, -math.inf, True
        for line in reader:
            first, last = min(first, line.t), max(last, line.t)
            in_order = in_order and line.t >= previous
            previous = line.t
        if reader.count == 0:
            raise ValueError(f"{path}: the recording holds no records")
        problems = list(reader.problems)
        base = base or SystemClock()
        clock = ScaledClock(first, rate=speed, base=base.now)
        if in_order:
            return cls(iter(FeedReader(path)), clock, problems, span=(first, last))
        return cls(list(FeedReader(path)), clock, problems)

    @property
    def start_time(self) -> float:
        return self._span[0]

    @property
    def end_time(self) -> float:
        return self._span[1]

    @property
    def finished(self) -> bool:
        return self._next is None

    def due(self, now: float) -> list[tuple[str, Record]]:
        """Every record that arrived by ``now`` and has not been released yet, in arrival order. A ``now`` earlier
        than a previous call releases nothing (records are never released twice)."""
        out = []
        while self._next is not None and self._next.t <= now:
            out.append((self._next.stream, self._next.record))
            self._next = next(self._pending, None)
        return out
