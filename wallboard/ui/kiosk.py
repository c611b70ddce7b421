"""Kiosk mode: the board on a wall screen for weeks with nobody touching it.

Frameless full screen on a chosen screen, no cursor; Esc, Alt+F4 and the close button do nothing. Leaving needs the
configured key chord and then the PIN (checked against its salted hash). A playlist of views rotates with a dwell
time; a red alert brings the view that shows it forward. The whole layout drifts by a few pixels over the hours
(burn-in protection). A view whose update raises is logged and rebuilt; the feed's own outages show on screen and
recover by themselves.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QCursor, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QInputDialog,
    QLabel,
    QLayout,
    QLineEdit,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from wallboard.config import Config, KioskConfig
from wallboard.core.alerts import Alert, Severity
from wallboard.core.freshness import HistoryFailure, StreamHealth
from wallboard.core.model import Incident, Unit
from wallboard.core.provenance import LIVE
from wallboard.core.reference import ReferenceData
from wallboard.core.snapshot import BoardSnapshot
from wallboard.core.timeutil import Clock
from wallboard.pin import verify_pin
from wallboard.ui.board import WallView
from wallboard.ui.i18n import tr

if TYPE_CHECKING:
    from wallboard.core.metrics import MetricsEngine
    from wallboard.feed.hub import FeedHub

log = logging.getLogger(__name__)


ViewFactory = Callable[[str], QWidget]
#: Hands one piece of the hub's state to a view.
Delivery = Callable[[WallView], None]
UNAVAILABLE = "kiosk-view-unavailable"  # objectName of the notice shown where a view could not be created
RETRY_S = 60.0
#: The process's exit status after a PIN exit: the systemd unit lists it in RestartPreventExitStatus=, so a kiosk
#: someone left on purpose stays down while a crash (or the watchdog) brings it back.
PIN_EXIT_STATUS = 3
#: QApplication property the composition root reads for the exit status (see commands.board.run_qt).
EXIT_STATUS_PROPERTY = "wallboard_exit_status"
#: A PIN dialog nobody answers closes by itself, so it never covers a wall for long.
PIN_DIALOG_TIMEOUT_S = 60.0


class PinGuard:
    """Wrong PINs cost time: the first ``free_attempts`` are free, then each wrong PIN locks the exit for
    ``first_delay_s``, twice as long each time after, up to ``max_delay_s``. A right PIN clears the count.
    Driven by an injectable clock so the tests move time by hand."""

    def __init__(
        self,
        now: Callable[[], float],
        *,
        free_attempts: int = 3,
        first_delay_s: float = 5.0,
        max_delay_s: float = 300.0,
    ) -> None:
        self.now = now
        self.free_attempts = free_attempts
        self.first_delay_s = first_delay_s
        self.max_delay_s = max_delay_s
        self.failures = 0
        self.locked_until = float("-inf")

    def wait_s(self) -> float:
        """Seconds before the next PIN may be tried (0: now)."""
        return max(0.0, self.locked_until - self.now())

    def failed(self) -> float:
        """Count a wrong PIN; returns the lockout it starts (0 while attempts are free)."""
        self.failures += 1
        if self.failures < self.free_attempts:
            return 0.0
        delay = min(self.max_delay_s, self.first_delay_s * 2 ** (self.failures - self.free_attempts))
        self.locked_until = self.now() + delay
        return delay

    def succeeded(self) -> None:
        self.failures = 0
        self.locked_until = float("-inf")


def _on_top(dialog: QDialog) -> None:
    """Show a dialog above the frameless full-screen kiosk, also where no window manager stacks windows."""
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)  # first: QMessageBox resets the flags here
    dialog.setWindowFlags(dialog.windowFlags() | Qt.WindowType.WindowStaysOnTopHint | Qt.WindowType.Dialog)
    QTimer.singleShot(int(PIN_DIALOG_TIMEOUT_S * 1000), dialog, dialog.reject)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()


def burn_in_offset(t: float, period_s: float, max_px: int) -> tuple[int, int]:
    """Where the layout sits at time ``t``: a slow walk around a small ellipse, one step per period.

    Both coordinates stay within ±max_px; consecutive steps move at most a pixel or two, so nobody notices.
    """
    if max_px <= 0 or period_s <= 0:
        return 0, 0
    step = math.floor(t / period_s)
    angle = step * 2 * math.pi / 24  # a full turn every 24 periods
    radius = max_px * (0.5 + 0.5 * math.sin(step * 2 * math.pi / 60))  # and breathing in and out
    return round(radius * math.cos(angle)), round(radius * math.sin(angle))


def parse_screens(entries: list[str]) -> list[tuple[int, list[str]]]:
    """``["0:overview", "1:map,gauges"]`` → ``[(0, ["overview"]), (1, ["map", "gauges"])]``."""
    out = []
    for entry in entries:
        screen, _, views = entry.partition(":")
        names = [v.strip() for v in views.split(",") if v.strip()] or ["overview"]
        out.append((int(screen) if screen.strip().isdigit() else 0, names))
    return out


class UnavailableView(QLabel):
    """Shown where a view could not be created: says so, takes every update and ignores it (``tick`` retries)."""

    def __init__(self, name: str) -> None:
        super().__init__(tr("This view is unavailable; see the log.") + f"\n{name}")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setObjectName(UNAVAILABLE)

    def update_snapshot(self, snapshot: BoardSnapshot) -> None:
        del snapshot

    def update_freshness(self, health: Mapping[str, StreamHealth]) -> None:
        del health

    def update_alerts(self, alerts: list[Alert]) -> None:
        del alerts

    def update_units(self, units: list[Unit]) -> None:
        del units

    def update_incidents(self, incidents: list[Incident]) -> None:
        del incidents

    def set_reference(self, reference: ReferenceData) -> None:
        del reference

    def update_history(self, failure: HistoryFailure | None) -> None:
        del failure

    def detail_ids(self) -> list[str]:
        return []


class Playlist(QObject):
    """Which view is up, driven by an injectable clock (``tick(now)``), so tests can move time by hand."""

    changed = Signal(int)

    def __init__(self, names: list[str], dwell_s: float, start: float) -> None:
        super().__init__()
        self.names = names
        self.dwell_s = dwell_s
        self.index = 0
        self.shown_since = start
        self.pinned_until = 0.0

    def tick(self, now: float) -> None:
        if len(self.names) > 1 and now >= max(self.shown_since + self.dwell_s, self.pinned_until):
            self.show(self.index + 1, now)

    def show(self, index: int, now: float, *, hold_s: float = 0.0) -> None:
        self.index = index % len(self.names)
        self.shown_since = now
        self.pinned_until = now + hold_s
        self.changed.emit(self.index)

    def bring_forward(self, name: str, now: float) -> bool:
        """An alert wants ``name`` up: show it and hold it for two dwell times."""
        if name not in self.names:
            return False
        self.show(self.names.index(name), now, hold_s=2 * self.dwell_s)
        return True


class KioskWindow(QWidget):
    """One wall screen."""

    unlocked = Signal()

    def __init__(
        self,
        view_factory: ViewFactory,
        views: list[str],
        kiosk: KioskConfig,
        clock: Clock,
        *,
        screen_index: int = 0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.kiosk = kiosk
        self.clock = clock
        self.factory = view_factory
        self.setWindowFlags(Qt.WindowType.FramelessWindowHint | Qt.WindowType.Window)
        self.setCursor(QCursor(Qt.CursorShape.BlankCursor))
        self.setObjectName("kiosk")
        self.is_unlocked = False
        self.rebuilds = 0
        self._last_retry = clock.now()
        self.stack = QStackedWidget()
        layout = QVBoxLayout(self)
        self.margin = kiosk.burn_in_px
        layout.setContentsMargins(self.margin, self.margin, self.margin, self.margin)
        layout.addWidget(self.stack)
        # The window is the screen, whatever the views would like: a layout-imposed minimum larger than a small
        # screen would push the window off full screen.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.view_names = views
        self.views: list[QWidget] = [self._make(name) for name in views]
        for view in self.views:
            self.stack.addWidget(view)
        self.playlist = Playlist(views, kiosk.dwell_s, clock.now())
        self.playlist.changed.connect(self.stack.setCurrentIndex)
        self.shortcut = QShortcut(QKeySequence(kiosk.exit_chord), self)
        self.shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
        self.shortcut.activated.connect(self.ask_pin)
        self.pin_prompt: Callable[[], tuple[str, bool]] = self._prompt_pin
        self.pin_notice: Callable[[str], None] = self._show_notice
        self.pin_guard = PinGuard(clock.now)
        self._dialog_open = False
        self.last_state: dict[str, Delivery] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.tick)
        self._timer.start()
        self.place_on_screen(screen_index)
        self.apply_burn_in(clock.now())

    # --- screens and burn-in ----------------------------------------------------------------------------------------

    def place_on_screen(self, index: int) -> None:
        screens = QApplication.screens()
        screen = screens[index] if 0 <= index < len(screens) else QApplication.primaryScreen()
        if index >= len(screens):
            log.warning("kiosk: screen %d not found (%d screens); using the primary screen", index, len(screens))
        self.setGeometry(screen.geometry())

    def apply_burn_in(self, now: float) -> tuple[int, int]:
        dx, dy = burn_in_offset(now, self.kiosk.burn_in_period_s, self.kiosk.burn_in_px)
        m = self.margin
        layout = self.layout()
        assert layout is not None
        layout.setContentsMargins(m + dx, m + dy, m - dx, m - dy)
        return dx, dy

    def tick(self) -> None:
        now = self.clock.now()
        self.playlist.tick(now)
        self.apply_burn_in(now)
        if now - self._last_retry >= RETRY_S:
            self._last_retry = now
            for index, view in enumerate(list(self.views)):
                if view.objectName() == UNAVAILABLE:
                    self._rebuild(index)

    # --- views that survive their own bugs ----------------------------------------------------------------------

    def _make(self, name: str) -> QWidget:
        """The view ``name`` from the factory; if the factory itself fails, a plain notice in its place, so one bad
        view never keeps the other screens and views from coming up (``tick`` retries it every RETRY_S)."""
        try:
            return self.factory(name)
        except Exception:
            log.exception("kiosk: could not create view %r; retrying in %d s", name, RETRY_S)
            return UnavailableView(name)

    def deliver(self, kind: str, delivery: Delivery) -> None:
        """Hand one kind of state (snapshot, freshness, alerts...) to every view; a view that raises is logged,
        rebuilt and given the latest state of every kind."""
        self.last_state[kind] = delivery
        for index, view in enumerate(list(self.views)):
            try:
                delivery(cast(WallView, view))
            except Exception:
                log.exception("kiosk: view %r failed in %s; rebuilding it", self.view_names[index], kind)
                self._rebuild(index)

    def _rebuild(self, index: int) -> None:
        old = self.views[index]
        new = self._make(self.view_names[index])
        self.stack.insertWidget(index, new)
        self.stack.removeWidget(old)
        old.deleteLater()
        self.views[index] = new
        self.stack.setCurrentIndex(self.playlist.index)
        self.rebuilds += 1
        for kind, delivery in self.last_state.items():
            try:
                delivery(cast(WallView, new))
            except Exception:
                log.exception("kiosk: rebuilt view %r still fails in %s", self.view_names[index], kind)

    def on_alerts(self, alerts: list[Alert]) -> None:
        if not self.kiosk.alert_brings_view:
            return
        for alert in alerts:
            if alert.severity is Severity.RED and self.playlist.bring_forward(alert.view, self.clock.now()):
                return

    # --- leaving only with the chord and the PIN ----------------------------------------------------------------

    def pin_label(self) -> str:
        """The PIN dialog's text: the question, and after a wrong PIN what more wrong ones will cost."""
        text = tr("Exit PIN:")
        guard = self.pin_guard
        if guard.failures:
            text += "\n\n" + tr("Wrong PINs so far: {failures}.").format(failures=guard.failures)
            text += "\n" + tr("After {free} wrong PINs the exit locks for {delay} s, twice as long each time.").format(
                free=guard.free_attempts, delay=f"{guard.first_delay_s:g}"
            )
        return text

    def _prompt_pin(self) -> tuple[str, bool]:
        dialog = QInputDialog(self)
        dialog.setWindowTitle("wallboard")
        dialog.setInputMode(QInputDialog.InputMode.TextInput)
        dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
        dialog.setLabelText(self.pin_label())
        dialog.setOkButtonText(tr("OK"))
        dialog.setCancelButtonText(tr("Cancel"))
        self._dialog_open = True
        try:
            _on_top(dialog)
            accepted = dialog.exec() == QDialog.DialogCode.Accepted
            return dialog.textValue(), accepted
        finally:
            self._dialog_open = False
            dialog.deleteLater()

    def _show_notice(self, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "wallboard", text, QMessageBox.StandardButton.Ok, self)
        ok = box.button(QMessageBox.StandardButton.Ok)
        if ok is not None:
            ok.setText(tr("OK"))
        self._dialog_open = True
        try:
            _on_top(box)
            box.exec()
        finally:
            self._dialog_open = False
            box.deleteLater()

    def ask_pin(self) -> bool:
        if not self.kiosk.pin_hash:
            log.warning("kiosk: exit chord pressed but no kiosk.pin_hash is configured; staying up")
            return False
        if self._dialog_open:
            return False
        wait = self.pin_guard.wait_s()
        if wait > 0:
            log.warning("kiosk: exit chord pressed; PIN locked for %.0f s more after %d wrong PINs", wait,
                        self.pin_guard.failures)  # fmt: skip
            self.pin_notice(tr("Too many wrong PINs. Try again in {seconds} s.").format(seconds=math.ceil(wait)))
            return False
        pin, ok = self.pin_prompt()
        if not ok:
            return False
        if self.pin_guard.wait_s() == 0 and verify_pin(pin, self.kiosk.pin_hash):
            log.info("kiosk: unlocked with the PIN; leaving")
            self.pin_guard.succeeded()
            self.is_unlocked = True
            self.unlocked.emit()
            self.close()
            return True
        delay = self.pin_guard.failed()
        if delay:
            log.warning("kiosk: wrong exit PIN (%d in a row); locked for %.0f s", self.pin_guard.failures, delay)
        else:
            log.warning("kiosk: wrong exit PIN (%d in a row)", self.pin_guard.failures)
        return False

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.is_unlocked:
            event.accept()
        else:
            event.ignore()  # the close button, Alt+F4 and the window manager cannot close a kiosk

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            event.accept()  # Esc does nothing
            return
        super().keyPressEvent(event)

    def event(self, event: QEvent) -> bool:
        # Stay above other windows, but never above our own PIN dialog (where no window manager stacks windows,
        # raising here put the kiosk over the dialog that had just taken the focus).
        if event.type() == QEvent.Type.WindowDeactivate and not self.is_unlocked and not self._dialog_open:
            self.raise_()
        return super().event(event)


