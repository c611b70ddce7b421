"""The alert rules (freshness and backoff maths: test_freshness.py)."""

from __future__ import annotations

from wallboard.core.alerts import TEMPLATES, AlertThresholds, Severity, evaluate
from wallboard.core.freshness import Freshness, StreamHealth
from wallboard.core.model import Tier
from wallboard.core.snapshot import BoardSnapshot, QueueSnapshot, ResponseStats, TierStats, VolumeSeries, Window


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
