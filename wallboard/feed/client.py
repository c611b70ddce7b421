"""The HTTP client for the dispatch API: blocking, small, and strict. It runs on executor threads, never the GUI's.

One ``requests.Session`` per API (connection reuse), connect and read timeouts, TLS verified always (optionally
against the organisation's own CA bundle), ETag/If-None-Match per resource, and a cap on body size so a runaway
response cannot exhaust a kiosk's memory. Every failure becomes a :class:`FeedError` with a message fit for the
wall's ticker; the token never appears in one.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import requests.adapters
import requests.auth
import urllib3
import urllib3.connection
import urllib3.connectionpool
from urllib3.util.connection import allowed_gai_family

from wallboard import __version__
from wallboard.config import ApiConfig
from wallboard.core.freshness import parse_retry_after
from wallboard.logsetup import redact, register_secret

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 20 * 1024 * 1024
#: The largest ``Age`` believed. A shared cache serving a copy older than a day is broken, not "a day late"; beyond
#: this the board treats the copy as this old (stale on the wall) rather than trusting an absurd number.
MAX_AGE_S = 86_400.0
CHUNK = 256 * 1024
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: The whole exchange (connect, status line, headers, body, success or error) must end within this many read
#: timeouts: the read timeout alone is per socket read, and a server trickling a byte a second never trips it.
DEADLINE_READ_TIMEOUTS = 3
#: An error's problem document is read for its detail up to this size; the rest is not read.
MAX_PROBLEM_BYTES = 16 * 1024


class FeedError(Exception):
    """A request failed. ``str()`` is a short human message; ``retry_after_s`` is the server's wish, if any."""

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(redact(message))
        self.retry_after_s = retry_after_s

    @property
    def token_rejected(self) -> bool:
        """The API refused our credentials (HTTP 401 or 403): the wall says TOKEN REJECTED, not DOWN."""
        return False


class HttpStatusError(FeedError):
    """The API answered with an error status (problem+json detail included when there is one)."""

    def __init__(self, status: int, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message, retry_after_s=retry_after_s)
        self.status = status

    @property
    def token_rejected(self) -> bool:
        return self.status in (401, 403)


class ServiceUnavailableError(HttpStatusError):
    """HTTP 503 or 429: the API is alive but asks us to come back later (``retry_after_s``)."""


class TransportError(FeedError):
    """Connection refused/reset, timeout, DNS: the API could not be reached."""


class FeedTimeoutError(TransportError):
    """No connection or no (complete) answer within the configured timeouts."""


class TlsError(FeedError):
    """The server's certificate was not trusted."""


class InvalidDocumentError(FeedError):
    """The response was not the JSON document the contract promises."""


class InvalidJsonError(InvalidDocumentError):
    """The body is not JSON at all."""


class BodyTooLargeError(InvalidDocumentError):
    pass


class ContractError(InvalidDocumentError):
    """JSON, but not the shape the dispatch API contract promises (raised by the sync layer)."""


class RedirectError(HttpStatusError):
    """The API answered with a redirect. Never followed (the token must not go to another host, and data from
    elsewhere must not show as LIVE): a configuration problem, reported with the target."""


@dataclass(frozen=True)
class Fetched:
    """One GET: the decoded document, and whether it came from the ETag cache because the server said 304.

    ``age_s`` is how long the answer had already spent in shared caches (the ``Age`` header; 0 straight from the
    API): its ``server_time`` is that much older than the moment it was read.
    """

    document: Any
    not_modified: bool
    etag: str | None
    age_s: float = 0.0


