"""The import mapping: a TOML file that says how another system's export becomes feed records (docs/import.md).

``load_mapping(path)`` reads and validates it. Every problem is reported at once, each with the file, the line and
the option (``calls.toml:14: record[1].fields.polres_id.map: ...``), the way the main configuration reports its
own; nothing is imported from a mapping that has one.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wallboard.core.model import CallCategory, Tier, UnitKind
from wallboard.core.reference import ReferenceData
from wallboard.core.wire import WireError, reference_from_wire
from wallboard.files import UnsafePathError, read_regular

FORMATS = ("csv", "xlsx", "eido")
KINDS = ("call", "incident", "unit")
AGGREGATIONS = ("same", "first", "last", "min", "max", "list")
TIME_KEYWORDS = ("iso", "excel", "epoch")


#: A mapping is a few kilobytes and a Polda's reference a few megabytes; anything past these is not one (and a FIFO
#: or /dev/zero is refused before it is read: wallboard.files.read_regular).
MAX_MAPPING_BYTES = 1024 * 1024
MAX_REFERENCE_BYTES = 16 * 1024 * 1024  # decoded up to ~30× its size in objects: half a gigabyte at worst


class MappingError(Exception):
    """The mapping file is unreadable or invalid; the message lists every problem with its line."""


@dataclass(frozen=True)
class FieldType:
    """What a record field holds and how rows combine into it by default."""

    kind: str  # id, text, time, tier, category, priority, float, unitkind
    required: bool = False
    agg: str = "same"
    event: bool = False  # unit timelines: a per-row value, not aggregated


_ID = FieldType("id")
_TIME = FieldType("time", agg="min")
_FLOAT = FieldType("float")

#: Every field each kind of record has, with its type; docs/import.md lists the same.
FIELDS: dict[str, dict[str, FieldType]] = {
    "call": {
        "id": FieldType("id", required=True),
        "polres_id": FieldType("id", required=True),
        "received_at": FieldType("time", required=True, agg="min"),
        "first_tier": FieldType("tier"),
        "answered_at": _TIME,
        "answered_tier": FieldType("tier"),
        "abandoned_at": _TIME,
        "category": FieldType("category"),
        "caller_number": FieldType("text"),
        "caller_lat": _FLOAT,
        "caller_lon": _FLOAT,
    },
    "incident": {
        "id": FieldType("id", required=True),
        "polres_id": FieldType("id", required=True),
        "call_id": _ID,
        "call_received_at": FieldType("time", required=True, agg="min"),
        "priority": FieldType("priority"),
        "kind": FieldType("text"),
        "lat": _FLOAT,
        "lon": _FLOAT,
        "dispatched_at": _TIME,
        "en_route_at": _TIME,
        "on_scene_at": _TIME,
        "closed_at": FieldType("time", agg="max"),
        "unit_ids": FieldType("id", agg="list"),
    },
    "unit": {
        "id": FieldType("id", required=True),
        "callsign": FieldType("text", agg="last"),
        "polres_id": FieldType("id", required=True, agg="last"),
        "kind": FieldType("unitkind", agg="last"),
        "incident_id": FieldType("id", event=True),
        "lat": FieldType("float", event=True),
        "lon": FieldType("float", event=True),
        "dispatched_at": FieldType("time", event=True),
        "en_route_at": FieldType("time", event=True),
        "on_scene_at": FieldType("time", event=True),
        "available_at": FieldType("time", event=True),
        "out_of_service_at": FieldType("time", event=True),
    },
}

#: Milestones a revision can be emitted at, per kind, in the order they happen; the defaults emit at all of them.
MILESTONES: dict[str, tuple[str, ...]] = {
    "call": ("received_at", "escalations", "answered_at", "abandoned_at"),
    "incident": ("call_received_at", "dispatched_at", "en_route_at", "on_scene_at", "closed_at"),
    "unit": ("dispatched_at", "en_route_at", "on_scene_at", "available_at", "out_of_service_at"),
}

_ENUM_VALUES: dict[str, tuple[str, ...]] = {
    "tier": tuple(t.value for t in Tier),
    "category": tuple(c.value for c in CallCategory),
    "unitkind": tuple(k.value for k in UnitKind),
    "priority": ("1", "2", "3"),
}


@dataclass(frozen=True)
class SourceSpec:
    format: str | None = None  # None: from the file name
    encoding: str = "auto"  # auto: UTF-8 (with or without BOM) unless the file is not UTF-8, then Windows-1252
    delimiter: str = "auto"  # auto: sniffed from the first lines
    quotechar: str = '"'
    sheet: str | int | None = None  # XLSX: name or 1-based number; None: the first sheet
    header_row: int = 1


@dataclass(frozen=True)
class TimeSpec:
    tz: str = "Asia/Makassar"
    formats: tuple[str, ...] = ("iso",)
    ambiguous: str = "earlier"  # a wall time the clocks pass twice: earlier, later or reject
    nonexistent: str = "reject"  # a wall time skipped by a DST change: reject or shift (read it in the old offset)


@dataclass(frozen=True)
class ReferenceSpec:
    polda_id: str | None = "kaltim"
    shipped: bool = True
    data: ReferenceData | None = None  # from `file` or inline tables; written as the recording's reference line


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: FieldType
    where: str  # "record[1].fields.polres_id", for messages
    columns: tuple[str, ...] = ()
    value: Any = None  # a constant instead of a column
    map: dict[str, Any] | None = None  # keys compared after strip() and casefold()
    unmapped: str = "error"  # a value missing from the map: error (skip the row), keep, or default
    default: Any = None  # for an empty cell (and an unmapped value with unmapped = "default")
    agg: str = "same"
    formats: tuple[str, ...] | None = None  # time formats for this field (default: [time].formats)
    split: str | None = None  # list fields: one cell holds several values separated by this


@dataclass(frozen=True)
class RecordSpec:
    kind: str
    index: int  # 1-based position among [[record]] tables
    key: tuple[str, ...]  # columns that identify the record; rows with the same key make one record
    fields: dict[str, FieldSpec]
    emit: tuple[str, ...]
    escalate_after_s: float = 10.0  # calls: escalations between first and answered tier, one per this many seconds
    max_response_s: float = 6 * 3600.0  # incidents: longer responses are counted as implausible

    @property
    def where(self) -> str:
        return f"record[{self.index}]"


@dataclass(frozen=True)
class EidoSpec:
    polres_from: str = "beat"  # beat (incidentComponent.beatOrDispatchGroupText), agency, or constant
    polres_map: dict[str, str] = field(default_factory=dict)
    default_polres: str | None = None
    priority_map: dict[str, int] = field(default_factory=dict)  # incidentCommonPriorityNumber → 1..3
    unit_kind_map: dict[str, str] = field(default_factory=dict)  # emergencyResourceTypeCommonRegistryText → R2/R4


@dataclass(frozen=True)
class ImportMapping:
    path: Path | None
    source: SourceSpec
    time: TimeSpec
    reference: ReferenceSpec
    records: tuple[RecordSpec, ...]
    eido: EidoSpec = field(default_factory=EidoSpec)

    @property
    def columns(self) -> set[str]:
        """Every column the mapping names (the source must have them all)."""
        out: set[str] = set()
        for record in self.records:
            out.update(record.key)
            for spec in record.fields.values():
                out.update(spec.columns)
        return out


# --- locating options in the text ---------------------------------------------------------------------------------

_KEY_PART = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_KEY_LINE = re.compile(rf"^\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*=")
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*\]\]?")


def _parts(dotted: str) -> list[str]:
    return [p.strip().strip("\"'") for p in re.findall(_KEY_PART, dotted)]


def line_index(text: str) -> dict[tuple[str, ...], int]:
    """Where each table and key is defined: path (array elements as "1", "2"...) → 1-based line."""
    index: dict[tuple[str, ...], int] = {}
    arrays: dict[tuple[str, ...], int] = {}
    current: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            path: list[str] = []
            parts = _parts(header.group(2))
            for position, part in enumerate(parts):
                path.append(part)
                is_last = position == len(parts) - 1
                if header.group(1) == "[[" and is_last:
                    arrays[tuple(path)] = arrays.get(tuple(path), 0) + 1
                if tuple(path) in arrays:
                    path.append(str(arrays[tuple(path)]))
            current = tuple(path)
            index.setdefault(current, number)
            continue
        key = _KEY_LINE.match(line)
        if key:
            index.setdefault((*current, *_parts(key.group(1))), number)
    return index


def _locate(index: dict[tuple[str, ...], int], path: tuple[str, ...]) -> int | None:
    for end in range(len(path), 0, -1):
        if path[:end] in index:
            return index[path[:end]]
    return None


def _where(path: tuple[str, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


# --- validation -----------------------------------------------------------------------------------------------------


class _Checker:
    """Collects problems as (path, message) so the file's lines can be added at the end."""

    def __init__(self) -> None:
        self.problems: list[tuple[tuple[str, ...], str]] = []

    def add(self, path: tuple[str, ...], message: str) -> None:
        self.problems.append((path, message))

    def table(self, value: Any, path: tuple[str, ...]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(path, f"must be a table, not {type(value).__name__}")
            return {}
        return value

    def unknown(self, table: dict[str, Any], known: tuple[str, ...] | set[str], path: tuple[str, ...]) -> None:
        for key in table:
            if key not in known:
                self.add((*path, key), f"unknown option (known: {', '.join(sorted(known))})")

    def string(self, table: dict[str, Any], key: str, path: tuple[str, ...], default: str) -> str:
        value = table.get(key, default)
        if not isinstance(value, str):
            self.add((*path, key), f"must be a string, not {value!r}")
            return default
        return value

    def choice(self, table: dict[str, Any], key: str, path: tuple[str, ...], choices: tuple[str, ...]) -> str:
        value = self.string(table, key, path, choices[0])
        if value not in choices:
            self.add((*path, key), f"{value!r} is not one of {', '.join(choices)}")
            return choices[0]
        return value

    def number(self, table: dict[str, Any], key: str, path: tuple[str, ...], default: float, lo: float) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < lo:
            self.add((*path, key), f"must be a number of at least {lo:g}, not {value!r}")
            return default
        return float(value)

    def strings(self, table: dict[str, Any], key: str, path: tuple[str, ...]) -> tuple[str, ...] | None:
        if key not in table:
            return None
        value = table[key]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            self.add((*path, key), "must be a non-empty string or a list of non-empty strings")
            return None
        return tuple(value)


def _check_zone(checker: _Checker, path: tuple[str, ...], tz: str) -> None:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        checker.add(path, f"unknown time zone {tz!r} (use an IANA name such as Asia/Makassar or Europe/Amsterdam)")


def _check_formats(checker: _Checker, path: tuple[str, ...], formats: tuple[str, ...]) -> None:
    for fmt in formats:
        if fmt not in TIME_KEYWORDS and "%" not in fmt:
            checker.add(path, f"{fmt!r} is neither iso, excel, epoch nor a strftime pattern such as %d/%m/%Y %H:%M")


def _source(checker: _Checker, raw: Any) -> SourceSpec:
    path = ("source",)
    table = checker.table(raw, path)
    checker.unknown(table, ("format", "encoding", "delimiter", "quotechar", "sheet", "header_row"), path)
    fmt = table.get("format")
    if fmt is not None and fmt not in FORMATS:
        checker.add((*path, "format"), f"{fmt!r} is not one of {', '.join(FORMATS)}")
        fmt = None
    encoding = checker.string(table, "encoding", path, "auto")
    if encoding != "auto":
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            checker.add((*path, "encoding"), f"unknown encoding {encoding!r} (e.g. utf-8, cp1252, auto)")
            encoding = "auto"
    delimiter = checker.string(table, "delimiter", path, "auto")
    if delimiter == "\\t":
        delimiter = "\t"
    if delimiter != "auto" and len(delimiter) != 1:
        checker.add((*path, "delimiter"), f"must be one character or auto, not {delimiter!r}")
        delimiter = "auto"
    quotechar = checker.string(table, "quotechar", path, '"')
    if len(quotechar) != 1:
        checker.add((*path, "quotechar"), "must be one character")
        quotechar = '"'
    sheet = table.get("sheet")
    if sheet is not None and (isinstance(sheet, bool) or not isinstance(sheet, (str, int)) or sheet == 0):
        checker.add((*path, "sheet"), "must be a sheet name or a 1-based sheet number")
        sheet = None
    header_row = int(checker.number(table, "header_row", path, 1, 1))
    return SourceSpec(fmt, encoding, delimiter, quotechar, sheet or None, header_row)


def _time(checker: _Checker, raw: Any) -> TimeSpec:
    path = ("time",)
    table = checker.table(raw, path)
    checker.unknown(table, ("tz", "formats", "ambiguous", "nonexistent"), path)
    tz = checker.string(table, "tz", path, "Asia/Makassar")
    _check_zone(checker, (*path, "tz"), tz)
    formats = checker.strings(table, "formats", path) or ("iso",)
    _check_formats(checker, (*path, "formats"), formats)
    ambiguous = checker.choice(table, "ambiguous", path, ("earlier", "later", "reject"))
    nonexistent = checker.choice(table, "nonexistent", path, ("reject", "shift"))
    return TimeSpec(tz, formats, ambiguous, nonexistent)


def _reference(checker: _Checker, raw: Any, base: Path | None) -> ReferenceSpec:
    path = ("reference",)
    table = checker.table(raw, path)
    checker.unknown(table, ("polda_id", "shipped", "file", "polda", "polres"), path)
    polda_id = table.get("polda_id", "kaltim")
    if not isinstance(polda_id, str):
        checker.add((*path, "polda_id"), "must be a Polda id (e.g. kaltim), or national")
        polda_id = "kaltim"
    shipped = table.get("shipped", True)
    if not isinstance(shipped, bool):
        checker.add((*path, "shipped"), "must be true or false")
        shipped = True
    data: ReferenceData | None = None
    if "file" in table:
        name = table["file"]
        file = Path(name) if isinstance(name, str) else None
        if file is not None and base is not None and not file.is_absolute():
            file = base / file
        try:
            if file is None:
                raise OSError("must be a file name")
            raw_json = read_regular(file, "the reference file", MAX_REFERENCE_BYTES).decode("utf-8")
            data = reference_from_wire(json.loads(raw_json))
        except (OSError, ValueError, WireError, RecursionError) as exc:
            checker.add((*path, "file"), f"cannot use {name!r}: {exc}")
    if "polda" in table or "polres" in table:
        try:
            inline = reference_from_wire(
                {"poldas": [table["polda"]] if "polda" in table else [], "polres": table.get("polres", [])}
            )
        except (WireError, TypeError) as exc:
            checker.add(path, f"inline reference: {exc}")
        else:
            data = inline if data is None else data.merged(inline)
    national = polda_id in ("", "national", "indonesia")
    return ReferenceSpec(None if national else polda_id, shipped, data)


_FIELD_OPTIONS = ("column", "columns", "value", "map", "unmapped", "default", "agg", "format", "split")


def _field(checker: _Checker, raw: Any, path: tuple[str, ...], name: str, ftype: FieldType) -> FieldSpec | None:
    if isinstance(raw, str):  # shorthand: `received_at = "Received"` names the column
        raw = {"column": raw}
    table = checker.table(raw, path)
    if not table:
        if raw is not None and not isinstance(raw, dict):
            return None
        checker.add(path, "needs a column, columns or value")
        return None
    checker.unknown(table, _FIELD_OPTIONS, path)
    columns: tuple[str, ...] = ()
    if "column" in table and "columns" in table:
        checker.add(path, "give column or columns, not both")
    if "column" in table:
        columns = checker.strings(table, "column", path) or ()
    elif "columns" in table:
        columns = checker.strings(table, "columns", path) or ()
    if not columns and "value" not in table:
        checker.add(path, "needs a column, columns or value")
    if columns and "value" in table:
        checker.add((*path, "value"), "a constant value and a column exclude each other")
    mapping: dict[str, Any] | None = None
    if "map" in table:
        raw_map = table["map"]
        if not isinstance(raw_map, dict) or not raw_map:
            checker.add((*path, "map"), "must be a non-empty table of source value = record value")
        else:
            mapping = {str(k).strip().casefold(): v for k, v in raw_map.items()}
            for k, v in raw_map.items():
                _check_value(checker, (*path, "map", str(k)), ftype, v)
    unmapped = checker.choice(table, "unmapped", path, ("error", "keep", "default"))
    default = table.get("default")
    if default is not None:
        _check_value(checker, (*path, "default"), ftype, default)
    if "value" in table:
        _check_value(checker, (*path, "value"), ftype, table["value"])
    allowed = ("list",) if ftype.agg == "list" else tuple(a for a in AGGREGATIONS if a != "list")
    if ftype.event:
        allowed = ("same",)
    agg = table.get("agg", ftype.agg)
    if agg not in allowed:
        checker.add((*path, "agg"), f"{agg!r} is not one of {', '.join(allowed)}")
        agg = ftype.agg
    if agg in ("min", "max") and ftype.kind not in ("time", "float", "priority", "tier"):
        checker.add((*path, "agg"), f"{agg} needs an ordered field (a time, number, tier or priority)")
    formats = checker.strings(table, "format", path)
    if formats is not None:
        _check_formats(checker, (*path, "format"), formats)
        if ftype.kind != "time":
            checker.add((*path, "format"), "only time fields have a format")
    split = table.get("split")
    if split is not None and (not isinstance(split, str) or not split or agg != "list"):
        checker.add((*path, "split"), "must be a separator string, on a list field")
        split = None
    return FieldSpec(name, ftype, _where(path), columns, table.get("value"), mapping, unmapped, default, agg,
                     formats, split)  # fmt: skip


def _check_value(checker: _Checker, path: tuple[str, ...], ftype: FieldType, value: Any) -> None:
    """A constant, default or map target must already be a valid record value."""
    allowed = _ENUM_VALUES.get(ftype.kind)
    if ftype.kind == "priority":
        if isinstance(value, bool) or str(value) not in ("1", "2", "3"):
            checker.add(path, f"{value!r} is not a priority (1, 2 or 3)")
    elif allowed is not None:
        if not isinstance(value, str) or value not in allowed:
            checker.add(path, f"{value!r} is not one of {', '.join(allowed)}")
    elif ftype.kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            checker.add(path, f"{value!r} is not a number")
    elif ftype.kind == "time":
        if not isinstance(value, str):
            checker.add(path, f'{value!r} is not a time (write it as text, e.g. "2026-11-22T13:00:00+08:00")')
    elif not isinstance(value, (str, int)) or isinstance(value, bool) or str(value) == "":
        checker.add(path, f"{value!r} must be non-empty text")


def _record(checker: _Checker, raw: Any, number: int) -> RecordSpec | None:
    path = ("record", str(number))
    table = checker.table(raw, path)
    checker.unknown(table, ("kind", "key", "fields", "emit", "escalate_after_s", "max_response_s"), path)
    kind = table.get("kind")
    if kind not in KINDS:
        checker.add((*path, "kind"), f"must be one of {', '.join(KINDS)}, not {kind!r}")
        return None
    catalogue = FIELDS[kind]
    fields_raw = checker.table(table.get("fields"), (*path, "fields"))
    fields: dict[str, FieldSpec] = {}
    for name, value in fields_raw.items():
        if name not in catalogue:
            checker.add((*path, "fields", name), f"a {kind} has no field {name!r} (fields: {', '.join(catalogue)})")
            continue
        spec = _field(checker, value, (*path, "fields", name), name, catalogue[name])
        if spec is not None:
            fields[name] = spec
    for name, ftype in catalogue.items():
        if ftype.required and name not in fields and name not in fields_raw:
            checker.add((*path, "fields"), f"the required field {name!r} of a {kind} is not mapped")
    if kind == "unit" and not any(catalogue[n].kind == "time" and n in fields for n in fields):
        checker.add((*path, "fields"), "a unit timeline needs at least one status time (dispatched_at, ...)")
    key = checker.strings(table, "key", path)
    if key is None:
        id_spec = fields.get("id")
        key = id_spec.columns if id_spec and id_spec.columns else ()
        if not key and "id" in fields:
            checker.add((*path, "key"), "the id is a constant: name the key column(s)")
    emit = checker.strings(table, "emit", path) or MILESTONES[kind]
    for milestone in emit:
        if milestone not in MILESTONES[kind]:
            checker.add((*path, "emit"), f"{milestone!r} is not one of {', '.join(MILESTONES[kind])}")
    escalate = checker.number(table, "escalate_after_s", path, 10.0, 1.0)
    max_response = checker.number(table, "max_response_s", path, 6 * 3600.0, 60.0)
    return RecordSpec(kind, number, key, fields, emit, escalate, max_response)


def _eido(checker: _Checker, raw: Any) -> EidoSpec:
    path = ("eido",)
    table = checker.table(raw, path)
    checker.unknown(table, ("polres_from", "polres_map", "default_polres", "priority_map", "unit_kind_map"), path)
    polres_from = checker.choice(table, "polres_from", path, ("beat", "agency", "constant"))

    def str_map(key: str) -> dict[str, str]:
        value = table.get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            checker.add((*path, key), "must be a table of text = text")
            return {}
        return {str(k).strip().casefold(): v for k, v in value.items()}

    priority_raw = table.get("priority_map", {})
    priority: dict[str, int] = {}
    if not isinstance(priority_raw, dict):
        checker.add((*path, "priority_map"), "must be a table of EIDO priority = 1, 2 or 3")
    else:
        for k, v in priority_raw.items():
            if isinstance(v, bool) or v not in (1, 2, 3):
                checker.add((*path, "priority_map", str(k)), f"{v!r} is not 1, 2 or 3")
            else:
                priority[str(k).strip()] = int(v)
    kinds = str_map("unit_kind_map")
    for k, v in kinds.items():
        if v not in ("R2", "R4"):
            checker.add((*path, "unit_kind_map", k), f"{v!r} is not R2 or R4")
    default = table.get("default_polres")
    if default is not None and not isinstance(default, str):
        checker.add((*path, "default_polres"), "must be a Polres id")
        default = None
    if polres_from == "constant" and not default:
        checker.add((*path, "default_polres"), "polres_from = constant needs default_polres")
    return EidoSpec(polres_from, str_map("polres_map"), default, priority, kinds)


def parse_mapping(data: MappingABC[str, Any], *, path: Path | None = None, text: str = "") -> ImportMapping:
    """Validate an already-parsed mapping; ``text`` (the file's content) lets messages name lines."""
    checker = _Checker()
    checker.unknown(dict(data), ("source", "time", "reference", "record", "eido"), ())
    source = _source(checker, data.get("source"))
    time = _time(checker, data.get("time"))
    reference = _reference(checker, data.get("reference"), path.parent if path else None)
    records: list[RecordSpec] = []
    raw_records = data.get("record", [])
    if not isinstance(raw_records, list):
        checker.add(("record",), "must be an array of tables: [[record]]")
        raw_records = []
    for number, raw in enumerate(raw_records, start=1):
        spec = _record(checker, raw, number)
        if spec is not None:
            records.append(spec)
    if not raw_records and source.format != "eido":
        checker.add((), "no [[record]] table: say which record (call, incident, unit) a row makes")
    eido = _eido(checker, data.get("eido"))
    if checker.problems:
        index = line_index(text) if text else {}
        name = str(path) if path else "mapping"
        lines = []
        for where, message in checker.problems:
            line = _locate(index, where)
            place = f"{name}:{line}" if line else name
            lines.append(f"{place}: {_where(where) or '(top level)'}: {message}")
        raise MappingError("\n".join(lines))
    return ImportMapping(path, source, time, reference, tuple(records), eido)


def load_mapping(path: Path) -> ImportMapping:
    """Read and validate a mapping file. Raises :class:`MappingError` naming the file, line and option."""
    try:
        text = read_regular(path, "the mapping", MAX_MAPPING_BYTES).decode("utf-8-sig")
    except UnsafePathError as exc:
        raise MappingError(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: cannot read the mapping: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        if match:
            raise MappingError(f"{path}:{match.group(1)}: not valid TOML: {message[: match.start()]}") from None
        raise MappingError(f"{path}: not valid TOML: {message}") from None
    return parse_mapping(data, path=path, text=text)


def default_eido_mapping() -> ImportMapping:
    """The mapping `--format eido` uses without --mapping: Kaltim, WITA, polres from the beat text as it is."""
    return ImportMapping(None, SourceSpec(format="eido"), TimeSpec(), ReferenceSpec(), ())


__all__ = [
    "FIELDS",
    "MILESTONES",
    "EidoSpec",
    "FieldSpec",
    "FieldType",
    "ImportMapping",
    "MappingError",
    "RecordSpec",
    "ReferenceSpec",
    "SourceSpec",
    "TimeSpec",
    "default_eido_mapping",
    "line_index",
    "load_mapping",
    "parse_mapping",
]
