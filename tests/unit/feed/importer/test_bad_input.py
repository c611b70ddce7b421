"""`wallboard import` on bad input: each problem reported with its line and column, the rest imported; a source or
mapping that cannot be used at all stops with a message saying why (exit 2); nothing usable is exit 1."""

from __future__ import annotations

import errno
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from wallboard.cli import main
from wallboard.core.model import Call, Incident
from wallboard.feed.ndjson import FeedReader

CALLS_MAPPING = """\
[source]
delimiter = "{delimiter}"

[time]
tz = "{tz}"
formats = ["%Y-%m-%d %H:%M:%S", "iso"]
{time_extra}

[reference]
polda_id = "kaltim"

[[record]]
kind = "call"
key = ["CallID"]

[record.fields]
id = "CallID"
received_at = "Received"
answered_at = "Answered"
polres_id = {{ column = "Site", map = {{ "BPN" = "64.71", "SMD" = "64.72" }} }}
"""
HEADER = "CallID,Received,Answered,Site\n"


def mapping_file(tmp_path: Path, *, delimiter: str = ",", tz: str = "Asia/Makassar", time_extra: str = "") -> Path:
    path = tmp_path / "calls.toml"
    path.write_text(CALLS_MAPPING.format(delimiter=delimiter, tz=tz, time_extra=time_extra), encoding="utf-8")
    return path


