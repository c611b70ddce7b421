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

Inputs (mapping files, a mapping's reference file, import sources) are opened without blocking and must be regular
files (symbolic links to regular files are fine: reading them touches nothing), read up to a size cap.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import stat
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
        self.temp: Path = temp
        self.committed = False
        self.kept = False  # left in place on purpose (keep(), or a commit refused at its last check)
        if encoding is None:
            self.file: IO[Any] = os.fdopen(fd, "wb")
        else:
            self.file = os.fdopen(fd, "w", encoding=encoding, buffering=1 if line_buffered else -1)

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
            self.kept = True  # the message says where the content is: an abort() after this must not delete it
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
