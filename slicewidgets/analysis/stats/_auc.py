"""ROC AUC from row weights: ties, bootstrap resamples, Hanley-McNeil variance and DeLong's
paired test."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from slicewidgets.analysis.validation import check_n_boot


def tie_group_starts(sorted_scores: np.ndarray) -> np.ndarray:
    """Start positions of runs of equal values in a sorted array."""
    s = np.asarray(sorted_scores)
    if len(s) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, s[1:] != s[:-1]])


def roc_auc_from_weights(
    pos_weights: np.ndarray, neg_weights: np.ndarray, starts: np.ndarray | None = None
) -> np.ndarray:
    """ROC AUC (Mann-Whitney, ties count 1/2) from row weights in increasing-score order.

    Parameters
    ----------
    pos_weights, neg_weights
        Shape ``(..., n)``: the weight (multiplicity) of each row as a positive / negative,
        rows sorted by score.
    starts
        Start of each run of tied scores (:func:`tie_group_starts`); ``None``: no ties.

    Returns
    -------
    ndarray
        Shape ``(...)``; NaN where either class has no weight.

    Examples
    --------
    >>> pos = np.array([0, 1, 0, 1.0]); neg = 1 - pos
    >>> float(roc_auc_from_weights(pos, neg))
    0.75
    """
    P = np.asarray(pos_weights, dtype=float)
    Nw = np.asarray(neg_weights, dtype=float)
    if starts is not None and len(starts) < P.shape[-1]:
        P = np.add.reduceat(P, starts, axis=-1)
        Nw = np.add.reduceat(Nw, starts, axis=-1)
    below = np.cumsum(Nw, axis=-1) - Nw
    num = (P * (below + 0.5 * Nw)).sum(axis=-1)
    den = P.sum(axis=-1) * Nw.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def bootstrap_auc(
    is_pos: ArrayLike, scores: ArrayLike, n_boot: int, rng: np.random.Generator, *, chunk_elems: int = 2**21
) -> np.ndarray:
    """ROC AUC on ``n_boot`` row-bootstrap resamples of one sample.

    Rows are sorted by score once; each resample is a vector of row multiplicities (drawn
    uniformly with replacement), and its AUC follows from cumulative sums in score order, so a
    resample costs O(n) without re-sorting. Resamples with a single class give NaN.

    Examples
    --------
    >>> reps = bootstrap_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 200, np.random.default_rng(0))
    >>> reps.shape, bool(np.nanmin(reps) >= 0), bool(np.nanmax(reps) <= 1)
    ((200,), True, True)
    """
    n_boot = check_n_boot(n_boot)
    is_pos = np.asarray(is_pos, dtype=bool)
    scores = np.asarray(scores, dtype=float)
    n = len(scores)
    out = np.full(n_boot, np.nan)
    if n == 0:
        return out
    order = np.argsort(scores, kind="stable")
    pos = is_pos[order]
    starts = tie_group_starts(scores[order])
    ties = len(starts) < n
    pos_idx, neg_idx = np.flatnonzero(pos), np.flatnonzero(~pos)
    neg_below = np.searchsorted(neg_idx, pos_idx)  # negatives ranked below each positive
    per = max(1, chunk_elems // n)
    for lo in range(0, n_boot, per):
        c = min(per, n_boot - lo)
        idx = rng.integers(0, n, size=(c, n))  # uniform over sorted positions
        idx += (np.arange(c) * n)[:, None]
        W = np.bincount(idx.ravel(), minlength=c * n).reshape(c, n)
        if ties:
            out[lo:lo + c] = roc_auc_from_weights(W * pos, W * ~pos, starts)
            continue
        # no ties: sum over positives of their weight x the weight of negatives below them
        cum_neg = np.zeros((c, len(neg_idx) + 1), dtype=np.int64)
        np.cumsum(W[:, neg_idx], axis=1, out=cum_neg[:, 1:])
        w_pos = W[:, pos_idx]
        num = np.einsum("ij,ij->i", w_pos, cum_neg[:, neg_below]).astype(float)
        den = (w_pos.sum(axis=1) * cum_neg[:, -1]).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[lo:lo + c] = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return out


def hanley_mcneil_variance(auc: ArrayLike, n_pos: ArrayLike, n_neg: ArrayLike) -> np.ndarray:
    """Hanley & McNeil (1982) variance of an AUC estimate with ``n_pos`` and ``n_neg`` rows.

    ``(A(1-A) + (n_pos-1)(Q1-A^2) + (n_neg-1)(Q2-A^2)) / (n_pos n_neg)`` with
    ``Q1 = A/(2-A)`` and ``Q2 = 2A^2/(1+A)``.

    Examples
    --------
    >>> round(float(hanley_mcneil_variance(0.8, 50, 50)), 6)
    0.00198
    """
    A = np.asarray(auc, dtype=float)
    n1 = np.asarray(n_pos, dtype=float)
    n0 = np.asarray(n_neg, dtype=float)
    q1 = A / (2 - A)
    q2 = 2 * A**2 / (1 + A)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (A * (1 - A) + (n1 - 1) * (q1 - A**2) + (n0 - 1) * (q2 - A**2)) / (n1 * n0)
    return np.where((n1 > 0) & (n0 > 0), var, np.nan)


def _placements(pos_scores: np.ndarray, neg_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    neg_sorted = np.sort(neg_scores)
    pos_sorted = np.sort(pos_scores)
    lo = np.searchsorted(neg_sorted, pos_scores, side="left")
    hi = np.searchsorted(neg_sorted, pos_scores, side="right")
    v10 = (lo + 0.5 * (hi - lo)) / len(neg_scores)
    lo = np.searchsorted(pos_sorted, neg_scores, side="left")
    hi = np.searchsorted(pos_sorted, neg_scores, side="right")
    v01 = (len(pos_scores) - hi + 0.5 * (hi - lo)) / len(pos_scores)
    return v10, v01


def delong_paired(
    is_pos: ArrayLike, scores_a: ArrayLike, scores_b: ArrayLike
) -> tuple[float, float, float]:
    """DeLong et al. (1988): two correlated ROC AUCs on the same rows and their difference.

    Returns
    -------
    (auc_a, auc_b, var_diff)
        The AUCs and the variance of ``auc_a - auc_b`` from the structural components
        (NaN when a class has fewer than two rows).

    Examples
    --------
    >>> y = np.array([0, 0, 1, 1, 0, 1])
    >>> a, b, v = delong_paired(y, [.1, .3, .7, .9, .6, .2], [.2, .1, .8, .7, .3, .9])
    >>> round(a, 4), round(b, 4)
    (0.7778, 1.0)
    """
    y = np.asarray(is_pos, dtype=bool)
    sa = np.asarray(scores_a, dtype=float)
    sb = np.asarray(scores_b, dtype=float)
    m, n = int(y.sum()), int((~y).sum())
    if m == 0 or n == 0:
        return np.nan, np.nan, np.nan
    v10a, v01a = _placements(sa[y], sa[~y])
    v10b, v01b = _placements(sb[y], sb[~y])
    auc_a, auc_b = float(v10a.mean()), float(v10b.mean())
    if m < 2 or n < 2:
        return auc_a, auc_b, np.nan
    s10 = np.cov(np.vstack([v10a, v10b]))
    s01 = np.cov(np.vstack([v01a, v01b]))
    var = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / m + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / n
    return auc_a, auc_b, float(var)
