"""Test harness: offscreen Qt, isolated user directories, no network but loopback."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

# Set before anything imports Qt. QtWebEngine as root needs --no-sandbox; no GPU here.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox --disable-gpu")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
# Keep the developer's real config, data and logs out of every test run.
_isolated_home = Path(tempfile.mkdtemp(prefix="wallboard-tests-"))
for _var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
    os.environ[_var] = str(_isolated_home / _var.lower())
os.environ.pop("WALLBOARD_CONFIG", None)
os.environ.pop("WALLBOARD_API_TOKEN", None)
os.environ.setdefault("XDG_RUNTIME_DIR", str(_isolated_home / "runtime"))
Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, exist_ok=True)


@pytest.fixture
def loop(qapp: Any) -> Iterator[Any]:
    """A qasync event loop on the test QApplication, as the board runs its hub.

    A stopped hub does not wait for requests under way (the GUI must not block), and such a request's future holds
    the last reference to the hub. Were it dropped on that worker thread, or collected there by a GC pass, the hub's
    QTimer would be destroyed off the GUI thread: Qt cannot unregister a timer from another thread, and the next
    test's event loop fired the dangling timer into freed memory (a segfault in one run in four). So the workers
    finish and the garbage is collected here, on the GUI thread, before the next test.
    """
    import asyncio

    import qasync

    from wallboard.feed.tasks import settle

    event_loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(event_loop)
    yield event_loop
    event_loop.close()
    asyncio.set_event_loop(None)
    settle()  # the board's own rule: workers end, garbage is collected on the GUI thread (wallboard.feed.tasks)


@pytest.fixture
def tmp_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh set of user directories for one test."""
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    yield tmp_path


def _register_map_scheme() -> None:
    """The wallboard: URL scheme must be declared before the QApplication exists (pytest-qt makes it lazily)."""
    try:
        from wallboard.ui.map import register_schemes
    except ImportError:  # QtWebEngine missing: the map tests will say so
        return
    register_schemes()


_register_map_scheme()


@pytest.fixture(scope="session", autouse=True)
def _release_web_engine_at_the_end() -> Iterator[None]:
    """Delete every page before the shared web profile, and the profile before the QApplication: QtWebEngine
    segfaults at exit otherwise ("Release of profile requested but WebEnginePage still not deleted")."""
    yield
    try:
        from PySide6.QtCore import QCoreApplication, QEvent
        from PySide6.QtWidgets import QApplication

        from wallboard.ui.map import release_shared_profile
    except ImportError:
        return
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    for widget in app.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()
    release_shared_profile()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


class HostileOutputs:
    """Output paths no command may write: a link to a file that is not ours, a dangling link, a FIFO, a directory,
    a device and a file that is not ours. ``untouched()`` says whether everything around them is as it was (the
    victim's content, nothing created where the dangling link points, no temporary file left behind)."""

    #: Each kind of path, and what the refusal says about it.
    REASONS: ClassVar[dict[str, str]] = {
        "link": "is a symbolic link",
        "dangling-link": "is a symbolic link",
        "fifo": "is a FIFO",
        "directory": "is a directory",
        "device": "is a device",
        "not-ours": "exists and was not written by wallboard",
    }

    def __init__(self, directory: Path, suffix: str) -> None:
        self.directory = directory
        self.victim = directory / f"victim{suffix}"
        self.victim.write_bytes(b"someone else's file\n")
        self.nowhere = directory / "nowhere" / f"created{suffix}"
        self.paths = {
            "link": directory / f"link{suffix}",
            "dangling-link": directory / f"dangling{suffix}",
            "fifo": directory / f"fifo{suffix}",
            "directory": directory / f"directory{suffix}",
            "device": Path("/dev/null"),
            "not-ours": self.victim,
        }
        self.paths["link"].symlink_to(self.victim)
        self.paths["dangling-link"].symlink_to(self.nowhere)
        os.mkfifo(self.paths["fifo"])
        self.paths["directory"].mkdir()
        self._before = sorted(p.name for p in directory.iterdir())

    def untouched(self) -> bool:
        return (
            self.victim.read_bytes() == b"someone else's file\n"
            and not self.nowhere.parent.exists()
            and sorted(p.name for p in self.directory.iterdir()) == self._before
            and not any(self.paths["directory"].iterdir())
        )


@pytest.fixture
def hostile_outputs(tmp_path: Path) -> Any:
    """``hostile_outputs(suffix)``: a fresh :class:`HostileOutputs` in its own directory under tmp_path."""

    def make(suffix: str) -> HostileOutputs:
        directory = Path(tempfile.mkdtemp(prefix="hostile-", dir=tmp_path))
        return HostileOutputs(directory, suffix)

    return make
