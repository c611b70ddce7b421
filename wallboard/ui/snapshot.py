"""`wallboard snapshot`: render the full board offscreen to a PNG (daily reports, documentation, tests).

The data comes from a recording (``--feed``, at its end or ``--at``) or from the simulator run deterministically for
``--demo-minutes`` after its usual history; either way it goes through the same decoding and the same metrics engine
as the live board.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from wallboard.config import Config
from wallboard.core import records
from wallboard.core.freshness import Freshness, StreamHealth
from wallboard.core.metrics import MetricsEngine
from wallboard.core.snapshot import Window
from wallboard.core.timeutil import ManualClock, parse_rfc3339

log = logging.getLogger(__name__)


def engine_from_demo(config: Config, minutes: float) -> tuple[MetricsEngine, float]:
    """Run the simulator for ``minutes`` of sim time (after its history) and pull everything over HTTP."""
    from wallboard.commands.wiring import new_engine, simulator
    from wallboard.feed.client import DispatchClient
    from wallboard.feed.sync import StreamSync

    start = time.time() - minutes * 60
    sim = simulator(config, speed=0, start_time=start)
    sim.start()
    try:
        sim.advance(minutes * 60)
        now = sim.clock.now()
        engine = new_engine(config)
        sync = StreamSync(DispatchClient(sim.url, config.api), engine.polda_id)
        for stream in ("reference", "calls", "units", "queue"):
            more = True
            while more:  # a fetch brings a bounded number of pages; the rest comes on the next one
                result = sync.fetch(stream)
                for record in result.all_records():
                    records.apply(engine, record)
                sync.commit(result.cursors)
                more = result.has_more
        sync.client.close()
    finally:
        sim.stop()
    return engine, now


def engine_from_feed(config: Config, path: Path, at: str | None) -> tuple[MetricsEngine, float]:
    from wallboard.commands.wiring import engine_from_recording

    moment = parse_rfc3339(at) if at else None
    return engine_from_recording(config, path, moment)


def render(config: Config, engine: MetricsEngine, now: float, out: Path, size: tuple[int, int], view_name: str) -> Path:
    """Render one view of the board with the engine's state at ``now`` to ``out``."""
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from wallboard.ui.board import BoardView, create_view

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    clock = ManualClock(now)
    view = create_view(view_name, config, engine.reference, clock)
    view.resize(*size)
    view.setFixedSize(*size)
    health = {
        name: StreamHealth(name, Freshness.LIVE, now, now, None, 0, 0, 2.0)
        for name in ("reference", "calls", "units", "queue")
    }
    snapshot = engine.snapshot(now, Window(config.board.response_window))
    if isinstance(view, BoardView):
        view.update_freshness(health)
        view.update_snapshot(snapshot)
        view.update_units(list(engine.units.values()))
        view.update_incidents(list(engine.incidents.values()))
    elif hasattr(view, "update_snapshot"):
        view.update_snapshot(snapshot)
        if hasattr(view, "show_detail"):
            view.show_detail(engine)
    view.show()
    QCoreApplication.processEvents()
    map_view = getattr(view, "map", None)
    if map_view is not None and not map_view.is_loaded:
        loop = QEventLoop()
        map_view.loaded.connect(loop.quit)
        QTimer.singleShot(30_000, loop.quit)
        loop.exec()
        if map_view.is_loaded:
            # Let Chromium composite the first frames with the pushed units.
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
                time.sleep(0.05)
        else:
            log.warning("snapshot: the map did not load within 30 s; rendering without it")
    QCoreApplication.processEvents()
    image = view.grab()
    if map_view is not None and map_view.is_loaded:
        map_view.paint_into(image)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out)):
        raise OSError(f"cannot write {out}")
    view.close()
    view.deleteLater()
    from PySide6.QtCore import QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return out


def main(args: argparse.Namespace, config: Config) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from wallboard.app import qt_application

    with qt_application(config):
        try:
            if args.feed:
                engine, now = engine_from_feed(config, Path(args.feed), args.at)
            else:
                engine, now = engine_from_demo(config, args.demo_minutes if args.demo_minutes is not None else 30.0)
        except (OSError, ValueError) as exc:
            print(f"wallboard snapshot: {exc}", file=sys.stderr)
            return 2
        out = render(config, engine, now, Path(args.out), args.size, args.view)
    print(f"wrote {out} ({args.size[0]}x{args.size[1]})")
    return 0
