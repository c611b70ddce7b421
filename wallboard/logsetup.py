"""Logging: console and a rotating file, with every registered secret redacted from every record."""

from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

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


FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir("wallboard"))


def setup_logging(config: LogConfig, console: bool = True) -> Path | None:
    """Configure the root logger once. Returns the log file path (None if it could not be opened)."""
    root = logging.getLogger()
    root.setLevel(config.level)
    for handler in list(root.handlers):
        if getattr(handler, "_wallboard", False):
            root.removeHandler(handler)
    formatter = RedactingFormatter(FORMAT)
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(formatter)
        stream._wallboard = True  # type: ignore[attr-defined]
        root.addHandler(stream)
    path = Path(config.file) if config.file else log_dir() / "wallboard.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(path, maxBytes=10_000_000, backupCount=5, encoding="utf-8")
    except OSError as exc:
        logging.getLogger(__name__).warning("cannot open log file %s: %s", path, exc)
        return None
    file_handler.setFormatter(formatter)
    file_handler._wallboard = True  # type: ignore[attr-defined]
    root.addHandler(file_handler)
    return path
