"""Kill the board mid-run (no clean shutdown at all), start it again: the day's numbers are intact."""

from __future__ import annotations

import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import start_board

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def calls_in(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return int(conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0])


def test_a_killed_board_restarts_with_the_whole_day(tmp_path: Path) -> None:
    port = free_port()
    api = subprocess.Popen(
        [sys.executable, "-m", "wallboard", "simulate", "--port", str(port), "--speed", "1", "--seed", "4",
         "--set", "demo.history_hours=6", "--log-level", "WARNING"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    db = tmp_path / "history.sqlite"
    args = [
        "run",
        "--api-url",
        f"http://127.0.0.1:{port}",
        "--set",
        f"store.path={db}",
        "--set",
        "api.poll_calls_s=0.5",
    ]
    try:
        assert api.stdout is not None and "simulated dispatch API" in api.stdout.readline()
        first = start_board(args, tmp_path / "first", display=None)
        first.wait_for_log("board live:", timeout=90)
        time.sleep(2)
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(timeout=10)
        stored = calls_in(db)
        assert stored > 50, "the day so far was committed before the kill"

        second = start_board(args, tmp_path / "second", display=None)
        try:
            log = second.wait_for_log("board live:", timeout=90)
            loaded = int(re.search(r"history: (\d+) calls", log).group(1))  # type: ignore[union-attr]
            assert loaded == stored, "everything committed before the kill is back on the wall at once"
            today = int(re.search(r"board live: (\d+) calls today", log).group(1))  # type: ignore[union-attr]
            assert today >= stored
        finally:
            assert second.stop() == 0
        assert calls_in(db) >= stored
    finally:
        api.terminate()
        api.wait(timeout=10)
