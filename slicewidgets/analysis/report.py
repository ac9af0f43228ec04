"""Per-slice statistics: every per-slice score with its size, interval, gap, test and flag.

:func:`slice_report` (also :meth:`Scorer.slice_report`) returns a :class:`SliceReport`: one
row per (slice, metric), plus rows for ``overall``. The HTML renderer (:func:`render_html`,
:data:`SLICE_REPORT_CSS`) is shared by :class:`~slicewidgets.analysis.compare.ModelComparison`
and by the live ScoreTable widget.
"""

from __future__ import annotations

import html
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from slicewidgets.analysis import stats
from slicewidgets.analysis._fast import metric_from_counts, overall_counts, slice_counts
from slicewidgets.analysis._membership import as_membership
from slicewidgets.analysis.metrics import METRICS

__all__ = [
    "FLAGS",
    "REPORT_COLUMNS",
    "SLICE_REPORT_CSS",
    "SliceReport",
    "render_html",
    "slice_report",
]

#: The values of the ``flag`` column.
FLAGS = ("worse", "better", "no-evidence", "ok")

#: The required columns of :meth:`SliceReport.to_frame`, in order (extra columns follow).
REPORT_COLUMNS = (
    "slice", "n", "metric", "score", "ci_low", "ci_high", "gap", "p_value", "q_value", "flag",
)
EXTRA_COLUMNS = ("reason", "n_scored", "rest_score", "ci_method", "test")

#: Proportion metrics: Wilson intervals from (successes, trials) counts.
WILSON_METRICS = {
    "accuracy": ("correct", "n_valid", "scored rows"),
    "coverage": ("pred_nonabstain", "size", "rows"),
    "precision": ("tp", "tp+fp", "positive predictions"),
    "recall": ("tp", "tp+fn", "positive golds"),
}
#: Metrics of binary confusion counts that are not proportions: bootstrap of the counts.
COUNT_BOOTSTRAP_METRICS = ("f1", "matthews_corrcoef")

#: CSS for the HTML tables (scoped to ``.sw-report``); reuse it in widgets.
SLICE_REPORT_CSS = """
.sw-report table { border-collapse: collapse; font-size: 12px; font-family: var(--jp-ui-font-family, sans-serif); }
.sw-report caption { caption-side: top; text-align: left; padding: 2px 0 6px; color: #444; }
.sw-report th { text-align: right; padding: 2px 8px; border-bottom: 1px solid #999; font-weight: 600; }
.sw-report th.sw-text, .sw-report td.sw-text { text-align: left; }
.sw-report td { text-align: right; padding: 2px 8px; border-bottom: 1px solid #e4e4e4; font-variant-numeric: tabular-nums; white-space: nowrap; }
.sw-report td.sw-reason { white-space: normal; max-width: 28em; color: #555; text-align: left; }
.sw-report tr.sw-overall td { font-weight: 600; background: #f6f8fa; }
.sw-report .sw-flag { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 11px; }
.sw-report tr.sw-flag-worse td.sw-flagcell .sw-flag { background: #fde0dc; color: #b3261e; }
.sw-report tr.sw-flag-better td.sw-flagcell .sw-flag { background: #dcf3e0; color: #1b6e2d; }
.sw-report tr.sw-flag-no-evidence td.sw-flagcell .sw-flag { background: #eeeeee; color: #666; font-style: italic; }
.sw-report tr.sw-flag-ok td.sw-flagcell .sw-flag { background: #e8f0fe; color: #1a4d8f; }
.sw-report tr.sw-flag-worse td.sw-gap { color: #b3261e; }
.sw-report tr.sw-flag-better td.sw-gap { color: #1b6e2d; }
.sw-report tr.sw-flag-no-evidence td { color: #777; }
.sw-report .sw-bar { position: relative; width: 120px; height: 10px; }
.sw-report .sw-bar .sw-ci { position: absolute; top: 4px; height: 2px; background: #888; }
.sw-report .sw-bar .sw-pt { position: absolute; top: 1px; width: 8px; height: 8px; margin-left: -4px; border-radius: 4px; background: #333; }
.sw-report .sw-bar .sw-ref { position: absolute; top: 0; width: 1px; height: 10px; background: #c77; }
.sw-report tr.sw-flag-worse .sw-pt { background: #b3261e; }
.sw-report tr.sw-flag-better .sw-pt { background: #1b6e2d; }
.sw-report tr.sw-flag-no-evidence .sw-pt { background: #aaa; }
"""

_DEFAULT_SEED = 0