def build_kiosk_windows(app: QApplication, config: Config, hub: FeedHub, engine: MetricsEngine) -> list[KioskWindow]:
    """One kiosk window per configured screen, all fed by the one hub."""
    from wallboard.ui.awake import KeepAwake
    from wallboard.ui.board import create_view

    windows = []
    for screen_index, names in parse_screens(config.kiosk.screens):
        kiosk_config = config.kiosk
        board_config = config
        if not config.map.autofit:
            from dataclasses import replace

            board_config = replace(config, map=replace(config.map, autofit=True))  # nobody pans a kiosk map

        def factory(name: str, cfg: Config = board_config) -> QWidget:
            view = create_view(name, cfg, engine.reference, hub.clock)
            view.set_provenance(getattr(hub, "provenance", LIVE))  # SIMULASI / REKAMAN on every screen of the room
            for unit_id in view.detail_ids():  # a Polres page: the hub's snapshots carry its drill-down
                hub.watch_detail(unit_id)
            return view

        window = KioskWindow(factory, names, kiosk_config, hub.clock, screen_index=screen_index)
        connect_views(window, hub)
        window.on_alerts(hub.alerts)
        window.showFullScreen()
        windows.append(window)

    def leave() -> None:  # one PIN unlocks every screen of this process
        app.setProperty(EXIT_STATUS_PROPERTY, PIN_EXIT_STATUS)
        for w in windows:
            w.is_unlocked = True
        awake.release()
        app.restoreOverrideCursor()
        app.closeAllWindows()

    for window in windows:
        window.unlocked.connect(leave)
    app.setOverrideCursor(QCursor(Qt.CursorShape.BlankCursor))
    awake = KeepAwake()
    awake.inhibit()
    _keep.append(awake)
    return windows


