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
from collections.abc import Iterator
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
    """Appends records as they arrive; flushed per batch, fsynced on close."""

    def __init__(self, path: Path, *, tz: str, polda_id: str | None, source: str) -> None:
        self.path = path
        self.tz = tz
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        header = {"format": FORMAT, "version": VERSION, "tz": tz, "polda_id": polda_id, "source": source}
        self._file.write(json.dumps(header) + "\n")
        self.count = 0

    def write(self, arrived_at: float, records: list[Record]) -> None:
        stamp = format_rfc3339(arrived_at, self.tz)
        for record in records:
            stream, wire = encode_record(record, self.tz)
            self._file.write(json.dumps({"t": stamp, "stream": stream, "record": wire}, ensure_ascii=False) + "\n")
            self.count += 1
        self._file.flush()

    def close(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()


@dataclass
class FeedLine:
    t: float
    stream: str
    record: Record


@dataclass
class FeedReader:
    """Reads a recording; ``problems`` lists (line number, reason) for every line that was skipped."""

    path: Path
    header: dict[str, Any] = field(default_factory=dict)
    problems: list[tuple[int, str]] = field(default_factory=list)

    def __iter__(self) -> Iterator[FeedLine]:
        with open(self.path, encoding="utf-8") as handle:
            for number, text in enumerate(handle, start=1):
                text = text.strip()
                if not text:
                    continue
                try:
                    doc = json.loads(text)
                except json.JSONDecodeError as exc:
                    self._skip(number, f"not JSON ({exc.msg})")
                    continue
                if number == 1 and isinstance(doc, dict) and doc.get("format") == FORMAT:
                    if doc.get("version") != VERSION:
                        raise ValueError(f"{self.path}: feed format version {doc.get('version')} is not supported")
                    self.header = doc
                    continue
                try:
                    if not isinstance(doc, dict):
                        raise WireError("line: expected an object")
                    if not isinstance(doc.get("t"), str):
                        raise WireError("t: missing or not a string")
                    t = parse_rfc3339(doc["t"])
                    yield FeedLine(t, str(doc.get("stream")), decode_record(str(doc.get("stream")), doc.get("record")))
                except (WireError, ValueError) as exc:
                    self._skip(number, str(exc))

    def _skip(self, number: int, reason: str) -> None:
        self.problems.append((number, reason))
        if len(self.problems) <= 20:
            log.warning("%s:%d skipped: %s", self.path, number, reason)


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
    last = None
    reader = FeedReader(path)
    for line in reader:
        if at is not None and line.t > at:
            break
        ingest(engine, line.record)
        last = line.t
    if reader.problems:
        log.warning("%s: %d line(s) skipped", path, len(reader.problems))
    moment = at if at is not None else last
    if moment is None:
        raise ValueError(f"{path}: the recording holds no records")
    return engine, moment