# -- argument checks ---------------------------------------------------------------------------
def check_options(
    confidence: Any, n_boot: Any, alpha: Any, min_n: Any, max_width: Any
) -> tuple[float, int, float, int, float]:
    """Validate the options shared by :func:`slice_report` and ``compare_models``."""
    confidence = stats.check_confidence(confidence)
    n_boot = stats.check_n_boot(n_boot)
    try:
        alpha_f = float(alpha)
    except (TypeError, ValueError):
        alpha_f = float("nan")
    if isinstance(alpha, bool) or not 0.0 < alpha_f < 1.0:
        raise ValueError(
            f"alpha must be a number strictly between 0 and 1, got {alpha!r}; use e.g. "
            "alpha=0.05 to flag slices at a 5% false discovery rate."
        )
    if isinstance(min_n, bool) or not isinstance(min_n, (int, np.integer)) or min_n < 0:
        raise ValueError(
            f"min_n must be an integer >= 0, got {min_n!r}; use e.g. min_n=10 "
            "(slices with fewer scored rows are flagged 'no-evidence')."
        )
    try:
        width = float(max_width)
    except (TypeError, ValueError):
        width = float("nan")
    if isinstance(max_width, bool) or not width > 0:
        raise ValueError(
            f"max_width must be a positive number, got {max_width!r}; use e.g. "
            "max_width=0.5, or float('inf') to never flag an interval as too wide."
        )
    return confidence, n_boot, alpha_f, int(min_n), width


def make_rng(random_state: Any) -> np.random.Generator:
    """``None`` -> a fixed seed (reports are reproducible); an int, SeedSequence or Generator."""
    if random_state is None:
        return np.random.default_rng(_DEFAULT_SEED)
    try:
        return np.random.default_rng(random_state)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"random_state must be None, an int or a numpy Generator, got {random_state!r}."
        ) from err


# -- count helpers -----------------------------------------------------------------------------
def _concat(overall: Mapping[str, np.ndarray], per_slice: Mapping[str, np.ndarray]):
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


def _is_binary(golds: np.ndarray, preds: np.ndarray | None, abstain_label: int | None) -> bool:
    """Every label other than ``abstain_label`` is 0 or 1 (as ``Scorer`` decides)."""
    for labels in (golds, preds):
        if labels is None:
            continue
        ok = labels <= 1
        ok &= labels >= 0
        if abstain_label is not None:
            ok |= labels == abstain_label
        if not ok.all():
            return False
    return True


# -- per-metric results ------------------------------------------------------------------------
class _MetricResult:
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


def _wilson_metric(metric: str, c, confidence: float) -> _MetricResult:
    succ_name, trials_name, unit = WILSON_METRICS[metric]
    k1 = len(c["size"])
    res = _MetricResult(k1, "wilson", unit)
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


def _count_bootstrap_metrics(metrics: Sequence[str], c, confidence: float, n_boot: int,
                             rng: np.random.Generator) -> dict[str, _MetricResult]:
    # F1 only needs TP and FP + FN (two binomial draws per resample); MCC needs all four cells
    cats = (["tp", "fp", "fn", "tn", "other"] if "matthews_corrcoef" in metrics
            else ["tp", "fp+fn", "other"])
    X = _types_from_counts(c, cats)  # (k + 1, T)
    R = stats.multinomial_resample(X, n_boot, rng)  # (B, k + 1, T)
    out: dict[str, _MetricResult] = {}
    for metric in metrics:
        unit = "rows with a positive gold or prediction" if metric == "f1" else "scored rows"
        res = _MetricResult(X.shape[0], "bootstrap (counts)", unit)

        def f(Y, metric=metric):
            return count_metric(metric, _counts_from_types(Y, cats))

        res.score = f(X)
        reps = f(R)
        res.low, res.high, m = stats.percentile_interval(reps, res.score, confidence)
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
        _bootstrap_notes(res, m, n_boot, res.low, res.high)
        for j in range(X.shape[0]):
            if np.isnan(res.score[j]):
                res.undefined[j] = undefined_reason(metric, c, j)
            elif j > 0 and np.isnan(res.p[j]):
                res.untested[j] = _untested_reason(metric, X[j].sum(), X[0].sum(), res.rest[j])
        out[metric] = res
    return out


def _untested_reason(metric: str, n: int, total: int, rest_score: float) -> str:
    if n >= total:
        return "nothing to compare against: every row is in the slice"
    if np.isnan(rest_score):
        return f"{metric} undefined on the rest of the data"
    return "test undefined: zero variance"


def _bootstrap_notes(res: _MetricResult, m: np.ndarray, n_boot: int,
                     low: np.ndarray | None = None, high: np.ndarray | None = None) -> None:
    for j in range(len(m)):
        if np.isnan(res.score[j]):
            continue
        notes = []
        dropped = n_boot - int(m[j])
        if dropped:
            notes.append(f"{dropped} of {n_boot} resamples had the metric undefined and "
                         "were dropped")
        if low is not None and low[j] == high[j]:
            notes.append("zero-width bootstrap interval (every resample gave the same score): "
                         "it understates the uncertainty")
        res.notes[j] = "; ".join(notes)


