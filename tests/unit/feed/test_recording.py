"""Recordings: the NDJSON format round-trips, bad lines are skipped with their line number, replays release records
on the replay clock, and `wallboard metrics` prints the numbers a hand calculation gives."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from wallboard.core.model import Call, CallCategory, Incident, Tier, Unit, UnitKind, UnitStatus
from wallboard.core.timeutil import ManualClock
from wallboard.feed.ndjson import FeedReader, FeedWriter
from wallboard.feed.replay import ReplaySource
from wallboard.resources import kaltim_reference

WITA = ZoneInfo("Asia/Makassar")
T0 = datetime(2026, 11, 22, 13, 0, tzinfo=WITA).timestamp()


def call(
    cid: str, received: float, wait: float, category: CallCategory, tier: Tier = Tier.POLRES, rev: int = 2
) -> Call:
    return Call(cid, rev, "64.71", received, Tier.POLRES, (), received + wait, tier, None, category)


def make_recording(path: Path) -> None:
    writer = FeedWriter(path, tz="Asia/Makassar", polda_id="kaltim", source="test")
    writer.write(T0, [kaltim_reference()])
    writer.write(T0 + 60, [call("a", T0 + 30, 4, CallCategory.GENUINE), call("b", T0 + 40, 12, CallCategory.PRANK)])
    writer.write(
        T0 + 120, [call("c", T0 + 100, 6, CallCategory.SILENT), call("b", T0 + 40, 12, CallCategory.PRANK, rev=1)]
    )
    writer.write(T0 + 1800, [
        Incident("i1", 3, "64.71", "a", T0 + 30, on_scene_at=T0 + 30 + 240, closed_at=T0 + 1500),
        Incident("i2", 2, "64.71", None, T0 + 600, on_scene_at=T0 + 600 + 720),
        Unit("u1", 1, "BPN-R2-01", "64.71", UnitKind.R2, UnitStatus.AVAILABLE),
    ])  # fmt: skip
    writer.write(T0 + 3600, [call("late", T0 + 3590, 2, CallCategory.PRANK)])
    writer.close()


def test_round_trip_and_bad_lines_are_skipped_with_their_line_number(tmp_path: Path) -> None:
    path = tmp_path / "feed.ndjson"
    make_recording(path)
    with open(path, "a", encoding="utf-8") as f:
        f.write("{not json\n")
        f.write(json.dumps({"t": "2026-11-22T14:00:00+08:00", "stream": "calls", "record": {"id": "x"}}) + "\n")
    reader = FeedReader(path)
    lines = list(reader)
    assert reader.header["format"] == "wallboard-feed" and reader.header["tz"] == "Asia/Makassar"
    assert [line.stream for line in lines] == ["reference", "calls", "calls", "calls", "calls", "incidents",
                                               "incidents", "units", "calls"]  # fmt: skip
    assert lines[1].record == call("a", T0 + 30, 4, CallCategory.GENUINE)
    assert [n for n, _ in reader.problems] == [11, 12]
    assert reader.problems[1][1] == "received_at: missing"


def test_replay_releases_records_on_its_clock(tmp_path: Path) -> None:
    path = tmp_path / "feed.ndjson"
    make_recording(path)
    base = ManualClock(1000.0)
    replay = ReplaySource.open(path, speed=60, base=base)
    assert replay.clock.now() == T0
    assert [s for s, _ in replay.due(replay.clock.now())] == ["reference"]
    base.advance(2)  # two real seconds at ×60 = two minutes of the recording
    assert len(replay.due(replay.clock.now())) == 4
    assert replay.due(replay.clock.now()) == []
    base.advance(60)
    assert len(replay.due(replay.clock.now())) == 4 and replay.finished


def run_metrics(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wallboard", "metrics", *args, "--log-level", "ERROR"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_metrics_cli_prints_the_hand_computed_numbers(tmp_path: Path) -> None:
    path = tmp_path / "feed.ndjson"
    make_recording(path)
    result = run_metrics("--feed", str(path), "--at", "2026-11-22T13:45:00+08:00", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    today = doc["tiers"]["today"]
    # By 13:45 three calls had arrived (b's old revision 1 came after revision 2 and was ignored).
    assert today["received"] == 3
    assert today["answered_by_tier"] == {"polsek": 0, "polres": 3, "polda": 0, "mabes": 0}
    assert today["answered_within_threshold"] == 2  # a in 4 s, c in 6 s; b took 12 s
    assert round(today["service_level_pct"], 2) == 66.67
    assert round(today["prank_share_pct"], 2) == 66.67  # b prank + c silent of 3 categorised
    balikpapan = next(r for r in doc["response_by_polres"] if r["unit_id"] == "64.71")
    assert balikpapan["count"] == 2  # i1 4 min, i2 12 min (both arrived at 13:30)
    assert balikpapan["median_s"] == 480.0  # (240 + 720) / 2
    assert balikpapan["p90_s"] == 672.0  # 240 + 0.9 × 480
    assert balikpapan["within_target_pct"] == 50.0
    at_end = json.loads(run_metrics("--feed", str(path), "--json").stdout)
    assert at_end["tiers"]["today"]["received"] == 4
    text = run_metrics("--feed", str(path))
    assert "Polresta Balikpapan" in text.stdout and "today: received 4" in text.stdout


def test_metrics_cli_refuses_a_missing_file(tmp_path: Path) -> None:
    result = run_metrics("--feed", str(tmp_path / "nope.ndjson"))
    assert result.returncode == 2
    assert "no such recording" in result.stderr
