"""`wallboard check-api`: does a dispatch API honour the contract? The checker a CAD vendor runs before calling us.

It talks to the API as a board would, and as a board never does on purpose (bad cursors, bad limits, no token,
methods the API does not serve), and reports one line per check with the evidence:

- every response against the shipped OpenAPI document (``resources/openapi/dispatch-api.yaml``);
- each stream paged from no cursor to the end, twice: page size within the limit asked, ``has_more`` and
  ``next_cursor`` rules, no duplicates within a pass, no gaps between passes, revisions never going back, and a
  resume from the last cursor that brings nothing old;
- ``ETag`` on every answer and ``304`` for ``If-None-Match``;
- problem documents for a bad cursor, a bad limit, an unknown Polda, a missing token (``401`` with
  ``WWW-Authenticate``), an unknown path and a method the API does not serve (``405`` with ``Allow``);
- an offset on every timestamp, the server clock against ours, response times;
- the caching rules (``Cache-Control`` per endpoint, ``Vary: Authorization``, ``Date``).

Plain ``requests`` with the board client's overall deadline per exchange (connection, TLS handshake, headers and
body); redirects are not followed (a board does not follow them either). Whatever the API sends, the checker holds
one body at a time (at most the board's 20 MB), stops asking after 1 GB in all, and keeps no exchange: the checks
over the whole run are tallied as the answers arrive.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
import time
from array import array
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3

from wallboard import __version__
from wallboard.core.wire import TIME_KEYS
from wallboard.feed.client import CHUNK, DEADLINE_READ_TIMEOUTS, MAX_BODY_BYTES, deadline_adapter, overall_deadline
from wallboard.resources import resource_path

STREAMS = ("calls", "incidents", "units")
ENDPOINTS = ("health", "reference", "calls", "incidents", "units", "queue")
PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"
#: Cache-Control the contract asks for, per kind of answer (directives compared as a set, case-insensitively).
CACHE_RULES: dict[str, str] = {
    "streams": "max-age=0, s-maxage=1, stale-while-revalidate=1",
    "reference": "max-age=0, s-maxage=60",
    "health": "no-store",
    "errors": "no-store",
}
#: "Answer within 2 s" (docs/dispatch-api.md, Load and polling).
SLOW_S = 2.0
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
BAD_CURSOR = "@@not-a-cursor-this-server-gave@@"
#: What the checker may spend on one API, whatever it sends. A body is read up to the board's own cap (a larger one
#: is a FAIL: a board refuses it); the run stops asking once this much has been read in all; at most this many
#: distinct ids are remembered per pass over a stream (for the duplicate, gap and revision checks).
MAX_TOTAL_BYTES = 1024 * 2**20
MAX_TRACKED_IDS = 1_000_000
#: An id is remembered as itself up to this length, longer ones by a digest (a server choosing megabyte ids does
#: not choose the checker's memory).
MAX_ID_CHARS = 200
#: Problems kept per check (the rest are counted: the report shows the first and "+N more").
MAX_PROBLEMS = 50


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str  # PASS, FAIL or SKIP
    evidence: str


@dataclass
class Exchange:
    """One request and its answer, as the checks see it."""

    method: str
    path: str
    params: dict[str, str]
    status: int  # 0: no answer (the error is in ``error``)
    headers: requests.structures.CaseInsensitiveDict[str]
    body: bytes
    elapsed_s: float
    received_at: float  # our clock when the answer was complete
    error: str = ""
    document: Any = None

    @property
    def label(self) -> str:
        query = "&".join(f"{k}={v[:40]}" for k, v in self.params.items())
        return f"{self.method} {self.path}{'?' + query if query else ''}"


class Problems(list[str]):
    """A check's problems: the first :data:`MAX_PROBLEMS` kept, the rest only counted (``total``)."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def note(self, problem: str) -> None:
        self.total += 1
        if len(self) < MAX_PROBLEMS:
            self.append(problem)


@dataclass
class Tally:
    """A rule checked on every answer of the run as it arrives: how many it applied to, how many broke it, and the
    first that did (described when it happens; nothing else of the answer is kept)."""

    seen: int = 0
    broken: int = 0
    example: str = ""

    def count(self, ok: bool, example: Callable[[], str]) -> None:
        self.seen += 1
        if not ok:
            self.broken += 1
            if self.broken == 1:
                self.example = example()


