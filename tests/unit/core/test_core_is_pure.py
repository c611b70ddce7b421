"""wallboard.core must import no Qt and do no I/O: it is the plain-Python heart every other package builds on."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import wallboard.core

CORE_DIR = Path(wallboard.core.__file__).parent
FORBIDDEN_MODULES = (
    "PySide6", "PyQt5", "PyQt6", "pyqtgraph", "folium", "qasync", "requests", "urllib", "http", "socket",
    "sqlite3", "wallboard.ui", "wallboard.feed", "wallboard.sim", "wallboard.store", "wallboard.commands",
    "wallboard.resources", "platformdirs", "keyring", "os", "pathlib", "shutil", "subprocess",
)  # fmt: skip
FORBIDDEN_CALLS = ("open", "input", "print")


def _core_sources() -> list[Path]:
    return sorted(CORE_DIR.glob("*.py"))


def test_core_modules_import_nothing_from_qt_io_or_outer_packages() -> None:
    offences = []
    for path in _core_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN_MODULES):
                    offences.append(f"{path.name}:{node.lineno} imports {name}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
                offences.append(f"{path.name}:{node.lineno} calls {node.func.id}()")
    assert offences == []


def test_core_imports_with_qt_blocked() -> None:
    """Import every core module in a fresh interpreter where importing Qt or requests raises."""
    modules = [f"wallboard.core.{m.name}" for m in pkgutil.iter_modules([str(CORE_DIR)])]
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'requests', 'folium', 'sqlite3'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for m in {modules!r}:\n"
        "    __import__(m)\n"
        "print('ok', len(sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")
    assert len(modules) >= 6
