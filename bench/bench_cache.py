"""Many boards through the shipped nginx micro-cache (packaging/nginx/) versus straight at the dispatch API.

    python bench/bench_cache.py [--pollers 50 200 1000] [--seconds 20]

`wallboard simulate` (Kaltim, ×1, with a token) runs in its own process; nginx with the shipped configuration runs as
this script's child process on loopback ports. For each number of pollers, once straight at the simulator and once
through the cache, that many lightweight pollers (asyncio, one keep-alive connection each, four per source address
as a command room's boards, 250 per process) poll as boards do for a bounded time: the queue every 1 s, calls,
incidents and units every 2 s with an up-to-date board's cursors and ETags (tests/deployment/nginx_cache.py).
Reported: requests the boards made, requests that reached the CAD (straight: all of them; through the cache: the
cache's CAD log), and the added age: how old a stream page's data was when a board had it (arrival − its
server_time), median, p95, max.
Needs nginx and its njs module (packaging/bootstrap.sh test installs them).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.deployment.nginx_cache import NginxCache, PollStats, free_port, missing, run_pollers  # noqa: E402
from wallboard.config import ApiConfig  # noqa: E402
from wallboard.core.timeutil import parse_rfc3339  # noqa: E402
from wallboard.feed.client import DispatchClient  # noqa: E402
from wallboard.feed.sync import StreamSync  # noqa: E402

TOKEN = "bench-polda-kaltim-read"


def start_simulator(port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "wallboard", "simulate", "--port", str(port), "--region", "kaltim", "--speed", "1",
         "--token", TOKEN, "--set", "demo.history_hours=2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = DispatchClient(f"http://127.0.0.1:{port}", ApiConfig(), TOKEN)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            client.fetch("/api/v1/health")
            client.close()
            return proc
        except Exception:
            if proc.poll() is not None:
                raise RuntimeError("the simulator exited") from None
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("the simulator did not come up")


def up_to_date_cursors(url: str) -> dict[str, str]:
    sync = StreamSync(DispatchClient(url, ApiConfig(), TOKEN), "kaltim")
    for stream in ("calls", "units"):
        for _ in range(100):
            result = sync.fetch(stream)
            sync.commit(result.cursors)
            if not result.has_more:
                break
    sync.client.close()
    return sync.cursors()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


PER_PROCESS = 250  # pollers per client process: one asyncio loop cannot keep 1,000 boards' pace on its own


def _pollers(port: int, n: int, first: int, cursors: dict[str, str], start_at: float, stop_at: float) -> PollStats:
    time.sleep(max(0.0, start_at - time.time()))
    return asyncio.run(
        run_pollers("127.0.0.1", port, n, TOKEN, cursors, 0.0, server_time_of=parse_rfc3339, seed=first + 1,
                    first=first, stop_at=stop_at)
    )  # fmt: skip


def one_run(port: int, n: int, seconds: float, cursors: dict[str, str]) -> PollStats:
    """``n`` pollers in processes of at most PER_PROCESS, all stopping at the same moment; their stats merged."""
    shares = [(first, min(PER_PROCESS, n - first)) for first in range(0, n, PER_PROCESS)]
    start_at = time.time() + 1.0  # a second for the processes to start, then all poll for ``seconds``
    with multiprocessing.get_context("fork").Pool(len(shares)) as pool:
        parts = pool.starmap(
            _pollers, [(port, count, first, cursors, start_at, start_at + seconds) for first, count in shares]
        )
    total = PollStats()
    for part in parts:
        total.requests += part.requests
        total.statuses.update(part.statuses)
        total.errors.update(part.errors)
        total.page_lag_s.extend(part.page_lag_s)
        total.ages.extend(part.ages)
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pollers", type=int, nargs="+", default=[50, 200, 1000])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each run (default 20)")
    args = parser.parse_args()
    why = missing()
    if why:
        print(f"bench_cache: {why}")
        return 2
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8192)), hard))
    sim_port = free_port()
    sim = start_simulator(sim_port)
    rows = []
    with tempfile.TemporaryDirectory(prefix="wallboard-bench-cache-") as work:
        cache = NginxCache(Path(work), f"127.0.0.1:{sim_port}", workers="auto").start()
        try:
            for n in args.pollers:
                for mode in ("direct", "cache"):
                    cursors = up_to_date_cursors(f"http://127.0.0.1:{sim_port}")
                    before = len(cache.cad_requests())
                    started, cpu_before = time.monotonic(), cache.cpu_seconds()
                    stats = one_run(sim_port if mode == "direct" else cache.port, n, args.seconds, cursors)
                    elapsed = time.monotonic() - started
                    nginx_cpu = (cache.cpu_seconds() - cpu_before) / args.seconds
                    answered = sum(stats.statuses.values())
                    upstream = answered if mode == "direct" else len(cache.cad_requests()) - before
                    lag = stats.page_lag_s
                    row = {
                        "n": n, "mode": mode, "seconds": elapsed, "requests": stats.requests, "answered": answered,
                        "upstream": upstream, "upstream_per_s": upstream / elapsed,
                        "expected": n * args.seconds * 2.5,
                        "lag_median": statistics.median(lag) if lag else float("nan"),
                        "lag_p95": percentile(lag, 0.95), "lag_max": max(lag) if lag else float("nan"),
                        "age_max": max(stats.ages) if stats.ages else 0.0, "statuses": dict(stats.statuses),
                        "errors": dict(stats.errors), "nginx_cpu": nginx_cpu,
                    }  # fmt: skip
                    rows.append(row)
                    print(
                        f"{n:5d} {mode:6s} {elapsed:5.1f} s: {stats.requests} requests ({row['expected']:.0f} by the "
                        f"rules), {upstream} to the CAD ({row['upstream_per_s']:.1f}/s); page lag median "
                        f"{row['lag_median']:.2f} s p95 {row['lag_p95']:.2f} s max {row['lag_max']:.2f} s; "
                        f"Age max {row['age_max']:.0f}; nginx {100 * nginx_cpu:.0f} % of a core; "
                        f"{row['statuses']} {row['errors'] or ''}",
                        flush=True,
                    )
                    time.sleep(2)
        finally:
            cache.stop()
            sim.send_signal(signal.SIGINT)
            try:
                sim.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sim.kill()
    print("\n| boards | requests (by the rules) | to the CAD straight | to the CAD through the cache | fewer | "
          "page lag straight (median / p95 / max) | through the cache |")  # fmt: skip
    print("| ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for n in args.pollers:
        d = next(r for r in rows if r["n"] == n and r["mode"] == "direct")
        c = next(r for r in rows if r["n"] == n and r["mode"] == "cache")
        print(
            f"| {n} | {d['requests']:,} / {c['requests']:,} ({d['expected']:,.0f}) | {d['upstream']:,} "
            f"({d['upstream_per_s']:.0f}/s) | {c['upstream']:,} ({c['upstream_per_s']:.1f}/s) | "
            f"{d['upstream'] / max(1, c['upstream']):.0f}× | {d['lag_median']:.2f} / {d['lag_p95']:.2f} / "
            f"{d['lag_max']:.2f} s | {c['lag_median']:.2f} / {c['lag_p95']:.2f} / {c['lag_max']:.2f} s |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
