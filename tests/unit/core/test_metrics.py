"""The metrics engine: hand-computed cases for every metric, and incremental == brute force on random streams."""

from __future__ import annotations

import math
import random
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wallboard.core.metrics import MetricsEngine, MetricsSettings, percentile
from wallboard.core.model import (
    Call,
    CallCategory,
    Escalation,
    Incident,
    Polda,
    Polres,
    QueueEntry,
    QueueState,
    Tier,
    Unit,
    UnitKind,
    UnitStatus,
)
from wallboard.core.reference import ReferenceData
from wallboard.core.snapshot import Window, to_jsonable

WITA = ZoneInfo("Asia/Makassar")
NOW = datetime(2026, 11, 22, 14, 0, tzinfo=WITA).timestamp()
MIDNIGHT = datetime(2026, 11, 22, 0, 0, tzinfo=WITA).timestamp()
REF = ReferenceData.of(
    [Polda("kaltim", "Polda Kalimantan Timur", "Balikpapan", -1.27, 116.83, "Asia/Makassar")],
    [
        Polres("64.71", "Polresta Balikpapan", "kaltim", -1.27, 116.83, "Asia/Makassar"),
        Polres("64.11", "Polres Mahakam Ulu", "kaltim", 0.5, 115.27, "Asia/Makassar"),
        Polres("11.01", "Polres Elsewhere", "aceh", 5.5, 95.3, "Asia/Jakarta"),
    ],
)


def engine() -> MetricsEngine:
    return MetricsEngine(REF, "kaltim", MetricsSettings())


def call(
    cid: str,
    received: float,
    *,
    rev: int = 1,
    polres: str = "64.71",
    category: CallCategory = CallCategory.PRANK,
    answered_after: float | None = 5.0,
    tier: Tier = Tier.POLRES,
    escalations: tuple[Escalation, ...] = (),
    abandoned_after: float | None = None,
) -> Call:
    answered = None if answered_after is None or abandoned_after is not None else received + answered_after
    return Call(
        id=cid,
        rev=rev,
        polres_id=polres,
        received_at=received,
        first_tier=Tier.POLRES,
        escalations=escalations,
        answered_at=answered,
        answered_tier=tier if answered is not None else None,
        abandoned_at=None if abandoned_after is None else received + abandoned_after,
        category=category,
    )


def incident(
    iid: str,
    received: float,
    response: float | None,
    *,
    rev: int = 1,
    polres: str = "64.71",
    closed: bool = True,
) -> Incident:
    on_scene = None if response is None else received + response
    return Incident(
        id=iid,
        rev=rev,
        polres_id=polres,
        call_id=None,
        call_received_at=received,
        on_scene_at=on_scene,
        closed_at=(on_scene or received) + 600 if closed else None,
    )


# --- percentile -------------------------------------------------------------------------------------------------


@given(st.lists(st.floats(0, 10_000, allow_nan=False), min_size=1, max_size=50), st.sampled_from([10, 50, 90, 99]))
def test_percentile_matches_numpy_linear(values: list[float], p: int) -> None:
    ours = percentile(sorted(values), p)
    assert ours is not None
    assert math.isclose(ours, float(np.percentile(values, p)), rel_tol=1e-9, abs_tol=1e-9)


def test_percentile_by_hand() -> None:
    # ranks 0..4 of [60, 120, 180, 600, 900]: p90 -> rank 3.6 -> 600 + 0.6 * 300 = 780
    assert percentile([60, 120, 180, 600, 900], 90) == pytest.approx(780.0)
    assert percentile([60, 120, 180, 600, 900], 50) == 180
    assert percentile([], 50) is None


# --- tiers and service level --------------------------------------------------------------------------------------


