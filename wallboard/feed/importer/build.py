"""Rows to feed records: group rows by key, aggregate, emit a revision at each milestone, write in time order.

Memory stays flat in the file's size: rows go to a scratch SQLite database as they are read (one row in memory at
a time), are read back grouped by key (one record's rows in memory at a time), and the revisions go to a second
table that SQLite sorts by time on disk before :class:`~wallboard.feed.ndjson.FeedWriter` writes them.
"""

from __future__ import annotations

import itertools
import marshal
import pickle
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from wallboard.core import records
from wallboard.core.model import (
    TIERS_IN_ORDER,
    Call,
    CallCategory,
    Escalation,
    GeoPoint,
    Incident,
    PositionFix,
    Priority,
    Tier,
    Unit,
    UnitKind,
    UnitStatus,
)
from wallboard.core.records import Record
from wallboard.core.reference import ReferenceData
from wallboard.core.wire import WireError
from wallboard.feed.importer.mapping import ImportMapping, RecordSpec
from wallboard.feed.importer.sources import RowSource
from wallboard.feed.importer.values import RowProblem, TimeParser, TimeStats, convert
from wallboard.feed.ndjson import FeedWriter

Report = Callable[[str], None]
Progress = Callable[[str, int, int | None, str], None]  # (phase, done, total, unit: "B", "rows", "records")
STREAM_OF_KIND = {"call": "calls", "incident": "incidents", "unit": "units"}
_UNIT_STATUS = {
    "dispatched_at": UnitStatus.DISPATCHED,
    "en_route_at": UnitStatus.EN_ROUTE,
    "on_scene_at": UnitStatus.ON_SCENE,
    "available_at": UnitStatus.AVAILABLE,
    "out_of_service_at": UnitStatus.OUT_OF_SERVICE,
}
_BUSY = (UnitStatus.DISPATCHED, UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE)


#: Distinct unknown Polres ids counted one by one in the summary; the records with others are only counted.
MAX_UNKNOWN_POLRES = 10_000


