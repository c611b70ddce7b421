"""The metrics engine: hand-computed cases for every metric, and incremental == brute force on random streams."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallboard.core.metrics import MetricsEngine, MetricsSettings, percentile
from wallboard.core.model import (
    Call,
    CallCategory,
    CallKindGroup,
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
    now = NOW + 40  # 14:00:40: the series ends with the local 5-minute bin [14:00, 14:05); now is in its first minute
    e.ingest_call(call("g", NOW + 10, category=CallCategory.GENUINE))
    e.ingest_call(call("p", NOW + 20, category=CallCategory.PRANK))
    e.ingest_call(call("s", NOW + 30, category=CallCategory.SILENT))
    e.ingest_call(call("i", NOW - 30, category=CallCategory.INFORMATION))
    v = e.volume(now)
    assert len(v.genuine) == 1440
    assert v.start + 1436 * 60 > now >= v.start + 1435 * 60  # the bucket holding "now" is the 5th from the end
    assert v.partial_bin_start == NOW and v.align_s == 300  # the current, still filling 5-minute bin
    assert (v.genuine[-5], v.nuisance[-5], v.other[-5]) == (1, 2, 0)
    assert v.other[-6] == 1
    assert v.total[-5] == 3 and v.total[-4:] == (0, 0, 0, 0)  # minutes still to come
    assert v.current_rate_per_hour == pytest.approx(4 * 4)  # 4 calls in the last 15 min, scaled to an hour
    assert v.previous_day is None and v.same_weekday_last_week is None  # no history that old


def test_volume_overlays_appear_when_history_holds_them() -> None:
    e = engine()
    e.ingest_call(call("lastweek", NOW - 7 * 86400 + 10))
    e.ingest_call(call("yesterday", NOW - 86400 + 10))
    e.ingest_call(call("yesterday2", NOW - 86400 + 15))
    v = e.volume(NOW + 40)
    assert v.same_weekday_last_week is not None and v.previous_day is not None
    assert v.previous_day[-5] == 2
    assert v.same_weekday_last_week[-5] == 1
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


# --- windows to the second ----------------------------------------------------------------------------------------


def test_sliding_windows_count_partial_minutes_exactly_and_ignore_future_calls() -> None:
    e = engine()
    now = NOW + 30  # 14:00:30 WITA: the last 60 min are [13:00:30, 14:00:30]
    e.ingest_call(call("too-early", now - 3600 - 15))  # 13:00:15: same minute as the window start, but before it
    e.ingest_call(call("edge", now - 3600))  # 13:00:30 exactly: inside
    e.ingest_call(call("early-in", now - 3600 + 15))  # 13:00:45: inside
    e.ingest_call(call("at-now", now))  # 14:00:30: inside (the window ends at now, inclusive)
    e.ingest_call(call("future", now + 10))  # 14:00:40, a clock ahead of ours: not yet
    # inside: edge, early-in, at-now = 3; the previous hour [12:00:30, 13:00:30) holds too-early only
    assert e.tier_stats(Window.LAST_60_MIN, now).received == 3
    assert e.tier_stats(Window.PREVIOUS_60_MIN, now).received == 1
    # the last 15 min [13:45:30, 14:00:30] hold at-now only: 1 x 4 = 4 per hour
    assert e.volume(now).current_rate_per_hour == pytest.approx(4.0)


def test_last_hour_straddling_local_midnight() -> None:
    e = engine()
    now = MIDNIGHT + 20 * 60 + 10  # 00:20:10 WITA
    e.ingest_call(call("y1", MIDNIGHT - 50 * 60, category=CallCategory.GENUINE))  # 23:10 yesterday: in last 60 min
    e.ingest_call(call("y2", MIDNIGHT - 1, answered_after=None))  # 23:59:59 yesterday, still ringing
    e.ingest_call(call("t1", MIDNIGHT, category=CallCategory.SILENT))  # 00:00:00 today
    e.ingest_call(call("t2", MIDNIGHT + 600, abandoned_after=20))  # 00:10 today
    e.ingest_call(call("old", MIDNIGHT - 41 * 60))  # 23:19 yesterday
    # last 60 min = [23:20:10, 00:20:10]: y1 (23:10) is out, old (23:19) is out -> y2, t1, t2
    last = e.tier_stats(Window.LAST_60_MIN, now)
    # y2 and t2 are prank (the helper's default), t1 silent: 3 nuisance
    assert (last.received, last.waiting, last.abandoned, last.nuisance) == (3, 1, 1, 3)
    today = e.tier_stats(Window.TODAY, now)
    assert (today.received, today.nuisance) == (2, 2)  # t1 + t2; midnight itself belongs to today
    assert e.tier_stats(Window.PREVIOUS_60_MIN, now).received == 2  # [22:20:10, 23:20:10): y1, old
    assert e.tier_stats(Window.LAST_7_DAYS, now).received == 5


def test_response_today_starts_at_local_midnight_not_utc() -> None:
    e = engine()
    now = MIDNIGHT + 2 * 3600  # 02:00 WITA = 18:00 UTC the day before
    e.ingest_incident(incident("yesterday", MIDNIGHT - 300, 100))  # 23:55 WITA yesterday (same UTC day as now)
    e.ingest_incident(incident("today", MIDNIGHT + 300, 700))  # 00:05 WITA today
    r = e.response_stats("64.71", now, Window.TODAY)
    assert (r.count, r.median_s, r.incidents) == (1, 700, 1)
    assert e.response_stats("64.71", now, Window.LAST_60_MIN).count == 0
    week = e.response_stats("64.71", now, Window.LAST_7_DAYS)
    # two values [100, 700]: median = 400; p90 = rank 0.9 -> 100 + 0.9 * 600 = 640
    assert (week.count, week.median_s, week.p90_s) == (2, 400, pytest.approx(640))
    assert week.within_target_pct == 50.0 and week.within_aspiration_pct == 50.0


def test_today_is_23_hours_on_a_daylight_saving_day() -> None:
    # A board in a zone with DST (not an Indonesian one) still gets its local day right.
    berlin = ZoneInfo("Europe/Berlin")
    e = MetricsEngine(REF, "kaltim", MetricsSettings(tz="Europe/Berlin"))
    day_start = datetime(2026, 3, 29, 0, 0, tzinfo=berlin).timestamp()  # clocks jump 02:00 -> 03:00 that night
    now = datetime(2026, 3, 29, 23, 30, tzinfo=berlin).timestamp()
    assert now - day_start == 22.5 * 3600
    assert e.local_midnight(now) == day_start
    e.ingest_call(call("before", day_start - 1))
    e.ingest_call(call("after", day_start + 1))
    e.ingest_incident(incident("i", day_start + 60, 240))
    assert e.tier_stats(Window.TODAY, now).received == 1
    assert e.response_stats("64.71", now, Window.TODAY).count == 1
    assert e.window_bounds(Window.LAST_7_DAYS, now)[0] == datetime(2026, 3, 23, tzinfo=berlin).timestamp()


# --- revisions: late, corrected, duplicate, out of order -----------------------------------------------------------


def test_a_call_categorised_later_moves_between_series() -> None:
    e = engine()
    assert e.ingest_call(call("c", NOW - 100, answered_after=None, category=CallCategory.UNKNOWN))
    t = e.tier_stats(Window.LAST_60_MIN, NOW)
    assert (t.waiting, t.categorised, t.genuine) == (1, 0, 0)
    # the series ends at 14:05 (the local 5-minute bin holding now); received 13:58:20 is the minute [-7]
    assert e.volume(NOW).other[-7] == 1
    assert e.ingest_call(call("c", NOW - 100, rev=2, answered_after=7, category=CallCategory.GENUINE))
    t = e.tier_stats(Window.LAST_60_MIN, NOW)
    assert (t.received, t.waiting, t.categorised, t.genuine, t.answered_within_threshold) == (1, 0, 1, 1, 1)
    v = e.volume(NOW)
    assert (v.other[-7], v.genuine[-7]) == (0, 1)
    assert e.queue(NOW).waiting == 0


def test_a_corrected_received_time_moves_the_call() -> None:
    e = engine()
    e.ingest_call(call("c", NOW - 100))
    e.ingest_call(call("c", NOW - 5000, rev=2))  # corrected: it came in 83 min ago
    assert e.tier_stats(Window.LAST_60_MIN, NOW).received == 0
    assert e.tier_stats(Window.PREVIOUS_60_MIN, NOW).received == 1


def test_out_of_order_revisions_end_in_the_newest() -> None:
    e = engine()
    newest = call("c", NOW - 100, rev=3, category=CallCategory.GENUINE)
    assert e.ingest_call(newest)
    assert not e.ingest_call(call("c", NOW - 100, rev=1, answered_after=None, category=CallCategory.UNKNOWN))
    assert not e.ingest_call(call("c", NOW - 100, rev=2, category=CallCategory.PRANK))
    assert e.calls["c"] is newest
    t = e.tier_stats(Window.TODAY, NOW)
    assert (t.received, t.genuine, t.nuisance) == (1, 1, 0)


def test_a_record_moving_out_of_the_polda_stops_counting_but_keeps_its_revision() -> None:
    e = engine()
    e.ingest_call(call("c", NOW - 100))
    e.ingest_incident(incident("i", NOW - 100, None, closed=False))
    e.ingest_unit(Unit("u", 1, "BPN-1", "64.71", UnitKind.R2, UnitStatus.AVAILABLE))
    assert e.ingest_call(call("c", NOW - 100, rev=2, polres="11.01"))
    assert e.ingest_incident(incident("i", NOW - 100, None, rev=2, polres="11.01", closed=False))
    assert e.ingest_unit(Unit("u", 2, "BPN-1", "11.01", UnitKind.R2, UnitStatus.AVAILABLE))
    s = e.snapshot(NOW)
    assert s.tiers[Window.TODAY].received == 0
    assert s.response_polda.open_incidents == 0 and s.response_polda.incidents == 0
    assert s.units_by_status == {}
    assert not e.ingest_call(call("c", NOW - 100, rev=1))  # the old revision is still old


def test_new_reference_data_brings_a_polres_into_scope() -> None:
    e = engine()
    e.ingest_call(call("c", NOW - 100, polres="64.99"))  # a Polres the reference does not list yet
    assert e.tier_stats(Window.TODAY, NOW).received == 0
    newer = ReferenceData.of(
        REF.poldas.values(), [*REF.polres.values(), Polres("64.99", "Polres Baru", "kaltim", 0, 0, "Asia/Makassar")]
    )
    e.set_reference(newer)
    assert e.tier_stats(Window.TODAY, NOW).received == 1
    assert "64.99" in [r.unit_id for r in e.snapshot(NOW).response_by_polres]


def test_bad_times_are_ignored_not_fatal() -> None:
    e = engine()
    assert not e.ingest_call(call("nan", math.nan))
    assert not e.ingest_call(call("inf", math.inf))
    assert not e.ingest_incident(incident("nan", math.nan, None))
    assert e.snapshot(NOW).tiers[Window.TODAY].received == 0


# --- kinds filter, roll-ups, pruning ---------------------------------------------------------------------------------


def test_tier_stats_for_some_kinds_of_call() -> None:
    e = engine()
    e.ingest_call(call("g", NOW - 100, category=CallCategory.GENUINE, answered_after=3))
    e.ingest_call(call("p", NOW - 90, category=CallCategory.PRANK, answered_after=30))
    e.ingest_call(call("u", NOW - 80, category=CallCategory.UNKNOWN, answered_after=None))
    genuine = e.tier_stats(Window.TODAY, NOW, frozenset({CallKindGroup.GENUINE}))
    assert (genuine.received, genuine.answered, genuine.answered_within_threshold, genuine.nuisance) == (1, 1, 1, 0)
    no_genuine = e.tier_stats(Window.TODAY, NOW, frozenset({CallKindGroup.NUISANCE, CallKindGroup.OTHER}))
    assert (no_genuine.received, no_genuine.waiting, no_genuine.nuisance, no_genuine.categorised) == (2, 1, 1, 1)


def test_five_minute_and_hourly_rollups() -> None:
    e = engine()
    for i, minutes_ago in enumerate([1, 2, 4, 6, 61, 125]):
        e.ingest_call(call(f"c{i}", NOW - minutes_ago * 60))
    five = e.volume(NOW + 30, bucket_s=300)  # the last bucket is [14:00, 14:05)
    assert len(five.total) == 288
    # [13:55, 14:00): 1, 2 and 4 min ago; [13:50, 13:55): 6 min ago; 61 min ago is 12:59 -> [12:55, 13:00)
    assert five.total[-2:] == (3, 0) and five.total[-3] == 1 and five.total[-14] == 1
    hourly = e.volume(NOW + 30, bucket_s=3600)  # the last bucket is [14:00, 15:00)
    # [13:00, 14:00): 4 calls; [12:00, 13:00): 61 min ago; [11:00, 12:00): 125 min ago (11:55)
    assert hourly.total[-4:] == (1, 1, 4, 0)
    with pytest.raises(ValueError):
        e.volume(NOW, bucket_s=45)
    with pytest.raises(ValueError):
        MetricsSettings(bucket_s=7 * 60)  # does not tile 24 h


def test_prune_forgets_old_calls_but_keeps_open_incidents() -> None:
    e = engine()
    e.ingest_call(call("old", NOW - 9 * 86400))
    e.ingest_call(call("new", NOW - 100))
    e.ingest_incident(incident("stale-open", NOW - 9 * 86400, None, closed=False))
    e.ingest_incident(incident("stale-closed", NOW - 9 * 86400, 300))
    e.prune(NOW - 8 * 86400)
    assert set(e.calls) == {"new"} and set(e.incidents) == {"stale-open"}
    assert e.earliest_call_at() == NOW - 100
    assert not e.ingest_call(call("old", NOW - 9 * 86400, rev=2))  # history we let go of stays gone
    r = e.response_stats("64.71", NOW, Window.TODAY)
    assert (r.open_incidents, r.overdue_now) == (1, 1)
    e.ingest_incident(incident("stale-open", NOW - 9 * 86400, None, rev=2, closed=True))  # finally closed
    assert e.response_stats("64.71", NOW, Window.TODAY).open_incidents == 0
    assert e.tier_stats(Window.LAST_7_DAYS, NOW).received == 1


def test_earliest_call_follows_corrections() -> None:
    e = engine()
    e.ingest_call(call("c", NOW - 3 * 86400))
    assert e.volume(NOW).previous_day is not None
    e.ingest_call(call("c", NOW - 100, rev=2))  # it was today after all: no history older than 24 h
    assert e.earliest_call_at() == NOW - 100
    assert e.volume(NOW).previous_day is None


def test_polres_detail_lists_window_and_open_incidents_newest_first_with_answer_times() -> None:
    e = engine()
    e.ingest_call(call("c1", NOW - 1200, category=CallCategory.GENUINE, answered_after=6))
    e.ingest_incident(
        Incident("new", 1, "64.71", "c1", NOW - 1200, dispatched_at=NOW - 1100, on_scene_at=NOW - 800, closed_at=None)
    )
    e.ingest_incident(incident("mid", NOW - 3000, 400))
    e.ingest_incident(incident("yesterday-open", MIDNIGHT - 600, None, closed=False))
    e.ingest_incident(incident("yesterday-closed", MIDNIGHT - 900, 100))
    e.ingest_incident(incident("other-polres", NOW - 100, 100, polres="64.11"))
    e.ingest_unit(Unit("u2", 1, "BPN-2", "64.71", UnitKind.R4, UnitStatus.ON_SCENE, incident_id="new"))
    e.ingest_unit(Unit("u1", 1, "BPN-1", "64.71", UnitKind.R2, UnitStatus.AVAILABLE))
    e.ingest_unit(Unit("m1", 1, "MHU-1", "64.11", UnitKind.R2, UnitStatus.AVAILABLE))
    d = e.polres_detail("64.71", NOW, Window.TODAY)
    assert [t.incident.id for t in d.incidents] == ["new", "mid", "yesterday-open"]
    assert d.incidents[0].answered_at == NOW - 1194  # received + 6 s
    assert d.incidents[0].incident.on_scene_at == NOW - 800
    assert [t.overdue for t in d.incidents] == [False, False, True]  # on scene / closed / open 14 h, nobody there
    assert [u.id for u in d.units] == ["u2", "u1"], "the unit on scene before the free one"
    # today: responses 400 (1200 - 800) and 400 -> count 2; incidents received today: new, mid
    assert (d.stats.count, d.stats.incidents, d.stats.open_incidents, d.stats.overdue_now) == (2, 2, 2, 1)


def test_polres_detail_lists_units_at_work_first() -> None:
    e = engine()
    for callsign, status in [("A-1", UnitStatus.AVAILABLE), ("B-2", UnitStatus.OUT_OF_SERVICE),
                             ("C-3", UnitStatus.EN_ROUTE), ("D-4", UnitStatus.ON_SCENE), ("E-5", UnitStatus.AVAILABLE),
                             ("F-6", UnitStatus.DISPATCHED), ("G-7", UnitStatus.RETURNING)]:  # fmt: skip
        e.ingest_unit(Unit(callsign, 1, callsign, "64.71", UnitKind.R2, status))
    e.ingest_unit(Unit("X-9", 1, "X-9", "64.72", UnitKind.R2, UnitStatus.ON_SCENE))  # another Polres
    detail = e.polres_detail("64.71", NOW, Window.TODAY)
    assert [u.callsign for u in detail.units] == ["D-4", "C-3", "F-6", "G-7", "A-1", "E-5", "B-2"]


def test_the_day_boundary_is_exact_in_a_zone_with_daylight_saving() -> None:
    # A zone with transitions takes the engine's datetime path (WITA takes fixed-offset arithmetic).
    zone = ZoneInfo("Australia/Sydney")
    midnight = datetime(2026, 11, 22, 0, 0, tzinfo=zone).timestamp()
    e = MetricsEngine(REF, "kaltim", MetricsSettings(tz="Australia/Sydney"))
    e.ingest_call(call("before", midnight - 2e-7))  # rounds to midnight in fromtimestamp
    e.ingest_call(call("after", midnight + 60))
    assert e.local_midnight(midnight - 2e-7) == datetime(2026, 11, 21, 0, 0, tzinfo=zone).timestamp()
    assert e.tier_stats(Window.TODAY, midnight + 1800).received == 1