def test_tier_counts_service_level_and_prank_share_by_hand() -> None:
    e = engine()
    polres_to_polda = (Escalation(Tier.POLRES, Tier.POLDA, NOW - 1790),)
    both = (*polres_to_polda, Escalation(Tier.POLDA, Tier.MABES, NOW - 1780))
    e.ingest_call(call("a", NOW - 1800, answered_after=4, category=CallCategory.GENUINE))  # Polres, within 10 s
    e.ingest_call(call("b", NOW - 1700, answered_after=12, tier=Tier.POLDA, escalations=polres_to_polda))
    e.ingest_call(call("c", NOW - 1600, answered_after=25, tier=Tier.MABES, escalations=both))
    e.ingest_call(call("d", NOW - 1500, abandoned_after=8, category=CallCategory.SILENT))
    e.ingest_call(call("e", NOW - 30, answered_after=None, category=CallCategory.UNKNOWN))  # still ringing
    e.ingest_call(call("x", NOW - 100, polres="11.01"))  # another Polda: out of scope
    t = e.tier_stats(Window.LAST_60_MIN, NOW)
    assert t.received == 5
    assert t.answered_by_tier == {Tier.POLSEK: 0, Tier.POLRES: 1, Tier.POLDA: 1, Tier.MABES: 1}
    assert t.escalations[(Tier.POLRES, Tier.POLDA)] == 2
    assert t.escalations[(Tier.POLDA, Tier.MABES)] == 1
    assert (t.abandoned, t.waiting) == (1, 1)
    assert t.answered_within_threshold == 1
    assert t.service_level_pct == pytest.approx(100 / 3)  # 1 of 3 answered within 10 s
    # categorised: a genuine, b prank, c prank, d silent (e unknown) -> 3 of 4 nuisance
    assert (t.genuine, t.nuisance, t.categorised) == (1, 3, 4)
    assert t.prank_share_pct == pytest.approx(75.0)
    assert t.abandoned_pct == pytest.approx(20.0)


def test_windows_follow_the_local_day_across_midnight() -> None:
    e = engine()
    e.ingest_call(call("before", MIDNIGHT - 60))  # 23:59 WITA yesterday
    e.ingest_call(call("after", MIDNIGHT + 60))  # 00:01 WITA today
    just_after = MIDNIGHT + 1800  # 00:30 WITA
    assert e.tier_stats(Window.TODAY, just_after).received == 1
    assert e.tier_stats(Window.LAST_60_MIN, just_after).received == 2
    assert e.tier_stats(Window.PREVIOUS_60_MIN, just_after).received == 0
    assert e.tier_stats(Window.LAST_7_DAYS, just_after).received == 2
    # the board day starts at 16:00 UTC: midnight WITA is not midnight UTC
    assert e.local_midnight(just_after) == datetime(2026, 11, 21, 16, 0, tzinfo=ZoneInfo("UTC")).timestamp()


def test_previous_hour_for_trend_arrows() -> None:
    e = engine()
    for i in range(3):
        e.ingest_call(call(f"p{i}", NOW - 5400 + i))  # 90 min ago: previous hour
    e.ingest_call(call("now", NOW - 60))
    assert e.tier_stats(Window.PREVIOUS_60_MIN, NOW).received == 3
    assert e.tier_stats(Window.LAST_60_MIN, NOW).received == 1


# --- volume --------------------------------------------------------------------------------------------------------


def test_volume_series_splits_genuine_nuisance_other_per_minute() -> None:
    e = engine()
    now = NOW + 40  # 14:00:40: the last bucket is [14:00, 14:01)
    e.ingest_call(call("g", NOW + 10, category=CallCategory.GENUINE))
    e.ingest_call(call("p", NOW + 20, category=CallCategory.PRANK))
    e.ingest_call(call("s", NOW + 30, category=CallCategory.SILENT))
    e.ingest_call(call("i", NOW - 30, category=CallCategory.INFORMATION))
    v = e.volume(now)
    assert len(v.genuine) == 1440
    assert v.start + 1440 * 60 > now >= v.start + 1439 * 60  # the last bucket holds "now"
    assert (v.genuine[-1], v.nuisance[-1], v.other[-1]) == (1, 2, 0)
    assert v.other[-2] == 1
    assert v.total[-1] == 3
    assert v.current_rate_per_hour == pytest.approx(4 * 4)  # 4 calls in the last 15 min, scaled to an hour
    assert v.previous_day is None and v.same_weekday_last_week is None  # no history that old


