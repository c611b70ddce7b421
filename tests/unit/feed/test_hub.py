"""FeedHub on a real qasync loop with a scripted sync: what reaches the engine, the store and the signals, how
freshness follows failures (on a fake monotonic clock), and that stopping leaves no threads or timers behind."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import qasync
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from wallboard.config import Config, load_config
from wallboard.core.freshness import Freshness, HistoryFailure, StreamHealth
from wallboard.core.metrics import MetricsEngine, MetricsSettings
from wallboard.core.model import Call, CallCategory, Incident, QueueState, Tier, Unit, UnitKind, UnitStatus
from wallboard.core.snapshot import BoardSnapshot, Window
from wallboard.core.timeutil import ManualClock
from wallboard.feed import hub as hub_module
from wallboard.feed.client import FeedError, Fetched, HttpStatusError, ServiceUnavailableError, TransportError
from wallboard.feed.hub import FeedHub
from wallboard.feed.sync import SyncResult
from wallboard.resources import all_poldas

NOW = 1_795_300_000.0


def a_call(n: int, rev: int = 1) -> Call:
    return Call(f"c{n}", rev, "64.71", NOW - 600 + n, Tier.POLRES, (), NOW - 590 + n, Tier.POLRES, None,
                CallCategory.GENUINE)  # fmt: skip


def a_unit(n: int, rev: int = 1) -> Unit:
    return Unit(f"u{n}", rev, f"R4-{n}", "64.71", UnitKind.R4, UnitStatus.AVAILABLE)


def an_incident(n: int, rev: int = 1) -> Incident:
    return Incident(f"i{n}", rev, "64.71", f"c{n}", NOW - 600 + n)


class FakeClient:
    def __init__(self) -> None:
        self.closed = False

    def fetch(self, path: str, params: dict[str, str] | None = None, *, use_etag: bool = True) -> Fetched:
        raise AssertionError("the hub never calls the client itself")

    def close(self) -> None:
        self.closed = True


@dataclass
class ScriptedSync:
    """Answers each stream from a queue of scripted outcomes (a SyncResult, or an exception to raise)."""

    script: dict[str, list[SyncResult | Exception | Callable[[], SyncResult]]] = field(default_factory=dict)
    committed: list[dict[str, str]] = field(default_factory=list)
    restored: dict[str, str] = field(default_factory=dict)
    client: FakeClient = field(default_factory=FakeClient)
    threads: set[str] = field(default_factory=set)
    _cursors: dict[str, str] = field(default_factory=dict)

    def fetch(self, stream: str) -> SyncResult:
        self.threads.add(threading.current_thread().name)
        queue = self.script.get(stream)
        step = queue.pop(0) if queue and len(queue) > 1 else (queue[0] if queue else SyncResult(stream))
        if isinstance(step, Exception):
            raise step
        return step() if callable(step) else step

    def commit(self, cursors: dict[str, str]) -> None:
        self.committed.append(dict(cursors))
        self._cursors.update(cursors)

    def cursors(self) -> dict[str, str]:
        return dict(self._cursors)

    def restore_cursors(self, cursors: dict[str, str]) -> None:
        self.restored = dict(cursors)
        self._cursors.update(cursors)


@dataclass
class FakeHistory:
    calls: list[Call]
    incidents: list[Incident]
    units: list[Unit]
    cursors: dict[str, str]


@dataclass
class FakeStore:
    """The store's narrow interface; ``log`` keeps the order of appends and cursor saves."""

    history: FakeHistory = field(default_factory=lambda: FakeHistory([], [], [], {}))
    log: list[tuple[str, Any]] = field(default_factory=list)
    path: Path = Path("/nonexistent/history.sqlite")
    writer_status: FakeWriterStatus = field(default_factory=lambda: FakeWriterStatus())

    def load_since(self, since: float) -> FakeHistory:
        return self.history

    def writer(self) -> FakeStore:
        return self

    def append(self, records: list[Call | Incident | Unit]) -> None:
        self.log.append(("records", list(records)))

    def save_cursors(self, cursors: dict[str, str]) -> None:
        self.log.append(("cursors", dict(cursors)))

    def flush(self, timeout: float = 10.0) -> bool:
        return True

    def status(self) -> FakeWriterStatus:
        return self.writer_status


