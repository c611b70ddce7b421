"""Kiosk: cannot be closed by accident, leaves only with chord + right PIN, rotates its playlist, drifts against
burn-in within bounds, rebuilds a crashing view, drives several screens, keeps the display awake where it can."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from wallboard.config import Config, KioskConfig
from wallboard.core.alerts import Alert, Severity
from wallboard.core.freshness import HistoryFailure
from wallboard.core.metrics import MetricsEngine
from wallboard.core.snapshot import BoardSnapshot
from wallboard.core.timeutil import ManualClock
from wallboard.pin import hash_pin, verify_pin
from wallboard.ui.kiosk import KioskWindow, Playlist, burn_in_offset, parse_screens

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
        layout = window.layout()
        assert layout is not None
        m = layout.contentsMargins()
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
    window.deliver("snapshot", lambda view: view.update_snapshot(object()))  # type: ignore[arg-type]
    assert window.rebuilds == 1
    rebuilt = window.views[0]
    assert rebuilt is not first and isinstance(rebuilt, NamedView)
    assert rebuilt.snapshots == 1, "the rebuilt view got the latest state at once"
    assert "failed in snapshot; rebuilding it" in caplog.text
    window.is_unlocked = True


def test_screens_playlists_parse() -> None:
    assert parse_screens(["0:overview", "1:map,gauges", "2:"]) == [(0, ["overview"]), (1, ["map", "gauges"]),
                                                                    (2, ["overview"])]  # fmt: skip


def test_a_view_the_factory_cannot_make_shows_a_notice_and_is_retried(
    app: QApplication, qtbot: QtBot, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    broken = {"map"}

    def factory(name: str) -> QLabel:
        if name in broken:
            raise RuntimeError("no web engine today")
        return NamedView(name)

    config = KioskConfig(pin_hash=PIN_HASH)
    window = KioskWindow(factory, ["overview", "map"], config, clock)
    qtbot.addWidget(window)
    notice = window.views[1]
    assert isinstance(notice, QLabel) and notice.textFormat() == Qt.TextFormat.PlainText
    assert "could not create view 'map'" in caplog.text
    broken.clear()
    clock.advance(61)
    window.tick()
    assert isinstance(window.views[1], NamedView) and window.views[1].name == "map"
    window.is_unlocked = True


class FakeHub(QObject):
    snapshotChanged = Signal(object)
    freshnessChanged = Signal(object)
    unitsChanged = Signal(object)
    incidentsChanged = Signal(object)
    referenceChanged = Signal(object)
    alertsChanged = Signal(object)
    problemReported = Signal(str, str)

    def __init__(self, clock: ManualClock, engine: MetricsEngine) -> None:
        super().__init__()
        self.clock = clock
        self.engine = engine
        self.alerts: list[object] = []
        self.last_snapshot: BoardSnapshot | None = None
        self.watched: list[str] = []
        self.history_failure: HistoryFailure | None = None

    def watch_detail(self, unit_id: str) -> None:
        self.watched.append(unit_id)


def test_one_process_drives_several_screens_with_real_views(
    app: QApplication, qtbot: QtBot, clock: ManualClock, engine: MetricsEngine, snapshot: BoardSnapshot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from wallboard.ui.board import BoardView
    from wallboard.ui.detail import PolresDetailView
    from wallboard.ui.kiosk import build_kiosk_windows

    monkeypatch.delenv("DISPLAY", raising=False)  # no xset on the developer's own screen
    config = Config(kiosk=KioskConfig(screens=["0:gauges", "1:polres:64.71,gauges"], pin_hash=PIN_HASH))
    hub = FakeHub(clock, engine)
    windows = build_kiosk_windows(app, config, hub, engine)  # type: ignore[arg-type]
    for window in windows:
        qtbot.addWidget(window)
    try:
        assert [w.view_names for w in windows] == [["gauges"], ["polres:64.71", "gauges"]]
        assert isinstance(windows[0].views[0], BoardView)
        polres_view = windows[1].views[0]
        assert isinstance(polres_view, BoardView), "a Polres page keeps the wall's header (clock, freshness, alerts)"
        detail = polres_view.detail
        assert isinstance(detail, PolresDetailView) and detail.title.text() == "Polresta Balikpapan"
        assert [w.windowState() for w in windows] == [Qt.WindowState.WindowFullScreen] * 2, [
            (w.windowState(), w.isVisible()) for w in windows
        ]
        assert hub.watched == ["64.71"], "the Polres page asked the hub for its drill-down"
        snapshot = engine.snapshot(NOW, details=hub.watched)
        hub.snapshotChanged.emit(snapshot)
        assert detail.detail is not None and detail.detail.polres_id == "64.71"
        assert polres_view.snapshot is snapshot
        gauges = windows[0].views[0]
        assert isinstance(gauges, BoardView) and gauges.snapshot is snapshot
        hub.history_failure = HistoryFailure(NOW - 300, "disk full")
        hub.problemReported.emit("history", "history not saved")
        assert gauges.header.history_failure == HistoryFailure(NOW - 300, "disk full"), "every screen says so"
        assert polres_view.header.history_failure == HistoryFailure(NOW - 300, "disk full")
        windows[0].pin_prompt = lambda: ("2468", True)
        assert windows[0].ask_pin()
        assert not any(w.isVisible() for w in windows), "one PIN unlocks every screen of the process"
    finally:
        for window in windows:
            window.is_unlocked = True
        while app.overrideCursor() is not None:
            app.restoreOverrideCursor()


def test_keep_awake_never_fails_where_nothing_is_available(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import subprocess

    from wallboard.ui import awake

    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr(awake.shutil, "which", lambda name: "/usr/bin/" + name)

    def refuse(*args: object, **kwargs: object) -> None:
        raise subprocess.CalledProcessError(1, "xset")

    monkeypatch.setattr(awake.subprocess, "run", refuse)
    keeper = awake.KeepAwake()
    methods = keeper.inhibit()
    assert "xset" not in methods
    keeper.release()
    assert keeper.methods == []


def test_keep_awake_switches_off_blanking_with_xset(monkeypatch: pytest.MonkeyPatch) -> None:
    from wallboard.ui import awake

    calls: list[list[str]] = []
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr(awake.shutil, "which", lambda name: "/usr/bin/" + name)
    monkeypatch.setattr(awake.subprocess, "run", lambda cmd, **kwargs: calls.append(cmd))
    monkeypatch.setattr(awake.KeepAwake, "_dbus_inhibit", lambda self: None)
    assert awake.KeepAwake().inhibit() == ["xset"]
    assert calls == [["xset", "s", "off", "-dpms"]]
