"""The live map: a folium/Leaflet page built once, shown in a QWebEngineView, then patched through JavaScript.

Offline by construction: Leaflet comes from the installed ``django-js-lib-leaflet`` package, boundaries from our
resources, and the page reaches nothing but the ``wallboard:`` URL scheme (served by :class:`AssetSchemeHandler`
from memory, files and an optional MBTiles database). A request interceptor blocks and logs everything else, and a
Content-Security-Policy says the same inside the page. The only exception is an organisation's own tile server when
``map.tiles_url`` names one.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import QBuffer, QByteArray, QCoreApplication, QIODevice, QObject, QTimer, QUrl, Signal
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestInterceptor,
    QWebEngineUrlRequestJob,
    QWebEngineUrlScheme,
    QWebEngineUrlSchemeHandler,
)
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QVBoxLayout, QWidget

from wallboard.config import MapConfig
from wallboard.core.model import Incident, Polda, Polres, Unit, UnitStatus
from wallboard.core.reference import ReferenceData
from wallboard.core.timeutil import Clock
from wallboard.ui.map.page import build_page, leaflet_dir, region_bounds

log = logging.getLogger(__name__)

SCHEME = b"wallboard"
ORIGIN = "wallboard://app"
FLUSH_INTERVAL_MS = 250
MAX_UNITS_PER_PUSH = 500  # 1-2 ms of JSON on the GUI thread (several times that on a busy 2-core box)
_schemes_registered = False

CONTENT_TYPES = {
    ".html": b"text/html",
    ".js": b"application/javascript",
    ".css": b"text/css",
    ".png": b"image/png",
    ".json": b"application/json",
    ".geojson": b"application/json",
    ".svg": b"image/svg+xml",
}


def register_schemes() -> None:
    """Declare the ``wallboard:`` scheme. Must run before the QApplication is created."""
    global _schemes_registered
    if _schemes_registered:
        return
    scheme = QWebEngineUrlScheme(SCHEME)
    scheme.setSyntax(QWebEngineUrlScheme.Syntax.Host)
    scheme.setFlags(
        QWebEngineUrlScheme.Flag.SecureScheme
        | QWebEngineUrlScheme.Flag.LocalAccessAllowed
        | QWebEngineUrlScheme.Flag.CorsEnabled
    )
    QWebEngineUrlScheme.registerScheme(scheme)
    _schemes_registered = True


class MBTiles:
    """Raster tiles from an MBTiles (SQLite) file. MBTiles rows count from the south (TMS): flip y."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._local.db = db
        return db

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        tms_row = (1 << z) - 1 - y
        row = (
            self._db()
            .execute("SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?", (z, x, tms_row))
            .fetchone()
        )
        return None if row is None else bytes(row[0])


def image_type(data: bytes) -> bytes:
    """MBTiles may hold PNG, JPEG or WebP tiles whatever the URL says: name the type from the bytes."""
    if data.startswith(b"\xff\xd8"):
        return b"image/jpeg"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return b"image/webp"
    return b"image/png"


