"""Compare two models slice by slice: paired deltas with intervals, tests and flags."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from slicewidgets.analysis import stats
from slicewidgets.analysis._fast import is_binary, metric_from_counts, valid_rows
from slicewidgets.analysis.estimators import (
    call_metric,
    resample_counts,
    row_bootstrap,
    undefined_mask,
    undefined_reason,
)
from slicewidgets.analysis.flags import decide_flag
from slicewidgets.analysis.scoring import BaseScorer
from slicewidgets.analysis.table import ResultTable, stack_results, table_columns
from slicewidgets.analysis.validation import (
    RandomState,
    SliceSeeds,
    as_probs,
    check_aligned,
    check_auc_probs,
    check_options,
    check_same_length,
    label_array,
    slices_of,
)
from slicewidgets.membership import MembershipLike

__all__ = ["COMPARISON_COLUMNS", "ModelComparison", "compare_models"]

#: The columns of :meth:`ModelComparison.to_frame`, in order.
COMPARISON_COLUMNS = (
    "slice", "n", "metric", "score_a", "score_b", "delta", "ci_low", "ci_high", "p_value",
    "q_value", "flag", "reason", "n_scored", "ci_method", "test",
)

#: Per-row bits from which every count metric of one model follows (as in ``slice_counts``).
_BITS = ("valid", "correct", "tp", "fp", "fn", "covered")
_NEEDS = {
    "accuracy": ("valid", "correct"), "coverage": ("covered",),
    "precision": ("valid", "tp", "fp"), "recall": ("valid", "tp", "fn"),
    "f1": ("valid", "tp", "fp", "fn"), "matthews_corrcoef": ("valid", "tp", "fp", "fn"),
}


def _row_bits(golds: np.ndarray, preds: np.ndarray, abstain_label: int | None,
              wanted: Sequence[str]) -> np.ndarray:
    valid = valid_rows(golds, preds, abstain_label=abstain_label)
    g1, p1 = golds == 1, preds == 1
    bits = {
        "valid": valid, "correct": valid & (golds == preds), "tp": valid & g1 & p1,
        "fp": valid & ~g1 & p1, "fn": valid & g1 & ~p1, "covered": preds != -1,
    }
    return np.stack([bits[b] for b in wanted], axis=1)


def _fields_to_counts(F: np.ndarray, wanted: Sequence[str]) -> dict[str, np.ndarray]:
    """Counts for :func:`metric_from_counts` from per-slice sums of the row bits."""
    F = np.asarray(F, dtype=float)
    zero = np.zeros(F.shape[:-1])
    d = {b: F[..., i] for i, b in enumerate(wanted)}
    tp, fp, fn = d.get("tp", zero), d.get("fp", zero), d.get("fn", zero)
    n_valid = d.get("valid", zero)
    size = d.get("_size", zero)
    return {"size": size, "n_valid": n_valid, "correct": d.get("correct", zero), "tp": tp,
            "fp": fp, "fn": fn, "tn": n_valid - tp - fp - fn,
            "pred_nonabstain": d.get("covered", zero)}


class _Joint:
    """Joint row types of two models and their per-slice counts."""

    def __init__(self, M: np.ndarray, golds: np.ndarray, preds_a: np.ndarray,
                 preds_b: np.ndarray, abstain_label: int | None, metrics: Sequence[str]) -> None:
        wanted = sorted({b for m in metrics for b in _NEEDS[m]}, key=_BITS.index)
        self.wanted = [*wanted, "_size"]
        bits_a = _row_bits(golds, preds_a, abstain_label, wanted)
        bits_b = _row_bits(golds, preds_b, abstain_label, wanted)
        w = len(wanted)
        code = (bits_a @ (1 << np.arange(w))) | ((bits_b @ (1 << np.arange(w))) << w)
        present = np.flatnonzero(np.bincount(code, minlength=1 << (2 * w)))
        lookup = np.zeros(1 << (2 * w), dtype=np.int64)
        lookup[present] = np.arange(len(present))
        types = lookup[code]
        T = len(present)
        decode = (present[:, None] >> np.arange(2 * w)[None, :]) & 1
        ones = np.ones((T, 1))
        self.to_a = np.hstack([decode[:, :w], ones])  # (T, w + 1): bits then size
        self.to_b = np.hstack([decode[:, w:], ones])
        onehot = np.zeros((len(golds), T), dtype=np.float32 if len(golds) < 2**24 else np.float64)
        onehot[np.arange(len(golds)), types] = 1
        per_slice = np.rint(M.T.astype(onehot.dtype) @ onehot).astype(np.int64)
        self.J = np.vstack([np.bincount(types, minlength=T)[None, :], per_slice])  # (k + 1, T)

    def metric(self, name: str, J: np.ndarray, which: str) -> np.ndarray:
        E = self.to_a if which == "a" else self.to_b
        c = _fields_to_counts(np.asarray(J, dtype=float) @ E, self.wanted)
        return np.where(undefined_mask(name, c), np.nan, metric_from_counts(name, c))

    def counts(self, J: np.ndarray, which: str) -> dict[str, np.ndarray]:
        E = self.to_a if which == "a" else self.to_b
        return _fields_to_counts(np.asarray(J, dtype=float) @ E, self.wanted)


class _Rows:
    """Per-metric arrays of length k + 1 (position 0: overall)."""

    def __init__(self, k1: int, ci_method: str, unit: str = "rows scored by both models"):
        self.a = np.full(k1, np.nan)
        self.b = np.full(k1, np.nan)
        self.low = np.full(k1, np.nan)
        self.high = np.full(k1, np.nan)
        self.p = np.full(k1, np.nan)
        self.n_scored = np.zeros(k1, dtype=np.int64)
        self.test = [""] * k1
        self.undefined = [""] * k1
        self.untested = [""] * k1
        self.notes = [""] * k1
        self.ci_method = ci_method
        self.unit = unit


def _notes(res: _Rows, m: np.ndarray, n_boot: int) -> None:
    for j in range(len(m)):
        delta = res.b[j] - res.a[j]
        if np.isnan(delta):
            continue
        notes = []
        if n_boot - int(m[j]):
            notes.append(f"{n_boot - int(m[j])} of {n_boot} resamples had a metric undefined "
                         "and were dropped")
        if res.low[j] == res.high[j]:
            notes.append("zero-width bootstrap interval (every resample gave the same delta): "
                         "it understates the uncertainty")
        res.notes[j] = "; ".join(notes)


def _undefined_pair(name: str, ca: Mapping[str, np.ndarray], cb: Mapping[str, np.ndarray], j: int,
                    names: Sequence[str], a: float, b: float) -> str:
    parts = []
    if np.isnan(a):
        parts.append(f"{names[0]}: {undefined_reason(name, ca, j)}")
    if np.isnan(b):
        parts.append(f"{names[1]}: {undefined_reason(name, cb, j)}")
    return "; ".join(parts)


def _count_metrics(metrics: Sequence[str], joint: _Joint, confidence: float, n_boot: int,
                   seeds: SliceSeeds, names: Sequence[str]) -> dict[str, _Rows]:
    J = joint.J
    R = resample_counts(J, n_boot, seeds, "paired:" + ",".join(joint.wanted))  # (B, k + 1, T)
    ca, cb = joint.counts(J, "a"), joint.counts(J, "b")
    # rows scored by both models (McNemar's rows for accuracy)
    both = np.ones(J.shape[1], dtype=bool)
    if "valid" in joint.wanted:
        iv = joint.wanted.index("valid")
        both = (joint.to_a[:, iv] == 1) & (joint.to_b[:, iv] == 1)
    out = {}
    for name in metrics:
        res = _Rows(J.shape[0], "paired bootstrap (counts)",
                    "rows" if name == "coverage" else "rows scored by both models")
        res.a, res.b = joint.metric(name, J, "a"), joint.metric(name, J, "b")
        res.n_scored = J.sum(axis=1) if name == "coverage" else J[:, both].sum(axis=1)
        reps = joint.metric(name, R, "b") - joint.metric(name, R, "a")
        res.low, res.high, m = stats.percentile_interval(reps, res.b - res.a, confidence)
        if name in ("accuracy", "coverage"):
            bit = "correct" if name == "accuracy" else "covered"
            i = joint.wanted.index(bit)
            rows = both if name == "accuracy" else np.ones(J.shape[1], dtype=bool)
            only_a = rows & (joint.to_a[:, i] == 1) & (joint.to_b[:, i] == 0)
            only_b = rows & (joint.to_a[:, i] == 0) & (joint.to_b[:, i] == 1)
            res.p = stats.mcnemar_test(J[:, only_a].sum(axis=1), J[:, only_b].sum(axis=1))
            res.test = ["McNemar (exact)"] * J.shape[0]
        else:
            idx = [i for i, b in enumerate(joint.wanted) if b != "_size"]

            def f(F: np.ndarray, name: str = name, idx: list[int] = idx) -> np.ndarray:
                full = np.zeros((*F.shape[:-1], len(joint.wanted)))
                full[..., idx] = F
                c = _fields_to_counts(full, joint.wanted)
                return np.where(undefined_mask(name, c), np.nan, metric_from_counts(name, c))

            res.p, _ = stats.paired_permutation_z_test(f, J, joint.to_a[:, idx],
                                                       joint.to_b[:, idx])
            res.test = ["paired permutation z"] * J.shape[0]
        _notes(res, m, n_boot)
        for j in range(J.shape[0]):
            res.undefined[j] = _undefined_pair(name, ca, cb, j, names, res.a[j], res.b[j])
            if not res.undefined[j] and np.isnan(res.p[j]):
                res.untested[j] = "test undefined: no row where the models differ"
        out[name] = res
    return out


def _roc_auc(*, golds: np.ndarray, preds_a: np.ndarray, preds_b: np.ndarray,
             probs_a: np.ndarray | None, probs_b: np.ndarray | None, membership: np.ndarray,
             abstain_label: int | None, confidence: float, n_boot: int,
             seeds: SliceSeeds, names: Sequence[str]) -> _Rows:
    """Each model's ROC AUC on the rows it scored (as ``Scorer`` and ``slice_report`` give
    it), a paired bootstrap interval of the difference (the rows either model scored are
    resampled, each model scored on its own rows of a resample) and DeLong's test on the rows
    both models scored (a paired test needs the same rows)."""
    for label, probs in (("probs_a", probs_a), ("probs_b", probs_b)):
        check_auc_probs(probs, label, f": pass {label}")
    assert probs_a is not None and probs_b is not None
    M = membership
    valid_a = valid_rows(golds, preds_a, abstain_label=abstain_label)
    valid_b = valid_rows(golds, preds_b, abstain_label=abstain_label)
    k = M.shape[1]
    res = _Rows(k + 1, "paired bootstrap (rows)")
    m = np.zeros(k + 1, dtype=np.int64)

    def one_class(rows: np.ndarray) -> str:
        if not rows.any():
            return "no scored rows: every row has an abstain gold or prediction"
        pos = golds[rows] == 1
        return "all golds in the slice are one class: roc_auc undefined" if (
            pos.all() or not pos.any()) else ""

    for j in range(k + 1):
        in_slice = np.ones(len(golds), dtype=bool) if j == 0 else M[:, j - 1]
        rows_a, rows_b = valid_a & in_slice, valid_b & in_slice
        both, either = rows_a & rows_b, rows_a | rows_b
        res.n_scored[j] = int(both.sum())
        if j and not in_slice.any():
            res.undefined[j] = "empty slice: no rows"
            continue
        # each model on its own rows: the rows of `either` it scored, sorted by its score
        pos = golds[either] == 1
        n = len(pos)
        sides = []
        for valid, probs in ((valid_a, probs_a), (valid_b, probs_b)):
            own = valid[either]
            scores, own_pos = probs[either, 1][own], pos[own]
            order = np.argsort(scores, kind="stable")
            ties = stats.tie_group_starts(scores[order])
            sides.append((np.flatnonzero(own)[order], own_pos[order],
                          None if len(ties) == len(scores) else ties))
        (cols_a, pa, sta), (cols_b, pb, stb) = sides
        why = [one_class(rows_a), one_class(rows_b)]
        for w, (_, p_sorted, starts), out in zip(why, sides, (res.a, res.b), strict=True):
            if not w:
                out[j] = float(stats.roc_auc_from_weights(p_sorted.astype(float),
                                                          (~p_sorted).astype(float), starts))
        if why[0] or why[1]:
            res.undefined[j] = why[0] if why[0] == why[1] else "; ".join(
                f"{who}: {w}" for who, w in zip(names, why, strict=True) if w)
            continue
        # DeLong's test on the rows both models scored
        pos_c = golds[both] == 1
        if not both.any() or pos_c.all() or not pos_c.any():
            res.untested[j] = ("DeLong test undefined: the rows both models scored are "
                               + ("none" if not both.any() else "all one class"))
        else:
            auc_a, auc_b, var = stats.delong_paired(pos_c, probs_a[both, 1], probs_b[both, 1])
            p, _ = stats.wald_test(auc_b, var, auc_a, 0.0)
            res.p[j] = float(p)
            res.test[j] = "DeLong (paired)"
            if np.isnan(res.p[j]):
                res.untested[j] = "DeLong variance undefined (fewer than two rows of a class)"
        # the interval: resample the rows either model scored
        reps = np.full(n_boot, np.nan)
        rng = seeds.rows_rng("paired roc_auc", either)  # keyed by the slice's rows
        per = max(1, 2**21 // n)
        for lo in range(0, n_boot, per):
            c = min(per, n_boot - lo)
            draw = rng.integers(0, n, size=(c, n)) + (np.arange(c) * n)[:, None]
            W = np.bincount(draw.ravel(), minlength=c * n).reshape(c, n).astype(float)
            Wa, Wb = W[:, cols_a], W[:, cols_b]
            reps[lo:lo + c] = (stats.roc_auc_from_weights(Wb * pb, Wb * ~pb, stb)
                               - stats.roc_auc_from_weights(Wa * pa, Wa * ~pa, sta))
        low, high, mj = stats.percentile_interval(reps[:, None], np.array([res.b[j] - res.a[j]]),
                                                  confidence)
        res.low[j], res.high[j], m[j] = low[0], high[0], mj[0]
    _notes(res, m, n_boot)
    return res


def _generic(name: str, func: Callable[..., Any], *, builtin: bool, golds: np.ndarray,
             preds_a: np.ndarray, preds_b: np.ndarray, probs_a: np.ndarray | None,
             probs_b: np.ndarray | None, membership: np.ndarray, abstain_label: int | None,
             confidence: float, n_boot: int, seeds: SliceSeeds) -> _Rows:
    def call(preds: np.ndarray, probs: np.ndarray | None, idx: np.ndarray) -> float | str:
        value = call_metric(func, golds, preds, probs, idx)
        if isinstance(value, str):
            return value
        if isinstance(value, dict):
            raise TypeError(
                f"compare_models cannot compare the dict-valued custom metric {name!r}; "
                "register each value as its own metric function."
            )
        return float(value)

    def delta(draw: np.ndarray) -> list[float] | None:
        ra, rb = call(preds_a, probs_a, draw), call(preds_b, probs_b, draw)
        if isinstance(ra, str) or isinstance(rb, str):
            return None
        return [rb - ra]

    M = membership
    func(golds, preds_a, probs_a)  # errors on all rows propagate, as in Scorer.score
    func(golds, preds_b, probs_b)
    k = M.shape[1]
    res = _Rows(k + 1, "paired bootstrap (rows)")
    valid = (valid_rows(golds, preds_a, preds_b, abstain_label=abstain_label)
             if builtin and name != "coverage" else np.ones(len(golds), dtype=bool))
    m = np.zeros(k + 1, dtype=np.int64)
    for j in range(k + 1):
        idx = np.arange(len(golds)) if j == 0 else np.flatnonzero(M[:, j - 1])
        res.n_scored[j] = int(valid[idx].sum())
        if not len(idx):
            res.undefined[j] = "empty slice: no rows"
            continue
        va, vb = call(preds_a, probs_a, idx), call(preds_b, probs_b, idx)
        res.a[j] = np.nan if isinstance(va, str) else va
        res.b[j] = np.nan if isinstance(vb, str) else vb
        if isinstance(va, str) or isinstance(vb, str):
            res.undefined[j] = "; ".join(
                f"{who}: {name} undefined on this slice: {v}"
                for who, v in (("a", va), ("b", vb)) if isinstance(v, str))
            continue
        in_slice = np.zeros(len(golds), dtype=bool)
        in_slice[idx] = True
        reps = row_bootstrap(delta, idx, n_boot, seeds.rows_rng(f"paired rows:{name}",
                                                                in_slice))[:, 0]
        low, high, mj = stats.percentile_interval(reps[:, None],
                                                  np.array([res.b[j] - res.a[j]]), confidence)
        res.low[j], res.high[j], m[j] = low[0], high[0], mj[0]
        sd = float(np.nanstd(reps)) if mj[0] > 1 else np.nan
        p, _ = stats.wald_test(res.b[j] - res.a[j], sd**2, 0.0, 0.0)
        res.p[j] = float(p)
        res.test[j] = "paired bootstrap z"
        if np.isnan(res.p[j]):
            res.untested[j] = "test undefined: the bootstrap variance is zero"
    _notes(res, m, n_boot)
    return res


def compare_models(
    S: MembershipLike,
    golds: ArrayLike,
    preds_a: ArrayLike,
    preds_b: ArrayLike,
    *,
    probs_a: ArrayLike | None = None,
    probs_b: ArrayLike | None = None,
    metrics: Sequence[str] | None = None,
    scorer: BaseScorer | None = None,
    confidence: float = 0.95,
    n_boot: int = 1000,
    random_state: RandomState = None,
    names: Sequence[str] = ("a", "b"),
    alpha: float = 0.05,
    min_n: int = 10,
    max_width: float = 0.5,
) -> ModelComparison:
    """Compare two models' predictions on the same rows, overall and on every slice.

    Parameters
    ----------
    S
        Slice membership (recarray, ``SliceMembership``, DataFrame or dict of masks).
    golds
        Gold labels.
    preds_a, preds_b
        The two models' predictions on the same rows; model b is compared against model a
        (the baseline): ``delta = score_b - score_a``.
    probs_a, probs_b
        Probabilities, for probability metrics (``roc_auc``).
    metrics
        Metric names (default ``("accuracy",)``); or pass a ``scorer`` instead (its metrics,
        custom metrics and ``abstain_label``), not both.
    confidence, n_boot, random_state, alpha, min_n, max_width
        As for :func:`~slicewidgets.analysis.report.slice_report`.
    names
        Display names of the two models.

    Returns
    -------
    ModelComparison
        ``to_frame()``: one row per (slice, metric), ``overall`` first, with columns
        ``slice, n, metric, score_a, score_b, delta, ci_low, ci_high, p_value, q_value, flag,
        reason, n_scored, ci_method, test``.

    Notes
    -----
    **Intervals** for ``delta`` come from a paired bootstrap: the rows of a slice are
    resampled and both models are scored on the same resample. For count metrics (accuracy,
    coverage, precision, recall, F1, MCC) the resampling is done on the counts of joint row
    types (a row's outcome under model a and under model b): a multinomial draw per slice,
    vectorized over slices and resamples. ROC AUC and custom metrics resample rows.

    **Tests** (two-sided): accuracy and coverage use McNemar's exact test on the discordant
    rows (right under one model only; for accuracy, among rows scored by both models);
    precision, recall, F1 and MCC use the normal approximation to the paired permutation
    (sign-flip) test, which swaps the two models' predictions row by row: its variance comes
    from the delta method at the pooled proportions (for accuracy it is McNemar's z);
    ROC AUC uses DeLong's test for correlated AUCs; custom metrics a z-test with the paired
    bootstrap variance. ``q_value``: Benjamini-Hochberg over the overall row and all slices,
    per metric.

    **Rows.** ``score_a`` and ``score_b`` are each model's score on the rows it scored (those
    without an abstain gold or prediction of its own), as ``Scorer.score_slices`` gives them,
    and ``delta`` is their difference; its interval resamples the slice's rows and scores each
    model on its own rows of every resample. The paired tests (McNemar for accuracy, DeLong for
    ROC AUC) compare the models on the rows both scored. ``n_scored`` counts the rows both
    models scored (every row of the slice for coverage and custom metrics).

    **Flags** follow :func:`slice_report`: ``no-evidence`` when a score is undefined, fewer
    than ``min_n`` rows are scored by both models, the interval is wider than ``max_width``
    or the test is undefined; otherwise ``better`` (model b scores higher) or ``worse``
    (lower) when ``q_value < alpha``, else ``ok``.

    Examples
    --------
    >>> golds = np.array([0, 1] * 100)
    >>> a = golds.copy(); a[:40] = 1 - a[:40]          # a errs on the first 40 rows
    >>> b = golds.copy(); b[150:160] = 1 - b[150:160]  # b errs on 10 other rows
    >>> S = {"head": np.arange(200) < 50, "tail": np.arange(200) >= 150}
    >>> cmp = compare_models(S, golds, a, b, names=("old", "new"))
    >>> cmp.to_frame()[["slice", "score_a", "score_b", "delta", "flag"]]
         slice  score_a  score_b  delta    flag
    0  overall      0.8     0.95   0.15  better
    1     head      0.2     1.00   0.80  better
    2     tail      1.0     0.80  -0.20   worse
    """
    confidence, n_boot, alpha, min_n, max_width = check_options(
        confidence, n_boot, alpha, min_n, max_width)
    if scorer is not None and metrics is not None:
        raise ValueError("Pass either metrics or scorer to compare_models, not both.")
    if scorer is None:
        scorer = BaseScorer(metrics=list(metrics) if metrics is not None else ["accuracy"])
    names = tuple(str(n) for n in names)
    if len(names) != 2:
        raise ValueError(f"names must hold two model names, got {names!r}.")
    seeds = SliceSeeds(random_state)  # per slice: other slices never move an interval
    check_aligned(S=S, golds=golds, preds_a=preds_a, preds_b=preds_b, probs_a=probs_a,
                  probs_b=probs_b)
    slice_names, M = slices_of(S, golds)
    golds = label_array(golds, "golds")
    preds_a, preds_b = label_array(preds_a, "preds_a"), label_array(preds_b, "preds_b")
    check_same_length(S=M.shape[0], golds=golds, preds_a=preds_a, preds_b=preds_b,
                      probs_a=probs_a, probs_b=probs_b)
    probs_a, probs_b = as_probs(probs_a, "probs_a"), as_probs(probs_b, "probs_b")
    abstain = scorer.abstain_label
    builtin = set(scorer.builtin_metrics)
    binary = is_binary(golds, preds_a, abstain) and is_binary(golds, preds_b, abstain)
    counted = [m for m in scorer.metrics if m in builtin and (
        m in ("accuracy", "coverage") or (binary and m in _NEEDS))]
    rows: dict[str, _Rows] = {}
    if counted:
        joint = _Joint(M, golds, preds_a, preds_b, abstain, counted)
        rows.update(_count_metrics(counted, joint, confidence, n_boot, seeds, names))
    for name, func in scorer.metrics.items():
        if name in rows:
            continue
        if name == "roc_auc" and name in builtin and is_binary(golds, None, abstain):
            rows[name] = _roc_auc(golds=golds, preds_a=preds_a, preds_b=preds_b,
                                  probs_a=probs_a, probs_b=probs_b, membership=M,
                                  abstain_label=abstain, confidence=confidence,
                                  n_boot=n_boot, seeds=seeds, names=names)
        else:
            rows[name] = _generic(name, func, builtin=name in builtin, golds=golds,
                                  preds_a=preds_a, preds_b=preds_b, probs_a=probs_a,
                                  probs_b=probs_b, membership=M, abstain_label=abstain,
                                  confidence=confidence, n_boot=n_boot, seeds=seeds)
    rows = {m: rows[m] for m in scorer.metrics}
    sizes = np.concatenate([[len(golds)], np.count_nonzero(M, axis=0)]).astype(np.int64)
    columns = _assemble(["overall", *slice_names], sizes, rows, alpha=alpha, min_n=min_n,
                        max_width=max_width, confidence=confidence, names=names)
    return ModelComparison(columns, confidence=confidence, n_boot=n_boot, alpha=alpha,
                           min_n=min_n, max_width=max_width, random_state=random_state,
                           names=names)


def _assemble(labels: Sequence[str], sizes: np.ndarray, rows: Mapping[str, _Rows], *,
              alpha: float, min_n: int, max_width: float, confidence: float,
              names: Sequence[str]) -> dict[str, np.ndarray]:
    k1, metrics = len(labels), list(rows)
    n_m = len(metrics)
    a, b, low, high, p, n_scored = stack_results(rows, ("a", "b", "low", "high", "p",
                                                         "n_scored"))
    n_scored = n_scored.astype(np.int64)
    delta = b - a
    q = np.full((k1, n_m), np.nan)
    for i, m in enumerate(metrics):
        q[:, i] = stats.benjamini_hochberg(rows[m].p)
    q_flat = q.reshape(-1)

    def row_flag(j: int, r: int, res: _Rows) -> tuple[str, str, str]:
        flag, reason = decide_flag(
            score=float(delta[r]), low=float(low[r]), high=float(high[r]),
            n_scored=int(n_scored[r]), unit=res.unit, q=float(q_flat[r]), p=float(p[r]),
            diff=float(delta[r]), is_reference=False, undefined=res.undefined[j],
            untested=res.untested[j], alpha=alpha, min_n=min_n, max_width=max_width,
            confidence=confidence, test=res.test[j], versus=names[0],
        )
        return flag, reason, res.test[j]

    return table_columns(
        COMPARISON_COLUMNS, labels, sizes, rows, row_flag, score_a=a, score_b=b, delta=delta,
        ci_low=low, ci_high=high, p_value=p, q_value=q_flat, n_scored=n_scored,
    )


class ModelComparison(ResultTable):
    """Per-slice paired comparison of two models (see :func:`compare_models`).

    Immutable; ``delta = score_b - score_a`` with its interval, p- and q-value and a flag
    (``better``: model b scores higher). Renders as an HTML table (sorted by delta, the
    largest drop first, with a bar of each interval around zero) and as text.
    """

    _columns = (
        ("slice", "slice", "text"), ("n", "n", "int"), ("metric", "metric", "text"),
        ("score_a", "a", "score"), ("score_b", "b", "score"), ("delta", "delta", "signed"),
        ("ci", "interval", "ci"), ("bar", "", "bar"), ("p_value", "p", "p"),
        ("q_value", "q", "p"), ("flag", "flag", "flag"), ("reason", "reason", "reason"),
    )
    _public = COMPARISON_COLUMNS
    _default_sort = "delta"
    _score_column = "delta"
    _gap_column = "delta"

    @property
    def names(self) -> tuple[str, str]:
        """The two models' names (a, b)."""
        return self._meta["names"]

    @property
    def overall(self) -> dict[str, float]:
        """``{metric: overall delta}`` (b - a)."""
        return self._by_metric("delta")

    def _headers(self) -> tuple[tuple[str, str, str], ...]:
        a, b = self.names
        return tuple((c, a if c == "score_a" else b if c == "score_b" else h, kind)
                     for c, h, kind in self._columns)

    def _reference(self) -> dict[str, float]:
        return {m: 0.0 for m in self.metrics}

    def _bar_domain(self, cols: Mapping[str, np.ndarray]) -> tuple[float, float] | None:
        ends = np.abs(np.concatenate([cols["ci_low"], cols["ci_high"]]).astype(float))
        ends = ends[np.isfinite(ends)]
        half = max(float(ends.max()) if ends.size else 0.0, 0.05)
        return (-half, half)

    def sorted(self, by: str = "delta", *, ascending: bool = True) -> ModelComparison:
        """A copy sorted by ``by`` within each metric (``overall`` rows first, NaN last)."""
        return super().sorted(by, ascending=ascending)

    def worst(self, k: int = 5, *, metric: str | None = None,
              skip_no_evidence: bool = False) -> ModelComparison:
        """The ``k`` slices where model b loses most against a (most negative delta)."""
        return self._worst(k, metric, skip_no_evidence)

    def to_frame(self, *, include_overall: bool = True, metric: str | None = None) -> pd.DataFrame:
        """The rows as a new DataFrame (columns :data:`COMPARISON_COLUMNS`)."""
        return super().to_frame(include_overall=include_overall, metric=metric)

    def to_html(self, *, sort: str | None = "delta", include_overall: bool = True,
                metric: str | None = None, columns: Sequence[str] | None = None,
                css: bool = True) -> str:
        """The HTML table (see :meth:`SliceReport.to_html`); sorted by delta by default."""
        return super().to_html(sort=sort, include_overall=include_overall, metric=metric,
                               columns=columns, css=css)

    def _caption(self) -> str:
        a, b = self.names
        n_slices = len(self.slices)
        return (f"ModelComparison: {b} vs {a} (delta = {b} - {a}) on "
                f"{', '.join(self.metrics)}, {n_slices} slice{'s' if n_slices != 1 else ''}; "
                f"{self.confidence:.0%} paired-bootstrap intervals; flags at q < {self.alpha:g} "
                "(Benjamini-Hochberg)")

