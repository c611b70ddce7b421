"""The live map widget: the page built once, then patched in place through JavaScript."""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QVBoxLayout, QWidget

from wallboard.config import MapConfig
from wallboard.core.model import Incident, Polda, Polres, Unit
from wallboard.core.reference import ReferenceData
from wallboard.core.snapshot import BoardSnapshot
from wallboard.core.timeutil import Clock
from wallboard.ui.map.channel import MapBridge, make_channel
from wallboard.ui.map.page import build_page, region_bounds
from wallboard.ui.map.payload import (
    INCIDENT_LAT,
    UNIT_LAT,
    incident_payload,
    map_labels,
    unit_payload,
)
from wallboard.ui.map.regions import region_rows
from wallboard.ui.map.scheme import ORIGIN, MBTiles, register_schemes, shared_profile

log = logging.getLogger(__name__)
FLUSH_INTERVAL_MS = 250
MAX_UNITS_PER_PUSH = 500  # 1-2 ms of JSON on the GUI thread (several times that on a busy 2-core box)


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
        self._regions: list[dict[str, Any]] = []  # national board: one row per Polda (regions.region_rows)
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
        # Every update after the page has loaded travels through this channel (no script compiled per tick).
        self.bridge = MapBridge(self)
        self.channel = make_channel(self.bridge, self)
        self.page.setWebChannel(self.channel)
        self.bridge.pageReady.connect(self._on_page_ready)
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
        html = build_page(self.reference, self.polda_id, self.config, map_labels())
        self.scheme_handler.pages[self.page_path] = html.encode("utf-8")
        self.is_loaded = False
        self.bridge.forget_queries()
        self.view.load(QUrl(f"{ORIGIN}{self.page_path}"))

    def _on_load_finished(self, ok: bool) -> None:
        if not ok:
            log.error("map page failed to load")
        # Loaded means subscribed to the channel: the page says so itself (``_on_page_ready``).

    def _on_page_ready(self) -> None:
        self.is_loaded = True
        self.loads += 1
        self._push_full_state()
        self.loaded.emit()

    def _on_render_process_terminated(self, status: Any, exit_code: int) -> None:
        log.error("map renderer died (%s, exit %s): rebuilding the map and restoring its state", status, exit_code)
        self.is_loaded = False
        self.bridge.forget_queries()
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
            {
                "id": p.id,
                "name": p.name,
                "lat": p.lat,
                "lon": p.lon,
                "kind": kind,
                "polda": p.polda_id if isinstance(p, Polres) else p.id,
            }
            for p, kind in places
            if math.isfinite(p.lat) and math.isfinite(p.lon)
        ]

    def _reference_payload(self) -> dict[str, Any]:
        return {"polres": self._hq_payload(), "bounds": self.bounds}

    def _push_full_state(self) -> None:
        self.bridge.send("reference", self._reference_payload())
        if self._regions:
            self.bridge.send("regions", {"rows": self._regions})
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
            payload = incident_payload(i, self.target_s)
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

    def update_snapshot(self, snapshot: BoardSnapshot) -> None:
        """A national board colours each Polda's province and labels it with its figures; sent only when they change."""
        if self.polda_id is not None:
            return
        rows = region_rows(snapshot)
        if rows != self._regions:
            self._regions = rows
            if self.is_loaded:
                self.bridge.send("regions", {"rows": rows})

    def set_view(self, lat: float, lon: float, zoom: float) -> None:
        """Centre and zoom the map (tests, and a wall that wants a fixed framing)."""
        if self.is_loaded:
            self.bridge.send("view", {"center": [lat, lon], "zoom": zoom})

    def set_reference(self, reference: ReferenceData) -> None:
        """New reference data: the HQ markers (names, places) and the region to fit follow it; units stay."""
        before = self._hq_payload()
        self.reference = reference
        if self.is_loaded and self._hq_payload() != before:
            self.bridge.send("reference", self._reference_payload())

    def flush(self) -> None:
        """One tick: the board clock plus what changed since the last tick, as one JSON diff per layer, in one call.

        At most MAX_UNITS_PER_PUSH units go at once; the rest follow as soon as the event loop has run, so a burst
        (first sync, 5,000 units after a renderer restart) never holds the GUI thread for long."""
        if not self.is_loaded:
            return
        started = time.perf_counter()
        tick: dict[str, Any] = {"clock": self.clock.now()}
        if self._pending_units or self._removed_units:
            if len(self._pending_units) > MAX_UNITS_PER_PUSH:
                batch = dict(itertools.islice(self._pending_units.items(), MAX_UNITS_PER_PUSH))
                for unit_id in batch:
                    del self._pending_units[unit_id]
            else:
                batch, self._pending_units = self._pending_units, {}
            tick["units"] = {"upsert": list(batch.values()), "remove": sorted(self._removed_units)}
            self._removed_units = set()
        if self._pending_incidents or self._removed_incidents:
            diff = {"upsert": list(self._pending_incidents.values()), "remove": sorted(self._removed_incidents)}
            tick["incidents"] = diff
            self._pending_incidents, self._removed_incidents = {}, set()
        self.bridge.send("tick", tick)
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
        if self.is_loaded:
            self.bridge.send("fit", {})

    def query(self, what: str, callback: Callable[[Any], None], args: Any = None) -> None:
        """Ask the live layer a named question (``state``, ``labels``, ``applyMsTotal``; see ``WallboardMap.query``
        in wallboard_map.js). Through the channel, so it is answered after every update sent before it."""
        self.bridge.query(what, callback, args)

    def query_state(self, callback: Callable[[dict[str, Any]], None]) -> None:
        """The page's live state (markers, styles, tooltips) as a dict."""
        self.query("state", lambda value: callback(value or {}))

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
