"""Estimators: a score, an interval and a test against the rest, per metric and slice.

Each estimator returns a :class:`MetricEstimate` (arrays of length ``k + 1``, position 0 the
overall row) for one metric on every slice at once:

* :func:`wilson_estimate`: proportions (accuracy, coverage, precision, recall) from
  confusion counts: Wilson interval, two-proportion z or Fisher test;
* :func:`count_bootstrap_estimates`: F1 and MCC from confusion counts: a bootstrap drawn on
  the counts (multinomial), and a test on ``TP/(TP+FP+FN)`` (F1) or a delta-method z (MCC);
* :func:`roc_auc_estimate`: ROC AUC: a row bootstrap on sorted scores, Hanley-McNeil z;
* :func:`row_bootstrap_estimates`: any other metric function: a row bootstrap per slice.

The statistics themselves (intervals, tests, resampling) are in :mod:`.stats`; the counts in
:mod:`._fast`. :func:`~slicewidgets.analysis.report.slice_report` picks the estimator per
metric and turns the estimates into a table.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from slicewidgets.analysis import stats
from slicewidgets.analysis._fast import metric_from_counts, valid_rows
from slicewidgets.analysis.metrics import quiet_resample_warnings
from slicewidgets.analysis.validation import SliceSeeds, check_auc_probs

__all__ = [
    "COUNT_BOOTSTRAP_METRICS",
    "WILSON_METRICS",
    "MetricEstimate",
    "count_bootstrap_estimates",
    "call_metric",
    "concat_counts",
    "count_metric",
    "resample_counts",
    "roc_auc_estimate",
    "row_bootstrap",
    "row_bootstrap_estimates",
    "undefined_mask",
    "undefined_reason",
    "wilson_estimate",
]

#: Proportion metrics: Wilson intervals from (successes, trials) counts.
WILSON_METRICS = {
    "accuracy": ("correct", "n_valid", "scored rows"),
    "coverage": ("pred_nonabstain", "size", "rows"),
    "precision": ("tp", "tp+fp", "positive predictions"),
    "recall": ("tp", "tp+fn", "positive golds"),
}
#: Metrics of binary confusion counts that are not proportions: bootstrap of the counts.
COUNT_BOOTSTRAP_METRICS = ("f1", "matthews_corrcoef")


# -- count helpers -----------------------------------------------------------------------------
def concat_counts(overall: Mapping[str, np.ndarray], per_slice: Mapping[str, np.ndarray]
                  ) -> dict[str, np.ndarray]:
    """The overall counts (length 1) followed by the per-slice counts, per field."""
    return {key: np.concatenate([overall[key], per_slice[key]]) for key in per_slice}


def _field(c: Mapping[str, np.ndarray], name: str) -> np.ndarray:
    if "+" in name:
        a, b = name.split("+")
        return np.asarray(c[a]) + np.asarray(c[b])
    return np.asarray(c[name])


def undefined_mask(metric: str, c: Mapping[str, Any]) -> np.ndarray:
    """Where a count metric is undefined (where scikit-learn would warn and report 0.0)."""
    tp, fp, fn = (np.asarray(c[k], dtype=float) for k in ("tp", "fp", "fn"))
    if metric == "coverage":
        return np.asarray(c["size"]) <= 0
    if metric == "accuracy":
        return np.asarray(c["n_valid"]) <= 0
    if metric == "precision":
        return (tp + fp) <= 0
    if metric == "recall":
        return (tp + fn) <= 0
    if metric in ("f1", "fbeta"):
        return (tp + fp + fn) <= 0
    if metric == "matthews_corrcoef":
        tn = np.asarray(c["tn"], dtype=float)
        return ((tp + fp) <= 0) | ((tp + fn) <= 0) | ((tn + fp) <= 0) | ((tn + fn) <= 0)
    raise ValueError(f"undefined_mask does not know {metric!r}.")


def undefined_reason(metric: str, c: Mapping[str, Any], j: int) -> str:
    """Why a count metric is undefined on slice ``j`` (see :func:`undefined_mask`)."""
    size = int(np.asarray(c["size"])[j])
    if size == 0:
        return "empty slice: no rows"
    if metric != "coverage" and int(np.asarray(c["n_valid"])[j]) == 0:
        return "no scored rows: every row has an abstain gold or prediction"
    return {
        "precision": "no positive predictions in the slice: precision undefined "
                     "(scikit-learn reports 0.0)",
        "recall": "no positive golds in the slice: recall undefined (scikit-learn reports 0.0)",
        "f1": "no positive golds or predictions in the slice: f1 undefined "
              "(scikit-learn reports 0.0)",
        "matthews_corrcoef": "golds or predictions in the slice are all one class: "
                             "matthews_corrcoef undefined (scikit-learn reports 0.0)",
    }.get(metric, f"{metric} undefined on this slice")


def count_metric(metric: str, c: Mapping[str, Any]) -> np.ndarray:
    """A count metric, NaN where undefined (unlike scikit-learn's 0.0)."""
    value = metric_from_counts(metric, c)
    return np.where(undefined_mask(metric, c), np.nan, value)


def _types_from_counts(c: Mapping[str, np.ndarray], cats: Sequence[str]) -> np.ndarray:
    """Category counts ``(k, T)``: confusion cells (``"fp+fn"`` merges two), ``other`` last."""
    cols = [_field(c, k) for k in cats if k != "other"]
    cols.append(np.asarray(c["size"]) - sum(cols))
    return np.stack(cols, axis=-1).astype(np.int64)


def _counts_from_types(X: np.ndarray, cats: Sequence[str]) -> dict[str, np.ndarray]:
    """Counts for :func:`metric_from_counts` from category counts (``fp+fn`` read as fp)."""
    X = np.asarray(X, dtype=float)
    zero = np.zeros(X.shape[:-1])
    d = {("fp" if k == "fp+fn" else k): X[..., i] for i, k in enumerate(cats)}
    tp, fp, fn, tn = (d.get(k, zero) for k in ("tp", "fp", "fn", "tn"))
    n_valid = tp + fp + fn + tn
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "n_valid": n_valid, "correct": tp + tn,
            "size": X.sum(axis=-1), "pred_nonabstain": X.sum(axis=-1)}