def _check_auc_probs(probs: np.ndarray | None, label: str = "probs", hint: str = "") -> None:
    """roc_auc needs binary probabilities ``label`` of shape [n, 2]; ``hint`` ends the
    message when they are missing."""
    if probs is None:
        raise ValueError(f"Metric roc_auc requires access to probs{hint}.")
    if probs.shape[1] != 2:
        raise ValueError(
            "Metric roc_auc is currently only defined for binary problems: expected "
            f"{label} of shape [n, 2], got {probs.shape}."
        )


def _roc_auc_metric(golds, preds, probs, M, abstain_label, confidence, n_boot, rng):
    _check_auc_probs(probs)
    valid = np.ones(len(golds), dtype=bool)
    if abstain_label is not None:
        valid &= golds != abstain_label
        if preds is not None:
            valid &= preds != abstain_label
    g, s, Mv = golds[valid], probs[valid, 1], M[valid]
    if not np.isin(np.unique(g), [0, 1]).all():
        return None  # not binary: the generic path gives scikit-learn's answer or error
    k = M.shape[1]
    res = _MetricResult(k + 1, "bootstrap (rows)")
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
        reps = stats.bootstrap_auc(pos[rows], s_sorted[rows], n_boot, rng)
        low, high, mj = stats.percentile_interval(reps[:, None], res.score[j:j + 1], confidence)
        res.low[j], res.high[j], m[j] = low[0], high[0], mj[0]
    _bootstrap_notes(res, m, n_boot, res.low, res.high)
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


def _call_metric(func, golds, preds, probs, idx) -> dict[str, float] | str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = func(golds[idx], None if preds is None else preds[idx],
                         None if probs is None else probs[idx])
    except ValueError as err:
        return str(err)
    return value


def _generic_metrics(name, func, builtin, golds, preds, probs, M, abstain_label,
                     confidence, n_boot, rng) -> dict[str, _MetricResult]:
    """Per-row bootstrap for any metric function (custom or not count-based)."""
    n, k = M.shape
    full = func(golds, preds, probs)  # errors on all rows propagate, as in Scorer.score
    keys = list(full) if isinstance(full, dict) else [name]

    def as_dict(value) -> dict[str, float]:
        if isinstance(value, str):
            return {key: np.nan for key in keys}
        if isinstance(value, dict):
            return {key: float(value.get(key, np.nan)) for key in keys}
        return {name: float(value)}

    results = {key: _MetricResult(k + 1, "bootstrap (rows)") for key in keys}
    valid = np.ones(n, dtype=bool)  # the rows a built-in metric scores (see Scorer)
    if builtin and abstain_label is not None and name != "coverage":
        valid &= golds != abstain_label
        if preds is not None:
            valid &= preds != abstain_label

    def replicate(idx: np.ndarray) -> dict[str, np.ndarray]:
        reps = {key: np.full(n_boot, np.nan) for key in keys}
        if len(idx) == 0:
            return reps
        for b in range(n_boot):
            draw = idx[rng.integers(0, len(idx), len(idx))]
            for key, value in as_dict(_call_metric(func, golds, preds, probs, draw)).items():
                reps[key][b] = value
        return reps

    for j in range(k + 1):
        idx = np.arange(n) if j == 0 else np.flatnonzero(M[:, j - 1])
        value = _call_metric(func, golds, preds, probs, idx) if len(idx) else "empty slice"
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
            rest_value = (_call_metric(func, golds, preds, probs, rest_idx) if len(rest_idx)
                          else "nothing to compare against: every row is in the slice")
            rest_scores = as_dict(rest_value)
            rest_reps = replicate(rest_idx) if not isinstance(rest_value, str) else None
        for key in keys:
            res = results[key]
            low, high, m = stats.percentile_interval(reps[key][:, None],
                                                     res.score[j:j + 1], confidence)
            res.low[j], res.high[j] = low[0], high[0]
            notes = _MetricResult(1, "")
            notes.score[0] = res.score[j]
            _bootstrap_notes(notes, m, n_boot, low, high)
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


# -- flags -------------------------------------------------------------------------------------
def decide_flag(
    *, score: float, low: float, high: float, n_scored: int, unit: str, q: float, p: float,
    diff: float, is_reference: bool, undefined: str, untested: str, alpha: float, min_n: int,
    max_width: float, confidence: float, test: str, versus: str = "the rest",
) -> tuple[str, str]:
    """The flag and its reason for one row (the rules of :func:`slice_report`)."""
    if np.isnan(score):
        return "no-evidence", undefined or "score undefined"
    if n_scored < min_n:
        return "no-evidence", f"too small: {unit} = {n_scored} < min_n={min_n}"
    if np.isnan(low) or np.isnan(high):
        return "no-evidence", "interval undefined: no resample gave a defined score"
    width = high - low
    if width > max_width:
        return "no-evidence", (f"interval too wide: {confidence:.0%} interval spans "
                               f"{width:.2f} > max_width={max_width:g}")
    if is_reference:
        return "ok", "reference: all rows"
    if np.isnan(p) or np.isnan(q):
        if untested.startswith("nothing to compare"):
            return "ok", untested
        return "no-evidence", f"cannot test against {versus}: {untested or 'test undefined'}"
    if q < alpha and diff != 0:
        direction = "below" if diff < 0 else "above"
        return ("worse" if diff < 0 else "better"), (
            f"{direction} {versus} (q={_fmt_p(q)} < alpha={alpha:g}, {test})"
        )
    return "ok", f"no significant difference from {versus} (q={_fmt_p(q)} >= alpha={alpha:g})"


