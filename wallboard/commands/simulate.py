"""`wallboard simulate`: serve the simulated dispatch API until interrupted."""

from __future__ import annotations

import argparse
import time

from wallboard.commands.wiring import simulator
from wallboard.config import Config


def run(args: argparse.Namespace, config: Config) -> int:
    try:
        server = simulator(config, port=args.port, host=args.host, token=args.token, faults=tuple(args.fault))
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