def test_volume_overlays_appear_when_history_holds_them() -> None:
    e = engine()
    e.ingest_call(call("lastweek", NOW - 7 * 86400 + 10))
    e.ingest_call(call("yesterday", NOW - 86400 + 10))
    e.ingest_call(call("yesterday2", NOW - 86400 + 15))
    v = e.volume(NOW + 40)
    assert v.same_weekday_last_week is not None and v.previous_day is not None
    assert v.previous_day[-1] == 2
    assert v.same_weekday_last_week[-1] == 1
    assert sum(v.total) == 0


# --- queue ----------------------------------------------------------------------------------------------------------


def test_queue_prefers_a_fresh_queue_document_and_falls_back_to_call_records() -> None:
    e = engine()
    e.ingest_call(call("w1", NOW - 40, answered_after=None))
    e.ingest_call(call("w2", NOW - 8, answered_after=None, escalations=(Escalation(Tier.POLRES, Tier.POLDA, NOW),)))
    q = e.queue(NOW)
    assert (q.waiting, q.longest_wait_s, q.source) == (2, 40, "calls")
    assert q.waiting_by_tier[Tier.POLDA] == 1
    e.set_queue(
        QueueState(
            NOW - 1, (QueueEntry("z", "64.71", Tier.MABES, NOW - 25), QueueEntry("o", "11.01", Tier.POLRES, NOW - 99))
        )
    )
    q = e.queue(NOW)
    assert (q.waiting, q.longest_wait_s, q.source) == (1, 25, "queue")  # the other Polda's call is not ours
    assert e.queue(NOW + 60).source == "calls"  # a stale queue document is not trusted


# --- response times -------------------------------------------------------------------------------------------------


def test_response_stats_by_hand() -> None:
    e = engine()
    for i, minutes in enumerate([2, 4, 6, 8, 12]):
        e.ingest_incident(incident(f"i{i}", NOW - 7200 + i, minutes * 60))
    e.ingest_incident(incident("open-late", NOW - 900, None, closed=False))  # 15 min, nobody on scene: overdue
    e.ingest_incident(incident("open-fresh", NOW - 120, None, closed=False))  # 2 min: not yet overdue
    r = e.response_stats("64.71", NOW, Window.TODAY)
    assert r.count == 5 and r.incidents == 7
    assert r.median_s == 360  # 6 min
    assert r.p90_s == pytest.approx(8 * 60 + 0.6 * 240)  # rank 3.6 between 8 and 12 min = 624 s
    assert r.within_target_pct == pytest.approx(80.0)  # 4 of 5 within 10 min
    assert r.within_aspiration_pct == pytest.approx(40.0)  # 2 of 5 within 5 min
    assert (r.open_incidents, r.overdue_now) == (2, 1)
    last_hour = e.response_stats("64.71", NOW, Window.LAST_60_MIN)
    assert (last_hour.count, last_hour.incidents) == (0, 2)


def test_snapshot_sorts_worst_first_and_totals_the_polda() -> None:
    e = engine()
    e.ingest_incident(incident("b1", NOW - 3000, 240))
    e.ingest_incident(incident("m1", NOW - 3000, 1500, polres="64.11"))
    e.ingest_incident(incident("m2", NOW - 2000, 1300, polres="64.11"))
    s = e.snapshot(NOW)
    assert [r.unit_id for r in s.response_by_polres] == ["64.11", "64.71"]
    assert s.response_polda.count == 3
    assert s.response_polda.median_s == 1300
    assert s.polda_name == "Polda Kalimantan Timur"
    assert to_jsonable(s)["response_polda"]["count"] == 3  # the JSON form carries the same numbers


