"""The ``Scorer``: a model's metrics overall and on every slice."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from slicewidgets.analysis._fast import (
    BINARY_COUNT_METRICS,
    COUNT_METRICS,
    metric_from_counts,
    slice_counts,
)
from slicewidgets.analysis._membership import as_membership
from slicewidgets.analysis.metrics import METRICS, metric_score
from slicewidgets.utils import to_int_label_array

__all__ = ["Scorer"]

PROBS_METRICS = tuple(name for name, m in METRICS.items() if "probs" in m.inputs)


def _lengths_message(lengths: Mapping[str, int]) -> str:
    names = list(lengths)
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + ", and " + names[-1]
    parts = ", ".join(f"{k} has {v}" for k, v in lengths.items())
    return (
        f"{listed} must have the same number of elements: {parts}. "
        "Compute them on the same rows."
    )


class Scorer:
    """Score predictions with several metrics, overall and per slice.

    Parameters
    ----------
    metrics
        Names from :data:`slicewidgets.analysis.METRICS` (default: ``["accuracy"]``).
    custom_metric_funcs
        ``{name: func(golds, preds, probs) -> float | dict}``; not abstain-filtered.
    abstain_label
        Rows whose gold or predicted label equals it are ignored (except by ``coverage``);
        ``None`` scores every row.

    Examples
    --------
    >>> scorer = Scorer(metrics=["accuracy", "f1"])
    >>> scorer.score(np.array([1, 0, 1, 1]), np.array([1, 0, 0, 1]))
    {'accuracy': 0.75, 'f1': 0.8}
    >>> S = np.rec.fromarrays([np.array([1, 1, 0, 0])], names="first_two")
    >>> scorer.score_slices(S, np.array([1, 0, 1, 1]), np.array([1, 0, 0, 1]),
    ...                     as_dataframe=True)
               accuracy   f1
    overall        0.75  0.8
    first_two      1.00  1.0
    """

    def __init__(
        self,
        metrics: Sequence[str] | None = None,
        custom_metric_funcs: Mapping[str, Callable[..., Any]] | None = None,
        abstain_label: int | None = -1,
    ) -> None:
        if metrics is None:
            metrics = ["accuracy"]
        if isinstance(metrics, str):
            metrics = [metrics]
        self.abstain_label = abstain_label
        self.metrics: dict[str, Callable[..., Any]] = {}
        self._builtin: list[str] = []
        for metric in metrics:
            if metric not in METRICS:
                raise ValueError(
                    f"Unrecognized metric: {metric}. Choose from {sorted(METRICS)} or pass "
                    "custom_metric_funcs={name: func}."
                )
            filter_dict = (
                {} if abstain_label is None or metric == "coverage"
                else {"golds": [abstain_label], "preds": [abstain_label]}
            )
            self.metrics[metric] = partial(metric_score, metric=metric, filter_dict=filter_dict)
            self._builtin.append(metric)
        if custom_metric_funcs is not None:
            self.metrics.update(custom_metric_funcs)

    def __repr__(self) -> str:
        return f"Scorer(metrics={list(self.metrics)}, abstain_label={self.abstain_label})"

    # -- validation ---------------------------------------------------------------------------
    def _check(self, golds, preds, probs, S_len: int | None = None):
        golds = to_int_label_array(golds)
        if preds is not None:
            preds = to_int_label_array(preds)
        if probs is not None:
            probs = np.asarray(probs, dtype=float)
            if probs.ndim != 2:
                raise ValueError(
                    f"probs must have shape [n, n_classes], got {probs.shape}; build it with "
                    "preds_to_probs(preds, n_classes) or model.predict_proba(X)."
                )
        lengths = {} if S_len is None else {"S": S_len}
        lengths["golds"] = len(golds)
        if preds is not None:
            lengths["preds"] = len(preds)
        if probs is not None:
            lengths["probs"] = len(probs)
        if len(set(lengths.values())) > 1:
            raise ValueError(_lengths_message(lengths))
        if probs is not None and any(m in PROBS_METRICS for m in self._builtin):
            sums = probs.sum(axis=1)
            bad = np.flatnonzero(np.abs(sums - 1) > 1e-4)
            if len(bad):
                raise ValueError(
                    f"probs rows must sum to 1 for {[m for m in self._builtin if m in PROBS_METRICS]}"
                    f": row {int(bad[0])} sums to {sums[bad[0]]:.6g} ({len(bad)} rows off). "
                    "Pass probabilities (e.g. softmax outputs), not scores."
                )
        return golds, preds, probs

    # -- scoring ------------------------------------------------------------------------------
    def score(
        self,
        golds: np.ndarray,
        preds: np.ndarray | None = None,
        probs: np.ndarray | None = None,
    ) -> dict[str, float]:
        """Every metric on all rows: ``{metric: score}``."""
        if len(golds) == 0:
            raise ValueError("Cannot score empty labels")
        golds, preds, probs = self._check(golds, preds, probs)
        return self._score(golds, preds, probs)

    def _score(self, golds, preds, probs) -> dict[str, float]:
        result: dict[str, float] = {}
        for name, func in self.metrics.items():
            value = func(golds, preds, probs)
            if isinstance(value, dict):
                result.update(value)
            else:
                result[name] = value
        return result

    def score_slices(
        self,
        S: Any,
        golds: np.ndarray,
        preds: np.ndarray | None = None,
        probs: np.ndarray | None = None,
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
            ``{slice: {metric: score}}``. A slice with no row to score gets NaN.

        Notes
        -----
        Label metrics are computed for all slices at once from confusion counts (see
        ``_fast.py``); ``roc_auc`` and custom metrics run per slice.
        """
        names, M = as_membership(S)
        if len(golds) == 0:
            raise ValueError("Cannot score empty labels")
        golds, preds, probs = self._check(golds, preds, probs, S_len=M.shape[0])
        result: dict[str, dict[str, float]] = {"overall": self._score(golds, preds, probs)}
        per_slice = self._score_all_slices(M, golds, preds, probs)
        for j, name in enumerate(names):
            result[name] = {metric: values[j] for metric, values in per_slice.items()}
        if as_dataframe:
            return pd.DataFrame.from_dict(result).transpose()
        return result

    def slice_report(
        self,
        S: Any,
        golds: np.ndarray,
        preds: np.ndarray | None = None,
        probs: np.ndarray | None = None,
        *,
        confidence: float = 0.95,
        n_boot: int = 1000,
        random_state: int | None = None,
    ):
        """Per-slice scores with sizes, confidence intervals, gaps, tests and flags.

        See :func:`slicewidgets.analysis.report.slice_report`.
        """
        from slicewidgets.analysis.report import slice_report

        return slice_report(self, S, golds, preds, probs, confidence=confidence,
                            n_boot=n_boot, random_state=random_state)

    def _score_all_slices(self, M, golds, preds, probs) -> dict[str, list[float]]:
        k = M.shape[1]
        fast: dict[str, np.ndarray] = {}
        if preds is not None:
            binary = _is_binary(golds, preds, self.abstain_label)
            wanted = [m for m in self._builtin
                      if m in COUNT_METRICS or (binary and m in BINARY_COUNT_METRICS
                                                and m != "fbeta")]
            if wanted:
                counts = slice_counts(M, golds, preds, self.abstain_label)
                fast = {m: metric_from_counts(m, counts) for m in wanted}
        out: dict[str, list[float]] = {}
        for name in self.metrics:
            if name in fast:
                out[name] = [float(v) for v in fast[name]]
            else:
                out[name] = [np.nan] * k
        slow = [name for name in self.metrics if name not in fast]
        if slow:
            for j in range(k):
                idx = np.flatnonzero(M[:, j])
                if not len(idx):
                    continue
                scores = self._score_subset(slow, golds[idx],
                                            None if preds is None else preds[idx],
                                            None if probs is None else probs[idx])
                for name, value in scores.items():
                    out.setdefault(name, [np.nan] * k)[j] = value
        return out

    def _score_subset(self, names, golds, preds, probs) -> dict[str, float]:
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


def _is_binary(golds: np.ndarray, preds: np.ndarray, abstain_label: int | None) -> bool:
    values = np.union1d(np.unique(golds), np.unique(preds))
    if abstain_label is not None:
        values = values[values != abstain_label]
    return bool(np.isin(values, [0, 1]).all())
