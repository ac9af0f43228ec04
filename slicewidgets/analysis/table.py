"""The immutable result table behind :class:`~slicewidgets.analysis.SliceReport` and
:class:`~slicewidgets.analysis.compare.ModelComparison`.

Per-metric estimates become columns (:func:`table_columns`), held as read-only NumPy arrays;
:class:`ResultTable` sorts, selects and renders them (through :mod:`.rendering`) without
recomputing anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from slicewidgets.analysis.rendering import (
    REPORT_DISPLAY,
    SLICE_REPORT_CSS,
    render_html,
    render_text,
)
from slicewidgets.analysis.validation import RandomState

__all__ = ["ResultTable", "stack_results", "table_columns"]

_Table = TypeVar("_Table", bound="ResultTable")

def stack_results(results: Mapping[str, Any], attrs: Sequence[str]) -> list[np.ndarray]:
    """Each attribute of the per-metric results as one slice-major column (metrics within)."""
    if not results:
        return [np.zeros(0) for _ in attrs]
    return [np.stack([getattr(res, attr) for res in results.values()], axis=1).reshape(-1)
            for attr in attrs]


def table_columns(public: Sequence[str], labels: Sequence[str], sizes: np.ndarray,
                   results: Mapping[str, Any], row_flag: Any, **values: np.ndarray
                   ) -> dict[str, np.ndarray]:
    """The columns of a result table from per-metric results (``SliceReport``,
    ``ModelComparison``): rows slice-major (the reference ``overall`` first), metrics in
    order within a slice.

    ``row_flag(j, r, res)`` gives the flag, reason and test of row ``r`` (slice ``j``, result
    ``res``); the result's note, if any, is appended to the reason. ``values`` are the
    table's own columns; all columns come out in the order of ``public``, then ``_ref``.
    """
    k1, metrics = len(labels), list(results)
    n_m = len(metrics)
    flags, reasons, tests = [], [], []
    for j in range(k1):
        for i, m in enumerate(metrics):
            res = results[m]
            flag, reason, test = row_flag(j, j * n_m + i, res)
            if res.notes[j]:
                reason = f"{reason}; {res.notes[j]}"
            flags.append(flag)
            reasons.append(reason)
            tests.append(test)
    cols = {
        **values,
        "slice": np.repeat(np.asarray(labels, dtype=object), n_m),
        "n": np.repeat(np.asarray(sizes, dtype=np.int64), n_m),
        "metric": np.tile(np.asarray(metrics, dtype=object), k1),
        "flag": np.asarray(flags, dtype=object), "reason": np.asarray(reasons, dtype=object),
        "ci_method": np.tile(np.asarray([results[m].ci_method for m in metrics], dtype=object),
                             k1),
        "test": np.asarray(tests, dtype=object),
        "_ref": np.repeat(np.arange(k1) == 0, n_m),
    }
    return {c: cols[c] for c in (*public, "_ref")}



# -- the result object -------------------------------------------------------------------------
class ResultTable:
    """Base of the immutable result tables: columns computed once, copies on the way out.

    Rows are held as read-only NumPy columns (a DataFrame is only built by :meth:`to_frame`)
    plus a private boolean column ``_ref`` marking the reference (``overall``) rows, so that
    a slice may itself be called "overall".
    """

    _cols: dict[str, np.ndarray]  # the columns, read-only
    _meta: dict[str, Any]  # the options the table was computed with
    _columns: tuple[tuple[str, str, str], ...] = REPORT_DISPLAY
    #: the columns of :meth:`to_frame`, in order (set by each table)
    _public: tuple[str, ...] = ()

    def __init__(self, rows: pd.DataFrame | Mapping[str, Any], **meta: Any) -> None:
        if isinstance(rows, pd.DataFrame):
            cols = {str(c): rows[c].to_numpy() for c in rows.columns}
        else:
            cols = {str(c): np.asarray(v) for c, v in rows.items()}
        if "_ref" not in cols:
            cols["_ref"] = np.asarray(cols["slice"] == "overall", dtype=bool)
        for value in cols.values():
            value.flags.writeable = False
        object.__setattr__(self, "_cols", cols)
        object.__setattr__(self, "_meta", dict(meta))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; compute a new one instead.")

    def __len__(self) -> int:
        return len(self._cols["_ref"])

    @property
    def metrics(self) -> list[str]:
        """The metrics, in order."""
        return [str(m) for m in dict.fromkeys(self._cols["metric"].tolist())]

    @property
    def slices(self) -> list[str]:
        """The slice names, in order (without ``overall``)."""
        names = self._cols["slice"][~self._cols["_ref"]]
        return [str(s) for s in dict.fromkeys(names.tolist())]

    @property
    def confidence(self) -> float:
        """The nominal coverage of the intervals."""
        return self._meta["confidence"]

    @property
    def n_boot(self) -> int:
        """Bootstrap resamples used."""
        return self._meta["n_boot"]

    @property
    def alpha(self) -> float:
        """False discovery rate of the ``worse``/``better`` flags."""
        return self._meta["alpha"]

    @property
    def min_n(self) -> int:
        """Minimum scored rows below which a slice is ``no-evidence``."""
        return self._meta["min_n"]

    @property
    def max_width(self) -> float:
        """Maximum interval width above which a slice is ``no-evidence``."""
        return self._meta["max_width"]

    @property
    def random_state(self) -> RandomState:
        """The seed given (``None``: the fixed default seed)."""
        return self._meta["random_state"]

    def _by_metric(self, column: str) -> dict[str, float]:
        """``{metric: value of column in its reference (overall) row}``."""
        ref = self._cols["_ref"]
        return {str(m): float(v) for m, v in zip(self._cols["metric"][ref].tolist(),
                                                 self._cols[column][ref].tolist(), strict=True)}

    def _worst(self: _Table, k: int, metric: str | None, skip_no_evidence: bool) -> _Table:
        """The ``k`` slice rows with the most negative ``_gap_column`` for ``metric``, after
        that metric's reference row."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise ValueError(f"k must be an integer >= 0, got {k!r}.")
        metric = self._check_metric(metric)
        cols = self._cols
        gap = cols[self._gap_column]
        is_metric = cols["metric"] == metric
        candidates = is_metric & ~cols["_ref"] & ~np.isnan(gap.astype(float))
        if skip_no_evidence:
            candidates &= cols["flag"] != "no-evidence"
        idx = np.flatnonzero(candidates)
        idx = idx[np.argsort(gap[idx].astype(float), kind="stable")][: int(k)]
        return self._take(np.concatenate([np.flatnonzero(is_metric & cols["_ref"]), idx]))

    def _take(self: _Table, index: np.ndarray) -> _Table:
        return type(self)({k: v[index] for k, v in self._cols.items()}, **self._meta)

    def _check_metric(self, metric: str | None) -> str:
        metrics = self.metrics
        if metric is None:
            if not metrics:
                raise ValueError(f"This {type(self).__name__} has no metric.")
            return metrics[0]
        if metric not in metrics:
            raise ValueError(f"Unknown metric {metric!r}; this report has {metrics}.")
        return metric

    def _select(self, include_overall: bool = True, metric: str | None = None) -> np.ndarray:
        keep = np.ones(len(self), dtype=bool)
        if metric is not None:
            keep &= self._cols["metric"] == self._check_metric(metric)
        if not include_overall:
            keep &= ~self._cols["_ref"]
        return np.flatnonzero(keep)

    def to_frame(self, *, include_overall: bool = True, metric: str | None = None) -> pd.DataFrame:
        """The rows as a new DataFrame (``metric``: only that metric's rows)."""
        index = self._select(include_overall, metric)
        return pd.DataFrame({c: self._cols[c][index].copy() for c in self._public
                             if c in self._cols})

    def _order(self, by: str, ascending: bool) -> np.ndarray:
        if by not in self._public or by not in self._cols:
            raise ValueError(f"Cannot sort by {by!r}; choose one of {list(self._public)}.")
        key = self._cols[by]
        rank = {m: i for i, m in enumerate(self.metrics)}
        metric_rank = np.array([rank[m] for m in self._cols["metric"].tolist()], dtype=np.int64)
        if key.dtype.kind in "fiub":
            values = key.astype(float)
        else:  # text: sort by the rank of each value
            values = np.unique(key.astype(str), return_inverse=True)[1].astype(float)
        nan = np.isnan(values)
        values = np.where(nan, 0.0, values if ascending else -values)
        # np.lexsort: the last key is the primary one; ties keep the computed order
        return np.lexsort((np.arange(len(self)), values, nan, metric_rank, ~self._cols["_ref"]))

    def sorted(self: _Table, by: str = "gap", *, ascending: bool = True) -> _Table:
        """A copy sorted by ``by`` within each metric (``overall`` rows first, NaN last)."""
        return self._take(self._order(by, ascending))

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        report = self.sorted(self._default_sort) if self._default_sort else self
        return render_text(report._cols, self._display(), self._caption())

    _default_sort: str | None = "gap"

    #: the column of the difference to the reference: ``worst`` ranks by it
    _gap_column = "gap"

    def _headers(self) -> tuple[tuple[str, str, str], ...]:
        return self._columns

    def _display(self) -> tuple[tuple[str, str, str], ...]:
        display = self._headers()
        if len(self.metrics) == 1:
            display = tuple(c for c in display if c[0] != "metric")
        return display

    def _caption(self) -> str:  # pragma: no cover - overridden
        return type(self).__name__

    def _reference(self) -> dict[str, float]:  # pragma: no cover - overridden
        return {}

    def to_html(self, *, sort: str | None = "gap", include_overall: bool = True,
                metric: str | None = None, columns: Sequence[str] | None = None,
                css: bool = True) -> str:
        """The HTML table (the notebook rendering), fast enough to refresh live.

        Parameters
        ----------
        sort
            Sort within each metric by this column (``None``: in computed order).
        include_overall
            Show the ``overall`` rows (first).
        metric
            Only this metric.
        columns
            Show only these display columns, by name (see ``REPORT_DISPLAY`` or
            ``COMPARISON_DISPLAY``; e.g. slice, n, score, ci, bar, gap, p_value, q_value, flag,
            reason).
        css
            Include the style sheet (leave it out when the page already has it).
        """
        report = self.sorted(sort) if sort else self
        index = report._select(include_overall, metric)
        cols = {k: v[index] for k, v in report._cols.items()}
        display = self._display() if metric is None else tuple(
            c for c in self._columns if c[0] != "metric")
        if columns is not None:
            known = [c[0] for c in self._columns]
            unknown = set(columns) - set(known)
            if unknown:
                raise ValueError(f"Unknown display columns {sorted(unknown)}; choose from "
                                 f"{known}.")
            display = tuple(c for c in self._columns if c[0] in columns)
        return render_html(cols, display, caption=self._caption(), reference=self._reference(),
                           css=SLICE_REPORT_CSS if css else "", score_column=self._score_column,
                           reference_rows=cols["_ref"].tolist(),
                           bar_domain=self._bar_domain(cols))

    _score_column = "score"

    def _bar_domain(self, cols: Mapping[str, np.ndarray]) -> tuple[float, float] | None:
        return None


