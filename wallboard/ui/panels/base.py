"""Shared building blocks for panels: a framed panel with a title, and labels that never interpret markup."""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from wallboard.core.freshness import STREAM_LABELS, Freshness, StreamHealth
from wallboard.ui import theme
from wallboard.ui.i18n import tr


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


def stream_state_text(health: StreamHealth, tz: str) -> tuple[str, str, str]:
    """(symbol, state word with since when, colour) of a stream that is not live, in the wall's language."""
    since = ""
    if health.since is not None:
        since = f" {tr('since')} {datetime.fromtimestamp(health.since, ZoneInfo(tz)):%H:%M:%S}"
    if health.auth_rejected:
        return "■", tr("TOKEN REJECTED") + since, theme.VERMILLION
    if health.state is Freshness.STALE:
        return "▲", tr("STALE") + since, theme.ORANGE
    return "■", tr("DOWN") + since, theme.VERMILLION


def veil_lines(streams: tuple[str, ...], health: Mapping[str, StreamHealth], tz: str) -> list[tuple[str, str]]:
    """(text, colour) for each of ``streams`` that is not live: what a panel drawing from them says on its band."""
    lines = []
    for name in streams:
        h = health.get(name)
        if h is None or h.state is Freshness.LIVE:
            continue
        symbol, state, colour = stream_state_text(h, tz)
        lines.append((f"{symbol} {tr(STREAM_LABELS.get(name, name))}: {state}", colour))
    return lines


class WrappedLabel(TextLabel):
    """A plain-text label that wraps to its width: its size hint is what it needs at the width it has."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        width = self.width()
        if width <= 1:
            return hint
        return QSize(min(hint.width(), width), self.heightForWidth(width))


class StaleVeil(QWidget):
    """Laid over a panel whose streams are not all live: the panel is dimmed (its last numbers stay readable under
    it) and a band across its top says which stream, what state, and since when."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAccessibleName("stale")
        self.lines: list[tuple[str, str]] = []  # (text, colour)
        self.unit = 1.0
        self.hide()

    def set_lines(self, lines: list[tuple[str, str]]) -> None:
        if lines == self.lines:
            return
        self.lines = lines
        self.setAccessibleDescription(" · ".join(text for text, _ in lines))
        self.setVisible(bool(lines))
        if lines:
            self.raise_()
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self.lines:
            return
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(11, 14, 19, 120))  # aged: dimmed, still readable
        # One line across the top, over the panel's title row only: the figures under it stay in view.
        size = theme.px(theme.LABEL + 1, self.unit)
        band_h = round(size * 1.5)
        band = QColor(self.lines[0][1])
        band.setAlpha(235)
        p.fillRect(QRectF(0, 0, self.width(), band_h), band)
        text = "   ".join(line for line, _ in self.lines)
        margin = theme.px(10, self.unit)
        width = self.width() - 2 * margin
        font = theme.font(size, True)
        metrics = QFontMetricsF(font)
        if metrics.horizontalAdvance(text) > width > 0:  # several streams on a narrow panel: smaller, never cut
            font = theme.font(max(9, int(size * width / metrics.horizontalAdvance(text))), True)
        p.setFont(font)
        p.setPen(QColor(theme.BACKGROUND))
        p.drawText(QRectF(margin, 0, width, band_h), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
        p.end()


class Panel(QFrame):
    """A framed panel with a title line that names what it shows and over which window.

    ``streams`` names the feed streams the panel draws from: when one of them is not live the panel is aged
    (``update_health``) while its last numbers stay on it.
    """

    streams: tuple[str, ...] = ()

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
        self.veil = StaleVeil(self)

    def update_health(self, health: Mapping[str, StreamHealth], tz: str) -> None:
        """Age the panel while a stream it draws from is not live (TERTUNDA / PUTUS / TOKEN DITOLAK sejak ...)."""
        self.veil.set_lines(veil_lines(self.streams, health, tz))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.veil.setGeometry(self.rect())

    def set_scale(self, unit: float) -> None:
        self.unit = unit
        self.veil.unit = unit
        m = theme.px(10, unit)
        self.outer.setContentsMargins(m, theme.px(6, unit), m, theme.px(6, unit))
        self.title.set_style(theme.px(theme.LABEL, unit), bold=True, colour=theme.TEXT)
        self.subtitle.set_style(theme.px(theme.LABEL, unit), colour=theme.TEXT_DIM)
