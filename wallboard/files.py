"""Files named on the command line or in a configuration: what we write never lands on anything but our own files,
and what we read is a regular file of bounded size. The board may run as root on a kiosk, so a path is input like
any other.

Outputs (``record --out``, ``import --out`` and ``--problems``, ``snapshot --out``) follow one rule:

- the target must not be a symbolic link (dangling or not), a directory, a device, a FIFO or a socket;
- an existing file is replaced only if it is one of ours (a wallboard recording, problems report or snapshot
  image, recognised by its first bytes); anything else, an empty file too (its existence may mean something to
  whoever made it: the store refuses one as well), is refused, and the operator removes it or names another file;
- the content goes to a temporary file beside the target (``NAME.XXXXXXXX.partial``) that is renamed over it when
  complete, so a failure never leaves the target emptied or half written. A rename replaces the directory entry
  only: a hard link to the old file keeps the old content.
- a process that is killed (SIGKILL, a power cut) leaves its ``NAME.XXXXXXXX.partial`` behind, so the next write to
  NAME removes such leftovers when it starts (not at its commit, which a crash loop or a full disk never reaches:
  the space is freed before the new content needs it). Only a name that matches exactly, a regular file (never a
  link, directory, FIFO or device), owned by the user, unmodified for :data:`LEFTOVER_AGE_S`, not locked by a live
  writer (each holds a ``flock`` on its file while it writes) and either empty or ours by its first bytes (a
  recording, problems report or snapshot image) is removed, each logged with its size. A file named like a leftover
  that is not ours is kept and one warning names it. At most :data:`LEFTOVER_LIMIT` leftovers and
  :data:`LEFTOVER_SCAN_LIMIT` directory entries are looked at per write, and a failure to clean up is logged, never
  the write's failure. A temporary file kept on purpose (a message names it: an unexpected failure, a commit refused
  at its last check) is set aside as ``NAME.XXXXXXXX.kept``, which no clean-up removes.

Inputs (mapping files, a mapping's reference file, import sources) are opened without blocking and must be regular
files (symbolic links to regular files are fine: reading them touches nothing), read up to a size cap.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import secrets
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

#: Flags POSIX has and Windows lacks (0 there); O_BINARY is Windows' (no newline translation below Python's).
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
NONBLOCK = getattr(os, "O_NONBLOCK", 0)
CLOEXEC = getattr(os, "O_CLOEXEC", 0)
BINARY = getattr(os, "O_BINARY", 0)

#: How many bytes of an existing file are read to tell whether it is one of ours.
SNIFF_BYTES = 64 * 1024

#: A leftover ``NAME.XXXXXXXX.partial`` is removed by the next write to NAME only once it has not been modified for
#: this long (seconds): a writer at work changes its file far more often (a recorder flushes every batch; it also
#: holds a lock, which the clean-up respects, for when the API is down for longer than this).
LEFTOVER_AGE_S = 3600
#: The most leftovers of one target looked at per write (the rest wait for the next writes).
LEFTOVER_LIMIT = 100
#: The most directory entries read per write to find them (about 0.1 s): a huge directory does not slow a command.
LEFTOVER_SCAN_LIMIT = 100_000

log = logging.getLogger(__name__)

Ours = Callable[[bytes], bool]


class UnsafePathError(OSError):
    """A path the command must not read or write; the message (``str(exc)``) says which and why, for the operator.
    An OSError, so every place that reports a file it cannot use reports this one too."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


# --- what is ours ------------------------------------------------------------------------------------------------