@dataclass(frozen=True)
class FakeWriterStatus:
    ok: bool = True
    reason: str = ""
    rejected: int = 0
    dropped: int = 0


class FakeMonotonic:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


def config() -> Config:
    return load_config(
        None,
        overrides={"api.poll_calls_s": "0.2", "api.poll_units_s": "0.2", "api.poll_queue_s": "0.2",
                   "api.backoff_max_s": "1"},
        environ={},
    )  # fmt: skip


def engine() -> MetricsEngine:
    return MetricsEngine(all_poldas(), "kaltim", MetricsSettings())


def run_until(loop: qasync.QEventLoop, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    async def waiter() -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.02)

    loop.run_until_complete(waiter())


def make_hub(sync: ScriptedSync, store: FakeStore | None = None, **kwargs: Any) -> FeedHub:
    return FeedHub(config(), engine(), ManualClock(NOW), sync, store, **kwargs)


def gap_timer(interval_ms: int) -> tuple[QTimer, list[float]]:
    """A GUI-thread timer (not started) and the gaps between its beats, in seconds: how long the GUI stalled."""
    gaps: list[float] = []
    last = [time.monotonic()]

    def beat() -> None:
        now = time.monotonic()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(interval_ms)
    timer.timeout.connect(beat)
    return timer, gaps


def feed_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("feed")]


def test_results_reach_engine_store_and_signals_in_order(loop: qasync.QEventLoop, qtbot: QtBot) -> None:
    sync = ScriptedSync()
    sync.script["calls"] = [
        SyncResult("calls", records=[a_call(1), a_call(2), an_incident(1)], cursors={"calls": "2", "incidents": "1"}),
        SyncResult("calls", records=[a_call(2)], cursors={"calls": "3"}),  # a duplicate: nothing new
        SyncResult("calls"),
    ]
    sync.script["units"] = [SyncResult("units", records=[a_unit(1)], cursors={"units": "1"}), SyncResult("units")]
    sync.script["queue"] = [SyncResult("queue", queue=QueueState(NOW, ()))]
    store = FakeStore(FakeHistory([a_call(0)], [], [a_unit(9)], {"calls": "1"}))
    hub = make_hub(sync, store)
    units: list[list[Unit]] = []
    incidents: list[list[Incident]] = []
    hub.unitsChanged.connect(units.append)
    hub.incidentsChanged.connect(incidents.append)
    try:
        with loop, qtbot.waitSignal(hub.snapshotChanged, timeout=5000) as first:
            hub.start()
            run_until(loop, lambda: len(sync.committed) >= 3 and "u1" in hub.engine.units)
            assert isinstance(first.args[0], BoardSnapshot)
            run_until(loop, lambda: hub.last_snapshot is not None
                      and hub.last_snapshot.tiers[Window.TODAY].received == 3)  # fmt: skip
            loop.run_until_complete(hub.stop())
    finally:
        hub.stop_sync()
    assert sync.restored == {"calls": "1"}, "cursors from the store are restored before polling"
    assert set(hub.engine.calls) == {"c0", "c1", "c2"} and set(hub.engine.units) == {"u1", "u9"}
    assert [u.id for batch in units for u in batch] == ["u9", "u1"], "history first, then the change; once each"
    assert [i.id for batch in incidents for i in batch] == ["i1"]
    # The calls cursor "2" is saved only after the records fetched with it were handed to the store.
    first_save = next(i for i, (kind, c) in enumerate(store.log) if kind == "cursors" and c.get("calls") == "2")
    before = [r.id for kind, batch in store.log[:first_save] if kind == "records" for r in batch]
    assert {"c1", "c2", "i1"} <= set(before)
    stored = [r.id for kind, batch in store.log if kind == "records" for r in batch]
    assert sorted(stored) == ["c1", "c2", "i1", "u1"], "new records once each; history is not written back"
    assert all(name.startswith("feed") for name in sync.threads), "fetches run on the executor, not the GUI thread"
    assert sync.client.closed


