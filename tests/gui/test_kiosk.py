"""Kiosk: cannot be closed by accident, leaves only with chord + right PIN, rotates its playlist, drifts against
burn-in within bounds, rebuilds a crashing view. Supervisor: drill-down opens the right Polres; exports."""

from __future__ import annotations

import csv
import itertools
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from wallboard.config import Config, KioskConfig
from wallboard.core.alerts import Alert, Severity
from wallboard.core.metrics import MetricsEngine
from wallboard.core.snapshot import BoardSnapshot, Window
from wallboard.core.timeutil import ManualClock
from wallboard.pin import hash_pin, verify_pin
from wallboard.ui.detail import PolresDetailView
from wallboard.ui.kiosk import KioskWindow, Playlist, burn_in_offset, parse_screens
from wallboard.ui.supervisor import export_csv, snapshot_rows

from .conftest import NOW

PIN_HASH = hash_pin("2468")


class NamedView(QLabel):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name
        self.fail = False
        self.snapshots = 0

    def update_snapshot(self, snapshot: object) -> None:
        if self.fail:
            raise RuntimeError("panel bug")
        self.snapshots += 1


def kiosk(qtbot: QtBot, clock: ManualClock, views: list[str], **changes: object) -> KioskWindow:
    config = replace(KioskConfig(pin_hash=PIN_HASH, dwell_s=30, burn_in_px=6), **changes)  # type: ignore[arg-type]
    window = KioskWindow(NamedView, views, config, clock)
    qtbot.addWidget(window)
    window.show()
    return window


def test_close_escape_and_alt_f4_do_nothing(app: QApplication, qtbot: QtBot, clock: ManualClock) -> None:
    window = kiosk(qtbot, clock, ["overview"])
    assert window.windowFlags() & Qt.WindowType.FramelessWindowHint
    assert window.cursor().shape() == Qt.CursorShape.BlankCursor
    window.close()
    assert window.isVisible()
    event = QCloseEvent()
    window.closeEvent(event)
    assert not event.isAccepted()
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    qtbot.keyClick(window, Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier)
    assert window.isVisible()
    window.is_unlocked = True  # let pytest-qt clean up


def test_chord_then_right_pin_exits_wrong_pin_does_not(app: QApplication, qtbot: QtBot, clock: ManualClock) -> None:
    window = kiosk(qtbot, clock, ["overview"])
    answers = iter([("1111", True), ("2468", False), ("2468", True)])
    window.pin_prompt = lambda: next(answers)
    window.shortcut.activated.emit()  # the chord, as Qt delivers it
    assert window.isVisible() and not window.is_unlocked  # wrong PIN
    assert not window.ask_pin()  # dialog cancelled
    assert window.isVisible()
    with qtbot.waitSignal(window.unlocked):
        assert window.ask_pin()
    assert not window.isVisible()
    assert window.shortcut.key().toString() == "Ctrl+Shift+Q"


def test_no_pin_configured_means_no_exit(app: QApplication, qtbot: QtBot, clock: ManualClock) -> None:
    window = kiosk(qtbot, clock, ["overview"], pin_hash="")
    window.pin_prompt = lambda: ("2468", True)
    assert not window.ask_pin() and window.isVisible()
    window.is_unlocked = True


def test_pin_is_stored_salted_and_hashed() -> None:
    assert "2468" not in PIN_HASH
    assert hash_pin("2468") != PIN_HASH, "a fresh salt every time"
    assert verify_pin("2468", PIN_HASH) and not verify_pin("2469", PIN_HASH)
    assert not verify_pin("2468", "garbage")


def test_playlist_advances_on_a_fake_clock_and_alerts_bring_their_view(
    app: QApplication, qtbot: QtBot, clock: ManualClock
) -> None:
    window = kiosk(qtbot, clock, ["overview", "map", "gauges"])
    assert window.stack.currentIndex() == 0
    clock.advance(29)
    window.tick()
    assert window.stack.currentIndex() == 0
    clock.advance(2)
    window.tick()
    assert window.stack.currentIndex() == 1
    clock.advance(31)
    window.tick()
    assert window.stack.currentIndex() == 2
    window.on_alerts([Alert("overdue:64.11", Severity.RED, "x", (), "map")])
    assert window.stack.currentIndex() == 1
    clock.advance(31)
    window.tick()
    assert window.stack.currentIndex() == 1, "an alert's view is held for two dwell times"
    clock.advance(30)
    window.tick()
    assert window.stack.currentIndex() == 2
    window.is_unlocked = True


def test_playlist_alone() -> None:
    playlist = Playlist(["a", "b"], 10, 0)
    playlist.tick(10)
    assert playlist.index == 1
    assert not playlist.bring_forward("c", 11)


def test_burn_in_shift_stays_within_bounds_and_moves_slowly() -> None:
    offsets = [burn_in_offset(t * 600.0, 1800.0, 6) for t in range(24 * 6 * 14)]  # two weeks, every 10 min
    assert all(abs(dx) <= 6 and abs(dy) <= 6 for dx, dy in offsets)
    assert len(set(offsets)) > 10, "the layout does move"
    steps = [max(abs(a[0] - b[0]), abs(a[1] - b[1])) for a, b in itertools.pairwise(offsets)]
    assert max(steps) <= 3
    assert burn_in_offset(1234.0, 1800.0, 0) == (0, 0)


