"""The Qt process around the board: what must happen before and after the QApplication, and the safety nets a
kiosk that runs for weeks needs (crash dumps, an excepthook that keeps the wall up, clean stop on SIGTERM, the
garbage collector on the GUI thread only, the map's compositing path).

Every subcommand that shows Qt goes through :func:`qt_application`; nothing here knows where the data comes from.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import signal
import sys
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wallboard import __version__
from wallboard.config import Config

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from wallboard.feed.hub import FeedHub

log = logging.getLogger(__name__)


#: OpenGL renderers that are the CPU pretending to be a GPU (Mesa's llvmpipe/softpipe, Chromium's SwiftShader,
#: Windows' GDI fallback).
SOFTWARE_GL = ("llvmpipe", "softpipe", "swrast", "swiftshader", "software rasterizer", "gdi generic")


def is_software_gl(renderer: str | None) -> bool:
    """Whether an OpenGL renderer string (GL_RENDERER) is emulation on the CPU; None (no OpenGL at all) counts too."""
    return renderer is None or any(name in renderer.lower() for name in SOFTWARE_GL)


def choose_rendering(setting: str, gl_renderer: str | None) -> str:
    """``gpu`` or ``software`` for the map's compositing, from the ``map.rendering`` option and the GL renderer."""
    if setting in ("gpu", "software"):
        return setting
    return "software" if is_software_gl(gl_renderer) else "gpu"


def probe_gl_renderer() -> str | None:
    """GL_RENDERER of a throwaway OpenGL context (~40 ms), or None where there is no OpenGL. Needs the QApplication."""
    from PySide6.QtGui import QOffscreenSurface, QOpenGLContext

    context = QOpenGLContext()
    if not context.create():
        return None
    surface = QOffscreenSurface()
    surface.create()
    try:
        if not context.makeCurrent(surface):
            return None
        renderer = context.functions().glGetString(0x1F01)  # GL_RENDERER
        context.doneCurrent()
        return str(renderer) if renderer else None
    finally:
        surface.destroy()


def configure_rendering(setting: str) -> str:
    """Pick how the map page is composited; must run after the QApplication exists and before any web view.

    Where OpenGL is emulated on the CPU (no GPU, a VM's virtual GPU, a missing driver), compositing the map through
    it cost 12 % of a core on a quiet Kaltim board, two thirds of the whole; Chromium's and Qt Quick's own software
    paths draw the same frames for about 1 %.
    """
    renderer = probe_gl_renderer() if setting == "auto" else None
    mode = choose_rendering(setting, renderer)
    if mode == "software":
        from PySide6.QtQuick import QQuickWindow, QSGRendererInterface

        add_chromium_flags("--disable-gpu", "--disable-gpu-compositing")
        QQuickWindow.setGraphicsApi(QSGRendererInterface.GraphicsApi.Software)
    log.info("map rendering: %s (map.rendering = %s; OpenGL: %s)", mode, setting, renderer or "not probed/none")
    return mode


def add_chromium_flags(*flags: str) -> None:
    current = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "").split()
    os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = " ".join([*current, *(f for f in flags if f not in current)])


def prepare_process() -> None:
    """Set up what must exist before the QApplication: crash dumps, Chromium flags, the map's URL scheme."""
    faulthandler.enable()
    # Chromium refuses to start as root without --no-sandbox (kiosk images often run the session as root).
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        add_chromium_flags("--no-sandbox")
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    try:
        from wallboard.ui.map import register_schemes

        register_schemes()
    except ImportError as exc:  # the map is optional only if QtWebEngine is missing
        log.warning("map unavailable: %s", exc)