# -- per-metric results ------------------------------------------------------------------------
class MetricEstimate:
    """Arrays of length k + 1 (position 0: overall) for one metric."""

    def __init__(self, k1: int, ci_method: str, unit: str = "scored rows") -> None:
        self.score = np.full(k1, np.nan)
        self.low = np.full(k1, np.nan)
        self.high = np.full(k1, np.nan)
        self.n_scored = np.zeros(k1, dtype=np.int64)
        self.p = np.full(k1, np.nan)
        self.rest = np.full(k1, np.nan)
        self.test = np.full(k1, "", dtype=object)
        self.undefined = [""] * k1  # why the score is NaN
        self.untested = [""] * k1  # why there is no p-value
        self.notes = [""] * k1
        self.ci_method = ci_method
        self.unit = unit


def wilson_estimate(metric: str, c: Mapping[str, np.ndarray], confidence: float
                    ) -> MetricEstimate:
    succ_name, trials_name, unit = WILSON_METRICS[metric]
    k1 = len(c["size"])
    res = MetricEstimate(k1, "wilson", unit)
    succ = _field(c, succ_name).astype(np.int64)
    trials = _field(c, trials_name).astype(np.int64)
    res.n_scored = trials
    with np.errstate(invalid="ignore", divide="ignore"):
        res.score = np.where(trials > 0, succ / np.maximum(trials, 1), np.nan)
    res.low, res.high = stats.wilson_interval(succ, trials, confidence)
    # slice vs rest (position 0 is overall: no rest)
    rest_succ = succ[0] - succ[1:]
    rest_trials = trials[0] - trials[1:]
    p, method = stats.two_proportion_test(succ[1:], trials[1:], rest_succ, rest_trials)
    res.p[1:] = p
    res.test[1:] = np.where(method == "z", "two-proportion z", method)
    with np.errstate(invalid="ignore", divide="ignore"):
        res.rest[1:] = np.where(rest_trials > 0, rest_succ / np.maximum(rest_trials, 1), np.nan)
    for j in range(k1):
        if trials[j] <= 0:
            res.undefined[j] = undefined_reason(metric, c, j)
        elif j > 0 and rest_trials[j - 1] <= 0:
            res.untested[j] = (
                "nothing to compare against: every scored row is in the slice"
                if trials[j] == trials[0] else f"the rest has no {unit}: {metric} undefined there"
            )
    return res


