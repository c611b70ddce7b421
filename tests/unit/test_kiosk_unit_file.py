"""The systemd user unit matches what the board does: notify + watchdog, restart on failure except after the PIN exit
(whose exit status is the one the kiosk uses), bound to the graphical session."""

from __future__ import annotations

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read(ROOT / "packaging" / "wallboard-kiosk.service", encoding="utf-8")
    return parser


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
