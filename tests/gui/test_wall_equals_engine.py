"""Every figure on the wall equals the engine (issue 14).

A recording is made from the simulator (three polls, ten simulated minutes apart). For several moments of it the wall
is rendered the way ``wallboard snapshot`` renders it, every number is read back from the widget tree (label texts,
and the accessible descriptions of painted widgets such as the gauges: what a screen reader hears), and each is
compared with ``wallboard metrics --json`` for the same recording and moment, run as the real command.

The second test proves the first can fail: a panel that rounds differently, or recounts, makes it report mismatches.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from wallboard.commands.wiring import engine_from_recording, simulator
from wallboard.config import Config
from wallboard.core.provenance import Provenance, Source
from wallboard.core.snapshot import Window
from wallboard.core.timeutil import ManualClock, format_rfc3339, parse_rfc3339
from wallboard.ui.board import BoardView
from wallboard.ui.i18n import install_translator, locale, tr
from wallboard.ui.panels import gauges as gauges_module
from wallboard.ui.panels import tiers as tiers_module
from wallboard.ui.panels.gauges import STATUS_WORDS, GaugeWidget

START = "2026-11-22T09:00:00+08:00"
ROUNDS = 3
ROUND_S = 600.0


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[float]]:
    """A recording of the simulated Kaltim feed: its history, then three polls ten minutes apart; and its poll times."""
    from wallboard.feed.client import DispatchClient
    from wallboard.feed.ndjson import FeedWriter
    from wallboard.feed.sync import StreamSync

    config = Config()
    path = tmp_path_factory.mktemp("wall") / "kaltim.ndjson"
    sim = simulator(config, speed=0, start_time=parse_rfc3339(START))
    sim.start()
    moments = []
    try:
        sync = StreamSync(DispatchClient(sim.url, config.api), "kaltim")
        writer = FeedWriter(path, tz="Asia/Makassar", polda_id="kaltim", source="test: simulator")
        for _ in range(ROUNDS):
            sim.advance(ROUND_S)
            now = sim.clock.now()
            for stream in ("reference", "calls", "units", "queue"):
                result = sync.fetch(stream)
                writer.write(now, list(result.all_records()))
                sync.commit(result.cursors)
            moments.append(now)
        writer.close()
        sync.client.close()
    finally:
        sim.stop()
    return path, moments


def metrics_json(path: Path, at: float) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "wallboard", "metrics", "--feed", str(path), "--at", format_rfc3339(at, "Asia/Makassar"),
         "--json", "--log-level", "ERROR"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


@pytest.fixture
def wall(qapp: QApplication, qtbot: QtBot) -> Iterator[Callable[[Path, float], BoardView]]:
    """Renders the wall at a moment of a recording as ``wallboard snapshot`` does (no map: it shows no figures)."""
    from wallboard.ui.theme import apply_theme

    apply_theme(qapp)
    install_translator(qapp, "id")  # the wall's own language, decimal commas and all

    def render(path: Path, at: float) -> BoardView:
        config = Config()
        engine, now = engine_from_recording(config, path, at)
        view = BoardView("overview", config, engine.reference, ManualClock(now), map_factory=lambda *a: None)
        qtbot.addWidget(view)
        view.set_provenance(Provenance(Source.RECORDING, path.name, None, None))
        view.resize(1920, 1080)
        view.update_snapshot(engine.snapshot(now, Window(config.board.response_window)))
        view.show()
        QApplication.processEvents()
        return view

    yield render
    install_translator(qapp, "en")


# --- reading the wall ----------------------------------------------------------------------------------------------


def numbers(text: str) -> list[float]:
    """Every number in a text as the wall's locale writes it (1.234,5 in Bahasa Indonesia)."""
    group, decimal = locale().groupSeparator(), locale().decimalPoint()
    out = []
    for token in re.findall(r"\d[\d.,]*", text):
        token = token.rstrip(".,").replace(group, "").replace(decimal, ".")
        out.append(float(token))
    return out


def one(text: str) -> float | None:
    """The first number of a text, None for a dash (no value)."""
    found = numbers(text)
    if not found and "–" in text:
        return None
    assert found, f"no number in {text!r}"
    return found[0]


