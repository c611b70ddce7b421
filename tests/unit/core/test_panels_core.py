"""The figures of the unit board, the time-in-status alerts, incidents at risk and the prank watch, at their edges."""

from __future__ import annotations

import json
import logging
import random
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from wallboard.core.alerts import AlertThresholds, Severity, evaluate
from wallboard.core.metrics import MetricsEngine, MetricsSettings, is_overdue
from wallboard.core.model import (
    Call,
    CallCategory,
    GeoPoint,
    Incident,
    PositionFix,
    Priority,
    Tier,
    Unit,
    UnitKind,
    UnitStatus,
)
from wallboard.core.prank import CELL_DEG, MAX_CELLS, MAX_NUMBERS
from wallboard.core.risk import UnitIndex, countdown, countdown_text, haversine_km, overdue_count
from wallboard.core.snapshot import to_jsonable
from wallboard.core.units import StatusLimits
from wallboard.resources import all_poldas

NOW = datetime(2026, 11, 22, 14, 0, tzinfo=ZoneInfo("Asia/Makassar")).timestamp()
BPN, MHU = "64.71", "64.11"  # Balikpapan, Mahakam Ulu
NUMBER = "081234565678"


def engine(**settings: object) -> MetricsEngine:
    return MetricsEngine(all_poldas(), "kaltim", MetricsSettings(**settings))  # type: ignore[arg-type]


def unit(uid: str, status: UnitStatus, *, at: float | None = NOW, lat: float = -1.25, lon: float = 116.85,
         polres: str = BPN, rev: int = 1) -> Unit:  # fmt: skip
    fix = None if at is None else PositionFix(lat, lon, None, None, at)
    return Unit(uid, rev, f"CS-{uid}", polres, UnitKind.R4, status, fix)


# --- unit board ---------------------------------------------------------------------------------------------------


def test_unit_board_counts_equal_a_recount_of_the_units_stream() -> None:
    rng = random.Random(5)
    e = engine()
    latest: dict[str, Unit] = {}
    stream = []
    for rev in range(1, 6):
        for k in range(60):
            u = unit(f"u{k}", rng.choice(list(UnitStatus)), at=NOW - rng.choice([0, 60, 121, 900]),
                     polres=rng.choice([BPN, MHU, "11.01"]), rev=rev)  # fmt: skip
            stream.append(u)
    rng.shuffle(stream)
    for u in stream:
        e.ingest_unit(u)
        if u.id not in latest or latest[u.id].rev < u.rev:
            latest[u.id] = u
    rows = {r.polres_id: r for r in e.snapshot(NOW).unit_board.rows}
    assert set(rows) == {BPN, MHU}, "a row per board Polres with units, units of other Polda not counted"
    for pid in (BPN, MHU):
        mine = [u for u in latest.values() if u.polres_id == pid]
        assert rows[pid].by_status == {s.value: sum(u.status is s for u in mine) for s in UnitStatus}
        on_duty = [u for u in mine if u.status is not UnitStatus.OUT_OF_SERVICE]
        assert rows[pid].stale_position == sum(NOW - u.fix.at > 120 for u in on_duty if u.fix)
        assert rows[pid].available_pct == pytest.approx(
            100 * sum(u.status is UnitStatus.AVAILABLE for u in mine) / len(on_duty)
        )
    assert "64.72" not in rows, "a Polres without units has no row on the wall"


