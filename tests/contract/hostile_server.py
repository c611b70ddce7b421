"""The hostile dispatch API that found the defects of issue 13, as fixtures: each route is a function of the request
handler, so a test scripts exactly how the server misbehaves (trickled headers or error bodies, oversized or endless
pages, redirects to another host, records no CAD should send)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Route = Callable[[BaseHTTPRequestHandler, dict[str, str]], None]


@dataclass
class Hostile:
    url: str = ""
    routes: dict[str, Route] = field(default_factory=dict)
    seen: list[tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=list)  # path, query, headers

    def queries(self, path: str) -> list[dict[str, str]]:
        return [query for p, query, _ in self.seen if p == path]


def send(h: BaseHTTPRequestHandler, status: int, doc: Any = None, *, content_type: str = "application/json",
         **headers: str) -> None:  # fmt: skip
    body = b"" if doc is None else json.dumps(doc).encode()
    h.send_response(status)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(body)))
    for name, value in headers.items():
        h.send_header(name.replace("_", "-"), value)
    h.end_headers()
    h.wfile.write(body)


def page(items: list[Any], next_cursor: str = "c1", has_more: bool = False) -> Route:
    def route(h: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        send(h, 200, {"items": items, "next_cursor": next_cursor, "has_more": has_more,
                      "server_time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})  # fmt: skip

    return route


def trickle(h: BaseHTTPRequestHandler, data: bytes, every_s: float) -> None:
    """Write ``data`` a byte at a time: each read is quick, the whole answer never is."""
    try:
        for byte in data:
            h.wfile.write(bytes([byte]))
            h.wfile.flush()
            time.sleep(every_s)
    except OSError:
        pass  # the client gave up: what it should do


def slow_headers(every_s: float = 0.05) -> Route:
    def route(h: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + b"X-Padding: " + b"x" * 400 + b"\r\n\r\n"
        trickle(h, head, every_s)
        h.close_connection = True

    return route


def slow_error_body(status: int = 503, every_s: float = 0.05) -> Route:
    def route(h: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        body = json.dumps({"type": "about:blank", "title": "Service Unavailable", "status": status,
                           "detail": "x" * 2000}).encode()  # fmt: skip
        h.send_response(status)
        h.send_header("Content-Type", "application/problem+json")
        h.send_header("Content-Length", str(len(body)))
        h.send_header("Retry-After", "1")
        h.end_headers()
        trickle(h, body, every_s)
        h.close_connection = True

    return route


def redirect(target: str, status: int = 302) -> Route:
    def route(h: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        send(h, status, None, Location=target)

    return route


def _handler(hostile: Hostile) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            hostile.seen.append((url.path, query, dict(self.headers.items())))
            route = hostile.routes.get(url.path)
            if route is None:
                send(self, 404, {"type": "about:blank", "title": "Not Found", "status": 404},
                     content_type="application/problem+json")  # fmt: skip
                return
            route(self, query)

        def finish(self) -> None:
            try:
                super().finish()
            except (OSError, ValueError):
                pass

    return Handler


@contextmanager
def hostile_server() -> Iterator[Hostile]:
    hostile = Hostile()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hostile))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    hostile.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield hostile
    finally:
        server.shutdown()
        server.server_close()
