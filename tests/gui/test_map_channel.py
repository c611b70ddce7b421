"""Map updates travel through one QWebChannel subscription: no script is compiled per tick (issue 18, flat memory)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from wallboard.config import MapConfig
from wallboard.core.model import PositionFix, Unit, UnitKind, UnitStatus
from wallboard.core.timeutil import ManualClock
from wallboard.resources import kaltim_reference
from wallboard.ui.map import MapView

from .conftest import NOW

pytestmark = pytest.mark.webengine


def test_ticks_go_through_the_channel_and_never_through_run_javascript(
    app: QApplication, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock(NOW)
    view = MapView(kaltim_reference(), "kaltim", MapConfig(), "Asia/Makassar", clock)
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    with qtbot.waitSignal(view.loaded, timeout=60_000):
        pass
    assert "/qwebchannel.js" in view.scheme_handler.served, "Qt's qwebchannel.js is served by our own scheme"
    assert not any("qwebchannel" in url for url in view.interceptor.blocked), "nothing fetched from elsewhere"
    scripts: list[str] = []
    monkeypatch.setattr(view.page, "runJavaScript", lambda *a, **k: scripts.append(str(a[0])))
    sent = view.bridge.sent
    for tick in range(20):
        clock.advance(1.0)
        view.update_units([Unit(f"u{i}", tick + 1, f"CS-{i}", "64.71", UnitKind.R2, UnitStatus.EN_ROUTE,
                                PositionFix(-1.27 + tick * 0.001, 116.83 + i * 0.01, 0.0, 30.0, clock.now()))
                           for i in range(5)])  # fmt: skip
        view.flush()
    box: list[dict[str, Any]] = []
    view.query_state(box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=10_000)
    assert scripts == [], "no tick compiles a script"
    assert view.bridge.sent - sent >= 21, "a message per tick (the 250 ms timer adds its own), one for the query"
    assert round(box[0]["units"]["u0"]["lat"], 4) == round(-1.27 + 19 * 0.001, 4), "the query sees every tick before it"
    assert view.page.js_errors == []
