"""Parts of the national room's wall (Mabes): who escalates most, and the clocks of Indonesia's three zones."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from wallboard.config import Config
from wallboard.core.snapshot import BoardSnapshot, PoldaEscalations, Window
from wallboard.core.timeutil import zone_abbreviation
from wallboard.ui.i18n import fmt_int, fmt_num, tr

#: Indonesia's three zones, west to east.
INDONESIAN_ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")
TOP_ESCALATORS = 5


def is_national(config: Config) -> bool:
    """The national room's board (Mabes): every Polda, no Polda of its own."""
    return config.board.polda_id in ("", "national", "indonesia")


def short_polda(name: str) -> str:
    return name.removeprefix("Polda ")


def escalation_lines(snapshot: BoardSnapshot, window: Window = Window.TODAY, top: int = TOP_ESCALATORS) -> list[str]:
    """The Polda that sent most calls up to Mabes (then most escalated), one line each; empty on a Polda's board or
    while no call has been escalated."""
    rows: tuple[PoldaEscalations, ...] = snapshot.escalations_by_polda.get(window, ())
    lines = []
    for row in rows[:top]:
        if row.escalated == 0:
            break
        share = "" if row.to_mabes_pct is None else f" ({fmt_num(row.to_mabes_pct, 0)}%)"
        lines.append(
            f"{short_polda(row.name)}: {fmt_int(row.to_mabes)} → Mabes{share} · "
            f"{fmt_int(row.escalated)} {tr('escalated')} / {fmt_int(row.received)}"
        )
    return lines


def other_zone_times(now: float, room_tz: str) -> str:
    """The time in Indonesia's other two zones, e.g. "WITA 13:05 · WIT 14:05" beside a WIB clock."""
    parts = []
    for zone in INDONESIAN_ZONES:
        if zone == room_tz:
            continue
        local = datetime.fromtimestamp(now, ZoneInfo(zone))
        parts.append(f"{zone_abbreviation(zone)} {local:%H:%M}")
    return " · ".join(parts)
