"""`wallboard metrics` on the worked example of docs/feed-format.md: the numbers the docs derive by hand."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[3] / "docs" / "feed-format.md"


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    match = re.search(r"## A complete example.*?```json\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert match is not None
    path = tmp_path_factory.mktemp("feed") / "example.ndjson"
    path.write_text(match.group(1), encoding="utf-8")
    return path


def metrics(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wallboard", "metrics", *args, "--log-level", "WARNING"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_the_day_at_13_40_the_end_of_the_recording(example: Path) -> None:
    result = metrics("--feed", str(example), "--at", "2026-11-22T13:40:00+08:00", "--json")
    assert result.returncode == 0, result.stderr
    assert "skipped" not in result.stderr
    doc = json.loads(result.stdout)
    today = doc["tiers"]["today"]
    assert today["received"] == 3  # C1, C2, C3
    assert today["answered_by_tier"] == {"polsek": 0, "polres": 1, "polda": 1, "mabes": 0}
    assert today["escalations"]["polres->polda"] == 1  # C2
    assert today["abandoned"] == 1  # C3
    assert today["answered_within_threshold"] == 1 and today["service_level_pct"] == 50.0  # C1 4 s; C2 18 s
    assert today["categorised"] == 2 and today["prank_share_pct"] == 50.0  # C1 genuine, C2 prank; C3 unknown
    by_polres = {r["unit_id"]: r for r in doc["response_by_polres"]}
    assert set(by_polres) == {"64.71", "64.72"}  # the recording's reference, not the shipped one
    assert by_polres["64.71"]["count"] == 1 and by_polres["64.71"]["median_s"] == 260.0  # 13:04:50 − 13:00:30
    assert by_polres["64.71"]["within_target_pct"] == 100.0
    assert by_polres["64.72"]["count"] == 0
    assert doc["response_polda"]["count"] == 1 and doc["response_polda"]["median_s"] == 260.0
    assert doc["queue"]["waiting"] == 0


def test_the_queue_at_13_02_16(example: Path) -> None:
    doc = json.loads(metrics("--feed", str(example), "--at", "2026-11-22T13:02:16+08:00", "--json").stdout)
    assert doc["queue"]["source"] == "queue" and doc["queue"]["waiting"] == 1
    assert doc["queue"]["waiting_by_tier"]["polda"] == 1 and doc["queue"]["longest_wait_s"] == 16.0
    assert doc["tiers"]["today"]["received"] == 2  # C3 had not rung yet
    assert doc["response_polda"]["open_incidents"] == 1 and doc["response_polda"]["count"] == 0


def test_text_table(example: Path) -> None:
    result = metrics("--feed", str(example), "--at", "2026-11-22T13:40:00+08:00")
    assert result.returncode == 0, result.stderr
    assert "Polda Kalimantan Timur at 2026-11-22 13:40:00 WITA" in result.stdout
    assert "today: received 3; answered polsek 0, polres 1, polda 1, mabes 0; abandoned 1; within 10 s 50.0%" in (
        result.stdout
    )
    assert re.search(r"Polresta Balikpapan\s+1\s+4\.3\s+4\.3\s+100%\s+0", result.stdout)


def test_bad_input_is_reported_not_a_traceback(example: Path, tmp_path: Path) -> None:
    bad_at = metrics("--feed", str(example), "--at", "yesterday")
    assert bad_at.returncode == 2 and "not an RFC 3339 timestamp" in bad_at.stderr
    assert "Traceback" not in bad_at.stderr
    empty = tmp_path / "empty.ndjson"
    empty.write_text('{"format": "wallboard-feed", "version": 1}\n{broken\n', encoding="utf-8")
    result = metrics("--feed", str(empty))
    assert result.returncode == 2 and "holds no records" in result.stderr
    assert "empty.ndjson:2 skipped: not JSON" in result.stderr
    future = tmp_path / "v9.ndjson"
    future.write_text('{"format": "wallboard-feed", "version": 9}\n', encoding="utf-8")
    result = metrics("--feed", str(future))
    assert result.returncode == 2 and "version 9 is not supported" in result.stderr


def test_the_metrics_command_never_loads_qt(example: Path) -> None:
    code = (
        "import sys; from wallboard.cli import main; "
        f"rc = main(['metrics', '--feed', {str(example)!r}, '--json', '--log-level', 'ERROR']); "
        "assert not [m for m in sys.modules if m.startswith('PySide6')], 'Qt was imported'; sys.exit(rc)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("unmask", [False, True])
def test_the_json_holds_a_full_caller_number_only_for_an_authorised_desk(
    example: Path, tmp_path: Path, unmask: bool
) -> None:
    """The prank watch lists a repeated number: masked by the core unless board.unmask_caller_numbers."""
    lines = example.read_text(encoding="utf-8").splitlines()
    prank = json.loads(next(line for line in lines if '"C2", "rev": 2' in line))
    assert prank["record"]["caller_number"] == "085212340000"
    for k, minute in ((4, "05"), (5, "06")):  # the same number calls twice more: a repeated prank caller
        again = json.loads(json.dumps(prank))
        again["t"] = f"2026-11-22T13:{minute}:30.000+08:00"
        again["record"].update(id=f"C{k}", rev=1, received_at=f"2026-11-22T13:{minute}:00.000+08:00",
                               escalations=[], answered_at=f"2026-11-22T13:{minute}:05.000+08:00",
                               answered_tier="polres")  # fmt: skip
        lines.insert(len(lines) - 1, json.dumps(again))
    feed = tmp_path / "repeat.ndjson"
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = metrics("--feed", str(feed), "--json", "--set", f"board.unmask_caller_numbers={str(unmask).lower()}")
    assert result.returncode == 0, result.stderr
    numbers = [n["number"] for n in json.loads(result.stdout)["prank_watch"]["numbers"]]
    assert numbers == ["085212340000" if unmask else "0852****0000"]
    assert ("085212340000" in result.stdout + result.stderr) is unmask
