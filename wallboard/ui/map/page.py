"""The map page, built once with folium: Leaflet from local files, the dark basemap from our boundaries, our JS.

Folium's default asset lists point at CDNs; each map here gets lists that point at ``wallboard://app/leaflet/``
instead, and nothing else (no jQuery, Bootstrap or icon fonts: the live layer is drawn on a canvas).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import folium
from branca.element import Element

from wallboard.config import MapConfig
from wallboard.core.reference import ReferenceData
from wallboard.resources import resource_path
from wallboard.ui.map.payload import INCIDENT_FIELDS, UNIT_FIELDS
from wallboard.ui.map.regions import province_polda, regency_boundaries

# Where the scheme serves Qt's qwebchannel.js (wallboard/ui/map/channel.py; kept here so page.py needs no Qt).
QWEBCHANNEL_PATH = "/qwebchannel.js"
HERE = Path(__file__).resolve().parent
BASEMAP_ATTRIBUTION = "Boundaries: cahyadsn/wilayah_boundaries (MIT)"
KALTIM_PROVINCE_CODE = "64"


@cache
def leaflet_dir() -> Path:
    """Leaflet 1.9.4's dist files, as installed by the django-js-lib-leaflet package."""
    import js_lib_leaflet

    base = Path(js_lib_leaflet.__file__).resolve().parent / "static"
    for candidate in base.rglob("leaflet.js"):
        return candidate.parent
    raise FileNotFoundError("leaflet.js not found in the js_lib_leaflet package")


def region_bounds(reference: ReferenceData, polda_id: str | None) -> list[list[float]] | None:
    """What the map is fitted to: every HQ of the board; a Polda with too few known HQs, its province(s)."""
    from wallboard.ui.map.regions import polda_area_bounds

    points = [(p.lat, p.lon) for p in reference.polres.values() if polda_id is None or p.polda_id == polda_id]
    if polda_id is None:
        points += [(p.lat, p.lon) for p in reference.poldas.values()]
    elif len(points) < 3:  # too few HQs to outline the area (reference not loaded yet): the province itself
        area = polda_area_bounds(reference, polda_id)
        if area is not None:
            lats = [p[0] for p in points] + [area[0][0], area[1][0]]
            lons = [p[1] for p in points] + [area[0][1], area[1][1]]
            return [[min(lats), min(lons)], [max(lats), max(lons)]]
    if not points:
        return None
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    pad = 0.25
    return [[min(lats) - pad, min(lons) - pad], [max(lats) + pad, max(lons) + pad]]


def _csp(config: MapConfig) -> str:
    img = "wallboard: data: blob:"
    if config.tiles_url:
        from urllib.parse import urlsplit

        parts = urlsplit(config.tiles_url)
        img += f" {parts.scheme}://{parts.netloc}"
    return (
        "default-src wallboard:; script-src wallboard: 'unsafe-inline'; style-src wallboard: 'unsafe-inline'; "
        f"img-src {img}; connect-src wallboard:; font-src wallboard: data:"
    )


def build_page(
    reference: ReferenceData,
    polda_id: str | None,
    config: MapConfig,
    labels: dict[str, Any],
    decorate: Callable[[folium.Map], None] | None = None,
) -> str:
    """The whole page as HTML. ``labels`` are the translated words the live layer shows (see ``map_labels``);
    ``decorate`` may add folium layers before rendering (the benchmark's naive board puts every unit there)."""
    bounds = region_bounds(reference, polda_id) or [[-11.0, 94.0], [6.5, 141.5]]
    centre = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    m = folium.Map(location=centre, zoom_start=7, tiles=None, prefer_canvas=True, control_scale=False,
                   zoom_control=True, attribution_control=True)  # fmt: skip
    # Offline: Leaflet from our scheme, nothing else.
    m.default_js = [
        ("leaflet", "wallboard://app/leaflet/leaflet.js"),
        ("qwebchannel", f"wallboard://app{QWEBCHANNEL_PATH}"),
    ]
    m.default_css = [("leaflet_css", "wallboard://app/leaflet/leaflet.css")]
    if config.mbtiles_path:
        folium.TileLayer("wallboard://app/tiles/{z}/{x}/{y}.png", attr="MBTiles (local)", name="tiles").add_to(m)
    elif config.tiles_url:
        folium.TileLayer(config.tiles_url, attr="organisation tile server", name="tiles").add_to(m)
    provinces = json.loads(resource_path("data", "indonesia-provinces.geojson").read_text(encoding="utf-8"))
    folium.GeoJson(
        provinces,
        name="provinces",
        style_function=lambda f: {"color": "#4A5668", "weight": 1, "fillColor": "#161D27", "fillOpacity": 1.0},
        interactive=False,
        attr=BASEMAP_ATTRIBUTION,
    ).add_to(m)
    regencies = regency_boundaries(polda_id)
    if regencies is not None:
        folium.GeoJson(
            regencies,
            name="regencies",
            style_function=lambda f: {
                "color": "#6F7E93",
                "weight": 1.2,
                "fillColor": "#1C2531",
                "fillOpacity": 1.0,
                "dashArray": "4 3",
            },
            interactive=False,
        ).add_to(m)
    if decorate is not None:
        decorate(m)
    options = {
        "staleSeconds": config.stale_fix_s,
        "autofit": config.autofit,
        "bounds": bounds,
        # A national board shows the Polda HQs' names; the Polres names only once zoomed in to a province.
        "polresLabelsMinZoom": 7 if polda_id is None else 0,
        # A national board: provinces coloured by their Polda's response status, one label per Polda with its
        # figures (overdue incidents counted there, not boxed one by one), units as counts below unitsMinZoom.
        "national": polda_id is None,
        "provincePolda": province_polda(reference) if polda_id is None else {},
        "unitsMinZoom": 8 if polda_id is None else 0,
        # Kiosks (autofit) have nobody to pan or zoom: no controls.
        "controls": not config.autofit,
        "labels": labels,
        # Where each field sits in the compact unit and incident records (declared once, in payload.py).
        "fields": {"unit": list(UNIT_FIELDS), "incident": list(INCIDENT_FIELDS)},
    }
    root: Any = m.get_root()  # a branca Figure (typed as Element)
    root.header.add_child(Element(f'<meta http-equiv="Content-Security-Policy" content="{_csp(config)}">'))
    root.header.add_child(Element(f"<style>{(HERE / 'wallboard_map.css').read_text(encoding='utf-8')}</style>"))
    script = (HERE / "wallboard_map.js").read_text(encoding="utf-8")
    options_json = json.dumps(options).replace("</", "<\\/")  # no label can close the script element
    # Folium writes the map's own script after ours, so create the live layer once the document has run.
    root.script.add_child(
        Element(
            f"{script}\ndocument.addEventListener('DOMContentLoaded', function () {{"
            f" window.wb = new WallboardMap({m.get_name()}, {options_json}); WallboardMap.connect(window.wb);"
            f" {m.get_name()}.attributionControl.addAttribution({json.dumps(BASEMAP_ATTRIBUTION)}); }});"
        )
    )
    html: str = root.render()
    return html
