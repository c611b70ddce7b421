"""Local history in SQLite, so a restarted board shows the whole day (and last week's curve) at once.

Records are kept at their latest revision (an upsert only replaces an older revision), as the same JSON the API
sends. WAL with ``synchronous=FULL``: every committed batch survives a power cut (NORMAL could lose the last
transactions on power loss; a batch every half second makes FULL cheap). One board per database: an OS lock on
``<db>.lock``, released by the OS if the process dies.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import sqlite3
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import platformdirs

from wallboard.core.model import Call, Incident, Unit
from wallboard.core.wire import (
    WireError,
    call_from_wire,
    call_to_wire,
    incident_from_wire,
    incident_to_wire,
    unit_from_wire,
    unit_to_wire,
)

log = logging.getLogger(__name__)
SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS calls (
    id TEXT PRIMARY KEY, rev INTEGER NOT NULL, polres_id TEXT NOT NULL, received_at REAL NOT NULL,
    record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS calls_received ON calls (received_at);
CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY, rev INTEGER NOT NULL, polres_id TEXT NOT NULL, call_received_at REAL NOT NULL,
    closed_at REAL, record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS incidents_received ON incidents (call_received_at);
CREATE TABLE IF NOT EXISTS units (id TEXT PRIMARY KEY, rev INTEGER NOT NULL, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cursors (resource TEXT PRIMARY KEY, cursor TEXT NOT NULL);
"""


class StoreLockedError(RuntimeError):
    """Another wallboard process holds this history database."""


def default_db_path() -> Path:
    return Path(platformdirs.user_data_dir("wallboard")) / "history.sqlite"