def is_recording(head: bytes) -> bool:
    """A wallboard recording: its first line is the ``wallboard-feed`` header."""
    first = head.split(b"\n", 1)[0]
    try:
        doc = json.loads(first.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(doc, dict) and doc.get("format") == "wallboard-feed" and "record" not in doc


#: The first line of a ``wallboard import --problems`` report.
PROBLEMS_HEADER = "# wallboard import problems"


def is_problems_report(head: bytes) -> bool:
    return head.startswith(PROBLEMS_HEADER.encode())


#: What ``wallboard snapshot`` writes into every image's metadata (PNG tEXt chunk, JPEG comment).
IMAGE_MARK = "wallboard snapshot"


def is_snapshot_image(head: bytes) -> bool:
    """A PNG or JPEG that ``wallboard snapshot`` wrote: Qt puts the text near the start (before the pixels)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return b"tEXtSoftware\x00" + IMAGE_MARK.encode() in head
    if head.startswith(b"\xff\xd8"):
        return b"Software: " + IMAGE_MARK.encode() in head
    return False


#: The image formats ``wallboard snapshot`` writes, by file name suffix (both carry :data:`IMAGE_MARK`).
IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}


_LOG_LINE = re.compile(
    rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} "
    rb"(?:wallboard[\w.-]*\[\d+\] |(?:DEBUG|INFO|WARNING|ERROR|CRITICAL) +(?:wallboard|qt)[\w.-]*: )"
)


def is_wallboard_log(head: bytes) -> bool:
    """A log file wallboard wrote: its first line has our format (``logsetup.FORMAT``: time, then the process kind
    and PID; before that format, time, level and one of our loggers)."""
    return _LOG_LINE.match(head) is not None


# --- outputs -----------------------------------------------------------------------------------------------------


def check_output(path: Path, ours: Ours, what: str, *, empty_ok: bool = False) -> os.stat_result | None:
    """Raise :class:`UnsafePathError` unless ``path`` may be (re)written: nothing there yet, or a regular file (not a
    link) that is ours (or empty, with ``empty_ok``). Returns the existing file's status (None: nothing there)."""
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None  # creating it says why it cannot be
    except OSError as exc:
        raise UnsafePathError(f"{what} {path}: cannot be checked: {exc.strerror or exc}") from None
    if stat.S_ISLNK(info.st_mode):
        raise UnsafePathError(f"{what} {path} is a symbolic link; name the file itself (wallboard never writes "
                              "through a link)")  # fmt: skip
    if not stat.S_ISREG(info.st_mode):
        raise UnsafePathError(f"{what} {path} is {_kind(info.st_mode)}, not a regular file")
    if info.st_size == 0 and empty_ok:
        return info
    try:
        head = _read_head(path)
    except OSError as exc:
        raise UnsafePathError(f"{what} {path}: cannot be checked: {exc.strerror or exc}") from None
    if not ours(head):
        raise UnsafePathError(f"{what} {path} exists and was not written by wallboard; it is not replaced (remove "
                              "it or name another file)")  # fmt: skip
    return info


def _read_head(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | NONBLOCK | NOFOLLOW | CLOEXEC | BINARY)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "no longer a regular file")
        return os.read(fd, SNIFF_BYTES)
    finally:
        os.close(fd)


