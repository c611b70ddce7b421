"""Response-time gauges: one per Polres plus the Polda's own, worst first.

A 240° dial from 0 to 20 minutes with bands at the 5-minute aspiration and the 10-minute promise; the needle is the
median, the white triangle the 90th percentile. Under it: % within 10 minutes, incident count, overdue now, and the
status as a word and a symbol (never colour alone). More gauges than fit a page rotate through pages.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QMouseEvent, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QGridLayout, QSizePolicy, QWidget

from wallboard.core.snapshot import STATUS_RULE, BoardSnapshot, ResponseStats
from wallboard.ui import theme
from wallboard.ui.i18n import N_, fmt_int, fmt_num, fmt_pct, tr
from wallboard.ui.panels.base import Panel, WrappedLabel, plain_tooltip

SCALE_MAX_S = 20 * 60
START_DEG = 210.0
SWEEP_DEG = 240.0


def gauge_status(stats: ResponseStats) -> str:
    """ok / watch / bad / small / none: the rule lives in core (``ResponseStats.status``), stated on the panel."""
    return stats.status


STATUS_WORDS = {"ok": N_("ON TARGET"), "watch": N_("WATCH"), "bad": N_("OVER TARGET"), "none": N_("NO DATA"),
                "small": N_("SMALL SAMPLE")}  # fmt: skip


def status_rule(stats: ResponseStats | None) -> str:
    """The status rule in one line the room can read (core.snapshot.STATUS_RULE, translated and filled in)."""
    target = stats.target_s if stats else 600.0
    aspiration = stats.aspiration_s if stats else 300.0
    n = stats.min_sample if stats else 5
    return tr(STATUS_RULE).format(aspiration=fmt_int(round(aspiration / 60)), target=fmt_int(round(target / 60)),
                                  n=fmt_int(n))  # fmt: skip


def short_name(name: str) -> str:
    for prefix in ("Polresta ", "Polres ", "Polda "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


MIN_TILE_PX = 88


class GaugeWidget(QWidget):
    activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.stats: ResponseStats | None = None
        self.is_total = False
        self.figure_px = 0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        # 38 Polda and the nation's tile fit one 1920x1080 national wall at about 100 px each (a minimum of 120
        # made the grid taller than its panel, and its last row covered the status rule below it).
        self.setMinimumSize(MIN_TILE_PX, MIN_TILE_PX)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def set_stats(self, stats: ResponseStats, *, is_total: bool = False) -> None:
        if stats == self.stats and is_total == self.is_total:
            return  # unchanged: no repaint (40 gauges repainting every second cost a wall real CPU)
        self.stats = stats
        self.is_total = is_total
        status = gauge_status(stats)
        self.setToolTip(plain_tooltip(f"{stats.name}: {tr(STATUS_WORDS[status])}"))
        self.setAccessibleName(f"{stats.name} {tr(STATUS_WORDS[status])}")
        # What the dial and its lines show, as text: for screen readers, and for the test that reads the wall.
        self.setAccessibleDescription(" · ".join([f"{tr('median')} {self.median_text()} {tr('min')}", *self.lines()]))
        self.update()

    def median_text(self) -> str:
        s = self.stats
        return "–" if s is None or s.median_s is None else fmt_num(s.median_s / 60, 1)

    def lines(self) -> list[str]:
        """The text lines beside or under the dial (also what tests read): p90, share within the target,
        incidents, overdue now, status word with its symbol."""
        s = self.stats
        if s is None:
            return []
        status = gauge_status(s)
        symbol = theme.STATUS[status].symbol
        if s.small_sample:  # a handful of responses has no 90th percentile: say how many, and that it is few
            p90_line = f"{tr('small sample')}: {fmt_int(s.count)}"
        else:
            p90_line = "p90 " + ("–" if s.p90_s is None else f"{fmt_num(s.p90_s / 60, 1)} {tr('min')}")
        target_min = fmt_int(round(s.target_s / 60))
        overdue = f"⚠ {fmt_int(s.overdue_now)} {tr('overdue')}" if s.overdue_now else f"{tr('overdue')}: 0"
        return [
            p90_line,
            f"≤{target_min} {tr('min')} {fmt_pct(s.within_target_pct)}",
            f"{tr('incidents')}: {fmt_int(s.incidents)}",
            overdue,
            f"{symbol} {tr(STATUS_WORDS[status])}",
        ]

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.stats is not None and event.button() == Qt.MouseButton.LeftButton:
            self.activated.emit(self.stats.unit_id)

    def _angle(self, seconds: float) -> float:
        frac = min(max(seconds / SCALE_MAX_S, 0.0), 1.0)
        return START_DEG - SWEEP_DEG * frac

    def paintEvent(self, event: QPaintEvent) -> None:
        s = self.stats
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        status = gauge_status(s) if s else "none"
        colour = QColor(theme.STATUS[status].colour)
        p.fillRect(self.rect(), QColor(theme.PANEL))
        border = QPen(colour if status in ("bad", "watch") else QColor(theme.PANEL_BORDER), 3 if status == "bad" else 1)
        p.setPen(border)
        p.drawRoundedRect(QRectF(1.5, 1.5, w - 3, h - 3), 6, 6)
        if s is None:
            p.end()
            return
        name_h = max(14.0, h * 0.15)
        status_h = max(12.0, h * 0.15)
        *figures, status_line = self.lines()
        # Wide tiles put the figures beside the dial, tall ones under it: either way the text gets the room it needs
        # to be read from across the room, and the dial takes what is left. The status word spans the whole tile.
        middle_h = h - name_h - status_h
        side = w / max(1.0, middle_h) > 1.35
        if side:
            dial_w, dial_h = w * 0.44, middle_h
            text_rect = QRectF(dial_w, name_h, w - dial_w - 6, middle_h)
        else:
            dial_w, dial_h = float(w), middle_h * 0.62
            text_rect = QRectF(6, name_h + dial_h, w - 12, middle_h - dial_h)
        # The 240° dial spans from r + band above the centre to about 0.75 r below it (value and unit inside).
        r = max(10.0, min(dial_w * 0.36, dial_h / 1.95))  # room for the p90 marker outside the arc
        band_w = max(4.0, r * 0.16)
        cx, cy = dial_w / 2, name_h + (dial_h - 1.8 * r) / 2 + r
        # name
        name_font, name = fitted_name(short_name(s.name), w - 12, name_h * 0.78)
        p.setFont(name_font)
        p.setPen(QColor(theme.YELLOW if self.is_total else theme.TEXT))
        p.drawText(QRectF(6, 2, w - 12, name_h), Qt.AlignmentFlag.AlignCenter, name)
        # bands
        arc_rect = QRectF(cx - r, cy - r, 2 * r, 2 * r)
        for lo, hi, c in ((0, s.aspiration_s, theme.GREEN), (s.aspiration_s, s.target_s, theme.ORANGE),
                          (s.target_s, SCALE_MAX_S, theme.VERMILLION)):  # fmt: skip
            pen = QPen(QColor(c), band_w, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap)
            p.setPen(pen)
            a0, a1 = self._angle(lo), self._angle(hi)
            p.drawArc(arc_rect, int(a0 * 16), int((a1 - a0) * 16))
        # band labels (5 and 10 minutes)
        tick_font = QFont(theme.FONT_FAMILY)
        tick_font.setPixelSize(max(9, int(r * 0.2)))
        p.setFont(tick_font)
        p.setPen(QColor(theme.TEXT_DIM))
        for value in (s.aspiration_s, s.target_s):
            a = math.radians(self._angle(value))
            tx, ty = cx + (r - band_w * 1.9) * math.cos(a), cy - (r - band_w * 1.9) * math.sin(a)
            p.drawText(QRectF(tx - r * 0.3, ty - r * 0.15, r * 0.6, r * 0.3), Qt.AlignmentFlag.AlignCenter,
                       f"{value / 60:.0f}")  # fmt: skip
        # p90 marker: a triangle outside the arc, pointing at it
        if s.p90_s is not None and not s.small_sample:
            a = math.radians(self._angle(s.p90_s))
            tip = QPointF(cx + (r + band_w * 0.5) * math.cos(a), cy - (r + band_w * 0.5) * math.sin(a))
            base = r + band_w * 1.7
            left = QPointF(cx + base * math.cos(a + 0.09), cy - base * math.sin(a + 0.09))
            right = QPointF(cx + base * math.cos(a - 0.09), cy - base * math.sin(a - 0.09))
            p.setPen(QPen(QColor(theme.BACKGROUND), 1))
            p.setBrush(QColor(theme.TEXT))
            p.drawPolygon(QPolygonF([tip, left, right]))
        # median needle
        if s.median_s is not None:
            a = math.radians(self._angle(s.median_s))
            p.setPen(QPen(QColor(theme.TEXT), max(2.0, r * 0.05), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            p.drawLine(QPointF(cx, cy), QPointF(cx + (r - band_w) * math.cos(a), cy - (r - band_w) * math.sin(a)))
            p.setBrush(QColor(theme.TEXT))
            p.drawEllipse(QPointF(cx, cy), r * 0.06, r * 0.06)
        # median value and its unit, inside the dial
        median = self.median_text()
        p.setFont(fitted_font(median, 1.5 * r, r * 0.5, bold=True))
        p.setPen(QColor(theme.TEXT))
        p.drawText(QRectF(cx - r, cy + r * 0.08, 2 * r, r * 0.5), Qt.AlignmentFlag.AlignCenter, median)
        caption = tr("median, min")
        p.setFont(fitted_font(caption, 1.6 * r, r * 0.2))
        p.setPen(QColor(theme.TEXT_DIM))
        p.drawText(QRectF(cx - r, cy + r * 0.58, 2 * r, r * 0.24), Qt.AlignmentFlag.AlignCenter, caption)
        # figures: one size for all lines and all tiles (sized on the widest possible values, so a tile without data
        # does not shout louder than its neighbours), the largest at which each line fits
        line_h = text_rect.height() / len(figures)
        width = text_rect.width()
        size = min(fitted_font(line, width, line_h * 0.78, bold=i == 3).pixelSize()
                   for i, line in enumerate(widest_figures(s)))  # fmt: skip
        self.figure_px = size  # what the last paint used (layout tests check it is legible at wall sizes)
        align = Qt.AlignmentFlag.AlignLeft if side else Qt.AlignmentFlag.AlignHCenter
        for i, line in enumerate(figures):
            overdue_line = i == 3 and s.overdue_now > 0
            # A value wider than the usual (a three-digit overdue count) shrinks its own line, never clips.
            p.setFont(fitted_font(line, width, size, bold=overdue_line))
            p.setPen(QColor(theme.VERMILLION if overdue_line else theme.TEXT if i < 2 else theme.TEXT_DIM))
            row = QRectF(text_rect.x(), text_rect.y() + i * line_h, text_rect.width(), line_h)
            p.drawText(row, align | Qt.AlignmentFlag.AlignVCenter, line)
        status_rect = QRectF(6, h - status_h - 3, w - 12, status_h)
        p.setFont(fitted_font(status_line, status_rect.width(), status_h * 0.8, bold=True))
        p.setPen(colour)
        p.drawText(status_rect, Qt.AlignmentFlag.AlignCenter, status_line)
        p.end()


def widest_figures(stats: ResponseStats) -> list[str]:
    """The figure lines with the widest values they can reasonably take."""
    target_min = fmt_int(round(stats.target_s / 60))
    return [
        f"p90 {fmt_num(88.8, 1)} {tr('min')}",
        f"≤{target_min} {tr('min')} {fmt_pct(100.0)}",
        f"{tr('incidents')}: {fmt_int(888)}",
        f"⚠ {fmt_int(8)} {tr('overdue')}",
    ]


def fitted_font(text: str, width: float, height: float, *, bold: bool = False) -> QFont:
    """The largest font, at most ``height`` px, in which ``text`` fits ``width``."""
    size = max(8, int(height))
    f = theme.font(size, bold)
    advance = QFontMetricsF(f).horizontalAdvance(text)
    if advance > width > 0:
        # Widths do not scale exactly with the size (hinting): step down until it fits (or 8 px).
        size = max(8, int(size * width / advance))
        f = theme.font(size, bold)
        while size > 8 and QFontMetricsF(f).horizontalAdvance(text) > width:
            size -= 1
            f = theme.font(size, bold)
    return f


def fitted_name(name: str, width: float, height: float) -> tuple[QFont, str]:
    """A tile's name in the largest bold font that fits; a name too long even at the smallest size ends in "…"
    (drawn centred, it was cut at both ends: "enajam Paser Utar" in a 1366x768 tile)."""
    font = fitted_font(name, width, height, bold=True)
    return font, QFontMetricsF(font).elidedText(name, Qt.TextElideMode.ElideRight, width)


class GaugesPanel(Panel):
    """The Polda's gauge first, then every Polres worst first; pages rotate when they do not fit."""

    streams = ("calls",)  # the feed streams it draws from (aged while one is not live)

    polresActivated = Signal(str)

    def __init__(self, per_page: int = 40, page_seconds: float = 15.0, parent: QWidget | None = None) -> None:
        super().__init__(tr("Response time: call to first unit on scene"), parent)
        self.per_page = per_page
        self.grid = QGridLayout()
        self.grid.setSpacing(6)
        self.outer.addLayout(self.grid, 1)
        self.rule = WrappedLabel(status_rule(None))  # what makes a tile SESUAI TARGET / WASPADA / LEWAT TARGET
        self.outer.addWidget(self.rule)
        self.gauges: list[GaugeWidget] = []
        self.page = 0
        self.snapshot: BoardSnapshot | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(int(page_seconds * 1000))
        self._timer.timeout.connect(self.next_page)
        self._timer.start()

    def stats_in_order(self) -> list[tuple[ResponseStats, bool]]:
        """The board's own gauge, then its Polres worst first; a national board shows its Polda instead (38 tiles,
        each over all that Polda's Polres; a click opens the Polda's Polres)."""
        if self.snapshot is None:
            return []
        parts = self.snapshot.response_by_polda or self.snapshot.response_by_polres
        return [(self.snapshot.response_polda, True)] + [(r, False) for r in parts]

    @property
    def pages(self) -> int:
        return max(1, math.ceil(len(self.stats_in_order()) / self.per_page))

    def next_page(self) -> None:
        if self.pages > 1:
            self.page = (self.page + 1) % self.pages
            self._render()

    def update_snapshot(self, snapshot: BoardSnapshot) -> None:
        self.snapshot = snapshot
        self._render()

    def _ensure(self, count: int) -> None:
        while len(self.gauges) < count:
            gauge = GaugeWidget()
            gauge.activated.connect(self.polresActivated)
            self.gauges.append(gauge)
        columns = self._columns(count)
        for i, gauge in enumerate(self.gauges):
            self.grid.removeWidget(gauge)
            if i < count:
                self.grid.addWidget(gauge, i // columns, i % columns)
                gauge.show()
            else:
                gauge.hide()

    def _grid_area(self) -> tuple[int, int]:
        """The width and height the tiles have: the panel below its title, less the status rule under the grid."""
        margins = self.outer.contentsMargins()
        top = self.grid.geometry().top() if self.grid.geometry().isValid() else margins.top()
        below = self.outer.spacing() + self.rule.sizeHint().height() + margins.bottom()
        return self.width() - margins.left() - margins.right(), self.height() - top - below

    def _columns(self, count: int) -> int:
        w, h = (max(1, side) for side in self._grid_area())
        best, best_size = 1, 0.0
        for cols in range(1, count + 1):
            rows = math.ceil(count / cols)
            size = min(w / cols, h / rows * 1.0)
            if size > best_size:
                best, best_size = cols, size
        return best

    def _render(self) -> None:
        items = self.stats_in_order()
        self.page = min(self.page, self.pages - 1)
        page_items = items[self.page * self.per_page : (self.page + 1) * self.per_page]
        if len(self.gauges) < len(page_items) or sum(g.isVisible() for g in self.gauges) != len(page_items):
            self._ensure(len(page_items))
        for gauge, (stats, is_total) in zip(self.gauges, page_items, strict=False):
            gauge.set_stats(stats, is_total=is_total)
        window = self.snapshot.response_window.value if self.snapshot else "today"
        window_text = {"today": tr("today"), "last_60_min": tr("last 60 min"), "last_7_days": tr("last 7 days")}[window]
        page = f" · {tr('page')} {self.page + 1}/{self.pages}" if self.pages > 1 else ""
        polda = self.snapshot.response_polda if self.snapshot else None
        target = fmt_int(round(polda.target_s / 60)) if polda else "10"
        aspiration = fmt_int(round(polda.aspiration_s / 60)) if polda else "5"
        self.subtitle.setText(
            f"{window_text} · {tr('target')} {target} {tr('min')}, {tr('aspiration')} {aspiration} {tr('min')}{page}"
        )
        self.rule.setText(status_rule(polda))

    def set_scale(self, unit: float) -> None:
        super().set_scale(unit)
        self.rule.set_style(theme.px(theme.SMALL + 1, unit), colour=theme.TEXT)

    def resizeEvent(self, event: object) -> None:  # re-flow the grid to the new shape
        super().resizeEvent(event)  # type: ignore[arg-type]
        if self.snapshot is not None:
            self._ensure(min(len(self.stats_in_order()), self.per_page))
