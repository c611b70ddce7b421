"""Rendering one view of the board offscreen to a PNG or JPEG (``wallboard snapshot``: daily reports, documentation,
tests).

The data comes from a recording (``--feed``, at its end or ``--at``) or from the simulator run deterministically for
``--demo-minutes`` after its usual history; either way it goes through the same decoding and the same metrics engine
as the live board.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from wallboard.config import Config
from wallboard.core.alerts import evaluate
from wallboard.core.freshness import Freshness, StreamHealth
from wallboard.core.metrics import MetricsEngine
from wallboard.core.provenance import LIVE, Provenance
from wallboard.core.snapshot import Window
from wallboard.core.timeutil import ManualClock
from wallboard.files import IMAGE_FORMATS, IMAGE_MARK, AtomicOutput, is_snapshot_image

if TYPE_CHECKING:
    from PySide6.QtGui import QPixmap

log = logging.getLogger(__name__)


def render(
    config: Config, engine: MetricsEngine, now: float, out: Path, size: tuple[int, int], view_name: str,
    *, provenance: Provenance = LIVE, health: dict[str, StreamHealth] | None = None,
) -> Path:  # fmt: skip
    """Render one view of the board with the engine's state at ``now`` to ``out``, saying where its numbers come
    from (a recording or the simulator is never painted as live). The format follows ``out``'s suffix
    (``wallboard.files.IMAGE_FORMATS``); the image is marked as ours and written beside ``out`` under a temporary
    name, then renamed over it (``AtomicOutput``): an OSError (``UnsafePathError`` for a target that is not ours) leaves
    ``out`` as it was."""
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from wallboard.feed.hub import alert_thresholds
    from wallboard.ui.board import create_view

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    clock = ManualClock(now)
    view = create_view(view_name, config, engine.reference, clock)
    try:
        view.resize(*size)
        view.setFixedSize(*size)
        view.set_provenance(provenance)
        health = health or {
            name: StreamHealth(name, Freshness.LIVE, now, now, None, 0, 0, 2.0)
            for name in ("reference", "calls", "units", "queue")
        }
        snapshot = engine.snapshot(now, Window(config.board.response_window), details=view.detail_ids())
        view.update_freshness(health)
        view.update_snapshot(snapshot)
        view.update_alerts(evaluate(snapshot, health, alert_thresholds(config)))
        view.update_units(list(engine.units.values()))
        view.update_incidents(list(engine.incidents.values()))
        view.show()
        QCoreApplication.processEvents()
        map_view = view.map
        if map_view is not None and not map_view.is_loaded:
            loop = QEventLoop()
            map_view.loaded.connect(loop.quit)
            QTimer.singleShot(30_000, loop.quit)
            loop.exec()
            if map_view.is_loaded:
                # Let Chromium composite the first frames with the pushed units.
                deadline = time.monotonic() + 2.0
                while time.monotonic() < deadline:
                    QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
                    time.sleep(0.05)
            else:
                log.warning("snapshot: the map did not load within 30 s; rendering without it")
        QCoreApplication.processEvents()
        image = view.grab()
        if map_view is not None and map_view.is_loaded:
            map_view.paint_into(image)
            veil = view.map_veil
            if veil.isVisible():  # the map's page is painted over the view: lay its stale veil on top again
                from PySide6.QtWidgets import QWidget

                veil.render(image, veil.pos(), renderFlags=QWidget.RenderFlag.DrawChildren)
    finally:
        view.close()
        view.deleteLater()
        from PySide6.QtCore import QEvent

        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    _save(image, out)
    return out


def _save(pixmap: QPixmap, out: Path) -> None:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image = pixmap.toImage()
    image.setText("Software", IMAGE_MARK)  # what lets a later snapshot replace this file (wallboard.files)
    if not image.save(buffer, IMAGE_FORMATS[out.suffix.lower()]):  # type: ignore[call-overload]  # str at runtime
        raise OSError(f"cannot encode the image as {IMAGE_FORMATS[out.suffix.lower()]}")
    buffer.close()
    output = AtomicOutput(out, is_snapshot_image, "--out", encoding=None)
    try:
        output.file.write(data.data())
        output.commit()
    except BaseException:
        output.abort()
        raise
