"""The prank watch (supervisors, not the public wall): numbers with repeated prank or silent calls today and this
week, how many calls each, the Polres, a flag at the configured count, and the prank share per Polres.

Numbers arrive masked from the core (0812****5678) unless this desk is authorised (``board.unmask_caller_numbers``),
so nothing here, in the log or in an export can show more than the desk may see.
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QHBoxLayout, QHeaderView, QWidget

from wallboard.config import Config
from wallboard.core.prank import CELL_KM, PrankWatch
from wallboard.core.reference import ReferenceData
from wallboard.core.snapshot import BoardSnapshot
from wallboard.ui import theme
from wallboard.ui.i18n import N_, fmt_int, fmt_num, fmt_pct, tr
from wallboard.ui.panels.base import Panel, TextLabel
from wallboard.ui.panels.prank_cells import PrankCellMap
from wallboard.ui.panels.wall_table import WallTable

log = logging.getLogger(__name__)
NUMBER_COLUMNS = (N_("Number"), N_("Today"), N_("7 days"), N_("Polres"), N_("Flag"))
SHARE_COLUMNS = (N_("Polres"), N_("Prank / silent today"), N_("Categorised today"), N_("Prank share"))
SHARE_ROWS = 10  # the Polres with the highest share; the rest are in the JSON and, where allowed, the export


class PrankPanel(Panel):
    streams = ("calls",)  # aged while one is not live: caller numbers and categories

    def __init__(self, config: Config, reference: ReferenceData | None = None, parent: QWidget | None = None) -> None:
        super().__init__(tr("Prank watch"), parent)
        self.config = config
        top = QHBoxLayout()
        self.flagged_value = TextLabel("–")
        self.flagged_caption = TextLabel("")
        top.addWidget(self.flagged_value)
        top.addWidget(self.flagged_caption, 1)
        self.outer.addLayout(top)
        self.captions = [
            TextLabel(tr("Numbers with repeated prank or silent calls")),
            TextLabel(tr("Prank share per Polres")),
        ]
        self.numbers = WallTable(NUMBER_COLUMNS)
        self.shares = WallTable(SHARE_COLUMNS)
        self.numbers.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)  # Polres
        self.cells_label = TextLabel("")
        self.outer.addWidget(self.captions[0])
        polda = None if config.board.polda_id in ("", "national", "indonesia") else config.board.polda_id
        places = [] if reference is None else (reference.polres_of(polda) if polda else list(reference.polres.values()))
        self.cell_map = PrankCellMap([(p.lat, p.lon) for p in places])
        middle = QHBoxLayout()
        middle.addWidget(self.numbers, 3)
        middle.addWidget(self.cell_map, 2)
        self.outer.addLayout(middle, 1)
        self.outer.addWidget(self.captions[1])
        self.outer.addWidget(self.shares, 1)
        self.outer.addWidget(self.cells_label)
        self.watch: PrankWatch | None = None
        self._flagged_logged: set[str] = set()
        self.set_scale(1.0)

    def update_snapshot(self, snapshot: BoardSnapshot) -> None:
        watch = snapshot.prank_watch
        if watch is None:
            return
        self.watch = watch
        masked = not self.config.board.unmask_caller_numbers
        self.subtitle.setText(tr("supervisors only") + (" · " + tr("numbers masked") if masked else ""))
        # Every count is core's, taken before the lists were cut: the rows below may be only the first of them.
        self.flagged_value.setText(fmt_int(watch.flagged_numbers))
        self.flagged_caption.setText(tr("numbers flagged at {n} or more prank/silent calls in 7 days").format(
            n=watch.flag_at))  # fmt: skip
        for n in watch.numbers:  # the number as the core gave it: masked unless authorised
            if n.flagged and n.number not in self._flagged_logged:
                self._flagged_logged.add(n.number)
                log.info("prank watch: %s flagged (%d prank/silent calls in 7 days, %s)", n.number, n.week,
                         n.polres_name)  # fmt: skip
        shown = len(watch.numbers)
        cut = "" if shown == watch.repeat_numbers else f" · {fmt_int(shown)}/{fmt_int(watch.repeat_numbers)}"
        self.captions[0].setText(tr("Numbers with repeated prank or silent calls") + cut)
        self.numbers.setRowCount(shown)
        for r, n in enumerate(watch.numbers):
            cells = [n.number, fmt_int(n.today), fmt_int(n.week), n.polres_name, "⚑ " + tr("FLAGGED") if n.flagged
                     else "–"]  # fmt: skip
            if n.flagged:
                self.numbers.set_row(r, cells, foreground=theme.ORANGE, bold=True)
            else:
                self.numbers.set_row(r, cells)
        shares = watch.share_by_polres[:SHARE_ROWS]
        self.shares.setRowCount(len(shares))
        for r, s in enumerate(shares):
            self.shares.set_row(r, [s.name, fmt_int(s.nuisance), fmt_int(s.categorised), fmt_pct(s.share_pct)])
        self.cell_map.set_cells(watch.cells)
        self.cells_label.setText(
            tr("Prank/silent calls today: {total}, with a location: {n} in {cells} cells of about {km} km").format(
                total=fmt_int(watch.calls_today), n=fmt_int(watch.located_today), cells=fmt_int(watch.cells_today),
                km=fmt_num(CELL_KM, 0))
        )  # fmt: skip

    def set_scale(self, unit: float) -> None:
        super().set_scale(unit)
        self.flagged_value.set_style(theme.px(theme.HEADLINE, unit), bold=True, colour=theme.ORANGE)
        self.flagged_caption.set_style(theme.px(theme.LABEL, unit), colour=theme.TEXT_DIM)
        for caption in self.captions:
            caption.set_style(theme.px(theme.LABEL, unit), bold=True, colour=theme.TEXT_DIM)
        self.cells_label.set_style(theme.px(theme.LABEL, unit), colour=theme.TEXT_DIM)
        self.numbers.set_scale(unit)
        self.cell_map.set_scale(unit)
        self.shares.set_scale(unit)