def _slices_of(S: Any, golds: Any) -> tuple[list[str], np.ndarray]:
    """The slice names and (n, k) membership of ``S``, once ``golds`` are known non-empty."""
    names, M = as_membership(S)
    if golds is None or len(golds) == 0:
        raise ValueError("Cannot score empty labels")
    if not names:  # no slice: nothing says how many rows S has
        M = np.zeros((len(golds), 0), dtype=bool)
    return names, M


# -- the report --------------------------------------------------------------------------------
def slice_report(
    scorer: Any,
    S: Any,
    golds: Any,
    preds: Any = None,
    probs: Any = None,
    *,
    confidence: float = 0.95,
    n_boot: int = 1000,
    random_state: Any = None,
    alpha: float = 0.05,
    min_n: int = 10,
    max_width: float = 0.5,
) -> SliceReport:
    """Per-slice scores with sizes, confidence intervals, gaps, tests and flags.

    Parameters
    ----------
    scorer
        A :class:`~slicewidgets.analysis.Scorer` (its metrics, custom metrics and
        ``abstain_label``); ``None`` for ``Scorer()`` (accuracy).
    S
        Slice membership: Snorkel's recarray, a ``SliceMembership``, a DataFrame of 0/1
        columns or a dict of masks.
    golds, preds, probs
        Labels, predictions and probabilities, as for :meth:`Scorer.score_slices`.
    confidence
        Nominal coverage of the intervals, in (0, 1).
    n_boot
        Bootstrap resamples (>= 1) for the metrics that are not proportions.
    random_state
        Seed or ``numpy.random.Generator`` for the bootstrap. ``None`` uses a fixed seed, so
        the same inputs always give the same report; pass a Generator for fresh draws.
    alpha
        False discovery rate at which slices are flagged ``worse``/``better``.
    min_n
        Slices with fewer scored rows are flagged ``no-evidence``; for precision the count is
        of positive predictions, for recall of positive golds, for F1 of rows with a positive
        gold or prediction (TP + FP + FN), for coverage of all rows.
    max_width
        Slices whose interval is wider than this are flagged ``no-evidence``.

    Returns
    -------
    SliceReport
        ``to_frame()`` has one row per (slice, metric), ``overall`` first, with columns
        ``slice, n, metric, score, ci_low, ci_high, gap, p_value, q_value, flag`` then
        ``reason, n_scored, rest_score, ci_method, test``.

    Notes
    -----
    **Scores** equal :meth:`Scorer.score_slices` except where a metric is undefined on a
    slice: scikit-learn then reports 0.0 (precision with no positive prediction, recall or F1
    with no positive gold, MCC with one class) or raises (ROC AUC with one class); here the
    score is NaN, flagged ``no-evidence``, and ``reason`` says why.

    **Intervals.** Proportions (accuracy, precision, recall, coverage) get the Wilson score
    interval of their ``successes / trials`` counts. F1 and MCC (binary labels) get a
    percentile bootstrap interval computed from confusion counts: resampling a slice's rows
    with replacement gives multinomial counts of (TP, FP, FN, TN, unscored), so the counts
    are resampled directly, for all slices and resamples at once (cost independent of the
    number of rows). ROC AUC and custom or other metrics get a row bootstrap per slice.
    Resamples on which the metric is undefined are dropped (``reason`` says how many), and a
    bootstrap interval is widened to contain its point score if needed, so every interval
    contains its score. ``ci_method`` names the method.

    **Gap and tests.** ``gap = score - overall``. ``p_value`` tests the slice against the
    rest of the data (the rows outside the slice), two-sided: for proportions, the pooled
    two-proportion z-test, or Fisher's exact test when an expected count is below 5
    (Cochran's rule); for F1, the same test on ``J = TP / (TP + FP + FN)``, since
    ``F1 = 2J / (1 + J)`` and, given ``TP + FP + FN``, TP is binomial in J (so F1 is equal
    on slice and rest exactly when J is); for MCC, a Wald z-test with delta-method variances
    of the slice's and the rest's confusion counts (each cell smoothed by +0.5, so that a
    slice without errors does not get a zero variance); for ROC AUC, a z-test with
    Hanley-McNeil variances at the overall AUC; for other metrics, a z-test with bootstrap
    variances.
    ``test`` names it and ``rest_score`` gives the score on the rest. ``q_value`` is the
    Benjamini-Hochberg adjustment of the p-values of all slices, per metric.

    **Flags**, by the first rule that applies:

    1. ``no-evidence`` if the score is undefined (NaN), if fewer than ``min_n`` rows are
       scored, if the interval is wider than ``max_width``, or if the slice cannot be
       tested against the rest (e.g. the metric is undefined there);
    2. ``worse`` / ``better`` if ``q_value < alpha``, by the sign of ``score - rest_score``;
    3. ``ok`` otherwise (including the ``overall`` rows and a slice holding every row).

    ``reason`` explains every flag.

    **Cost.** Label metrics are computed from counts (:func:`slice_counts`): on 100,000 rows
    and 50 slices a report of accuracy and F1 with ``n_boot=1000`` takes tens of
    milliseconds. ROC AUC costs O(n_boot x rows) per slice; custom metrics call the metric
    function ``n_boot`` times per slice and per rest: lower ``n_boot`` for those.

    Examples
    --------
    >>> from slicewidgets.analysis import Scorer
    >>> golds = np.array([1, 0, 1, 1, 0, 1, 0, 0] * 10)
    >>> preds = np.array([1, 0, 1, 0, 0, 1, 1, 0] * 10)
    >>> S = {"first_half": np.arange(80) < 40, "tiny": np.arange(80) < 3}
    >>> report = slice_report(Scorer(["accuracy", "f1"]), S, golds, preds)
    >>> report.to_frame()[["slice", "n", "metric", "score", "flag"]]
            slice   n    metric  score         flag
    0     overall  80  accuracy   0.75           ok
    1     overall  80        f1   0.75           ok
    2  first_half  40  accuracy   0.75           ok
    3  first_half  40        f1   0.75           ok
    4        tiny   3  accuracy   1.00  no-evidence
    5        tiny   3        f1   1.00  no-evidence
    """
    from slicewidgets.analysis.scorer import Scorer

    confidence, n_boot, alpha, min_n, max_width = check_options(
        confidence, n_boot, alpha, min_n, max_width)
    if scorer is None:
        scorer = Scorer()
    rng = make_rng(random_state)
    names, M = _slices_of(S, golds)
    golds, preds, probs = scorer._check(golds, preds, probs, S_len=M.shape[0])
    abstain = scorer.abstain_label
    builtin = set(scorer._builtin)
    binary = preds is not None and _is_binary(golds, preds, abstain)
    for metric in scorer._builtin:
        for needed in METRICS[metric].inputs:
            if {"golds": golds, "preds": preds, "probs": probs}[needed] is None:
                raise ValueError(f"Metric {metric} requires access to {needed}.")

    wilson = [m for m in scorer.metrics if m in builtin and preds is not None and
              (m in ("accuracy", "coverage") or (binary and m in ("precision", "recall")))]
    counted = [m for m in scorer.metrics if m in builtin and binary
               and m in COUNT_BOOTSTRAP_METRICS]
    results: dict[str, _MetricResult] = {}
    if wilson or counted:
        c = _concat(overall_counts(golds, preds, abstain), slice_counts(M, golds, preds, abstain))
        for metric in wilson:
            results[metric] = _wilson_metric(metric, c, confidence)
        if counted:
            results.update(_count_bootstrap_metrics(counted, c, confidence, n_boot, rng))
    ordered: dict[str, _MetricResult] = {}
    for name, func in scorer.metrics.items():
        if name in results:
            ordered[name] = results[name]
            continue
        if name == "roc_auc" and name in builtin:
            res = _roc_auc_metric(golds, preds, probs, M, abstain, confidence, n_boot, rng)
            if res is not None:
                ordered[name] = res
                continue
        ordered.update(_generic_metrics(name, func, name in builtin, golds, preds, probs, M,
                                        abstain, confidence, n_boot, rng))
    if wilson or counted:
        sizes = c["size"].astype(np.int64)
    else:
        sizes = np.concatenate([[len(golds)], np.count_nonzero(M, axis=0)]).astype(np.int64)
    columns = _assemble(["overall", *names], sizes, ordered, alpha=alpha, min_n=min_n,
                        max_width=max_width, confidence=confidence)
    return SliceReport(columns, confidence=confidence, n_boot=n_boot, alpha=alpha, min_n=min_n,
                       max_width=max_width, random_state=random_state)


