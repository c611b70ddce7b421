"""Choosing how the map is composited: OpenGL where a GPU exists, the CPU raster path where OpenGL would be emulated."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from wallboard.app import add_chromium_flags, choose_rendering, has_gpu_device


@pytest.mark.parametrize(
    ("setting", "gpu", "expected"),
    [
        ("auto", True, "gpu"),
        ("auto", False, "software"),
        ("gpu", False, "gpu"),  # an operator who knows better (e.g. a GPU we cannot see) wins
        ("software", True, "software"),
    ],
)
def test_choose_rendering(setting: str, gpu: bool, expected: str) -> None:
    assert choose_rendering(setting, gpu) == expected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="render nodes are a Linux notion")
def test_gpu_device_is_a_render_node_or_card(tmp_path: Path) -> None:
    assert not has_gpu_device(tmp_path / "missing")
    dri = tmp_path / "dri"
    dri.mkdir()
    assert not has_gpu_device(dri)
    (dri / "renderD128").touch()
    assert has_gpu_device(dri)
    (dri / "renderD128").unlink()
    (dri / "card0").touch()
    assert has_gpu_device(dri)


def test_chromium_flags_are_added_once_and_keep_the_operators(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox --lang=id")
    add_chromium_flags("--disable-gpu", "--no-sandbox")
    add_chromium_flags("--disable-gpu")
    import os

    assert os.environ["QTWEBENGINE_CHROMIUM_FLAGS"].split() == ["--no-sandbox", "--lang=id", "--disable-gpu"]
