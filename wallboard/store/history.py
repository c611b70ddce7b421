"""Local history in SQLite, so a restarted board shows the whole day (and last week's curve) at once.

Records are kept at their latest revision (an upsert only replaces an older revision), as the same JSON the API
sends, plus the few columns the queries need. Units keep only their latest state (the fleet is bounded); calls and
incidents are pruned after ``retention_days``.

Durability: WAL with ``synchronous=FULL``. In WAL mode NORMAL never corrupts the database, but a power cut can undo
the last transactions that were already reported committed; FULL fsyncs the WAL at every commit, so what was
committed stays. Writes are batched (one transaction every half second at most), so FULL costs one fsync per batch,
not per record.

One board per database: an OS lock on ``<db>.lock`` (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows), held
while the store is open and released by the OS when the process dies, so a crashed board never leaves a stale lock.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import platformdirs

from wallboard.core.model import Call, Incident, Unit
from wallboard.core.records import Entity, is_entity, to_wire
from wallboard.core.wire import WireError, call_from_wire, incident_from_wire, unit_from_wire

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
UPSERT_CALL = (
    "INSERT INTO calls VALUES (?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET rev=excluded.rev, "
    "polres_id=excluded.polres_id, received_at=excluded.received_at, record=excluded.record "
    "WHERE excluded.rev > calls.rev"
)
UPSERT_INCIDENT = (
    "INSERT INTO incidents VALUES (?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET rev=excluded.rev, "
    "polres_id=excluded.polres_id, call_received_at=excluded.call_received_at, closed_at=excluded.closed_at, "
    "record=excluded.record WHERE excluded.rev > incidents.rev"
)
UPSERT_UNIT = (
    "INSERT INTO units VALUES (?,?,?) ON CONFLICT(id) DO UPDATE SET rev=excluded.rev, record=excluded.record "
    "WHERE excluded.rev > units.rev"
)
StoredRecord = Entity


def _time_column(record: Any, name: str) -> float | None:
    """A time field of a stored entity as POSIX seconds (the columns the queries need)."""
    value = getattr(record, name)
    return None if value is None else float(value)


class StoreError(RuntimeError):
    """The history database cannot be used (e.g. it was written by a newer wallboard)."""


class StoreLockedError(StoreError):
    """Another wallboard process holds this history database."""


def default_db_path() -> Path:
    return Path(platformdirs.user_data_dir("wallboard")) / "history.sqlite"


def lock_path_for(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


# Windows locks byte ranges, and a locked range cannot be read by others: lock a byte far past the PID text so a
# second board can still read who holds the lock.
_WINDOWS_LOCK_OFFSET = 1 << 20


def _lock_file(path: Path) -> IO[str]:
    lock_path = lock_path_for(path)
    handle = open(lock_path, "a+", encoding="utf-8")  # noqa: SIM115 - held open while the store is open
    try:
        if sys.platform == "win32":
            import msvcrt

            handle.seek(_WINDOWS_LOCK_OFFSET)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        try:
            handle.seek(0)
            holder = handle.read(32).strip() or "unknown"
        except OSError:
            holder = "unknown"
        handle.close()
        raise StoreLockedError(
            f"another wallboard (pid {holder}) is using the history database {path} (lock file {lock_path}); "
            "run one board per database, or give this one its own with --set store.path=FILE"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _move_aside(path: Path) -> Path:
    """Keep an unreadable database for inspection and let the board start on a fresh one."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.unreadable-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        part = path.with_name(path.name + suffix)
        if part.exists():
            part.replace(target.with_name(target.name + suffix))
    return target


@dataclass
class History:
    """What a restarted board loads: records since a moment, and the cursors to resume from."""

    calls: list[Call]
    incidents: list[Incident]
    units: list[Unit]
    cursors: dict[str, str]
    skipped: int  # rows that no longer decode (never expected; counted rather than fatal)


