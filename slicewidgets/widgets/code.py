"""``CodeEditor``: a CodeMirror 6 Python editor as a Jupyter widget (anywidget).

Python highlighting in the notebook theme's colours, Tab/Shift-Tab indentation,
auto-indent, bracket matching and closing, line numbers, undo/redo, search, the failing
lines marked with their messages, completion of ``x.<column>`` from :attr:`completions`, and
Shift+Enter calling :meth:`on_apply` handlers. No key typed in the editor reaches the
notebook's shortcuts.

The JavaScript is bundled (``slicewidgets/widgets/_frontend``: ``npm ci && npm run build``)
into ``static/editor.js``, which ships inside the package: using the widget needs no Node.js
and no network.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

__all__ = ["CodeEditor", "BUNDLE"]

#: the bundled front-end code (built from ``_frontend/src``)
BUNDLE = Path(__file__).parent / "static" / "editor.js"

CSS = """
.sw-code-editor { width: 100%; min-width: 0; }
.sw-code-editor .cm-editor { width: 100%; }
.sw-code-editor.sw-code-busy .cm-editor { opacity: 0.75; }
"""


class CodeEditor(anywidget.AnyWidget):
    """A Python code editor widget; :attr:`value` is the text.

    Parameters
    ----------
    value
        The text.
    completions
        Names offered after ``<name>.`` (the studio passes the frame's columns).
    height
        Maximum CSS height of the editor (it grows with the text, then scrolls).

    Attributes
    ----------
    errors : dict of str to str
        ``{"<line>": message}``: lines marked as failing (the editor sets them after Apply).
    busy : bool
        Shown dimmed while an Apply runs.

    Examples
    --------
    >>> editor = CodeEditor(value="x = 1\\n", completions=["text", "author"])
    >>> calls = []
    >>> editor.on_apply(lambda: calls.append(editor.value))
    >>> editor._handle_custom_msg({"type": "apply"}, [])  # what Shift+Enter sends
    >>> calls
    ['x = 1\\n']
    """

    _esm = BUNDLE
    _css = CSS

    value = traitlets.Unicode("").tag(sync=True)
    completions = traitlets.List(traitlets.Unicode()).tag(sync=True)
    errors = traitlets.Dict(value_trait=traitlets.Unicode()).tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    height = traitlets.Unicode("380px").tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._apply_handlers: list[Callable[[], Any]] = []
        self.on_msg(self._on_frontend_msg)

    def on_apply(self, callback: Callable[[], Any]) -> None:
        """Call ``callback()`` when the user presses Shift+Enter in the editor."""
        self._apply_handlers.append(callback)

    def _on_frontend_msg(self, widget: Any, content: Any, buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "apply":
            for callback in list(self._apply_handlers):
                callback()