def test_kiosk_margins_follow_the_burn_in_offset(app: QApplication, qtbot: QtBot, clock: ManualClock) -> None:
    window = kiosk(qtbot, clock, ["overview"], burn_in_px=5, burn_in_period_s=60)
    for minutes in range(0, 600, 7):
        clock.set(NOW + minutes * 60)
        dx, dy = window.apply_burn_in(clock.now())
        m = window.layout().contentsMargins()
        assert (m.left(), m.top(), m.right(), m.bottom()) == (5 + dx, 5 + dy, 5 - dx, 5 - dy)
        assert min(m.left(), m.top(), m.right(), m.bottom()) >= 0
    window.is_unlocked = True


def test_a_crashing_view_is_logged_and_rebuilt(
    app: QApplication, qtbot: QtBot, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    window = kiosk(qtbot, clock, ["overview", "gauges"])
    first = window.views[0]
    assert isinstance(first, NamedView)
    first.fail = True
    window.deliver("update_snapshot", object())
    assert window.rebuilds == 1
    rebuilt = window.views[0]
    assert rebuilt is not first and isinstance(rebuilt, NamedView)
    assert rebuilt.snapshots == 1, "the rebuilt view got the latest state at once"
    assert "failed in update_snapshot; rebuilding it" in caplog.text
    window.is_unlocked = True


def test_screens_playlists_parse() -> None:
    assert parse_screens(["0:overview", "1:map,gauges", "2:"]) == [(0, ["overview"]), (1, ["map", "gauges"]),
                                                                    (2, ["overview"])]  # fmt: skip


# --- supervisor ---------------------------------------------------------------------------------------------------


def test_drill_down_shows_the_right_polres_with_masked_numbers(
    app: QApplication, qtbot: QtBot, engine: MetricsEngine, clock: ManualClock
) -> None:
    from wallboard.core.model import Call, CallCategory, Incident, Tier

    engine.ingest_call(Call("c9", 1, "64.71", NOW - 700, Tier.POLRES, (), NOW - 690, Tier.POLRES, None,
                            CallCategory.GENUINE, "081234565678"))  # fmt: skip
    engine.ingest_incident(Incident("i9", 1, "64.71", "c9", NOW - 700, dispatched_at=NOW - 650))
    view = PolresDetailView("64.71", Config(), engine.reference, clock, engine)
    qtbot.addWidget(view)
    view.show_detail(engine)
    assert view.title.text() == "Polresta Balikpapan"
    assert view.detail is not None and view.detail.polres_id == "64.71"
    cells = [[view.incidents.item(r, c).text() for c in range(view.incidents.columnCount())]
             for r in range(view.incidents.rowCount())]  # fmt: skip
    row = next(r for r in cells if r[0] == "13:48:20")  # received → answered → dispatched, number masked
    assert row[1:3] == ["13:48:30", "13:49:10"] and row[8] == "0812****5678"
    assert all("081234565678" not in text for row in cells for text in row)
    unmasked = PolresDetailView("64.71", replace(Config(), board=replace(Config().board, unmask_caller_numbers=True)),
                                engine.reference, clock, engine)  # fmt: skip
    qtbot.addWidget(unmasked)
    unmasked.show_detail(engine)
    assert "081234565678" in [unmasked.incidents.item(r, 8).text() for r in range(unmasked.incidents.rowCount())]


def test_csv_export_has_the_numbers_and_no_personal_data(snapshot: BoardSnapshot, tmp_path: Path) -> None:
    path = export_csv(snapshot, tmp_path / "board.csv")
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows[0] == ["section", "item", "window", "value"]
    assert ["tiers", "received", "today", "4"] in rows
    assert ["queue", "waiting", "now", "1"] in rows
    assert ["response:Polresta Balikpapan", "count", "today", "1"] in rows
    assert rows == snapshot_rows(snapshot)


def test_supervisor_toolbar_window_choice_and_drill_down(
    app: QApplication, qtbot: QtBot, engine: MetricsEngine, clock: ManualClock, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:  # fmt: skip
    import wallboard.ui.board as board_module
    from wallboard.ui.board import BoardWindow
    from wallboard.ui.supervisor import attach_supervisor

    monkeypatch.setattr(board_module, "make_map", lambda *a, **k: None)

    class Hub:
        response_window = Window.TODAY
        last_snapshot = engine.snapshot(NOW)

        def __init__(self) -> None:
            self.engine, self.clock, self.windows = engine, clock, []

        def set_response_window(self, window: Window) -> None:
            self.windows.append(window)

    hub = Hub()
    window = BoardWindow(Config(), engine.reference, clock)
    qtbot.addWidget(window)
    window.view.update_snapshot(hub.last_snapshot)
    tools = attach_supervisor(window, hub)  # type: ignore[arg-type]
    tools.window_choice.setCurrentIndex(2)
    assert hub.windows == [Window.LAST_7_DAYS]
    assert window.view.gauges is not None
    dialogs: list[QWidget] = []
    monkeypatch.setattr(tools, "open_detail", lambda pid: dialogs.append(pid))  # type: ignore[arg-type,return-value]
    window.view.gauges.polresActivated.emit("64.11")
    dialog = type(tools).open_detail(tools, "64.11")
    qtbot.addWidget(dialog)
    assert dialog.view.polres_id == "64.11" and dialog.view.title.text() == "Polres Mahakam Ulu"
    tools.filters["nuisance"].setChecked(False)
    assert window.view.volume is not None
    assert window.view.volume.nuisance_curve.getData()[1].sum() == 0
    png = tools.export_png(tmp_path / "board.png")
    assert png is not None and png.stat().st_size > 10_000
    assert tools.export_csv(tmp_path / "board.csv") is not None
