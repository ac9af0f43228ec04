"""``SFToggles``: one checkbox per slicing function, with its coverage."""

from __future__ import annotations

import ipywidgets as widgets

from slicewidgets.slicing.incremental import SliceSet
from slicewidgets.widgets import _style
from slicewidgets.widgets._util import Events, SliceSetHub, WidgetBase, escape

__all__ = ["SFToggles", "coverage_text"]


def coverage_text(size: int, n_rows: int) -> str:
    """``"92 rows (36.8%)"``.

    Examples
    --------
    >>> coverage_text(92, 250)
    '92 rows (36.8%)'
    >>> coverage_text(1, 0)
    '1 row (0.0%)'
    """
    pct = 100.0 * size / n_rows if n_rows else 0.0
    return f"{size:,} row{'' if size == 1 else 's'} ({pct:.1f}%)"


class SFToggles(WidgetBase):
    """Enable or disable each slicing function of a :class:`SliceSet`.

    Unchecking a box calls ``slice_set.set_enabled(name, False)``: the slice leaves the score
    table (nothing is recomputed). SFs added, edited or removed elsewhere (the editor) update
    the list.

    Parameters
    ----------
    slice_set
        The SliceSet shared with the other widgets.

    Attributes
    ----------
    checkboxes : dict[str, ipywidgets.Checkbox]
        One per SF, ``description`` = the SF's name (class ``sw-toggle``).
    coverage : dict[str, ipywidgets.HTML]
        ``"92 rows (36.8%)"`` next to each checkbox (class ``sw-toggle-coverage``), with the
        number of failing rows when the SF raised on some.
    all_button, none_button : ipywidgets.Button

    Examples
    --------
    >>> import pandas as pd
    >>> from slicewidgets.slicing import SliceSet, keyword_sf
    >>> ss = SliceSet(pd.DataFrame({"text": ["check it out", "nice"]}), [keyword_sf("check")])
    >>> toggles = SFToggles(ss)
    >>> toggles.coverage["keyword_check"].value
    '1 row (50.0%)'
    >>> toggles.checkboxes["keyword_check"].value = False
    >>> ss.enabled_names
    []
    """

    def __init__(self, slice_set: SliceSet) -> None:
        super().__init__()
        self.slice_set = slice_set
        self.checkboxes: dict[str, widgets.Checkbox] = {}
        self.coverage: dict[str, widgets.HTML] = {}
        self.rows: dict[str, widgets.HBox] = {}
        self._init_error()
        self.title = widgets.HTML("<b>Slices</b>")
        self.all_button = widgets.Button(description="all", layout=widgets.Layout(width="50px"))
        self.none_button = widgets.Button(description="none", layout=widgets.Layout(width="55px"))
        self.all_button.on_click(self._guard(lambda _: self.set_all(True), "enabling all"))
        self.none_button.on_click(self._guard(lambda _: self.set_all(False), "disabling all"))
        self.list = widgets.VBox()
        self.children = [
            _style.style_widget(),
            widgets.HBox([self.title, self.all_button, self.none_button]),
            self.list, self.error,
        ]
        self.add_class(_style.TOGGLES)
        self._subscribe(slice_set, self._guard(self._on_events, "updating the list"))
        self._rebuild()

    def set_all(self, enabled: bool) -> None:
        """Enable or disable every SF (one refresh of the other widgets)."""
        with SliceSetHub.of(self.slice_set).hold():
            for name in self.slice_set.names:
                self.slice_set.set_enabled(name, enabled)

    # -- internals ----------------------------------------------------------------------------
    def _on_events(self, events: Events) -> None:
        kinds = {e for e, _ in events}
        if kinds & {"add", "remove", "frame"} or set(self.slice_set.names) != set(self.checkboxes):
            self._rebuild()
        else:  # edits and toggles: only the SFs named in the events
            self._update({name for _, name in events if name is not None})

    def _make_row(self, name: str) -> None:
        box = widgets.Checkbox(value=self.slice_set.is_enabled(name), description=name,
                               indent=False, layout=widgets.Layout(width="auto"))
        box.add_class(_style.TOGGLE)
        box.observe(self._guard(self._on_toggle, f"toggling {name}"), names="value")
        label = widgets.HTML()
        label.add_class(_style.TOGGLE_COVERAGE)
        self.checkboxes[name] = box
        self.coverage[name] = label
        self.rows[name] = widgets.HBox([box, label], layout=widgets.Layout(align_items="center"))

    def _rebuild(self) -> None:
        names = self.slice_set.names
        for name in list(self.checkboxes):
            if name not in names:  # close them: their comms and observers go too
                for w in (self.checkboxes.pop(name), self.coverage.pop(name),
                          self.rows.pop(name)):
                    w.close()
        for name in names:
            if name not in self.checkboxes:
                self._make_row(name)
        self._update()
        self.list.children = [self.rows[n] for n in names]

    def _update(self, names: set[str] | None = None) -> None:
        ss = self.slice_set
        n = len(ss.df)
        for name, box in self.checkboxes.items():  # one message per changed widget
            if names is not None and name not in names:
                continue
            enabled = ss.is_enabled(name)
            if box.value != enabled:
                box.value = enabled
            text = escape(coverage_text(int(ss.mask(name).sum()), n))
            meta = ss.errors.get(name)
            faults = meta.faults.get(name, 0) if meta is not None else 0
            if faults and meta is not None:
                text += (f" <span class='sw-toggle-faults' title='{escape(meta.errors.get(name, ''))}'>"
                         f"⚠ {faults:,} failed</span>")
            if self.coverage[name].value != text:
                self.coverage[name].value = text

    def _on_toggle(self, change: dict) -> None:
        name = change["owner"].description
        if name in self.slice_set and self.slice_set.is_enabled(name) != change["new"]:
            self.slice_set.set_enabled(name, change["new"])
