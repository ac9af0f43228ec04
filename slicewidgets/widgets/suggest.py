"""``SuggestPanel``: discovered slices, confirmed on held-out rows, added to the editor as code.

A thin view over :func:`~slicewidgets.discovery.find_slices`: the panel runs the search in a
worker thread (progress, Cancel), lists the candidates with their size, error gap and
confirmation flag, previews a candidate's rows, and appends a candidate's code to an
:class:`~slicewidgets.widgets.SFEditor`, where it is an ordinary slicing function from then on
(edited, toggled, saved with the rest of the code).

**Where slices are found and where they are confirmed.** Slices chosen because they look bad
on some rows look bad there partly by chance. The panel therefore never confirms a slice on
the rows it was found on: with ``discover_on=(df_dev, golds_dev, preds_dev)`` it searches
those rows and confirms on ``df`` (the rows the studio scores); without it, it searches a
random part of ``df`` and confirms on the rest, and says so.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from slicewidgets.analysis.rendering import format_value
from slicewidgets.widgets import _style
from slicewidgets.widgets._mainloop import BackgroundTask, Cancelled
from slicewidgets.widgets._util import WidgetBase, escape

__all__ = ["SuggestPanel"]

SUGGEST = "sw-suggest"
SUGGEST_RUN = "sw-suggest-run"
SUGGEST_CANCEL = "sw-suggest-cancel"
SUGGEST_TABLE = "sw-suggest-table"
SUGGEST_ADD = "sw-suggest-add"
SUGGEST_STATUS = "sw-suggest-status"
SUGGEST_ROWS = "sw-suggest-rows"
SUGGEST_CHOICE = "sw-suggest-choice"

MAX_CELL = 160

CSS = """
.sw-suggest { color: var(--jp-content-font-color1, #1f1f1f); min-width: 0; }
.sw-suggest-status, .sw-suggest-note { font-size: 12px; color: var(--jp-ui-font-color2, #555); }
.sw-suggest-note.sw-suggest-warn { color: var(--jp-warn-color0, #8a5300); }
.sw-suggest table.sw-table { color: var(--jp-content-font-color1, #1f1f1f); }
.sw-suggest table.sw-table tr.sw-mispredicted td { background: rgba(255, 152, 0, 0.16); }
.sw-suggest table.sw-table tr.sw-flag-worse td { background: rgba(211, 47, 47, 0.12); }
.sw-suggest table.sw-table tr.sw-flag-worse td.sw-flag { color: inherit; font-weight: bold;
  border-left: 3px solid var(--jp-error-color1, #b3261e); }
.sw-suggest table.sw-table tr.sw-flag-no-evidence td.sw-flag {
  color: var(--jp-ui-font-color2, #707070); font-style: italic; }
.sw-suggest .sw-suggest-scroll { overflow-x: auto; max-width: 100%; }
.sw-suggest .widget-html, .sw-suggest .widget-html-content { min-width: 0; max-width: 100%; }
.sw-suggest table.sw-table td.sw-desc { white-space: normal; overflow-wrap: anywhere; }
.sw-suggest table.sw-table tr.sw-chosen td { outline: 1px solid var(--jp-brand-color1, #1976d2); }
.sw-suggest pre.sw-suggest-code { font-family: var(--jp-code-font-family, monospace);
  font-size: 12px; background: var(--jp-layout-color2, #f3f3f3); padding: 4px 8px;
  margin: 2px 0; white-space: pre-wrap; }
"""

MSG_SPLIT = ("Found on {n_d:,} of these rows (a random {pct:.0%}) and confirmed on the other "
             "{n_c:,}. The score table scores all {n:,} rows, including those a slice was "
             "found on: for evidence, read the confirmation flag here, or pass "
             "discover_on= (e.g. the validation split).")
MSG_HELD = ("Found on the {n_d:,} rows of discover_on and confirmed on these {n_c:,} rows, "
            "which played no part in the search.")
MSG_NO_EDITOR = ("No editor to add to (editable=False, or no editor= given): copy the code "
                 "below, or use panel.result.code().")


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _triple(value: Any, argument: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    if not (isinstance(value, (tuple, list)) and len(value) == 3
            and isinstance(value[0], pd.DataFrame)):
        raise ValueError(f"{argument} must be (df, golds, preds) of the same rows, got "
                         f"{type(value).__name__}.")
    df, golds, preds = value
    golds, preds = np.asarray(golds), np.asarray(preds)
    for name, arr in (("golds", golds), ("preds", preds)):
        if len(arr) != len(df):
            raise ValueError(f"{argument}: {name} has {len(arr)} rows but the DataFrame has "
                             f"{len(df)}; pass them for the same rows.")
    return df, golds, preds


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if len(text) > MAX_CELL:
        text = text[:MAX_CELL - 1] + "…"
    return escape(text)


class SuggestPanel(WidgetBase):
    """Suggest slices where the model errs, confirmed on held-out rows, and add them as code.

    Parameters
    ----------
    df, golds, preds
        The rows the slices are confirmed on (in a studio: the rows its table scores), their
        labels and the model's predictions.
    discover_on
        ``(df_dev, golds_dev, preds_dev)``: rows to search (e.g. a validation split). Without
        it, a random ``1 - confirm_fraction`` of ``df``'s rows is searched and the rest
        confirms.
    editor
        The :class:`~slicewidgets.widgets.SFEditor` that "Add to editor" appends code to.
    confirm_fraction, random_state
        The split of ``df`` when ``discover_on`` is not given.
    k, max_order, min_support
        Initial values of the controls (see :func:`~slicewidgets.discovery.find_slices`).
    text_column
        Column shown first in the row preview.
    background
        Run the search in a worker thread (``"auto"``: when inside a kernel).
    find_options
        Further keyword arguments for :func:`~slicewidgets.discovery.find_slices`
        (``columns``, ``max_words``, ``alpha``, ...).

    Attributes
    ----------
    run_button, cancel_button, k, max_order, min_support, choice, add_button
        The controls; drive them from code as a user would (``panel.run_button.click()``).
    result
        The last :class:`~slicewidgets.discovery.SliceDiscovery` (``None`` before a run).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"country": rng.choice(["fr", "de", "us"], 4000),
    ...                    "age": rng.integers(18, 80, 4000)})
    >>> golds = rng.integers(0, 2, 4000)
    >>> wrong = rng.random(4000) < np.where(df.country == "fr", 0.5, 0.1)
    >>> preds = np.where(wrong, 1 - golds, golds)
    >>> panel = SuggestPanel(df, golds, preds, background=False)
    >>> panel.run_button.click()
    >>> panel.result[0].description
    "country == 'fr'"
    >>> panel.result[0].confirmation.flag
    'worse'
    """

    def __init__(
        self,
        df: pd.DataFrame,
        golds: Any,
        preds: Any,
        *,
        discover_on: Any = None,
        editor: Any = None,
        confirm_fraction: float = 0.5,
        random_state: int = 0,
        k: int = 10,
        max_order: int = 2,
        min_support: int | None = None,
        text_column: str = "text",
        page_size: int = 5,
        background: bool | str = "auto",
        **find_options: Any,
    ) -> None:
        super().__init__()
        self.df, self.golds, self.preds = _triple((df, golds, preds), "df, golds, preds")
        self.discover_on = None if discover_on is None else _triple(discover_on, "discover_on")
        if not 0 < confirm_fraction < 1:
            raise ValueError(f"confirm_fraction must be in (0, 1), got {confirm_fraction!r}.")
        self.confirm_fraction = float(confirm_fraction)
        self.random_state = random_state
        self.editor = editor
        self.text_column = text_column
        self.page_size = page_size
        self.find_options = dict(find_options)
        self.background = _in_kernel() if background == "auto" else bool(background)
        self.result: Any = None
        self.last_run_s = 0.0
        self._task = BackgroundTask("slicewidgets-suggest", self._set_busy)

        wide = {"description_width": "initial"}
        self.k = widgets.BoundedIntText(value=k, min=1, max=100, description="top",
                                        style=wide, layout=widgets.Layout(width="110px"))
        self.max_order = widgets.Dropdown(options=[1, 2, 3], value=max_order,
                                          description="predicates per slice ≤", style=wide,
                                          layout=widgets.Layout(width="210px"))
        self.min_support = widgets.BoundedIntText(
            value=min_support or 0, min=0, max=10**9, description="min rows", style=wide,
            tooltip="fewest rows in a slice (0: 1% of the rows, at least 20)",
            layout=widgets.Layout(width="160px"))
        self.run_button = widgets.Button(description="Suggest slices", icon="search",
                                         button_style="primary")
        self.run_button.add_class(SUGGEST_RUN)
        self.cancel_button = widgets.Button(description="Cancel", icon="stop",
                                            layout=widgets.Layout(display="none"))
        self.cancel_button.add_class(SUGGEST_CANCEL)
        self.progress = widgets.IntProgress(value=0, min=0, max=1,
                                            layout=widgets.Layout(display="none",
                                                                  width="160px"))
        self.status = widgets.HTML("")
        self.status.add_class(SUGGEST_STATUS)
        self.note = widgets.HTML("")
        self.table = widgets.HTML("")
        self.table.add_class(SUGGEST_TABLE)
        self.choice = widgets.Dropdown(options=[], description="slice",
                                       layout=widgets.Layout(width="auto", min_width="0",
                                                             flex="1 1 auto"))
        self.choice.add_class(SUGGEST_CHOICE)
        self.add_button = widgets.Button(description="Add to editor", icon="plus",
                                         disabled=True)
        self.add_button.add_class(SUGGEST_ADD)
        self.code_view = widgets.HTML("")
        self.rows_view = widgets.HTML("")
        self.rows_view.add_class(SUGGEST_ROWS)

        self.run_button.on_click(self._guard(lambda _: self.request_run(), "suggesting slices"))
        self.cancel_button.on_click(self._guard(lambda _: self.cancel(), "cancelling"))
        self.add_button.on_click(self._guard(
            lambda _: self.add(background=bool(getattr(self.editor, "background", False))),
            "adding the slice"))
        self.choice.observe(self._guard(lambda _: self._render_choice(), "showing the slice"),
                            names=["value"])

        style = widgets.HTML(f"<style>{CSS}</style>", layout=widgets.Layout(display="none"))
        controls = widgets.HBox([self.k, self.max_order, self.min_support, self.run_button,
                                 self.cancel_button, self.progress],
                                layout=widgets.Layout(flex_flow="row wrap"))
        chooser = widgets.HBox([self.choice, self.add_button],
                               layout=widgets.Layout(flex_flow="row wrap", width="100%"))
        self.children = [style, _style.style_widget(), controls, self.status, self.note,
                         self._init_error(), self.table, chooser, self.code_view,
                         self.rows_view]
        self.add_class(SUGGEST)
        self.status.value = escape("Press 'Suggest slices' to search for slices where the "
                                   "model errs most.")

    # -- construction from a studio -----------------------------------------------------------
    @classmethod
    def for_studio(cls, studio: Any, **kwargs: Any) -> SuggestPanel:
        """A panel over a :class:`~slicewidgets.widgets.SliceStudio`'s rows, predictions and
        editor; it follows the model the studio's table shows (the predictions of
        ``discover_on``, when given, stay those passed: pass them for the same model)."""
        table = studio.table
        if table.golds is None or table.preds is None:
            raise ValueError("The studio has no golds/preds to find errors in; create it with "
                             "SliceStudio(df, golds, preds).")
        panel = cls(studio.slice_set.df, table.golds, table.preds,
                    editor=getattr(studio, "editor", None), **kwargs)
        if hasattr(table, "on_predictions"):
            table.on_predictions(panel.set_predictions)
        return panel

    def set_predictions(self, preds: Any = None, probs: Any = None) -> None:
        """New predictions of ``df``'s rows (the next run uses them)."""
        if preds is None and probs is not None:
            from slicewidgets.utils import probs_to_preds

            preds = probs_to_preds(np.asarray(probs))
        if preds is None:
            return
        preds = np.asarray(preds)
        if len(preds) != len(self.df):
            raise ValueError(f"preds has {len(preds)} rows but df has {len(self.df)}.")
        self.preds = preds
        if self.result is not None:
            self.status.value = escape("The predictions changed: press 'Suggest slices' to "
                                       "search again.")

    # -- the search ---------------------------------------------------------------------------
    def _splits(self) -> tuple[tuple, tuple, str]:
        if self.discover_on is not None:
            found_on = self.discover_on
            note = MSG_HELD.format(n_d=len(found_on[0]), n_c=len(self.df))
            return found_on, (self.df, self.golds, self.preds), note
        n = len(self.df)
        rng = np.random.default_rng(self.random_state)
        confirm = np.zeros(n, dtype=bool)
        confirm[rng.permutation(n)[:int(round(self.confirm_fraction * n))]] = True
        d, c = np.flatnonzero(~confirm), np.flatnonzero(confirm)

        def take(idx: np.ndarray) -> tuple:
            return self.df.iloc[idx].reset_index(drop=True), self.golds[idx], self.preds[idx]

        note = MSG_SPLIT.format(n_d=len(d), n_c=len(c), n=n, pct=1 - self.confirm_fraction)
        return take(d), take(c), note

    def _options(self) -> dict[str, Any]:
        opts = dict(self.find_options)
        opts.update(k=int(self.k.value), max_order=int(self.max_order.value))
        if self.min_support.value:
            opts["min_support"] = int(self.min_support.value)
        return opts

    def _search(self, progress: Callable[[int, int, str], None] | None = None) -> Any:
        from slicewidgets.discovery import find_slices

        found_on, confirm_on, note = self._splits()
        result = find_slices(found_on[0], found_on[1], found_on[2], confirm_on=confirm_on,
                             progress=progress, **self._options())
        return result, note

    def run(self) -> Any:
        """Search in this thread and show the result; errors are shown, never raised."""
        start = time.perf_counter()
        self._clear_error()
        try:
            result, note = self._search()
        except Exception as err:  # shown in the panel
            self._show_exception(err, "suggesting slices")
            self.status.value = escape("The search failed (see above).")
            return None
        self.last_run_s = time.perf_counter() - start
        self._show(result, note)
        return result

    def request_run(self) -> None:
        """What the button does: :meth:`run` here, or in the background inside a kernel."""
        if self.background:
            self.run_in_background()
        else:
            self.run()

    @property
    def busy(self) -> bool:
        return self._task.running

    def run_in_background(self) -> None:
        """Start the search in a worker thread; the result is shown on the main loop."""
        if self.busy:
            self.status.value = escape("Busy: a search is running (Cancel stops it).")
            return
        self._clear_error()
        start = time.perf_counter()
        self.status.value = escape("Searching…")
        self._task.start(self._search, on_progress=self._show_progress,
                         on_done=lambda thread: self._finish(thread, start))

    def _finish(self, thread: Any, start: float) -> None:
        self.last_run_s = time.perf_counter() - start
        if isinstance(thread.error, Cancelled):
            self.status.value = escape("Cancelled: the search was stopped; the list "
                                       "below is unchanged.")
        elif thread.error is not None:
            self._show_exception(thread.error, "suggesting slices")
            self.status.value = escape("The search failed (see above).")
        else:
            self._show(*thread.result)

    def cancel(self, timeout: float = 2.0) -> bool:
        """Stop a running search (``True`` if it stopped within ``timeout`` seconds)."""
        if not self._task.running:
            return True
        self.status.value = escape("Cancelling…")
        return self._task.cancel(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background search and show its result (``True`` if none is running)."""
        return self._task.wait(timeout)

    def _set_busy(self, busy: bool) -> None:
        with self.hold_sync():
            self.run_button.disabled = busy
            self.cancel_button.layout.display = None if busy else "none"
            self.progress.layout.display = None if busy else "none"
            if busy:
                self.progress.value = 0
                self.add_class(_style.BUSY)
            else:
                self.remove_class(_style.BUSY)

    def _show_progress(self, done: int, total: int, stage: str) -> None:
        if not self.busy:
            return
        with self.hold_sync():
            self.progress.max = max(1, total)
            self.progress.value = min(done, total)
            what = {"predicates": "building predicates",
                    "confirmation": "confirming on held-out rows"}.get(
                stage, f"searching {stage}: {done:,}/{total:,} slices extended")
            self.status.value = escape(f"Searching… {what}")

    # -- display ------------------------------------------------------------------------------
    def _show(self, result: Any, note: str) -> None:
        self.result = result
        m = result.meta
        confirmed = len(result.confirmed())
        with self.hold_sync():
            self.status.value = escape(
                f"{len(result)} candidates from {m['n_scored']:,} slices scored in "
                f"{self.last_run_s:.1f} s; {confirmed} confirmed worse on held-out rows "
                f"(q < {m['alpha']:g}).")
            self.note.value = (f"<div class='sw-suggest-note"
                               f"{' sw-suggest-warn' if self.discover_on is None else ''}'>"
                               f"{escape(note)}</div>")
            self.table.value = self._table_html()
            options = [(f"{c.rank}. {c.description} "
                        f"({c.confirmation.flag if c.confirmation else 'unconfirmed'})", c.name)
                       for c in result]
            self.choice.options = options
            self.choice.value = options[0][1] if options else None
            self.add_button.disabled = not options or self.editor is None
        self._render_choice()

    def _table_html(self) -> str:
        result = self.result
        if not len(result):
            return ("<p class='sw-suggest-note'>No slice with more errors than average and "
                    "enough rows: lower 'min rows' or allow more predicates.</p>")
        head = ("<tr><th>#</th><th>slice</th><th title='found on'>n</th><th>error</th>"
                "<th>gap</th><th title='held out'>n held out</th><th>error</th><th>95% CI</th>"
                "<th>q</th><th>flag</th></tr>")
        rows, fmt = [], format_value
        for c in result:
            k = c.confirmation
            chosen = " sw-chosen" if c.name == self.choice.value else ""
            rows.append(
                f"<tr class='sw-flag-{escape(k.flag)}{chosen}'><td class='sw-n'>{c.rank}</td>"
                f"<td class='sw-desc'><code>{escape(c.name)}</code><br>"
                f"<small>{escape(c.description)}</small></td>"
                f"<td class='sw-n'>{fmt(c.n, 'int')}</td>"
                f"<td class='sw-num'>{fmt(c.error, 'pct')}</td>"
                f"<td class='sw-num'>{fmt(c.gap, 'signed_pct')}</td>"
                f"<td class='sw-n'>{fmt(k.n, 'int')}</td><td class='sw-num'>{fmt(k.error, 'pct')}</td>"
                f"<td class='sw-num'>{k.ci_low:.0%}–{k.ci_high:.0%}</td>"
                f"<td class='sw-num'>{fmt(k.q_value, 'p')}</td>"
                f"<td class='sw-flag' title='{escape(k.reason)}'>{escape(k.flag)}</td></tr>")
        return (f"<div class='sw-suggest-scroll'>"
                f"<table class='sw-table'><caption>found on one split (n, error, gap) · "
                f"confirmed on held-out rows (n, error, interval, BH q, flag)</caption>"
                f"<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table></div>")

    @property
    def chosen(self) -> Any:
        """The candidate chosen in :attr:`choice` (``None`` when there is none)."""
        if self.result is None or self.choice.value is None:
            return None
        return self.result[self.choice.value]

    def _render_choice(self) -> None:
        cand = self.chosen
        if cand is None:
            self.code_view.value = ""
            self.rows_view.value = ""
            return
        self.table.value = self._table_html()
        code = f"<pre class='sw-suggest-code'>{html.escape(cand.code)}</pre>"
        if self.editor is None:
            code = f"<div class='sw-suggest-note'>{escape(MSG_NO_EDITOR)}</div>" + code
        self.code_view.value = code
        self.rows_view.value = self._rows_html(cand)

    def _rows_html(self, cand: Any) -> str:
        mask = np.asarray(cand.mask(self.df), dtype=bool)
        idx = np.flatnonzero(mask)
        if not len(idx):
            return "<p class='sw-suggest-note'>No row of this data is in the slice.</p>"
        wrong = self.golds[idx] != self.preds[idx]
        order = np.concatenate([idx[wrong], idx[~wrong]])[:self.page_size]
        cols = list(self.df.columns)
        if self.text_column in cols:
            cols.remove(self.text_column)
            cols.insert(0, self.text_column)
        cols = cols[:6]
        head = "".join(f"<th>{escape(c)}</th>" for c in cols) + "<th>gold</th><th>pred</th>"
        body = []
        for i in order:
            row = self.df.iloc[i]
            cls = " class='sw-mispredicted'" if self.golds[i] != self.preds[i] else ""
            cells = "".join(f"<td>{_cell(row[c])}</td>" for c in cols)
            body.append(f"<tr{cls}>{cells}<td>{escape(self.golds[i])}</td>"
                        f"<td>{escape(self.preds[i])}</td></tr>")
        return (f"<div class='sw-suggest-scroll'><table class='sw-table'><caption>{len(idx):,} rows of this data in the "
                f"slice, {int(wrong.sum()):,} mispredicted; the first {len(order)}, "
                f"mispredicted first</caption><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(body)}</tbody></table></div>")

    # -- into the editor ----------------------------------------------------------------------
    def add(self, name: str | None = None, *, background: bool = False) -> Any:
        """Append the chosen (or the named) candidate's code to the editor and apply it.

        The slice is then an ordinary slicing function of the editor's code. A name that is
        already a slice, or a variable that is not a slicing function, is never overwritten:
        the code is renamed (``<name>_sf``). Applies in this thread and returns the editor's
        ``ApplyResult``; with ``background=True`` (what the button does inside a kernel) the
        editor applies in its worker thread and this returns ``None``.
        """
        if self.result is None:
            raise ValueError("No suggestions yet: press 'Suggest slices' first.")
        cand = self.result[name] if name is not None else self.chosen
        if cand is None:
            raise ValueError("Choose a slice in the list first.")
        editor = self.editor
        if editor is None:
            raise ValueError(MSG_NO_EDITOR)
        var = editor.session.free_variable(cand.name)
        while var in editor.slice_set:
            var = editor.session.free_variable(var + "_")
        code = cand.code if var == cand.name else cand.code_as(var)
        self.status.value = escape(f"Added {var} to the editor ({cand.description}).")
        return editor.append_code(code, blank_line=True, background=background)

    def close(self) -> None:
        self._task.cancel(1.0)
        super().close()

