"""The dispatch API's routes as plain functions: a request (method, target, headers, body) → a response (status,
headers, JSON document). No sockets here: :mod:`wallboard.sim.transport` serves these over HTTP and adds the
fault modes; tests call :meth:`Routes.handle` directly.

Contract points this module owns (resources/openapi/dispatch-api.yaml): problem documents for every error, ``405``
with ``Allow`` for any method but GET/HEAD under ``/api/``, strict parameters (``cursor``: at most
``MAX_CURSOR_CHARS`` ASCII digits; ``limit``: ASCII digits, 1…``MAX_LIMIT``; ``polda``: a known id), ETags and
``304``, and the caching headers (``Cache-Control`` per resource, ``Vary: Authorization`` on every ``/api/v1``
answer; the transport adds ``Date``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from wallboard import __version__
from wallboard.core.reference import ReferenceData
from wallboard.core.timeutil import ScaledClock, format_rfc3339
from wallboard.core.wire import queue_to_wire, reference_to_wire
from wallboard.sim.state import STREAMS, SimState

DEFAULT_LIMIT = 500
MAX_LIMIT = 5000
MAX_CURSOR_CHARS = 40
MAX_QUERY_FIELDS = 20
SERVER_TZ = "Asia/Makassar"
API_METHODS = ("GET", "HEAD")
PROBLEM_BASE = "https://wallboard.invalid/problems/"

# Shared caches (a CDN or nginx in front of a national API) may hold a page for a second and serve it a second
# longer while revalidating, which absorbs many boards polling the same Polda; browsers and boards keep nothing.
CACHE_STREAM = "max-age=0, s-maxage=1, stale-while-revalidate=1"
CACHE_REFERENCE = "max-age=0, s-maxage=60"
CACHE_NONE = "no-store"
_CACHE_OF = {
    "calls": CACHE_STREAM,
    "incidents": CACHE_STREAM,
    "units": CACHE_STREAM,
    "queue": CACHE_STREAM,
    "reference": CACHE_REFERENCE,
    "health": CACHE_NONE,
}
_DIGITS = re.compile(r"[0-9]+", re.ASCII)


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # path and query as sent, e.g. "/api/v1/calls?cursor=12"
    headers: Mapping[str, str] = field(default_factory=dict)  # names in lower case
    body: bytes = b""

    @staticmethod
    def of(method: str, target: str, headers: Iterable[tuple[str, str]] = (), body: bytes = b"") -> Request:
        return Request(method.upper(), target, {k.lower(): v for k, v in headers}, body)

    @property
    def path(self) -> str:
        return urlsplit(self.target).path


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    document: Any = None  # the JSON body; None: no body (304)
    api: bool = False  # an authorised /api/v1 exchange: the transport's fault modes apply to it

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def body(self) -> bytes:
        if self.document is None:
            return b""
        return json.dumps(self.document, separators=(",", ":")).encode()


class FaultControls(Protocol):
    """The simulator's run-time fault switch, as ``/sim/faults`` reads and sets it."""

    @property
    def faults(self) -> dict[str, float]: ...

    def set_faults(self, modes: Sequence[str]) -> None: ...


def problem(status: int, detail: str, instance: str, headers: Mapping[str, str] | None = None) -> Response:
    """An RFC 9457 problem document; never cached."""
    phrase = HTTPStatus(status).phrase
    doc = {
        "type": PROBLEM_BASE + phrase.lower().replace(" ", "-"),
        "title": phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    return Response(
        status,
        {"Content-Type": "application/problem+json", "Cache-Control": CACHE_NONE, **(headers or {})},
        doc,
    )


class BadRequestError(ValueError):
    """A parameter the contract does not allow; its text is the problem's detail."""


def digits_param(query: Mapping[str, str], name: str, *, max_chars: int) -> int | None:
    """A parameter that must be a plain run of ASCII digits (no sign, blank, underscore or other script's digit);
    None when absent or empty."""
    text = query.get(name)
    if text is None or text == "":
        return None
    if len(text) > max_chars or not _DIGITS.fullmatch(text):
        raise BadRequestError(f"{name} must be at most {max_chars} ASCII digits")
    return int(text)


def parse_query(text: str) -> dict[str, str]:
    """The query's parameters (the last of repeated ones). Raises BadRequestError for too many."""
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_QUERY_FIELDS)
    except ValueError:
        raise BadRequestError(f"at most {MAX_QUERY_FIELDS} query parameters") from None
    return dict(pairs)


