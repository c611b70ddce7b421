"""MBTiles reads happen off the GUI thread: a slow disk under the basemap never freezes the wall, and the reads
waiting are bounded. First the tile reader with stand-in jobs, then a real map page asking for slow tiles."""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWebEngineCore import QWebEngineUrlRequestJob
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.gui.test_map_layers import js, load, make_mbtiles, png
from wallboard.config import MapConfig
from wallboard.ui.map import MBTiles
from wallboard.ui.map import scheme as scheme_module
from wallboard.ui.map.scheme import MAX_PENDING_TILES, TileReader

pytestmark = pytest.mark.webengine

TILE = png((200, 30, 30))


class FakeJob(QObject):
    """What the reader needs of a QWebEngineUrlRequestJob: reply or fail, once, on the GUI thread."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[tuple[str, Any]] = []
        self.threads: list[str] = []

    def reply(self, content_type: bytes, device: Any) -> None:
        self.threads.append(threading.current_thread().name)
        self.answers.append(("reply", (content_type, bytes(device.data()))))

    def fail(self, error: QWebEngineUrlRequestJob.Error) -> None:
        self.threads.append(threading.current_thread().name)
        self.answers.append(("fail", error))


class SlowTiles(MBTiles):
    """Every read waits for ``gate`` (a disk that stalls), then answers TILE for zoom 1 and nothing else."""

    def __init__(self, path: Path, gate: threading.Event) -> None:
        super().__init__(path)
        self.gate = gate
        self.reads: list[tuple[int, int, int]] = []

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        self.reads.append((z, x, y))
        self.gate.wait(10)
        return super().tile(z, x, y)


@pytest.fixture
def reader(app: QApplication) -> Iterator[TileReader]:
    tiles = TileReader()
    yield tiles
    tiles.stop()


def test_a_stalled_tile_read_leaves_the_gui_thread_free_and_is_answered_later(
    reader: TileReader, qtbot: QtBot, tmp_path: Path
) -> None:
    gate = threading.Event()
    tiles = SlowTiles(make_mbtiles(tmp_path / "t.mbtiles", {(1, 1, 1): TILE}), gate)
    job, missing = FakeJob(), FakeJob()
    started = time.monotonic()
    reader.submit(job, tiles, 1, 1, 0)  # type: ignore[arg-type]
    reader.submit(missing, tiles, 1, 1, 1)  # type: ignore[arg-type]
    assert time.monotonic() - started < 0.1, "submitting does not read"
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(10)
    qtbot.wait(300)  # the disk is stalled; the event loop is not
    assert len(ticks) >= 10 and job.answers == [] and reader.pending == 2
    gate.set()
    qtbot.waitUntil(lambda: bool(job.answers and missing.answers), timeout=5000)
    timer.stop()
    assert job.answers == [("reply", (b"image/png", TILE))]
    assert missing.answers == [("fail", QWebEngineUrlRequestJob.Error.UrlNotFound)]
    assert job.threads == [threading.current_thread().name], "answered on the GUI thread"
    assert reader.pending == 0


def test_the_reads_waiting_are_bounded_and_a_cancelled_job_is_never_answered(
    reader: TileReader, qtbot: QtBot, tmp_path: Path
) -> None:
    gate = threading.Event()
    tiles = SlowTiles(make_mbtiles(tmp_path / "t.mbtiles", {(1, 1, 1): TILE}), gate)
    jobs = [FakeJob() for _ in range(MAX_PENDING_TILES + 3)]
    for job in jobs:
        reader.submit(job, tiles, 1, 1, 0)  # type: ignore[arg-type]
    assert reader.pending == MAX_PENDING_TILES
    refused = jobs[MAX_PENDING_TILES:]
    assert all(j.answers == [("fail", QWebEngineUrlRequestJob.Error.RequestFailed)] for j in refused), "at once"
    cancelled = jobs[5]
    shiboken6.delete(cancelled)  # Qt cancels a request: its job goes away
    assert reader.pending == MAX_PENDING_TILES - 1
    gate.set()
    qtbot.waitUntil(lambda: reader.pending == 0, timeout=10_000)
    answered = [j for j in jobs[:MAX_PENDING_TILES] if j is not cancelled]
    assert all(j.answers == [("reply", (b"image/png", TILE))] for j in answered)
    assert len(tiles.reads) <= MAX_PENDING_TILES - 1 + 1, "a cancelled job's read is skipped unless under way"


def test_a_slow_basemap_does_not_freeze_a_real_map(
    app: QApplication, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_mbtiles(tmp_path / "kaltim.mbtiles", {(1, 0, 0): TILE, (1, 0, 1): TILE, (1, 1, 1): TILE})
    view = load(qtbot, MapConfig(mbtiles_path=str(path)))
    original = MBTiles.tile

    def slow(self: MBTiles, z: int, x: int, y: int) -> bytes | None:
        if z == 1:  # only the probed tiles: each takes a second to come off the "disk"
            time.sleep(1.0)
        return original(self, z, x, y)

    monkeypatch.setattr(scheme_module.MBTiles, "tile", slow)
    ticks: list[float] = [time.monotonic()]
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(20)
    probe = """(function () {
        window.__tiles = {};
        ['1/0/0', '1/0/1', '1/1/0'].forEach(function (t) {
          var img = new Image();
          img.onload = function () { window.__tiles[t] = img.naturalWidth; };
          img.onerror = function () { window.__tiles[t] = 'missing'; };
          img.src = 'wallboard://app/tiles/' + t + '.png';
        });
        return 1; })()"""
    js(qtbot, view, probe)
    qtbot.waitUntil(lambda: js(qtbot, view, "Object.keys(window.__tiles).length") == 3, timeout=20_000)
    timer.stop()
    assert json.loads(str(js(qtbot, view, "JSON.stringify(window.__tiles)"))) == dict.fromkeys(
        ("1/0/0", "1/0/1", "1/1/0"), 256
    )
    longest = max(b - a for a, b in itertools.pairwise(ticks))
    assert ticks[-1] - ticks[0] > 2.5, "three one-second reads were waited for"
    assert longest < 0.5, f"the GUI event loop stalled {longest:.2f} s while tiles were read"


def store(path: Path, z: int, x: int, tms_row: int, value: object) -> None:
    """Put ``value`` in the tiles table as SQLite stores it: the column is declared BLOB, which converts nothing, so a
    str stays TEXT and an int INTEGER, as a damaged or hostile MBTiles file may hold them."""
    db = sqlite3.connect(path)
    db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, tms_row, value))
    db.commit()
    db.close()


def answered(reader: TileReader, qtbot: QtBot, tiles: MBTiles, *zxy: tuple[int, int, int]) -> list[list[Any]]:
    jobs = [FakeJob() for _ in zxy]
    for job, (z, x, y) in zip(jobs, zxy, strict=True):
        reader.submit(job, tiles, z, x, y)  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: all(job.answers for job in jobs), timeout=5000)
    assert reader.pending == 0, "no job is left waiting"
    return [job.answers for job in jobs]


NOT_FOUND = [("fail", QWebEngineUrlRequestJob.Error.UrlNotFound)]


def test_a_tile_that_is_not_a_blob_or_too_large_is_missing_and_said_once_per_kind(
    reader: TileReader, qtbot: QtBot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Review: TEXT tile_data raised TypeError in ``bytes(row[0])``, which killed the worker with the job unanswered
    (such jobs count towards MAX_PENDING_TILES until every tile is refused); INTEGER n made ``bytes(n)`` n zero bytes
    (300 MB seen); a BLOB had no cap. Only a BLOB up to MAX_TILE_BYTES is a tile; the rest are missing, each kind
    said once, and the worker goes on."""
    path = make_mbtiles(tmp_path / "t.mbtiles", {(1, 1, 1): TILE})
    store(path, 1, 0, 1, "not an image")  # TEXT
    store(path, 1, 1, 0, 5)  # INTEGER: five zero bytes before the fix (the small stand-in for 300 MB)
    store(path, 1, 0, 0, b"\x89PNG" + bytes(scheme_module.MAX_TILE_BYTES))  # one byte over the cap
    store(path, 2, 0, 3, b"\x89PNG" + bytes(scheme_module.MAX_TILE_BYTES - 4))  # at the cap: served
    store(path, 2, 1, 3, None)  # NULL
    tiles = MBTiles(path)
    caplog.set_level("WARNING", logger=scheme_module.__name__)
    text, integer, large, at_cap, null, good = answered(
        reader, qtbot, tiles, (1, 0, 0), (1, 1, 1), (1, 0, 1), (2, 0, 0), (2, 1, 0), (1, 1, 0)
    )
    assert text == integer == large == null == NOT_FOUND
    assert at_cap == [("reply", (b"image/png", b"\x89PNG" + bytes(scheme_module.MAX_TILE_BYTES - 4)))]
    assert good == [("reply", (b"image/png", TILE))], "the worker survived the bad tiles"
    thread = reader._thread
    assert answered(reader, qtbot, tiles, (1, 0, 0), (1, 1, 1), (1, 0, 1)) == [NOT_FOUND] * 3
    assert reader._thread is thread and thread is not None and thread.is_alive(), "one worker all along"
    said = [r.getMessage() for r in caplog.records if "tile_data" in r.getMessage()]
    assert len(said) == 4, said  # text, integer, too large, null: once each however often asked
    assert all(any(word in m for m in said) for word in ("TEXT", "INTEGER", "NULL", "over the 1 MiB")), said
    assert all(str(path) in m for m in said)


