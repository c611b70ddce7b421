"""The supervisor's tools on the windowed board: window choice, call-type filter, drill-down and exports."""

from __future__ import annotations

import csv
import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QCheckBox, QComboBox, QFileDialog, QLabel, QToolBar

from wallboard.core.model import TIERS_IN_ORDER
from wallboard.core.snapshot import BoardSnapshot, Window
from wallboard.ui.detail import PolresDetailDialog
from wallboard.ui.i18n import N_, tr

if TYPE_CHECKING:
    from wallboard.feed.hub import FeedHub
    from wallboard.ui.board import BoardWindow

log = logging.getLogger(__name__)
WINDOWS = ((Window.LAST_60_MIN, N_("last hour")), (Window.TODAY, N_("today")), (Window.LAST_7_DAYS, N_("7 days")))
FILTERS = (("genuine", N_("genuine")), ("nuisance", N_("prank / silent")), ("other", N_("information / complaint")))


def snapshot_rows(s: BoardSnapshot) -> list[list[str]]:
    """The numbers on the board as CSV rows: section, item, window, value. No personal data, no secrets."""
    rows = [["section", "item", "window", "value"]]
    rows.append(["queue", "waiting", "now", str(s.queue.waiting)])
    rows.append(
        ["queue", "longest_wait_s", "now", "" if s.queue.longest_wait_s is None else f"{s.queue.longest_wait_s:.0f}"]
    )
    rows.append(["volume", "calls_per_hour_last_15_min", "last_15_min", f"{s.volume.current_rate_per_hour:.1f}"])
    for window, t in s.tiers.items():
        rows.append(["tiers", "received", window.value, str(t.received)])
        for tier in TIERS_IN_ORDER:
            rows.append(["tiers", f"answered_{tier.value}", window.value, str(t.answered_by_tier[tier])])
        for (a, b), n in t.escalations.items():
            rows.append(["tiers", f"escalated_{a.value}_to_{b.value}", window.value, str(n)])
        rows.append(["tiers", "abandoned", window.value, str(t.abandoned)])
        rows.append(["tiers", "service_level_pct", window.value, _num(t.service_level_pct)])
        rows.append(["tiers", "prank_share_pct", window.value, _num(t.prank_share_pct)])
    for r in (s.response_polda, *s.response_by_polres):
        for item, value in (
            ("count", str(r.count)),
            ("median_s", _num(r.median_s)),
            ("p90_s", _num(r.p90_s)),
            ("within_10_min_pct", _num(r.within_target_pct)),
            ("overdue_now", str(r.overdue_now)),
        ):
            rows.append([f"response:{r.name}", item, r.window.value, value])  # fmt: skip
    return rows


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def export_csv(snapshot: BoardSnapshot, path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(snapshot_rows(snapshot))
    return path


class SupervisorTools:
    def __init__(self, window: BoardWindow, hub: FeedHub) -> None:
        self.window = window
        self.hub = hub
        self.dialogs: list[PolresDetailDialog] = []
        bar = QToolBar(tr("Supervisor"))
        bar.setMovable(False)
        window.addToolBar(bar)
        bar.addWidget(QLabel(tr("Response window:") + " "))
        self.window_choice = QComboBox()
        for value, text in WINDOWS:
            self.window_choice.addItem(tr(text), value)
        self.window_choice.setCurrentIndex([w for w, _ in WINDOWS].index(hub.response_window))
        self.window_choice.currentIndexChanged.connect(self._window_changed)
        bar.addWidget(self.window_choice)
        bar.addSeparator()
        self.filters: dict[str, QCheckBox] = {}
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
        self.toolbar = bar
        if window.view.gauges is not None:
            window.view.gauges.polresActivated.connect(self.open_detail)

    def _window_changed(self, index: int) -> None:
        self.hub.set_response_window(self.window_choice.itemData(index))

    def _filter_changed(self) -> None:
        volume = self.window.view.volume
        if volume is not None:
            volume.set_series_visible({key: box.isChecked() for key, box in self.filters.items()})

    def open_detail(self, polres_id: str) -> PolresDetailDialog:
        dialog = PolresDetailDialog(polres_id, self.window.config, self.hub.engine, self.hub.clock,
                                    self.hub.response_window, self.window)  # fmt: skip
        dialog.show()
        self.dialogs = [d for d in self.dialogs if d.isVisible()] + [dialog]
        return dialog

    def _default_name(self, suffix: str) -> str:
        zone = ZoneInfo(self.window.config.board.tz)
        return f"wallboard-{datetime.fromtimestamp(self.hub.clock.now(), zone):%Y%m%d-%H%M%S}.{suffix}"

    def export_png(self, path: Path | None = None) -> Path | None:
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(
                self.window, tr("Export PNG…"), self._default_name("png"), "PNG (*.png)"
            )
            if not chosen:
                return None
            path = Path(chosen)
        image = self.window.grab()
        view = self.window.view
        if view.map is not None and getattr(view.map, "is_loaded", False):
            view.map.paint_into(image)
        image.save(str(path))
        log.info("exported the board to %s", path)
        return path

    def export_csv(self, path: Path | None = None) -> Path | None:
        snapshot = self.hub.last_snapshot
        if snapshot is None:
            return None
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(
                self.window, tr("Export CSV…"), self._default_name("csv"), "CSV (*.csv)"
            )
            if not chosen:
                return None
            path = Path(chosen)
        export_csv(snapshot, path)
        log.info("exported the board's numbers to %s", path)
        return path


def attach_supervisor(window: BoardWindow, hub: FeedHub) -> SupervisorTools:
    tools = SupervisorTools(window, hub)
    window.supervisor = tools
    return tools