class Routes:
    """The simulator's API over a :class:`SimState`, answering in ``clock``'s (simulated) time."""

    def __init__(
        self,
        state: SimState,
        reference: ReferenceData,
        clock: ScaledClock,
        *,
        token: str | None = None,
        region: str = "",
        controls: FaultControls | None = None,
    ) -> None:
        self.state = state
        self.reference = reference
        self.clock = clock
        self.token = token
        self.region = region
        self.controls = controls
        self._reference_docs: dict[str | None, tuple[dict[str, Any], str]] = {}

    def handle(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/sim/"):
            return self._sim(request, path)
        if not path.startswith("/api/"):
            return problem(404, f"no such resource: {path}", path)
        api_headers = {"Vary": "Authorization"} if path.startswith("/api/v1/") else {}
        if request.method not in API_METHODS:
            return problem(
                405, f"{request.method} is not allowed: the API is read-only", path,
                {"Allow": ", ".join(API_METHODS), **api_headers},
            )  # fmt: skip
        if not path.startswith("/api/v1/"):
            return problem(404, f"no such resource: {path}", path)
        if self.token is not None and request.headers.get("authorization") != f"Bearer {self.token}":
            return problem(
                401, "a valid bearer token is required", path,
                {"WWW-Authenticate": 'Bearer realm="dispatch"', **api_headers},
            )  # fmt: skip
        try:
            response = self._api(request, path.removeprefix("/api/v1/"))
        except BadRequestError as exc:
            response = problem(400, str(exc), path)
        response.headers.update(api_headers)
        return Response(response.status, response.headers, response.document, api=True)

    # --- /api/v1 ---------------------------------------------------------------------------------------------------

    def _api(self, request: Request, resource: str) -> Response:
        if resource not in _CACHE_OF:
            return problem(404, f"no such resource: /api/v1/{resource}", request.path)
        query = parse_query(urlsplit(request.target).query)
        polda = query.get("polda") or None
        if resource != "health" and polda is not None and polda not in self.reference.poldas:
            raise BadRequestError(f"unknown polda {polda!r}")
        now = self.clock.now()
        if resource == "health":
            doc: dict[str, Any] = {"status": "ok", "server_time": format_rfc3339(now, SERVER_TZ),
                                   "version": __version__}  # fmt: skip
            etag = f'W/"health-{int(now)}"'
        elif resource == "reference":
            doc, etag = self._reference(polda)
        elif resource == "queue":
            doc = queue_to_wire(self.state.queue(polda), SERVER_TZ)
            digest = hashlib.sha256(json.dumps(doc["entries"]).encode()).hexdigest()[:16]
            etag = f'W/"queue-{polda}-{digest}"'
        else:
            assert resource in STREAMS
            cursor = digits_param(query, "cursor", max_chars=MAX_CURSOR_CHARS) or 0
            limit = digits_param(query, "limit", max_chars=len(str(MAX_LIMIT)) + 2)
            if limit is not None and not 1 <= limit <= MAX_LIMIT:
                raise BadRequestError(f"limit must be between 1 and {MAX_LIMIT}")
            limit = limit or DEFAULT_LIMIT
            page = self.state.page(resource, cursor, limit, polda)
            doc = {
                "items": page.items,
                "next_cursor": str(page.next_cursor),
                "has_more": page.has_more,
                "server_time": format_rfc3339(now, SERVER_TZ),
            }
            etag = f'W/"{resource}-{polda}-{cursor}-{limit}-{page.stream_seq}"'
        headers = {"ETag": etag, "Cache-Control": _CACHE_OF[resource]}
        if request.headers.get("if-none-match") == etag:
            return Response(304, headers)
        return Response(200, {"Content-Type": "application/json", **headers}, doc)

    def _reference(self, polda: str | None) -> tuple[dict[str, Any], str]:
        cached = self._reference_docs.get(polda)
        if cached is None:
            reference = self.reference
            if polda is not None:
                reference = ReferenceData.of([reference.poldas[polda]], reference.polres_of(polda))
            doc = reference_to_wire(reference)
            digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]
            cached = self._reference_docs[polda] = (doc, f'"ref-{digest}"')
        return cached

    # --- /sim (simulator extras, not part of the contract) -----------------------------------------------------------

    def _sim(self, request: Request, path: str) -> Response:
        allowed = {"/sim/faults": ("GET", "HEAD", "POST"), "/sim/state": ("GET", "HEAD")}.get(path)
        if allowed is None:
            return problem(404, f"no such resource: {path}", path)
        if request.method not in allowed:
            return problem(405, f"{request.method} is not allowed here", path, {"Allow": ", ".join(allowed)})
        headers = {"Content-Type": "application/json", "Cache-Control": CACHE_NONE}
        if path == "/sim/state":
            now = self.clock.now()
            doc: dict[str, Any] = {"sim_time": format_rfc3339(now, SERVER_TZ), "region": self.region,
                                   "speed": self.clock.rate, **self.state.counts()}  # fmt: skip
            return Response(200, headers, doc)
        if self.controls is None:
            return problem(404, "this simulator has no fault switch", path)
        if request.method == "POST":
            try:
                posted = json.loads(request.body or b"{}")
                modes = posted.get("modes", []) if isinstance(posted, dict) else None
                if not isinstance(modes, list):
                    raise ValueError("modes must be a list")
                self.controls.set_faults([str(m) for m in modes])
            except ValueError as exc:
                return problem(400, str(exc), path)
            return Response(200, headers, {"modes": modes})
        return Response(200, headers, {"faults": self.controls.faults})