def _lock_file(path: Path) -> IO[str]:
    lock_path = path.with_name(path.name + ".lock")
    handle = open(lock_path, "a+", encoding="utf-8")  # noqa: SIM115 - held open for the process lifetime
    try:
        if sys.platform == "win32":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise StoreLockedError(
            f"another wallboard (pid {holder}) is using the history database {path}; "
            "run one board per database, or give this one its own with --set store.path=FILE"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


@dataclass
class History:
    """What a restarted board loads: records since a moment, and the cursors to resume from."""

    calls: list[Call]
    incidents: list[Incident]
    units: list[Unit]
    cursors: dict[str, str]
    skipped: int


class HistoryStore:
    """The SQLite history. Use from one thread at a time (the writer thread once it runs)."""

    def __init__(self, path: Path, retention_days: int, lock: IO[str]) -> None:
        self.path = path
        self.retention_days = retention_days
        self._lock = lock
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        self._writer: BackgroundStoreWriter | None = None

    @classmethod
    def open(cls, path: str | Path | None = None, *, retention_days: int = 35) -> HistoryStore:
        db_path = Path(path) if path else default_db_path()
        db_path.parent.mkdir(parents=True, exist_ok=True)
        lock = _lock_file(db_path)
        try:
            return cls(db_path, retention_days, lock)
        except sqlite3.DatabaseError as exc:
            lock.close()
            raise StoreLockedError(f"history database {db_path} cannot be opened: {exc}") from None

    # --- writing -------------------------------------------------------------------------------------------------

    def write_batch(self, records: Iterable[Call | Incident | Unit], cursors: dict[str, str] | None = None) -> None:
        """Upsert records (newer revisions only) and cursors in one transaction."""
        db = self._db
        db.execute("BEGIN")
        try:
            for r in records:
                if isinstance(r, Call):
                    db.execute(
                        "INSERT INTO calls VALUES (?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET rev=excluded.rev, "
                        "polres_id=excluded.polres_id, received_at=excluded.received_at, record=excluded.record "
                        "WHERE excluded.rev > calls.rev",
                        (r.id, r.rev, r.polres_id, r.received_at, json.dumps(call_to_wire(r))),
                    )
                elif isinstance(r, Incident):
                    db.execute(
                        "INSERT INTO incidents VALUES (?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET rev=excluded.rev, "
                        "polres_id=excluded.polres_id, call_received_at=excluded.call_received_at, "
                        "closed_at=excluded.closed_at, record=excluded.record WHERE excluded.rev > incidents.rev",
                        (r.id, r.rev, r.polres_id, r.call_received_at, r.closed_at, json.dumps(incident_to_wire(r))),
                    )
                else:
                    db.execute(
                        "INSERT INTO units VALUES (?,?,?) ON CONFLICT(id) DO UPDATE SET rev=excluded.rev, "
                        "record=excluded.record WHERE excluded.rev > units.rev",
                        (r.id, r.rev, json.dumps(unit_to_wire(r))),
                    )
            for resource, cursor in (cursors or {}).items():
                db.execute("INSERT OR REPLACE INTO cursors VALUES (?, ?)", (resource, cursor))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def prune(self, now: float) -> int:
        cut = now - self.retention_days * 86400
        db = self._db
        db.execute("BEGIN")
        removed = db.execute("DELETE FROM calls WHERE received_at < ?", (cut,)).rowcount
        removed += db.execute(
            "DELETE FROM incidents WHERE call_received_at < ? AND closed_at IS NOT NULL", (cut,)
        ).rowcount
        db.execute("COMMIT")
        return removed

    # --- reading -------------------------------------------------------------------------------------------------

    def load_since(self, since: float) -> History:
        skipped = 0

        def decode(rows: Iterator[tuple[str]], fn: Any) -> list[Any]:
            nonlocal skipped
            out = []
            for (text,) in rows:
                try:
                    out.append(fn(json.loads(text)))
                except (WireError, ValueError):
                    skipped += 1
            return out

        db = self._db
        calls = decode(db.execute("SELECT record FROM calls WHERE received_at >= ?", (since,)), call_from_wire)
        incidents = decode(
            db.execute("SELECT record FROM incidents WHERE call_received_at >= ? OR closed_at IS NULL", (since,)),
            incident_from_wire,
        )
        units = decode(db.execute("SELECT record FROM units"), unit_from_wire)
        cursors = dict(db.execute("SELECT resource, cursor FROM cursors").fetchall())
        if skipped:
            log.warning("history: %d unreadable rows skipped", skipped)
        return History(calls, incidents, units, cursors, skipped)

    def counts(self) -> dict[str, int]:
        return {t: self._db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("calls", "incidents", "units")}

    # --- lifecycle -----------------------------------------------------------------------------------------------

    def writer(self) -> BackgroundStoreWriter:
        if self._writer is None:
            self._writer = BackgroundStoreWriter(self)
        return self._writer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._db.close()
        self._lock.close()


class BackgroundStoreWriter:
    """Writes on its own thread in batches, so the GUI thread never waits for the disk."""

    def __init__(self, store: HistoryStore, batch_interval_s: float = 0.5) -> None:
        self._store = store
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._interval = batch_interval_s
        self._thread = threading.Thread(target=self._run, name="history-writer", daemon=True)
        self._idle = threading.Event()
        self._idle.set()
        self._thread.start()

    def append(self, records: list[Call | Incident | Unit]) -> None:
        if records:
            self._idle.clear()
            self._queue.put(("records", records))

    def save_cursors(self, cursors: dict[str, str]) -> None:
        self._idle.clear()
        self._queue.put(("cursors", dict(cursors)))

    def flush(self, timeout: float = 10.0) -> bool:
        self._queue.put(("flush", None))
        return self._idle.wait(timeout)

    def close(self) -> None:
        self._queue.put(("stop", None))
        self._thread.join(timeout=30)

    def _run(self) -> None:
        stop = False
        while not stop:
            records: list[Call | Incident | Unit] = []
            cursors: dict[str, str] = {}
            try:
                kind, payload = self._queue.get(timeout=self._interval)
            except queue.Empty:
                continue
            items = [(kind, payload)]
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            for kind, payload in items:
                if kind == "records":
                    records.extend(payload)
                elif kind == "cursors":
                    cursors.update(payload)
                elif kind == "stop":
                    stop = True
            if records or cursors:
                try:
                    self._store.write_batch(records, cursors)
                except sqlite3.Error as exc:
                    log.error("history: could not write %d records: %s", len(records), exc)
            if self._queue.empty():
                self._idle.set()
