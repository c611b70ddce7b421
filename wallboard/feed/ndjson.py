"""The recorded-feed format: NDJSON, one record per line, exactly as the API sent it (docs/feed-format.md).

Line 1 is a header ``{"format": "wallboard-feed", "version": 1, ...}``; every other line is
``{"t": <arrival time, RFC 3339>, "stream": "calls"|"incidents"|"units"|"queue"|"reference", "record": {...}}``.
The reader validates every record with the same decoders as the live client: a bad line is skipped and reported
with its line number and reason, the rest is read.
"""

from __future__ import annotations

import errno
import io
import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from wallboard.core import records
from wallboard.core.records import STREAMS, Record
from wallboard.core.timeutil import format_rfc3339, parse_rfc3339
from wallboard.core.wire import WireError, check_times
from wallboard.files import AtomicOutput, is_recording

if TYPE_CHECKING:
    from wallboard.core.metrics import MetricsEngine

log = logging.getLogger(__name__)
FORMAT = "wallboard-feed"
VERSION = 1
#: Arrival times outside these years (2000–2199) are a broken line, not a recording.
PLAUSIBLE_ARRIVAL = (946_684_800.0, 7_258_118_400.0)
#: A line longer than this is skipped, read past without being held (a national reference line is a few MB). Decoded,
#: JSON takes up to ~30 times its text in Python objects, so 16 MiB is about half a gigabyte at worst.
MAX_LINE_BYTES = 16 * 1024 * 1024
#: Skipped lines remembered with their reason (all are counted).
MAX_PROBLEMS_KEPT = 1000
#: A record's own timestamps must lie within this many seconds of its arrival time (about five years each way).
RECORD_TIME_WINDOW_S = 5 * 365.25 * 86400
__all__ = ["STREAMS", "FeedLine", "FeedReader", "FeedWriter", "Record", "feed_engine_from_recording"]