def resample_counts(counts: np.ndarray, n_boot: int, seeds: SliceSeeds, tag: str
                    ) -> np.ndarray:
    """:func:`stats.multinomial_resample` of each row of ``counts`` (one slice each) with a
    generator keyed by that row's counts: a slice's resamples depend only on its own counts
    and the seed, never on the other slices of the report.

    Returns shape ``(n_boot, k, T)`` like :func:`stats.multinomial_resample`.
    """
    X = np.asarray(counts, dtype=np.int64)
    out = np.empty((n_boot, *X.shape), dtype=np.int64)
    for j in range(X.shape[0]):
        key = (seeds.base, tag, n_boot, X[j].tobytes())
        with _RESAMPLES_LOCK:
            draws = _RESAMPLES.get(key)
            if draws is not None:
                _RESAMPLES.move_to_end(key)
        if draws is None:  # a slice whose counts changed (or a new seed): drawn afresh
            draws = stats.multinomial_resample(X[j:j + 1], n_boot, seeds.rng(tag, X[j]))
            with _RESAMPLES_LOCK:
                _RESAMPLES[key] = draws
                while len(_RESAMPLES) > _RESAMPLES_MAX:
                    _RESAMPLES.popitem(last=False)
        out[:, j:j + 1, :] = draws
    return out


#: Resamples of one slice's counts by (seed, tag, n_boot, counts): a pure function of its key
#: (the generator is keyed by the same things), so a live table re-draws only the slices whose
#: counts changed. At most 256 entries (n_boot x T integers each).
_RESAMPLES: OrderedDict[tuple, np.ndarray] = OrderedDict()
_RESAMPLES_MAX = 256
_RESAMPLES_LOCK = threading.Lock()


def count_bootstrap_estimates(metrics: Sequence[str], c: Mapping[str, np.ndarray],
                              confidence: float, n_boot: int,
                              seeds: SliceSeeds) -> dict[str, MetricEstimate]:
    # F1 only needs TP and FP + FN (two binomial draws per resample); MCC needs all four cells
    cats = (["tp", "fp", "fn", "tn", "other"] if "matthews_corrcoef" in metrics
            else ["tp", "fp+fn", "other"])
    X = _types_from_counts(c, cats)  # (k + 1, T)
    tag = "counts:" + ",".join(cats)
    intervals = _count_intervals(metrics, X, cats, confidence, n_boot, seeds, tag)
    out: dict[str, MetricEstimate] = {}
    for metric in metrics:
        unit = "rows with a positive gold or prediction" if metric == "f1" else "scored rows"
        res = MetricEstimate(X.shape[0], "bootstrap (counts)", unit)

        def f(Y: np.ndarray, metric: str = metric) -> np.ndarray:
            return count_metric(metric, _counts_from_types(Y, cats))

        res.score = f(X)
        res.low, res.high, m = intervals[metric]
        rest = X[0][None, :] - X[1:]
        res.rest[1:] = f(rest)
        if metric == "f1":
            # F1 = 2J / (1 + J) with J = TP / (TP + FP + FN); given TP + FP + FN, TP is
            # binomial in J: F1 equal <=> J equal, a two-proportion test
            tp = np.asarray(c["tp"], dtype=np.int64)
            involved = tp + np.asarray(c["fp"]) + np.asarray(c["fn"])
            res.n_scored = involved.astype(np.int64)
            p, method = stats.two_proportion_test(tp[1:], involved[1:], tp[0] - tp[1:],
                                                  involved[0] - involved[1:])
            res.test[1:] = np.where(method == "z", "two-proportion z on TP/(TP+FP+FN)",
                                    np.where(method == "fisher", "fisher on TP/(TP+FP+FN)", ""))
        else:
            res.n_scored = np.asarray(c["n_valid"], dtype=np.int64)
            p, _ = stats.wald_test(res.score[1:], stats.delta_method_variance(f, X[1:]),
                                   res.rest[1:], stats.delta_method_variance(f, rest))
            res.test[1:] = "delta-method z"
        res.p[1:] = np.where(np.isnan(res.score[1:]) | np.isnan(res.rest[1:]), np.nan, p)
        bootstrap_notes(res, m, n_boot, res.low, res.high)
        for j in range(X.shape[0]):
            if np.isnan(res.score[j]):
                res.undefined[j] = undefined_reason(metric, c, j)
            elif j > 0 and np.isnan(res.p[j]):
                res.untested[j] = _untested_reason(metric, X[j].sum(), X[0].sum(), res.rest[j])
        out[metric] = res
    return out


