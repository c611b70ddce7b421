"""Keep the wall's display awake while the board runs: no screensaver, no DPMS blanking.

Linux: the freedesktop ScreenSaver D-Bus ``Inhibit`` call when a session bus offers it, and ``xset s off -dpms`` on
bare X (kiosk sessions often have no desktop). Windows: ``SetThreadExecutionState``. Where nothing works the board
still runs; it says so in the log.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys

log = logging.getLogger(__name__)
ES_CONTINUOUS = 0x80000000
ES_DISPLAY_REQUIRED = 0x00000002
ES_SYSTEM_REQUIRED = 0x00000001


class KeepAwake:
    def __init__(self) -> None:
        self.methods: list[str] = []
        self._cookie: int | None = None

    def inhibit(self) -> list[str]:
        if sys.platform == "win32":
            import ctypes

            kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined,unused-ignore]
            kernel32.SetThreadExecutionState(ES_CONTINUOUS | ES_DISPLAY_REQUIRED | ES_SYSTEM_REQUIRED)
            self.methods.append("SetThreadExecutionState")
        else:
            self._dbus_inhibit()
            self._xset_off()
        if not self.methods:
            log.warning("display keep-awake: no method available; the screensaver may blank the wall")
        else:
            log.info("display kept awake via %s", ", ".join(self.methods))
        return self.methods

    def _dbus_inhibit(self) -> None:
        try:
            from PySide6.QtDBus import QDBusConnection, QDBusInterface
        except ImportError:
            return
        bus = QDBusConnection.sessionBus()
        if not bus.isConnected():
            return
        iface = QDBusInterface("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver",
                               "org.freedesktop.ScreenSaver", bus)  # fmt: skip
        if not iface.isValid():
            return
        reply = iface.call("Inhibit", "wallboard", "command-room wallboard on display")
        args = reply.arguments()
        if args:
            self._cookie = int(args[0])
            self.methods.append("org.freedesktop.ScreenSaver")

    def _xset_off(self) -> None:
        if not os.environ.get("DISPLAY") or not shutil.which("xset"):
            return
        try:
            subprocess.run(["xset", "s", "off", "-dpms"], check=True, timeout=5, capture_output=True)
            self.methods.append("xset")
        except (subprocess.SubprocessError, OSError) as exc:
            log.info("xset could not switch off the screensaver: %s", exc)

    def release(self) -> None:
        if sys.platform == "win32" and "SetThreadExecutionState" in self.methods:
            import ctypes

            ctypes.windll.kernel32.SetThreadExecutionState(ES_CONTINUOUS)  # type: ignore[attr-defined,unused-ignore]
        if self._cookie is not None:
            try:
                from PySide6.QtDBus import QDBusConnection, QDBusInterface

                QDBusInterface("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver",
                               "org.freedesktop.ScreenSaver", QDBusConnection.sessionBus()).call(
                    "UnInhibit", self._cookie)  # fmt: skip
            except ImportError:
                pass
            self._cookie = None
        self.methods.clear()
