"""A second, minimal implementation of the dispatch API, written from docs/dispatch-api.md alone.

It shares nothing with ``wallboard.sim`` (nor imports anything from ``wallboard``): its own data, its own change
sequences, opaque non-numeric cursors, weak ETags, ``Retry-After`` as an HTTP date, extra fields the board does not
know, and pages smaller than the client asks for. The tests point the board's feed, ``wallboard record`` and
``wallboard check-api`` at it; each *variant* breaks one rule of the contract on purpose, so that the test of
``check-api`` can show every check catches its own breach.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

WITA = timezone(timedelta(hours=8))
POLDA = {"id": "kaltim", "name": "Polda Kalimantan Timur", "hq_city": "Balikpapan", "lat": -1.2768, "lon": 116.8292,
         "tz": "Asia/Makassar", "vendor_code": "KT"}  # fmt: skip
POLRES = [
    {"id": "64.71", "name": "Polresta Balikpapan", "polda_id": "kaltim", "lat": -1.2768, "lon": 116.8292,
     "tz": "Asia/Makassar", "town": "Balikpapan"},
    {"id": "64.72", "name": "Polresta Samarinda", "polda_id": "kaltim", "lat": -0.5022, "lon": 117.1536,
     "tz": "Asia/Makassar", "town": "Samarinda"},
    {"id": "64.02", "name": "Polres Kutai Kartanegara", "polda_id": "kaltim", "lat": -0.4190, "lon": 116.9876,
     "tz": "Asia/Makassar", "town": "Tenggarong"},
]  # fmt: skip
PAGE_CAP = 37  # pages smaller than asked, as the contract allows
CACHE = {"stream": "max-age=0, s-maxage=1, stale-while-revalidate=1", "reference": "max-age=0, s-maxage=60",
         "health": "no-store", "error": "no-store"}  # fmt: skip
LIMIT_RE = re.compile(r"^[1-9][0-9]{0,3}$")


def stamp(t: float, utc: bool = False) -> str:
    """RFC 3339 with an offset: WITA, or Z for some records (both are allowed)."""
    if utc:
        return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return datetime.fromtimestamp(t, WITA).isoformat(timespec="milliseconds")


@dataclass
class Dispatch:
    """The CAD's data: plain facts (POSIX times), from which the wire records and the expected figures derive."""

    now: float
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    incidents: dict[str, dict[str, Any]] = field(default_factory=dict)
    units: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def generate(cls, now: float, seed: int = 3, calls: int = 150) -> Dispatch:
        rng = random.Random(seed)
        world = cls(now)
        for n in range(calls):
            received = now - 4 * 3600 + n * (4 * 3600 - 900) / calls + rng.uniform(0, 30)
            polres = rng.choice(POLRES)["id"]
            fate = rng.random()
            call: dict[str, Any] = {"id": f"KT/{n:05d}", "polres_id": polres, "received_at": received,
                                    "first_tier": "polres", "escalations": [], "answered_at": None,
                                    "answered_tier": None, "abandoned_at": None,
                                    "category": rng.choice(["genuine", "genuine", "prank", "silent", "information"]),
                                    "caller_number": f"0812{rng.randrange(10**8):08d}"}  # fmt: skip
            if fate < 0.1:
                call["abandoned_at"] = received + rng.uniform(3, 20)
                call["category"] = "unknown"
            elif fate < 0.3:
                call["escalations"] = [{"from": "polres", "to": "polda", "at": received + 10}]
                call["answered_at"], call["answered_tier"] = received + rng.uniform(11, 25), "polda"
            else:
                call["answered_at"], call["answered_tier"] = received + rng.uniform(2, 9.5), "polres"
            world.calls[call["id"]] = call
            if call["category"] == "genuine" and call["answered_at"] is not None:
                on_scene = None if rng.random() < 0.1 else received + rng.uniform(90, 1500)
                world.incidents[f"INC-{n:05d}"] = {
                    "id": f"INC-{n:05d}", "polres_id": polres, "call_id": call["id"], "call_received_at": received,
                    "priority": rng.choice([1, 2, 3]), "kind": rng.choice(["KDRT", "Pencurian", "Kecelakaan"]),
                    "dispatched_at": received + 60, "en_route_at": received + 80, "on_scene_at": on_scene,
                    "closed_at": None if on_scene is None else on_scene + 900,
                }  # fmt: skip
        for n in range(24):
            polres = POLRES[n % len(POLRES)]
            world.units[f"U-{n:03d}"] = {
                "id": f"U-{n:03d}", "callsign": f"KT-{n:03d}", "polres_id": polres["id"],
                "kind": "R2" if n % 2 else "R4",
                "status": "available", "lat": polres["lat"] + rng.uniform(-0.05, 0.05),
                "lon": polres["lon"] + rng.uniform(-0.05, 0.05), "fix_at": now - rng.uniform(5, 100),
            }  # fmt: skip
        return world

    def wire(self, stream: str, record: dict[str, Any]) -> dict[str, Any]:
        utc = hash(record["id"]) % 2 == 0
        if stream == "calls":
            return {"id": record["id"], "polres_id": record["polres_id"],
                    "received_at": stamp(record["received_at"], utc),
                    "first_tier": record["first_tier"],
                    "escalations": [{**e, "at": stamp(e["at"])} for e in record["escalations"]],
                    "answered_at": _opt(record["answered_at"]), "answered_tier": record["answered_tier"],
                    "abandoned_at": _opt(record["abandoned_at"]), "category": record["category"],
                    "caller_number": record["caller_number"], "caller_location": None,
                    "x_vendor": {"line": 3, "agent": "A-17"}}  # fmt: skip
        if stream == "incidents":
            return {**{k: v for k, v in record.items() if not k.endswith("_at")},
                    **{k: _opt(v) for k, v in record.items() if k.endswith("_at")},
                    "location": None, "unit_ids": [], "x_vendor_ref": record["id"].lower()}  # fmt: skip
        return {"id": record["id"], "callsign": record["callsign"], "polres_id": record["polres_id"],
                "kind": record["kind"], "status": record["status"], "incident_id": None, "x_battery": 88,
                "fix": {"lat": record["lat"], "lon": record["lon"], "heading_deg": None, "speed_kmh": None,
                        "at": stamp(record["fix_at"], True)}}  # fmt: skip

    def queue(self) -> list[dict[str, Any]]:
        waiting = [c for c in self.calls.values() if c["answered_at"] is None and c["abandoned_at"] is None]
        waiting.sort(key=lambda c: c["received_at"])
        return [{"call_id": c["id"], "polres_id": c["polres_id"], "tier": c["first_tier"],
                 "received_at": stamp(c["received_at"])} for c in waiting]  # fmt: skip


