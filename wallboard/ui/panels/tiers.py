"""Queue and tiers: waiting now, where calls were answered (Polsek/Polres/Polda/Mabes), escalations, abandoned,
the 10-second service level and the prank share, today and in the last 60 min, with trends against the hour before.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QVBoxLayout, QWidget

from wallboard.core.model import CallKindGroup, Tier
from wallboard.core.snapshot import BoardSnapshot, TierStats, Window
from wallboard.ui import theme
from wallboard.ui.i18n import fmt_int, fmt_num, fmt_pct, tr
from wallboard.ui.panels.base import Panel, TextLabel
from wallboard.ui.panels.national import escalation_lines

TIER_NAMES = {Tier.POLSEK: "Polsek", Tier.POLRES: "Polres", Tier.POLDA: "Polda", Tier.MABES: "Mabes"}


def trend(
    current: float | None, previous: float | None, *, higher_is_better: bool | None, percent: bool = False
) -> tuple[str, str]:
    """(arrow and signed change in words, colour) comparing the last hour with the hour before.

    The arrow is a shape and the change is text, so the trend reads without its colour (green better, orange worse).
    """
    if current is None or previous is None:
        return "", theme.TEXT_DIM
    delta = current - previous
    if abs(delta) < (0.5 if percent else 1e-9):
        return "= " + tr("same"), theme.TEXT_DIM
    arrow = "▲" if delta > 0 else "▼"
    sign = "+" if delta > 0 else "−"
    amount = f"{fmt_num(abs(delta), 0)} {tr('pt')}" if percent else fmt_int(round(abs(delta)))
    text = f"{arrow} {sign}{amount}"
    if higher_is_better is None:
        return text, theme.TEXT_DIM
    good = (delta > 0) == higher_is_better
    return text, theme.GREEN if good else theme.ORANGE


class TiersPanel(Panel):
    streams = ("calls", "queue")  # the feed streams it draws from (aged while one is not live)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(tr("Queue and answering tiers"), parent)
        top = QHBoxLayout()
        self.outer.addLayout(top)
        self.waiting_value = TextLabel("–", role="headline")
        self.waiting_caption = TextLabel(tr("waiting now"))
        self.longest_value = TextLabel("–", role="headline")
        self.longest_caption = TextLabel(tr("longest wait"))
        for value, caption in ((self.waiting_value, self.waiting_caption), (self.longest_value, self.longest_caption)):
            box = QVBoxLayout()
            box.addWidget(value)
            box.addWidget(caption)
            top.addLayout(box, 1)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(14)
        self.grid.setVerticalSpacing(2)
        self.outer.addLayout(self.grid)
        # National board: which Polda send most calls up to Mabes (today); hidden on a Polda's board.
        self.escalators_caption = TextLabel(tr("Most escalated to Mabes, today"))
        self.escalators = TextLabel("")
        for label in (self.escalators_caption, self.escalators):
            label.setVisible(False)
            self.outer.addWidget(label)
        self.outer.addStretch(1)
        self.cells: dict[tuple[str, str], TextLabel] = {}
        self.row_labels: dict[str, TextLabel] = {}
        self.headers = [
            TextLabel(""),
            TextLabel(tr("today")),
            TextLabel(tr("last 60 min")),
            TextLabel(tr("vs hour before")),
        ]
        for col, header in enumerate(self.headers):
            header.setAlignment(Qt.AlignmentFlag.AlignRight if col else Qt.AlignmentFlag.AlignLeft)
            self.grid.addWidget(header, 0, col)
        self.rows = [
            ("received", tr("Calls received")),
            ("polsek", tr("Answered at Polsek")),
            ("polres", tr("Answered at Polres")),
            ("polda", tr("Answered at Polda")),
            ("mabes", tr("Answered at Mabes")),
            ("esc_polres_polda", tr("Escalated Polres → Polda")),
            ("esc_polda_mabes", tr("Escalated Polda → Mabes")),
            ("abandoned", tr("Abandoned")),
            ("service", tr("Answered within {s} s").format(s=10)),
            ("prank", tr("Prank / silent share")),
        ]
        for r, (key, text) in enumerate(self.rows, start=1):
            label = TextLabel(text)
            self.row_labels[key] = label
            self.grid.addWidget(label, r, 0)
            for c, column in enumerate(("today", "hour", "trend"), start=1):
                cell = TextLabel("–")
                cell.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.cells[(key, column)] = cell
                self.grid.addWidget(cell, r, c)
        self._trend_colours: dict[str, str] = {}
        self.kinds: frozenset[CallKindGroup] = frozenset(CallKindGroup)
        self.snapshot: BoardSnapshot | None = None
        self.set_scale(1.0)

    def set_kinds(self, kinds: frozenset[CallKindGroup]) -> None:
        """Count only these kinds of call (the supervisor's filter); the figures come from the snapshot's per-kind
        statistics, summed in core."""
        self.kinds = frozenset(kinds)
        if self.snapshot is not None:
            self.update_snapshot(self.snapshot)

    def set_scale(self, unit: float) -> None:
        super().set_scale(unit)
        self.waiting_value.set_style(theme.px(theme.HEADLINE, unit), bold=True)
        self.longest_value.set_style(theme.px(theme.HEADLINE, unit), bold=True)
        for caption in (self.waiting_caption, self.longest_caption):
            caption.set_style(theme.px(theme.SMALL, unit), colour=theme.TEXT_DIM)
        for header in self.headers:
            header.set_style(theme.px(theme.SMALL, unit), colour=theme.TEXT_DIM)
        for label in self.row_labels.values():
            label.set_style(theme.px(theme.TABLE, unit))
        self.escalators_caption.set_style(theme.px(theme.SMALL, unit), bold=True, colour=theme.TEXT_DIM)
        self.escalators.set_style(theme.px(theme.TABLE, unit))
        for (key, col), cell in self.cells.items():
            colour = self._trend_colours.get(key, theme.TEXT_DIM) if col == "trend" else theme.TEXT
            cell.set_style(theme.px(theme.TABLE, unit), bold=col != "hour", colour=colour)

    def _count_share(self, value: int, total: int) -> str:
        share = "" if total == 0 else f" ({fmt_num(100.0 * value / total, 0)}%)"
        return fmt_int(value) + share

    def _values(self, t: TierStats) -> dict[str, str]:
        esc = t.escalations
        answered = t.answered
        return {
            "received": fmt_int(t.received),
            "polsek": self._count_share(t.answered_by_tier[Tier.POLSEK], answered),
            "polres": self._count_share(t.answered_by_tier[Tier.POLRES], answered),
            "polda": self._count_share(t.answered_by_tier[Tier.POLDA], answered),
            "mabes": self._count_share(t.answered_by_tier[Tier.MABES], answered),
            "esc_polres_polda": fmt_int(esc.get((Tier.POLRES, Tier.POLDA), 0)),
            "esc_polda_mabes": fmt_int(esc.get((Tier.POLDA, Tier.MABES), 0)),
            "abandoned": self._count_share(t.abandoned, t.received),
            "service": fmt_pct(t.service_level_pct),
            "prank": fmt_pct(t.prank_share_pct),
        }

    def update_snapshot(self, snapshot: BoardSnapshot) -> None:
        self.snapshot = snapshot
        q = snapshot.queue
        self.waiting_value.setText(fmt_int(q.waiting))
        warn = q.waiting > 0 and (q.longest_wait_s or 0) > 10
        longest = "–" if q.longest_wait_s is None else f"{fmt_int(round(q.longest_wait_s))} s"
        self.longest_value.setText(f"⚠ {longest}" if warn else longest)  # the warning is a shape, not just red
        self.longest_value.set_style(
            theme.px(theme.HEADLINE, self.unit), bold=True, colour=theme.VERMILLION if warn else theme.TEXT
        )
        today, hour, previous = (
            snapshot.tier_stats(w, self.kinds) for w in (Window.TODAY, Window.LAST_60_MIN, Window.PREVIOUS_60_MIN)
        )
        show_polsek = (
            today.answered_by_tier[Tier.POLSEK] > 0 or today.escalations.get((Tier.POLSEK, Tier.POLRES), 0) > 0
        )
        for widget in (self.row_labels["polsek"], *(self.cells[("polsek", c)] for c in ("today", "hour", "trend"))):
            widget.setVisible(show_polsek)
        for col, stats in (("today", today), ("hour", hour)):
            for key, text in self._values(stats).items():
                self.cells[(key, col)].setText(text)
        trends = {
            "received": trend(hour.received, previous.received, higher_is_better=None),
            "abandoned": trend(hour.abandoned, previous.abandoned, higher_is_better=False),
            "service": trend(hour.service_level_pct, previous.service_level_pct, higher_is_better=True, percent=True),
            "prank": trend(hour.prank_share_pct, previous.prank_share_pct, higher_is_better=False, percent=True),
            "mabes": trend(
                hour.answered_by_tier[Tier.MABES], previous.answered_by_tier[Tier.MABES], higher_is_better=False
            ),
            "esc_polres_polda": trend(
                hour.escalations.get((Tier.POLRES, Tier.POLDA), 0),
                previous.escalations.get((Tier.POLRES, Tier.POLDA), 0),
                higher_is_better=False,
            ),
            "esc_polda_mabes": trend(
                hour.escalations.get((Tier.POLDA, Tier.MABES), 0),
                previous.escalations.get((Tier.POLDA, Tier.MABES), 0),
                higher_is_better=False,
            ),
        }
        for key, _ in self.rows:
            text, colour = trends.get(key, ("", theme.TEXT_DIM))
            self._trend_colours[key] = colour
            cell = self.cells[(key, "trend")]
            cell.setText(text)
            cell.set_style(theme.px(theme.TABLE, self.unit), bold=True, colour=colour)
        escalators = escalation_lines(snapshot)
        self.escalators.setText("\n".join(escalators))
        for label in (self.escalators_caption, self.escalators):
            label.setVisible(bool(escalators))
        threshold = fmt_int(round(today.answer_threshold_s))
        self.row_labels["service"].setText(tr("Answered within {s} s").format(s=threshold))
        self.subtitle.setText(f"{tr('answer rule')}: {threshold} s")
