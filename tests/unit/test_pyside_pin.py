"""Regression guard for the PySide6 pin (pyproject.toml).

PySide6 6.12.0 on Python 3.11 aborts the process (Fatal Python error: none_dealloc, exit 134) after a few thousand
calls of Qt methods that return None. A kiosk makes that many calls in minutes, so the pins must avoid that pairing.
The loop runs in a subprocess because the failure kills the interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import PySide6

LOOP = textwrap.dedent(
    """
    from PySide6.QtWidgets import QApplication, QLabel
    app = QApplication([])
    label = QLabel()
    for i in range(100_000):
        label.setText(str(i))
    print("survived", label.text())
    """
)


def test_installed_pyside6_is_not_the_aborting_combination() -> None:
    version = tuple(int(p) for p in PySide6.__version__.split(".")[:3])
    assert not (sys.version_info[:2] == (3, 11) and version >= (6, 12, 0)), (
        f"PySide6 {PySide6.__version__} on Python 3.11 aborts after a few thousand void calls; pin 6.11.3"
    )


def test_hundred_thousand_void_qt_calls_do_not_abort_the_process() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", LOOP], env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
    assert "survived 99999" in result.stdout
