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
    assert unit["Service"]["Restart"] == "on-failure" and unit["Service"]["RestartSec"] == "5"
    assert unit["Service"]["ExecStart"].endswith("wallboard kiosk")
    assert unit["Install"]["WantedBy"] == "graphical-session.target"


def test_desktop_entries() -> None:
    app = read_ini("wallboard.desktop")["Desktop Entry"]
    assert (app["Type"], app["Exec"], app["Terminal"]) == ("Application", "wallboard run", "false")
    autostart = read_ini("wallboard-kiosk-autostart.desktop")["Desktop Entry"]
    assert autostart["Exec"] == "wallboard kiosk"


def test_spec_ships_every_offline_asset() -> None:
    spec = (PACKAGING / "wallboard.spec").read_text(encoding="utf-8")
    for needle in ('ROOT / "resources"', '"js_lib_leaflet"', "wallboard_map.js", '"tzdata"', "QtWebEngineWidgets",
                   '"PySide6.QtMultimedia"'):  # fmt: skip
        assert needle in spec, needle


def test_spec_leaves_out_what_the_board_does_not_use() -> None:
    spec = (PACKAGING / "wallboard.spec").read_text(encoding="utf-8")
    for needle in ("Pdf", "WaylandCompositor", "qtwebengine_devtools_resources", "WebEngineQuick"):
        assert needle in spec, needle


def unit() -> configparser.ConfigParser:
    return read_ini("wallboard-kiosk.service")


def test_the_unit_restarts_failures_but_not_the_pin_exit() -> None:
    from wallboard.ui.kiosk import PIN_EXIT_STATUS

    service = unit()["Service"]
    assert service["Type"] == "notify" and service["NotifyAccess"] == "main"
    assert int(service["WatchdogSec"]) >= 10
    assert service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"].split() == [str(PIN_EXIT_STATUS)]


def test_the_unit_is_bound_to_the_graphical_session() -> None:
    section = unit()["Unit"]
    assert section["PartOf"] == "graphical-session.target"
    assert "graphical-session.target" in section["After"].split()
    assert "network-online.target" not in section.get("After", "")  # means nothing in a user unit
    assert unit()["Install"]["WantedBy"] == "graphical-session.target"


def test_the_watchdog_is_pinged_more_often_than_it_bites() -> None:
    from wallboard.ui.watchdog import watchdog_interval_s

    seconds = int(unit()["Service"]["WatchdogSec"])
    interval = watchdog_interval_s({"WATCHDOG_USEC": str(seconds * 1_000_000)})
    assert interval is not None and interval <= seconds / 2


def test_bootstrap_demo_installs_the_runtime_only_and_test_the_test_tools() -> None:
    import subprocess

    def spec(mode: str) -> str:
        script = PACKAGING / "bootstrap.sh"
        return subprocess.run(["bash", str(script), "spec", mode], capture_output=True, text=True, check=True).stdout

    assert spec("demo").strip() == "."
    assert spec("setup").strip() == "."
    assert spec("test").strip() == ".[test]"