def test_the_unit_board_comes_from_core_in_wall_order_with_overruns_and_totals() -> None:
    """Issue 17: the panel sorted the rows, counted overruns per Polres and summed the totals itself. Now the snapshot
    carries them, and a brute-force recount over the latest units agrees (order, per-row overruns, totals)."""
    rng = random.Random(17)
    e = engine()
    polres = [BPN, MHU, "64.72", "64.74", "64.02"]
    latest: dict[str, Unit] = {}
    for k in range(80):
        status = rng.choice(list(UnitStatus))
        u = unit(f"u{k}", status, at=rng.choice([None, NOW - 30, NOW - 700]), polres=rng.choice(polres))
        e.ingest_unit(replace(u, rev=1, status=UnitStatus.AVAILABLE))
        e.ingest_unit(replace(u, rev=2, fix=None if u.fix is None else replace(u.fix, at=NOW - rng.choice([30, 4000]))))
        latest[u.id] = u
    now = NOW + 3700  # past the dispatched (180 s) and on-scene (3600 s) limits for units that changed at NOW - 30
    snapshot = e.snapshot(now, details=[BPN, "kaltim"])
    board = snapshot.unit_board
    late: dict[str, int] = {}
    for o in snapshot.unit_overruns:
        late[o.polres_id] = late.get(o.polres_id, 0) + 1
    # Brute force: per Polres with units, least available (of those on duty) first, nobody on duty last, then name.
    expected = []
    for pid in polres:
        mine = [u for u in latest.values() if u.polres_id == pid]
        if not mine:
            continue
        on_duty = sum(u.status is not UnitStatus.OUT_OF_SERVICE for u in mine)
        free = sum(u.status is UnitStatus.AVAILABLE for u in mine)
        pct = None if on_duty == 0 else 100.0 * free / on_duty
        expected.append((pct is None, pct or 0.0, e.reference.polres[pid].name, pid, free, on_duty))
    expected.sort()
    assert [r.polres_id for r in board.rows] == [x[3] for x in expected]
    assert [(r.available, r.on_duty) for r in board.rows] == [(x[4], x[5]) for x in expected]
    assert [r.overruns for r in board.rows] == [late.get(r.polres_id, 0) for r in board.rows]
    assert sum(late.values()) > 0, "the scenario has overruns"
    assert board.available == sum(x[4] for x in expected) and board.on_duty == sum(x[5] for x in expected)
    assert board.overruns == len(snapshot.unit_overruns)
    # The drill-down shows the same row as the wall for its Polres, and the Polda's sums the wall's rows.
    assert snapshot.details[BPN].unit_board == next(r for r in board.rows if r.polres_id == BPN)
    polda = snapshot.details["kaltim"].unit_board
    assert polda is not None and polda.overruns == board.overruns and polda.total == sum(r.total for r in board.rows)


def test_the_polres_drill_down_carries_its_unit_board_and_time_in_status() -> None:
    e = engine()
    e.ingest_unit(unit("a", UnitStatus.AVAILABLE, at=NOW - 30))
    e.ingest_unit(unit("a", UnitStatus.DISPATCHED, at=NOW - 20, rev=2))
    e.ingest_unit(unit("a", UnitStatus.DISPATCHED, at=NOW - 5, rev=3))  # moved, same status: still since NOW - 20
    e.ingest_unit(unit("b", UnitStatus.ON_SCENE, at=None))
    detail = e.snapshot(NOW, details=[BPN]).details[BPN]
    assert detail.unit_board is not None
    assert detail.unit_board.by_status["dispatched"] == 1 and detail.unit_board.by_status["on_scene"] == 1
    assert detail.unit_board.stale_position == 1
    assert detail.status_since == {"a": NOW - 20, "b": None}
    polda = e.snapshot(NOW, details=["kaltim"]).details["kaltim"]
    assert polda.unit_board is not None and polda.unit_board.total == 2


# --- time in status -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "limit", "kind"),
    [(UnitStatus.DISPATCHED, 180.0, "dispatched"), (UnitStatus.ON_SCENE, 3600.0, "on_scene")],
)
def test_time_in_status_alerts_at_their_edges(status: UnitStatus, limit: float, kind: str) -> None:
    e = engine()
    e.ingest_unit(unit("a", UnitStatus.AVAILABLE, at=NOW - 5000))
    e.ingest_unit(unit("a", status, at=NOW - limit, rev=2))
    for now, expected in ((NOW - 1, False), (NOW, False), (NOW + 1, True)):
        e.ingest_unit(unit("a", status, at=now, rev=int(now - NOW) + 10))  # fresh fix: only the status rule counts
        snapshot = e.snapshot(now)
        alerts = {a.id: a for a in evaluate(snapshot, {}, AlertThresholds())}
        assert (f"status:{kind}:{BPN}" in alerts) is expected, (now - NOW, list(alerts))
    alert = alerts[f"status:{kind}:{BPN}"]
    assert alert.severity is Severity.AMBER and alert.view == "units"
    assert alert.text().startswith("Polresta Balikpapan: 1 unit(s)") and f"{limit / 60:.0f} min" in alert.text()


