"""Rows out of CSV and XLSX exports, streamed: one row in memory at a time, whatever the file's size.

A source checks its header against the columns the mapping names before yielding anything (a missing column stops
the import with the columns it has, and a hint when the delimiter looks wrong); then it yields :class:`Row` objects
whose ``cells`` map column name → raw value (text for CSV; text, number or naive ``datetime`` for XLSX).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any, Protocol

from wallboard.feed.importer.mapping import SourceSpec
from wallboard.files import UnsafePathError, open_regular

SNIFF_BYTES = 64 * 1024
DELIMITERS = ",;\t|"
#: A physical line longer than this is a skipped row of its own, read past a chunk at a time (never held whole: a
#: file of zero bytes without a newline must not fill the memory); a cell is bounded by the csv module's field
#: limit (128 Ki characters) and a row spread over quoted line breaks by MAX_ROW_CHARS.
MAX_LINE_CHARS = 1024 * 1024
MAX_ROW_CHARS = 4 * 1024 * 1024


class SourceError(Exception):
    """The source cannot be read at all (missing file or column, empty file, wrong format); nothing is imported."""


@dataclass(slots=True)
class Row:
    number: int  # line (CSV, where the row starts) or row number (XLSX), 1-based
    cells: dict[str, Any]


class RowSource(Protocol):
    header: list[str]
    problems: list[tuple[int, str, str]]  # (row number, column or "", reason): rows the source itself could not read
    unit: str  # what progress() counts: "B" (bytes) or "rows"

    def location(self, number: int) -> str:
        """How a message names a row: ``line 12`` or ``sheet 'Calls' row 12``."""
        ...

    def progress(self) -> tuple[int, int | None]:
        """(done, total) in the source's unit (bytes or rows), for a progress bar."""
        ...

    def __iter__(self) -> Iterator[Row]: ...

    def close(self) -> None: ...


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (a BOM is dropped) when the sample decodes as UTF-8, else Windows-1252 (what Excel writes on Windows)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)  # a character cut at the sample's end is not an error
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig"


def _missing_columns_message(path: Path, header: list[str], missing: list[str], delimiter: str) -> str:
    names = ", ".join(repr(c) for c in missing)
    have = ", ".join(repr(c) for c in header[:20]) + (" ..." if len(header) > 20 else "")
    message = f"{path}: column(s) {names} named in the mapping are not in the header (it has {have})"
    if len(header) == 1:
        found = [d for d in DELIMITERS if d != delimiter and d in header[0]]
        if found:
            shown = "\\t" if found[0] == "\t" else found[0]
            message += f"; the header is one column: is the delimiter {shown!r}? (source.delimiter)"
    return message


def check_columns(path: Path, header: list[str], needed: set[str], delimiter: str = "") -> None:
    missing = sorted(c for c in needed if c not in header)
    if missing:
        raise SourceError(_missing_columns_message(path, header, missing, delimiter))
    duplicates = sorted({c for c in header if header.count(c) > 1 and c in needed})
    if duplicates:
        raise SourceError(f"{path}: column(s) {', '.join(map(repr, duplicates))} appear more than once in the header")


class _TooLongError(Exception):
    """A line or a row past the bounds: the row is skipped and reported, the import goes on."""


class _Lines:
    """The text's lines for ``csv.reader``, each at most :data:`MAX_LINE_CHARS` (a longer one is read past and
    raises :class:`_TooLongError`), ``row_chars`` since the caller last reset it at most :data:`MAX_ROW_CHARS`.
    ``number`` counts the lines read, the long ones too (line numbers for messages)."""

    def __init__(self, text: io.TextIOWrapper) -> None:
        self._text = text
        self.number = 0
        self.row_chars = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._text.readline(MAX_LINE_CHARS + 1)
        if not line:
            raise StopIteration
        self.number += 1
        if len(line) > MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
            while (rest := self._text.readline(64 * 1024)) and not rest.endswith(("\n", "\r")):
                pass
            raise _TooLongError(f"a line longer than {MAX_LINE_CHARS // (1024 * 1024)} MiB (not a row of an export)")
        self.row_chars += len(line)
        if self.row_chars > MAX_ROW_CHARS:
            raise _TooLongError(f"a row longer than {MAX_ROW_CHARS // (1024 * 1024)} MiB (an unclosed quote?)")
        return line


def _csv_problem(exc: csv.Error) -> str:
    if "field limit" in str(exc):
        return f"a cell longer than {csv.field_size_limit() // 1024} KiB (an unclosed quote?)"
    return f"not readable as CSV ({exc})"


