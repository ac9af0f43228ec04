"""``SlicePreview``: the rows of one slice, paged or sampled, with matches highlighted."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np

from slicewidgets.slicing.incremental import SliceSet
from slicewidgets.slicing.sf import (
    CombinedSlicingFunction,
    KeywordSlicingFunction,
    RegexSlicingFunction,
    SlicingFunction,
)
from slicewidgets.widgets import _style
from slicewidgets.widgets._util import Events, WidgetBase, escape

__all__ = ["SlicePreview", "highlight"]

MAX_CELL_CHARS = 300
_INITIAL = {"description_width": "initial"}  # labels never truncated


def _patterns(sf: SlicingFunction, column: str, negated: bool = False) -> list[re.Pattern]:
    """Regexes whose matches explain why a row of ``column`` is in the slice of ``sf``."""
    if isinstance(sf, CombinedSlicingFunction):
        neg = negated ^ (sf.op == "not")
        return [p for o in sf.operands for p in _patterns(o, column, neg)]
    if negated or getattr(sf, "column", None) != column:
        return []
    if isinstance(sf, KeywordSlicingFunction):
        flags = 0 if sf.case else re.IGNORECASE
        return [re.compile(re.escape(k), flags) for k in sf.keywords]
    if isinstance(sf, RegexSlicingFunction):
        return [sf.regex]
    return []


def highlight(text: Any, patterns: Sequence[re.Pattern], max_chars: int = MAX_CELL_CHARS) -> str:
    """HTML of ``text`` with every match of ``patterns`` in ``<mark>``, everything escaped.

    Examples
    --------
    >>> highlight("Check <b>it</b> out", [re.compile("check", re.I)])
    '<mark>Check</mark> &lt;b&gt;it&lt;/b&gt; out'
    """
    if not isinstance(text, str):
        return escape("" if text is None else text)
    spans: list[tuple[int, int]] = []
    for pat in patterns:
        spans += [m.span() for m in pat.finditer(text) if m.end() > m.start()]
    spans.sort()
    merged: list[list[int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    cut = len(text) > max_chars
    if cut:  # keep the first match in view
        first = merged[0][0] if merged else 0
        start = max(0, min(first - 40, len(text) - max_chars))
        text_end = start + max_chars
    else:
        start, text_end = 0, len(text)
    out, pos = [], start
    if start:
        out.append("…")
    for a, b in merged:
        a, b = max(a, pos), min(b, text_end)
        if a >= b:
            continue
        out.append(escape(text[pos:a]))
        out.append(f"<mark>{escape(text[a:b])}</mark>")
        pos = b
    out.append(escape(text[pos:text_end]))
    if cut and text_end < len(text):
        out.append("…")
    return "".join(out)


class SlicePreview(WidgetBase):
    """Browse the rows of a slice: pages or a random sample, optionally only mispredictions.

    Parameters
    ----------
    slice_set
        The slices.
    golds, preds
        Labels and predictions of the rows (needed for "only mispredicted").
    text_column
        Column shown first, with keyword/regex matches highlighted.
    page_size
        Rows per page.
    columns
        Other columns to show (default: all others).

    Attributes
    ----------
    slice_select : ipywidgets.Dropdown
        The slice (class ``sw-preview-slice``).
    page : ipywidgets.BoundedIntText
        Current page, from 1.
    prev_button, next_button : ipywidgets.Button
    random_order : ipywidgets.Checkbox
        Show the rows in a random order drawn with :attr:`seed` (pages of a random sample).
    seed : ipywidgets.IntText
    resample_button : ipywidgets.Button
        Draw another sample (``seed += 1``).
    only_mispredicted : ipywidgets.Checkbox
    table : ipywidgets.HTML
        The rows (class ``sw-preview-table``).
    info : ipywidgets.HTML
    positions : numpy.ndarray
        Positions of the rows shown.

    Examples
    --------
    >>> import pandas as pd
    >>> from slicewidgets.slicing import SliceSet, keyword_sf
    >>> ss = SliceSet(pd.DataFrame({"text": ["check <it>", "nice"]}), [keyword_sf("check")])
    >>> preview = SlicePreview(ss)
    >>> "<mark>check</mark> &lt;it&gt;" in preview.table.value
    True
    """

    def __init__(
        self,
        slice_set: SliceSet,
        golds: Sequence[int] | np.ndarray | None = None,
        preds: Sequence[int] | np.ndarray | None = None,
        text_column: str = "text",
        page_size: int = 10,
        *,
        columns: Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        self.slice_set = slice_set
        self.text_column = text_column
        self.page_size = int(page_size)
        self.columns = list(columns) if columns is not None else None
        self.golds = None if golds is None else np.asarray(golds)
        self.preds = None if preds is None else np.asarray(preds)
        self.positions = np.zeros(0, dtype=np.int64)
        self._rows = np.zeros(0, dtype=np.int64)
        self._init_error()

        self.slice_select = widgets.Dropdown(options=slice_set.names, description="slice",
                                             style=_INITIAL,
                                             layout=widgets.Layout(width="auto",
                                                                   max_width="320px"))
        self.slice_select.add_class(_style.PREVIEW_SLICE)
        self.page = widgets.BoundedIntText(value=1, min=1, max=1, description="page",
                                           style=_INITIAL,
                                           layout=widgets.Layout(width="130px"))
        self.prev_button = widgets.Button(icon="chevron-left", tooltip="previous page",
                                          layout=widgets.Layout(width="36px"))
        self.next_button = widgets.Button(icon="chevron-right", tooltip="next page",
                                          layout=widgets.Layout(width="36px"))
        self.random_order = widgets.Checkbox(value=False, description="random sample",
                                             indent=False, layout=widgets.Layout(width="auto"))
        self.seed = widgets.IntText(value=0, description="seed", style=_INITIAL,
                                    layout=widgets.Layout(width="120px"))
        self.resample_button = widgets.Button(description="resample", icon="random",
                                              layout=widgets.Layout(width="auto"))
        self.only_mispredicted = widgets.Checkbox(
            value=False, description="only mispredicted", indent=False,
            disabled=self.golds is None or self.preds is None,
            layout=widgets.Layout(width="auto"))
        self.info = widgets.HTML("")
        self.info.add_class("sw-preview-info")
        self.table = widgets.HTML("")
        self.table.add_class(_style.PREVIEW_TABLE)

        self._selecting = False
        def redraw_now(_: Any) -> None:
            if not self._selecting:
                self.render()

        def reselect_now(_: Any) -> None:
            if not self._selecting:
                self._select()

        redraw = self._guard(redraw_now, "showing the rows")
        reselect = self._guard(reselect_now, "selecting the rows")
        self.slice_select.observe(reselect, names="value")
        self.only_mispredicted.observe(reselect, names="value")
        self.random_order.observe(reselect, names="value")
        self.seed.observe(reselect, names="value")
        self.page.observe(redraw, names="value")
        self.prev_button.add_class("sw-preview-prev")
        self.next_button.add_class("sw-preview-next")
        self.prev_button.on_click(self._guard(lambda _: self.go(-1), "paging"))
        self.next_button.on_click(self._guard(lambda _: self.go(+1), "paging"))
        self.resample_button.on_click(self._guard(lambda _: self._resample(), "sampling"))
        self.children = [
            _style.style_widget(),
            widgets.HBox([self.slice_select, self.prev_button, self.page, self.next_button,
                          self.only_mispredicted],
                         layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox([self.random_order, self.seed, self.resample_button, self.info],
                         layout=widgets.Layout(flex_flow="row wrap", align_items="center")),
            self.error, self.table,
        ]
        self.add_class(_style.PREVIEW)
        self._subscribe(slice_set, self._guard(self._on_events, "updating"))
        self._select()

    # -- inputs -------------------------------------------------------------------------------
    def set_predictions(self, preds: Any = None, probs: Any = None) -> None:
        """Use new predictions (for "only mispredicted" and the pred column)."""
        if preds is None and probs is not None:
            from slicewidgets.utils import probs_to_preds

            preds = probs_to_preds(np.asarray(probs))
        if preds is not None and len(preds) != len(self.slice_set.df):
            raise ValueError(
                f"preds has {len(preds)} rows but the data has {len(self.slice_set.df)}; pass "
                "one prediction per row of the DataFrame, in the same order."
            )
        self.preds = None if preds is None else np.asarray(preds)
        self.only_mispredicted.disabled = self.golds is None or self.preds is None
        self._select()

    def go(self, step: int) -> None:
        """Move ``step`` pages (clamped)."""
        self.page.value = int(np.clip(self.page.value + step, self.page.min, self.page.max))

    def _resample(self) -> None:
        if not self.random_order.value:
            self.random_order.value = True
        else:
            self.seed.value += 1

    def _on_events(self, events: Events) -> None:
        names = self.slice_set.names
        current = self.slice_select.value
        if list(self.slice_select.options) != names:
            self._selecting = True  # one _select below, not one per trait change
            try:
                with self.slice_select.hold_sync():  # options and value: one message
                    self.slice_select.options = names
                    target = current if current in names else (names[0] if names else None)
                    if self.slice_select.value != target:
                        self.slice_select.value = target
            finally:
                self._selecting = False
        touched = {n for _, n in events}
        if current is None or current not in names or current in touched or None in touched \
                or self.slice_select.value != current:
            self._select(keep_page=self.slice_select.value == current)

    # -- selection ----------------------------------------------------------------------------
    def _select(self, keep_page: bool = False) -> None:
        """Recompute the ordered row positions of the slice and show the first page."""
        self._clear_error()
        name = self.slice_select.value
        if name is None or name not in self.slice_set:
            rows = np.zeros(0, dtype=np.int64)
        else:
            mask = self.slice_set.mask(name)
            if self.only_mispredicted.value and self.golds is not None \
                    and self.preds is not None:
                mask = mask & (self.golds != self.preds)
            rows = np.flatnonzero(mask)
            if self.random_order.value:
                rows = np.random.default_rng(self.seed.value).permutation(rows)
        self._rows = rows
        n_pages = max(1, -(-len(rows) // self.page_size))
        page = min(self.page.value, n_pages) if keep_page else 1
        self._selecting = True
        try:
            with self.page.hold_sync():  # max and value: one message
                if self.page.value > n_pages:
                    self.page.value = n_pages
                self.page.max = n_pages
                self.page.value = page
        finally:
            self._selecting = False
        self.render()

    def render(self) -> None:
        """Draw the current page."""
        ss = self.slice_set
        df = ss.df
        name = self.slice_select.value
        start = (self.page.value - 1) * self.page_size
        pos = self._rows[start:start + self.page_size]
        self.positions = pos
        # columns by position: a frame may repeat a column name
        positions = list(range(df.shape[1]))
        text_pos = next((j for j in positions if df.columns[j] == self.text_column), None)
        text_col = self.text_column if text_pos is not None else None
        if self.columns is not None:
            wanted = list(self.columns)
            other_pos = [j for j in positions if df.columns[j] in wanted and j != text_pos]
        else:
            other_pos = [j for j in positions if j != text_pos]
        others = [df.columns[j] for j in other_pos]
        sf = ss[name] if name is not None and name in ss else None
        patterns = _patterns(sf, text_col) if sf is not None and text_col else []
        other_patterns = {c: _patterns(sf, c) for c in set(others)} if sf is not None else {}
        golds, preds = self.golds, self.preds
        head = ["<th>index</th>"]
        if text_col:
            head.append(f"<th>{escape(text_col)}</th>")
        head += [f"<th>{escape(c)}</th>" for c in others]
        if golds is not None:
            head.append("<th>gold</th>")
        if preds is not None:
            head.append("<th>pred</th>")
        out = [f"<table class='sw-table sw-rows'><thead><tr>{''.join(head)}</tr></thead><tbody>"]
        sub = df.iloc[pos]
        text_values = sub.iloc[:, text_pos].tolist() if text_pos is not None else []
        other_values = [sub.iloc[:, j].tolist() for j in other_pos]
        for i, p in enumerate(pos.tolist()):
            wrong = golds is not None and preds is not None and golds[p] != preds[p]
            cls = " class='sw-mispredicted'" if wrong else ""
            cells = [f"<td class='sw-num'>{escape(sub.index[i])}</td>"]
            if text_col:
                cells.append(f"<td class='sw-text'>{highlight(text_values[i], patterns)}</td>")
            for k, c in enumerate(others):
                cells.append(f"<td>{highlight(other_values[k][i], other_patterns.get(c, []))}</td>")
            if golds is not None:
                cells.append(f"<td class='sw-num'>{escape(golds[p])}</td>")
            if preds is not None:
                cells.append(f"<td class='sw-num'>{escape(preds[p])}</td>")
            out.append(f"<tr data-row='{p}'{cls}>{''.join(cells)}</tr>")
        out.append("</tbody></table>")
        total = len(self._rows)
        if name is None:
            info = "no slices yet"
        elif total == 0:
            info = f"{escape(name)}: no rows" + (" mispredicted" if self.only_mispredicted.value
                                                 else "")
        else:
            what = " mispredicted" if self.only_mispredicted.value else ""
            order = f", random order (seed {self.seed.value})" if self.random_order.value else ""
            info = (f"rows {start + 1:,}–{start + len(pos):,} of {total:,}{what} in "
                    f"<b>{escape(name)}</b>{order}")
        self.table.value = "".join(out)
        self.info.value = info
        self.prev_button.disabled = self.page.value <= 1
        self.next_button.disabled = self.page.value >= self.page.max
