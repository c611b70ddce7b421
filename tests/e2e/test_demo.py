"""`wallboard demo` as a real process on a virtual X screen: it comes up, shows live data, and stops cleanly."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .conftest import XServer, start_board

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ORANGE = (0xE6, 0x9F, 0x00)  # genuine calls, watch status
GREEN = (0x00, 0x9E, 0x73)  # LIVE, on target
YELLOW = (0xF0, 0xE4, 0x42)  # the SIMULASI watermark and the simulated streams' words
DARK = (0x0B, 0x0E, 0x13)  # the wall background


def share_near(image: Image.Image, colour: tuple[int, int, int], box: tuple[int, int, int, int]) -> float:
    region = np.asarray(image.crop(box).convert("RGB"), dtype=int)
    distance = np.abs(region - np.array(colour)).sum(axis=2)
    return float((distance < 60).mean())


WHITE = (0xF2, 0xF5, 0xF8)  # map labels and legend text


# Both ways of compositing the map page must put it on the wall: this machine has no GPU, so "gpu" runs on Mesa's
# emulated OpenGL and "software" (what "auto" picks here) on Chromium's and Qt Quick's CPU raster paths.
@pytest.mark.parametrize("rendering", ["software", "gpu"])
def test_demo_comes_up_with_live_data_and_stops_cleanly(xserver: XServer, tmp_path: Path, rendering: str) -> None:
    args = ["demo", "--speed", "5", "--lang", "en", "--set", f"map.rendering={rendering}"]
    board = start_board(args, tmp_path, xserver.display)
    try:
        log = board.wait_for_log("board live:", timeout=120)
        assert "map loaded" in log
        assert f"map rendering: {rendering}" in log
        assert "Traceback" not in log
        time.sleep(3)  # let the first frames after the live data be painted
        shot = xserver.screenshot(tmp_path / "demo.png")
        image = Image.open(shot)
        assert image.size == (xserver.width, xserver.height)
        w, h = image.size
        colours = len(np.unique(np.asarray(image.convert("RGB").resize((480, 270))).reshape(-1, 3), axis=0))
        assert colours > 500, "a real board, not an empty or error screen"
        assert share_near(image, DARK, (0, 0, w, h)) > 0.2, "the dark wall theme is on screen"
        left, right = (0, h // 10, w // 2, h), (w // 2, h // 10, w, h)
        banner = (0, 0, w, h // 6)
        assert share_near(image, YELLOW, banner) > 0.05, "the simulator's watermark (SIMULATION) across the wall"
        assert share_near(image, ORANGE, left) > 0.001, "the volume chart shows genuine calls"
        assert share_near(image, ORANGE, right) + share_near(image, GREEN, right) > 0.002, "gauges and units"
        map_box = (w // 2, h // 10, w, h // 2)
        white = share_near(image, WHITE, map_box)
        assert 0.002 < white < 0.3, f"the map page is painted into the window (labels, legend): {white:.4f}"
    finally:
        code = board.stop()
    assert code == 0
    assert "wallboard stopped" in board.log_text()