class AtomicOutput:
    """A file written beside ``path`` under a temporary name and renamed over it by :meth:`commit`; :meth:`abort`
    removes it. ``path`` is checked (:func:`check_output`) when opening and again just before the rename.

    ``file`` is the open file (text with ``encoding``, else binary); ``temp`` is its name until the commit."""

    def __init__(self, path: Path, ours: Ours, what: str, *, encoding: str | None = "utf-8",
                 line_buffered: bool = False) -> None:  # fmt: skip
        self.path = path
        self.what = what
        self._ours = ours
        check_output(path, ours, what)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise NotADirectoryError(errno.ENOTDIR, f"{path.parent} or a directory above it is a file") from None
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | CLOEXEC | BINARY
        for _ in range(100):
            temp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.partial")
            try:
                fd = os.open(temp, flags, 0o666)  # the umask applies, as for any file the user creates
            except FileExistsError:
                continue
            break
        else:  # pragma: no cover - 100 collisions of 32 random bits
            raise OSError(errno.EEXIST, f"cannot create a temporary file beside {path}")
        _lock(fd)  # held while this writer lives: another write's clean-up leaves the file alone
        self.temp: Path = temp
        self.committed = False
        self.kept = False  # left in place on purpose (keep(), or a commit refused at its last check)
        if encoding is None:
            self.file: IO[Any] = os.fdopen(fd, "wb")
        else:
            self.file = os.fdopen(fd, "w", encoding=encoding, buffering=1 if line_buffered else -1)
        remove_leftovers(path, temp)

    @property
    def closed(self) -> bool:
        return self.file.closed

    def commit(self) -> Path:
        """Flush and sync the temporary file and rename it over the target. If the target has meanwhile become
        something that must not be replaced, :class:`UnsafePathError` says so and where the content was kept."""
        if self.committed:
            return self.path
        if not self.file.closed:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
        try:
            existing = check_output(self.path, self._ours, self.what)
        except UnsafePathError as exc:
            self._set_aside()  # the message says where the content is: nothing may delete it after this
            raise UnsafePathError(f"{exc}; what was written is kept in {self.temp}") from None
        if existing is not None:
            self.temp.chmod(stat.S_IMODE(existing.st_mode))  # replacing a file of ours: its permissions stay
        self.temp.replace(self.path)
        self.committed = True
        _sync_directory(self.path.parent)
        return self.path

    def keep(self) -> None:
        """Close the temporary file and leave it where it is, unrenamed (what an unexpected failure does: the target
        stays as it was and the message names ``temp``)."""
        if not self.file.closed:
            try:
                self.file.flush()
                os.fsync(self.file.fileno())
                self.file.close()
            except OSError:
                pass  # a full disk: what reached the file is what there is
        self._set_aside()

    def _set_aside(self) -> None:
        """Keep the temporary file on purpose (a message names it): renamed ``NAME.XXXXXXXX.kept``, out of the
        leftover pattern, so no later write's clean-up removes it (:func:`remove_leftovers`). If the rename fails
        it stays where it is, under the name the message then gives."""
        kept = self.temp.with_name(self.temp.name.removesuffix(".partial") + ".kept")
        try:
            if not os.path.lexists(kept):  # 32 random bits: never in practice; never replace one anyway
                self.temp.rename(kept)
                self.temp = kept
        except OSError:
            pass
        self.kept = True

    def abort(self) -> None:
        """Close and remove the temporary file; the target is left as it was. A no-op after :meth:`commit` or
        :meth:`keep` (a commit refused at the last check keeps the file too, and says so)."""
        if self.committed or self.kept:
            return
        if not self.file.closed:
            try:
                self.file.close()
            except OSError:
                pass  # a full disk fails the last flush: the file goes anyway
        self.temp.unlink(missing_ok=True)


def _is_ours_any(head: bytes) -> bool:
    return is_recording(head) or is_problems_report(head) or is_snapshot_image(head)


if sys.platform == "win32":

    def _lock(fd: int, *, shared: bool = False) -> bool:
        return True  # an open file cannot be removed there: the removal fails and the file is kept

else:
    import fcntl

    def _lock(fd: int, *, shared: bool = False) -> bool:
        """Lock ``fd`` without waiting (a writer exclusively, a clean-up shared, which a read-only file allows on
        network mounts too): False if a writer holds its lock. A file system without locks counts as unlocked: the
        age still protects a writer."""
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        except OSError:
            return True
        return True


def remove_leftovers(path: Path, own: Path | None = None) -> None:
    """Remove the ``NAME.XXXXXXXX.partial`` files that killed writers of ``path`` left beside it (the module's
    docstring says which); ``own`` is the caller's temporary file, never touched. Never raises an OSError: a problem
    is logged and the write goes on."""
    pattern = re.compile(re.escape(path.name) + r"\.[0-9a-f]{8}\.partial")
    prefix = path.name + "."
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    now = time.time()
    matched = 0
    foreign: list[str] = []
    try:
        with os.scandir(path.parent) as entries:
            for n, entry in enumerate(entries):
                if n >= LEFTOVER_SCAN_LIMIT:
                    break
                name = entry.name
                if not name.startswith(prefix) or pattern.fullmatch(name) is None:
                    continue
                if own is not None and name == own.name:
                    continue
                matched += 1
                if matched > LEFTOVER_LIMIT:
                    break
                leftover = path.with_name(name)
                try:
                    why_kept = _remove_leftover(leftover, uid, now)
                except FileNotFoundError:
                    continue  # gone meanwhile (another write's clean-up, the writer's commit)
                except OSError as exc:
                    log.warning("%s: a leftover of an earlier write could not be removed: %s", leftover,
                                exc.strerror or exc)  # fmt: skip
                    continue
                if why_kept is not None:
                    foreign.append(f"{name} ({why_kept})")
    except OSError as exc:
        log.warning("%s: leftovers of earlier writes were not looked for: %s", path.parent, exc.strerror or exc)
    if foreign:
        log.warning("%s: kept %d file(s) named like a leftover of an earlier write that wallboard may not have "
                    "written: %s%s; remove them if they are not needed", path.parent, len(foreign),
                    ", ".join(foreign[:5]), ", ..." if len(foreign) > 5 else "")  # fmt: skip


