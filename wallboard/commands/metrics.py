"""`wallboard metrics`: the numbers every panel would show at a moment of a recording, from the same core."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from wallboard.commands.base import Command
from wallboard.commands.wiring import engine_from_recording
from wallboard.config import Config, option_choices
from wallboard.core.model import TIERS_IN_ORDER
from wallboard.core.snapshot import BoardSnapshot, Window, to_jsonable
from wallboard.core.timeutil import format_rfc3339, parse_rfc3339

# An array of plain numbers (the per-minute volume series) on one line instead of one number per line.
_NUMBER_ARRAY = re.compile(r"\[\s*(?:-?[\d.eE+-]+|null)(?:,\s*(?:-?[\d.eE+-]+|null))*\s*\]")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--feed", required=True, metavar="FILE.ndjson")
    p.add_argument("--at", metavar="RFC3339", help="moment (default: the last record's time)")
    p.add_argument("--json", action="store_true", help="machine-readable JSON output")
    p.add_argument("--window", choices=option_choices("board", "response_window"), help="response window")


def render_json(snapshot: BoardSnapshot) -> str:
    doc = to_jsonable(snapshot)
    # The moment in the same form --at takes (RFC 3339 with the board's offset), and as POSIX seconds beside it.
    doc["as_of"] = format_rfc3339(snapshot.as_of, snapshot.tz)
    doc["as_of_epoch"] = snapshot.as_of
    text = json.dumps(doc, indent=1, ensure_ascii=False)
    return _NUMBER_ARRAY.sub(lambda m: re.sub(r"\s+", "", m.group(0)).replace(",", ", "), text)


def render_text(s: BoardSnapshot) -> str:
    zone = ZoneInfo(s.tz)
    lines = [f"{s.polda_name} at {datetime.fromtimestamp(s.as_of, zone):%Y-%m-%d %H:%M:%S %Z}"]
    q = s.queue
    lines.append(f"queue: {q.waiting} waiting, longest {q.longest_wait_s or 0:.0f} s (from {q.source})")
    lines.append(f"rate: {s.volume.current_rate_per_hour:.0f} calls/hour (last 15 min)")
    for window in (Window.TODAY, Window.LAST_60_MIN):
        t = s.tiers[window]
        answered = ", ".join(f"{tier.value} {t.answered_by_tier[tier]}" for tier in TIERS_IN_ORDER)
        sl = "–" if t.service_level_pct is None else f"{t.service_level_pct:.1f}%"
        prank = "–" if t.prank_share_pct is None else f"{t.prank_share_pct:.1f}%"
        lines.append(f"{window.value}: received {t.received}; answered {answered}; abandoned {t.abandoned}; "
                     f"within {t.answer_threshold_s:.0f} s {sl}; prank/silent {prank}")  # fmt: skip
    lines.append(f"response ({s.response_window.value}): unit  count  median  p90  within-10min  overdue")
    for r in (s.response_polda, *s.response_by_polres):
        med = "–" if r.median_s is None else f"{r.median_s / 60:.1f}"
        p90 = "–" if r.p90_s is None else f"{r.p90_s / 60:.1f}"
        within = "–" if r.within_target_pct is None else f"{r.within_target_pct:.0f}%"
        lines.append(f"  {r.name:<32} {r.count:>5} {med:>7} {p90:>5} {within:>12} {r.overdue_now:>8}")
    return "\n".join(lines)


def run(args: argparse.Namespace, config: Config) -> int:
    try:
        try:
            at = parse_rfc3339(args.at) if args.at else None
        except (ValueError, OverflowError) as exc:
            raise ValueError(f"--at: {exc}") from None
        engine, moment = engine_from_recording(config, Path(args.feed), at)
    except (OSError, ValueError, OverflowError) as exc:
        print(f"wallboard metrics: {exc}", file=sys.stderr)
        return 2
    snapshot = engine.snapshot(moment, Window(args.window or config.board.response_window))
    print(render_json(snapshot) if args.json else render_text(snapshot))
    return 0


COMMAND = Command("metrics", "print the numbers every panel would show at a moment", add_arguments, run)
