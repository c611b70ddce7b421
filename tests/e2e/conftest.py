"""End-to-end fixtures: a virtual X server and the real `wallboard` program as a subprocess."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest


@dataclass
class XServer:
    display: str
    width: int
    height: int

    def screenshot(self, out: Path) -> Path:
        """The whole virtual screen as a PNG (ImageMagick's `import`, or xwd + convert)."""
        env = {**os.environ, "DISPLAY": self.display}
        subprocess.run(["import", "-window", "root", str(out)], env=env, check=True, timeout=60)
        return out


@pytest.fixture
def xserver(request: pytest.FixtureRequest) -> Iterator[XServer]:
    if not shutil.which("Xvfb"):
        pytest.fail("Xvfb is not installed (packaging/bootstrap.sh installs it)")
    width, height = getattr(request, "param", (1920, 1080))
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    assert number, "Xvfb did not report a display number"
    try:
        yield XServer(f":{number}", width, height)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass
class BoardProcess:
    proc: subprocess.Popen[str]
    log_file: Path
    output: list[str] = field(default_factory=list)

    def log_text(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace") if self.log_file.exists() else ""

    def wait_for_log(self, needle: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_text()
            if needle in text:
                return text
            if self.proc.poll() is not None:
                raise AssertionError(f"wallboard exited with {self.proc.returncode} before {needle!r}:\n{text[-3000:]}")
            time.sleep(0.5)
        raise AssertionError(f"{needle!r} not logged within {timeout} s:\n{self.log_text()[-3000:]}")

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                raise AssertionError("wallboard did not stop on SIGTERM") from None
        return self.proc.returncode


def start_board(
    args: list[str], tmp_path: Path, display: str | None, extra_env: dict[str, str] | None = None
) -> BoardProcess:
    log_file = tmp_path / "wallboard.log"
    env = {**os.environ, **(extra_env or {})}
    env.pop("QT_QPA_PLATFORM", None)
    if display:
        env["DISPLAY"] = display
    else:
        env["QT_QPA_PLATFORM"] = "offscreen"
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[var] = str(tmp_path / var.lower())
    proc = subprocess.Popen(
        [sys.executable, "-m", "wallboard", *args, "--set", f"log.file={log_file}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    return BoardProcess(proc, log_file)
