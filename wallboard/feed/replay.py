"""A recording as the board's data source: records are released as the replay clock passes their arrival time."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

from wallboard.core.timeutil import Clock, OffsetClock, SystemClock
from wallboard.feed.ndjson import FeedLine, FeedReader, Record


@dataclass
class ReplaySource:
    lines: list[FeedLine]
    clock: Clock
    position: int = 0

    @classmethod
    def open(cls, path: Path, *, speed: float = 1.0, base: Clock | None = None) -> ReplaySource:
        reader = FeedReader(path)
        lines = sorted(reader, key=lambda line: line.t)
        if not lines:
            raise ValueError(f"{path}: the recording holds no records")
        base = base or SystemClock()
        # The replay clock starts at the first record's time and runs at ``speed``.
        clock = OffsetClock(base, offset_s=lines[0].t - base.now(), rate=speed)
        return cls(lines, clock)

    @property
    def start_time(self) -> float:
        return self.lines[0].t

    @property
    def end_time(self) -> float:
        return self.lines[-1].t

    @property
    def finished(self) -> bool:
        return self.position >= len(self.lines)

    def due(self, now: float) -> list[tuple[str, Record]]:
        """Every record that arrived by ``now`` and has not been released yet, in arrival order."""
        end = bisect.bisect_right([line.t for line in self.lines], now, lo=self.position)
        out = [(line.stream, line.record) for line in self.lines[self.position : end]]
        self.position = max(self.position, end)
        return out
