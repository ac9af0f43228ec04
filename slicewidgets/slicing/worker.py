"""Run user code in a worker thread that can be cancelled, even inside an endless loop.

Cancelling raises :class:`Cancelled` *inside* the worker thread
(``PyThreadState_SetAsyncExc``): pure-Python code stops at its next bytecode, within
milliseconds. Code stuck in one long C call (a huge NumPy operation) stops when that call
returns. :class:`Cancelled` derives from ``BaseException`` so that ``except Exception`` in user
code (and the appliers' fault tolerance) lets it through; a bare ``except:`` that swallows it
is defeated by raising it again every few milliseconds until the thread ends.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["Cancelled", "CancellableThread"]


class Cancelled(BaseException):
    """Raised inside a worker thread by :meth:`CancellableThread.cancel`."""


def _async_raise(thread_id: int, exc_type: type[BaseException] | None) -> int:
    return ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc_type) if exc_type else None)


class CancellableThread(threading.Thread):
    """A daemon thread running ``target()``; :attr:`result` or :attr:`error` when done.

    Examples
    --------
    >>> t = CancellableThread(lambda: sum(range(10)))
    >>> t.start(); t.join()
    >>> t.result
    45
    >>> def forever():
    ...     while True:
    ...         pass
    >>> t = CancellableThread(forever); t.start()
    >>> t.cancel(timeout=5.0)
    True
    >>> isinstance(t.error, Cancelled)
    True
    """

    def __init__(self, target: Callable[[], Any], *, name: str = "slicewidgets-worker",
                 on_done: Callable[[CancellableThread], None] | None = None) -> None:
        super().__init__(name=name, daemon=True)
        self._fn = target
        self._on_done = on_done
        self.result: Any = None
        self.error: BaseException | None = None
        self.cancel_requested = False
        self._guard = threading.Lock()  # no async exception once the target has returned
        self._finished = False

    def run(self) -> None:
        try:
            try:
                self.result = self._fn()
            except BaseException as err:  # noqa: BLE001 - handed to the caller, never lost
                self.error = err
            finally:
                with self._guard:
                    self._finished = True
        except Cancelled as err:  # a late cancel landed in the clauses above
            if self.error is None:
                self.error = err
            self._finished = True
        if self._on_done is not None:
            self._on_done(self)

    def cancel(self, timeout: float = 1.0) -> bool:
        """Stop the target; ``True`` if the thread ended within ``timeout`` seconds."""
        self.cancel_requested = True
        deadline = time.monotonic() + timeout
        while self.is_alive() and self.ident is not None:
            with self._guard:
                if self._finished:
                    break
                _async_raise(self.ident, Cancelled)
            self.join(0.02)
            if time.monotonic() > deadline:
                break
        self.join(max(0.0, deadline - time.monotonic()))
        return not self.is_alive()
