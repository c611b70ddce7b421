"""The shipped nginx micro-cache (packaging/nginx/) in front of the simulator, with a real board pipeline and a few
hundred pollers that poll as boards do: the CAD sees what the cache lifetime allows, not one request per board; a
board through the cache shows what a board reading the API directly shows; a token never gets another token's
answer; and when the API behind the cache stops, the wall turns stale although the cache still answers.

nginx runs as this test's child process (tests/deployment/nginx_cache.py); skipped only when it is not installed.
"""

from __future__ import annotations

import asyncio
import logging
import re
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
import requests

from wallboard.config import ApiConfig, load_config
from wallboard.core import records
from wallboard.core.freshness import CACHE_AGE_ALLOWANCE_S, Freshness
from wallboard.core.metrics import MetricsEngine, MetricsSettings
from wallboard.core.snapshot import to_jsonable
from wallboard.core.timeutil import SystemClock, parse_rfc3339
from wallboard.feed.client import DispatchClient
from wallboard.feed.hub import FeedHub
from wallboard.feed.sync import StreamSync
from wallboard.resources import kaltim_reference
from wallboard.sim.server import SimServer

from .nginx_cache import NginxCache, missing, run_pollers

pytestmark = [
    pytest.mark.skipif(missing() is not None, reason=f"nginx cache tests: {missing()}"),
    pytest.mark.slow,
]

START = 1_795_300_000.0
TOKEN_A = "polda-kaltim-read-5d1e8a"
TOKEN_B = "polda-kalsel-read-93c0f2"
POLLERS = 240
POLL_SECONDS = 8.0
LIFETIME_S = 1.0  # the shipped proxy_cache_valid for the queue and stream pages
STREAMS = ("reference", "calls", "units", "queue")


class SimRequests(logging.Handler):
    """Counts the API requests the simulator itself answered (its request log), per request target."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.targets: Counter[str] = Counter()
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        match = re.search(r'"GET (/api/v1/\S+) HTTP', record.getMessage())
        if match:
            with self._lock:
                self.targets[match.group(1)] += 1

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self.targets)


@pytest.fixture(scope="module")
def counted() -> Iterator[SimRequests]:
    logger = logging.getLogger("wallboard.sim.transport")  # the HTTP transport logs each request line
    handler = SimRequests()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # thousands of request lines: counted here, not kept by pytest
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)
    logger.propagate = propagate


@pytest.fixture(scope="module")
def sim(counted: SimRequests) -> Iterator[SimServer]:
    """Paused (speed 0), stepped by hand: both boards see exactly the same world."""
    server = SimServer(region="kaltim", seed=7, speed=0, history_hours=1, start_time=START, token=TOKEN_A)
    server.start()
    server.advance(600)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def cache(sim: SimServer) -> Iterator[NginxCache]:
    with tempfile.TemporaryDirectory(prefix="wallboard-nginx-") as work:
        proxy = NginxCache(Path(work), f"127.0.0.1:{sim.port}").start()
        try:
            yield proxy
        finally:
            proxy.stop()


class Board:
    """The board's pipeline without Qt: DispatchClient → StreamSync → MetricsEngine, polled by hand."""

    def __init__(self, url: str, clock: Callable[[], float]) -> None:
        self.sync = StreamSync(DispatchClient(url, ApiConfig(), TOKEN_A), "kaltim", clock)
        self.engine = MetricsEngine(kaltim_reference(), "kaltim", MetricsSettings())
        self.clock = clock

    def poll(self) -> None:
        for stream in STREAMS:
            for _ in range(20):
                result = self.sync.fetch(stream)
                for record in result.all_records():
                    records.apply(self.engine, record)
                self.sync.commit(result.cursors)
                if not result.has_more:
                    break

    def figures(self) -> Any:
        return to_jsonable(self.engine.snapshot(self.clock()))

    def close(self) -> None:
        self.sync.client.close()


