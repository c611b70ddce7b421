"""Incremental sync of the dispatch API's streams: cursors, paging, validation. No Qt; the blocking ``fetch`` runs
on an executor thread and returns plain results the hub applies on the GUI thread.

Validation is per item: a record that breaks the contract is skipped, counted and logged with its reason, and the
rest of the page is applied. A document that is not the promised shape at all (not an object, ``items`` not a list,
a broken queue) is a failure: nothing of it is applied and the last good state stays on the wall. The cursor only
moves when the hub commits it after applying a page, so an outage resumes where it left off: nothing is lost.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from wallboard.core.freshness import backoff_delay
from wallboard.core.model import Call, Incident, QueueState, Unit
from wallboard.core.records import Record
from wallboard.core.reference import ReferenceData
from wallboard.core.timeutil import parse_rfc3339
from wallboard.core.wire import (
    WireError,
    call_from_wire,
    check_times,
    incident_from_wire,
    queue_from_wire,
    reference_from_wire,
    shift_times,
    unit_from_wire,
)
from wallboard.feed.client import ContractError, FeedError, Fetched, HttpStatusError

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Hub streams and the API resources each one polls.
STREAM_RESOURCES: dict[str, tuple[str, ...]] = {
    "reference": ("reference",),
    "calls": ("calls", "incidents"),
    "units": ("units",),
    "queue": ("queue",),
}
CURSOR_RESOURCES = ("calls", "incidents", "units")
DECODERS: dict[str, Callable[[Any], Call | Incident | Unit]] = {
    "calls": call_from_wire,
    "incidents": incident_from_wire,
    "units": unit_from_wire,
}
#: Pages per poll: the rest of a backlog comes on the next poll (at once), so the GUI applies it in bounded bites.
MAX_PAGES_PER_FETCH = 5
PAGE_LIMIT = 1000
#: A server clock outside these years (2000–2199) is broken, not skewed: nothing of its page is used.
PLAUSIBLE_SERVER_TIME = (946_684_800.0, 7_258_118_400.0)
#: The contract's longest cursor.
MAX_CURSOR_LEN = 200
#: Default window around the server's clock outside which a timestamp is refused (about five years each way).
TIME_WINDOW_S = 5 * 365.25 * 86400
#: Server clock further than this from ours is reported: ages and the "today" window would be wrong on the wall.
SKEW_WARN_S = 60.0
#: A page with invalid items is fetched again (its cursor held) this many times before its bad items are given up:
#: a transient corruption (a proxy, a deploy in progress) then heals without losing those entities, while one
#: permanently broken record cannot pin the cursor and make every poll re-read the rest of the day.
INVALID_PAGE_RETRIES = 10
#: What a broken decoder or a hostile item can raise besides WireError; any of these skips the item, never the page.
ITEM_ERRORS = (WireError, ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError)


def cursor_scope_for(url: str) -> str:
    """A short digest of the API URL under which its cursors are saved: another server's cursors are never sent."""
    return hashlib.sha256(url.strip().rstrip("/").encode("utf-8", "replace")).hexdigest()[:12]


class FeedClient(Protocol):
    """What the sync needs of an HTTP client (:class:`wallboard.feed.client.DispatchClient`, or a test double)."""

    def fetch(self, path: str, params: dict[str, str] | None = None, *, use_etag: bool = True) -> Fetched: ...

    def close(self) -> None: ...


@dataclass
class SyncResult:
    """One fetch of one hub stream."""

    stream: str
    records: list[Call | Incident | Unit] = field(default_factory=list)
    queue: QueueState | None = None
    reference: ReferenceData | None = None
    cursors: dict[str, str] = field(default_factory=dict)  # resource -> cursor to commit after applying
    invalid: list[str] = field(default_factory=list)  # reasons, one per skipped item
    clock_skew_s: float | None = None  # server_time − board clock, measured as the last page arrived
    has_more: bool = False  # the page budget ran out with more pages waiting: poll again at once
    pages: int = 0
    not_modified: bool = False  # every document came from the ETag cache (HTTP 304)
    failures: dict[str, str] = field(default_factory=dict)  # resource -> why it failed (others of the stream worked)
    retry_after_s: float | None = None  # the server's wish for a failed resource
    token_rejected: bool = False  # a failed resource was refused our token (HTTP 401/403), now or when it last failed
    age_s: float = 0.0  # the oldest Age among the documents: how old this data already was when it arrived

    def all_records(self) -> list[Record]:
        """Everything this fetch brought, reference and queue first (the engine needs its Polres before records)."""
        head: list[Record] = [r for r in (self.reference, self.queue) if r is not None]
        return head + list(self.records)

    def skew_problem(self, threshold_s: float = SKEW_WARN_S) -> str | None:
        """A human message if the server's clock differs from ours by more than ``threshold_s``."""
        skew = self.clock_skew_s
        if skew is None or abs(skew) <= threshold_s:
            return None
        amount = f"{abs(skew) / 60:.0f} min" if abs(skew) >= 120 else f"{abs(skew):.0f} s"
        return f"server clock is {amount} {'ahead of' if skew > 0 else 'behind'} the board's clock"


