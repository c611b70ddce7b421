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

import errno
import json
import logging
import os
import queue
import sqlite3
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
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
#: ``PRAGMA application_id`` of a wallboard history (bytes 68-71 of the file): "WB10". With the ``meta`` table's
#: schema version it is how the store recognises its own file before it ever writes to or moves one.
APPLICATION_ID = 0x57423130
SQLITE_MAGIC = b"SQLite format 3\x00"

# SQLite's primary result codes (extended codes carry these in their low byte).
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 3, 5, 6, 8
_SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 10, 11, 13, 14, 26
#: Failures a fresh connection may cure (permissions fixed, the file back, a read-only open made writable).
_REOPEN_CODES = {_SQLITE_PERM, _SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_CANTOPEN, _SQLITE_CORRUPT, _SQLITE_NOTADB}


def _sqlite_code(exc: BaseException) -> int:
    return int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


def is_corruption(exc: BaseException) -> bool:
    """Whether SQLite said the file's content is damaged (not: cannot open, no permission, disk full...)."""
    return _sqlite_code(exc) in (_SQLITE_CORRUPT, _SQLITE_NOTADB)


def describe_failure(exc: BaseException) -> str:
    """Why a write failed, in the words an operator needs on the wall: disk full, read-only, permission denied..."""
    if isinstance(exc, sqlite3.Error):
        code = _sqlite_code(exc)
        words = {
            _SQLITE_FULL: "disk full",
            _SQLITE_READONLY: "read-only (the database file or its folder cannot be written)",
            _SQLITE_PERM: "permission denied",
            _SQLITE_CANTOPEN: "cannot open the database file (missing, or permission denied)",
            _SQLITE_CORRUPT: "database corrupt",
            _SQLITE_NOTADB: "database corrupt (not a database any more)",
            _SQLITE_IOERR: "disk I/O error",
            _SQLITE_BUSY: "database busy",
            _SQLITE_LOCKED: "database locked",
        }.get(code)
        return words or str(exc)
    if isinstance(exc, OSError):
        words = {
            errno.ENOSPC: "disk full",
            errno.EDQUOT: "disk quota exceeded",
            errno.EROFS: "read-only file system",
            errno.EACCES: "permission denied",
            errno.EPERM: "permission denied",
            errno.EISDIR: "is a directory",
            errno.ENOTDIR: "a part of the path is not a directory",
            errno.ENOENT: "no such file or directory",
        }.get(exc.errno or 0)
        return words or exc.strerror or str(exc)
    return f"internal error ({type(exc).__name__}: {exc})"


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
    # Our own lock file or none: never follow a link, never take over a regular file that holds anything but a PID
    # (``store.path = Cargo`` beside a project's ``Cargo.lock`` must not rewrite it).
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(lock_path, flags, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StoreError(f"{lock_path} is a link, not a wallboard lock file; not following it") from None
        raise
    handle = os.fdopen(fd, "r+", encoding="utf-8")  # held open while the store is open
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise StoreError(f"{lock_path} is not a regular file; it is not a wallboard lock file")
        held = handle.read(64).strip()
        if held and not held.isdigit():
            raise StoreError(
                f"{lock_path} exists and is not a wallboard lock file (it holds other text); choose another "
                "store.path, the board will not overwrite it"
            )
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
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


def _identify(path: Path) -> str:
    """What ``path`` is, read-only: ``missing``, ``empty``, ``wallboard`` (a history database of ours), or raise
    StoreError naming what it is instead (a directory, a device, another program's file): the store never writes
    to, nor moves, a file it cannot prove is its own."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        raise StoreError(f"history database {path}: cannot be checked: {describe_failure(exc)}") from None
    if stat.S_ISDIR(info.st_mode):
        raise StoreError(
            f"store.path {path} is a directory, not a database file; give the database's own file name, or leave "
            f"store.path empty for the default ({default_db_path()})"
        )
    if not stat.S_ISREG(info.st_mode):
        raise StoreError(
            f"store.path {path} is not a regular file (a device, pipe or socket); the history is a database file "
            "of its own: point store.path at one"
        )
    try:
        with open(path, "rb") as handle:
            head = handle.read(100)
    except OSError as exc:
        raise StoreError(f"history database {path} cannot be read: {describe_failure(exc)}") from None
    if not head:
        if lock_path_for(path).exists():  # a database this store created, killed before its first write
            return "empty"
        raise StoreError(
            f"store.path {path} is an empty file that wallboard did not create; not touching it: point store.path "
            "at a new file name or at an existing wallboard history"
        )
    if not head.startswith(SQLITE_MAGIC):
        raise StoreError(
            f"store.path {path} is not a wallboard history database (not even SQLite); not touching it: point "
            "store.path at a new file name or at an existing wallboard history"
        )
    if len(head) >= 72 and int.from_bytes(head[68:72], "big") == APPLICATION_ID:
        return "wallboard"
    if _has_wallboard_meta(path):
        return "wallboard"
    raise StoreError(
        f"store.path {path} is a SQLite database but not a wallboard history (it has no wallboard meta table), or it "
        "is too damaged to tell; not touching it: point store.path at a new file name, or move that file away "
        "yourself"
    )


def _has_wallboard_meta(path: Path) -> bool:
    """True if the SQLite file at ``path`` has wallboard's ``meta`` table with a schema version (read-only)."""
    modes = ["mode=ro&immutable=1"]
    if path.with_name(path.name + "-wal").exists():  # recent changes, the schema perhaps, may be in the WAL only
        modes.append("mode=ro")
    for mode in modes:
        try:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True)
        except sqlite3.Error:
            continue
        try:
            row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is not None and str(row[0]).isdigit():
                return True
        except sqlite3.Error:
            pass
        finally:
            db.close()
    return False


