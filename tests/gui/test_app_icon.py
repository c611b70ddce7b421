"""Our own application icon: a shield with 110, in every size desktops ask for, on the windows and in the .desktop
files."""

from __future__ import annotations

import configparser
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from wallboard.resources import resource_path
from wallboard.ui.theme import ICON_SIZES, app_icon

ROOT = Path(__file__).resolve().parents[2]


def test_the_icon_has_every_size_and_is_ours(qapp: QApplication) -> None:
    icon = app_icon()
    assert not icon.isNull()
    assert {s.width() for s in icon.availableSizes()} == set(ICON_SIZES)
    assert resource_path("icons", "wallboard.svg").is_file()
    image = QImage(str(resource_path("icons", "wallboard-256.png")))
    assert image.size() == QSize(256, 256)
    orange = image.pixelColor(75, 80)  # the shield's orange (#E69F00), left of and above the number
    assert (orange.red(), orange.green(), orange.blue()) == (0xE6, 0x9F, 0x00)


def test_the_desktop_files_name_our_icon() -> None:
    for name in ("wallboard.desktop", "wallboard-kiosk-autostart.desktop"):
        parser = configparser.ConfigParser(interpolation=None)
        parser.optionxform = str  # type: ignore[assignment, method-assign]
        parser.read(ROOT / "packaging" / name, encoding="utf-8")
        assert parser["Desktop Entry"]["Icon"] == "wallboard", name