class AssetSchemeHandler(QWebEngineUrlSchemeHandler):
    """Serves the page, Leaflet, and tiles under ``wallboard://app/...`` — no web server, nothing remote."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pages: dict[str, bytes] = {}
        self.mbtiles: MBTiles | None = None
        self.served: list[str] = []

    def requestStarted(self, job: QWebEngineUrlRequestJob) -> None:
        url = job.requestUrl()
        path = url.path()
        self.served.append(path)
        body: bytes | None = None
        content_type = CONTENT_TYPES.get(Path(path).suffix, b"application/octet-stream")
        if path in self.pages:
            body = self.pages[path]
        elif path.startswith("/leaflet/"):
            base = leaflet_dir().resolve()
            target = (base / path.removeprefix("/leaflet/")).resolve()
            if target.is_relative_to(base) and target.is_file():
                body = target.read_bytes()
        elif path.startswith("/tiles/") and self.mbtiles is not None:
            try:
                z, x, y = (int(p) for p in path.removeprefix("/tiles/").removesuffix(".png").split("/"))
                body = self.mbtiles.tile(z, x, y)
                content_type = image_type(body or b"")
            except (ValueError, sqlite3.Error) as exc:
                log.debug("bad tile request %s: %s", path, exc)
        if body is None:
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        buffer = QBuffer(job)
        buffer.setData(QByteArray(body))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        job.reply(content_type, buffer)


class OfflineInterceptor(QWebEngineUrlRequestInterceptor):
    """Blocks every request that does not stay on this machine (and logs it): the map must work with no internet."""

    def __init__(self, allowed_hosts: frozenset[str] = frozenset(), parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.allowed_hosts = allowed_hosts
        self.blocked: list[str] = []
        self.allowed: list[str] = []

    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:
        url = info.requestUrl()
        scheme = url.scheme()
        if scheme in ("wallboard", "data", "blob") or (
            scheme in ("http", "https") and url.host() in self.allowed_hosts
        ):
            self.allowed.append(url.toString())
            return
        info.block(True)
        self.blocked.append(url.toString())
        log.warning("map: blocked a request to %s (the map stays offline)", url.toString()[:200])


class _SharedProfile:
    """One off-the-record profile for every map in the process, owned by the application so it outlives every page
    (Qt requires pages to go before their profile)."""

    profile: QWebEngineProfile | None = None
    handler: AssetSchemeHandler | None = None
    interceptor: OfflineInterceptor | None = None


def shared_profile() -> tuple[QWebEngineProfile, AssetSchemeHandler, OfflineInterceptor]:
    if _SharedProfile.profile is None:
        from PySide6.QtCore import QCoreApplication

        app = QCoreApplication.instance()
        profile = QWebEngineProfile(app)  # off the record: no cache or cookies on a kiosk's disk
        handler = AssetSchemeHandler(profile)
        interceptor = OfflineInterceptor(frozenset(), profile)
        profile.installUrlSchemeHandler(SCHEME, handler)
        profile.setUrlRequestInterceptor(interceptor)
        _SharedProfile.profile, _SharedProfile.handler, _SharedProfile.interceptor = profile, handler, interceptor
    assert _SharedProfile.handler is not None and _SharedProfile.interceptor is not None
    return _SharedProfile.profile, _SharedProfile.handler, _SharedProfile.interceptor


def release_shared_profile() -> None:
    """Delete the shared profile now (after every page is gone), not whenever the application object dies."""
    profile = _SharedProfile.profile
    if profile is None:
        return
    from PySide6.QtCore import QCoreApplication, QEvent

    _SharedProfile.profile = _SharedProfile.handler = _SharedProfile.interceptor = None
    profile.deleteLater()
    if QCoreApplication.instance() is not None and not _loop_running():
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _loop_running() -> bool:
    """Inside a running event loop deferred deletes happen by themselves (forcing them there can crash)."""
    import asyncio

    try:
        return asyncio.get_event_loop().is_running()
    except RuntimeError:
        return False


# Field order of the compact records sent to the page (wallboard_map.js reads them by these positions).
UNIT_FIELDS = ("id", "callsign", "kind", "status", "polres", "lat", "lon", "at")
INCIDENT_FIELDS = ("id", "kind", "priority", "polres", "lat", "lon", "received", "on_scene", "closed")
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


def incident_payload(i: Incident) -> list[Any]:
    """An incident as a compact array (see INCIDENT_FIELDS)."""
    where = i.location
    lat, lon = (_finite(where.lat), _finite(where.lon)) if where else (None, None)
    if lat is None or lon is None:
        lat = lon = None
    return [i.id, i.kind, int(i.priority), i.polres_id, lat, lon,
            _finite(i.call_received_at), _finite(i.on_scene_at), _finite(i.closed_at)]  # fmt: skip


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
        "hq": tr("Polres HQ"),
    }


def js_call(function: str, payload: Any) -> str:
    """A JavaScript call with a JSON argument, passed as a string to JSON.parse: V8 parses JSON text faster than the
    same data as a JavaScript literal, and a string literal cannot be anything but data."""
    text = json.dumps(payload, separators=(",", ":"))
    return f"{function}(JSON.parse({json.dumps(text)}));"


class MapPage(QWebEnginePage):
    """The map's page: its console errors go to our log (and are kept, so tests can insist there are none)."""

    def __init__(self, profile: QWebEngineProfile, parent: QObject | None = None) -> None:
        super().__init__(profile, parent)
        self.js_errors: list[str] = []

    def javaScriptConsoleMessage(
        self, level: QWebEnginePage.JavaScriptConsoleMessageLevel, message: str, line: int, source: str
    ) -> None:
        if level == QWebEnginePage.JavaScriptConsoleMessageLevel.ErrorMessageLevel:
            self.js_errors.append(f"{source}:{line}: {message}")
            log.error("map page: %s (%s:%s)", message[:500], source[:200], line)
        else:
            log.debug("map page: %s", message[:500])


