"""The ``wallboard`` command: one entry point, a subcommand per job.

Each subcommand names the function that runs it (``module:function``, imported only when used, so
``wallboard metrics`` never loads Qt). Every handler is ``handler(args, config) -> exit code``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence

from wallboard import __version__
from wallboard.config import Config, ConfigError, load_config, resolve_config_path

log = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace, Config], int]


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = text.lower().split("x")
        return int(w), int(h)
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be WIDTHxHEIGHT, e.g. 3840x2160, not {text!r}") from None


def _add_demo_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--region", choices=("kaltim", "indonesia"), help="simulated region (demo.region)")
    p.add_argument("--speed", type=float, help="simulated seconds per real second (demo.speed)")
    p.add_argument("--seed", type=int, help="random seed (demo.seed)")
    p.add_argument("--polsek", action="store_true", default=None, help="simulate a Polsek tier (demo.polsek_tier)")


def build_parser() -> argparse.ArgumentParser:
    def common_options(suppress: bool) -> argparse.ArgumentParser:
        """Options valid before and after the subcommand. After it they default to SUPPRESS, because argparse lets
        a subparser's defaults overwrite values given before the subcommand."""
        common = argparse.ArgumentParser(add_help=False)
        none: object = argparse.SUPPRESS if suppress else None
        common.add_argument(
            "--config", metavar="FILE", default=none, help="configuration file (default: the user config dir)"
        )
        common.add_argument(
            "--set",
            metavar="SECTION.KEY=VALUE",
            action="append",
            default=argparse.SUPPRESS if suppress else [],
            help="override one option, e.g. --set api.poll_units_s=1 (repeatable)",
        )
        common.add_argument("--lang", choices=("id", "en"), default=none, help="UI language (board.lang)")
        common.add_argument(
            "--log-level", choices=("DEBUG", "INFO", "WARNING", "ERROR"), default=none, help="log level (log.level)"
        )
        return common

    parser = argparse.ArgumentParser(
        prog="wallboard",
        description="Polri 110 command-center wallboard. Without a subcommand: 'run' (the supervisor board).",
        parents=[common_options(suppress=False)],
    )
    parser.add_argument("--version", action="version", version=f"wallboard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, target: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text, parents=[common_options(suppress=True)])
        p.set_defaults(handler=target)
        return p

    p = add("run", "wallboard.app:run_board", "supervisor board on the configured dispatch API (windowed)")
    p.add_argument("--api-url", help="dispatch API base URL (api.url); empty: embedded simulator")

    p = add("demo", "wallboard.app:run_demo", "supervisor board on the embedded simulated dispatch feed")
    _add_demo_options(p)

    p = add("kiosk", "wallboard.app:run_kiosk", "unattended full-screen board (wall screens)")
    p.add_argument("--api-url", help="dispatch API base URL (api.url)")
    p.add_argument("--demo", action="store_true", help="run on the embedded simulator")
    _add_demo_options(p)

    p = add("simulate", "wallboard.sim.server:main", "run the simulated dispatch API as a standalone HTTP server")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8110, help="port (default 8110; 0 picks a free one)")
    p.add_argument("--token", help="bearer token clients must send (default: none required)")
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="MODE[=VALUE]",
        help="start with a fault mode on (error500, error503, hang, slow, malformed, missing_fields, wrong_types, "
        "reset, clock_offset=SECONDS, huge); switch at run time via POST /sim/faults",
    )
    _add_demo_options(p)

    p = add("record", "wallboard.feed.record:main", "record the dispatch feed as it arrives to NDJSON")
    p.add_argument("--out", required=True, metavar="FILE.ndjson")
    p.add_argument("--api-url", help="dispatch API base URL (api.url); empty: embedded simulator")
    p.add_argument("--minutes", type=float, help="stop after this many minutes (default: until interrupted)")
    _add_demo_options(p)

    p = add("check-api", "wallboard.commands.check_api:run", "check a dispatch API against the contract")
    from wallboard.commands.check_api import add_arguments as add_check_api_arguments

    add_check_api_arguments(p)

    p = add("replay", "wallboard.app:run_replay", "show a recorded NDJSON feed on the board")
    p.add_argument("feed", metavar="FILE.ndjson")
    p.add_argument("--speed", type=float, default=1.0, help="replay speed (1 = real time)")
    p.add_argument("--kiosk", action="store_true", help="full-screen kiosk instead of the supervisor window")

    p = add("metrics", "wallboard.feed.metrics_cli:main", "print the numbers every panel would show at a moment")
    p.add_argument("--feed", required=True, metavar="FILE.ndjson")
    p.add_argument("--at", metavar="RFC3339", help="moment (default: the last record's time)")
    p.add_argument("--json", action="store_true", help="machine-readable JSON output")
    p.add_argument("--window", choices=("last_60_min", "today", "last_7_days"), help="response window")

    p = add("snapshot", "wallboard.ui.snapshot:main", "render the full board offscreen to a PNG")
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.add_argument("--size", type=_size, default=(1920, 1080), help="WIDTHxHEIGHT (default 1920x1080)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--feed", metavar="FILE.ndjson", help="render this recording (at its end, or --at)")
    src.add_argument("--demo-minutes", type=float, help="run the simulator this many simulated minutes first")
    p.add_argument("--at", metavar="RFC3339", help="with --feed: the moment to render")
    p.add_argument("--view", default="overview", help="view to render: overview, map, gauges, polres:<id>")
    _add_demo_options(p)

    p = add("config", "wallboard.cli:config_command", "show or write the configuration")
    p.add_argument("--print-defaults", action="store_true", help="print a commented file with every default")
    p.add_argument("--show", action="store_true", help="print the effective configuration")
    p.add_argument("--check", action="store_true", help="validate the configuration file and exit")
    p.add_argument("--hash-pin", action="store_true", help="read a kiosk exit PIN on stdin, print its salted hash")
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, str]:
    """Dedicated flags and ``--set`` pairs as ``section.key -> text``."""
    out: dict[str, str] = {}
    for pair in args.set or []:
        if "=" not in pair:
            raise ConfigError(f"command line: --set {pair!r} must be SECTION.KEY=VALUE")
        key, value = pair.split("=", 1)
        out[key.strip()] = value
    flag_map = {
        "lang": "board.lang",
        "log_level": "log.level",
        "api_url": "api.url",
        "region": "demo.region",
        "speed": "demo.speed",
        "seed": "demo.seed",
        "polsek": "demo.polsek_tier",
    }
    if getattr(args, "command", None) == "replay":
        flag_map.pop("speed")
    for attr, key in flag_map.items():
        value = getattr(args, attr, None)
        if value is not None:
            out[key] = str(value)
    return out


