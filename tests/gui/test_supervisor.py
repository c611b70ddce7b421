"""Supervisor tools: window choice reaches the hub, a gauge click opens the right Polres, the genuine / prank filter
reaches the volume chart and the tiers panel, exports write the picture and the numbers (never personal data)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QCheckBox
from pytestqt.qtbot import QtBot

from wallboard.config import Config
from wallboard.core.metrics import MetricsEngine
from wallboard.core.model import CallKindGroup
from wallboard.core.snapshot import BoardSnapshot, Window
from wallboard.core.timeutil import ManualClock
from wallboard.ui.export import export_csv, snapshot_rows
from wallboard.ui.panels.tiers import TiersPanel
from wallboard.ui.supervisor import SupervisorTools, attach_supervisor

from .conftest import NOW


class FakeHub(QObject):
    snapshotChanged = Signal(object)

    def __init__(self, engine: MetricsEngine, clock: ManualClock) -> None:
        super().__init__()
        self.engine, self.clock = engine, clock
        self.response_window = Window.TODAY
        self.last_snapshot: BoardSnapshot | None = engine.snapshot(NOW)
        self.windows: list[Window] = []
        self.watched: list[str] = []

    def set_response_window(self, window: Window) -> None:
        self.windows.append(window)

    def watch_detail(self, unit_id: str) -> None:
        self.watched.append(unit_id)
        self.last_snapshot = self.engine.snapshot(NOW, details=self.watched)
        self.snapshotChanged.emit(self.last_snapshot)

    def unwatch_detail(self, unit_id: str) -> None:
        self.watched.remove(unit_id)


@pytest.fixture
def tools(
    app: QApplication, qtbot: QtBot, engine: MetricsEngine, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> SupervisorTools:
    import wallboard.ui.board as board_module
    from wallboard.ui.board import BoardWindow

    monkeypatch.setattr(board_module, "make_map", lambda *a, **k: None)  # no QtWebEngine needed here
    hub = FakeHub(engine, clock)
    window = BoardWindow(Config(), engine.reference, clock)
    qtbot.addWidget(window)
    hub.snapshotChanged.connect(window.view.update_snapshot)  # as connect_hub does, before the tools
    tools = attach_supervisor(window, hub)  # type: ignore[arg-type]
    assert hub.last_snapshot is not None
    hub.snapshotChanged.emit(hub.last_snapshot)
    return tools


def test_window_choice_reaches_the_hub(tools: SupervisorTools) -> None:
    tools.window_choice.setCurrentIndex(2)
    tools.window_choice.setCurrentIndex(0)
    assert tools.hub.windows == [Window.LAST_7_DAYS, Window.LAST_60_MIN]  # type: ignore[attr-defined]


def test_gauge_click_opens_the_right_polres_and_stays_live(tools: SupervisorTools, qtbot: QtBot) -> None:
    gauges = tools.window.view.gauges
    assert gauges is not None
    gauges.polresActivated.emit("64.11")
    assert len(tools.dialogs) == 1
    dialog = tools.dialogs[0]
    qtbot.addWidget(dialog)
    assert dialog.view.polres_id == "64.11" and dialog.view.title.text() == "Polres Mahakam Ulu"
    assert dialog.isVisible() and dialog.windowTitle() == "Polres Mahakam Ulu"
    assert dialog.view.detail is not None and dialog.view.detail.polres_id == "64.11"
    dialog.view.detail = None
    tools.hub.snapshotChanged.emit(tools.hub.last_snapshot)
    assert dialog.view.detail is not None and dialog.view.detail.polres_id == "64.11", "drawn from the snapshot"
    assert tools.hub.watched == ["64.11"]  # type: ignore[attr-defined]
    dialog.reject()
    assert tools.dialogs == [] and tools.hub.watched == []  # type: ignore[attr-defined]


def test_the_polda_gauge_opens_the_whole_polda(tools: SupervisorTools, qtbot: QtBot) -> None:
    """The Polda's own gauge drills down into every Polres' incidents and units, titled with the Polda's name."""
    assert tools.window.view.gauges is not None
    tools.window.view.gauges.polresActivated.emit("kaltim")
    dialog = tools.dialogs[0]
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Polda Kalimantan Timur"
    detail = dialog.view.detail
    assert detail is not None and {t.incident.id for t in detail.incidents} == {"i1", "i3"} | {
        t.incident.id for t in detail.incidents if t.incident.id == "i2"
    }
    assert dialog.view.incidents.rowCount() == len(detail.incidents) >= 2
    assert "64.71" in detail.polres_ids and "64.11" in detail.polres_ids


def received_today(tools: SupervisorTools) -> str:
    assert tools.window.view.tiers is not None
    return tools.window.view.tiers.cells[("received", "today")].text()


def test_genuine_prank_filter_reaches_the_chart_and_the_tiers(tools: SupervisorTools) -> None:
    volume = tools.window.view.volume
    assert volume is not None
    assert received_today(tools) == "4"
    tools.filters[CallKindGroup.NUISANCE].setChecked(False)
    assert volume.nuisance_curve.getData()[1].sum() == 0
    assert received_today(tools) == "3"
    tools.filters[CallKindGroup.OTHER].setChecked(False)
    assert received_today(tools) == "1", "only the genuine call is left"
    tools.hub.snapshotChanged.emit(tools.hub.last_snapshot)
    assert received_today(tools) == "1", "the filter holds through the next snapshot"
    for box in tools.filters.values():
        box.setChecked(True)
    assert received_today(tools) == "4"


