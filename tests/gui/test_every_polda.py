"""Every Polda's board and the national room build and render (offscreen, without the map to stay fast); the
national wall shows the 38 Polda, not their Polres; a click on a Polda opens its Polres; the `--polda` short form."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from wallboard.cli import _overrides, build_parser
from wallboard.config import Config, ConfigError
from wallboard.core.metrics import MetricsEngine, MetricsSettings
from wallboard.core.model import Call, CallCategory, Escalation, Incident, Tier
from wallboard.core.reference import ReferenceData
from wallboard.core.timeutil import ManualClock
from wallboard.resources import all_poldas
from wallboard.ui.board import BoardView
from wallboard.ui.detail import PolresDetailView
from wallboard.ui.panels.gauges import GaugesPanel

from .conftest import NOW

REFERENCE = all_poldas()
POLDA_IDS = sorted(REFERENCE.poldas)


def no_map(*_: object) -> QWidget | None:
    return None


def fed_engine(reference: ReferenceData, polda_id: str | None) -> MetricsEngine:
    """A few incidents and calls in every Polres (some escalated to Mabes), the same for every board."""
    rng = random.Random(11)
    engine = MetricsEngine(reference, polda_id, MetricsSettings())
    for k, p in enumerate(reference.polres.values()):
        received = NOW - rng.uniform(300, 20_000)
        response = rng.uniform(120, 1800)
        engine.ingest_incident(Incident(f"i{k}", 1, p.id, None, received, on_scene_at=received + response,
                                        closed_at=received + response + 600))  # fmt: skip
        hops = (Escalation(Tier.POLRES, Tier.POLDA, received + 10), Escalation(Tier.POLDA, Tier.MABES, received + 20))
        engine.ingest_call(Call(f"c{k}", 1, p.id, received, Tier.POLRES, hops[: k % 3], received + 25,
                                Tier.POLRES, None, CallCategory.GENUINE))  # fmt: skip
    return engine


def render(view: BoardView, size: tuple[int, int]) -> QImage:
    view.resize(*size)
    view.show()
    QApplication.processEvents()
    image = QImage(*size, QImage.Format.Format_RGB32)
    view.render(image)
    return image


@pytest.mark.parametrize("polda_id", POLDA_IDS)
def test_every_polda_board_builds_and_renders(app: QApplication, qtbot: QtBot, polda_id: str) -> None:
    config = replace(Config(), board=replace(Config().board, polda_id=polda_id))
    engine = fed_engine(REFERENCE, polda_id)
    view = BoardView("overview", config, REFERENCE, ManualClock(NOW), map_factory=no_map)
    qtbot.addWidget(view)
    snapshot = engine.snapshot(NOW)
    view.update_snapshot(snapshot)
    image = render(view, (960, 540))
    assert not image.isNull()
    polda = REFERENCE.poldas[polda_id]
    assert view.header.title.text() == polda.name
    assert not view.header.zones_label.isVisible(), "a Polda's clock is its own zone's"
    assert view.gauges is not None
    shown = [s.unit_id for s, _ in view.gauges.stats_in_order()]
    assert shown[0] == polda_id and set(shown[1:]) == {p.id for p in REFERENCE.polres_of(polda_id)}
    assert snapshot.response_polda.count == len(REFERENCE.polres_of(polda_id))
    assert not view.tiers or not view.tiers.escalators.isVisible(), "who-escalates-most is the national room's"


def test_national_room_shows_the_38_polda_and_the_three_zones(app: QApplication, qtbot: QtBot) -> None:
    config = replace(Config(), board=replace(Config().board, polda_id="national", tz="Asia/Jakarta"))
    engine = fed_engine(REFERENCE, None)
    view = BoardView("overview", config, REFERENCE, ManualClock(NOW), map_factory=no_map)
    qtbot.addWidget(view)
    snapshot = engine.snapshot(NOW, details=("jawa-timur",))
    view.update_snapshot(snapshot)
    render(view, (1920, 1080))
    assert view.gauges is not None and view.tiers is not None
    tiles = view.gauges.stats_in_order()
    assert len(tiles) == 1 + len(REFERENCE.poldas) and view.gauges.pages == 1, "38 Polda on one page, not ~500 Polres"
    # The gauges' place on the 1920x1080 wall with its map (the right column under the map): every tile inside the
    # panel and above its status rule (the last row of 120 px tiles covered the rule's first line).
    wall = QWidget()  # a window alone would grow to its layout's minimum; on the wall the panel has what it gets
    qtbot.addWidget(wall)
    wall.resize(944, 616)
    panel = GaugesPanel(per_page=config.board.gauges_per_page, parent=wall)
    panel.set_scale(1.0)
    panel.setGeometry(0, 0, 944, 616)
    wall.show()
    panel.update_snapshot(snapshot)
    QApplication.processEvents()
    rule = panel.rule.geometry()
    shown = [g for g in panel.gauges if g.isVisible()]
    assert len(shown) == len(tiles) and panel.pages == 1 and panel.height() == 616
    assert max(g.geometry().right() for g in shown) < panel.width(), "a tile runs off the panel's side"
    assert max(g.geometry().bottom() for g in shown) < rule.top(), "a tile covers the status rule"
    assert rule.bottom() <= panel.height(), "the status rule runs off the panel"
    assert {s.unit_id for s, _ in tiles[1:]} == set(REFERENCE.poldas)
    p90s = [s.p90_s for s, _ in tiles[1:] if s.p90_s is not None and not s.small_sample]
    assert p90s == sorted(p90s, reverse=True), "worst first (small samples, with no p90 to rank by, last)"
    assert view.header.clock_label.text().endswith("WIB")
    zones = view.header.zones_label.text()
    assert view.header.zones_label.isVisible() and "WITA" in zones and "WIT " in zones and "WIB" not in zones
    assert view.tiers.escalators.isVisible() and "→ Mabes" in view.tiers.escalators.text()
    # A click on a Polda tile asks for its drill-down: the Polda's Polres gauges.
    clicked: list[str] = []
    view.polresActivated.connect(clicked.append)
    target = next(g for g in view.gauges.gauges if g.stats is not None and g.stats.unit_id == "jawa-timur")
    qtbot.mouseClick(target, Qt.MouseButton.LeftButton)
    assert clicked == ["jawa-timur"]
    detail = PolresDetailView("jawa-timur", config, REFERENCE, ManualClock(NOW))
    qtbot.addWidget(detail)
    detail.update_snapshot(snapshot)
    shown = [g.stats.unit_id for g in detail.polres_gauges.gauges if g.stats is not None and g.isVisibleTo(detail)]
    assert set(shown) == {p.id for p in REFERENCE.polres_of("jawa-timur")}
    papua = PolresDetailView("papua", config, REFERENCE, ManualClock(NOW))
    qtbot.addWidget(papua)
    assert papua.zone.key == "Asia/Jayapura", "Mabes reads Papua's incident times in WIT"
    assert detail.zone.key == "Asia/Jakarta"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["demo", "--polda", "jawa-timur"], {"board.polda_id": "jawa-timur", "demo.region": "indonesia"}),
        (["demo", "--polda", "jatim"], {"board.polda_id": "jawa-timur", "demo.region": "indonesia"}),
        (["demo", "--polda", "national"], {"board.polda_id": "national", "demo.region": "indonesia"}),
        (["demo", "--polda", "kaltim"], {"board.polda_id": "kaltim"}),
        (["demo", "--polda", "papua", "--region", "kaltim"], {"board.polda_id": "papua", "demo.region": "kaltim"}),
    ],
)
def test_polda_short_form(argv: list[str], expected: dict[str, str]) -> None:
    out = _overrides(build_parser().parse_args(argv))
    assert {k: v for k, v in out.items() if k in ("board.polda_id", "demo.region")} == expected


def test_an_unknown_polda_is_a_message_naming_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown Polda 'atlantis'.*jawa-timur"):
        _overrides(build_parser().parse_args(["demo", "--polda", "atlantis"]))
