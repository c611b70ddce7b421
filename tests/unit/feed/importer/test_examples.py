"""The shipped example mappings on their sample exports: what `wallboard metrics --feed` reports from the imported
file equals what a second, simple method (csv + statistics, straight from the rows) computes, Polres by Polres."""

from __future__ import annotations

import csv
import json
import statistics
import tomllib
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from wallboard.cli import main
from wallboard.core.metrics import MetricsEngine, MetricsSettings
from wallboard.core.model import Polres
from wallboard.core.reference import ReferenceData
from wallboard.core.snapshot import Window
from wallboard.feed.ndjson import FeedReader, feed_engine_from_recording
from wallboard.resources import all_poldas

EXAMPLES = Path(__file__).resolve().parents[4] / "resources" / "import"
WITA = ZoneInfo("Asia/Makassar")
END_OF_DAY = "2026-11-22T23:59:59+08:00"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args, "--log-level", "ERROR"])
    out, err = capsys.readouterr()
    return code, out, err


def metrics_json(capsys: pytest.CaptureFixture[str], feed: Path, *extra: str) -> dict[str, Any]:
    code, out, err = run_cli(capsys, "metrics", "--feed", str(feed), "--json", *extra)
    assert code == 0, err
    assert "skipped" not in err
    doc: dict[str, Any] = json.loads(out)
    return doc


def p90(values: list[float]) -> float:
    """numpy's default (linear) percentile is statistics' inclusive method."""
    return values[0] if len(values) == 1 else statistics.quantiles(values, n=10, method="inclusive")[8]


def polres_map(mapping: str, field: str, record: int = 0) -> dict[str, str]:
    data = tomllib.loads((EXAMPLES / mapping).read_text(encoding="utf-8"))
    return {k.casefold(): v for k, v in data["record"][record]["fields"][field]["map"].items()}


# --- the contact-centre call detail export ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def call_rows() -> list[dict[str, str]]:
    with (EXAMPLES / "contact-centre-sample.csv").open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def _t(text: str) -> float:
    return datetime.strptime(text, "%d/%m/%Y %H:%M:%S").replace(tzinfo=WITA).timestamp()


def expected_calls(rows: list[dict[str, str]]) -> dict[str, Any]:
    """The tier panel's figures, straight from the rows."""
    tier_of_site = {"POLDA-KALTIM": "polda", "MABES-JKT": "mabes"}
    answered: Counter[str] = Counter()
    within = abandoned = 0
    for row in rows:
        if row["Answered"]:
            answered[tier_of_site.get(row["Agent Site"], "polres")] += 1
            within += _t(row["Answered"]) - _t(row["Received"]) <= 10
        elif row["Abandoned"]:
            abandoned += 1
    return {
        "received": len(rows),
        "answered_by_tier": {"polsek": 0, "polres": answered["polres"], "polda": answered["polda"],
                             "mabes": answered["mabes"]},
        "abandoned": abandoned,
        "answered_within_threshold": within,
        "escalations->polda": answered["polda"] + answered["mabes"],
        "categorised": sum(1 for r in rows if r["Disposition"]),
        "nuisance": sum(1 for r in rows if r["Disposition"] in ("PRANK", "SILENT")),
    }  # fmt: skip


@pytest.fixture(scope="module")
def calls_feed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("calls") / "calls.ndjson"
    source, mapping = EXAMPLES / "contact-centre-sample.csv", EXAMPLES / "contact-centre.toml"
    code = main(["import", str(source), "--mapping", str(mapping), "--out", str(out), "-q", "--log-level", "ERROR"])
    assert code == 0
    return out


