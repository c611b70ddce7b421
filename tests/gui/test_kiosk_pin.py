"""The kiosk's exit PIN: its dialog is a modal child always on top of the frameless full-screen window, speaks
Indonesian, and wrong PINs cost time (after 3: 5 s, doubling, at most 5 min), on a fake clock; a PIN exit leaves
with its own exit status, which the systemd unit does not restart."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QInputDialog, QLineEdit, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from wallboard.config import Config, KioskConfig
from wallboard.core.metrics import MetricsEngine
from wallboard.core.timeutil import ManualClock
from wallboard.pin import hash_pin
from wallboard.ui.i18n import install_translator
from wallboard.ui.kiosk import EXIT_STATUS_PROPERTY, PIN_EXIT_STATUS, KioskWindow, PinGuard

from .test_kiosk import NamedView

PIN_HASH = hash_pin("2468", iterations=10_000)


def kiosk(qtbot: QtBot, clock: ManualClock) -> KioskWindow:
    window = KioskWindow(NamedView, ["overview"], replace(KioskConfig(), pin_hash=PIN_HASH), clock)
    qtbot.addWidget(window)
    window.showFullScreen()
    return window


def answer_dialog(seen: dict[str, object], text: str | None) -> None:
    """Once the dialog is up: note how it is shown, then type ``text`` and press OK (None: Cancel)."""

    def act() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:  # not up yet
            QTimer.singleShot(20, act)
            return
        seen["dialog"] = dialog
        seen["on_top"] = bool(dialog.windowFlags() & Qt.WindowType.WindowStaysOnTopHint)
        seen["modal"] = dialog.isModal() or dialog.windowModality() != Qt.WindowModality.NonModal
        seen["buttons"] = sorted(b.text() for b in dialog.findChildren(QPushButton) if b.isVisible())
        seen["label"] = dialog.labelText() if isinstance(dialog, QInputDialog) else dialog.text()  # type: ignore[attr-defined]
        seen["echo"] = dialog.findChild(QLineEdit).echoMode() if dialog.findChild(QLineEdit) else None
        if text is None:
            dialog.reject()  # type: ignore[attr-defined]
        else:
            if isinstance(dialog, QInputDialog):
                dialog.setTextValue(text)
            dialog.accept()  # type: ignore[attr-defined]

    QTimer.singleShot(0, act)


def test_the_pin_dialog_is_a_modal_child_on_top_of_the_kiosk_in_indonesian(
    app: QApplication, qtbot: QtBot, clock: ManualClock
) -> None:
    install_translator(app, "id")
    window = kiosk(qtbot, clock)
    seen: dict[str, object] = {}
    answer_dialog(seen, None)
    assert window.pin_prompt()[1] is False
    assert seen["dialog"] is not None and isinstance(seen["dialog"], QInputDialog)
    assert seen["dialog"].parent() is window  # type: ignore[attr-defined]
    assert seen["on_top"] and seen["modal"]
    assert seen["buttons"] == ["Batal", "OK"] and seen["label"] == "PIN keluar:"
    assert seen["echo"] == QLineEdit.EchoMode.Password
    window.is_unlocked = True


def test_the_dialog_returns_what_was_typed(app: QApplication, qtbot: QtBot, clock: ManualClock) -> None:
    window = kiosk(qtbot, clock)
    answer_dialog({}, "2468")
    assert window.ask_pin() and window.is_unlocked


def test_the_kiosk_does_not_raise_itself_over_its_own_dialog(
    app: QApplication, qtbot: QtBot, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = kiosk(qtbot, clock)
    raised: list[bool] = []
    monkeypatch.setattr(window, "raise_", lambda: raised.append(window._dialog_open))
    seen: dict[str, object] = {}

    def act() -> None:
        from PySide6.QtCore import QEvent

        window.event(QEvent(QEvent.Type.WindowDeactivate))  # what the dialog taking the focus delivers
        answer_dialog(seen, None)

    QTimer.singleShot(0, act)
    window.pin_prompt()
    assert raised == [] and seen["on_top"]
    from PySide6.QtCore import QEvent

    window.event(QEvent(QEvent.Type.WindowDeactivate))
    assert raised == [False]  # without a dialog of ours, it does stay on top
    window.is_unlocked = True


def test_wrong_pins_lock_the_exit_for_longer_and_longer(app: QApplication, qtbot: QtBot, clock: ManualClock) -> None:
    window = kiosk(qtbot, clock)
    prompts: list[str] = []
    notices: list[str] = []
    answers = iter(["1111", "2222", "3333", "4444", "5555", "2468"])

    def prompt() -> tuple[str, bool]:
        prompts.append(window.pin_label())
        return next(answers), True

    window.pin_prompt = prompt
    window.pin_notice = notices.append
    for _ in range(3):
        assert not window.ask_pin()
    assert len(prompts) == 3 and "Wrong PINs so far: 2." in prompts[-1]
    assert window.pin_guard.wait_s() == 5
    assert not window.ask_pin()  # locked: no dialog, a notice instead
    assert len(prompts) == 3 and notices == ["Too many wrong PINs. Try again in 5 s."]
    clock.advance(4.5)
    assert not window.ask_pin() and notices[-1] == "Too many wrong PINs. Try again in 1 s."
    clock.advance(0.5)
    assert not window.ask_pin() and len(prompts) == 4  # asked again, wrong again: 10 s
    assert window.pin_guard.wait_s() == 10
    clock.advance(10)
    assert not window.ask_pin() and window.pin_guard.wait_s() == 20
    clock.advance(20)
    assert window.ask_pin() and window.is_unlocked  # the right PIN still works, and clears the count
    assert window.pin_guard.failures == 0


def test_the_lockout_is_capped_at_five_minutes() -> None:
    clock = ManualClock(0)
    guard = PinGuard(clock.now)
    delays = [guard.failed() for _ in range(12)]
    assert delays == [0, 0, 5, 10, 20, 40, 80, 160, 300, 300, 300, 300]
    assert guard.wait_s() == 300
    clock.advance(299)
    assert guard.wait_s() == 1


def test_the_lockout_notice_is_on_top_and_translated(app: QApplication, qtbot: QtBot, clock: ManualClock) -> None:
    install_translator(app, "id")
    window = kiosk(qtbot, clock)
    window.pin_prompt = lambda: ("0000", True)
    for _ in range(3):
        window.ask_pin()
    seen: dict[str, object] = {}
    answer_dialog(seen, None)
    assert not window.ask_pin()
    assert isinstance(seen["dialog"], QMessageBox) and seen["on_top"] and seen["modal"]
    assert seen["label"] == "Terlalu banyak PIN salah. Coba lagi dalam 5 detik."
    assert seen["buttons"] == ["OK"]
    window.is_unlocked = True


def test_a_pin_exit_leaves_with_its_own_exit_status(
    app: QApplication, qtbot: QtBot, clock: ManualClock, engine: MetricsEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wallboard.ui.kiosk import build_kiosk_windows

    from .test_kiosk import FakeHub

    monkeypatch.delenv("DISPLAY", raising=False)
    app.setProperty(EXIT_STATUS_PROPERTY, None)  # an earlier test's PIN exit in this process set it
    config = Config(kiosk=KioskConfig(screens=["0:gauges"], pin_hash=PIN_HASH))
    windows = build_kiosk_windows(app, config, FakeHub(clock, engine), engine)  # type: ignore[arg-type]
    for window in windows:
        qtbot.addWidget(window)
    try:
        assert app.property(EXIT_STATUS_PROPERTY) is None
        windows[0].pin_prompt = lambda: ("2468", True)
        assert windows[0].ask_pin()
        assert app.property(EXIT_STATUS_PROPERTY) == PIN_EXIT_STATUS == 3
    finally:
        app.setProperty(EXIT_STATUS_PROPERTY, None)
        for window in windows:
            window.is_unlocked = True
        while app.overrideCursor() is not None:
            app.restoreOverrideCursor()


def test_an_unanswered_dialog_closes_by_itself(
    app: QApplication, qtbot: QtBot, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wallboard.ui.kiosk as kiosk_module

    monkeypatch.setattr(kiosk_module, "PIN_DIALOG_TIMEOUT_S", 0.2)
    window = kiosk(qtbot, clock)
    assert window.pin_prompt()[1] is False  # nobody answered: it closed after 0.2 s
    assert QApplication.activeModalWidget() is None or not isinstance(QApplication.activeModalWidget(), QDialog)
    window.is_unlocked = True
