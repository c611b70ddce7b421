"""Exports of what the board shows: the picture (PNG) and the numbers behind it (CSV).

The CSV is built from the :class:`BoardSnapshot` only, so it can hold nothing the board does not show: no caller
numbers, no tokens, no URLs. The PNG is ``QWidget.grab()`` with the web map's own frame painted over its place,
because a QtWebEngine view renders out of process and shows up blank in a plain widget grab.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from PySide6.QtCore import QPoint
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QWidget

from wallboard.core.model import TIERS_IN_ORDER
from wallboard.core.snapshot import BoardSnapshot

log = logging.getLogger(__name__)
CSV_HEADER = ["section", "item", "window", "value"]


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def snapshot_rows(s: BoardSnapshot, *, include_prank_watch: bool = False) -> list[list[str]]:
    """The numbers on the board as CSV rows: section, item, window, value. No personal data, no secrets: the prank
    watch (caller numbers, even masked) only with ``include_prank_watch``, which only an authorised desk
    (``board.unmask_caller_numbers``) passes."""
    rows = [list(CSV_HEADER)]
    rows.append(["queue", "waiting", "now", str(s.queue.waiting)])
    rows.append(
        ["queue", "longest_wait_s", "now", "" if s.queue.longest_wait_s is None else f"{s.queue.longest_wait_s:.0f}"]
    )
    rows.append(["volume", "calls_per_hour_last_15_min", "last_15_min", f"{s.volume.current_rate_per_hour:.1f}"])
    for window, t in s.tiers.items():
        rows.append(["tiers", "received", window.value, str(t.received)])
        rows.append(["tiers", "genuine", window.value, str(t.genuine)])
        rows.append(["tiers", "prank_or_silent", window.value, str(t.nuisance)])
        for tier in TIERS_IN_ORDER:
            rows.append(["tiers", f"answered_{tier.value}", window.value, str(t.answered_by_tier[tier])])
        for (a, b), n in t.escalations.items():
            rows.append(["tiers", f"escalated_{a.value}_to_{b.value}", window.value, str(n)])
        rows.append(["tiers", "abandoned", window.value, str(t.abandoned)])
        rows.append(["tiers", "service_level_pct", window.value, _num(t.service_level_pct)])
        rows.append(["tiers", "prank_share_pct", window.value, _num(t.prank_share_pct)])
    for r in (s.response_polda, *s.response_by_polres):
        for item, value in (
            ("count", str(r.count)),
            ("median_s", _num(r.median_s)),
            ("p90_s", _num(r.p90_s)),
            ("within_10_min_pct", _num(r.within_target_pct)),
            ("overdue_now", str(r.overdue_now)),
        ):
            rows.append([f"response:{r.name}", item, r.window.value, value])
    # The unit board as the wall shows it (core's rows, order and totals).
    board = s.unit_board
    rows.append(["units", "available", "now", str(board.available)])
    rows.append(["units", "on_duty", "now", str(board.on_duty)])
    rows.append(["units", "over_time_in_status", "now", str(board.overruns)])
    for u in board.rows:
        for status, n in u.by_status.items():
            rows.append([f"units:{u.name}", status, "now", str(n)])
        rows.append([f"units:{u.name}", "stale_position", "now", str(u.stale_position)])
        rows.append([f"units:{u.name}", "over_time_in_status", "now", str(u.overruns)])
    rows.append(["at_risk", "open_without_unit_on_scene", "now", str(s.at_risk_total)])
    if include_prank_watch and s.prank_watch is not None:
        w = s.prank_watch
        rows.append(["prank", "repeat_numbers", "last_7_days", str(w.repeat_numbers)])
        rows.append(["prank", "flagged_numbers", "last_7_days", str(w.flagged_numbers)])
        rows.append(["prank", "prank_or_silent_calls", "today", str(w.calls_today)])
        rows.append(["prank", "prank_or_silent_calls_with_location", "today", str(w.located_today)])
        for caller in s.prank_watch.numbers:
            rows.append([f"prank_number:{caller.number}", "prank_or_silent_calls", "today", str(caller.today)])
            rows.append([f"prank_number:{caller.number}", "prank_or_silent_calls", "last_7_days", str(caller.week)])
        for share in s.prank_watch.share_by_polres:
            rows.append([f"prank_share:{share.name}", "prank_share_pct", "today", _num(share.share_pct)])
    return [[_defuse(cell) for cell in row] for row in rows]


def _defuse(cell: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas; names come from the feed, so quote them.

    Plain negative numbers never occur in these rows (counts, shares and durations are all ≥ 0).
    """
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def export_csv(snapshot: BoardSnapshot, path: Path, *, include_prank_watch: bool = False) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(snapshot_rows(snapshot, include_prank_watch=include_prank_watch))
    log.info("exported the board's numbers to %s", path)
    return path


def grab_widget(widget: QWidget) -> QPixmap:
    """``widget.grab()`` with every web view inside painted in from its own frame."""
    pixmap = widget.grab()
    try:
        from PySide6.QtWebEngineWidgets import QWebEngineView
    except ImportError:  # no QtWebEngine: there is no web view to paint in either
        return pixmap
    webviews = [w for w in widget.findChildren(QWebEngineView) if w.isVisible()]
    if not webviews:
        return pixmap
    painter = QPainter(pixmap)
    for view in webviews:
        frame = view.grab()
        if not frame.isNull():
            painter.drawPixmap(view.mapTo(widget, QPoint(0, 0)), frame)
    painter.end()
    return pixmap


def export_png(widget: QWidget, path: Path) -> Path:
    """Save what ``widget`` shows now as a PNG. Raises OSError if the file cannot be written."""
    if not grab_widget(widget).save(str(path), "PNG"):
        raise OSError(f"could not write {path}")
    log.info("exported the board to %s", path)
    return path
