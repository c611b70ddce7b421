"""Interoperability with code that is not ours: the board's feed, `wallboard record` and `wallboard check-api` against
a second implementation of the contract (tests/contract/independent_server.py), and `check-api` against broken
variants of it, each caught by the check named for the breach."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.contract.independent_server import Dispatch, IndependentServer, running
from wallboard.config import ApiConfig
from wallboard.core import records
from wallboard.core.metrics import MetricsEngine, MetricsSettings
from wallboard.core.model import Tier
from wallboard.core.snapshot import Window
from wallboard.feed.client import DispatchClient, ServiceUnavailableError
from wallboard.feed.conformance import FAIL, PASS, Report, check_api
from wallboard.feed.sync import StreamSync, cursor_scope_for
from wallboard.resources import all_poldas

TOKEN = "indep-9c1e55aa"


@pytest.fixture(scope="module")
def world() -> Dispatch:
    return Dispatch.generate(time.time())


@pytest.fixture(scope="module")
def server(world: Dispatch) -> Iterator[IndependentServer]:
    with running(world, token=TOKEN) as srv:
        yield srv


def catch_up(sync: StreamSync, engine: MetricsEngine) -> None:
    for stream in ("reference", "calls", "units", "queue"):
        for _ in range(50):
            result = sync.fetch(stream)
            assert not result.failures and not result.invalid, (result.failures, result.invalid[:3])
            for record in result.all_records():
                records.apply(engine, record)
            sync.commit(result.cursors)
            if not result.has_more:
                break


def test_the_board_pipeline_gets_every_figure_right(server: IndependentServer, world: Dispatch) -> None:
    client = DispatchClient(server.url, ApiConfig(), TOKEN)
    sync = StreamSync(client, "kaltim", time.time, cursor_scope=cursor_scope_for(server.url))
    engine = MetricsEngine(all_poldas(), "kaltim", MetricsSettings(tz="Asia/Makassar"))
    catch_up(sync, engine)
    first = next(path for path in server.requests if path.startswith("/api/v1/calls"))
    assert "cursor" not in first, "the first request carries no cursor"
    assert len(engine.calls) == len(world.calls) and len(engine.incidents) == len(world.incidents)
    assert len(engine.units) == len(world.units)

    now = world.now + 1
    snapshot = engine.snapshot(now, Window.TODAY)
    by_polres = {r.unit_id: r for r in snapshot.response_by_polres}
    for polres_id in ("64.71", "64.72", "64.02"):
        times = sorted(i["on_scene_at"] - i["call_received_at"] for i in world.incidents.values()
                       if i["polres_id"] == polres_id and i["on_scene_at"] is not None)  # fmt: skip
        stats = by_polres[polres_id]
        assert stats.count == len(times) > 3
        assert stats.median_s == pytest.approx(statistics.median(times), abs=0.002)
        assert stats.p90_s == pytest.approx(statistics.quantiles(times, n=10, method="inclusive")[8], abs=0.002)
    today = snapshot.tiers[Window.TODAY]
    assert today.received == len(world.calls)
    for tier in (Tier.POLRES, Tier.POLDA):
        assert today.answered_by_tier[tier] == sum(1 for c in world.calls.values() if c["answered_tier"] == tier.value)
    assert today.abandoned == sum(1 for c in world.calls.values() if c["abandoned_at"] is not None)

    # A change on the server arrives on the next poll, through the opaque cursor the server gave.
    changed = next(iter(world.units))
    server.change("units", changed, status="on_scene")
    result = sync.fetch("units")
    assert [(u.id, u.status.value) for u in result.records] == [(changed, "on_scene")]  # type: ignore[union-attr]


def test_a_cursor_the_server_no_longer_honours_restarts_from_none_once(server: IndependentServer) -> None:
    client = DispatchClient(server.url, ApiConfig(), TOKEN)
    sync = StreamSync(client, "kaltim", time.time, cursor_scope="x")
    sync.restore_cursors({"x:units": "ix_forgotten-long-ago"})
    before = len(server.requests)
    result = sync.fetch("units")
    asked = server.requests[before:]
    assert "cursor=ix_forgotten" in asked[0] and "cursor" not in asked[1], "dropped, then from no cursor"
    assert len(result.records) == len(server.world.units)


def test_retry_after_as_an_http_date_is_understood(server: IndependentServer) -> None:
    server.overloaded = 1
    with pytest.raises(ServiceUnavailableError) as caught:
        DispatchClient(server.url, ApiConfig(), TOKEN).fetch("/api/v1/queue")
    assert caught.value.retry_after_s is not None and 0 < caught.value.retry_after_s <= 3


def test_wallboard_record_works_against_it(server: IndependentServer, tmp_path: Path) -> None:
    out = tmp_path / "feed.ndjson"
    env = {**os.environ, "WALLBOARD_API_TOKEN": TOKEN}
    result = subprocess.run(
        [sys.executable, "-m", "wallboard", "record", "--out", str(out), "--api-url", server.url, "--minutes", "0.04",
         "--log-level", "WARNING"], capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()[1:]]
    streams = {line["stream"] for line in lines}
    assert streams == {"reference", "calls", "incidents", "units", "queue"}
    assert sum(1 for line in lines if line["stream"] == "calls") >= len(server.world.calls)
    assert "invalid" not in result.stderr


@pytest.fixture(scope="module")
def report(server: IndependentServer) -> Report:
    return check_api(server.url, TOKEN, polda="kaltim")


def test_check_api_passes_against_the_independent_implementation(report: Report) -> None:
    failed = [f"{c.name}: {c.evidence}" for c in report.checks if c.status != PASS]
    assert failed == []
    assert report.passed and report.requests > 30


#: Each breach of the contract, and the check that must catch it.
BREACHES = [
    ("health_bad", "health"),
    ("no_polda", "get:reference"),
    ("queue_500", "get:queue"),
    ("oversize_page", "paging:calls"),
    ("has_more_stuck", "paging:calls"),
    ("dup", "duplicates:calls"),
    ("gap", "gaps:calls"),
    ("rev_back", "revisions:calls"),
    ("resume_back", "resume:calls"),
    ("no_etag", "etag"),
    ("no_304", "etag"),
    ("cursor_lax", "problem:bad-cursor"),
    ("long_cursor_ok", "problem:long-cursor"),
    ("limit_lax", "problem:bad-limit"),
    ("limit_loose_int", "problem:strict-integer"),
    ("polda_lax", "problem:unknown-polda"),
    ("html_404", "problem:not-found"),
    ("no_allow", "problem:method-not-allowed"),
    ("no_www_auth", "problem:missing-token"),
    ("schema_health", "schema:health"),
    ("schema_reference", "schema:reference"),
    ("schema_calls", "schema:calls"),
    ("schema_incidents", "schema:incidents"),
    ("schema_units", "schema:units"),
    ("schema_queue", "schema:queue"),
    ("huge_queue", "size"),
    ("no_offset", "timestamps"),
    ("skew", "clock"),
    ("slow", "latency"),
    ("cache_stream", "caching:streams"),
    ("cache_reference", "caching:reference"),
    ("cache_health", "caching:health"),
    ("cache_error", "caching:errors"),
    ("no_vary", "caching:vary"),
    ("no_date", "caching:date"),
]


def test_every_check_has_a_breach() -> None:
    caught = {name for _, name in BREACHES}
    with running(Dispatch.generate(time.time(), calls=5), token=TOKEN) as srv:
        # The stream checks run the same code for each stream: a breach on calls stands for all three.
        checked = {c.name.replace(":incidents", ":calls").replace(":units", ":calls")
                   for c in check_api(srv.url, TOKEN).checks}  # fmt: skip
    assert checked <= caught, f"checks without a breach in BREACHES: {sorted(checked - caught)}"


@pytest.mark.parametrize(("variant", "check"), BREACHES, ids=[v for v, _ in BREACHES])
def test_check_api_catches_each_breach(variant: str, check: str) -> None:
    with running(Dispatch.generate(time.time(), calls=60), token=TOKEN, variants=frozenset({variant})) as srv:
        report = check_api(srv.url, TOKEN, limit=20)
    by_name = {c.name: c for c in report.checks}
    assert by_name[check].status == FAIL, f"{check} did not catch {variant}: {by_name[check].evidence}"
    assert not report.passed
