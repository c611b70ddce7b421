"""The supervisor's tools on the windowed board: window choice, call-type filter, drill-down and exports.

The call-type filter (genuine / prank-silent / other) applies to the call-volume chart (series hidden) and to the
queue-and-tiers panel, which then sums the snapshot's per-kind tier statistics (computed by the engine, like every
number on the wall). With every kind checked the panel shows the engine's whole figures.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from PySide6.QtCore import QSize
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QLabel,
    QMessageBox,
    QToolBar,
    QVBoxLayout,
)

from wallboard.core.model import CallKindGroup
from wallboard.core.snapshot import BoardSnapshot, Window
from wallboard.core.timeutil import Clock
from wallboard.ui import theme
from wallboard.ui.detail import PolresDetailDialog
from wallboard.ui.export import export_csv as write_csv
from wallboard.ui.export import export_png as write_png
from wallboard.ui.export import snapshot_rows
from wallboard.ui.i18n import N_, tr
from wallboard.ui.panels.base import set_style_sheet

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance

    from wallboard.ui.board import BoardWindow
    from wallboard.ui.sound import AlertSound

__all__ = ["SupervisorTools", "attach_supervisor", "snapshot_rows"]
log = logging.getLogger(__name__)
WINDOWS = ((Window.LAST_60_MIN, N_("last hour")), (Window.TODAY, N_("today")), (Window.LAST_7_DAYS, N_("7 days")))
FILTERS = (
    (CallKindGroup.GENUINE, N_("genuine")),
    (CallKindGroup.NUISANCE, N_("prank / silent")),
    (CallKindGroup.OTHER, N_("information / complaint")),
)
#: Panels a supervisor opens in windows of their own (views of the same names, ui/board.py).
PANELS = (("units", N_("Unit board")), ("risk", N_("Incidents at risk")), ("prank", N_("Prank watch")))


class SupervisorHub(Protocol):
    """What the tools need of the feed hub (``FeedHub`` has all of it; tests pass a small stand-in)."""

    clock: Clock
    response_window: Window
    last_snapshot: BoardSnapshot | None

    @property
    def snapshotChanged(self) -> SignalInstance: ...  # Qt signal name

    def set_response_window(self, window: Window) -> None: ...
    def watch_detail(self, unit_id: str) -> None: ...
    def unwatch_detail(self, unit_id: str) -> None: ...


class SupervisorTools:
    """A toolbar on the supervisor's ``BoardWindow``; gauge clicks open the Polres drill-down."""

    def __init__(self, window: BoardWindow, hub: SupervisorHub, sound: AlertSound | None = None) -> None:
        self.window = window
        self.hub = hub
        self.sound = sound
        self.dialogs: list[PolresDetailDialog] = []
        self.panel_dialogs: dict[str, QDialog] = {}
        bar = QToolBar(tr("Supervisor"))
        bar.setObjectName("supervisor-toolbar")
        bar.setMovable(False)
        window.addToolBar(bar)
        bar.addWidget(QLabel(tr("Response window:") + " "))
        self.window_choice = QComboBox()
        for value, text in WINDOWS:
            self.window_choice.addItem(tr(text), value)
        known = [w for w, _ in WINDOWS]
        self.window_choice.setCurrentIndex(known.index(hub.response_window) if hub.response_window in known else 1)
        self.window_choice.currentIndexChanged.connect(self._window_changed)
        bar.addWidget(self.window_choice)
        bar.addSeparator()
        bar.addWidget(QLabel(tr("Calls:") + " "))
        self.filters: dict[CallKindGroup, QCheckBox] = {}
        for key, text in FILTERS:
            box = QCheckBox(tr(text))
            box.setChecked(True)
            box.toggled.connect(self._filter_changed)
            self.filters[key] = box
            bar.addWidget(box)
        bar.addSeparator()
        self.export_png_action = QAction(tr("Export PNG…"), window)
        self.export_png_action.triggered.connect(lambda: self.export_png())
        self.export_csv_action = QAction(tr("Export CSV…"), window)
        self.export_csv_action.triggered.connect(lambda: self.export_csv())
        bar.addAction(self.export_png_action)
        bar.addAction(self.export_csv_action)
        bar.addSeparator()
        self.panel_actions: dict[str, QAction] = {}
        for name, text in PANELS:
            action = QAction(tr(text), window)
            action.triggered.connect(lambda _checked=False, n=name: self.open_panel(n))
            bar.addAction(action)
            self.panel_actions[name] = action
        bar.addSeparator()
        self.mute_action = QAction("🔇 " + tr("Mute alert sound"), window)
        self.mute_action.setCheckable(True)
        self.mute_action.setEnabled(sound is not None and sound.enabled)
        self.mute_action.toggled.connect(self.set_muted)
        bar.addAction(self.mute_action)
        self.toolbar = bar
        # The toolbar grows with the wall like every panel: 14 px type on a 4K supervisor screen is unreadable.
        window.view.scaleChanged.connect(self._scale_toolbar)
        self._scale_toolbar(window.view.scale)
        if window.view.gauges is not None:
            window.view.gauges.polresActivated.connect(self.open_detail)

    def _scale_toolbar(self, unit: float) -> None:
        size = theme.px(14, unit)
        set_style_sheet(self.toolbar, f"QToolBar, QToolBar QWidget {{ font-size: {size}px; }}")
        self.toolbar.setIconSize(QSize(size, size))

    # --- window and filter ------------------------------------------------------------------------------------------

    def _window_changed(self, index: int) -> None:
        self.hub.set_response_window(self.window_choice.itemData(index))

    def kinds(self) -> frozenset[CallKindGroup]:
        return frozenset(key for key, box in self.filters.items() if box.isChecked())

    def _filter_changed(self) -> None:
        volume = self.window.view.volume
        if volume is not None:
            volume.set_series_visible({key.value: box.isChecked() for key, box in self.filters.items()})
        tiers = self.window.view.tiers
        if tiers is not None:
            tiers.set_kinds(self.kinds())

    # --- drill-down ------------------------------------------------------------------------------------------------

    def open_detail(self, polres_id: str) -> PolresDetailDialog:
        view = self.window.view
        dialog = PolresDetailDialog(polres_id, self.window.config, view.reference, self.hub.clock, self.window)
        self.hub.snapshotChanged.connect(dialog.view.update_snapshot)  # the drill-down stays live while open
        self.hub.watch_detail(polres_id)  # snapshots carry this drill-down from now on (and one goes out now)
        if self.hub.last_snapshot is not None:
            dialog.view.update_snapshot(self.hub.last_snapshot)
        dialog.finished.connect(lambda _result, d=dialog: self._forget(d))
        dialog.view.polres_gauges.polresActivated.connect(self.open_detail)  # a Polda's Polres, one more click down
        dialog.show()
        self.dialogs.append(dialog)
        return dialog

    def _forget(self, dialog: PolresDetailDialog) -> None:
        self.hub.snapshotChanged.disconnect(dialog.view.update_snapshot)
        self.hub.unwatch_detail(dialog.view.polres_id)
        if dialog in self.dialogs:
            self.dialogs.remove(dialog)
        dialog.deleteLater()

    # --- sound and panels -------------------------------------------------------------------------------------------

    def set_muted(self, muted: bool) -> None:
        """A supervisor mutes (or unmutes) the alert sound of this board; the wall still flashes."""
        if self.sound is not None:
            self.sound.set_muted(muted)
        if self.mute_action.isChecked() != muted:
            self.mute_action.setChecked(muted)

    def open_panel(self, name: str) -> QDialog:
        """The unit board, incidents at risk or the prank watch in a window of its own, live while open."""
        dialog = self.panel_dialogs.get(name)
        if dialog is not None:
            dialog.raise_()
            return dialog
        from wallboard.ui.board import BoardView

        view = BoardView(name, self.window.config, self.window.view.reference, self.hub.clock)
        dialog = QDialog(self.window)
        dialog.setWindowTitle(tr(dict(PANELS)[name]))
        QVBoxLayout(dialog).addWidget(view)
        dialog.view = view  # type: ignore[attr-defined]
        self.hub.snapshotChanged.connect(view.update_snapshot)
        if self.hub.last_snapshot is not None:
            view.update_snapshot(self.hub.last_snapshot)

        def forget(_result: int = 0, n: str = name, v: BoardView = view) -> None:
            self.hub.snapshotChanged.disconnect(v.update_snapshot)
            self.panel_dialogs.pop(n, None)

        dialog.finished.connect(forget)
        dialog.resize(1400, 900)
        dialog.show()
        self.panel_dialogs[name] = dialog
        return dialog

    # --- exports ---------------------------------------------------------------------------------------------------

    def _default_name(self, suffix: str) -> str:
        zone = ZoneInfo(self.window.view.zone)
        return f"wallboard-{datetime.fromtimestamp(self.hub.clock.now(), zone):%Y%m%d-%H%M%S}.{suffix}"

    def _choose(self, title: str, suffix: str, pattern: str) -> Path | None:
        chosen, _ = QFileDialog.getSaveFileName(self.window, title, self._default_name(suffix), pattern)
        return Path(chosen) if chosen else None

    def _failed(self, path: Path, exc: OSError) -> None:
        log.error("export to %s failed: %s", path, exc)
        QMessageBox.warning(self.window, "wallboard", tr("Could not write the file:") + f"\n{path}\n{exc}")

    def export_png(self, path: Path | None = None) -> Path | None:
        """The board as it is on screen now (without the toolbar)."""
        path = path or self._choose(tr("Export PNG…"), "png", "PNG (*.png)")
        if path is None:
            return None
        try:
            return write_png(self.window.view, path)
        except OSError as exc:
            self._failed(path, exc)
            return None

    def export_csv(self, path: Path | None = None) -> Path | None:
        """The numbers of the last snapshot (as the board shows them, unfiltered)."""
        snapshot = self.hub.last_snapshot
        if snapshot is None:
            return None
        path = path or self._choose(tr("Export CSV…"), "csv", "CSV (*.csv)")
        if path is None:
            return None
        try:
            # The prank watch leaves the board only from a desk allowed to see caller numbers.
            return write_csv(snapshot, path, include_prank_watch=self.window.config.board.unmask_caller_numbers)
        except OSError as exc:
            self._failed(path, exc)
            return None


def attach_supervisor(window: BoardWindow, hub: SupervisorHub, sound: AlertSound | None = None) -> SupervisorTools:
    tools = SupervisorTools(window, hub, sound)
    window.supervisor = tools
    return tools
