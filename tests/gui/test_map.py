"""The live map with the real QWebEngineView (offscreen): markers, updates in place, staleness, XSS, offline-only."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from wallboard.config import MapConfig
from wallboard.core.model import GeoPoint, Incident, PositionFix, Unit, UnitKind, UnitStatus
from wallboard.core.reference import ReferenceData
from wallboard.core.timeutil import ManualClock
from wallboard.resources import all_poldas, kaltim_reference
from wallboard.ui.map import MAX_UNITS_PER_PUSH, MapView

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
    # Whatever a test fed the map, its script never failed (CSP refusals are the page doing its job).
    assert [e for e in view.page.js_errors if "Content Security Policy" not in e] == []


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
    assert len(s["hq"]) == 10 and "Polresta Balikpapan" in s["hq"], "one named marker per Kaltim Polres HQ"
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


def test_region_stays_fitted_when_the_panel_resizes_until_the_user_moves_it(qtbot: QtBot, map_view: MapView) -> None:
    before = state(qtbot, map_view)["zoom"]
    map_view.resize(1920, 1080)
    qtbot.waitUntil(lambda: state(qtbot, map_view)["zoom"] > before, timeout=10_000)


def test_user_zoom_and_pan_survive_updates(qtbot: QtBot, map_view: MapView) -> None:
    js(qtbot, map_view, "wb.map.setView([-1.0, 117.0], 11, {animate: false}); 1")
    map_view.update_units([unit("u1", 1, -1.27, 116.83)])
    map_view.update_units([unit("u1", 2, -1.28, 116.84)])
    map_view.resize(1200, 800)  # and a layout change
    qtbot.wait(300)
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
    reference = kaltim_reference()
    hostile = replace(reference.polres["64.71"], name=XSS)
    map_view.set_reference(ReferenceData.of(reference.poldas.values(), [*reference.polres.values(), hostile]))
    s = state(qtbot, map_view)
    assert XSS in s["hq"], "a renamed HQ is redrawn, its name as text"
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
    map_view.update_units([unit(f"u{n}", 1, -1.2 - n / 100, 116.8, UnitStatus.EN_ROUTE) for n in range(50)])
    map_view.update_incidents([Incident("i1", 1, "64.71", None, NOW - 900, location=GeoPoint(-1.25, 116.85))])
    state(qtbot, map_view)
    js(qtbot, map_view, "wb.units['u1'].marker.openTooltip(); wb.fit(); 1")
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


def test_legend_shows_every_status_and_r2_r4_differ_in_size(qtbot: QtBot, map_view: MapView) -> None:
    map_view.update_units([unit("m", 1, -1.27, 116.83), unit("c", 1, -1.25, 116.85, kind=UnitKind.R4)])
    s = state(qtbot, map_view)
    for word in ("available", "dispatched", "en route", "on scene", "returning", "out of service", "R2", "R4"):
        assert word in s["legend"]
    assert s["units"]["c"]["radius"] > s["units"]["m"]["radius"]
    for n, status in enumerate(UnitStatus):
        map_view.update_units([unit(f"s{n}", 1, -1.2, 116.8 + n / 100, status)])
    s = state(qtbot, map_view)
    shapes = {s["units"][f"s{n}"]["shape"] + s["units"][f"s{n}"]["colour"] for n in range(len(UnitStatus))}
    assert len(shapes) == len(UnitStatus), "every status has its own look"


def test_overdue_incident_gets_a_visible_label_that_goes_when_a_unit_arrives(
    qtbot: QtBot, map_view: MapView, clock: ManualClock
) -> None:
    where = GeoPoint(-1.25, 116.85)
    map_view.update_incidents([Incident("i1", 1, "64.71", "c1", NOW - 60, kind="Pencurian", location=where)])
    s = state(qtbot, map_view)
    assert s["incidents"]["i1"]["label"] is None
    young_colour = s["incidents"]["i1"]["colour"]
    clock.advance(6 * 60)  # past half the target: the ring changes colour with age and the label counts down
    s = state(qtbot, map_view)
    assert s["incidents"]["i1"]["colour"] != young_colour
    assert s["incidents"]["i1"]["label"] == "▲ 3:00 left"
    clock.advance(2 * 60 + 59)  # 9:59 after the call
    assert state(qtbot, map_view)["incidents"]["i1"]["label"] == "▲ 0:01 left"
    clock.advance(1)  # 10:00: the deadline itself, not yet overdue
    assert state(qtbot, map_view)["incidents"]["i1"]["label"] == "▲ 0:00 left"
    clock.advance(1)  # 10:01: overdue, counting up in red
    assert state(qtbot, map_view)["incidents"]["i1"]["label"] == "⚠ OVERDUE +0:01"
    clock.advance(179)
    s = state(qtbot, map_view)
    assert s["incidents"]["i1"]["label"] == "⚠ OVERDUE +3:00"
    assert js(qtbot, map_view, "document.querySelectorAll('.wb-overdue').length") == 1
    map_view.update_incidents(
        [Incident("i1", 2, "64.71", "c1", NOW - 60, kind="Pencurian", location=where, on_scene_at=NOW + 700)]
    )
    s = state(qtbot, map_view)
    assert not s["incidents"]["i1"]["overdue"] and s["incidents"]["i1"]["label"] is None
    # Leaflet fades a closing tooltip out for 200 ms before it leaves the DOM.
    qtbot.waitUntil(lambda: js(qtbot, map_view, "document.querySelectorAll('.wb-overdue').length") == 0, timeout=5000)


def test_unit_without_fix_leaves_the_map_and_identical_records_are_not_resent(qtbot: QtBot, map_view: MapView) -> None:
    map_view.update_units([unit("u1", 1, -1.27, 116.83), unit("u2", 1, -1.26, 116.84)])
    updates = state(qtbot, map_view)["updates"]
    map_view.update_units([unit("u1", 1, -1.27, 116.83)])  # the same record again
    assert state(qtbot, map_view)["updates"] == updates, "nothing changed, nothing sent"
    map_view.update_units([Unit("u2", 2, "BPN-R2-02", "64.71", UnitKind.R2, UnitStatus.AVAILABLE, None)])
    assert set(state(qtbot, map_view)["units"]) == {"u1"}
    map_view.update_units([Unit("u1", 2, "X", "61.71", UnitKind.R2, UnitStatus.AVAILABLE,
                                PositionFix(0.5, 101.4, 0.0, 30.0, NOW))])  # fmt: skip  # moved to another Polda
    assert state(qtbot, map_view)["units"] == {}


def test_nonsense_coordinates_do_not_spoil_the_tick(qtbot: QtBot, map_view: MapView) -> None:
    map_view.update_units([unit("nan", 1, float("nan"), 116.8), unit("inf", 1, -1.2, float("inf")),
                           unit("ok", 1, -1.27, 116.83, UnitStatus("on_scene"))])  # fmt: skip
    map_view.update_incidents([Incident("i", 1, "64.71", None, float("nan"), location=GeoPoint(-1.2, 116.8))])
    s = state(qtbot, map_view)
    assert set(s["units"]) == {"ok"} and s["units"]["ok"]["shape"] == "square"
    assert set(s["incidents"]) == {"i"}


def test_kiosk_autofit_refits_the_region_after_updates(app: QApplication, qtbot: QtBot, clock: ManualClock) -> None:
    view = MapView(kaltim_reference(), "kaltim", MapConfig(autofit=True), "Asia/Makassar", clock)
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    with qtbot.waitSignal(view.loaded, timeout=60_000):
        pass
    fitted = state(qtbot, view)
    js(qtbot, view, "wb.map.setView([-1.0, 117.0], 12, {animate: false}); 1")
    view.update_units([unit("u1", 1, -1.27, 116.83)])
    s = state(qtbot, view)
    assert s["zoom"] == fitted["zoom"]
    assert round(s["center"]["lat"], 2) == round(fitted["center"]["lat"], 2)


def test_national_board_names_the_polda_and_shows_polres_names_when_zoomed_in(
    app: QApplication, qtbot: QtBot, clock: ManualClock
) -> None:
    view = MapView(all_poldas(), None, MapConfig(), "Asia/Jakarta", clock)
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    with qtbot.waitSignal(view.loaded, timeout=60_000):
        pass
    s = state(qtbot, view)
    assert "Polda Kalimantan Timur" in s["hq"] and "Polresta Balikpapan" in s["hq"]
    hidden = "getComputedStyle(document.querySelector('.wb-hq-polres')).display"
    assert s["zoom"] < 7 and js(qtbot, view, hidden) == "none"
    js(qtbot, view, "wb.map.setView([-1.27, 116.83], 9, {animate: false}); 1")
    qtbot.waitUntil(lambda: js(qtbot, view, hidden) != "none", timeout=5000)
    assert view.page.js_errors == []


def test_a_burst_of_units_goes_in_chunks_and_all_arrive(qtbot: QtBot, map_view: MapView) -> None:
    map_view.update_units([unit(f"b{n}", 1, -1.0 - n / 5000, 116.5 + n / 5000) for n in range(2500)])
    map_view.flush()
    assert map_view.pending == 2500 - MAX_UNITS_PER_PUSH, "one push carries at most MAX_UNITS_PER_PUSH units"
    qtbot.waitUntil(lambda: map_view.pending == 0, timeout=10_000)
    assert len(state(qtbot, map_view)["units"]) == 2500


HOVER = """(function (kind, id) {
  var marker = (kind === "unit" ? wb.units : wb.incidents)[id].marker;
  var p = wb.map.latLngToContainerPoint(marker.getLatLng()), box = wb.map.getContainer().getBoundingClientRect();
  var x = box.left + p.x, y = box.top + p.y, target = document.elementFromPoint(x, y);
  target.dispatchEvent(new MouseEvent("mousemove", { clientX: x, clientY: y, bubbles: true }));
  return marker.isTooltipOpen();
})"""


def test_hovering_a_unit_or_an_incident_opens_its_tooltip(qtbot: QtBot, map_view: MapView) -> None:
    """A real pointer event at the marker's pixel, on whatever element is on top there (units, incidents and Polres
    HQs are drawn on separate canvases stacked over each other)."""
    map_view.update_units([unit("u1", 1, -0.9, 116.5)])
    map_view.update_incidents([Incident("i1", 1, "64.71", "c1", NOW - 60, location=GeoPoint(-0.5, 117.0))])
    state(qtbot, map_view)
    assert js(qtbot, map_view, f'{HOVER}("unit", "u1")') is True
    qtbot.wait(100)  # Leaflet handles one pointer move per canvas every 32 ms
    assert js(qtbot, map_view, f'{HOVER}("incident", "i1")') is True
