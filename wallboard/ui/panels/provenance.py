"""The provenance band: a watermark the whole room can read when the wall does not show the live dispatch feed.

SIMULASI on the simulator; REKAMAN with the recording's file name and its recorded date and time on a replay (and
REKAMAN BERAKHIR once the last record has been shown: the clock stops there); on a live board only a notice when
it started without an API token. A plain live board shows no band at all.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QWidget

from wallboard.core.provenance import LIVE, Provenance, Source
from wallboard.core.timeutil import Clock, zone_abbreviation
from wallboard.ui import theme
from wallboard.ui.i18n import tr
from wallboard.ui.panels.base import TextLabel, set_style_sheet


class ProvenanceBand(QFrame):
    def __init__(self, tz: str, clock: Clock, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("provenance")
        self.tz = tz
        self.clock = clock
        self.provenance = LIVE
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 0, 12, 0)
        self.word = TextLabel("")
        self.detail = TextLabel("")
        self.detail.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.word, 0)
        layout.addWidget(self.detail, 1)
        self.unit = 1.0
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.hide()

    def set_provenance(self, provenance: Provenance) -> None:
        self.provenance = provenance
        self.refresh()

    def set_scale(self, unit: float) -> None:
        self.unit = unit
        self.refresh()

    def _time(self, t: float, fmt: str) -> str:
        return datetime.fromtimestamp(t, ZoneInfo(self.tz)).strftime(fmt)

    def texts(self) -> tuple[str, str, str]:
        """(big word, detail line, colour) of the band; empty word: no band."""
        p = self.provenance
        if p.source is Source.DEMO:
            return "◆ " + tr("SIMULATION"), tr("simulated dispatch feed: these are not real calls"), theme.YELLOW
        if p.source is Source.RECORDING:
            zone = zone_abbreviation(self.tz)
            span = ""
            if p.recorded_start is not None and p.recorded_end is not None:
                span = (f"{tr('recorded')} {self._time(p.recorded_start, '%Y-%m-%d %H:%M')}–"
                        f"{self._time(p.recorded_end, '%H:%M')} {zone}")  # fmt: skip
            if p.ended(self.clock.now()):
                assert p.recorded_end is not None
                ended = f"{tr('RECORDING ENDED')} {self._time(p.recorded_end, '%H:%M:%S')} {zone}"
                return "■ " + ended, f"{p.name} · {span} · {tr('the wall is frozen')}", theme.VERMILLION
            return "◆ " + tr("RECORDING"), f"{p.name} · {span} · {tr('not live')}", theme.SKY
        if p.token_missing:
            return "■ " + tr("NO API TOKEN"), tr("set $WALLBOARD_API_TOKEN or the OS keyring"), theme.VERMILLION
        return "", "", theme.TEXT

    def refresh(self) -> None:
        word, detail, colour = self.texts()
        self.setVisible(bool(word))
        if not word:
            return
        self.word.setText(word)
        self.detail.setText(detail)
        self.setAccessibleName(f"{word} {detail}")
        size = theme.px(theme.BIG - 4, self.unit)  # as big as the room needs, as thin as the panels can spare
        self.word.set_style(size, bold=True, colour=theme.BACKGROUND)
        self.detail.set_style(theme.px(theme.LABEL + 4, self.unit), bold=True, colour=theme.BACKGROUND)
        set_style_sheet(self, f"QFrame#provenance {{ background: {colour}; border-radius: 4px; }}")
