"""Incidents at risk: open incidents with no unit on scene, most urgent first, the time left to the response target
counting down (then up, in red, past it), Polres, kind, priority and the nearest available unit.

The list and the deadlines come from the snapshot (core/risk.py); between snapshots the countdown cells tick once a
second from the board clock with the same rule (``countdown_text``), and the overdue headline is core's count over
every incident at risk at that moment (``BoardSnapshot.at_risk_overdue``), not over the rows shown.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QWidget

from wallboard.core.risk import AtRisk, countdown_text
from wallboard.core.snapshot import BoardSnapshot
from wallboard.core.timeutil import Clock
from wallboard.ui import theme
from wallboard.ui.i18n import N_, fmt_int, fmt_num, tr
from wallboard.ui.panels.base import Panel, TextLabel
from wallboard.ui.panels.wall_table import WallTable

COLUMNS = (N_("Time left"), N_("Polres"), N_("Kind"), N_("Priority"), N_("Nearest available unit"))


def time_left_text(row: AtRisk, now: float) -> tuple[str, bool]:
    """("▲ 4:12" / "⚠ +1:05 OVERDUE", overdue): symbol and word as well as colour."""
    text, overdue = countdown_text(row.deadline, now)
    return (f"⚠ {text} {tr('OVERDUE')}" if overdue else f"▲ {text}"), overdue


def nearest_text(row: AtRisk) -> str:
    if row.nearest_callsign is None or row.nearest_km is None:
        return tr("none available nearby")
    return f"{row.nearest_callsign} · {fmt_num(row.nearest_km, 1)} km"


class RiskPanel(Panel):
    # Aged while one is not live: incidents come with the calls stream, the nearest unit from units.
    streams = ("calls", "units")

    def __init__(self, clock: Clock, parent: QWidget | None = None) -> None:
        super().__init__(tr("Incidents at risk"), parent)
        self.clock = clock
        top = QHBoxLayout()
        self.count_value = TextLabel("–")
        self.count_caption = TextLabel(tr("open incidents without a unit on scene"))
        self.overdue_value = TextLabel("")
        top.addWidget(self.count_value)
        top.addWidget(self.count_caption, 1)
        top.addWidget(self.overdue_value)
        self.outer.addLayout(top)
        self.table = WallTable(COLUMNS)
        self.outer.addWidget(self.table, 1)
        self.empty = TextLabel("● " + tr("Every open incident has a unit on scene"))
        self.empty.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.outer.addWidget(self.empty, 1)
        self.rows: tuple[AtRisk, ...] = ()
        self.snapshot: BoardSnapshot | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.tick)
        self._timer.start()
        self.set_scale(1.0)

    def update_snapshot(self, snapshot: BoardSnapshot) -> None:
        self.snapshot = snapshot
        self.rows = snapshot.at_risk
        self.count_value.setText(fmt_int(snapshot.at_risk_total))
        shown = len(self.rows)
        self.subtitle.setText(
            tr("most urgent first")
            + ("" if shown == snapshot.at_risk_total else f" · {shown}/{snapshot.at_risk_total}")
        )
        self.table.setRowCount(shown)
        self.empty.setVisible(shown == 0)
        self.table.setVisible(shown > 0)
        self.tick()

    def tick(self) -> None:
        """Re-draw the countdowns from the board clock (the list itself changes only with a snapshot)."""
        now = self.clock.now()
        for r, row in enumerate(self.rows):
            left, overdue = time_left_text(row, now)
            ageing = not overdue and row.ageing_at is not None and now > row.ageing_at
            cells = [left, row.polres_name, row.kind or "–", f"P{int(row.priority)}", nearest_text(row)]
            if overdue:
                self.table.set_row(r, cells, background=theme.VERMILLION, foreground="#FFFFFF", bold=True)
            elif ageing:
                self.table.set_row(r, cells, foreground=theme.ORANGE, bold=True)
            else:
                self.table.set_row(r, cells)
        # Over every incident at risk, not only the rows shown (the list is cut): core counts, with this clock.
        overdue_n = 0 if self.snapshot is None else self.snapshot.at_risk_overdue(now)
        text = f"⚠ {fmt_int(overdue_n)} {tr('overdue')}" if overdue_n else ""
        self.overdue_value.setText(text)

    def set_scale(self, unit: float) -> None:
        super().set_scale(unit)
        self.count_value.set_style(theme.px(theme.HEADLINE, unit), bold=True)
        self.count_caption.set_style(theme.px(theme.LABEL, unit), colour=theme.TEXT_DIM)
        self.overdue_value.set_style(theme.px(theme.BIG, unit), bold=True, colour=theme.VERMILLION)
        self.empty.set_style(theme.px(theme.BIG, unit), colour=theme.GREEN)
        self.table.set_scale(unit)