def test_no_position_alert_at_its_edge_and_never_for_units_out_of_service() -> None:
    e = engine()
    e.ingest_unit(unit("a", UnitStatus.AVAILABLE, at=NOW - 600))
    e.ingest_unit(unit("b", UnitStatus.OUT_OF_SERVICE, at=None))
    ids = [o.unit_id for o in e.snapshot(NOW).unit_overruns]
    assert ids == []
    assert [(o.unit_id, o.kind) for o in e.snapshot(NOW + 1).unit_overruns] == [("a", "no_position")]
    off = engine(status_limits=StatusLimits(no_position_s=0))
    off.ingest_unit(unit("a", UnitStatus.AVAILABLE, at=None))
    assert off.snapshot(NOW).unit_overruns == ()


# --- incidents at risk --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("elapsed", "text", "overdue"),
    [(0.0, "10:00", False), (599.0, "0:01", False), (600.0, "0:00", False), (601.0, "+0:01", True),
     (599.5, "0:01", False), (3600.0 + 600, "+1:00:00", True)],
)  # fmt: skip
def test_countdown_at_its_edges(elapsed: float, text: str, overdue: bool) -> None:
    e = engine()
    e.ingest_incident(Incident("i1", 1, BPN, None, NOW - elapsed))
    snapshot = e.snapshot(NOW)
    (row,) = snapshot.at_risk
    assert countdown_text(row.deadline, NOW) == (text, overdue)
    assert is_overdue(e.incidents["i1"], NOW, 600.0) is overdue, "the countdown turns exactly where the rule does"


def test_countdown_elapsed_9_59_10_00_10_01() -> None:
    received = NOW - 600
    assert countdown(received + 600, received + 599) == (False, 1)
    assert countdown(received + 600, received + 600) == (False, 0)
    assert countdown(received + 600, received + 601) == (True, 1)


def test_at_risk_lists_open_incidents_without_a_unit_on_scene_most_urgent_first() -> None:
    e = engine()
    e.ingest_incident(Incident("late", 1, BPN, None, NOW - 700, Priority.P3, "kebakaran"))
    e.ingest_incident(Incident("p1", 1, MHU, None, NOW - 100, Priority.P1))
    e.ingest_incident(Incident("p2", 1, MHU, None, NOW - 100, Priority.P2))
    e.ingest_incident(Incident("scene", 1, BPN, None, NOW - 900, on_scene_at=NOW - 400))
    e.ingest_incident(Incident("closed", 1, BPN, None, NOW - 900, closed_at=NOW - 10))
    e.ingest_incident(Incident("other", 1, "11.01", None, NOW - 900))  # another Polda
    snapshot = e.snapshot(NOW)
    assert [r.incident_id for r in snapshot.at_risk] == ["late", "p1", "p2"]
    assert snapshot.at_risk_total == 3 and snapshot.at_risk[0].polres_name == "Polresta Balikpapan"
    limited = engine(at_risk_limit=1)
    for i in e.incidents.values():
        limited.ingest_incident(i)
    assert len(limited.snapshot(NOW).at_risk) == 1 and limited.snapshot(NOW).at_risk_total == 3


def test_overdue_at_risk_counts_every_incident_at_any_moment_at_its_edges() -> None:
    """Issue 17: the panel counted overdue incidents over the rows it shows (cut at at_risk_limit). Core carries the
    sorted deadlines of all of them and counts those past at any moment, with the overdue rule's edge."""
    rng = random.Random(3)
    e = engine(at_risk_limit=4)
    for k in range(40):  # received from 30 min ago to 5 min ago; a few reached or closed (not at risk)
        received = NOW - rng.choice([1800.0, 900.0, 601.0, 600.0, 599.0, 300.0]) - rng.choice([0.0, 0.25, 7.0])
        on_scene = NOW - 10 if k % 7 == 0 else None
        e.ingest_incident(Incident(f"i{k:02d}", 1, rng.choice([BPN, MHU]), None, received, on_scene_at=on_scene,
                                   priority=rng.choice(list(Priority))))  # fmt: skip
    snapshot = e.snapshot(NOW)
    at_risk = [i for i in e.incidents.values() if i.on_scene_at is None and i.closed_at is None]
    assert len(snapshot.at_risk) == 4 < snapshot.at_risk_total == len(at_risk) == len(snapshot.at_risk_deadlines)
    assert list(snapshot.at_risk_deadlines) == sorted(i.call_received_at + 600.0 for i in at_risk)
    moments = [NOW + d for d in (-1.0, 0.0, 1.0, 0.25, 3600.0)]
    for deadline in {i.call_received_at + 600.0 for i in at_risk}:
        moments += [deadline - 1, deadline, deadline + 1]  # one second before, exactly at, one second after
    for now in moments:
        expected = sum(is_overdue(i, now, 600.0) for i in at_risk)
        assert snapshot.at_risk_overdue(now) == expected, now - NOW
    one = next(i for i in at_risk if i.call_received_at == min(x.call_received_at for x in at_risk))
    edge = one.call_received_at + 600.0
    assert snapshot.at_risk_overdue(edge) < snapshot.at_risk_overdue(edge + 1), "overdue a second past, not at it"
    assert overdue_count((), NOW) == 0 and overdue_count((NOW,), NOW) == 0 and overdue_count((NOW,), NOW + 1e-6) == 1


