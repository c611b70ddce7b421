"""The unit board, incidents at risk and the prank watch on the wall: the snapshot's figures, the countdown ticking
at its edges, masking on every path (wall, drill-down, export, log), views by name and 4K legibility."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QTableWidget
from pytestqt.qtbot import QtBot

from wallboard.commands.metrics import render_json
from wallboard.config import KIOSK_VIEWS, Config, load_config
from wallboard.core.metrics import MetricsEngine, MetricsSettings
from wallboard.core.model import Call, CallCategory, GeoPoint, Incident, PositionFix, Tier, Unit, UnitKind, UnitStatus
from wallboard.core.prank import MAX_NUMBERS
from wallboard.core.timeutil import ManualClock
from wallboard.resources import all_poldas
from wallboard.ui.board import BoardView
from wallboard.ui.detail import PolresDetailView
from wallboard.ui.export import export_csv, snapshot_rows
from wallboard.ui.panels.base import TextLabel
from wallboard.ui.panels.prank import PrankPanel
from wallboard.ui.panels.risk import RiskPanel
from wallboard.ui.panels.unitboard import UnitBoardPanel

from .conftest import NOW

NUMBER = "081234565678"
MASKED = "0812****5678"


def busy_engine(unmask: bool = False) -> MetricsEngine:
    e = MetricsEngine(all_poldas(), "kaltim", MetricsSettings(unmask_caller_numbers=unmask))
    fix = PositionFix(-1.26, 116.87, None, None, NOW - 10)
    e.ingest_unit(Unit("u1", 1, "BPN-R4-01", "64.71", UnitKind.R4, UnitStatus.AVAILABLE, fix))
    e.ingest_unit(Unit("u2", 1, "BPN-R2-02", "64.71", UnitKind.R2, UnitStatus.DISPATCHED,
                       PositionFix(-1.25, 116.85, None, None, NOW - 400)))  # fmt: skip
    e.ingest_unit(Unit("u3", 1, "MHU-R4-01", "64.11", UnitKind.R4, UnitStatus.OUT_OF_SERVICE, None))
    e.ingest_incident(Incident("i1", 1, "64.71", None, NOW - 599, kind="Pencurian", location=GeoPoint(-1.25, 116.85)))
    e.ingest_incident(Incident("i2", 1, "64.11", None, NOW - 100, kind="Kebakaran"))
    for k in range(3):
        e.ingest_call(Call(f"p{k}", 1, "64.71", NOW - 60 * (k + 1), Tier.POLRES, (), NOW - 60 * (k + 1) + 2,
                           Tier.POLRES, None, CallCategory.PRANK, NUMBER, GeoPoint(-1.26, 116.83)))  # fmt: skip
    return e


def table(t: QTableWidget) -> list[list[str]]:
    return [[t.item(r, c).text() if t.item(r, c) else "" for c in range(t.columnCount())] for r in range(t.rowCount())]


def test_risk_panel_counts_down_to_the_deadline_then_up_in_red(app: QApplication, qtbot: QtBot) -> None:
    clock = ManualClock(NOW)
    panel = RiskPanel(clock)
    qtbot.addWidget(panel)
    panel.update_snapshot(busy_engine().snapshot(NOW))
    rows = table(panel.table)
    assert rows[0] == ["▲ 0:01", "Polresta Balikpapan", "Pencurian", "P2", "BPN-R4-01 · 2.5 km"]  # 9:59 after the call
    assert rows[1][0] == "▲ 8:20" and rows[1][4] == "none available nearby"
    assert panel.count_value.text() == "2"
    clock.advance(1)  # 10:00
    panel.tick()
    assert panel.table.item(0, 0).text() == "▲ 0:00" and panel.overdue_value.text() == ""
    clock.advance(1)  # 10:01
    panel.tick()
    assert panel.table.item(0, 0).text() == "⚠ +0:01 OVERDUE"
    assert panel.table.item(0, 0).background().color().name().upper() == "#D55E00"
    assert panel.overdue_value.text() == "⚠ 1 overdue"


def test_risk_panel_counts_overdue_over_every_incident_not_only_the_rows_shown(app: QApplication,
                                                                               qtbot: QtBot) -> None:  # fmt: skip
    """Issue 17: with the list cut at one row, the overdue headline counted at most that row."""
    e = MetricsEngine(all_poldas(), "kaltim", MetricsSettings(at_risk_limit=1))
    for k, ago in enumerate((700.0, 650.0, 601.0, 599.0, 100.0)):
        e.ingest_incident(Incident(f"i{k}", 1, "64.71", None, NOW - ago, kind="Pencurian"))
    clock = ManualClock(NOW)
    panel = RiskPanel(clock)
    qtbot.addWidget(panel)
    panel.update_snapshot(e.snapshot(NOW))
    assert panel.table.rowCount() == 1 and panel.count_value.text() == "5"
    assert panel.overdue_value.text() == "⚠ 3 overdue"
    clock.advance(1)  # the one received 599 s ago reaches its deadline: not yet overdue
    panel.tick()
    assert panel.overdue_value.text() == "⚠ 3 overdue"
    clock.advance(1)
    panel.tick()
    assert panel.overdue_value.text() == "⚠ 4 overdue", "counted between snapshots, past the rows shown"


def test_unit_board_panel_shows_the_snapshot_rows_least_available_first(app: QApplication, qtbot: QtBot) -> None:
    panel = UnitBoardPanel()
    qtbot.addWidget(panel)
    snapshot = busy_engine().snapshot(NOW)
    panel.update_snapshot(snapshot)
    rows = table(panel.table)
    assert [r[0] for r in rows] == ["Polresta Balikpapan", "Polres Mahakam Ulu"], "only Polres with units"
    assert rows[0] == ["Polresta Balikpapan", "1", "1", "0", "0", "0", "0", "● 50 %", "▲ 1", "⚠ 1"]
    assert rows[1][-4:] == ["1", "○ –", "0", "–"]
    assert panel.available_value.text() == "1/2"
    assert panel.overruns_value.text() == "⚠ 1 over time in status"


def test_unit_board_panel_and_export_draw_the_core_rows_and_totals(app: QApplication, qtbot: QtBot) -> None:
    """Issue 17: the panel sorted, counted overruns and summed totals itself; now the panel, the export and the
    snapshot show one set of figures, computed in core."""
    e = busy_engine()
    for k in range(6):  # Samarinda: 1 of 5 on duty available (20 %), one without a fix
        status = UnitStatus.AVAILABLE if k == 0 else UnitStatus.OUT_OF_SERVICE if k == 5 else UnitStatus.ON_SCENE
        fix = None if k == 1 else PositionFix(-0.5, 117.1, None, None, NOW - 5)
        e.ingest_unit(Unit(f"s{k}", 1, f"SMD-R2-{k:02d}", "64.72", UnitKind.R2, status, fix))
    snapshot = e.snapshot(NOW)
    board = snapshot.unit_board
    panel = UnitBoardPanel()
    qtbot.addWidget(panel)
    panel.update_snapshot(snapshot)
    rows = table(panel.table)
    assert [r[0] for r in rows] == [r.name for r in board.rows] == [
        "Polresta Samarinda", "Polresta Balikpapan", "Polres Mahakam Ulu"]  # fmt: skip
    assert [r[-1] for r in rows] == [f"⚠ {r.overruns}" if r.overruns else "–" for r in board.rows] == ["⚠ 1", "⚠ 1",
                                                                                                      "–"]  # fmt: skip
    assert panel.available_value.text() == f"{board.available}/{board.on_duty}" == "2/7"
    assert panel.overruns_value.text() == f"⚠ {board.overruns} over time in status" == "⚠ 2 over time in status"
    exported = snapshot_rows(snapshot)
    assert ["units", "available", "now", "2"] in exported and ["units", "on_duty", "now", "7"] in exported
    assert ["units", "over_time_in_status", "now", "2"] in exported
    polres_order = list(dict.fromkeys(r[0] for r in exported if r[0].startswith("units:")))
    assert polres_order == [f"units:{r.name}" for r in board.rows], "the export lists the wall's rows, in its order"
    assert ["units:Polresta Samarinda", "over_time_in_status", "now", "1"] in exported


def test_the_polres_drill_down_has_the_unit_board_column(app: QApplication, qtbot: QtBot) -> None:
    e = busy_engine()
    view = PolresDetailView("64.71", Config(), e.reference, ManualClock(NOW))
    qtbot.addWidget(view)
    view.update_snapshot(e.snapshot(NOW, details=["64.71"]))
    # The wall's row for this Polres, overrun included (the dispatched unit has had no fix for 400 s).
    assert view.unit_counts.text() == "available 1 · dispatched 1 · ▲ stale position 1 · ⚠ 1 over time in status"
    assert [r[3] for r in table(view.units)] == ["6 min", "10 s"]


@pytest.mark.parametrize("unmask", [False, True])
def test_prank_numbers_masked_on_the_wall_the_log_and_the_export(
    app: QApplication, qtbot: QtBot, tmp_path: Path, caplog: pytest.LogCaptureFixture, unmask: bool
) -> None:
    caplog.set_level(logging.INFO)
    config = load_config(None, overrides={"board.unmask_caller_numbers": str(unmask)}, environ={})
    snapshot = busy_engine(unmask).snapshot(NOW)
    panel = PrankPanel(config)
    qtbot.addWidget(panel)
    panel.update_snapshot(snapshot)
    shown = NUMBER if unmask else MASKED
    assert table(panel.numbers) == [[shown, "3", "3", "Polresta Balikpapan", "⚑ FLAGGED"]]
    assert panel.flagged_value.text() == "1"
    assert snapshot.prank_watch is not None and panel.cell_map.cells == snapshot.prank_watch.cells
    assert sum(c.calls for c in panel.cell_map.cells) == 3, "where they came from: counted per cell, no points"
    assert (NUMBER in caplog.text) is unmask and shown in caplog.text, "the log line holds what the desk may see"
    # Export: nothing of the prank watch unless the desk may unmask (what the supervisor passes).
    path = export_csv(snapshot, tmp_path / "board.csv", include_prank_watch=config.board.unmask_caller_numbers)
    text = path.read_text(encoding="utf-8")
    assert ("prank_number:" in text) is unmask
    assert "0812" not in text or unmask
    assert all(len(row) == 4 for row in csv.reader(text.splitlines()))
    assert not any("prank_number" in row[0] for row in snapshot_rows(snapshot))


def test_the_prank_panel_draws_core_totals_beyond_the_cut_lists(app: QApplication, qtbot: QtBot) -> None:
    """Issue 17: the panel counted flagged numbers as len() of the list core cuts at MAX_NUMBERS, and summed calls
    over the cells cut at MAX_CELLS; it now draws core's totals."""
    e = MetricsEngine(all_poldas(), "kaltim", MetricsSettings())
    many = MAX_NUMBERS + 30
    for k in range(many):
        for j in range(3):
            e.ingest_call(Call(f"p{k}-{j}", 1, "64.71", NOW - 60 * (j + 1), Tier.POLRES, (), NOW - 60 * (j + 1) + 2,
                               Tier.POLRES, None, CallCategory.SILENT, f"0821{k:08d}",
                               None if j else GeoPoint(-1.0 - (k + 0.5) * 0.05, 116.02)))  # fmt: skip
    e.ingest_call(Call("x", 1, "64.71", NOW - 5, Tier.POLRES, (), NOW - 3, Tier.POLRES, None, CallCategory.PRANK))
    snapshot = e.snapshot(NOW)
    watch = snapshot.prank_watch
    assert watch is not None and len(watch.numbers) == MAX_NUMBERS
    panel = PrankPanel(Config())
    qtbot.addWidget(panel)
    panel.update_snapshot(snapshot)
    assert panel.flagged_value.text() == str(watch.flagged_numbers) == str(many)
    assert panel.numbers.rowCount() == MAX_NUMBERS
    assert panel.captions[0].text().endswith(f" · {MAX_NUMBERS}/{many}")
    assert panel.cells_label.text() == (f"Prank/silent calls today: {3 * many + 1}, with a location: {many} in {many} "
                                        "cells of about 6 km")  # fmt: skip


