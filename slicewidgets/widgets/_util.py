"""Helpers shared by the widgets: error display, SliceSet event fan-out, atomic writes
(``atomic_write`` is the session's, :func:`slicewidgets.slicing.session.atomic_write`)."""

from __future__ import annotations

import functools
import html
import logging
import traceback
import weakref
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from typing import Any

import ipywidgets as widgets

from slicewidgets.slicing.session import atomic_write
from slicewidgets.widgets import _style

__all__ = ["SliceSetHub", "WidgetBase", "atomic_write", "escape", "hold", "pre"]

logger = logging.getLogger("slicewidgets.widgets")

Events = list[tuple[str, "str | None"]]


def escape(value: Any) -> str:
    """``html.escape`` of ``str(value)`` (quotes included, safe in attributes)."""
    return html.escape(str(value), quote=True)


@contextmanager
def hold(*parts: widgets.Widget) -> Iterator[None]:
    """``hold_sync()`` of each widget: every widget sends its changed traits as one message
    at the end of the block (``hold_sync`` batches the traits of *its own* widget only, so
    holding a parent batches nothing of its children)."""
    with ExitStack() as stack:
        for part in parts:
            stack.enter_context(part.hold_sync())
        yield


def pre(text: str, cls: str = "") -> str:
    """An escaped ``<pre>`` block."""
    attr = f' class="{cls}"' if cls else ""
    return f"<pre{attr}>{escape(text)}</pre>"


class SliceSetHub:
    """Fans the events of one :class:`~slicewidgets.slicing.SliceSet` out to its widgets.

    Every widget of a studio subscribes here rather than on the SliceSet directly, so that a
    batch of changes (an editor Apply that adds 50 SFs) reaches each widget as *one* call with
    the list of events, inside :meth:`hold`. Callbacks receive ``[(event, name), ...]``.
    """

    _hubs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __init__(self, slice_set: Any) -> None:
        self._callbacks: list[Callable[[Events], None]] = []
        self._pending: Events = []
        self._depth = 0
        slice_set.observe(self._on_event)

    @classmethod
    def of(cls, slice_set: Any) -> SliceSetHub:
        """The hub of ``slice_set`` (created on first use)."""
        hub = cls._hubs.get(slice_set)
        if hub is None:
            hub = cls._hubs[slice_set] = cls(slice_set)
        return hub

    def subscribe(self, callback: Callable[[Events], None]) -> None:
        self._callbacks.append(callback)

    def unsubscribe(self, callback: Callable[[Events], None]) -> None:
        self._callbacks.remove(callback)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Collect events and deliver them once at the end of the block."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0 and self._pending:
                events, self._pending = self._pending, []
                self._dispatch(events)

    def _on_event(self, event: str, name: str | None) -> None:
        if self._depth:
            self._pending.append((event, name))
        else:
            self._dispatch([(event, name)])

    def _dispatch(self, events: Events) -> None:
        for callback in list(self._callbacks):
            callback(events)


class WidgetBase(widgets.VBox):
    """A VBox with an error area and a guard that shows a handler's exception in it.

    ipywidgets swallows exceptions raised in callbacks (they end up in the log, or nowhere);
    every handler of our widgets runs through :meth:`_guard`, which shows the error in
    :attr:`error` and keeps it in :attr:`last_exception`, so nothing fails silently and no
    error ever reaches the kernel's event loop.
    """

    _error_class = _style.ERROR_BOX

    def _subscribe(self, slice_set: Any, callback: Callable[[Events], None]) -> None:
        """Listen to ``slice_set``'s events until :meth:`close`."""
        hub = SliceSetHub.of(slice_set)
        hub.subscribe(callback)
        subs = self.__dict__.setdefault("_subscriptions", [])
        subs.append((hub, callback))

    def close(self) -> None:
        """Release the SliceSet subscriptions, then close the widget and its children."""
        for hub, callback in self.__dict__.pop("_subscriptions", []):
            with suppress(ValueError):
                hub.unsubscribe(callback)
        for child in self.children:
            child.close()
        super().close()

    def _init_error(self) -> widgets.HTML:
        self.error = widgets.HTML("")
        self.error.add_class(self._error_class)
        self.last_exception: BaseException | None = None
        return self.error

    def _clear_error(self) -> None:
        if self.error.value:
            self.error.value = ""
        self.remove_class(_style.ERROR_STATE)

    def _show_exception(self, exc: BaseException, what: str = "") -> None:
        self.last_exception = exc
        if isinstance(exc, KeyboardInterrupt):
            text = f"Interrupted{' while ' + what if what else ''}; the widget is still usable."
        else:
            tb = traceback.extract_tb(exc.__traceback__)
            where = f" ({tb[-1].filename}:{tb[-1].lineno})" if tb else ""
            prefix = f"Error while {what}: " if what else "Error: "
            text = f"{prefix}{type(exc).__name__}: {exc}{where}"
        self.error.value = pre(text)
        self.add_class(_style.ERROR_STATE)
        logger.debug("widget handler failed", exc_info=exc)

    def _guard(self, fn: Callable[..., Any], what: str = "") -> Callable[..., Any]:
        """Wrap a handler: exceptions (and Ctrl-C) are shown in the widget, not raised."""

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except (Exception, KeyboardInterrupt) as exc:
                self._show_exception(exc, what)
                return None

        return wrapper