def _assemble(labels: list[str], sizes: np.ndarray, results: Mapping[str, _MetricResult], *,
              alpha: float, min_n: int, max_width: float, confidence: float
              ) -> dict[str, np.ndarray]:
    k1 = len(labels)
    metrics = list(results)
    n_m = len(metrics)
    # rows: slice-major (overall first), metrics in order within a slice
    keys = ("score", "low", "high", "p", "rest", "n_scored")
    stack = dict(zip(keys, _stack_results(results, keys), strict=True))
    q = np.full((k1, n_m), np.nan)
    for i, m in enumerate(metrics):
        q[1:, i] = stats.benjamini_hochberg(results[m].p[1:])
    q = q.reshape(-1)
    overall = np.array([results[m].score[0] for m in metrics], dtype=float)
    gap = stack["score"] - np.tile(overall, k1)
    score_l, low_l, high_l, p_l, rest_l = (stack[key].tolist()
                                           for key in ("score", "low", "high", "p", "rest"))
    n_l, q_l = stack["n_scored"].astype(np.int64).tolist(), q.tolist()

    def row_flag(j: int, r: int, res: _MetricResult) -> tuple[str, str, str]:
        flag, reason = decide_flag(
            score=score_l[r], low=low_l[r], high=high_l[r], n_scored=n_l[r], unit=res.unit,
            q=q_l[r], p=p_l[r], diff=score_l[r] - rest_l[r], is_reference=j == 0,
            undefined=res.undefined[j], untested=res.untested[j], alpha=alpha,
            min_n=min_n, max_width=max_width, confidence=confidence, test=str(res.test[j]),
        )
        return flag, reason, str(res.test[j]) if j > 0 else ""

    return _table_columns(
        (*REPORT_COLUMNS, *EXTRA_COLUMNS), labels, sizes, results, row_flag,
        score=stack["score"], ci_low=stack["low"], ci_high=stack["high"], gap=gap,
        p_value=stack["p"], q_value=q, n_scored=stack["n_scored"].astype(np.int64),
        rest_score=stack["rest"],
    )