def test_the_drill_down_masks_caller_numbers(app: QApplication, qtbot: QtBot) -> None:
    e = busy_engine()
    e.ingest_incident(Incident("i9", 1, "64.71", "p0", NOW - 30))
    view = PolresDetailView("64.71", Config(), e.reference, ManualClock(NOW))
    qtbot.addWidget(view)
    view.update_snapshot(e.snapshot(NOW, details=["64.71"]))
    callers = [r[-1] for r in table(view.incidents)]
    assert MASKED in callers and NUMBER not in callers


@pytest.mark.parametrize("unmask", [False, True])
def test_a_full_caller_number_is_nowhere_unless_the_desk_is_authorised(
    app: QApplication, qtbot: QtBot, tmp_path: Path, caplog: pytest.LogCaptureFixture, unmask: bool
) -> None:
    """Masked in core: the snapshot, its JSON, the drill-down, the prank watch, a CSV export (even one that asks for
    the prank watch) and the log hold the full number only with board.unmask_caller_numbers."""
    caplog.set_level(logging.DEBUG)
    e = busy_engine(unmask)
    e.ingest_incident(Incident("i9", 1, "64.71", "p0", NOW - 30))  # linked to a call from NUMBER
    snapshot = e.snapshot(NOW, details=["64.71", "kaltim"])
    config = load_config(None, overrides={"board.unmask_caller_numbers": str(unmask)}, environ={})
    drill = PolresDetailView("64.71", config, e.reference, ManualClock(NOW))
    prank_panel = PrankPanel(config)
    for widget in (drill, prank_panel):
        qtbot.addWidget(widget)
        widget.update_snapshot(snapshot)
    wall = [text for t in (drill.incidents, prank_panel.numbers) for r in table(t) for text in r]
    exported = export_csv(snapshot, tmp_path / "board.csv", include_prank_watch=True).read_text(encoding="utf-8")
    places = {"snapshot": repr(snapshot), "json": render_json(snapshot), "wall": "\n".join(wall), "csv": exported,
              "log": caplog.text}  # fmt: skip
    assert {name: NUMBER in text for name, text in places.items()} == {
        "snapshot": unmask, "json": unmask, "wall": unmask, "csv": unmask, "log": unmask}  # fmt: skip
    if not unmask:
        assert MASKED in places["wall"] and MASKED in places["log"], "shown and logged, masked"


