"""The map's data channel: one QWebChannel object the page subscribes to once, fed JSON text every tick.

``page.runJavaScript`` compiles every script it is given; a map tick sent that way is a new script source each
time (250 ms), which V8 compiles and caches, and the renderer's memory grows with the cache. Through the channel a
tick is a message: qwebchannel.js hands its text to one long-lived function in the page, which parses it as JSON.
Nothing is compiled after the page has loaded.

Messages are ``{"op": ..., ...}`` objects (see ``MapView``); queries carry an id and the page answers through the
``answer`` slot. One channel keeps messages and queries in order: a query sent after a tick sees that tick applied.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import cache
from typing import Any

from PySide6.QtCore import QFile, QIODevice, QObject, Signal, Slot
from PySide6.QtWebChannel import QWebChannel

from wallboard.ui.map.page import QWEBCHANNEL_PATH

log = logging.getLogger(__name__)

BRIDGE_NAME = "wallboardBridge"
QWEBCHANNEL_JS_PATH = QWEBCHANNEL_PATH


@cache
def qwebchannel_js() -> bytes:
    """Qt's own qwebchannel.js, from the resources compiled into QtWebChannel (served offline by our scheme)."""
    f = QFile(":/qtwebchannel/qwebchannel.js")
    if not f.open(QIODevice.OpenModeFlag.ReadOnly):
        raise FileNotFoundError("qwebchannel.js is not in Qt's resources (QtWebChannel missing?)")
    try:
        return bytes(f.readAll().data())
    finally:
        f.close()


class MapBridge(QObject):
    """The Python end of the channel. ``message`` carries JSON text to the page; the page calls ``ready`` once it has
    subscribed (after every page load) and ``answer`` with the result of a query."""

    message = Signal(str)
    pageReady = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queries: dict[int, Callable[[Any], None]] = {}
        self._next_query = 0
        self.sent = 0  # messages sent, for tests and the benchmark

    def send(self, op: str, body: dict[str, Any]) -> None:
        self.send_text(json.dumps({"op": op, **body}, separators=(",", ":")))

    def send_text(self, text: str) -> None:
        self.sent += 1
        self.message.emit(text)

    def query(self, what: str, callback: Callable[[Any], None], args: Any = None) -> None:
        """Ask the page for ``what`` (a named query of the live layer); ``callback`` gets the decoded answer."""
        self._next_query += 1
        self._queries[self._next_query] = callback
        self.send("query", {"id": self._next_query, "what": what, "args": args})

    def forget_queries(self) -> None:
        """A new page never answers the old one's queries."""
        self._queries.clear()

    @Slot()
    def ready(self) -> None:
        self.pageReady.emit()

    @Slot(int, str)
    def answer(self, query_id: int, text: str) -> None:
        callback = self._queries.pop(query_id, None)
        if callback is None:
            return
        try:
            value = json.loads(text) if text else None
        except ValueError:
            log.error("map page: unreadable answer to query %s", query_id)
            value = None
        callback(value)


def make_channel(bridge: MapBridge, parent: QObject) -> QWebChannel:
    channel = QWebChannel(parent)
    channel.registerObject(BRIDGE_NAME, bridge)
    return channel
