"""The composed board: alerts raised and cleared as data crosses thresholds, acknowledged from the keyboard, the map
slot, views by name, freshness type at wall size, and the headless snapshot command."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from wallboard.config import Config
from wallboard.core.alerts import Alert, evaluate
from wallboard.core.freshness import Freshness, StreamHealth
from wallboard.core.metrics import MetricsEngine
from wallboard.core.model import Call, Tier
from wallboard.core.snapshot import BoardSnapshot, QueueSnapshot
from wallboard.core.timeutil import ManualClock
from wallboard.feed.hub import alert_thresholds
from wallboard.ui.board import BoardView, BoardWindow, create_view
from wallboard.ui.panels.tiers import trend

from .conftest import NOW


def no_map(*_: object) -> QWidget | None:
    return None


def calm(snapshot: BoardSnapshot) -> BoardSnapshot:
    """The fixture snapshot with nothing to alert about: empty queue, nothing overdue, every p90 in target."""
    fine = tuple(replace(r, p90_s=None, overdue_now=0) for r in snapshot.response_by_polres)
    return replace(snapshot, queue=QueueSnapshot(0, None, {}, "calls"), response_by_polres=fine)


def alerts_of(snapshot: BoardSnapshot, health: dict[str, StreamHealth] | None = None) -> list[Alert]:
    """The hub's alerts for this snapshot (it evaluates the rules once and hands the result to every view)."""
    return evaluate(snapshot, health or {}, alert_thresholds(Config()))


def show(view: BoardView, snapshot: BoardSnapshot, health: dict[str, StreamHealth] | None = None) -> None:
    view.update_snapshot(snapshot)
    if health is not None:
        view.update_freshness(health)
    view.update_alerts(alerts_of(snapshot, health))


@pytest.fixture
def view(app: QApplication, qtbot: QtBot, engine: MetricsEngine, clock: ManualClock) -> BoardView:
    board = BoardView("overview", Config(), engine.reference, clock, map_factory=no_map)
    qtbot.addWidget(board)
    return board


def test_alerts_switch_on_and_off_as_the_data_crosses_thresholds(
    view: BoardView, qtbot: QtBot, snapshot: BoardSnapshot
) -> None:
    show(view, calm(snapshot))
    assert view.alerts == []
    assert not view.header.ticker.flashing
    busy = replace(calm(snapshot), queue=QueueSnapshot(6, 4.0, {Tier.POLRES: 6}, "queue"))  # waiting_max is 5
    show(view, busy)
    assert [a.id for a in view.alerts] == ["waiting"]
    assert view.header.ticker.flashing
    assert "6 calls waiting" in view.header.ticker.label.text()
    show(view, calm(snapshot))
    assert view.alerts == []
    assert view.header.ticker.label.text().endswith("No active alerts")


def test_a_stale_stream_raises_an_alert_and_the_keyboard_acknowledges_it(
    view: BoardView, qtbot: QtBot, snapshot: BoardSnapshot
) -> None:
    show(view, calm(snapshot))
    view.show()
    qtbot.waitExposed(view)
    show(view, calm(snapshot), {"calls": StreamHealth("calls", Freshness.STALE, NOW - 30, NOW, "timeout", 3, 0, 2.0)})
    assert [a.id for a in view.alerts] == ["stream:calls"]
    assert view.header.ticker.flashing
    view.activateWindow()
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert not view.header.ticker.flashing, "acknowledged alerts stop flashing"
    assert "acknowledged" in view.header.ticker.label.text()
    # Still stale on the next update: still acknowledged. Live again, then stale again: it flashes again.
    show(view, calm(snapshot), {"calls": StreamHealth("calls", Freshness.STALE, NOW - 30, NOW, "timeout", 4, 0, 2.0)})
    assert not view.header.ticker.flashing
    show(view, calm(snapshot), {"calls": StreamHealth("calls", Freshness.LIVE, NOW, NOW, None, 0, 0, 2.0)})
    show(view, calm(snapshot), {"calls": StreamHealth("calls", Freshness.DOWN, NOW, NOW, "refused", 9, 0, 2.0)})
    assert view.header.ticker.flashing
    assert view.header.ticker.label.text().startswith("⛔")


