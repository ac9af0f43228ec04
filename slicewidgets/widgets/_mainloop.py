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
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["MainLoop"]

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
