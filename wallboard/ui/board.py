"""The board: header, call volume, queue and tiers, response gauges and the map, composed into views.

A view renders what the hub sends (snapshots, freshness, unit and incident changes) and nothing else. Views are
made by name for the kiosk playlist: ``overview``, ``gauges``, ``map``, ``polres:<id>``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import QGridLayout, QMainWindow, QVBoxLayout, QWidget

from wallboard.config import Config, board_zone
from wallboard.core.alerts import Alert
from wallboard.core.freshness import HistoryFailure, StreamHealth
from wallboard.core.model import Incident, Unit
from wallboard.core.provenance import LIVE, Provenance
from wallboard.core.reference import ReferenceData
from wallboard.core.snapshot import BoardSnapshot
from wallboard.core.timeutil import Clock
from wallboard.ui import theme
from wallboard.ui.detail import PolresDetailView
from wallboard.ui.i18n import tr
from wallboard.ui.panels.base import StaleVeil, veil_lines
from wallboard.ui.panels.dispatch import DispatchPanel
from wallboard.ui.panels.gauges import GaugesPanel
from wallboard.ui.panels.header import HeaderPanel
from wallboard.ui.panels.national import is_national
from wallboard.ui.panels.prank import PrankPanel
from wallboard.ui.panels.provenance import ProvenanceBand
from wallboard.ui.panels.risk import RiskPanel
from wallboard.ui.panels.tiers import TiersPanel
from wallboard.ui.panels.unitboard import UnitBoardPanel
from wallboard.ui.panels.volume import VolumePanel
from wallboard.ui.sound import acknowledged_on_wall

if TYPE_CHECKING:
    from wallboard.feed.hub import FeedHub

log = logging.getLogger(__name__)
VIEWS = ("overview", "gauges", "map", "units", "risk", "dispatch", "prank")
MAP_STREAMS = ("units", "calls")  # the map's units, and its incidents (they come with the calls stream)
#: Builds the map panel, or returns None to leave its slot empty.
ACK_KEYS = (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter)
MapFactory = Callable[[Config, ReferenceData, Clock], QWidget | None]
#: Views of one panel each: the unit board, incidents at risk, and the prank watch (supervisors only: not in the
#: kiosk playlist, config.KIOSK_VIEWS).
EXTRA_VIEWS: dict[str, Callable[[Config, ReferenceData, Clock], QWidget]] = {
    "units": lambda config, reference, clock: UnitBoardPanel(),
    "risk": lambda config, reference, clock: RiskPanel(clock),
    "dispatch": lambda config, reference, clock: DispatchPanel(clock),
    "prank": lambda config, reference, clock: PrankPanel(config, reference),
}


class WallView(Protocol):
    """What every view of the wall takes from the hub (the kiosk and the supervisor talk to views through this).

    A view renders what it is given and nothing else: it never asks the engine, never polls, never evaluates rules.
    """

    def update_snapshot(self, snapshot: BoardSnapshot) -> None: ...
    def update_freshness(self, health: Mapping[str, StreamHealth]) -> None: ...
    def update_alerts(self, alerts: list[Alert]) -> None: ...
    def update_units(self, units: list[Unit]) -> None: ...
    def update_incidents(self, incidents: list[Incident]) -> None: ...
    def set_reference(self, reference: ReferenceData) -> None: ...
    def update_history(self, failure: HistoryFailure | None) -> None:
        """The local history has not been saved since (board time) for (reason), or None: it is again."""
        ...

    def detail_ids(self) -> list[str]:
        """The drill-downs (Polres or Polda ids) this view shows, which the hub must put into its snapshots."""
        ...


def make_map(config: Config, reference: ReferenceData, clock: Clock) -> QWidget | None:
    """The live map, or None where QtWebEngine is not available (the rest of the board still works)."""
    try:
        from wallboard.ui.map import MapView
    except ImportError as exc:
        log.warning("map unavailable: %s", exc)
        return None
    polda = None if is_national(config) else config.board.polda_id
    zone = board_zone(config.board, reference)
    return MapView(reference, polda, config.map, zone, clock, target_s=config.board.target_s)


class BoardView(QWidget):
    """One screenful of the board. ``name`` picks the layout."""

    polresActivated = Signal(str)
    scaleChanged = Signal(float)  # the size unit: 1.0 at 1080 lines, 2.0 at 4K

    def __init__(
        self,
        name: str,
        config: Config,
        reference: ReferenceData,
        clock: Clock,
        parent: QWidget | None = None,
        *,
        map_factory: MapFactory | None = None,
    ) -> None:
        super().__init__(parent)
        self.name = name
        # None: the live map when wallboard.ui.map imports (QtWebEngine present), else an empty slot.
        new_map = map_factory if map_factory is not None else make_map
        self.config = config
        self.clock = clock
        self.reference = reference
        self.zone = board_zone(config.board, reference)
        polda = reference.poldas.get(config.board.polda_id)
        title = polda.name if polda else tr("Indonesia — all Polda")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(8)
        self.header = HeaderPanel(title, self.zone, clock)
        self.header.set_other_zones(is_national(config))  # Mabes watches all three zones
        layout.addWidget(self.header, 0)
        self.provenance_band = ProvenanceBand(self.zone, clock)
        layout.addWidget(self.provenance_band, 0)
        self.body = QGridLayout()
        self.body.setSpacing(8)
        layout.addLayout(self.body, 1)
        self.volume: VolumePanel | None = None
        self.tiers: TiersPanel | None = None
        self.gauges: GaugesPanel | None = None
        self.detail: PolresDetailView | None = None
        self.map: Any = None
        self.extra: QWidget | None = None  # the unit board, incidents at risk or the prank watch (their own views)
        if name in EXTRA_VIEWS:
            self.extra = EXTRA_VIEWS[name](config, reference, clock)
            self.body.addWidget(self.extra, 0, 0)
        elif name == "overview":
            self.volume = VolumePanel(self.zone)
            self.tiers = TiersPanel()
            self.gauges = GaugesPanel(config.board.gauges_per_page)
            self.map = new_map(config, reference, clock)
            self.body.addWidget(self.volume, 0, 0)
            self.body.addWidget(self.tiers, 1, 0)
            if self.map is not None:
                self.body.addWidget(self.map, 0, 1)
                self.body.addWidget(self.gauges, 1, 1)
            else:
                self.body.addWidget(self.gauges, 0, 1, 2, 1)
            self.body.setColumnStretch(0, 11)
            self.body.setColumnStretch(1, 10)
            self.body.setRowStretch(0, 1)
            self.body.setRowStretch(1, 1)
        elif name == "gauges":
            self.gauges = GaugesPanel(config.board.gauges_per_page)
            self.body.addWidget(self.gauges, 0, 0)
        elif name == "map":
            self.map = new_map(config, reference, clock)
            if self.map is not None:
                self.body.addWidget(self.map, 0, 0)
            else:
                self.gauges = GaugesPanel(config.board.gauges_per_page)
                self.body.addWidget(self.gauges, 0, 0)
        elif name.startswith("polres:") and name.removeprefix("polres:"):
            # A Polres on the wall: its incidents and units under the same header (clock, freshness, alerts) as
            # every other view, so a stale feed shows while this page is up, and at wall-size type.
            self.detail = PolresDetailView(name.removeprefix("polres:"), config, reference, clock)
            self.body.addWidget(self.detail, 0, 0)
        else:
            raise ValueError(f"unknown view {name!r} (known: {', '.join(VIEWS)}, polres:<id>)")
        if self.gauges is not None:
            self.gauges.polresActivated.connect(self.polresActivated)
        # The map draws units and incidents: aged like a panel while those streams are not live. The veil is laid
        # over it from the view (the map is a web page; it does not host child widgets of ours).
        self.map_veil = StaleVeil(self)
        if self.map is not None:
            self.map.installEventFilter(self)
        self.health: dict[str, StreamHealth] = {}
        self.provenance = LIVE
        self.snapshot: BoardSnapshot | None = None
        self.alerts: list[Alert] = []
        self.header.ticker.sound = False  # ui/sound.py plays the alerts (repeats, acknowledgement, mute, quiet hours)
        self.header.ticker.acknowledged.connect(acknowledged_on_wall)
        # Acknowledge from the keyboard as well as by clicking the ticker (a wall has a keyboard, rarely a mouse).
        for key in ACK_KEYS:
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.acknowledge_alerts)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._apply_scale(1080)

    # --- data in ---------------------------------------------------------------------------------------------------

    def panels(self) -> list[Any]:
        return [p for p in (self.volume, self.tiers, self.gauges, self.detail, self.extra) if p is not None]

    def update_snapshot(self, snapshot: BoardSnapshot) -> None:
        self.snapshot = snapshot
        for panel in [*self.panels(), self.map]:
            if panel is None or not hasattr(panel, "update_snapshot"):
                continue
            try:
                panel.update_snapshot(snapshot)
            except Exception:  # a bug in one panel must not take the wall down: log it, keep the rest
                log.exception("panel %s failed to update", type(panel).__name__)

    def update_freshness(self, health: Mapping[str, StreamHealth]) -> None:
        self.health = dict(health)
        self.header.update_freshness(health)
        for panel in self.panels():
            panel.update_health(health, self.zone)
        if self.map is not None:
            self.map_veil.set_lines(veil_lines(MAP_STREAMS, health, self.zone))
            self._place_map_veil()

    def _place_map_veil(self) -> None:
        if self.map is not None:
            self.map_veil.setGeometry(QRect(self.map.mapTo(self, QPoint(0, 0)), self.map.size()))
            if self.map_veil.lines:
                self.map_veil.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.map and event.type() in (QEvent.Type.Resize, QEvent.Type.Move):
            self._place_map_veil()
        return super().eventFilter(watched, event)

    def set_provenance(self, provenance: Provenance) -> None:
        """Where the numbers come from: a watermark band unless live, and the streams' words in the header."""
        self.provenance = provenance
        self.provenance_band.set_provenance(provenance)
        self.header.source = provenance.source
        self.header.update_freshness(self.health)

    def update_alerts(self, alerts: list[Alert]) -> None:
        """The hub's alerts (evaluated once upstream): the ticker shows them."""
        if alerts != self.alerts:
            self.alerts = list(alerts)
            self.header.ticker.set_alerts(self.alerts)

    def detail_ids(self) -> list[str]:
        return [self.detail.polres_id] if self.detail is not None else []

    def update_units(self, units: list[Unit]) -> None:
        if self.map is not None:
            self.map.update_units(units)

    def update_incidents(self, incidents: list[Incident]) -> None:
        if self.map is not None:
            self.map.update_incidents(incidents)

    def set_reference(self, reference: ReferenceData) -> None:
        self.reference = reference
        polda = reference.poldas.get(self.config.board.polda_id)
        if polda:
            self.header.set_title(polda.name)
        if self.map is not None:
            self.map.set_reference(reference)

    def update_history(self, failure: HistoryFailure | None) -> None:
        """The history is not being saved since (board time) for (reason), or None: it is again."""
        self.header.set_history_failure(failure)

    def connect_hub(self, hub: FeedHub) -> None:
        hub.snapshotChanged.connect(self.update_snapshot)
        hub.freshnessChanged.connect(self.update_freshness)
        hub.unitsChanged.connect(self.update_units)
        hub.incidentsChanged.connect(self.update_incidents)
        hub.referenceChanged.connect(self.set_reference)
        hub.alertsChanged.connect(self.update_alerts)
        self.set_provenance(getattr(hub, "provenance", LIVE))
        for unit_id in self.detail_ids():
            hub.watch_detail(unit_id)

        def on_problem(stream: str, _message: str) -> None:
            if stream == "history":
                self.update_history(hub.history_failure)

        hub.problemReported.connect(on_problem)
        if hub.last_snapshot is not None:
            self.update_snapshot(hub.last_snapshot)
        self.update_alerts(hub.alerts)
        if self.map is not None:
            units, incidents = hub.current_units_and_incidents()
            self.map.update_units(units)
            self.map.update_incidents(incidents)

    def acknowledge_alerts(self) -> None:
        """Stop the flashing of every alert active now (an alert that clears and returns flashes again)."""
        self.header.ticker.acknowledge()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # The shortcuts cover a focused child (the map); this covers the view itself when its window is not active.
        if event.key() in ACK_KEYS:
            self.acknowledge_alerts()
            event.accept()
            return
        super().keyPressEvent(event)

    # --- scale -------------------------------------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._apply_scale(event.size().height())

    def _apply_scale(self, height: int) -> None:
        unit = theme.scale_for(height)
        self.scale = unit
        self.scaleChanged.emit(unit)
        self.header.set_scale(unit)
        self.provenance_band.set_scale(unit)
        self.map_veil.unit = unit
        for panel in self.panels():
            panel.set_scale(unit)
        web = getattr(self.map, "view", None)
        if web is not None:  # the map's labels and controls scale with the wall like everything else
            web.setZoomFactor(max(0.75, min(unit, 3.0)))
        spacing = theme.px(8, unit)
        self.body.setSpacing(spacing)
        layout = self.layout()
        if layout is not None:
            layout.setContentsMargins(spacing, spacing, spacing, spacing)


def create_view(
    name: str,
    config: Config,
    reference: ReferenceData,
    clock: Clock,
    *,
    map_factory: MapFactory | None = None,
) -> BoardView:
    """A view by name, for the kiosk playlist. ``polres:<id>`` is the Polres drill-down as a view."""
    return BoardView(name, config, reference, clock, map_factory=map_factory)


class BoardWindow(QMainWindow):
    """The supervisor's window: the overview view, windowed and interactive."""

    def __init__(
        self,
        config: Config,
        reference: ReferenceData,
        clock: Clock,
        parent: QWidget | None = None,
        *,
        map_factory: MapFactory | None = None,
    ) -> None:
        super().__init__(parent)
        self.config = config
        self.view = BoardView("overview", config, reference, clock, map_factory=map_factory)
        self.setCentralWidget(self.view)
        self.setWindowTitle(f"wallboard — {self.view.header.title.text()}")
        self.setMinimumSize(1024, 640)
        self.supervisor: Any = None

    def connect_hub(self, hub: FeedHub) -> None:
        self.view.connect_hub(hub)
