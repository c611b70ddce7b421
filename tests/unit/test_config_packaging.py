"""The shipped service, desktop entries and PyInstaller spec say what the kiosk relies on."""

from __future__ import annotations

import configparser
from pathlib import Path

PACKAGING = Path(__file__).resolve().parents[2] / "packaging"


def read_ini(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive in these files
    parser.read_string((PACKAGING / name).read_text(encoding="utf-8"))
    return parser


def test_systemd_unit_restarts_the_kiosk_in_the_graphical_session() -> None:
    unit = read_ini("wallboard-kiosk.service")
    assert "graphical-session.target" in unit["Unit"]["After"]
    assert unit["Unit"]["StartLimitIntervalSec"] == "0"
    assert unit["Service"]["Restart"] == "always" and unit["Service"]["RestartSec"] == "5"
    assert unit["Service"]["ExecStart"].endswith("wallboard kiosk")
    assert unit["Install"]["WantedBy"] == "graphical-session.target"


def test_desktop_entries() -> None:
    app = read_ini("wallboard.desktop")["Desktop Entry"]
    assert (app["Type"], app["Exec"], app["Terminal"]) == ("Application", "wallboard run", "false")
    autostart = read_ini("wallboard-kiosk-autostart.desktop")["Desktop Entry"]
    assert autostart["Exec"] == "wallboard kiosk"


def test_spec_ships_every_offline_asset() -> None:
    spec = (PACKAGING / "wallboard.spec").read_text(encoding="utf-8")
    for needle in ('ROOT / "resources"', '"js_lib_leaflet"', "wallboard_map.js", '"tzdata"', "QtWebEngineWidgets"):
        assert needle in spec, needle
