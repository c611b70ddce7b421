"""`wallboard run`, `demo` and `kiosk`: the board on a data source, and the composition every Qt board shares.

Configuration → data source (the dispatch API, the embedded simulator, or a replay) → metrics engine → history
store → feed hub → windows, built here and nowhere else, so the wiring of the running program reads top to bottom.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wallboard.commands.base import Command, add_demo_options
from wallboard.commands.wiring import demo_store_config, new_engine, open_store, reference, simulator
from wallboard.config import Config
from wallboard.core import provenance as prov
from wallboard.core.metrics import MetricsEngine
from wallboard.core.provenance import LIVE, Provenance, Source
from wallboard.core.reference import ReferenceData
from wallboard.core.timeutil import Clock, SystemClock

if TYPE_CHECKING:
    from wallboard.feed.hub import FeedHub
    from wallboard.sim.server import SimServer

log = logging.getLogger(__name__)
WindowFactory = Callable[["FeedHub", MetricsEngine], list[Any]]


@dataclass
class DataSource:
    """Where the board's records come from, and the clock that goes with them."""

    api_url: str
    clock: Clock
    reference: ReferenceData
    sim: SimServer | None = None
    provenance: Provenance = LIVE  # what the wall says about where its numbers come from

    def close(self) -> None:
        if self.sim is not None:
            self.sim.stop()


def api_source(config: Config) -> DataSource:
    from wallboard.feed.auth import resolve_token

    # Said on the wall at start, not only in a log: a board without a token will show every stream refused.
    missing = resolve_token(config.api) is None
    return DataSource(api_url=config.api.url, clock=SystemClock(), reference=reference(),
                      provenance=Provenance(Source.LIVE, token_missing=missing))  # fmt: skip


def simulated_source(config: Config) -> DataSource:
    sim = simulator(config)
    sim.start()
    log.info("embedded simulator (%s, seed %d, speed ×%g) at %s", config.demo.region, config.demo.seed,
             config.demo.speed, sim.url)  # fmt: skip
    return DataSource(api_url=sim.url, clock=sim.clock, reference=reference(), sim=sim, provenance=prov.DEMO)


def run_qt(config: Config, source: DataSource, make_windows: WindowFactory, *, use_store: bool = True) -> int:
    """Run the board until its last window closes. ``make_windows`` builds the windows on the hub."""
    import qasync

    from wallboard.feed.hub import FeedHub
    from wallboard.ui.runtime import (
        fatal,
        keep_memory_bounded,
        monitor_event_loop,
        qt_application,
        watch_stop_signals,
    )
    from wallboard.ui.watchdog import start_systemd_notify

    with qt_application(config) as app:
        store = None
        engine = new_engine(config, source.reference)
        if use_store:
            from wallboard.store import StoreError

            try:
                store = open_store(config)
            except StoreError as exc:  # another board holds it, or it comes from a newer wallboard
                return fatal(app, str(exc))
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        hub = FeedHub.for_api(config, engine, source.clock, base_url=source.api_url, store=store)
        hub.provenance = source.provenance
        windows = make_windows(hub, engine)
        closed = asyncio.Event()
        # We end the loop ourselves, after the hub is shut down (see serve()).
        app.setQuitOnLastWindowClosed(False)
        app.lastWindowClosed.connect(closed.set)
        stop_watch = watch_stop_signals(closed.set)  # noqa: F841 - kept alive for the loop
        pruner = keep_memory_bounded(hub)  # noqa: F841 - kept alive for the loop
        stall_monitor = monitor_event_loop() if os.environ.get("WALLBOARD_MEASURE") == "1" else None  # noqa: F841
        systemd = start_systemd_notify(hub)  # noqa: F841 - READY=1, watchdog pings from this (GUI) thread

        async def serve() -> None:
            hub.start()
            try:
                await closed.wait()
            finally:
                await hub.stop()
                for window in windows:
                    window.hide()

        # One run of the Qt main loop only: when it ends, QtWebEngine shuts down for good (aboutToQuit), and
        # entering the loop again crashes. So stopping the hub happens inside the same run.
        with loop:
            loop.run_until_complete(serve())
        if store is not None:
            store.close()
        source.close()
        log.info("wallboard stopped")
        # WORKAROUND: tearing down QtWebEngine (pages, profile) after its main loop has run crashes PySide6 6.11
        # more often than not. Everything of ours is closed and flushed by now, so leave without that teardown.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(int(app.property("wallboard_exit_status") or 0))  # kiosk.PIN_EXIT_STATUS after a PIN exit
    return 0