class HistoryStore:
    """The SQLite history. Thread-safe: every statement runs under one lock (the writer thread writes, the hub's
    executor reads at startup)."""

    def __init__(self, path: Path, retention_days: int, lock: IO[str]) -> None:
        self.path = path
        self.retention_days = retention_days
        self._lock = lock
        self._mutex = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                self._db.execute("INSERT OR IGNORE INTO meta VALUES ('created_at', ?)", (str(time.time()),))
            elif int(row[0]) > SCHEMA_VERSION:
                raise StoreError(
                    f"history database {path} has schema version {row[0]}, written by a newer wallboard "
                    f"(this one knows version {SCHEMA_VERSION}); use that version or another store.path"
                )
        except BaseException:
            self._db.close()
            raise
        self._writer: BackgroundStoreWriter | None = None

    @classmethod
    def open(cls, path: str | Path | None = None, *, retention_days: int = 35) -> HistoryStore:
        """Open (or create) the database, taking the single-board lock. Raises StoreLockedError, StoreError.

        A file that is not a readable SQLite database is moved aside (``history.sqlite.unreadable-<time>``) and a
        fresh one is started: a wall board must come up, and the old file is kept for inspection."""
        db_path = Path(path) if path else default_db_path()
        db_path.parent.mkdir(parents=True, exist_ok=True)
        lock = _lock_file(db_path)
        try:
            try:
                return cls(db_path, retention_days, lock)
            except sqlite3.DatabaseError as exc:
                aside = _move_aside(db_path)
                log.error("history database %s is unreadable (%s); moved to %s, starting afresh", db_path, exc, aside)
                return cls(db_path, retention_days, lock)
        except BaseException:
            lock.close()
            raise

    # --- writing -------------------------------------------------------------------------------------------------

    def write_batch(self, records: Iterable[StoredRecord], cursors: dict[str, str] | None = None) -> None:
        """Upsert records (a newer revision replaces an older one, never the reverse) and cursors, in one
        transaction: after a crash either the whole batch is there or none of it."""
        with self._mutex:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                for r in records:
                    stream, wire = to_wire(r)
                    text = json.dumps(wire)
                    if stream == "calls":
                        db.execute(UPSERT_CALL, (r.id, r.rev, r.polres_id, _time_column(r, "received_at"), text))
                    elif stream == "incidents":
                        closed = _time_column(r, "closed_at")
                        db.execute(UPSERT_INCIDENT, (r.id, r.rev, r.polres_id, _time_column(r, "call_received_at"),
                                                     closed, text))  # fmt: skip
                    elif stream == "units":
                        db.execute(UPSERT_UNIT, (r.id, r.rev, text))
                    else:
                        raise TypeError(f"the history stores calls, incidents and units, not {type(r).__name__}")
                for resource, cursor in (cursors or {}).items():
                    db.execute("INSERT OR REPLACE INTO cursors VALUES (?, ?)", (resource, cursor))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def append_calls(self, calls: Iterable[Call]) -> None:
        self.write_batch(calls)

    def append_incidents(self, incidents: Iterable[Incident]) -> None:
        self.write_batch(incidents)

    def append_units(self, units: Iterable[Unit]) -> None:
        self.write_batch(units)

    def save_cursors(self, cursors: dict[str, str]) -> None:
        self.write_batch((), cursors)

    def prune(self, now: float) -> int:
        """Delete calls and incidents that arrived more than ``retention_days`` before ``now``. Returns the number
        of rows deleted. Units are not pruned: one row per unit, the fleet bounds them."""
        cut = now - self.retention_days * 86400
        with self._mutex:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                removed = db.execute("DELETE FROM calls WHERE received_at < ?", (cut,)).rowcount
                removed += db.execute("DELETE FROM incidents WHERE call_received_at < ?", (cut,)).rowcount
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        if removed:
            log.info("history: pruned %d records older than %d days", removed, self.retention_days)
        return removed

    # --- reading -------------------------------------------------------------------------------------------------

    def load_cursors(self) -> dict[str, str]:
        with self._mutex:
            return dict(self._db.execute("SELECT resource, cursor FROM cursors").fetchall())

    def load_since(self, since: float) -> History:
        """Calls received since ``since``, incidents whose call came since then or that are still open, every unit's
        latest state and the cursors: what the metrics engine needs to rebuild today and last week."""
        skipped = 0

        def decode(rows: Iterator[tuple[str]], fn: Callable[[Any], Any]) -> list[Any]:
            nonlocal skipped
            out = []
            for (text,) in rows:
                try:
                    out.append(fn(json.loads(text)))
                except (WireError, ValueError, TypeError):
                    skipped += 1
            return out

        with self._mutex:
            db = self._db
            calls = decode(
                db.execute("SELECT record FROM calls WHERE received_at >= ? ORDER BY received_at", (since,)),
                call_from_wire,
            )
            incidents = decode(
                db.execute(
                    "SELECT record FROM incidents WHERE call_received_at >= ? OR closed_at IS NULL "
                    "ORDER BY call_received_at",
                    (since,),
                ),
                incident_from_wire,
            )
            units = decode(db.execute("SELECT record FROM units"), unit_from_wire)
            cursors = dict(db.execute("SELECT resource, cursor FROM cursors").fetchall())
        if skipped:
            log.warning("history: %d unreadable rows skipped", skipped)
        return History(calls, incidents, units, cursors, skipped)

    def newest_time(self) -> float | None:
        """When the newest stored call was received (None if there is none)."""
        with self._mutex:
            value = self._db.execute("SELECT MAX(received_at) FROM calls").fetchone()[0]
        return None if value is None else float(value)

    def retention_now(self) -> float:
        """The moment retention counts back from: the newest stored call, never later than the wall clock. Not the
        wall clock alone, so a history of simulated or replayed days (or a board switched off for a month) is not
        emptied at start-up; a wrong future timestamp from the API cannot prune the real days either."""
        newest = self.newest_time()
        return time.time() if newest is None else min(newest, time.time())

    def counts(self) -> dict[str, int]:
        with self._mutex:
            return {
                table: int(self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                for table in ("calls", "incidents", "units")
            }

    def schema_version(self) -> int:
        with self._mutex:
            return int(self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])

    # --- lifecycle -----------------------------------------------------------------------------------------------

    def writer(self) -> BackgroundStoreWriter:
        """The store's background writer (created on first use, closed with the store)."""
        if self._writer is None:
            self._writer = BackgroundStoreWriter(self)
        return self._writer

    def close(self) -> None:
        """Write what is queued, close the database, release the lock."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        with self._mutex:
            self._db.close()
        self._lock.close()


@dataclass
class _Flush:
    done: threading.Event
    ok: bool = True


class BackgroundStoreWriter:
    """Writes on its own thread, so the GUI thread never waits for the disk: ``append`` and ``save_cursors`` only
    queue. What arrives within ``batch_interval_s`` of the first queued item is committed in one transaction. A
    failed write (disk full, I/O error) is logged and retried with the next batch. Old rows are pruned when the
    writer starts and every ``prune_every_s``, counting back from ``now()`` (default: the store's
    ``retention_now``)."""

    # Records kept for retry while the disk fails; beyond this the oldest are dropped (and logged) rather than
    # letting memory grow without bound on a board that runs for weeks.
    MAX_PENDING = 500_000

    def __init__(
        self,
        store: HistoryStore,
        batch_interval_s: float = 0.5,
        *,
        now: Callable[[], float] | None = None,
        prune_every_s: float = 3600.0,
    ) -> None:
        self._store = store
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._interval = batch_interval_s
        self._now = now or store.retention_now
        self._prune_every = prune_every_s
        self._closed = False
        self.batches = 0  # committed transactions (for tests and the log)
        self.failures = 0
        self._thread = threading.Thread(target=self._run, name="history-writer", daemon=True)
        self._thread.start()

    def append(self, records: Iterable[StoredRecord]) -> None:
        """Queue calls, incidents and units (any mix) for the next batch. Never blocks."""
        batch = list(records)
        if not batch:
            return
        for r in batch:  # a programming error surfaces here, on the caller's thread, not in the writer
            if not is_entity(r):
                raise TypeError(f"the history stores calls, incidents and units, not {type(r).__name__}")
        if self._closed:
            log.warning("history: %d records arrived after the writer closed; not stored", len(batch))
            return
        self._queue.put(("records", batch))

    def save_cursors(self, cursors: dict[str, str]) -> None:
        """Queue the stream cursors; they commit in the same transaction as the records queued before them, so the
        stored cursor never runs ahead of the stored records."""
        if not self._closed:
            self._queue.put(("cursors", dict(cursors)))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is committed. False on timeout or if the write failed."""
        if self._closed or not self._thread.is_alive():
            return False
        request = _Flush(threading.Event())
        self._queue.put(("flush", request))
        return request.done.wait(timeout) and request.ok

    def close(self, timeout: float = 30.0) -> None:
        """Commit what is queued and stop the thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(("stop", None))
        self._thread.join(timeout)

    def _run(self) -> None:
        pending: list[StoredRecord] = []
        cursors: dict[str, str] = {}
        next_prune = time.monotonic()
        stop = False
        while not stop:
            wait = max(0.0, next_prune - time.monotonic()) if not pending else self._interval
            try:
                items = [self._queue.get(timeout=wait)]
            except queue.Empty:
                items = []
            # Collect for up to one batch interval, unless someone is waiting (flush, stop).
            deadline = time.monotonic() + self._interval
            while items and not any(kind in ("flush", "stop") for kind, _ in items):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    items.append(self._queue.get(timeout=remaining))
                except queue.Empty:
                    break
            while True:  # and whatever else is already queued
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            flushes: list[_Flush] = []
            for kind, payload in items:
                if kind == "records":
                    pending.extend(payload)
                elif kind == "cursors":
                    cursors.update(payload)
                elif kind == "flush":
                    flushes.append(payload)
                elif kind == "stop":
                    stop = True
            ok = self._commit(pending, cursors)
            if ok:
                pending, cursors = [], {}
            elif len(pending) > self.MAX_PENDING:
                log.error("history: disk still failing; %d oldest records dropped", len(pending) - self.MAX_PENDING)
                del pending[: len(pending) - self.MAX_PENDING]
            for request in flushes:
                request.ok = ok
                request.done.set()
            if time.monotonic() >= next_prune and not stop:
                next_prune = time.monotonic() + self._prune_every
                try:
                    self._store.prune(self._now())
                except sqlite3.Error as exc:
                    log.error("history: pruning failed: %s", exc)

    def _commit(self, records: list[StoredRecord], cursors: dict[str, str]) -> bool:
        if not records and not cursors:
            return True
        try:
            self._store.write_batch(records, cursors)
        except sqlite3.Error as exc:
            self.failures += 1
            if self.failures == 1 or self.failures % 100 == 0:
                log.error("history: could not write %d records (attempt %d, will retry): %s",
                          len(records), self.failures, exc)  # fmt: skip
            return False
        self.failures = 0
        self.batches += 1
        return True
