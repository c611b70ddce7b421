"""The recorded-feed format: NDJSON, one record per line, exactly as the API sent it (docs/feed-format.md).

Line 1 is a header ``{"format": "wallboard-feed", "version": 1, ...}``; every other line is
``{"t": <arrival time, RFC 3339>, "stream": "calls"|"incidents"|"units"|"queue"|"reference", "record": {...}}``.
The reader validates every record with the same decoders as the live client: a bad line is skipped and reported
with its line number and reason, the rest is read.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from wallboard.core.model import Call, Incident, QueueState, Unit
from wallboard.core.reference import ReferenceData
from wallboard.core.timeutil import format_rfc3339, parse_rfc3339
from wallboard.core.wire import (
    WireError,
    call_from_wire,
    call_to_wire,
    incident_from_wire,
    incident_to_wire,
    polda_from_wire,
    polda_to_wire,
    polres_from_wire,
    polres_to_wire,
    queue_from_wire,
    queue_to_wire,
    unit_from_wire,
    unit_to_wire,
)

if TYPE_CHECKING:
    from wallboard.config import Config
    from wallboard.core.metrics import MetricsEngine

log = logging.getLogger(__name__)
FORMAT = "wallboard-feed"
VERSION = 1
STREAMS = ("reference", "calls", "incidents", "units", "queue")
Record = Call | Incident | Unit | QueueState | ReferenceData


def encode_record(record: Record, tz: str | None = None) -> tuple[str, dict[str, Any]]:
    if isinstance(record, Call):
        return "calls", call_to_wire(record, tz)
    if isinstance(record, Incident):
        return "incidents", incident_to_wire(record, tz)
    if isinstance(record, Unit):
        return "units", unit_to_wire(record, tz)
    if isinstance(record, QueueState):
        return "queue", queue_to_wire(record, tz)
    return "reference", {
        "poldas": [polda_to_wire(p) for p in record.poldas.values()],
        "polres": [polres_to_wire(p) for p in record.polres.values()],
    }


def decode_record(stream: str, value: Any) -> Record:
    if stream == "calls":
        return call_from_wire(value)
    if stream == "incidents":
        return incident_from_wire(value)
    if stream == "units":
        return unit_from_wire(value)
    if stream == "queue":
        return queue_from_wire(value)
    if stream == "reference":
        if (
            not isinstance(value, dict)
            or not isinstance(value.get("poldas"), list)
            or not isinstance(value.get("polres"), list)
        ):
            raise WireError("reference: expected 'poldas' and 'polres' arrays")
        return ReferenceData.of(
            [polda_from_wire(p) for p in value["poldas"]], [polres_from_wire(p) for p in value["polres"]]
        )
    raise WireError(f"stream: {stream!r} is not one of {', '.join(STREAMS)}")


class FeedWriter:
    """Appends records as they arrive: one line each, flushed per batch (a crashed recorder loses at most the batch
    being written), fsynced on close. Usable as a context manager."""

    def __init__(self, path: Path, *, tz: str, polda_id: str | None, source: str) -> None:
        self.path = path
        self.tz = tz
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = open(path, "w", encoding="utf-8", buffering=1)  # noqa: SIM115 - closed in close()
        header = {"format": FORMAT, "version": VERSION, "tz": tz, "polda_id": polda_id, "source": source}
        self._file.write(json.dumps(header, ensure_ascii=False) + "\n")
        self.count = 0

    def write(self, arrived_at: float, records: Iterable[Record]) -> None:
        """One batch that arrived at ``arrived_at`` (POSIX seconds)."""
        stamp = format_rfc3339(arrived_at, self.tz)
        lines = []
        for record in records:
            stream, wire = encode_record(record, self.tz)
            lines.append(json.dumps({"t": stamp, "stream": stream, "record": wire}, ensure_ascii=False) + "\n")
        self._file.write("".join(lines))
        self._file.flush()
        self.count += len(lines)

    def close(self) -> None:
        if self._file.closed:
            return
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()

    def __enter__(self) -> FeedWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
    problems: list[tuple[int, str]] = field(default_factory=list)
    count: int = 0

    def __iter__(self) -> Iterator[FeedLine]:
        self.problems.clear()
        self.header = {}
        self.count = 0
        first = True
        with open(self.path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
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
        self.problems.append((number, reason))
        if len(self.problems) <= 20:
            log.warning("%s:%d skipped: %s", self.path, number, reason)
        elif len(self.problems) == 21:
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
    stream = doc.get("stream")
    if not isinstance(stream, str):
        raise WireError(f"stream: expected one of {', '.join(STREAMS)}")
    if "record" not in doc:
        raise WireError("record: missing")
    return FeedLine(t, stream, decode_record(stream, doc["record"]), number)


def ingest(engine: MetricsEngine, record: Record) -> None:
    if isinstance(record, Call):
        engine.ingest_call(record)
    elif isinstance(record, Incident):
        engine.ingest_incident(record)
    elif isinstance(record, Unit):
        engine.ingest_unit(record)
    elif isinstance(record, QueueState):
        engine.set_queue(record)
    else:
        engine.set_reference(record)


def build_engine_from_recording(config: Config, path: Path, at: float | None) -> tuple[MetricsEngine, float]:
    """A metrics engine fed with every record that had arrived by ``at`` (default: the end of the recording)."""
    from wallboard.app import board_polda, metrics_settings
    from wallboard.core.metrics import MetricsEngine
    from wallboard.resources import all_poldas

    if not path.is_file():
        raise OSError(f"{path}: no such recording")
    engine = MetricsEngine(all_poldas(), board_polda(config), metrics_settings(config))
    reader = FeedReader(path)
    # Stable sort by arrival: a converted export need not be in order, and lines with the same time keep theirs.
    lines = sorted((line for line in reader if at is None or line.t <= at), key=lambda line: line.t)
    for line in lines:
        ingest(engine, line.record)
    if reader.problems:
        log.warning("%s: %d line(s) skipped", path, len(reader.problems))
    if at is not None:
        return engine, at
    if not lines:
        raise ValueError(f"{path}: the recording holds no records")
    return engine, lines[-1].t
