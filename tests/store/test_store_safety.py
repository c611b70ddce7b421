"""The store only ever touches its own files, reports every failure in words, and nothing stops its writer:
foreign paths are refused untouched, a corrupt wallboard database is moved aside, a full disk says "disk full",
a read-only database recovers when it becomes writable again, hostile records are left out, the queue is bounded."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from wallboard.core.model import Call, CallCategory, Tier
from wallboard.store import HistoryStore, StoreError, StoreLockedError
from wallboard.store.history import BackgroundStoreWriter, describe_failure, lock_path_for

NOW = 1_795_000_000.0


def call(cid: str, received: float = NOW, rev: int = 1) -> Call:
    return Call(cid, rev, "64.71", received, Tier.POLRES, (), received + 5, Tier.POLRES, None, CallCategory.UNKNOWN)


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    s = HistoryStore.open(tmp_path / "history.sqlite", retention_days=3650)
    yield s
    s.close()


def writer_for(store: HistoryStore) -> BackgroundStoreWriter:
    return BackgroundStoreWriter(store, batch_interval_s=0.02, now=lambda: NOW, retry_max_s=0.1)


# --- opening: only our own files ----------------------------------------------------------------------------------


def assert_untouched(folder: Path, before: dict[str, bytes]) -> None:
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    assert after == before  # nothing renamed, nothing written, no lock file left beside it


def test_a_text_file_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("an operator's notes, not a database\n" * 50)
    before = {path.name: path.read_bytes()}
    with pytest.raises(StoreError, match="not a wallboard history database"):
        HistoryStore.open(path)
    assert_untouched(tmp_path, before)


def test_a_directory_with_files_is_refused_and_left_untouched(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "keep.txt").write_text("precious")
    with pytest.raises(StoreError, match="is a directory"):
        HistoryStore.open(folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    assert [p.name for p in folder.iterdir()] == ["keep.txt"]


def test_a_device_is_refused_without_creating_anything_beside_it() -> None:
    assert not lock_path_for(Path("/dev/null")).exists()
    with pytest.raises(StoreError, match="not a regular file"):
        HistoryStore.open("/dev/null")
    assert not lock_path_for(Path("/dev/null")).exists()


def test_another_programs_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE accounts (name TEXT)")
        db.execute("INSERT INTO accounts VALUES ('budi')")
    db.close()
    before = {path.name: path.read_bytes()}
    with pytest.raises(StoreError, match="not a wallboard history"):
        HistoryStore.open(path)
    assert_untouched(tmp_path, before)


def test_an_empty_file_wallboard_did_not_create_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nologin"
    path.touch()
    with pytest.raises(StoreError, match="empty file"):
        HistoryStore.open(path)
    assert path.read_bytes() == b"" and not lock_path_for(path).exists()


def test_a_folder_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="not a directory"):
        HistoryStore.open(tmp_path / "file" / "history.sqlite")


def test_a_wallboard_database_with_a_damaged_schema_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    s = HistoryStore.open(path)
    s.append_calls([call("old")])
    s.close()
    with open(path, "r+b") as f:  # page 1 after the 100-byte header: the schema, garbage now
        f.seek(100)
        f.write(b"\xff" * 3000)
    s = HistoryStore.open(path)
    try:
        assert s.counts()["calls"] == 0
        s.append_calls([call("new")])
    finally:
        s.close()
    aside = list(tmp_path.glob("h.sqlite.unreadable-*"))
    assert len(aside) == 1


def test_an_existing_wallboard_database_without_the_application_id_is_still_ours(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    HistoryStore.open(path).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA application_id=0")  # as written by earlier versions
    db.close()
    HistoryStore.open(path).close()


# --- writing: failures in words, recovery without a restart -------------------------------------------------------


def test_a_full_disk_is_reported_as_a_full_disk_and_recovers_when_space_is_back(store: HistoryStore) -> None:
    writer = writer_for(store)
    try:
        pages = store._db.execute("PRAGMA page_count").fetchone()[0]
        store._db.execute(f"PRAGMA max_page_count={pages}")  # the disk is full: not one page more
        writer.append([call(f"c{i}") for i in range(500)])
        assert not writer.flush(5)
        status = writer.status()
        assert not status.ok and status.reason == "disk full", status
        assert "rollback" not in status.detail
        assert status.failing_since is not None and "history not saved since" in status.describe()
        store._db.execute("PRAGMA max_page_count=1073741823")  # space is back
        assert wait_for(lambda: writer.status().ok)
        assert store.counts()["calls"] == 500
    finally:
        writer.close()


def test_the_rollback_after_a_failed_commit_never_hides_the_cause(store: HistoryStore) -> None:
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count={pages}")
    with pytest.raises(sqlite3.Error) as failure:
        store.write_batch([call(f"c{i}") for i in range(500)])
    assert describe_failure(failure.value) == "disk full"
    assert not store._db.in_transaction


def test_a_read_only_database_is_reported_and_recovers_once_writable(
    store: HistoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As root a chmod stops nothing, so "read-only" is SQLite's own: every connection opened while the flag is up
    # refuses writes, as a connection to a file without write permission does.
    read_only = {"on": True}
    real_connect = HistoryStore._connect

    def connect(path: Path) -> sqlite3.Connection:
        db = real_connect(path)
        if read_only["on"]:
            db.execute("PRAGMA query_only=1")
        return db

    monkeypatch.setattr(HistoryStore, "_connect", staticmethod(connect))
    store.reopen()
    writer = writer_for(store)
    try:
        writer.append([call("a")])
        assert not writer.flush(5)
        assert writer.status().reason.startswith("read-only"), writer.status()
        time.sleep(0.3)
        assert not writer.status().ok  # still failing, still saying why
        read_only["on"] = False  # permissions fixed: the writer's fresh connection can write
        assert wait_for(lambda: writer.status().ok)
        assert store.counts()["calls"] == 1
    finally:
        writer.close()


def test_corrupt_pages_in_the_middle_move_our_database_aside_and_writing_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    s = HistoryStore.open(path)
    s.append_calls([call(f"c{i:05d}", NOW + i) for i in range(3000)])
    s.close()
    size = path.stat().st_size
    with open(path, "r+b") as f:  # the schema and meta pages stay, the calls' pages in the middle are garbage
        for page in range(8, size // 4096 - 4):
            f.seek(page * 4096)
            f.write(os.urandom(4096))
    s = HistoryStore.open(path)
    writer = writer_for(s)
    try:
        writer.append([call(f"c{i:05d}", NOW + i, rev=2) for i in range(0, 3000, 7)])
        assert wait_for(lambda: writer.status().moved_aside != "" and writer.status().ok)
        assert writer.flush(5)
        writer.append([call("after")])
        assert writer.flush(5)
        assert s.counts()["calls"] == len(range(0, 3000, 7)) + 1  # the fresh database has what was in memory
        assert Path(writer.status().moved_aside).exists()
    finally:
        writer.close()
        s.close()


# --- nothing kills the writer -------------------------------------------------------------------------------------


def test_hostile_records_are_left_out_and_the_writer_keeps_going(store: HistoryStore) -> None:
    writer = writer_for(store)
    try:
        writer.append([call("ok-1"), call("too-big", rev=2**63), call("\ud800"), call("ok-2")])
        assert writer.flush(5)
        writer.append([call("later")])
        assert writer.flush(5)
        assert sorted(c.id for c in store.load_since(0).calls) == ["later", "ok-1", "ok-2"]
        status = writer.status()
        assert status.ok and status.rejected == 2
        assert "OverflowError" in status.last_rejected or "UnicodeEncodeError" in status.last_rejected
    finally:
        writer.close()


def test_a_hostile_cursor_is_left_out(store: HistoryStore) -> None:
    rejected = store.write_batch([call("a")], {"calls": "\udfff", "units": "7"})
    assert len(rejected) == 1 and store.load_cursors() == {"units": "7"}


def test_any_exception_costs_one_batch_not_the_writer(store: HistoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = writer_for(store)
    real = store.write_batch
    boom = {"left": 1}

    def buggy(records: object, cursors: object = None) -> object:
        if boom["left"]:
            boom["left"] -= 1
            raise RuntimeError("a bug")
        return real(records, cursors)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "write_batch", buggy)
    try:
        writer.append([call("lost")])
        assert not writer.flush(5)
        assert "internal error" in writer.status().reason
        writer.append([call("kept")])
        assert writer.flush(5)
        assert writer._thread.is_alive() and writer.status().ok
        assert [c.id for c in store.load_since(0).calls] == ["kept"]
    finally:
        writer.close()


def test_the_queue_is_bounded(store: HistoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = writer_for(store)
    writer.MAX_QUEUED = 100
    gate = threading.Event()
    real = store.write_batch

    def slow(records: object, cursors: object = None) -> object:
        gate.wait(5)
        return real(records, cursors)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "write_batch", slow)
    try:
        writer.append([call("first")])
        assert wait_for(lambda: writer._queued == 0)  # the writer took it and is now stuck in the first write
        for i in range(30):
            writer.append([call(f"c{i}-{j}") for j in range(10)])
        assert writer.status().dropped == 200  # 10 batches of 10 fit, 20 did not
        gate.set()
        assert writer.flush(5)
        assert store.counts()["calls"] == 101
    finally:
        gate.set()
        writer.close()


def test_the_lock_file_of_a_path_never_rewrites_a_file_that_is_not_ours(tmp_path: Path) -> None:
    """store.path = Cargo beside a project's Cargo.lock: the board refuses rather than writing its PID there."""
    cargo_lock = tmp_path / "Cargo.lock"
    cargo_lock.write_text("# This file is automatically generated by Cargo.\nversion = 3\n", encoding="utf-8")
    before = cargo_lock.read_bytes()
    with pytest.raises(StoreError, match="not a wallboard lock file"):
        HistoryStore.open(tmp_path / "Cargo")
    assert cargo_lock.read_bytes() == before


def test_a_lock_file_that_is_a_link_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    (tmp_path / "h.sqlite.lock").symlink_to(victim)
    with pytest.raises(StoreError, match="link"):
        HistoryStore.open(tmp_path / "h.sqlite")
    assert victim.read_text(encoding="utf-8") == "precious"


def test_a_database_reached_through_a_link_meets_the_same_lock(tmp_path: Path) -> None:
    first = HistoryStore.open(tmp_path / "real.sqlite")
    try:
        (tmp_path / "alias.sqlite").symlink_to(tmp_path / "real.sqlite")
        with pytest.raises(StoreLockedError):
            HistoryStore.open(tmp_path / "alias.sqlite")
    finally:
        first.close()