def test_views_by_name_and_the_kiosk_playlist(app: QApplication, qtbot: QtBot) -> None:
    assert {"units", "risk", "dispatch"} <= set(KIOSK_VIEWS) and "prank" not in KIOSK_VIEWS, (
        "the prank watch is not for the wall"
    )
    e = busy_engine()
    for name, panel_type in (("units", UnitBoardPanel), ("risk", RiskPanel), ("prank", PrankPanel)):
        view = BoardView(name, Config(), e.reference, ManualClock(NOW), map_factory=lambda *_: None)
        qtbot.addWidget(view)
        assert isinstance(view.extra, panel_type)
        view.update_snapshot(e.snapshot(NOW))
    load_config(None, overrides={"kiosk.screens": "0:units,risk"}, environ={})


@pytest.mark.parametrize("name", ["units", "risk", "prank", "dispatch"])
def test_new_views_meet_the_4k_legibility_rules(app: QApplication, qtbot: QtBot, name: str) -> None:
    e = busy_engine()
    view = BoardView(name, Config(), e.reference, ManualClock(NOW), map_factory=lambda *_: None)
    qtbot.addWidget(view)
    view.resize(3840, 2160)
    view.show()
    qtbot.waitExposed(view)
    view.update_snapshot(e.snapshot(NOW))
    QApplication.processEvents()
    assert view.extra is not None
    if name == "dispatch":
        headlines = [view.extra.risk.count_value, view.extra.units.available_value]  # type: ignore[attr-defined]
    else:
        headline = {"units": "available_value", "risk": "count_value", "prank": "flagged_value"}[name]
        headlines = [getattr(view.extra, headline)]
    assert min(h.font().pixelSize() for h in headlines) >= 80
    labels = [(lb.text(), lb.font().pixelSize()) for lb in view.findChildren(TextLabel) if lb.isVisible() and lb.text()]
    assert [s for s in labels if s[1] < 28] == []
    for t in view.extra.findChildren(QTableWidget):
        if t.isVisible():
            assert t.font().pixelSize() >= 28 and t.horizontalHeader().font().pixelSize() >= 28
    clipped = []
    for label in view.findChildren(TextLabel):
        if label.isVisible() and label.text():
            hint = label.sizeHint()
            if hint.width() > label.width() + 1 or hint.height() > label.height() + 1:
                clipped.append((label.text(), hint.width(), label.width()))
    assert clipped == []
