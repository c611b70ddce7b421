"""The simulated dispatch API: a real HTTP server speaking resources/openapi/dispatch-api.yaml.

``wallboard simulate`` runs it standalone; ``wallboard demo`` starts it in-process on a free localhost port and uses
its clock as the board's clock. Fault modes (switchable at start with ``--fault`` and at run time with
``POST /sim/faults``) let client tests meet every way a real CAD API misbehaves.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
import math
import random
import socket
import struct
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wallboard import __version__
from wallboard.core import records
from wallboard.core.model import Call, Incident, Polres, Unit
from wallboard.core.reference import KALTIM_POLDA_ID, ReferenceData
from wallboard.core.timeutil import ScaledClock, format_rfc3339
from wallboard.core.wire import queue_to_wire, reference_to_wire, shift_times
from wallboard.resources import all_poldas, kaltim_reference, read_json
from wallboard.sim.world import World, areas_from_geojson

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
DEFAULT_LIMIT = 500
MAX_LIMIT = 5000
HANG_S = 15.0
SLOW_S = 3.0
HUGE_BYTES = 50 * 1024 * 1024


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


@dataclass
class ChangeLog:
    """Per-stream change sequence: every change of an entity gets the next number; a page lists entities whose
    latest change is after the cursor, once each, in sequence order (no gaps, no duplicates)."""

    seq: int = 0
    latest: dict[str, tuple[int, Any]] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)  # sequence numbers, ascending
    order_ids: list[str] = field(default_factory=list)

    def record(self, entity_id: str, record: Any) -> None:
        self.seq += 1
        self.latest[entity_id] = (self.seq, record)
        self.order.append(self.seq)
        self.order_ids.append(entity_id)
        if len(self.order) > 4 * len(self.latest) + 10_000:
            pairs = sorted((seq, eid) for eid, (seq, _) in self.latest.items())
            self.order = [p[0] for p in pairs]
            self.order_ids = [p[1] for p in pairs]

    def page(self, cursor: int, limit: int, keep: Any) -> tuple[list[Any], int, bool]:
        """(records, next_cursor, has_more) after ``cursor``; ``keep(record)`` filters (e.g. by Polda)."""
        items: list[Any] = []
        i = bisect.bisect_right(self.order, cursor)
        next_cursor = cursor
        n = len(self.order)
        # (next_cursor is the last sequence number handed out or skipped; it is only used when the page is full)
        while i < n:
            seq, eid = self.order[i], self.order_ids[i]
            i += 1
            latest_seq, record = self.latest[eid]
            if latest_seq != seq:
                continue  # superseded by a later change: it comes at its own place
            if not keep(record):
                next_cursor = seq
                continue
            if len(items) == limit:
                return items, next_cursor, True
            items.append(record)
            next_cursor = seq
        return items, self.seq, False  # everything up to the newest change has been scanned


def national_polres(rng: random.Random) -> list[Polres]:
    """Kaltim's real 10 Polres plus synthetic ones for every other Polda (by their 2023 Polres counts)."""
    polres = list(kaltim_reference().polres.values())
    counts = {}
    for rec in read_json("data", "polda-indonesia.json"):
        counts[rec["polda"]] = rec.get("polres_2023") or 6
    for polda in all_poldas().poldas.values():
        if polda.id == KALTIM_POLDA_ID:
            continue
        n = next((c for name, c in counts.items() if polda.name in name), 6)
        for i in range(1, n + 1):
            r = rng.uniform(5, 180)
            a = rng.uniform(0, 2 * math.pi)
            polres.append(
                Polres(
                    id=f"{polda.id}-{i:02d}",
                    name=f"Polres {polda.name.replace('Polda ', '')} {i:02d} (sim)",
                    polda_id=polda.id,
                    lat=round(polda.lat + r * math.cos(a) / 111.32, 4),
                    lon=round(polda.lon + r * math.sin(a) / 111.32, 4),
                    tz=polda.tz,
                    town=polda.hq_city,
                )
            )
    return polres


