"""Metrics engine throughput: ingest 1,000,000 synthetic events for 500 Polres, then time full board snapshots.

    python bench/bench_metrics.py [--events 1000000] [--polres 500]

Goals (issue "Foundation"): >= 200,000 events/s; a full snapshot for 500 Polres in < 50 ms; peak memory printed.
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import resource
import statistics
import time

from wallboard.core.metrics import MetricsEngine, MetricsSettings
from wallboard.core.model import (
    Call,
    CallCategory,
    Escalation,
    Incident,
    Polda,
    Polres,
    PositionFix,
    Tier,
    Unit,
    UnitKind,
    UnitStatus,
)  # fmt: skip
from wallboard.core.reference import ReferenceData
from wallboard.core.snapshot import Window

NOW = 1_795_327_200.0  # 2026-11-22 14:00 WITA


def make_events(n: int, polres_count: int, seed: int = 1) -> tuple[list[object], ReferenceData]:
    rng = random.Random(seed)
    polres = [Polres(f"p{i:03d}", f"Polres {i:03d}", "bench", -1.0 + i * 0.01, 116.0, "Asia/Makassar")
              for i in range(polres_count)]  # fmt: skip
    ref = ReferenceData.of([Polda("bench", "Polda Bench", "X", -1.0, 116.0, "Asia/Makassar")], polres)
    events: list[object] = []
    categories = [CallCategory.PRANK] * 55 + [CallCategory.SILENT] * 35 + [CallCategory.GENUINE] * 8 + [
        CallCategory.INFORMATION] * 2  # fmt: skip
    calls = incidents = 0
    while len(events) < n:
        kind = rng.random()
        p = polres[rng.randrange(polres_count)].id
        t = NOW - rng.random() * 8 * 86400
        if kind < 0.45:  # a call in two revisions: ringing, then answered and categorised
            calls += 1
            cid = f"c{calls}"
            events.append(Call(cid, 1, p, t, Tier.POLRES))
            esc = (Escalation(Tier.POLRES, Tier.POLDA, t + 10),) if rng.random() < 0.15 else ()
            answered_tier = Tier.POLDA if esc else Tier.POLRES
            events.append(Call(cid, 2, p, t, Tier.POLRES, esc, t + rng.uniform(2, 25), answered_tier, None,
                               rng.choice(categories)))  # fmt: skip
        elif kind < 0.55:  # an incident: open, then on scene, then closed
            incidents += 1
            iid = f"i{incidents}"
            events.append(Incident(iid, 1, p, None, t))
            events.append(Incident(iid, 2, p, None, t, on_scene_at=t + rng.uniform(120, 1800)))
            events.append(Incident(iid, 3, p, None, t, on_scene_at=t + 600, closed_at=t + 3000))
        else:  # unit position fixes
            uid = f"u{rng.randrange(polres_count * 10)}"
            events.append(Unit(uid, len(events), uid, p, UnitKind.R2, UnitStatus.AVAILABLE,
                               PositionFix(-1.0, 116.0, 0.0, 30.0, t)))  # fmt: skip
    return events[:n], ref


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--polres", type=int, default=500)
    args = parser.parse_args()
    events, ref = make_events(args.events, args.polres)
    engine = MetricsEngine(ref, "bench", MetricsSettings())
    ingest = {Call: engine.ingest_call, Incident: engine.ingest_incident, Unit: engine.ingest_unit}
    gc.collect()
    rss_before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    for event in events:
        ingest[type(event)](event)  # type: ignore[operator]
    elapsed = time.perf_counter() - started
    timings = []
    for _ in range(15):
        t0 = time.perf_counter()
        snapshot = engine.snapshot(NOW)
        timings.append((time.perf_counter() - t0) * 1000)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(
        f"ingest: {len(events):,} events in {elapsed:.2f} s = {len(events) / elapsed:,.0f} events/s (goal >= 200,000)"
    )
    print(f"snapshot for {len(snapshot.response_by_polres)} Polres: median {statistics.median(timings):.1f} ms, "
          f"max {max(timings):.1f} ms (goal < 50 ms)")  # fmt: skip
    counts = f"{len(engine.calls):,} calls, {len(engine.incidents):,} incidents, {len(engine.units):,} units"
    print(f"peak RSS: {peak_mb:.0f} MB; {peak_mb - rss_before_mb:.0f} MB of it added by ingest ({counts})")
    timings = []
    for _ in range(5):
        t0 = time.perf_counter()
        engine.polres_detail("p000", NOW, Window.TODAY)
        timings.append((time.perf_counter() - t0) * 1000)
    print(f"polres_detail: median {statistics.median(timings):.2f} ms")


if __name__ == "__main__":
    main()
