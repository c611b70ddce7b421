"""The NDJSON feed format: every record type round-trips, bad lines are skipped with line number and reason (and
never stop the reader), hostile text stays data, and the worked example in docs/feed-format.md is valid."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wallboard.core.model import (
    Call,
    CallCategory,
    Escalation,
    GeoPoint,
    Incident,
    PositionFix,
    QueueEntry,
    QueueState,
    Tier,
    Unit,
    UnitKind,
    UnitStatus,
)
from wallboard.core.timeutil import parse_rfc3339
from wallboard.feed.ndjson import FeedReader, FeedWriter
from wallboard.resources import kaltim_reference

T0 = parse_rfc3339("2026-11-22T13:00:00+08:00")
HOSTILE = "<img src=x onerror=alert(1)>"
DOCS = Path(__file__).resolve().parents[3] / "docs" / "feed-format.md"


def every_kind_of_record() -> list[object]:
    return [
        kaltim_reference(),
        Call("c1", 3, "64.71", T0, Tier.POLSEK, (Escalation(Tier.POLSEK, Tier.POLRES, T0 + 10),), T0 + 14,
             Tier.POLRES, None, CallCategory.GENUINE, "081234565678", GeoPoint(-1.25, 116.85)),
        Call("c2", 1, "64.71", T0 + 5, Tier.POLRES, (), None, None, T0 + 40, CallCategory.UNKNOWN),
        Incident("i1", 2, "64.71", "c1", T0, kind=HOSTILE, location=GeoPoint(-1.2, 116.8), dispatched_at=T0 + 60,
                 on_scene_at=T0 + 300, unit_ids=("u1", "u2")),
        Unit("u1", 7, HOSTILE[:30], "64.71", UnitKind.R4, UnitStatus.EN_ROUTE,
             PositionFix(-1.26, 116.83, 90.0, 42.5, T0 + 100), "i1"),
        QueueState(T0 + 120, (QueueEntry("c9", "64.71", Tier.POLRES, T0 + 115),)),
    ]  # fmt: skip


def test_every_record_type_round_trips_exactly(tmp_path: Path) -> None:
    path = tmp_path / "f.ndjson"
    records = every_kind_of_record()
    with FeedWriter(path, tz="Asia/Makassar", polda_id="kaltim", source=HOSTILE) as writer:
        writer.write(T0 + 1, records[:3])  # type: ignore[arg-type]
        writer.write(T0 + 2.5, records[3:])  # type: ignore[arg-type]
    assert writer.count == len(records)
    reader = FeedReader(path)
    lines = list(reader)
    assert [line.record for line in lines] == records
    assert [line.stream for line in lines] == ["reference", "calls", "calls", "incidents", "units", "queue"]
    assert [line.t for line in lines] == [T0 + 1] * 3 + [T0 + 2.5] * 3
    assert [line.line for line in lines] == [2, 3, 4, 5, 6, 7]
    assert reader.header == {"format": "wallboard-feed", "version": 1, "tz": "Asia/Makassar", "polda_id": "kaltim",
                             "source": HOSTILE}  # fmt: skip
    assert reader.problems == [] and reader.count == 6
    # Hostile text is a JSON string value on disk, nothing more.
    second = json.loads(path.read_text(encoding="utf-8").splitlines()[4])
    assert second["stream"] == "incidents" and second["record"]["kind"] == HOSTILE
    assert second["t"] == "2026-11-22T13:00:02.500+08:00"


def test_each_batch_is_on_disk_before_close(tmp_path: Path) -> None:
    """Each batch is on disk at once (a crashed recorder loses at most one), beside the file until the close puts
    it in place: the file itself is never half written."""
    path = tmp_path / "f.ndjson"
    writer = FeedWriter(path, tz="Asia/Makassar", polda_id=None, source="test")
    writer.write(T0, every_kind_of_record()[1:3])  # type: ignore[arg-type]
    assert writer.temp_path.parent == tmp_path and not path.exists()
    assert [line.record.id for line in FeedReader(writer.temp_path)] == ["c1", "c2"]  # type: ignore[union-attr]
    writer.close()
    writer.close()  # idempotent
    assert [line.record.id for line in FeedReader(path)] == ["c1", "c2"]  # type: ignore[union-attr]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.ndjson"]


BAD_LINES: list[tuple[bytes, str]] = [
    (b"{not json", "not JSON"),
    (b"\xff\xfe garbage", "not UTF-8"),
    (b'{"t": "2026-11-22T13:00:05+08:00", "stream": "calls", "record": {"id": "x", "rev": NaN}}', "not JSON"),
    (b"[1, 2, 3]", "line: expected a JSON object"),
    (b'{"stream": "calls", "record": {}}', "t: missing or not a string"),
    (b'{"t": "2026-11-22T13:00:05", "stream": "calls", "record": {}}', "t: not an RFC 3339 timestamp"),
    (b'{"t": "2026-11-22T13:00:05+08:00", "stream": "sms", "record": {}}', "stream: 'sms' is not one of"),
    (b'{"t": "2026-11-22T13:00:05+08:00", "stream": 7, "record": {}}', "stream: expected one of"),
    (b'{"t": "2026-11-22T13:00:05+08:00", "stream": "calls"}', "record: missing"),
    (b'{"t": "2026-11-22T13:00:05+08:00", "stream": "calls", "record": {"id": "x"}}', "received_at: missing"),
    (b'{"t": "2026-11-22T13:00:05+08:00", "stream": "units", "record": "<script>"}', "unit: expected an object"),
    (b'{"t": "2026-11-22T13:00:05+08:00", "stream": "reference", "record": {"poldas": 1}}', "reference: expected"),
    (b'{"format": "wallboard-feed", "version": 1}', "a header line inside the file"),
    (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
]


def test_bad_lines_are_skipped_with_line_number_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "f.ndjson"
    with FeedWriter(path, tz="Asia/Makassar", polda_id="kaltim", source="test") as writer:
        writer.write(T0, every_kind_of_record()[1:2])  # type: ignore[arg-type]
    good = json.loads(path.read_text(encoding="utf-8").splitlines()[1])
    with open(path, "ab") as f:
        f.write(b"\n   \n")  # blank lines are not records and not problems
        for raw, _ in BAD_LINES:
            f.write(raw + b"\n")
    good["record"]["id"] = "after-the-bad-lines"
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(good) + "\n")
    reader = FeedReader(path)
    ids = [line.record.id for line in reader]  # type: ignore[union-attr]
    assert ids == ["c1", "after-the-bad-lines"]
    assert [n for n, _ in reader.problems] == list(range(5, 5 + len(BAD_LINES)))
    for (number, reason), (_, expected) in zip(reader.problems, BAD_LINES, strict=True):
        assert expected in reason, (number, reason)
    # Reading again gives the same report, not a doubled one.
    assert len(list(reader)) == 2 and len(reader.problems) == len(BAD_LINES)


def test_an_unknown_version_or_format_is_refused_as_a_whole(tmp_path: Path) -> None:
    path = tmp_path / "f.ndjson"
    path.write_text('{"format": "wallboard-feed", "version": 2}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="version 2 is not supported"):
        list(FeedReader(path))
    path.write_text('{"format": "other-cad-export", "version": 1}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="not a wallboard feed"):
        list(FeedReader(path))


def test_a_file_without_header_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "f.ndjson"
    with FeedWriter(path, tz="Asia/Makassar", polda_id=None, source="x") as writer:
        writer.write(T0, every_kind_of_record()[1:3])  # type: ignore[arg-type]
    path.write_text("".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[1:]), encoding="utf-8")
    reader = FeedReader(path)
    assert len(list(reader)) == 2 and reader.header == {} and reader.problems == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=20,
)
record_keys = st.sampled_from(
    ["id", "rev", "polres_id", "received_at", "first_tier", "category", "as_of", "entries", "poldas", "polres", "fix",
     "escalations", "unit_ids", "priority"]
)  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    stream=st.sampled_from(["calls", "incidents", "units", "queue", "reference", "x"]),
    record=json_values | st.dictionaries(record_keys, json_values, max_size=8),
    junk=st.binary(max_size=40),
)
def test_no_line_can_crash_the_reader(tmp_path: Path, stream: str, record: object, junk: bytes) -> None:
    path = tmp_path / "fuzz.ndjson"
    line = json.dumps({"t": "2026-11-22T13:00:05+08:00", "stream": stream, "record": record})
    path.write_bytes(line.encode() + b"\n" + junk.replace(b"\n", b" ") + b"\n")
    reader = FeedReader(path)
    read = list(reader)
    assert len(read) + len(reader.problems) >= 1  # the record line was either read or reported


def test_the_worked_example_in_the_docs_is_a_valid_recording(tmp_path: Path) -> None:
    text = DOCS.read_text(encoding="utf-8")
    example = re.search(r"## A complete example.*?```json\n(.*?)```", text, re.S)
    assert example is not None
    path = tmp_path / "example.ndjson"
    path.write_text(example.group(1), encoding="utf-8")
    reader = FeedReader(path)
    lines = list(reader)
    assert reader.problems == [] and reader.header["format"] == "wallboard-feed"
    assert {line.stream for line in lines} == {"reference", "calls", "incidents", "units", "queue"}


def test_a_line_too_long_is_skipped_without_being_held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A recording given to snapshot/metrics --feed or replay may be anything: a line of gigabytes without a newline
    was read whole. Past the bound it is one skipped line, read past in chunks, and the rest is read."""
    monkeypatch.setattr("wallboard.feed.ndjson.MAX_LINE_BYTES", 1024 * 1024)
    path = tmp_path / "f.ndjson"
    with FeedWriter(path, tz="Asia/Makassar", polda_id="kaltim", source="test") as writer:
        writer.write(T0, every_kind_of_record()[1:3])  # type: ignore[arg-type]
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0] + lines[1] + b"x" * 3_000_000 + b"\n" + lines[2])
    reader = FeedReader(path)
    assert [line.record.id for line in reader] == ["c1", "c2"]  # type: ignore[union-attr]
    assert reader.problems == [(3, "longer than 1 MiB")]