def _move_aside(path: Path) -> Path:
    """Keep a corrupt database of ours for inspection and let the board go on in a fresh one."""
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
        self._db = self._connect(path)
        self._writer: BackgroundStoreWriter | None = None

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(SCHEMA)
            row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                db.execute("INSERT OR IGNORE INTO meta VALUES ('created_at', ?)", (str(time.time()),))
            elif int(row[0]) > SCHEMA_VERSION:
                raise StoreError(
                    f"history database {path} has schema version {row[0]}, written by a newer wallboard "
                    f"(this one knows version {SCHEMA_VERSION}); use that version or another store.path"
                )
            if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                db.execute(f"PRAGMA application_id={APPLICATION_ID}")  # so it is recognised even when damaged
        except BaseException:
            db.close()
            raise
        return db

    @classmethod
    def open(cls, path: str | Path | None = None, *, retention_days: int = 35) -> HistoryStore:
        """Open (or create) the database, taking the single-board lock. Raises StoreLockedError, StoreError (with a
        message for the operator: never a bare OSError or sqlite3 error).

        The store only ever touches its own files. A path that is a directory, a device, an empty file it did not
        create or another program's file is refused, untouched. Only a wallboard history that SQLite reports
        corrupt is moved aside (``history.sqlite.unreadable-<time>``, kept for inspection) and a fresh one started;
        a database that cannot be opened for any other reason (permissions, a read-only disk) is reported."""
        # Resolved: a board reaching the same database through a link must meet the same lock file.
        db_path = (Path(path) if path else default_db_path()).resolve()
        kind = _identify(db_path)
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the folder of the history database {db_path}: {describe_failure(exc)}"
            ) from None
        try:
            lock = _lock_file(db_path)
        except OSError as exc:
            raise StoreError(
                f"cannot create the lock file {lock_path_for(db_path)} of the history database: "
                f"{describe_failure(exc)}; check store.path and its folder's permissions"
            ) from None
        try:
            try:
                return cls(db_path, retention_days, lock)
            except sqlite3.Error as exc:
                if kind != "wallboard" or not is_corruption(exc):
                    raise StoreError(
                        f"history database {db_path} cannot be opened: {describe_failure(exc)} ({exc})"
                    ) from None
                aside = _move_aside(db_path)
                log.error("history database %s is corrupt (%s); moved to %s, starting afresh", db_path, exc, aside)
                return cls(db_path, retention_days, lock)
        except BaseException:
            lock.close()
            raise

    # --- writing -------------------------------------------------------------------------------------------------

    def write_batch(
        self, records: Iterable[StoredRecord], cursors: dict[str, str] | None = None
    ) -> list[tuple[object, str]]:
        """Upsert records (a newer revision replaces an older one, never the reverse) and cursors, in one
        transaction: after a crash either the whole batch is there or none of it.

        A record (or cursor) that cannot be stored at all (an integer beyond 64 bits, text that is not valid
        Unicode) is left out and returned with the reason; the rest of the batch is written. A failure of the
        database itself (disk full, read-only, corrupt) raises the original sqlite3 error, never one from the
        rollback."""
        rejected: list[tuple[object, str]] = []
        with self._mutex:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                for r in records:
                    if not is_entity(r):
                        raise TypeError(f"the history stores calls, incidents and units, not {type(r).__name__}")
                    try:
                        self._upsert(db, r)
                    except sqlite3.Error:
                        raise
                    except Exception as exc:  # nothing was written for it: the transaction goes on without it
                        rejected.append((r, f"{type(exc).__name__}: {exc}"))
                for resource, cursor in (cursors or {}).items():
                    try:
                        db.execute("INSERT OR REPLACE INTO cursors VALUES (?, ?)", (resource, cursor))
                    except sqlite3.Error:
                        raise
                    except Exception as exc:
                        rejected.append((f"cursor {resource!r}", f"{type(exc).__name__}: {exc}"))
                db.execute("COMMIT")
            except BaseException:
                _rollback(db)
                raise
        return rejected

    @staticmethod
    def _upsert(db: sqlite3.Connection, r: StoredRecord) -> None:
        stream, wire = to_wire(r)
        text = json.dumps(wire)
        if stream == "calls":
            db.execute(UPSERT_CALL, (r.id, r.rev, r.polres_id, _time_column(r, "received_at"), text))
        elif stream == "incidents":
            closed = _time_column(r, "closed_at")
            db.execute(UPSERT_INCIDENT, (r.id, r.rev, r.polres_id, _time_column(r, "call_received_at"), closed, text))
        else:
            db.execute(UPSERT_UNIT, (r.id, r.rev, text))

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
                _rollback(db)
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

    # --- recovery ------------------------------------------------------------------------------------------------

    def reopen(self) -> None:
        """A fresh connection to the same file: what cures a database that was opened read-only, or whose file or
        permissions were fixed under the running board. Raises sqlite3.Error if it still cannot be opened (the old
        connection is then kept, closed, and the next write fails and tries again)."""
        with self._mutex:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = self._connect(self.path)

    def is_intact(self) -> bool:
        """SQLite's own check of every page (``PRAGMA quick_check``); False if the database is damaged."""
        with self._mutex:
            try:
                rows = self._db.execute("PRAGMA quick_check").fetchall()
            except sqlite3.DatabaseError as exc:
                return not is_corruption(exc)
        return rows == [("ok",)]

    def start_afresh(self) -> Path:
        """Move this database (ours: the store opened or created it) aside and go on in a fresh one. Returns where
        the damaged file went."""
        with self._mutex:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            aside = _move_aside(self.path)
            self._db = self._connect(self.path)
        return aside

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


