"""Alert rules at their boundaries: what raises an alert, how severe, which view shows it, and its text."""

from __future__ import annotations

from dataclasses import replace

from wallboard.core.alerts import TEMPLATES, AlertThresholds, Severity, evaluate
from wallboard.core.freshness import Freshness, StreamHealth
from wallboard.core.model import Tier
from wallboard.core.snapshot import BoardSnapshot, QueueSnapshot, ResponseStats, TierStats, VolumeSeries, Window


def response(unit_id: str, name: str, *, p90: float | None = 300.0, overdue: int = 0) -> ResponseStats:
    return ResponseStats(unit_id, name, Window.TODAY, 5, 240.0, p90, 100.0, 80.0, 600.0, 300.0, 5, overdue, overdue)


def board(*, waiting: int = 0, longest: float | None = None, escalations: dict[tuple[Tier, Tier], int] | None = None,
          polres: tuple[ResponseStats, ...] = ()) -> BoardSnapshot:  # fmt: skip
    zero = dict.fromkeys(Tier, 0)
    tiers = {w: TierStats(w, 10, zero, dict(escalations or {}), 0, 0, 0, 10.0, 1, 8, 9) for w in Window}
    return BoardSnapshot(
        as_of=0.0, tz="Asia/Makassar", polda_id="kaltim", polda_name="Polda Kalimantan Timur",
        volume=VolumeSeries(60, 0.0, (0,), (0,), (0,), None, None, 0.0),
        queue=QueueSnapshot(waiting, longest, zero, "queue"), tiers=tiers, response_window=Window.TODAY,
        response_by_polres=polres, response_polda=response("kaltim", "Polda Kalimantan Timur"),
    )  # fmt: skip


def severities(snapshot: BoardSnapshot, t: AlertThresholds | None = None) -> dict[str, Severity]:
    return {a.id: a.severity for a in evaluate(snapshot, {}, t or AlertThresholds())}


def test_waiting_is_amber_over_the_threshold_and_red_over_twice_it() -> None:
    assert severities(board(waiting=5)) == {}
    assert severities(board(waiting=6)) == {"waiting": Severity.AMBER}
    assert severities(board(waiting=10)) == {"waiting": Severity.AMBER}
    assert severities(board(waiting=11)) == {"waiting": Severity.RED}
    assert severities(board(waiting=1), AlertThresholds(waiting_max=0)) == {"waiting": Severity.AMBER}


def test_longest_wait_is_amber_past_the_rule_and_red_past_three_times_it() -> None:
    assert severities(board(waiting=1, longest=10.0)) == {}
    assert severities(board(waiting=1, longest=10.5)) == {"longest_wait": Severity.AMBER}
    assert severities(board(waiting=1, longest=31.0)) == {"longest_wait": Severity.RED}
    assert severities(board(waiting=0, longest=None)) == {}


def test_only_escalations_to_mabes_count_against_the_mabes_rate() -> None:
    to_polda = {(Tier.POLRES, Tier.POLDA): 40}
    assert severities(board(escalations=to_polda)) == {}
    assert severities(board(escalations={(Tier.POLDA, Tier.MABES): 5})) == {}
    assert severities(board(escalations={(Tier.POLDA, Tier.MABES): 4, (Tier.POLRES, Tier.MABES): 2})) == {
        "mabes": Severity.AMBER
    }


def test_polres_alerts_name_the_polres_and_open_its_view() -> None:
    snapshot = board(polres=(response("64.71", "Polresta Balikpapan", p90=660.0),
                             response("64.11", "Polres Paser", p90=None, overdue=2)))  # fmt: skip
    alerts = {a.id: a for a in evaluate(snapshot, {}, AlertThresholds())}
    assert set(alerts) == {"p90:64.71", "overdue:64.11"}
    assert alerts["p90:64.71"].view == "polres:64.71"
    assert alerts["p90:64.71"].text() == "Polresta Balikpapan: 90% of responses within 11 min (target 10)"
    assert alerts["overdue:64.11"].severity is Severity.RED
    assert alerts["overdue:64.11"].view == "map"
    assert severities(board(polres=(response("64.71", "B", p90=600.0),))) == {}, "at the target is not over it"


def test_red_alerts_come_first() -> None:
    snapshot = board(waiting=6, polres=(response("64.11", "Polres Paser", overdue=1),))
    assert [a.severity for a in evaluate(snapshot, {}, AlertThresholds())] == [Severity.RED, Severity.AMBER]


def test_streams_alert_unless_switched_off() -> None:
    health = {
        "calls": StreamHealth("calls", Freshness.LIVE, 0.0, 0.0, None, 0, 0, 2.0),
        "units": StreamHealth("units", Freshness.STALE, 0.0, 0.0, "timeout", 2, 0, 2.0),
    }
    alerts = evaluate(board(), health, AlertThresholds())
    assert [(a.id, a.severity, a.text()) for a in alerts] == [("stream:units", Severity.AMBER,
                                                               "Units feed is delayed")]  # fmt: skip
    assert evaluate(board(), health, AlertThresholds(stream_stale=False)) == []


def test_texts_are_templates_filled_with_plain_values() -> None:
    hostile = "<img src=x onerror=alert(1)> {n} {0}"
    alerts = evaluate(board(polres=(response("x", hostile, overdue=3),)), {}, AlertThresholds())
    assert alerts[0].text_key == alerts[0].template in TEMPLATES
    assert alerts[0].text() == f"{hostile}: 3 incident(s) overdue, no unit on scene", "values are never re-formatted"
    translated = alerts[0].text(lambda template: "{name}: {n} kejadian terlambat")
    assert translated == f"{hostile}: 3 kejadian terlambat"


def test_alert_ids_are_stable_while_the_condition_lasts() -> None:
    first = evaluate(board(waiting=6), {}, AlertThresholds())
    later = evaluate(replace(board(waiting=8), as_of=60.0), {}, AlertThresholds())
    assert [a.id for a in first] == [a.id for a in later] == ["waiting"]
    assert first[0].text() != later[0].text()