def _count_intervals(metrics: Sequence[str], X: np.ndarray, cats: Sequence[str],
                     confidence: float, n_boot: int, seeds: SliceSeeds, tag: str
                     ) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``{metric: (low, high, n_defined)}`` of the count bootstrap, per slice (row of ``X``).

    A slice's interval is a function of its counts, the seed, ``n_boot``, the categories and
    the confidence only (:func:`resample_counts` draws from a generator keyed by them, and
    :func:`stats.percentile_interval` works column by column), so it is cached by exactly
    those: after an edit only the edited slice is re-estimated.
    """
    k1 = X.shape[0]
    keys = [(seeds.base, tag, n_boot, confidence, X[j].tobytes()) for j in range(k1)]
    out = {m: (np.empty(k1), np.empty(k1), np.empty(k1, dtype=np.int64)) for m in metrics}
    todo = []
    with _INTERVALS_LOCK:
        for j, key in enumerate(keys):
            found = [c for c in (_INTERVALS.get((m,) + key) for m in metrics) if c is not None]
            if len(found) < len(metrics):
                todo.append(j)
                continue
            for m, (low, high, n_def) in zip(metrics, found, strict=True):
                out[m][0][j], out[m][1][j], out[m][2][j] = low, high, n_def
                _INTERVALS.move_to_end((m,) + key)
    if todo:
        R = resample_counts(X[todo], n_boot, seeds, tag)  # (B, len(todo), T)
        fresh = {}
        for metric in metrics:
            def f(Y: np.ndarray, metric: str = metric) -> np.ndarray:
                return count_metric(metric, _counts_from_types(Y, cats))

            fresh[metric] = stats.percentile_interval(f(R), f(X[todo]), confidence)
        with _INTERVALS_LOCK:
            for metric in metrics:
                lows, highs, n_defs = fresh[metric]
                out[metric][0][todo], out[metric][1][todo] = lows, highs
                out[metric][2][todo] = n_defs
                for i, j in enumerate(todo):
                    _INTERVALS[(metric,) + keys[j]] = (float(lows[i]), float(highs[i]),
                                                       int(n_defs[i]))
            while len(_INTERVALS) > _INTERVALS_MAX:
                _INTERVALS.popitem(last=False)
    return out


#: Count-bootstrap intervals of one slice by (metric, seed, categories, n_boot, confidence,
#: counts): a pure function of its key (see :func:`_count_intervals`).
_INTERVALS: OrderedDict[tuple, tuple[float, float, int]] = OrderedDict()
_INTERVALS_MAX = 8192
_INTERVALS_LOCK = threading.Lock()


def _untested_reason(metric: str, n: int, total: int, rest_score: float) -> str:
    if n >= total:
        return "nothing to compare against: every row is in the slice"
    if np.isnan(rest_score):
        return f"{metric} undefined on the rest of the data"
    return "test undefined: zero variance"


def bootstrap_notes(res: MetricEstimate, m: np.ndarray, n_boot: int,
                     low: np.ndarray | None = None, high: np.ndarray | None = None) -> None:
    for j in range(len(m)):
        if np.isnan(res.score[j]):
            continue
        notes = []
        dropped = n_boot - int(m[j])
        if dropped:
            notes.append(f"{dropped} of {n_boot} resamples had the metric undefined and "
                         "were dropped")
        if low is not None and high is not None and low[j] == high[j]:
            notes.append("zero-width bootstrap interval (every resample gave the same score): "
                         "it understates the uncertainty")
        res.notes[j] = "; ".join(notes)


def roc_auc_estimate(
    *, golds: np.ndarray, preds: np.ndarray | None, probs: np.ndarray | None,
    membership: np.ndarray, abstain_label: int | None, confidence: float, n_boot: int,
    seeds: SliceSeeds,
) -> MetricEstimate | None:
    """ROC AUC per slice: sorted-score row bootstrap, Hanley-McNeil z against the rest.

    ``None`` when the scored golds are not binary (the row bootstrap then gives
    scikit-learn's answer or error).
    """
    check_auc_probs(probs)
    assert probs is not None
    M = membership
    valid = valid_rows(golds, preds, abstain_label=abstain_label)
    g, s, Mv = golds[valid], probs[valid, 1], M[valid]
    if not np.isin(np.unique(g), [0, 1]).all():
        return None  # not binary: the generic path gives scikit-learn's answer or error
    k = M.shape[1]
    res = MetricEstimate(k + 1, "bootstrap (rows)")
    order = np.argsort(s, kind="stable")
    s_sorted, pos = s[order], g[order] == 1
    starts = stats.tie_group_starts(s_sorted)
    starts_arg = None if len(starts) == len(s_sorted) else starts
    Ms = Mv[order]
    n_pos = np.concatenate([[pos.sum()], Ms.T @ pos.astype(np.int64)]).astype(np.int64)
    n_all = np.concatenate([[len(pos)], Ms.sum(axis=0)]).astype(np.int64)
    n_neg = n_all - n_pos
    res.n_scored = n_all
    res.score[0] = stats.roc_auc_from_weights(pos.astype(float), (~pos).astype(float), starts_arg)
    step = max(1, 2**21 // max(len(pos), 1))
    for lo in range(0, k, step):
        W = Ms[:, lo:lo + step].T.astype(float)
        res.score[1 + lo:1 + lo + W.shape[0]] = stats.roc_auc_from_weights(W * pos, W * ~pos,
                                                                           starts_arg)
        Wr = 1.0 - W
        res.rest[1 + lo:1 + lo + W.shape[0]] = stats.roc_auc_from_weights(Wr * pos, Wr * ~pos,
                                                                          starts_arg)
    m = np.zeros(k + 1, dtype=np.int64)
    for j in range(k + 1):
        if np.isnan(res.score[j]):
            res.undefined[j] = ("empty slice: no rows" if n_all[j] == 0 and
                                (j == 0 or not M[:, j - 1].any()) else
                                "no scored rows: every row has an abstain gold or prediction"
                                if n_all[j] == 0 else
                                "all golds in the slice are one class: roc_auc undefined")
            continue
        rows = slice(None) if j == 0 else Ms[:, j - 1]
        # keyed by the slice's rows (in the data's order): other slices never move it
        rng = seeds.rows_rng("roc_auc", valid if j == 0 else valid & M[:, j - 1])
        reps = stats.bootstrap_auc(pos[rows], s_sorted[rows], n_boot, rng)
        low, high, mj = stats.percentile_interval(reps[:, None], res.score[j:j + 1], confidence)
        res.low[j], res.high[j], m[j] = low[0], high[0], mj[0]
    bootstrap_notes(res, m, n_boot, res.low, res.high)
    # slice vs rest: Hanley-McNeil variances at the pooled (overall) AUC
    a0 = res.score[0]
    var = (stats.hanley_mcneil_variance(a0, n_pos[1:], n_neg[1:])
           + stats.hanley_mcneil_variance(a0, n_pos[0] - n_pos[1:], n_neg[0] - n_neg[1:]))
    diff = res.score[1:] - res.rest[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(var > 0, diff / np.sqrt(np.where(var > 0, var, 1.0)),
                     np.where(diff == 0, 0.0, np.nan))
    res.p[1:] = stats.z_test_p_value(z)
    res.test[1:] = "Hanley-McNeil z"
    for j in range(1, k + 1):
        if not np.isnan(res.score[j]) and np.isnan(res.p[j]):
            res.untested[j] = (
                "nothing to compare against: every scored row is in the slice"
                if n_all[j] == n_all[0] else "roc_auc undefined on the rest of the data"
            )
    return res


def call_metric(func: Callable[..., Any], golds: np.ndarray, preds: np.ndarray | None,
                probs: np.ndarray | None, idx: np.ndarray) -> Any:
    """``func`` on the rows ``idx``, or the message of its ``ValueError`` (the metric is undefined
    on those rows). Only the undefined-metric warnings of a resample are silenced; any other
    warning a user's metric raises reaches the user."""
    try:
        with quiet_resample_warnings():
            return func(golds[idx], None if preds is None else preds[idx],
                        None if probs is None else probs[idx])
    except ValueError as err:
        return str(err)


def row_bootstrap(statistic: Callable[[np.ndarray], Any], rows: np.ndarray, n_boot: int,
                  rng: np.random.Generator, *, n_values: int = 1) -> np.ndarray:
    """``statistic`` on ``n_boot`` resamples of ``rows`` drawn with replacement.

    ``statistic(idx)`` returns ``n_values`` numbers, or ``None`` where it is undefined on the
    resample. Returns shape ``(n_boot, n_values)``, NaN for undefined resamples (and every
    resample of an empty ``rows``). One metric call per resample: this is the slow path, for
    metrics that cannot be computed from counts.
    """
    out = np.full((n_boot, n_values), np.nan)
    if len(rows) == 0:
        return out
    for b in range(n_boot):
        value = statistic(rows[rng.integers(0, len(rows), len(rows))])
        if value is not None:
            out[b] = value
    return out


def row_bootstrap_estimates(
    name: str, func: Callable[..., Any], *, builtin: bool, golds: np.ndarray,
    preds: np.ndarray | None, probs: np.ndarray | None, membership: np.ndarray,
    abstain_label: int | None, confidence: float, n_boot: int, seeds: SliceSeeds,
) -> dict[str, MetricEstimate]:
    """Per-row bootstrap for any metric function (custom or not count-based); the resamples
    of each slice (and of its rest) are keyed by its rows."""
    M = membership
    n, k = M.shape
    full = func(golds, preds, probs)  # errors on all rows propagate, as in Scorer.score
    keys = list(full) if isinstance(full, dict) else [name]

    def as_dict(value: Any) -> dict[str, float]:
        if isinstance(value, str):
            return {key: np.nan for key in keys}
        if isinstance(value, dict):
            return {key: float(value.get(key, np.nan)) for key in keys}
        return {name: float(value)}

    results = {key: MetricEstimate(k + 1, "bootstrap (rows)") for key in keys}
    # the rows a built-in metric scores (see Scorer)
    valid = (valid_rows(golds, preds, abstain_label=abstain_label)
             if builtin and name != "coverage" else np.ones(n, dtype=bool))

    def statistic(draw: np.ndarray) -> list[float]:
        scores = as_dict(call_metric(func, golds, preds, probs, draw))
        return [scores[key] for key in keys]

    def replicate(idx: np.ndarray) -> dict[str, np.ndarray]:
        rows = np.zeros(n, dtype=bool)
        rows[idx] = True
        rng = seeds.rows_rng(f"rows:{name}", rows)
        reps = row_bootstrap(statistic, idx, n_boot, rng, n_values=len(keys))
        return {key: reps[:, i] for i, key in enumerate(keys)}

    for j in range(k + 1):
        idx = np.arange(n) if j == 0 else np.flatnonzero(M[:, j - 1])
        value = call_metric(func, golds, preds, probs, idx) if len(idx) else "empty slice"
        scores = as_dict(value)
        for key in keys:
            res = results[key]
            res.score[j] = scores[key]
            res.n_scored[j] = int(valid[idx].sum())
            if np.isnan(scores[key]):
                res.undefined[j] = ("empty slice: no rows" if len(idx) == 0 else
                                    f"{key} undefined on this slice: {value}"
                                    if isinstance(value, str) else f"{key} is NaN on this slice")
        if all(np.isnan(scores[key]) for key in keys):
            continue
        reps = replicate(idx)
        rest_idx = np.flatnonzero(~M[:, j - 1]) if j > 0 else np.zeros(0, dtype=np.int64)
        if j > 0:
            rest_value = (call_metric(func, golds, preds, probs, rest_idx) if len(rest_idx)
                          else "nothing to compare against: every row is in the slice")
            rest_scores = as_dict(rest_value)
            rest_reps = replicate(rest_idx) if not isinstance(rest_value, str) else None
        for key in keys:
            res = results[key]
            low, high, m = stats.percentile_interval(reps[key][:, None],
                                                     res.score[j:j + 1], confidence)
            res.low[j], res.high[j] = low[0], high[0]
            notes = MetricEstimate(1, "")
            notes.score[0] = res.score[j]
            bootstrap_notes(notes, m, n_boot, low, high)
            res.notes[j] = notes.notes[0]
            if j == 0:
                continue
            res.rest[j] = rest_scores[key]
            res.test[j] = "bootstrap z"
            if rest_reps is None or np.isnan(rest_scores[key]):
                res.untested[j] = (rest_value if isinstance(rest_value, str)
                                   and rest_value.startswith("nothing") else
                                   f"{key} undefined on the rest of the data")
                continue
            var = np.nanvar(reps[key]) + np.nanvar(rest_reps[key])
            diff = res.score[j] - res.rest[j]
            if var > 0:
                res.p[j] = float(stats.z_test_p_value(diff / math.sqrt(var)))
            elif diff == 0:
                res.p[j] = 1.0
            else:
                res.untested[j] = "test undefined: the bootstrap variance is zero"
    return results