class DispatchClient:
    """GET JSON documents from one dispatch API. Safe to call from several executor threads at once."""

    def __init__(self, base_url: str, api: ApiConfig, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.api = api
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FeedError(f"API URL {base_url[:200]!r} is not an http(s) URL")
        self._session = requests.Session()
        self._session.headers["User-Agent"] = f"wallboard/{__version__}"
        self._session.headers["Accept"] = "application/json"
        adapter = _DeadlineAdapter()
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self.deadline_s = api.read_timeout_s * DEADLINE_READ_TIMEOUTS
        if token:
            _check_token(token)
            register_secret(token)
            # As an auth object, not a bare header: requests would otherwise replace it with a ~/.netrc entry.
            self._session.auth = _BearerAuth(token)
            if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
                log.warning("the API token is sent without TLS to %s; use an https:// API URL", parts.hostname)
        # TLS verification is not optional: either the system store or the configured CA bundle.
        self._verify: str | bool = True
        if api.ca_bundle:
            if not Path(api.ca_bundle).is_file():
                raise FeedError(f"api.ca_bundle {api.ca_bundle!r} is not a readable file")
            self._verify = api.ca_bundle
        self._session.verify = self._verify
        # One ETag per endpoint (path), for the query it was answered for: a cursor changes the query on every
        # poll, so a per-URL cache would grow without bound on a board that runs for months.
        self._etags: dict[str, tuple[str, str, Any]] = {}
        self._lock = threading.Lock()
        self._in_flight: set[_Deadline] = set()
        self._aborted = False

    def __repr__(self) -> str:  # never the headers: they hold the token
        return f"DispatchClient({self.base_url!r})"

    def close(self) -> None:
        self._session.close()

    def abort(self) -> None:
        """Stop now (any thread): every request under way ends at once, its sockets shut down, whatever it is
        waiting for (connection, handshake, headers, body), and every later request fails without being sent.
        Each raises a :class:`FeedError` saying it was abandoned."""
        with self._lock:
            self._aborted = True
            in_flight = list(self._in_flight)
        for deadline in in_flight:
            deadline.expire()

    def get_json(self, path: str, params: dict[str, str] | None = None, *, use_etag: bool = True) -> Any:
        """The decoded JSON document at ``path``. On 304 the cached document for the same query is returned."""
        return self.fetch(path, params, use_etag=use_etag).document

    def fetch(self, path: str, params: dict[str, str] | None = None, *, use_etag: bool = True) -> Fetched:
        """GET ``path`` and decode it. Raises a :class:`FeedError` subclass on every kind of failure.

        The whole exchange runs under one overall deadline (:data:`DEADLINE_READ_TIMEOUTS` read timeouts): when it
        passes, the request's socket is shut down, whatever is under way (connecting, the TLS handshake, headers, a
        body, an error's detail)."""
        with _Deadline(self.deadline_s) as deadline:
            with self._lock:
                if self._aborted:
                    raise FeedError(f"{path}: not asked: the client was stopped")
                self._in_flight.add(deadline)
            try:
                return self._fetch(path, params, use_etag=use_etag)
            except FeedError as exc:
                if self._aborted:
                    raise FeedError(f"{path}: abandoned: the client was stopped") from None
                if not (deadline.expired or deadline.remaining() <= 0) or isinstance(exc, HttpStatusError):
                    raise
                raise FeedTimeoutError(
                    f"{path}: answer too slow to arrive (connection, TLS handshake and answer not complete within "
                    f"{self.deadline_s:g} s)"
                ) from None
            finally:
                with self._lock:
                    self._in_flight.discard(deadline)

    def _fetch(self, path: str, params: dict[str, str] | None, *, use_etag: bool) -> Fetched:
        url = f"{self.base_url}{path}"
        query = "&".join(f"{k}={v}" for k, v in sorted((params or {}).items()))
        headers = {}
        cached: tuple[str, str, Any] | None = None
        if use_etag:
            with self._lock:
                cached = self._etags.get(path)
            if cached is not None and cached[0] == query:
                headers["If-None-Match"] = cached[1]
            else:
                cached = None
        try:
            response = self._session.get(
                url,
                params=params,
                headers=headers,
                timeout=(self.api.connect_timeout_s, self.api.read_timeout_s),
                stream=True,
                verify=self._verify,
                allow_redirects=False,
            )
        except requests.exceptions.SSLError as exc:
            raise TlsError(
                f"TLS certificate of {self.base_url} not trusted ({_reason(exc)}); "
                "if your API uses an internal CA, set api.ca_bundle to its PEM file"
            ) from None
        except requests.exceptions.ConnectTimeout:
            raise FeedTimeoutError(f"{path}: no connection within {self.api.connect_timeout_s:g} s") from None
        except requests.exceptions.Timeout:
            raise FeedTimeoutError(f"{path}: no answer within {self.api.read_timeout_s:g} s") from None
        except requests.exceptions.ConnectionError as exc:
            raise TransportError(f"{path}: cannot connect ({_reason(exc)})") from None
        except requests.exceptions.RequestException as exc:
            raise TransportError(f"{path}: {_reason(exc)}") from None
        except urllib3.exceptions.LocationParseError as exc:  # a host name IDNA cannot encode (not a RequestException)
            raise TransportError(f"{path}: the API's host name is not valid ({exc})") from None
        with response:
            if response.status_code == 304:
                if cached is None:
                    raise ContractError(f"{path}: HTTP 304 to a request without If-None-Match")
                return Fetched(cached[2], True, cached[1], parse_age(response.headers.get("Age")))
            if 300 <= response.status_code < 400:
                raise _redirect_error(path, response)
            if response.status_code >= 400:
                raise self._status_error(path, response)
            if response.status_code != 200:
                raise ContractError(f"{path}: unexpected HTTP {response.status_code}")
            body = self._read_capped(path, response)
        deadline: _Deadline | None = getattr(_current, "deadline", None)
        if deadline is not None and deadline.expired:
            # The watchdog shut the socket: the body ended there, which may look like its end. Never the answer.
            raise FeedTimeoutError(f"{path}: answer cut at the overall deadline")
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise InvalidJsonError(f"{path}: response is not valid JSON ({exc.__class__.__name__})") from None
        etag = response.headers.get("ETag")
        if use_etag and etag and len(etag) <= 200:
            with self._lock:
                self._etags[path] = (query, etag, document)
        return Fetched(document, False, etag, parse_age(response.headers.get("Age")))

    def _read_capped(self, path: str, response: requests.Response) -> bytes:
        limit_mb = MAX_BODY_BYTES // 2**20
        declared = response.headers.get("Content-Length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise BodyTooLargeError(f"{path}: response of {int(declared) // 2**20} MB refused (limit {limit_mb} MB)")
        chunks = []
        size = 0
        # The read timeout is per socket read; a server that trickles bytes forever needs an overall deadline.
        # ``read1`` returns whatever has arrived, so the deadline is checked at least once per read timeout.
        deadline = time.monotonic() + self.api.read_timeout_s * 3
        raw = response.raw
        try:
            while True:
                chunk = raw.read1(CHUNK, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise BodyTooLargeError(f"{path}: response larger than {limit_mb} MB refused")
                if time.monotonic() > deadline:
                    raise FeedTimeoutError(f"{path}: response too slow to arrive")
                chunks.append(chunk)
        except urllib3.exceptions.ReadTimeoutError:
            raise FeedTimeoutError(f"{path}: answer stopped arriving for {self.api.read_timeout_s:g} s") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise TransportError(f"{path}: connection broke while reading ({_reason(exc)})") from None
        return b"".join(chunks)

    def _status_error(self, path: str, response: requests.Response) -> HttpStatusError:
        detail = ""
        try:
            if response.headers.get("Content-Type", "").startswith("application/problem+json"):
                problem = json.loads(response.raw.read(MAX_PROBLEM_BYTES, decode_content=True))
                if isinstance(problem, dict):
                    detail = _printable(str(problem.get("detail") or problem.get("title") or ""))[:200]
        except (ValueError, OSError, AttributeError, RecursionError, requests.exceptions.RequestException):
            pass
        except Exception:  # urllib3 read errors (ProtocolError...) while reading a detail we can live without
            pass
        retry_after = parse_retry_after(response.headers.get("Retry-After"), time.time())
        status = response.status_code
        what = {400: "bad request", 401: "not authorised (check the API token)", 403: "forbidden", 404: "not found",
                429: "rate limited", 503: "service unavailable"}.get(status, "server error")  # fmt: skip
        message = f"{path}: HTTP {status} {what}" + (f": {detail}" if detail else "")
        if retry_after is not None:
            message += f" (retry after {retry_after:.0f} s)"
        kind = ServiceUnavailableError if status in (429, 503) else HttpStatusError
        return kind(status, message, retry_after_s=retry_after)


def deadline_adapter() -> requests.adapters.HTTPAdapter:
    """A requests adapter whose connections the current :func:`overall_deadline` can cut (mount it for http:// and
    https://), for other clients of the API that need the same bound (``check-api``)."""
    return _DeadlineAdapter()


def overall_deadline(seconds: float) -> _Deadline:
    """A context manager: requests made in it on this thread through a :func:`deadline_adapter` end within
    ``seconds`` (connecting, TLS handshake, headers and body); ``.expired`` says whether the deadline cut one."""
    return _Deadline(seconds)


def _redirect_error(path: str, response: requests.Response) -> RedirectError:
    target = _printable(response.headers.get("Location", ""))
    parts = urlsplit(target)
    if parts.scheme and parts.netloc:  # never the query: it may hold anything
        target = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    target = target[:200] or "(no Location header)"
    return RedirectError(
        response.status_code,
        f"{path}: HTTP {response.status_code} redirect to {target}: redirects are not followed; "
        "set api.url to the address the API really answers at (configuration problem)",
    )


# --- the overall deadline ---------------------------------------------------------------------------------------

_current = threading.local()


class _Deadline:
    """One request's overall deadline. Sockets the request uses register here (from the connection classes below,
    on the requesting thread); when the deadline passes the shared :class:`_Watchdog` shuts them down, which ends any
    blocked read at once."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self.at = time.monotonic() + seconds
        self._done = False
        self._sockets: list[socket.socket] = []
        self._owned: list[socket.socket] = []  # duplicates made by ``watch_connection``: closed on exit
        self._lock = threading.Lock()

    def __enter__(self) -> _Deadline:
        _current.deadline = self
        _WATCHDOG.add(self)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._done = True
            owned, self._owned = self._owned, []
        _WATCHDOG.remove(self)
        _current.deadline = None
        for sock in owned:
            sock.close()

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            if self._done:
                return
            self._sockets.append(sock)
            if self.expired:
                _shutdown(sock)

    def watch_connection(self, sock: socket.socket) -> None:
        """Watch a freshly connected socket through a duplicate of its descriptor: wrapping it in TLS detaches the
        socket object itself, and a shutdown through the duplicate still ends a handshake blocked on the connection
        (shutdown acts on the connection, not on one descriptor). The duplicate is closed when the request ends, so
        the watchdog never touches a descriptor number the process may have reused."""
        try:
            duplicate = sock.dup()
        except OSError:
            return
        with self._lock:
            if self._done:
                duplicate.close()
                return
            self._owned.append(duplicate)
            self._sockets.append(duplicate)
            if self.expired:
                _shutdown(duplicate)

    def expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            for sock in self._sockets:
                _shutdown(sock)


class _Watchdog:
    """One daemon thread for every request's deadline (not a timer thread per request: the board makes several
    requests a second). Started on first use."""

    def __init__(self) -> None:
        self._pending: set[_Deadline] = set()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, deadline: _Deadline) -> None:
        with self._wake:
            self._pending.add(deadline)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="http-deadlines", daemon=True)
                self._thread.start()
            self._wake.notify()

    def remove(self, deadline: _Deadline) -> None:
        with self._wake:
            self._pending.discard(deadline)

    def _run(self) -> None:
        while True:
            with self._wake:
                now = time.monotonic()
                due = [d for d in self._pending if d.at <= now]
                self._pending.difference_update(due)
                if not due:
                    soonest = min((d.at for d in self._pending), default=now + 60.0)
                    self._wake.wait(max(0.01, soonest - now))
                    continue
            for deadline in due:
                deadline.expire()


_WATCHDOG = _Watchdog()


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _watch_current(sock: socket.socket | None) -> None:
    deadline: _Deadline | None = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.watch(sock)


def _connect_within_deadline(conn: urllib3.connection.HTTPConnection) -> socket.socket:
    """urllib3's ``_new_conn`` under the current request's deadline: each address is tried for at most the connect
    timeout and never past the deadline (urllib3 gives every address of a name the whole connect timeout), and the
    connected socket is watched from then on, so a TLS handshake that never completes, or trickles, is cut at the
    deadline like a slow answer (the handshake alone may otherwise take the whole connect timeout, which can be
    longer than the deadline). The name lookup is waited for until the deadline too (:func:`_lookup`)."""
    deadline: _Deadline | None = getattr(_current, "deadline", None)
    if deadline is None:
        return urllib3.connection.HTTPConnection._new_conn(conn)
    timeout = conn.timeout if isinstance(conn.timeout, (int, float)) else None
    host = conn._dns_host.strip("[]")
    try:
        host.encode("idna")  # as urllib3 checks it, before any thread is started for it
    except UnicodeError:
        raise urllib3.exceptions.LocationParseError(f"'{host}', label empty or too long") from None
    try:
        addresses = _lookup(host, conn.port, allowed_gai_family(), deadline.remaining())
    except socket.gaierror as exc:
        raise urllib3.exceptions.NameResolutionError(conn.host, conn, exc) from exc
    except TimeoutError as exc:
        raise urllib3.exceptions.ConnectTimeoutError(
            conn, f"the name {conn.host} was not resolved before the deadline"
        ) from exc
    error: OSError | None = None
    for family, kind, proto, _, address in addresses:
        remaining = deadline.remaining()
        if remaining <= 0:
            error = TimeoutError("overall deadline passed")
            break
        sock = socket.socket(family, kind, proto)
        try:
            for option in conn.socket_options or ():
                sock.setsockopt(*option)
            sock.settimeout(remaining if timeout is None else min(timeout, remaining))
            if conn.source_address:
                sock.bind(conn.source_address)
            sock.connect(address)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        sock.settimeout(timeout)
        deadline.watch_connection(sock)
        return sock
    if isinstance(error, TimeoutError):
        raise urllib3.exceptions.ConnectTimeoutError(
            conn, f"Connection to {conn.host} timed out. (connect timeout={conn.timeout})"
        ) from error
    raise urllib3.exceptions.NewConnectionError(conn, f"Failed to establish a new connection: {error}") from error


_AddressInfo = list[tuple[Any, Any, int, str, Any]]
_lookups: dict[tuple[str, int | None, int], Future[_AddressInfo]] = {}
_lookups_lock = threading.Lock()


def _lookup(host: str, port: int | None, family: int, seconds: float) -> _AddressInfo:
    """``getaddrinfo`` waited for at most ``seconds`` (then TimeoutError). A lookup cannot be interrupted, so it runs
    on a thread of its own, and a request for a name already being looked up waits for that lookup rather than
    starting another: a resolver that hangs costs one thread per name, whatever the number of polls."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:  # a literal address: nothing to look up, nothing to wait for
        return socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
    key = (host, port, family)
    with _lookups_lock:
        future = _lookups.get(key)
        if future is None:
            future = _lookups[key] = Future()
            threading.Thread(target=_run_lookup, args=(key, future), name="http-lookup", daemon=True).start()
    return future.result(timeout=max(0.0, seconds))


def _run_lookup(key: tuple[str, int | None, int], future: Future[_AddressInfo]) -> None:
    host, port, family = key
    try:
        future.set_result(socket.getaddrinfo(host, port, family, socket.SOCK_STREAM))
    except BaseException as exc:  # handed to whoever waits (gaierror, UnicodeError...)
        future.set_exception(exc)
    finally:
        with _lookups_lock:
            _lookups.pop(key, None)


class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _connect_within_deadline(self)

    def getresponse(self) -> urllib3.response.HTTPResponse:  # type: ignore[override]
        _watch_current(self.sock)
        return super().getresponse()


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _connect_within_deadline(self)

    def getresponse(self) -> urllib3.response.HTTPResponse:  # type: ignore[override]
        _watch_current(self.sock)
        return super().getresponse()


class _WatchedHTTPConnectionPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSConnectionPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS: dict[str, type[urllib3.connectionpool.HTTPConnectionPool]] = {
    "http": _WatchedHTTPConnectionPool,
    "https": _WatchedHTTPSConnectionPool,
}


class _DeadlineAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter with connections whose sockets the current request's :class:`_Deadline` can shut down."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        """The same watched connections through an HTTP(S) proxy (HTTPS_PROXY, HTTP_PROXY): the proxy's socket is the
        one a slow answer arrives on. (A SOCKS proxy has connection classes of its own and is not watched.)"""
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if isinstance(manager, urllib3.ProxyManager):
            manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager


class _BearerAuth(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "_BearerAuth([REDACTED])"


def parse_age(value: str | None) -> float:
    """The ``Age`` header as seconds, bounded to ``MAX_AGE_S``; 0 when absent or not delta-seconds (RFC 9111 §5.1).

    Several caches in a row each replace the header, so one value is the norm; a list (a broken proxy repeating
    it) counts as its largest value, the cautious reading.
    """
    if not value:
        return 0.0
    ages = [part.strip() for part in value.split(",")]
    if not all(part.isascii() and part.isdigit() for part in ages):
        return 0.0
    return min(MAX_AGE_S, float(max(int(part[:12]) for part in ages)))


def _check_token(token: str) -> None:
    """A token must be sendable as a header; say so without showing it."""
    if not token.isascii() or not token.isprintable() or any(c.isspace() for c in token):
        raise FeedError(
            "the API token contains spaces, control or non-ASCII characters and cannot be sent; check "
            "the environment variable or keyring entry it came from"
        )


def _printable(text: str) -> str:
    """A server-provided string made safe for one log line and the ticker (no control characters)."""
    return "".join(c if c.isprintable() else " " for c in text)


def _reason(exc: BaseException) -> str:
    """The innermost useful reason of a requests/urllib3 exception, without URLs full of query strings."""
    text = str(exc)
    for marker in ("Connection refused", "Connection reset", "Name or service not known", "certificate verify failed",
                   "timed out", "Remote end closed connection", "RemoteDisconnected", "hostname"):  # fmt: skip
        if marker in text:
            return marker
    return text.split(":")[-1].strip()[:120] or exc.__class__.__name__
