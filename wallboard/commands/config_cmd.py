"""`wallboard config`: print the defaults or the effective configuration, check a file, hash a kiosk PIN."""

from __future__ import annotations

import argparse
import sys

from wallboard.commands.base import Command
from wallboard.commands.wiring import reference, unknown_polda
from wallboard.config import Config, board_zone, defaults_toml, format_effective, resolve_config_path
from wallboard.pin import hash_pin


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--print-defaults", action="store_true", help="print a commented file with every default")
    p.add_argument("--show", action="store_true", help="print the effective configuration")
    p.add_argument("--check", action="store_true", help="validate the configuration file and exit")
    p.add_argument("--hash-pin", action="store_true", help="read a kiosk exit PIN on stdin, print its salted hash")


def run(args: argparse.Namespace, config: Config) -> int:
    if args.print_defaults:
        sys.stdout.write(defaults_toml())
        return 0
    if args.hash_pin:
        pin = sys.stdin.readline().strip()
        if not pin.isdigit() or len(pin) < 4:
            print("wallboard: a PIN must be at least 4 digits", file=sys.stderr)
            return 2
        print(hash_pin(pin))
        return 0
    if args.show:
        sys.stdout.write(format_effective(config))
        return 0
    return check(args, config)


def check(args: argparse.Namespace, config: Config) -> int:
    """`config --check`: the file exists and is valid, and its Polda is one the reference data knows."""
    path = resolve_config_path(args.config)
    problems = []
    if not path.is_file():
        problems.append(f"{path}: configuration file not found (the board runs on the defaults)")
    polda_id = config.board.polda_id
    ref = reference()
    unknown = unknown_polda(config)
    if unknown:
        problems.append(unknown)
    for problem in problems:
        print(f"wallboard config: {problem}", file=sys.stderr)
    if problems:
        return 2
    print(f"configuration OK: {path} (Polda {polda_id}, zone {config.board.tz or board_zone(config.board, ref)})")
    return 0


COMMAND = Command("config", "show or write the configuration", add_arguments, run)
