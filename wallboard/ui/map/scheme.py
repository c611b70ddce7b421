"""The map page's world: the ``wallboard:`` URL scheme that serves the page, Leaflet and tiles from memory and files,
and the request interceptor that keeps the page offline. One off-the-record profile carries both for every map.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject
from PySide6.QtWebEngineCore import (
    QWebEngineProfile,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestInterceptor,
    QWebEngineUrlRequestJob,
    QWebEngineUrlScheme,
    QWebEngineUrlSchemeHandler,
)

from wallboard.ui.map.channel import QWEBCHANNEL_JS_PATH, qwebchannel_js
from wallboard.ui.map.page import leaflet_dir

log = logging.getLogger(__name__)

SCHEME = b"wallboard"
ORIGIN = "wallboard://app"
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
        elif path == QWEBCHANNEL_JS_PATH:
            body = qwebchannel_js()
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
