"""A Polres in detail: its response gauge numbers, its incidents with their timelines, and its units.

Used as the supervisor's drill-down (a dialog after clicking a gauge) and as a kiosk playlist view
(``polres:<id>``). Caller numbers arrive masked from the core unless this desk is authorised
(``board.unmask_caller_numbers``): nothing here can show more than the desk may see.
All cells are plain-text table items: nothing from the feed is ever interpreted as markup.
"""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from wallboard.config import Config, board_zone
from wallboard.core.reference import ReferenceData
from wallboard.core.snapshot import BoardSnapshot, PolresDetail, ResponseStats, Window
from wallboard.core.timeutil import Clock, zone_abbreviation
from wallboard.ui import theme
from wallboard.ui.i18n import N_, fmt_minutes, fmt_pct, tr
from wallboard.ui.panels.base import Panel, TextLabel, set_style_sheet
from wallboard.ui.panels.gauges import GaugeWidget, short_name
from wallboard.ui.panels.national import is_national

INCIDENT_COLUMNS = (N_("Received"), N_("Answered"), N_("Dispatched"), N_("On scene"), N_("Closed"), N_("Response"),
                    N_("Kind"), N_("Units"), N_("Caller"))  # fmt: skip
UNIT_COLUMNS = (N_("Callsign"), N_("Type"), N_("Status"), N_("In status for"), N_("Last fix"))
UNIT_STATUS_TEXT = {
    "available": N_("available"), "dispatched": N_("dispatched"), "en_route": N_("en route"),
    "on_scene": N_("on scene"), "returning": N_("returning"), "out_of_service": N_("out of service"),
}  # fmt: skip


def fix_age_text(age_s: float) -> str:
    """How old a unit's last position fix is, as a supervisor reads it: seconds first, then minutes."""
    age_s = max(0.0, age_s)
    if age_s < 120:
        return f"{int(age_s)} {tr('s ago')}"
    return f"{int(age_s // 60)} {tr('min ago')}"


def duration_text(seconds: float) -> str:
    """How long a unit has been in its status: seconds under two minutes, then minutes."""
    seconds = max(0.0, seconds)
    return f"{int(seconds)} {tr('s')}" if seconds < 120 else f"{int(seconds // 60)} {tr('min')}"