def test_nearest_available_unit_is_the_closest_fresh_free_one() -> None:
    e = engine()
    here = GeoPoint(-1.2500, 116.8500)
    e.ingest_incident(Incident("i1", 1, BPN, None, NOW - 60, location=here))
    e.ingest_unit(unit("busy", UnitStatus.EN_ROUTE, lat=-1.2501, lon=116.8501))  # closest, but busy
    e.ingest_unit(unit("stale", UnitStatus.AVAILABLE, lat=-1.2502, lon=116.8502, at=NOW - 121))  # position too old
    e.ingest_unit(unit("far", UnitStatus.AVAILABLE, lat=-1.30, lon=116.90))
    e.ingest_unit(unit("near", UnitStatus.AVAILABLE, lat=-1.26, lon=116.87, polres=MHU))  # another Polres is fine
    e.ingest_unit(unit("abroad", UnitStatus.AVAILABLE, lat=-1.2500, lon=116.8500, polres="11.01"))  # not this board
    (row,) = e.snapshot(NOW).at_risk
    assert row.nearest_unit_id == "near" and row.nearest_callsign == "CS-near"
    assert row.nearest_km == pytest.approx(haversine_km(-1.25, 116.85, -1.26, 116.87))
    assert 2.0 < row.nearest_km < 2.6
    e.ingest_incident(Incident("i2", 1, BPN, None, NOW - 50))  # no location: no nearest unit, still listed
    assert e.snapshot(NOW).at_risk[1].nearest_unit_id is None


def test_the_grid_index_gives_the_brute_force_nearest_unit() -> None:
    rng = random.Random(11)
    units = [unit(f"u{k}", UnitStatus.AVAILABLE, lat=rng.uniform(-8, 5), lon=rng.uniform(95, 140)) for k in range(400)]
    index = UnitIndex(units)
    for _ in range(200):
        lat, lon = rng.uniform(-8, 5), rng.uniform(95, 140)
        found = index.nearest(lat, lon)
        assert found is not None
        best = min(units, key=lambda u: (haversine_km(lat, lon, u.fix.lat, u.fix.lon), u.id))  # type: ignore[union-attr]
        assert found[0].id == best.id


# --- prank watch --------------------------------------------------------------------------------------------------


def prank(cid: str, at: float, number: str | None = NUMBER, polres: str = BPN,
          category: CallCategory = CallCategory.PRANK) -> Call:  # fmt: skip
    return Call(cid, 1, polres, at, Tier.POLRES, (), at + 3, Tier.POLRES, None, category, number,
                GeoPoint(-1.2612, 116.8312))  # fmt: skip


def test_prank_counts_per_number_today_and_this_week_flag_and_share() -> None:
    e = engine()
    e.ingest_call(prank("a", NOW - 60))
    e.ingest_call(prank("b", NOW - 120, category=CallCategory.SILENT))
    e.ingest_call(prank("c", NOW - 3 * 86400, polres=MHU))
    e.ingest_call(prank("d", NOW - 8 * 86400))  # older than the week
    e.ingest_call(prank("e", NOW - 60, number="081300001111"))  # once only: not a repeat
    e.ingest_call(prank("f", NOW - 60, category=CallCategory.GENUINE, number="081300002222"))
    watch = e.snapshot(NOW).prank_watch
    assert watch is not None
    (n,) = watch.numbers
    assert (n.number, n.today, n.week, n.polres_id, n.flagged) == ("0812****5678", 2, 3, BPN, True)
    bpn = next(s for s in watch.share_by_polres if s.polres_id == BPN)
    assert (bpn.nuisance, bpn.categorised) == (3, 4) and bpn.share_pct == 75.0
    assert watch.share_by_polres[0].polres_id == BPN, "highest share first"
    assert watch.cells and sum(c.calls for c in watch.cells) == 3, "today's prank calls, by cell"
    e.ingest_call(Call("a", 2, BPN, NOW - 60, Tier.POLRES, (), NOW - 57, Tier.POLRES, None, CallCategory.GENUINE,
                       NUMBER))  # fmt: skip
    (n,) = e.snapshot(NOW).prank_watch.numbers  # type: ignore[union-attr]
    assert (n.today, n.week, n.flagged) == (1, 2, False), "a recategorised call leaves the count"


