"""`wallboard simulate`: the simulated dispatch API as a standalone HTTP server."""

from __future__ import annotations

import argparse
import time

from wallboard.commands.base import Command, add_demo_options
from wallboard.commands.wiring import simulator
from wallboard.config import Config


def add_arguments(p: argparse.ArgumentParser) -> None:
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
    add_demo_options(p)


def run(args: argparse.Namespace, config: Config) -> int:
    try:
        server = simulator(config, host=args.host, port=args.port, token=args.token, faults=tuple(args.fault))
    except (ValueError, OSError) as exc:
        print(f"wallboard simulate: {exc}")
        return 2
    server.start()
    print(f"simulated dispatch API ({config.demo.region}) at {server.url}/api/v1/  (Ctrl+C to stop)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


COMMAND = Command("simulate", "run the simulated dispatch API as a standalone HTTP server", add_arguments, run)