def test_late_on_scene_time_and_duplicates_and_old_revisions() -> None:
    e = engine()
    assert e.ingest_incident(incident("i", NOW - 3000, None, rev=1, closed=False))
    assert e.response_stats("64.71", NOW, Window.TODAY).overdue_now == 1
    assert e.ingest_incident(incident("i", NOW - 3000, 420, rev=3))
    assert not e.ingest_incident(incident("i", NOW - 3000, None, rev=2, closed=False))  # older: ignored
    assert not e.ingest_incident(incident("i", NOW - 3000, 420, rev=3))  # duplicate: ignored
    r = e.response_stats("64.71", NOW, Window.TODAY)
    assert (r.count, r.median_s, r.open_incidents, r.overdue_now) == (1, 420, 0, 0)


def test_units_by_status_follow_revisions() -> None:
    e = engine()
    e.ingest_unit(Unit("u1", 1, "BPN-1", "64.71", UnitKind.R2, UnitStatus.AVAILABLE))
    e.ingest_unit(Unit("u2", 1, "BPN-2", "64.71", UnitKind.R4, UnitStatus.AVAILABLE))
    e.ingest_unit(Unit("u1", 2, "BPN-1", "64.71", UnitKind.R2, UnitStatus.EN_ROUTE))
    e.ingest_unit(Unit("x", 1, "ACH-1", "11.01", UnitKind.R2, UnitStatus.AVAILABLE))
    assert e.snapshot(NOW).units_by_status == {"available": 1, "en_route": 1}


def test_polres_detail_links_calls_and_marks_overdue() -> None:
    e = engine()
    c = call("c1", NOW - 1200, category=CallCategory.GENUINE, answered_after=6)
    e.ingest_call(c)
    e.ingest_incident(Incident("i1", 1, "64.71", "c1", NOW - 1200, dispatched_at=NOW - 1100, closed_at=None))
    detail = e.polres_detail("64.71", NOW, Window.TODAY)
    assert detail.polres_id == "64.71"
    assert len(detail.incidents) == 1
    assert detail.incidents[0].answered_at == NOW - 1194
    assert detail.incidents[0].overdue


def test_national_board_counts_every_polres() -> None:
    e = MetricsEngine(REF, None, MetricsSettings())
    e.ingest_call(call("a", NOW - 10, polres="11.01"))
    e.ingest_call(call("b", NOW - 10, polres="unknown-polres"))
    e.ingest_incident(incident("i", NOW - 1000, 300, polres="unknown-polres"))
    s = e.snapshot(NOW)
    assert s.tiers[Window.TODAY].received == 2
    assert s.response_polda.count == 1
    assert "unknown-polres" in [r.unit_id for r in s.response_by_polres]


# --- incremental == brute force -----------------------------------------------------------------------------------


def brute_force(calls: list[Call], incidents: list[Incident], now: float) -> dict[str, object]:
    """The metrics recomputed from scratch over the latest revision of each record (the definition)."""
    latest_calls: dict[str, Call] = {}
    for c in calls:
        if c.id not in latest_calls or c.rev > latest_calls[c.id].rev:
            latest_calls[c.id] = c
    latest_inc: dict[str, Incident] = {}
    for i in incidents:
        if i.id not in latest_inc or i.rev > latest_inc[i.id].rev:
            latest_inc[i.id] = i
    mine = [c for c in latest_calls.values() if c.polres_id in ("64.71", "64.11")]
    out: dict[str, object] = {}
    for window, (start, end) in {
        "today": (MIDNIGHT, now + 1e-6),
        "last60": (now - 3600, now + 1e-6),
    }.items():
        inside = [c for c in mine if start <= c.received_at < end]
        answered = [c for c in inside if c.answered_at is not None]
        out[f"{window}.received"] = len(inside)
        out[f"{window}.answered"] = len(answered)
        out[f"{window}.within"] = sum(1 for c in answered if c.answered_at - c.received_at <= 10)  # type: ignore[operator]
        out[f"{window}.abandoned"] = sum(1 for c in inside if c.abandoned_at is not None)
        out[f"{window}.nuisance"] = sum(1 for c in inside if c.category in (CallCategory.PRANK, CallCategory.SILENT))
        out[f"{window}.mabes"] = sum(1 for c in inside for e in c.escalations if e.to_tier is Tier.MABES)
        incs = [i for i in latest_inc.values() if i.polres_id == "64.71" and start <= i.call_received_at < end]
        responses = sorted(i.response_time_s for i in incs if i.response_time_s is not None)
        out[f"{window}.resp.count"] = len(responses)
        out[f"{window}.resp.p90"] = None if not responses else float(np.percentile(responses, 90))
    return out


