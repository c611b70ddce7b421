"""`wallboard check-api URL`: check a dispatch API against the contract (the logic is wallboard.feed.conformance)."""

from __future__ import annotations

import argparse
import os
import sys

from wallboard.commands.base import Command
from wallboard.config import Config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", nargs="?", metavar="URL", help="the API's base URL (default: api.url)")
    parser.add_argument(
        "--token", help="bearer token (default: the environment variable named by api.token_env); with a token the "
        "checker also checks that a missing or wrong one is refused with 401",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="machine-readable JSON report")
    parser.add_argument("--polda", help="ask with polda=ID, as a board of that Polda does (default: no filter)")
    parser.add_argument("--limit", type=int, default=500, help="page size asked for while paging (default 500)")
    parser.add_argument("--max-pages", type=int, default=2000, help="give up paging a stream after this many pages")
    parser.add_argument("--skew", type=float, default=60.0, help="largest server clock skew accepted, seconds")


def run(args: argparse.Namespace, config: Config) -> int:
    """0 if the API conforms, 1 if a check failed, 2 if it could not be checked at all."""
    from wallboard.feed.conformance import check_api

    url = args.url or config.api.url
    if not url:
        print("wallboard check-api: give the API's URL (or set api.url)", file=sys.stderr)
        return 2
    if not 1 <= args.limit <= 5000:
        print(f"wallboard check-api: --limit must be 1 to 5000, not {args.limit}", file=sys.stderr)
        return 2
    token = args.token or os.environ.get(config.api.token_env) or None
    try:
        report = check_api(
            url, token, polda=args.polda, limit=args.limit, max_pages=args.max_pages, skew_tolerance_s=args.skew,
            timeout=(config.api.connect_timeout_s, config.api.read_timeout_s),
            verify=config.api.ca_bundle or True,
        )  # fmt: skip
    except ValueError as exc:
        print(f"wallboard check-api: {exc}", file=sys.stderr)
        return 2
    print(report.to_json() if args.json else report.to_text())
    if report.requests <= 1 and not report.passed:
        return 2
    return 0 if report.passed else 1


COMMAND = Command("check-api", "check a dispatch API against the contract (for CAD vendors)", add_arguments, run)
