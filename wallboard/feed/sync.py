"""Incremental sync of the dispatch API's streams: cursors, paging, validation. No Qt; the blocking ``fetch`` runs
on an executor thread and returns plain results the hub applies on the GUI thread.

Validation is per item: a record that breaks the contract is skipped, counted and logged with its reason, and the
rest of the page is applied. A document that is not the promised shape at all (not an object, ``items`` not a list,
a broken queue) is a failure: nothing of it is applied and the last good state stays on the wall. The cursor only
moves when the hub commits it after applying a page, so an outage resumes where it left off: nothing is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wallboard.core.model import Call, Incident, QueueState, Unit
from wallboard.core.reference import ReferenceData
from wallboard.core.timeutil import parse_rfc3339
from wallboard.core.wire import (
    WireError,
    call_from_wire,
    incident_from_wire,
    polda_from_wire,
    polres_from_wire,
    queue_from_wire,
    unit_from_wire,
)
from wallboard.feed.client import DispatchClient, InvalidDocumentError

log = logging.getLogger(__name__)

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
MAX_PAGES_PER_FETCH = 50
PAGE_LIMIT = 1000


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


class StreamSync:
    """Cursor state and the blocking fetch for each stream."""

    def __init__(self, client: DispatchClient, polda_id: str | None, clock: Callable[[], float] | None = None) -> None:
        self.client = client
        self._clock = clock
        self.polda_id = polda_id
        self._cursors: dict[str, str] = {}

    def cursors(self) -> dict[str, str]:
        return dict(self._cursors)

    def restore_cursors(self, cursors: dict[str, str]) -> None:
        self._cursors.update({k: v for k, v in cursors.items() if k in CURSOR_RESOURCES})

    def commit(self, cursors: dict[str, str]) -> None:
        self._cursors.update(cursors)

    def _params(self, **extra: str) -> dict[str, str]:
        params = dict(extra)
        if self.polda_id:
            params["polda"] = self.polda_id
        return params

    def fetch(self, stream: str) -> SyncResult:
        """Everything new on ``stream`` since the committed cursors. Raises FeedError on failure."""
        result = SyncResult(stream)
        if stream == "reference":
            result.reference = self._fetch_reference()
        elif stream == "queue":
            doc = self.client.get_json("/api/v1/queue", self._params())
            try:
                result.queue = queue_from_wire(doc)
            except WireError as exc:
                raise InvalidDocumentError(f"/api/v1/queue: {exc}") from None
        else:
            for resource in STREAM_RESOURCES[stream]:
                self._fetch_pages(resource, result)
        return result

    def _fetch_reference(self) -> ReferenceData:
        doc = self.client.get_json("/api/v1/reference", self._params())
        if (
            not isinstance(doc, dict)
            or not isinstance(doc.get("poldas"), list)
            or not isinstance(doc.get("polres"), list)
        ):
            raise InvalidDocumentError("/api/v1/reference: expected an object with 'poldas' and 'polres' arrays")
        try:
            return ReferenceData.of(
                [polda_from_wire(p) for p in doc["poldas"]], [polres_from_wire(p) for p in doc["polres"]]
            )
        except WireError as exc:
            raise InvalidDocumentError(f"/api/v1/reference: {exc}") from None

    def _fetch_pages(self, resource: str, result: SyncResult) -> None:
        decode = DECODERS[resource]
        cursor = self._cursors.get(resource, "0")
        for _ in range(MAX_PAGES_PER_FETCH):
            path = f"/api/v1/{resource}"
            doc = self.client.get_json(path, self._params(cursor=cursor, limit=str(PAGE_LIMIT)))
            items, next_cursor, has_more, server_time = _page_fields(path, doc)
            if server_time is not None and self._clock is not None:
                result.clock_skew_s = server_time - self._clock()
            for index, item in enumerate(items):
                try:
                    result.records.append(decode(item))
                except WireError as exc:
                    item_id = item.get("id") if isinstance(item, dict) else None
                    reason = f"{resource}[{index}]" + (f" id={str(item_id)[:40]!r}" if item_id else "") + f": {exc}"
                    result.invalid.append(reason)
            cursor = next_cursor
            result.cursors[resource] = cursor
            if not has_more:
                break


def _page_fields(path: str, doc: Any) -> tuple[list[Any], str, bool, float | None]:
    if not isinstance(doc, dict):
        raise InvalidDocumentError(f"{path}: expected a JSON object")
    items = doc.get("items")
    if not isinstance(items, list):
        raise InvalidDocumentError(f"{path}: 'items' must be an array")
    next_cursor = doc.get("next_cursor")
    if not isinstance(next_cursor, str) or not next_cursor or len(next_cursor) > 200:
        raise InvalidDocumentError(f"{path}: 'next_cursor' must be a non-empty string")
    has_more = doc.get("has_more")
    if not isinstance(has_more, bool):
        raise InvalidDocumentError(f"{path}: 'has_more' must be true or false")
    server_time = None
    if isinstance(doc.get("server_time"), str):
        try:
            server_time = parse_rfc3339(doc["server_time"])
        except ValueError:
            server_time = None
    return items, next_cursor, has_more, server_time
