"""`wallboard replay FILE --speed N`: a recording as the board's data source (training, after-action review)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wallboard.commands.base import Command
from wallboard.commands.board import DataSource, kiosk_windows, run_qt, supervisor_windows
from wallboard.commands.wiring import demo_store_config, reference
from wallboard.config import Config
from wallboard.core.metrics import MetricsEngine
from wallboard.core.provenance import Provenance, Source
from wallboard.core.timeutil import Clock

if TYPE_CHECKING:
    from wallboard.feed.hub import FeedHub


class EndingClock:
    """A replay's clock that stops at the recording's last record."""

    def __init__(self, inner: Clock, end: float) -> None:
        self.inner = inner
        self.end = end

    @property
    def rate(self) -> float:
        return self.inner.rate

    def now(self) -> float:
        return min(self.inner.now(), self.end)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("feed", metavar="FILE.ndjson")
    p.add_argument("--speed", type=float, default=1.0, help="replay speed (1 = real time)")
    p.add_argument("--kiosk", action="store_true", help="full-screen kiosk instead of the supervisor window")


def run(args: argparse.Namespace, config: Config) -> int:
    from wallboard.feed.replay import ReplaySource

    try:
        replay = ReplaySource.open(Path(args.feed), speed=args.speed)
    except (OSError, ValueError) as exc:
        print(f"wallboard replay: {exc}", file=sys.stderr)
        return 2
    # The wall's clock is the recording's, and it stops at the recording's end: the wall says the recording ended
    # and freezes there rather than ticking on into times the recording knows nothing about.
    clock = EndingClock(replay.clock, replay.end_time)
    provenance = Provenance(Source.RECORDING, Path(args.feed).name, replay.start_time, replay.end_time)
    source = DataSource(api_url="", clock=clock, reference=reference(), provenance=provenance)
    config = demo_store_config(config)
    make = kiosk_windows(config) if args.kiosk else supervisor_windows(config)

    def make_with_replay(hub: FeedHub, engine: MetricsEngine) -> list[Any]:
        hub.attach_replay(replay)
        return make(hub, engine)

    return run_qt(config, source, make_with_replay, use_store=False)


COMMAND = Command("replay", "show a recorded NDJSON feed on the board", add_arguments, run)
