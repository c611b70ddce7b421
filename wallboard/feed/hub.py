"""The hub: the one object through which data reaches the GUI.

Poll loops run as asyncio tasks on the qasync loop; each blocking fetch runs on a worker
(:class:`wallboard.feed.tasks.Workers`, the one thread rule), so the GUI thread never waits for the network.
Results come back to the GUI thread,
are ingested into the metrics engine, queued for the history store (which writes on its own thread), and leave as
Qt signals. Widgets subscribe to the signals; they never poll and never do I/O.

The metrics engine has a thread of its own. A national snapshot (532 Polres, 7,000 units) takes 40-70 ms of Python;
computed on the GUI thread once a second beside the map and the panels' repaint, it made the wall's largest stall
~150 ms. Every ingest and every snapshot now runs on one engine thread, in the order it was asked for (ingest a
batch, then a snapshot sees it), under ``engine_lock``; the GUI thread awaits the result and only draws it. The GUI
touches the engine directly only where it is rare and short, and then holds the lock (``with hub.engine_lock``).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal

from wallboard.config import Config
from wallboard.core import records
from wallboard.core.alerts import Alert, AlertThresholds, evaluate
from wallboard.core.freshness import Freshness, FreshnessTracker, HistoryFailure, StreamHealth, backoff_delay
from wallboard.core.metrics import MetricsEngine
from wallboard.core.model import Call, Incident, Unit
from wallboard.core.provenance import LIVE, Provenance
from wallboard.core.records import Entity, Record
from wallboard.core.reference import ReferenceData
from wallboard.core.snapshot import BoardSnapshot, Window
from wallboard.core.timeutil import Clock, local_day_start
from wallboard.feed.client import FeedError
from wallboard.feed.sync import SKEW_WARN_S, FeedClient, StreamSync, SyncResult, cursor_scope_for
from wallboard.feed.tasks import WORKER_PREFIX, Workers

log = logging.getLogger(__name__)
T = TypeVar("T")

STREAMS = ("reference", "calls", "units", "queue")
MAX_INVALID_LOGGED = 5
#: A snapshot goes out at least this often even when no data changed, so ages and "waiting for" figures move.
SNAPSHOT_REFRESH_S = 5.0
WORKERS = 4
#: How often (real seconds) units not seen for ``board.unit_forget_s`` are looked for and forgotten.
UNIT_FORGET_CHECK_S = 60.0
#: The engine thread's name (it starts with the workers' prefix, so ``tasks.settle`` waits for it too).
ENGINE_THREAD = f"{WORKER_PREFIX}-engine"


@dataclass(frozen=True)
class Ingested:
    """What one batch changed in the engine (worked out on the engine thread, signalled on the GUI thread)."""

    accepted: list[Entity]
    units: list[Unit]
    incidents: list[Incident]
    references: list[ReferenceData]


class SinkStatus(Protocol):
    """Whether the history is being saved (the store's ``WriterStatus``)."""

    @property
    def ok(self) -> bool: ...
    @property
    def reason(self) -> str: ...
    @property
    def rejected(self) -> int: ...
    @property
    def dropped(self) -> int: ...


class RecordSink(Protocol):
    """Where accepted records and committed cursors go (the store's background writer); must not block."""

    def append(self, records: list[Entity]) -> None: ...
    def save_cursors(self, cursors: dict[str, str]) -> None: ...
    def flush(self, timeout: float = ...) -> bool: ...
    def status(self) -> SinkStatus: ...


class SavedHistory(Protocol):
    @property
    def calls(self) -> Sequence[Call]: ...
    @property
    def incidents(self) -> Sequence[Incident]: ...
    @property
    def units(self) -> Sequence[Unit]: ...
    @property
    def cursors(self) -> dict[str, str]: ...


class HistorySource(Protocol):
    """The narrow view of :class:`wallboard.store.HistoryStore` the hub uses."""

    @property
    def path(self) -> Path: ...

    def load_since(self, since: float) -> SavedHistory: ...
    def writer(self) -> RecordSink: ...


class FeedSync(Protocol):
    """What the hub needs of :class:`wallboard.feed.sync.StreamSync`: a blocking fetch, and cursors to commit."""

    @property
    def client(self) -> FeedClient: ...

    def fetch(self, stream: str) -> SyncResult: ...
    def commit(self, cursors: dict[str, str]) -> None: ...
    def cursors(self) -> dict[str, str]: ...
    def restore_cursors(self, cursors: dict[str, str]) -> None: ...


class RecordSource(Protocol):
    """A non-HTTP source of records (a replay): what is due by board time ``now``."""

    def due(self, now: float) -> Sequence[tuple[str, Any]]: ...


@dataclass(frozen=True)
class PollOutcome:
    ok: bool
    more: bool = False  # a backlog is waiting: poll again at once
    retry_after_s: float | None = None


class FeedHub(QObject):
    snapshotChanged = Signal(object)  # BoardSnapshot
    unitsChanged = Signal(object)  # list[Unit]
    incidentsChanged = Signal(object)  # list[Incident]
    freshnessChanged = Signal(object)  # dict[str, StreamHealth]
    problemReported = Signal(str, str)  # (stream, message)
    referenceChanged = Signal(object)  # ReferenceData
    alertsChanged = Signal(object)  # list[Alert], evaluated once per snapshot or freshness change, for every view
    unitsForgotten = Signal(object)  # list[str]: ids of units not sent for board.unit_forget_s, dropped from memory

    def __init__(
        self,
        config: Config,
        engine: MetricsEngine,
        clock: Clock,
        sync: FeedSync | None,
        store: HistorySource | None = None,
        parent: QObject | None = None,
        rng: random.Random | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self.config = config
        self.engine = engine
        self.clock = clock
        self.sync = sync
        self.store = store
        self._writer = store.writer() if store is not None else None
        self._rng = rng or random.Random()
        self._monotonic = monotonic
        api = config.api
        intervals = {
            "reference": api.poll_reference_s,
            "calls": api.poll_calls_s,
            "units": api.poll_units_s,
            "queue": api.poll_queue_s,
        }
        started = monotonic()
        self._trackers = {
            name: FreshnessTracker(
                name,
                intervals[name],
                started_real=started,
                stale_after_intervals=api.stale_after_intervals,
                # Reference data changes rarely: one success keeps it usable until it fails.
                sticky=name == "reference",
            )
            for name in STREAMS
        }
        self._workers: Workers | None = None
        #: Every touch of the engine holds this: the engine thread's work, and the GUI's rare direct reads.
        self.engine_lock = threading.RLock()
        self._engine_worker: Workers | None = None
        self._snapshot_task: asyncio.Task[None] | None = None
        self._snapshot_again = False
        self._replay_task: asyncio.Task[None] | None = None  # one replayed batch at a time (bounded behind the engine)
        self._background: set[asyncio.Task[Any]] = set()  # short engine jobs (replay batches, forgetting, pruning)
        self._tasks: list[asyncio.Task[None]] = []
        self._backlog: set[str] = set()  # streams whose last page said more is waiting (catching up)
        self._stopping = False
        self._dirty = True
        self._last_emit_real = float("-inf")
        self._last_health: dict[str, StreamHealth] = {}
        self._skewed = False
        self._replay: RecordSource | None = None
        #: Since when and why the history is not being saved, while it is not; else None.
        self.history_failure: HistoryFailure | None = None
        #: While the engine fails to compute the figures: (as_of of the last snapshot computed, why); else None.
        self.figures_failure: tuple[float | None, str] | None = None
        self._history_lost = 0
        self.provenance: Provenance = LIVE  # where the numbers come from; views show it (watermark, notices)
        self.response_window = Window(config.board.response_window)
        self._unit_seen: dict[str, float] = {}  # unit id -> board time its latest revision arrived
        self._next_forget_real = monotonic() + UNIT_FORGET_CHECK_S
        self.last_snapshot: BoardSnapshot | None = None
        self.alerts: list[Alert] = []
        self._thresholds = alert_thresholds(config)
        self._details: dict[str, int] = {}  # drill-downs open somewhere -> how many views show each
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)

    @classmethod
    def for_api(
        cls, config: Config, engine: MetricsEngine, clock: Clock, *, base_url: str, store: HistorySource | None = None
    ) -> FeedHub:
        """A hub polling the dispatch API at ``base_url`` (empty: no HTTP source, e.g. a replay)."""
        if not base_url:
            return cls(config, engine, clock, None, store)
        from wallboard.feed.auth import resolve_token
        from wallboard.feed.client import DispatchClient

        client = DispatchClient(base_url, config.api, resolve_token(config.api))
        # A simulated clock at ×N turns a second of latency into N seconds of apparent skew.
        tolerance = SKEW_WARN_S * clock.rate
        sync = StreamSync(
            client, engine.polda_id, clock.now, skew_tolerance_s=tolerance, cursor_scope=cursor_scope_for(base_url),
            backoff_max_s=config.api.backoff_max_s, time_window_s=config.api.time_window_days * 86400,
        )  # fmt: skip
        return cls(config, engine, clock, sync, store)

    # --- lifecycle -----------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Load history, then start the poll loops. Call with the qasync loop running or about to run."""
        loop = asyncio.get_event_loop()
        self._stopping = False
        self._workers = Workers(WORKERS)
        self._engine_worker = Workers(1, name_prefix=ENGINE_THREAD)
        now_real = self._monotonic()
        for tracker in self._trackers.values():
            tracker.restart(now_real)
        self._tasks = [loop.create_task(self._startup())]
        self._timer.start()

    async def _startup(self) -> None:
        if self.store is not None:
            await self._load_history()
        if self.sync is not None and not self._stopping:
            loop = asyncio.get_event_loop()
            # Reference first: the engine needs to know the Polres before the metrics mean anything.
            first = await self._poll_once("reference")
            reference_delay = self._next_delay("reference", first)
            for name in STREAMS:
                if self._stopping:
                    break
                delay = reference_delay if name == "reference" else 0.0
                self._tasks.append(loop.create_task(self._poll_loop(name, first_delay=delay)))
        self._emit_snapshot()

    async def _load_history(self) -> None:
        assert self.store is not None
        since = local_day_start(self.clock.now(), self.engine.settings.tz, days_back=8)
        assert self._workers is not None
        try:
            history = await self._workers.run(self.store.load_since, since)
        except Exception as exc:  # a damaged history must not keep the live feed off the wall
            log.error("history could not be loaded from %s: %s", self.store.path, exc)
            self.problemReported.emit("history", f"history could not be loaded: {exc}")
            return
        engine = self.engine

        def load() -> tuple[list[Unit], list[Incident]]:
            for c in history.calls:
                engine.ingest_call(c)
            for i in history.incidents:
                engine.ingest_incident(i)
            for u in history.units:
                engine.ingest_unit(u)
            return list(engine.units.values()), list(engine.incidents.values())

        try:
            units, incidents = await self.on_engine(load)
        except Exception as exc:  # stopped while loading; or a bug: the feed then starts without history or cursors
            if self._stopping:
                return
            log.exception("history could not be taken in from %s", self.store.path)
            self.problemReported.emit("history", f"history could not be loaded: {exc.__class__.__name__}: {exc}")
            self._dirty = True
            return  # cursors not restored: the feed fetches its whole window again (revisions make that harmless)
        loaded_at = self.clock.now()
        for u in history.units:
            self._unit_seen[u.id] = max(loaded_at - self.config.board.unit_forget_s / 2, u.fix.at if u.fix else 0.0)
        if self.sync is not None:
            self.sync.restore_cursors(history.cursors)
        log.info(
            "history: %d calls, %d incidents, %d units loaded from %s",
            len(history.calls), len(history.incidents), len(history.units), self.store.path,
        )  # fmt: skip
        self.unitsChanged.emit(units)
        self.incidentsChanged.emit(incidents)
        self._dirty = True

    async def stop(self, wait_s: float = 5.0) -> None:
        """Stop polling; wait (up to ``wait_s``, without blocking the GUI) for requests already under way."""
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
        for job in [*self._background, self._snapshot_task, self._replay_task]:
            if job is not None:
                job.cancel()
        deadline = time.monotonic() + wait_s  # one wait for both pools
        if self._workers is not None:
            await self._workers.drain(wait_s)
        if self._engine_worker is not None:
            await self._engine_worker.drain(max(0.0, deadline - time.monotonic()))
        self.stop_sync()

    def stop_sync(self) -> None:
        """Release threads and files without an event loop (also safe after ``stop``, and twice)."""
        self._stopping = True
        self._timer.stop()
        for task in self._tasks:
            task.cancel()
        if self._workers is not None:
            self._workers.shutdown()
            self._workers = None
        if self._engine_worker is not None:
            self._engine_worker.shutdown()
            self._engine_worker = None
        if self.sync is not None:
            self.sync.client.close()
        if self._writer is not None:
            self._writer.flush()

    # --- polling -------------------------------------------------------------------------------------------------

    def _next_delay(self, stream: str, outcome: PollOutcome) -> float:
        """Real seconds until the next poll: the interval, at once for a backlog, or a backoff after a failure."""
        tracker = self._trackers[stream]
        if outcome.ok:
            return 0.0 if outcome.more else tracker.interval_s
        return backoff_delay(
            tracker.consecutive_failures,
            base_s=min(tracker.interval_s, 2.0),
            cap_s=self.config.api.backoff_max_s,
            rng=self._rng,
            retry_after_s=outcome.retry_after_s,
        )

    async def _poll_loop(self, stream: str, first_delay: float = 0.0) -> None:
        tracker = self._trackers[stream]
        delay = first_delay
        while not self._stopping:
            if delay > 0:
                tracker.schedule(self.clock.now() + delay * self.clock.rate)
                self._update_health()
                await asyncio.sleep(delay)
            if self._stopping:
                break
            outcome = await self._poll_once(stream)
            if outcome.ok and outcome.more:
                self._backlog.add(stream)
            elif outcome.ok:
                self._backlog.discard(stream)
            delay = self._next_delay(stream, outcome)

    async def _poll_once(self, stream: str) -> PollOutcome:
        assert self.sync is not None
        tracker = self._trackers[stream]
        tracker.attempt(board=self.clock.now())
        workers = self._workers
        if workers is None:
            return PollOutcome(False)
        try:
            result = await workers.run(self.sync.fetch, stream)
        except FeedError as exc:
            self._failure(stream, str(exc), auth_rejected=exc.token_rejected)
            return PollOutcome(False, retry_after_s=exc.retry_after_s)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must cost one poll, not the feed (RuntimeError: workers shut down)
            return self._internal_error(stream, exc, "polling")
        if self._stopping:
            return PollOutcome(False)
        try:
            await self._apply(result)
        except Exception as exc:  # stopping (the engine thread shut down under us), or a bug: one poll lost
            return self._internal_error(stream, exc, "applying")
        if self._stopping:
            return PollOutcome(False)
        if result.failures:
            # Part of the stream failed (calls, say) while the rest came (incidents): applied, and reported; the
            # failed part waits out its own back-off in the sync while the rest keeps its interval.
            self._failure(stream, "; ".join(result.failures.values()), auth_rejected=result.token_rejected)
            return PollOutcome(True, more=result.has_more)
        # Judged by the data's age, not by an answer having come: a cache may serve an old copy while the API is down.
        now_real, now_board = self._monotonic(), self.clock.now()
        if tracker.success(real=now_real, board=now_board, age_s=result.age_s, rate=self.clock.rate):
            log.info("%s: recovered", stream)
            self.problemReported.emit(stream, "recovered")
        self._update_health()
        return PollOutcome(True, more=result.has_more)

    def _internal_error(self, stream: str, exc: Exception, doing: str) -> PollOutcome:
        """A poll lost to a bug (or to a shutdown under way, which is no error)."""
        if not self._stopping:
            log.error("unexpected error %s %s", doing, stream, exc_info=exc)
            self._failure(stream, f"internal error: {exc.__class__.__name__}")
        return PollOutcome(False)

    def _failure(self, stream: str, message: str, *, auth_rejected: bool = False) -> None:
        failures = self._trackers[stream].failure(message, auth_rejected=auth_rejected)
        if failures == 1 or failures % 10 == 0:
            log.warning("%s: %s (failure %d; last good data stays on the wall)", stream, message, failures)
        self.problemReported.emit(stream, message)
        self._update_health()

    # --- applying results ----------------------------------------------------------------------------------------

    async def _apply(self, result: SyncResult) -> None:
        tracker = self._trackers[result.stream]
        batch = list(result.all_records())
        self._saw_units(batch)
        self._publish(result.stream, await self.on_engine(self._ingest, result.stream, batch))
        if result.invalid:
            tracker.count_invalid(len(result.invalid))
            for reason in result.invalid[:MAX_INVALID_LOGGED]:
                log.warning("%s: invalid item skipped: %s", result.stream, reason)
            more = len(result.invalid) - MAX_INVALID_LOGGED
            if more > 0:
                log.warning("%s: %d more invalid items skipped", result.stream, more)
            self.problemReported.emit(
                result.stream, f"{len(result.invalid)} invalid item(s) skipped: {result.invalid[0]}"
            )
        if result.clock_skew_s is not None:
            # A simulated clock at ×N turns a second of latency into N seconds of apparent skew.
            problem = result.skew_problem(SKEW_WARN_S * self.clock.rate)
            if problem and not self._skewed:
                problem += "; its times are moved onto the board's clock"
                log.warning("%s: %s", result.stream, problem)
                self.problemReported.emit(result.stream, problem)
            elif not problem and self._skewed:
                log.info("%s: server clock agrees with ours again", result.stream)
            self._skewed = problem is not None
        if self.sync is not None and result.cursors:
            # Only now, with the records applied (and queued for the store before the cursor), may the cursor move.
            self.sync.commit(result.cursors)
            if self._writer is not None:
                self._writer.save_cursors(self.sync.cursors())

    def apply_records(self, stream: str, batch: Iterable[Record]) -> int:
        """Ingest records of ``stream`` here and now (tests, tools; the board's own polls and replays go through the
        engine thread); emit what changed. Returns how many entities were new. Entities go through the engine's
        revision check, so duplicates and older revisions change nothing."""
        records_ = list(batch)
        self._saw_units(records_)
        with self.engine_lock:
            ingested = self._ingest(stream, records_)
        return self._publish(stream, ingested)

    async def on_engine(self, func: Callable[..., T], *args: Any) -> T:
        """``func(*args)`` on the engine thread, holding ``engine_lock``, after everything asked of it before.
        Without an engine thread (the hub not started) it runs here. Raises RuntimeError once the hub has stopped."""
        worker = self._engine_worker
        if worker is None:
            if self._stopping:
                raise RuntimeError("the hub has stopped")
            with self.engine_lock:
                return func(*args)

        def locked() -> T:
            with self.engine_lock:
                return func(*args)

        return await worker.run(locked)

    def _in_background(self, job: Any) -> None:
        """Run an engine job as a task of its own (replay batches, forgetting, pruning); an error is logged."""

        def done(task: asyncio.Task[Any]) -> None:
            self._background.discard(task)
            if not task.cancelled() and task.exception() is not None and not self._stopping:
                log.error("engine job failed", exc_info=task.exception())

        task = asyncio.get_event_loop().create_task(job)
        self._background.add(task)
        task.add_done_callback(done)

    def _ingest(self, stream: str, batch: list[Record]) -> Ingested:
        """On the engine thread (or under the lock): feed ``batch`` to the engine; what it took."""
        out = Ingested([], [], [], [])
        for r in batch:
            try:
                if not records.apply(self.engine, r):
                    continue
            except TypeError:
                log.warning("%s: record of unknown type %s ignored", stream, type(r).__name__)
                continue
            kind = records.stream_of(r)
            if isinstance(r, ReferenceData):
                out.references.append(r)
            elif kind in records.ENTITY_STREAMS:
                out.accepted.append(r)  # type: ignore[arg-type]
                if isinstance(r, Unit):
                    out.units.append(r)
                elif isinstance(r, Incident):
                    out.incidents.append(r)
        return out

    def _saw_units(self, batch: list[Record]) -> None:
        """The units of a batch were sent now: noted before the batch goes to the engine thread, so a forget check
        in between cannot queue the forgetting of a unit that has just come back behind its own ingest."""
        now = self.clock.now()
        for r in batch:
            if isinstance(r, Unit):
                self._unit_seen[r.id] = now

    def _publish(self, stream: str, ingested: Ingested) -> int:
        """On the GUI thread: what a batch changed goes to the history store and out as signals."""
        if ingested.accepted or ingested.references:
            self._dirty = True
        for reference in ingested.references:
            self.referenceChanged.emit(reference)
        if ingested.accepted and self._writer is not None:
            self._writer.append(ingested.accepted)
        if ingested.units:
            self.unitsChanged.emit(ingested.units)
        if ingested.incidents:
            self.incidentsChanged.emit(ingested.incidents)
        return len(ingested.accepted)

    def attach_replay(self, source: RecordSource) -> None:
        """Take records from a replay instead of HTTP; its streams count as live while it plays."""
        self._replay = source

    # --- periodic work -------------------------------------------------------------------------------------------

    def _tick(self) -> None:
        # One replayed batch at a time: while the last is still being taken in, what comes due waits for a later tick
        # (and comes all at once then), so a replay faster than the engine queues nothing. The recording is read and
        # decoded as it plays, so that happens on the engine thread too, with the ingest.
        taking_in = self._replay_task is not None and not self._replay_task.done()
        if self._replay is not None and not taking_in:
            if self._engine_worker is None:  # not started (tests): here and now
                for stream, batch in self._replayed_due(self._replay, self.clock.now()).items():
                    self.apply_records(stream, batch)
            else:
                self._replay_task = asyncio.get_event_loop().create_task(self._apply_replayed(self.clock.now()))
            now_real = self._monotonic()
            for tracker in self._trackers.values():
                tracker.success(real=now_real, board=self.clock.now())
        self._update_health()
        self._check_history()
        if self._replay is None and self._monotonic() >= self._next_forget_real:
            self._next_forget_real = self._monotonic() + UNIT_FORGET_CHECK_S
            if self._engine_worker is None:
                self.forget_units()
            else:
                self._in_background(self._forget_units())
        if self._dirty or self._monotonic() - self._last_emit_real >= SNAPSHOT_REFRESH_S:
            self._emit_snapshot()

    @staticmethod
    def _replayed_due(replay: RecordSource, now: float) -> dict[str, list[Record]]:
        by_stream: dict[str, list[Record]] = {}
        for stream, record in replay.due(now):
            by_stream.setdefault(stream, []).append(record)
        return by_stream

    async def _apply_replayed(self, now: float) -> None:
        replay = self._replay
        assert replay is not None

        def take() -> list[tuple[str, list[Record], Ingested]]:
            return [
                (stream, batch, self._ingest(stream, batch))
                for stream, batch in self._replayed_due(replay, now).items()
            ]

        try:
            for stream, batch, ingested in await self.on_engine(take):
                self._saw_units(batch)
                self._publish(stream, ingested)
        except Exception:
            if not self._stopping:
                log.exception("replayed records could not be applied")

    def _check_history(self) -> None:
        """Put the history writer's health where people look: "history not saved since HH:MM: disk full" (board
        time and zone) through ``problemReported`` and ``history_problem``, once per change, and "recovered" when
        saving works again. The board keeps running either way."""
        if self._writer is None:
            return
        status = self._writer.status()
        failure = self.history_failure
        if not status.ok and (failure is None or status.reason != failure.reason):
            # A new reason keeps the start of the run of failures: "since" is when saving stopped.
            self.history_failure = HistoryFailure(self.clock.now() if failure is None else failure.since, status.reason)
            message = self.history_failure.describe(self.engine.settings.tz)
            log.warning("%s (the board keeps running; retrying)", message)
            self.problemReported.emit("history", message)
        elif status.ok and failure is not None:
            self.history_failure = None
            log.info("history: saved again")
            self.problemReported.emit("history", "recovered")
        lost = status.rejected + status.dropped
        if lost > self._history_lost:
            self.problemReported.emit(
                "history", f"{lost} record(s) could not be saved in the history ({status.rejected} unstorable, "
                f"{status.dropped} dropped while the disk failed); the wall shows them"
            )  # fmt: skip
            self._history_lost = lost

    @property
    def history_problem(self) -> str | None:
        """ "history not saved since HH:MM: disk full" (board time and zone) while it is not, else None."""
        failure = self.history_failure
        return None if failure is None else failure.describe(self.engine.settings.tz)

    def forget_units(self) -> list[str]:
        """Drop the units the API has not sent for ``board.unit_forget_s``: a server inventing units (or a fleet
        renumbered) must not grow the board's memory forever. Returns (and signals) their ids. Here and now; the
        board's own check goes through the engine thread."""
        stale = self._stale_units()
        with self.engine_lock:
            dropped = bool(stale) and self.engine.forget_units(stale) > 0
        self._forgotten(stale, dropped)
        return stale

    async def _forget_units(self) -> None:
        stale = self._stale_units()
        if stale:
            self._forgotten(stale, await self.on_engine(self.engine.forget_units, stale) > 0)

    def _stale_units(self) -> list[str]:
        horizon = self.clock.now() - self.config.board.unit_forget_s
        return [unit_id for unit_id, seen in self._unit_seen.items() if seen < horizon]

    def _forgotten(self, stale: list[str], dropped: bool) -> None:
        """After the engine forgot ``stale``: so does the hub (only now: a failed forget is tried again)."""
        horizon = self.clock.now() - self.config.board.unit_forget_s
        for unit_id in stale:
            if self._unit_seen.get(unit_id, math.inf) < horizon:  # not one sent again meanwhile
                del self._unit_seen[unit_id]
        if dropped:
            log.info("%d unit(s) not sent for %.0f s forgotten", len(stale), self.config.board.unit_forget_s)
            self._dirty = True
            self.unitsForgotten.emit(stale)

    def prune(self, before: float, then: Callable[[], None] = lambda: None) -> None:
        """Forget what is older than ``before`` (hourly), on the engine thread; ``then`` runs on this thread after."""

        async def job() -> None:
            await self.on_engine(self.engine.prune, before)
            then()

        if self._engine_worker is None:
            with self.engine_lock:
                self.engine.prune(before)
            then()
        else:
            self._in_background(job())

    def current_units_and_incidents(self) -> tuple[list[Unit], list[Incident]]:
        """The engine's units and incidents now (a view connecting to the hub); holds the lock while it copies."""
        with self.engine_lock:
            return list(self.engine.units.values()), list(self.engine.incidents.values())

    def _emit_snapshot(self) -> None:
        """A new snapshot: computed on the engine thread (after any batch already handed to it) and emitted here.
        While one is being computed, further asks make one more, never a queue of them."""
        self._dirty = False
        self._last_emit_real = self._monotonic()
        if self._engine_worker is None:  # not started (a view's tests, a stopped hub): here and now
            with self.engine_lock:
                snapshot = self.engine.snapshot(self.clock.now(), self.response_window, details=tuple(self._details))
            self._publish_snapshot(snapshot)
            return
        if self._snapshot_task is not None and not self._snapshot_task.done():
            self._snapshot_again = True
            return
        self._snapshot_task = asyncio.get_event_loop().create_task(self._snapshots())

    async def _snapshots(self) -> None:
        engine = self.engine
        while True:
            self._snapshot_again = False
            now, window, details = self.clock.now(), self.response_window, tuple(self._details)
            try:
                snapshot = await self.on_engine(engine.snapshot, now, window, details)
            except Exception as exc:  # stopping (the engine thread shut down), or a bug: the wall says so
                if not self._stopping:
                    self._figures_failed(exc)
                return
            if self._stopping:
                return
            if self.figures_failure is not None:
                log.info("figures computed again")
                self.figures_failure = None
                self.problemReported.emit("figures", "recovered")
                self._update_health()
            self._publish_snapshot(snapshot)
            if not self._snapshot_again:
                return

    def _figures_failed(self, exc: Exception) -> None:
        """The engine could not compute the figures: the last ones stay on the wall, marked stale from when they
        were computed (``health``), and the log and the problem report say why, once per different error."""
        reason = f"{type(exc).__name__}: {str(exc)[:200]}"
        failure = self.figures_failure
        if failure is None or failure[1] != reason:
            log.error("the figures could not be computed (%s); the last ones stay on the wall, marked stale", reason,
                      exc_info=exc)  # fmt: skip
            self.problemReported.emit("figures", f"figures could not be computed: {reason}")
        if failure is not None:
            since = failure[0]
        else:
            since = self.last_snapshot.as_of if self.last_snapshot is not None else None
        self.figures_failure = (since, reason)
        self._update_health()

    def _publish_snapshot(self, snapshot: BoardSnapshot) -> None:
        self.last_snapshot = snapshot
        self.snapshotChanged.emit(snapshot)
        self._evaluate_alerts()

    def _evaluate_alerts(self) -> None:
        """The alert rules run here, once, over the snapshot and the feed's health; every view gets the result."""
        if self.last_snapshot is None:
            return
        alerts = evaluate(self.last_snapshot, self._last_health or self.health(), self._thresholds)
        if alerts != self.alerts:
            self.alerts = alerts
            self.alertsChanged.emit(alerts)

    def watch_detail(self, unit_id: str) -> None:
        """A drill-down of ``unit_id`` (a Polres, or the board's Polda) is open: snapshots carry it from now on."""
        self._details[unit_id] = self._details.get(unit_id, 0) + 1
        if self._details[unit_id] == 1:
            self._emit_snapshot()

    def unwatch_detail(self, unit_id: str) -> None:
        count = self._details.get(unit_id, 0) - 1
        if count > 0:
            self._details[unit_id] = count
        else:
            self._details.pop(unit_id, None)

    def set_response_window(self, window: Window) -> None:
        self.response_window = window
        self._emit_snapshot()

    @property
    def caught_up(self) -> bool:
        """No stream's last page said more is waiting (a stream is live after its first page; the backlog follows)."""
        return not self._backlog

    def health(self) -> dict[str, StreamHealth]:
        now_real = self._monotonic()
        out = {}
        for name, tracker in self._trackers.items():
            health = tracker.health(now_real)
            if self.sync is None and self._replay is None:
                health = replace(health, state=Freshness.DOWN)
            if self.figures_failure is not None and name != "reference":
                # Data may still arrive, but the wall's figures are those of the last snapshot that was computed.
                as_of, reason = self.figures_failure
                since = health.last_success_at if as_of is None else min(as_of, health.last_success_at or as_of)
                state = Freshness.DOWN if health.state is Freshness.DOWN else Freshness.STALE
                health = replace(health, state=state, last_success_at=since, last_error=f"figures: {reason}")
            out[name] = health
        return out

    def _update_health(self) -> None:
        health = self.health()
        if health != self._last_health:
            for name, h in health.items():
                before = self._last_health.get(name)
                if before is not None and before.state != h.state:
                    log.info("%s stream: %s", name, h.state.value)
            self._last_health = health
            self.freshnessChanged.emit(health)
            self._evaluate_alerts()


def alert_thresholds(config: Config) -> AlertThresholds:
    a = config.alerts
    return AlertThresholds(
        waiting_max=a.waiting_max,
        longest_wait_s=a.longest_wait_s,
        polres_p90_s=a.polres_p90_s,
        mabes_per_hour=a.mabes_per_hour,
        overdue_max=a.overdue_max,
        stream_stale=a.stream_stale,
    )
