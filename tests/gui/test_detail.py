"""The Polres drill-down: the right Polres, timelines received → answered → dispatched → on scene → closed, units
with status and fix age, caller numbers masked unless authorised, feed text shown as text."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QApplication, QTableWidget
from pytestqt.qtbot import QtBot

from wallboard.config import Config
from wallboard.core.metrics import MetricsEngine
from wallboard.core.model import Call, CallCategory, Incident, PositionFix, Tier, Unit, UnitKind, UnitStatus
from wallboard.core.timeutil import ManualClock
from wallboard.ui.detail import PolresDetailView, fix_age_text

from .conftest import NOW

HOSTILE = "<img src=x onerror=alert(1)>"


def table_text(table: QTableWidget) -> list[list[str]]:
    def text(r: int, c: int) -> str:
        item = table.item(r, c)
        assert item is not None, (r, c)
        return item.text()

    return [[text(r, c) for c in range(table.columnCount())] for r in range(table.rowCount())]


def show(view: PolresDetailView, engine: MetricsEngine) -> None:
    """What the hub does for an open drill-down: a snapshot that carries it."""
    view.update_snapshot(engine.snapshot(NOW, details=[view.polres_id]))


def cells(view: PolresDetailView) -> list[list[str]]:
    return table_text(view.incidents)


def test_drill_down_shows_the_right_polres_with_masked_numbers(
    app: QApplication, qtbot: QtBot, engine: MetricsEngine, clock: ManualClock
) -> None:
    engine.ingest_call(Call("c9", 1, "64.71", NOW - 700, Tier.POLRES, (), NOW - 690, Tier.POLRES, None,
                            CallCategory.GENUINE, "081234565678"))  # fmt: skip
    engine.ingest_incident(Incident("i9", 1, "64.71", "c9", NOW - 700, dispatched_at=NOW - 650,
                                    on_scene_at=NOW - 400, closed_at=NOW - 100))  # fmt: skip
    view = PolresDetailView("64.71", Config(), engine.reference, clock)
    qtbot.addWidget(view)
    show(view, engine)
    assert view.title.text() == "Polresta Balikpapan"
    assert view.detail is not None and view.detail.polres_id == "64.71"
    rows = cells(view)
    assert {t.incident.polres_id for t in view.detail.incidents} == {"64.71"}
    assert len(rows) == len(view.detail.incidents) == 2
    row = next(r for r in rows if r[0] == "13:48:20")
    assert row[1:5] == ["13:48:30", "13:49:10", "13:53:20", "13:58:20"]  # answered, dispatched, on scene, closed
    assert row[8] == "0812****5678"
    assert all("081234565678" not in text for r in rows for text in r)
    # An authorised desk: the engine is built from the same configuration (commands/wiring.py) and unmasks in core.
    authorised = MetricsEngine(engine.reference, "kaltim", replace(engine.settings, unmask_caller_numbers=True))
    authorised.ingest_calls(engine.calls.values())
    for incident in engine.incidents.values():
        authorised.ingest_incident(incident)
    unmasked = PolresDetailView("64.71", replace(Config(), board=replace(Config().board, unmask_caller_numbers=True)),
                                engine.reference, clock)  # fmt: skip
    qtbot.addWidget(unmasked)
    show(unmasked, authorised)
    assert "081234565678" in [r[8] for r in cells(unmasked)]


def test_overdue_incident_is_marked(app: QApplication, qtbot: QtBot, engine: MetricsEngine, clock: ManualClock) -> None:
    view = PolresDetailView("64.11", Config(), engine.reference, clock)
    qtbot.addWidget(view)
    show(view, engine)
    assert view.title.text() == "Polres Mahakam Ulu"
    on_scene = [r[3] for r in cells(view)]
    assert any("OVERDUE" in text for text in on_scene)


def test_units_show_status_and_fix_age_and_hostile_text_stays_text(
    app: QApplication, qtbot: QtBot, engine: MetricsEngine, clock: ManualClock
) -> None:
    engine.ingest_unit(Unit("u1", 1, HOSTILE, "64.71", UnitKind.R4, UnitStatus.EN_ROUTE,
                            PositionFix(-1.26, 116.83, None, None, NOW - 45)))  # fmt: skip
    engine.ingest_incident(Incident("i8", 1, "64.71", None, NOW - 300, kind=HOSTILE))
    view = PolresDetailView("64.71", Config(), engine.reference, clock)
    qtbot.addWidget(view)
    show(view, engine)
    units = table_text(view.units)
    assert [HOSTILE, "R4", "en route", "45 s", "45 s ago"] in units
    assert HOSTILE in [r[6] for r in cells(view)]
    assert fix_age_text(600) == "10 min ago" and fix_age_text(-5) == "0 s ago"
