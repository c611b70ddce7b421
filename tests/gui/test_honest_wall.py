"""What the wall says about its own data: provenance, aged panels, a rejected token, small samples (issue 14)."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from wallboard.commands.replay import EndingClock
from wallboard.config import Config
from wallboard.core.alerts import AlertThresholds, evaluate
from wallboard.core.freshness import Freshness, StreamHealth
from wallboard.core.metrics import MetricsEngine
from wallboard.core.provenance import DEMO, Provenance, Source
from wallboard.core.timeutil import ManualClock
from wallboard.ui.board import BoardView
from wallboard.ui.detail import PolresDetailView
from wallboard.ui.i18n import install_translator
from wallboard.ui.panels.base import Panel

from .conftest import NOW

LIVE_ALL = {n: StreamHealth(n, Freshness.LIVE, NOW, NOW, None, 0, 0, 2.0) for n in ("reference", "calls", "queue")}


def board(qtbot: QtBot, engine: MetricsEngine, clock: ManualClock) -> BoardView:
    view = BoardView("overview", Config(), engine.reference, clock, map_factory=lambda *a: None)
    qtbot.addWidget(view)
    view.resize(1920, 1080)
    view.update_snapshot(engine.snapshot(NOW))
    view.show()
    return view


def test_a_panel_whose_stream_is_down_is_aged_and_says_since_when(
    app: object, qtbot: QtBot, engine: MetricsEngine, clock: ManualClock
) -> None:
    view = board(qtbot, engine, clock)
    assert view.detail is None and view.tiers is not None and view.volume is not None and view.gauges is not None
    before = view.tiers.cells[("received", "today")].text()
    view.update_freshness({**LIVE_ALL, "units": StreamHealth("units", Freshness.LIVE, NOW, NOW, None, 0, 0, 2.0)})
    assert not view.tiers.veil.isVisible()
    queue_down = StreamHealth("queue", Freshness.DOWN, NOW - 120, NOW, "connection refused", 5, 0, 1.0)
    view.update_freshness({**LIVE_ALL, "queue": queue_down})
    assert view.tiers.veil.isVisible()  # the queue panel draws from the queue stream: aged
    assert view.tiers.veil.accessibleDescription() == "■ Queue: DOWN since 13:58:00"
    assert view.tiers.cells[("received", "today")].text() == before  # its last numbers stay on it
    assert not view.volume.veil.isVisible() and not view.gauges.veil.isVisible()  # they do not draw from it


def test_a_rejected_token_is_its_own_state_in_the_wall_language(
    app: object, qtbot: QtBot, engine: MetricsEngine, clock: ManualClock
) -> None:
    install_translator(app, "id")  # type: ignore[arg-type]
    view = board(qtbot, engine, clock)
    rejected = StreamHealth("calls", Freshness.DOWN, NOW - 60, NOW, "/api/v1/calls: ditolak", 4, 0, 2.0,
                            auth_rejected=True)  # fmt: skip
    health = {**LIVE_ALL, "calls": rejected}
    view.update_freshness(health)
    assert view.header.stream_labels["calls"].text() == "■ Panggilan: TOKEN DITOLAK sejak 13:59:00"
    assert view.volume is not None and "TOKEN DITOLAK" in view.volume.veil.accessibleDescription()
    alerts = evaluate(engine.snapshot(NOW), health, AlertThresholds())
    stream_alert = next(a for a in alerts if a.id == "stream:calls")
    view.update_alerts([stream_alert])
    assert "umpan Panggilan: token API ditolak" in view.header.ticker.label.text()
    mentions = StreamHealth("calls", Freshness.DOWN, NOW - 60, NOW, "proxy: HTTP 401 page", 4, 0, 2.0)
    view.update_freshness({**LIVE_ALL, "calls": mentions})
    assert "TOKEN" not in view.header.stream_labels["calls"].text(), "a message's words are not its status"
    stale = StreamHealth("units", Freshness.STALE, NOW - 30, NOW, "timeout", 2, 0, 2.0)
    alert = evaluate(engine.snapshot(NOW), {"units": stale}, AlertThresholds())[-1]
    from wallboard.ui.i18n import tr

    assert alert.text(tr) == "umpan Unit tertunda"  # no English stream id on the wall


def test_demo_and_recording_carry_a_watermark_and_never_say_live(
    app: object, qtbot: QtBot, engine: MetricsEngine, clock: ManualClock
) -> None:
    view = board(qtbot, engine, clock)
    view.update_freshness(LIVE_ALL)
    assert not view.provenance_band.isVisible()  # a live board: no band
    assert view.header.stream_labels["calls"].text() == "● Calls: LIVE"
    view.set_provenance(DEMO)
    assert view.provenance_band.isVisible() and view.provenance_band.word.text() == "◆ SIMULATION"
    assert view.header.stream_labels["calls"].text() == "◆ Calls: SIMULATED"
    recording = Provenance(Source.RECORDING, "kaltim-2026-11-22.ndjson", NOW - 3600, NOW + 60)
    view.set_provenance(recording)
    assert view.provenance_band.word.text() == "◆ RECORDING"
    assert "kaltim-2026-11-22.ndjson" in view.provenance_band.detail.text()
    assert "recorded 2026-11-22 13:00–14:01 WITA" in view.provenance_band.detail.text()
    assert view.header.stream_labels["calls"].text() == "◆ Calls: RECORDING"
    clock.set(NOW + 60)
    view.provenance_band.refresh()
    assert view.provenance_band.word.text() == "■ RECORDING ENDED 14:01:00 WITA"
    assert "frozen" in view.provenance_band.detail.text()


def test_a_live_board_without_a_token_says_so(app: object, qtbot: QtBot, engine: MetricsEngine,
                                              clock: ManualClock) -> None:  # fmt: skip
    view = board(qtbot, engine, clock)
    view.set_provenance(Provenance(Source.LIVE, token_missing=True))
    assert view.provenance_band.isVisible() and view.provenance_band.word.text() == "■ NO API TOKEN"


def test_a_replay_clock_stops_at_the_end_of_the_recording() -> None:
    inner = ManualClock(NOW)
    clock = EndingClock(inner, NOW + 100)
    assert clock.now() == NOW
    inner.advance(500)
    assert clock.now() == NOW + 100  # frozen at the last record, not ticking on


def test_the_polda_drill_down_lists_every_polres_with_a_polres_column(
    app: object, qtbot: QtBot, engine: MetricsEngine, clock: ManualClock
) -> None:
    view = PolresDetailView("kaltim", Config(), engine.reference, clock)
    qtbot.addWidget(view)
    view.resize(1280, 800)
    view.update_snapshot(engine.snapshot(NOW, details=["kaltim"]))
    view.show()
    assert view.title.text() == "Polda Kalimantan Timur"
    header = [view.incidents.horizontalHeaderItem(c).text() for c in range(view.incidents.columnCount())]
    assert header[0] == "Polres"
    rows = {view.incidents.item(r, 0).text() for r in range(view.incidents.rowCount())}
    assert rows == {"Balikpapan", "Mahakam Ulu"}  # incidents of two Polres, each named
    # every column is as wide as its widest cell: nothing cut to "Pengania…"
    metrics = view.incidents.fontMetrics()
    for c in range(view.incidents.columnCount() - 1):
        for r in range(view.incidents.rowCount()):
            item = view.incidents.item(r, c)
            assert metrics.horizontalAdvance(item.text()) <= view.incidents.columnWidth(c), item.text()
    polres = PolresDetailView("64.71", Config(), engine.reference, clock)
    qtbot.addWidget(polres)
    assert polres.incidents.horizontalHeaderItem(0).text() == "Received"  # a Polres' own view needs no such column


def test_a_small_sample_shows_its_count_and_raises_no_p90_alert(engine: MetricsEngine) -> None:
    snapshot = engine.snapshot(NOW)
    mahakam = next(r for r in snapshot.response_by_polres if r.unit_id == "64.11")
    assert mahakam.count == 1 and mahakam.p90_s is not None and mahakam.small_sample
    alerts = evaluate(snapshot, {}, AlertThresholds(polres_p90_s=60))
    assert not [a for a in alerts if a.id.startswith("p90:")]
    assert "overdue:64.11" in [a.id for a in alerts]  # an overdue incident is a fact, and still alerts


def test_chart_marks_the_current_bin_and_scales_its_lines(
    app: object, qtbot: QtBot, engine: MetricsEngine, clock: ManualClock
) -> None:
    view = board(qtbot, engine, clock)
    assert view.volume is not None
    series = engine.snapshot(NOW).volume
    assert view.volume.partial_bin == (series.partial_bin_start, series.partial_bin_start + 300)
    assert series.partial_bin_start == NOW  # 14:00:00 WITA: a local 5-minute boundary
    thin = view.volume.total_curve.opts["pen"].widthF()
    view.resize(3840, 2160)
    view._apply_scale(2160)
    assert view.volume.total_curve.opts["pen"].widthF() >= 2 * thin


def test_the_unit_board_incidents_at_risk_and_prank_watch_are_aged_by_the_streams_they_draw_from(
    app: object, qtbot: QtBot, engine: MetricsEngine, clock: ManualClock
) -> None:
    """Every view takes freshness (the dispatch view, two panels in one, raised AttributeError on the first update)
    and each new panel is veiled while a stream it draws from is down, and only then."""
    units_down = StreamHealth("units", Freshness.DOWN, NOW - 120, NOW, "connection refused", 5, 0, 2.0)
    calls_down = StreamHealth("calls", Freshness.DOWN, NOW - 120, NOW, "connection refused", 5, 0, 2.0)
    live = {**LIVE_ALL, "units": StreamHealth("units", Freshness.LIVE, NOW, NOW, None, 0, 0, 2.0)}
    expected = {  # panel -> (veiled with units down, veiled with calls down)
        "UnitBoardPanel": (True, False),
        "RiskPanel": (True, True),
        "PrankPanel": (False, True),
    }
    for name in ("units", "risk", "dispatch", "prank"):
        view = BoardView(name, Config(), engine.reference, clock, map_factory=lambda *a: None)
        qtbot.addWidget(view)
        view.resize(1920, 1080)
        view.update_snapshot(engine.snapshot(NOW))
        view.show()
        panels = [p for p in view.findChildren(Panel) if type(p).__name__ in expected]
        assert panels, name
        view.update_freshness(live)
        assert not any(p.veil.isVisible() for p in panels), name
        for index, down in enumerate((units_down, calls_down)):
            view.update_freshness({**live, down.name: down})
            for panel in panels:
                assert panel.veil.isVisible() is expected[type(panel).__name__][index], (name, type(panel), down.name)
        view.update_freshness(live)
        assert not any(p.veil.isVisible() for p in panels), name
