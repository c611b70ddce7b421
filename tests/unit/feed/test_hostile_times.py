"""Times far outside reason, from a server or a recording: refused with a reason, never a traceback or a silent zero.

Each of these was a finding of the adversarial run in issue 13 (year-0001 and year-9999 records, an incident on scene
before its call, ``--at`` in year 0001).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from wallboard.config import Config
from wallboard.core.model import Call, CallCategory, Incident, Priority, Tier
from wallboard.core.timeutil import format_rfc3339
from wallboard.core.wire import WireError, call_to_wire, incident_from_wire, incident_to_wire
from wallboard.feed.client import Fetched
from wallboard.feed.ndjson import FeedReader
from wallboard.feed.replay import ReplaySource
from wallboard.feed.sync import StreamSync

T = 1_795_300_000.0  # 2026-11-22, WITA afternoon
TZ = "Asia/Makassar"
HEADER = {"format": "wallboard-feed", "version": 1, "tz": TZ, "polda_id": "kaltim", "source": "test"}


YEAR_1 = "0001-01-01T00:00:00+08:00"


def call(cid: str, received: str | None = None) -> dict[str, Any]:
    record = call_to_wire(Call(cid, 1, "64.71", T - 60, Tier.POLRES, (), None, None, None, CallCategory.UNKNOWN), TZ)
    return record if received is None else {**record, "received_at": received}


def line(t: str | float, stream: str, record: dict[str, Any]) -> dict[str, Any]:
    return {"t": t if isinstance(t, str) else format_rfc3339(t, TZ), "stream": stream, "record": record}


def recording(path: Path, *lines: dict[str, Any]) -> Path:
    path.write_text("\n".join(json.dumps(x) for x in (HEADER, *lines)) + "\n", encoding="utf-8")
    return path


def metrics(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wallboard", "metrics", *args, "--log-level", "WARNING"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_metrics_at_year_0001_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    feed = recording(tmp_path / "f.ndjson", line(T, "calls", call("c1")))
    result = metrics("--feed", str(feed), "--at", YEAR_1)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "--at" in result.stderr and "outside the recording" in result.stderr


def test_one_line_dated_9999_does_not_make_metrics_report_zero_calls(tmp_path: Path) -> None:
    feed = recording(
        tmp_path / "f.ndjson",
        line(T, "calls", call("c1")),
        line(T + 5, "calls", call("c2")),
        line("9999-12-31T00:00:00+08:00", "calls", call("c3")),
    )
    result = metrics("--feed", str(feed), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["tiers"]["today"]["received"] == 2
    assert "9999" in result.stderr or "skipped" in result.stderr, "the bad line is reported"


def test_a_record_with_t_in_year_0001_does_not_start_the_replay_in_year_0001(tmp_path: Path) -> None:
    feed = recording(
        tmp_path / "f.ndjson",
        line(YEAR_1, "calls", call("c0")),
        line(T, "calls", call("c1")),
    )
    source = ReplaySource.open(feed, speed=1.0)
    assert source.start_time == T
    assert [number for number, _ in source.problems] == [2]
    assert "t:" in source.problems[0][1]


def test_a_call_received_in_year_0001_is_skipped_with_a_reason(tmp_path: Path) -> None:
    feed = recording(
        tmp_path / "f.ndjson",
        line(T, "calls", call("c0", received=YEAR_1)),
        line(T, "calls", call("c1")),
    )
    reader = FeedReader(feed)
    assert [x.record.id for x in reader] == ["c1"]  # type: ignore[union-attr]
    assert "received_at" in reader.problems[0][1] and "window" in reader.problems[0][1]
    result = metrics("--feed", str(feed), "--json")
    assert json.loads(result.stdout)["queue"]["longest_wait_s"] == 60.0, "not 63,930,949,260 s"


class OnePage:
    def __init__(self, items: list[Any], server_time: float = T) -> None:
        self.items, self.server_time = items, server_time

    def fetch(self, path: str, params: dict[str, str] | None = None, *, use_etag: bool = True) -> Fetched:
        items = self.items if path.endswith("/calls") else []
        doc = {"items": items, "next_cursor": "a", "has_more": False, "server_time": format_rfc3339(self.server_time)}
        return Fetched(doc, False, None)

    def close(self) -> None:
        pass


def test_the_live_feed_refuses_timestamps_outside_the_window_with_a_reason() -> None:
    api = OnePage([call("c0", received=YEAR_1), call("c1"), call("c2", "9999-01-01T00:00:00Z")])
    result = StreamSync(api, "kaltim", lambda: T).fetch("calls")
    assert [r.id for r in result.records] == ["c1"]
    assert len(result.invalid) == 2 and all("outside the accepted window" in reason for reason in result.invalid)
    narrow = StreamSync(api, "kaltim", lambda: T, time_window_s=30).fetch("calls")
    assert narrow.records == [], "the window is configurable: a minute-old call is outside ±30 s"


def incident(on_scene: float) -> dict[str, Any]:
    return incident_to_wire(
        Incident("i1", 1, "64.71", "c1", T - 600, Priority.P1, "KDRT", None, T - 580, T - 570, on_scene, None, ())
    )


def test_an_incident_on_scene_before_its_call_is_rejected_with_a_reason() -> None:
    assert incident_from_wire(incident(T - 300)).on_scene_at == T - 300
    with pytest.raises(WireError, match="on_scene_at: before call_received_at"):
        incident_from_wire(incident(T - 900))


def test_an_incident_on_scene_before_its_call_is_counted_as_invalid_by_the_feed() -> None:
    class Incidents(OnePage):
        def fetch(self, path: str, params: dict[str, str] | None = None, *, use_etag: bool = True) -> Fetched:
            doc = {"items": self.items if path.endswith("/incidents") else [], "next_cursor": "a", "has_more": False}
            return Fetched(doc, False, None)

    result = StreamSync(Incidents([incident(T - 900)]), "kaltim").fetch("calls")
    assert result.records == [] and "on_scene_at" in result.invalid[0]


def test_config_has_a_default_unit_forget_time() -> None:
    assert Config().board.unit_forget_s >= 600
