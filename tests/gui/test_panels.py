"""Every panel shows exactly the numbers of the snapshot it is given; alerts switch and stop flashing when acked."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

import wallboard.ui.board as board_module
from wallboard.config import Config
from wallboard.core.alerts import AlertThresholds, evaluate
from wallboard.core.freshness import Freshness, StreamHealth
from wallboard.core.metrics import MetricsEngine
from wallboard.core.snapshot import BoardSnapshot, Window
from wallboard.core.timeutil import ManualClock
from wallboard.ui.board import BoardView
from wallboard.ui.panels.base import TextLabel
from wallboard.ui.panels.gauges import MIN_TILE_PX, GaugesPanel, GaugeWidget, fitted_name
from wallboard.ui.panels.header import AlertTicker, HeaderPanel
from wallboard.ui.panels.tiers import TiersPanel
from wallboard.ui.panels.volume import VolumePanel

from .conftest import NOW


def test_volume_panel_shows_the_snapshot(app: QApplication, qtbot: QtBot, snapshot: BoardSnapshot) -> None:
    panel = VolumePanel("Asia/Makassar")
    qtbot.addWidget(panel)
    panel.update_snapshot(snapshot)
    today = snapshot.tiers[Window.TODAY]
    assert panel.today_value.text() == str(today.received) == "4"
    assert panel.genuine_value.text() == "1"
    assert (
        panel.rate_value.text() == f"{snapshot.volume.current_rate_per_hour:.0f}" == "16"
    )  # 4 calls in the last 15 min × 4
    _, top = panel.total_curve.getData()
    assert float(np.sum(top)) == sum(snapshot.volume.total)
    _, nuisance = panel.nuisance_curve.getData()
    assert float(np.sum(nuisance)) == sum(snapshot.volume.nuisance) == 1
    assert panel.genuine_bars.opts["height"].sum() == 1
    items_before = list(panel.top.items)
    panel.update_snapshot(snapshot)
    assert list(panel.top.items) == items_before, "the chart is updated in place, never rebuilt"


def test_tiers_panel_shows_counts_shares_and_queue(app: QApplication, qtbot: QtBot, snapshot: BoardSnapshot) -> None:
    panel = TiersPanel()
    qtbot.addWidget(panel)
    panel.update_snapshot(snapshot)
    cell = {key: panel.cells[(key, "today")].text() for key, _ in panel.rows}
    assert panel.waiting_value.text() == "1"
    assert panel.longest_value.text() == "⚠ 20 s", "over the 10-second rule: a warning shape, not only red"
    assert cell["received"] == "4"
    assert cell["polres"] == "1 (50%)"
    assert cell["polda"] == "1 (50%)"
    assert cell["esc_polres_polda"] == "1"
    assert cell["abandoned"] == "1 (25%)"
    assert cell["service"] == "50 %"  # c1 in 5 s, c2 in 15 s
    assert cell["prank"] == "50 %"  # 1 prank of 2 categorised
    assert panel.cells[("received", "trend")].text() == "▲ +4"  # 4 calls this hour, none the hour before
    assert panel.cells[("received", "hour")].text() == "4"
    assert panel.row_labels["service"].text() == "Answered within 10 s"
    assert not panel.row_labels["polsek"].isVisibleTo(panel), "no Polsek tier in this region"


def test_gauges_worst_first_with_polda_gauge_and_click_to_drill_down(
    app: QApplication, qtbot: QtBot, snapshot: BoardSnapshot
) -> None:
    panel = GaugesPanel(per_page=40)
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    panel.update_snapshot(snapshot)
    shown = [g for g in panel.gauges if not g.isHidden()]
    assert len(shown) == 11
    assert shown[0].is_total and shown[0].stats is snapshot.response_polda
    names = [g.stats.name for g in shown[1:] if g.stats]
    assert names[0] == "Polres Mahakam Ulu", "the worst Polres comes first"
    mahakam = shown[1]
    assert mahakam.lines()[3] == "⚠ 1 overdue"
    assert mahakam.lines()[4] == "■ OVER TARGET"
    balikpapan = next(g for g in shown if g.stats and g.stats.unit_id == "64.71")
    # One response time is no 90th percentile: the gauge says how many it has, and that the sample is small.
    assert balikpapan.lines() == ["small sample: 1", "≤10 min 100 %", "incidents: 1", "overdue: 0", "◌ SMALL SAMPLE"]
    with qtbot.waitSignal(panel.polresActivated) as signal:
        qtbot.mouseClick(balikpapan, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
    assert signal.args == ["64.71"]


def test_gauges_page_when_there_are_more_than_fit(app: QApplication, qtbot: QtBot, snapshot: BoardSnapshot) -> None:
    panel = GaugesPanel(per_page=4)
    qtbot.addWidget(panel)
    panel.update_snapshot(snapshot)
    assert panel.pages == 3
    first = [g.stats.unit_id for g in panel.gauges if not g.isHidden() and g.stats]
    panel.next_page()
    second = [g.stats.unit_id for g in panel.gauges if not g.isHidden() and g.stats]
    assert panel.page == 1 and set(first).isdisjoint(second)
    assert "page 2/3" in panel.subtitle.text()


def test_header_freshness_says_state_and_since_when(app: QApplication, qtbot: QtBot, clock: ManualClock) -> None:
    header = HeaderPanel("Polda Kalimantan Timur", "Asia/Makassar", clock)
    qtbot.addWidget(header)
    assert header.clock_label.text() == "14:00:00 WITA"
    header.update_freshness({
        "calls": StreamHealth("calls", Freshness.LIVE, NOW, NOW, None, 0, 0, 2.0),
        "units": StreamHealth("units", Freshness.STALE, NOW - 30, NOW, "timeout", 3, 0, 2.0),
        "queue": StreamHealth("queue", Freshness.DOWN, None, NOW, "refused", 9, 0, 1.0),
    })  # fmt: skip
    assert header.stream_labels["calls"].text() == "● Calls: LIVE"
    assert header.stream_labels["units"].text() == "▲ Units: STALE since 13:59:30"
    assert header.stream_labels["queue"].text() == "■ Queue: DOWN"
    assert header.stream_labels["units"].toolTip() == "<p>timeout</p>"
    header.update_freshness({"calls": StreamHealth("calls", Freshness.DOWN, None, NOW, "<img src=x onerror=alert(1)>",
                                                   5, 0, 2.0)})  # fmt: skip
    assert header.stream_labels["calls"].toolTip() == "<p>&lt;img src=x onerror=alert(1)&gt;</p>", "shown, not run"


def test_alert_ticker_flashes_until_acknowledged(app: QApplication, qtbot: QtBot, snapshot: BoardSnapshot) -> None:
    ticker = AlertTicker()
    qtbot.addWidget(ticker)
    alerts = evaluate(snapshot, {}, AlertThresholds(overdue_max=0))
    # red first; Mahakam Ulu's one response time raises no p90 alert (a small sample), its overdue incident does
    assert [a.id for a in alerts] == ["overdue:64.11", "longest_wait"]
    ticker.set_alerts(alerts)
    assert ticker.flashing
    assert "Polres Mahakam Ulu: 1 incident(s) overdue" in ticker.label.text()
    assert ticker.label.text().startswith("⛔")
    qtbot.mouseClick(ticker, Qt.MouseButton.LeftButton)
    assert not ticker.flashing
    assert "acknowledged" in ticker.label.text()
    ticker.set_alerts([])
    assert ticker.label.text() == "● No active alerts"
    ticker.set_alerts(alerts)
    assert ticker.flashing, "an alert that clears and returns must be seen again"


def test_hostile_feed_text_is_shown_as_text(app: QApplication, qtbot: QtBot, engine: MetricsEngine) -> None:
    from wallboard.core.model import Polres
    from wallboard.core.reference import ReferenceData

    hostile = "<img src=x onerror=alert(1)><b>Polres</b>"
    ref = engine.reference.merged(
        ReferenceData.of([], [Polres("64.71", hostile, "kaltim", -1.2, 116.8, "Asia/Makassar")])
    )
    engine.set_reference(ref)
    engine.settings = replace(engine.settings, min_sample=1)  # a p90 alert from one response, to carry the name
    snapshot = engine.snapshot(NOW)
    alerts = evaluate(snapshot, {}, AlertThresholds(polres_p90_s=60))
    ticker = AlertTicker()
    qtbot.addWidget(ticker)
    ticker.set_alerts(alerts)
    for label in ticker.findChildren(TextLabel):
        assert label.textFormat() == Qt.TextFormat.PlainText
    assert any(hostile in a.text() for a in alerts)


# --- the whole view: layout at wall sizes ----------------------------------------------------------------------


@pytest.fixture
def board(app: QApplication, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, engine: MetricsEngine,
          clock: ManualClock) -> BoardView:  # fmt: skip
    monkeypatch.setattr(board_module, "make_map", lambda *a, **k: _MapStandIn())  # the real map: test_map.py
    view = BoardView("overview", Config(), engine.reference, clock)
    qtbot.addWidget(view)
    view.update_snapshot(engine.snapshot(NOW))
    return view


class _MapStandIn(QWidget):
    def update_units(self, units: object) -> None: ...
    def update_incidents(self, incidents: object) -> None: ...
    def set_reference(self, reference: object) -> None: ...


def _overlaps(widgets: list[QWidget]) -> list[tuple[str, str]]:
    out = []
    for i, a in enumerate(widgets):
        for b in widgets[i + 1 :]:
            if a.geometry().intersects(b.geometry()):
                out.append((type(a).__name__, type(b).__name__))
    return out


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080), (3840, 2160)])
def test_nothing_overlaps_or_clips_at_wall_sizes(board: BoardView, qtbot: QtBot, size: tuple[int, int]) -> None:
    board.resize(*size)
    board.show()
    qtbot.waitExposed(board)
    QApplication.processEvents()
    panels = [board.header, board.volume, board.tiers, board.gauges, board.map]
    assert _overlaps(panels) == []
    clipped = []
    for label in board.findChildren(TextLabel):
        if label.isVisible() and label.text():
            hint = label.sizeHint()
            if hint.width() > label.width() + 1 or hint.height() > label.height() + 1:
                clipped.append((label.text(), hint.width(), label.width(), hint.height(), label.height()))
    assert clipped == []
    assert board.gauges is not None
    rule_top = board.gauges.rule.geometry().top()
    for gauge in board.findChildren(GaugeWidget):
        if gauge.isVisible():
            assert gauge.width() >= MIN_TILE_PX and gauge.height() >= MIN_TILE_PX
            assert gauge.geometry().bottom() < rule_top, "a tile covers the status rule under the gauges"


def test_wall_type_sizes_at_4k(board: BoardView, qtbot: QtBot) -> None:
    board.resize(3840, 2160)
    board.show()
    qtbot.waitExposed(board)
    assert board.volume is not None and board.tiers is not None
    assert board.volume.rate_value.font().pixelSize() >= 80
    assert board.tiers.waiting_value.font().pixelSize() >= 80
    assert board.header.clock_label.font().pixelSize() >= 80
    small = [(label.text(), label.font().pixelSize()) for label in board.findChildren(TextLabel)
             if label.isVisible() and label.text()]  # fmt: skip
    assert [s for s in small if s[1] < 28] == []
    board.grab()  # paint the gauges: their figures are drawn, not labels
    painted = [g.figure_px for g in board.findChildren(GaugeWidget) if g.isVisible()]
    assert len(painted) == 11 and min(painted) >= 28


def test_forty_gauges_stay_legible_on_one_4k_screen(app: QApplication, qtbot: QtBot, engine: MetricsEngine,
                                                    clock: ManualClock) -> None:  # fmt: skip
    snapshot = engine.snapshot(NOW)
    template = snapshot.response_by_polres[0]
    forty = tuple(replace(template, unit_id=f"x{i}", name=f"Polres Nomor {i}", p90_s=200.0 + 20 * i)
                  for i in range(39))  # fmt: skip
    view = BoardView("gauges", Config(), engine.reference, clock, map_factory=lambda *_: None)
    qtbot.addWidget(view)
    view.resize(3840, 2160)
    view.show()
    qtbot.waitExposed(view)
    view.update_snapshot(replace(snapshot, response_by_polres=forty))
    QApplication.processEvents()
    view.grab()
    assert view.gauges is not None and view.gauges.pages == 1
    gauges = [g for g in view.findChildren(GaugeWidget) if g.isVisible()]
    assert len(gauges) == 40
    assert _overlaps(list(gauges)) == []
    assert min(g.figure_px for g in gauges) >= 28
    assert min(g.height() for g in gauges) >= 300


def test_a_tile_name_too_long_for_its_tile_ends_in_an_ellipsis(app: QApplication) -> None:
    font, shown = fitted_name("Penajam Paser Utara", 70, 12)
    assert font.pixelSize() == 8, "the smallest size, and still too wide"
    assert shown.endswith("…") and shown.startswith("Penajam"), "cut at the end, never at both ends"
    assert QFontMetricsF(font).horizontalAdvance(shown) <= 70
    font, shown = fitted_name("Bali", 70, 12)
    assert shown == "Bali" and font.pixelSize() == 12