class PolresGaugeStrip(QWidget):
    """One gauge per Polres (a Polda's drill-down on the national board), in as few rows as keep them readable."""

    polresActivated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(6)
        self.gauges: list[GaugeWidget] = []

    def set_stats(self, stats: tuple[ResponseStats, ...]) -> None:
        self.setVisible(bool(stats))
        columns = max(1, math.ceil(math.sqrt(len(stats) * 2.5)))
        while len(self.gauges) < len(stats):
            gauge = GaugeWidget()
            gauge.activated.connect(self.polresActivated)
            self.gauges.append(gauge)
        for i, gauge in enumerate(self.gauges):
            self.grid.removeWidget(gauge)
            if i < len(stats):
                self.grid.addWidget(gauge, i // columns, i % columns)
                gauge.set_stats(stats[i])
                gauge.show()
            else:
                gauge.hide()


class PolresDetailView(Panel):
    streams = ("calls", "units")  # the feed streams it draws from (aged while one is not live)

    def __init__(
        self,
        polres_id: str,
        config: Config,
        reference: ReferenceData,
        clock: Clock,
        parent: QWidget | None = None,
    ) -> None:
        place = reference.polres.get(polres_id) or reference.poldas.get(polres_id)
        super().__init__(place.name if place else polres_id, parent)
        self.polres_id = polres_id
        self.config = config
        self.clock = clock
        # Mabes reads a Polda's or a Polres' incident times in that place's own zone (WIB / WITA / WIT).
        self.zone = ZoneInfo(
            place.tz if place is not None and is_national(config) else board_zone(config.board, reference)
        )
        self.summary = TextLabel("")
        self.outer.addWidget(self.summary)
        # A Polda opened from the national board: its Polres' gauges, worst first, above its incidents.
        self.polres_gauges = PolresGaugeStrip()
        self.polres_gauges.setVisible(False)
        self.outer.addWidget(self.polres_gauges, 3)
        self.reference = reference
        # A Polda's drill-down lists the incidents and units of all its Polres: a Polres column says whose.
        self.is_polda = polres_id not in reference.polres
        extra = (N_("Polres"),) if self.is_polda else ()
        self.incident_columns = extra + INCIDENT_COLUMNS
        self.unit_columns = extra + UNIT_COLUMNS
        self.incidents = QTableWidget(0, len(self.incident_columns))
        self.incidents.setHorizontalHeaderLabels([tr(c) for c in self.incident_columns])
        self.units = QTableWidget(0, len(self.unit_columns))
        self.units.setHorizontalHeaderLabels([tr(c) for c in self.unit_columns])
        for table in (self.incidents, self.units):
            table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
            # Every column as wide as its widest cell, never cut ("Pengania…"); the last takes what is left.
            table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            table.horizontalHeader().setStretchLastSection(True)
            table.setTextElideMode(Qt.TextElideMode.ElideNone)
            table.verticalHeader().setVisible(False)
        self.captions = [TextLabel(tr("Incidents")), TextLabel(tr("Units"))]
        self.unit_counts = TextLabel("")  # the unit board's row for this Polres (or the Polda)
        self.outer.addWidget(self.captions[0])
        self.outer.addWidget(self.incidents, 3)
        self.outer.addWidget(self.captions[1])
        self.outer.addWidget(self.unit_counts)
        self.outer.addWidget(self.units, 2)
        self.detail: PolresDetail | None = None
        self.set_scale(1.0)

    def _time(self, t: float | None) -> str:
        return "–" if t is None else datetime.fromtimestamp(t, self.zone).strftime("%H:%M:%S")

    def update_snapshot(self, snapshot: BoardSnapshot) -> None:
        """Show this drill-down as the snapshot carries it (the hub puts it in while this view is watched)."""
        detail = snapshot.details.get(self.polres_id)
        if detail is not None:
            self.show_polres_detail(detail, snapshot.as_of)

    def show_polres_detail(self, detail: PolresDetail, as_of: float) -> None:
        self.detail = detail
        s = detail.stats
        window = {Window.TODAY: tr("today"), Window.LAST_60_MIN: tr("last 60 min"),
                  Window.LAST_7_DAYS: tr("last 7 days")}.get(s.window, s.window.value)  # fmt: skip
        self.subtitle.setText(f"{window} · {tr('times')} {zone_abbreviation(self.zone.key)}")
        self.summary.setText(
            f"{tr('median')} {fmt_minutes(s.median_s)} · p90 {fmt_minutes(s.p90_s)} · ≤10 {tr('min')} "
            f"{fmt_pct(s.within_target_pct)} · {tr('incidents')} {s.incidents} · {tr('overdue')} {s.overdue_now}"
        )
        self.polres_gauges.set_stats(detail.polres_stats)
        self.incidents.setRowCount(len(detail.incidents))
        for row, timeline in enumerate(detail.incidents):
            i = timeline.incident
            cells = [
                self._time(i.call_received_at), self._time(timeline.answered_at), self._time(i.dispatched_at),
                self._time(i.on_scene_at), self._time(i.closed_at), fmt_minutes(i.response_time_s), i.kind,
                ", ".join(i.unit_ids), timeline.caller_number or "",  # masked in core unless authorised
            ]  # fmt: skip
            if timeline.overdue:
                cells[3] = "⚠ " + tr("OVERDUE")
            if self.is_polda:
                cells.insert(0, self._polres_name(i.polres_id))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if timeline.overdue:
                    item.setForeground(Qt.GlobalColor.white)
                    item.setBackground(QColor(theme.VERMILLION))
                self.incidents.setItem(row, col, item)
        self.units.setRowCount(len(detail.units))
        now = as_of
        board = detail.unit_board
        if board is not None:
            counts = " · ".join(f"{tr(UNIT_STATUS_TEXT[k])} {n}" for k, n in board.by_status.items() if n)
            stale = f" · ▲ {tr('stale position')} {board.stale_position}" if board.stale_position else ""
            late = f" · ⚠ {board.overruns} {tr('over time in status')}" if board.overruns else ""
            self.unit_counts.setText((counts or tr("no units")) + stale + late)
        for row, u in enumerate(detail.units):
            age = "–" if u.fix is None else fix_age_text(now - u.fix.at)
            status = tr(UNIT_STATUS_TEXT.get(u.status.value, u.status.value))
            since = detail.status_since.get(u.id)
            in_status = "–" if since is None else duration_text(now - since)
            values: tuple[str, ...] = (u.callsign, u.kind.value, status, in_status, age)
            if self.is_polda:
                values = (self._polres_name(u.polres_id), *values)
            for col, text in enumerate(values):
                self.units.setItem(row, col, QTableWidgetItem(text))

    def _polres_name(self, polres_id: str) -> str:
        polres = self.reference.polres.get(polres_id)
        return short_name(polres.name) if polres else polres_id

    def set_scale(self, unit: float) -> None:
        super().set_scale(unit)
        self.summary.set_style(theme.px(theme.BIG, unit), bold=True)  # the Polres's numbers, readable across the room
        for caption in self.captions:
            caption.set_style(theme.px(theme.LABEL, unit), bold=True, colour=theme.TEXT_DIM)
        self.unit_counts.set_style(theme.px(theme.LABEL, unit), colour=theme.TEXT)
        size = theme.px(theme.TABLE, unit)
        font = theme.font(size)
        for table in (self.incidents, self.units):
            table.setFont(font)
            table.horizontalHeader().setFont(theme.font(theme.px(theme.SMALL, unit), bold=True))
            table.verticalHeader().setDefaultSectionSize(round(size * 1.6))  # rows grow with the type
            # Through the style sheet too (the theme's sheet would otherwise keep the header at desk size), and a
            # gap between columns that grows with the wall, so sized-to-content columns do not run into each other.
            pad = theme.px(8, unit)
            set_style_sheet(table, f"QHeaderView::section {{ font-size: {theme.px(theme.SMALL, unit)}px; "
                                   f"font-weight: bold; padding: 0 {pad}px; }} "
                                   f"QTableWidget::item {{ padding: 0 {pad}px; }}")  # fmt: skip


class PolresDetailDialog(QDialog):
    """The supervisor's drill-down after clicking a Polres (or the Polda's) gauge."""

    def __init__(
        self, polres_id: str, config: Config, reference: ReferenceData, clock: Clock, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.view = PolresDetailView(polres_id, config, reference, clock)
        self.setWindowTitle(self.view.title.text())
        layout = QVBoxLayout(self)
        layout.addWidget(self.view)
        self.resize(1200, 800)
