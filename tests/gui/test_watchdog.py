"""systemd notify protocol, written by hand: READY=1 once, WATCHDOG=1 pings from a Qt timer on the GUI thread, to a
path or an abstract ('@') socket; nothing at all when not under systemd."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from wallboard.ui.watchdog import SystemdNotifier, notify_address, sd_notify, watchdog_interval_s


class NotifySocket:
    """What systemd listens on: a Unix datagram socket."""

    def __init__(self, address: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.setblocking(False)
        self.messages: list[str] = []

    def drain(self) -> list[str]:
        while True:
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return self.messages


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[NotifySocket]:
    server = NotifySocket(str(tmp_path / "notify"))
    yield server
    server.sock.close()


def test_nothing_is_sent_or_started_outside_systemd(qtbot: QtBot) -> None:
    assert notify_address({}) is None and notify_address({"NOTIFY_SOCKET": "vsock:2:1"}) is None
    assert not sd_notify("READY=1", {})
    notifier = SystemdNotifier({"WATCHDOG_USEC": "200000"})
    notifier.start()
    notifier.ready()
    assert not notifier.enabled and notifier.pings == 0 and not notifier.ready_sent


def test_ready_once_and_pings_at_half_the_watchdog_interval(qtbot: QtBot, listener: NotifySocket) -> None:
    env = {"NOTIFY_SOCKET": listener.sock.getsockname(), "WATCHDOG_USEC": "200000"}
    assert watchdog_interval_s(env) == pytest.approx(0.1)
    notifier = SystemdNotifier(env)
    notifier.start()
    qtbot.waitUntil(lambda: listener.drain().count("WATCHDOG=1") >= 4, timeout=3000)
    notifier.ready()
    notifier.ready()
    qtbot.waitUntil(lambda: any(m.startswith("READY=1") for m in listener.drain()), timeout=3000)
    ready = [m for m in listener.messages if m.startswith("READY=1")]
    assert len(ready) == 1 and f"MAINPID={os.getpid()}" in ready[0] and "STATUS=live" in ready[0]
    notifier.stop()
    assert "STOPPING=1" in listener.drain()


def test_the_abstract_namespace_works(qtbot: QtBot) -> None:
    name = f"wallboard-test-{os.getpid()}"
    server = NotifySocket("\0" + name)
    try:
        assert sd_notify("WATCHDOG=1", {"NOTIFY_SOCKET": "@" + name})
        assert server.drain() == ["WATCHDOG=1"]
    finally:
        server.sock.close()


def test_no_watchdog_for_another_process_or_without_an_interval() -> None:
    assert watchdog_interval_s({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}) is None or os.getpid() == 1
    assert watchdog_interval_s({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": str(os.getpid())}) == 0.5
    assert watchdog_interval_s({}) is None and watchdog_interval_s({"WATCHDOG_USEC": "x"}) is None


def test_ready_after_the_grace_period_even_if_the_feed_never_comes(qtbot: QtBot, listener: NotifySocket) -> None:
    notifier = SystemdNotifier({"NOTIFY_SOCKET": listener.sock.getsockname()}, ready_grace_s=0.1)
    notifier.start()
    qtbot.waitUntil(lambda: any(m.startswith("READY=1") for m in listener.drain()), timeout=3000)
    assert "not live yet" in next(m for m in listener.messages if m.startswith("READY=1"))