def _rollback(db: sqlite3.Connection) -> None:
    """Undo an open transaction without ever hiding why it failed: after a failed BEGIN or COMMIT (disk full) there
    may be no transaction left, and a ROLLBACK error would replace the real cause."""
    if not db.in_transaction:
        return
    try:
        db.execute("ROLLBACK")
    except sqlite3.Error as exc:
        log.debug("history: rollback failed too: %s", exc)


@dataclass(frozen=True)
class WriterStatus:
    """The history writer's health, for the wall: is the history being saved, and if not since when and why."""

    ok: bool = True
    failing_since: float | None = None  # wall-clock time of the first failed write of the current run of failures
    reason: str = ""  # in words: disk full, read-only, permission denied, database corrupt...
    detail: str = ""  # SQLite's or the OS's own text
    rejected: int = 0  # records that could not be stored at all (left out, logged)
    last_rejected: str = ""
    dropped: int = 0  # records dropped because the queue or the retry backlog was full
    moved_aside: str = ""  # where a corrupt database went, if one was

    def describe(self) -> str:
        if self.ok:
            return "history saved"
        since = time.strftime("%H:%M", time.localtime(self.failing_since)) if self.failing_since else "?"
        return f"history not saved since {since}: {self.reason}"


@dataclass
class _Flush:
    done: threading.Event
    ok: bool = True


