"""Choosing how the map is composited: OpenGL where a real GPU renders, the CPU raster path where OpenGL is emulated."""

from __future__ import annotations

import os

import pytest

from wallboard.ui.runtime import add_chromium_flags, choose_rendering, is_software_gl


@pytest.mark.parametrize(
    ("renderer", "software"),
    [
        ("llvmpipe (LLVM 15.0.6, 256 bits)", True),  # Mesa without a GPU: this machine
        ("softpipe", True),
        ("Google SwiftShader", True),
        ("GDI Generic", True),  # Windows without a driver
        (None, True),  # no OpenGL at all
        ("Mesa Intel(R) UHD Graphics 620 (KBL GT2)", False),
        ("NVIDIA GeForce GTX 1650/PCIe/SSE2", False),
        ("AMD Radeon Graphics (radeonsi, renoir, LLVM 15.0.6, DRM 3.49)", False),  # "LLVM" alone is not llvmpipe
    ],
)
def test_emulated_opengl_is_recognised(renderer: str | None, software: bool) -> None:
    assert is_software_gl(renderer) is software


@pytest.mark.parametrize(
    ("setting", "renderer", "expected"),
    [
        ("auto", "Mesa Intel(R) UHD Graphics 620", "gpu"),
        ("auto", "llvmpipe (LLVM 15.0.6, 256 bits)", "software"),
        ("auto", None, "software"),
        ("gpu", None, "gpu"),  # an operator who knows better wins
        ("software", "NVIDIA GeForce GTX 1650", "software"),
    ],
)
def test_choose_rendering(setting: str, renderer: str | None, expected: str) -> None:
    assert choose_rendering(setting, renderer) == expected


def test_chromium_flags_are_added_once_and_keep_the_operators(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox --lang=id")
    add_chromium_flags("--disable-gpu", "--no-sandbox")
    add_chromium_flags("--disable-gpu")
    assert os.environ["QTWEBENGINE_CHROMIUM_FLAGS"].split() == ["--no-sandbox", "--lang=id", "--disable-gpu"]
