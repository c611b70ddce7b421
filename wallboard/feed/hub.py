"""The hub: the one object through which data reaches the GUI.

Poll loops run as asyncio tasks on the qasync loop; each blocking fetch runs in a thread pool
(``loop.run_in_executor``), so the GUI thread never waits for the network. Results come back to the GUI thread,
are ingested into the metrics engine, queued for the history store (which writes on its own thread), and leave as
Qt signals. Widgets subscribe to the signals; they never poll and never do I/O.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, QTimer, Signal

from wallboard.config import Config
from wallboard.core.freshness import Freshness, StreamHealth, assess, backoff_delay
from wallboard.core.metrics import MetricsEngine
from wallboard.core.model import Call, Incident, QueueState, Unit
from wallboard.core.reference import ReferenceData
from wallboard.core.snapshot import BoardSnapshot, Window
from wallboard.core.timeutil import Clock, local_day_start
from wallboard.feed.client import FeedError
from wallboard.feed.sync import StreamSync, SyncResult

if TYPE_CHECKING:
    from wallboard.store import HistoryStore

log = logging.getLogger(__name__)

STREAMS = ("reference", "calls", "units", "queue")
SKEW_WARN_S = 60.0
MAX_INVALID_LOGGED = 5


class RecordSource(Protocol):
    """A non-HTTP source of records (a replay): what is due by board time ``now``."""

    def due(self, now: float) -> list[tuple[str, Any]]: ...


@dataclass
class _StreamState:
    name: str
    interval_s: float
    last_success_real: float | None = None  # time.monotonic()
    last_success_at: float | None = None  # board clock
    last_attempt_at: float | None = None
    last_error: str | None = None
    failures: int = 0
    invalid_total: int = 0


class FeedHub(QObject):
    snapshotChanged = Signal(object)  # BoardSnapshot
    unitsChanged = Signal(object)  # list[Unit]
    incidentsChanged = Signal(object)  # list[Incident]
    freshnessChanged = Signal(object)  # dict[str, StreamHealth]
    problemReported = Signal(str, str)  # (stream, message)
    referenceChanged = Signal(object)  # ReferenceData

    def __init__(
        self,
        config: Config,
        engine: MetricsEngine,
        clock: Clock,
        sync: StreamSync | None,
        store: HistoryStore | None = None,
        parent: QObject | None = None,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(parent)
        self.config = config
        self.engine = engine
        self.clock = clock
        self.sync = sync
        self.store = store
        self._writer = store.writer() if store is not None else None
        self._rng = rng or random.Random()
        api = config.api
        intervals = {
            "reference": api.poll_reference_s,
            "calls": api.poll_calls_s,
            "units": api.poll_units_s,
            "queue": api.poll_queue_s,
        }
        self._streams = {name: _StreamState(name, intervals[name]) for name in STREAMS}
        self._started_real = time.monotonic()
        self._executor: ThreadPoolExecutor | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._dirty = True
        self._last_emit_real = 0.0
        self._last_health: dict[str, StreamHealth] = {}
        self._replay: RecordSource | None = None
        self.response_window = Window(config.board.response_window)
        self.last_snapshot: BoardSnapshot | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)

    @classmethod
    def for_api(
        cls, config: Config, engine: MetricsEngine, clock: Clock, *, base_url: str, store: HistoryStore | None = None
    ) -> FeedHub:
        """A hub polling the dispatch API at ``base_url`` (empty: no HTTP source, e.g. a replay)."""
        if not base_url:
            return cls(config, engine, clock, None, store)
        from wallboard.feed.auth import resolve_token
        from wallboard.feed.client import DispatchClient

        client = DispatchClient(base_url, config.api, resolve_token(config.api))
        return cls(config, engine, clock, StreamSync(client, engine.polda_id, clock.now), store)

    # --- lifecycle -----------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Load history, then start the poll loops. Call with the qasync loop running or about to run."""
        loop = asyncio.get_event_loop()
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="feed")
        self._started_real = time.monotonic()
        self._tasks = [loop.create_task(self._startup())]
        self._timer.start()

    async def _startup(self) -> None:
        if self.store is not None:
            await self._load_history()
        if self.sync is not None:
            loop = asyncio.get_event_loop()
            # Reference first: the engine needs to know the Polres before the metrics mean anything.
            await self._poll_once("reference")
            for name in STREAMS:
                self._tasks.append(loop.create_task(self._poll_loop(name)))
        self._emit_snapshot()

    async def _load_history(self) -> None:
        assert self.store is not None
        since = local_day_start(self.clock.now(), self.config.board.tz, days_back=8)
        loop = asyncio.get_event_loop()
        history = await loop.run_in_executor(self._executor, self.store.load_since, since)
        for c in history.calls:
            self.engine.ingest_call(c)
        for i in history.incidents:
            self.engine.ingest_incident(i)
        for u in history.units:
            self.engine.ingest_unit(u)
        if self.sync is not None:
            self.sync.restore_cursors(history.cursors)
        log.info(
            "history: %d calls, %d incidents, %d units loaded from %s",
            len(history.calls), len(history.incidents), len(history.units), self.store.path,
        )  # fmt: skip
        self.unitsChanged.emit(list(self.engine.units.values()))
        self.incidentsChanged.emit(list(self.engine.incidents.values()))
        self._dirty = True

    async def stop(self) -> None:
        self._stopping = True
        self._timer.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        self._tasks.clear()
        self.stop_sync()

    def stop_sync(self) -> None:
        """Release threads and files without an event loop (also safe after ``stop``)."""
        self._stopping = True
        self._timer.stop()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        if self.sync is not None:
            self.sync.client.close()
        if self._writer is not None:
            self._writer.flush()

    # --- polling -------------------------------------------------------------------------------------------------

    async def _poll_loop(self, stream: str) -> None:
        state = self._streams[stream]
        while not self._stopping:
            ok, retry_after = await self._poll_once(stream)
            if ok:
                delay = state.interval_s
            else:
                delay = backoff_delay(
                    state.failures,
                    base_s=min(state.interval_s, 2.0),
                    cap_s=self.config.api.backoff_max_s,
                    rng=self._rng,
                    retry_after_s=retry_after,
                )
            await asyncio.sleep(delay)

    async def _poll_once(self, stream: str) -> tuple[bool, float | None]:
        assert self.sync is not None
        state = self._streams[stream]
        state.last_attempt_at = self.clock.now()
        loop = asyncio.get_event_loop()
        try:
            result = await loop.run_in_executor(self._executor, self.sync.fetch, stream)
        except FeedError as exc:
            self._failure(state, str(exc))
            return False, exc.retry_after_s
        except RuntimeError as exc:  # executor shut down while stopping
            if self._stopping:
                return False, None
            self._failure(state, f"internal error: {exc}")
            return False, None
        except Exception as exc:
            log.exception("unexpected error polling %s", stream)
            self._failure(state, f"internal error: {exc.__class__.__name__}")
            return False, None
        self._apply(result)
        was_failing = state.failures > 0
        state.failures = 0
        state.last_error = None
        state.last_success_real = time.monotonic()
        state.last_success_at = self.clock.now()
        if was_failing:
            log.info("%s: recovered", stream)
            self.problemReported.emit(stream, "recovered")
        self._update_health()
        return True, None

    def _failure(self, state: _StreamState, message: str) -> None:
        state.failures += 1
        state.last_error = message
        if state.failures == 1 or state.failures % 10 == 0:
            log.warning("%s: %s (failure %d; last good data stays on the wall)", state.name, message, state.failures)
        self.problemReported.emit(state.name, message)
        self._update_health()

    # --- applying results ----------------------------------------------------------------------------------------

    def _apply(self, result: SyncResult) -> None:
        state = self._streams[result.stream]
        if result.reference is not None:
            self.engine.set_reference(result.reference)
            self.referenceChanged.emit(result.reference)
            self._dirty = True
        if result.queue is not None:
            self.engine.set_queue(result.queue)
            self._dirty = True
        if result.records:
            self.apply_records(result.records)
        if result.invalid:
            state.invalid_total += len(result.invalid)
            for reason in result.invalid[:MAX_INVALID_LOGGED]:
                log.warning("%s: invalid item skipped: %s", result.stream, reason)
            more = len(result.invalid) - MAX_INVALID_LOGGED
            if more > 0:
                log.warning("%s: %d more invalid items skipped", result.stream, more)
            self.problemReported.emit(
                result.stream, f"{len(result.invalid)} invalid item(s) skipped: {result.invalid[0]}"
            )
        if result.clock_skew_s is not None:
            skew = result.clock_skew_s
            # A simulated clock at ×N turns a second of latency into N seconds of apparent skew.
            if abs(skew) > SKEW_WARN_S * max(1.0, float(getattr(self.clock, "speed", 1.0))):
                message = f"server clock is {abs(skew) / 60:.0f} min {'ahead of' if skew > 0 else 'behind'} ours"
                log.warning("%s: %s", result.stream, message)
                self.problemReported.emit(result.stream, message)
        if self.sync is not None and result.cursors:
            self.sync.commit(result.cursors)
            if self._writer is not None:
                self._writer.save_cursors(self.sync.cursors())

    def apply_records(self, records: Iterable[Call | Incident | Unit | QueueState | ReferenceData]) -> int:
        """Ingest records (from the API or a replay); emit what changed. Returns how many were new."""
        units: list[Unit] = []
        incidents: list[Incident] = []
        accepted: list[Call | Incident | Unit] = []
        engine = self.engine
        for r in records:
            if isinstance(r, Call):
                if engine.ingest_call(r):
                    accepted.append(r)
            elif isinstance(r, Incident):
                if engine.ingest_incident(r):
                    accepted.append(r)
                    incidents.append(r)
            elif isinstance(r, Unit):
                if engine.ingest_unit(r):
                    accepted.append(r)
                    units.append(r)
            elif isinstance(r, QueueState):
                engine.set_queue(r)
                self._dirty = True
            elif isinstance(r, ReferenceData):
                engine.set_reference(r)
                self.referenceChanged.emit(r)
                self._dirty = True
        if accepted:
            self._dirty = True
            if self._writer is not None:
                self._writer.append(accepted)
        if units:
            self.unitsChanged.emit(units)
        if incidents:
            self.incidentsChanged.emit(incidents)
        return len(accepted)

    def attach_replay(self, source: RecordSource) -> None:
        """Take records from a replay instead of HTTP; its streams count as live while it plays."""
        self._replay = source

    # --- periodic work -------------------------------------------------------------------------------------------

    def _tick(self) -> None:
        if self._replay is not None:
            due = self._replay.due(self.clock.now())
            if due:
                self.apply_records(r for _, r in due)
            now_real = time.monotonic()
            for state in self._streams.values():
                state.last_success_real = now_real
                state.last_success_at = self.clock.now()
        self._update_health()
        now_real = time.monotonic()
        if self._dirty or now_real - self._last_emit_real >= 5.0:
            self._emit_snapshot()

    def _emit_snapshot(self) -> None:
        self._dirty = False
        self._last_emit_real = time.monotonic()
        snapshot = self.engine.snapshot(self.clock.now(), self.response_window)
        self.last_snapshot = snapshot
        self.snapshotChanged.emit(snapshot)

    def set_response_window(self, window: Window) -> None:
        self.response_window = window
        self._emit_snapshot()

    def health(self) -> dict[str, StreamHealth]:
        now_real = time.monotonic()
        out = {}
        stale_after = self.config.api.stale_after_intervals
        for name, s in self._streams.items():
            if self.sync is None and self._replay is None:
                state = Freshness.DOWN
            else:
                state = assess(
                    interval_s=s.interval_s if name != "reference" else max(s.interval_s, 60.0),
                    seconds_since_success=None if s.last_success_real is None else now_real - s.last_success_real,
                    seconds_since_start=now_real - self._started_real,
                    consecutive_failures=s.failures,
                    stale_after_intervals=stale_after,
                )
                if name == "reference" and s.last_success_real is not None and s.failures == 0:
                    state = Freshness.LIVE  # reference data changes rarely: one success keeps it usable
            out[name] = StreamHealth(
                name=name,
                state=state,
                last_success_at=s.last_success_at,
                last_attempt_at=s.last_attempt_at,
                last_error=s.last_error,
                consecutive_failures=s.failures,
                invalid_items_total=s.invalid_total,
                interval_s=s.interval_s,
            )
        return out

    def _update_health(self) -> None:
        health = self.health()
        if health != self._last_health:
            changed = [n for n in health if self._last_health.get(n, None) is None or
                       self._last_health[n].state != health[n].state]  # fmt: skip
            for name in changed:
                if name in self._last_health:
                    log.info("%s stream: %s", name, health[name].state.value)
            self._last_health = health
            self.freshnessChanged.emit(health)

    def on_snapshot(self, slot: Callable[[BoardSnapshot], None]) -> None:
        """Subscribe and get the latest snapshot at once if there is one."""
        self.snapshotChanged.connect(slot)
        if self.last_snapshot is not None:
            slot(self.last_snapshot)
