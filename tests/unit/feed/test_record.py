"""`wallboard record` against the real simulator over HTTP: the recording holds exactly the simulated world."""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from wallboard.config import load_config
from wallboard.core.model import Call, Incident, QueueState, Unit
from wallboard.core.reference import ReferenceData
from wallboard.feed.client import DispatchClient
from wallboard.feed.ndjson import FeedReader, FeedWriter
from wallboard.feed.record import record_feed
from wallboard.feed.sync import StreamSync
from wallboard.sim.server import SimServer

START = 1_795_323_600.0  # 2026-11-22 13:00 WITA


@pytest.fixture
def frozen_sim() -> Iterator[SimServer]:
    # Speed 0: the simulated clock stands still after two hours of history, so the world cannot change while we
    # record and the recording must equal it exactly.
    sim = SimServer(region="kaltim", seed=11, speed=0.0, history_hours=2, start_time=START)
    sim.start()
    yield sim
    sim.stop()


def latest(records: list[Call | Incident | Unit]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in records:
        out[r.id] = max(out.get(r.id, -1), r.rev)
    return out


def test_recording_holds_the_whole_world(frozen_sim: SimServer, tmp_path: Path) -> None:
    config = load_config(overrides={"api.poll_calls_s": "0.2", "api.poll_units_s": "0.2", "api.poll_queue_s": "0.2"})
    sync = StreamSync(DispatchClient(frozen_sim.url, config.api, None), "kaltim", frozen_sim.clock.now)
    path = tmp_path / "rec.ndjson"
    with FeedWriter(path, tz="Asia/Makassar", polda_id="kaltim", source=frozen_sim.url) as writer:
        count = record_feed(sync, writer, frozen_sim.clock, config, threading.Event(), time.monotonic() + 1.0)
    sync.client.close()
    reader = FeedReader(path)
    lines = list(reader)
    assert reader.problems == [] and len(lines) == count
    assert reader.header["polda_id"] == "kaltim" and reader.header["source"] == frozen_sim.url
    assert lines[0].stream == "reference" and isinstance(lines[0].record, ReferenceData)
    assert set(lines[0].record.polres) == set(frozen_sim.reference.polres)
    assert all(line.t == START for line in lines)  # arrival time on the (frozen) simulated clock
    world = frozen_sim.world
    calls = [line.record for line in lines if isinstance(line.record, Call)]
    incidents = [line.record for line in lines if isinstance(line.record, Incident)]
    units = [line.record for line in lines if isinstance(line.record, Unit)]
    assert len(world.calls) > 20 and len(world.incidents) >= 1  # two hours of Kaltim
    assert latest(calls) == {cid: sim_call.call.rev for cid, sim_call in world.calls.items()}  # type: ignore[arg-type]
    assert latest(incidents) == {iid: i.rev for iid, i in world.incidents.items()}  # type: ignore[arg-type]
    assert latest(units) == {u.id: u.rev for u in world.all_units()}  # type: ignore[arg-type]
    # Cursors: nothing fetched twice although calls, incidents and units were polled about five times.
    assert len(calls) == len(world.calls) and len(units) == len(latest(units))  # type: ignore[arg-type]
    assert sum(isinstance(line.record, QueueState) for line in lines) >= 3


def test_the_command_records_for_the_given_minutes(frozen_sim: SimServer, tmp_path: Path) -> None:
    out = tmp_path / "cli.ndjson"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "wallboard", "record", "--out", str(out), "--api-url", frozen_sim.url,
         "--minutes", "0.02", "--set", "board.polda_id=kaltim", "--log-level", "WARNING"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 30
    reader = FeedReader(out)
    lines = list(reader)
    assert f"recorded {len(lines)} records to {out}" in result.stdout
    assert reader.problems == [] and {line.stream for line in lines} >= {"reference", "calls", "units", "queue"}


def test_the_header_never_carries_credentials() -> None:
    from wallboard.feed.record import public_source

    assert (
        public_source("https://user:s3cret@cad.polri.example:8443/api?token=abc")
        == "https://cad.polri.example:8443/api"
    )
    assert public_source("http://127.0.0.1:8080") == "http://127.0.0.1:8080"


def test_an_unwritable_output_is_a_message_not_a_traceback(frozen_sim: SimServer, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "wallboard", "record", "--out", str(blocker / "sub" / "x.ndjson"),
         "--api-url", frozen_sim.url, "--minutes", "0.01"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and f"cannot write {blocker / 'sub' / 'x.ndjson'}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["link", "dangling-link", "fifo", "directory", "device", "not-ours"])
def test_out_is_never_written_through_a_link_or_onto_what_is_not_ours(
    hostile_outputs: Any, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`record --out` truncated whatever it named (a link's target, another program's file) or hung on a FIFO.
    Refused before the recorder starts, exit 2."""
    from wallboard.cli import main

    hostile = hostile_outputs(".ndjson")
    target = hostile.paths[kind]
    code = main(["record", "--out", str(target), "--api-url", "http://127.0.0.1:9", "--minutes", "0.01",
                 "--log-level", "ERROR"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and f"--out {target} {hostile.REASONS[kind]}" in err, err
    assert hostile.untouched()


def test_a_recording_replaces_an_earlier_one_only_when_complete(frozen_sim: SimServer, tmp_path: Path) -> None:
    """An earlier recording is ours to replace; while recording, the lines go to a temporary file beside it, which
    is renamed over it at the end (a recorder that dies leaves the earlier recording whole)."""
    out = tmp_path / "rec.ndjson"
    command = [sys.executable, "-m", "wallboard", "record", "--out", str(out), "--api-url", frozen_sim.url,
               "--set", "board.polda_id=kaltim", "--log-level", "WARNING"]  # fmt: skip
    first = subprocess.run([*command, "--minutes", "0.01"], capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    kept = out.read_bytes()
    recorder = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not list(tmp_path.glob("rec.ndjson.*.partial")) and time.monotonic() < deadline:
            time.sleep(0.05)
        partial = list(tmp_path.glob("rec.ndjson.*.partial"))
        assert len(partial) == 1 and out.read_bytes() == kept
        recorder.kill()  # a crash: the earlier recording stays, what was recorded is beside it
        recorder.wait(timeout=30)
        assert out.read_bytes() == kept and partial[0].exists()
    finally:
        if recorder.poll() is None:
            recorder.kill()
            recorder.wait(timeout=30)
    partial[0].unlink()
    second = subprocess.run([*command, "--minutes", "0.01"], capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stderr
    reader = FeedReader(out)
    assert list(reader) and reader.header["source"] == frozen_sim.url
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.ndjson"]


def limit_file_size(max_bytes: int) -> Callable[[], None]:
    """For a child process: files may not grow past ``max_bytes`` (writes then fail with EFBIG, as on a full disk)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error from write(), not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return apply


def test_a_full_disk_ends_the_recording_with_a_message_and_every_line_whole(
    frozen_sim: SimServer, tmp_path: Path
) -> None:
    out = tmp_path / "full.ndjson"
    result = subprocess.run(
        [sys.executable, "-m", "wallboard", "record", "--out", str(out), "--api-url", frozen_sim.url,
         "--minutes", "0.2", "--set", "board.polda_id=kaltim", "--log-level", "WARNING"],
        capture_output=True, text=True, timeout=60, preexec_fn=limit_file_size(50_000),
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and f"cannot write {out}" in result.stderr
    data = out.read_bytes()
    assert 0 < len(data) <= 50_000 and data.endswith(b"\n"), "cut back to the last whole line"
    reader = FeedReader(out)
    lines = list(reader)
    assert reader.problems == [] and lines, "what was written before the disk filled is a readable recording"
    assert f"the {len(lines)} records before it are kept, every line whole" in result.stderr


def test_a_run_that_records_nothing_leaves_an_earlier_recording_whole(frozen_sim: SimServer, tmp_path: Path) -> None:
    """The API down for the whole run replaced a 1,371-record recording with its header and exited 0."""
    out = tmp_path / "rec.ndjson"
    command = [sys.executable, "-m", "wallboard", "record", "--out", str(out), "--set", "board.polda_id=kaltim",
               "--log-level", "WARNING", "--minutes", "0.02"]  # fmt: skip
    first = subprocess.run([*command, "--api-url", frozen_sim.url], capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    kept = out.read_bytes()
    down = subprocess.run([*command, "--api-url", "http://127.0.0.1:9"], capture_output=True, text=True, timeout=60)
    assert down.returncode == 1 and "nothing was recorded" in down.stderr and "left as it was" in down.stderr
    assert out.read_bytes() == kept and sorted(p.name for p in tmp_path.iterdir()) == ["rec.ndjson"]


def test_an_unexpected_error_keeps_the_earlier_recording_and_says_where_the_new_one_is(
    frozen_sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A defect of ours (not a RecordingError) committed what it had over --out, with a traceback."""
    from wallboard.cli import main
    from wallboard.commands import record as record_command

    out = tmp_path / "rec.ndjson"
    args = ["record", "--out", str(out), "--api-url", frozen_sim.url, "--set", "board.polda_id=kaltim",
            "--log-level", "ERROR", "--minutes", "0.02"]  # fmt: skip
    assert main(args) == 0
    kept = out.read_bytes()

    def broken(sync: Any, writer: FeedWriter, *rest: Any) -> int:
        writer.write(time.time(), [])
        raise KeyError("a defect")

    monkeypatch.setattr(record_command, "record_feed", broken)
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "unexpected error (KeyError" in err and f"{out} is left as it was" in err and "Traceback" not in err
    assert out.read_bytes() == kept
    kept_aside = [p for p in tmp_path.iterdir() if p.name.endswith(".kept")]
    assert len(kept_aside) == 1 and kept_aside[0].name in err, "set aside under a name no clean-up removes"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_an_api_host_name_the_http_library_refuses_is_a_configuration_error(tmp_path: Path) -> None:
    long_label = "a" * 64
    result = subprocess.run(
        [sys.executable, "-m", "wallboard", "record", "--out", str(tmp_path / "r.ndjson"), "--api-url",
         f"http://{long_label}.example/", "--minutes", "0.01"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "host name that is not valid" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and list(tmp_path.iterdir()) == []
