"""check-api against servers that break the exchange itself: it reports, it never hangs or dies with a traceback."""

from __future__ import annotations

import gc
import json
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

from tests.contract.hostile_server import hostile_server, send
from wallboard.feed.client import MAX_BODY_BYTES
from wallboard.feed.conformance import FAIL, Checker


def serve(handle: object) -> Iterator[str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    stop = threading.Event()

    def run() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=handle, args=(conn, stop), daemon=True).start()  # type: ignore[arg-type]

    threading.Thread(target=run, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    listener.close()


def trickle(conn: socket.socket, stop: threading.Event) -> None:
    """Headers at once, then a 100 kB body one byte every 0.1 s: each read is quick, the whole takes hours."""
    conn.recv(65536)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
    while not stop.is_set():
        try:
            conn.sendall(b" ")
        except OSError:
            return
        time.sleep(0.1)


def broken(conn: socket.socket, stop: threading.Event) -> None:
    """Promises 1000 bytes, sends 9 and closes (urllib3 raises its own error, not an OSError)."""
    conn.recv(65536)
    conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"items":')
    conn.close()


@pytest.fixture
def trickling() -> Iterator[str]:
    yield from serve(trickle)


@pytest.fixture
def breaking() -> Iterator[str]:
    yield from serve(broken)


def test_a_trickled_body_ends_at_the_overall_deadline(trickling: str) -> None:
    checker = Checker(trickling, timeout=(1.0, 0.5))
    started = time.monotonic()
    exchange = checker.get("/api/v1/health")
    assert time.monotonic() - started < 5, "one overall deadline (3 read timeouts), not one per byte"
    assert exchange.status == 0 and exchange.error and "TimeoutError" in exchange.error


def test_a_body_cut_short_is_reported_not_a_traceback(breaking: str) -> None:
    exchange = Checker(breaking, timeout=(1.0, 1.0)).get("/api/v1/health")
    assert exchange.status == 0 and exchange.error


# --- what a server can make the checker hold: bodies, documents, pages ---------------------------------------------


def big_page(n: int, *, has_more: bool, pad: int = 200_000) -> dict[str, Any]:
    """A page of five records padded to about 1 MB."""
    items = [{"id": f"c{n}-{k}", "rev": 1, "pad": "x" * pad} for k in range(5)]
    return {"items": items, "next_cursor": f"p{n}", "has_more": has_more, "server_time": "2026-11-22T10:00:00Z"}


def test_no_body_or_document_is_kept_once_its_checks_have_seen_it() -> None:
    with hostile_server() as api:
        pages = iter(range(10**6))

        def paged(h: Any, query: dict[str, str]) -> None:
            n = next(pages)
            send(h, 200, big_page(n, has_more=n < 29), ETag=f'"{n}"')

        api.routes["/api/v1/calls"] = paged
        checker = Checker(api.url, timeout=(1.0, 2.0))
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            _, cursor, problems, count = checker.page_through("calls")
            gc.collect()
            held = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    assert count == 30 and cursor == "p29" and not problems, "30 pages of 1 MB were read..."
    assert held < 2 * 2**20, f"...and {held / 2**20:.1f} MB of them are still held"
    checker.check_etags()
    assert "ETag on all 30 answers" in checker.report.checks[-1].evidence, "what the run-wide checks need is counted"


def test_a_body_over_the_cap_is_a_clear_fail_and_is_not_kept() -> None:
    with hostile_server() as api:
        huge = json.dumps({"items": [], "pad": "x" * (MAX_BODY_BYTES + 10)}).encode()

        def oversized(h: Any, query: dict[str, str]) -> None:  # no Content-Length: the cap bites while reading
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Connection", "close")
            h.end_headers()
            try:
                h.wfile.write(huge)
            except OSError:
                pass
            h.close_connection = True

        def declared(h: Any, query: dict[str, str]) -> None:  # a declared length over the cap is not even read
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(huge)))
            h.end_headers()
            h.close_connection = True

        api.routes["/api/v1/calls"] = oversized
        api.routes["/api/v1/units"] = declared
        checker = Checker(api.url, timeout=(1.0, 5.0))
        ex = checker.get("/api/v1/calls")
        assert ex.status == 200 and ex.body == b"" and ex.document is None and "larger than 20 MB" in ex.error
        read = checker.bytes_read
        assert MAX_BODY_BYTES < read < MAX_BODY_BYTES + 2 * 2**20, "reading stops just past the cap"
        assert checker.get("/api/v1/units").error and checker.bytes_read == read
    checker.check_sizes()
    check = checker.report.checks[-1]
    assert check.name == "size" and check.status == FAIL
    assert "GET /api/v1/calls: HTTP 200, body larger than 20 MB: a board refuses it" in check.evidence
    assert "(+1 more)" in check.evidence


