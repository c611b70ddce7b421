"""Logging: console and a rotating file per kind of process, every line naming the process and its PID, with every
registered secret redacted from every record, and Qt's and Chromium's own chatter kept out of sight unless
``log.level = DEBUG``."""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import stat
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from wallboard.files import BINARY, CLOEXEC, LOG_BACKUPS, NOFOLLOW, NONBLOCK, log_file_problem

if TYPE_CHECKING:
    from wallboard.config import LogConfig

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
REDACTED = "[REDACTED]"


def register_secret(secret: str) -> None:
    """Never let ``secret`` (an API token) reach a log line, whoever formats it."""
    if secret and len(secret) >= 4:
        with _secrets_lock:
            _secrets.add(secret)


def redact(text: str) -> str:
    with _secrets_lock:
        secrets = list(_secrets)
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


#: ``log.error(..., extra=FILE_ONLY)``: for the log file only (the command has said it on stderr in its own words).
FILE_ONLY = {"file_only": True}


def _not_file_only(record: logging.LogRecord) -> bool:
    return not getattr(record, "file_only", False)


class _LogFile(logging.handlers.RotatingFileHandler):
    """The rotating log file, opened without following a link and only if it is a regular file (a link planted
    where the log goes must not make a root process append to, or rotate, another file).

    Opened without blocking, then checked: a FIFO planted at the path after the configuration was checked (or at
    the base name while it rotates) would otherwise hold the logging thread, the GUI thread maybe, until someone
    read it. Without a reader the open fails (ENXIO); with one, the check refuses it. A regular file is then set
    back to blocking writes."""

    def _open(self) -> Any:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | NONBLOCK | NOFOLLOW | CLOEXEC | BINARY
        fd = os.open(self.baseFilename, flags, 0o666)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(f"{self.baseFilename}: not a regular file")
            if NONBLOCK:
                os.set_blocking(fd, True)
            return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)
        except BaseException:
            os.close(fd)
            raise


FORMAT = "%(asctime)s {kind}[%(process)d] %(levelname)-7s %(name)s: %(message)s"

#: Messages from Qt and Chromium that say nothing an operator can act on: a machine without a GPU, D-Bus or
#: PulseAudio (kiosks, containers), or a platform plugin without window management. Logged at DEBUG only.
QT_NOISE = re.compile(
    r"QRhiGles2|Failed to create RHI|GPUInfo not initialized|Vulkan|vulkan|libpulse|PulseAudio|dbus|D-Bus"
    r"|This plugin does not support|propagateSizeHints|Failed to connect to the bus|Fontconfig|QStandardPaths: "
    r"|Release of profile requested but WebEnginePage still not deleted|Unable to detect GPU vendor"
)


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir("wallboard"))


def quiet_chromium(level: str, environ: Any = None) -> None:
    """Unless the level is DEBUG, keep Chromium's own log lines (it writes them to stderr itself, past Python's
    logging: "Failed to connect to the bus", Vulkan, GPU) out of the terminal: ``--log-level=3`` (fatal only) in
    QTWEBENGINE_CHROMIUM_FLAGS, unless a --log-level is already there. Must run before QtWebEngine starts."""
    env = os.environ if environ is None else environ
    if level == "DEBUG":
        return
    flags = env.get("QTWEBENGINE_CHROMIUM_FLAGS", "").split()
    if not any(flag.startswith("--log-level") for flag in flags):
        env["QTWEBENGINE_CHROMIUM_FLAGS"] = " ".join([*flags, "--log-level=3"])


def route_qt_messages() -> None:
    """Qt's messages (qWarning and friends, Qt WebEngine's included) go through Python logging (logger ``qt`` or
    ``qt.<category>``) instead of straight to stderr: with the process's name and PID, into the log file, and the
    known noise (``QT_NOISE``) at DEBUG only. Call once Qt is imported (before the QApplication is best)."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    levels = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }

    def handler(kind: QtMsgType, context: Any, message: str) -> None:
        category = getattr(context, "category", None) or "default"
        level = levels.get(kind, logging.WARNING)
        if QT_NOISE.search(message) and level < logging.CRITICAL:
            level = logging.DEBUG
        logging.getLogger("qt" if category == "default" else f"qt.{category}").log(level, "%s", message)

    qInstallMessageHandler(handler)


def setup_logging(config: LogConfig, console: bool = True, *, kind: str = "wallboard") -> Path | None:
    """Configure the root logger once. ``kind`` names the process on every line (``wallboard-kiosk[4242]``) and
    its file (``wallboard-kiosk.log``, so processes never rotate each other's file). Returns the log file path
    (None if it could not be opened)."""
    root = logging.getLogger()
    root.setLevel(config.level)
    for handler in list(root.handlers):
        if getattr(handler, "_wallboard", False):
            root.removeHandler(handler)
    quiet_chromium(config.level)
    formatter = RedactingFormatter(FORMAT.format(kind=kind))
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(formatter)
        stream.addFilter(_not_file_only)
        stream._wallboard = True  # type: ignore[attr-defined]
        root.addHandler(stream)
    path = Path(config.file) if config.file else log_dir() / f"{kind}.log"
    problem = log_file_problem(path, in_our_directory=not config.file)
    if problem:
        logging.getLogger(__name__).warning("no log file: %s", problem)
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = _LogFile(path, maxBytes=10_000_000, backupCount=LOG_BACKUPS, encoding="utf-8")
    except OSError as exc:
        logging.getLogger(__name__).warning("cannot open log file %s: %s", path, exc)
        return None
    file_handler.setFormatter(formatter)
    file_handler._wallboard = True  # type: ignore[attr-defined]
    root.addHandler(file_handler)
    return path
