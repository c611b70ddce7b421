"""Shared building blocks for panels: a framed panel with a title, and labels that never interpret markup."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from wallboard.ui import theme


def set_style_sheet(widget: QWidget, sheet: str) -> None:
    """``widget.setStyleSheet(sheet)`` unless it already has that sheet (re-polishing is costly; see TextLabel)."""
    if widget.styleSheet() != sheet:
        widget.setStyleSheet(sheet)


def set_tooltip(widget: QWidget, text: str) -> None:
    if widget.toolTip() != text:
        widget.setToolTip(text)


def plain_tooltip(text: str) -> str:
    """A tooltip that shows ``text`` literally. Qt renders a tooltip as rich text when it merely looks like markup
    (``<img src=x ...>`` from a feed would become an image tag), so the text is escaped inside an explicit paragraph.
    """
    return f"<p>{html.escape(text)}</p>" if text else ""


class TextLabel(QLabel):
    """A QLabel that always shows plain text: feed strings such as ``<img onerror=...>`` stay text."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *, role: str = "label") -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.role = role
        self._style: tuple[int, bool, str] | None = None
        self.setText(text)

    def set_style(self, size_px: int, *, bold: bool = False, colour: str = theme.TEXT) -> None:
        # Setting a style sheet re-polishes the widget even when nothing changed: a third of the wall's CPU went
        # there when the freshness line and the trend cells restyled every second. Only a real change is applied.
        if self._style == (size_px, bold, colour):
            return
        self._style = (size_px, bold, colour)
        # The size lives in the style sheet too: a style sheet set on a visible label re-resolves its font from the
        # parent, silently undoing a setFont() made just before it.
        weight = "bold" if bold else "normal"
        self.setStyleSheet(
            f"color: {colour}; font-family: '{theme.FONT_FAMILY}'; font-size: {size_px}px; font-weight: {weight};"
        )
        self.setFont(theme.font(size_px, bold))


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
