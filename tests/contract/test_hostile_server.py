"""Each defect the hostile server of issue 13 found, as a test against that server (tests/contract/hostile_server.py).

The board must stay bounded and honest whatever the server does: a deadline per request, no redirects, no page
larger than asked for, a bounded number of pages per poll, no cursor it was not given, no endless retry of a refused
cursor, one failing resource never stopping another, and `record` surviving any record.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.contract.hostile_server import (
    Hostile,
    hostile_server,
    page,
    redirect,
    send,
    slow_error_body,
    slow_headers,
    trickle,
)
from wallboard.config import ApiConfig, load_config
from wallboard.core.model import Call, CallCategory, Tier
from wallboard.core.timeutil import SystemClock
from wallboard.core.wire import call_to_wire
from wallboard.feed import sync as sync_module
from wallboard.feed.client import (
    ContractError,
    DispatchClient,
    FeedTimeoutError,
    HttpStatusError,
    RedirectError,
    ServiceUnavailableError,
)
from wallboard.feed.ndjson import FeedReader, FeedWriter
from wallboard.feed.record import record_feed
from wallboard.feed.sync import PAGE_LIMIT, StreamSync, cursor_scope_for

FAST = ApiConfig(connect_timeout_s=0.5, read_timeout_s=0.5)  # overall deadline: 3 × 0.5 s
# For tests about what is asked, not about time: a loaded CI machine may take more than 1.5 s to answer.
PATIENT = ApiConfig(connect_timeout_s=3, read_timeout_s=3)
TOKEN = "hostile-test-7d1f0c"


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    with hostile_server() as server:
        yield server


def unit(n: int) -> dict[str, Any]:
    return {"id": f"u{n}", "rev": 1, "callsign": f"U{n}", "polres_id": "64.71", "kind": "R2", "status": "available",
            "fix": None, "incident_id": None}  # fmt: skip


def call(n: int, **fields: Any) -> dict[str, Any]:
    c = Call(f"c{n}", 1, "64.71", time.time() - 600 + n, Tier.POLRES, (), None, None, None, CallCategory.UNKNOWN)
    return {**call_to_wire(c), **fields}


# --- slow answers: one overall deadline, success or error ---------------------------------------------------------


def test_slowly_trickled_headers_hit_the_overall_deadline(hostile: Hostile) -> None:
    hostile.routes["/api/v1/queue"] = slow_headers(every_s=0.05)  # 450 bytes at 20 a second: 22 s
    started = time.monotonic()
    with pytest.raises(FeedTimeoutError, match="too slow"):
        DispatchClient(hostile.url, FAST).fetch("/api/v1/queue")
    assert time.monotonic() - started < 3.0


def test_a_slowly_trickled_error_body_cannot_hold_the_poll(hostile: Hostile) -> None:
    hostile.routes["/api/v1/queue"] = slow_error_body(503, every_s=0.05)  # 2 KB at 20 bytes a second: 100 s
    started = time.monotonic()
    with pytest.raises(ServiceUnavailableError) as caught:
        DispatchClient(hostile.url, FAST).fetch("/api/v1/queue")
    assert time.monotonic() - started < 3.0
    assert caught.value.status == 503 and caught.value.retry_after_s == 1.0, "the status still counts"


def test_a_body_cut_by_the_deadline_is_never_taken_for_the_answer(hostile: Hostile) -> None:
    def whole_then_trickled(h: Any, query: dict[str, str]) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Connection", "close")  # no length: the end of the body is the end of the connection
        h.end_headers()
        h.wfile.write(json.dumps({"as_of": "2026-11-22T10:00:00Z", "entries": []}).encode())
        h.wfile.flush()
        trickle(h, b" " * 100, every_s=0.4)  # each read in time; the watchdog shuts the socket between two
        h.close_connection = True

    hostile.routes["/api/v1/queue"] = whole_then_trickled
    started = time.monotonic()
    with pytest.raises(FeedTimeoutError, match="too slow"):
        DispatchClient(hostile.url, FAST).fetch("/api/v1/queue")
    assert time.monotonic() - started < 3.0


# --- TLS handshakes that never end: the deadline covers connect and handshake too ------------------------------------

#: A connect timeout far longer than the overall deadline (3 × 0.5 s): the handshake must not borrow it.
SLOW_CONNECT = ApiConfig(connect_timeout_s=20.0, read_timeout_s=0.5)


@pytest.fixture
def tls_listener() -> Iterator[tuple[socket.socket, threading.Event]]:
    """A TCP listener for an https:// URL; the test's handler thread decides what the "TLS server" sends."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    stop = threading.Event()
    yield listener, stop
    stop.set()
    listener.close()


