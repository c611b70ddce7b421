"""Optional raster basemaps: an MBTiles file served through the wallboard: scheme (TMS row flip), and an
organisation's own XYZ tile server, the only remote host the page may reach."""

from __future__ import annotations

import http.server
import sqlite3
import threading
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import ClassVar

import pytest
from PIL import Image
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from wallboard.config import MapConfig
from wallboard.core.timeutil import ManualClock
from wallboard.resources import kaltim_reference
from wallboard.ui.map import MapView, MBTiles, image_type

pytestmark = pytest.mark.webengine


def png(colour: tuple[int, int, int], size: int = 256) -> bytes:
    out = BytesIO()
    Image.new("RGB", (size, size), colour).save(out, format="PNG")
    return out.getvalue()


def make_mbtiles(path: Path, tiles: dict[tuple[int, int, int], bytes]) -> Path:
    """A minimal MBTiles file; keys are (zoom, column, TMS row) as the format stores them."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
    db.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", [(z, x, r, data) for (z, x, r), data in tiles.items()])
    db.commit()
    db.close()
    return path


def test_mbtiles_flips_rows_from_xyz_to_tms(tmp_path: Path) -> None:
    red, blue = png((255, 0, 0), 4), png((0, 0, 255), 4)
    tiles = MBTiles(make_mbtiles(tmp_path / "t.mbtiles", {(1, 1, 1): red, (1, 1, 0): blue}))
    assert tiles.tile(1, 1, 0) == red, "XYZ row 0 is the northern row, TMS row 2**z - 1"
    assert tiles.tile(1, 1, 1) == blue
    assert tiles.tile(2, 0, 0) is None
    assert image_type(red) == b"image/png" and image_type(b"\xff\xd8\xff\xe0") == b"image/jpeg"


def load(qtbot: QtBot, config: MapConfig) -> MapView:
    view = MapView(kaltim_reference(), "kaltim", config, "Asia/Makassar", ManualClock(1.8e9))
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    with qtbot.waitSignal(view.loaded, timeout=60_000):
        pass
    return view


def js(qtbot: QtBot, view: MapView, script: str) -> object:
    box: list[object] = []
    view.page.runJavaScript(script, 0, box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=10_000)
    return box[0]


def test_mbtiles_basemap_is_served_through_the_scheme(app: QApplication, qtbot: QtBot, tmp_path: Path) -> None:
    path = make_mbtiles(tmp_path / "kaltim.mbtiles", {(1, 1, 1): png((200, 30, 30))})
    view = load(qtbot, MapConfig(mbtiles_path=str(path)))
    # The Leaflet tile layer asks the scheme for tiles of the visible area.
    qtbot.waitUntil(lambda: any(p.startswith("/tiles/7/") for p in view.scheme_handler.served), timeout=10_000)
    probe = """(function () {
        window.__tiles = {};
        ['1/1/0', '1/1/1'].forEach(function (t) {
          var img = new Image();
          img.onload = function () { window.__tiles[t] = img.naturalWidth; };
          img.onerror = function () { window.__tiles[t] = 'missing'; };
          img.src = 'wallboard://app/tiles/' + t + '.png';
        });
        return 1; })()"""
    js(qtbot, view, probe)
    qtbot.waitUntil(lambda: js(qtbot, view, "Object.keys(window.__tiles).length") == 2, timeout=10_000)
    assert js(qtbot, view, "window.__tiles['1/1/0']") == 256
    assert js(qtbot, view, "window.__tiles['1/1/1']") == "missing"
    assert not [u for u in view.interceptor.allowed if u.startswith(("http:", "https:"))]


class _TileServer(http.server.BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []
    tile = png((30, 30, 200))

    def do_GET(self) -> None:
        _TileServer.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.tile)))
        self.end_headers()
        self.wfile.write(self.tile)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's name)
        pass


@pytest.fixture
def tile_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TileServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _TileServer.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_organisation_tile_server_is_the_only_remote_host_allowed(
    app: QApplication, qtbot: QtBot, tile_server: str
) -> None:
    view = load(qtbot, MapConfig(tiles_url=tile_server + "/{z}/{x}/{y}.png"))
    try:
        qtbot.waitUntil(lambda: bool(_TileServer.requests), timeout=10_000)
        assert all(r.startswith("/7/") for r in _TileServer.requests)
        js(
            qtbot,
            view,
            "new Image().src = 'http://example.com/x.png'; fetch('http://example.com/').catch(function(){}); 1",
        )
        qtbot.wait(500)
        remote = [u for u in view.interceptor.allowed if u.startswith(("http:", "https:"))]
        assert remote and all(u.startswith(tile_server + "/") for u in remote)
    finally:
        # The interceptor is shared by every map in the process: leave it as strict as the other tests expect.
        view.interceptor.allowed_hosts = frozenset()
        view.interceptor.allowed.clear()
