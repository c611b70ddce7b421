"""Simulator cost: history at start, catching up simulated minutes, paging it all over HTTP, and a live tick.

The `wallboard snapshot --region indonesia --demo-minutes 600` path without Qt: a national simulator with 24 h of
history, advanced 600 simulated minutes at once, then every stream paged over HTTP as a board would.

Run: .venv/bin/python bench/sim_tick.py [--minutes 600] [--history-hours 24]   (prints figures; no pass/fail)
"""

from __future__ import annotations

import argparse
import statistics
import time

import requests

from wallboard.sim.server import SimServer

START = 1_795_300_000.0


class Stopwatch:
    """Wall and CPU time (all threads of this process) since the last lap: on a shared machine CPU is the fair one."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self) -> str:
        wall, cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return f"{wall:.2f} s ({cpu:.2f} s CPU)"


def page_everything(sim: SimServer) -> dict[str, int]:
    """Every record of every stream, as a board catching up pages it (limit 5000)."""
    counts: dict[str, int] = {}
    with requests.Session() as http:
        for stream in ("calls", "incidents", "units"):
            cursor, n = "", 0
            while True:
                doc = http.get(f"{sim.url}/api/v1/{stream}", params={"cursor": cursor, "limit": "5000"},
                               timeout=60).json()  # fmt: skip
                n += len(doc["items"])
                cursor = doc["next_cursor"]
                if not doc["has_more"]:
                    break
            counts[stream] = n
        http.get(f"{sim.url}/api/v1/reference", timeout=60).raise_for_status()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=600.0, help="simulated minutes to catch up")
    parser.add_argument("--history-hours", type=float, default=24.0)
    args = parser.parse_args()

    watch = Stopwatch()
    kaltim = SimServer(region="kaltim", speed=0, history_hours=args.history_hours, start_time=START)
    world = kaltim.world
    counts = f"{len(world.calls)} calls, {len(world.incidents)} incidents, {len(world.units)} units"
    print(f"kaltim: {args.history_hours:.0f} h history in {watch.lap()} ({counts})")
    kaltim.stop()

    watch, total = Stopwatch(), Stopwatch()
    national = SimServer(region="indonesia", speed=0, history_hours=args.history_hours, start_time=START)
    world = national.world
    print(f"indonesia: {args.history_hours:.0f} h history in {watch.lap()} ({len(world.polres)} Polres, "
          f"{len(world.units)} units, {len(world.calls)} calls, {len(world.incidents)} incidents)")  # fmt: skip
    national.start()
    national.advance(args.minutes * 60)
    print(f"indonesia: catching up {args.minutes:.0f} simulated minutes in {watch.lap()}")
    paged = page_everything(national)
    print(f"indonesia: paging everything over HTTP in {watch.lap()} ({paged})")
    print(f"indonesia: total {total.lap()}")

    for speed in (1.0, 60.0):
        ticks = []
        for _ in range(30):
            t = time.perf_counter()
            national.state.advance_to(world.now + speed)
            ticks.append((time.perf_counter() - t) * 1000)
        print(f"indonesia: one tick (dt = {speed:.0f} s sim) median {statistics.median(ticks):.1f} ms, "
              f"max {max(ticks):.1f} ms over {len(ticks)} ticks")  # fmt: skip
    national.stop()


if __name__ == "__main__":
    main()