class BackgroundStoreWriter:
    """Writes on its own thread, so the GUI thread never waits for the disk: ``append`` and ``save_cursors`` only
    queue. What arrives within ``batch_interval_s`` of the first queued item is committed in one transaction.
    Old rows are pruned when the writer starts and every ``prune_every_s``, counting back from ``now()`` (default:
    the store's ``retention_now``).

    Nothing stops it. A failed write (disk full, read-only, I/O error) is retried, at most every ``retry_max_s``,
    with a fresh connection where that can help, until the cause goes away; a corrupt database of ours is moved
    aside and the writer goes on in a fresh one; a record that cannot be stored at all is left out and logged;
    any other exception is logged and costs one batch. ``status()`` says whether the history is being saved, and
    since when not and why, for the wall. Memory is bounded: at most ``MAX_QUEUED`` records wait in the queue and
    ``MAX_PENDING`` for a retry; beyond that the newest (queue) or oldest (retry) are dropped, counted and logged.
    """

    MAX_PENDING = 500_000
    MAX_QUEUED = 200_000
    MAX_REJECTS_LOGGED = 20

    def __init__(
        self,
        store: HistoryStore,
        batch_interval_s: float = 0.5,
        *,
        now: Callable[[], float] | None = None,
        prune_every_s: float = 3600.0,
        retry_max_s: float = 5.0,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._interval = batch_interval_s
        self._retry_max = max(retry_max_s, batch_interval_s)
        self._now = now or store.retention_now
        self._wall = wall_clock
        self._prune_every = prune_every_s
        self._closed = False
        self._count_lock = threading.Lock()
        self._queued = 0  # records in the queue
        self._status = WriterStatus()
        self.batches = 0  # committed transactions (for tests and the log)
        self.failures = 0
        self._thread = threading.Thread(target=self._run, name="history-writer", daemon=True)
        self._thread.start()

    def status(self) -> WriterStatus:
        """The writer's health now (a snapshot; cheap enough to poll every second from the GUI thread)."""
        with self._count_lock:
            return self._status

    def _set_status(self, **changes: Any) -> None:
        with self._count_lock:
            self._status = replace(self._status, **changes)

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
        with self._count_lock:
            if self._queued + len(batch) > self.MAX_QUEUED:
                dropped = self._status.dropped + len(batch)
                self._status = replace(self._status, dropped=dropped)
                full = True
            else:
                self._queued += len(batch)
                full = False
        if full:
            if dropped == len(batch) or dropped // 10_000 != (dropped - len(batch)) // 10_000:
                log.error("history: the writer's queue is full (%d records); %d dropped so far", self.MAX_QUEUED,
                          dropped)  # fmt: skip
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

    def _collect(self, wait: float) -> list[tuple[str, Any]]:
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
        return items

    def _run(self) -> None:
        pending: list[StoredRecord] = []
        cursors: dict[str, str] = {}
        next_prune = time.monotonic()
        next_try = 0.0  # while failing: not before this (monotonic)
        stop = False
        while not stop:
            flushes: list[_Flush] = []
            try:
                if pending or cursors:
                    wait = max(self._interval, next_try - time.monotonic())
                else:
                    wait = max(0.0, next_prune - time.monotonic())
                for kind, payload in self._collect(wait):
                    if kind == "records":
                        pending.extend(payload)
                        with self._count_lock:
                            self._queued -= len(payload)
                    elif kind == "cursors":
                        cursors.update(payload)
                    elif kind == "flush":
                        flushes.append(payload)
                    elif kind == "stop":
                        stop = True
                ok = True
                if (pending or cursors) and (flushes or stop or time.monotonic() >= next_try):
                    ok = self._commit(pending, cursors)
                    if ok:
                        pending, cursors = [], {}
                    else:
                        next_try = time.monotonic() + min(self._retry_max, self._interval * 2 ** min(self.failures, 8))
                        if len(pending) > self.MAX_PENDING:
                            excess = len(pending) - self.MAX_PENDING
                            log.error("history: still not saved; %d oldest records dropped", excess)
                            del pending[:excess]
                            with self._count_lock:  # append() counts its drops under the same lock
                                self._status = replace(self._status, dropped=self._status.dropped + excess)
                elif pending or cursors:
                    ok = False  # waiting to retry
                for request in flushes:
                    request.ok = ok
                    request.done.set()
                flushes = []
                if time.monotonic() >= next_prune and not stop and self.status().ok:
                    next_prune = time.monotonic() + self._prune_every
                    self._prune()
            except Exception as exc:  # never let the thread die: the wall would go on LIVE with nothing saved
                log.exception("history: unexpected error in the writer; %d records left out", len(pending))
                self._failed(exc)
                pending, cursors = [], {}
                for request in flushes:
                    request.ok = False
                    request.done.set()

    def _prune(self) -> None:
        try:
            self._store.prune(self._now())
        except Exception as exc:
            log.error("history: pruning failed: %s", describe_failure(exc))

    def _commit(self, records: list[StoredRecord], cursors: dict[str, str]) -> bool:
        try:
            rejected = self._store.write_batch(records, cursors)
        except sqlite3.Error as exc:
            self._failed(exc)
            self._recover(exc)
            return False
        if rejected:
            self._rejected(rejected)
        if self.failures:
            log.info("history: saving again after %d failed attempts (%s)", self.failures, self.status().reason)
        self.failures = 0
        self.batches += 1
        if not self.status().ok:
            self._set_status(ok=True, failing_since=None, reason="", detail="")
        return True

    def _failed(self, exc: BaseException) -> None:
        self.failures += 1
        reason = describe_failure(exc)
        status = self.status()
        since = status.failing_since if not status.ok and status.failing_since is not None else self._wall()
        self._set_status(ok=False, failing_since=since, reason=reason, detail=str(exc))
        if self.failures == 1 or self.failures % 100 == 0 or reason != status.reason:
            log.error("history: not saved (attempt %d, will retry): %s (%s)", self.failures, reason, exc)

    def _recover(self, exc: sqlite3.Error) -> None:
        """What may cure the failure before the next attempt: a corrupt database of ours is moved aside and a fresh
        one started; otherwise a fresh connection where the cause may have been fixed (permissions, the file)."""
        code = _sqlite_code(exc)
        try:
            if is_corruption(exc) and not self._store.is_intact():
                aside = self._store.start_afresh()
                log.error("history: database %s is corrupt; moved to %s, going on in a fresh one (what the wall "
                          "shows is kept)", self._store.path, aside)  # fmt: skip
                self._set_status(moved_aside=str(aside))
                self.failures = 0
            elif code in _REOPEN_CODES:
                self._store.reopen()
        except Exception as again:  # still broken: the next attempt reports it
            log.debug("history: recovery failed: %s", again)

    def _rejected(self, rejected: list[tuple[object, str]]) -> None:
        status = self.status()
        for what, reason in rejected[: max(0, self.MAX_REJECTS_LOGGED - status.rejected)]:
            log.error("history: record left out, it cannot be stored: %s (%.200r)", reason, what)
        self._set_status(rejected=status.rejected + len(rejected), last_rejected=rejected[-1][1])
