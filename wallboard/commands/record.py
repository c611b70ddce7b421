"""`wallboard record`: write the dispatch feed to NDJSON as it arrives (the embedded simulator's if no api.url)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from pathlib import Path

from wallboard.commands.base import OUTPUT_RULE, Command, add_demo_options, refuse
from wallboard.commands.wiring import board_polda, simulator
from wallboard.config import Config
from wallboard.core.timeutil import Clock, SystemClock
from wallboard.feed.auth import resolve_token
from wallboard.feed.client import DispatchClient, FeedError
from wallboard.feed.ndjson import FeedWriter
from wallboard.feed.record import RecordingError, public_source, record_feed
from wallboard.feed.sync import StreamSync, cursor_scope_for
from wallboard.files import UnsafePathError, check_output, is_recording

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, metavar="FILE.ndjson",
                   help=f"the recording to write. {OUTPUT_RULE} (an earlier recording is replaced)")  # fmt: skip
    p.add_argument("--api-url", help="dispatch API base URL (api.url); empty: embedded simulator")
    p.add_argument("--minutes", type=float, help="stop after this many minutes (default: until interrupted)")
    add_demo_options(p)


def run(args: argparse.Namespace, config: Config) -> int:
    polda = board_polda(config)
    out = Path(args.out)
    if args.minutes is not None and not args.minutes > 0:
        print(f"wallboard record: --minutes must be positive, not {args.minutes}", file=sys.stderr)
        return 2
    try:
        check_output(out, is_recording, "--out")
    except UnsafePathError as exc:
        return refuse("record", str(exc))
    sim = None
    clock: Clock
    if config.api.url:
        base_url, clock, token = config.api.url, SystemClock(), resolve_token(config.api)
    else:
        sim = simulator(config)
        base_url, clock, token = sim.url, sim.clock, None
    try:
        writer = FeedWriter(out, tz=config.board.tz, polda_id=polda, source=public_source(base_url), what="--out")
    except OSError as exc:
        if sim is not None:
            sim.stop()
        if isinstance(exc, UnsafePathError):
            return refuse("record", str(exc))
        return refuse("record", f"cannot write {out}: {exc.strerror or exc}")
    try:
        client = DispatchClient(base_url, config.api, token)
    except FeedError as exc:
        print(f"wallboard record: {exc}", file=sys.stderr)
        writer.abort()
        if sim is not None:
            sim.stop()
        return 2
    log.info("recording to %s (written to %s until the recording ends)", out, writer.temp_path)
    if sim is not None:
        sim.start()
        log.info("recording the embedded simulator (%s, ×%g)", config.demo.region, config.demo.speed)
    sync = StreamSync(
        client, polda, clock.now, cursor_scope=cursor_scope_for(base_url), backoff_max_s=config.api.backoff_max_s,
        time_window_s=config.api.time_window_days * 86400,
    )  # fmt: skip
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    until = None if args.minutes is None else time.monotonic() + args.minutes * 60
    status = 0
    failed: str | None = None
    count = 0
    try:
        count = record_feed(sync, writer, clock, config, stop, until)
    except RecordingError as exc:
        failed = str(exc)
    except Exception as exc:  # a defect of ours: never let it replace a good recording
        # The traceback is for whoever debugs it (log.level = DEBUG), not for the terminal of someone recording.
        log.error("recording stopped by an unexpected error: %r", exc, exc_info=log.isEnabledFor(logging.DEBUG))
        writer.keep()
        client.close()
        if sim is not None:
            sim.stop()
        print(f"wallboard record: stopped by an unexpected error ({type(exc).__name__}: {str(exc)[:200]}); {out} is "
              f"left as it was, what was recorded is in {writer.temp_path}", file=sys.stderr)  # fmt: skip
        return 1
    client.close()
    if sim is not None:
        sim.stop()
    if writer.count == 0:  # nothing arrived (the API down the whole time, say): an earlier recording stays
        writer.abort()
        why = failed or "no record arrived (see the log for why)"
        print(f"wallboard record: nothing was recorded: {why}; {out} is left as it was", file=sys.stderr)
        return 1
    try:  # what was recorded replaces --out, even when the recording stopped on an error: every line of it whole
        writer.close()
    except UnsafePathError as exc:  # --out became something else while we recorded
        status = refuse("record", str(exc), 1)
    except OSError as exc:
        writer.keep()  # named in the message: set aside, nothing deletes it now
        status = refuse("record", f"cannot finish {out}: {exc.strerror or exc} (what was recorded is in "
                        f"{writer.temp_path})", 1)  # fmt: skip
    if status:
        return status
    if failed is not None:
        print(f"wallboard record: {failed} (the {writer.count} records before it are kept, every line whole)",
              file=sys.stderr)  # fmt: skip
        return 1
    skipped = f" ({writer.skipped} that could not be written skipped)" if writer.skipped else ""
    print(f"recorded {count} records to {out}{skipped}")
    return 0


COMMAND = Command("record", "record the dispatch feed as it arrives to NDJSON", add_arguments, run)
