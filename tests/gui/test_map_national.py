"""The map stays readable at any scale: no two visible labels overlap at three zoom levels (measured in the page with
getBoundingClientRect), overdue boxes never cover a Polres name, the national map colours provinces by their Polda's
status and counts units instead of drawing 7,000 of them, the legend never covers a control, metric scale only."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from wallboard.config import MapConfig
from wallboard.core.metrics import MetricsEngine, MetricsSettings
from wallboard.core.model import GeoPoint, Incident, Polres, PositionFix, Unit, UnitKind, UnitStatus
from wallboard.core.reference import ReferenceData
from wallboard.core.timeutil import ManualClock
from wallboard.resources import all_poldas, kaltim_reference
from wallboard.ui.map import MapView

from .conftest import NOW

pytestmark = pytest.mark.webengine


def crowded_nation() -> ReferenceData:
    """Every Polda with a dozen Polres around its HQ (names as long as real ones), as the full reference will be."""
    rng = random.Random(3)
    base = all_poldas()
    polres = dict(base.polres)
    for polda in base.poldas.values():
        if polda.id == "kaltim":
            continue
        for k in range(12):
            pid = f"{polda.id}.{k}"
            lat, lon = polda.lat + rng.uniform(-1.2, 1.2), polda.lon + rng.uniform(-1.2, 1.2)
            name = f"Polres {polda.name.removeprefix('Polda ')} {k}"
            polres[pid] = Polres(pid, name, polda.id, lat, lon, polda.tz)
    return ReferenceData(dict(base.poldas), polres)


def get(qtbot: QtBot, view: MapView, what: str) -> Any:
    view.flush()
    box: list[Any] = []
    view.query(what, box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=10_000)
    return box[0]


def overlapping(labels: list[dict[str, Any]]) -> list[tuple[str, str]]:
    out = []
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            if (
                a["left"] < b["right"] - 0.5
                and b["left"] < a["right"] - 0.5
                and a["top"] < b["bottom"] - 0.5
                and (b["top"] < a["bottom"] - 0.5)
            ):
                out.append((a["text"], b["text"]))
    return out


def make(qtbot: QtBot, reference: ReferenceData, polda: str | None, config: MapConfig | None = None) -> MapView:
    view = MapView(reference, polda, config or MapConfig(), "Asia/Jakarta", ManualClock(NOW))
    qtbot.addWidget(view)
    view.resize(1200, 800)
    view.show()
    with qtbot.waitSignal(view.loaded, timeout=60_000):
        pass
    return view


@pytest.fixture
def national(app: QApplication, qtbot: QtBot) -> Iterator[MapView]:
    reference = crowded_nation()
    view = make(qtbot, reference, None)
    rng = random.Random(5)
    ids = [p for p in reference.polres if "." in p]
    engine = MetricsEngine(reference, None, MetricsSettings())
    incidents = []
    for k in range(300):
        p = reference.polres[rng.choice(ids)]
        received = NOW - rng.uniform(100, 5000)
        on_scene = received + rng.uniform(200, 1500) if k % 3 else None
        if sorted(reference.poldas).index(p.polda_id) % 2:  # half the country on target: quick, nothing overdue
            on_scene = received + rng.uniform(60, 250)
        incident = Incident(f"i{k}", 1, p.id, None, received, on_scene_at=on_scene, closed_at=None,
                            location=GeoPoint(p.lat + 0.05, p.lon + 0.05))  # fmt: skip
        engine.ingest_incident(incident)
        incidents.append(incident)
    units = [Unit(f"u{k}", 1, f"U-{k}", (p := reference.polres[rng.choice(ids)]).id, UnitKind.R2, UnitStatus.AVAILABLE,
                  PositionFix(p.lat + rng.uniform(-0.3, 0.3), p.lon + rng.uniform(-0.3, 0.3), 0.0, 30.0, NOW))
             for k in range(7000)]  # fmt: skip
    view.update_units(units)
    view.update_incidents(incidents)
    view.update_snapshot(engine.snapshot(NOW))
    qtbot.waitUntil(lambda: view.pending == 0, timeout=60_000)
    yield view
    assert [e for e in view.page.js_errors if "Content Security Policy" not in e] == []


def test_no_two_labels_overlap_at_three_zoom_levels_on_the_national_map(qtbot: QtBot, national: MapView) -> None:
    for zoom, centre in ((5, (-2.5, 118.0)), (7, (-7.3, 110.5)), (9, (-7.5, 112.5))):
        national.set_view(*centre, zoom)
        answer = get(qtbot, national, "labels")
        assert answer["zoom"] == zoom
        labels = answer["labels"]
        assert labels, f"zoom {zoom}: some labels are shown"
        bad = overlapping(labels)
        assert bad == [], repr((zoom, [x for x in labels if x["text"] in bad[0]]))
        boxes = [answer["layout"]["legend"], *answer["layout"]["controls"]]
        covered = overlapping([*labels, *({"text": "control", **b} for b in boxes)])
        assert [pair for pair in covered if "control" in pair] == [], "no label under the legend or a control"
        kinds = {label["kind"] for label in labels}
        if zoom == 5:
            assert "polres" not in kinds and len([x for x in labels if x["kind"] == "polda"]) >= 20
        if zoom == 9:
            assert "polres" in kinds, "zoomed in, the Polres are named"


def test_national_map_colours_provinces_and_counts_units_and_overdue_per_polda(qtbot: QtBot, national: MapView) -> None:
    national.set_view(-2.5, 118.0, 5)
    state = get(qtbot, national, "national")
    assert not state["unitsShown"], "7,000 units are counted, not drawn, at national zoom"
    assert len(state["provinceFills"]) >= 30 and len(set(state["provinceFills"].values())) >= 2
    text = " ".join(state["poldaLabels"].values())
    assert "units" in text and "p90" in text and "overdue" in text
    assert state["overdueBoxes"] == 0, "overdue incidents are counted per Polda, not boxed one by one"
    national.set_view(-7.5, 112.5, 9)
    assert get(qtbot, national, "national")["unitsShown"]


def test_overdue_boxes_never_cover_a_polres_name_and_the_legend_never_covers_a_control(
    app: QApplication, qtbot: QtBot
) -> None:
    view = make(qtbot, kaltim_reference(), "kaltim")
    # Overdue incidents right beside Balikpapan's and Penajam's HQs, where their names are.
    incidents = [
        Incident(f"o{k}", 1, p.id, None, NOW - 3000 - k, closed_at=None,
                 location=GeoPoint(p.lat + 0.01 * (k % 3), p.lon + 0.02 * (k % 4)))
        for k, p in enumerate(list(kaltim_reference().polres.values()) * 3)
    ]  # fmt: skip
    view.update_incidents(incidents)
    for zoom in (7, 9, 11):
        view.set_view(-1.1, 116.8, zoom)
        answer = get(qtbot, view, "labels")
        labels = answer["labels"]
        assert overlapping(labels) == [], f"zoom {zoom}"
        names = [x for x in labels if x["kind"] == "polres"]
        assert names and any(x["kind"] == "overdue" for x in labels)
        layout = answer["layout"]
        legend = layout["legend"]
        for c in layout["controls"]:
            apart = legend["right"] <= c["left"] or c["right"] <= legend["left"] or legend["bottom"] <= c["top"]
            assert apart or c["bottom"] <= legend["top"], c
    scale = get(qtbot, view, "national")["scale"]
    assert len(scale) == 1 and scale[0].endswith(("km", " m")), "metric scale only"


def test_kiosk_map_has_no_controls(app: QApplication, qtbot: QtBot) -> None:
    view = make(qtbot, kaltim_reference(), "kaltim", replace(MapConfig(), autofit=True))
    assert get(qtbot, view, "national")["zoomControl"] is False


def test_units_going_stale_while_hidden_at_national_zoom_raise_no_script_error(qtbot: QtBot, national: MapView) -> None:
    # Zoomed out, the national map counts units instead of drawing them: their canvas is not on the map. Restyling
    # them as their fixes age asked that canvas for a repaint, and Leaflet threw on its missing context ("reading
    # 'save'") at every tick of a national wall.
    national.set_view(-2.5, 118.0, 5)
    assert get(qtbot, national, "labels")["zoom"] == 5
    assert isinstance(national.clock, ManualClock)
    national.clock.advance(3600)  # every fix is an hour old: every unit's style changes
    national.flush()
    get(qtbot, national, "state")
    qtbot.wait(300)  # the repaint is asked for on the next animation frame
    assert [e for e in national.page.js_errors if "Content Security Policy" not in e] == []
