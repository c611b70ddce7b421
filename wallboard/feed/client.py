"""The HTTP client for the dispatch API: blocking, small, and strict. It runs on executor threads, never the GUI's.

One ``requests.Session`` per API (connection reuse), connect and read timeouts, TLS verified always (optionally
against the organisation's own CA bundle), ETag/If-None-Match per resource, and a cap on body size so a runaway
response cannot exhaust a kiosk's memory. Every failure becomes a :class:`FeedError` with a message fit for the
wall's ticker; the token never appears in one.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import requests

from wallboard import __version__
from wallboard.config import ApiConfig
from wallboard.core.freshness import parse_retry_after
from wallboard.logsetup import redact

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 20 * 1024 * 1024
CHUNK = 256 * 1024


class FeedError(Exception):
    """A request failed. ``str()`` is a short human message; ``retry_after_s`` is the server's wish, if any."""

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(redact(message))
        self.retry_after_s = retry_after_s


class HttpStatusError(FeedError):
    def __init__(self, status: int, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message, retry_after_s=retry_after_s)
        self.status = status


class TransportError(FeedError):
    """Connection refused/reset, timeout, DNS: the API could not be reached."""


class TlsError(FeedError):
    """The server's certificate was not trusted."""


class InvalidDocumentError(FeedError):
    """The response was not the JSON document the contract promises."""


class BodyTooLargeError(InvalidDocumentError):
    pass


class DispatchClient:
    """GET JSON documents from one dispatch API. Thread-safe for one request per resource at a time."""

    def __init__(self, base_url: str, api: ApiConfig, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.api = api
        self._session = requests.Session()
        self._session.headers["User-Agent"] = f"wallboard/{__version__}"
        self._session.headers["Accept"] = "application/json"
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"
        # TLS verification is not optional: either the system store or the configured CA bundle. It is passed with
        # every request, because requests lets REQUESTS_CA_BUNDLE from the environment override a session's verify.
        self._verify: str | bool = True
        if api.ca_bundle:
            if not Path(api.ca_bundle).is_file():
                raise FeedError(f"api.ca_bundle {api.ca_bundle!r} is not a readable file")
            self._verify = api.ca_bundle
        self._session.verify = self._verify
        self._etags: dict[str, tuple[str, Any]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never the headers: they hold the token
        return f"DispatchClient({self.base_url!r})"

    def close(self) -> None:
        self._session.close()

    def get_json(self, path: str, params: dict[str, str] | None = None, *, use_etag: bool = True) -> Any:
        """The decoded JSON document at ``path``. On 304 the cached document for the same URL is returned."""
        url = f"{self.base_url}{path}"
        key = url + "?" + "&".join(f"{k}={v}" for k, v in sorted((params or {}).items()))
        headers = {}
        with self._lock:
            cached = self._etags.get(key) if use_etag else None
        if cached:
            headers["If-None-Match"] = cached[0]
        try:
            response = self._session.get(
                url,
                params=params,
                headers=headers,
                timeout=(self.api.connect_timeout_s, self.api.read_timeout_s),
                stream=True,
                verify=self._verify,
            )
        except requests.exceptions.SSLError as exc:
            raise TlsError(
                f"TLS certificate of {self.base_url} not trusted ({_reason(exc)}); "
                "if your API uses an internal CA, set api.ca_bundle"
            ) from None
        except requests.exceptions.Timeout:
            raise TransportError(f"{path}: no answer within {self.api.read_timeout_s:g} s") from None
        except requests.exceptions.ConnectionError as exc:
            raise TransportError(f"{path}: cannot connect ({_reason(exc)})") from None
        except requests.exceptions.RequestException as exc:
            raise TransportError(f"{path}: {_reason(exc)}") from None
        with response:
            if response.status_code == 304 and cached:
                return cached[1]
            if response.status_code >= 400:
                raise self._status_error(path, response)
            body = self._read_capped(path, response)
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidDocumentError(f"{path}: response is not valid JSON ({exc.__class__.__name__})") from None
        etag = response.headers.get("ETag")
        if etag and use_etag:
            with self._lock:
                self._etags[key] = (etag, document)
        return document

    def _read_capped(self, path: str, response: requests.Response) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise BodyTooLargeError(f"{path}: response of {int(declared) // 2**20} MB refused (limit 20 MB)")
        chunks = []
        size = 0
        deadline = time.monotonic() + self.api.read_timeout_s * 3
        try:
            for chunk in response.iter_content(CHUNK):
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise BodyTooLargeError(f"{path}: response larger than 20 MB refused")
                if time.monotonic() > deadline:
                    raise TransportError(f"{path}: response too slow to arrive")
                chunks.append(chunk)
        except requests.exceptions.RequestException as exc:
            raise TransportError(f"{path}: connection broke while reading ({_reason(exc)})") from None
        return b"".join(chunks)

    def _status_error(self, path: str, response: requests.Response) -> HttpStatusError:
        detail = ""
        try:
            if response.headers.get("Content-Type", "").startswith("application/problem+json"):
                problem = json.loads(response.raw.read(65536, decode_content=True))
                detail = str(problem.get("detail") or problem.get("title") or "")[:200]
        except (ValueError, OSError, AttributeError):
            pass
        retry_after = parse_retry_after(response.headers.get("Retry-After"), time.time())
        status = response.status_code
        what = {401: "not authorised (check the API token)", 403: "forbidden", 404: "not found",
                429: "rate limited", 503: "service unavailable"}.get(status, "server error")  # fmt: skip
        message = f"{path}: HTTP {status} {what}" + (f": {detail}" if detail else "")
        return HttpStatusError(status, message, retry_after_s=retry_after)


def _reason(exc: BaseException) -> str:
    """The innermost useful reason of a requests/urllib3 exception, without URLs full of query strings."""
    text = str(exc)
    for marker in ("Connection refused", "Connection reset", "Name or service not known", "certificate verify failed",
                   "timed out", "Remote end closed connection", "RemoteDisconnected", "hostname"):  # fmt: skip
        if marker in text:
            return marker
    return text.split(":")[-1].strip()[:120] or exc.__class__.__name__