def serve_handshake(listener: socket.socket, stop: threading.Event, *, trickle_every_s: float | None) -> None:
    def run() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)  # the ClientHello
            if trickle_every_s is None:
                stop.wait(30)  # accepted, and not a byte more
                return
            conn.sendall(b"\x16\x03\x03\x40\x00")  # a handshake record of 16 kB announced...
            while not stop.is_set():  # ...and delivered a byte at a time: every read is quick, the record never ends
                try:
                    conn.sendall(b"\x02")
                except OSError:
                    return
                stop.wait(trickle_every_s)

    threading.Thread(target=run, daemon=True).start()


@pytest.mark.parametrize("trickle_every_s", [None, 0.2], ids=["silent", "trickled"])
def test_a_tls_handshake_that_never_completes_hits_the_overall_deadline(
    tls_listener: tuple[socket.socket, threading.Event], trickle_every_s: float | None
) -> None:
    listener, stop = tls_listener
    serve_handshake(listener, stop, trickle_every_s=trickle_every_s)
    client = DispatchClient(f"https://127.0.0.1:{listener.getsockname()[1]}", SLOW_CONNECT)
    started = time.monotonic()
    with pytest.raises(FeedTimeoutError, match=r"too slow.*TLS handshake.*1\.5 s"):
        client.fetch("/api/v1/queue")
    assert time.monotonic() - started < 3.0, "the handshake is inside the deadline, not under the connect timeout"


