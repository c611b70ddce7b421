"""Map update cost per tick: in-place JavaScript diffs vs the naive rebuild (regenerate the folium page, reload it).

    QT_QPA_PLATFORM=offscreen QTWEBENGINE_CHROMIUM_FLAGS=--no-sandbox python bench/bench_map.py [--ticks 10]

For 100 / 1,000 / 5,000 units, every unit moves every tick. "in place" is measured from the Python call until the
page has applied the diff (a JavaScript round trip); "naive" from regenerating the HTML until loadFinished.
A 16 ms QTimer records the largest GUI-thread gap while the in-place updates run.
Goals (issue "The map"): >= 50x faster than naive at 1,000 units, <= 10 ms per tick at 1,000, no stall > 50 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox")

from wallboard.ui.map import register_schemes

register_schemes()

import folium  # noqa: E402
from PySide6.QtCore import QEventLoop, QTimer, QUrl  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from wallboard.config import MapConfig  # noqa: E402
from wallboard.core.model import PositionFix, Unit, UnitKind, UnitStatus  # noqa: E402
from wallboard.core.timeutil import SystemClock  # noqa: E402
from wallboard.resources import kaltim_reference  # noqa: E402
from wallboard.ui.map import MapView  # noqa: E402
from wallboard.ui.map.page import build_page  # noqa: E402

STATUSES = list(UnitStatus)


def units(n: int, rev: int, rng: random.Random) -> list[Unit]:
    now = time.time()
    return [
        Unit(f"u{i}", rev, f"UNIT-{i:04d}", "64.71", UnitKind.R2 if i % 8 else UnitKind.R4, rng.choice(STATUSES),
             PositionFix(-1.27 + rng.uniform(-0.3, 0.3), 116.83 + rng.uniform(-0.3, 0.3), 0.0, 30.0, now))
        for i in range(n)
    ]  # fmt: skip


def wait(predicate: object, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
        if time.monotonic() > deadline:
            raise TimeoutError


def in_place_tick(view: MapView, batch: list[Unit]) -> tuple[float, float]:
    """(GUI-thread ms: diff built and handed to the page, applied ms: until the page reports it applied)."""
    done: list[object] = []
    started = time.perf_counter()
    view.update_units(batch)
    view.flush()
    gui_ms = (time.perf_counter() - started) * 1000
    view.page.runJavaScript("wb.updates", 0, done.append)
    wait(lambda: bool(done))
    return gui_ms, (time.perf_counter() - started) * 1000


def naive_tick(view: MapView, batch: list[Unit]) -> float:
    """What a board without a JS bridge does: build the folium page with every marker again and reload it."""
    started = time.perf_counter()
    html = build_page(view.reference, "kaltim", MapConfig(), 600)
    m = folium.Map(location=[-1.2, 116.8], zoom_start=9, tiles=None, prefer_canvas=True)
    m.default_js = [("leaflet", "wallboard://app/leaflet/leaflet.js")]
    m.default_css = [("leaflet_css", "wallboard://app/leaflet/leaflet.css")]
    for u in batch:
        assert u.fix is not None
        folium.CircleMarker([u.fix.lat, u.fix.lon], radius=4, tooltip=u.callsign).add_to(m)
    html = m.get_root().render()
    view.scheme_handler.pages["/naive.html"] = html.encode()
    loaded: list[bool] = []
    view.page.loadFinished.connect(loaded.append)
    view.view.load(QUrl("wallboard://app/naive.html"))
    wait(lambda: bool(loaded))
    view.page.loadFinished.disconnect(loaded.append)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ticks", type=int, default=10)
    args = parser.parse_args()
    app = QApplication([])
    rng = random.Random(7)
    print(f"{'units':>6} {'GUI-thread ms':>14} {'applied ms':>11} {'naive ms':>9} {'speed-up GUI':>13} "
          f"{'speed-up applied':>17} {'max 16ms-timer gap':>19}")  # fmt: skip
    for n in (100, 1000, 5000):
        view = MapView(kaltim_reference(), "kaltim", MapConfig(), "Asia/Makassar", SystemClock())
        view.resize(1600, 900)
        view.show()
        wait(lambda v=view: v.is_loaded)
        in_place_tick(view, units(n, 1, rng))  # first push creates the markers
        gaps: list[float] = []
        last = [time.perf_counter()]

        def beat(last: list[float] = last, gaps: list[float] = gaps) -> None:
            now = time.perf_counter()
            gaps.append((now - last[0]) * 1000)
            last[0] = now

        timer = QTimer()
        timer.setInterval(16)
        timer.timeout.connect(beat)
        timer.start()
        ticks = [in_place_tick(view, units(n, tick + 2, rng)) for tick in range(args.ticks)]
        timer.stop()
        gui = statistics.median(t[0] for t in ticks)
        applied = statistics.median(t[1] for t in ticks)
        naive = statistics.median(
            naive_tick(view, units(n, 100 + tick, rng)) for tick in range(max(2, args.ticks // 4))
        )
        print(f"{n:>6} {gui:>14.1f} {applied:>11.1f} {naive:>9.0f} {naive / gui:>12.0f}x {naive / applied:>16.0f}x "
              f"{max(gaps[1:] or [0]):>19.0f}")  # fmt: skip
        view.close()
        view.deleteLater()
    app.processEvents()
    os._exit(0)  # skip QtWebEngine's teardown (see wallboard.app)


if __name__ == "__main__":
    main()
