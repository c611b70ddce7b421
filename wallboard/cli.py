"""The ``wallboard`` command: one entry point, a subcommand per job (``wallboard.commands``).

Options common to every subcommand (configuration file, ``--set``, language, log level) are parsed here and turned
into the configuration; then the subcommand's ``run(args, config)`` gives the exit code. Command modules import Qt
only when they run, so ``wallboard metrics`` never loads it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from wallboard import __version__, commands
from wallboard.commands.base import Runner
from wallboard.config import ConfigError, load_config, option_choices, resolve_config_path

log = logging.getLogger(__name__)


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
        common.add_argument(
            "--lang", choices=option_choices("board", "lang"), default=none, help="UI language (board.lang)"
        )
        common.add_argument(
            "--log-level", choices=option_choices("log", "level"), default=none, help="log level (log.level)"
        )
        return common

    parser = argparse.ArgumentParser(
        prog="wallboard",
        description="Polri 110 command-center wallboard. Without a subcommand: 'run' (the supervisor board).",
        parents=[common_options(suppress=False)],
    )
    parser.add_argument("--version", action="version", version=f"wallboard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    for command in commands.ALL:
        p = sub.add_parser(command.name, help=command.help, description=command.help,
                           parents=[common_options(suppress=True)])  # fmt: skip
        command.add_arguments(p)
        p.set_defaults(command_run=command.run)
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
        "polda": "board.polda_id",
    }
    if getattr(args, "command", None) == "replay":
        flag_map.pop("speed")
    for attr, key in flag_map.items():
        value = getattr(args, attr, None)
        if value is not None:
            out[key] = str(value)
    # `demo --polda jatim`: only the national simulator has Jawa Timur's Polres (kaltim simulates Kaltim alone).
    polda = getattr(args, "polda", None)
    if polda is not None:
        from wallboard.commands.wiring import resolve_polda

        try:
            polda = out["board.polda_id"] = resolve_polda(polda)
        except ValueError as exc:
            raise ConfigError(f"command line: --polda: {exc}") from exc
    if polda is not None and polda != "kaltim" and "demo.region" not in out:
        out["demo.region"] = "indonesia"
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command_run", None):
        args = parser.parse_args([*(argv if argv is not None else sys.argv[1:]), commands.DEFAULT.name])
    try:
        path = resolve_config_path(args.config)
        config = load_config(path, overrides=_overrides(args), require_file=bool(args.config))
    except ConfigError as exc:
        print(f"wallboard: configuration error: {exc}", file=sys.stderr)
        return 2
    from wallboard.logsetup import setup_logging

    setup_logging(config.log, console=True, kind=f"wallboard-{args.command or commands.DEFAULT.name}")
    from wallboard.commands.wiring import unknown_polda, with_board_zone

    problem = unknown_polda(config)
    # `config --check` reports it in its own words; a recording may carry its own reference (its own Polda).
    if problem and getattr(args, "command", None) != "config" and not getattr(args, "feed", None):
        print(f"wallboard: configuration error: {problem}", file=sys.stderr)
        return 2
    config = with_board_zone(config)
    run: Runner = args.command_run
    try:
        return run(args, config)
    except Exception as exc:
        if not _is_setup_error(exc):
            raise
        log.error("%s", exc)
        print(f"wallboard: {exc}", file=sys.stderr)
        return 2


def _is_setup_error(exc: Exception) -> bool:
    """A problem with what the operator set up (a token that cannot be sent, a CA bundle, the history database), as
    opposed to a bug: it is said in one line with exit status 2, not as a traceback. The feed and store modules are
    looked up only if the command loaded them (``wallboard metrics`` never imports requests)."""
    if isinstance(exc, ConfigError):
        return True
    for module_name, class_name in (("wallboard.feed.client", "FeedError"), ("wallboard.store.history", "StoreError")):
        cls = getattr(sys.modules.get(module_name), class_name, None)
        if isinstance(cls, type) and isinstance(exc, cls):
            return True
    return False