def test_a_failing_panel_does_not_take_the_board_down(
    view: BoardView, snapshot: BoardSnapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert view.volume is not None and view.tiers is not None

    def broken(_: BoardSnapshot) -> None:
        raise RuntimeError("bug in one panel")

    monkeypatch.setattr(view.volume, "update_snapshot", broken)
    view.update_snapshot(snapshot)
    assert view.tiers.cells[("received", "today")].text() == "4", "the other panels still update"


def test_map_slot_uses_the_factory_or_stays_empty(app: QApplication, qtbot: QtBot, engine: MetricsEngine,
                                                  clock: ManualClock) -> None:  # fmt: skip
    made: list[QWidget] = []

    def factory(*_: object) -> QWidget:
        made.append(QWidget())
        return made[-1]

    with_map = BoardWindow(Config(), engine.reference, clock, map_factory=factory)
    qtbot.addWidget(with_map)
    assert with_map.view.map is made[0]
    assert with_map.view.body.indexOf(made[0]) >= 0
    without = BoardWindow(Config(), engine.reference, clock, map_factory=no_map)
    qtbot.addWidget(without)
    assert without.view.map is None
    assert without.view.gauges is not None
    # The gauges take the map's place: two rows tall in the right-hand column.
    index = without.view.body.indexOf(without.view.gauges)
    assert without.view.body.getItemPosition(index) == (0, 1, 2, 1)


def test_views_by_name(app: QApplication, qtbot: QtBot, engine: MetricsEngine, clock: ManualClock) -> None:
    gauges = create_view("gauges", Config(), engine.reference, clock, map_factory=no_map)
    qtbot.addWidget(gauges)
    assert isinstance(gauges, BoardView) and gauges.gauges is not None and gauges.volume is None
    fallback = create_view("map", Config(), engine.reference, clock, map_factory=no_map)
    qtbot.addWidget(fallback)
    assert isinstance(fallback, BoardView) and fallback.gauges is not None, "no map: show the gauges, not a void"
    with pytest.raises(ValueError, match="unknown view"):
        create_view("nonsense", Config(), engine.reference, clock, map_factory=no_map)
    with pytest.raises(ValueError, match="unknown view"):
        create_view("polres:", Config(), engine.reference, clock, map_factory=no_map)


def test_a_polres_page_has_the_header_and_wall_size_type(
    app: QApplication, qtbot: QtBot, engine: MetricsEngine, clock: ManualClock
) -> None:
    view = create_view("polres:64.71", Config(), engine.reference, clock, map_factory=no_map)
    qtbot.addWidget(view)
    assert isinstance(view, BoardView) and view.detail is not None and view.gauges is None
    assert view.header.clock_label.isVisibleTo(view), "the clock and the feeds' freshness stay on the wall"
    sizes = []
    for height in (1080, 2160):
        view.resize(height * 16 // 9, height)
        view.show()
        qtbot.waitUntil(lambda h=height: view.height() == h, timeout=5000)  # type: ignore[misc]
        sizes.append(view.detail.incidents.font().pixelSize())
    assert sizes[1] >= 2 * sizes[0] - 1 and sizes[1] >= 28, f"table type at 1080 and 2160 lines: {sizes}"


def test_freshness_keeps_wall_size_type_when_it_arrives_after_the_window_is_shown(
    view: BoardView, qtbot: QtBot
) -> None:
    view.resize(3840, 2160)
    view.show()
    qtbot.waitExposed(view)
    view.update_freshness({"units": StreamHealth("units", Freshness.STALE, NOW - 30, NOW, "timeout", 3, 0, 2.0)})
    label = view.header.stream_labels["units"]
    assert label.text() == "▲ Units: STALE since 13:59:30"
    assert label.font().pixelSize() >= 28


@pytest.mark.parametrize(
    ("current", "previous", "higher_is_better", "percent", "expected"),
    [
        (12, 8, None, False, ("▲ +4", "dim")),
        (3, 5, False, False, ("▼ −2", "good")),
        (7, 5, False, False, ("▲ +2", "bad")),
        (80.0, 90.0, True, True, ("▼ −10 pt", "bad")),
        (90.2, 90.0, True, True, ("= same", "dim")),
        (None, 5, True, False, ("", "dim")),
    ],
)
def test_trend_arrows_say_the_change_in_words(
    current: float | None, previous: float | None, higher_is_better: bool | None, percent: bool,
    expected: tuple[str, str], app: QApplication,
) -> None:  # fmt: skip
    from wallboard.ui import theme

    colours = {"dim": theme.TEXT_DIM, "good": theme.GREEN, "bad": theme.ORANGE}
    text, colour = trend(current, previous, higher_is_better=higher_is_better, percent=percent)
    assert (text, colour) == (expected[0], colours[expected[1]])


def test_hostile_polres_name_never_becomes_markup(view: BoardView, engine: MetricsEngine) -> None:
    from wallboard.core.model import Polres
    from wallboard.core.reference import ReferenceData
    from wallboard.ui.panels.base import TextLabel

    hostile = "<img src=x onerror=alert(1)>"
    engine.set_reference(engine.reference.merged(
        ReferenceData.of([], [Polres("64.11", hostile, "kaltim", 0.5, 115.0, "Asia/Makassar")])))  # fmt: skip
    engine.ingest_call(Call("c9", 1, "64.11", NOW - 30, Tier.POLRES, ()))
    show(view, engine.snapshot(NOW))
    assert view.gauges is not None
    assert any(g.stats is not None and g.stats.name == hostile for g in view.gauges.gauges)
    assert any(hostile in a.text() for a in view.alerts)
    gauge = next(g for g in view.gauges.gauges if g.stats is not None and g.stats.name == hostile)
    assert gauge.toolTip().startswith("<p>&lt;img src=x"), "the tooltip shows the name, never renders it"
    for label in view.findChildren(TextLabel):
        assert label.textFormat() == Qt.TextFormat.PlainText


def test_snapshot_command_renders_a_png(tmp_path: Path) -> None:
    out = tmp_path / "gauges.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-m", "wallboard", "snapshot", "--out", str(out), "--size", "1366x768", "--view", "gauges",
         "--demo-minutes", "5"],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1366, 768)
    # Not a blank or single-colour screen: the board's panels, gauges and text are there.
    colours = {image.pixel(x, y) for x in range(0, 1366, 7) for y in range(0, 768, 7)}
    assert len(colours) > 50
