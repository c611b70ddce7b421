"""The board's long-run memory policy: hourly pruning, and long-lived data kept out of the cyclic GC's walks."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from pytestqt.qtbot import QtBot

from wallboard.config import Config
from wallboard.core.freshness import Freshness
from wallboard.core.metrics import MetricsEngine, MetricsSettings
from wallboard.core.timeutil import ManualClock
from wallboard.feed.hub import FeedHub
from wallboard.resources import all_poldas
from wallboard.ui.runtime import GuiThreadCollector, keep_memory_bounded


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.enable()


def test_long_lived_objects_are_frozen_once_live_and_hourly(qtbot: QtBot, unfrozen: None) -> None:
    engine = MetricsEngine(all_poldas(), "kaltim", MetricsSettings())
    clock = ManualClock(1_764_547_200.0)
    hub = FeedHub(Config(), engine, clock, sync=None)
    pruned: list[float] = []
    engine.prune = pruned.append  # type: ignore[method-assign]
    keeper = keep_memory_bounded(hub)
    timer = keeper.hourly
    snapshot = engine.snapshot(clock.now())

    hub.snapshotChanged.emit(snapshot)  # no stream has delivered yet: the day is not in memory, nothing to set aside
    assert gc.get_freeze_count() == 0

    live = {name: replace(h, state=Freshness.LIVE) for name, h in hub.health().items()}
    hub.health = lambda: live  # type: ignore[method-assign]
    hub._backlog.add("calls")  # live after its first page, the rest of the day still coming
    hub.snapshotChanged.emit(snapshot)
    assert gc.get_freeze_count() == 0, "not while a stream is catching up: most of the day is still to come"
    hub._backlog.clear()
    hub.snapshotChanged.emit(snapshot)
    assert gc.get_freeze_count() > 0
    gc.unfreeze()
    hub.snapshotChanged.emit(snapshot)  # once only
    assert gc.get_freeze_count() == 0

    assert timer.interval() == 3600 * 1000 and timer.isActive()
    timer.timeout.emit()  # the hourly tick
    assert pruned == [clock.now() - 8 * 86400], "last week's comparison day is kept, older data is forgotten"
    assert gc.get_freeze_count() > 0
    keeper.stop()
    assert gc.isenabled()


def test_garbage_is_collected_on_the_gui_thread_only(qtbot: QtBot, unfrozen: None) -> None:
    """Automatic GC is off (a worker thread could otherwise destroy Qt objects); a GUI-thread timer collects."""
    hub = FeedHub(Config(), MetricsEngine(all_poldas(), "kaltim", MetricsSettings()), ManualClock(0.0), sync=None)
    keeper = keep_memory_bounded(hub)
    try:
        assert not gc.isenabled()
        collected_on: list[str] = []

        def note(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                collected_on.append(threading.current_thread().name)

        gc.callbacks.append(note)
        try:
            for _ in range(5000):  # cyclic garbage, well past the first generation's threshold
                a: list[object] = []
                a.append(a)
            qtbot.waitUntil(lambda: bool(collected_on), timeout=3000)
        finally:
            gc.callbacks.remove(note)
        assert set(collected_on) == {threading.main_thread().name}
    finally:
        keeper.stop()


def test_one_pass_a_tick_of_the_oldest_generation_due_and_full_passes_on_their_own_clock(
    qtbot: QtBot, unfrozen: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = [(0, 0, 0)]
    passes: list[int] = []
    monkeypatch.setattr(gc, "get_count", lambda: counts[0])
    monkeypatch.setattr(gc, "collect", lambda generation=2: passes.append(generation) or 0)
    now = [1000.0]
    collector = GuiThreadCollector(interval_s=0.5, full_every_s=600.0)
    collector._monotonic = lambda: now[0]
    collector._next_full = now[0] + 600.0
    try:
        t0, t1, _t2 = gc.get_threshold()
        counts[0] = (t0, 3, 50)
        assert collector.check() == -1 and passes == [], "nothing due below the first threshold"
        counts[0] = (t0 + 1, t1 - 1, 50)
        assert collector.check() == 0 and passes == [0]
        counts[0] = (t0 + 1, t1, 50)
        assert collector.check() == 1 and passes == [0, 1], "the middle generation alone, not 0 and then 1"
        counts[0] = (t0 + 1, t1, 99)  # many middle passes: still no full pass before its time
        assert collector.check() == 1
        now[0] += 600.0
        counts[0] = (3, 0, 0)
        assert collector.check() == 2 and passes == [0, 1, 1, 2], "the full pass comes on its clock"
        assert collector.check() == -1
    finally:
        collector.timer.stop()
