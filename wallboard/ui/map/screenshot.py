"""Render the map panel with the simulator's Kaltim world and save a PNG (for the issue note and for eyes-on checks).

    QT_QPA_PLATFORM=offscreen QTWEBENGINE_CHROMIUM_FLAGS=--no-sandbox \
        python -m wallboard.ui.map.screenshot map.png [--size 1920x1080] [--minutes 45]

The simulated world runs three hours of history, then ``--minutes`` of live unit movement; the map gets every unit
and open incident through the same ``update_units`` / ``update_incidents`` calls the board uses, and the picture is
taken from the widget (``grab``), so it works offscreen or under Xvfb alike.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from wallboard.ui.map import register_schemes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wallboard.ui.map.screenshot")
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--minutes", type=float, default=45.0, help="live simulation before the picture")
    parser.add_argument("--seed", type=int, default=110)
    parser.add_argument("--lang", default="id", help="board language (the wall default is Indonesian)")
    parser.add_argument("--linger", type=float, default=0.0, help="keep the window up this long after the picture")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))

    register_schemes()
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from wallboard.config import MapConfig
    from wallboard.core.timeutil import ManualClock
    from wallboard.resources import kaltim_reference, read_json
    from wallboard.sim.world import World, areas_from_geojson
    from wallboard.ui.i18n import install_translator
    from wallboard.ui.map import MapView, release_shared_profile

    app = QApplication.instance() or QApplication(sys.argv[:1])
    install_translator(app, args.lang)
    reference = kaltim_reference()
    now = time.time()
    world = World(
        list(reference.polres.values()),
        seed=args.seed,
        start_time=now - 3 * 3600 - args.minutes * 60,
        live_units=False,
        areas=areas_from_geojson(read_json("data", "kaltim-regencies.geojson")),
    )
    world.advance_to(now - args.minutes * 60, tick_s=300.0)
    world.enable_live_units()
    world.advance_to(now, tick_s=5.0)

    clock = ManualClock(now)
    view = MapView(reference, "kaltim", MapConfig(), "Asia/Makassar", clock)
    view.setWindowTitle("wallboard map")
    view.resize(width, height)
    view.move(0, 0)
    view.show()

    def pump(seconds: float, until: object = None) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (until and until()):  # type: ignore[operator]
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)

    pump(60.0, lambda: view.is_loaded)
    if not view.is_loaded:
        print("the map page did not load", file=sys.stderr)
        return 1
    units = list(world.all_units())
    incidents = list(world.incidents.values())
    view.update_units(units)
    view.update_incidents(incidents)
    view.flush()
    pump(3.0)
    image = view.grab()
    image.save(str(args.out))
    open_incidents = sum(1 for i in incidents if i.closed_at is None and i.location is not None)
    print(f"{args.out}: {width}x{height}, {len(units)} units, {open_incidents} open incidents", flush=True)
    pump(args.linger)
    view.close()
    view.deleteLater()
    app.processEvents()
    release_shared_profile()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
