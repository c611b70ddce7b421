"""Call volume over the last 24 h (pyqtgraph; items built once and updated with ``setData``).

Top: all calls per 5 minutes, stacked nuisance (prank + silent, dim, dotted edge) / other / genuine, with the same
weekday last week as a dashed line. Bottom: genuine calls alone, in orange bars, so they stand out from the mass.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPen, QResizeEvent
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QVBoxLayout, QWidget

from wallboard.core.snapshot import BoardSnapshot, VolumeSeries, Window
from wallboard.ui import theme
from wallboard.ui.i18n import fmt_int, fmt_num, tr
from wallboard.ui.panels.base import Panel, TextLabel

ROLLUP_MINUTES = 5


class LocalTimeAxis(pg.AxisItem):
    """x is POSIX seconds; ticks show the board's local hour."""

    def __init__(self, tz: str, **kwargs: object) -> None:
        super().__init__(orientation="bottom", **kwargs)
        self.zone = ZoneInfo(tz)

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:  # noqa: N803
        step = 3 * 3600 if size > 500 else 6 * 3600
        offset = datetime.fromtimestamp(minVal, self.zone).utcoffset()
        shift = offset.total_seconds() if offset else 0.0
        first = (int((minVal + shift) // step) + 1) * step - shift
        return [(step, list(np.arange(first, maxVal, step)))]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [datetime.fromtimestamp(v, self.zone).strftime("%H:%M") for v in values]


def rollup(values: tuple[int, ...], factor: int) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    usable = len(arr) - len(arr) % factor
    return arr[len(arr) - usable :].reshape(-1, factor).sum(axis=1)


class VolumePanel(Panel):
    streams = ("calls",)  # the feed streams it draws from (aged while one is not live)

    def __init__(self, tz: str, parent: QWidget | None = None) -> None:
        super().__init__(tr("Call volume"), parent)
        self.tz = tz
        pg.setConfigOptions(antialias=True, background=theme.PANEL, foreground=theme.TEXT_DIM)
        body = QHBoxLayout()
        self.outer.addLayout(body, 1)
        numbers = QGridLayout()
        numbers.setVerticalSpacing(2)
        self.rate_value = TextLabel("–", role="headline")
        self.rate_caption = TextLabel(tr("calls / hour (last 15 min)"))
        self.today_value = TextLabel("–", role="big")
        self.today_caption = TextLabel(tr("calls today"))
        self.genuine_value = TextLabel("–", role="big")
        self.genuine_caption = TextLabel(tr("genuine today"))
        column = QVBoxLayout()
        for value, caption in (
            (self.rate_value, self.rate_caption),
            (self.today_value, self.today_caption),
            (self.genuine_value, self.genuine_caption),
        ):
            column.addWidget(value)
            column.addWidget(caption)
            column.addSpacing(6)
        column.addStretch(1)
        body.addLayout(column, 0)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(theme.PANEL)
        body.addWidget(self.graphics, 1)
        # The legend has a row of its own above the charts: inside the plot it hid the most recent hours.
        self.legend = pg.LegendItem(colCount=4, labelTextColor=theme.TEXT, brush=pg.mkBrush(theme.PANEL))
        self.graphics.addItem(self.legend, row=0, col=0)
        self.top = self.graphics.addPlot(row=1, col=0, axisItems={"bottom": LocalTimeAxis(tz)})
        self.bottom = self.graphics.addPlot(row=2, col=0, axisItems={"bottom": LocalTimeAxis(tz)})
        self.graphics.ci.layout.setRowStretchFactor(0, 0)
        self.graphics.ci.layout.setRowStretchFactor(1, 3)
        self.graphics.ci.layout.setRowStretchFactor(2, 2)
        self.bottom.setXLink(self.top)
        for plot in (self.top, self.bottom):
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.showGrid(x=True, y=True, alpha=0.15)
        # No axis titles: on a 768-line screen they overlap; the subtitle says "per 5 min" for both charts.
        # Stacked areas: total (top edge) over nuisance + other; built once, fed with setData.
        # The curves are drawn without antialiasing: on the software rasteriser a wall uses (no GPU), an antialiased
        # 288-point curve took 45-85 ms to paint, four of them a GUI stall of 200+ ms at every replot; aliased they
        # take 1-10 ms, and at 3-5 m from the screen the edges look the same.
        self.total_curve = self.top.plot(
            [], [], pen=pg.mkPen(theme.GENUINE_COLOUR, width=2), fillLevel=0,
            brush=pg.mkBrush(QColor(theme.GENUINE_COLOUR).darker(250)), name=tr("genuine"), antialias=False,
        )  # fmt: skip
        self.other_curve = self.top.plot(
            [], [], pen=pg.mkPen(theme.OTHER_COLOUR, width=1), fillLevel=0,
            brush=pg.mkBrush(QColor(theme.OTHER_COLOUR).darker(300)), name=tr("info / complaint"), antialias=False,
        )  # fmt: skip
        self.nuisance_curve = self.top.plot(
            [], [], pen=pg.mkPen(theme.NUISANCE_COLOUR, width=1, style=Qt.PenStyle.DotLine), fillLevel=0,
            brush=pg.mkBrush(theme.NUISANCE_COLOUR), name=tr("prank / silent"), antialias=False,
        )  # fmt: skip
        last_week_pen = QPen(QColor(theme.LAST_WEEK_COLOUR))
        last_week_pen.setStyle(Qt.PenStyle.DashLine)
        last_week_pen.setWidthF(1.5)
        last_week_pen.setCosmetic(True)
        self.last_week_curve = self.top.plot([], [], pen=last_week_pen, name=tr("last week, same day"), antialias=False)
        for curve in (self.total_curve, self.other_curve, self.nuisance_curve, self.last_week_curve):
            self.legend.addItem(curve, curve.name())
        self.genuine_bars = pg.BarGraphItem(
            x=[0], height=[0], width=ROLLUP_MINUTES * 60 * 0.8, brush=theme.GENUINE_COLOUR
        )
        self.bottom.addItem(self.genuine_bars)
        # The bin still filling is drawn again on its own, hatched over the solid bar: one brush for all bars keeps
        # the bar item drawing them in one call (per-bar brushes made every replot draw 288 bars one by one).
        self.filling_bar = pg.BarGraphItem(
            x=[0], height=[0], width=ROLLUP_MINUTES * 60 * 0.8,
            brush=QBrush(QColor(theme.BACKGROUND), Qt.BrushStyle.BDiagPattern), pen=pg.mkPen(None),
        )  # fmt: skip
        self.bottom.addItem(self.filling_bar)
        # The current 5-minute bin is still filling: shaded in both charts, its bar hatched, so a low last bar is
        # not read as a sudden drop in calls.
        self.partial_regions = []
        for plot in (self.top, self.bottom):
            region = pg.LinearRegionItem(values=(0, 1), movable=False, brush=pg.mkBrush(255, 255, 255, 40),
                                         pen=pg.mkPen(None))  # fmt: skip
            region.setZValue(-10)
            plot.addItem(region)
            self.partial_regions.append(region)
        self.partial_bin: tuple[float, float] | None = None
        self.last_series: VolumeSeries | None = None
        self.last_snapshot: BoardSnapshot | None = None
        self._plotted: tuple[object, ...] | None = None
        self.series_visible = {"genuine": True, "nuisance": True, "other": True}
        self.set_scale(1.0)

    def set_scale(self, unit: float) -> None:
        super().set_scale(unit)
        self.rate_value.set_style(theme.px(theme.HEADLINE, unit), bold=True, colour=theme.TEXT)
        for label in (self.today_value, self.genuine_value):
            label.set_style(theme.px(theme.BIG, unit), bold=True)
        self.genuine_value.set_style(theme.px(theme.BIG, unit), bold=True, colour=theme.GENUINE_COLOUR)
        for caption in (self.rate_caption, self.today_caption, self.genuine_caption):
            caption.set_style(theme.px(theme.SMALL, unit), colour=theme.TEXT_DIM)
        tick_font = QFont(theme.FONT_FAMILY)
        tick_font.setPixelSize(theme.px(theme.SMALL, unit))
        for plot in (self.top, self.bottom):
            for axis in ("left", "bottom"):
                ax = plot.getAxis(axis)
                ax.setTickFont(tick_font)
                ax.setStyle(tickTextOffset=theme.px(4, unit))
                ax.label.setFont(tick_font)
            plot.getAxis("left").setWidth(theme.px(52, unit))
        for _, label in self.legend.items:
            label.setText(label.text, size=f"{theme.px(theme.SMALL, unit)}px", color=theme.TEXT)
        # Lines, markers and legend icons scale with the wall like the type does (4K: not 1 px hairlines).
        self.line_width = max(1.0, 2.0 * unit)
        self.total_curve.setPen(pg.mkPen(theme.GENUINE_COLOUR, width=self.line_width))
        self.other_curve.setPen(pg.mkPen(theme.OTHER_COLOUR, width=max(1.0, 1.5 * unit)))
        self.nuisance_curve.setPen(pg.mkPen(theme.NUISANCE_COLOUR, width=max(1.0, 1.5 * unit),
                                            style=Qt.PenStyle.DotLine))  # fmt: skip
        week_pen = QPen(QColor(theme.LAST_WEEK_COLOUR))
        week_pen.setStyle(Qt.PenStyle.DashLine)
        week_pen.setWidthF(max(1.5, 2.0 * unit))
        week_pen.setCosmetic(True)
        self.last_week_curve.setPen(week_pen)
        for sample, _ in self.legend.items:
            sample.setScale(unit)
            sample.setFixedWidth(20 * unit)
            sample.setFixedHeight(20 * unit)
        for plot in (self.top, self.bottom):
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setPen(pg.mkPen(theme.TEXT_DIM, width=max(1.0, unit)))
        self._fit_legend()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_legend()

    def _fit_legend(self) -> None:
        """One legend row when it fits the chart's width, two otherwise (the chart keeps its height)."""
        widths = [label.item.boundingRect().width() + sample.boundingRect().width() + 24 for sample, label in
                  self.legend.items]  # fmt: skip
        columns = 4 if sum(widths) < self.graphics.width() - 20 else 2
        if self.legend.columnCount != columns:
            self.legend.setColumnCount(columns)

    def set_series_visible(self, visible: dict[str, bool]) -> None:
        """The supervisor's genuine / prank / other filter."""
        self.series_visible.update(visible)
        if self.last_snapshot is not None:
            self.update_snapshot(self.last_snapshot)

    def update_snapshot(self, snapshot: BoardSnapshot) -> None:
        self.last_snapshot = snapshot
        v = snapshot.volume
        self.last_series = v
        factor = max(1, ROLLUP_MINUTES * 60 // v.bucket_s)
        shown = self.series_visible
        genuine = rollup(v.genuine, factor) * shown["genuine"]
        nuisance = rollup(v.nuisance, factor) * shown["nuisance"]
        other = rollup(v.other, factor) * shown["other"]
        n = len(genuine)
        step = v.bucket_s * factor
        end = v.start + len(v.genuine) * v.bucket_s
        x = end - step * (n - np.arange(n)) + step / 2
        week = None if v.same_weekday_last_week is None else rollup(v.same_weekday_last_week, factor)
        # The chart is the costliest thing on the wall to paint: touch it only when what it shows has changed
        # (a new call, a new minute), not on every snapshot.
        key = (end, genuine.tobytes(), nuisance.tobytes(), other.tobytes(), None if week is None else week.tobytes())
        if key != self._plotted:
            self._plotted = key
            self._plot(x, genuine, nuisance, other, week, step, end)
        partial = (v.partial_bin_start, v.partial_bin_start + v.align_s)
        if partial != self.partial_bin:
            self.partial_bin = partial
            for region in self.partial_regions:
                region.setRegion(partial)
        today = snapshot.tiers.get(Window.TODAY)
        self.rate_value.setText(fmt_num(v.current_rate_per_hour, 0))
        self.today_value.setText(fmt_int(today.received) if today else "–")
        self.genuine_value.setText(fmt_int(today.genuine) if today else "–")
        overlay = (
            tr("dashed: same weekday last week")
            if v.same_weekday_last_week is not None
            else tr("no history for last week yet")
        )
        self.subtitle.setText(
            f"{tr('last 24 h')} · {tr('calls per 5 min')} · {tr('shaded: current 5 min, still filling')} · {overlay}"
        )

    def _plot(
        self,
        x: np.ndarray,
        genuine: np.ndarray,
        nuisance: np.ndarray,
        other: np.ndarray,
        week: np.ndarray | None,
        step: float,
        end: float,
    ) -> None:
        n = len(genuine)
        self.nuisance_curve.setData(x, nuisance)
        self.other_curve.setData(x, nuisance + other)
        self.total_curve.setData(x, nuisance + other + genuine)
        if week is not None:
            self.last_week_curve.setData(x, week)
        else:
            self.last_week_curve.setData([], [])
        self.genuine_bars.setOpts(x=x, height=genuine, width=step * 0.8)
        # The bar of the bin still filling: hatched, not solid.
        self.filling_bar.setOpts(x=x[-1:], height=genuine[-1:], width=step * 0.8)
        self.bottom.setYRange(0, max(2.0, float(genuine.max()) if n else 2.0) * 1.15, padding=0)
        self.top.setXRange(end - 24 * 3600, end, padding=0.01)