def _opt(t: float | None) -> str | None:
    return None if t is None else stamp(t)


class ChangeFeed:
    """One stream's change sequence: every change takes the next number; a page lists records after a number."""

    def __init__(self) -> None:
        self.seq = 0
        self.position: dict[str, int] = {}
        self.revision: dict[str, int] = {}

    def touch(self, record_id: str) -> None:
        self.seq += 1
        self.position[record_id] = self.seq
        self.revision[record_id] = self.revision.get(record_id, 0) + 1

    def after(self, seq: int) -> list[tuple[int, str]]:
        return sorted((p, i) for i, p in self.position.items() if p > seq)


class IndependentServer:
    """Serves a :class:`Dispatch` over HTTP. ``variants`` switch on deliberate breaches of the contract."""

    def __init__(self, world: Dispatch, *, token: str | None = None, variants: frozenset[str] = frozenset()) -> None:
        self.world = world
        self.token = token
        self.variants = set(variants)
        self.lock = threading.Lock()
        self.feeds = {name: ChangeFeed() for name in ("calls", "incidents", "units")}
        for name, feed in self.feeds.items():
            for record_id in sorted(getattr(world, name), key=lambda i: _when(name, getattr(world, name)[i])):
                feed.touch(record_id)
        self.requests: list[str] = []
        self.passes: dict[str, int] = {}
        self.overloaded = 0  # answer this many requests with 503 and an HTTP-date Retry-After
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    def start(self) -> IndependentServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    def change(self, stream: str, record_id: str, **fields: Any) -> None:
        with self.lock:
            getattr(self.world, stream)[record_id].update(fields)
            self.feeds[stream].touch(record_id)

    def cursor(self, stream: str, seq: int) -> str:
        raw = f"{stream}|{seq}|{hashlib.sha1(f'{stream}{seq}'.encode()).hexdigest()[:8]}"
        return "ix_" + base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def read_cursor(self, stream: str, text: str) -> int | None:
        if "cursor_lax" in self.variants:
            try:
                return max(0, int(text))
            except ValueError:
                return 0
        if len(text) > 200 and "long_cursor_ok" not in self.variants:
            return None
        if not text.startswith("ix_"):
            return 0 if "long_cursor_ok" in self.variants else None
        try:
            raw = base64.urlsafe_b64decode(text[3:] + "=" * (-len(text[3:]) % 4)).decode()
            name, seq_text, _check = raw.split("|")
            seq = int(seq_text)
        except ValueError:
            return None
        if name != stream or self.cursor(stream, seq) != text or seq > self.feeds[stream].seq:
            return None
        return seq