@dataclass
class PassSummary:
    """One pass over a stream, as the paging checks need it: not the records, their newest revision per id."""

    latest: dict[str, int] = field(default_factory=dict)
    records: int = 0
    duplicates: Problems = field(default_factory=Problems)
    negative: Problems = field(default_factory=Problems)


@dataclass
class Report:
    url: str
    checks: list[CheckResult] = field(default_factory=list)
    requests: int = 0

    @property
    def passed(self) -> bool:
        return all(c.status != FAIL for c in self.checks)

    def failed(self) -> list[str]:
        return [c.name for c in self.checks if c.status == FAIL]

    def summary(self) -> dict[str, int]:
        return {s.lower(): sum(1 for c in self.checks if c.status == s) for s in (PASS, FAIL, SKIP)}

    def to_text(self) -> str:
        width = max((len(c.name) for c in self.checks), default=10)
        lines = [f"wallboard {__version__} check-api {self.url}"]
        lines += [f"{c.status}  {c.name:<{width}}  {c.evidence}" for c in self.checks]
        s = self.summary()
        verdict = "conforms" if self.passed else "does NOT conform"
        lines.append(
            f"{len(self.checks)} checks: {s['pass']} passed, {s['fail']} failed, {s['skip']} skipped "
            f"({self.requests} requests): the API {verdict}"
        )
        return "\n".join(lines)

    def to_json(self) -> str:
        doc = {"url": self.url, "passed": self.passed, "summary": self.summary(), "requests": self.requests,
               "checks": [asdict(c) for c in self.checks]}  # fmt: skip
        return json.dumps(doc, indent=1, ensure_ascii=False)


class ContractSchemas:
    """The OpenAPI document's response schemas as JSON Schema 2020-12 validators."""

    def __init__(self, spec: dict[str, Any] | None = None) -> None:
        import jsonschema  # type: ignore[import-untyped]
        import yaml
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        if spec is None:
            spec = yaml.safe_load(resource_path("openapi", "dispatch-api.yaml").read_text(encoding="utf-8"))
        assert spec is not None
        self.spec = spec
        self._registry = Registry().with_resource(
            "urn:dispatch-api", Resource.from_contents(spec, default_specification=DRAFT202012)
        )
        self._jsonschema = jsonschema
        self._cache: dict[tuple[str, str], Any] = {}

    def response(self, path: str, status: int) -> tuple[str, Any] | None:
        """(content type, validator) the document gives for ``status`` at ``path``; None if it documents none."""
        key = (path, str(status))
        if key in self._cache:
            return self._cache[key]
        operation = self.spec.get("paths", {}).get(path, {}).get("get", {})
        response = operation.get("responses", {}).get(str(status))
        found = None
        if isinstance(response, dict):
            if "$ref" in response:
                response = self.spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
            content = response.get("content") or {}
            for content_type, media in content.items():
                pointer = _pointer_to(self.spec, media.get("schema"))
                schema = {"$ref": f"urn:dispatch-api#{pointer}"} if pointer else _rewrite(media.get("schema") or {})
                validator = self._jsonschema.Draft202012Validator(
                    schema, registry=self._registry, format_checker=self._jsonschema.FormatChecker()
                )
                found = (content_type, validator)
                break
            if not content:
                found = ("", None)
        self._cache[key] = found
        return found

    def problem(self) -> Any:
        return self._jsonschema.Draft202012Validator(
            {"$ref": "urn:dispatch-api#/components/schemas/Problem"}, registry=self._registry
        )

    def documented(self, path: str) -> set[str]:
        return set(self.spec.get("paths", {}).get(path, {}).get("get", {}).get("responses", {}))


def _pointer_to(spec: dict[str, Any], schema: Any) -> str | None:
    if isinstance(schema, dict) and set(schema) == {"$ref"} and str(schema["$ref"]).startswith("#"):
        return str(schema["$ref"])[1:]
    return None


def _rewrite(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: (f"urn:dispatch-api{v}" if k == "$ref" and isinstance(v, str) and v.startswith("#") else _rewrite(v))
                for k, v in node.items()}  # fmt: skip
    if isinstance(node, list):
        return [_rewrite(v) for v in node]
    return node


