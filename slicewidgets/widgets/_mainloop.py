"""Hand work from a background thread to the kernel's main loop.

Widgets change their traits only on the thread that runs the kernel's event loop, so that
their messages to the browser keep their order and never race the user's own code. A worker
thread (an Apply, a training run) calls :meth:`MainLoop.call`: inside a kernel the function
runs soon on the loop (``call_soon_threadsafe``); without a running loop (plain Python,
headless tests) nobody else could run it, so it runs at once in the calling thread.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["Debouncer", "MainLoop"]

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
