"""What each wall panel costs to paint on the GUI thread, at 1920x1080 and 3840x2160 (no GPU: the software rasteriser).

    QT_QPA_PLATFORM=offscreen python bench/bench_paint.py [--repeats 10]

A GUI stall is mostly painting: a panel that takes 80 ms to paint stalls the event loop for 80 ms every time its
data changes. Each panel is fed two snapshots five simulated minutes apart, alternately, so every paint draws new
data (a panel that only repaints what changed would otherwise paint from its caches), and is grabbed into an image.
The figure is the median over the repeats; the map (Chromium, its own processes) is not in it.
Goal: no panel over 50 ms at 4K, so that one snapshot's repaint of the whole wall stays under the 100 ms stall goal.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if os.geteuid() == 0:  # QtWebEngine (the overview's map) refuses to run as root with its sandbox
    os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox")

VIEWS = ("overview", "units", "risk", "dispatch", "prank")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--demo-minutes", type=float, default=600.0, help="simulated minutes of feed before painting")
    args = parser.parse_args()

    from wallboard.commands.wiring import engine_from_demo, with_board_zone
    from wallboard.config import load_config
    from wallboard.core.snapshot import Window
    from wallboard.core.timeutil import ManualClock
    from wallboard.ui.runtime import qt_application

    config = with_board_zone(load_config(None))
    with qt_application(config) as app:
        from wallboard.ui.board import create_view

        engine, now = engine_from_demo(config, args.demo_minutes)
        window = Window(config.board.response_window)
        # Two moments five minutes apart: the engine answers for any moment it holds data up to.
        snapshots = [engine.snapshot(now - 300, window), engine.snapshot(now, window)]
        print(f"{len(engine.units)} units; median paint ms over {args.repeats} repeats")
        for width, height in ((1920, 1080), (3840, 2160)):
            for name in VIEWS:
                view = create_view(name, config, engine.reference, ManualClock(now))
                view.resize(width, height)
                view.setFixedSize(width, height)
                view.show()
                app.processEvents()
                for panel in view.panels():
                    times = []
                    for i in range(args.repeats + 1):
                        panel.update_snapshot(snapshots[i % 2])
                        app.processEvents()
                        started = time.perf_counter()
                        panel.grab()
                        if i:  # the first paint builds caches and fonts
                            times.append((time.perf_counter() - started) * 1000)
                    print(f"  {width}x{height} {name:9s} {type(panel).__name__:18s} "
                          f"{statistics.median(times):6.1f} ms (max {max(times):.1f})")  # fmt: skip
                view.close()
                view.deleteLater()
                app.processEvents()


if __name__ == "__main__":
    main()