def test_failures_go_stale_then_down_and_recover_on_their_own(loop: qasync.QEventLoop) -> None:
    monotonic = FakeMonotonic()
    sync = ScriptedSync()
    ok = SyncResult("calls", records=[a_call(1)], cursors={"calls": "1"})
    sync.script["calls"] = [ok, ok]
    hub = make_hub(sync, monotonic=monotonic)
    problems: list[tuple[str, str]] = []
    health: list[dict[str, StreamHealth]] = []
    hub.problemReported.connect(lambda stream, message: problems.append((stream, message)))
    hub.freshnessChanged.connect(health.append)
    try:
        with loop:
            hub.start()
            run_until(loop, lambda: hub.health()["calls"].state is Freshness.LIVE)
            snapshot_before = dict(hub.engine.calls)
            outage = ServiceUnavailableError(503, "/api/v1/calls: HTTP 503 service unavailable", retry_after_s=0.3)
            sync.script["calls"] = [outage]
            run_until(loop, lambda: hub.health()["calls"].consecutive_failures >= 1)
            h = hub.health()["calls"]
            assert h.state is Freshness.LIVE, "one failure within the stale window changes nothing on the wall"
            assert h.last_error == "/api/v1/calls: HTTP 503 service unavailable"
            assert h.next_attempt_at is not None and h.next_attempt_at >= NOW + 0.3, "Retry-After is honoured"
            monotonic.offset += 0.7  # > 3 intervals of 0.2 s without success
            run_until(loop, lambda: hub.health()["calls"].state is not Freshness.LIVE)
            run_until(loop, lambda: hub.health()["calls"].consecutive_failures >= 3)
            assert hub.health()["calls"].state is Freshness.DOWN
            assert hub.health()["units"].state is Freshness.LIVE, "each stream has its own health"
            assert dict(hub.engine.calls) == snapshot_before, "the last good data stays"
            sync.script["calls"] = [SyncResult("calls", records=[a_call(2)], cursors={"calls": "2"})]
            run_until(loop, lambda: hub.health()["calls"].state is Freshness.LIVE and "c2" in hub.engine.calls)
            loop.run_until_complete(hub.stop())
    finally:
        hub.stop_sync()
    assert ("calls", "recovered") in problems
    assert ("calls", "/api/v1/calls: HTTP 503 service unavailable") in problems
    states = [h["calls"].state for h in health]
    assert states.index(Freshness.DOWN) < len(states) - 1 - states[::-1].index(Freshness.LIVE)


def test_answers_from_a_cache_with_an_ever_older_copy_turn_the_stream_stale(loop: qasync.QEventLoop) -> None:
    sync = ScriptedSync()
    sync.script["queue"] = [SyncResult("queue", queue=QueueState(NOW, ()), age_s=1.0)]
    hub = make_hub(sync)
    try:
        with loop:
            hub.start()
            run_until(loop, lambda: hub.health()["queue"].state is Freshness.LIVE)
            # The API behind the cache stops: every poll is still answered, from a copy 10 s old and older.
            sync.script["queue"] = [SyncResult("queue", queue=QueueState(NOW, ()), age_s=10.0)]
            run_until(loop, lambda: hub.health()["queue"].state is not Freshness.LIVE)
            health = hub.health()["queue"]
            assert health.consecutive_failures == 0, "no request failed: only the data's age says it is stale"
            assert hub.health()["calls"].state is Freshness.LIVE
            loop.run_until_complete(hub.stop())
    finally:
        hub.stop_sync()


def test_invalid_items_and_clock_skew_are_reported_once_each(loop: qasync.QEventLoop) -> None:
    sync = ScriptedSync()
    sync.script["units"] = [
        SyncResult("units", records=[a_unit(1)], invalid=["units[1] id='<b>x</b>': rev: expected an integer"],
                   cursors={"units": "2"}, clock_skew_s=600.0),
        SyncResult("units", cursors={"units": "2"}, clock_skew_s=601.0),
    ]  # fmt: skip
    hub = make_hub(sync)
    problems: list[tuple[str, str]] = []
    hub.problemReported.connect(lambda stream, message: problems.append((stream, message)))
    try:
        with loop:
            hub.start()
            run_until(loop, lambda: len(sync.committed) >= 4)
            loop.run_until_complete(hub.stop())
    finally:
        hub.stop_sync()
    assert hub.health()["units"].invalid_items_total == 1
    assert ("units", "1 invalid item(s) skipped: units[1] id='<b>x</b>': rev: expected an integer") in problems
    assert [m for _, m in problems if "clock" in m] == [
        "server clock is 10 min ahead of the board's clock; its times are moved onto the board's clock"
    ], "reported once, not on every poll"


