"""ReplaySource on a fake clock: records come out when the replay clock passes their arrival time, once, in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from wallboard.core.model import Call, CallCategory, QueueState, Tier
from wallboard.core.timeutil import ManualClock, format_rfc3339
from wallboard.feed.ndjson import FeedWriter
from wallboard.feed.replay import ReplaySource

T0 = 1_795_323_600.0  # 2026-11-22 13:00 WITA


def call(cid: str, t: float) -> Call:
    return Call(cid, 1, "64.71", t, Tier.POLRES, (), None, None, None, CallCategory.UNKNOWN)


def write(path: Path, batches: list[tuple[float, list[Call | QueueState]]]) -> None:
    with FeedWriter(path, tz="Asia/Makassar", polda_id="kaltim", source="test") as writer:
        for t, records in batches:
            writer.write(t, records)


def test_records_are_released_on_the_replay_clock(tmp_path: Path) -> None:
    path = tmp_path / "r.ndjson"
    write(path, [(T0, [call("a", T0)]), (T0 + 5, [call("b", T0 + 4), QueueState(T0 + 5, ())]),
                 (T0 + 30, [call("c", T0 + 29)])])  # fmt: skip
    base = ManualClock(50_000.0)
    replay = ReplaySource.open(path, speed=10, base=base)
    assert (replay.start_time, replay.end_time) == (T0, T0 + 30)
    assert replay.clock.now() == T0  # starts at the first record
    assert replay.clock.rate == 10  # the hub turns real delays into board time with it: ×10 is not ×1
    assert [r.id for _, r in replay.due(replay.clock.now())] == ["a"]  # type: ignore[union-attr]
    base.advance(0.4)  # 4 s of recording at ×10: nothing new yet
    assert replay.clock.now() == pytest.approx(T0 + 4)
    assert replay.due(replay.clock.now()) == []
    base.advance(0.1)
    assert [s for s, _ in replay.due(replay.clock.now())] == ["calls", "queue"]
    assert replay.due(replay.clock.now()) == []  # never twice
    assert replay.due(T0) == []  # a clock that steps back releases nothing again
    assert not replay.finished
    base.advance(2.5)
    assert [r.id for _, r in replay.due(replay.clock.now())] == ["c"]  # type: ignore[union-attr]
    assert replay.finished and replay.due(T0 + 1e6) == []


def test_an_unsorted_file_is_replayed_in_time_order(tmp_path: Path) -> None:
    path = tmp_path / "r.ndjson"
    write(path, [(T0 + 60, [call("late", T0 + 60)]), (T0, [call("early", T0), call("early2", T0)])])
    replay = ReplaySource.open(path, speed=1, base=ManualClock(0.0))
    assert replay.start_time == T0
    assert [r.id for _, r in replay.due(T0 + 60)] == ["early", "early2", "late"]  # type: ignore[union-attr]


def test_bad_lines_are_kept_as_problems_and_bad_input_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.ndjson"
    write(path, [(T0, [call("a", T0)])])
    with open(path, "a", encoding="utf-8") as f:
        f.write(f'{{"t": "{format_rfc3339(T0 + 1)}", "stream": "calls", "record": {{}}}}\n')
    replay = ReplaySource.open(path, base=ManualClock(0.0))
    assert [n for n, _ in replay.problems] == [3]
    with pytest.raises(ValueError, match="speed must be positive"):
        ReplaySource.open(path, speed=0)
    with pytest.raises(OSError, match="no such recording"):
        ReplaySource.open(tmp_path / "missing.ndjson")
    empty = tmp_path / "empty.ndjson"
    write(empty, [])
    with pytest.raises(ValueError, match="holds no records"):
        ReplaySource.open(empty)


def test_a_recording_in_arrival_order_is_read_as_it_plays(tmp_path: Path) -> None:
    # A month's recording must not sit in memory as decoded records: only the next line is held.
    import tracemalloc

    path = tmp_path / "month.ndjson"
    write(path, [(T0 + k, [call(f"c{k}", T0 + k)]) for k in range(20_000)])
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        replay = ReplaySource.open(path, speed=1, base=ManualClock(0.0))
        held = tracemalloc.get_traced_memory()[0] - before
        assert held < 1_000_000, f"{held} bytes held after opening a 20,000-record recording"
        assert (replay.start_time, replay.end_time) == (T0, T0 + 19_999)
        assert [r.id for _, r in replay.due(T0 + 2)] == ["c0", "c1", "c2"]  # type: ignore[union-attr]
        assert len(replay.due(T0 + 19_999)) == 19_997 and replay.finished
    finally:
        tracemalloc.stop()
