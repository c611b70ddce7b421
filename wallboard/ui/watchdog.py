"""systemd readiness and watchdog, so a frozen board is restarted.

Under ``Type=notify`` with ``WatchdogSec=`` (packaging/wallboard-kiosk.service) systemd passes ``NOTIFY_SOCKET``
and ``WATCHDOG_USEC``. The board sends ``READY=1`` once it is live (every feed stream LIVE), or once it has been
up for ``READY_GRACE_S`` with the feed still failing: the wall is then up and says DOWN, which is what it should
show, and must not be restarted for it. ``WATCHDOG=1`` pings go out from a QTimer on the GUI thread, at half the
watchdog interval: a GUI thread that hangs stops the pings, and systemd kills and restarts the board.

The notify protocol is a few lines (one datagram per message to a Unix socket; a name starting with ``@`` is in
the abstract namespace), so it is written here rather than taken from a library. Without ``NOTIFY_SOCKET`` (not
under systemd) nothing is sent and nothing is started.

Test hook: ``WALLBOARD_TEST_FREEZE_AFTER_S=N`` blocks the GUI thread for good N seconds after READY=1 (to prove
that the watchdog restarts a frozen board). Never set it on a real wall.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from wallboard.core.freshness import Freshness

if TYPE_CHECKING:
    from wallboard.feed.hub import FeedHub

log = logging.getLogger(__name__)

#: Seconds after start at which READY=1 is sent even if the feed is not live yet (it shows DOWN on the wall).
READY_GRACE_S = 60.0
FREEZE_ENV = "WALLBOARD_TEST_FREEZE_AFTER_S"


def notify_address(environ: Mapping[str, str]) -> str | None:
    """The socket address from ``NOTIFY_SOCKET`` (``@name`` → the abstract ``\\0name``); None if unusable."""
    value = environ.get("NOTIFY_SOCKET", "")
    if value.startswith("@"):
        return "\0" + value[1:]
    if value.startswith("/"):
        return value
    return None  # unset, or a vsock address this board does not speak


def sd_notify(message: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send one notify message (``READY=1``, ``WATCHDOG=1``, ``STATUS=...``) to systemd. Never raises."""
    address = notify_address(os.environ if environ is None else environ)
    if address is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode("utf-8", "replace"))
    except OSError as exc:
        log.debug("sd_notify %r failed: %s", message, exc)
        return False
    return True


def watchdog_interval_s(environ: Mapping[str, str] | None = None) -> float | None:
    """Seconds between pings (half of ``WATCHDOG_USEC``), or None when systemd asked for no watchdog for us."""
    env = os.environ if environ is None else environ
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    pid = env.get("WATCHDOG_PID", "")
    if usec <= 0 or (pid and pid != str(os.getpid())):
        return None
    return usec / 1e6 / 2


class SystemdNotifier(QObject):
    """READY once live (or after the grace period), and watchdog pings from the GUI thread."""

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        *,
        ready_grace_s: float = READY_GRACE_S,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.environ = dict(os.environ if environ is None else environ)
        self.enabled = notify_address(self.environ) is not None
        self.ready_sent = False
        self.pings = 0
        self._ping_timer = QTimer(self)
        self._grace_timer = QTimer(self)
        self._grace_timer.setSingleShot(True)
        self._grace_timer.setInterval(int(ready_grace_s * 1000))
        self._grace_timer.timeout.connect(lambda: self.ready("STATUS=up; the dispatch feed is not live yet"))
        interval = watchdog_interval_s(self.environ)
        if self.enabled and interval is not None:
            self._ping_timer.setInterval(max(1, int(interval * 1000)))
            self._ping_timer.timeout.connect(self.ping)
        self.watchdog_s = interval

    def start(self) -> None:
        if not self.enabled:
            return
        if self.watchdog_s is not None:
            self._ping_timer.start()
            self.ping()
            log.info("systemd watchdog: pinging every %.1f s from the GUI thread", self.watchdog_s)
        self._grace_timer.start()

    def ready(self, status: str = "STATUS=live") -> None:
        """Tell systemd the board is up (once)."""
        if self.ready_sent or not self.enabled:
            return
        self.ready_sent = True
        self._grace_timer.stop()
        sd_notify(f"READY=1\n{status}\nMAINPID={os.getpid()}", self.environ)
        log.info("systemd: ready (%s)", status.removeprefix("STATUS="))
        self._freeze = arm_freeze_hook(self.environ, self)

    def ping(self) -> None:
        if sd_notify("WATCHDOG=1", self.environ):
            self.pings += 1

    def stop(self) -> None:
        self._ping_timer.stop()
        self._grace_timer.stop()
        if self.enabled:
            sd_notify("STOPPING=1", self.environ)


def arm_freeze_hook(environ: Mapping[str, str], parent: QObject) -> QTimer | None:
    """The test hook: block the GUI thread ``WALLBOARD_TEST_FREEZE_AFTER_S`` seconds from now (see the module doc)."""
    text = environ.get(FREEZE_ENV, "")
    if not text:
        return None
    try:
        after = float(text)
    except ValueError:
        log.warning("%s=%r is not a number; ignored", FREEZE_ENV, text)
        return None

    def freeze() -> None:
        log.warning("test hook %s: blocking the GUI thread now", FREEZE_ENV)
        while True:
            time.sleep(3600)

    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.timeout.connect(freeze)
    timer.start(int(max(0.0, after) * 1000))
    return timer


def start_systemd_notify(hub: FeedHub, environ: Mapping[str, str] | None = None) -> SystemdNotifier:
    """Start the watchdog pings and send READY=1 once every stream of ``hub`` is live. Keep the result alive."""
    notifier = SystemdNotifier(environ, parent=hub)

    def on_snapshot(_snapshot: object) -> None:
        if all(h.state is Freshness.LIVE for h in hub.health().values()):
            hub.snapshotChanged.disconnect(on_snapshot)
            notifier.ready()

    if notifier.enabled:
        hub.snapshotChanged.connect(on_snapshot)
    notifier.start()
    return notifier
