"""The hub on a real qasync loop against the real simulator: data arrives as signals, freshness follows faults,
recovery is automatic and loses nothing, the history store gets everything."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import qasync

from wallboard.config import Config, load_config
from wallboard.core.freshness import Freshness, StreamHealth
from wallboard.core.metrics import MetricsEngine, MetricsSettings
from wallboard.core.snapshot import BoardSnapshot, Window
from wallboard.feed.hub import FeedHub
from wallboard.resources import all_poldas
from wallboard.sim.server import SimServer
from wallboard.store import HistoryStore

START = 1_795_300_000.0


@pytest.fixture
def sim() -> Iterator[SimServer]:
    server = SimServer(seed=3, speed=0, history_hours=2, start_time=START)
    server.start()
    yield server
    server.stop()


def fast_config(tmp_path: Path) -> Config:
    return load_config(
        None,
        overrides={
            "api.poll_calls_s": "0.3", "api.poll_units_s": "0.3", "api.poll_queue_s": "0.3",
            "api.read_timeout_s": "1", "api.connect_timeout_s": "0.5", "api.backoff_max_s": "1",
            "store.path": str(tmp_path / "history.sqlite"),
        },
        environ={},
    )  # fmt: skip


def wait_for(loop: qasync.QEventLoop, predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    async def waiter() -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.05)

    loop.run_until_complete(waiter())


def test_hub_streams_the_simulator_and_recovers_from_an_outage(
    loop: qasync.QEventLoop, sim: SimServer, tmp_path: Path
) -> None:
    config = fast_config(tmp_path)
    store = HistoryStore.open(config.store.path)
    engine = MetricsEngine(all_poldas(), "kaltim", MetricsSettings())
    hub = FeedHub.for_api(config, engine, sim.clock, base_url=sim.url, store=store)
    snapshots: list[BoardSnapshot] = []
    health: list[dict[str, StreamHealth]] = []
    units: list[int] = []
    hub.snapshotChanged.connect(snapshots.append)
    hub.freshnessChanged.connect(health.append)
    hub.unitsChanged.connect(lambda changed: units.append(len(changed)))

    def world_calls() -> dict[str, int]:
        return {c.call.id: c.call.rev for c in sim.world.calls.values()}

    def board_calls() -> dict[str, int]:
        return {k: v.rev for k, v in engine.calls.items()}

    try:
        with loop:
            hub.start()
            wait_for(loop, lambda: board_calls() == world_calls() and sum(units) > 100)
            wait_for(loop, lambda: all(h.state is Freshness.LIVE for h in hub.health().values()))
            wait_for(loop, lambda: bool(snapshots) and snapshots[-1].tiers[Window.TODAY].received == len(world_calls()))

            sim.set_faults(["error503"])
            sim.advance(900)  # the world goes on during the outage
            # Wait for the 503 itself: on a busy machine the stream can turn stale (the world's 900 s catch-up holds
            # the simulator) before the first failing answer arrives.
            wait_for(loop, lambda: "503" in (hub.health()["calls"].last_error or ""))
            wait_for(loop, lambda: hub.health()["calls"].state is not Freshness.LIVE)
            assert board_calls() != world_calls(), "the outage hides the new calls..."
            assert snapshots[-1].tiers[Window.TODAY].received > 0, "...while the last good numbers stay on the wall"

            sim.set_faults([])
            wait_for(loop, lambda: board_calls() == world_calls())
            wait_for(loop, lambda: hub.health()["calls"].state is Freshness.LIVE)
            states = [h["calls"].state for h in health if "calls" in h]
            assert Freshness.LIVE in states and (Freshness.STALE in states or Freshness.DOWN in states)
            loop.run_until_complete(hub.stop())
    finally:
        hub.stop_sync()
        store.close()
    reopened = HistoryStore.open(config.store.path)
    try:
        history = reopened.load_since(START - 86400)
        assert {c.id: c.rev for c in history.calls} == world_calls(), "the store holds the whole day"
        assert history.cursors, "cursors are kept so a restart resumes where it stopped"
    finally:
        reopened.close()


def test_history_lock_refuses_a_second_board(tmp_path: Path) -> None:
    from wallboard.store import StoreLockedError

    first = HistoryStore.open(tmp_path / "h.sqlite")
    try:
        with pytest.raises(StoreLockedError, match=r"another wallboard \(pid \d+\) is using the history database"):
            HistoryStore.open(tmp_path / "h.sqlite")
    finally:
        first.close()
    HistoryStore.open(tmp_path / "h.sqlite").close()