def test_the_run_stops_asking_past_its_total_and_says_so() -> None:
    with hostile_server() as api:
        pages = iter(range(10**6))
        api.routes["/api/v1/calls"] = lambda h, q: send(h, 200, big_page(next(pages), has_more=True))
        checker = Checker(api.url, timeout=(1.0, 2.0), max_total_bytes=5 * 2**20)
        started = time.monotonic()
        _, _, problems, count = checker.page_through("calls")
        assert time.monotonic() - started < 20
    assert count <= 7 and len(api.seen) == count - 1, "the page over the total is not asked for"
    assert problems and "not asked: the API has sent more than 5 MB in this run" in problems[0]
    checker.check_sizes()
    size = checker.report.checks[-1]
    assert size.status == FAIL and "more than 5 MB in this run" in size.evidence


def test_ids_remembered_per_pass_are_bounded_in_number_and_length() -> None:
    with hostile_server() as api:
        pages = iter(range(10**6))

        def paged(h: Any, query: dict[str, str]) -> None:
            n = next(pages)
            items = [{"id": f"{n}-{k}-" + "y" * 100_000, "rev": 1} for k in range(10)]
            send(h, 200, {"items": items, "next_cursor": f"p{n}", "has_more": True,
                          "server_time": "2026-11-22T10:00:00Z"})  # fmt: skip

        api.routes["/api/v1/calls"] = paged
        checker = Checker(api.url, timeout=(1.0, 2.0), max_tracked_ids=35)
        summary, _, problems, count = checker.page_through("calls")
    assert count == 4 and len(summary.latest) == 40
    assert problems == ["/api/v1/calls: more than 35 distinct ids in one pass: the checker remembers no more, and "
                        "stopped paging there"]  # fmt: skip
    assert max(map(len, summary.latest)) < 200, "a 100 kB id is remembered by its digest"


# --- the overall deadline covers the whole exchange, not only the body --------------------------------------------


def trickled_headers(conn: socket.socket, stop: threading.Event) -> None:
    """The status line and headers one byte every 0.05 s: 450 bytes, 22 s."""
    conn.recv(65536)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: " + b"x" * 400 + b"\r\n\r\n"
    for byte in head:
        if stop.is_set():
            return
        try:
            conn.sendall(bytes([byte]))
        except OSError:
            return
        time.sleep(0.05)


def silent(conn: socket.socket, stop: threading.Event) -> None:
    """Accepts, reads the request (or the TLS ClientHello), never answers."""
    conn.recv(65536)
    stop.wait(30)


@pytest.mark.parametrize(("handler", "scheme"), [(trickled_headers, "http"), (silent, "https")],
                         ids=["trickled-headers", "silent-tls-handshake"])  # fmt: skip
def test_every_part_of_an_exchange_is_inside_the_overall_deadline(handler: object, scheme: str) -> None:
    for url in serve(handler):
        checker = Checker(url.replace("http:", f"{scheme}:"), timeout=(20.0, 0.5))  # deadline 1.5 s
        started = time.monotonic()
        exchange = checker.get("/api/v1/health")
        assert time.monotonic() - started < 3.0
        assert exchange.status == 0 and "TimeoutError" in exchange.error and "1.5 s" in exchange.error
