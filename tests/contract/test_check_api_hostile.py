"""check-api against servers that break the exchange itself: it reports, it never hangs or dies with a traceback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from wallboard.feed.conformance import Checker


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
