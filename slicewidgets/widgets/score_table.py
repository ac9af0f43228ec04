"""``ScoreTable``: live per-slice scores, sizes, intervals and flags, with a bar chart."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
import traitlets

from slicewidgets.analysis.rendering import format_value, is_missing
from slicewidgets.analysis.scorer import Scorer
from slicewidgets.slicing.incremental import SliceSet
from slicewidgets.widgets import _style
from slicewidgets.widgets._charts import bar_chart_svg
from slicewidgets.widgets._mainloop import Debouncer
from slicewidgets.widgets._util import Events, WidgetBase, escape

__all__ = ["ScoreTable"]

SORT_OPTIONS = ("gap", "n", "score", "name")
NO_COMPARISON = "(none)"
_INITIAL = {"description_width": "initial"}  # labels never truncated


def comp_confidence(confidence: float) -> str:
    return f"{confidence:.0%}"

MSG_LENGTH = (
    "{what} has {got} rows but the data has {n}; pass one {item} per row of the DataFrame "
    "the slices were computed on, in the same order."
)

#: the columns of ``SliceReport.to_frame()`` the table reads
REPORT_COLUMNS = ["slice", "n", "metric", "score", "ci_low", "ci_high", "gap", "p_value",
                  "q_value", "flag", "reason"]


def _score(value: Any) -> str:
    return format_value(value, "score")


def _check_length(values: Any, n: int, what: str, item: str) -> None:
    if values is not None and len(values) != n:
        raise ValueError(MSG_LENGTH.format(what=what, got=len(values), n=n, item=item))


class ScoreTable(WidgetBase):
    """Per-slice scores of a model, updated live as slicing functions change.

    Each refresh asks the core for the scores of the enabled slices
    (``scorer.slice_report(slice_set.membership(), golds, preds, probs)``: size, score,
    confidence interval, gap to the overall score, test and flag per slice and metric) and
    renders the result; masks come from the :class:`SliceSet`'s cache, so editing one SF
    recomputes only that SF.

    Parameters
    ----------
    slice_set
        The slices.
    golds
        Gold labels of the SliceSet's rows (``None``: sizes only).
    preds, probs
        Predictions and probabilities (``None``: sizes only until :meth:`set_predictions`).
    scorer
        A :class:`~slicewidgets.analysis.Scorer` (default: ``Scorer(metrics)``).
    metrics
        Metrics of the default scorer; the first one is used for sorting and the chart.
    confidence, n_boot, random_state
        Passed to ``slice_report``.
    show_chart
        Draw the bar chart with error bars (an inline SVG, cheap enough to redraw live).

    Attributes
    ----------
    table : ipywidgets.HTML
        The ``<table>``: one ``<tr data-slice="name">`` per slice, sizes in ``td.sw-n``.
    chart : ipywidgets.HTML
        The bar chart (class ``sw-score-chart``).
    sort_by, metric : ipywidgets.Dropdown
    chart_toggle : ipywidgets.Checkbox
    report
        The last ``SliceReport`` (``None`` without predictions).
    frame : pandas.DataFrame
        The last report as a long frame (``slice, n, metric, score, ci_low, ...``).
    shown : str or None (trait)
        The name of the predictions shown (``"baseline"``, ``"run 1"``, ...).
    prediction_revision : int (trait)
        Bumped whenever the predictions shown change (``observe(..., names=...)`` it).
    refresh_count : int (trait)
        Refreshes so far.
    last_refresh_s : float (trait)

    Notes
    -----
    Inside a kernel, refreshes caused by SliceSet events are *debounced*: the first runs at
    once, a burst that follows (several checkboxes clicked in a row) is merged into one
    refresh 0.1 s later. Reading :attr:`report` or :attr:`frame` runs a pending refresh
    first, so they never return a stale result.

    Examples
    --------
    >>> from slicewidgets.slicing import SliceSet, keyword_sf
    >>> df = pd.DataFrame({"text": ["check it out", "nice song", "check this"]})
    >>> ss = SliceSet(df, [keyword_sf("check")])
    >>> table = ScoreTable(ss, golds=[1, 0, 1], preds=[1, 0, 0], metrics=["accuracy"])
    >>> 'data-slice="keyword_check"' in table.table.value
    True
    """

    shown = traitlets.Unicode(None, allow_none=True, read_only=True,
                              help="The name of the predictions shown.")
    prediction_revision = traitlets.Int(0, read_only=True,
                                        help="Bumped when the shown predictions change.")
    refresh_count = traitlets.Int(0, read_only=True, help="Refreshes so far.")
    last_refresh_s = traitlets.Float(0.0, read_only=True, help="Seconds the last one took.")

    def __init__(
        self,
        slice_set: SliceSet,
        golds: Sequence[int] | np.ndarray | None = None,
        preds: Sequence[int] | np.ndarray | None = None,
        probs: np.ndarray | None = None,
        scorer: Scorer | None = None,
        metrics: Sequence[str] = ("accuracy", "f1"),
        *,
        confidence: float = 0.95,
        n_boot: int = 1000,
        random_state: int | None = 0,
        show_chart: bool = True,
        auto_refresh: bool = True,
    ) -> None:
        super().__init__()
        self.slice_set = slice_set
        n = len(slice_set.df)
        if golds is not None:
            golds = np.asarray(golds)
            _check_length(golds, n, "golds", "gold label")
        self.golds = golds
        self.scorer = scorer if scorer is not None else Scorer(metrics=list(metrics))
        self.confidence = confidence
        self.n_boot = n_boot
        self.random_state = random_state
        self.auto_refresh = auto_refresh
        self.preds: np.ndarray | None = None
        self.probs: np.ndarray | None = None
        self._report: Any = None
        self._frame: pd.DataFrame = pd.DataFrame(columns=REPORT_COLUMNS)
        self._overall: dict[str, float] = {}
        self._refresher = Debouncer(self.refresh)

        metric_names = list(self.scorer.metrics)
        self.sort_by = widgets.Dropdown(options=list(SORT_OPTIONS), value="gap",
                                        description="sort by", style=_INITIAL,
                                        layout=widgets.Layout(width="auto"))
        self.metric = widgets.Dropdown(options=metric_names,
                                       value=metric_names[0] if metric_names else None,
                                       description="metric", style=_INITIAL,
                                       layout=widgets.Layout(width="auto"))
        self.chart_toggle = widgets.Checkbox(value=show_chart, description="chart", indent=False,
                                             layout=widgets.Layout(width="auto"))
        self.refresh_button = widgets.Button(icon="refresh", tooltip="Recompute",
                                             layout=widgets.Layout(width="36px"))
        self.predictions: dict[str, tuple[np.ndarray | None, np.ndarray | None]] = {}
        self.prediction_notes: dict[str, str] = {}
        self.comparison: Any = None
        self.model_select = widgets.Dropdown(options=[], description="model", style=_INITIAL,
                                             layout=widgets.Layout(width="auto"))
        self.model_select.add_class("sw-score-model")
        self.compare_select = widgets.Dropdown(options=[NO_COMPARISON], value=NO_COMPARISON,
                                               description="compare with", style=_INITIAL,
                                               layout=widgets.Layout(width="auto"))
        self.compare_select.add_class("sw-score-compare")
        self.compare_html = widgets.HTML("")
        self.compare_html.add_class("sw-compare")
        self.status = widgets.HTML("")
        self.status.add_class("sw-score-status")
        self.table = widgets.HTML("")
        self.table.add_class("sw-score-table-html")
        self.chart = widgets.HTML("")
        self.chart.add_class(_style.SCORE_CHART)
        self._init_error()

        self.sort_by.observe(self._guard(lambda _: self.render(), "sorting"), names="value")
        self.metric.observe(self._guard(lambda _: self.render(), "changing metric"),
                            names="value")
        self.chart_toggle.observe(self._guard(lambda _: self._render_chart(), "drawing"),
                                  names="value")
        self.refresh_button.on_click(self._guard(lambda _: self.refresh(), "refreshing"))
        self.model_select.observe(self._guard(self._on_model, "switching models"),
                                  names="value")
        self.compare_select.observe(self._guard(lambda _: self._refresh_comparison(),
                                                "comparing models"), names="value")
        self.children = [
            _style.style_widget(),
            widgets.HBox([self.sort_by, self.metric, self.chart_toggle, self.refresh_button],
                         layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox([self.model_select, self.compare_select],
                         layout=widgets.Layout(flex_flow="row wrap")),
            self.status, self.error, self.table, self.compare_html, self.chart,
        ]
        self.add_class(_style.SCORE_TABLE)
        self._subscribe(slice_set, self._guard(self._on_events, "refreshing"))
        if preds is not None or probs is not None:
            self.set_predictions(preds, probs, name="baseline")
        else:
            self.refresh()

    # -- inputs -------------------------------------------------------------------------------
    def _checked(self, preds: Any, probs: Any) -> tuple[Any, Any]:
        n = len(self.slice_set.df)
        if probs is not None:
            probs = np.asarray(probs, dtype=float)
            _check_length(probs, n, "probs", "row of probabilities")
        if preds is None and probs is not None:
            from slicewidgets.utils import probs_to_preds

            preds = probs_to_preds(probs)
        if preds is not None:
            preds = np.asarray(preds)
            _check_length(preds, n, "preds", "prediction")
        return preds, probs

    # -- results (a pending debounced refresh runs first) --------------------------------------
    @property
    def report(self) -> Any:
        self._refresher.flush()
        return self._report

    @property
    def frame(self) -> pd.DataFrame:
        self._refresher.flush()
        return self._frame

    @property
    def overall(self) -> dict[str, float]:
        self._refresher.flush()
        return self._overall

    def set_predictions(self, preds: Any = None, probs: Any = None, *,
                        name: str | None = None, note: str = "") -> None:
        """Score new predictions; lengths are checked first.

        ``name`` (default: the predictions shown now, or ``"baseline"``) is the entry in the
        model list; an existing entry is replaced. ``note``: a warning shown in red with
        these predictions (e.g. "trained on these rows").

        Raises
        ------
        ValueError
            If ``preds`` or ``probs`` does not have one entry per row (also shown in
            :attr:`error`; the previous predictions stay in place).
        """
        name = name or self.shown or "baseline"
        self.add_predictions(name, preds, probs, note=note)

    def add_predictions(self, name: str, preds: Any = None, probs: Any = None, *,
                        note: str = "", select: bool = True) -> None:
        """Add (or replace) the predictions ``name`` in the model list and show them
        (``select=True``); the model list lets the user switch back."""
        try:
            preds, probs = self._checked(preds, probs)
        except ValueError as err:
            self._show_exception(err, "setting predictions")
            raise
        self.predictions[name] = (preds, probs)
        self.prediction_notes[name] = note
        names = list(self.predictions)
        with self.model_select.hold_sync(), self.compare_select.hold_sync():
            if list(self.model_select.options) != names:
                current = self.model_select.value
                self._switching = True
                try:
                    self.model_select.options = names
                    self.model_select.value = current if current in names else None
                finally:
                    self._switching = False
            others = [NO_COMPARISON, *names]
            if list(self.compare_select.options) != others:
                keep = self.compare_select.value
                self.compare_select.options = others
                self.compare_select.value = keep if keep in others else NO_COMPARISON
        if select and self.model_select.value != name:
            self.model_select.value = name  # -> _on_model -> _show
        elif self.model_select.value == name:
            self._show(name)

    def _on_model(self, change: dict) -> None:
        if not getattr(self, "_switching", False) and change["new"] is not None:
            self._show(change["new"])

    def _show(self, name: str) -> None:
        self.preds, self.probs = self.predictions[name]
        self.set_trait("shown", name)
        self.set_trait("prediction_revision", self.prediction_revision + 1)
        self.refresh()

    def on_predictions(self, callback: Callable[[Any, Any], None]) -> None:
        """Call ``callback(preds, probs)`` whenever the predictions shown change (an
        observer of :attr:`prediction_revision`)."""
        self.observe(lambda _: callback(self.preds, self.probs), names="prediction_revision")

    def _on_events(self, events: Events) -> None:
        if self.auto_refresh:
            self._refresher()  # debounced inside a kernel

    def close(self) -> None:
        """Drop a pending refresh, release the subscriptions, close the widgets."""
        self._refresher.cancel()
        super().close()

    # -- computing ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Recompute the report from the SliceSet and redraw (errors are shown, not raised)."""
        self._refresher.cancel()  # this refresh covers any pending one
        start = time.perf_counter()
        try:
            self._compute()
        except Exception as err:
            self._show_exception(err, "scoring the slices")
            self._report = None
            self._frame = pd.DataFrame(columns=REPORT_COLUMNS)
        else:
            self._clear_error()
        self._compute_comparison()
        self.render()
        self.set_trait("refresh_count", self.refresh_count + 1)
        self.set_trait("last_refresh_s", time.perf_counter() - start)

    def _compute(self) -> None:
        ss = self.slice_set
        n = len(ss.df)
        membership = ss.membership()
        sizes = membership.sizes
        if self.golds is None or self.preds is None:
            self._report = None
            self._overall = {}
            self._frame = pd.DataFrame({
                "slice": membership.names, "n": sizes.astype(int), "metric": "",
                "score": np.nan, "ci_low": np.nan, "ci_high": np.nan, "gap": np.nan,
                "p_value": np.nan, "q_value": np.nan, "flag": "", "reason": "",
            }, columns=REPORT_COLUMNS)
            return
        _check_length(self.golds, n, "golds", "gold label")
        _check_length(self.preds, n, "preds", "prediction")
        try:
            from slicewidgets.analysis.report import slice_report  # noqa: F401
        except ImportError:  # statistics module unavailable: plain scores and sizes
            self._report = None
            scores = self.scorer.score_slices(membership, self.golds, self.preds, self.probs)
            self._overall = dict(scores.pop("overall"))
            rows = []
            for j, name in enumerate(membership.names):
                for metric, value in scores[name].items():
                    gap = value - self._overall.get(metric, np.nan)
                    rows.append((name, int(sizes[j]), metric, value, np.nan, np.nan, gap,
                                 np.nan, np.nan, "", ""))
            self._frame = pd.DataFrame(rows, columns=REPORT_COLUMNS)
            return
        report = self.scorer.slice_report(
            membership, self.golds, self.preds, self.probs, confidence=self.confidence,
            n_boot=self.n_boot, random_state=self.random_state)
        self._report = report
        self._overall = dict(report.overall)
        self._frame = report.to_frame(include_overall=False)

    def _compute_comparison(self) -> None:
        other = self.compare_select.value
        shown = self.shown
        self.comparison = None
        if other in (None, NO_COMPARISON) or shown is None or other == shown \
                or self.golds is None or other not in self.predictions:
            return
        from slicewidgets.analysis.compare import compare_models

        preds_a, probs_a = self.predictions[other]
        preds_b, probs_b = self.predictions[shown]
        if preds_a is None or preds_b is None:  # sizes-only entries: nothing to compare
            return
        metric = self.metric.value or "accuracy"
        self.comparison = compare_models(
            self.slice_set.membership(), self.golds, preds_a, preds_b,
            probs_a=probs_a, probs_b=probs_b, metrics=[metric], names=(other, shown),
            confidence=self.confidence, n_boot=self.n_boot, random_state=self.random_state)

    def _refresh_comparison(self) -> None:
        try:
            self._compute_comparison()
        except Exception as err:
            self.comparison = None
            self._show_exception(err, "comparing models")
        self._render_comparison()

    def _render_comparison(self) -> None:
        comp = self.comparison
        if comp is None:
            self.compare_html.value = ""
            return
        a, b = self.compare_select.value, self.shown
        frame = comp.to_frame()
        rows = []
        for r in frame.itertuples(index=False):
            flag = r.flag if isinstance(r.flag, str) else ""
            cls = " class='sw-overall'" if r.slice == "overall" else (
                f" class='sw-flag-{escape(flag)}'" if flag else "")
            ci = "" if is_missing(r.ci_low) else (
                f" <span class='sw-ci'>[{_score(r.ci_low)}, {_score(r.ci_high)}]</span>")
            sign = "+" if not is_missing(r.delta) and r.delta > 0 else ""
            reason = escape(r.reason if isinstance(r.reason, str) else "")
            rows.append(
                f"<tr data-slice=\"{escape(r.slice)}\"{cls}><td class='sw-name'>"
                f"{escape(r.slice)}</td><td class='sw-n'>{int(r.n):,}</td>"
                f"<td class='sw-num'>{_score(r.score_a)}</td><td class='sw-num'>{_score(r.score_b)}"
                f"</td><td class='sw-num sw-score'>{sign}{_score(r.delta)}{ci}</td>"
                f"<td class='sw-flag' title=\"{reason}\">{escape(flag)}</td></tr>")
        metric = escape(self.metric.value or "")
        self.compare_html.value = (
            f"<table class='sw-table sw-compare-table'><caption>{escape(b)} against "
            f"{escape(a)}, {metric}: paired {comp_confidence(self.confidence)} intervals of "
            f"the difference, flags test it</caption><thead><tr><th>slice</th><th>n</th>"
            f"<th>{escape(a)}</th><th>{escape(b)}</th><th>Δ {metric}</th><th>flag (Δ)</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")

    # -- rendering ----------------------------------------------------------------------------
    def _wide(self) -> tuple[list[str], dict[str, dict]]:
        """Slice order (sorted) and per-slice rows ``{slice: {"n": n, metric: {...}}}``."""
        rows: dict[str, dict] = {}
        frame = self._frame
        cols = [frame[c].tolist() for c in REPORT_COLUMNS]
        for name, n, metric, score, lo, hi, gap, _p, q, flag, reason in zip(*cols, strict=True):
            row = rows.setdefault(name, {"n": int(n)})
            if metric:
                row[metric] = {"score": score, "lo": lo, "hi": hi, "gap": gap, "q": q,
                               "flag": flag if isinstance(flag, str) else "",
                               "reason": reason if isinstance(reason, str) else ""}
        metric = self.metric.value
        key = self.sort_by.value

        def value(s: str, field: str) -> tuple:
            v = rows[s].get(metric, {}).get(field, math.nan)
            v = math.nan if is_missing(v) else float(v)
            return (math.isnan(v), v)

        names = list(rows)
        if key == "name":
            names.sort(key=str.lower)
        elif key == "n":
            names.sort(key=lambda s: -rows[s]["n"])
        elif key == "score":
            names.sort(key=lambda s: value(s, "score"))
        else:  # gap: worst first
            names.sort(key=lambda s: value(s, "gap"))
        return names, rows

    def render(self) -> None:
        """Redraw the table and chart from :attr:`frame` (no recomputation)."""
        if self._refresher.pending:  # a refresh is due: it redraws
            self._refresher.flush()
            return
        names, rows = self._wide()
        scored = self.preds is not None and self.golds is not None
        metrics = [m for m in self.scorer.metrics if m in set(self._frame["metric"])] \
            if scored else []
        n_total = len(self.slice_set.df)
        primary = self.metric.value
        if metrics:  # gap and flag under one head naming the metric they test
            span = " rowspan='2'"
            test = escape(f"the gap to overall and the test against the rest of the rows, "
                          f"of {primary} (pick the metric above)")
            head = [f"<th{span}>slice</th>", f"<th{span}>n</th>"]
            head += [f"<th{span}>{escape(m)}</th>" for m in metrics]
            head += [f"<th colspan='2' class='sw-test-head' title=\"{test}\">"
                     f"{escape(primary)} vs the rest</th></tr><tr><th>gap ({escape(primary)})</th>"
                     f"<th class='sw-flag-head'>flag</th>"]
        else:
            head = ["<th>slice</th>", "<th>n</th>"]
        out = ["<table class='sw-table sw-scores'><thead><tr>", "".join(head),
               "</tr></thead><tbody>"]
        if metrics and self._overall:
            cells = [f"<td>overall</td><td class='sw-num'>{n_total:,}</td>"]
            cells += [f"<td class='sw-num'>{_score(self._overall.get(m))}</td>" for m in metrics]
            cells += ["<td></td><td></td>"]
            out.append(f"<tr class='sw-overall'>{''.join(cells)}</tr>")
        empty: dict = {}
        for name in names:
            row = rows[name]
            main = row.get(primary, empty)
            flag = main.get("flag", "")
            cls = f" class='sw-flag-{escape(flag)}'" if flag else ""
            cells = [f"<td class='sw-name'>{escape(name)}</td>",
                     f"<td class='sw-n'>{row['n']:,}</td>"]
            for m in metrics:
                r = row.get(m, empty)
                lo, hi = r.get("lo"), r.get("hi")
                ci = ""
                if not (is_missing(lo) or is_missing(hi)):
                    ci = f" <span class='sw-ci'>[{_score(lo)}, {_score(hi)}]</span>"
                cells.append(f"<td class='sw-num sw-score'>{_score(r.get('score'))}{ci}</td>")
            if metrics:
                gap = main.get("gap")
                sign = "+" if not is_missing(gap) and gap > 0 else ""
                cells.append(f"<td class='sw-num sw-gap'>{sign}{_score(gap)}</td>")
                title = escape(main.get("reason", ""))
                cells.append(f"<td class='sw-flag' title=\"{title}\">{escape(flag)}</td>")
            out.append(f"<tr data-slice=\"{escape(name)}\"{cls}>{''.join(cells)}</tr>")
        out.append("</tbody></table>")
        enabled = len(self.slice_set.enabled_names)  # not the rows drawn: scoring may fail
        total = len(self.slice_set)
        note = f"{enabled} slice{'s' if enabled != 1 else ''}"
        shown = self.shown
        if total != enabled:
            note += f" ({total - enabled} disabled)"
        note += f" · {n_total:,} rows"
        if not scored:
            note += " · sizes only: pass golds= and preds= (or call set_predictions) to score"
        elif self._report is not None:
            note += (f" · {self._report.confidence:.0%} intervals, flags at q < "
                     f"{self._report.alpha:g} on {primary}")
        head_html = ""
        if scored and shown is not None:
            head_html = f"<b class='sw-model-name'>{escape(shown)}</b> · "
            warn = self.prediction_notes.get(shown, "")
            if warn:
                head_html = (f"<span class='sw-leak' title=\"{escape(warn)}\">⚠ "
                             f"{escape(shown)}: {escape(warn)}</span><br>") + head_html
        # one message per widget: each value is set once (hold_sync would batch nothing)
        self.table.value = "".join(out)
        self.status.value = head_html + escape(note)
        if scored and shown is not None and self.prediction_notes.get(shown):
            self.add_class("sw-leaky")
        else:
            self.remove_class("sw-leaky")
        self._render_comparison()
        self._render_chart(names, rows)

    def _render_chart(self, names: list[str] | None = None, rows: dict | None = None) -> None:
        if not self.chart_toggle.value or self.preds is None or self.golds is None:
            self.chart.value = ""
            self.chart.layout.display = "none"
            return
        if names is None or rows is None:
            names, rows = self._wide()
        metric = self.metric.value or ""
        items = []
        for name in names:
            r = rows[name].get(metric, {})
            items.append((name, r.get("score", math.nan), r.get("lo", math.nan),
                          r.get("hi", math.nan), r.get("flag", "")))
        self.chart.layout.display = None
        self.chart.value = bar_chart_svg(items, overall=self._overall.get(metric, math.nan),
                                         metric=metric)


def _overall_from_report(report: Any, frame: pd.DataFrame) -> dict[str, float]:
    overall = getattr(report, "overall", None)
    if isinstance(overall, dict):
        return {k: float(v) for k, v in overall.items() if not isinstance(v, dict)}
    if isinstance(overall, pd.Series):
        return {str(k): float(v) for k, v in overall.items()}
    rows = frame[frame["slice"] == "overall"]
    return {m: float(s) for m, s in zip(rows["metric"], rows["score"], strict=True)}
