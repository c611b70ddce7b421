"""The mapping file: the documented examples are the shipped ones and valid; problems name their lines."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from wallboard.feed.importer.mapping import MappingError, line_index, load_mapping, parse_mapping

ROOT = Path(__file__).resolve().parents[4]
EXAMPLES = ROOT / "resources" / "import"


def test_every_toml_block_in_the_docs_is_a_shipped_mapping_and_valid() -> None:
    blocks = re.findall(r"```toml\n(.*?)```", (ROOT / "docs" / "import.md").read_text(encoding="utf-8"), re.S)
    shipped = {p.read_text(encoding="utf-8") for p in EXAMPLES.glob("*.toml")}
    assert len(blocks) == 3
    for block in blocks:
        assert block in shipped
        parse_mapping(tomllib.loads(block), text=block)


def test_shipped_mappings_load() -> None:
    for path in EXAMPLES.glob("*.toml"):
        mapping = load_mapping(path)
        assert mapping.reference.polda_id == "kaltim"
    cad = load_mapping(EXAMPLES / "cad-units.toml")
    assert [r.kind for r in cad.records] == ["incident", "unit"]
    assert cad.records[0].fields["on_scene_at"].agg == "min" and cad.records[0].fields["closed_at"].agg == "max"
    assert cad.records[0].fields["priority"].map == {"e": 1, "u": 2, "r": 3}
    assert "Incident No" in cad.columns and "Unit" in cad.columns


def test_line_index_follows_array_tables_and_inline_keys() -> None:
    text = '[time]\ntz = "x"\n\n[[record]]\nkind = "call"\n[record.fields]\nid = "A"\n\n[[record]]\nkind = "unit"\n'
    index = line_index(text)
    assert index[("time", "tz")] == 2
    assert index[("record", "1", "kind")] == 5 and index[("record", "1", "fields", "id")] == 7
    assert index[("record", "2", "kind")] == 10


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[record]]\nkind = "call"\n[record.fields]\nid = "A"\n',
            "3: record[1].fields: the required field 'polres_id'",
        ),
        ('[[record]]\nkind = "truck"\n', "2: record[1].kind: must be one of call, incident, unit"),
        ('[source]\ndelimiter = ";;"\n[[record]]\nkind = "call"\n', "2: source.delimiter: must be one character"),
        ('[time]\nformats = ["dd/mm/yyyy"]\n', "2: time.formats: 'dd/mm/yyyy' is neither iso, excel, epoch nor"),
        ('colour = "red"\n[[record]]\nkind = "unit"\n', "1: colour: unknown option"),
        ('[reference]\nfile = "nope.json"\n', "2: reference.file: cannot use 'nope.json'"),
        (
            '[[record]]\nkind = "incident"\n[record.fields]\nkind = { column = "K", agg = "min" }\n',
            "4: record[1].fields.kind.agg: min needs an ordered field",
        ),
    ],
)
def test_problems_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load_mapping(path)
    assert f"{path}:{message}" in str(caught.value)


def test_an_inline_reference_is_written_and_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A mapping can bring its own Polda and Polres (ids, names, coordinates) instead of the shipped reference."""
    import json

    from wallboard.cli import main

    mapping = tmp_path / "own.toml"
    mapping.write_text(
        '[reference]\npolda_id = "contoh"\n'
        'polda = { id = "contoh", name = "Polda Contoh", hq_city = "Kota A", lat = -1.0, lon = 116.0, '
        'tz = "Asia/Makassar" }\n\n'
        '[[reference.polres]]\nid = "A1"\nname = "Polres Kota A"\npolda_id = "contoh"\nlat = -1.0\nlon = 116.0\n'
        'tz = "Asia/Makassar"\ntown = "Kota A"\n\n'
        '[[record]]\nkind = "incident"\n[record.fields]\nid = "No"\npolres_id = { value = "A1" }\n'
        'call_received_at = "Received"\non_scene_at = "OnScene"\n',
        encoding="utf-8",
    )
    source = tmp_path / "cad.csv"
    source.write_text("No,Received,OnScene\nI1,2026-11-22T13:00:00+08:00,2026-11-22T13:07:00+08:00\n", encoding="utf-8")
    out = tmp_path / "own.ndjson"
    assert main(["import", str(source), "--mapping", str(mapping), "--out", str(out), "-q"]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0])["polda_id"] == "contoh" and json.loads(lines[1])["stream"] == "reference"
    capsys.readouterr()
    assert main(["metrics", "--feed", str(out), "--json", "--set", "board.polda_id=contoh"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["polda_name"] == "Polda Contoh"
    assert [(r["unit_id"], r["name"], r["median_s"]) for r in doc["response_by_polres"]] == [
        ("A1", "Polres Kota A", 420.0)
    ]
