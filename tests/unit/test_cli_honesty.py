"""The command line never passes off invented, absent or out-of-range data as real (issue 14)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from wallboard.config import BoardConfig, board_zone
from wallboard.resources import all_poldas

DOCS = Path(__file__).resolve().parents[2] / "docs" / "feed-format.md"


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The worked example of docs/feed-format.md: 13:00–13:40 WITA on 22 November 2026."""
    match = re.search(r"## A complete example.*?```json\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert match is not None
    path = tmp_path_factory.mktemp("feed") / "example.ndjson"
    path.write_text(match.group(1), encoding="utf-8")
    return path


def cli(*args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = None
    if home is not None:
        import os

        env = {**os.environ, "XDG_CONFIG_HOME": str(home / "config")}
        env.pop("WALLBOARD__API__URL", None)
    return subprocess.run([sys.executable, "-m", "wallboard", *args, "--log-level", "ERROR"],
                          capture_output=True, text=True, timeout=120, env=env)  # fmt: skip


@pytest.mark.parametrize("argv", [["run"], [], ["kiosk"]], ids=["run", "plain", "kiosk"])
def test_a_board_without_a_dispatch_api_refuses_to_start(argv: list[str], tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "wallboard", *argv], capture_output=True, text=True, timeout=60,
                            env={**__import__("os").environ, "XDG_CONFIG_HOME": str(tmp_path)})  # fmt: skip
    assert result.returncode == 2
    assert "no dispatch API is configured" in result.stderr
    assert "api.url" in result.stderr and "--api-url" in result.stderr  # what to set
    assert "`wallboard demo`" in result.stderr  # and where the simulator is
    assert "Traceback" not in result.stderr


def test_metrics_json_gives_as_of_in_rfc3339_with_the_board_offset_and_the_epoch(example: Path) -> None:
    result = cli("metrics", "--feed", str(example), "--at", "2026-11-22T13:30:00+08:00", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["as_of"] == "2026-11-22T13:30:00.000+08:00"
    assert doc["as_of_epoch"] == datetime.fromisoformat("2026-11-22T13:30:00+08:00").timestamp()
    assert doc["response_polda"]["small_sample"] is True  # one response time of the five a p90 needs
    assert doc["response_polda"]["status"] == "small"


@pytest.mark.parametrize("at", ["2026-11-22T12:59:59+08:00", "2026-11-21T13:30:00+08:00", "2026-11-22T13:40:01+08:00"])
def test_metrics_at_outside_the_recording_is_an_error_naming_its_span(example: Path, at: str) -> None:
    result = cli("metrics", "--feed", str(example), "--at", at, "--json")
    assert result.returncode == 2 and result.stdout == ""
    assert "outside the recording example.ndjson" in result.stderr
    assert "2026-11-22T13:00:00.000+08:00 to 2026-11-22T13:40:00.000+08:00" in result.stderr


def test_snapshot_at_outside_the_recording_is_an_error(example: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.png"
    result = cli("snapshot", "--feed", str(example), "--at", "2026-11-23T09:00:00+08:00", "--out", str(out))
    assert result.returncode == 2 and not out.exists()
    assert "outside the recording example.ndjson, which runs from 2026-11-22T13:00:00.000+08:00" in result.stderr


@pytest.mark.parametrize(
    ("view", "message"),
    [("polres:99.99", "unknown Polres or Polda '99.99'"), ("dashboard", "unknown view 'dashboard'")],
)
def test_snapshot_of_an_unknown_view_is_an_error(example: Path, tmp_path: Path, view: str, message: str) -> None:
    out = tmp_path / "x.png"
    result = cli("snapshot", "--feed", str(example), "--view", view, "--out", str(out))
    assert result.returncode == 2 and not out.exists()
    assert message in result.stderr


def test_config_check_says_when_the_file_does_not_exist(tmp_path: Path) -> None:
    result = cli("config", "--check", home=tmp_path)
    assert result.returncode == 2
    assert "wallboard.toml: configuration file not found" in result.stderr
    assert "OK" not in result.stdout


def test_config_check_validates_the_polda_against_the_reference(tmp_path: Path) -> None:
    config = tmp_path / "wallboard.toml"
    config.write_text('[board]\npolda_id = "kaltimm"\n', encoding="utf-8")
    result = cli("--config", str(config), "config", "--check")
    assert result.returncode == 2
    assert "board.polda_id: unknown Polda 'kaltimm'" in result.stderr and "Did you mean kaltim" in result.stderr
    good = cli("--config", str(config), "--set", "board.polda_id=jawa-timur", "config", "--check")
    assert good.returncode == 0, good.stderr
    assert "zone Asia/Jakarta" in good.stdout


def test_an_unknown_polda_stops_every_command_with_a_message_not_a_traceback(example: Path, tmp_path: Path) -> None:
    result = cli("--set", "board.polda_id=kaltimm", "snapshot", "--feed", str(example), "--out",
                 str(tmp_path / "x.png"))  # fmt: skip
    assert result.returncode == 2
    assert "unknown Polda 'kaltimm'" in result.stderr and "Traceback" not in result.stderr


def test_the_board_zone_is_its_poldas_unless_set() -> None:
    ref = all_poldas()
    assert board_zone(BoardConfig(polda_id="jawa-timur"), ref) == "Asia/Jakarta"  # WIB, not Makassar's WITA
    assert board_zone(BoardConfig(polda_id="kaltim"), ref) == "Asia/Makassar"
    assert board_zone(BoardConfig(polda_id="papua"), ref) == "Asia/Jayapura"
    assert board_zone(BoardConfig(polda_id="jawa-timur", tz="Asia/Makassar"), ref) == "Asia/Makassar"  # set: kept
    result = cli("--set", "board.polda_id=jawa-timur", "config", "--show")
    assert re.search(r'tz = "Asia/Jakarta"', result.stdout), result.stdout


def test_a_snapshot_of_a_recording_is_labelled_with_its_name_and_span(example: Path) -> None:
    from wallboard.commands.snapshot import check_view
    from wallboard.commands.wiring import recording_provenance
    from wallboard.core.provenance import Source

    provenance = recording_provenance(example)
    assert provenance.source is Source.RECORDING and provenance.name == "example.ndjson"
    assert provenance.recorded_start == datetime.fromisoformat("2026-11-22T13:00:00+08:00").timestamp()
    assert provenance.recorded_end == datetime.fromisoformat("2026-11-22T13:40:00+08:00").timestamp()
    assert provenance.ended(provenance.recorded_end) and not provenance.ended(provenance.recorded_end - 1)
    ref = all_poldas()
    assert check_view("polres:64.71", ref) is None and check_view("polres:kaltim", ref) is None
    assert check_view("gauges", ref) is None


def test_a_snapshot_renders_every_wall_view_and_the_prank_watch_only_for_an_authorised_desk() -> None:
    from wallboard.commands.snapshot import check_view
    from wallboard.config import KIOSK_VIEWS, load_config

    ref = all_poldas()
    for view in KIOSK_VIEWS:
        assert check_view(view, ref) is None, view
    problem = check_view("prank", ref, load_config(None))
    assert problem is not None and "board.unmask_caller_numbers" in problem
    assert check_view("prank", ref, load_config(None, overrides={"board.unmask_caller_numbers": "true"})) is None


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", ["link", "dangling-link", "fifo", "directory", "device", "not-ours"])
def test_snapshot_never_writes_through_a_link_or_onto_what_is_not_ours(
    example: Path, hostile_outputs: Any, kind: str
) -> None:
    """`snapshot --out` overwrote whatever it named. Refused before Qt starts, exit 2, everything left as it was."""
    hostile = hostile_outputs(".png")
    target = hostile.paths[kind]
    result = cli("snapshot", "--feed", str(example), "--view", "gauges", "--size", "640x400", "--out", str(target))
    assert result.returncode == 2, result.stderr
    # /dev/null has no image suffix: refused for that first.
    reason = ": the image must be .png, .jpg or .jpeg" if kind == "device" else f" {hostile.REASONS[kind]}"
    assert f"--out {target}{reason}" in result.stderr and "Traceback" not in result.stderr
    assert hostile.untouched()


def test_snapshot_checks_the_format_before_anything_is_written(example: Path, tmp_path: Path) -> None:
    """`--out notes.txt` emptied notes.txt, then failed with a traceback (Qt knows no 'txt' format)."""
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me\n", encoding="utf-8")
    result = cli("snapshot", "--feed", str(example), "--view", "gauges", "--out", str(notes))
    assert result.returncode == 2 and "the image must be .png, .jpg or .jpeg, not '.txt'" in result.stderr
    assert "Traceback" not in result.stderr and notes.read_text(encoding="utf-8") == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("size", ["7681x4320", "7680x4321", "319x200", "320x199", "100000x100000", "0x0"])
def test_snapshot_size_is_bounded(example: Path, tmp_path: Path, size: str) -> None:
    """`--size 100000x100000` tried to allocate a 40 GB image."""
    out = tmp_path / "x.png"
    result = cli("snapshot", "--feed", str(example), "--view", "gauges", "--size", size, "--out", str(out))
    assert result.returncode == 2 and "is outside 320x200 to 7680x4320" in result.stderr, result.stderr
    assert not out.exists()


def test_snapshot_replaces_its_own_images_in_place(example: Path, tmp_path: Path) -> None:
    """A snapshot marks its image as ours (PNG text chunk, JPEG comment) and a later snapshot replaces it, through a
    temporary file renamed over it."""
    png, jpg = tmp_path / "board.png", tmp_path / "board.jpg"
    for out in (png, png, jpg):
        result = cli("snapshot", "--feed", str(example), "--view", "gauges", "--size", "640x400", "--out", str(out))
        assert result.returncode == 0, result.stderr
    assert png.read_bytes().startswith(b"\x89PNG") and b"tEXtSoftware\x00wallboard snapshot" in png.read_bytes()
    assert jpg.read_bytes().startswith(b"\xff\xd8") and b"Software: wallboard snapshot" in jpg.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["board.jpg", "board.png"]
