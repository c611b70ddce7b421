"""One wall screen for dispatch: incidents at risk above, the unit board below (view ``dispatch``)."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from wallboard.core.snapshot import BoardSnapshot
from wallboard.core.timeutil import Clock
from wallboard.ui import theme
from wallboard.ui.panels.risk import RiskPanel
from wallboard.ui.panels.unitboard import UnitBoardPanel


class DispatchPanel(QWidget):
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

    def set_scale(self, unit: float) -> None:
        self.layout_.setSpacing(theme.px(8, unit))
        self.risk.set_scale(unit)
        self.units.set_scale(unit)
