"""`wallboard snapshot`: render the full board (or one view) offscreen to a PNG."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from wallboard.commands.base import OUTPUT_RULE, Command, add_demo_options, refuse
from wallboard.commands.wiring import engine_from_demo, engine_from_recording, recording_provenance, reference
from wallboard.config import Config
from wallboard.core.provenance import DEMO
from wallboard.core.reference import ReferenceData
from wallboard.core.timeutil import parse_rfc3339
from wallboard.files import IMAGE_FORMATS, UnsafePathError, check_output, is_snapshot_image, write_problem

#: The smallest and the largest image ``--size`` may ask for (a 8K wall is 7680x4320; a bigger image is a mistake
#: that would allocate gigabytes).
MIN_SIZE = (320, 200)
MAX_SIZE = (7680, 4320)


def size(text: str) -> tuple[int, int]:
    try:
        w, h = text.lower().split("x")
        width, height = int(w), int(h)
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be WIDTHxHEIGHT, e.g. 3840x2160, not {text[:40]!r}") from None
    if not (MIN_SIZE[0] <= width <= MAX_SIZE[0] and MIN_SIZE[1] <= height <= MAX_SIZE[1]):
        raise argparse.ArgumentTypeError(
            f"{width}x{height} is outside {MIN_SIZE[0]}x{MIN_SIZE[1]} to {MAX_SIZE[0]}x{MAX_SIZE[1]} (width from "
            f"{MIN_SIZE[0]} to {MAX_SIZE[0]}, height from {MIN_SIZE[1]} to {MAX_SIZE[1]})"
        )
    return width, height


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, metavar="FILE.png",
                   help=f"the image: .png, .jpg or .jpeg. {OUTPUT_RULE} (an earlier snapshot is replaced)")  # fmt: skip
    p.add_argument("--size", type=size, default=(1920, 1080),
                   help=f"WIDTHxHEIGHT (default 1920x1080; from {MIN_SIZE[0]}x{MIN_SIZE[1]} to "
                   f"{MAX_SIZE[0]}x{MAX_SIZE[1]})")  # fmt: skip
    src = p.add_mutually_exclusive_group()
    src.add_argument("--feed", metavar="FILE.ndjson", help="render this recording (at its end, or --at)")
    src.add_argument("--demo-minutes", type=float, help="run the simulator this many simulated minutes first")
    p.add_argument("--at", metavar="RFC3339", help="with --feed: the moment to render")
    p.add_argument(
        "--view",
        default="overview",
        help="view to render: overview, map, gauges, units, risk, dispatch, prank, polres:<id>",
    )
    add_demo_options(p)


def check_view(name: str, ref: ReferenceData, config: Config | None = None) -> str | None:
    """Why ``name`` is not a view this snapshot may render (None: it may)."""
    from wallboard.config import KIOSK_VIEWS

    known = (*KIOSK_VIEWS, "prank")
    if name == "prank" and not (config is not None and config.board.unmask_caller_numbers):
        # A PNG is an export, and the prank watch leaves a supervisor's screen only where the desk is authorised.
        return (
            "--view prank: the prank watch is for supervisors; a snapshot of it is an export, allowed only where "
            "board.unmask_caller_numbers is set"
        )
    if name in known:
        return None
    if name.startswith("polres:"):
        unit_id = name.removeprefix("polres:")
        if unit_id in ref.polres or unit_id in ref.poldas:
            return None
        return f"unknown Polres or Polda {unit_id!r} in --view {name!r}"
    return f"unknown view {name!r} (known: {', '.join(known)}, polres:<id>)"


def check_out(out: Path) -> str | None:
    """Why ``out`` cannot be the snapshot (None: it can): a format we do not write, or a file we must not replace."""
    if out.suffix.lower() not in IMAGE_FORMATS:
        found = repr(out.suffix[:20]) if out.suffix else "a name without a suffix"
        return f"--out {out}: the image must be .png, .jpg or .jpeg, not {found}"
    try:
        check_output(out, is_snapshot_image, "--out")
    except UnsafePathError as exc:
        return str(exc)
    return None


def run(args: argparse.Namespace, config: Config) -> int:
    problem = check_view(args.view, reference(), config) or check_out(Path(args.out))
    if problem:
        return refuse("snapshot", problem)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from wallboard.ui.runtime import qt_application
    from wallboard.ui.snapshot import render

    with qt_application(config):
        try:
            if args.feed:
                moment = parse_rfc3339(args.at) if args.at else None
                engine, now = engine_from_recording(config, Path(args.feed), moment)
                provenance = recording_provenance(Path(args.feed))
            else:
                engine, now = engine_from_demo(config, args.demo_minutes if args.demo_minutes is not None else 30.0)
                provenance = DEMO
        except (OSError, ValueError) as exc:
            print(f"wallboard snapshot: {exc}", file=sys.stderr)
            return 2
        try:
            out = render(config, engine, now, Path(args.out), args.size, args.view, provenance=provenance)
        except OSError as exc:  # the disk, or --out became something else while we rendered
            return refuse("snapshot", write_problem(exc, "--out", Path(args.out)))
    print(f"wrote {out} ({args.size[0]}x{args.size[1]})")
    return 0


COMMAND = Command("snapshot", "render the full board offscreen to a PNG or JPEG", add_arguments, run)