def test_a_file_of_bad_lines_is_counted_not_held_line_by_line(tmp_path: Path) -> None:
    from wallboard.feed.ndjson import MAX_PROBLEMS_KEPT

    path = tmp_path / "f.ndjson"
    with FeedWriter(path, tz="Asia/Makassar", polda_id="kaltim", source="test") as writer:
        writer.write(T0, every_kind_of_record()[1:2])  # type: ignore[arg-type]
    with open(path, "ab") as f:
        f.write(b"not json\n" * (MAX_PROBLEMS_KEPT + 500))
    reader = FeedReader(path)
    assert len(list(reader)) == 1
    assert reader.skipped == MAX_PROBLEMS_KEPT + 500 and len(reader.problems) == MAX_PROBLEMS_KEPT
    assert reader.problems[0][0] == 3 and reader.problems[-1][0] == 2 + MAX_PROBLEMS_KEPT


def test_an_engine_is_fed_in_arrival_order_whether_or_not_the_file_is(tmp_path: Path) -> None:
    """A recording in order is applied as it is read (nothing held); a converted export out of order is sorted
    first; both give the engine the same state, and --at counts only what had arrived."""
    from dataclasses import replace

    from wallboard.core.metrics import MetricsEngine, MetricsSettings
    from wallboard.feed.ndjson import feed_engine_from_recording

    call = every_kind_of_record()[1]
    revisions = [replace(call, rev=r) for r in (1, 2, 3)]  # type: ignore[type-var]
    ordered, shuffled = tmp_path / "ordered.ndjson", tmp_path / "shuffled.ndjson"
    for path, order in ((ordered, (0, 1, 2)), (shuffled, (2, 0, 1))):
        with FeedWriter(path, tz="Asia/Makassar", polda_id="kaltim", source="test") as writer:
            for i in order:
                writer.write(T0 + 10 * i, [revisions[i]])  # type: ignore[list-item]
    for at, rev in ((None, 3), (T0 + 15, 2)):
        for path in (ordered, shuffled):
            engine = MetricsEngine(kaltim_reference(), "kaltim", MetricsSettings())
            feed_engine_from_recording(engine, path, at)
            assert engine.calls[call.id].rev == rev, (path.name, at)  # type: ignore[attr-defined]