class MapView(QWidget):
    """The live map widget. Build once; feed it with ``update_units`` / ``update_incidents``."""

    loaded = Signal()
    rebuilt = Signal()
    _count = 0

    def __init__(
        self,
        reference: ReferenceData,
        polda_id: str | None,
        config: MapConfig,
        tz: str,
        clock: Clock,
        parent: QWidget | None = None,
        *,
        target_s: float = 600.0,
    ) -> None:
        super().__init__(parent)
        register_schemes()
        self.reference = reference
        self.polda_id = polda_id
        self.config = config
        self.clock = clock
        self.target_s = target_s
        self.is_loaded = False
        self.loads = 0
        self._units: dict[str, list[Any]] = {}  # what the page shows (restored after a renderer crash)
        self._incidents: dict[str, list[Any]] = {}
        self._pending_units: dict[str, list[Any]] = {}
        self._pending_incidents: dict[str, list[Any]] = {}
        self._removed_units: set[str] = set()
        self._removed_incidents: set[str] = set()
        self.last_push_ms = 0.0
        self.push_ms_total = 0.0  # GUI-thread time spent pushing, for bench/bench_map.py
        tiles_host = urlsplit(config.tiles_url).hostname if config.tiles_url else None
        self.profile, self.scheme_handler, self.interceptor = shared_profile()
        # One handler serves every map in the process; the configuration is the same for all of them.
        self.scheme_handler.mbtiles = MBTiles(Path(config.mbtiles_path)) if config.mbtiles_path else None
        if tiles_host:
            self.interceptor.allowed_hosts = self.interceptor.allowed_hosts | {tiles_host}
        MapView._count += 1
        self.page_path = f"/map-{MapView._count}.html"
        self.view = QWebEngineView(self)
        self.page = MapPage(self.profile, self.view)
        self.view.setPage(self.page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.page.loadFinished.connect(self._on_load_finished)
        self.page.renderProcessTerminated.connect(self._on_render_process_terminated)
        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self.flush)
        self._flush_timer.start()
        self._build()

    # --- page lifecycle ------------------------------------------------------------------------------------------

    def _build(self) -> None:
        html = build_page(self.reference, self.polda_id, self.config, self.target_s, map_labels())
        self.scheme_handler.pages[self.page_path] = html.encode("utf-8")
        self.is_loaded = False
        self.view.load(QUrl(f"{ORIGIN}{self.page_path}"))

    def _on_load_finished(self, ok: bool) -> None:
        if not ok:
            log.error("map page failed to load")
            return
        self.is_loaded = True
        self.loads += 1
        self._push_full_state()
        self.loaded.emit()

    def _on_render_process_terminated(self, status: Any, exit_code: int) -> None:
        log.error("map renderer died (%s, exit %s): rebuilding the map and restoring its state", status, exit_code)
        self.is_loaded = False
        QTimer.singleShot(500, self, self._rebuild)  # with self as context: never after the widget is gone

    def _rebuild(self) -> None:
        self._build()
        self.rebuilt.emit()

    def _hq_payload(self) -> list[dict[str, Any]]:
        """Polres HQs of this board; a national board adds the Polda HQs (its Polres names show when zoomed in)."""
        places: list[tuple[Polres | Polda, str]] = [
            (p, "polres") for p in self.reference.polres.values() if self._mine(p.id)
        ]
        if self.polda_id is None:
            places += [(p, "polda") for p in self.reference.poldas.values()]
        return [
            {"id": p.id, "name": p.name, "lat": p.lat, "lon": p.lon, "kind": kind}
            for p, kind in places
            if math.isfinite(p.lat) and math.isfinite(p.lon)
        ]

    def _push_full_state(self) -> None:
        self._run(js_call("wb.setReference", {"polres": self._hq_payload(), "bounds": self.bounds}))
        self._pending_units = dict(self._units)
        self._pending_incidents = dict(self._incidents)
        self._removed_units, self._removed_incidents = set(), set()
        self.flush()

    # --- data in --------------------------------------------------------------------------------------------------

    def _mine(self, polres_id: str) -> bool:
        if self.polda_id is None:
            return True
        p = self.reference.polres.get(polres_id)
        return p is not None and p.polda_id == self.polda_id

    def update_units(self, units: list[Unit]) -> None:
        """Queue the units that changed for the next tick. A unit without a fix, or that moved to another Polda's
        Polres, leaves the map; an identical record costs nothing."""
        for u in units:
            payload = unit_payload(u)
            if not self._mine(u.polres_id) or payload[UNIT_LAT] is None:
                if self._units.pop(u.id, None) is not None:
                    self._pending_units.pop(u.id, None)
                    self._removed_units.add(u.id)
                continue
            if self._units.get(u.id) == payload:
                continue
            self._units[u.id] = payload
            self._pending_units[u.id] = payload
            self._removed_units.discard(u.id)

    def update_incidents(self, incidents: list[Incident]) -> None:
        """Queue new, changed and closed incidents for the next tick (closed ones are taken off the map)."""
        for i in incidents:
            payload = incident_payload(i)
            if not self._mine(i.polres_id) or i.closed_at is not None or payload[INCIDENT_LAT] is None:
                if self._incidents.pop(i.id, None) is not None:
                    self._pending_incidents.pop(i.id, None)
                    self._removed_incidents.add(i.id)
                continue
            if self._incidents.get(i.id) == payload:
                continue
            self._incidents[i.id] = payload
            self._pending_incidents[i.id] = payload
            self._removed_incidents.discard(i.id)

    def set_reference(self, reference: ReferenceData) -> None:
        """New reference data: the HQ markers (names, places) and the region to fit follow it; units stay."""
        before = self._hq_payload()
        self.reference = reference
        if self.is_loaded and self._hq_payload() != before:
            self._run(js_call("wb.setReference", {"polres": self._hq_payload(), "bounds": self.bounds}))

    def flush(self) -> None:
        """One tick: the board clock plus what changed since the last tick, as one JSON diff per layer, in one call.

        At most MAX_UNITS_PER_PUSH units go at once; the rest follow as soon as the event loop has run, so a burst
        (first sync, 5,000 units after a renderer restart) never holds the GUI thread for long."""
        if not self.is_loaded:
            return
        started = time.perf_counter()
        script = js_call("wb.setClock", self.clock.now())
        if self._pending_units or self._removed_units:
            if len(self._pending_units) > MAX_UNITS_PER_PUSH:
                batch = dict(itertools.islice(self._pending_units.items(), MAX_UNITS_PER_PUSH))
                for unit_id in batch:
                    del self._pending_units[unit_id]
            else:
                batch, self._pending_units = self._pending_units, {}
            script += js_call("wb.applyUnits", {"upsert": list(batch.values()), "remove": sorted(self._removed_units)})
            self._removed_units = set()
        if self._pending_incidents or self._removed_incidents:
            diff = {"upsert": list(self._pending_incidents.values()), "remove": sorted(self._removed_incidents)}
            script += js_call("wb.applyIncidents", diff)
            self._pending_incidents, self._removed_incidents = {}, set()
        self._run(script)
        self.last_push_ms = (time.perf_counter() - started) * 1000
        self.push_ms_total += self.last_push_ms
        if self._pending_units:
            QTimer.singleShot(0, self, self.flush)

    @property
    def pending(self) -> int:
        """Changes waiting for the next push."""
        return (
            len(self._pending_units)
            + len(self._removed_units)
            + len(self._pending_incidents)
            + len(self._removed_incidents)
        )

    def fit_region(self) -> None:
        self._run("wb.fit();")

    def _run(self, script: str, callback: Callable[[Any], None] | None = None) -> None:
        if callback is None:
            # Only our page has the live layer (a page that failed or was replaced must not collect errors).
            self.page.runJavaScript(f"if (window.wb) {{ {script} }}")
        else:
            self.page.runJavaScript(script, 0, callback)

    def query_state(self, callback: Callable[[dict[str, Any]], None]) -> None:
        """The page's live state (markers, styles, tooltips) as a dict. runJavaScript cannot return objects, so JSON."""
        self._run("JSON.stringify(wb.state())", lambda text: callback(json.loads(text) if text else {}))

    def paint_into(self, image: QImage) -> None:
        """Draw the web view's current frame over its place in ``image`` (for offscreen snapshots)."""
        frame = self.view.grab()
        if frame.isNull():
            return
        top_left = self.view.mapTo(self.window(), self.view.rect().topLeft())
        painter = QPainter(image)
        painter.drawPixmap(top_left, frame)
        painter.end()

    @property
    def bounds(self) -> list[list[float]] | None:
        return region_bounds(self.reference, self.polda_id)
