"""Shared building blocks for panels: a framed panel with a title, and labels that never interpret markup."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from wallboard.ui import theme


class TextLabel(QLabel):
    """A QLabel that always shows plain text: feed strings such as ``<img onerror=...>`` stay text."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *, role: str = "label") -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.role = role
        self.setText(text)

    def set_style(self, size_px: int, *, bold: bool = False, colour: str = theme.TEXT) -> None:
        self.setFont(theme.font(size_px, bold))
        self.setStyleSheet(f"color: {colour};")


class Panel(QFrame):
    """A framed panel with a title line that names what it shows and over which window."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.outer = QVBoxLayout(self)
        self.outer.setContentsMargins(12, 8, 12, 8)
        self.outer.setSpacing(4)
        header = QHBoxLayout()
        self.title = TextLabel(title, role="title")
        self.subtitle = TextLabel("", role="subtitle")
        header.addWidget(self.title)
        header.addStretch(1)
        header.addWidget(self.subtitle)
        self.outer.addLayout(header)
        self.unit = 1.0

    def set_scale(self, unit: float) -> None:
        self.unit = unit
        m = theme.px(10, unit)
        self.outer.setContentsMargins(m, theme.px(6, unit), m, theme.px(6, unit))
        self.title.set_style(theme.px(theme.LABEL, unit), bold=True, colour=theme.TEXT)
        self.subtitle.set_style(theme.px(theme.LABEL, unit), colour=theme.TEXT_DIM)
