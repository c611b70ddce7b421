"""The national board: per-Polda figures computed in core add up to the national ones (counts) and equal a
recomputation over the union of their incidents (median, p90, share within target); per-Polda escalations are exact
to the second like every other window."""

from __future__ import annotations

import random
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from wallboard.core.metrics import MetricsEngine, MetricsSettings
from wallboard.core.model import Call, CallCategory, Escalation, Incident, Polda, Polres, Tier
from wallboard.core.reference import ReferenceData
from wallboard.core.snapshot import Window

WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 22, 14, 37, 23, tzinfo=WIB).timestamp()
MIDNIGHT = datetime(2026, 11, 22, 0, 0, tzinfo=WIB).timestamp()
POLDAS = [("jatim", "Polda Jawa Timur", 9), ("papua", "Polda Papua", 4), ("kaltim", "Polda Kalimantan Timur", 1),
          ("aceh", "Polda Aceh", 0)]  # fmt: skip
REF = ReferenceData.of(
    [Polda(pid, name, "HQ", -2.0, 110.0 + i, "Asia/Jakarta") for i, (pid, name, _) in enumerate(POLDAS)],
    [Polres(f"{pid}.{k}", f"Polres {pid} {k}", pid, -2.0, 110.0 + i, "Asia/Jakarta")
     for i, (pid, _, n) in enumerate(POLDAS) for k in range(n)],
)  # fmt: skip


def world(seed: int) -> tuple[MetricsEngine, list[Incident], list[Call]]:
    rng = random.Random(seed)
    polres = list(REF.polres)
    incidents, calls = [], []
    for k in range(400):
        received = rng.uniform(MIDNIGHT - 3600 * 5, NOW)
        response = rng.choice([None, rng.uniform(60, 3000)])
        closed = response is not None and rng.random() < 0.8
        on_scene = None if response is None else received + response
        if on_scene is not None and on_scene > NOW:
            on_scene, closed = None, False
        incidents.append(Incident(f"i{k}", 1, rng.choice(polres), None, received, on_scene_at=on_scene,
                                  closed_at=(on_scene + 300 if on_scene and closed else None)))  # fmt: skip
    for k in range(1500):
        received = rng.uniform(MIDNIGHT - 3600 * 5, NOW)
        hops = rng.choice([(), (), (), ((Tier.POLRES, Tier.POLDA),),
                           ((Tier.POLRES, Tier.POLDA), (Tier.POLDA, Tier.MABES))])  # fmt: skip
        escalations = tuple(Escalation(a, b, received + 10 * (n + 1)) for n, (a, b) in enumerate(hops))
        last = escalations[-1].to_tier if escalations else Tier.POLRES
        calls.append(Call(f"c{k}", 1, rng.choice([*polres, "nowhere"]), received, Tier.POLRES, escalations,
                          answered_at=received + 40, answered_tier=last, category=CallCategory.GENUINE))  # fmt: skip
    engine = MetricsEngine(REF, None, MetricsSettings(tz="Asia/Jakarta"))
    for c in calls:
        engine.ingest_call(c)
    for i in incidents:
        engine.ingest_incident(i)
    return engine, incidents, calls


