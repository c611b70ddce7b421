"""Header: whose board this is, the local clock with its zone, feed freshness per stream, and the alert ticker."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QVBoxLayout, QWidget

from wallboard.core.alerts import Alert, Severity
from wallboard.core.freshness import STREAM_LABELS, Freshness, HistoryFailure, StreamHealth
from wallboard.core.provenance import Source
from wallboard.core.timeutil import Clock, zone_abbreviation
from wallboard.ui import theme
from wallboard.ui.i18n import N_, tr
from wallboard.ui.panels.base import TextLabel, plain_tooltip, set_style_sheet, set_tooltip, stream_state_text
from wallboard.ui.panels.national import other_zone_times

STREAM_NAMES = {name: N_(label) for name, label in STREAM_LABELS.items()}
#: What a stream is called on a wall that is not live: the simulator's or a recording's, never LANGSUNG.
SOURCE_WORDS = {Source.DEMO: N_("SIMULATED"), Source.RECORDING: N_("RECORDING")}
#: Why the history is not being saved, as the store words it (wallboard.store.history.describe_failure).
HISTORY_REASONS = (
    N_("disk full"),
    N_("disk quota exceeded"),
    N_("read-only file system"),
    N_("read-only (the database file or its folder cannot be written)"),
    N_("permission denied"),
    N_("cannot open the database file (missing, or permission denied)"),
    N_("database corrupt"),
    N_("disk I/O error"),
)


def history_text(failure: HistoryFailure, tz: str) -> str:
    """'▲ History not saved since 14:05: disk full' (symbol and words, in the board's zone and language)."""
    return "▲ " + tr("History not saved since {time}: {reason}").format(
        time=failure.since_text(tz), reason=tr(failure.reason)
    )


def freshness_text(health: StreamHealth, tz: str, source: Source = Source.LIVE) -> tuple[str, str]:
    """(text, colour) for one stream: symbol + word + since when, never colour alone."""
    name = tr(STREAM_NAMES.get(health.name, health.name))
    if health.state is Freshness.LIVE:
        if source is not Source.LIVE:
            return f"◆ {name}: {tr(SOURCE_WORDS[source])}", theme.YELLOW
        return f"● {name}: {tr('LIVE')}", theme.GREEN
    symbol, state, colour = stream_state_text(health, tz)
    return f"{symbol} {name}: {state}", colour


class AlertTicker(QFrame):
    """The active alerts, most severe first. Unacknowledged alerts flash; a click acknowledges them all."""

    acknowledged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ticker")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 2, 10, 2)
        self.label = TextLabel("")
        self.label.setWordWrap(False)
        layout.addWidget(self.label, 1)
        self.alerts: list[Alert] = []
        self.acked: set[str] = set()
        self.sound = False
        self._flash_on = False
        self._rotation = 0
        self._unit = 1.0
        self._flash = QTimer(self)
        self._flash.setInterval(600)
        self._flash.timeout.connect(self._toggle)
        self._flash.start()
        self._render()

    @property
    def flashing(self) -> bool:
        return any(a.id not in self.acked for a in self.alerts)

    def set_alerts(self, alerts: list[Alert]) -> None:
        new = [a for a in alerts if a.id not in {x.id for x in self.alerts} and a.id not in self.acked]
        self.alerts = alerts
        self.acked &= {a.id for a in alerts}  # an alert that clears and comes back flashes again
        if new and self.sound:
            QApplication.beep()
        self._render()

    def acknowledge(self) -> None:
        self.acked |= {a.id for a in self.alerts}
        self.acknowledged.emit()
        self._render()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.acknowledge()
        event.accept()

    def set_scale(self, unit: float) -> None:
        self._unit = unit
        self._render()

    def _toggle(self) -> None:
        self._flash_on = not self._flash_on
        if len(self.alerts) > 1:
            self._rotation += 1
        self._render()

    def _render(self) -> None:
        size = theme.px(theme.LABEL + 2, self._unit)
        if not self.alerts:
            self.label.setText("● " + tr("No active alerts"))
            self.label.set_style(size, colour=theme.TEXT_DIM)
            set_style_sheet(self, f"QFrame#ticker {{ background: {theme.PANEL}; border-radius: 4px; }}")
            return
        worst = self.alerts[0]
        red = worst.severity is Severity.RED
        symbol = "⛔" if red else "⚠"
        count = len(self.alerts)
        shown = self.alerts[(self._rotation // 4) % count]
        text = f"{symbol} {shown.text(tr)}"
        if count > 1:
            text += f"   (+{count - 1})"
        if not self.flashing:
            text += "   ✓ " + tr("acknowledged")
        self.label.setText(text)
        colour = theme.VERMILLION if red else theme.ORANGE
        lit = self.flashing and self._flash_on
        background = colour if lit or not self.flashing else theme.PANEL
        fg = theme.BACKGROUND if background == colour else colour
        self.label.set_style(size, bold=True, colour=fg)
        set_style_sheet(
            self, f"QFrame#ticker {{ background: {background}; border: 2px solid {colour}; border-radius: 4px; }}"
        )


class HeaderPanel(QFrame):
    def __init__(self, title: str, tz: str, clock: Clock, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.tz = tz
        self.clock = clock
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        left = QVBoxLayout()
        self.title = TextLabel(title)
        self.subtitle = TextLabel(tr("Call Center 110 — command room board"))
        left.addWidget(self.title)
        left.addWidget(self.subtitle)
        layout.addLayout(left, 3)
        self.ticker = AlertTicker()
        layout.addWidget(self.ticker, 4)
        streams = QVBoxLayout()
        streams.setSpacing(0)
        self.stream_labels: dict[str, TextLabel] = {}
        for name in ("calls", "units", "queue", "reference"):
            label = TextLabel("")
            self.stream_labels[name] = label
            streams.addWidget(label)
        self.history_label = TextLabel("")
        self.history_label.setVisible(False)
        streams.addWidget(self.history_label)
        self.history_failure: HistoryFailure | None = None
        layout.addLayout(streams, 2)
        clock_box = QVBoxLayout()
        self.clock_label = TextLabel("")
        self.clock_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.date_label = TextLabel("")
        self.date_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        # The national room: the time in Indonesia's other two zones beside the room's own (set_other_zones).
        self.zones_label = TextLabel("")
        self.zones_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.zones_label.setVisible(False)
        clock_box.addWidget(self.clock_label)
        clock_box.addWidget(self.zones_label)
        clock_box.addWidget(self.date_label)
        layout.addLayout(clock_box, 2)
        self.health: dict[str, StreamHealth] = {}
        self.source = Source.LIVE
        self._unit = 1.0
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.update_clock)
        self._timer.start()
        self.update_clock()
        self.set_scale(1.0)

    def set_other_zones(self, show: bool) -> None:
        self.zones_label.setVisible(show)
        self.update_clock()

    def set_title(self, title: str) -> None:
        self.title.setText(title)

    def update_clock(self) -> None:
        now = datetime.fromtimestamp(self.clock.now(), ZoneInfo(self.tz))
        self.clock_label.setText(f"{now:%H:%M:%S} {zone_abbreviation(self.tz)}")
        if self.zones_label.isVisibleTo(self):
            self.zones_label.setText(other_zone_times(now.timestamp(), self.tz))
        from PySide6.QtCore import QDate

        from wallboard.ui.i18n import locale

        self.date_label.setText(locale().toString(QDate(now.year, now.month, now.day), "dddd, d MMMM yyyy"))

    def update_freshness(self, health: Mapping[str, StreamHealth]) -> None:
        self.health = dict(health)
        for name, label in self.stream_labels.items():
            h = health.get(name)
            if h is None:
                label.setText("")
                continue
            text, colour = freshness_text(h, self.tz, self.source)
            label.setText(text)
            label.set_style(theme.px(theme.SMALL, self._unit), bold=h.state is not Freshness.LIVE, colour=colour)
            set_tooltip(label, plain_tooltip(h.last_error or ""))

    def set_history_failure(self, failure: HistoryFailure | None) -> None:
        """Show (or clear) that the history is not being saved: since when and why. The wall keeps running."""
        self.history_failure = failure
        self.history_label.setVisible(failure is not None)
        if failure is not None:
            self.history_label.setText(history_text(failure, self.tz))
            self.history_label.set_style(theme.px(theme.SMALL, self._unit), bold=True, colour=theme.ORANGE)

    def set_scale(self, unit: float) -> None:
        self._unit = unit
        self.title.set_style(theme.px(theme.BIG, unit), bold=True)
        self.subtitle.set_style(theme.px(theme.LABEL, unit), colour=theme.TEXT_DIM)
        self.clock_label.set_style(theme.px(theme.HEADLINE, unit), bold=True)
        self.date_label.set_style(theme.px(theme.LABEL, unit), colour=theme.TEXT_DIM)
        self.zones_label.set_style(theme.px(theme.LABEL, unit), bold=True, colour=theme.TEXT_DIM)
        self.ticker.set_scale(unit)
        self.update_freshness(self.health)
        if self.history_failure is not None:
            self.set_history_failure(self.history_failure)
