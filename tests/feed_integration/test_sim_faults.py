"""The feed against the real simulator over HTTP, through every fault mode it has.

For each fault: the client keeps running, the freshness on the wall says what is happening, and once the fault is
gone the board recovers by itself and holds exactly what a run without faults holds (same seed, same sim time).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
import qasync

from wallboard.config import ApiConfig, Config, load_config
from wallboard.core.freshness import Freshness
from wallboard.core.metrics import MetricsEngine, MetricsSettings
from wallboard.core.model import Call, Incident, Unit
from wallboard.core.snapshot import to_jsonable
from wallboard.feed.client import (
    BodyTooLargeError,
    DispatchClient,
    FeedError,
    FeedTimeoutError,
    HttpStatusError,
    InvalidJsonError,
    ServiceUnavailableError,
    TransportError,
)
from wallboard.feed.hub import FeedHub
from wallboard.feed.sync import StreamSync
from wallboard.resources import all_poldas
from wallboard.sim.server import SimServer

START = 1_795_300_000.0
TOKEN = "tok-integration-0123456789"
FAST = ApiConfig(connect_timeout_s=0.5, read_timeout_s=1.0)
State = tuple[dict[str, int], dict[str, int], dict[str, int]]


@pytest.fixture
def sim() -> Iterator[SimServer]:
    server = SimServer(seed=5, speed=0, history_hours=1, start_time=START, token=TOKEN)
    server.start()
    yield server
    server.stop()


def engine() -> MetricsEngine:
    return MetricsEngine(all_poldas(), "kaltim", MetricsSettings())


def world_state(sim: SimServer) -> State:
    return (
        {c.call.id: c.call.rev for c in sim.world.calls.values()},
        {i.id: i.rev for i in sim.world.incidents.values()},
        {u.unit.id: u.unit.rev for u in sim.world.units.values()},
    )


def engine_state(e: MetricsEngine) -> State:
    return (
        {k: v.rev for k, v in e.calls.items()},
        {k: v.rev for k, v in e.incidents.items()},
        {k: v.rev for k, v in e.units.items()},
    )


def pull(sync: StreamSync, e: MetricsEngine) -> None:
    """A fault-free, synchronous client: everything the API has, applied."""
    for stream in ("calls", "units"):
        while True:
            result = sync.fetch(stream)
            for r in result.records:
                if isinstance(r, Call):
                    e.ingest_call(r)
                elif isinstance(r, Incident):
                    e.ingest_incident(r)
                elif isinstance(r, Unit):
                    e.ingest_unit(r)
            sync.commit(result.cursors)
            if not result.has_more and not result.invalid:
                break


def fault_free_engine(sim: SimServer) -> MetricsEngine:
    e = engine()
    pull(StreamSync(DispatchClient(sim.url, FAST, TOKEN), "kaltim", sim.clock.now), e)
    return e


# --- the client and sync, one request at a time ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("error500", HttpStatusError),
        ("error503", ServiceUnavailableError),
        ("hang", FeedTimeoutError),
        ("slow", FeedTimeoutError),
        ("malformed", InvalidJsonError),
        ("reset", TransportError),
        ("huge", BodyTooLargeError),
    ],
)
def test_each_transport_fault_is_a_clean_typed_failure(sim: SimServer, fault: str, error: type[FeedError]) -> None:
    e = engine()
    sync = StreamSync(DispatchClient(sim.url, FAST, TOKEN), "kaltim", sim.clock.now)
    pull(sync, e)
    before = sync.cursors()
    sim.advance(300)
    sim.set_faults([fault])
    started = time.monotonic()
    with pytest.raises(error) as caught:
        sync.fetch("calls")
    assert time.monotonic() - started < 4 * FAST.read_timeout_s
    assert TOKEN not in str(caught.value)
    assert sync.cursors() == before
    if fault == "error503":
        assert caught.value.retry_after_s == 2.0
    sim.advance(300)  # the world goes on while the feed is broken
    sim.set_faults([])
    pull(sync, e)
    assert engine_state(e) == world_state(sim), "after recovery the board holds exactly what a fault-free run holds"


@pytest.mark.parametrize("fault", ["missing_fields", "wrong_types"])
def test_invalid_items_are_skipped_counted_and_the_rest_applied(sim: SimServer, fault: str) -> None:
    sync = StreamSync(DispatchClient(sim.url, FAST, TOKEN), "kaltim")
    sim.set_faults([fault])
    result = sync.fetch("calls")
    sim.set_faults([])
    assert result.invalid, "every third item was broken"
    assert result.records, "the valid items were applied"
    assert len(result.records) > len(result.invalid)


def test_clock_offset_is_measured(sim: SimServer) -> None:
    sync = StreamSync(DispatchClient(sim.url, FAST, TOKEN), "kaltim", sim.clock.now)
    sim.set_faults(["clock_offset=600"])
    result = sync.fetch("calls")
    sim.set_faults([])
    assert result.clock_skew_s == pytest.approx(600, abs=5)
    assert result.skew_problem() == "server clock is 10 min ahead of the board's clock"


def test_etag_round_trip_against_the_simulator(sim: SimServer) -> None:
    client = DispatchClient(sim.url, FAST, TOKEN)
    first = client.fetch("/api/v1/reference")
    second = client.fetch("/api/v1/reference")
    assert (first.not_modified, second.not_modified) == (False, True)
    assert first.document == second.document and len(first.document["polres"]) == 10


def test_wrong_token_is_a_clear_401(sim: SimServer) -> None:
    with pytest.raises(HttpStatusError, match="HTTP 401 not authorised") as caught:
        DispatchClient(sim.url, FAST, "not-the-token").fetch("/api/v1/calls")
    assert caught.value.status == 401


# --- the hub, running, through each fault ------------------------------------------------------------------------


def fast_config() -> Config:
    return load_config(
        None,
        overrides={
            "api.poll_calls_s": "0.25", "api.poll_units_s": "0.25", "api.poll_queue_s": "0.25",
            "api.read_timeout_s": "1", "api.connect_timeout_s": "0.5", "api.backoff_max_s": "1",
        },
        environ={},
    )  # fmt: skip


def run_until(loop: qasync.QEventLoop, predicate: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    async def waiter() -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"not reached in {timeout} s: {what}")
            await asyncio.sleep(0.05)

    loop.run_until_complete(waiter())


FAILING = ["error500", "error503", "hang", "slow", "malformed", "reset", "huge"]


@pytest.mark.parametrize("fault", [*FAILING, "missing_fields", "wrong_types", "clock_offset=600"])
def test_hub_rides_out_the_fault_and_recovers_to_the_fault_free_state(
    loop: qasync.QEventLoop, sim: SimServer, fault: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WALLBOARD_API_TOKEN", TOKEN)
    e = engine()
    hub = FeedHub.for_api(fast_config(), e, sim.clock, base_url=sim.url)
    problems: list[tuple[str, str]] = []
    hub.problemReported.connect(lambda stream, message: problems.append((stream, message)))
    try:
        with loop:
            hub.start()
            run_until(loop, lambda: engine_state(e) == world_state(sim), "initial sync")
            run_until(loop, lambda: all(h.state is Freshness.LIVE for h in hub.health().values()), "all live")

            sim.set_faults([fault])
            # The world goes on during the fault: half an hour, so that even a quiet pre-dawn stretch brings new calls
            # (at ~15 calls an hour, ten minutes bring none about one seed in thirteen).
            sim.advance(1800)
            calls = lambda: hub.health()["calls"]  # noqa: E731
            if fault in FAILING:
                # (a hanging request makes the stream stale before its timeout turns it into a failure)
                run_until(loop, lambda: calls().state is not Freshness.LIVE and bool(calls().last_error),
                          "calls not live, with the reason")  # fmt: skip
                assert engine_state(e) != world_state(sim), "the fault hides the new data..."
                assert len(e.calls) > 0, "...and the last good data stays on the wall"
            elif fault.startswith("clock_offset"):
                run_until(loop, lambda: any("server clock" in m for _, m in problems), "skew reported")
                assert calls().state is Freshness.LIVE, "a skewed clock is a problem, not an outage"
            else:
                run_until(loop, lambda: calls().invalid_items_total > 0, "invalid items counted")
                assert calls().state is Freshness.LIVE, "bad items are skipped; the stream is still live"
                assert any("invalid item(s) skipped" in m for _, m in problems)

            sim.set_faults([])
            run_until(loop, lambda: engine_state(e) == world_state(sim), "recovered to the world's state")
            run_until(loop, lambda: all(h.state is Freshness.LIVE for h in hub.health().values()), "live again")
            loop.run_until_complete(hub.stop(wait_s=3.0))
    finally:
        hub.stop_sync()
    assert_same_wall_as_without_faults(e, sim)


def assert_same_wall_as_without_faults(e: MetricsEngine, sim: SimServer) -> None:
    """The engine holds what a fault-free client holds, and every number on the wall agrees."""
    reference = fault_free_engine(sim)
    assert engine_state(e) == engine_state(reference)
    now = sim.clock.now()
    differences = diff_paths(to_jsonable(e.snapshot(now)), to_jsonable(reference.snapshot(now)))
    assert not differences, f"every number on the wall agrees; these do not: {differences[:10]}"


def test_api_down_at_start_and_mid_run_then_back(
    loop: qasync.QEventLoop, sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing listening (connection refused) when the board starts, and again mid-run: the board waits, says so,
    keeps the last good data, and catches up with the world by itself each time the API returns."""
    monkeypatch.setenv("WALLBOARD_API_TOKEN", TOKEN)
    sim.set_online(False)
    e = engine()
    hub = FeedHub.for_api(fast_config(), e, sim.clock, base_url=sim.url)
    calls = lambda: hub.health()["calls"]  # noqa: E731
    try:
        with loop:
            hub.start()
            run_until(loop, lambda: calls().state is Freshness.DOWN, "calls down while nothing listens")
            assert calls().last_error and "connect" in calls().last_error.lower(), calls().last_error
            assert not e.calls, "nothing to show yet, and nothing invented"

            sim.set_online(True)
            run_until(loop, lambda: engine_state(e) == world_state(sim), "first sync once the API is up")
            run_until(loop, lambda: all(h.state is Freshness.LIVE for h in hub.health().values()), "all live")
            before = len(e.calls)

            sim.set_online(False)
            sim.advance(900)  # the world goes on while the API is away
            run_until(loop, lambda: calls().state is Freshness.DOWN, "calls down mid-run")
            assert len(e.calls) == before, "the last good data stays on the wall"
            assert engine_state(e) != world_state(sim)

            sim.set_online(True)
            run_until(loop, lambda: engine_state(e) == world_state(sim), "caught up after the outage")
            run_until(loop, lambda: all(h.state is Freshness.LIVE for h in hub.health().values()), "live again")
            loop.run_until_complete(hub.stop(wait_s=3.0))
    finally:
        hub.stop_sync()
    assert_same_wall_as_without_faults(e, sim)


def diff_paths(a: object, b: object, path: str = "") -> list[str]:
    """Where two JSON-like values differ, as ``path: a != b`` lines."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b), key=str) for d in diff_paths(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in diff_paths(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def test_hub_with_a_private_api_url_never_sends_the_token_in_clear_by_accident(
    sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hub takes the token from the environment, and the sim refuses requests without it."""
    monkeypatch.delenv("WALLBOARD_API_TOKEN", raising=False)
    config = fast_config()
    config = replace(config, api=replace(config.api, token_env="WALLBOARD_TEST_NO_TOKEN"))
    sync = StreamSync(DispatchClient(sim.url, config.api, None), "kaltim")
    with pytest.raises(HttpStatusError, match="401"):
        sync.fetch("calls")
