"""Where prank and silent calls come from today, as counts per grid cell (about 5.5 km) over the board's Polres HQs:
never a single caller's position. Painted, not a web map: it lives in the supervisors' prank watch."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from wallboard.core.prank import PrankCell
from wallboard.ui import theme
from wallboard.ui.i18n import tr


class PrankCellMap(QWidget):
    def __init__(self, hqs: list[tuple[float, float]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.hqs = hqs  # (lat, lon) of the board's Polres HQs: the reader's landmarks
        self.cells: tuple[PrankCell, ...] = ()
        self.unit = 1.0

    def set_cells(self, cells: tuple[PrankCell, ...]) -> None:
        if cells != self.cells:
            self.cells = cells
            self.update()

    def set_scale(self, unit: float) -> None:
        self.unit = unit
        self.update()

    def _bounds(self) -> tuple[float, float, float, float]:
        lats = [lat for lat, _ in self.hqs] + [c.lat for c in self.cells] + [c.lat + c.size_deg for c in self.cells]
        lons = [lon for _, lon in self.hqs] + [c.lon for c in self.cells] + [c.lon + c.size_deg for c in self.cells]
        if not lats:
            return -1.0, 1.0, -1.0, 1.0
        pad = 0.1
        return min(lats) - pad, max(lats) + pad, min(lons) - pad, max(lons) + pad

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor(theme.BACKGROUND))
        south, north, west, east = self._bounds()
        margin = theme.px(8, self.unit)
        w, h = self.width() - 2 * margin, self.height() - 2 * margin
        scale = min(w / max(east - west, 1e-6), h / max(north - south, 1e-6))  # degrees to pixels, same both ways
        x0 = margin + (w - (east - west) * scale) / 2
        y0 = margin + (h - (north - south) * scale) / 2

        def at(lat: float, lon: float) -> QPointF:
            return QPointF(x0 + (lon - west) * scale, y0 + (north - lat) * scale)

        busiest = max((c.calls for c in self.cells), default=1)
        font = theme.font(theme.px(theme.SMALL, self.unit), bold=True)
        p.setFont(font)
        for c in self.cells:
            top_left = at(c.lat + c.size_deg, c.lon)
            side = max(float(theme.px(9, self.unit)), c.size_deg * scale)  # a cell stays visible at province scale
            colour = QColor(theme.ORANGE)
            colour.setAlphaF(0.45 + 0.55 * c.calls / busiest)
            rect = QRectF(top_left.x(), top_left.y(), side, side)
            p.fillRect(rect, colour)
            if side >= font.pixelSize() * 1.6:
                p.setPen(QColor(theme.BACKGROUND))
                p.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(c.calls))
        p.setPen(QPen(QColor(theme.TEXT), max(1.0, self.unit)))
        p.setBrush(QColor(theme.BACKGROUND))
        r = theme.px(4, self.unit)
        for lat, lon in self.hqs:
            p.drawEllipse(at(lat, lon), r, r)
        p.setPen(QColor(theme.TEXT_DIM))
        legend = "■ " + tr("prank/silent calls today per cell") + "   ○ " + tr("Polres HQ")
        p.drawText(self.rect().adjusted(margin, margin, -margin, -margin),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, legend)  # fmt: skip
        p.end()
