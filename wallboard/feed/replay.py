"""A recording as the board's data source: records are released as the replay clock passes their arrival time.

The replay clock is a ``ScaledClock`` that starts at the recording's first arrival time when the replay opens and
runs at ``speed`` recording-seconds per real second (its ``rate``). The board uses it as its clock, so every panel
(day boundaries, "last 60 minutes", overdue incidents) sees the recording's time, not today's.
"""

from __future__ import annotations

import bisect
from pathlib import Path

from wallboard.core.timeutil import Clock, ScaledClock, SystemClock
from wallboard.feed.ndjson import FeedLine, FeedReader, Record


class ReplaySource:
    """Releases a recording's records in arrival order as ``due(now)`` is called with a later and later ``now``."""

    def __init__(self, lines: list[FeedLine], clock: Clock, problems: list[tuple[int, str]] | None = None) -> None:
        if not lines:
            raise ValueError("a replay needs at least one record")
        # Stable sort: a converted export need not be in order; lines with the same time keep file order.
        self.lines = sorted(lines, key=lambda line: line.t)
        self._times = [line.t for line in self.lines]
        self.clock = clock
        self.position = 0
        self.problems = problems or []  # (line number, reason) of every line the reader skipped

    @classmethod
    def open(cls, path: Path, *, speed: float = 1.0, base: Clock | None = None) -> ReplaySource:
        """Read ``path`` and start a replay clock at its first record, running at ``speed`` (> 0)."""
        if not speed > 0:
            raise ValueError(f"replay speed must be positive, not {speed}")
        if not path.is_file():
            raise OSError(f"{path}: no such recording")
        reader = FeedReader(path)
        lines = list(reader)
        if not lines:
            raise ValueError(f"{path}: the recording holds no records")
        base = base or SystemClock()
        start = min(line.t for line in lines)
        clock = ScaledClock(start, rate=speed, base=base.now)
        return cls(lines, clock, reader.problems)

    @property
    def start_time(self) -> float:
        return self._times[0]

    @property
    def end_time(self) -> float:
        return self._times[-1]

    @property
    def finished(self) -> bool:
        return self.position >= len(self.lines)

    def due(self, now: float) -> list[tuple[str, Record]]:
        """Every record that arrived by ``now`` and has not been released yet, in arrival order. A ``now`` earlier
        than a previous call releases nothing (records are never released twice)."""
        end = bisect.bisect_right(self._times, now, lo=self.position)
        out = [(line.stream, line.record) for line in self.lines[self.position : end]]
        self.position = max(self.position, end)
        return out
