"""The real board under a simulated systemd: READY=1 once live, WATCHDOG=1 pings, and silence once its GUI thread
is frozen (the test hook), which is what makes systemd's WatchdogSec= restart it; then systemd's part (no systemd
user manager runs in CI, so the test plays it over the datagram socket it creates): SIGABRT after a watchdog interval
without a ping, as systemd sends, and a restart, which must come up live again over the dead process's store lock."""

from __future__ import annotations

import signal
import socket
import threading
import time
from pathlib import Path

import pytest

from .conftest import start_board

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_ready_then_pings_then_silence_when_the_gui_thread_freezes(tmp_path: Path) -> None:
    address = str(tmp_path / "notify")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(address)
    server.settimeout(0.2)
    received: list[tuple[float, str]] = []  # (arrival, message), stamped as they arrive
    done = threading.Event()

    def listen() -> None:
        while not done.is_set():
            try:
                received.append((time.monotonic(), server.recv(4096).decode()))
            except TimeoutError:
                continue

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    env = {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1000000", "WALLBOARD_TEST_FREEZE_AFTER_S": "4"}
    board = start_board(["kiosk", "--demo", "--speed", "5", "--set", "map.rendering=software"], tmp_path, None, env)
    try:
        board.wait_for_log("blocking the GUI thread now", timeout=180)
        frozen_at = time.monotonic()
        time.sleep(4)
        ready = [(t, m) for t, m in received if m.startswith("READY=1")]
        assert len(ready) == 1 and "STATUS=live" in ready[0][1], received[:3]
        ready_at = ready[0][0]
        pings = [t for t, m in received if m == "WATCHDOG=1"]
        assert pings and pings[0] < ready_at, "pings start with the board, before it is live"
        assert len([t for t in pings if ready_at <= t < frozen_at - 0.5]) >= 4, "two pings a second while it runs"
        assert [t for t in pings if t > frozen_at + 1] == [], "frozen: no more pings, so systemd restarts it"
        assert board.proc.poll() is None  # alive but frozen: only the watchdog can help

        # systemd's side: WatchdogSec passed without a ping -> SIGABRT; the exit is a failure, so
        # Restart=on-failure starts the board again (the PIN exit's status 3 is the only one it does not restart).
        board.proc.send_signal(signal.SIGABRT)
        status = board.proc.wait(timeout=30)
        assert status == -signal.SIGABRT, status
        restarted_at = time.monotonic()
        env.pop("WALLBOARD_TEST_FREEZE_AFTER_S")
        again = start_board(["kiosk", "--demo", "--speed", "5", "--set", "map.rendering=software"], tmp_path, None, env)
        try:
            deadline = time.monotonic() + 180
            while not [m for t, m in received if t > restarted_at and m.startswith("READY=1")]:
                assert again.proc.poll() is None, f"the restarted board exited: {again.log_text()[-2000:]}"
                assert time.monotonic() < deadline, "the restarted board never said READY=1"
                time.sleep(0.5)
            time.sleep(2)
            assert [t for t, m in received if t > restarted_at and m == "WATCHDOG=1"], "the new board pings"
            assert "STATUS=live" in next(m for t, m in received if t > restarted_at and m.startswith("READY=1"))
        finally:
            again.proc.kill()
            again.proc.wait(timeout=10)
    finally:
        done.set()
        board.proc.kill()
        board.proc.wait(timeout=10)
        listener.join(timeout=5)
        server.close()
