"""The live map: a folium/Leaflet page built once, shown in a QWebEngineView, then patched through JavaScript.

Offline by construction: Leaflet comes from the installed ``django-js-lib-leaflet`` package, boundaries from our
resources, and the page reaches nothing but the ``wallboard:`` URL scheme (served by :class:`AssetSchemeHandler`
from memory, files and an optional MBTiles database). A request interceptor blocks and logs everything else, and a
Content-Security-Policy says the same inside the page. The only exception is an organisation's own tile server when
``map.tiles_url`` names one.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QTimer, QUrl, Signal
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
from wallboard.core.model import Incident, Unit
from wallboard.core.reference import ReferenceData
from wallboard.core.timeutil import Clock
from wallboard.ui.map.page import build_page, leaflet_dir, region_bounds

log = logging.getLogger(__name__)

SCHEME = b"wallboard"
ORIGIN = "wallboard://app"
FLUSH_INTERVAL_MS = 250
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
                content_type = b"image/png"
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


def unit_payload(u: Unit) -> dict[str, Any]:
    return {
        "id": u.id,
        "callsign": u.callsign,
        "kind": u.kind.value,
        "status": u.status.value,
        "polres": u.polres_id,
        "lat": u.fix.lat if u.fix else None,
        "lon": u.fix.lon if u.fix else None,
        "at": u.fix.at if u.fix else None,
    }


def incident_payload(i: Incident) -> dict[str, Any]:
    return {
        "id": i.id,
        "kind": i.kind,
        "priority": int(i.priority),
        "polres": i.polres_id,
        "lat": i.location.lat if i.location else None,
        "lon": i.location.lon if i.location else None,
        "received": i.call_received_at,
        "on_scene": i.on_scene_at,
        "closed": i.closed_at,
    }


def js_call(function: str, payload: Any) -> str:
    """A JavaScript call with a JSON argument. JSON is valid JS; '</' is broken up so no string can end a script."""
    argument = json.dumps(payload, separators=(",", ":")).replace("</", "<\\/")
    return f"{function}({argument});"


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
        self._units: dict[str, dict[str, Any]] = {}
        self._incidents: dict[str, dict[str, Any]] = {}
        self._pending_units: dict[str, dict[str, Any]] = {}
        self._pending_incidents: dict[str, dict[str, Any]] = {}
        self.last_push_ms = 0.0
        tiles_host = urlsplit(config.tiles_url).hostname if config.tiles_url else None
        self.profile, self.scheme_handler, self.interceptor = shared_profile()
        if config.mbtiles_path:
            self.scheme_handler.mbtiles = MBTiles(Path(config.mbtiles_path))
        if tiles_host:
            self.interceptor.allowed_hosts = self.interceptor.allowed_hosts | {tiles_host}
        MapView._count += 1
        self.page_path = f"/map-{MapView._count}.html"
        self.view = QWebEngineView(self)
        self.page = QWebEnginePage(self.profile, self.view)
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
        html = build_page(self.reference, self.polda_id, self.config, self.target_s)
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
        QTimer.singleShot(500, self._rebuild)

    def _rebuild(self) -> None:
        self._build()
        self.rebuilt.emit()

    def _push_full_state(self) -> None:
        polres = [
            {"id": p.id, "name": p.name, "lat": p.lat, "lon": p.lon}
            for p in self.reference.polres.values()
            if self.polda_id is None or p.polda_id == self.polda_id
        ]
        self._run(js_call("wb.setReference", polres))
        self._pending_units = dict(self._units)
        self._pending_incidents = dict(self._incidents)
        self.flush()

    # --- data in --------------------------------------------------------------------------------------------------

    def _mine(self, polres_id: str) -> bool:
        if self.polda_id is None:
            return True
        p = self.reference.polres.get(polres_id)
        return p is not None and p.polda_id == self.polda_id

    def update_units(self, units: list[Unit]) -> None:
        for u in units:
            if self._mine(u.polres_id):
                payload = unit_payload(u)
                self._units[u.id] = payload
                self._pending_units[u.id] = payload

    def update_incidents(self, incidents: list[Incident]) -> None:
        for i in incidents:
            if self._mine(i.polres_id):
                payload = incident_payload(i)
                if i.closed_at is not None:
                    self._incidents.pop(i.id, None)
                else:
                    self._incidents[i.id] = payload
                self._pending_incidents[i.id] = payload

    def set_reference(self, reference: ReferenceData) -> None:
        if reference.polres.keys() == self.reference.polres.keys():
            self.reference = reference
            return
        self.reference = reference
        if self.is_loaded:
            self._push_full_state()

    def flush(self) -> None:
        """Send what changed since the last flush as one JSON diff per layer, and the board clock."""
        if not self.is_loaded:
            return
        import time

        started = time.perf_counter()
        script = js_call("wb.setClock", self.clock.now())
        if self._pending_units:
            script += js_call("wb.applyUnits", {"upsert": list(self._pending_units.values())})
            self._pending_units = {}
        if self._pending_incidents:
            script += js_call("wb.applyIncidents", {"upsert": list(self._pending_incidents.values())})
            self._pending_incidents = {}
        self._run(script)
        self.last_push_ms = (time.perf_counter() - started) * 1000

    def fit_region(self) -> None:
        self._run("wb.fit();")

    def _run(self, script: str, callback: Callable[[Any], None] | None = None) -> None:
        if callback is None:
            self.page.runJavaScript(script)
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