class _CountingReader(io.RawIOBase):
    """Counts the bytes read, for the progress bar."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


@dataclass
class CsvSource:
    """A delimited text file. Encoding and delimiter are the mapping's, or detected from the first 64 KiB."""

    path: Path
    spec: SourceSpec
    needed: set[str]
    header: list[str] = field(default_factory=list)
    problems: list[tuple[int, str, str]] = field(default_factory=list)
    encoding: str = ""
    delimiter: str = ""
    unit: str = "B"

    def __post_init__(self) -> None:
        self._raw: IO[bytes] = _open(self.path)
        self.size = os.fstat(self._raw.fileno()).st_size
        sample = self._raw.read(SNIFF_BYTES)
        self._raw.seek(0)
        if not sample.strip():
            self.close()
            raise SourceError(f"{self.path}: the file is empty")
        self.encoding = detect_encoding(sample) if self.spec.encoding == "auto" else self.spec.encoding
        if self.encoding.replace("_", "-").lower() in ("utf-8", "utf8"):
            self.encoding = "utf-8-sig"  # with or without a BOM
        self.delimiter = self.spec.delimiter
        if self.delimiter == "auto":
            text = sample.decode(self.encoding, errors="replace")
            try:
                self.delimiter = csv.Sniffer().sniff(text[: 16 * 1024], delimiters=DELIMITERS).delimiter
            except csv.Error:
                self.delimiter = ","
        self._counter = _CountingReader(self._raw)
        self._text = io.TextIOWrapper(
            io.BufferedReader(self._counter), encoding=self.encoding, errors="replace", newline=""
        )
        self._lines = _Lines(self._text)
        self._reader = csv.reader(self._lines, delimiter=self.delimiter, quotechar=self.spec.quotechar, strict=False)
        header: list[str] | None = None
        try:
            for _ in range(self.spec.header_row):
                self._lines.row_chars = 0
                header = next(self._reader, None)
        except (_TooLongError, csv.Error) as exc:
            self.close()
            reason = str(exc) if isinstance(exc, _TooLongError) else _csv_problem(exc)
            raise SourceError(f"{self.path}: the header (line {self._lines.number}) cannot be read: {reason}") from None
        if header is None:
            self.close()
            raise SourceError(f"{self.path}: no header row (row {self.spec.header_row}): the file has fewer lines")
        self.header = [h.strip().lstrip("\ufeff") for h in header]
        try:
            check_columns(self.path, self.header, self.needed, self.delimiter)
        except SourceError:
            self.close()
            raise

    def location(self, number: int) -> str:
        return f"line {number}"

    def progress(self) -> tuple[int, int | None]:
        return self._counter.count, self.size

    def __iter__(self) -> Iterator[Row]:
        width = len(self.header)
        lines = self._lines
        while True:
            start = lines.number + 1
            lines.row_chars = 0
            try:
                cells = next(self._reader)
            except StopIteration:
                return
            except _TooLongError as exc:  # the csv reader starts afresh on the next line
                self.problems.append((start, "", str(exc)))
                continue
            except csv.Error as exc:
                self.problems.append((start, "", _csv_problem(exc)))
                continue
            if not cells or all(not c.strip() for c in cells):
                continue
            if len(cells) > width and any(c.strip() for c in cells[width:]):
                self.problems.append(
                    (start, "", f"{len(cells)} cells, the header has {width} (a delimiter inside an unquoted value?)")
                )
                continue
            if "\ufffd" in "".join(cells):
                self.problems.append((start, "", f"bytes that are not {self.encoding} (source.encoding)"))
                continue
            yield Row(start, dict(zip(self.header, cells, strict=False)))

    def close(self) -> None:
        self._raw.close()


def _cell(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, (datetime, date, time)) or value is None or isinstance(value, (int, float)):
        return value
    return str(value)


@dataclass
class XlsxSource:
    """One sheet of an Excel workbook, read with openpyxl's read-only streaming reader."""

    path: Path
    spec: SourceSpec
    needed: set[str]
    header: list[str] = field(default_factory=list)
    problems: list[tuple[int, str, str]] = field(default_factory=list)
    unit: str = "rows"

    def __post_init__(self) -> None:
        import zipfile

        from openpyxl import load_workbook

        self._handle = _open(self.path)
        if os.fstat(self._handle.fileno()).st_size == 0:
            self._handle.close()
            raise SourceError(f"{self.path}: the file is empty")
        try:
            self._book = load_workbook(self._handle, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            self._handle.close()
            raise SourceError(f"{self.path}: not an XLSX workbook ({exc})") from None
        names = self._book.sheetnames
        sheet = self.spec.sheet
        if sheet is None:
            name = names[0]
        elif isinstance(sheet, int):
            if not 1 <= sheet <= len(names):
                self.close()
                raise SourceError(f"{self.path}: no sheet {sheet} (it has {len(names)}: {', '.join(names)})")
            name = names[sheet - 1]
        elif sheet in names:
            name = sheet
        else:
            self.close()
            raise SourceError(f"{self.path}: no sheet {sheet!r} (sheets: {', '.join(names)})")
        self.sheet = name
        self._sheet = self._book[name]
        self._rows = self._sheet.iter_rows(min_row=1, values_only=True)
        self._done = 0
        self._total = self._sheet.max_row
        header: tuple[Any, ...] | None = None
        for _ in range(self.spec.header_row):
            header = next(self._rows, None)
            self._done += 1
        if header is None:
            self.close()
            raise SourceError(f"{self.path}: sheet {name!r} is empty")
        self.header = ["" if h is None else str(h).strip() for h in header]
        try:
            check_columns(self.path, self.header, self.needed)
        except SourceError:
            self.close()
            raise

    def location(self, number: int) -> str:
        return f"sheet {self.sheet!r} row {number}"

    def progress(self) -> tuple[int, int | None]:
        return self._done, self._total

    def __iter__(self) -> Iterator[Row]:
        for values in self._rows:
            self._done += 1
            if not values or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            yield Row(self._done, {h: _cell(v) for h, v in zip(self.header, values, strict=False) if h})

    def close(self) -> None:
        self._book.close()
        self._handle.close()


def _open(path: Path) -> IO[bytes]:
    """The source opened for reading: a regular file only (a FIFO or a device is refused, never waited on)."""
    try:
        return open_regular(path, "the source")
    except UnsafePathError as exc:
        raise SourceError(str(exc)) from None


def open_source(path: Path, spec: SourceSpec, needed: set[str]) -> CsvSource | XlsxSource:
    """The row source for ``path``: XLSX by the mapping's format or the file name, anything else as CSV."""
    fmt = spec.format or ("xlsx" if path.suffix.lower() in (".xlsx", ".xlsm") else "csv")
    if fmt == "xlsx":
        return XlsxSource(path, spec, needed)
    return CsvSource(path, spec, needed)
