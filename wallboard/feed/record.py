"""Recording the dispatch feed to NDJSON as it arrives (training, after-action review, audits): the poll loop."""

from __future__ import annotations

import logging
import random
import threading
import time
from urllib.parse import urlsplit, urlunsplit

from wallboard.config import Config
from wallboard.core.freshness import backoff_delay
from wallboard.core.timeutil import Clock
from wallboard.feed.client import FeedError
from wallboard.feed.ndjson import FeedWriter, Record
from wallboard.feed.sync import StreamSync, SyncResult

log = logging.getLogger(__name__)

#: How often the loop looks at ``stop`` while a request is under way or it waits for the next poll.
STOP_POLL_S = 0.1
#: After a stop, how long the request under way is given to end once its sockets are shut down (a name lookup
#: cannot be interrupted: past this it is abandoned, on a daemon thread, and its answer never written).
STOP_GRACE_S = 1.0


class RecordingError(Exception):
    """The recording itself cannot go on (the disk is full, the file went away)."""


class _Fetch(threading.Thread):
    """One ``sync.fetch(stream)`` off the recording's thread, so that the thread can see a stop meanwhile."""

    def __init__(self, sync: StreamSync, stream: str) -> None:
        super().__init__(name=f"record-{stream}", daemon=True)
        self._sync, self._stream = sync, stream
        self.result: SyncResult | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self._sync.fetch(self._stream)
        except BaseException as exc:  # handed to the recording's thread, which raises it there
            self.error = exc


def _fetch_unless_stopped(sync: StreamSync, stream: str, stop: threading.Event) -> SyncResult | None:
    """``sync.fetch(stream)``, or None within about ``STOP_POLL_S`` of ``stop`` being set: the client is aborted
    (the request's sockets shut down) and its answer, if one still comes, is never written."""
    fetch = _Fetch(sync, stream)
    fetch.start()
    while fetch.is_alive():
        fetch.join(STOP_POLL_S)
        if stop.is_set() and fetch.is_alive():
            abort = getattr(sync.client, "abort", None)  # DispatchClient has it; a test double may not
            if abort is not None:
                abort()
            fetch.join(STOP_GRACE_S)
            log.info("stopped while %s was being fetched: that answer is not recorded", stream)
            return None
    if fetch.error is not None:
        raise fetch.error
    assert fetch.result is not None
    return fetch.result


def _sleep_unless_stopped(stop: threading.Event, seconds: float) -> None:
    """Sleep, looking at ``stop`` every ``STOP_POLL_S``. Not ``stop.wait``: the command sets ``stop`` from a signal
    handler, which runs on this thread, and ``Event.set`` there would deadlock if the signal came while this thread
    held the event's lock inside ``wait``."""
    end = time.monotonic() + seconds
    while not stop.is_set():
        left = end - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(STOP_POLL_S, left))


def record_feed(
    sync: StreamSync, writer: FeedWriter, clock: Clock, config: Config, stop: threading.Event, until: float | None
) -> int:
    """Poll every stream at its interval and append what arrives. Returns the number of records written.

    ``stop`` is honoured within about a tenth of a second, during a request too (the request is abandoned and its
    answer not written); records are written on this thread only, whole lines at a time, so the file is complete
    however the recording ends. ``until`` (time.monotonic) is only checked between requests."""
    intervals = {"reference": config.api.poll_reference_s, "calls": config.api.poll_calls_s,
                 "units": config.api.poll_units_s, "queue": config.api.poll_queue_s}  # fmt: skip
    due = dict.fromkeys(intervals, 0.0)
    failures = dict.fromkeys(intervals, 0)
    rng = random.Random()
    while not stop.is_set() and (until is None or time.monotonic() < until):
        now = time.monotonic()
        for stream, at in due.items():
            if at > now:
                continue
            if stop.is_set():
                break
            try:
                result = _fetch_unless_stopped(sync, stream, stop)
            except FeedError as exc:
                failures[stream] += 1
                log.warning("%s: %s (nothing lost: the cursor resumes)", stream, exc)
                due[stream] = now + backoff_delay(failures[stream], base_s=min(intervals[stream], 2.0),
                                                  cap_s=config.api.backoff_max_s, rng=rng,
                                                  retry_after_s=exc.retry_after_s)  # fmt: skip
                continue
            if result is None:  # stopped
                break
            failures[stream] = 0
            records: list[Record] = []
            if result.reference is not None:
                records.append(result.reference)
            if result.queue is not None:
                records.append(result.queue)
            records.extend(result.records)
            if records:
                try:
                    writer.write(clock.now(), records)
                except OSError as exc:  # the disk, not a record: stop with a message
                    raise RecordingError(f"cannot write {writer.path}: {exc.strerror or exc}") from None
            sync.commit(result.cursors)
            for reason in result.invalid[:5]:
                log.warning("%s: invalid item skipped: %s", stream, reason)
            for resource, reason in result.failures.items():
                log.warning("%s: %s (nothing lost: the cursor resumes)", resource, reason)
            due[stream] = now if result.has_more else now + intervals[stream]  # a backlog: the rest at once
        _sleep_unless_stopped(stop, max(0.05, min(due.values()) - time.monotonic()))
    return writer.count


def public_source(url: str) -> str:
    """The API URL as written into the recording's header: without credentials or query (never a secret)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
