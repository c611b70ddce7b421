"""Alert-to-sound rules on a fake clock with a fake player: plays, repeats, stops on acknowledgement, mute, quiet
hours, amber and silent kinds, a feed down for a minute, and a machine without an audio device."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from wallboard.config import AlertConfig, Config
from wallboard.core.alerts import OVERDUE, STREAM_DOWN, WAITING, Alert, Severity
from wallboard.core.reference import ReferenceData
from wallboard.core.timeutil import ManualClock
from wallboard.resources import all_poldas
from wallboard.ui.board import BoardView
from wallboard.ui.sound import AlertSound, QtSoundPlayer, in_quiet_hours

TZ = "Asia/Makassar"
NOON = datetime(2026, 11, 22, 12, 0, tzinfo=ZoneInfo(TZ)).timestamp()
RED = Alert("overdue:64.71", Severity.RED, OVERDUE, (("name", "Polresta Balikpapan"), ("n", "1")), "map")
AMBER = Alert("waiting", Severity.AMBER, WAITING, (("n", "6"),), "overview")
DOWN = Alert("stream:calls", Severity.RED, STREAM_DOWN, (("stream", "calls"),), "overview")


class FakePlayer:
    def __init__(self, available: bool = True) -> None:
        self.available = available
        self.played: list[tuple[str, float]] = []
        self.said: list[str] = []

    def play(self, sound: str, volume: float) -> None:
        self.played.append((sound, volume))

    def say(self, text: str, volume: float) -> None:
        self.said.append(text)


class Clocks:
    def __init__(self) -> None:
        self.mono = 1000.0
        self.board = NOON

    def advance(self, s: float) -> None:
        self.mono += s
        self.board += s


def controller(app: QApplication, **options: object) -> tuple[AlertSound, FakePlayer, Clocks]:
    config = replace(AlertConfig(), **options)  # type: ignore[arg-type]
    player = FakePlayer()
    clocks = Clocks()
    sound = AlertSound(config, TZ, player, lambda: clocks.board, lambda: clocks.mono, timer=False)
    return sound, player, clocks


def test_a_red_alert_plays_at_once_and_repeats_until_acknowledged(app: QApplication) -> None:
    sound, player, clocks = controller(app, sound_repeat_s=30.0, sound_volume=0.8)
    sound.set_alerts([RED])
    assert player.played == [("red", 0.8)]
    clocks.advance(29)
    sound.tick()
    assert len(player.played) == 1, "not before the repeat interval"
    clocks.advance(1)
    sound.tick()
    assert len(player.played) == 2, "again at the interval"
    sound.acknowledge()
    clocks.advance(300)
    sound.tick()
    assert len(player.played) == 2, "acknowledged: silent"
    sound.set_alerts([])
    sound.set_alerts([RED])
    assert len(player.played) == 3, "cleared and back: it sounds again"


def test_amber_plays_once_quietly_or_not_at_all_and_silent_kinds_never(app: QApplication) -> None:
    sound, player, clocks = controller(app, sound_volume=0.8)
    sound.set_alerts([AMBER])
    clocks.advance(600)
    sound.tick()
    assert player.played == [("amber", 0.4)]
    sound, player, clocks = controller(app, sound_amber="none")
    sound.set_alerts([AMBER])
    assert player.played == []
    sound, player, clocks = controller(app, sound_silent_kinds=["overdue"])
    sound.set_alerts([RED])
    assert player.played == []


def test_a_feed_down_sounds_only_once_it_has_lasted_a_minute(app: QApplication) -> None:
    sound, player, clocks = controller(app, sound_stream_after_s=60.0)
    sound.set_alerts([DOWN])
    clocks.advance(59)
    sound.set_alerts([DOWN])
    assert player.played == []
    clocks.advance(1)
    sound.tick()
    assert player.played == [("red", 0.8)]


def test_mute_stops_the_sound_and_unmute_resumes_the_repeats(app: QApplication) -> None:
    sound, player, clocks = controller(app)
    sound.set_muted(True)
    sound.set_alerts([RED])
    clocks.advance(120)
    sound.tick()
    assert player.played == []
    sound.set_muted(False)
    sound.tick()
    assert player.played == [("red", 0.8)]


@pytest.mark.parametrize(
    ("hours", "local", "quiet"),
    [("22:00-06:00", "23:30", True), ("22:00-06:00", "05:59", True), ("22:00-06:00", "06:00", False),
     ("22:00-06:00", "12:00", False), ("13:00-14:00", "13:00", True), ("", "03:00", False)],
)  # fmt: skip
def test_quiet_hours(app: QApplication, hours: str, local: str, quiet: bool) -> None:
    from wallboard.config import parse_hours

    h, m = map(int, local.split(":"))
    t = datetime(2026, 11, 22, h, m, tzinfo=ZoneInfo(TZ)).timestamp()
    assert in_quiet_hours(parse_hours(hours), t, TZ) is quiet
    sound, player, clocks = controller(app, quiet_hours=hours)
    clocks.board = t
    sound.set_alerts([RED])
    assert (player.played == []) is quiet


def test_no_audio_device_runs_silently_and_says_so_once(app: QApplication, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="wallboard.ui.sound")
    player = FakePlayer(available=False)
    clocks = Clocks()
    sound = AlertSound(AlertConfig(), TZ, player, lambda: clocks.board, lambda: clocks.mono, timer=False)
    sound.set_alerts([RED])
    clocks.advance(100)
    sound.tick()
    assert player.played == [] and not sound.enabled
    assert [r.getMessage() for r in caplog.records if "sound is off" in r.getMessage()] == [
        "sound is off: no audio output device; alerts show on the wall only"
    ]
    real = QtSoundPlayer()  # this machine (offscreen, no audio server): no device, no crash
    if not real.available:
        assert real.reason


def test_spoken_announcement_only_when_asked(app: QApplication) -> None:
    sound, player, _ = controller(app)
    sound.set_alerts([RED])
    assert player.said == []
    sound, player, _ = controller(app, speak=True)
    sound.set_alerts([RED])
    assert player.said == ["Polresta Balikpapan: 1 incident(s) overdue, no unit on scene"]


def test_the_wall_ticker_acknowledgement_stops_the_sound(app: QApplication, qtbot: QtBot) -> None:
    sound, player, clocks = controller(app)
    view = BoardView("risk", Config(), _reference(), ManualClock(NOON), map_factory=lambda *_: None)
    qtbot.addWidget(view)
    view.update_alerts([RED])
    sound.set_alerts([RED])
    assert len(player.played) == 1
    view.acknowledge_alerts()  # what a click on the ticker or the space bar does
    clocks.advance(600)
    sound.tick()
    assert len(player.played) == 1


def _reference() -> ReferenceData:
    return all_poldas()
