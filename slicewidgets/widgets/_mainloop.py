"""Hand work from a background thread to the kernel's main loop.

Widgets change their traits only on the thread that runs the kernel's event loop, so that
their messages to the browser keep their order and never race the user's own code. A worker
thread (an Apply, a training run) calls :meth:`MainLoop.call`: inside a kernel the function
runs soon on the loop (``call_soon_threadsafe``); without a running loop (plain Python,
headless tests) nobody else could run it, so it runs at once in the calling thread.
:class:`BackgroundTask` is the one worker a widget runs at a time (the editor's Apply, the
suggest panel's search): start, throttled progress, cancel, wait, busy state.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from slicewidgets.slicing.worker import CancellableThread, Cancelled

__all__ = ["BackgroundTask", "Cancelled", "Debouncer", "MainLoop"]

logger = logging.getLogger("slicewidgets.widgets")


class MainLoop:
    """The event loop of the thread that creates it (if one is running)."""

    def __init__(self) -> None:
        try:
            self.loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = None
        self.thread = threading.current_thread()

    @property
    def live(self) -> bool:
        """A running loop will run the calls by itself."""
        return self.loop is not None and self.loop.is_running() and not self.loop.is_closed()

    def call(self, fn: Callable[[], Any]) -> None:
        """Run ``fn()`` on the main loop; without a running loop, run it now, here."""
        if self.live:
            assert self.loop is not None
            self.loop.call_soon_threadsafe(_safe, fn)
        else:
            _safe(fn)

    def drain(self) -> None:
        """Nothing to do: without a running loop, calls run at once (kept for callers)."""


def _safe(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception:  # the callers show their own errors; never kill the loop
        logger.exception("slicewidgets: a UI update failed")


class Debouncer:
    """Coalesce bursts of calls to ``fn`` (a table refresh) on the kernel's main loop.

    The first call runs ``fn`` at once (no added latency for a single click); calls that
    come within ``interval`` seconds after a run ends -- five checkboxes clicked in a row,
    each a message to the kernel -- are merged into **one** trailing run at the end of the
    interval. Without a running loop (plain Python, headless tests) every call runs at once.
    :meth:`flush` runs a pending call now (readers of the result call it first, so they never
    see a stale result).

    Examples
    --------
    >>> calls = []
    >>> d = Debouncer(lambda: calls.append(1))
    >>> d(); d()  # no running loop: each call runs
    >>> len(calls), d.pending
    (2, False)
    """

    def __init__(self, fn: Callable[[], Any], interval: float = 0.1) -> None:
        self.fn = fn
        self.interval = interval
        self.pending = False
        self.runs = 0
        self._main = MainLoop()
        self._handle: asyncio.TimerHandle | None = None
        self._last_end = -math.inf

    def __call__(self) -> None:
        main = self._main
        if not main.live:
            self._run()
            return
        if threading.current_thread() is not main.thread:  # never run fn off the loop
            main.call(self)
            return
        now = time.monotonic()
        if self._handle is None and now - self._last_end >= self.interval:
            self._run()
            return
        self.pending = True
        if self._handle is None:
            assert main.loop is not None
            delay = max(0.0, self._last_end + self.interval - now)
            self._handle = main.loop.call_later(delay, _safe, self._trailing)

    def flush(self) -> None:
        """Run the pending call now (nothing if none is pending)."""
        if self.pending:
            self._run()

    def cancel(self) -> None:
        """Forget the pending call."""
        self.pending = False
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _trailing(self) -> None:
        self._handle = None
        if self.pending:
            self._run()

    def _run(self) -> None:
        self.cancel()
        self.runs += 1
        try:
            self.fn()
        finally:
            self._last_end = time.monotonic()


#: A worker's progress callback: ``progress(done, total, label)``.
Progress = Callable[[int, int, str], None]


class BackgroundTask:
    """The one worker thread a widget runs at a time, its UI updates on the main loop.

    :meth:`start` marks the widget busy (``set_busy(True)``), runs ``work(progress)`` in a
    :class:`~slicewidgets.slicing.worker.CancellableThread` and hands every progress report
    (at most one each ``throttle`` seconds, plus the first and the last) and the end of the
    run to the kernel's main loop: ``on_done(thread)`` (``thread.result`` or
    ``thread.error``, a :class:`Cancelled` after :meth:`cancel`), then ``set_busy(False)``.

    Examples
    --------
    >>> states, seen = [], []
    >>> task = BackgroundTask("demo", set_busy=states.append)
    >>> task.start(lambda progress: 6 * 7, on_progress=print,
    ...            on_done=lambda t: seen.append(t.result))
    >>> task.wait(5), seen, states
    (True, [42], [True, False])
    """

    def __init__(self, name: str, set_busy: Callable[[bool], None], *,
                 throttle: float = 0.1) -> None:
        self.name = name
        self.set_busy = set_busy
        self.throttle = throttle
        self.thread: CancellableThread | None = None
        self.loop: MainLoop | None = None

    @property
    def running(self) -> bool:
        """A worker is running (or its result is not shown yet)."""
        return self.thread is not None

    def start(self, work: Callable[[Progress], Any], *, on_progress: Progress,
              on_done: Callable[[CancellableThread], None]) -> None:
        """Run ``work(progress)`` in a worker thread (the caller checks :attr:`running`)."""
        loop = self.loop = MainLoop()
        last = [0.0]
        throttle = self.throttle

        def progress(done: int, total: int, label: str) -> None:
            now = time.perf_counter()
            if done and done < total and now - last[0] < throttle:
                return
            last[0] = now
            loop.call(lambda: on_progress(done, total, label))

        def finished(thread: CancellableThread) -> None:
            loop.call(lambda: self._finish(thread, on_done))

        self.set_busy(True)
        self.thread = CancellableThread(lambda: work(progress), name=self.name,
                                        on_done=finished)
        self.thread.start()

    def _finish(self, thread: CancellableThread,
                on_done: Callable[[CancellableThread], None]) -> None:
        try:
            on_done(thread)
        finally:
            self.thread = None
            self.set_busy(False)

    def cancel(self, timeout: float) -> bool:
        """Stop the worker (``True`` if none runs or it stopped within ``timeout`` s)."""
        thread = self.thread
        return True if thread is None else thread.cancel(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the worker and show its result (``True`` if none is running then)."""
        thread = self.thread
        if thread is not None:
            thread.join(timeout)
        if self.loop is not None:
            self.loop.drain()
        return self.thread is None
