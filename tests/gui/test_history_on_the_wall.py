"""A history that is not being saved shows on the wall: 'History not saved since HH:MM: disk full' in the header (in
the board's zone and language), gone again once saving works; the board keeps running."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from wallboard.config import Config
from wallboard.core.metrics import MetricsEngine
from wallboard.core.timeutil import ManualClock
from wallboard.feed.hub import FeedHub
from wallboard.ui.board import BoardView
from wallboard.ui.i18n import install_translator

from .test_board import no_map


@dataclass(frozen=True)
class Status:
    ok: bool = True
    reason: str = ""
    rejected: int = 0
    dropped: int = 0


@dataclass
class Store:
    status_now: Status = field(default_factory=Status)
    path: Path = Path("/nonexistent/history.sqlite")

    def writer(self) -> Store:
        return self

    def status(self) -> Status:
        return self.status_now

    def append(self, records: object) -> None: ...
    def save_cursors(self, cursors: object) -> None: ...
    def flush(self, timeout: float = 10.0) -> bool:
        return True

    def load_since(self, since: float) -> object:
        raise AssertionError("not used")


def test_the_header_says_when_the_history_stopped_being_saved_and_why(
    app: QApplication, qtbot: QtBot, engine: MetricsEngine, clock: ManualClock
) -> None:
    install_translator(app, "id")
    store = Store()
    hub = FeedHub(Config(), engine, clock, None, store)  # type: ignore[arg-type]
    view = BoardView("overview", Config(), engine.reference, clock, map_factory=no_map)
    qtbot.addWidget(view)
    view.connect_hub(hub)
    label = view.header.history_label
    hub._tick()
    assert label.isHidden()
    store.status_now = Status(ok=False, reason="disk full")
    hub._tick()
    since = datetime.fromtimestamp(clock.now(), ZoneInfo("Asia/Makassar")).strftime("%H:%M")
    assert not label.isHidden()
    assert label.text() == f"▲ Riwayat tidak tersimpan sejak {since}: disk penuh"
    clock.advance(600)
    store.status_now = Status(ok=False, reason="permission denied")
    hub._tick()
    assert label.text() == f"▲ Riwayat tidak tersimpan sejak {since}: izin ditolak"  # since the first failure
    store.status_now = Status()
    hub._tick()
    assert label.isHidden()
    hub.stop_sync()