def test_the_deadline_holds_through_an_http_proxy(hostile: Hostile, monkeypatch: pytest.MonkeyPatch) -> None:
    """A command room's proxy (HTTP_PROXY) stands between the board and the API: its connections are watched too."""
    hostile.routes["/api/v1/queue"] = slow_headers(every_s=0.05)  # the "proxy" trickles the answer: 22 s
    monkeypatch.setenv("HTTP_PROXY", hostile.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    started = time.monotonic()
    with pytest.raises(FeedTimeoutError, match="too slow"):
        DispatchClient("http://cad.example.invalid", FAST).fetch("/api/v1/queue")
    assert time.monotonic() - started < 3.0
    assert hostile.queries("/api/v1/queue"), "the request went through the proxy"


def test_a_name_lookup_that_hangs_ends_at_the_deadline_and_costs_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    lookups: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def hanging(host: str, *args: Any, **kwargs: Any) -> Any:
        if host != "cad.hangs.example":
            return real_getaddrinfo(host, *args, **kwargs)
        lookups.append(host)
        release.wait(30)  # a resolver that does not answer
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    client = DispatchClient("http://cad.hangs.example", FAST)
    try:
        for _ in range(3):
            started = time.monotonic()
            with pytest.raises(FeedTimeoutError, match="too slow"):
                client.fetch("/api/v1/queue")
            assert time.monotonic() - started < 3.0
        assert lookups == ["cad.hangs.example"], "the polls wait for the one lookup under way, not one thread each"
    finally:
        release.set()


# --- redirects -----------------------------------------------------------------------------------------------------


def test_a_redirect_is_reported_with_its_target_and_never_followed(hostile: Hostile) -> None:
    with hostile_server() as elsewhere:
        elsewhere.routes["/api/v1/queue"] = lambda h, q: send(h, 200, {"as_of": "2026-11-22T10:00:00Z", "entries": []})
        hostile.routes["/api/v1/queue"] = redirect(f"{elsewhere.url}/api/v1/queue?secret=1")
        with pytest.raises(RedirectError) as caught:
            DispatchClient(hostile.url, FAST, TOKEN).fetch("/api/v1/queue")
        assert elsewhere.seen == [], "the other host is never asked, so it never sees the token"
    message = str(caught.value)
    assert "302" in message and elsewhere.url in message and "api.url" in message
    assert "secret" not in message, "the target's query is not repeated"


# --- oversized and endless pages ----------------------------------------------------------------------------------


def test_a_page_larger_than_the_limit_asked_for_is_a_protocol_error_and_not_stored(hostile: Hostile) -> None:
    hostile.routes["/api/v1/units"] = page([unit(n) for n in range(PAGE_LIMIT + 1)])
    sync = StreamSync(DispatchClient(hostile.url, FAST), None, time.time)
    with pytest.raises(ContractError, match=f"{PAGE_LIMIT + 1} items on a page asked for at most {PAGE_LIMIT}"):
        sync.fetch("units")
    assert sync.cursors() == {}


def test_endless_pages_are_fetched_a_bounded_number_per_poll(hostile: Hostile) -> None:
    counter = iter(range(10**6))

    def endless(h: Any, query: dict[str, str]) -> None:
        n = next(counter)
        page([call(n * 10 + k) for k in range(10)], next_cursor=f"p{n}", has_more=True)(h, query)

    hostile.routes["/api/v1/calls"] = endless
    hostile.routes["/api/v1/incidents"] = page([])
    sync = StreamSync(DispatchClient(hostile.url, FAST), None, time.time)
    result = sync.fetch("calls")
    assert len(hostile.queries("/api/v1/calls")) == sync_module.MAX_PAGES_PER_FETCH
    assert result.has_more, "the rest comes on the next poll, at once: the GUI applies each poll in between"
    assert len(result.records) == 10 * sync_module.MAX_PAGES_PER_FETCH


# --- cursors ---------------------------------------------------------------------------------------------------------


def test_the_first_request_carries_no_cursor_and_only_given_cursors_are_sent_back(hostile: Hostile) -> None:
    hostile.routes["/api/v1/calls"] = page([call(1)], next_cursor="opaque-Zx9")
    hostile.routes["/api/v1/incidents"] = page([], next_cursor="inc-A")
    sync = StreamSync(DispatchClient(hostile.url, FAST), None, time.time)
    sync.commit(sync.fetch("calls").cursors)
    sync.fetch("calls")
    calls = hostile.queries("/api/v1/calls")
    assert "cursor" not in calls[0], "no cursor=0: the contract says an absent cursor means from the beginning"
    assert calls[1]["cursor"] == "opaque-Zx9"
    assert [q.get("cursor") for q in hostile.queries("/api/v1/incidents")] == [None, "inc-A"]


def test_a_refused_cursor_restarts_from_none_once_never_a_loop(
    hostile: Hostile, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse_cursors(h: Any, query: dict[str, str]) -> None:
        if "cursor" in query:
            send(h, 400, {"type": "about:blank", "title": "Bad Request", "status": 400,
                          "detail": "cursor expired"}, content_type="application/problem+json")  # fmt: skip
        else:
            page([unit(1)], next_cursor="fresh")(h, query)

    hostile.routes["/api/v1/units"] = refuse_cursors
    sync = StreamSync(DispatchClient(hostile.url, PATIENT), None, time.time, cursor_scope="s")
    sync.restore_cursors({"s:units": "stale-cursor"})
    result = sync.fetch("units")
    assert [q.get("cursor") for q in hostile.queries("/api/v1/units")] == ["stale-cursor", None]
    assert result.cursors == {"units": "fresh"} and len(result.records) == 1
    assert "refused our cursor" in caplog.text and "starting again from the beginning" in caplog.text

    problem = {"type": "about:blank", "title": "Bad Request", "status": 400}
    hostile.routes["/api/v1/units"] = lambda h, q: send(h, 400, problem, content_type="application/problem+json")
    hostile.seen.clear()
    sync.commit(result.cursors)
    with pytest.raises(HttpStatusError, match="HTTP 400"):  # reported, not retried
        sync.fetch("units")
    assert len(hostile.queries("/api/v1/units")) == 2, "one retry without the cursor, no loop"


def test_cursors_are_kept_per_api_url() -> None:
    a, b = cursor_scope_for("https://cad-a.example"), cursor_scope_for("https://cad-b.example/")
    assert a != b and a == cursor_scope_for("https://cad-a.example/")
    first = StreamSync(DispatchClient("https://cad-a.example", FAST), None, cursor_scope=a)
    first.commit({"calls": "A-41"})
    saved = first.cursors()
    assert list(saved) == [f"{a}:calls"]
    other = StreamSync(DispatchClient("https://cad-b.example", FAST), None, cursor_scope=b)
    other.restore_cursors(saved)
    assert other.cursors() == {}, "a board pointed at another server starts clean"
    same = StreamSync(DispatchClient("https://cad-a.example", FAST), None, cursor_scope=a)
    same.restore_cursors(saved)
    assert same.cursors() == saved


# --- one stream failing never stops another -------------------------------------------------------------------------


def test_failing_calls_never_stop_incidents_being_polled(hostile: Hostile) -> None:
    hostile.routes["/api/v1/calls"] = lambda h, q: send(h, 500, {"title": "boom", "status": 500, "type": "about:blank"},
                                                        content_type="application/problem+json")  # fmt: skip
    incident = {"id": "i1", "rev": 1, "polres_id": "64.71", "call_id": None, "priority": 1, "kind": "KDRT",
                "call_received_at": "2026-11-22T10:00:00Z", "location": None, "dispatched_at": None,
                "en_route_at": None, "on_scene_at": None, "closed_at": None, "unit_ids": []}  # fmt: skip
    hostile.routes["/api/v1/incidents"] = page([incident], next_cursor="i-1")
    sync = StreamSync(DispatchClient(hostile.url, FAST), None)
    for _ in range(3):
        result = sync.fetch("calls")
        assert "HTTP 500" in result.failures["calls"] or "waiting" in result.failures["calls"]
        sync.commit(result.cursors)
    assert len(hostile.queries("/api/v1/incidents")) == 3, "incidents polled every time"
    assert len(hostile.queries("/api/v1/calls")) == 1, "calls wait out their own back-off meanwhile"
    assert sync.cursors() == {"incidents": "i-1"}


# --- hostile records ------------------------------------------------------------------------------------------------


def test_record_survives_hostile_records(hostile: Hostile, tmp_path: Path) -> None:
    hostile.routes["/api/v1/calls"] = page([
        call(1, rev=2**63),            # beyond SQLite's integer
        call(2, id="c\ud800"),         # a lone surrogate: no UTF-8 can hold it
        call(3, received_at="0001-01-01T00:00:00+08:00"),
        call(4, received_at="9999-12-31T00:00:00+08:00"),
        call(5),
    ], next_cursor="c-5")  # fmt: skip
    hostile.routes["/api/v1/incidents"] = page([])
    hostile.routes["/api/v1/units"] = page([])
    hostile.routes["/api/v1/queue"] = lambda h, q: send(h, 200, {"as_of": "2026-11-22T10:00:00Z", "entries": []})
    hostile.routes["/api/v1/reference"] = lambda h, q: send(h, 404, None)
    config = load_config(overrides={"api.poll_calls_s": "0.2", "api.poll_units_s": "0.2", "api.poll_queue_s": "0.2"})
    sync = StreamSync(DispatchClient(hostile.url, config.api), None, time.time)
    out = tmp_path / "hostile.ndjson"
    writer = FeedWriter(out, tz="Asia/Makassar", polda_id=None, source=hostile.url)
    stop = threading.Event()
    try:
        record_feed(sync, writer, SystemClock(), config, stop, time.monotonic() + 1.0)
    finally:
        writer.close()
    ids = {line.record.id for line in FeedReader(out) if line.stream == "calls"}  # type: ignore[union-attr]
    assert "c5" in ids, "the good record is recorded"
    assert "c3" not in ids and "c4" not in ids, "year 0001 and 9999 are refused at the wire"
    assert "c\ud800" not in ids


# --- stopping `record` while a slow server holds a request -----------------------------------------------------------


def slow_after_first(hostile: Hostile) -> None:
    """Calls answer once at once, then trickle their headers (a 30 s deadline away); the other resources answer."""
    answered = iter(range(10**6))

    def calls(h: Any, query: dict[str, str]) -> None:
        if next(answered) == 0:
            page([call(1)], next_cursor="c-1")(h, query)
        else:
            slow_headers(every_s=0.1)(h, query)

    hostile.routes["/api/v1/calls"] = calls
    hostile.routes["/api/v1/incidents"] = page([])
    hostile.routes["/api/v1/units"] = page([unit(1)])
    hostile.routes["/api/v1/queue"] = lambda h, q: send(h, 200, {"as_of": "2026-11-22T10:00:00Z", "entries": []})
    hostile.routes["/api/v1/reference"] = lambda h, q: send(h, 404, None)


def wait_for_slow_call(hostile: Hostile) -> None:
    deadline = time.monotonic() + 10
    while len(hostile.queries("/api/v1/calls")) < 2:
        assert time.monotonic() < deadline, "the recorder never asked for calls a second time"
        time.sleep(0.02)
    time.sleep(0.3)  # well inside the trickled headers


def assert_whole(out: Path) -> None:
    text = out.read_text(encoding="utf-8")
    assert text.endswith("\n"), "the last line is whole"
    reader = FeedReader(out)
    lines = list(reader)
    assert reader.problems == []
    assert {line.record.id for line in lines if line.stream == "calls"} == {"c1"}  # type: ignore[union-attr]


def test_record_stops_within_a_second_while_a_request_is_held(hostile: Hostile, tmp_path: Path) -> None:
    slow_after_first(hostile)
    config = load_config(overrides={"api.poll_calls_s": "0.2", "api.read_timeout_s": "10"})  # deadline: 30 s
    sync = StreamSync(DispatchClient(hostile.url, config.api), None, time.time)
    out = tmp_path / "stopped.ndjson"
    writer = FeedWriter(out, tz="Asia/Makassar", polda_id=None, source=hostile.url)
    stop = threading.Event()
    finished: list[float] = []

    def run() -> None:
        record_feed(sync, writer, SystemClock(), config, stop, None)
        finished.append(time.monotonic())

    recorder = threading.Thread(target=run, daemon=True)
    recorder.start()
    wait_for_slow_call(hostile)
    stopped_at = time.monotonic()
    stop.set()
    recorder.join(5)
    writer.close()
    assert finished and finished[0] - stopped_at < 1.0, "stopped during the request, not at its deadline"
    assert_whole(out)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_record_command_stops_on_a_signal_during_a_held_request(
    hostile: Hostile, tmp_path: Path, signum: signal.Signals
) -> None:
    slow_after_first(hostile)
    out = tmp_path / "signalled.ndjson"
    process = subprocess.Popen(
        [sys.executable, "-m", "wallboard", "record", "--out", str(out), "--api-url", hostile.url,
         "--set", "api.poll_calls_s=0.2", "--set", "api.read_timeout_s=10", "--log-level", "WARNING"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for_slow_call(hostile)
        signalled_at = time.monotonic()
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=10)
        took = time.monotonic() - signalled_at
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert took < 1.5, f"stopped {took:.1f} s after the signal"
    assert "recorded" in stdout
    assert_whole(out)