class Checker:
    """Runs every check against one API. ``clock`` is our wall clock (tests move it to fake a skew)."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        polda: str | None = None,
        limit: int = 500,
        max_pages: int = 2000,
        skew_tolerance_s: float = 60.0,
        timeout: tuple[float, float] = (3.05, 10.0),
        verify: str | bool = True,
        clock: Callable[[], float] = time.time,
        schemas: ContractSchemas | None = None,
        max_total_bytes: int = MAX_TOTAL_BYTES,
        max_tracked_ids: int = MAX_TRACKED_IDS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.polda = polda
        self.limit = limit
        self.max_pages = max_pages
        self.skew_tolerance_s = skew_tolerance_s
        self.timeout = timeout
        self.clock = clock
        self.schemas = schemas or ContractSchemas()
        self.session = requests.Session()
        self.session.trust_env = False  # no ~/.netrc token, no proxy: exactly the API named
        adapter = deadline_adapter()  # one overall deadline per exchange, connection and TLS handshake included
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.verify = verify
        self.session.headers["User-Agent"] = f"wallboard-check-api/{__version__}"
        self.session.headers["Accept"] = "application/json"
        self.max_total_bytes = max_total_bytes
        self.max_tracked_ids = max_tracked_ids
        self.report = Report(self.base_url)
        # No exchange is kept: each check that looks over the whole run is tallied as the answers arrive.
        self.requests = 0
        self._answers_per_endpoint = {f"/api/v1/{e}": 0 for e in ENDPOINTS}  # GET requests, answered or not
        self._etags = Tally()
        self._times = array("d")  # seconds per answered request
        self._slowest = (0.0, "")
        self._caching = {kind: Tally() for kind in CACHE_RULES}
        self._vary = Tally()
        self._date = Tally()
        self.bytes_read = 0
        self._schema_problems: dict[str, Problems] = {}
        self._oversized = Problems()
        self._timestamp_problems = Problems()
        self._timestamps = 0
        self._skews = 0
        self._worst_skew: float | None = None

    # --- HTTP ---------------------------------------------------------------------------------------------------

    def request(
        self, path: str, params: dict[str, str] | None = None, *, headers: dict[str, str] | None = None,
        auth: str | None = "token", method: str = "GET",
    ) -> Exchange:  # fmt: skip
        params = dict(params or {})
        sent = dict(headers or {})
        if auth == "token" and self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        elif auth not in (None, "token"):
            sent["Authorization"] = auth
        started = time.monotonic()
        if self.bytes_read > self.max_total_bytes:
            error = f"not asked: the API has sent more than {self.max_total_bytes // 2**20} MB in this run"
            ex = Exchange(method, path, params, 0, requests.structures.CaseInsensitiveDict(), b"", 0.0, self.clock(),
                          error=error)  # fmt: skip
            self._tally(ex)
            return ex
        oversized = False
        try:
            with overall_deadline(self._deadline_s) as deadline:
                try:
                    with self.session.request(method, self.base_url + path, params=params, headers=sent,
                                              timeout=self.timeout, allow_redirects=False,
                                              stream=True) as response:  # fmt: skip
                        body, oversized = self._read_body(response, started)
                        status, response_headers = response.status_code, response.headers
                except (requests.RequestException, urllib3.exceptions.HTTPError, OSError):
                    if not deadline.expired:
                        raise
                if deadline.expired:  # cut: whatever was read (a body ending early, say) is not the answer
                    raise TimeoutError(f"the answer took longer than {self._deadline_s:g} s to arrive (connection, "
                                       "TLS handshake, headers and body)")  # fmt: skip
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            error = f"{exc.__class__.__name__}: {exc}"[:200]
            ex = Exchange(method, path, params, 0, requests.structures.CaseInsensitiveDict(), b"",
                          time.monotonic() - started, self.clock(), error=error)  # fmt: skip
            self._tally(ex)
            return ex
        ex = Exchange(method, path, params, status, response_headers, body, time.monotonic() - started, self.clock())
        if oversized:
            ex.error = f"body larger than {MAX_BODY_BYTES // 2**20} MB (a board refuses it)"
            ex.body = b""
            self._oversized.note(f"{ex.label}: HTTP {status}, body larger than {MAX_BODY_BYTES // 2**20} MB: a board "
                                 "refuses it (keep a page under a few megabytes; lower limit)")  # fmt: skip
        elif body and response_headers.get("Content-Type", "").split(";")[0].strip().endswith("json"):
            try:
                ex.document = json.loads(body)
            except (ValueError, RecursionError) as exc:
                ex.error = f"body is not JSON ({exc})"[:200]
        if method == "GET" and path.startswith("/api/v1/"):
            self._validate(ex)
        self._observe(ex)
        self._tally(ex)
        return ex

    @property
    def _deadline_s(self) -> float:
        read_timeout = self.timeout[1] if isinstance(self.timeout, tuple) else self.timeout
        return float(read_timeout) * DEADLINE_READ_TIMEOUTS

    def _tally(self, ex: Exchange) -> None:
        """The checks over every answer of the run (ETags, schemas' counts, latency, caching headers), counted now:
        the exchange itself is not kept."""
        self.requests += 1
        if ex.method == "GET":
            if ex.path in self._answers_per_endpoint:
                self._answers_per_endpoint[ex.path] += 1
            if ex.status == 200:
                self._etags.count(bool(ex.headers.get("ETag")), lambda: ex.label)
        if not ex.status:
            return
        self._times.append(ex.elapsed_s)
        if ex.elapsed_s >= self._slowest[0]:
            self._slowest = (ex.elapsed_s, ex.label)
        if not ex.path.startswith("/api/v1/"):
            return
        kind: str | None = None
        if ex.status >= 400:
            kind = "errors"
        elif ex.status == 200:
            endpoint = ex.path.removeprefix("/api/v1/")
            kind = "streams" if endpoint in (*STREAMS, "queue") else endpoint
        if kind in self._caching:
            cache_control = ex.headers.get("Cache-Control")
            self._caching[kind].count(
                _directives(cache_control or "") == _directives(CACHE_RULES[kind]),
                lambda: f"{ex.label} HTTP {ex.status}: Cache-Control {cache_control!r}",
            )
        self._vary.count("authorization" in _directives(ex.headers.get("Vary", "")),
                         lambda: f"{ex.label} HTTP {ex.status}")  # fmt: skip
        self._date.count(_http_date(ex.headers.get("Date")), lambda: ex.label)

    def _observe(self, ex: Exchange) -> None:
        """The checks that read every document (timestamps, server clock), done as it arrives."""
        if ex.status != 200 or ex.document is None:
            return
        for key, value in _timestamps(ex.document):
            self._timestamps += 1
            if not isinstance(value, str) or not RFC3339.match(value):
                self._timestamp_problems.note(f"{ex.label}: {key} {str(value)[:40]!r} is not RFC 3339 with an offset")
        server_time = _get(ex.document, "server_time")
        if isinstance(server_time, str):
            from wallboard.core.timeutil import parse_rfc3339

            try:
                # The server stamped its answer between our request and its arrival: take the middle.
                skew = parse_rfc3339(server_time) - (ex.received_at - ex.elapsed_s / 2)
            except (ValueError, OverflowError):
                return
            self._skews += 1
            if self._worst_skew is None or abs(skew) > abs(self._worst_skew):
                self._worst_skew = skew

    def _read_body(self, response: requests.Response, started: float) -> tuple[bytes, bool]:
        """(body, oversized): the body if it is at most MAX_BODY_BYTES, else nothing and True (what was read of it
        is dropped; a declared length over the cap is not read at all), within one overall deadline (the read
        timeout only bounds each read: a server trickling a byte at a time would otherwise hold the checker for
        hours). Every byte read counts towards the run's total."""
        declared = response.headers.get("Content-Length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return b"", True
        deadline = started + self._deadline_s
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = response.raw.read1(CHUNK, decode_content=True)
            if not chunk:
                return b"".join(chunks), False
            size += len(chunk)
            self.bytes_read += len(chunk)
            if size > MAX_BODY_BYTES:
                return b"", True
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise TimeoutError(f"the answer took longer than {deadline - started:.0f} s to arrive")

    def _validate(self, ex: Exchange) -> None:
        """Check one answer against the OpenAPI document; problems are collected under the endpoint's name."""
        problems = self._schema_problems.setdefault(ex.path, Problems())
        if ex.status == 0:
            problems.note(f"{ex.label}: no answer ({ex.error})")
            return
        documented = self.schemas.documented(ex.path)
        if not documented:
            return  # an unknown path: the not-found check judges it
        if str(ex.status) not in documented:
            problems.note(f"{ex.label}: HTTP {ex.status} is not documented for this path")
            return
        expected = self.schemas.response(ex.path, ex.status)
        if expected is None or expected[1] is None:
            return
        content_type, validator = expected
        got = ex.headers.get("Content-Type", "").split(";")[0].strip()
        if got != content_type:
            problems.note(f"{ex.label}: Content-Type {got!r}, expected {content_type!r}")
            return
        if ex.error:
            problems.note(f"{ex.label}: {ex.error}")
            return
        errors = sorted(validator.iter_errors(ex.document), key=lambda e: list(e.absolute_path))
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.absolute_path) or "(document)"
            problems.note(f"{ex.label}: {len(errors)} schema error(s), first at {where}: {first.message[:160]}")

    def get(self, path: str, params: dict[str, str] | None = None, **kwargs: Any) -> Exchange:
        params = dict(params or {})
        if self.polda and path not in ("/api/v1/health",) and "polda" not in params:
            params["polda"] = self.polda
        return self.request(path, params, **kwargs)

    # --- checks -------------------------------------------------------------------------------------------------

    def add(self, name: str, problems: list[str], evidence_ok: str, *, skip: str | None = None) -> None:
        if skip is not None:
            self.report.checks.append(CheckResult(name, SKIP, skip))
        elif problems:
            total = max(len(problems), getattr(problems, "total", 0))
            more = f" (+{total - 1} more)" if total > 1 else ""
            self.report.checks.append(CheckResult(name, FAIL, problems[0][:300] + more))
        else:
            self.report.checks.append(CheckResult(name, PASS, evidence_ok))

    def run(self) -> Report:
        health = self.check_health()
        if health.status == 0:
            self.report.requests = self.requests
            return self.report
        self.check_reference_and_queue()
        for stream in STREAMS:
            self.check_stream(stream)
        self.check_etags()
        self.check_problems()
        self.check_schemas()
        self.check_sizes()
        self.check_timestamps()
        self.check_clock()
        self.check_latency()
        self.check_caching()
        self.report.requests = self.requests
        return self.report

    def check_health(self) -> Exchange:
        ex = self.get("/api/v1/health")
        problems = []
        if ex.status == 0:
            problems.append(f"no answer from {self.base_url}: {ex.error}")
        elif 300 <= ex.status < 400:
            problems.append(f"HTTP {ex.status} redirect to {ex.headers.get('Location', '?')[:200]}; check the URL")
        elif ex.status != 200:
            problems.append(f"HTTP {ex.status} {_detail(ex)}")
        elif not isinstance(ex.document, dict) or ex.document.get("status") != "ok":
            problems.append(f"status is {_get(ex.document, 'status')!r}, expected 'ok'")
        version = _get(ex.document, "version")
        self.add("health", problems, f"200 in {ex.elapsed_s * 1000:.0f} ms, status 'ok', version {version!r}")
        return ex

    def check_reference_and_queue(self) -> None:
        for resource in ("reference", "queue"):
            ex = self.get(f"/api/v1/{resource}")
            problems = [] if ex.status == 200 else [f"{ex.label}: HTTP {ex.status} {_detail(ex)}"]
            if resource == "reference" and ex.status == 200:
                poldas = _get(ex.document, "poldas")
                if not poldas:
                    problems.append("no Polda in /reference: a board cannot show anything")
                elif self.polda and not any(_get(p, "id") == self.polda for p in poldas):
                    problems.append(f"Polda {self.polda!r} is not in /reference")
            count = len(_get(ex.document, "polres") or _get(ex.document, "entries") or [])
            what = "Polres" if resource == "reference" else "calls waiting"
            self.add(f"get:{resource}", problems, f"200, {count} {what}")

    def page_through(self, stream: str) -> tuple[PassSummary, str | None, list[str], int]:
        """One pass from no cursor to ``has_more: false``: (what the pass saw, final cursor, problems, pages).

        Only each id's newest revision is remembered (at most ``max_tracked_ids`` ids; beyond that the pass stops
        with a problem), duplicates and negative revisions are judged as the pages arrive."""
        path = f"/api/v1/{stream}"
        cursor: str | None = None
        seen = PassSummary()
        problems: list[str] = []
        for pages in range(1, self.max_pages + 1):
            params = {"limit": str(self.limit)} if cursor is None else {"cursor": cursor, "limit": str(self.limit)}
            ex = self.get(path, params)
            if ex.status != 200 or not isinstance(ex.document, dict):
                problems.append(f"{ex.label}: HTTP {ex.status} {_detail(ex)}")
                return seen, cursor, problems, pages
            doc = ex.document
            items, next_cursor, has_more = doc.get("items"), doc.get("next_cursor"), doc.get("has_more")
            if not isinstance(items, list) or not isinstance(next_cursor, str) or not isinstance(has_more, bool):
                problems.append(f"{ex.label}: items, next_cursor or has_more missing or of the wrong type")
                return seen, cursor, problems, pages
            if len(items) > self.limit:
                problems.append(f"{ex.label}: {len(items)} items on a page asked for at most {self.limit}")
            if not next_cursor or len(next_cursor) > 200:
                problems.append(f"{ex.label}: next_cursor must be 1 to 200 characters, got {len(next_cursor)}")
            if has_more and not items:
                problems.append(f"{ex.label}: has_more is true on an empty page")
            if has_more and next_cursor == cursor:
                problems.append(f"{ex.label}: has_more is true but next_cursor did not move: paging would loop")
                return seen, cursor, problems, pages
            for item in items:
                self._track(seen, stream, item)
            cursor = next_cursor
            if len(seen.latest) > self.max_tracked_ids:
                problems.append(f"{path}: more than {self.max_tracked_ids} distinct ids in one pass: the checker "
                                "remembers no more, and stopped paging there")  # fmt: skip
                return seen, cursor, problems, pages
            if not has_more:
                return seen, cursor, problems, pages
        problems.append(f"{path}: still has_more after {self.max_pages} pages of {self.limit}")
        return seen, cursor, problems, self.max_pages

    @staticmethod
    def _track(seen: PassSummary, stream: str, item: Any) -> None:
        record_id, rev = _id(item), _rev(item)
        seen.records += 1
        if rev < 0:
            seen.negative.note(f"{stream} {record_id!r}: rev {rev} is not a non-negative integer")
        best = seen.latest.get(record_id)
        if best is not None and rev <= best:
            seen.duplicates.note(f"{stream} {record_id!r} rev {rev} listed twice in one pass")
        seen.latest[record_id] = rev if best is None else max(rev, best)

    def check_stream(self, stream: str) -> None:
        first, _, paging1, pages1 = self.page_through(stream)
        second, final_cursor, paging2, pages2 = self.page_through(stream)
        self.add(f"paging:{stream}", paging1 + paging2,
                 f"{first.records} and {second.records} records in {pages1} and {pages2} pages of at most "
                 f"{self.limit}, has_more/next_cursor consistent")  # fmt: skip
        duplicates = Problems()
        for number, summary in ((1, first), (2, second)):
            for problem in summary.duplicates:
                duplicates.note(f"pass {number}: {problem}")
            duplicates.total += summary.duplicates.total - len(summary.duplicates)
        self.add(f"duplicates:{stream}", duplicates, "no record listed twice at the same revision within a pass")
        latest1, latest2 = first.latest, second.latest
        missing = sorted(set(latest1) - set(latest2))
        gaps = (
            [f"{len(missing)} {stream} of the first pass missing from the second, e.g. {missing[0]!r}"]
            if missing
            else []
        )
        if not first.records and not second.records:
            gaps.append(f"/api/v1/{stream} returned no records at all: nothing to check paging with")
        self.add(f"gaps:{stream}", gaps, f"all {len(latest1)} ids of the first pass are in the second")
        revisions = Problems()
        for i, rev in latest1.items():
            if i in latest2 and latest2[i] < rev:
                revisions.note(f"{stream} {i!r}: rev {rev} in the first pass, {latest2[i]} in the second")
        negative = Problems()
        for summary in (first, second):
            for problem in summary.negative:
                negative.note(problem)
            negative.total += summary.negative.total - len(summary.negative)
        for problem in negative:
            revisions.note(problem)
        revisions.total += negative.total - len(negative)
        self.add(f"revisions:{stream}", revisions, "no revision went back between passes")
        resume: list[str] = []
        if final_cursor is not None and not paging2:
            ex = self.get(f"/api/v1/{stream}", {"cursor": final_cursor, "limit": str(self.limit)})
            items = _get(ex.document, "items")
            if ex.status != 200 or not isinstance(items, list):
                resume.append(f"{ex.label}: the last next_cursor was not accepted back: HTTP {ex.status} {_detail(ex)}")
            else:
                old = [(_id(i), _rev(i)) for i in items]
                stale = [(i, r) for i, r in old if i in latest2 and r <= latest2[i]]
                if stale:
                    resume.append(f"resuming from the last cursor re-sent {len(stale)} record(s) at a revision "
                                  f"already seen, e.g. {stale[0][0]!r} rev {stale[0][1]}: "
                                  "the cursor went back")  # fmt: skip
        self.add(f"resume:{stream}", resume, "the last next_cursor resumes with nothing already seen")

    def check_etags(self) -> None:
        problems = []
        answered = self._etags.seen  # the answers so far, not the probes below
        if self._etags.broken:
            problems.append(f"{self._etags.broken} of {answered} answers without an ETag, e.g. {self._etags.example}")
        checked = []
        for path, params in (("/api/v1/reference", {}), ("/api/v1/queue", {}), ("/api/v1/calls", {"limit": "1"})):
            first = self.get(path, params)
            etag = first.headers.get("ETag")
            if first.status != 200 or not etag:
                continue
            again = self.get(path, params, headers={"If-None-Match": etag})
            if again.status == 304:
                if again.body:
                    problems.append(f"{again.label}: 304 with a body")
                checked.append(f"{path} 304")
            elif again.status == 200 and again.headers.get("ETag") == etag:
                problems.append(f"{again.label}: If-None-Match {etag[:60]} answered 200 with the same ETag, not 304")
            elif path == "/api/v1/reference":
                problems.append(f"{again.label}: unchanged reference answered HTTP {again.status}, not 304")
            else:
                checked.append(f"{path} changed")
        self.add("etag", problems, f"ETag on all {answered} answers; If-None-Match: {', '.join(checked)}")

    def _problem(self, ex: Exchange, status: int, what: str) -> list[str]:
        if ex.status != status:
            return [f"{what}: {ex.label} answered HTTP {ex.status}, expected {status} {_detail(ex)}".rstrip()]
        content_type = ex.headers.get("Content-Type", "").split(";")[0].strip()
        if content_type != "application/problem+json":
            return [f"{what}: {ex.label} Content-Type {content_type!r}, expected 'application/problem+json'"]
        errors = list(self.schemas.problem().iter_errors(ex.document))
        if errors:
            return [f"{what}: {ex.label} problem document invalid: {errors[0].message[:160]}"]
        if _get(ex.document, "status") != status:
            return [f"{what}: {ex.label} problem 'status' {_get(ex.document, 'status')!r} differs from HTTP {status}"]
        return []

    def check_problems(self) -> None:
        calls = "/api/v1/calls"
        ex = self.get(calls, {"cursor": BAD_CURSOR})
        self.add("problem:bad-cursor", self._problem(ex, 400, "a cursor the server never gave"),
                 f"400 problem+json: {_detail(ex)}")  # fmt: skip
        ex = self.get(calls, {"cursor": "9" * 201})
        self.add("problem:long-cursor", self._problem(ex, 400, "a 201-character cursor"),
                 f"400 problem+json: {_detail(ex)}")  # fmt: skip
        problems = []
        for value in ("0", "5001", "ten", "-1"):
            problems += self._problem(self.get(calls, {"limit": value}), 400, f"limit={value}")
        self.add("problem:bad-limit", problems, "limit 0, 5001, ten and -1 each answered 400 problem+json")
        problems = []
        for value in ("1_0", "+10", "1e1"):
            problems += self._problem(self.get(calls, {"limit": value}), 400, f"limit={value}")
        self.add("problem:strict-integer", problems, "limit 1_0, +10 and 1e1 each answered 400 problem+json")
        ex = self.request(calls, {"polda": "no-such-polda-zz"})
        self.add(
            "problem:unknown-polda", self._problem(ex, 400, "an unknown Polda"), f"400 problem+json: {_detail(ex)}"
        )
        ex = self.get("/api/v1/no-such-endpoint")
        self.add("problem:not-found", self._problem(ex, 404, "an unknown path"), "404 problem+json")
        ex = self.request(calls, method="POST")
        problems = self._problem(ex, 405, "POST")
        allow = ex.headers.get("Allow", "")
        if not problems and "GET" not in {m.strip().upper() for m in allow.split(",")}:
            problems.append(f"POST {calls}: 405 without an Allow header naming GET (Allow: {allow!r})")
        self.add("problem:method-not-allowed", problems, f"405 problem+json, Allow: {allow}")
        if not self.token:
            self.add("problem:missing-token", [], "", skip="no --token given: cannot tell whether the API wants one")
            return
        problems = []
        for label, auth in (("no token", None), ("a wrong token", "Bearer wrong-" + "x" * 12)):
            ex = self.get(calls, auth=auth)
            found = self._problem(ex, 401, label)
            challenge = ex.headers.get("WWW-Authenticate", "")
            if not found and not challenge.lower().startswith("bearer"):
                found.append(f"{label}: 401 without a 'WWW-Authenticate: Bearer ...' header (got {challenge!r})")
            problems += found
        self.add("problem:missing-token", problems, "no token and a wrong token: 401 problem+json, WWW-Authenticate "
                 "Bearer")  # fmt: skip

    def check_schemas(self) -> None:
        for endpoint in ENDPOINTS:
            path = f"/api/v1/{endpoint}"
            self.add(f"schema:{endpoint}", self._schema_problems.get(path, []),
                     f"{self._answers_per_endpoint[path]} answer(s) valid against dispatch-api.yaml")  # fmt: skip

    def check_sizes(self) -> None:
        problems = self._oversized
        if self.bytes_read > self.max_total_bytes:
            problems.note(f"the API sent more than {self.max_total_bytes // 2**20} MB in this run: the checker "
                          "stopped asking (the checks after that point have no answers)")  # fmt: skip
        self.add("size", problems, f"every body within {MAX_BODY_BYTES // 2**20} MB "
                 f"({self.bytes_read / 2**20:.1f} MB in all)")  # fmt: skip

    def check_timestamps(self) -> None:
        count = self._timestamps
        self.add("timestamps", self._timestamp_problems, f"all {count} timestamps RFC 3339 with an explicit offset")

    def check_clock(self) -> None:
        worst = self._worst_skew
        if worst is None:
            self.add("clock", ["no server_time in any answer"], "")
            return
        side = "ahead of" if worst > 0 else "behind"
        evidence = f"server clock {abs(worst):.1f} s {side} ours at worst ({self._skews} answers)"
        problems = [] if abs(worst) <= self.skew_tolerance_s else [f"{evidence}; keep it on NTP (tolerance "
                                                                   f"{self.skew_tolerance_s:g} s)"]  # fmt: skip
        self.add("clock", problems, evidence)

    def check_latency(self) -> None:
        if not self._times:
            return
        times = sorted(self._times)
        slowest_s, slowest = self._slowest
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        evidence = (f"median {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max "
                    f"{slowest_s * 1000:.0f} ms ({slowest})")  # fmt: skip
        problems = [f"{evidence}: answer within {SLOW_S:g} s"] if slowest_s > SLOW_S else []
        self.add("latency", problems, evidence)

    def check_caching(self) -> None:
        for kind, tally in self._caching.items():
            problems = [f"{tally.broken} of {tally.seen} answers, e.g. {tally.example}, expected "
                        f"{CACHE_RULES[kind]!r}"] if tally.broken else []  # fmt: skip
            self.add(f"caching:{kind}", problems, f"Cache-Control: {CACHE_RULES[kind]} on {tally.seen} answers")
        vary, date = self._vary, self._date
        self.add("caching:vary", [f"{vary.broken} of {vary.seen} answers without Vary: Authorization, e.g. "
                                  f"{vary.example}"] if vary.broken else [],
                 f"Vary: Authorization on all {vary.seen} answers")  # fmt: skip
        self.add("caching:date", [f"{date.broken} of {date.seen} answers without a valid Date, e.g. "
                                  f"{date.example}"] if date.broken else [],
                 f"Date on all {date.seen} answers")  # fmt: skip


def check_api(base_url: str, token: str | None = None, **options: Any) -> Report:
    """Run every check against the API at ``base_url``; see :class:`Checker` for the options."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{base_url[:200]!r} is not an http(s) URL")
    checker = Checker(base_url, token, **options)
    try:
        return checker.run()
    finally:
        checker.session.close()


# --- helpers ----------------------------------------------------------------------------------------------------


def _get(document: Any, key: str) -> Any:
    return document.get(key) if isinstance(document, dict) else None


def _rev(item: Any) -> int:
    rev = _get(item, "rev")
    return rev if isinstance(rev, int) and not isinstance(rev, bool) else -1


def _id(item: Any) -> str:
    """An item's id as the paging checks remember it: itself if short, else a digest (shown with its length)."""
    text = str(_get(item, "id"))
    if len(text) <= MAX_ID_CHARS:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{text[:40]}…[{len(text)} characters, sha256 {digest}]"


def _detail(ex: Exchange) -> str:
    if ex.status == 0:
        return ex.error
    text = _get(ex.document, "detail") or _get(ex.document, "title") or ex.error
    return "".join(c if c.isprintable() else " " for c in str(text or ""))[:160]


def _timestamps(node: Any, key: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _timestamps(item, key)
    elif isinstance(node, dict):
        for k, v in node.items():
            if isinstance(k, str) and (k in TIME_KEYS or k.endswith("_at")) and v is not None:
                yield k, v
            elif isinstance(v, (dict, list)):
                yield from _timestamps(v, k)


def _directives(header: str) -> set[str]:
    return {d.strip().lower().replace(" ", "") for d in header.split(",") if d.strip()}


def _http_date(value: str | None) -> bool:
    if not value:
        return False
    try:
        parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    return True