class FeedWriter:
    """Appends records as they arrive: one line each, written per batch (a crashed recorder loses at most the batch
    being written). The lines go to a temporary file beside ``path`` (``wallboard.files.AtomicOutput``) that
    :meth:`close` syncs and renames over ``path``: a recording that fails half way never replaces the file, and the
    file is never something that is not ours (a link, a device, someone else's file: ``UnsafePathError`` at once).
    :meth:`abort` drops what was written. Usable as a context manager (an exception aborts).

    The file only ever holds whole lines: a batch is written with no buffer in between, and a write that fails
    part-way (the disk full, a file size limit) is cut back to the end of the last whole batch before the error
    is raised, so a recording that ends on an error is still readable to its last line."""

    def __init__(self, path: Path, *, tz: str, polda_id: str | None, source: str, what: str = "the recording") -> None:
        self.path = path
        self.tz = tz
        self._output = AtomicOutput(path, is_recording, what, encoding=None)
        # Written unbuffered (the raw file under the buffered one, which is never written to), so what reached the
        # file is known to the byte and a failed batch can be cut back (_append).
        buffered = self._output.file
        assert isinstance(buffered, io.BufferedWriter)
        self._file: IO[bytes] = buffered.raw
        self._size = 0  # bytes of whole lines written
        self.count = 0
        self.skipped = 0
        header = {"format": FORMAT, "version": VERSION, "tz": tz, "polda_id": polda_id, "source": source}
        try:
            self._append((json.dumps(header, ensure_ascii=False) + "\n").encode("utf-8"))
        except BaseException:
            self._output.abort()
            raise

    @property
    def temp_path(self) -> Path:
        """Where the lines are until :meth:`close` (what a crashed recorder leaves behind)."""
        return self._output.temp

    def write(self, arrived_at: float, batch: Iterable[Record]) -> None:
        """One batch that arrived at ``arrived_at`` (POSIX seconds)."""
        stamp = format_rfc3339(arrived_at, self.tz)
        lines = []
        for record in batch:
            # One record that cannot be written (a lone surrogate in an id, a time no calendar holds) is skipped
            # and logged; the rest of the batch, and the recording, go on.
            try:
                stream, wire = records.to_wire(record, self.tz)
                text = json.dumps({"t": stamp, "stream": stream, "record": wire}, ensure_ascii=False) + "\n"
                text.encode("utf-8")
            except (ValueError, TypeError, OverflowError, OSError) as exc:  # UnicodeEncodeError is a ValueError
                self.skipped += 1
                if self.skipped <= 20:
                    log.warning("%s: a record could not be written and was skipped: %s", self.path, str(exc)[:200])
                continue
            lines.append(text)
        if lines:
            self._append("".join(lines).encode("utf-8"))
        self.count += len(lines)

    def _append(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                written = self._file.write(view)
                if not written:  # cannot happen for a blocking file; never spin on it
                    raise OSError(errno.EIO, "nothing could be written")
                view = view[written:]
        except OSError:
            try:  # back to the last whole line: the part of the batch that got out is not a line
                os.ftruncate(self._file.fileno(), self._size)
                self._file.seek(self._size)
            except OSError as exc:
                log.error("%s: a line may be cut short at the end (%s)", self.path, exc.strerror or exc)
            raise
        self._size += len(data)

    def close(self) -> None:
        """Sync the file and put it in place of ``path`` (once; then a no-op)."""
        self._output.commit()

    def abort(self) -> None:
        """Drop what was written; ``path`` is left as it was."""
        self._output.abort()

    def keep(self) -> None:
        """Stop, leaving ``path`` as it was and what was written in :attr:`temp_path` (for an unexpected error)."""
        self._output.keep()

    def __enter__(self) -> FeedWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


@dataclass
class FeedLine:
    t: float  # arrival time, POSIX seconds
    stream: str
    record: Record
    line: int  # line number in the file (1-based), for messages


def _reject_constant(name: str) -> Any:
    # JSON has no NaN or Infinity; Python's json accepts them, the contract does not.
    raise ValueError(f"{name} is not a JSON number")


@dataclass
class FeedReader:
    """Reads a recording line by line (a day of a national feed does not have to fit in memory).

    ``header`` is the header line's object; ``problems`` lists (line number, reason) for every line that was
    skipped; ``count`` is the number of records read. A header with an unknown version raises ValueError: the whole
    file would be misread. Anything else wrong is one skipped line."""

    path: Path
    header: dict[str, Any] = field(default_factory=dict)
    problems: list[tuple[int, str]] = field(default_factory=list)  # the first MAX_PROBLEMS_KEPT skipped lines
    skipped: int = 0  # every skipped line
    count: int = 0

    def __iter__(self) -> Iterator[FeedLine]:
        self.problems.clear()
        self.skipped = 0
        self.header = {}
        self.count = 0
        first = True
        with open(self.path, "rb") as handle:
            number = 0
            while raw := handle.readline(MAX_LINE_BYTES + 1):
                number += 1
                if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    while (rest := handle.readline(1024 * 1024)) and not rest.endswith(b"\n"):
                        pass  # read past it a MiB at a time: never held whole
                    self._skip(number, f"longer than {MAX_LINE_BYTES // (1024 * 1024)} MiB")
                    continue
                try:
                    text = raw.decode("utf-8").strip()
                except UnicodeDecodeError as exc:
                    self._skip(number, f"not UTF-8 (byte {exc.start})")
                    continue
                if not text:
                    continue
                is_first, first = first, False
                try:
                    doc = json.loads(text, parse_constant=_reject_constant)
                except (ValueError, RecursionError) as exc:
                    reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
                    self._skip(number, f"not JSON ({reason})")
                    continue
                if isinstance(doc, dict) and "format" in doc and "record" not in doc:
                    self._read_header(number, doc, is_first)
                    continue
                if is_first:
                    log.warning("%s: no header line; reading the records anyway", self.path)
                try:
                    line = _decode_line(doc, number)
                except (WireError, ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
                    # Decoders raise WireError; the rest guards against inputs nobody thought of: a recording is
                    # untrusted input, and one odd line must never stop the reader.
                    self._skip(number, str(exc) or type(exc).__name__)
                    continue
                self.count += 1
                yield line

    def _read_header(self, number: int, doc: dict[str, Any], is_first: bool) -> None:
        if not is_first:
            self._skip(number, "a header line inside the file (two recordings joined?); skipped")
            return
        if doc.get("format") != FORMAT:
            raise ValueError(f"{self.path}: not a wallboard feed (format {str(doc.get('format'))[:40]!r})")
        if doc.get("version") != VERSION:
            raise ValueError(f"{self.path}: feed format version {str(doc.get('version'))[:20]} is not supported")
        self.header = doc

    def _skip(self, number: int, reason: str) -> None:
        self.skipped += 1
        if len(self.problems) < MAX_PROBLEMS_KEPT:  # a file of bad lines must not become a list as long as itself
            self.problems.append((number, reason))
        if self.skipped <= 20:
            log.warning("%s:%d skipped: %s", self.path, number, reason)
        elif self.skipped == 21:
            log.warning("%s: more lines skipped; not logging each", self.path)


def _decode_line(doc: Any, number: int) -> FeedLine:
    if not isinstance(doc, dict):
        raise WireError("line: expected a JSON object")
    if not isinstance(doc.get("t"), str):
        raise WireError("t: missing or not a string")
    try:
        t = parse_rfc3339(doc["t"])
    except ValueError as exc:
        raise WireError(f"t: {exc}") from None
    if not PLAUSIBLE_ARRIVAL[0] <= t < PLAUSIBLE_ARRIVAL[1]:
        raise WireError(f"t: {doc['t'][:40]!r} is not a plausible arrival time (years 2000 to 2199)")
    stream = doc.get("stream")
    if not isinstance(stream, str):
        raise WireError(f"stream: expected one of {', '.join(STREAMS)}")
    if "record" not in doc:
        raise WireError("record: missing")
    check_times(doc["record"], t - RECORD_TIME_WINDOW_S, t + RECORD_TIME_WINDOW_S)
    return FeedLine(t, stream, records.from_wire(stream, doc["record"]), number)


def feed_engine_from_recording(engine: MetricsEngine, path: Path, at: float | None) -> float:
    """Feed ``engine`` every record of the recording at ``path`` that had arrived by ``at`` (default: all of it);
    returns the moment the engine now stands at (``at``, or the last record's arrival)."""
    if not path.is_file():
        raise OSError(f"{path}: no such recording")
    reader = FeedReader(path)
    # A first pass holds nothing: the span, and whether the lines are in arrival order (a recording always is; a
    # converted export need not be). In order, the second pass applies each line as it is read, so a recording of
    # millions of revisions needs no more memory than the engine's state; out of order, the lines are held and
    # sorted (stable: lines with the same time keep their order).
    first = last = None
    in_order = True
    for line in reader:
        if first is None:
            first = line.t
        elif last is not None and line.t < last:
            in_order = False
        last = line.t if last is None else max(last, line.t)
    if reader.skipped:
        log.warning("%s: %d line(s) skipped", path, reader.skipped)
    if first is None or last is None:
        raise ValueError(f"{path}: the recording holds no records")
    every: Iterable[FeedLine] = reader
    if not in_order:
        held = sorted(reader, key=lambda line: line.t)
        if not held:  # emptied between the two passes
            raise ValueError(f"{path}: the recording holds no records")
        first, every = held[0].t, held
    if at is not None and not first - AT_MARGIN_S <= at <= last + AT_MARGIN_S:
        raise ValueError(
            f"--at {_moment(at)} is outside the recording (its records arrived from {_moment(first)} to "
            f"{_moment(last)})"
        )
    for line in every:
        if at is not None and line.t > at:
            break
        records.apply(engine, line.record)
    return last if at is None else at


#: ``--at`` may lie this far before the first or after the last record (a day: the board at the end of a shift).
AT_MARGIN_S = 86400.0


def _moment(t: float) -> str:
    try:
        return format_rfc3339(t)
    except (ValueError, OverflowError, OSError):
        return f"{t:.0f} s after 1970"