class SimServer:
    """The simulator: a world advancing in sim time and an HTTP server on a background thread."""

    def __init__(
        self,
        *,
        region: str = "kaltim",
        seed: int = 7,
        speed: float = 1.0,
        polsek_tier: bool = False,
        history_hours: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        faults: Sequence[str] = (),
        start_time: float | None = None,
    ) -> None:
        if region not in ("kaltim", "indonesia"):
            raise ValueError(f"unknown region {region!r} (kaltim or indonesia)")
        self.region = region
        self.token = token
        self._faults = parse_faults(faults)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        start = time.time() if start_time is None else start_time
        self.clock = ScaledClock(start, rate=speed)
        rng = random.Random(seed ^ 0x5EED)
        if region == "kaltim":
            ref = kaltim_reference()
            polres = list(ref.polres.values())
            self.reference = ref
            areas = areas_from_geojson(read_json("data", "kaltim-regencies.geojson"))
        else:
            polres = national_polres(rng)
            self.reference = ReferenceData.of(all_poldas().poldas.values(), polres)
            areas = areas_from_geojson(read_json("data", "kaltim-regencies.geojson"))  # the real 10 of Kaltim
        self._polda_of = {p.id: p.polda_id for p in polres}
        self._tz_of = {p.id: p.tz for p in polres}
        self.logs = {"calls": ChangeLog(), "incidents": ChangeLog(), "units": ChangeLog()}
        self.world = World(
            polres,
            seed=seed,
            start_time=start - history_hours * 3600,
            polsek_tier=polsek_tier,
            listener=self._on_change,
            live_units=history_hours <= 0,
            areas=areas,
        )
        if history_hours > 0:
            self.world.advance_to(start, tick_s=300.0)
            self.world.enable_live_units()
        self.host: str = host
        self._httpd = self._bind(port)
        self.port: int = int(self._httpd.server_address[1])
        self._threads: list[threading.Thread] = []

    # --- lifecycle -----------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _bind(self, port: int) -> ThreadingHTTPServer:
        httpd = ThreadingHTTPServer((self.host, port), _make_handler(self))
        httpd.daemon_threads = True
        return httpd

    def _serve(self) -> threading.Thread:
        serve = threading.Thread(target=self._httpd.serve_forever, name="sim-http", daemon=True)
        serve.start()
        return serve

    @property
    def online(self) -> bool:
        """Whether the API's socket is open (see :meth:`set_online`)."""
        return self._httpd.fileno() != -1

    def start(self) -> None:
        tick = threading.Thread(target=self._run_world, name="sim-world", daemon=True)
        tick.start()
        self._threads = [self._serve(), tick]

    def set_online(self, online: bool) -> None:
        """Take the API off the network (connections refused, as when the CAD server is down) or bring it back on
        the same port. The world keeps going meanwhile, so a client that comes back has a gap to catch up on."""
        if online == self.online:
            return
        if not online:
            self._close_socket()
            return
        self._httpd = self._bind(self.port)
        self._threads = [t for t in self._threads if t.name != "sim-http" and t.is_alive()] + [self._serve()]

    def _close_socket(self) -> None:
        # shutdown() waits for serve_forever(), which never ran on a server not started or already taken offline
        if self._threads and self.online:
            self._httpd.shutdown()
        self._httpd.server_close()

    def stop(self) -> None:
        self._stop.set()
        self._close_socket()
        for t in self._threads:
            t.join(timeout=5)

    def _run_world(self) -> None:
        tick_real_s = 1.0  # ~1 Hz: sim time moves `speed` seconds per tick
        while not self._stop.wait(tick_real_s):
            if self.clock.rate > 0:
                with self._lock:
                    self.world.advance_to(self.clock.now(), tick_s=max(1.0, self.clock.rate))

    def advance(self, seconds: float) -> None:
        """Move sim time forward by ``seconds`` at once (tests; with ``speed=0`` the only way time moves)."""
        self.clock.step(seconds)
        with self._lock:
            self.world.advance_to(self.clock.now(), tick_s=1.0)

    # --- faults --------------------------------------------------------------------------------------------------

    def set_faults(self, modes: Sequence[str]) -> None:
        parsed = parse_faults(modes)
        with self._lock:
            self._faults = parsed
        log.info("simulator faults: %s", ", ".join(modes) or "none")

    @property
    def faults(self) -> dict[str, float]:
        with self._lock:
            return dict(self._faults)

    # --- the model ------------------------------------------------------------------------------------------------

    def _on_change(self, stream: str, record: object) -> None:
        assert isinstance(record, (Call, Incident, Unit))
        self.logs[stream].record(record.id, record)

    def polda_of(self, polres_id: str) -> str | None:
        return self._polda_of.get(polres_id)

    def encode(self, record: Call | Incident | Unit) -> dict[str, Any]:
        """A record as the API sends it, with times in its Polres' own zone (as a CAD in that region would)."""
        return records.to_wire(record, self._tz_of.get(record.polres_id))[1]

    def reference_document(self, polda: str | None) -> dict[str, Any]:
        if not polda:
            return reference_to_wire(self.reference)
        return reference_to_wire(
            ReferenceData.of(
                [p for p in self.reference.poldas.values() if p.id == polda],
                [p for p in self.reference.polres.values() if p.polda_id == polda],
            )
        )


