"""Map update cost per tick: in-place JavaScript diffs vs the naive rebuild (regenerate the folium page, reload it).

    QT_QPA_PLATFORM=offscreen QTWEBENGINE_CHROMIUM_FLAGS=--no-sandbox python bench/bench_map.py [--ticks 10]

For 100 / 1,000 / 5,000 units, every unit moves (and most change status) every tick. In place, three figures:
"GUI ms" is what the board's GUI thread spends (update_units + flush: diff, JSON, hand-off to the channel), "JS ms"
is the page applying the diff (measured in the page), "round trip" runs from the Python call until the page answers
a query queued after the diff. "naive" runs from regenerating the folium HTML (same page, every unit a folium marker)
until loadFinished of a second view; the speed-up is naive / round trip. A 16 ms QTimer records the largest
GUI-thread gap while the in-place ticks run.
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
from PySide6.QtWebEngineCore import QWebEnginePage  # noqa: E402
from PySide6.QtWebEngineWidgets import QWebEngineView  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from wallboard.config import MapConfig  # noqa: E402
from wallboard.core.model import PositionFix, Unit, UnitKind, UnitStatus  # noqa: E402
from wallboard.core.timeutil import SystemClock  # noqa: E402
from wallboard.resources import kaltim_reference  # noqa: E402
from wallboard.ui.map import MapView, map_labels  # noqa: E402
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


def in_place_tick(view: MapView, batch: list[Unit]) -> tuple[float, float, float]:
    """(GUI-thread ms in update_units + flush, ms until the page answers after applying the diff, JS ms applying it)."""
    done: list[object] = []
    view.query("applyMsTotal", done.append)
    wait(lambda: bool(done))
    applied_before = float(done.pop())  # type: ignore[arg-type]
    started = time.perf_counter()
    pushed_before = view.push_ms_total
    view.update_units(batch)
    update_ms = (time.perf_counter() - started) * 1000
    view.flush()  # big batches go in chunks: the rest follow from the event loop while we wait
    wait(lambda: view.pending == 0)
    gui_ms = update_ms + view.push_ms_total - pushed_before
    view.query("applyMsTotal", done.append)
    wait(lambda: bool(done))
    return gui_ms, (time.perf_counter() - started) * 1000, float(done[0]) - applied_before  # type: ignore[arg-type]


def naive_tick(view: MapView, naive_view: QWebEngineView, batch: list[Unit]) -> float:
    """What a board without a JS bridge does: build the same folium page with every unit as a marker, reload it."""

    def add_units(m: folium.Map) -> None:
        group = folium.FeatureGroup(name="units").add_to(m)
        for u in batch:
            assert u.fix is not None
            folium.CircleMarker([u.fix.lat, u.fix.lon], radius=4, tooltip=u.callsign).add_to(group)

    started = time.perf_counter()
    html = build_page(view.reference, "kaltim", MapConfig(), map_labels(), add_units)
    view.scheme_handler.pages["/naive.html"] = html.encode()
    loaded: list[bool] = []
    naive_view.page().loadFinished.connect(loaded.append)
    naive_view.load(QUrl("wallboard://app/naive.html"))
    wait(lambda: bool(loaded))
    naive_view.page().loadFinished.disconnect(loaded.append)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ticks", type=int, default=10)
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 1000, 5000])
    args = parser.parse_args()
    app = QApplication([])
    rng = random.Random(7)
    print(f"{'units':>6} {'GUI ms/tick':>11} {'JS ms/tick':>10} {'round trip ms (median/max)':>27} {'naive ms':>9}"
          f" {'speed-up':>9} {'max GUI gap ms (idle/updating)':>31}")  # fmt: skip
    for n in args.sizes:
        view = MapView(kaltim_reference(), "kaltim", MapConfig(), "Asia/Makassar", SystemClock())
        view.resize(1600, 900)
        view.show()
        wait(lambda v=view: v.is_loaded)
        in_place_tick(view, units(n, 1, rng))  # the first push creates the markers
        gaps: list[float] = []
        last = [time.perf_counter()]

        def beat(last: list[float] = last, gaps: list[float] = gaps) -> None:
            now = time.perf_counter()
            gaps.append((now - last[0]) * 1000)
            last[0] = now

        batches = [units(n, tick + 2, rng) for tick in range(args.ticks)]  # made before the stall clock runs
        timer = QTimer()
        timer.setInterval(16)
        timer.timeout.connect(beat)
        QApplication.processEvents()
        last[0] = time.perf_counter()
        timer.start()
        # Idle first: the same map with no updates, so the stall figure below can be told from machine noise.
        idle_until = time.monotonic() + 2.0
        wait(lambda until=idle_until: time.monotonic() > until)
        idle_gap = max(gaps or [0])
        gaps.clear()
        ticks = [in_place_tick(view, batch) for batch in batches]
        timer.stop()
        gui = [t[0] for t in ticks]
        applied = [t[1] for t in ticks]
        in_page = [t[2] for t in ticks]
        # The naive board: a second view on the same offline profile, so the live map's timer stays out of it.
        naive_view = QWebEngineView()
        naive_view.setPage(QWebEnginePage(view.profile, naive_view))
        naive_view.resize(1600, 900)
        naive_view.show()
        naive = [naive_tick(view, naive_view, units(n, 100 + tick, rng)) for tick in range(max(2, args.ticks // 4))]
        speedup = statistics.median(naive) / statistics.median(applied)
        print(f"{n:>6} {statistics.median(gui):>11.1f} {statistics.median(in_page):>10.1f}"
              f" {statistics.median(applied):>17.1f} / {max(applied):>7.1f}"
              f" {statistics.median(naive):>9.0f} {speedup:>8.0f}x {idle_gap:>19.0f} / {max(gaps or [0]):>9.0f}",
              flush=True)  # fmt: skip
        for w in (view, naive_view):
            w.close()
            w.deleteLater()
    app.processEvents()
    os._exit(0)  # skip QtWebEngine's teardown (see wallboard.commands.board)


if __name__ == "__main__":
    main()
