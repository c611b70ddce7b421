from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtWidgets import QApplication

from wallboard.config import Config
from wallboard.core.metrics import MetricsEngine, MetricsSettings
from wallboard.core.model import Call, CallCategory, Escalation, Incident, Tier
from wallboard.core.snapshot import BoardSnapshot
from wallboard.core.timeutil import ManualClock
from wallboard.resources import all_poldas
from wallboard.ui.i18n import install_translator
from wallboard.ui.theme import apply_theme

NOW = datetime(2026, 11, 22, 14, 0, tzinfo=ZoneInfo("Asia/Makassar")).timestamp()


@pytest.fixture
def app(qapp: QApplication) -> Iterator[QApplication]:
    apply_theme(qapp)
    install_translator(qapp, "en")
    yield qapp
    install_translator(qapp, "en")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def fixture_engine() -> MetricsEngine:
    """Hand-made data whose numbers the tests know: 4 calls, 3 incidents in Balikpapan and Mahakam Ulu."""
    e = MetricsEngine(all_poldas(), "kaltim", MetricsSettings())
    e.ingest_call(
        Call("c1", 1, "64.71", NOW - 600, Tier.POLRES, (), NOW - 595, Tier.POLRES, None, CallCategory.GENUINE)
    )
    e.ingest_call(Call("c2", 1, "64.71", NOW - 500, Tier.POLRES, (Escalation(Tier.POLRES, Tier.POLDA, NOW - 490),),
                       NOW - 485, Tier.POLDA, None, CallCategory.PRANK))  # fmt: skip
    e.ingest_call(Call("c3", 1, "64.11", NOW - 400, Tier.POLRES, (), None, None, NOW - 395, CallCategory.UNKNOWN))
    e.ingest_call(Call("c4", 1, "64.11", NOW - 20, Tier.POLRES, ()))  # ringing now
    e.ingest_incident(Incident("i1", 1, "64.71", "c1", NOW - 600, on_scene_at=NOW - 360, closed_at=NOW - 60))
    e.ingest_incident(Incident("i2", 1, "64.11", None, NOW - 3000, on_scene_at=NOW - 3000 + 1500))
    e.ingest_incident(Incident("i3", 1, "64.11", None, NOW - 1200))  # open 20 min, nobody on scene: overdue
    return e


@pytest.fixture
def engine() -> MetricsEngine:
    return fixture_engine()


@pytest.fixture
def snapshot(engine: MetricsEngine) -> BoardSnapshot:
    return engine.snapshot(NOW)


@pytest.fixture
def config() -> Config:
    return Config()
