"""What the map page is sent: units and incidents as compact arrays, the translated words, and the JavaScript call
that carries them. The field lists are declared once here; the page is given them and reads positions by name.
"""

from __future__ import annotations

import json
import math
from typing import Any

from PySide6.QtCore import QCoreApplication

from wallboard.core.metrics import ageing_at, overdue_at
from wallboard.core.model import Incident, Unit, UnitStatus

# Field order of the compact records sent to the page. The page is given these lists (page.py puts them in its
# options) and looks each position up by name, so the order lives here only.
UNIT_FIELDS = ("id", "callsign", "kind", "status", "polres", "lat", "lon", "at")
# ``ageing_at`` / ``overdue_at``: when the incident passes half its target and the target itself (core's rule); null
# once a unit is on scene or it is closed. The page compares them with the clock and applies no rule of its own.
INCIDENT_FIELDS = ("id", "kind", "priority", "polres", "lat", "lon", "received", "on_scene", "closed", "ageing_at",
                   "overdue_at")  # fmt: skip
UNIT_LAT = UNIT_FIELDS.index("lat")
INCIDENT_LAT = INCIDENT_FIELDS.index("lat")


def _finite(value: float | None) -> float | None:
    """NaN or infinity would make the whole tick's JSON unparseable: such a coordinate counts as missing."""
    return value if value is not None and math.isfinite(value) else None


def unit_payload(u: Unit) -> list[Any]:
    """A unit as a compact array (see UNIT_FIELDS): 5,000 units a tick is a lot of JSON keys otherwise."""
    fix = u.fix
    lat, lon = (_finite(fix.lat), _finite(fix.lon)) if fix else (None, None)
    if lat is None or lon is None:
        lat = lon = None
    return [u.id, u.callsign, u.kind.value, u.status.value, u.polres_id, lat, lon, _finite(fix.at) if fix else None]


def incident_payload(i: Incident, target_s: float) -> list[Any]:
    """An incident as a compact array (see INCIDENT_FIELDS), with its deadlines for ``target_s``."""
    where = i.location
    lat, lon = (_finite(where.lat), _finite(where.lon)) if where else (None, None)
    if lat is None or lon is None:
        lat = lon = None
    return [i.id, i.kind, int(i.priority), i.polres_id, lat, lon,
            _finite(i.call_received_at), _finite(i.on_scene_at), _finite(i.closed_at),
            _finite(ageing_at(i, target_s)), _finite(overdue_at(i, target_s))]  # fmt: skip


def map_labels() -> dict[str, Any]:
    """Every word the page shows, translated here (the page has no access to Qt's translator)."""

    def tr(text: str) -> str:
        return QCoreApplication.translate("MapView", text)

    return {
        "status": {
            UnitStatus.AVAILABLE.value: tr("available"),
            UnitStatus.DISPATCHED.value: tr("dispatched"),
            UnitStatus.EN_ROUTE.value: tr("en route"),
            UnitStatus.ON_SCENE.value: tr("on scene"),
            UnitStatus.RETURNING.value: tr("returning"),
            UnitStatus.OUT_OF_SERVICE.value: tr("out of service"),
        },
        "units": tr("Units"),
        "r2": tr("R2 (motorbike)"),
        "r4": tr("R4 (car)"),
        "stale": tr("no recent position"),
        "lastSeen": tr("last seen %1 min ago"),
        "incidents": tr("Incidents"),
        "incident": tr("incident"),
        "incidentFresh": tr("new"),
        "incidentAgeing": tr("past half the target"),
        "incidentOverdue": tr("overdue: no unit on scene"),
        "onScene": tr("unit on scene"),
        "overdueShort": tr("OVERDUE %1 min"),
        "overdueLong": tr("OVERDUE: no unit on scene"),
        "sinceCall": tr("%1 min since call"),
        "overdueBy": tr("⚠ OVERDUE %1"),
        "timeLeft": tr("▲ %1 left"),
        "hq": tr("Polres HQ"),
        # The legend's title (a click folds it) and the national map's words.
        "legend": tr("Legend"),
        "regions": tr("Polda: p90 against the target"),
        "regionStatus": {"ok": tr("on target"), "watch": tr("watch"), "bad": tr("over target"), "none": tr("no data")},
        "p90Short": tr("p90 %1 min"),
        "overdueCount": tr("⚠ %1 overdue"),
        "unitsCount": tr("%1 units"),
    }


def js_call(function: str, payload: Any) -> str:
    """A JavaScript call with a JSON argument, passed as a string to JSON.parse: V8 parses JSON text faster than the
    same data as a JavaScript literal, and a string literal cannot be anything but data."""
    text = json.dumps(payload, separators=(",", ":"))
    return f"{function}(JSON.parse({json.dumps(text)}));"