def install_excepthook() -> None:
    """Log an unexpected exception and keep the board alive: a wall must not die from one bad update."""

    def hook(exc_type: type[BaseException], exc: BaseException, tb: types.TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.critical("unhandled exception (the board keeps running)", exc_info=exc)

    sys.excepthook = hook

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        log.critical("unhandled exception in thread %s", args.thread, exc_info=args.exc_value)

    threading.excepthook = thread_hook


# --- the Qt application -----------------------------------------------------------------------------------


@contextmanager
def qt_application(config: Config) -> Iterator[QApplication]:
    prepare_process()
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from wallboard.logsetup import route_qt_messages

    route_qt_messages()  # Qt's warnings into the log, with the process and its PID; Chromium's noise at DEBUG

    QApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("wallboard")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("wallboard")
    from wallboard.ui.theme import app_icon

    app.setWindowIcon(app_icon())  # our shield with 110, for every window, the task bar and the window switcher
    configure_rendering(config.map.rendering)
    from wallboard.ui.i18n import install_translator
    from wallboard.ui.theme import apply_theme

    install_translator(app, config.board.lang)
    apply_theme(app)
    install_excepthook()
    try:
        yield app
    finally:
        release_qt_objects(app)


_released = False


def release_qt_objects(app: QApplication) -> None:
    """Delete every window before the web profile: QtWebEngine crashes at exit if a page outlives its profile."""
    global _released
    if _released:
        return
    _released = True
    from PySide6.QtCore import QCoreApplication, QEvent

    windows = app.topLevelWidgets()
    for widget in windows:
        widget.close()
        widget.deleteLater()
    if windows:
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        QCoreApplication.processEvents()
    try:
        from wallboard.ui.map import release_shared_profile
    except ImportError:
        return
    release_shared_profile()


def keep_memory_bounded(hub: FeedHub) -> Any:
    """Hourly, forget what no panel can show any more (older than last week's comparison day): weeks on a wall.

    Also keeps Python's cyclic garbage collector off the long-lived data. A national board holds a day of calls,
    incidents and units as ~400,000 tracked objects; a full collection walked them all and stalled the GUI for
    130 ms every ~20 s. Once every stream is live (history loaded, the day caught up), everything alive is moved
    out of the collector's sight (``gc.freeze``; full collections then take ~15 ms); each hour, what has lived an
    hour follows. Frozen objects are still freed by reference counting (pruning still frees memory); only a
    reference cycle that was alive at a freeze and dies later is not collected, and the data model holds no cycles.
    (No collection before the first freeze: it would be the very stall we avoid.)

    Collections run on the GUI thread only (:class:`GuiThreadCollector`: automatic GC off, a timer collects). An
    automatic pass can start on any thread that allocates, and the feed's workers and the engine thread allocate
    the most; a Qt object collected there is destroyed off its thread, where Qt cannot unregister its timers, and
    the GUI thread later fires a timer into freed memory (seen as segfaults in the hub's tests).
    """
    import gc

    from PySide6.QtCore import QTimer

    from wallboard.core.freshness import Freshness

    clock = hub.clock

    def settle_once_live(_snapshot: object) -> None:
        # Caught up too: a stream is live after its first page, and the day's backlog (most of the objects) follows.
        if hub.caught_up and all(h.state is Freshness.LIVE for h in hub.health().values()):
            hub.snapshotChanged.disconnect(settle_once_live)
            gc.freeze()
            log.info("garbage collector: %d long-lived objects set aside", gc.get_freeze_count())

    def hourly() -> None:
        hub.prune(clock.now() - 8 * 86400, then=gc.freeze)  # on the engine thread; the freeze after, here

    hub.snapshotChanged.connect(settle_once_live)
    timer = QTimer()
    timer.setInterval(3600 * 1000)
    timer.timeout.connect(hourly)
    timer.start()
    return MemoryKeeper(timer, GuiThreadCollector())


class GuiThreadCollector:
    """Python's cyclic garbage collector, run from a GUI-thread timer instead of wherever allocation trips it.

    One pass a tick, of the oldest generation due (pyqtgraph's collector, used before, ran generation 0 and then
    generation 1 in the same tick: 35 + 55 ms in one stall on a national board). Ticks are twice a second, so each
    pass walks half a second of young objects. Full passes (every object not frozen) run on a clock of their own
    rather than after every ten middle passes: on a national board one walks a few hundred thousand objects, and
    every ~100 s was too often for what they find (the data model holds no cycles)."""

    def __init__(self, interval_s: float = 0.5, full_every_s: float = 600.0) -> None:
        import gc
        import time

        from PySide6.QtCore import QTimer

        self._threshold = gc.get_threshold()
        self._full_every_s = full_every_s
        self._monotonic = time.monotonic
        self._next_full = self._monotonic() + full_every_s
        gc.disable()
        self.timer = QTimer()
        self.timer.setInterval(int(interval_s * 1000))
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def check(self) -> int:
        """Collect what is due; returns the generation collected (-1: none)."""
        import gc

        young, middle, _old = gc.get_count()
        if self._monotonic() >= self._next_full:
            self._next_full = self._monotonic() + self._full_every_s
            generation = 2
        elif young > self._threshold[0]:
            generation = 1 if middle >= self._threshold[1] else 0
        else:
            return -1
        gc.collect(generation)
        return generation


@dataclass
class MemoryKeeper:
    """What :func:`keep_memory_bounded` started; kept alive for as long as the board runs."""

    hourly: Any  # QTimer
    collector: GuiThreadCollector

    def stop(self) -> None:
        import gc

        self.hourly.stop()
        self.collector.timer.stop()
        gc.enable()


def monitor_event_loop(period_s: float = 10.0) -> Any:
    """For benchmarks (WALLBOARD_MEASURE=1): log the largest gap of a 16 ms timer, i.e. how long the GUI stalled."""
    import time

    from PySide6.QtCore import QTimer

    timer = QTimer()
    timer.setInterval(16)
    state = {"last": time.perf_counter(), "max": 0.0, "since": time.perf_counter()}

    def beat() -> None:
        now = time.perf_counter()
        state["max"] = max(state["max"], (now - state["last"]) * 1000)
        state["last"] = now
        if now - state["since"] >= period_s:
            log.info("event loop: max gap %.0f ms over %.0f s", state["max"], now - state["since"])
            state["max"], state["since"] = 0.0, now

    timer.timeout.connect(beat)
    timer.start()
    return timer


def watch_stop_signals(stop: Callable[[], None]) -> Any:
    """SIGTERM (systemd, the end-to-end test) and SIGINT stop the board cleanly.

    The Python signal handler only sets a flag; a Qt timer acts on it from the event loop. Acting inside the handler
    (it can interrupt Qt anywhere) crashed QApplication.exit(); the timer also gives Python a chance to run handlers
    while Qt sits in native code.
    """
    from PySide6.QtCore import QTimer

    requested: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda number, frame: requested.append(number))
    timer = QTimer()
    timer.setInterval(200)

    def check() -> None:
        if requested:
            log.info("signal %d: stopping", requested[0])
            timer.stop()
            stop()

    timer.timeout.connect(check)
    timer.start()
    return timer


def fatal(app: QApplication, message: str) -> int:
    """A problem that stops the board before it starts: say it on screen and in the log."""
    from PySide6.QtWidgets import QMessageBox

    log.error("%s", message)
    print(f"wallboard: {message}", file=sys.stderr)
    if os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        QMessageBox.critical(None, "wallboard", message)
    return 1