def test_contact_centre_tiers_equal_the_rows(calls_feed: Path, call_rows: list[dict[str, str]],
                                             capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    today = metrics_json(capsys, calls_feed)["tiers"]["today"]  # at the recording's end: the day's last record
    want = expected_calls(call_rows)
    assert today["received"] == want["received"] == 600
    assert today["answered_by_tier"] == want["answered_by_tier"]
    assert today["abandoned"] == want["abandoned"] > 0
    assert today["answered_within_threshold"] == want["answered_within_threshold"]
    assert today["escalations"]["polres->polda"] == want["escalations->polda"]
    assert today["categorised"] == want["categorised"] and today["nuisance"] == want["nuisance"]
    assert today["waiting"] == 0


def test_contact_centre_tiers_by_polres_equal_the_rows(calls_feed: Path, call_rows: list[dict[str, str]]) -> None:
    """The tier figures per Polres: the engine that `metrics --feed` uses, scoped to one Polres at a time."""
    queues = polres_map("contact-centre.toml", "polres_id")
    by_polres: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in call_rows:
        by_polres[queues[row["Queue"].casefold()]].append(row)
    assert len(by_polres) == 10
    shipped = all_poldas()
    for polres_id, rows in by_polres.items():
        polres: Polres = shipped.polres[polres_id]
        engine = MetricsEngine(ReferenceData(shipped.poldas, {polres_id: polres}), "kaltim", MetricsSettings())
        at = feed_engine_from_recording(engine, calls_feed, _t("22/11/2026 23:59:59"))
        stats = engine.tier_stats(Window.TODAY, at)
        want = expected_calls(rows)
        assert stats.received == want["received"], polres_id
        assert {t.value: n for t, n in stats.answered_by_tier.items()} == want["answered_by_tier"], polres_id
        assert stats.abandoned == want["abandoned"], polres_id
        assert stats.answered_within_threshold == want["answered_within_threshold"], polres_id


def test_a_replay_sees_calls_ringing_before_they_are_answered(calls_feed: Path, call_rows: list[dict[str, str]],
                                                               capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """Revisions at each milestone: a moment after a call came in and before it was answered shows it waiting."""
    row = next(r for r in call_rows if r["Answered"] and _t(r["Answered"]) - _t(r["Received"]) >= 5)
    moment = datetime.fromtimestamp(_t(row["Received"]) + 2, WITA).isoformat()
    doc = metrics_json(capsys, calls_feed, "--at", moment)
    assert doc["queue"]["waiting"] >= 1
    lines = [line for line in FeedReader(calls_feed) if line.record.id == row["Interaction ID"]]  # type: ignore[union-attr]
    assert [line.record.rev for line in lines] == [1, 2]  # type: ignore[union-attr]
    assert lines[0].t == _t(row["Received"]) and lines[1].t == _t(row["Answered"])
    assert lines[0].record.category.value == "unknown"  # type: ignore[union-attr]


# --- the CAD export, one row per responding unit -------------------------------------------------------------------


def _iso(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=WITA).timestamp()


@pytest.fixture(scope="module")
def cad_feed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cad") / "cad.ndjson"
    code = main(["import", str(EXAMPLES / "cad-units-sample.csv"), "--mapping", str(EXAMPLES / "cad-units.toml"),
                 "--out", str(out), "--quiet", "--log-level", "ERROR"])  # fmt: skip
    assert code == 0
    return out


def test_cad_response_times_by_polres_equal_the_rows(cad_feed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    districts = polres_map("cad-units.toml", "polres_id")
    received: dict[str, float] = {}
    on_scene: dict[str, float] = {}
    polres_of: dict[str, str] = {}
    with (EXAMPLES / "cad-units-sample.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            number = row["Incident No"]
            received[number] = _iso(row["Call Received"])
            polres_of[number] = districts[row["District"].casefold()]
            if row["On Scene"]:
                on_scene[number] = min(on_scene.get(number, float("inf")), _iso(row["On Scene"]))
    responses: dict[str, list[float]] = defaultdict(list)
    for number, t in on_scene.items():
        responses[polres_of[number]].append(t - received[number])
    assert len(received) == 250 and len(on_scene) < 250  # some incidents were cancelled before a unit arrived

    doc = metrics_json(capsys, cad_feed, "--window", "last_7_days")
    by_polres = {r["unit_id"]: r for r in doc["response_by_polres"]}
    for polres_id in {*districts.values()}:
        got, values = by_polres[polres_id], sorted(responses[polres_id])
        assert got["count"] == len(values), polres_id
        if not values:
            continue
        assert got["median_s"] == pytest.approx(statistics.median(values)), polres_id
        assert got["p90_s"] == pytest.approx(p90(values)), polres_id
        within = 100.0 * sum(v <= 600 for v in values) / len(values)
        assert got["within_target_pct"] == pytest.approx(within), polres_id
    everything = sorted(v for vs in responses.values() for v in vs)
    assert doc["response_polda"]["count"] == len(everything)
    assert doc["response_polda"]["median_s"] == pytest.approx(statistics.median(everything))
    assert doc["response_polda"]["p90_s"] == pytest.approx(p90(everything))
    assert doc["response_polda"]["overdue_now"] == 0 and doc["response_polda"]["open_incidents"] == 0


def test_cad_unit_timelines_follow_the_rows(cad_feed: Path) -> None:
    """Each unit's revisions follow its rows in time: dispatched, en route, on scene, available, for each incident."""
    lines = [line for line in FeedReader(cad_feed) if line.stream == "units" and line.record.id == "BPN-R2-01"]  # type: ignore[union-attr]
    assert lines, "unit BPN-R2-01 has a timeline"
    revs = [line.record.rev for line in lines]  # type: ignore[union-attr]
    assert revs == list(range(1, len(lines) + 1))
    assert [line.t for line in lines] == sorted(line.t for line in lines)
    statuses = [line.record.status.value for line in lines]  # type: ignore[union-attr]
    assert statuses[0] == "dispatched" and statuses[-1] == "available"
    busy = [line.record for line in lines if line.record.status.value != "available"]  # type: ignore[union-attr]
    assert all(u.incident_id for u in busy)  # type: ignore[union-attr]


def test_the_shipped_reference_covers_every_mapped_polres() -> None:
    shipped = all_poldas().polres
    for name, field in (("contact-centre.toml", "polres_id"), ("cad-units.toml", "polres_id")):
        assert set(polres_map(name, field).values()) <= set(shipped)


def test_two_exports_make_one_recording(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--and` puts the contact centre's calls and the CAD's incidents and units in one feed, in time order."""
    out = tmp_path / "day.ndjson"
    calls, cad = EXAMPLES / "contact-centre-sample.csv", EXAMPLES / "cad-units-sample.csv"
    code, summary, _err = run_cli(capsys, "import", str(calls), "--mapping", str(EXAMPLES / "contact-centre.toml"),
                                  "--and", str(cad), str(EXAMPLES / "cad-units.toml"), "--out", str(out),
                                  "--problems", str(tmp_path / "problems.txt"))  # fmt: skip
    assert code == 0
    assert "import of contact-centre-sample.csv" in summary and "import of cad-units-sample.csv" in summary
    lines = list(FeedReader(out))
    assert Counter(line.stream for line in lines) == {"calls": 1390, "incidents": 1238, "units": 1465}
    assert [line.t for line in lines] == sorted(line.t for line in lines)
    assert (tmp_path / "problems.txt").read_text(encoding="utf-8") == (  # the header alone: no row skipped
        f"# wallboard import problems of {calls}, {cad}: one line per skipped row\n"
    )
    doc = metrics_json(capsys, out, "--at", END_OF_DAY)
    assert doc["tiers"]["today"]["received"] == 600 and doc["response_polda"]["count"] > 200