def _stack_results(results: Mapping[str, Any], attrs: Sequence[str]) -> list[np.ndarray]:
    """Each attribute of the per-metric results as one slice-major column (metrics within)."""
    if not results:
        return [np.zeros(0) for _ in attrs]
    return [np.stack([getattr(res, attr) for res in results.values()], axis=1).reshape(-1)
            for attr in attrs]


def _table_columns(public: Sequence[str], labels: Sequence[str], sizes: np.ndarray,
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


# -- formatting --------------------------------------------------------------------------------
def _isnan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _fmt_p(value: float | None) -> str:
    if _isnan(value):
        return "–"
    if value < 0.001:
        return "<0.001"
    return f"{value:.3f}" if value >= 0.01 else f"{value:.2g}"


def _fmt(value: Any, kind: str) -> str:
    if kind in ("text", "flag", "reason"):
        return "" if value is None else str(value)
    if _isnan(value):
        return "–"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "score":
        return f"{float(value):.3f}"
    if kind == "signed":
        return f"{float(value):+.3f}"
    if kind == "p":
        return _fmt_p(float(value))
    return str(value)


#: (column, header, kind) for the HTML and text tables of a SliceReport
REPORT_DISPLAY = (
    ("slice", "slice", "text"), ("n", "n", "int"), ("metric", "metric", "text"),
    ("score", "score", "score"), ("ci", "interval", "ci"), ("bar", "", "bar"),
    ("gap", "gap", "signed"), ("p_value", "p", "p"), ("q_value", "q", "p"),
    ("flag", "flag", "flag"), ("reason", "reason", "reason"),
)


def _as_columns(rows: pd.DataFrame | Mapping[str, Any]) -> dict[str, list]:
    if isinstance(rows, pd.DataFrame):
        return {str(c): rows[c].tolist() for c in rows.columns}
    return {str(c): (v.tolist() if isinstance(v, np.ndarray) else list(v))
            for c, v in rows.items()}


def render_html(
    rows: pd.DataFrame | Mapping[str, Any],
    columns: Sequence[tuple[str, str, str]] = REPORT_DISPLAY,
    *,
    caption: str = "",
    reference: Mapping[str, float] | None = None,
    bar_domain: tuple[float, float] | None = None,
    css: str = SLICE_REPORT_CSS,
    score_column: str = "score",
    reference_rows: Sequence[bool] | None = None,
) -> str:
    """An HTML table of report rows (every value escaped), with one CSS class per flag.

    Parameters
    ----------
    rows
        A DataFrame or a mapping of equal-length columns holding the columns named in
        ``columns`` (``ci`` reads ``ci_low``/``ci_high``; ``bar`` draws the interval, the
        point ``score_column`` and ``reference[metric]``; ``flag`` shows ``reason`` as a
        tooltip).
    columns
        ``(column, header, kind)``; kinds: text, int, score, signed, p, ci, bar, flag, reason.
    caption
        Plain text (escaped).
    reference
        Per-metric reference value drawn on the bars (the overall score).
    bar_domain
        The bars' axis range; default: [0, 1] widened to fit every interval.
    css
        Style sheet put in a ``<style>`` element (``""`` to leave it out).
    score_column
        The point estimate drawn on the bars.
    reference_rows
        Which rows are reference rows (bold); default: ``slice == "overall"``.

    Examples
    --------
    >>> html_text = render_html({"slice": ["a<b"], "n": [3], "metric": ["f1"], "score": [0.5],
    ...     "ci_low": [0.0], "ci_high": [1.0], "gap": [-0.4], "p_value": [0.05],
    ...     "q_value": [0.05], "flag": ["no-evidence"], "reason": ["too small"]}, css="")
    >>> "a&lt;b" in html_text and 'class="sw-flag-no-evidence"' in html_text
    True
    """
    esc = html.escape
    cols = _as_columns(rows)
    n_rows = len(next(iter(cols.values()))) if cols else 0
    if reference_rows is None:
        reference_rows = [s == "overall" for s in cols.get("slice", [""] * n_rows)]
    if bar_domain is None:
        ends = [v for key in ("ci_low", "ci_high") for v in cols.get(key, [])
                if not _isnan(v) and math.isfinite(v)]
        bar_domain = (min([0.0, *ends]), max([1.0, *ends]))
    lo, hi = bar_domain
    span = (hi - lo) or 1.0

    def pct(v: float) -> float:
        return 100.0 * (min(max(v, lo), hi) - lo) / span

    parts = ['<div class="sw-report">']
    if css:
        parts.append(f"<style>{css}</style>")
    parts.append("<table>")
    if caption:
        parts.append(f"<caption>{esc(caption)}</caption>")
    head = "".join(
        f'<th class="sw-text">{esc(h)}</th>' if kind in ("text", "flag", "reason")
        else f"<th>{esc(h)}</th>" for _, h, kind in columns
    )
    parts.append(f"<thead><tr>{head}</tr></thead><tbody>")
    empty = [None] * n_rows
    for r in range(n_rows):
        flag = str(cols.get("flag", empty)[r] or "ok")
        classes = f"sw-flag-{esc(flag)}" + (" sw-overall" if reference_rows[r] else "")
        cells = []
        for col, _, kind in columns:
            if kind == "ci":
                low, high = cols["ci_low"][r], cols["ci_high"][r]
                text = "–" if _isnan(low) or _isnan(high) else f"[{low:.3f}, {high:.3f}]"
                cells.append(f"<td>{esc(text)}</td>")
            elif kind == "bar":
                low, high = cols["ci_low"][r], cols["ci_high"][r]
                score = cols[score_column][r]
                inner = []
                ref = None if reference is None else reference.get(str(cols["metric"][r]))
                if not _isnan(ref) and math.isfinite(ref):
                    inner.append(f'<div class="sw-ref" style="left:{pct(ref):.1f}%"></div>')
                if not (_isnan(low) or _isnan(high)):
                    inner.append(f'<div class="sw-ci" style="left:{pct(low):.1f}%;'
                                 f'width:{max(pct(high) - pct(low), 0.5):.1f}%"></div>')
                if not _isnan(score):
                    inner.append(f'<div class="sw-pt" style="left:{pct(score):.1f}%"></div>')
                cells.append(f'<td><div class="sw-bar">{"".join(inner)}</div></td>')
            elif kind == "flag":
                reason = esc(_fmt(cols.get("reason", empty)[r], "text"), quote=True)
                cells.append(f'<td class="sw-text sw-flagcell"><span class="sw-flag" '
                             f'title="{reason}">{esc(flag)}</span></td>')
            elif kind == "reason":
                cells.append(f'<td class="sw-reason">{esc(_fmt(cols[col][r], "text"))}</td>')
            else:
                cls = ' class="sw-text"' if kind == "text" else (
                    ' class="sw-gap"' if col in ("gap", "delta") else "")
                cells.append(f"<td{cls}>{esc(_fmt(cols[col][r], kind))}</td>")
        parts.append(f'<tr class="{classes}">{"".join(cells)}</tr>')
    parts.append("</tbody></table></div>")
    return "".join(parts)


def render_text(rows: pd.DataFrame | Mapping[str, Any],
                columns: Sequence[tuple[str, str, str]], header: str) -> str:
    """A plain-text table of the same rows (the ``__repr__`` fallback)."""
    cols = _as_columns(rows)
    n_rows = len(next(iter(cols.values()))) if cols else 0
    if not n_rows:
        return f"{header}\n(no rows)"
    shown: dict[str, list[str]] = {}
    for col, h, kind in columns:
        if kind == "bar":
            continue
        if kind == "ci":
            shown["interval"] = [
                "–" if _isnan(lo) or _isnan(hi) else f"[{lo:.3f}, {hi:.3f}]"
                for lo, hi in zip(cols["ci_low"], cols["ci_high"], strict=True)
            ]
        else:
            shown[h] = [_fmt(v, kind) for v in cols[col]]
    width = {h: max(len(h), *(len(v) for v in values)) for h, values in shown.items()}
    lines = ["  ".join(h.ljust(width[h]) for h in shown)]
    for r in range(n_rows):
        lines.append("  ".join(shown[h][r].ljust(width[h]) for h in shown).rstrip())
    return header + "\n" + "\n".join(lines)


# -- the result object -------------------------------------------------------------------------
class _ResultTable:
    """Base of the immutable result tables: columns computed once, copies on the way out.

    Rows are held as read-only NumPy columns (a DataFrame is only built by :meth:`to_frame`)
    plus a private boolean column ``_ref`` marking the reference (``overall``) rows, so that
    a slice may itself be called "overall".
    """

    _columns: tuple[tuple[str, str, str], ...] = REPORT_DISPLAY
    _public: tuple[str, ...] = (*REPORT_COLUMNS, *EXTRA_COLUMNS)

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
    def random_state(self) -> Any:
        """The seed given (``None``: the fixed default seed)."""
        return self._meta["random_state"]

    def _by_metric(self, column: str) -> dict[str, float]:
        """``{metric: value of column in its reference (overall) row}``."""
        ref = self._cols["_ref"]
        return {str(m): float(v) for m, v in zip(self._cols["metric"][ref].tolist(),
                                                 self._cols[column][ref].tolist(), strict=True)}

    def _worst(self, k: int, metric: str | None, skip_no_evidence: bool):
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

    def _take(self, index: np.ndarray):
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

    def sorted(self, by: str = "gap", *, ascending: bool = True):
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


class SliceReport(_ResultTable):
    """Per-slice scores with sizes, intervals, gaps, tests and flags (see :func:`slice_report`).

    Immutable: computed once; :meth:`to_frame`, :meth:`sorted` and :meth:`worst` return new
    objects. Renders as an HTML table in notebooks (flags coloured: ``worse`` red, ``better``
    green, ``no-evidence`` grey, ``ok`` blue; the reason as a tooltip and a column, an
    interval bar with the overall score as a red tick) and as text elsewhere; both are sorted
    by gap (largest drop first).

    Examples
    --------
    >>> from slicewidgets.analysis import Scorer
    >>> golds = np.array([1, 0] * 50); preds = np.where(np.arange(100) < 30, 1 - golds, golds)
    >>> report = Scorer().slice_report({"head": np.arange(100) < 30}, golds, preds)
    >>> report.overall
    {'accuracy': 0.7}
    >>> report.worst(1).to_frame(include_overall=False)[["slice", "score", "flag"]]
      slice  score   flag
    0  head    0.0  worse
    """

    @property
    def overall(self) -> dict[str, float]:
        """``{metric: overall score}``."""
        return self._by_metric("score")

    def _reference(self) -> dict[str, float]:
        return self.overall

    def to_frame(self, *, include_overall: bool = True, metric: str | None = None) -> pd.DataFrame:
        """The rows as a new DataFrame.

        Columns ``slice, n, metric, score, ci_low, ci_high, gap, p_value, q_value, flag``
        then ``reason, n_scored, rest_score, ci_method, test``; ``overall`` rows first unless
        ``include_overall=False``; ``metric`` keeps only that metric's rows.
        """
        return super().to_frame(include_overall=include_overall, metric=metric)

    def sort_by_gap(self, *, ascending: bool = True) -> SliceReport:
        """``sorted("gap")``: the largest drops first (overall rows stay first)."""
        return self.sorted("gap", ascending=ascending)

    def worst(self, k: int = 5, *, metric: str | None = None,
              skip_no_evidence: bool = False) -> SliceReport:
        """The ``k`` slices with the most negative gap for ``metric`` (default: the first).

        The result keeps that metric's ``overall`` row first (drop it with
        ``to_frame(include_overall=False)``); slices with an undefined score are left out,
        and so are slices flagged ``no-evidence`` when ``skip_no_evidence=True``.
        """
        return self._worst(k, metric, skip_no_evidence)

    def flagged(self, *flags: str) -> SliceReport:
        """Only the slice rows with these flags (default ``worse`` and ``better``), plus overall."""
        flags = flags or ("worse", "better")
        unknown = set(flags) - set(FLAGS)
        if unknown:
            raise ValueError(f"Unknown flags {sorted(unknown)}; choose from {list(FLAGS)}.")
        keep = self._cols["_ref"] | np.isin(self._cols["flag"].astype(str), list(flags))
        return self._take(np.flatnonzero(keep))

    def _caption(self) -> str:
        n_slices = len(self.slices)
        return (f"SliceReport: {', '.join(self.metrics)} on {n_slices} slice"
                f"{'s' if n_slices != 1 else ''}; {self.confidence:.0%} intervals; flags at "
                f"q < {self.alpha:g} (Benjamini-Hochberg), no-evidence below "
                f"{self.min_n} scored rows or above interval width {self.max_width:g}")
