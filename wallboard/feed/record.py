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
from wallboard.feed.sync import StreamSync

log = logging.getLogger(__name__)


class RecordingError(Exception):
    """The recording itself cannot go on (the disk is full, the file went away)."""


def record_feed(
    sync: StreamSync, writer: FeedWriter, clock: Clock, config: Config, stop: threading.Event, until: float | None
) -> int:
    """Poll every stream at its interval and append what arrives. Returns the number of records written."""
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
            try:
                result = sync.fetch(stream)
            except FeedError as exc:
                failures[stream] += 1
                log.warning("%s: %s (nothing lost: the cursor resumes)", stream, exc)
                due[stream] = now + backoff_delay(failures[stream], base_s=min(intervals[stream], 2.0),
                                                  cap_s=config.api.backoff_max_s, rng=rng,
                                                  retry_after_s=exc.retry_after_s)  # fmt: skip
                continue
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
        stop.wait(max(0.05, min(due.values()) - time.monotonic()))
    return writer.count


def public_source(url: str) -> str:
    """The API URL as written into the recording's header: without credentials or query (never a secret)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
