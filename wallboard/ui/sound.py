"""Alert sound: a new red alert plays a distinct short sound and repeats it until someone acknowledges it on the
wall (the ticker) or a supervisor mutes the sound; amber alerts play a quieter sound once, or none.

Driven by the hub's ``alertsChanged`` (the rules run once, in core/alerts.py); this only decides when to play:

- an alert kind listed in ``alerts.sound_silent_kinds`` never sounds;
- a feed-down alert sounds only once it has lasted ``alerts.sound_stream_after_s`` (a blip is not worth a siren);
- red repeats every ``alerts.sound_repeat_s``; acknowledging stops it; an alert that clears and comes back sounds
  again (the ticker's rule);
- nothing plays while muted or inside ``alerts.quiet_hours`` (board-local time);
- a machine without an audio output (or without Qt Multimedia) runs as before and says once that sound is off.

Time comes in through two injectable clocks (monotonic for repeats, the board clock for quiet hours), so the rules are
tested on a fake clock with a fake player.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from PySide6.QtCore import QObject, QTimer, QUrl, Signal

from wallboard.config import AlertConfig, parse_hours
from wallboard.core.alerts import Alert, Severity, alert_kind
from wallboard.resources import resource_path
from wallboard.ui.i18n import tr

log = logging.getLogger(__name__)
SOUNDS = {"red": "alert_red.wav", "amber": "alert_amber.wav"}
AMBER_VOLUME = 0.5  # of the configured volume
_controllers: weakref.WeakSet[AlertSound] = weakref.WeakSet()


class SoundPlayer(Protocol):
    @property
    def available(self) -> bool: ...
    def play(self, sound: str, volume: float) -> None: ...
    def say(self, text: str, volume: float) -> None: ...


class QtSoundPlayer:
    """``QSoundEffect`` per sound file; ``available`` is False without an audio output device or Qt Multimedia."""

    def __init__(self, speak: bool = False) -> None:
        self.effects: dict[str, object] = {}
        self.speech: object | None = None
        self.reason = ""
        try:
            from PySide6.QtMultimedia import QMediaDevices, QSoundEffect
        except ImportError as exc:  # a build without Qt Multimedia
            self.reason = f"Qt Multimedia unavailable ({exc})"
            return
        if not QMediaDevices.audioOutputs():
            self.reason = "no audio output device"
            return
        for name, file in SOUNDS.items():
            effect = QSoundEffect()
            effect.setSource(QUrl.fromLocalFile(str(resource_path("sounds", file))))
            self.effects[name] = effect
        if speak:
            try:
                from PySide6.QtTextToSpeech import QTextToSpeech

                engine = QTextToSpeech()
                self.speech = engine if engine.state() != QTextToSpeech.State.Error else None
            except ImportError:
                self.speech = None
            if self.speech is None:
                log.info("spoken alerts are off: no text-to-speech engine")

    @property
    def available(self) -> bool:
        return bool(self.effects)

    def play(self, sound: str, volume: float) -> None:
        effect = self.effects.get(sound)
        if effect is not None:
            effect.setVolume(volume)  # type: ignore[attr-defined]
            effect.play()  # type: ignore[attr-defined]

    def say(self, text: str, volume: float) -> None:
        if self.speech is not None:
            self.speech.setVolume(volume)  # type: ignore[attr-defined]
            self.speech.say(text)  # type: ignore[attr-defined]


def in_quiet_hours(quiet: tuple[int, int] | None, board_time: float, tz: str) -> bool:
    """Inside ``quiet`` (start, end minutes after local midnight; may wrap past midnight), end excluded."""
    if quiet is None:
        return False
    local = datetime.fromtimestamp(board_time, ZoneInfo(tz))
    minute = local.hour * 60 + local.minute
    start, end = quiet
    if start == end:
        return False
    return start <= minute < end if start < end else (minute >= start or minute < end)


class AlertSound(QObject):
    """Plays the alerts' sounds by the rules above. ``tick`` runs once a second (tests call it by hand)."""

    played = Signal(str, str)  # (alert id, sound)
    mutedChanged = Signal(bool)

    def __init__(
        self,
        config: AlertConfig,
        tz: str,
        player: SoundPlayer,
        board_now: Callable[[], float],
        monotonic: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
        *,
        timer: bool = True,
    ) -> None:
        super().__init__(parent)
        self.config = config
        self.tz = tz
        self.player = player
        self.board_now = board_now
        self.monotonic = monotonic
        self.quiet = parse_hours(config.quiet_hours)
        self.muted = False
        self.alerts: dict[str, Alert] = {}
        self.first_seen: dict[str, float] = {}
        self.last_played: dict[str, float] = {}
        self.acked: set[str] = set()
        self.enabled = config.sound and player.available
        if config.sound and not player.available:
            reason = getattr(player, "reason", "") or "no audio output device"
            log.warning("sound is off: %s; alerts show on the wall only", reason)
        _controllers.add(self)
        self._timer: QTimer | None = None
        if timer and self.enabled:
            self._timer = QTimer(self)
            self._timer.setInterval(1000)
            self._timer.timeout.connect(self.tick)
            self._timer.start()

    # --- in ----------------------------------------------------------------------------------------------------------

    def set_alerts(self, alerts: list[Alert]) -> None:
        now = self.monotonic()
        current = {a.id: a for a in alerts}
        for gone in set(self.alerts) - set(current):
            self.first_seen.pop(gone, None)
            self.last_played.pop(gone, None)
        self.acked &= set(current)  # an alert that clears and comes back sounds again
        for alert_id in current:
            self.first_seen.setdefault(alert_id, now)
        self.alerts = current
        self.tick()

    def acknowledge(self) -> None:
        """Someone acknowledged the alerts on the wall: every alert active now stops sounding."""
        self.acked |= set(self.alerts)

    def set_muted(self, muted: bool) -> None:
        if muted != self.muted:
            self.muted = muted
            log.info("alert sound %s by a supervisor", "muted" if muted else "unmuted")
            self.mutedChanged.emit(muted)

    # --- rules ---------------------------------------------------------------------------------------------------

    def sound_for(self, alert: Alert) -> str | None:
        """Which sound an alert makes, if any (before acknowledgement, mute and quiet hours)."""
        if alert_kind(alert.id) in self.config.sound_silent_kinds:
            return None
        if alert.severity is Severity.RED:
            return "red"
        return "amber" if self.config.sound_amber == "quiet" else None

    def silenced(self) -> bool:
        return (not self.enabled or self.muted
                or in_quiet_hours(self.quiet, self.board_now(), self.tz))  # fmt: skip

    def tick(self) -> None:
        if self.silenced():
            return
        now = self.monotonic()
        for alert_id, alert in self.alerts.items():
            if alert_id in self.acked:
                continue
            sound = self.sound_for(alert)
            if sound is None:
                continue
            if alert_kind(alert_id) == "stream" and now - self.first_seen[alert_id] < self.config.sound_stream_after_s:
                continue
            last = self.last_played.get(alert_id)
            if last is not None and (sound == "amber" or now - last < self.config.sound_repeat_s):
                continue
            volume = self.config.sound_volume * (AMBER_VOLUME if sound == "amber" else 1.0)
            self.player.play(sound, volume)
            if sound == "red" and last is None and self.config.speak:
                self.player.say(alert.text(tr), self.config.sound_volume)
            self.last_played[alert_id] = now
            self.played.emit(alert_id, sound)
            return  # one sound at a time; the next one plays on a later tick


def acknowledged_on_wall() -> None:
    """The ticker's acknowledgement, on any view of any window: every sound controller of the process stops."""
    for controller in list(_controllers):
        controller.acknowledge()


class _NoSound:
    available = False
    reason = "switched off (alerts.sound = false)"

    def play(self, sound: str, volume: float) -> None: ...
    def say(self, text: str, volume: float) -> None: ...


def attach_sound(config: AlertConfig, tz: str, hub: QObject, board_now: Callable[[], float]) -> AlertSound:
    """The process's alert sound, fed by the hub's alerts (one per process, whatever the number of windows)."""
    player: SoundPlayer = QtSoundPlayer(config.speak) if config.sound else _NoSound()
    sound = AlertSound(config, tz, player, board_now, parent=hub)
    hub.alertsChanged.connect(sound.set_alerts)  # type: ignore[attr-defined]
    sound.set_alerts(list(getattr(hub, "alerts", [])))
    return sound
