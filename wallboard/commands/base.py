"""What a subcommand is: a name, a help line, its arguments and the function that runs it."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass

from wallboard.config import Config, option_choices
from wallboard.logsetup import FILE_ONLY

Runner = Callable[[argparse.Namespace, Config], int]


@dataclass(frozen=True)
class Command:
    """One ``wallboard`` subcommand. ``run(args, config)`` returns the exit code. Modules that define commands import
    Qt only inside ``run``, so ``wallboard metrics`` or ``simulate`` never load it."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Runner


def add_demo_options(parser: argparse.ArgumentParser) -> None:
    """The simulator's options, for every command that can run on it (values as ``[demo]`` in the configuration)."""
    parser.add_argument("--region", choices=option_choices("demo", "region"), help="simulated region (demo.region)")
    parser.add_argument("--speed", type=float, help="simulated seconds per real second (demo.speed)")
    parser.add_argument("--seed", type=int, help="random seed (demo.seed)")
    parser.add_argument("--polsek", action="store_true", default=None, help="simulate a Polsek tier (demo.polsek_tier)")
    parser.add_argument(
        "--polda",
        help="the Polda whose board to show, e.g. jatim, or national (board.polda_id); a Polda outside Kaltim "
        "simulates all of Indonesia (demo.region = indonesia) unless --region says otherwise",
    )


def refuse(command: str, message: str, status: int = 2) -> int:
    """Say why the command cannot do what it was asked (a path it must not write, a value out of bounds) on stderr
    and in the log file; returns the exit status (2: a usage error)."""
    print(f"wallboard {command}: {message}", file=sys.stderr)
    logging.getLogger(f"wallboard.commands.{command}").error("%s", message, extra=FILE_ONLY)
    return status


#: How ``--help`` states the rule every output file follows (wallboard.files).
OUTPUT_RULE = (
    "Written beside the target under a temporary name and renamed into place when complete; an existing file is "
    "replaced only if wallboard wrote it, never through a link, never a device, FIFO or directory"
)


def no_arguments(parser: argparse.ArgumentParser) -> None:
    del parser