def supervisor_windows(config: Config) -> WindowFactory:
    def make(hub: FeedHub, engine: MetricsEngine) -> list[Any]:
        from wallboard.ui.board import BoardWindow
        from wallboard.ui.sound import attach_sound

        window = BoardWindow(config, engine.reference, hub.clock)
        window.connect_hub(hub)
        sound = attach_sound(config.alerts, config.board.tz, hub, hub.clock.now)
        try:
            from wallboard.ui.supervisor import attach_supervisor

            attach_supervisor(window, hub, sound)
        except ImportError as exc:
            log.warning("supervisor tools unavailable: %s", exc)
        screen = window.screen().availableGeometry()
        window.setGeometry(screen)  # also right where no window manager maximises (bare X, kiosk sessions)
        window.showMaximized()
        announce_when_live(hub, window.view)
        return [window]

    return make


def announce_when_live(hub: FeedHub, view: Any) -> None:
    """Log once when the wall first shows live data (operators and the end-to-end test look for this line)."""
    from wallboard.core.freshness import Freshness
    from wallboard.core.snapshot import BoardSnapshot, Window

    def check(snapshot: BoardSnapshot) -> None:
        live = all(h.state is Freshness.LIVE for h in hub.health().values())
        map_ready = view.map is None or view.map.is_loaded
        units = sum(snapshot.units_by_status.values())  # the board's units, from the snapshot (the engine is busy)
        if live and map_ready and snapshot.tiers[Window.TODAY].received > 0 and units:
            hub.snapshotChanged.disconnect(check)
            log.info(
                "board live: %d calls today, %d units, %d Polres gauges, map %s",
                snapshot.tiers[Window.TODAY].received, units, len(snapshot.response_by_polres),
                "loaded" if view.map is not None else "unavailable",
            )  # fmt: skip

    hub.snapshotChanged.connect(check)


def kiosk_windows(config: Config) -> WindowFactory:
    def make(hub: FeedHub, engine: MetricsEngine) -> list[Any]:
        from PySide6.QtWidgets import QApplication

        from wallboard.ui.kiosk import build_kiosk_windows
        from wallboard.ui.sound import attach_sound

        app = QApplication.instance()
        assert isinstance(app, QApplication)
        attach_sound(config.alerts, config.board.tz, hub, hub.clock.now)
        return list(build_kiosk_windows(app, config, hub, engine))

    return make


def add_api_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--api-url", help="dispatch API base URL (api.url); required (the simulator is `wallboard demo`)")


NO_API = (
    "wallboard {command}: no dispatch API is configured, and a command-room board never shows invented calls as "
    'live.\nSet api.url: in the configuration file ([api] url = "https://cad.example"), with '
    "WALLBOARD__API__URL=https://cad.example, or with --api-url URL; the token goes in $WALLBOARD_API_TOKEN or the "
    "OS keyring.\nTo run the board on the simulated dispatch feed, use `wallboard demo`{kiosk}."
)


def refuse_without_api(command: str) -> int:
    kiosk = " (or `wallboard kiosk --demo`)" if command == "kiosk" else ""
    print(NO_API.format(command=command, kiosk=kiosk), file=sys.stderr)
    return 2


def run_board(args: argparse.Namespace, config: Config) -> int:
    """`wallboard run`: the supervisor board on the configured dispatch API; without one it refuses to start."""
    if not config.api.url:
        return refuse_without_api("run")
    return run_qt(config, api_source(config), supervisor_windows(config))


def run_demo(args: argparse.Namespace, config: Config) -> int:
    """`wallboard demo`: the supervisor board on the embedded simulated dispatch feed."""
    config = demo_store_config(config)
    source = simulated_source(config)
    try:
        return run_qt(config, source, supervisor_windows(config))
    finally:
        source.close()


def add_kiosk_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--api-url", help="dispatch API base URL (api.url)")
    p.add_argument("--demo", action="store_true", help="run on the embedded simulator")
    add_demo_options(p)


def run_kiosk(args: argparse.Namespace, config: Config) -> int:
    """`wallboard kiosk`: unattended full-screen board(s)."""
    if not args.demo and not config.api.url:
        return refuse_without_api("kiosk")
    if args.demo:
        config = demo_store_config(config)
        source = simulated_source(config)
    else:
        source = api_source(config)
    try:
        return run_qt(config, source, kiosk_windows(config))
    finally:
        source.close()


RUN = Command("run", "supervisor board on the configured dispatch API (windowed)", add_api_arguments, run_board)
DEMO = Command("demo", "supervisor board on the embedded simulated dispatch feed", add_demo_options, run_demo)
KIOSK = Command("kiosk", "unattended full-screen board (wall screens)", add_kiosk_arguments, run_kiosk)
