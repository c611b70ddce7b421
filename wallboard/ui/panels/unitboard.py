"""The unit board: per Polres its units by status (siaga, diberangkatkan, dalam perjalanan, di TKP, kembali, tidak
bertugas), the available share, units with a stale position and time-in-status alerts; least available first."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QWidget

from wallboard.core.model import UnitStatus
from wallboard.core.snapshot import BoardSnapshot
from wallboard.core.units import STATUS_ORDER, UnitBoardRow
from wallboard.ui import theme
from wallboard.ui.i18n import N_, fmt_int, fmt_pct, tr
from wallboard.ui.panels.base import Panel, TextLabel
from wallboard.ui.panels.wall_table import WallTable

STATUS_HEADERS = {
    UnitStatus.AVAILABLE: N_("available"), UnitStatus.DISPATCHED: N_("dispatched"),
    UnitStatus.EN_ROUTE: N_("en route"), UnitStatus.ON_SCENE: N_("on scene"),
    UnitStatus.RETURNING: N_("returning"), UnitStatus.OUT_OF_SERVICE: N_("out of service"),
}  # fmt: skip
COLUMNS = (N_("Polres"), *(STATUS_HEADERS[s] for s in STATUS_ORDER), N_("Available share"), N_("Stale position"),
           N_("Time in status"))  # fmt: skip
LOW_AVAILABLE_PCT = 20.0  # an amber share below this; none available at all is red


def available_text(row: UnitBoardRow) -> tuple[str, str]:
    """(text, colour) of the available share: symbol and word with the colour."""
    pct = row.available_pct
    if pct is None:
        return "○ –", theme.GREY
    if row.available == 0:
        return f"■ {fmt_pct(pct)}", theme.VERMILLION
    if pct < LOW_AVAILABLE_PCT:
        return f"▲ {fmt_pct(pct)}", theme.ORANGE
    return f"● {fmt_pct(pct)}", theme.GREEN


class UnitBoardPanel(Panel):
    streams = ("units",)  # aged while one is not live: unit statuses and positions

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(tr("Unit board"), parent)
        top = QHBoxLayout()
        self.available_value = TextLabel("–")
        self.available_caption = TextLabel(tr("units available now"))
        self.overruns_value = TextLabel("")
        top.addWidget(self.available_value)
        top.addWidget(self.available_caption, 1)
        top.addWidget(self.overruns_value)
        self.outer.addLayout(top)
        self.table = WallTable(COLUMNS)
        self.outer.addWidget(self.table, 1)
        self.rows: list[UnitBoardRow] = []
        self.set_scale(1.0)

    def update_snapshot(self, snapshot: BoardSnapshot) -> None:
        # Rows, their order, overruns and totals all come from core (UnitBoard): this only draws them.
        board = snapshot.unit_board
        self.rows = list(board.rows)
        self.available_value.setText(f"{fmt_int(board.available)}/{fmt_int(board.on_duty)}")
        self.subtitle.setText(tr("least available first"))
        self.overruns_value.setText(f"⚠ {fmt_int(board.overruns)} {tr('over time in status')}" if board.overruns
                                    else "")  # fmt: skip
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            share, colour = available_text(row)
            late = row.overruns
            cells = [row.name, *(fmt_int(row.by_status.get(s.value, 0)) for s in STATUS_ORDER), share,
                     f"▲ {fmt_int(row.stale_position)}" if row.stale_position else "0",
                     f"⚠ {fmt_int(late)}" if late else "–"]  # fmt: skip
            self.table.set_row(r, cells)
            item = self.table.item(r, len(STATUS_ORDER) + 1)
            if item is not None:
                item.setForeground(QColor(colour))
            if late:
                late_item = self.table.item(r, len(COLUMNS) - 1)
                if late_item is not None:
                    late_item.setForeground(QColor(theme.ORANGE))

    def set_scale(self, unit: float) -> None:
        super().set_scale(unit)
        self.available_value.set_style(theme.px(theme.HEADLINE, unit), bold=True)
        self.available_caption.set_style(theme.px(theme.LABEL, unit), colour=theme.TEXT_DIM)
        self.overruns_value.set_style(theme.px(theme.BIG, unit), bold=True, colour=theme.ORANGE)
        self.table.set_scale(unit)
