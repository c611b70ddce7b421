"""The wall theme: dark, high contrast, a colour-blind-safe palette (Okabe–Ito), sizes that scale with the screen.

Status is never colour alone: every status colour comes with a symbol and a word (see ``STATUS``).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont, QIcon, QPalette
from PySide6.QtWidgets import QApplication

# Okabe–Ito: distinguishable with every common colour-vision deficiency.
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"

BACKGROUND = "#0B0E13"
PANEL = "#141A22"
PANEL_BORDER = "#2A3442"
TEXT = "#F2F5F8"
TEXT_DIM = "#A9B4C2"
GREY = "#7A8594"

# Call-volume series: genuine calls must stand out from the nuisance mass.
GENUINE_COLOUR = ORANGE
NUISANCE_COLOUR = "#5E7187"
OTHER_COLOUR = SKY
LAST_WEEK_COLOUR = "#E8E8E8"


@dataclass(frozen=True)
class Status:
    colour: str
    symbol: str


STATUS = {
    "ok": Status(GREEN, "●"),
    "watch": Status(ORANGE, "▲"),
    "bad": Status(VERMILLION, "■"),
    "none": Status(GREY, "○"),
    "small": Status(SKY, "◌"),
}

FONT_FAMILY = "DejaVu Sans"


def scale_for(height_px: int) -> float:
    """Size unit: 1.0 on a 1080-line screen, 2.0 at 2160 (4K), never below 0.7 (1366×768)."""
    return max(0.7, height_px / 1080.0)


def px(size_at_1080: float, unit: float) -> int:
    return max(9, round(size_at_1080 * unit))


# Sizes at 1080 lines; ×2 at 4K gives headline ≥ 80 px and labels ≥ 28 px.
HEADLINE = 42.0
BIG = 30.0
LABEL = 14.5
SMALL = 14.0
TABLE = 21.0  # the queue/tier table: the panel has the height for more than a label


def font(size_px: int, bold: bool = False) -> QFont:
    f = QFont(FONT_FAMILY)
    f.setPixelSize(size_px)
    f.setBold(bold)
    return f


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, QColor(BACKGROUND))
    palette.setColor(QPalette.ColorRole.WindowText, QColor(TEXT))
    palette.setColor(QPalette.ColorRole.Base, QColor(PANEL))
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor("#1B2330"))
    palette.setColor(QPalette.ColorRole.Text, QColor(TEXT))
    palette.setColor(QPalette.ColorRole.Button, QColor(PANEL))
    palette.setColor(QPalette.ColorRole.ButtonText, QColor(TEXT))
    palette.setColor(QPalette.ColorRole.Highlight, QColor(BLUE))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor(TEXT))
    palette.setColor(QPalette.ColorRole.ToolTipBase, QColor(PANEL))
    palette.setColor(QPalette.ColorRole.ToolTipText, QColor(TEXT))
    app.setPalette(palette)
    app.setFont(font(14))
    app.setStyleSheet(
        f"QWidget {{ color: {TEXT}; }}"
        f"QFrame#panel {{ background: {PANEL}; border: 1px solid {PANEL_BORDER}; border-radius: 6px; }}"
        f"QLabel {{ background: transparent; }}"
        f"QToolBar {{ background: {PANEL}; border: none; spacing: 8px; }}"
        f"QTableWidget {{ gridline-color: {PANEL_BORDER}; }}"
    )


ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def app_icon() -> QIcon:
    """The application icon (a shield with 110, resources/icons/), every rendered size; empty if not shipped."""
    from wallboard.resources import resource_path

    icon = QIcon()
    try:
        folder = resource_path("icons")
    except FileNotFoundError:
        return icon
    for size in ICON_SIZES:
        png = folder / f"wallboard-{size}.png"
        if png.is_file():
            icon.addFile(str(png))
    return icon