class RowSet:
    """Row numbers, one bit each: a file of millions of bad rows costs an eighth of a byte per line, not a Python
    int in a set (about 60 bytes) each."""

    def __init__(self) -> None:
        self._bits = bytearray()
        self._count = 0

    def add(self, number: int) -> None:
        index, bit = divmod(number, 8)
        if index >= len(self._bits):
            self._bits.extend(bytes(max(index + 1 - len(self._bits), len(self._bits) // 2)))
        if not self._bits[index] & (1 << bit):
            self._bits[index] |= 1 << bit
            self._count += 1

    def __contains__(self, number: object) -> bool:
        if not isinstance(number, int) or number < 0:
            return False
        index, bit = divmod(number, 8)
        return index < len(self._bits) and bool(self._bits[index] & (1 << bit))

    def __len__(self) -> int:
        return self._count


@dataclass
class Summary:
    """What an import read, wrote and skipped; printed at the end (``render``)."""

    source: str = ""
    rows_read: int = 0
    skipped_rows: RowSet = field(default_factory=RowSet)
    skip_reasons: Counter[str] = field(default_factory=Counter)
    problems: int = 0
    lines_by_stream: Counter[str] = field(default_factory=Counter)
    records_by_stream: Counter[str] = field(default_factory=Counter)
    first_t: float | None = None
    last_t: float | None = None
    negative_responses: int = 0
    long_responses: int = 0
    max_response_s: float = 6 * 3600.0
    negative_answer_waits: int = 0
    answered_and_abandoned: int = 0
    unknown_polres: Counter[str] = field(default_factory=Counter)
    unknown_polres_more: int = 0  # records whose unknown Polres came after MAX_UNKNOWN_POLRES distinct ones
    times: TimeStats = field(default_factory=TimeStats)
    tz: str = "Asia/Makassar"
    documents: int = 0  # EIDO documents read

    def unknown(self, polres_id: str) -> None:
        """A record whose Polres is not in the reference (the first MAX_UNKNOWN_POLRES ids counted one by one)."""
        if polres_id in self.unknown_polres or len(self.unknown_polres) < MAX_UNKNOWN_POLRES:
            self.unknown_polres[polres_id] += 1
        else:
            self.unknown_polres_more += 1

    @property
    def records_written(self) -> int:
        return sum(self.records_by_stream.values())

    def render(self) -> str:
        zone = ZoneInfo(self.tz)
        lines = [f"import of {self.source}"]
        unit = "documents" if self.documents else "rows"
        lines.append(f"  {unit} read: {self.documents or self.rows_read}")
        streams = ", ".join(
            f"{s} {self.records_by_stream[s]} ({self.lines_by_stream[s]} revisions)"
            for s in ("calls", "incidents", "units")
            if self.lines_by_stream[s]
        )
        lines.append(f"  records written: {streams or 'none'}")
        if self.skipped_rows or self.skip_reasons:
            reasons = ", ".join(f"{reason} {n}" for reason, n in self.skip_reasons.most_common())
            lines.append(f"  {unit} skipped: {len(self.skipped_rows)} ({reasons})")
        else:
            lines.append(f"  {unit} skipped: 0")
        if self.first_t is not None and self.last_t is not None:
            start = datetime.fromtimestamp(self.first_t, zone)
            end = datetime.fromtimestamp(self.last_t, zone)
            lines.append(f"  time span: {start:%Y-%m-%d %H:%M:%S} – {end:%Y-%m-%d %H:%M:%S} {self.tz}")
        lines.append(
            f"  response times: {self.negative_responses} negative (not written: on scene before the call), "
            f"{self.long_responses} longer than {self.max_response_s / 3600:g} h (kept, counted)"
        )
        if self.negative_answer_waits:
            lines.append(f"  calls answered before they were received: {self.negative_answer_waits} (kept)")
        if self.answered_and_abandoned:
            lines.append(f"  calls both answered and abandoned: {self.answered_and_abandoned} (kept as answered)")
        t = self.times
        offsets = ", ".join(f"{o} ×{n}" for o, n in t.with_offset.most_common())
        lines.append(
            f"  times: {t.naive} without offset (read in {self.tz})"
            + (f", {sum(t.with_offset.values())} with one ({offsets})" if t.with_offset else "")
        )
        if t.naive and t.with_offset:
            lines.append("  warning: the file mixes times with and without an offset")
        if t.foreign_offset:
            lines.append(f"  warning: {t.foreign_offset} time(s) carry an offset other than {self.tz}'s at that moment")
        if t.ambiguous or t.shifted:
            lines.append(
                f"  daylight saving: {t.ambiguous} ambiguous wall time(s) resolved by [time].ambiguous, "
                f"{t.shifted} in a gap shifted by [time].nonexistent"
            )
        if self.unknown_polres:
            ids = ", ".join(f"{p!r} ×{n}" for p, n in self.unknown_polres.most_common(8))
            if self.unknown_polres_more:
                ids += f" (and {self.unknown_polres_more} records with ids past the first {MAX_UNKNOWN_POLRES})"
            lines.append(f"  warning: Polres ids not in the reference (the board will not count them): {ids}")
        return "\n".join(lines)


class SortedOutput(AbstractContextManager["SortedOutput"]):
    """Records with their arrival time, kept on disk and written to the feed file in time order."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.db.execute("CREATE TABLE out (t REAL NOT NULL, seq INTEGER PRIMARY KEY, data BLOB NOT NULL)")
        self._pending: list[tuple[float, bytes]] = []
        self._tables = 0

    def new_table(self, columns: str) -> str:
        """A scratch table for one source's rows."""
        self._tables += 1
        name = f"rows_{self._tables}"
        self.db.execute(f"CREATE TABLE {name} ({columns})")
        return name

    def add(self, t: float, record: Record, summary: Summary) -> None:
        """One revision, arriving at ``t``; counted in the summary of the source it came from."""
        self._pending.append((t, pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)))
        summary.lines_by_stream[records.stream_of(record)] += 1
        if summary.first_t is None or t < summary.first_t:
            summary.first_t = t
        if summary.last_t is None or t > summary.last_t:
            summary.last_t = t
        if len(self._pending) >= 5000:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self.db.executemany("INSERT INTO out (t, data) VALUES (?, ?)", self._pending)
            self._pending.clear()

    def count(self) -> int:
        self.flush()
        return int(self.db.execute("SELECT COUNT(*) FROM out").fetchone()[0])

    def write(self, writer: FeedWriter, reference: ReferenceData | None, progress: Progress | None = None) -> int:
        """Every revision in time order (file order for equal times), after the reference line if there is one."""
        self.flush()
        total = self.count()
        first = self.db.execute("SELECT MIN(t) FROM out").fetchone()[0]
        if first is not None and reference is not None:
            writer.write(float(first), [reference])
        batch: list[Record] = []
        batch_t: float | None = None
        for done, (t, data) in enumerate(self.db.execute("SELECT t, data FROM out ORDER BY t, seq"), start=1):
            if t != batch_t and batch:
                writer.write(batch_t, batch)  # type: ignore[arg-type]
                batch = []
            batch_t = t
            batch.append(pickle.loads(data))
            if progress and done % 20000 == 0:
                progress("writing", done, total, "lines")
        if batch:
            writer.write(batch_t, batch)  # type: ignore[arg-type]
        return total

    def __exit__(self, *exc: object) -> None:
        self._pending.clear()


def scratch_db(directory: str) -> sqlite3.Connection:
    db = sqlite3.connect(Path(directory) / "import.sqlite", isolation_level=None)
    for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-16000", "temp_store=FILE"):
        db.execute(f"PRAGMA {pragma}")
    db.execute("BEGIN")
    return db


# --- aggregation ------------------------------------------------------------------------------------------------


def _merge(spec: RecordSpec, state: dict[str, Any], origin: dict[str, int], values: dict[str, Any], line: int
           ) -> list[tuple[str, str]]:  # fmt: skip
    """Fold one row into a record's state; returns (field, reason) conflicts instead (the row is then not used)."""
    conflicts = []
    for name, value in values.items():
        if value is None or spec.fields[name].type.event:
            continue
        current = state.get(name)
        if current is not None and spec.fields[name].agg == "same" and current != value:
            conflicts.append((name, f"{value!r} here, {current!r} on @{origin[name]}"))
    if conflicts:
        return conflicts
    for name, value in values.items():
        if value is None or spec.fields[name].type.event:
            continue
        agg = spec.fields[name].agg
        current = state.get(name)
        if agg == "list":
            items = state.setdefault(name, [])
            for item in value if isinstance(value, list) else [value]:
                if item not in items:
                    items.append(item)
        elif current is None or agg == "last":
            state[name] = value
            origin[name] = line
        elif (agg == "min" and value < current) or (agg == "max" and value > current):
            state[name] = value
    return []


def _at_or_before(value: float | None, t: float) -> float | None:
    return value if value is not None and value <= t else None


def _call_revisions(spec: RecordSpec, s: dict[str, Any], summary: Summary) -> list[tuple[float, Call]]:
    received = s["received_at"]
    first_tier = Tier(s.get("first_tier") or "polres")
    answered_at, abandoned_at = s.get("answered_at"), s.get("abandoned_at")
    if answered_at is not None and abandoned_at is not None:
        summary.answered_and_abandoned += 1
        abandoned_at = None
    answered_tier = Tier(s.get("answered_tier") or first_tier.value) if answered_at is not None else None
    if answered_at is not None and answered_at < received:
        summary.negative_answer_waits += 1
    escalations: list[Escalation] = []
    if answered_tier is not None and answered_tier.rank > first_tier.rank:
        tiers = [t for t in TIERS_IN_ORDER if first_tier.rank <= t.rank <= answered_tier.rank]
        for step, (a, b) in enumerate(itertools.pairwise(tiers), start=1):
            escalations.append(Escalation(a, b, min(received + step * spec.escalate_after_s, answered_at or received)))
    lat, lon = s.get("caller_lat"), s.get("caller_lon")
    final = Call(
        id=s["id"], rev=0, polres_id=s["polres_id"], received_at=received, first_tier=first_tier,
        escalations=tuple(escalations), answered_at=answered_at, answered_tier=answered_tier,
        abandoned_at=abandoned_at, category=CallCategory(s.get("category") or "unknown"),
        caller_number=s.get("caller_number"),
        caller_location=_point(lat, lon),
    )  # fmt: skip
    moments = {received}
    if "escalations" in spec.emit:
        moments.update(e.at for e in escalations)
    for name, value in (("answered_at", answered_at), ("abandoned_at", abandoned_at)):
        if name in spec.emit and value is not None:
            moments.add(value)
    out = []
    ordered = sorted(moments)
    for rev, t in enumerate(ordered, start=1):
        if t == ordered[-1]:
            out.append((t, replace(final, rev=rev)))
            continue
        answered = _at_or_before(answered_at, t)
        abandoned = _at_or_before(abandoned_at, t)
        decided = answered is not None or abandoned is not None
        out.append((t, replace(
            final, rev=rev, escalations=tuple(e for e in escalations if e.at <= t), answered_at=answered,
            answered_tier=answered_tier if answered is not None else None, abandoned_at=abandoned,
            category=final.category if decided else CallCategory.UNKNOWN,
        )))  # fmt: skip
    return out


_INCIDENT_TIMES = ("dispatched_at", "en_route_at", "on_scene_at", "closed_at")


def _incident_revisions(spec: RecordSpec, s: dict[str, Any], summary: Summary) -> list[tuple[float, Incident]]:
    received = s["call_received_at"]
    lat, lon = s.get("lat"), s.get("lon")
    final = Incident(
        id=s["id"], rev=0, polres_id=s["polres_id"], call_id=s.get("call_id"), call_received_at=received,
        priority=Priority(s.get("priority") or 2), kind=s.get("kind") or "",
        location=_point(lat, lon),
        dispatched_at=s.get("dispatched_at"), en_route_at=s.get("en_route_at"), on_scene_at=s.get("on_scene_at"),
        closed_at=s.get("closed_at"), unit_ids=tuple(s.get("unit_ids") or ()),
    )  # fmt: skip
    response = final.response_time_s
    if response is not None and response < 0:
        # The feed contract refuses an incident on scene before its call (every reader would skip it): count it,
        # say why, and write nothing for it.
        summary.negative_responses += 1
        summary.skip_reasons["on scene before the call"] += 1
        return []
    elif response is not None and response > spec.max_response_s:
        summary.long_responses += 1
    moments = {received} | {s[n] for n in _INCIDENT_TIMES if n in spec.emit and s.get(n) is not None}
    ordered = sorted(moments)
    out = []
    for rev, t in enumerate(ordered, start=1):
        if t == ordered[-1]:
            out.append((t, replace(final, rev=rev)))
            continue
        dispatched = _at_or_before(final.dispatched_at, t)
        out.append((t, replace(
            final, rev=rev, dispatched_at=dispatched, en_route_at=_at_or_before(final.en_route_at, t),
            on_scene_at=_at_or_before(final.on_scene_at, t), closed_at=_at_or_before(final.closed_at, t),
            unit_ids=final.unit_ids if dispatched is not None else (),
        )))  # fmt: skip
    return out


def _unit_revisions(spec: RecordSpec, s: dict[str, Any], events: list[tuple[float, int, dict[str, Any]]]
                    ) -> list[tuple[float, Unit]]:  # fmt: skip
    """A unit's timeline: one revision per status change, in time order, from every row that names the unit."""
    order = list(_UNIT_STATUS)
    changes: list[tuple[float, int, UnitStatus, str | None, GeoPoint | None]] = []
    for _line, _n, values in events:
        lat, lon = values.get("lat"), values.get("lon")
        where = _point(lat, lon)
        for name, status in _UNIT_STATUS.items():
            t = values.get(name)
            if t is not None:
                incident = values.get("incident_id") if status in _BUSY else None
                changes.append((t, order.index(name), status, incident, where))
    changes.sort(key=lambda c: (c[0], c[1]))
    out: list[tuple[float, Unit]] = []
    fix: PositionFix | None = None
    last: tuple[UnitStatus, str | None] | None = None
    for t, _order, status, incident, where in changes:
        if (status, incident) == last:
            continue
        last = (status, incident)
        if status is UnitStatus.ON_SCENE and where is not None:
            fix = PositionFix(where.lat, where.lon, None, 0.0, t)
        unit = Unit(
            id=s["id"], rev=len(out) + 1, callsign=s.get("callsign") or s["id"], polres_id=s["polres_id"],
            kind=UnitKind(s.get("kind") or "R4"), status=status, fix=fix, incident_id=incident,
        )  # fmt: skip
        out.append((t, unit))
    return out


def _valid(record: Call | Incident | Unit) -> None:
    """The last revision goes through the wire decoder: what the importer writes, the board reads. (Used where the
    values come from outside the mapping's typed conversions, e.g. EIDO; rows are checked field by field.)"""
    stream, wire = records.to_wire(record)
    records.from_wire(stream, wire)


def _point(lat: float | None, lon: float | None) -> GeoPoint | None:
    if lat is None or lon is None:
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"({lat}, {lon}) is not a WGS84 latitude/longitude")
    return GeoPoint(lat, lon)


# --- the import -------------------------------------------------------------------------------------------------


@dataclass
class RowImport:
    mapping: ImportMapping
    source: RowSource
    reference: ReferenceData  # to check Polres ids against
    report: Report
    progress: Progress | None = None
    summary: Summary = field(default_factory=Summary)

    def _problem(self, number: int, column: str, reason: str, detail: str) -> None:
        self.summary.problems += 1
        if number not in self.summary.skipped_rows:
            self.summary.skipped_rows.add(number)
            self.summary.skip_reasons[reason] += 1
        where = self.source.location(number) + (f", column {column}" if column else "")
        self.report(f"{where}: {detail}")

    def collect(self, output: SortedOutput, source_name: str) -> Summary:
        """Read every row, build the records and add their revisions to ``output``."""
        summary = self.summary
        summary.source = source_name
        summary.tz = self.mapping.time.tz
        summary.max_response_s = max((r.max_response_s for r in self.mapping.records), default=6 * 3600.0)
        times = TimeParser(self.mapping.time)
        summary.times = times.stats
        table = output.new_table("spec INTEGER, key TEXT, line INTEGER, data BLOB")
        self._read(output.db, table, times)
        self._build(output.db, table, output)
        return summary

    def _source_problems(self) -> None:
        """Report the rows the source could not read, and forget them (a file of bad rows must not pile up)."""
        for number, column, reason in self.source.problems:
            self._problem(number, column, "unreadable row", reason)
        self.source.problems.clear()

    def _read(self, db: sqlite3.Connection, table: str, times: TimeParser) -> None:
        specs = self.mapping.records
        names = [list(spec.fields) for spec in specs]
        batch: list[tuple[int, str, int, bytes]] = []
        for row in self.source:
            self.summary.rows_read += 1
            for index, spec in enumerate(specs):
                try:
                    key = "\x1f".join(str(row.cells.get(c, "")).strip() for c in spec.key)
                    if not key.strip("\x1f"):
                        raise RowProblem(", ".join(spec.key), "missing value", "the key is empty")
                    values = tuple(convert(spec.fields[n], row.cells, times) for n in names[index])
                except RowProblem as problem:
                    self._problem(row.number, problem.column, problem.reason, problem.detail)
                    continue
                batch.append((index, key, row.number, marshal.dumps(values)))
            if len(batch) >= 5000:
                db.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?)", batch)
                batch.clear()
            if self.progress and self.summary.rows_read % 2000 == 0:
                self.progress("reading", *self.source.progress(), self.source.unit)
            self._source_problems()
        self._source_problems()
        if batch:
            db.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?)", batch)
        if self.progress:
            self.progress("reading", *self.source.progress(), self.source.unit)

    def _groups(self, db: sqlite3.Connection, table: str, index: int
                ) -> Iterator[tuple[str, list[tuple[int, tuple[Any, ...]]]]]:  # fmt: skip
        key: str | None = None
        rows: list[tuple[int, tuple[Any, ...]]] = []
        query = f"SELECT key, line, data FROM {table} WHERE spec = ? ORDER BY key, line"
        for k, line, data in db.execute(query, (index,)):
            if k != key and rows:
                yield key, rows  # type: ignore[misc]
                rows = []
            key = k
            rows.append((line, marshal.loads(data)))
        if rows:
            yield key, rows  # type: ignore[misc]

    def _build(self, db: sqlite3.Connection, table: str, output: SortedOutput) -> None:
        db.execute(f"CREATE INDEX {table}_by_key ON {table} (spec, key, line)")
        known = self.reference.polres
        done = 0
        total = self.summary.rows_read
        for index, spec in enumerate(self.mapping.records):
            names = list(spec.fields)
            stream = STREAM_OF_KIND[spec.kind]
            for key, rows in self._groups(db, table, index):
                state: dict[str, Any] = {}
                origin: dict[str, int] = {}
                events: list[tuple[float, int, dict[str, Any]]] = []
                first_line = rows[0][0]
                for line, values in rows:
                    row = dict(zip(names, values, strict=True))
                    conflicts = _merge(spec, state, origin, row, line)
                    for name, detail in conflicts:
                        origin_line = origin[name]
                        shown = detail.replace(f"@{origin_line}", self.source.location(origin_line))
                        column = ", ".join(spec.fields[name].columns) or name
                        self._problem(line, column, "conflicting duplicate",
                                      f"duplicate key {key.replace(chr(31), ' / ')!r}: {name} is {shown}")  # fmt: skip
                    if not conflicts and spec.kind == "unit":
                        events.append((line, len(events), {n: v for n, v in row.items() if spec.fields[n].type.event}))
                if not state:
                    continue
                try:
                    revisions: list[tuple[float, Any]]
                    if spec.kind == "call":
                        revisions = list(_call_revisions(spec, state, self.summary))
                    elif spec.kind == "incident":
                        revisions = list(_incident_revisions(spec, state, self.summary))
                    else:
                        revisions = list(_unit_revisions(spec, state, events))
                except (WireError, ValueError, KeyError) as exc:
                    self._problem(first_line, "", "record breaks the feed contract", f"{spec.kind} {key!r}: {exc}")
                    continue
                if not revisions:
                    continue
                if state["polres_id"] not in known:
                    self.summary.unknown(state["polres_id"])
                self.summary.records_by_stream[stream] += 1
                for t, record in revisions:
                    output.add(t, record, self.summary)
                done += len(rows)
                if self.progress and done % 20000 < len(rows):
                    self.progress("building", done, total, "rows")