def _remove_leftover(leftover: Path, uid: int | None, now: float) -> str | None:
    """Remove ``leftover`` if it is ours and abandoned. Returns why a file that is not ours was kept (None: removed,
    or possibly still being written)."""
    info = os.lstat(leftover)
    if not stat.S_ISREG(info.st_mode):
        return _kind(info.st_mode)
    if uid is not None and info.st_uid != uid:
        return "owned by another user"
    if now - info.st_mtime < LEFTOVER_AGE_S:
        return None  # a writer may be at work
    fd = os.open(leftover, os.O_RDONLY | NONBLOCK | NOFOLLOW | CLOEXEC | BINARY)
    try:
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
            return None  # replaced since: the next write looks again
        if not _lock(fd, shared=True):
            return None  # a live writer holds it
        head = os.read(fd, SNIFF_BYTES)
        if head and not _is_ours_any(head):  # an empty one is ours by its name and holds nothing to lose
            return "not written by wallboard"
        if _identity(os.lstat(leftover)) != _identity(info):
            return None  # written to or replaced while we looked
        leftover.unlink()
    finally:
        os.close(fd)
    log.info("%s: removed, %d bytes left by a write that did not finish (unmodified for %.1f h)", leftover,
             info.st_size, (now - info.st_mtime) / 3600)  # fmt: skip
    return None


def _identity(info: os.stat_result) -> tuple[int, int, int, int]:
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def write_problem(exc: OSError, what: str, path: Path) -> str:
    """How a command says that writing ``path`` (its option ``what``) failed: the rule it broke, or the system's
    reason."""
    if isinstance(exc, UnsafePathError):
        return str(exc)
    return f"{what} {path}: cannot write: {exc.strerror or exc}"


def _sync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


#: Rotated log files kept beside the current one (``NAME.1`` ... ``NAME.5``).
LOG_BACKUPS = 5


def log_file_problem(path: Path, *, in_our_directory: bool = False) -> str | None:
    """Why ``path`` must not be the log file (None: it may). Appended to and rotated (renamed to ``NAME.1``...,
    the oldest deleted), so the rule of outputs holds for it and for its rotated names: no link, nothing but a
    regular file, nothing that is not a wallboard log or empty (the handler creates the file before its first
    line, and appending loses nothing). ``in_our_directory``: the default file in the user log directory, where
    every regular file is ours whatever its first line."""
    ours = (lambda head: True) if in_our_directory else is_wallboard_log
    for candidate in [path, *(path.with_name(f"{path.name}.{n}") for n in range(1, LOG_BACKUPS + 1))]:
        try:
            check_output(candidate, ours, "log file", empty_ok=True)
        except UnsafePathError as exc:
            return str(exc)
    return None


# --- inputs ------------------------------------------------------------------------------------------------------


def open_regular(path: Path, what: str) -> IO[bytes]:
    """``path`` opened for reading in binary, if it is a regular file (through links); :class:`UnsafePathError`
    otherwise. A FIFO is opened without blocking, so it is refused instead of waiting for a writer."""
    try:
        fd = os.open(path, os.O_RDONLY | NONBLOCK | CLOEXEC | BINARY)
    except OSError as exc:
        raise UnsafePathError(f"{what} {path}: cannot open: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafePathError(f"{what} {path} is {_kind(info.st_mode)}, not a regular file")
        if NONBLOCK:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: Path, what: str, limit: int) -> bytes:
    """The content of the regular file ``path``, refused (:class:`UnsafePathError`) when larger than ``limit`` bytes."""
    with open_regular(path, what) as handle:
        if os.fstat(handle.fileno()).st_size > limit:
            raise UnsafePathError(f"{what} {path} is larger than {_size(limit)}, the most wallboard reads")
        data = handle.read(limit + 1)  # the file may grow while we read
    if len(data) > limit:
        raise UnsafePathError(f"{what} {path} is larger than {_size(limit)}, the most wallboard reads")
    return data


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n // (1024 * 1024)} MiB"
    return f"{n // 1024} KiB" if n >= 1024 else f"{n} bytes"