def test_a_bug_in_a_fetch_costs_one_poll_not_the_feed(loop: qasync.QEventLoop) -> None:
    sync = ScriptedSync()
    sync.script["queue"] = [KeyError("boom"), SyncResult("queue", queue=QueueState(NOW, ()))]
    hub = make_hub(sync)
    try:
        with loop:
            hub.start()
            run_until(loop, lambda: hub.health()["queue"].last_success_at is not None)
            loop.run_until_complete(hub.stop())
    finally:
        hub.stop_sync()


def test_the_gui_thread_never_waits_for_the_network(loop: qasync.QEventLoop) -> None:
    def slow() -> SyncResult:
        time.sleep(1.0)
        return SyncResult("calls")

    sync = ScriptedSync()
    sync.script["calls"] = [slow]
    sync.script["units"] = [slow]
    hub = make_hub(sync)
    timer, gaps = gap_timer(20)
    try:
        with loop:
            hub.start()
            timer.start()
            loop.run_until_complete(asyncio.sleep(1.5))
            timer.stop()
            loop.run_until_complete(hub.stop(wait_s=2.0))
    finally:
        hub.stop_sync()
    assert len(gaps) > 30 and max(gaps) < 0.3, f"the GUI thread stalled for {max(gaps):.2f} s"


class SlowEngine(MetricsEngine):
    """An engine whose snapshots take ``snapshot_s`` (a national board's take 40-70 ms) and which notes the threads
    it is used on."""

    snapshot_s = 0.0

    def __init__(self) -> None:
        super().__init__(all_poldas(), "kaltim", MetricsSettings())
        self.threads: set[str] = set()
        self.snapshots = 0

    def ingest_call(self, call: Call) -> bool:
        self.threads.add(threading.current_thread().name)
        return super().ingest_call(call)

    def snapshot(self, now: float, response_window: Window = Window.TODAY, details: Any = ()) -> BoardSnapshot:
        self.threads.add(threading.current_thread().name)
        self.snapshots += 1
        time.sleep(self.snapshot_s)
        return super().snapshot(now, response_window, details)


def test_the_engine_works_on_its_own_thread_and_the_gui_keeps_turning(loop: qasync.QEventLoop) -> None:
    sync = ScriptedSync()
    sync.script["calls"] = [SyncResult("calls", records=[a_call(1)], cursors={"calls": "1"}), SyncResult("calls")]
    slow = SlowEngine()
    slow.snapshot_s = 0.4
    hub = FeedHub(config(), slow, ManualClock(NOW), sync)
    timer, gaps = gap_timer(16)
    try:
        with loop:
            hub.start()
            timer.start()
            run_until(loop, lambda: hub.last_snapshot is not None and hub.last_snapshot.tiers[Window.TODAY].received)
            loop.run_until_complete(asyncio.sleep(1.0))
            timer.stop()
            loop.run_until_complete(hub.stop(wait_s=2.0))
    finally:
        hub.stop_sync()
    assert max(gaps) < 0.25, f"the GUI thread stalled for {max(gaps):.2f} s behind a 0.4 s snapshot"
    assert slow.snapshots >= 2 and "c1" in slow.calls
    assert slow.threads == {hub_module.ENGINE_THREAD + "_0"}, f"the engine ran on {slow.threads}"


