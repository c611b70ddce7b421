from __future__ import annotations

from collections.abc import Iterator

import pytest

from wallboard.sim.server import SimServer

START = 1_795_300_000.0  # 2026-11-22 in the afternoon, WITA


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    """A simulator stepped by hand (speed 0): deterministic, no sleeping."""
    server = SimServer(region="kaltim", seed=7, speed=0, history_hours=3, start_time=START, token="s3cret-token")
    server.start()
    server.advance(900)
    yield server
    server.stop()