def test_many_boards_cost_the_cad_what_the_cache_lifetime_allows(
    sim: SimServer, cache: NginxCache, counted: SimRequests
) -> None:
    direct = Board(sim.url, sim.clock.now)
    direct.poll()
    up_to_date = direct.sync.cursors()
    direct.close()
    before = counted.snapshot()

    async def crowd() -> Any:
        async def world() -> None:  # the CAD moves on: new calls, unit moves, so cursors move under the pollers
            for _ in range(int(POLL_SECONDS // 2)):
                await asyncio.sleep(2.0)
                sim.advance(30)  # long enough that moving units are due a new fix (cursors must move)

        mover = asyncio.create_task(world())
        stats = await run_pollers("127.0.0.1", cache.port, POLLERS, TOKEN_A, up_to_date, POLL_SECONDS)
        await mover
        return stats

    started = time.monotonic()
    stats = asyncio.run(crowd())
    elapsed = time.monotonic() - started
    upstream = counted.snapshot() - before

    assert not stats.errors, f"transport errors: {stats.errors}"
    assert set(stats.statuses) <= {200, 304}, f"the limits must not refuse boards that poll by the rules: {stats}"
    expected = POLLERS * POLL_SECONDS * (1 / 1.0 + 3 / 2.0)  # queue each second, three streams each 2 s
    assert stats.requests >= 0.5 * expected, f"the pollers did poll: {stats.requests} of ~{expected:.0f}"
    # What one cache entry may cost: one fetch per lifetime (the lock holds back every other board), plus a
    # refresh already under way at either end of the run.
    per_target = max(upstream.values())
    assert per_target <= elapsed / LIFETIME_S + 3, f"one target fetched {per_target}× in {elapsed:.1f} s: {upstream}"
    total = sum(upstream.values())
    assert total <= len(upstream) * (elapsed / LIFETIME_S + 3)
    assert total * 20 <= stats.requests, f"{total} CAD requests for {stats.requests} board requests"
    moved = f"/api/v1/units?cursor={up_to_date['units']}&"
    assert any(t.startswith("/api/v1/units?") and not t.startswith(moved) for t in upstream), "cursors followed"
    print(
        f"\n{POLLERS} pollers, {elapsed:.1f} s: {stats.requests} requests to the cache, {total} reached the CAD "
        f"({len(upstream)} distinct targets, at most {per_target} each)"
    )


def test_a_board_through_the_cache_shows_what_a_direct_board_shows(sim: SimServer, cache: NginxCache) -> None:
    through, direct = Board(cache.url, sim.clock.now), Board(sim.url, sim.clock.now)
    try:
        for step in (60, 300, 5):
            sim.advance(step)
            # The paused world jumped ``step`` seconds at once, which a copy made a moment ago cannot know: let the
            # cache's copies from before the jump expire and be refreshed (as one second of real time does).
            # Otherwise the queue, whose ETag covers its entries but not its as_of, would keep the older as_of
            # through 304s and the board would rightly ignore it as too old.
            time.sleep(LIFETIME_S + 0.2)
            requests.get(cache.url + "/api/v1/queue?polda=kaltim", headers={"Authorization": f"Bearer {TOKEN_A}"},
                         timeout=5)  # fmt: skip
            time.sleep(0.3)
            direct.poll()
            expected = direct.figures()
            deadline = time.monotonic() + LIFETIME_S * 2 + 3
            while True:  # polled as a board does; a copy at most a lifetime (and one refresh) old may come first
                through.poll()
                caught_up = through.sync.cursors() == direct.sync.cursors()
                if (caught_up and through.figures() == expected) or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert through.figures() == expected, f"after advancing {step} s"
            assert through.sync.cursors() == direct.sync.cursors()
            assert through.sync.time_correction_s == 0.0, "a cached copy's older server_time is not clock skew"
        assert dict(through.engine.calls) == dict(direct.engine.calls)
        assert dict(through.engine.units) == dict(direct.engine.units)
    finally:
        through.close()
        direct.close()


def test_a_token_never_gets_an_answer_cached_for_another(
    sim: SimServer, cache: NginxCache, counted: SimRequests
) -> None:
    def get(target: str, token: str | None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(cache.url + target, headers=headers, timeout=5)

    targets = ["/api/v1/queue?polda=kaltim", "/api/v1/calls?cursor=0&limit=5&polda=kaltim", "/api/v1/reference"]
    fresh = "/api/v1/units?cursor=0&limit=3&polda=kaltim"
    try:
        for target in targets:
            assert get(target, TOKEN_A).status_code == 200
            before = counted.snapshot()[target]
            for _ in range(3):  # B (not valid) asks while A's copy is fresh: refused every time, never A's copy
                refused = get(target, TOKEN_B)
                assert refused.status_code == 401, target
                assert refused.headers["Content-Type"].startswith("application/problem+json")
                assert get(target, None).status_code == 401
            assert counted.snapshot()[target] - before >= 2, "the refusals came from the CAD, not A's copy"
            again = get(target, TOKEN_A)
            assert (again.status_code, again.headers["X-Cache-Status"]) == (200, "HIT"), "A keeps its own copy"

        # Two valid tokens (the boards of two Polda) never share an entry: A's copy is fresh, the world moves on
        # and B becomes the valid token; B gets the CAD's new answer, A (within its copy's life) its own old one.
        mine = get(fresh, TOKEN_A).json()
        sim.token = TOKEN_B
        sim.advance(30)
        theirs = get(fresh, TOKEN_B)
        assert (theirs.status_code, theirs.headers["X-Cache-Status"]) == (200, "MISS")
        assert theirs.json()["server_time"] != mine["server_time"], "B's answer is the CAD's, not A's copy"
        assert get(fresh, TOKEN_A).json() == mine

        # A is no longer valid: its copy is served out its lifetime (nginx counts it in whole seconds, so up to
        # 2 s), then at most one poll gets that old copy (with its Age) while the CAD is asked, then the refusal.
        answers: list[requests.Response] = []
        deadline = time.monotonic() + 2 * LIFETIME_S + 2
        while [a.status_code for a in answers[-2:]] != [401, 401] and time.monotonic() < deadline:
            answers.append(get(fresh, TOKEN_A))
            time.sleep(0.2)
        seen = [(a.status_code, a.headers.get("X-Cache-Status")) for a in answers]
        assert [status for status, _ in seen[-2:]] == [401, 401], seen
        assert seen.count((200, "STALE")) <= 1, seen
        stale = [a for a in answers if a.headers.get("X-Cache-Status") == "STALE"]
        assert all(int(a.headers["Age"]) >= 1 for a in stale), "an old copy says how old it is"
    finally:
        sim.token = TOKEN_A


def test_the_contract_caching_headers_reach_the_boards_through_the_cache(cache: NginxCache) -> None:
    auth = {"Authorization": f"Bearer {TOKEN_A}"}
    queue = requests.get(cache.url + "/api/v1/queue", headers=auth, timeout=5)
    assert "authorization" in queue.headers.get("Vary", "").lower()
    assert "s-maxage=1" in queue.headers.get("Cache-Control", "")
    reference = requests.get(cache.url + "/api/v1/reference", headers=auth, timeout=5)
    assert "s-maxage=60" in reference.headers.get("Cache-Control", "")
    refused = requests.get(cache.url + "/api/v1/queue", headers={"Authorization": "Bearer nope"}, timeout=5)
    assert "no-store" in refused.headers.get("Cache-Control", "")
    health = requests.get(cache.url + "/api/v1/health", headers=auth, timeout=5)
    assert "no-store" in health.headers.get("Cache-Control", "")


def test_the_cache_serves_only_the_dispatch_api(cache: NginxCache) -> None:
    auth = {"Authorization": f"Bearer {TOKEN_A}"}
    assert requests.get(cache.url + "/sim/state", timeout=5).status_code == 404, "never the simulator's controls"
    assert requests.post(cache.url + "/api/v1/queue", headers=auth, data=b"{}", timeout=5).status_code == 403
    health = requests.get(cache.url + "/api/v1/health", headers=auth, timeout=5)
    assert health.status_code == 200 and "X-Cache-Status" not in health.headers, "health is never cached"


def test_the_wall_turns_stale_when_the_api_behind_the_cache_stops(
    loop: qasync.QEventLoop, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sim = SimServer(region="kaltim", seed=11, speed=1, history_hours=0.5, start_time=time.time(), token=TOKEN_A)
    sim.start()
    proxy = NginxCache(tmp_path, f"127.0.0.1:{sim.port}").start()
    monkeypatch.setenv("WALLBOARD_API_TOKEN", TOKEN_A)
    # Backoff has full jitter up to the cap: after ~15 s down, a stream's next try could be 30 s away, longer than
    # the recovery this test waits for. A 4 s cap keeps "LIVE again when it returns" a matter of seconds.
    config = load_config(None, overrides={"api.backoff_max_s": "4"}, environ={})
    hub = FeedHub.for_api(config, MetricsEngine(kaltim_reference(), "kaltim", MetricsSettings()), SystemClock(),
                          base_url=proxy.url)  # fmt: skip
    live = ("calls", "units", "queue")

    def states() -> dict[str, Freshness]:
        health = hub.health()
        return {name: health[name].state for name in live}

    def run_until(predicate: Callable[[], bool], timeout: float) -> float:
        async def waiter() -> float:
            started = time.monotonic()
            while not predicate():
                if time.monotonic() - started > timeout:
                    raise AssertionError(f"not reached in {timeout} s: {states()}")
                await asyncio.sleep(0.05)
            return time.monotonic() - started

        return loop.run_until_complete(waiter())

    try:
        with loop:
            hub.start()
            run_until(lambda: all(s is Freshness.LIVE for s in states().values()), 15)
            loop.run_until_complete(asyncio.sleep(2.5))  # a few polls through the cache: still live
            assert all(s is Freshness.LIVE for s in states().values()), "a 1 s cache does not make the wall stale"

            sim.set_online(False)  # the CAD goes down; the cache keeps answering from its copies
            stopped_at = time.time()
            threshold = CACHE_AGE_ALLOWANCE_S + config.api.stale_after_intervals * config.api.poll_queue_s
            took = run_until(lambda: states()["queue"] is not Freshness.LIVE, threshold + 5)
            health = hub.health()["queue"]
            assert health.state is Freshness.STALE, "stale first (the last good figures stay, marked as such)"
            assert health.consecutive_failures == 0, "every poll was answered — by the cache, with an older copy"
            assert took <= threshold + 4
            run_until(lambda: states()["calls"] is not Freshness.LIVE and states()["units"] is not Freshness.LIVE, 15)

            sim.set_online(True)
            run_until(lambda: all(s is Freshness.LIVE for s in states().values()), 15)
            loop.run_until_complete(hub.stop())
    finally:
        hub.stop_sync()
        proxy.stop()
        sim.stop()
    served = [line for line in proxy.access_log.read_text().splitlines() if "cache=STALE" in line]
    ages = [int(m.group(1)) for line in served if (m := re.search(r" age=(\d+) ", line))]
    times = [line for line in served if _logged_at(line) >= int(stopped_at)]
    assert times and ages and max(ages) >= threshold, f"the cache served its copies with a growing Age: {ages}"


def _logged_at(line: str) -> float:
    match = re.search(r"\[(\S+)\]", line)
    return parse_rfc3339(match.group(1)) if match else 0.0
