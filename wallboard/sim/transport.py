"""The simulator's HTTP transport: a ThreadingHTTPServer handler that turns each exchange into a
:class:`~wallboard.sim.routes.Request` for :class:`~wallboard.sim.routes.Routes`, writes the response, and breaks
``/api/v1`` answers in the fault modes client tests need (switchable at run time through ``/sim/faults``).
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from collections.abc import Callable, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

from wallboard import __version__
from wallboard.core.wire import shift_times
from wallboard.sim.routes import FaultControls, Request, Response, Routes, problem

log = logging.getLogger(__name__)

FAULT_MODES = (
    "error500",
    "error503",
    "hang",
    "slow",
    "malformed",
    "missing_fields",
    "wrong_types",
    "reset",
    "clock_offset",
    "huge",
)
HANG_S = 15.0
SLOW_S = 3.0
HUGE_BYTES = 50 * 1024 * 1024
MAX_REQUEST_BODY = 64 * 1024


def parse_faults(modes: Sequence[str]) -> dict[str, float]:
    """``["error503", "clock_offset=600"]`` → ``{"error503": 1.0, "clock_offset": 600.0}``. Raises ValueError."""
    out: dict[str, float] = {}
    for text in modes:
        name, _, value = text.partition("=")
        name = name.strip()
        if name not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {name!r} (known: {', '.join(FAULT_MODES)})")
        out[name] = float(value) if value else (600.0 if name == "clock_offset" else 1.0)
    return out


def corrupt(items: list[dict[str, Any]], mode: str) -> list[dict[str, Any]]:
    """Every third record loses fields (``missing_fields``) or gets values of the wrong type (``wrong_types``)."""
    out = []
    for i, item in enumerate(items):
        item = dict(item)
        if i % 3 == 0:
            if mode == "missing_fields":
                item.pop("polres_id", None)
                item.pop("rev", None)
            else:
                item["rev"] = "seven"
                if "received_at" in item:
                    item["received_at"] = 1234567
                if isinstance(item.get("fix"), dict):
                    item["fix"] = {**item["fix"], "lat": "north"}
        out.append(item)
    return out


def with_body_faults(response: Response, faults: dict[str, float]) -> Response:
    """A 200 answer as the ``clock_offset``, ``missing_fields`` and ``wrong_types`` faults change its document."""
    doc = response.document
    if "clock_offset" in faults:
        doc = shift_times(doc, faults["clock_offset"])
    for mode in ("missing_fields", "wrong_types"):
        if mode in faults and isinstance(doc, dict) and isinstance(doc.get("items"), list):
            doc = {**doc, "items": corrupt(doc["items"], mode)}
    return Response(response.status, response.headers, doc, response.api)


def make_handler(
    routes: Routes, controls: FaultControls, online: Callable[[], bool], stopping: threading.Event
) -> type[BaseHTTPRequestHandler]:
    """A request handler class serving ``routes``; ``online()`` false drops connections, ``stopping`` ends hangs."""

    class Handler(BaseHTTPRequestHandler):
        server_version = f"wallboard-sim/{__version__}"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            log.debug("%s %s", self.address_string(), format % args)

        def handle_one_request(self) -> None:
            # Offline: a kept-alive connection is dropped without an answer, as a server that went away drops it.
            if not online():
                self.close_connection = True
                return
            super().handle_one_request()

        def __getattr__(self, name: str) -> Callable[[], None]:
            # Every method, GET or TRACE or one the stdlib never heard of, goes to the routes, which answer 405/404
            # problem documents instead of the stdlib's 501 HTML page.
            if name.startswith("do_"):
                return self._exchange
            raise AttributeError(name)

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            # Malformed request lines, over-long headers and the like: a problem document too, not HTML.
            self.close_connection = True
            detail = explain or message or HTTPStatus(code).description
            if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
                self.request_version = "HTTP/1.1"  # an unparsed request line: answer in HTTP/1.1, with headers
            path = str(getattr(self, "path", "") or "/").split("?", 1)[0]
            try:
                self._write(problem(code, detail, path))
            except OSError:
                pass

        # --- one exchange ------------------------------------------------------------------------------------------

        def _exchange(self) -> None:
            # Checked again once the request line has arrived: a kept-alive connection may have been waiting in
            # handle_one_request when the API went offline, and a server that went away answers nothing.
            if not online():
                self.close_connection = True
                return
            request = Request.of(self.command, self.path, self.headers.items(), self._read_body())
            response = routes.handle(request)
            if response.api and self._transport_fault(request):
                return
            faults = controls.faults if response.api else {}
            if response.status == 200 and faults:
                if "huge" in faults:
                    self._send_huge(response)
                    return
                response = with_body_faults(response, faults)
            body = response.body()
            if response.status == 200 and "malformed" in faults:
                body = body[: max(1, len(body) // 2)]
            self._write(response, body)

        def _read_body(self) -> bytes:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if self.headers.get("Transfer-Encoding") or not 0 <= length <= MAX_REQUEST_BODY:
                self.close_connection = True  # a body we will not read: the connection cannot be reused
                return b""
            return self.rfile.read(length) if length else b""

        def _write(self, response: Response, body: bytes | None = None) -> None:
            body = response.body() if body is None else body
            self.send_response(response.status)  # also sends Date and Server
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if getattr(self, "command", None) != "HEAD" and body:
                self.wfile.write(body)

        def _transport_fault(self, request: Request) -> bool:
            """Faults that break the exchange itself. True if the request has been dealt with."""
            faults = controls.faults
            if "slow" in faults:
                time.sleep(SLOW_S)
            if "hang" in faults:
                stopping.wait(HANG_S)
                self.close_connection = True
                return True
            if "reset" in faults:
                # SO_LINGER 0: close() sends a TCP RST, as a crashed proxy would.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                return True
            if "error500" in faults:
                self._write(problem(500, "simulated internal error", request.path, {"Vary": "Authorization"}))
                return True
            if "error503" in faults:
                self._write(problem(503, "simulated overload, retry later", request.path,
                                    {"Retry-After": "2", "Vary": "Authorization"}))  # fmt: skip
                return True
            return False

        def _send_huge(self, response: Response) -> None:
            chunk = b"x" * 65536
            prefix, suffix = b'{"items":[],"has_more":false,"next_cursor":"0","padding":"', b'"}'
            self.send_response(200)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(prefix) + len(suffix) + HUGE_BYTES))
            self.end_headers()
            try:
                self.wfile.write(prefix)
                for _ in range(HUGE_BYTES // len(chunk)):
                    self.wfile.write(chunk)
                self.wfile.write(suffix)
            except OSError:
                pass  # the client gave up reading: that is what it should do

    return Handler