def config_command(args: argparse.Namespace, config: Config) -> int:
    if args.print_defaults:
        from wallboard.config import defaults_toml

        sys.stdout.write(defaults_toml())
        return 0
    if args.hash_pin:
        from wallboard.pin import hash_pin

        pin = sys.stdin.readline().strip()
        if not pin.isdigit() or len(pin) < 4:
            print("wallboard: a PIN must be at least 4 digits", file=sys.stderr)
            return 2
        print(hash_pin(pin))
        return 0
    if args.show:
        from dataclasses import fields

        from wallboard.config import _toml_value

        for section_field in fields(config):
            section = getattr(config, section_field.name)
            print(f"[{section_field.name}]")
            for f in fields(section):
                value = "<set>" if f.metadata.get("secret") and getattr(section, f.name) else getattr(section, f.name)
                print(f"{f.name} = {_toml_value(value)}")
            print()
        return 0
    print(f"configuration OK: {resolve_config_path(args.config)}")
    return 0


def resolve_handler(target: str) -> Handler:
    module_name, func_name = target.split(":")
    handler: Handler = getattr(importlib.import_module(module_name), func_name)
    return handler


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        args = parser.parse_args([*(argv if argv is not None else sys.argv[1:]), "run"])
    try:
        path = resolve_config_path(args.config)
        config = load_config(path, overrides=_overrides(args), require_file=bool(args.config))
    except ConfigError as exc:
        print(f"wallboard: configuration error: {exc}", file=sys.stderr)
        return 2
    from wallboard.logsetup import setup_logging

    setup_logging(config.log, console=True)
    return resolve_handler(args.handler)(args, config)
