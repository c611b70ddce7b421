"""Rows out of CSV and XLSX exports, streamed: one row in memory at a time, whatever the file's size.

A source checks its header against the columns the mapping names before yielding anything (a missing column stops
the import with the columns it has, and a hint when the delimiter looks wrong); then it yields :class:`Row` objects
whose ``cells`` map column name → raw value (text for CSV; text, number or naive ``datetime`` for XLSX).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any, Protocol

from wallboard.feed.importer.mapping import SourceSpec

SNIFF_BYTES = 64 * 1024
DELIMITERS = ",;\t|"


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
        try:
            self._raw: IO[bytes] = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise SourceError(f"{self.path}: cannot open: {exc.strerror or exc}") from None
        self.size = self.path.stat().st_size
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
        self._reader = csv.reader(self._text, delimiter=self.delimiter, quotechar=self.spec.quotechar, strict=False)
        self._last_line = 0
        header: list[str] | None = None
        for _ in range(self.spec.header_row):
            header = next(self._reader, None)
            self._last_line = self._reader.line_num
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
        for cells in self._reader:
            start = self._last_line + 1
            self._last_line = self._reader.line_num
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

        if not self.path.is_file():
            raise SourceError(f"{self.path}: no such file")
        if self.path.stat().st_size == 0:
            raise SourceError(f"{self.path}: the file is empty")
        try:
            self._book = load_workbook(self.path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
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


def open_source(path: Path, spec: SourceSpec, needed: set[str]) -> CsvSource | XlsxSource:
    """The row source for ``path``: XLSX by the mapping's format or the file name, anything else as CSV."""
    fmt = spec.format or ("xlsx" if path.suffix.lower() in (".xlsx", ".xlsm") else "csv")
    if fmt == "xlsx":
        return XlsxSource(path, spec, needed)
    return CsvSource(path, spec, needed)
