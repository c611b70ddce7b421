"""Where the numbers on the wall come from: a live dispatch API, the simulator, or a recording.

The wall always says so. A live board shows nothing extra; a simulated or recorded one carries a watermark the whole
room can read (SIMULASI / REKAMAN, with the recording's name and its recorded date and time), so invented or old
calls are never taken for real ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Source(StrEnum):
    LIVE = "live"  # a real dispatch API
    DEMO = "demo"  # the embedded simulator
    RECORDING = "recording"  # a recorded feed (replay, or a snapshot of one)


@dataclass(frozen=True, slots=True)
class Provenance:
    source: Source = Source.LIVE
    name: str = ""  # the recording's file name
    recorded_start: float | None = None  # the recording's first and last arrival times (POSIX seconds)
    recorded_end: float | None = None
    token_missing: bool = False  # a live board started without an API token: the wall says so

    @property
    def is_live(self) -> bool:
        return self.source is Source.LIVE

    def ended(self, now: float) -> bool:
        """A recording whose last record has been shown: the wall says so and stops its clock there."""
        return self.source is Source.RECORDING and self.recorded_end is not None and now >= self.recorded_end


LIVE = Provenance()
DEMO = Provenance(Source.DEMO)
