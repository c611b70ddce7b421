"""NENA EIDO documents to a recording: the shipped sample (written from the NENA-STA-021.1 schema's element names)
tells the story of docs/feed-format.md's worked example, and `metrics --feed` reports the same numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from wallboard.cli import main
from wallboard.core.model import Incident, Unit
from wallboard.feed.ndjson import FeedReader

EXAMPLES = Path(__file__).resolve().parents[4] / "resources" / "import"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args, "--log-level", "ERROR"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def import_eido(capsys: pytest.CaptureFixture[str], source: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    return run(capsys, "import", str(source), "--format", "eido", "--mapping", str(EXAMPLES / "eido.toml"),
               "--out", str(out), *extra)  # fmt: skip


def documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = json.loads((EXAMPLES / "eido-sample.json").read_text(encoding="utf-8"))
    return docs


def test_the_sample_tells_the_worked_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "eido.ndjson"
    code, summary, _err = import_eido(capsys, EXAMPLES / "eido-sample.json", out)
    assert code == 0
    assert "documents read: 6" in summary
    assert "records written: calls 2 (4 revisions), incidents 2 (6 revisions), units 1 (4 revisions)" in summary
    code, text, err = run(capsys, "metrics", "--feed", str(out), "--at", "2026-11-22T13:39:00+08:00", "--json")
    assert code == 0, err
    doc = json.loads(text)
    today = doc["tiers"]["today"]
    assert today["received"] == 2 and today["answered_by_tier"]["polres"] == 1 and today["abandoned"] == 1
    assert today["answered_within_threshold"] == 1  # answerDate 4 s after callStartTimestamp
    by_polres = {r["unit_id"]: r for r in doc["response_by_polres"]}
    assert by_polres["64.71"]["count"] == 1 and by_polres["64.71"]["median_s"] == 260.0  # ResourcesOnscene 13:04:50
    assert by_polres["64.72"]["count"] == 0 and by_polres["64.72"]["overdue_now"] == 1  # no unit after 36 min
    lines = list(FeedReader(out))
    incidents = [line.record for line in lines if isinstance(line.record, Incident)]
    incident = [i for i in incidents if i.polres_id == "64.71"]
    assert [i.rev for i in incident] == [1, 2, 3, 4, 5]
    final = incident[-1]
    assert final.id == "BPN-20261122-0001" and final.priority == 1 and final.kind == "Kecelakaan lalu lintas"
    assert final.location is not None and (final.location.lat, final.location.lon) == (-1.25, 116.85)  # PIDF-LO pos
    assert final.unit_ids == ("BPN-R2-07",) and final.closed_at is not None
    units = [line.record for line in lines if isinstance(line.record, Unit)]
    assert [u.status.value for u in units] == ["dispatched", "en_route", "on_scene", "available"]
    assert units[0].kind.value == "R2" and units[-1].incident_id is None
    samarinda = [
        line.record for line in lines if isinstance(line.record, Incident) and line.record.polres_id == "64.72"
    ]
    assert samarinda[-1].priority == 3  # incidentCommonPriorityNumber 5 through eido.priority_map


def test_array_ndjson_and_directory_read_the_same(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docs = documents()
    ndjson = tmp_path / "docs.ndjson"
    ndjson.write_text("\n".join(json.dumps(d) for d in docs) + "\n", encoding="utf-8")
    folder = tmp_path / "folder"
    folder.mkdir()
    for number, doc in enumerate(docs):
        (folder / f"eido-{number:02d}.json").write_text(json.dumps(doc), encoding="utf-8")
    outputs = []
    for source in (EXAMPLES / "eido-sample.json", ndjson, folder):
        out = tmp_path / f"{source.stem}.out.ndjson"
        assert import_eido(capsys, source, out, "-q")[0] == 0
        outputs.append(out.read_text(encoding="utf-8").splitlines()[1:])  # the header names the source
    assert outputs[0] == outputs[1] == outputs[2]


def test_bad_documents_are_reported_and_the_rest_imported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docs = documents()
    no_time = dict(docs[1])
    del no_time["lastUpdateTimeStamp"]
    unknown_beat = json.loads(json.dumps(docs[5]))
    unknown_beat["incidentComponent"]["beatOrDispatchGroupText"] = "TARAKAN"
    source = tmp_path / "docs.ndjson"
    lines = [json.dumps(docs[0]), "{not json", json.dumps({"hello": "world"}), json.dumps(no_time),
             json.dumps(unknown_beat), *map(json.dumps, docs[2:5])]  # fmt: skip
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = import_eido(capsys, source, tmp_path / "out.ndjson")
    assert code == 0
    assert "docs.ndjson:2: skipped: not JSON" in err
    assert "docs.ndjson:3: skipped: no eidoVersion: not an EIDO document" in err
    assert "docs.ndjson:4: skipped: lastUpdateTimeStamp: missing" in err
    assert "docs.ndjson:5: skipped: no Polres for 'TARAKAN'" in err
    assert "documents skipped: 4 (bad document 4)" in out
    assert "incidents 1" in out


def test_an_empty_eido_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "empty.json"
    source.write_text("", encoding="utf-8")
    code, _out, err = import_eido(capsys, source, tmp_path / "out.ndjson")
    assert code == 2 and "the file is empty" in err


def test_a_large_file_is_read_a_line_at_a_time_with_each_line_bounded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every file was read whole into memory (/dev/zero, or a file of gigabytes without a newline, filled it). A
    file past the whole-file bound is NDJSON read line by line; a line past the line bound is one skipped document,
    read past in chunks; a JSON array that large is refused with what to do instead."""
    docs = documents()
    source = tmp_path / "docs.ndjson"
    lines = [json.dumps(d) for d in docs]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    small = tmp_path / "small.ndjson"
    assert import_eido(capsys, source, small, "-q")[0] == 0  # read whole
    monkeypatch.setattr("wallboard.feed.importer.eido.MAX_WHOLE_FILE_BYTES", 1000)
    monkeypatch.setattr("wallboard.feed.importer.eido.MAX_LINE_BYTES", 64 * 1024)
    lines.insert(1, '{"padding": "' + "x" * 3_000_000 + '"}')
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _out, err = import_eido(capsys, source, tmp_path / "big.ndjson")
    assert code == 0, err
    assert "docs.ndjson:2: skipped: a line longer than 64 KiB" in err
    big = (tmp_path / "big.ndjson").read_text(encoding="utf-8").splitlines()[1:]
    assert big == small.read_text(encoding="utf-8").splitlines()[1:]  # the same records as read whole
    array = tmp_path / "docs.json"
    array.write_text(json.dumps(docs), encoding="utf-8")
    code, _out, err = import_eido(capsys, array, tmp_path / "array.ndjson")
    assert code == 2 and "a JSON array larger than" in err and "export NDJSON" in err


def test_a_file_that_is_not_utf8_is_a_message_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "docs.json"
    source.write_bytes(b'{"eidoVersion": "\xff"}')
    code, _out, err = import_eido(capsys, source, tmp_path / "out.ndjson")
    assert code == 2 and "docs.json: not UTF-8 (byte 0xff at offset 17)" in err