def _when(stream: str, record: dict[str, Any]) -> float:
    return float(record.get("received_at") or record.get("call_received_at") or record.get("fix_at") or 0.0)


def _handler(server: IndependentServer) -> type[BaseHTTPRequestHandler]:
    variants = server.variants

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "IndependentCAD/0.1"
        disable_nagle_algorithm = True  # headers and body in separate writes would wait on delayed ACKs

        def log_message(self, *args: Any) -> None:
            pass

        def date_time_string(self, timestamp: float | None = None) -> str:
            return "" if "no_date" in variants else super().date_time_string(timestamp)

        def send_header(self, keyword: str, value: str) -> None:
            if keyword == "Date" and not value:
                return
            super().send_header(keyword, value)

        def answer(self, status: int, doc: Any, *, kind: str, headers: dict[str, str] | None = None,
                   content_type: str = "application/json") -> None:  # fmt: skip
            body = b"" if doc is None else json.dumps(doc).encode()
            self.send_response(status)
            if doc is not None:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            cache = CACHE[kind]
            if f"cache_{kind}" in variants:
                cache = "public, max-age=300"
            self.send_header("Cache-Control", cache)
            if "no_vary" not in variants:
                self.send_header("Vary", "Authorization")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def problem(self, status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> None:
            if status == 404 and "html_404" in variants:
                self.answer(404, None, kind="error")
                return
            doc = {"type": f"https://cad.example/problems/{status}", "title": title, "status": status,
                   "detail": detail, "instance": urlsplit(self.path).path, "trace_id": "t-1"}  # fmt: skip
            self.answer(status, doc, kind="error", headers=headers, content_type="application/problem+json")

        def refuse_method(self) -> None:
            headers = {} if "no_allow" in variants else {"Allow": "GET"}
            self.problem(405, "Method Not Allowed", f"{self.command} is not served; this API is read-only", headers)

        do_POST = do_PUT = do_DELETE = do_PATCH = refuse_method

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            server.requests.append(self.path)
            if server.token is not None and self.headers.get("Authorization") != f"Bearer {server.token}":
                challenge = {} if "no_www_auth" in variants else {"WWW-Authenticate": 'Bearer realm="cad"'}
                self.problem(401, "Unauthorized", "a valid bearer token is required", challenge)
                return
            if server.overloaded > 0 and url.path != "/api/v1/health":
                server.overloaded -= 1
                retry = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
                self.problem(503, "Service Unavailable", "maintenance", {"Retry-After": retry})
                return
            query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            if "slow" in variants and url.path == "/api/v1/queue" and not server.passes.get("slow"):
                server.passes["slow"] = 1
                time.sleep(2.2)
            resource = url.path.removeprefix("/api/v1/")
            if not url.path.startswith("/api/v1/") or resource not in (
                "health",
                "reference",
                "calls",
                "incidents",
                "units",
                "queue",
            ):
                self.problem(404, "Not Found", f"nothing at {url.path}")
                return
            polda = query.get("polda")
            if polda is not None and polda != "kaltim" and "polda_lax" not in variants:
                self.problem(400, "Bad Request", f"unknown polda {polda!r}")
                return
            with server.lock:
                self.route(resource, query, polda)

        def now(self) -> float:
            return time.time() + (600 if "skew" in variants else 0)

        def etag_answer(self, doc: Any, etag: str, kind: str) -> None:
            if "no_etag" in variants:
                self.answer(200, doc, kind=kind)
                return
            if self.headers.get("If-None-Match") == etag and "no_304" not in variants:
                self.send_response(304)
                self.send_header("ETag", etag)
                if "no_vary" not in variants:
                    self.send_header("Vary", "Authorization")
                self.send_header("Cache-Control", CACHE[kind])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.answer(200, doc, kind=kind, headers={"ETag": etag})

        def route(self, resource: str, query: dict[str, str], polda: str | None) -> None:
            world = server.world
            if resource == "health":
                doc: Any = {"status": "degraded" if "health_bad" in variants else "ok",
                            "server_time": self.stamp_now(), "version": 7 if "schema_health" in variants else "7.1",
                            "x_build": "2026.11"}  # fmt: skip
                self.etag_answer(doc, f'W/"h-{int(self.now())}"', "health")
                return
            if resource == "reference":
                poldas = [] if "no_polda" in variants else [POLDA]
                polres = [{**p, "lat": "north"} for p in POLRES] if "schema_reference" in variants else POLRES
                doc = {"poldas": poldas, "polres": polres, "x_generated": "static"}
                self.etag_answer(doc, 'W/"ref-1"', "reference")
                return
            if resource == "queue":
                if "queue_500" in variants:
                    self.problem(500, "Internal Server Error", "queue broke")
                    return
                entries = world.queue()
                if "schema_queue" in variants:
                    entries = [{**e, "tier": "nowhere"} for e in entries] or [{"call_id": 1}]
                doc = {"as_of": self.stamp_now(), "entries": entries, "x_agents_on_duty": 12}
                if "huge_queue" in variants:
                    doc["x_padding"] = "x" * (21 * 2**20)  # over the 20 MB a board (and check-api) reads
                digest = hashlib.sha1(json.dumps(entries).encode()).hexdigest()[:10]
                self.etag_answer(doc, f'W/"q-{digest}"', "stream")
                return
            self.page(resource, query)

        def stamp_now(self) -> str:
            text = stamp(self.now())
            return text[:-6] if "no_offset" in variants else text

        def page(self, stream: str, query: dict[str, str]) -> None:
            feed = server.feeds[stream]
            limit_text = query.get("limit", "500")
            lax = "limit_lax" in variants
            strict = LIMIT_RE.match(limit_text) is not None
            if "limit_loose_int" in variants and not strict:
                try:
                    strict = float(limit_text) >= 1
                    limit_text = str(int(float(limit_text.replace("_", ""))))
                except ValueError:
                    strict = False
            if not strict and not lax:
                self.problem(400, "Bad Request", f"limit must be an integer 1 to 5000, not {limit_text[:20]!r}")
                return
            try:
                limit = max(1, int(limit_text)) if strict else 500
            except ValueError:
                limit = 500
            if limit > 5000 and not lax:
                self.problem(400, "Bad Request", "limit must be at most 5000")
                return
            cursor_text = query.get("cursor")
            after = 0
            if cursor_text is not None:
                seq = server.read_cursor(stream, cursor_text)
                if seq is None:
                    self.problem(400, "Bad Request", "cursor not recognised; start again without one")
                    return
                after = seq
            elif stream == "calls":
                server.passes[stream] = server.passes.get(stream, 0) + 1
            pass_no = server.passes.get(stream, 1)
            pending = feed.after(after)
            if stream == "calls" and "gap" in variants and pass_no >= 2:
                pending = [(p, i) for p, i in pending if i != "KT/00003"]
            if stream == "calls" and "resume_back" in variants and after >= feed.seq:
                pending = feed.after(max(0, after - 3))
            cap = limit + 5 if (stream == "calls" and "oversize_page" in variants) else min(limit, PAGE_CAP)
            page, rest = pending[:cap], pending[cap:]
            records = getattr(server.world, stream)
            items = []
            for _, record_id in page:
                item = {**server.world.wire(stream, records[record_id]), "rev": feed.revision[record_id]}
                if stream == "calls" and "rev_back" in variants and pass_no >= 2:
                    item["rev"] = 0
                if stream == "calls" and "dup" in variants:
                    items.append(dict(item))
                if "no_offset" in variants:
                    item = {k: (v[:-6] if k.endswith("_at") and isinstance(v, str) and v.endswith("+08:00") else v)
                            for k, v in item.items()}  # fmt: skip
                if f"schema_{stream}" in variants:
                    item.pop("polres_id")
                items.append(item)
            last = page[-1][0] if page else after
            next_cursor = server.cursor(stream, last)
            has_more = bool(rest)
            if stream == "calls" and "has_more_stuck" in variants and not has_more:
                has_more, next_cursor = True, cursor_text or next_cursor
            doc = {"items": items, "next_cursor": next_cursor, "has_more": has_more,
                   "server_time": self.stamp_now(), "x_page_cap": PAGE_CAP}  # fmt: skip
            self.etag_answer(doc, f'W/"{stream}-{feed.seq}-{after}-{limit}"', "stream")

    return Handler


@contextmanager
def running(world: Dispatch, **options: Any) -> Iterator[IndependentServer]:
    server = IndependentServer(world, **options).start()
    try:
        yield server
    finally:
        server.stop()