def test_asks_for_snapshots_while_one_is_computed_make_one_more(loop: qasync.QEventLoop) -> None:
    slow = SlowEngine()
    hub = FeedHub(config(), slow, ManualClock(NOW), ScriptedSync())
    emitted: list[BoardSnapshot] = []
    hub.snapshotChanged.connect(emitted.append)
    try:
        with loop:
            hub.start()
            run_until(loop, lambda: len(emitted) >= 1)  # the start-up snapshot
            loop.run_until_complete(asyncio.sleep(0.3))
            slow.snapshot_s, before, shown = 0.3, slow.snapshots, len(emitted)
            hub.apply_records("calls", [a_call(1)])
            for _ in range(5):
                hub._emit_snapshot()
            run_until(loop, lambda: len(emitted) >= shown + 2)
            loop.run_until_complete(asyncio.sleep(0.5))
            assert slow.snapshots - before == 2 and len(emitted) == shown + 2, "one under way, one more; no queue"
            assert emitted[-1].tiers[Window.TODAY].received == 1
            loop.run_until_complete(hub.stop(wait_s=2.0))
    finally:
        hub.stop_sync()


def test_figures_the_engine_cannot_compute_leave_the_last_ones_marked_stale(
    loop: qasync.QEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    class Failing(SlowEngine):
        broken = False

        def snapshot(self, now: float, response_window: Window = Window.TODAY, details: Any = ()) -> BoardSnapshot:
            if self.broken:
                raise ZeroDivisionError("a bug in a figure")
            return super().snapshot(now, response_window, details)

    sync = ScriptedSync()
    sync.script["calls"] = [SyncResult("calls", records=[a_call(1)], cursors={"calls": "1"}), SyncResult("calls")]
    failing = Failing()
    clock = ManualClock(NOW)
    hub = FeedHub(config(), failing, clock, sync)
    problems: list[tuple[str, str]] = []
    hub.problemReported.connect(lambda stream, message: problems.append((stream, message)))
    try:
        with loop:
            hub.start()
            run_until(loop, lambda: hub.health()["calls"].state is Freshness.LIVE and hub.last_snapshot is not None)
            good = hub.last_snapshot
            assert good is not None
            failing.broken = True
            clock.advance(30)
            for _ in range(3):
                hub._emit_snapshot()
                run_until(loop, lambda: hub.figures_failure is not None)
                loop.run_until_complete(asyncio.sleep(0.1))
            health = hub.health()
            assert hub.last_snapshot is good, "the last good figures stay on the wall"
            assert health["calls"].state is Freshness.STALE and health["units"].state is Freshness.STALE
            assert health["calls"].since == good.as_of, "stale since the figures were last computed"
            assert "ZeroDivisionError" in (health["calls"].last_error or "")
            assert health["reference"].state is Freshness.LIVE
            assert [p for p in problems if p[0] == "figures"] == [
                ("figures", "figures could not be computed: ZeroDivisionError: a bug in a figure")
            ], "said once, not every second"
            assert len([r for r in caplog.records if "could not be computed" in r.getMessage()]) == 1
            failing.broken = False
            hub._emit_snapshot()
            run_until(loop, lambda: hub.figures_failure is None)
            assert hub.health()["calls"].state is Freshness.LIVE and hub.last_snapshot is not good
            assert problems[-1] == ("figures", "recovered")
            loop.run_until_complete(hub.stop())
    finally:
        hub.stop_sync()


def test_caught_up_only_when_no_stream_has_more_waiting(loop: qasync.QEventLoop) -> None:
    gate = threading.Event()

    def rest_of_the_day() -> SyncResult:
        gate.wait(5)
        return SyncResult("calls", records=[a_call(9)], cursors={"calls": "9"})

    sync = ScriptedSync()
    sync.script["calls"] = [SyncResult("calls", records=[a_call(0)], cursors={"calls": "0"}, has_more=True),
                            rest_of_the_day, SyncResult("calls")]  # fmt: skip
    hub = make_hub(sync)
    try:
        with loop:
            hub.start()
            run_until(loop, lambda: "c0" in hub.engine.calls)
            assert not hub.caught_up, "the first page said more is waiting"
            gate.set()
            run_until(loop, lambda: "c9" in hub.engine.calls and hub.caught_up)
            loop.run_until_complete(hub.stop())
    finally:
        gate.set()
        hub.stop_sync()


def test_a_unit_sent_again_as_the_forget_check_runs_is_not_forgotten(loop: qasync.QEventLoop) -> None:
    clock = ManualClock(NOW)
    hub = FeedHub(config(), engine(), clock, ScriptedSync())
    forgotten: list[list[str]] = []
    hub.unitsForgotten.connect(lambda ids: forgotten.append(list(ids)))
    hub.apply_records("units", [a_unit(1)])
    clock.advance(hub.config.board.unit_forget_s + 10)  # u1 quiet for a long while ...
    try:
        with loop:
            hub.start()

            async def both() -> None:
                # ... and back (a units poll) just as the minute's forget check runs, its ingest still queued
                applying = asyncio.get_event_loop().create_task(hub._apply(SyncResult("units", records=[a_unit(1, 2)])))
                await asyncio.sleep(0)  # the poll's result is being applied
                await hub._forget_units()
                await applying

            loop.run_until_complete(both())
            loop.run_until_complete(hub.stop(wait_s=2.0))
    finally:
        hub.stop_sync()
    assert "u1" in hub.engine.units and forgotten == [], "a unit sent a moment ago was forgotten"
    assert "u1" in hub._unit_seen, "and it can still be forgotten later"


def test_a_replay_faster_than_the_engine_queues_nothing(loop: qasync.QEventLoop) -> None:
    class SlowIngest(SlowEngine):
        def ingest_call(self, call: Call) -> bool:
            time.sleep(0.05)  # 40 calls a tick: 2 s of work per 1 s tick
            return super().ingest_call(call)

    class Replay:
        def __init__(self) -> None:
            self.n = 0

        def due(self, now: float) -> list[tuple[str, Any]]:
            out = [("calls", a_call(self.n + k)) for k in range(40)]
            self.n += 40
            return out

    slow = SlowIngest()
    hub = FeedHub(config(), slow, ManualClock(NOW), None)
    replay = Replay()
    hub.attach_replay(replay)
    in_flight: list[int] = []
    try:
        with loop:
            hub.start()
            for _ in range(6):
                loop.run_until_complete(asyncio.sleep(1.0))
                assert hub._engine_worker is not None
                in_flight.append(hub._engine_worker.busy)
            loop.run_until_complete(hub.stop(wait_s=0.2))
    finally:
        hub.stop_sync()
    assert max(in_flight) <= 2, f"engine jobs waiting each second: {in_flight}"
    assert replay.n <= 40 * 4, "records are asked for only once the last batch is in"


def test_an_engine_error_while_loading_history_is_said_and_the_feed_starts_afresh(
    loop: qasync.QEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(SlowEngine):
        def ingest_unit(self, unit: Unit) -> bool:
            raise RecursionError("a bug in the engine")  # a RuntimeError, like "stopped"

    sync = ScriptedSync()
    store = FakeStore(FakeHistory([a_call(0)], [], [a_unit(9)], {"calls": "7"}))
    hub = FeedHub(config(), Broken(), ManualClock(NOW), sync, store)
    problems: list[tuple[str, str]] = []
    hub.problemReported.connect(lambda stream, message: problems.append((stream, message)))
    try:
        with loop:
            hub.start()
            run_until(loop, lambda: bool(problems))
            loop.run_until_complete(hub.stop())
    finally:
        hub.stop_sync()
    assert problems[0][0] == "history" and "RecursionError" in problems[0][1]
    assert any(r.levelname == "ERROR" for r in caplog.records)
    assert sync.restored == {}, "no cursors from a half-loaded history: the feed fetches its window again"


def test_stop_leaves_no_threads_tasks_or_timers(loop: qasync.QEventLoop) -> None:
    def slowish() -> SyncResult:
        time.sleep(0.3)
        return SyncResult("calls")

    sync = ScriptedSync()
    sync.script["calls"] = [slowish]
    hub = make_hub(sync)
    with loop:
        hub.start()
        run_until(loop, lambda: bool(feed_threads()))
        loop.run_until_complete(hub.stop())
        assert not hub._timer.isActive()
        assert not hub._tasks
    deadline = time.monotonic() + 2
    while feed_threads() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not feed_threads(), "executor threads end once the requests under way are done"
    hub.stop_sync()  # twice is harmless


def test_snapshots_come_when_something_changed_and_at_least_every_few_seconds(
    loop: qasync.QEventLoop, qtbot: QtBot
) -> None:
    monotonic = FakeMonotonic()
    hub = FeedHub(config(), engine(), ManualClock(NOW), None, monotonic=monotonic)
    snapshots: list[BoardSnapshot] = []
    hub.snapshotChanged.connect(snapshots.append)
    hub._tick()
    assert len(snapshots) == 1, "the first tick publishes"
    hub._tick()
    assert len(snapshots) == 1, "nothing changed, nothing published"
    assert hub.apply_records("calls", [a_call(1)]) == 1
    assert hub.apply_records("calls", [a_call(1)]) == 0, "a duplicate is not new"
    hub._tick()
    assert len(snapshots) == 2 and snapshots[-1].tiers[Window.TODAY].received == 1
    monotonic.offset += hub_module.SNAPSHOT_REFRESH_S
    hub._tick()
    assert len(snapshots) == 3, "ages on the wall move even when no data arrives"
    assert all(h.state is Freshness.DOWN for h in hub.health().values()), "no source at all: down"


def test_replay_records_take_the_same_path(loop: qasync.QEventLoop) -> None:
    class Replay:
        def __init__(self) -> None:
            self.pending: list[tuple[str, Any]] = [("calls", a_call(1)), ("units", a_unit(1)),
                                                   ("queue", QueueState(NOW, ()))]  # fmt: skip

        def due(self, now: float) -> list[tuple[str, Any]]:
            out, self.pending = self.pending, []
            return out

    hub = FeedHub(config(), engine(), ManualClock(NOW), None)
    units: list[list[Unit]] = []
    hub.unitsChanged.connect(units.append)
    hub.attach_replay(Replay())
    hub._tick()
    assert set(hub.engine.calls) == {"c1"} and [u.id for b in units for u in b] == ["u1"]
    assert all(h.state is Freshness.LIVE for h in hub.health().values())


def test_hub_start_failure_modes_do_not_raise(loop: qasync.QEventLoop) -> None:
    class BrokenStore(FakeStore):
        def load_since(self, since: float) -> FakeHistory:
            raise OSError("disk on fire")

    sync = ScriptedSync()
    sync.script["reference"] = [FeedError("/api/v1/reference: cannot connect (Connection refused)")]
    hub = make_hub(sync, BrokenStore())
    problems: list[str] = []
    hub.problemReported.connect(lambda stream, message: problems.append(f"{stream}: {message}"))
    try:
        with loop:
            hub.start()
            run_until(loop, lambda: hub.health()["calls"].last_success_at is not None)
            loop.run_until_complete(hub.stop())
    finally:
        hub.stop_sync()
    assert "history: history could not be loaded: disk on fire" in problems
    assert any(p.startswith("reference: /api/v1/reference: cannot connect") for p in problems)


def test_a_failing_history_is_reported_once_with_time_and_reason_and_its_recovery(qtbot: QtBot) -> None:
    store = FakeStore()
    clock = ManualClock(NOW)  # 2026-11-19 ... in WITA
    hub = FeedHub(config(), engine(), clock, ScriptedSync(), store)
    problems: list[tuple[str, str]] = []
    hub.problemReported.connect(lambda stream, message: problems.append((stream, message)))
    hub._tick()
    assert problems == [] and hub.history_problem is None
    store.writer_status = FakeWriterStatus(ok=False, reason="disk full")
    hub._tick()
    clock.advance(120)
    hub._tick()  # still failing, same reason: said once
    expected = f"history not saved since {datetime.fromtimestamp(NOW, ZoneInfo('Asia/Makassar')):%H:%M}: disk full"
    assert problems == [("history", expected)] and hub.history_problem == expected
    store.writer_status = FakeWriterStatus(ok=False, reason="read-only")
    hub._tick()
    assert problems[-1] == ("history", expected.replace("disk full", "read-only"))  # same start, new reason
    store.writer_status = FakeWriterStatus(ok=True, rejected=2)
    hub._tick()
    assert problems[-2:] == [("history", "recovered"), ("history", problems[-1][1])]
    assert "2 record(s) could not be saved" in problems[-1][1] and hub.history_problem is None
    hub.stop_sync()


def test_units_not_sent_for_a_long_time_are_forgotten(qapp: Any) -> None:
    hub = make_hub(ScriptedSync())
    clock = hub.clock
    assert isinstance(clock, ManualClock)
    forgotten: list[list[str]] = []
    hub.unitsForgotten.connect(forgotten.append)
    hub.apply_records("units", [a_unit(1), a_unit(2)])
    clock.advance(hub.config.board.unit_forget_s - 10)
    hub.apply_records("units", [a_unit(2, rev=2)])  # u2 is still being sent, u1 is not
    assert hub.forget_units() == []
    clock.advance(20)
    assert hub.forget_units() == ["u1"]
    assert set(hub.engine.units) == {"u2"} and forgotten == [["u1"]]
    assert hub.engine.snapshot(clock.now()).units_by_status == {"available": 1}, "the counts follow"
    hub.apply_records("units", [a_unit(1)])
    assert set(hub.engine.units) == {"u1", "u2"}, "a forgotten unit that comes back is a unit again"
    hub.stop_sync()


def test_a_partly_failed_stream_applies_what_came_and_reports_what_failed(loop: qasync.QEventLoop) -> None:
    sync = ScriptedSync()
    partial = SyncResult("calls", records=[an_incident(1)], cursors={"incidents": "1"},
                         failures={"calls": "/api/v1/calls: HTTP 500 server error"})  # fmt: skip
    sync.script["calls"] = [partial, partial, partial]
    hub = make_hub(sync)
    problems: list[tuple[str, str]] = []
    hub.problemReported.connect(lambda stream, message: problems.append((stream, message)))
    try:
        with loop:
            hub.start()
            run_until(loop, lambda: "i1" in hub.engine.incidents and len(sync.committed) >= 2)
            loop.run_until_complete(hub.stop())
    finally:
        hub.stop_sync()
    assert ("calls", "/api/v1/calls: HTTP 500 server error") in problems
    assert hub._trackers["calls"].consecutive_failures >= 2, "no success while calls fail: the stream goes stale"


def test_a_refused_token_reaches_the_health_as_a_field_whatever_the_message_says(loop: qasync.QEventLoop) -> None:
    sync = ScriptedSync()
    sync.script["calls"] = [HttpStatusError(401, "/api/v1/calls: token ditolak")]
    sync.script["units"] = [HttpStatusError(403, "/api/v1/units: forbidden")]
    sync.script["queue"] = [TransportError("/api/v1/queue: a proxy page saying HTTP 401")]
    partial = SyncResult("calls", records=[an_incident(1)], failures={"calls": "waiting to retry after failures"},
                         token_rejected=True)  # fmt: skip
    hub = make_hub(sync)
    try:
        with loop:
            hub.start()
            run_until(loop, lambda: all(hub.health()[s].consecutive_failures for s in ("calls", "units", "queue")))
            health = hub.health()
            assert health["calls"].auth_rejected and health["units"].auth_rejected
            assert not health["queue"].auth_rejected, "the words of a message are not a status"
            sync.script["calls"] = [partial]
            run_until(loop, lambda: "i1" in hub.engine.incidents)
            assert hub.health()["calls"].auth_rejected, "a partly failed stream keeps its refused token"
            loop.run_until_complete(hub.stop())
    finally:
        hub.stop_sync()


def test_a_history_failure_is_one_value_that_keeps_its_start_across_reasons(qtbot: QtBot) -> None:
    store = FakeStore()
    clock = ManualClock(NOW)
    hub = FeedHub(config(), engine(), clock, ScriptedSync(), store)
    store.writer_status = FakeWriterStatus(ok=False, reason="disk full")
    hub._tick()
    assert hub.history_failure == HistoryFailure(NOW, "disk full")
    clock.advance(600)
    store.writer_status = FakeWriterStatus(ok=False, reason="read-only")
    hub._tick()
    assert hub.history_failure == HistoryFailure(NOW, "read-only"), "since when saving stopped, the reason now"
    assert hub.history_problem == hub.history_failure.describe("Asia/Makassar")
    store.writer_status = FakeWriterStatus(ok=True)
    hub._tick()
    assert hub.history_failure is None and hub.history_problem is None
    hub.stop_sync()
