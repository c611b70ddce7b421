"""Freshness maths, backoff, Retry-After, and the alert rules."""

from __future__ import annotations

import random

import pytest

from wallboard.core.alerts import TEMPLATES, AlertThresholds, Severity, evaluate
from wallboard.core.freshness import Freshness, StreamHealth, assess, backoff_delay, parse_retry_after
from wallboard.core.model import Tier
from wallboard.core.snapshot import BoardSnapshot, QueueSnapshot, ResponseStats, TierStats, VolumeSeries, Window


@pytest.mark.parametrize(
    ("since_success", "since_start", "failures", "expected"),
    [
        (None, 1.0, 0, Freshness.STALE),  # starting up, no data yet
        (None, 5.0, 3, Freshness.DOWN),  # never reached the API
        (2.0, 100.0, 0, Freshness.LIVE),
        (6.0, 100.0, 1, Freshness.LIVE),  # exactly 3 intervals: still live
        (6.5, 100.0, 1, Freshness.STALE),  # no success for 3 intervals
        (7.0, 100.0, 3, Freshness.DOWN),  # failing repeatedly and past stale
        (21.0, 100.0, 0, Freshness.DOWN),  # no success for 10 intervals
    ],
)
def test_freshness_states(since_success: float | None, since_start: float, failures: int, expected: Freshness) -> None:
    assert assess(interval_s=2.0, seconds_since_success=since_success, seconds_since_start=since_start,
                  consecutive_failures=failures) is expected  # fmt: skip


def test_backoff_grows_with_jitter_is_capped_and_honours_retry_after() -> None:
    rng = random.Random(1)
    delays = [backoff_delay(n, base_s=1.0, cap_s=60.0, rng=rng) for n in range(1, 12)]
    assert all(1.0 <= d <= 60.0 for d in delays)
    assert max(delays[6:]) > max(delays[:2])
    assert backoff_delay(1, base_s=1.0, cap_s=60.0, rng=rng, retry_after_s=30.0) >= 30.0
    assert len({round(backoff_delay(5, base_s=1, cap_s=60, rng=rng), 6) for _ in range(20)}) > 1  # jitter


def test_retry_after_forms() -> None:
    assert parse_retry_after("7", 0.0) == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470.0) == pytest.approx(10.0)
    assert parse_retry_after("soon", 0.0) is None
    assert parse_retry_after(None, 0.0) is None


def snapshot(*, waiting: int = 0, longest: float | None = None, p90: float | None = 300.0, overdue: int = 0,
             mabes: int = 0) -> BoardSnapshot:  # fmt: skip
    zero = dict.fromkeys(Tier, 0)
    tiers = {w: TierStats(w, 10, zero, {(Tier.POLDA, Tier.MABES): mabes}, 0, 0, 0, 10.0, 1, 8, 9) for w in Window}
    stats = ResponseStats("64.71", "Polresta Balikpapan", Window.TODAY, 5, 240.0, p90, 100.0, 80.0, 600.0, 300.0, 5,
                          overdue, overdue)  # fmt: skip
    return BoardSnapshot(
        as_of=0.0, tz="Asia/Makassar", polda_id="kaltim", polda_name="Polda Kalimantan Timur",
        volume=VolumeSeries(60, 0.0, (0,), (0,), (0,), None, None, 0.0),
        queue=QueueSnapshot(waiting, longest, zero, "queue"), tiers=tiers, response_window=Window.TODAY,
        response_by_polres=(stats,), response_polda=stats,
    )  # fmt: skip


def ids(s: BoardSnapshot, health: dict[str, StreamHealth] | None = None) -> set[str]:
    return {a.id for a in evaluate(s, health or {}, AlertThresholds())}


def test_alert_thresholds_switch_on_and_off() -> None:
    assert ids(snapshot()) == set()
    assert ids(snapshot(waiting=6)) == {"waiting"}
    assert ids(snapshot(waiting=5)) == set()
    assert ids(snapshot(waiting=1, longest=11)) == {"longest_wait"}
    assert ids(snapshot(p90=601)) == {"p90:64.71"}
    assert ids(snapshot(overdue=1)) == {"overdue:64.71"}
    assert ids(snapshot(mabes=6)) == {"mabes"}


def test_alert_severity_and_text() -> None:
    alerts = evaluate(snapshot(waiting=11, overdue=2), {}, AlertThresholds())
    assert alerts[0].severity is Severity.RED
    texts = {a.id: a.text() for a in alerts}
    assert texts["waiting"] == "11 calls waiting"
    assert texts["overdue:64.71"] == "Polresta Balikpapan: 2 incident(s) overdue, no unit on scene"
    assert all(a.template in TEMPLATES for a in alerts)


def test_stale_and_down_streams_alert() -> None:
    stale = StreamHealth("units", Freshness.STALE, 0.0, 0.0, "timeout", 2, 0, 2.0)
    down = StreamHealth("calls", Freshness.DOWN, None, 0.0, "refused", 9, 0, 2.0)
    alerts = {a.id: a.severity for a in evaluate(snapshot(), {"units": stale, "calls": down}, AlertThresholds())}
    assert alerts == {"stream:units": Severity.AMBER, "stream:calls": Severity.RED}
