"""One cell to one record value: time parsing (formats, zones, daylight saving) and the typed conversions.

A value that cannot be used raises :class:`RowProblem` naming the column and the reason; the row is then reported
and skipped, the rest of the file imported.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from wallboard.core.wire import MAX_ID_LEN, MAX_TEXT_LEN
from wallboard.feed.importer.mapping import FieldSpec, TimeSpec

EXCEL_EPOCH = datetime(1899, 12, 30)  # Excel's (1900 date system) day 0, as spreadsheets count it since 1 March 1900
_ENUMS = {
    "tier": ("polsek", "polres", "polda", "mabes"),
    "category": ("genuine", "information", "complaint", "prank", "silent", "unknown"),
}


class RowProblem(Exception):  # noqa: N818 - a problem with one row, not an error of the import
    """A cell that cannot become a record value. ``reason`` is a short category for the summary."""

    def __init__(self, column: str, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.column = column
        self.reason = reason
        self.detail = detail


@dataclass
class TimeStats:
    """What the time parser met, for the summary."""

    naive: int = 0  # read in the mapping's zone
    with_offset: Counter[str] = field(default_factory=Counter)  # offsets written in the data, e.g. "+07:00"
    foreign_offset: int = 0  # an offset other than the mapping zone's at that moment
    ambiguous: int = 0  # a wall time the clocks passed twice (DST end), resolved by [time].ambiguous
    shifted: int = 0  # a wall time that did not exist (DST start), read in the old offset


def _offset_text(delta: timedelta | None) -> str:
    if delta is None:
        return "?"
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class TimeParser:
    """Turns a cell into POSIX seconds with the mapping's formats; naive times are wall times in ``spec.tz``."""

    def __init__(self, spec: TimeSpec) -> None:
        self.spec = spec
        self.zone = ZoneInfo(spec.tz)
        self.stats = TimeStats()

    def parse(self, raw: Any, column: str, formats: tuple[str, ...] | None = None) -> float:
        formats = formats or self.spec.formats
        if isinstance(raw, datetime):
            return self._finish(raw, column, str(raw))
        if isinstance(raw, date):
            return self._finish(datetime(raw.year, raw.month, raw.day), column, str(raw))
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            if "excel" in formats:
                return self._finish(self._excel(float(raw), column), column, str(raw))
            if "epoch" in formats:
                return self._epoch(float(raw), column)
            raw = str(raw)
        text = str(raw).strip()
        for fmt in formats:
            try:
                if fmt == "iso":
                    value = datetime.fromisoformat(text)
                elif fmt == "excel":
                    value = self._excel(float(text), column)
                elif fmt == "epoch":
                    return self._epoch(float(text), column)
                else:
                    value = datetime.strptime(text, fmt)
            except ValueError:
                continue
            return self._finish(value, column, text)
        raise RowProblem(column, "unparseable time", f"{text[:40]!r} matches none of the formats {', '.join(formats)}")

    def _excel(self, serial: float, column: str) -> datetime:
        if not math.isfinite(serial) or not 1 <= serial < 2958466:  # 1900-01-01 .. 9999-12-31
            raise RowProblem(column, "unparseable time", f"{serial!r} is not an Excel date serial")
        # Rounded to the millisecond: a serial stores the time of day as a binary fraction of a day.
        return EXCEL_EPOCH + timedelta(milliseconds=round(serial * 86_400_000))

    def _epoch(self, seconds: float, column: str) -> float:
        if not math.isfinite(seconds) or not 0 < seconds < 253402300800:
            raise RowProblem(column, "unparseable time", f"{seconds!r} is not POSIX seconds")
        self.stats.with_offset["UTC"] += 1
        return seconds

    def _finish(self, value: datetime, column: str, text: str) -> float:
        if value.tzinfo is not None:
            offset = value.utcoffset()
            self.stats.with_offset[_offset_text(offset)] += 1
            t = value.timestamp()
            if datetime.fromtimestamp(t, self.zone).utcoffset() != offset:
                self.stats.foreign_offset += 1
            return t
        self.stats.naive += 1
        return self.localize(value, column, text)

    def localize(self, wall: datetime, column: str, text: str) -> float:
        """A wall-clock time in the mapping's zone, with daylight-saving gaps and repeats handled by the mapping."""
        first = wall.replace(tzinfo=self.zone, fold=0)
        second = wall.replace(tzinfo=self.zone, fold=1)
        if first.utcoffset() == second.utcoffset():
            return first.timestamp()
        back = first.astimezone(UTC).astimezone(self.zone).replace(tzinfo=None)
        if back != wall:  # the clocks jumped over this wall time
            if self.spec.nonexistent == "reject":
                raise RowProblem(
                    column, "time in a DST gap", f"{text[:40]!r} does not exist in {self.spec.tz} (clocks went forward)"
                )
            self.stats.shifted += 1
            return first.timestamp()  # fold=0 reads it in the offset before the change
        if self.spec.ambiguous == "reject":
            raise RowProblem(
                column, "ambiguous time (DST)", f"{text[:40]!r} happened twice in {self.spec.tz} (clocks went back)"
            )
        self.stats.ambiguous += 1
        return (first if self.spec.ambiguous == "earlier" else second).timestamp()


