"""Response-time gauges: one per Polres plus the Polda's own, worst first.

A 240° dial from 0 to 20 minutes with bands at the 5-minute aspiration and the 10-minute promise; the needle is the
median, the white triangle the 90th percentile. Under it: % within 10 minutes, incident count, overdue now, and the
status as a word and a symbol (never colour alone). More gauges than fit a page rotate through pages.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QGridLayout, QSizePolicy, QWidget

from wallboard.core.snapshot import BoardSnapshot, ResponseStats
from wallboard.ui import theme
from wallboard.ui.i18n import N_, fmt_int, fmt_num, fmt_pct, tr
from wallboard.ui.panels.base import Panel

SCALE_MAX_S = 20 * 60
START_DEG = 210.0
SWEEP_DEG = 240.0


def gauge_status(stats: ResponseStats) -> str:
    """ok / watch / bad / none, from the 90th percentile against the aspiration and the target."""
    if stats.count == 0 or stats.p90_s is None:
        return "bad" if stats.overdue_now else "none"
    if stats.p90_s > stats.target_s or stats.overdue_now:
        return "bad"
    if stats.p90_s > stats.aspiration_s:
        return "watch"
    return "ok"


STATUS_WORDS = {"ok": N_("ON TARGET"), "watch": N_("WATCH"), "bad": N_("OVER TARGET"), "none": N_("NO DATA")}


def short_name(name: str) -> str:
    for prefix in ("Polresta ", "Polres ", "Polda "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


class GaugeWidget(QWidget):
    activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.stats: ResponseStats | None = None
        self.is_total = False
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(120, 120)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def set_stats(self, stats: ResponseStats, *, is_total: bool = False) -> None:
        self.stats = stats
        self.is_total = is_total
        status = gauge_status(stats)
        self.setToolTip(f"{stats.name}: {tr(STATUS_WORDS[status])}")
        self.setAccessibleName(f"{stats.name} {tr(STATUS_WORDS[status])}")
        self.update()

    def lines(self) -> list[str]:
        """The text lines under the dial (also what tests read)."""
        s = self.stats
        if s is None:
            return []
        status = gauge_status(s)
        symbol = theme.STATUS[status].symbol
        overdue = f"  ⚠ {fmt_int(s.overdue_now)} {tr('overdue')}" if s.overdue_now else ""
        p90 = fmt_num(s.p90_s / 60, 1) if s.p90_s is not None else "–"
        return [
            f"p90 {p90} · ≤10 {tr('min')} {fmt_pct(s.within_target_pct)}",
            f"n {fmt_int(s.count)} / {fmt_int(s.incidents)}{overdue}",
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
        text_h = h * 0.30
        name_h = h * 0.13
        dial_h = h - text_h - name_h
        # The 240° dial spans from r + band above the centre to 0.75 r below it (value and unit inside).
        r = max(10.0, min(w * 0.43, dial_h / 1.95))
        band_w = max(4.0, r * 0.16)
        cx, cy = w / 2, name_h + r + band_w / 2 + 2
        # name
        name_font = QFont(theme.FONT_FAMILY)
        name_font.setPixelSize(max(10, int(name_h * 0.72)))
        name_font.setBold(True)
        p.setFont(name_font)
        p.setPen(QColor(theme.YELLOW if self.is_total else theme.TEXT))
        p.drawText(QRectF(4, 2, w - 8, name_h), Qt.AlignmentFlag.AlignCenter, short_name(s.name))
        # bands
        arc_rect = QRectF(cx - r, cy - r, 2 * r, 2 * r)
        for lo, hi, c in ((0, s.aspiration_s, theme.GREEN), (s.aspiration_s, s.target_s, theme.ORANGE),
                          (s.target_s, SCALE_MAX_S, theme.VERMILLION)):  # fmt: skip
            pen = QPen(QColor(c), band_w, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap)
            p.setPen(pen)
            a0, a1 = self._angle(lo), self._angle(hi)
            p.drawArc(arc_rect, int(a0 * 16), int((a1 - a0) * 16))
        # band labels 5 and 10
        tick_font = QFont(theme.FONT_FAMILY)
        tick_font.setPixelSize(max(9, int(r * 0.2)))
        p.setFont(tick_font)
        p.setPen(QColor(theme.TEXT_DIM))
        for value in (s.aspiration_s, s.target_s):
            a = math.radians(self._angle(value))
            tx, ty = cx + (r - band_w * 1.9) * math.cos(a), cy - (r - band_w * 1.9) * math.sin(a)
            p.drawText(QRectF(tx - 20, ty - 10, 40, 20), Qt.AlignmentFlag.AlignCenter, f"{value / 60:.0f}")
        # p90 marker: a triangle outside the arc
        if s.p90_s is not None:
            a = math.radians(self._angle(s.p90_s))
            tip = QPointF(cx + (r + band_w * 0.5) * math.cos(a), cy - (r + band_w * 0.5) * math.sin(a))
            base = r + band_w * 1.5
            left = QPointF(cx + base * math.cos(a + 0.07), cy - base * math.sin(a + 0.07))
            right = QPointF(cx + base * math.cos(a - 0.07), cy - base * math.sin(a - 0.07))
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
        # median value
        value_font = QFont(theme.FONT_FAMILY)
        value_font.setPixelSize(max(12, int(r * 0.42)))
        value_font.setBold(True)
        p.setFont(value_font)
        p.setPen(QColor(theme.TEXT))
        median = "–" if s.median_s is None else fmt_num(s.median_s / 60, 1)
        p.drawText(QRectF(cx - r, cy + r * 0.05, 2 * r, r * 0.48), Qt.AlignmentFlag.AlignCenter, median)
        unit_font = QFont(theme.FONT_FAMILY)
        unit_font.setPixelSize(max(9, int(r * 0.18)))
        p.setFont(unit_font)
        p.setPen(QColor(theme.TEXT_DIM))
        p.drawText(QRectF(cx - r, cy + r * 0.52, 2 * r, r * 0.24), Qt.AlignmentFlag.AlignCenter, tr("median, min"))
        # text lines
        line_h = text_h / 3
        line_font = QFont(theme.FONT_FAMILY)
        line_font.setPixelSize(max(10, int(line_h * 0.62)))
        top = h - text_h
        for i, line in enumerate(self.lines()):
            bold = i == 2
            line_font.setBold(bold)
            p.setFont(line_font)
            p.setPen(colour if bold else QColor(theme.TEXT))
            if i == 1 and s.overdue_now:
                p.setPen(QColor(theme.VERMILLION))
            p.drawText(QRectF(4, top + i * line_h, w - 8, line_h), Qt.AlignmentFlag.AlignCenter, line)
        p.end()


class GaugesPanel(Panel):
    """The Polda's gauge first, then every Polres worst first; pages rotate when they do not fit."""

    polresActivated = Signal(str)

    def __init__(self, per_page: int = 40, page_seconds: float = 15.0, parent: QWidget | None = None) -> None:
        super().__init__(tr("Response time: call to first unit on scene"), parent)
        self.per_page = per_page
        self.grid = QGridLayout()
        self.grid.setSpacing(6)
        self.outer.addLayout(self.grid, 1)
        self.gauges: list[GaugeWidget] = []
        self.page = 0
        self.snapshot: BoardSnapshot | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(int(page_seconds * 1000))
        self._timer.timeout.connect(self.next_page)
        self._timer.start()

    def stats_in_order(self) -> list[tuple[ResponseStats, bool]]:
        if self.snapshot is None:
            return []
        return [(self.snapshot.response_polda, True)] + [(r, False) for r in self.snapshot.response_by_polres]

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

    def _columns(self, count: int) -> int:
        w, h = max(1, self.width()), max(1, self.height())
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
        self.subtitle.setText(f"{window_text} · {tr('target')} 10 {tr('min')}, {tr('aspiration')} 5 {tr('min')}{page}")

    def resizeEvent(self, event: object) -> None:  # re-flow the grid to the new shape
        super().resizeEvent(event)  # type: ignore[arg-type]
        if self.snapshot is not None:
            self._ensure(min(len(self.stats_in_order()), self.per_page))
