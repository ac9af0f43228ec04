"""``SFEditor``: write slicing functions in a code editor, apply them live, keep them on disk.

The editor is a view: everything it does -- running the code, diffing it against the
SliceSet, reporting errors with names and lines, keeping the file safe -- is done by
:class:`slicewidgets.slicing.session.SFCodeSession`, which can be driven without widgets.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import traitlets

from slicewidgets.slicing.incremental import SliceSet
from slicewidgets.slicing.session import (
    DEFAULT_CODE,
    MSG_UNWRITABLE,
    ApplyResult,
    FileState,
    Plan,
    SFCodeSession,
    default_namespace,
)
from slicewidgets.slicing.worker import CancellableThread
from slicewidgets.widgets import _style
from slicewidgets.widgets._mainloop import BackgroundTask, Cancelled
from slicewidgets.widgets._util import SliceSetHub, WidgetBase, escape, pre

__all__ = ["SFEditor", "ApplyResult"]

#: re-exported for the tests and for users of the previous module layout
__all__ += ["DEFAULT_CODE", "MSG_UNWRITABLE", "default_namespace"]


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _code_widget(value: str, columns: list[str], kind: str) -> widgets.DOMWidget:
    if kind == "codemirror":
        try:
            from slicewidgets.widgets.code import CodeEditor
        except ImportError:  # anywidget missing: the plain text area still works
            kind = "textarea"
        else:
            return CodeEditor(value=value, completions=columns)
    area = widgets.Textarea(value=value, rows=16,
                            layout=widgets.Layout(width="100%", height="260px"))
    return area


class SFEditor(WidgetBase):
    """A code editor for slicing functions, applied to a :class:`SliceSet` with one click.

    Apply runs the code in ``namespace`` and puts every :class:`SlicingFunction` it defines
    into the SliceSet (only new or edited ones are recomputed); SFs the code no longer
    defines are removed. Errors are shown inline with the SF's name and line (and the line is
    marked in the editor). **The code runs in the kernel**: do not put an editor in front of
    people whose code you would not run (see ``SliceStudio(editable=False)``).

    In a kernel, Apply runs in a worker thread: the notebook stays responsive, a progress
    bar shows which SF is being evaluated, and **Cancel** stops it (an endless loop too)
    within a second, leaving every slice as it was.

    The text is saved to ``path`` (atomically) as it changes. A file that exists is loaded but
    **not run** until Apply (``run_file=True`` runs it at once); a file changed on disk by
    someone else is never overwritten silently (see :attr:`conflict_box`).

    Parameters
    ----------
    slice_set
        The SliceSet the SFs go into (shared with the other widgets of a studio).
    namespace
        Where the code runs (default: the IPython user namespace, or a fresh one).
    path
        The ``.py`` file the code is kept in; ``"auto"``: ``<notebook>.sfs.py`` (one per
        notebook); ``None``: no file.
    autosave
        Save as the text changes.
    columns
        Columns offered in the keyword/regex form (default: the text columns of the data).
    run_file
        Run the file's code when the editor is created (opt-in).
    background
        Run Apply (button, Shift+Enter) in a worker thread; ``"auto"``: inside a kernel.
    code_widget
        ``"codemirror"`` (default: a CodeMirror 6 editor) or ``"textarea"``.

    Attributes
    ----------
    session : SFCodeSession
        The controller (text, file state, what the last Apply did).
    code : CodeEditor or ipywidgets.Textarea
        The code; ``code.value`` is the text.
    apply_button, cancel_button : ipywidgets.Button
    progress : ipywidgets.IntProgress
        SFs evaluated by the running Apply (shown while busy).
    error : ipywidgets.HTML
        Inline errors and warnings (empty when there is none).
    status : ipywidgets.HTML
    conflict_box : ipywidgets.VBox
        Shown when the file changed on disk: the other text, ``keep_mine_button`` and
        ``load_theirs_button``.
    form_kind, form_name, form_pattern, form_column, form_ignore_case, add_button
        The keyword/regex form.
    busy : bool (trait)
        An Apply is running.
    last_result : ApplyResult

    Examples
    --------
    >>> import pandas as pd
    >>> from slicewidgets.slicing import SliceSet
    >>> ss = SliceSet(pd.DataFrame({"text": ["check it out", "nice song"]}))
    >>> editor = SFEditor(ss, path=None, code_widget="textarea")
    >>> editor.code.value = "short = keyword_sf(['check'], name='check')"
    >>> editor.apply_button.click()
    >>> ss.sizes()
    {'check': 1}
    """

    busy = traitlets.Bool(False, read_only=True, help="An Apply is running.")
    applied_count = traitlets.Int(0, read_only=True, help="Applies finished so far.")

    def __init__(
        self,
        slice_set: SliceSet,
        namespace: MutableMapping[str, Any] | None = None,
        path: str | Path | None = "auto",
        autosave: bool = True,
        *,
        columns: list[str] | None = None,
        run_file: bool = False,
        background: bool | str = "auto",
        code_widget: str = "codemirror",
    ) -> None:
        super().__init__()
        self.slice_set = slice_set
        self._hub = SliceSetHub.of(slice_set)
        self.session = SFCodeSession(slice_set, namespace, path=path, autosave=autosave)
        self.background = _in_kernel() if background == "auto" else bool(background)
        self._task = BackgroundTask("slicewidgets-apply", self._set_busy)
        self._warned: set[str] = set()
        self._setting_text = False
        self.last_apply_s = 0.0

        df = slice_set.df
        all_columns = [str(c) for c in dict.fromkeys(df.columns)]
        self.code = _code_widget(self.session.text, all_columns, code_widget)
        self.code.add_class(_style.EDITOR_CODE)
        self.apply_button = widgets.Button(
            description="Apply", button_style="primary", icon="play",
            tooltip="Run the code and update the slices (Shift+Enter in the editor)",
            layout=widgets.Layout(width="auto"))
        self.apply_button.add_class(_style.EDITOR_APPLY)
        self.cancel_button = widgets.Button(
            description="Cancel", icon="stop", button_style="warning", disabled=True,
            tooltip="Stop the running Apply; the slices stay as they were",
            layout=widgets.Layout(width="auto", display="none"))
        self.cancel_button.add_class(_style.EDITOR_CANCEL)
        self.progress = widgets.IntProgress(value=0, min=0, max=1,
                                            layout=widgets.Layout(width="140px",
                                                                  display="none"))
        self.progress.add_class(_style.EDITOR_PROGRESS)
        self._init_error()
        self.error.remove_class(_style.ERROR_BOX)
        self.error.add_class(_style.EDITOR_ERROR)
        self.status = widgets.HTML("")
        self.status.add_class(_style.EDITOR_STATUS)
        self.conflict_text = widgets.HTML("")
        self.keep_mine_button = widgets.Button(description="keep mine (overwrite the file)",
                                               layout=widgets.Layout(width="auto"))
        self.load_theirs_button = widgets.Button(description="load theirs",
                                                 layout=widgets.Layout(width="auto"))
        self.conflict_box = widgets.VBox(
            [self.conflict_text, widgets.HBox([self.keep_mine_button,
                                               self.load_theirs_button])],
            layout=widgets.Layout(display="none"))
        self.conflict_box.add_class(_style.EDITOR_CONFLICT)

        # keyword / regex form
        if columns is None:
            text_columns: list[str] = []
            for j, c in enumerate(df.columns):  # by position: names may repeat
                dtype = df.dtypes.iloc[j]
                if (dtype is np.dtype(object) or str(dtype).startswith(("string", "str"))) and \
                        str(c) not in text_columns:
                    text_columns.append(str(c))
            columns = text_columns or all_columns
        columns = [str(c) for c in columns]
        self.form_kind = widgets.ToggleButtons(
            options=["keyword", "regex"], value="keyword",
            style={"button_width": "auto"})
        self.form_name = widgets.Text(placeholder="name (optional)",
                                      layout=widgets.Layout(width="140px"))
        self.form_pattern = widgets.Text(placeholder="keywords, comma-separated",
                                         layout=widgets.Layout(flex="1 1 180px",
                                                               min_width="150px"))
        self.form_column = widgets.Dropdown(
            options=columns, value=("text" if "text" in columns else
                                    (columns[0] if columns else None)),
            layout=widgets.Layout(width="auto"))
        self.form_ignore_case = widgets.Checkbox(value=True, description="ignore case",
                                                 indent=False,
                                                 layout=widgets.Layout(width="auto"))
        self.add_button = widgets.Button(description="Add", icon="plus",
                                         layout=widgets.Layout(width="auto"))
        self.add_button.add_class(_style.EDITOR_ADD)

        self.apply_button.on_click(self._guard(lambda _: self.request_apply(), "applying"))
        self.cancel_button.on_click(self._guard(lambda _: self.cancel(), "cancelling"))
        self.add_button.on_click(self._guard(lambda _: self._on_add(), "adding an SF"))
        self.keep_mine_button.on_click(self._guard(lambda _: self.resolve("mine"),
                                                   "saving"))
        self.load_theirs_button.on_click(self._guard(lambda _: self.resolve("theirs"),
                                                     "loading"))
        self.code.observe(self._guard(self._on_code_change, "saving"), names="value")
        self.form_kind.observe(self._on_kind_change, names="value")
        if hasattr(self.code, "on_apply"):
            self.code.on_apply(self._guard(lambda: self.request_apply(), "applying"))

        form = widgets.HBox([self.form_kind, self.form_name, self.form_pattern,
                             self.form_column, self.form_ignore_case, self.add_button],
                            layout=widgets.Layout(flex_flow="row wrap"))
        form.add_class("sw-editor-form")
        self.children = [
            _style.style_widget(), self.code,
            widgets.HBox([self.apply_button, self.cancel_button, self.progress, self.status],
                         layout=widgets.Layout(flex_flow="row wrap", align_items="center")),
            self.conflict_box, self.error, form,
        ]
        self.add_class(_style.EDITOR)

        if run_file and self.session.file.status == "loaded":
            self.apply()
        else:
            self._render_loaded()

    # -- properties kept from the previous layout ---------------------------------------------
    @property
    def namespace(self) -> MutableMapping[str, Any]:
        return self.session.namespace

    @property
    def path(self) -> Path | None:
        return self.session.path

    @property
    def file(self) -> FileState:
        return self.session.file

    @property
    def last_result(self) -> ApplyResult:
        return self.session.last_result

    @property
    def save_error(self) -> str | None:
        return self.file.message if self.file.status == "error" else None

    @property
    def applied_code(self) -> str | None:
        return self.session.applied_text

    @property
    def sf_names(self) -> list[str]:
        """Names of the slices defined by the editor's code."""
        return self.session.sf_names

    # -- persistence --------------------------------------------------------------------------
    def load(self, path: str | Path | None = None) -> str | None:
        """Load the code from ``path`` (default: :attr:`path`) into the editor, without
        running it (press Apply)."""
        text = self.session.load(path)
        if text is not None:
            self._set_code(text)
        self._render_loaded()
        return text

    def save(self, *, force: bool = False) -> bool:
        """Write the code to :attr:`path` (never over someone else's changes unless
        ``force``); ``True`` if the file now holds the editor's text."""
        state = self.session.save(force=force)
        self._render_file(state)
        return state.status == "saved"

    def resolve(self, keep: str) -> None:
        """End a file conflict: ``"mine"`` overwrites the file, ``"theirs"`` loads it."""
        state = self.session.resolve(keep)
        if keep == "theirs":
            self._set_code(self.session.text)
        self._render_file(state)
        if state.status != "conflict":
            self.status.value = escape(f"{'saved to' if keep == 'mine' else 'loaded'} "
                                       f"{self.path}" + ("" if keep == "mine" else
                                                         ": press Apply to run it"))

    def _set_code(self, text: str) -> None:
        self._setting_text = True
        try:
            self.code.value = text
        finally:
            self._setting_text = False

    def _on_code_change(self, change: dict) -> None:
        if self._setting_text:
            return
        state = self.session.set_text(change["new"])
        self._render_file(state)

    def _render_file(self, state: FileState) -> None:
        conflict = state.status == "conflict"
        if conflict:
            self.conflict_text.value = (
                f"<div class='sw-conflict-msg'>{escape(state.message)}</div>"
                f"<details><summary>the text on disk</summary>"
                f"{pre(state.disk_text or '')}</details>")
        self.conflict_box.layout.display = None if conflict else "none"
        if state.status == "error" and state.message:
            if state.message not in self._warned:
                self._warned.add(state.message)
                warnings.warn(state.message, RuntimeWarning, stacklevel=3)
            self.status.value = f"<span class='sw-save-warning'>⚠ {escape(state.message)}</span>"
        elif conflict:
            self.status.value = ("<span class='sw-save-warning'>⚠ file changed on disk: not "
                                 "saved</span>")

    def _render_loaded(self) -> None:
        state = self.file
        if state.status == "loaded":
            self.status.value = escape(state.message)
            if self.session.load_errors:
                self.error.value = "".join(pre(e) for e in self.session.load_errors)
                self.add_class(_style.ERROR_STATE)
        elif state.status == "error":
            self._render_file(state)

    # -- apply --------------------------------------------------------------------------------
    def apply(self) -> ApplyResult:
        """Run the code and update the SliceSet, in this thread; errors are shown, never
        raised. (The Apply button runs it in a worker thread inside a kernel.)"""
        start = time.perf_counter()
        self._sync_text()
        result = self.session.apply(batch=self._hub.hold)
        self.last_apply_s = time.perf_counter() - start
        self._render(result)
        return result

    def request_apply(self) -> ApplyResult | None:
        """What the Apply button does: :meth:`apply` here, or in the background."""
        if not self.background:
            return self.apply()
        self.apply_in_background()
        return None

    def apply_in_background(self) -> None:
        """Start an Apply in a worker thread; the result is committed on the main loop."""
        if self.busy:
            self.status.value = escape("Busy: an Apply is running (Cancel stops it)")
            return
        self._sync_text()
        session = self.session
        start = time.perf_counter()

        def work(progress: Callable[[int, int, str], None]) -> Plan:
            plan = session.plan()
            if not plan.result.errors and not plan.result.interrupted:
                session.compute(plan, progress=progress)
            return plan

        self.status.value = escape("Applying: running the code…")
        self._task.start(work, on_progress=self._show_progress,
                         on_done=lambda thread: self._finish_background(thread, start))

    def _finish_background(self, thread: CancellableThread, start: float) -> None:
        if thread.error is not None:  # only a cancel can land outside the session's nets
            result = ApplyResult(interrupted=True,
                                 cancelled=isinstance(thread.error, Cancelled))
            result.errors.append(f"Cancelled: Apply was stopped ({type(thread.error).__name__})."
                                 " Nothing was changed.")
            self.session.last_result = result
        else:
            result = self.session.commit(thread.result, batch=self._hub.hold)
        self.last_apply_s = time.perf_counter() - start
        self._render(result)

    def cancel(self, timeout: float = 1.0) -> bool:
        """Stop the running Apply (``True`` if it stopped within ``timeout`` s)."""
        if not self._task.running:
            return True
        self.status.value = escape("Cancelling…")
        stopped = self._task.cancel(timeout)
        if not stopped:
            self.status.value = escape(
                "Still cancelling: the SF is inside a long call that cannot be interrupted; "
                "it stops when that call returns.")
        return stopped

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background Apply and show its result (``True`` if none is running)."""
        return self._task.wait(timeout)

    def _sync_text(self) -> None:
        if self.code.value != self.session.text:
            self._render_file(self.session.set_text(self.code.value))

    def _set_busy(self, busy: bool) -> None:
        self.set_trait("busy", busy)
        self.apply_button.disabled = busy
        self.cancel_button.disabled = not busy
        self.cancel_button.layout.display = None if busy else "none"
        self.progress.layout.display = None if busy else "none"
        if busy:
            with self.progress.hold_sync():
                self.progress.value = 0
                self.progress.bar_style = "info"
            self.add_class(_style.BUSY)
        else:
            self.remove_class(_style.BUSY)
        if hasattr(self.code, "busy"):
            self.code.busy = busy

    def _show_progress(self, done: int, total: int, name: str) -> None:
        if not self.busy:
            return
        with self.progress.hold_sync():
            self.progress.max = max(1, total)
            self.progress.value = done
        what = f" {name}" if name else ""
        self.status.value = escape(f"Applying: {done}/{total} SFs evaluated"
                                   + (f", now{what}" if name else ""))

    def _render(self, result: ApplyResult) -> None:
        parts = [pre(e) for e in result.errors]
        parts += [pre(w, "sw-warning") for w in result.warnings]
        state = self.file
        # each widget once: one message each (hold_sync on self would batch nothing)
        self.error.value = "".join(parts)
        if result.errors:
            self.add_class(_style.ERROR_STATE)
        else:
            self.remove_class(_style.ERROR_STATE)
        if state.status == "saved":
            tail = f" · saved to {self.path}"
        elif state.status == "error":
            tail = f" · ⚠ {state.message}"
        elif state.status == "conflict":
            tail = " · ⚠ not saved: the file changed on disk"
        elif state.status == "none":
            tail = " · kept in memory only (path=None)"
        else:
            tail = ""
        self.status.value = escape(result.summary + tail)
        if hasattr(self.code, "errors"):
            self.code.errors = {str(k): v for k, v in result.error_lines.items()}
        self.set_trait("applied_count", self.applied_count + 1)
        self._render_file(state)

    # -- keyword / regex form -----------------------------------------------------------------
    def _on_kind_change(self, change: dict) -> None:
        self.form_pattern.placeholder = ("keywords, comma-separated" if change["new"] == "keyword"
                                         else "regular expression")

    def _on_add(self) -> None:
        kind = self.form_kind.value
        raw = self.form_pattern.value.strip()
        name = self.form_name.value.strip() or None
        column = self.form_column.value or "text"
        ignore = self.form_ignore_case.value
        self.add_sf(kind, raw, name=name, column=column, ignore_case=ignore,
                    background=self.background)

    def add_sf(self, kind: str, pattern: str, *, name: str | None = None,
               column: str = "text", ignore_case: bool = True,
               background: bool = False) -> ApplyResult | None:
        """Append a ``keyword_sf``/``regex_sf`` line to the code and apply it (in this
        thread, or in the background like the Add button).

        ``pattern`` is the comma-separated keywords (``kind="keyword"``) or the regular
        expression (``kind="regex"``). Invalid input is shown in :attr:`error`. The line
        never binds over a variable that is not a slicing function (``name="df"`` binds
        ``df_sf``).
        """
        self._sync_text()
        try:
            _, line = self.session.form_code(kind, pattern, name=name, column=column,
                                             ignore_case=ignore_case)
        except ValueError as err:
            self.error.value = pre(str(err))
            self.add_class(_style.ERROR_STATE)
            return None
        self.form_pattern.value = ""
        self.form_name.value = ""
        return self.append_code(line, background=background)

    def append_code(self, code: str, *, blank_line: bool = False,
                    background: bool = False) -> ApplyResult | None:
        """Append ``code`` to the editor's text (after a blank line with ``blank_line``) and
        apply it: here (returns the result) or in the background (returns ``None``)."""
        text = self.code.value
        if text and not text.endswith("\n"):
            text += "\n"
        self.code.value = text + ("\n" if blank_line and text.strip() else "") + code
        if background:
            self.apply_in_background()
            return None
        return self.apply()

    def close(self) -> None:
        self._task.cancel(1.0)
        super().close()
