"""`wallboard record`: write the dispatch feed to NDJSON as it arrives (training, after-action review, audits)."""

from __future__ import annotations

import argparse
import logging
import random
import signal
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from wallboard.config import Config
from wallboard.core.freshness import backoff_delay
from wallboard.core.timeutil import Clock, SystemClock
from wallboard.feed.auth import resolve_token
from wallboard.feed.client import DispatchClient, FeedError
from wallboard.feed.ndjson import FeedWriter, Record
from wallboard.feed.sync import StreamSync, cursor_scope_for

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


def main(args: argparse.Namespace, config: Config) -> int:
    polda = None if config.board.polda_id in ("", "national", "indonesia") else config.board.polda_id
    out = Path(args.out)
    if args.minutes is not None and not args.minutes > 0:
        print(f"wallboard record: --minutes must be positive, not {args.minutes}", file=sys.stderr)
        return 2
    sim = None
    clock: Clock
    if config.api.url:
        base_url, clock, token = config.api.url, SystemClock(), resolve_token(config.api)
    else:
        from wallboard.sim.server import SimServer

        sim = SimServer(region=config.demo.region, seed=config.demo.seed, speed=config.demo.speed,
                        polsek_tier=config.demo.polsek_tier, history_hours=config.demo.history_hours)  # fmt: skip
        base_url, clock, token = sim.url, sim.clock, None
    try:
        writer = FeedWriter(out, tz=config.board.tz, polda_id=polda, source=public_source(base_url))
    except OSError as exc:
        print(f"wallboard record: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        if sim is not None:
            sim.stop()
        return 2
    if sim is not None:
        sim.start()
        log.info("recording the embedded simulator (%s, ×%g)", config.demo.region, config.demo.speed)
    try:
        client = DispatchClient(base_url, config.api, token)
    except FeedError as exc:
        print(f"wallboard record: {exc}", file=sys.stderr)
        writer.close()
        if sim is not None:
            sim.stop()
        return 2
    sync = StreamSync(
        client, polda, clock.now, cursor_scope=cursor_scope_for(base_url), backoff_max_s=config.api.backoff_max_s,
        time_window_s=config.api.time_window_days * 86400,
    )  # fmt: skip
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    until = None if args.minutes is None else time.monotonic() + args.minutes * 60
    try:
        count = record_feed(sync, writer, clock, config, stop, until)
    except RecordingError as exc:
        print(f"wallboard record: {exc}", file=sys.stderr)
        return 1
    finally:
        writer.close()
        sync.client.close()
        if sim is not None:
            sim.stop()
    skipped = f" ({writer.skipped} that could not be written skipped)" if writer.skipped else ""
    print(f"recorded {count} records to {out}{skipped}")
    return 0