@pytest.mark.parametrize("unmask", [False, True])
def test_drill_down_caller_numbers_leave_the_core_masked_unless_unmasked(unmask: bool) -> None:
    """Issue 17: the drill-down's timelines carried the full caller number and only the UI masked it, so the
    snapshot (and the JSON, an export, a log) held it. Core masks now, with the unmask_caller_numbers setting."""
    e = engine(unmask_caller_numbers=unmask)
    e.ingest_call(Call("c1", 1, BPN, NOW - 300, Tier.POLRES, (), NOW - 295, Tier.POLRES, None, CallCategory.GENUINE,
                       NUMBER))  # fmt: skip
    e.ingest_call(Call("c2", 1, BPN, NOW - 200, Tier.POLRES, (), NOW - 195, Tier.POLRES, None, CallCategory.GENUINE))
    e.ingest_incident(Incident("i1", 1, BPN, "c1", NOW - 300))
    e.ingest_incident(Incident("i2", 1, BPN, "c2", NOW - 200))
    snapshot = e.snapshot(NOW, details=[BPN, "kaltim"])
    for detail in (
        snapshot.details[BPN],
        snapshot.details["kaltim"],
        e.polres_detail(BPN, NOW, snapshot.response_window),
    ):
        callers = {t.incident.id: t.caller_number for t in detail.incidents}
        assert callers == {"i1": NUMBER if unmask else "0812****5678", "i2": None}
    text = json.dumps(to_jsonable(snapshot))
    assert (NUMBER in text) is unmask and ("0812****5678" in text) is not unmask


def test_prank_numbers_are_masked_in_the_snapshot_and_its_json_unless_unmasked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    for unmask, shown in ((False, "0812****5678"), (True, NUMBER)):
        e = engine(unmask_caller_numbers=unmask)
        e.ingest_call(prank("a", NOW - 60))
        e.ingest_call(prank("b", NOW - 70))
        snapshot = e.snapshot(NOW)
        assert snapshot.prank_watch is not None and snapshot.prank_watch.numbers[0].number == shown
        text = repr(to_jsonable(snapshot.prank_watch))
        assert (NUMBER in text) is unmask
    caplog.set_level(logging.DEBUG)
    assert NUMBER not in caplog.text