def by_hand(values: list[float], target: float) -> tuple[float | None, float | None, float | None]:
    if not values:
        return None, None, None
    arr = np.array(values)
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 90)), 100.0 * float((arr <= target).mean())


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("window", [Window.TODAY, Window.LAST_60_MIN, Window.LAST_7_DAYS])
def test_national_figures_are_the_sum_and_the_union_of_the_polda_ones(seed: int, window: Window) -> None:
    engine, incidents, _ = world(seed)
    snap = engine.snapshot(NOW, window)
    tiles = {r.unit_id: r for r in snap.response_by_polda}
    assert set(tiles) == {p for p, _, _ in POLDAS}, "one tile per Polda, none per Polres"
    p90s = [r.p90_s for r in snap.response_by_polda if r.p90_s is not None and not r.small_sample]
    assert p90s == sorted(p90s, reverse=True), "worst first (small samples, with no p90 to rank by, last)"
    start, end = engine.window_bounds(window, NOW)
    known = [i for i in incidents if i.polres_id in REF.polres]
    national = snap.response_polda
    for field in ("count", "incidents", "open_incidents", "overdue_now"):
        assert getattr(national, field) == sum(getattr(t, field) for t in tiles.values()), field
    for polda_id, tile in [*tiles.items(), ("national", national)]:
        mine = [i for i in known if polda_id == "national" or REF.polres[i.polres_id].polda_id == polda_id]
        values = [i.response_time_s for i in mine if start <= i.call_received_at < end]
        values = [v for v in values if v is not None]
        median, p90, within = by_hand(values, 600.0)
        assert tile.count == len(values)
        for got, want in ((tile.median_s, median), (tile.p90_s, p90), (tile.within_target_pct, within)):
            assert (got is None and want is None) or got == pytest.approx(want), polda_id
        overdue = [i for i in mine if i.closed_at is None and i.on_scene_at is None and i.call_received_at + 600 < NOW]
        assert tile.overdue_now == len(overdue)
    assert tiles["aceh"].count == 0 and tiles["aceh"].p90_s is None, "a Polda without Polres is an empty tile"


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("window", [Window.TODAY, Window.LAST_60_MIN])
def test_escalations_per_polda_add_up_and_are_exact_to_the_second(seed: int, window: Window) -> None:
    engine, _, calls = world(seed)
    snap = engine.snapshot(NOW)
    rows = snap.escalations_by_polda[window]
    start, end = engine.window_bounds(window, NOW)
    inside = [c for c in calls if start <= c.received_at < end and c.polres_id in REF.polres]
    for row in rows:
        mine = [c for c in inside if REF.polres[c.polres_id].polda_id == row.polda_id]
        assert row.received == len(mine)
        assert row.escalated == sum(1 for c in mine if c.escalations)
        assert row.to_mabes == sum(1 for c in mine if any(e.to_tier is Tier.MABES for e in c.escalations))
    tiers = snap.tiers[window]
    unknown = sum(1 for c in calls if start <= c.received_at < end and c.polres_id not in REF.polres)
    assert sum(r.received for r in rows) == tiers.received - unknown
    assert sum(r.to_mabes for r in rows) <= tiers.escalations[(Tier.POLDA, Tier.MABES)]
    assert [r.to_mabes for r in rows] == sorted((r.to_mabes for r in rows), reverse=True), "most to Mabes first"


def test_revisions_move_escalation_counts_and_a_polda_board_has_no_national_parts() -> None:
    engine, _, calls = world(5)
    c = next(c for c in calls if not c.escalations and c.polres_id.startswith("jatim") and c.received_at > NOW - 3000)
    before = {r.polda_id: r for r in engine.escalations_by_polda(Window.LAST_60_MIN, NOW)}["jatim"]
    up = Call(c.id, 2, c.polres_id, c.received_at, Tier.POLRES,
              (Escalation(Tier.POLRES, Tier.MABES, c.received_at + 10),), c.received_at + 30, Tier.MABES)  # fmt: skip
    engine.ingest_call(up)
    after = {r.polda_id: r for r in engine.escalations_by_polda(Window.LAST_60_MIN, NOW)}["jatim"]
    assert (after.received, after.escalated, after.to_mabes) == (before.received, before.escalated + 1,
                                                                 before.to_mabes + 1)  # fmt: skip
    board = MetricsEngine(REF, "jatim", MetricsSettings(tz="Asia/Jakarta"))
    for call in calls:
        board.ingest_call(call)
    snap = board.snapshot(NOW)
    assert snap.response_by_polda == () and snap.escalations_by_polda == {}


def test_a_polda_drill_down_on_the_national_board_carries_its_polres_gauges() -> None:
    engine, _, _ = world(7)
    detail = engine.snapshot(NOW, details=("jatim",)).details["jatim"]
    assert {s.unit_id for s in detail.polres_stats} == {p.id for p in REF.polres_of("jatim")}
    assert detail.stats.name == "Polda Jawa Timur"
    assert detail.stats.count == sum(s.count for s in detail.polres_stats)
