"""Logs you can read: every line names the process and its PID, each kind of process has its own file, Qt's and
Chromium's noise stays out of sight unless DEBUG."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wallboard.config import ConfigError, LogConfig, load_config
from wallboard.logsetup import _LogFile, quiet_chromium, route_qt_messages, setup_logging


@pytest.fixture
def clean_root(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox")
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_every_line_names_the_process_kind_and_its_pid(tmp_path: Path, clean_root: None) -> None:
    path = setup_logging(LogConfig(file=str(tmp_path / "k.log")), console=False, kind="wallboard-kiosk")
    assert path is not None
    logging.getLogger("wallboard.test").warning("hello")
    for handler in logging.getLogger().handlers:
        handler.flush()
    line = path.read_text().strip().splitlines()[-1]
    assert re.search(rf" wallboard-kiosk\[{os.getpid()}\] WARNING wallboard.test: hello$", line), line


def test_each_kind_of_process_has_its_own_default_file(tmp_home: Path, clean_root: None) -> None:
    path = setup_logging(LogConfig(), console=False, kind="wallboard-simulate")
    assert path is not None and path.name == "wallboard-simulate.log"


def test_chromium_is_told_to_keep_quiet_unless_debug() -> None:
    env = {"QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox"}
    quiet_chromium("INFO", env)
    assert env["QTWEBENGINE_CHROMIUM_FLAGS"] == "--no-sandbox --log-level=3"
    quiet_chromium("INFO", env)
    assert env["QTWEBENGINE_CHROMIUM_FLAGS"].count("--log-level") == 1
    debug: dict[str, str] = {}
    quiet_chromium("DEBUG", debug)
    assert debug == {}
    chosen = {"QTWEBENGINE_CHROMIUM_FLAGS": "--log-level=0"}
    quiet_chromium("WARNING", chosen)
    assert chosen["QTWEBENGINE_CHROMIUM_FLAGS"] == "--log-level=0"  # an explicit choice wins


def test_qt_noise_is_debug_and_real_warnings_stay_warnings(caplog: pytest.LogCaptureFixture) -> None:
    from PySide6.QtCore import qInstallMessageHandler, qWarning

    route_qt_messages()
    try:
        with caplog.at_level(logging.DEBUG):
            qWarning("QRhiGles2: Failed to create temporary context")
            qWarning("GPUInfo not initialized on GpuInfoUpdate")
            qWarning("something our own widget got wrong")
    finally:
        qInstallMessageHandler(None)
    levels = {r.getMessage(): r.levelno for r in caplog.records if r.name.startswith("qt")}
    assert levels == {
        "QRhiGles2: Failed to create temporary context": logging.DEBUG,
        "GPUInfo not initialized on GpuInfoUpdate": logging.DEBUG,
        "something our own widget got wrong": logging.WARNING,
    }


NOISE = ("QRhiGles2", "Failed to create RHI", "Failed to connect to the bus", "GPUInfo", "libpulse", "Vulkan")


@pytest.mark.webengine
@pytest.mark.slow
def test_a_snapshot_keeps_chromium_noise_out_of_the_terminal(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox"}
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[var] = str(tmp_path / var.lower())

    def snapshot(*extra: str) -> tuple[str, str]:
        log_file = tmp_path / "snap.log"
        log_file.unlink(missing_ok=True)
        proc = subprocess.run(
            [sys.executable, "-m", "wallboard", "snapshot", "--demo-minutes", "5", "--out", str(tmp_path / "x.png"),
             "--set", f"log.file={log_file}", *extra],
            env=env, capture_output=True, text=True, timeout=240, check=True,
        )  # fmt: skip
        return proc.stderr, log_file.read_text()

    stderr, log_text = snapshot()
    assert not [line for line in stderr.splitlines() if any(n in line for n in NOISE)], stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines and all(re.search(r" wallboard-snapshot\[\d+\] ", line) for line in lines), stderr
    assert "wallboard-snapshot[" in log_text and not any(n in log_text for n in NOISE)
    stderr, log_text = snapshot("--log-level", "DEBUG")
    assert any(n in stderr for n in NOISE), "at DEBUG the noise is there for whoever looks for it"
    assert any(n in log_text for n in NOISE), "and Qt's part of it is in the log file too"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["link", "dangling-link", "fifo", "directory", "device", "not-ours"])
def test_a_log_file_that_is_not_ours_is_a_configuration_error(hostile_outputs: Any, kind: str) -> None:
    """log.file is appended to and rotated (renamed, the oldest deleted): as root, log.file = /etc/passwd or a link
    to it appended log lines to it. Refused when the configuration is read (exit 2), nothing touched."""
    hostile = hostile_outputs(".log")
    target = hostile.paths[kind]
    with pytest.raises(ConfigError, match=f"log.file: log file {re.escape(str(target))} {hostile.REASONS[kind]}"):
        load_config(overrides={"log.file": str(target)})
    assert hostile.untouched()


def test_a_planted_link_where_the_log_goes_is_not_followed(
    tmp_home: Path, clean_root: None, hostile_outputs: Any
) -> None:
    """The default log file (the user log directory) is checked as a configured one: a link planted there is not
    followed; the process runs without a log file and says so."""
    hostile = hostile_outputs(".log")
    default = setup_logging(LogConfig(), console=False, kind="wallboard-planted")
    assert default is not None
    for handler in logging.getLogger().handlers:
        handler.close()
    default.unlink()
    default.symlink_to(hostile.victim)
    assert setup_logging(LogConfig(), console=False, kind="wallboard-planted") is None
    logging.getLogger("wallboard.test").error("hello")
    assert hostile.untouched() and default.is_symlink()


def test_our_own_log_is_appended_to_and_a_foreign_rotated_name_refused(tmp_path: Path, clean_root: None) -> None:
    path = tmp_path / "board.log"
    for word in ("first", "second"):
        assert setup_logging(LogConfig(file=str(path)), console=False, kind="wallboard-kiosk") == path
        logging.getLogger("wallboard.test").warning(word)
        for handler in logging.getLogger().handlers:
            handler.flush()
    assert [line.rsplit(" ", 1)[-1] for line in path.read_text().splitlines()] == ["first", "second"]
    (tmp_path / "board.log.3").write_text("someone else's\n", encoding="utf-8")  # rotation would move it, then delete
    with pytest.raises(ConfigError, match=r"board\.log\.3 exists and was not written by wallboard"):
        load_config(overrides={"log.file": str(path)})


def _returns_promptly(fifo: Path, action: Any) -> None:
    """Run ``action`` on a thread; if it is still blocked after 5 s (opening ``fifo`` for writing), open the FIFO for
    reading to let it go, so a regression fails the test instead of hanging the suite."""
    done = threading.Event()
    thread = threading.Thread(target=lambda: (action(), done.set()), daemon=True)
    thread.start()
    if not done.wait(5):
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        thread.join(5)
        os.close(reader)
        pytest.fail(f"opening the log file blocked on the FIFO at {fifo}")


@pytest.mark.timeout(60)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_planted_at_the_log_path_is_refused_without_blocking(tmp_path: Path) -> None:
    """Review: the log file was opened (O_WRONLY, no O_NONBLOCK) before it was checked to be a regular file, so a
    FIFO put there after the configuration was checked blocked the logging thread (the GUI thread, maybe) until
    someone read it. It is now refused at once, whether or not a reader is there."""
    fifo = tmp_path / "board.log"
    os.mkfifo(fifo)
    handler = _LogFile(fifo, maxBytes=1000, backupCount=2, encoding="utf-8", delay=True)
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            handler._open().close()
        except OSError as exc:
            errors.append(exc)

    _returns_promptly(fifo, open_it)
    assert len(errors) == 1, "refused"
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # with a reader the open succeeds; the type check refuses
    try:
        _returns_promptly(fifo, open_it)
        assert len(errors) == 2 and "not a regular file" in str(errors[1])
        assert os.read(reader, 100) == b"", "nothing was written to it"
    finally:
        os.close(reader)


@pytest.mark.timeout(60)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_planted_at_the_base_name_during_rollover_is_refused_without_blocking(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rollover renames the log to NAME.1 and opens NAME afresh: a FIFO planted in between must not block it."""
    path = tmp_path / "board.log"
    handler = _LogFile(path, maxBytes=200, backupCount=2, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))

    def rotate_and_plant(source: str, dest: str) -> None:
        Path(source).rename(dest)
        os.mkfifo(source)

    handler.rotator = rotate_and_plant
    record = logging.LogRecord("wallboard.test", logging.WARNING, __file__, 1, "x" * 150, None, None)
    try:
        handler.emit(record)  # fits
        _returns_promptly(path, lambda: handler.emit(record))  # rolls over, then cannot open NAME: said, not stuck
    finally:
        handler.close()
    assert (tmp_path / "board.log.1").read_text(encoding="utf-8") == "x" * 150 + "\n"
    assert "--- Logging error ---" in capsys.readouterr().err
