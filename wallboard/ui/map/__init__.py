"""The live map: a folium/Leaflet page built once, shown in a QWebEngineView, then patched through JavaScript.

Offline by construction: Leaflet comes from the installed ``django-js-lib-leaflet`` package, boundaries from our
resources, and the page reaches nothing but the ``wallboard:`` URL scheme (served by :class:`AssetSchemeHandler`
from memory, files and an optional MBTiles database). A request interceptor blocks and logs everything else, and a
Content-Security-Policy says the same inside the page. The only exception is an organisation's own tile server when
``map.tiles_url`` names one.
"""

from __future__ import annotations

from wallboard.ui.map.payload import INCIDENT_FIELDS, UNIT_FIELDS, incident_payload, js_call, map_labels, unit_payload
from wallboard.ui.map.scheme import (
    ORIGIN,
    SCHEME,
    AssetSchemeHandler,
    MBTiles,
    OfflineInterceptor,
    image_type,
    register_schemes,
    release_shared_profile,
    shared_profile,
)
from wallboard.ui.map.view import FLUSH_INTERVAL_MS, MAX_UNITS_PER_PUSH, MapPage, MapView

__all__ = [
    "FLUSH_INTERVAL_MS",
    "INCIDENT_FIELDS",
    "MAX_UNITS_PER_PUSH",
    "ORIGIN",
    "SCHEME",
    "UNIT_FIELDS",
    "AssetSchemeHandler",
    "MBTiles",
    "MapPage",
    "MapView",
    "OfflineInterceptor",
    "image_type",
    "incident_payload",
    "js_call",
    "map_labels",
    "register_schemes",
    "release_shared_profile",
    "shared_profile",
    "unit_payload",
]
