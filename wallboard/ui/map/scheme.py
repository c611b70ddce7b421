"""The map page's world: the ``wallboard:`` URL scheme that serves the page, Leaflet and tiles from memory and files,
and the request interceptor that keeps the page offline. One off-the-record profile carries both for every map.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from pathlib import Path

import shiboken6
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, Signal, Slot
from PySide6.QtWebEngineCore import (
    QWebEngineProfile,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestInterceptor,
    QWebEngineUrlRequestJob,
    QWebEngineUrlScheme,
    QWebEngineUrlSchemeHandler,
)

from wallboard.files import open_regular
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


#: The largest tile served. A 256-pixel raster tile is a few KiB to some tens (a busy JPEG or PNG rarely passes
#: 200 KiB; uncompressed RGBA is 256 KiB), so anything past 1 MiB is a damaged or hostile file, not a tile. SQLite
#: allows a BLOB of 1 GB: without a cap one request would hold that much on the worker and again in the reply.
MAX_TILE_BYTES = 1 << 20


class MBTiles:
    """Raster tiles from an MBTiles (SQLite) file. MBTiles rows count from the south (TMS): flip y.

    Only a BLOB of at most :data:`MAX_TILE_BYTES` is a tile. Anything else in ``tile_data`` (TEXT, a number, NULL,
    a larger BLOB) is treated as missing and said once per kind: its type and length are asked of SQLite first, and
    the data read only for a tile (an INTEGER n is not turned into n zero bytes, nor a TEXT into a TypeError)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._bad_kinds: set[str] = set()  # the kinds of bad tile already logged
        self._bad_lock = threading.Lock()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            # Checked a regular file first (a FIFO would hold the tile thread for ever), and named by a proper URI:
            # "file:{path}" let a '?' or '#' in the path cut off mode=ro, and SQLite then created that file.
            open_regular(self.path, "map.mbtiles_path").close()
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._local.db = db
        return db

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        tms_row = (1 << z) - 1 - y
        # One statement, so the type checked is the type read; SQLite answers typeof() and length() of a BLOB
        # without loading it, and the CASE loads tile_data only when it is a tile.
        row = (
            self._db()
            .execute(
                "SELECT typeof(tile_data), length(tile_data),"
                " CASE WHEN typeof(tile_data) = 'blob' AND length(tile_data) <= ? THEN tile_data END"
                " FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
                (MAX_TILE_BYTES, z, x, tms_row),
            )
            .fetchone()
        )
        if row is None:
            return None
        kind, length, data = row
        if isinstance(data, bytes):
            return data
        if kind == "blob":
            limit = f"{MAX_TILE_BYTES // (1 << 20)} MiB"
            self._bad("large", f"a BLOB of {length} bytes, over the {limit} a tile may be", z, x, y)
        else:
            self._bad(str(kind), f"{str(kind).upper()}, not a BLOB", z, x, y)
        return None

    def _bad(self, kind: str, what: str, z: int, x: int, y: int) -> None:
        """Say a kind of bad tile once per file: a damaged file may hold thousands, asked again at every pan."""
        with self._bad_lock:
            if kind in self._bad_kinds:
                return
            self._bad_kinds.add(kind)
        log.warning("map: %s: tile_data is %s (first at tile %d/%d/%d); such tiles are shown missing",
                    self.path, what, z, x, y)  # fmt: skip


#: Tile reads queued or under way at most; a request beyond this fails at once (Leaflet shows the tile missing
#: and asks again when the view moves) rather than queueing without bound behind a slow disk.
MAX_PENDING_TILES = 128
#: Deeper than any basemap goes (MBTiles files stop near 20); a larger zoom in a URL is not a tile.
MAX_ZOOM = 30


