"""The one way off the GUI thread: blocking work runs on a worker thread, its result comes back on the GUI thread.

The rule (as in MusicBrainz Picard's ``run_task``/``to_main``): never touch a widget from a worker, never block the
GUI thread on the network or the disk. Under qasync the asyncio loop *is* the Qt event loop on the GUI thread, so
a coroutine that awaits :meth:`Workers.run` resumes on the GUI thread, and :meth:`Workers.run_task`'s callback is
posted there with ``call_soon_threadsafe``.

Garbage belongs to the GUI thread too: a Qt object collected by a cyclic-GC pass that happens to start on a worker is
destroyed off its thread, where Qt cannot unregister its timers (a segfault later). The board therefore runs the
collector on a GUI-thread timer only (``wallboard.ui.runtime.keep_memory_bounded``), and :func:`settle` ends a
session's workers and collects on the calling (GUI) thread — what the tests do between two event loops.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
WORKER_PREFIX = "feed"


class Workers:
    """A small pool for blocking calls (HTTP requests, SQLite reads), with results delivered on the GUI thread."""

    def __init__(self, workers: int = 4, name_prefix: str = WORKER_PREFIX) -> None:
        self._pool: ThreadPoolExecutor | None = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name_prefix)
        self._inflight: set[Future[Any]] = set()

    @property
    def busy(self) -> int:
        """Calls submitted and not finished."""
        # A copy (atomic under the GIL): a worker's done-callback discards from the set while we count.
        return sum(1 for f in self._inflight.copy() if not f.done())

    def _submit(self, func: Callable[..., T], *args: Any) -> Future[T]:
        if self._pool is None:
            raise RuntimeError("the workers were shut down")
        future = self._pool.submit(func, *args)
        self._inflight.add(future)
        future.add_done_callback(self._inflight.discard)
        return future

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        """``func(*args)`` on a worker; the awaiting coroutine resumes on the loop's (the GUI) thread.
        Raises RuntimeError once shut down, and whatever ``func`` raised."""
        return await asyncio.wrap_future(self._submit(func, *args), loop=asyncio.get_running_loop())

    def run_task(self, func: Callable[[], T], next_func: Callable[[T | None, BaseException | None], None]) -> None:
        """``func()`` on a worker, then ``next_func(result, error)`` on the GUI thread (the running asyncio loop's)."""
        loop = asyncio.get_event_loop()

        def done(future: Future[T]) -> None:
            error = future.exception()
            loop.call_soon_threadsafe(next_func, None if error else future.result(), error)

        self._submit(func).add_done_callback(done)

    async def drain(self, timeout_s: float, poll_s: float = 0.02) -> bool:
        """Wait (without blocking the loop) until no call is running, at most ``timeout_s``. True if none is."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self.busy and loop.time() < deadline:
            await asyncio.sleep(poll_s)
        return not self.busy

    def shutdown(self) -> None:
        """Stop taking work; calls under way end at their own timeouts (the GUI never waits for them)."""
        if self._pool is None:
            return
        if self.busy:
            log.info("stopping with %d call(s) still under way; they end at their timeouts", self.busy)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None


def settle(prefix: str = WORKER_PREFIX, timeout_s: float = 5.0) -> None:
    """Let the workers of a finished session end, then collect garbage here, on the GUI thread (see module doc)."""
    for thread in threading.enumerate():
        if thread.name.startswith(prefix) and thread is not threading.current_thread():
            thread.join(timeout=timeout_s)
    gc.collect()
