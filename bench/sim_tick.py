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

    t0 = time.perf_counter()
    kaltim = SimServer(region="kaltim", speed=0, history_hours=args.history_hours, start_time=START)
    world = kaltim.world
    counts = f"{len(world.calls)} calls, {len(world.incidents)} incidents, {len(world.units)} units"
    print(f"kaltim: {args.history_hours:.0f} h history in {time.perf_counter() - t0:.2f} s ({counts})")
    kaltim.stop()

    t0 = time.perf_counter()
    national = SimServer(region="indonesia", speed=0, history_hours=args.history_hours, start_time=START)
    world = national.world
    built = time.perf_counter() - t0
    print(f"indonesia: {args.history_hours:.0f} h history in {built:.2f} s ({len(world.polres)} Polres, "
          f"{len(world.units)} units, {len(world.calls)} calls, {len(world.incidents)} incidents)")  # fmt: skip
    national.start()
    t0 = time.perf_counter()
    national.advance(args.minutes * 60)
    caught_up = time.perf_counter() - t0
    print(f"indonesia: catching up {args.minutes:.0f} simulated minutes in {caught_up:.2f} s")
    t0 = time.perf_counter()
    paged = page_everything(national)
    fetched = time.perf_counter() - t0
    print(f"indonesia: paging everything over HTTP in {fetched:.2f} s ({paged})")
    print(f"indonesia: total {built + caught_up + fetched:.2f} s")

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
