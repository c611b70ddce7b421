"""End-to-end latency: from an event accepted by the simulator to the board's state showing it.

    python bench/bench_latency.py [--events 30]

The simulator runs in this process (stepped by hand), the real hub polls it over HTTP on a real qasync loop. For
each sample the world advances a few seconds (new calls, escalations, unit moves: "accepted" when advance()
returns); latency is the time until the hub's metrics engine holds every changed call at its latest revision
(board state) and until the map's page has applied the units (map JS state, with a MapView attached).
Measured with the default poll interval (2 s) and with 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox")

from wallboard.ui.map import register_schemes

register_schemes()

import qasync  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from wallboard.config import load_config  # noqa: E402
from wallboard.core.metrics import MetricsEngine, MetricsSettings  # noqa: E402
from wallboard.feed.hub import FeedHub  # noqa: E402
from wallboard.resources import all_poldas  # noqa: E402
from wallboard.sim.server import SimServer  # noqa: E402
from wallboard.ui.map import MapView  # noqa: E402


async def measure(hub: FeedHub, sim: SimServer, view: MapView, samples: int) -> tuple[list[float], list[float]]:
    board, mapped = [], []
    while not view.is_loaded:
        await asyncio.sleep(0.05)
    for _ in range(samples):
        await asyncio.sleep(0.37)  # de-phase from the poll timer
        sim.advance(5)
        accepted = time.perf_counter()
        want_calls = {c.call.id: c.call.rev for c in sim.world.calls.values()}
        want_units = {u.unit.id: u.unit.rev for u in sim.world.units.values()}
        while {k: v.rev for k, v in hub.engine.calls.items()} != want_calls or any(
            hub.engine.units.get(k) is None or hub.engine.units[k].rev < r for k, r in want_units.items()
        ):
            await asyncio.sleep(0.01)
        board.append(time.perf_counter() - accepted)
        applied: list[object] = []
        view.flush()
        view.page.runJavaScript("wb.updates", 0, applied.append)
        while not applied:
            await asyncio.sleep(0.005)
        mapped.append(time.perf_counter() - accepted)
    return board, mapped


def p99(xs: list[float]) -> float:
    return sorted(xs)[min(len(xs) - 1, round(0.99 * (len(xs) - 1)))]


async def run_all(samples: int) -> None:
    for interval in (2.0, 1.0):
        sim = SimServer(seed=9, speed=0, history_hours=1)
        sim.start()
        config = load_config(None, overrides={"api.poll_calls_s": str(interval), "api.poll_units_s": str(interval),
                                               "api.poll_queue_s": str(interval)}, environ={})  # fmt: skip
        engine = MetricsEngine(all_poldas(), "kaltim", MetricsSettings())
        hub = FeedHub.for_api(config, engine, sim.clock, base_url=sim.url)
        view = MapView(engine.reference, "kaltim", config.map, "Asia/Makassar", sim.clock)
        view.resize(1200, 800)
        view.show()
        hub.unitsChanged.connect(view.update_units)
        hub.start()
        board, mapped = await measure(hub, sim, view, samples)
        await hub.stop()
        view.hide()
        sim.stop()
        print(f"poll {interval:g} s: board state median {statistics.median(board):.2f} s, p99 {p99(board):.2f} s; "
              f"map JS state median {statistics.median(mapped):.2f} s, p99 {p99(mapped):.2f} s "
              f"({len(board)} samples)", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=30)
    args = parser.parse_args()
    app = QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    # One run of the Qt loop for everything: QtWebEngine shuts down for good when the main loop ends.
    with loop:
        loop.run_until_complete(run_all(args.events))
    os._exit(0)  # skip QtWebEngine teardown (see wallboard.commands.board)


if __name__ == "__main__":
    main()