def _corrupt(items: list[dict[str, Any]], mode: str) -> list[dict[str, Any]]:
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


def _make_handler(sim: SimServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = f"wallboard-sim/{__version__}"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            log.debug("%s %s", self.address_string(), format % args)

        def handle_one_request(self) -> None:
            # Offline: a kept-alive connection is dropped without an answer, as a server that went away drops it.
            if not sim.online:
                self.close_connection = True
                return
            super().handle_one_request()

        # --- responses -------------------------------------------------------------------------------------------

        def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def problem(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
            phrase = HTTPStatus(status).phrase
            doc = {
                "type": f"https://wallboard.invalid/problems/{phrase.lower().replace(' ', '-')}",
                "title": phrase,
                "status": status,
                "detail": detail,
                "instance": urlsplit(self.path).path,
            }
            self._send(status, json.dumps(doc).encode(), "application/problem+json", headers)

        def json_ok(self, doc: Any, etag: str) -> None:
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            faults = sim.faults
            if "clock_offset" in faults:
                doc = shift_times(doc, faults["clock_offset"])
            for mode in ("missing_fields", "wrong_types"):
                if mode in faults and isinstance(doc, dict) and isinstance(doc.get("items"), list):
                    doc = {**doc, "items": _corrupt(doc["items"], mode)}
            body = json.dumps(doc, separators=(",", ":")).encode()
            if "malformed" in faults:
                body = body[: max(1, len(body) // 2)]
            if "huge" in faults:
                self._send_huge(etag)
                return
            self._send(200, body, "application/json", {"ETag": etag, "Cache-Control": "no-cache"})

        def _send_huge(self, etag: str) -> None:
            chunk = b"x" * 65536
            prefix, suffix = b'{"items":[],"has_more":false,"next_cursor":"0","padding":"', b'"}'
            total = len(prefix) + len(suffix) + HUGE_BYTES
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(total))
            self.send_header("ETag", etag)
            self.end_headers()
            try:
                self.wfile.write(prefix)
                for _ in range(HUGE_BYTES // len(chunk)):
                    self.wfile.write(chunk)
                self.wfile.write(suffix)
            except OSError:
                pass  # the client gave up reading: that is what it should do

        # --- routing ---------------------------------------------------------------------------------------------

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path.startswith("/sim/"):
                self._sim_get(url.path)
                return
            if not url.path.startswith("/api/v1/"):
                self.problem(404, f"no such resource: {url.path}")
                return
            if not self._authorised():
                return
            if self._apply_transport_faults():
                return
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            try:
                self._api(url.path.removeprefix("/api/v1/"), query)
            except _BadRequestError as exc:
                self.problem(400, str(exc))

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            if url.path != "/sim/faults":
                self.problem(404 if not url.path.startswith("/api/") else 405, f"cannot POST {url.path}")
                return
            length = int(self.headers.get("Content-Length") or 0)
            try:
                doc = json.loads(self.rfile.read(length) or b"{}")
                modes = doc.get("modes", [])
                if not isinstance(modes, list):
                    raise ValueError("modes must be a list")
                sim.set_faults([str(m) for m in modes])
            except ValueError as exc:
                self.problem(400, str(exc))
                return
            self._send(200, json.dumps({"modes": modes}).encode(), "application/json")

        def _sim_get(self, path: str) -> None:
            if path == "/sim/faults":
                doc: dict[str, Any] = {"faults": sim.faults}
            elif path == "/sim/state":
                with sim._lock:
                    doc = {
                        "sim_time": format_rfc3339(sim.clock.now(), "Asia/Makassar"),
                        "region": sim.region,
                        "speed": sim.clock.rate,
                        "calls": len(sim.world.calls),
                        "incidents": len(sim.world.incidents),
                        "units": len(sim.world.units),
                        "ringing": len(sim.world.ringing),
                    }
            else:
                self.problem(404, f"no such resource: {path}")
                return
            self._send(200, json.dumps(doc).encode(), "application/json")

        def _authorised(self) -> bool:
            if sim.token is None:
                return True
            if self.headers.get("Authorization") == f"Bearer {sim.token}":
                return True
            self.problem(401, "a valid bearer token is required", {"WWW-Authenticate": 'Bearer realm="dispatch"'})
            return False

        def _apply_transport_faults(self) -> bool:
            """Faults that break the exchange itself. True if the request has been dealt with."""
            faults = sim.faults
            if "slow" in faults:
                time.sleep(SLOW_S)
            if "hang" in faults:
                sim._stop.wait(HANG_S)
                self.close_connection = True
                return True
            if "reset" in faults:
                # SO_LINGER 0: close() sends a TCP RST, as a crashed proxy would.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                return True
            if "error500" in faults:
                self.problem(500, "simulated internal error")
                return True
            if "error503" in faults:
                self.problem(503, "simulated overload, retry later", {"Retry-After": "2"})
                return True
            return False

        def _api(self, resource: str, query: dict[str, str]) -> None:
            polda = query.get("polda") or None
            if polda is not None and polda not in sim.reference.poldas:
                raise _BadRequestError(f"unknown polda {polda!r}")
            now = sim.clock.now()
            if resource == "health":
                self.json_ok(
                    {"status": "ok", "server_time": format_rfc3339(now, "Asia/Makassar"), "version": __version__},
                    f'W/"health-{int(now)}"',
                )
            elif resource == "reference":
                doc = sim.reference_document(polda)
                digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]
                self.json_ok(doc, f'"ref-{digest}"')
            elif resource == "queue":
                with sim._lock:
                    queue = sim.world.queue()
                entries = [e for e in queue.entries if polda is None or sim.polda_of(e.polres_id) == polda]
                doc = queue_to_wire(type(queue)(queue.as_of, tuple(entries)), "Asia/Makassar")
                digest = hashlib.sha256(json.dumps(doc["entries"]).encode()).hexdigest()[:16]
                self.json_ok(doc, f'W/"queue-{polda}-{digest}"')
            elif resource in ("calls", "incidents", "units"):
                cursor = _int_param(query, "cursor", 0, 0, 2**62)
                limit = _int_param(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
                changes = sim.logs[resource]

                def keep(record: Any) -> bool:
                    return polda is None or sim.polda_of(record.polres_id) == polda

                with sim._lock:
                    etag = f'W/"{resource}-{polda}-{cursor}-{limit}-{changes.seq}"'
                    records, next_cursor, has_more = changes.page(cursor, limit, keep)
                    items = [sim.encode(r) for r in records]
                doc = {
                    "items": items,
                    "next_cursor": str(next_cursor),
                    "has_more": has_more,
                    "server_time": format_rfc3339(now, "Asia/Makassar"),
                }
                self.json_ok(doc, etag)
            else:
                self.problem(404, f"no such resource: /api/v1/{resource}")

    return Handler


class _BadRequestError(ValueError):
    pass


def _int_param(query: dict[str, str], name: str, default: int, lo: int, hi: int) -> int:
    text = query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise _BadRequestError(f"{name} must be an integer, got {text!r}") from None
    if not lo <= value <= hi:
        raise _BadRequestError(f"{name} must be between {lo} and {hi}")
    return value