class TileReader(QObject):
    """Reads MBTiles tiles on one worker thread and answers each request job on the GUI thread: a tile read from a
    slow or busy disk (SQLite) never blocks the wall. At most :data:`MAX_PENDING_TILES` jobs wait at a time.

    A job Qt cancels meanwhile (the page went away, the view moved) is forgotten: its read is skipped if it has not
    started, and its answer dropped."""

    _read = Signal(int, object)  # (token, tile bytes or None): from the worker, delivered on the GUI thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: dict[int, QWebEngineUrlRequestJob] = {}  # GUI thread only
        self._next = 0
        self._queue: queue.SimpleQueue[tuple[int, MBTiles, int, int, int] | None] = queue.SimpleQueue()
        self._cancelled: set[int] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.refused = 0  # jobs failed at once because too many were waiting
        self.failed = 0  # reads that raised something unexpected (worker thread only)
        self._stopped = False
        self._read.connect(self._answer)

    @property
    def pending(self) -> int:
        return len(self._jobs)

    def submit(self, job: QWebEngineUrlRequestJob, mbtiles: MBTiles, z: int, x: int, y: int) -> None:
        """Answer ``job`` with tile z/x/y (XYZ) of ``mbtiles`` once read, or UrlNotFound. GUI thread."""
        if self._stopped:
            job.fail(QWebEngineUrlRequestJob.Error.RequestAborted)
            return
        if len(self._jobs) >= MAX_PENDING_TILES:
            self.refused += 1
            if self.refused == 1 or self.refused % 100 == 0:
                log.warning("map: %d tile reads waiting; tile requests refused meanwhile (%d so far)",
                            len(self._jobs), self.refused)  # fmt: skip
            job.fail(QWebEngineUrlRequestJob.Error.RequestFailed)
            return
        token = self._next
        self._next += 1
        self._jobs[token] = job
        job.destroyed.connect(lambda *_: self._forget(token))
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="map-tiles", daemon=True)
            self._thread.start()
        self._queue.put((token, mbtiles, z, x, y))

    def stop(self) -> None:
        """End the worker once the reads already queued are done (their answers go nowhere); later requests fail."""
        self._stopped = True
        for token in list(self._jobs):
            self._forget(token)
        self._queue.put(None)

    def _forget(self, token: int) -> None:
        if self._jobs.pop(token, None) is not None:
            with self._lock:
                self._cancelled.add(token)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            token, mbtiles, z, x, y = item
            with self._lock:
                if token in self._cancelled:
                    self._cancelled.discard(token)
                    continue
            body: bytes | None = None
            try:
                body = mbtiles.tile(z, x, y)
            except (sqlite3.Error, OSError, ValueError, OverflowError) as exc:
                log.debug("tile %d/%d/%d not read: %s", z, x, y, exc)
            except Exception:  # anything else: the job is still answered and the worker reads on
                self.failed += 1
                if self.failed == 1 or self.failed % 100 == 0:
                    log.exception("map: tile %d/%d/%d not read (%d such failures so far)", z, x, y, self.failed)
            try:
                self._read.emit(token, body)
            except RuntimeError:  # the reader was deleted with its profile: nobody to answer
                return

    @Slot(int, object)
    def _answer(self, token: int, body: bytes | None) -> None:
        with self._lock:
            self._cancelled.discard(token)
        job = self._jobs.pop(token, None)
        if job is None or not shiboken6.isValid(job):
            return
        if body is None:
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        _reply(job, image_type(body), body)


def _reply(job: QWebEngineUrlRequestJob, content_type: bytes, body: bytes) -> None:
    buffer = QBuffer(job)
    buffer.setData(QByteArray(body))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    job.reply(content_type, buffer)


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
        self.tiles = TileReader(self)  # tiles are read off the GUI thread

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
            except ValueError as exc:
                log.debug("bad tile request %s: %s", path, exc)
            else:
                if 0 <= z <= MAX_ZOOM and 0 <= x < 1 << z and 0 <= y < 1 << z:
                    self.tiles.submit(job, self.mbtiles, z, x, y)  # answered later, from the tile reader
                    return
        if body is None:
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        _reply(job, content_type, body)


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

    if _SharedProfile.handler is not None:
        _SharedProfile.handler.tiles.stop()
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