def rounded(value: float | None, decimals: int) -> float | None:
    """As the wall writes a number with ``decimals`` places: the exact binary value, halves away from zero (Qt's
    QLocale), not Python's round-half-to-even."""
    if value is None:
        return None
    return float(Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def mismatches(view: BoardView, doc: dict[str, Any]) -> list[str]:
    """Every figure the wall shows that differs from the engine's JSON (as the wall would round it)."""
    bad: list[str] = []

    def check(what: str, shown: float | None, expected: float | None) -> None:
        if shown != expected:
            bad.append(f"{what}: wall {shown!r}, engine {expected!r}")

    assert view.volume is not None and view.tiers is not None and view.gauges is not None
    today, hour = doc["tiers"]["today"], doc["tiers"]["last_60_min"]
    # call volume: big numbers
    check("rate/hour", one(view.volume.rate_value.text()), rounded(doc["volume"]["current_rate_per_hour"], 0))
    check("calls today", one(view.volume.today_value.text()), today["received"])
    check("genuine today", one(view.volume.genuine_value.text()), today["genuine"])
    # queue
    queue = doc["queue"]
    check("waiting", one(view.tiers.waiting_value.text()), queue["waiting"])
    check("longest wait", one(view.tiers.longest_value.text()), rounded(queue["longest_wait_s"], 0))
    # the tier table, today and last 60 min: counts and the shares beside them
    for column, t in (("today", today), ("hour", hour)):
        cells = {key: label.text() for (key, col), label in view.tiers.cells.items() if col == column}
        cell = cells.__getitem__
        check(f"{column} received", one(cell("received")), t["received"])
        answered = t["answered"]
        for tier in ("polres", "polda", "mabes"):
            shown = numbers(cell(tier))
            expected = [t["answered_by_tier"][tier]]
            if answered:
                expected.append(rounded(100.0 * t["answered_by_tier"][tier] / answered, 0))
            check(f"{column} {tier}", shown, expected)  # type: ignore[arg-type]
        check(f"{column} polres→polda", one(cell("esc_polres_polda")), t["escalations"]["polres->polda"])
        check(f"{column} polda→mabes", one(cell("esc_polda_mabes")), t["escalations"]["polda->mabes"])
        check(f"{column} abandoned", one(cell("abandoned")), t["abandoned"])
        check(f"{column} service level", one(cell("service")), rounded(t["service_level_pct"], 0))
        check(f"{column} prank share", one(cell("prank")), rounded(t["prank_share_pct"], 0))
    # gauges: what each painted gauge says it shows
    stats = {r["name"]: r for r in [doc["response_polda"], *doc["response_by_polres"]]}
    shown_gauges = [g for g in view.findChildren(GaugeWidget) if g.isVisible()]
    assert shown_gauges, "no gauge on the wall"
    for gauge in shown_gauges:
        name = next((n for n in stats if gauge.accessibleName().startswith(n + " ")), None)
        assert name is not None, gauge.accessibleName()
        r = stats.pop(name)
        median, first, within, incidents, overdue, status = gauge.accessibleDescription().split(" · ")
        check(f"{name} median", one(median), rounded(None if r["median_s"] is None else r["median_s"] / 60, 1))
        if r["small_sample"]:
            check(f"{name} small-sample count", numbers(first)[-1], r["count"])
            if tr("small sample") not in first:
                bad.append(f"{name}: a small sample not said as such: {first!r}")
        else:
            check(f"{name} p90", one(first.removeprefix("p90 ")),
                  rounded(None if r["p90_s"] is None else r["p90_s"] / 60, 1))  # fmt: skip
        within_numbers = numbers(within)  # "≤10 mnt 93 %": the target, then the share
        check(f"{name} target", within_numbers[0], round(r["target_s"] / 60))
        check(f"{name} within target", within_numbers[1] if len(within_numbers) > 1 else None,
              rounded(r["within_target_pct"], 0))  # fmt: skip
        check(f"{name} incidents", one(incidents), r["incidents"])
        check(f"{name} overdue", one(overdue), r["overdue_now"])
        if not status.endswith(tr(STATUS_WORDS[r["status"]])):
            bad.append(f"{name} status: wall {status!r}, engine {r['status']!r}")
    if stats:
        bad.append(f"gauges the engine has and the wall does not show: {sorted(stats)}")
    return bad


def test_every_figure_on_the_wall_equals_metrics_json(
    recording: tuple[Path, list[float]], wall: Callable[[Path, float], BoardView]
) -> None:
    path, moments = recording
    checked = 0
    for at in [moments[0], moments[0] + ROUND_S / 2, moments[-1]]:
        doc = metrics_json(path, at)
        view = wall(path, at)
        assert mismatches(view, doc) == [], format_rfc3339(at, "Asia/Makassar")
        checked += 1
    assert checked == 3


@pytest.mark.parametrize("fault", ["gauges round to whole minutes", "tiers recount calls received"])
def test_a_panel_that_rounds_or_counts_differently_is_caught(
    recording: tuple[Path, list[float]], wall: Callable[[Path, float], BoardView], monkeypatch: pytest.MonkeyPatch,
    fault: str,
) -> None:  # fmt: skip
    path, moments = recording
    if fault.startswith("gauges"):
        real = gauges_module.fmt_num
        monkeypatch.setattr(gauges_module, "fmt_num", lambda value, decimals=1: real(value, 0))
    else:
        real_values = tiers_module.TiersPanel._values

        def recounted(self: Any, t: Any) -> dict[str, str]:
            values: dict[str, str] = real_values(self, t)
            values["received"] = tiers_module.fmt_int(t.genuine + t.nuisance)  # forgets the uncategorised calls
            return values

        monkeypatch.setattr(tiers_module.TiersPanel, "_values", recounted)
    at = moments[-1]
    found = mismatches(wall(path, at), metrics_json(path, at))
    assert found, "a wrong panel went unnoticed"