class StreamSync:
    """Cursor state and the blocking fetch for each stream.

    ``fetch`` may run on any executor thread (one fetch per stream at a time); ``commit``, ``cursors`` and
    ``restore_cursors`` run on the thread that applies results. Cursors live in a dict per resource, and each
    stream touches only its own resources, so the two never race on the same key.

    The contract to the letter: the first request of a resource carries no cursor ("from the beginning"); only a
    cursor the server gave is ever sent back; a ``400`` to a request that carried a cursor drops it and starts that
    resource again from no cursor, once per fetch (the revision rule makes re-sent records harmless). Cursors are
    saved under ``cursor_scope`` (a digest of the API URL), so a board pointed at another server starts clean.
    A hub stream with several resources (calls and incidents) fetches each on its own: one failing never keeps the
    other from being polled; the failing one waits out its own back-off.
    """

    def __init__(
        self,
        client: FeedClient,
        polda_id: str | None,
        clock: Callable[[], float] | None = None,
        *,
        skew_tolerance_s: float = SKEW_WARN_S,
        cursor_scope: str = "",
        time_window_s: float = TIME_WINDOW_S,
        backoff_max_s: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self._clock = clock
        self.skew_tolerance_s = skew_tolerance_s
        #: Whole seconds to subtract from the server's timestamps: non-zero while its clock is off by more than
        #: the tolerance. The server stamps records with the same clock it reports as ``server_time``, so moving
        #: them onto the board's clock keeps "waiting for", response times and the day boundary right on the wall.
        self.time_correction_s = 0.0
        self.polda_id = polda_id
        self.cursor_scope = cursor_scope
        #: A timestamp further than this from the server's clock (or ours, before the server has told us its time)
        #: is refused with a reason: a year-0001 call would otherwise be "waiting for 63 billion seconds".
        self.time_window_s = time_window_s
        self.backoff_max_s = backoff_max_s
        self._monotonic = monotonic
        self._rng = rng or random.Random()
        self._server_time: float | None = None  # the server's clock at its last answer, minus our clock then
        self._cursors: dict[str, str] = {}
        self._held: dict[str, tuple[str, int]] = {}  # resource -> (cursor held on a page with bad items, retries)
        self._failures: dict[str, tuple[int, float]] = {}  # resource -> (consecutive failures, not before)
        self._token_refused: set[str] = set()  # resources whose last failure was a refused token (401/403)

    def _key(self, resource: str) -> str:
        return f"{self.cursor_scope}:{resource}" if self.cursor_scope else resource

    def cursors(self) -> dict[str, str]:
        """The committed cursor per resource (calls, incidents, units), keyed for the store to persist (under this
        API's scope)."""
        return {self._key(k): v for k, v in self._cursors.items()}

    def restore_cursors(self, cursors: dict[str, str]) -> None:
        """Resume from persisted cursors saved for this API; other APIs', unknown resources and unusable values
        are ignored."""
        for resource in CURSOR_RESOURCES:
            value = cursors.get(self._key(resource))
            if isinstance(value, str) and 0 < len(value) <= MAX_CURSOR_LEN:
                self._cursors[resource] = value

    def commit(self, cursors: dict[str, str]) -> None:
        """Advance the cursors, after the records fetched with them have been applied."""
        self._cursors.update(cursors)

    def _params(self, **extra: str) -> dict[str, str]:
        params = dict(extra)
        if self.polda_id:
            params["polda"] = self.polda_id
        return params

    def _time_bounds(self) -> tuple[float, float] | None:
        if self._clock is None:
            return None
        now = self._clock() + (self._server_time or 0.0)
        return now - self.time_window_s, now + self.time_window_s

    def fetch(self, stream: str) -> SyncResult:
        """Everything new on ``stream`` since the committed cursors. Raises FeedError on failure (for a stream of
        several resources: when none of them could be fetched; the failures of the others are in ``failures``)."""
        if stream not in STREAM_RESOURCES:
            raise ValueError(f"unknown stream {stream!r}")
        result = SyncResult(stream)
        if stream == "reference":
            self._fetch_reference(result)
        elif stream == "queue":
            fetched = self.client.fetch("/api/v1/queue", self._params())
            result.pages, result.not_modified, result.age_s = 1, fetched.not_modified, fetched.age_s
            try:
                bounds = self._time_bounds()
                if bounds is not None:
                    check_times(fetched.document, *bounds)
                result.queue = queue_from_wire(shift_times(fetched.document, -self.time_correction_s))
            except ITEM_ERRORS as exc:
                raise ContractError(f"/api/v1/queue: {exc}") from None
        else:
            resources = STREAM_RESOURCES[stream]
            modified = False
            errors: list[FeedError] = []
            now = self._monotonic()
            waiting = {r for r in resources if now < self._failures.get(r, (0, 0.0))[1]}
            if len(waiting) == len(resources):
                waiting = set()  # nothing else to poll: the hub's back-off of the whole stream applies
            for resource in resources:
                failures = self._failures.get(resource, (0, 0.0))[0]
                if resource in waiting:
                    result.failures[resource] = "waiting to retry after failures"
                    result.token_rejected |= resource in self._token_refused
                    continue
                try:
                    modified |= self._fetch_pages(resource, result)
                except FeedError as exc:
                    if len(resources) == 1:
                        raise  # the hub backs the whole stream off
                    failures += 1
                    delay = backoff_delay(failures, base_s=2.0, cap_s=self.backoff_max_s, rng=self._rng,
                                          retry_after_s=exc.retry_after_s)  # fmt: skip
                    self._failures[resource] = (failures, self._monotonic() + delay)
                    result.failures[resource] = str(exc)
                    result.retry_after_s = exc.retry_after_s
                    result.token_rejected |= exc.token_rejected
                    if exc.token_rejected:
                        self._token_refused.add(resource)
                    else:
                        self._token_refused.discard(resource)
                    errors.append(exc)
                else:
                    self._failures.pop(resource, None)
                    self._token_refused.discard(resource)
            if len(result.failures) == len(resources):
                # Nothing came: the stream failed as a whole, and the hub backs it off as a whole.
                for resource in resources:
                    self._failures.pop(resource, None)
                    self._token_refused.discard(resource)
                raise next((e for e in errors if e.token_rejected), errors[0])  # a refused token says the most
            result.not_modified = not modified
        return result

    def _fetch_reference(self, result: SyncResult) -> None:
        path = "/api/v1/reference"
        fetched = self.client.fetch(path, self._params())
        result.pages, result.not_modified, result.age_s = 1, fetched.not_modified, fetched.age_s
        try:
            result.reference = reference_from_wire(fetched.document, invalid=result.invalid)
        except ITEM_ERRORS as exc:
            raise ContractError(f"{path}: {exc}") from None

    def _fetch_pages(self, resource: str, result: SyncResult) -> bool:
        """Page through ``resource`` into ``result``; True if any page was new (not a 304)."""
        try:
            return self._fetch_pages_from(resource, result, self._cursors.get(resource))
        except HttpStatusError as exc:
            cursor = self._cursors.get(resource)
            if exc.status != 400 or cursor is None:
                raise
            # The contract: a server that cannot honour an old cursor answers 400, and the client starts again
            # from no cursor. Once per fetch: a 400 without a cursor is the server's (or our polda's) problem.
            log.warning(
                "%s: the server refused our cursor (%s); starting again from the beginning (records sent again "
                "are harmless: the newest revision wins)", resource, exc,
            )  # fmt: skip
            self._cursors.pop(resource, None)
            self._held.pop(resource, None)
            result.cursors.pop(resource, None)
            return self._fetch_pages_from(resource, result, None)

    def _fetch_pages_from(self, resource: str, result: SyncResult, cursor: str | None) -> bool:
        decode = DECODERS[resource]
        path = f"/api/v1/{resource}"
        modified = False
        has_more = False
        hold: str | None = None  # the cursor of the first page with invalid items ("" for none)
        limit = PAGE_LIMIT
        for _ in range(MAX_PAGES_PER_FETCH):
            # A page held for its bad items is asked for afresh: the ETag cache would hand back the same bad copy
            # (an ETag describes the server's data, not what a proxy or a fault did to it on the way).
            params = self._params(limit=str(limit)) if cursor is None else self._params(cursor=cursor, limit=str(limit))
            fetched = self.client.fetch(path, params, use_etag=resource not in self._held)
            result.pages += 1
            result.age_s = max(result.age_s, fetched.age_s)
            modified |= not fetched.not_modified
            items, next_cursor, has_more, server_time = _page_fields(path, fetched.document)
            if has_more and next_cursor == cursor:
                # "More" at the same cursor would have the board (and `wallboard record`) ask again at once, for
                # ever, storing the same page each time.
                raise ContractError(f"{path}: has_more is true but next_cursor did not move (protocol error)")
            if len(items) > limit:
                raise ContractError(
                    f"{path}: {len(items)} items on a page asked for at most {limit} (protocol error; page not used)"
                )
            if server_time is not None and self._clock is not None and not fetched.not_modified:
                # A page from a shared cache was written ``age_s`` ago: its server_time is that much behind the
                # server's clock now, which is not skew.
                skew = server_time + fetched.age_s - self._clock()
                result.clock_skew_s = skew
                self._server_time = skew
                self.time_correction_s = float(round(skew)) if abs(skew) > self.skew_tolerance_s else 0.0
            invalid_before = len(result.invalid)
            items = self._in_window(resource, items, result.invalid)
            if self.time_correction_s:
                items = [shift_times(item, -self.time_correction_s) for item in items]
            result.records.extend(_decode_items(resource, items, decode, result.invalid))
            if hold is None and len(result.invalid) > invalid_before:
                hold = cursor or ""
            cursor = next_cursor
            result.cursors[resource] = cursor
            if not has_more:
                break
        if hold is not None:
            held_cursor, retries = self._held.get(resource, (hold, 0))
            if held_cursor != hold:
                retries = 0
            if retries < INVALID_PAGE_RETRIES:
                # Everything valid is applied now; the bad items are asked for again next time.
                self._held[resource] = (hold, retries + 1)
                if hold:
                    result.cursors[resource] = hold
                else:  # the bad page was the first one: ask again from no cursor
                    result.cursors.pop(resource, None)
                    self._cursors.pop(resource, None)
            else:
                log.warning("%s: giving up on invalid items after %d retries", resource, retries)
                self._held.pop(resource, None)
        else:
            self._held.pop(resource, None)
        result.has_more |= has_more
        return modified

    def _in_window(self, resource: str, items: list[Any], invalid: list[str]) -> list[Any]:
        """The items whose timestamps all lie within the sane window; the others are reported as invalid."""
        bounds = self._time_bounds()
        if bounds is None:
            return items
        kept = []
        for index, item in enumerate(items):
            try:
                check_times(item, *bounds)
            except WireError as exc:
                item_id = item.get("id") if isinstance(item, dict) else None
                label = f" id={str(item_id)[:40]!r}" if item_id is not None else ""
                invalid.append(f"{resource}[{index}]{label}: {str(exc)[:200]}")
                continue
            kept.append(item)
        return kept


def _decode_items(resource: str, items: list[Any], decode: Callable[[Any], T], invalid: list[str]) -> list[T]:
    """Decode each item; a bad one is skipped and its reason appended to ``invalid``."""
    out: list[T] = []
    for index, item in enumerate(items):
        try:
            out.append(decode(item))
        except ITEM_ERRORS as exc:
            item_id = item.get("id") if isinstance(item, dict) else None
            label = f" id={str(item_id)[:40]!r}" if item_id is not None else ""
            invalid.append(f"{resource}[{index}]{label}: {str(exc)[:200]}")
    return out


def _page_fields(path: str, doc: Any) -> tuple[list[Any], str, bool, float | None]:
    if not isinstance(doc, dict):
        raise ContractError(f"{path}: expected a JSON object")
    items = doc.get("items")
    if not isinstance(items, list):
        raise ContractError(f"{path}: 'items' must be an array")
    next_cursor = doc.get("next_cursor")
    if not isinstance(next_cursor, str) or not next_cursor or len(next_cursor) > MAX_CURSOR_LEN:
        raise ContractError(f"{path}: 'next_cursor' must be a non-empty string")
    has_more = doc.get("has_more")
    if not isinstance(has_more, bool):
        raise ContractError(f"{path}: 'has_more' must be true or false")
    server_time = None
    if isinstance(doc.get("server_time"), str):
        try:
            server_time = parse_rfc3339(doc["server_time"])
        except (ValueError, OverflowError):
            server_time = None
        if server_time is not None and not PLAUSIBLE_SERVER_TIME[0] <= server_time < PLAUSIBLE_SERVER_TIME[1]:
            raise ContractError(f"{path}: server_time {doc['server_time'][:40]!r} is not a plausible clock")
    return items, next_cursor, has_more, server_time
