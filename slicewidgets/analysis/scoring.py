"""The scoring core of the ``Scorer``: a model's metrics overall and on every slice."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, cast

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from slicewidgets.analysis._column_counts import counts_of, keyed_membership
from slicewidgets.analysis._fast import (
    BINARY_COUNT_METRICS,
    COUNT_METRICS,
    is_binary,
    metric_from_counts,
    overall_counts,
    row_indicators,
)
from slicewidgets.analysis.metrics import METRICS, MetricName, metric_score
from slicewidgets.analysis.validation import check_aligned, check_labels
from slicewidgets.membership import MembershipLike, membership_values

__all__ = ["BaseScorer", "PROBS_METRICS"]

PROBS_METRICS = tuple(name for name, m in METRICS.items() if "probs" in m.inputs)


class BaseScorer:
    """What a :class:`~slicewidgets.analysis.Scorer` is, less its shortcut to reports: the
    metrics, the input checks and the scores, overall and per slice.

    The per-slice report (:mod:`~slicewidgets.analysis.report`) builds on this class; the
    ``Scorer`` users import adds :meth:`~slicewidgets.analysis.Scorer.slice_report` on top,
    so imports point one way (``scorer -> report -> scoring``). Use ``Scorer``.

    Examples
    --------
    >>> BaseScorer(["accuracy"]).score(np.array([1, 0, 1]), np.array([1, 1, 1]))
    {'accuracy': 0.6666666666666666}
    """

    def __init__(
        self,
        metrics: Sequence[str] | str | None = None,
        custom_metric_funcs: Mapping[str, Callable[..., Any]] | None = None,
        abstain_label: int | None = -1,
    ) -> None:
        if metrics is None:
            metrics = []
        if isinstance(metrics, str):
            metrics = [metrics]
        self._abstain_label = abstain_label
        self.metrics: dict[str, Callable[..., Any]] = {}
        # the built-in metric functions this scorer made: a name counts as built-in only
        # while self.metrics still holds that very function, so a custom function of the
        # same name (given now or set later) is used everywhere, as in Snorkel
        self._builtin_funcs: dict[str, Callable[..., Any]] = {}
        for metric in metrics:
            if metric not in METRICS:
                raise ValueError(
                    f"Unrecognized metric: {metric}. Choose from {sorted(METRICS)} or pass "
                    "custom_metric_funcs={name: func}."
                )
            func = _builtin_metric(metric, abstain_label)
            self.metrics[metric] = func
            self._builtin_funcs[metric] = func
        if custom_metric_funcs is not None:
            self.metrics.update(custom_metric_funcs)

    @property
    def abstain_label(self) -> int | None:
        """Rows whose gold or predicted label equals it are not scored by the built-in
        metrics (``coverage`` aside); ``None`` scores every row.

        Setting it after construction re-filters the built-in metrics, so every path
        (:meth:`score`, :meth:`score_slices`, reports, comparisons) uses the new value
        (Snorkel's ``Scorer`` keeps the old filter in its metric functions).
        """
        return self._abstain_label

    @abstain_label.setter
    def abstain_label(self, value: int | None) -> None:
        for name, old in list(self._builtin_funcs.items()):
            func = _builtin_metric(name, value)
            if self.metrics.get(name) is old:
                self.metrics[name] = func
            self._builtin_funcs[name] = func
        self._abstain_label = value

    def __repr__(self) -> str:
        return f"Scorer(metrics={list(self.metrics)}, abstain_label={self.abstain_label})"

    @property
    def builtin_metrics(self) -> tuple[str, ...]:
        """The metrics scored by the built-in functions of :data:`METRICS`, in order.

        The others are custom functions, including one given under a built-in name
        (``custom_metric_funcs={"accuracy": f}``): ``f`` is then used everywhere.
        """
        return tuple(name for name, func in self.metrics.items()
                     if self._builtin_funcs.get(name) is func)

    # -- validation ---------------------------------------------------------------------------
    def check_inputs(
        self, golds: ArrayLike, preds: ArrayLike | None = None, probs: ArrayLike | None = None,
        *, S_len: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """``golds``, ``preds`` and ``probs`` as arrays, checked for this scorer's metrics.

        Labels become integer arrays, ``probs`` a 2-D float array; every array (and ``S``, of
        ``S_len`` rows) must have the same length, and ``probs`` rows must sum to 1 when a
        probability metric is scored. Raises ``ValueError`` naming what differs.
        """
        probs_metrics = [m for m in self.builtin_metrics if m in PROBS_METRICS]
        return check_labels(golds, preds, probs, S_len=S_len, probs_metrics=probs_metrics)

    # -- scoring ------------------------------------------------------------------------------
    def score(
        self,
        golds: ArrayLike,
        preds: ArrayLike | None = None,
        probs: ArrayLike | None = None,
    ) -> dict[str, float]:
        """Every metric on all rows: ``{metric: score}``."""
        if len(np.asarray(golds)) == 0:
            raise ValueError("Cannot score empty labels")
        golds, preds, probs = self.check_inputs(golds, preds, probs)
        return self._score(golds, preds, probs)

    def _score(self, golds: np.ndarray, preds: np.ndarray | None, probs: np.ndarray | None,
               skip: Mapping[str, float] | None = None) -> dict[str, float]:
        result: dict[str, float] = {}
        for name, func in self.metrics.items():
            if skip and name in skip:
                result[name] = skip[name]
                continue
            value = func(golds, preds, probs)
            if isinstance(value, dict):
                result.update(value)
            else:
                result[name] = value
        return result

    def score_slices(
        self,
        S: MembershipLike,
        golds: ArrayLike,
        preds: ArrayLike | None = None,
        probs: ArrayLike | None = None,
        as_dataframe: bool = False,
    ) -> dict[str, dict[str, float]] | pd.DataFrame:
        """Every metric overall and on every slice.

        Parameters
        ----------
        S
            Slice membership: Snorkel's recarray from ``PandasSFApplier.apply``, a
            ``SliceMembership``, a DataFrame of 0/1 columns, or a dict of masks.
        golds, preds, probs
            Labels, predictions, probabilities (``probs`` only for probability metrics).
        as_dataframe
            Return a DataFrame (index ``overall`` then the slices, one column per metric).

        Returns
        -------
        dict or DataFrame
            ``{slice: {metric: score}}``, ``"overall"`` first.

        Raises
        ------
        ValueError
            ``S``, ``golds``, ``preds`` and ``probs`` differ in length, or those that are
            pandas objects carry different indexes (rows are paired by position, never
            silently realigned; the pandas masks of a dict ``S`` too); two slices share a name
            (after ``str()``); empty labels; a slice named ``overall`` that is not every row;
            or a metric cannot be computed on all the rows (as :meth:`score`).

        Notes
        -----
        Differences from Snorkel, on purpose:

        * a slice with no row to score (empty, or only abstains) gets NaN instead of raising
          ``ValueError("Cannot score empty labels")``; so does a slice on which a metric is
          undefined and raises (``roc_auc`` with one class);
        * a ``-1`` in ``S`` (Snorkel's abstain or fault value) is not membership (Snorkel
          casts it to ``True``);
        * ``preds`` and ``probs`` are optional (Snorkel needs ``probs`` even when unused).

        Speed: accuracy and coverage (any labels), and precision, recall, F1 and Matthews'
        correlation (binary labels) are computed for the overall row and all slices at once
        from confusion counts (``_fast.py``), bit-identical to scikit-learn on each slice;
        other metrics (``roc_auc``, multiclass ones, custom functions) run once per slice.

        Examples
        --------
        >>> from slicewidgets.analysis import Scorer
        >>> S = np.rec.fromarrays([np.array([1, 1, 0, 0]), np.array([0, 0, 0, 0])],
        ...                       names="first_two,empty")
        >>> Scorer(metrics=["accuracy"]).score_slices(S, np.array([1, 0, 1, 1]),
        ...                                           np.array([1, 0, 0, 1]))
        {'overall': {'accuracy': 0.75}, 'first_two': {'accuracy': 1.0}, 'empty': {'accuracy': nan}}
        """
        check_aligned(S=S, golds=golds, preds=preds, probs=probs)
        M: np.ndarray | None
        keyed = keyed_membership(S)
        if keyed is not None:  # a SliceSet's membership: counted per mask, no matrix built
            names, M, n_rows = list(keyed.names), None, len(keyed)
        else:  # boolean, or a numeric view (positive = member)
            names, M = membership_values(S)
            # no slice: nothing says how many rows S has (as in slice_report, compare_models)
            n_rows = M.shape[0] if names else len(np.asarray(golds))
        if "overall" in names:  # harmless only when it is every row (the same scores)
            j = names.index("overall")
            member = (keyed.column(j) if keyed is not None else cast(np.ndarray, M)[:, j]) > 0
            if not member.all():
                raise ValueError(
                    f"A slice is named 'overall' but holds {int(member.sum())} of "
                    f"{len(member)} rows; score_slices' 'overall' row is all the rows, so one "
                    "would replace the other. Rename the slice (e.g. SF(name=...) or "
                    "S.rename(columns={'overall': 'overall_slice'})); slice_report accepts "
                    "the name."
                )
        if len(np.asarray(golds)) == 0:
            raise ValueError("Cannot score empty labels")
        golds, preds, probs = self.check_inputs(golds, preds, probs, S_len=n_rows)
        fast = self._fast_metrics(golds, preds)  # empty when preds is None
        fast_preds = preds if preds is not None else golds  # read only when fast
        overall_fast: dict[str, float] = {}
        V = row_indicators(golds, fast_preds, self.abstain_label) if fast else None
        if fast:
            c = overall_counts(golds, fast_preds, self.abstain_label, indicators=V)
            if c["n_valid"][0] > 0:  # else scikit-learn decides (and raises) as in Snorkel
                overall_fast = {m: float(metric_from_counts(m, c)[0]) for m in fast}
        overall = self._score(golds, preds, probs, skip=overall_fast)
        columns = list(overall)
        k = len(names)
        rows: list[dict[str, float]] = [dict.fromkeys(columns, np.nan) for _ in range(k)]
        if fast and k:
            assert V is not None
            counts = counts_of(S, lambda: cast(np.ndarray, M), golds, fast_preds,
                               self.abstain_label, indicators=V)
            for m in fast:
                for j, value in enumerate(metric_from_counts(m, counts).tolist()):
                    rows[j][m] = value
        slow = [name for name in self.metrics if name not in fast]
        if slow and k:
            if M is None:
                assert keyed is not None
                M = keyed.matrix
            if M.dtype != bool:
                M = M > 0
            sizes = np.count_nonzero(M, axis=0)
            for j in np.flatnonzero(sizes).tolist():
                idx = np.flatnonzero(M[:, j])
                rows[j].update(self._score_subset(
                    slow, golds[idx], None if preds is None else preds[idx],
                    None if probs is None else probs[idx],
                ))
        result: dict[str, dict[str, float]] = {"overall": overall}
        for name, row in zip(names, rows, strict=True):
            result[name] = row
        if as_dataframe:
            return _as_dataframe(result, columns)
        return result

    def _fast_metrics(self, golds: np.ndarray, preds: np.ndarray | None) -> list[str]:
        """Built-in metrics computable from confusion counts for these labels."""
        if preds is None:
            return []
        binary = None
        out = []
        for m in self.builtin_metrics:
            if m in COUNT_METRICS:
                out.append(m)
            elif m in BINARY_COUNT_METRICS and m != "fbeta":
                if binary is None:
                    binary = is_binary(golds, preds, self.abstain_label)
                if binary:
                    out.append(m)
        return out

    def _score_subset(self, names: Sequence[str], golds: np.ndarray, preds: np.ndarray | None,
                      probs: np.ndarray | None) -> dict[str, float]:
        result: dict[str, float] = {}
        for name in names:
            try:
                value = self.metrics[name](golds, preds, probs)
            except ValueError:
                # undefined on this slice (e.g. roc_auc with one class, or nothing left after
                # removing abstains); the overall score has already validated the inputs
                value = np.nan
            if isinstance(value, dict):
                result.update(value)
            else:
                result[name] = value
        return result


def _builtin_metric(metric: str, abstain_label: int | None) -> Callable[..., Any]:
    """The built-in ``metric`` as ``func(golds, preds, probs)``, abstains filtered out."""
    filter_dict = (
        {} if abstain_label is None or metric == "coverage"
        else {"golds": [abstain_label], "preds": [abstain_label]}
    )
    return partial(metric_score, metric=cast(MetricName, metric), filter_dict=filter_dict)


def _as_dataframe(result: dict[str, dict[str, float]], columns: list[str]) -> pd.DataFrame:
    """``pd.DataFrame.from_dict(result).transpose()`` (Snorkel's layout), built directly when
    every row has the same float columns."""
    rows = list(result.values())
    if len(set(result)) == len(result) and all(list(r) == columns for r in rows) and all(
        type(v) is float for r in rows for v in r.values()
    ):
        values = np.array([list(r.values()) for r in rows], dtype=float).reshape(
            len(rows), len(columns))
        return pd.DataFrame(values, index=list(result), columns=columns)
    return pd.DataFrame.from_dict(result).transpose()