def run_import(capsys: pytest.CaptureFixture[str], source: Path, mapping: Path, *extra: str) -> tuple[int, str, str]:
    out = source.with_suffix(".ndjson")
    code = main(["import", str(source), "--mapping", str(mapping), "--out", str(out), "--log-level", "ERROR", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def calls_in(feed: Path) -> dict[str, Call]:
    """The newest revision of each call in a recording."""
    out: dict[str, Call] = {}
    for line in FeedReader(feed):
        if isinstance(line.record, Call):
            out[line.record.id] = line.record
    return out


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_wrong_delimiter_names_the_missing_columns_and_suggests_the_right_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "calls.csv"
    source.write_text(HEADER + "C1,2026-11-22 13:00:00,2026-11-22 13:00:04,BPN\n", encoding="utf-8")
    code, _out, err = run_import(capsys, source, mapping_file(tmp_path, delimiter=";"))
    assert code == 2
    assert "'Received'" in err and "not in the header" in err
    assert "is the delimiter ','?" in err


def test_auto_delimiter_reads_semicolons_tabs_and_commas(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, sep in (("semi", ";"), ("tab", "\t"), ("comma", ",")):
        source = tmp_path / f"{name}.csv"
        source.write_text(sep.join(["CallID", "Received", "Answered", "Site"]) + "\n"
                          + sep.join(["C1", "2026-11-22 13:00:00", "2026-11-22 13:00:04", "BPN"]) + "\n",
                          encoding="utf-8")  # fmt: skip
        code, _out, err = run_import(capsys, source, mapping_file(tmp_path, delimiter="auto"), "-q")
        assert code == 0, err
        assert calls_in(source.with_suffix(".ndjson"))["C1"].answered_at == utc("2026-11-22 05:00:04")


def test_missing_column_named_in_the_mapping(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "calls.csv"
    source.write_text("CallID,Received,Site\nC1,2026-11-22 13:00:00,BPN\n", encoding="utf-8")
    code, _out, err = run_import(capsys, source, mapping_file(tmp_path))
    assert code == 2
    assert "column(s) 'Answered' named in the mapping are not in the header" in err
    assert not source.with_suffix(".ndjson").exists()


def test_unparseable_dates_are_reported_with_line_and_column_and_the_rest_imported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "calls.csv"
    source.write_text(HEADER
                      + "C1,2026-11-22 13:00:00,2026-11-22 13:00:04,BPN\n"
                      + "C2,kemarin sore,,SMD\n"
                      + "C3,2026-11-22 13:05:00,2026-02-31 13:05:09,SMD\n"
                      + "C4,2026-11-22 13:06:00,,XYZ\n"
                      + "C5,2026-11-22 13:07:00,,SMD\n", encoding="utf-8")  # fmt: skip
    code, out, err = run_import(capsys, source, mapping_file(tmp_path))
    assert code == 0
    assert "line 3, column Received: 'kemarin sore' matches none of the formats" in err
    assert "line 4, column Answered: '2026-02-31 13:05:09' matches none of the formats" in err
    assert "line 5, column Site: 'XYZ' is not in the map of polres_id" in err
    assert "rows read: 5" in out
    assert "rows skipped: 3 (unparseable time 2, value not in the map 1)" in out
    assert set(calls_in(source.with_suffix(".ndjson"))) == {"C1", "C5"}


def test_mixed_time_zones_are_converted_exactly_and_reported(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    source = tmp_path / "calls.csv"
    source.write_text(HEADER
                      + "C1,2026-11-22 13:00:00,2026-11-22T13:00:04+08:00,BPN\n"   # WITA wall time / WITA offset
                      + "C2,2026-11-22T12:00:00+07:00,2026-11-22T05:00:09Z,SMD\n"  # WIB, UTC: the same instants
                      + "C3,2026-11-22T13:00:00+08:00,,SMD\n", encoding="utf-8")  # fmt: skip
    code, out, _err = run_import(capsys, source, mapping_file(tmp_path))
    assert code == 0
    calls = calls_in(source.with_suffix(".ndjson"))
    assert calls["C1"].received_at == calls["C2"].received_at == calls["C3"].received_at == utc("2026-11-22 05:00:00")
    assert calls["C2"].answered_at == utc("2026-11-22 05:00:09")
    assert "1 without offset (read in Asia/Makassar), 4 with one (+08:00 ×2, +07:00 ×1, +00:00 ×1)" in out
    assert "warning: the file mixes times with and without an offset" in out
    assert "warning: 2 time(s) carry an offset other than Asia/Makassar's at that moment" in out


def test_dst_gap_is_rejected_by_default_and_shifted_on_request(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    source = tmp_path / "calls.csv"
    source.write_text(HEADER
                      + "C1,2026-03-29 01:59:00,,BPN\n"   # CET, just before the change
                      + "C2,2026-03-29 02:30:00,,BPN\n"   # does not exist: clocks went 02:00 CET -> 03:00 CEST
                      + "C3,2026-03-29 03:00:00,,BPN\n", encoding="utf-8")  # fmt: skip
    code, out, err = run_import(capsys, source, mapping_file(tmp_path, tz="Europe/Amsterdam"))
    assert code == 0
    assert "line 3, column Received: '2026-03-29 02:30:00' does not exist in Europe/Amsterdam" in err
    assert "time in a DST gap 1" in out
    calls = calls_in(source.with_suffix(".ndjson"))
    assert calls["C1"].received_at == utc("2026-03-29 00:59:00") and calls["C3"].received_at == utc("2026-03-29 01:00")
    code, out, _err = run_import(capsys, source, mapping_file(tmp_path, tz="Europe/Amsterdam",
                                                              time_extra='nonexistent = "shift"'))  # fmt: skip
    assert code == 0 and "1 in a gap shifted" in out
    assert calls_in(source.with_suffix(".ndjson"))["C2"].received_at == utc("2026-03-29 01:30:00")  # read as CET


def test_dst_repeat_takes_the_earlier_or_later_reading(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "calls.csv"
    source.write_text(HEADER + "C1,2026-11-01 01:30:00,2026-11-01 01:30:05,BPN\n", encoding="utf-8")
    code, out, _err = run_import(capsys, source, mapping_file(tmp_path, tz="America/New_York"))
    assert code == 0 and "2 ambiguous wall time(s)" in out
    assert calls_in(source.with_suffix(".ndjson"))["C1"].received_at == utc("2026-11-01 05:30:00")  # EDT
    run_import(capsys, source, mapping_file(tmp_path, tz="America/New_York", time_extra='ambiguous = "later"'))
    assert calls_in(source.with_suffix(".ndjson"))["C1"].received_at == utc("2026-11-01 06:30:00")  # EST
    code, out, err = run_import(capsys, source, mapping_file(tmp_path, tz="America/New_York",
                                                             time_extra='ambiguous = "reject"'))  # fmt: skip
    assert code == 1 and "happened twice in America/New_York" in err and "nothing usable" in err


INCIDENT_MAPPING = """\
[time]
tz = "Asia/Makassar"
formats = ["%Y-%m-%d %H:%M:%S"]

[[record]]
kind = "incident"
key = ["No"]

[record.fields]
id = "No"
polres_id = { value = "64.71" }
call_received_at = "Received"
on_scene_at = "OnScene"
priority = "Priority"
unit_ids = "Unit"
"""


def test_duplicate_keys_with_conflicting_values_are_reported_and_the_first_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = tmp_path / "incidents.toml"
    mapping.write_text(INCIDENT_MAPPING, encoding="utf-8")
    source = tmp_path / "cad.csv"
    source.write_text("No,Received,OnScene,Priority,Unit\n"
                      "I1,2026-11-22 13:00:00,2026-11-22 13:06:00,1,BPN-R2-01\n"
                      "I1,2026-11-22 13:00:00,2026-11-22 13:04:00,1,BPN-R4-02\n"   # agrees: a second unit, earlier
                      "I1,2026-11-22 13:00:00,2026-11-22 13:05:00,3,BPN-R4-03\n"   # priority 3 conflicts with 1
                      "I2,2026-11-22 14:00:00,2026-11-22 13:59:00,2,BPN-R2-01\n"   # on scene before the call
                      "I3,2026-11-22 15:00:00,2026-11-23 03:00:00,2,BPN-R2-01\n",  # 12 h
                      encoding="utf-8")  # fmt: skip
    code, out, err = run_import(capsys, source, mapping)
    assert code == 0
    assert "line 4, column Priority: duplicate key 'I1': priority is 3 here, 1 on line 2" in err
    assert "conflicting duplicate 1" in out
    assert "response times: 1 negative (not written: on scene before the call), 1 longer than 6 h" in out
    assert "on scene before the call 1" in out  # counted among the skipped, with its reason
    incidents = {line.record.id: line.record for line in FeedReader(source.with_suffix(".ndjson"))
                 if isinstance(line.record, Incident)}  # fmt: skip
    assert incidents["I1"].priority == 1 and incidents["I1"].unit_ids == ("BPN-R2-01", "BPN-R4-02")
    assert incidents["I1"].response_time_s == 240.0  # the earliest on-scene of the rows that were used
    assert "I2" not in incidents, "the contract refuses an incident on scene before its call: skipped, not written"


def test_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "empty.csv"
    source.write_bytes(b"")
    code, _out, err = run_import(capsys, source, mapping_file(tmp_path))
    assert code == 2 and "the file is empty" in err


def test_header_only_is_nothing_usable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "header.csv"
    source.write_text(HEADER, encoding="utf-8")
    code, out, err = run_import(capsys, source, mapping_file(tmp_path))
    assert code == 1 and "nothing usable" in err and "rows read: 0" in out


def test_windows_1252_and_bom_are_detected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mapping = mapping_file(tmp_path)
    text = "CallID,Received,Answered,Site,Nama\nC1,2026-11-22 13:00:00,,BPN,Désa Sepinggan\n"
    for name, data in (("cp1252", text.encode("cp1252")), ("bom", b"\xef\xbb\xbf" + text.encode("utf-8"))):
        source = tmp_path / f"{name}.csv"
        source.write_bytes(data)  # the BOM must not become part of the first column's name
        code, _out, err = run_import(capsys, source, mapping, "-q")
        assert code == 0, err
        assert set(calls_in(source.with_suffix(".ndjson"))) == {"C1"}


def test_a_row_with_too_many_cells_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "calls.csv"
    source.write_text(HEADER + "C1,2026-11-22 13:00:00,,BPN\nC2,2026-11-22 13:01:00,,SMD,extra,cells\n",
                      encoding="utf-8")  # fmt: skip
    code, _out, err = run_import(capsys, source, mapping_file(tmp_path))
    assert code == 0 and "line 3: 6 cells, the header has 4" in err


def test_xlsx_sheet_by_name_with_date_cells_and_excel_serials(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Ringkasan"
    sheet = book.create_sheet("Calls")
    sheet.append(["CallID", "Received", "Answered", "Site"])
    sheet.append(["C1", datetime(2026, 11, 22, 13, 0, 0), datetime(2026, 11, 22, 13, 0, 4), "BPN"])
    sheet.append(["C2", 46348.5, None, "SMD"])  # Excel serial: 2026-11-22 12:00 (the cell is a plain number)
    sheet.append([2, "2026-11-22 13:10:00", None, "SMD"])  # a numeric id
    source = tmp_path / "calls.xlsx"
    book.save(source)
    mapping = mapping_file(tmp_path)
    mapping.write_text(mapping.read_text().replace('[source]\n', '[source]\nsheet = "Calls"\n')
                       .replace('"iso"]', '"iso", "excel"]'), encoding="utf-8")  # fmt: skip
    code, out, err = run_import(capsys, source, mapping)
    assert code == 0, err
    calls = calls_in(source.with_suffix(".ndjson"))
    assert calls["C1"].answered_at == utc("2026-11-22 05:00:04")
    assert calls["C2"].received_at == utc("2026-11-22 04:00:00")
    assert calls["2"].received_at == utc("2026-11-22 05:10:00")
    assert "rows read: 3" in out
    mapping.write_text(mapping.read_text().replace('sheet = "Calls"', 'sheet = "Panggilan"'), encoding="utf-8")
    code, _out, err = run_import(capsys, source, mapping)
    assert code == 2 and "no sheet 'Panggilan' (sheets: Ringkasan, Calls)" in err


def test_mapping_errors_name_file_line_and_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mapping = tmp_path / "bad.toml"
    mapping.write_text(
        '[time]\ntz = "Asia/Balikpapan"\n\n[[record]]\nkind = "call"\n\n[record.fields]\nid = "CallID"\n'
        'received_at = { column = "Received", agg = "median" }\nanswered = "Answered"\n'
        'polres_id = { column = "Site", map = { "BPN" = "64.71" }, unmapped = "drop" }\n',
        encoding="utf-8",
    )
    source = tmp_path / "calls.csv"
    source.write_text(HEADER, encoding="utf-8")
    code, _out, err = run_import(capsys, source, mapping)
    assert code == 2
    assert f"{mapping}:2: time.tz: unknown time zone 'Asia/Balikpapan'" in err
    assert f"{mapping}:9: record[1].fields.received_at.agg: 'median' is not one of" in err
    assert f"{mapping}:10: record[1].fields.answered: a call has no field 'answered'" in err
    assert f"{mapping}:11: record[1].fields.polres_id.unmapped: 'drop' is not one of error, keep, default" in err
    mapping.write_text('[[record]]\nkind = "call"\n[record.fields\n', encoding="utf-8")
    code, _out, err = run_import(capsys, source, mapping)
    assert code == 2 and f"{mapping}:3: not valid TOML" in err


def test_quiet_mode_prints_nothing_and_keeps_the_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "calls.csv"
    source.write_text(HEADER + "C1,2026-11-22 13:00:00,,BPN\nC2,kemarin,,BPN\n", encoding="utf-8")
    problems = tmp_path / "problems.txt"
    code, out, err = run_import(capsys, source, mapping_file(tmp_path), "--quiet", "--problems", str(problems))
    assert (code, out, err) == (0, "", "")
    assert problems.read_text(encoding="utf-8") == (
        f"# wallboard import problems of {source}: one line per skipped row\n"
        f"{source}: line 3, column Received: 'kemarin' matches none of the formats %Y-%m-%d %H:%M:%S, iso\n"
    )
    source.write_text(HEADER + "C2,kemarin,,BPN\n", encoding="utf-8")
    code, out, _err = run_import(capsys, source, mapping_file(tmp_path), "-q")
    assert code == 1 and out == ""


def test_xlsx_sheet_by_number_and_a_time_from_a_date_and_a_time_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import time

    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Catatan"
    sheet = book.create_sheet("Data")
    sheet.append(["judul laporan"])  # a title row above the header
    sheet.append(["CallID", "Tanggal", "Jam", "Site"])
    sheet.append(["C1", datetime(2026, 11, 22), time(13, 0, 5), "BPN"])
    source = tmp_path / "calls.xlsx"
    book.save(source)
    mapping = tmp_path / "two-columns.toml"
    mapping.write_text(
        '[source]\nsheet = 2\nheader_row = 2\n[time]\ntz = "Asia/Makassar"\n[[record]]\nkind = "call"\n'
        '[record.fields]\nid = "CallID"\nreceived_at = { columns = ["Tanggal", "Jam"] }\n'
        'polres_id = { column = "Site", map = { "BPN" = "64.71" } }\n',
        encoding="utf-8",
    )
    code, _out, err = run_import(capsys, source, mapping)
    assert code == 0, err
    assert calls_in(source.with_suffix(".ndjson"))["C1"].received_at == utc("2026-11-22 05:00:05")


def test_problems_and_out_never_overwrite_what_the_import_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--problems naming the source or the mapping emptied it; --out through a hard link destroyed the source."""
    source = tmp_path / "calls.csv"
    source.write_text(HEADER + "C1,2026-11-22 13:00:00,2026-11-22 13:00:04,BPN\n", encoding="utf-8")
    mapping = mapping_file(tmp_path)
    kept = {p: p.read_bytes() for p in (source, mapping)}
    for victim in (source, mapping):
        code, _, err = run_import(capsys, source, mapping, "--problems", str(victim))
        assert code == 2 and "--problems" in err
    # --out naming the source through a hard link: refused before anything is opened for writing.
    link = tmp_path / "link.csv"
    link.hardlink_to(source)
    code = main(["import", str(source), "--mapping", str(mapping), "--out", str(link), "--log-level", "ERROR"])
    assert code == 2 and "--out must not be a source" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in (source, mapping)} == kept


HOSTILE = ("link", "dangling-link", "fifo", "directory", "device", "not-ours")


def good_source(tmp_path: Path) -> Path:
    source = tmp_path / "calls.csv"
    source.write_text(HEADER + "C1,2026-11-22 13:00:00,2026-11-22 13:00:04,BPN\nC2,kemarin,,BPN\n", encoding="utf-8")
    return source


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", HOSTILE)
@pytest.mark.parametrize("option", ["--out", "--problems"])
def test_outputs_are_never_written_through_links_or_onto_what_is_not_ours(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], hostile_outputs: Any, option: str, kind: str
) -> None:
    """--out and --problems overwrote whatever they named: a link's target (as root, a system file), a device, a
    FIFO (the import hung), another program's file. Each is refused before anything is read, exit 2."""
    source, mapping = good_source(tmp_path), mapping_file(tmp_path)
    hostile = hostile_outputs(".ndjson" if option == "--out" else ".txt")
    target = hostile.paths[kind]
    others = ["--out", str(tmp_path / "day.ndjson")] if option == "--problems" else []
    code = main(["import", str(source), "--mapping", str(mapping), option, str(target), *others, "--log-level",
                 "ERROR"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert f"{option} {target} {hostile.REASONS[kind]}" in err and "Traceback" not in err
    assert hostile.untouched()
    assert not (tmp_path / "day.ndjson").exists()  # refused before the import ran


def test_our_own_outputs_are_replaced_and_a_failed_import_leaves_them_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An earlier recording and problems report are ours to replace (an empty file is not: it may mean something to
    whoever made it); an import that fails while writing (a full disk) leaves the earlier recording as it was, with
    no temporary file beside it."""
    source, mapping = good_source(tmp_path), mapping_file(tmp_path)
    out, problems = tmp_path / "day.ndjson", tmp_path / "problems.txt"
    problems.touch()
    code, _out, err = run_import(capsys, source, mapping, "--out", str(out), "--problems", str(problems))
    assert code == 2 and "--problems" in err and "exists and was not written by wallboard" in err
    assert problems.read_bytes() == b"" and not out.exists()
    problems.unlink()
    for _ in range(2):
        code, _out, err = run_import(capsys, source, mapping, "--out", str(out), "--problems", str(problems))
        assert code == 0, err
    assert set(calls_in(out)) == {"C1"}
    assert problems.read_text(encoding="utf-8").splitlines()[0].startswith("# wallboard import problems of ")
    kept = out.read_bytes()

    def full_disk(self: object, arrived_at: float, batch: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("wallboard.feed.ndjson.FeedWriter.write", full_disk)
    code, _out, err = run_import(capsys, source, mapping, "--out", str(out))
    assert code == 2 and "No space left on device" in err
    assert out.read_bytes() == kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calls.csv", "calls.toml", "day.ndjson", "problems.txt"]


def test_a_cell_or_a_line_too_long_is_a_skipped_row_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CSV cell over 128 KiB stopped the import with the csv module's traceback; now it is one skipped row, as is a
    line over 1 MiB (read past a chunk at a time) and an unclosed quote, and the rows after them are imported."""
    source = tmp_path / "calls.csv"
    with source.open("w", encoding="utf-8") as f:
        f.write(HEADER)
        f.write("C1,2026-11-22 13:00:00,2026-11-22 13:00:04,BPN\n")
        f.write("C2,2026-11-22 13:01:00," + "x" * 200_000 + ",BPN\n")  # line 3: one cell of 200 kB
        f.write("C3,2026-11-22 13:02:00,2026-11-22 13:02:04,BPN\n")
        f.write("C4," + "y," * 1_500_000 + "\n")  # line 5: a line of 3 MB
        f.write("C5,2026-11-22 13:03:00,2026-11-22 13:03:04,BPN\n")
        f.write('C6,"2026-11-22 13:04:00,' + "z" * 150_000 + "\n")  # line 7: a quote never closed
    code, out, err = run_import(capsys, source, mapping_file(tmp_path))
    assert code == 0, err
    assert "Traceback" not in err
    assert "line 3: a cell longer than 128 KiB" in err
    assert "line 5: a line longer than 1 MiB" in err
    assert "line 7: a cell longer than 128 KiB" in err
    assert set(calls_in(source.with_suffix(".ndjson"))) == {"C1", "C3", "C5"}
    assert "rows skipped: 3" in out


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["fifo", "device"])
@pytest.mark.parametrize("what", ["reference", "mapping", "csv", "eido"])
def test_inputs_that_are_not_regular_files_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], what: str, kind: str
) -> None:
    """A mapping, a mapping's reference.file or a source that is a FIFO hung the import; /dev/zero filled the
    memory. Only regular files are read."""
    special = tmp_path / "special.fifo"
    if kind == "fifo":
        os.mkfifo(special)
    else:
        special = Path("/dev/zero")
    source, mapping = good_source(tmp_path), mapping_file(tmp_path)
    args = ["import", str(source), "--mapping", str(mapping)]
    if what == "reference":
        mapping.write_text(mapping.read_text(encoding="utf-8").replace(
            '[reference]\n', f'[reference]\nfile = "{special}"\n'), encoding="utf-8")  # fmt: skip
    elif what == "mapping":
        args = ["import", str(source), "--mapping", str(special)]
    elif what == "csv":
        args = ["import", str(special), "--format", "csv", "--mapping", str(mapping)]
    else:
        args = ["import", str(special), "--format", "eido"]
    code = main([*args, "--out", str(tmp_path / "out.ndjson"), "--log-level", "ERROR"])
    err = capsys.readouterr().err
    reason = "is a FIFO (named pipe)" if kind == "fifo" else "is a device"
    assert code == 2 and f"{special} {reason}, not a regular file" in err, err
    assert not (tmp_path / "out.ndjson").exists()


def test_a_reference_file_too_large_to_be_one_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("wallboard.feed.importer.mapping.MAX_REFERENCE_BYTES", 1000)
    reference = tmp_path / "ref.json"
    reference.write_text(json.dumps({"poldas": [], "polres": [], "padding": "x" * 2000}), encoding="utf-8")
    mapping = mapping_file(tmp_path)
    mapping.write_text(mapping.read_text(encoding="utf-8").replace(
        "[reference]\n", f'[reference]\nfile = "{reference}"\n'), encoding="utf-8")  # fmt: skip
    code, _out, err = run_import(capsys, good_source(tmp_path), mapping)
    assert code == 2 and "reference.file" in err and "is larger than 1000 bytes, the most wallboard reads" in err


def test_what_the_summary_keeps_per_bad_row_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file of millions of bad rows, or of records with millions of distinct unknown Polres ids, kept a Python
    object for each in the summary. Skipped rows are now one bit each, unknown ids counted one by one up to a cap."""
    from wallboard.feed.importer.build import RowSet, Summary

    rows = RowSet()
    for number in (5, 3, 5, 1_000_000, 3):
        rows.add(number)
    assert len(rows) == 3 and 5 in rows and 4 not in rows and 1_000_000 in rows and 2_000_000 not in rows
    assert len(rows._bits) < 200_000  # an eighth of a byte per row number
    monkeypatch.setattr("wallboard.feed.importer.build.MAX_UNKNOWN_POLRES", 2)
    summary = Summary()
    for polres in ("99.01", "99.02", "99.03", "99.01", "99.04"):
        summary.unknown(polres)
    assert summary.unknown_polres == {"99.01": 2, "99.02": 1} and summary.unknown_polres_more == 2
    assert "(and 2 records with ids past the first 2)" in summary.render()


def test_rows_the_source_cannot_read_are_reported_once_and_not_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    from wallboard.feed.importer.build import RowImport, SortedOutput
    from wallboard.feed.importer.mapping import load_mapping
    from wallboard.feed.importer.sources import open_source
    from wallboard.resources import all_poldas

    source = tmp_path / "calls.csv"
    source.write_text(HEADER + "C1,2026-11-22 13:00:00,2026-11-22 13:00:04,BPN,x,y\n" * 3
                      + "C2,2026-11-22 13:00:00,2026-11-22 13:00:04,BPN\n", encoding="utf-8")  # fmt: skip
    mapping = load_mapping(mapping_file(tmp_path))
    rows = open_source(source, mapping.source, mapping.columns)
    reported: list[str] = []
    importer = RowImport(mapping, rows, all_poldas(), reported.append)
    with SortedOutput(sqlite3.connect(":memory:")) as output:
        summary = importer.collect(output, "calls.csv")
    rows.close()
    assert len(reported) == 3 and rows.problems == [] and len(summary.skipped_rows) == 3


def test_a_problems_report_that_cannot_be_written_fails_the_import_and_says_where_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk filling as the report was put in place printed a message and still exited 0, and the report's
    temporary file was left unnamed."""
    from wallboard.files import AtomicOutput

    source = tmp_path / "calls.csv"
    source.write_text(HEADER + "C1,2026-11-22 13:00:00,,BPN\nC2,kemarin,,BPN\n", encoding="utf-8")
    problems = tmp_path / "problems.txt"
    commit = AtomicOutput.commit

    def disk_full_for_the_report(self: AtomicOutput) -> Path:
        if self.what == "--problems":
            raise OSError(errno.ENOSPC, "No space left on device")
        return commit(self)

    monkeypatch.setattr(AtomicOutput, "commit", disk_full_for_the_report)
    code, _out, err = run_import(capsys, source, mapping_file(tmp_path), "--quiet", "--problems", str(problems))
    partial = [p for p in tmp_path.iterdir() if p.name.startswith("problems.txt.")]
    assert code == 1 and "No space left on device" in err, err
    assert len(partial) == 1 and str(partial[0]) in err and not problems.exists()
    assert partial[0].name.endswith(".kept"), "set aside under a name no clean-up removes"