def incremental(calls: list[Call], incidents: list[Incident], now: float, order: random.Random) -> dict[str, object]:
    e = engine()
    records: list[Call | Incident] = [*calls, *incidents]
    order.shuffle(records)
    for r in records:
        if isinstance(r, Call):
            e.ingest_call(r)
        else:
            e.ingest_incident(r)
    out: dict[str, object] = {}
    for name, window in (("today", Window.TODAY), ("last60", Window.LAST_60_MIN)):
        t = e.tier_stats(window, now)
        out[f"{name}.received"] = t.received
        out[f"{name}.answered"] = t.answered
        out[f"{name}.within"] = t.answered_within_threshold
        out[f"{name}.abandoned"] = t.abandoned
        out[f"{name}.nuisance"] = t.nuisance
        out[f"{name}.mabes"] = t.escalations[(Tier.POLDA, Tier.MABES)] + t.escalations[(Tier.POLRES, Tier.MABES)]
        r = e.response_stats("64.71", now, window)
        out[f"{name}.resp.count"] = r.count
        out[f"{name}.resp.p90"] = r.p90_s
    return out


call_versions = st.builds(
    lambda cid, rev, offset, cat, ans, polres, esc, abandon: call(
        f"c{cid}",
        NOW - offset,
        rev=rev,
        category=cat,
        answered_after=ans,
        polres=polres,
        tier=Tier.MABES if esc else Tier.POLRES,
        escalations=(
            Escalation(Tier.POLRES, Tier.POLDA, NOW - offset + 10),
            Escalation(Tier.POLDA, Tier.MABES, NOW - offset + 20),
        )
        if esc
        else (),
        abandoned_after=5.0 if abandon else None,
    ),
    st.integers(0, 15),
    st.integers(1, 4),
    st.floats(0, 20 * 3600),
    st.sampled_from(list(CallCategory)),
    st.one_of(st.none(), st.floats(0, 40)),
    st.sampled_from(["64.71", "64.11", "11.01"]),
    st.booleans(),
    st.booleans(),
)
incident_versions = st.builds(
    lambda iid, rev, offset, response, closed: incident(f"i{iid}", NOW - offset, response, rev=rev, closed=closed),
    st.integers(0, 10),
    st.integers(1, 4),
    st.floats(0, 20 * 3600),
    st.one_of(st.none(), st.floats(30, 3600)),
    st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(call_versions, max_size=40), st.lists(incident_versions, max_size=25), st.integers(0, 2**32))
def test_incremental_equals_brute_force_in_any_order_with_duplicates(
    calls: list[Call], incidents: list[Incident], seed: int
) -> None:
    # Make revisions consistent: one content per (id, rev), as a real feed has.
    calls = list({(c.id, c.rev): c for c in calls}.values())
    incidents = list({(i.id, i.rev): i for i in incidents}.values())
    duplicated_calls = calls + calls[: len(calls) // 2]
    duplicated_incidents = incidents + incidents[: len(incidents) // 3]
    expected = brute_force(calls, incidents, NOW)
    got = incremental(duplicated_calls, duplicated_incidents, NOW, random.Random(seed))
    for key, value in expected.items():
        if isinstance(value, float):
            assert got[key] == pytest.approx(value), key
        else:
            assert got[key] == value, key