def _text(raw: Any) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, (datetime, date, time)):
        return raw.isoformat(sep=" ") if isinstance(raw, datetime) else raw.isoformat()
    return str(raw).strip()


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f]")


def _clean(text: str) -> str:
    """Control characters (a stray newline in a quoted cell) become spaces: the contract forbids them."""
    return _CONTROL.sub(" ", text).strip() if _CONTROL.search(text) else text


def raw_value(spec: FieldSpec, cells: dict[str, Any]) -> Any:
    """The cell(s) a field reads, joined when it names several columns (a date column and a time column)."""
    if not spec.columns:
        return spec.value
    if len(spec.columns) == 1:
        value = cells.get(spec.columns[0])
    else:
        parts = [cells.get(c) for c in spec.columns]
        parts = [p for p in parts if p is not None and not (isinstance(p, str) and not p.strip())]
        if len(parts) == 2 and isinstance(parts[0], (datetime, date)) and isinstance(parts[1], time):
            day = parts[0].date() if isinstance(parts[0], datetime) else parts[0]
            return datetime.combine(day, parts[1])
        value = " ".join(_text(p) for p in parts) if parts else None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def convert(spec: FieldSpec, cells: dict[str, Any], times: TimeParser) -> Any:
    """The field's value for one row (None when empty and without default). Raises :class:`RowProblem`."""
    column = ", ".join(spec.columns) if spec.columns else spec.name
    raw = raw_value(spec, cells)
    if raw is None:
        raw = spec.default
        if raw is None:
            if spec.type.required:
                raise RowProblem(column, "missing value", f"{spec.name} is required and the cell is empty")
            return None
    elif spec.map is not None:
        key = _text(raw).casefold()
        if key in spec.map:
            raw = spec.map[key]
        elif spec.unmapped == "default" and spec.default is not None:
            raw = spec.default
        elif spec.unmapped == "error":
            raise RowProblem(column, "value not in the map", f"{_text(raw)[:40]!r} is not in the map of {spec.name}")
    if spec.split is not None and isinstance(raw, str):
        return [_one(spec, part, column, times) for part in raw.split(spec.split) if part.strip()] or None
    return _one(spec, raw, column, times)


def _one(spec: FieldSpec, raw: Any, column: str, times: TimeParser) -> Any:
    kind = spec.type.kind
    if kind == "time":
        return times.parse(raw, column, spec.formats)
    if kind == "float":
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            value = float(raw)
        else:
            text = _text(raw)
            try:
                value = float(text.replace(",", ".") if "." not in text else text)
            except ValueError:
                raise RowProblem(column, "not a number", f"{text[:40]!r} is not a number") from None
        if not math.isfinite(value):
            raise RowProblem(column, "not a number", f"{value!r} is not a finite number")
        return value
    text = _clean(_text(raw))
    if kind == "priority":
        try:
            number = float(text)
        except ValueError:
            number = 0
        if number not in (1, 2, 3):
            raise RowProblem(column, "bad value", f"priority {text[:40]!r} is not 1, 2 or 3 (map it)")
        return int(number)
    if kind in _ENUMS:
        if text.lower() not in _ENUMS[kind]:
            raise RowProblem(column, "bad value", f"{text[:40]!r} is not a {kind} ({', '.join(_ENUMS[kind])}; map it)")
        return text.lower()
    if kind == "unitkind":
        if text.upper() not in ("R2", "R4"):
            raise RowProblem(column, "bad value", f"{text[:40]!r} is not a unit kind (R2, R4; map it)")
        return text.upper()
    if kind == "id":
        if not text:
            raise RowProblem(column, "missing value", f"{spec.name} is empty")
        if len(text) > MAX_ID_LEN:
            raise RowProblem(column, "bad value", f"{spec.name} is longer than {MAX_ID_LEN} characters")
        return text
    return text[: MAX_ID_LEN if spec.name in ("callsign",) else (32 if spec.name == "caller_number" else MAX_TEXT_LEN)]
