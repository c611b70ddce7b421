"""A read-only table at wall size: plain-text cells (feed strings never become markup), type that scales."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from wallboard.ui import theme
from wallboard.ui.i18n import tr
from wallboard.ui.panels.base import set_style_sheet


class WallTable(QTableWidget):
    """Columns named by translatable headers; ``set_row`` fills a row of plain text, optionally highlighted."""

    def __init__(self, headers: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__(0, len(headers), parent)
        self.headers = headers
        self.setHorizontalHeaderLabels([tr(h) for h in headers])
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        # The first column names the row (a Polres, a number, a countdown): it takes the room its text needs.
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.verticalHeader().setVisible(False)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def set_row(self, row: int, cells: list[str], *, background: str | None = None, foreground: str | None = None,
                bold: bool = False) -> None:  # fmt: skip
        for col, text in enumerate(cells):
            item = self.item(row, col)
            if item is None:
                item = QTableWidgetItem()
                self.setItem(row, col, item)
            if item.text() != text:
                item.setText(text)
            item.setBackground(QColor(background) if background else QColor(0, 0, 0, 0))
            item.setForeground(QColor(foreground or theme.TEXT))
            if item.font().bold() != bold:
                f = item.font()
                f.setBold(bold)
                item.setFont(f)

    def cell_text(self, row: int, col: int) -> str:
        item = self.item(row, col)
        return item.text() if item is not None else ""

    def set_scale(self, unit: float, size_at_1080: float = theme.TABLE) -> None:
        size = theme.px(size_at_1080, unit)
        self.setFont(theme.font(size))
        header = theme.px(theme.SMALL, unit)
        self.horizontalHeader().setFont(theme.font(header, bold=True))
        # The application's style sheet would otherwise give the header sections its own (1080-line) type.
        pad = theme.px(6, unit)
        set_style_sheet(self, f"QHeaderView::section {{ font-size: {header}px; font-weight: bold; padding: 2px; }}"
                              f"QTableView::item {{ padding: 0 {pad}px; }}")  # fmt: skip
        self.verticalHeader().setDefaultSectionSize(round(size * 1.6))