def test_a_call_seconds_inside_the_window_edge_counts_on_the_wall_and_for_the_supervisor(app: QApplication) -> None:
    """Regression: the supervisor once recounted whole minutes and lost a call received 10 s inside the last-60-min
    window. Both paths now draw the engine's exact figure from the snapshot."""
    from wallboard.core.metrics import MetricsSettings
    from wallboard.core.model import Call, CallCategory, Tier
    from wallboard.resources import all_poldas

    now = NOW + 37.0  # not on a whole minute
    engine = MetricsEngine(all_poldas(), "kaltim", MetricsSettings())
    edges = {Window.LAST_60_MIN: now - 3600 + 10, Window.PREVIOUS_60_MIN: now - 7200 + 10}
    for i, received in enumerate(edges.values()):
        engine.ingest_call(Call(f"edge{i}", 1, "64.71", received, Tier.POLRES, (), received + 4, Tier.POLRES, None,
                                CallCategory.GENUINE))  # fmt: skip
    engine.ingest_call(Call("outside", 1, "64.71", now - 7200 - 10, Tier.POLRES, category=CallCategory.PRANK))
    snapshot = engine.snapshot(now)
    wall, supervisor = TiersPanel(), TiersPanel()
    supervisor.set_kinds(frozenset({CallKindGroup.GENUINE}))
    for panel in (wall, supervisor):
        panel.update_snapshot(snapshot)
        assert panel.cells[("received", "hour")].text() == "1"
    for window in edges:
        assert engine.tier_stats(window, now).received == 1
        assert snapshot.tier_stats(window, frozenset({CallKindGroup.GENUINE})).received == 1
        assert snapshot.tier_stats(window, frozenset({CallKindGroup.NUISANCE})).received == 0


def test_exports_write_the_picture_and_the_numbers(tools: SupervisorTools, tmp_path: Path) -> None:
    png = tools.export_png(tmp_path / "board.png")
    assert png is not None and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    path = tools.export_csv(tmp_path / "board.csv")
    assert path is not None and next(csv.reader(path.open(encoding="utf-8"))) == [
        "section",
        "item",
        "window",
        "value",
    ]


def test_export_failure_is_reported_not_raised(
    tools: SupervisorTools, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QMessageBox

    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: told.append(text))
    assert tools.export_csv(tmp_path / "missing-dir" / "board.csv") is None
    assert tools.export_png(tmp_path / "missing-dir" / "board.png") is None
    assert len(told) == 2 and all("missing-dir" in text for text in told)


def test_csv_has_the_numbers_and_no_personal_data(snapshot: BoardSnapshot, tmp_path: Path) -> None:
    path = export_csv(snapshot, tmp_path / "board.csv")
    text = path.read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == ["section", "item", "window", "value"]
    assert ["tiers", "received", "today", "4"] in rows
    assert ["tiers", "prank_or_silent", "today", "1"] in rows
    assert ["queue", "waiting", "now", "1"] in rows
    assert ["response:Polresta Balikpapan", "count", "today", "1"] in rows
    assert rows == snapshot_rows(snapshot)
    assert "0812" not in text and "token" not in text.lower()


def test_csv_cells_cannot_become_spreadsheet_formulas() -> None:
    from wallboard.ui.export import _defuse

    assert _defuse('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert _defuse("@SUM(A1)").startswith("'") and _defuse("+1").startswith("'")
    assert _defuse("Polresta Balikpapan") == "Polresta Balikpapan" and _defuse("") == ""


def test_the_toolbar_grows_with_the_wall(tools: SupervisorTools, qtbot: QtBot) -> None:
    """On a 4K supervisor screen the toolbar's type doubles like every panel's (readable without leaning in)."""
    label_heights = []
    for height in (1080, 2160):
        tools.window.resize(height * 16 // 9, height)
        tools.window.show()
        qtbot.waitUntil(lambda h=height: tools.window.view.height() > h * 0.6, timeout=5000)  # type: ignore[misc]
        label = tools.toolbar.findChildren(QCheckBox)[0]
        label.adjustSize()
        label_heights.append(label.sizeHint().height())
    assert label_heights[1] >= 1.6 * label_heights[0], label_heights


def test_the_new_panels_open_live_from_the_toolbar_and_the_mute_reaches_the_sound(
    app: QApplication, qtbot: QtBot, engine: MetricsEngine, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wallboard.ui.board as board_module
    from wallboard.config import AlertConfig
    from wallboard.ui.board import BoardWindow
    from wallboard.ui.panels.risk import RiskPanel
    from wallboard.ui.sound import AlertSound

    monkeypatch.setattr(board_module, "make_map", lambda *a, **k: None)

    class Player:
        available = True

        def play(self, sound: str, volume: float) -> None: ...
        def say(self, text: str, volume: float) -> None: ...

    hub = FakeHub(engine, clock)
    window = BoardWindow(Config(), engine.reference, clock)
    qtbot.addWidget(window)
    sound = AlertSound(AlertConfig(), "Asia/Makassar", Player(), clock.now, timer=False)
    tools = attach_supervisor(window, hub, sound)  # type: ignore[arg-type]
    assert set(tools.panel_actions) == {"units", "risk", "prank"}
    tools.panel_actions["risk"].trigger()
    dialog = tools.panel_dialogs["risk"]
    qtbot.addWidget(dialog)
    panel = dialog.view.extra  # type: ignore[attr-defined]
    assert isinstance(panel, RiskPanel) and panel.count_value.text() == "1", "i3 is open with nobody on scene"
    assert tools.mute_action.isEnabled()
    tools.mute_action.trigger()
    assert sound.muted
    tools.mute_action.trigger()
    assert not sound.muted
    dialog.reject()
    assert "risk" not in tools.panel_dialogs