def connect_views(window: KioskWindow, hub: FeedHub) -> None:
    """Every kind of the hub's state goes to every view of the window through the WallView protocol."""
    hub.snapshotChanged.connect(lambda s: window.deliver("snapshot", lambda v: v.update_snapshot(s)))
    hub.freshnessChanged.connect(lambda h: window.deliver("freshness", lambda v: v.update_freshness(h)))
    hub.alertsChanged.connect(lambda a: window.deliver("alerts", lambda v: v.update_alerts(a)))
    hub.unitsChanged.connect(lambda u: window.deliver("units", lambda v: v.update_units(u)))
    hub.incidentsChanged.connect(lambda i: window.deliver("incidents", lambda v: v.update_incidents(i)))
    hub.referenceChanged.connect(lambda r: window.deliver("reference", lambda v: v.set_reference(r)))
    hub.alertsChanged.connect(window.on_alerts)

    def on_problem(stream: str, _message: str) -> None:
        if stream == "history":  # "history not saved since HH:MM: disk full" on every screen's header
            failure = hub.history_failure
            window.deliver("history", lambda v: v.update_history(failure))

    hub.problemReported.connect(on_problem)
    if hub.last_snapshot is not None:
        snapshot = hub.last_snapshot
        window.deliver("snapshot", lambda v: v.update_snapshot(snapshot))
    alerts = list(hub.alerts)
    window.deliver("alerts", lambda v: v.update_alerts(alerts))


_keep: list[object] = []
