"""The map's areas: which province each Polda covers (the national map colours them by response status), the area a
Polda's map is fitted to, its regency boundaries, and the per-Polda figures the national map shows."""

from __future__ import annotations

import json
import logging
import re
from functools import cache
from typing import Any

from wallboard import resources
from wallboard.core.reference import ReferenceData
from wallboard.core.snapshot import BoardSnapshot

log = logging.getLogger(__name__)

# Provinces whose name is not their Polda's (the boundary file uses the full official names).
PROVINCE_ALIASES = {
    "daerah khusus ibukota jakarta": "metro-jaya",
    "daerah istimewa yogyakarta": "di-yogyakarta",
    "kepulauan bangka belitung": "kep-bangka-belitung",
    "kalimantan timur": "kaltim",
}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.lower().replace("polda", "")).strip()


@cache
def provinces() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resources.resource_path("data", "indonesia-provinces.geojson").read_text("utf-8"))
    return data


def province_polda(reference: ReferenceData) -> dict[str, str]:
    """Province code (``kode`` in the boundary file) -> the id of the Polda that covers it."""
    by_name = {_key(p.name): p.id for p in reference.poldas.values()}
    out = {}
    for feature in provinces()["features"]:
        props = feature["properties"]
        name = _key(str(props.get("nama", "")))
        polda = PROVINCE_ALIASES.get(name) if PROVINCE_ALIASES.get(name) in reference.poldas else by_name.get(name)
        if polda is not None:
            out[str(props["kode"])] = polda
    return out


def _walk(coords: Any, out: list[tuple[float, float]]) -> None:
    if coords and isinstance(coords[0], (int, float)):
        out.append((float(coords[1]), float(coords[0])))
        return
    for c in coords:
        _walk(c, out)


def polda_area_bounds(reference: ReferenceData, polda_id: str) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the province(s) a Polda covers, or None if none is known."""
    codes = {code for code, polda in province_polda(reference).items() if polda == polda_id}
    points: list[tuple[float, float]] = []
    for feature in provinces()["features"]:
        if str(feature["properties"]["kode"]) in codes:
            _walk(feature["geometry"]["coordinates"], points)
    if not points:
        return None
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


def regency_boundaries(polda_id: str | None) -> dict[str, Any] | None:
    """The regency (kabupaten/kota) boundaries of a Polda's area: the shared reference's loader when it has one
    (``wallboard.resources.regency_boundaries``), else the Kaltim file for Kaltim, else None."""
    if polda_id is None:
        return None
    loader = getattr(resources, "regency_boundaries", None)
    if loader is not None:
        try:
            data = loader(polda_id)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("no regency boundaries for %s: %s", polda_id, exc)
            data = None
        if data:
            return dict(data)
    if polda_id == "kaltim":
        path = resources.resource_path("data", "kaltim-regencies.geojson")
        kaltim: dict[str, Any] = json.loads(path.read_text("utf-8"))
        return kaltim
    return None


def region_rows(snapshot: BoardSnapshot) -> list[dict[str, Any]]:
    """One row per Polda for the national map (empty on a Polda's board): status with its symbol (never colour
    alone), p90 in minutes as the wall writes numbers, counts."""
    from wallboard.ui import theme
    from wallboard.ui.i18n import fmt_num

    rows = []
    for r in snapshot.response_by_polda:
        status = r.status  # the gauges' rule, computed in core
        rows.append(
            {
                "id": r.unit_id,
                "name": r.name.removeprefix("Polda "),
                "status": status,
                "symbol": theme.STATUS[status].symbol,
                "p90": None if r.p90_s is None else fmt_num(r.p90_s / 60, 1),
                "count": r.count,
                "open": r.open_incidents,
                "overdue": r.overdue_now,
            }
        )
    return rows