class Collector(Protocol):
    mapping: ImportMapping

    def collect(self, output: SortedOutput, source_name: str) -> Summary: ...


def write_imports(jobs: list[tuple[Collector, str]], out: Path, progress: Progress | None = None) -> list[Summary]:
    """Run each (importer, source name) into one scratch store and write one recording, in time order: a
    contact-centre export and a CAD export of the same day become one feed. The first mapping's zone and Polda
    go in the header; the mappings' own reference data, merged, is the recording's reference line."""
    summaries = []
    with tempfile.TemporaryDirectory(prefix="wallboard-import-") as scratch:
        db = scratch_db(scratch)
        try:
            output = SortedOutput(db)
            for importer, name in jobs:
                summaries.append(importer.collect(output, name))
            head = jobs[0][0].mapping
            reference: ReferenceData | None = None
            for importer, _name in jobs:
                data = importer.mapping.reference.data
                if data is not None:
                    reference = data if reference is None else reference.merged(data)
            names = ", ".join(name for _importer, name in jobs)
            with FeedWriter(out, tz=head.time.tz, polda_id=head.reference.polda_id,
                            source=f"wallboard import of {names}", what="--out") as writer:  # fmt: skip
                output.write(writer, reference, progress)
        finally:
            db.close()
    return summaries