@pytest.mark.parametrize("flag_at", [3, 1])
def test_prank_totals_are_counted_before_the_lists_are_cut(flag_at: int) -> None:
    """Issue 17: the panel counted flagged numbers over the list cut at MAX_NUMBERS and summed calls over the cells
    cut at MAX_CELLS. Core's totals must equal a brute-force recount over every call, beyond both limits."""
    rng = random.Random(23)
    e = engine(prank_flag_at=flag_at)
    calls: list[Call] = []
    for k in range(MAX_NUMBERS + 80):  # repeat callers: up to 6 prank/silent calls, some older than the week
        number = f"0813{k:08d}"
        for j in range(rng.randint(1, 6)):
            at = NOW - rng.choice([60.0, 3600.0, 2 * 86400.0, 5 * 86400.0, 9 * 86400.0])
            category = rng.choice([CallCategory.PRANK, CallCategory.SILENT])
            calls.append(prank(f"n{k}-{j}", at, number=number, category=category))
    for k in range(MAX_CELLS + 400):  # one-off callers today, each from its own cell (some with no location)
        where = None if k % 10 == 0 else GeoPoint(-1.0 - (k // 60 + 0.5) * CELL_DEG, 116.0 + (k % 60 + 0.5) * CELL_DEG)
        calls.append(Call(f"o{k}", 1, rng.choice([BPN, MHU]), NOW - 10 - k, Tier.POLRES, (), NOW - 5 - k,
                          Tier.POLRES, None, CallCategory.PRANK, None if k % 3 else f"0857{k:08d}", where))  # fmt: skip
    calls.append(prank("abroad", NOW - 60, number="081300000000", polres="11.01"))  # another Polda: not counted
    calls.append(prank("abroad2", NOW - 70, number="081300000000", polres="11.01"))
    for c in calls:
        e.ingest_call(c)
    watch = e.snapshot(NOW).prank_watch
    assert watch is not None
    assert len(watch.numbers) == MAX_NUMBERS and len(watch.cells) == MAX_CELLS, "both lists are cut"
    mine = [c for c in calls if c.polres_id != "11.01"]
    week_start = datetime(2026, 11, 16, tzinfo=ZoneInfo("Asia/Makassar")).timestamp()
    midnight = datetime(2026, 11, 22, tzinfo=ZoneInfo("Asia/Makassar")).timestamp()
    per_number: dict[str, int] = {}
    for c in mine:
        if c.caller_number and week_start <= c.received_at <= NOW:
            per_number[c.caller_number] = per_number.get(c.caller_number, 0) + 1
    today = [c for c in mine if midnight <= c.received_at <= NOW]
    located = [c for c in today if c.caller_location is not None]
    cells = {(int(c.caller_location.lat // CELL_DEG), int(c.caller_location.lon // CELL_DEG))  # type: ignore[union-attr]
             for c in located}  # fmt: skip
    assert watch.repeat_numbers == sum(n >= 2 for n in per_number.values()) > MAX_NUMBERS
    assert watch.flagged_numbers == sum(n >= flag_at for n in per_number.values())
    assert watch.flagged_numbers > sum(n.flagged for n in watch.numbers), "more flagged than the list shows"
    assert watch.calls_today == len(today)
    assert watch.located_today == len(located) > sum(c.calls for c in watch.cells)
    assert watch.cells_today == len(cells) > MAX_CELLS


def test_the_prank_watch_kept_between_snapshots_is_always_what_a_fresh_count_says() -> None:
    """The repeated numbers' part is kept between snapshots (a third of a national snapshot's time). Whatever
    happens between two snapshots (a repeat call, a revision taking one back, a first call, a snapshot of an
    earlier moment, another day, renamed Polres) it must equal a count from nothing."""
    from wallboard.core.prank import PrankIndex

    def call(cid: str, number: str, at: float, polres: str = "p1", rev: int = 1) -> Call:
        return Call(cid, rev, polres, at, Tier.POLRES, answered_at=at + 5, answered_tier=Tier.POLRES,
                    category=CallCategory.PRANK, caller_number=number)  # fmt: skip

    held: dict[str, Call] = {}
    kept = PrankIndex()

    def apply(c: Call, sign: int) -> None:
        kept.apply(c, 0, sign)
        if sign > 0:
            held[c.id] = c
        else:
            del held[c.id]

    def check(end: float, names: dict[str, str], week_start: float = 0.0, today_start: float = 0.0) -> None:
        fresh = PrankIndex()
        for c in held.values():
            fresh.apply(c, 0, 1)

        def watch(index: PrankIndex) -> object:
            return index.watch(today=0, today_start=today_start, week_start=week_start, end=end, names=names,
                               flag_at=3, unmasked=False)  # fmt: skip

        assert watch(kept) == watch(fresh), (end, names, week_start, today_start)

    names = {"p1": "Polres Satu", "p2": "Polres Dua"}
    apply(call("a1", "081200001111", 100), 1)
    apply(call("a2", "081200001111", 200), 1)
    check(300, names)
    check(301, names)  # nothing changed: the kept part serves
    check(150, names)  # an earlier moment: a2 not yet received, so the number is not repeated
    check(301, names)
    apply(call("a3", "081200001111", 250, "p2"), 1)
    check(302, names)
    apply(call("a3", "081200001111", 250, "p2"), -1)  # a revision takes it back
    check(303, names)
    apply(call("b1", "081299998888", 260), 1)  # a first call from another number: not listed
    check(304, names)
    apply(call("b2", "081299998888", 270), 1)  # its second: listed now
    check(305, names)
    apply(call("a4", "081200001111", 280), 1)
    check(306, names)  # three calls: flagged
    check(306, {"p1": "Polresta Satu", "p2": "Polres Dua"})  # a renamed Polres
    check(306, names, week_start=150)  # a new week drops a1
    check(306, names, today_start=265)  # a new day: today's counts restart
    check(10_000, names)
