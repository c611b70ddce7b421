"""One wall screen for dispatch: incidents at risk above, the unit board below (view ``dispatch``)."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtWidgets import QVBoxLayout, QWidget

from wallboard.core.freshness import StreamHealth
from wallboard.core.snapshot import BoardSnapshot
from wallboard.core.timeutil import Clock
from wallboard.ui import theme
from wallboard.ui.panels.risk import RiskPanel
from wallboard.ui.panels.unitboard import UnitBoardPanel


class DispatchPanel(QWidget):
    """Two panels in one view: the view talks to it as to one panel (snapshot, freshness, scale)."""

    def __init__(self, clock: Clock, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.risk = RiskPanel(clock)
        self.units = UnitBoardPanel()
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.addWidget(self.risk, 2)
        self.layout_.addWidget(self.units, 3)

    def update_snapshot(self, snapshot: BoardSnapshot) -> None:
        self.risk.update_snapshot(snapshot)
        self.units.update_snapshot(snapshot)

    def update_health(self, health: Mapping[str, StreamHealth], tz: str) -> None:
        self.risk.update_health(health, tz)
        self.units.update_health(health, tz)

    def set_scale(self, unit: float) -> None:
        self.layout_.setSpacing(theme.px(8, unit))
        self.risk.set_scale(unit)
        self.units.set_scale(unit)
