"""Simulator cost: one world tick at national scale, and the history pre-run behind `wallboard demo`.

Run: .venv/bin/python bench/sim_tick.py   (prints figures; no pass/fail)
"""

from __future__ import annotations

import statistics
import time

from wallboard.sim.server import SimServer

START = 1_795_300_000.0


def main() -> None:
    t0 = time.perf_counter()
    kaltim = SimServer(region="kaltim", speed=0, history_hours=24, start_time=START)
    world = kaltim.world
    counts = f"{len(world.calls)} calls, {len(world.incidents)} incidents, {len(world.units)} units"
    print(f"kaltim: 24 h history in {time.perf_counter() - t0:.2f} s ({counts})")
    kaltim.stop()

    t0 = time.perf_counter()
    national = SimServer(region="indonesia", speed=0, start_time=START)
    world = national.world
    print(
        f"indonesia: built in {time.perf_counter() - t0:.2f} s ({len(world.polres)} Polres, {len(world.units)} units)"
    )
    for speed in (1.0, 60.0):
        ticks = []
        for _ in range(30):
            t = time.perf_counter()
            with national._lock:
                world.advance_to(world.now + speed, tick_s=max(1.0, speed))
            ticks.append((time.perf_counter() - t) * 1000)
        print(f"indonesia: one tick (dt = {speed:.0f} s sim) median {statistics.median(ticks):.1f} ms, "
              f"max {max(ticks):.1f} ms over {len(ticks)} ticks")  # fmt: skip
    national.stop()


if __name__ == "__main__":
    main()