def test_a_read_that_raises_anything_answers_its_job_and_the_worker_survives(
    reader: TileReader, qtbot: QtBot, tmp_path: Path
) -> None:
    """Review: only sqlite3.Error, OSError, ValueError and OverflowError were caught; any other exception ended the
    worker thread and left its job unanswered. Now every job is answered and the same worker reads on."""

    class Broken(MBTiles):
        def tile(self, z: int, x: int, y: int) -> bytes | None:
            if z == 1 and x == 0:
                raise TypeError("a bug or a file nobody expected")
            if z == 1 and x == 1 and y == 1:
                raise MemoryError
            return super().tile(z, x, y)

    tiles = Broken(make_mbtiles(tmp_path / "t.mbtiles", {(1, 1, 1): TILE}))
    first, memory, good = answered(reader, qtbot, tiles, (1, 0, 0), (1, 1, 1), (1, 1, 0))
    assert first[0][0] == memory[0][0] == "fail" and good == [("reply", (b"image/png", TILE))]
    thread = reader._thread
    assert answered(reader, qtbot, tiles, (1, 0, 0), (1, 1, 0))[1] == [("reply", (b"image/png", TILE))]
    assert reader._thread is thread and thread is not None and thread.is_alive()


def test_an_mbtiles_path_with_uri_characters_is_read_only_and_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    """'file:{path}?mode=ro' let a '?' or '#' in the configured path cut off mode=ro: SQLite then created an empty
    file at the part before it (outside our own files). A FIFO held the tile thread until a writer came."""
    odd = tmp_path / "base?map#1.mbtiles"
    tile = png((0, 80, 0))
    make_mbtiles(odd, {(0, 0, 0): tile})
    before = sorted(p.name for p in tmp_path.iterdir())
    assert MBTiles(odd).tile(0, 0, 0) == tile
    assert MBTiles(odd).tile(3, 0, 0) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "nothing created beside it"
    fifo = tmp_path / "tiles.fifo"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(OSError, match="not a regular file"):
        MBTiles(fifo).tile(0, 0, 0)
    assert time.monotonic() - started < 5
    assert "not a regular file" in _config_problem(str(fifo))


def _config_problem(path: str) -> str:
    from wallboard.config import ConfigError, load_config

    with pytest.raises(ConfigError) as caught:
        load_config(None, overrides={"map.mbtiles_path": path}, environ={})
    return str(caught.value)
