"""The bootstrap: percentile intervals from resampled statistics, and resampled confusion
counts (a row bootstrap drawn on counts)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from slicewidgets.analysis.validation import check_confidence, check_n_boot


def _quantile_sorted(sorted_values: np.ndarray, m: np.ndarray, q: float) -> np.ndarray:
    # numpy's default ("linear") quantile of the first m values along axis 0 of each column.
    # Written out because np.nanquantile over (n_boot, k) columns is ~10x slower (one Python
    # call per column): 1000 x 51 resamples take 0.9 ms here, 8-13 ms with np.nanquantile,
    # which would double a slice_report with F1 (benchmarks/bench_stats.py measures both).
    pos = q * np.maximum(m - 1, 0)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, np.maximum(m - 1, 0))
    frac = pos - lo
    v_lo = np.take_along_axis(sorted_values, lo[None, ...], axis=0)[0]
    v_hi = np.take_along_axis(sorted_values, hi[None, ...], axis=0)[0]
    with np.errstate(invalid="ignore"):
        out = v_lo + (v_hi - v_lo) * frac
    # exact order statistics where no interpolation is needed (avoids inf - inf)
    out = np.where(frac == 0, v_lo, out)
    return np.where(m > 0, out, np.nan)


def percentile_interval(
    replicates: ArrayLike, estimate: ArrayLike | None = None, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Percentile bootstrap interval, column by column, ignoring undefined (NaN) resamples.

    Parameters
    ----------
    replicates
        Resampled statistics, shape ``(n_boot, ...)``; NaN marks a resample on which the
        statistic is undefined (e.g. no positive label drawn); those are dropped.
    estimate
        The point estimate, shape ``(...)``. When given, the interval is widened to contain
        it (a percentile interval can miss a skewed estimate on a tiny sample) and is NaN
        where the estimate is NaN.
    confidence
        Nominal coverage, in (0, 1).

    Returns
    -------
    (low, high, n_defined)
        The ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles (NumPy's linear
        interpolation) and the number of defined resamples per column.

    Examples
    --------
    >>> reps = np.arange(1, 101, dtype=float)[:, None]
    >>> low, high, m = percentile_interval(reps, np.array([50.0]), confidence=0.9)
    >>> low.round(2).tolist(), high.round(2).tolist(), m.tolist()
    ([5.95], [95.05], [100])
    """
    alpha = 1.0 - check_confidence(confidence)
    reps = np.asarray(replicates, dtype=float)
    if reps.ndim == 0 or reps.shape[0] == 0:
        raise ValueError("percentile_interval needs at least one resample along axis 0.")
    m = np.isfinite(reps).sum(axis=0)
    sorted_reps = np.sort(np.where(np.isfinite(reps), reps, np.inf), axis=0)
    low = _quantile_sorted(sorted_reps, m, alpha / 2.0)
    high = _quantile_sorted(sorted_reps, m, 1.0 - alpha / 2.0)
    if estimate is not None:
        est = np.asarray(estimate, dtype=float)
        low = np.where(np.isnan(est), np.nan, np.fmin(low, est))
        high = np.where(np.isnan(est), np.nan, np.fmax(high, est))
    return low, high, m


def multinomial_resample(counts: ArrayLike, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap resamples of category counts, for many samples at once.

    Resampling the rows of a sample with replacement and counting them by category (TP, FP,
    FN, TN, ...) gives multinomial counts with the sample's size and category proportions; so
    a row bootstrap of any metric that depends only on such counts can be drawn directly on
    the counts, at a cost independent of the number of rows. Drawn as conditional binomials
    (category after category), vectorized over samples and resamples.

    Parameters
    ----------
    counts
        Integer counts, shape ``(k, T)``: ``k`` samples (slices), ``T`` categories.
    n_boot
        Number of resamples.
    rng
        The random generator.

    Returns
    -------
    ndarray
        Shape ``(n_boot, k, T)``; every resample of sample ``j`` sums to ``counts[j].sum()``.

    Examples
    --------
    >>> draws = multinomial_resample([[3, 1], [0, 5]], 4, np.random.default_rng(0))
    >>> draws.shape, draws.sum(axis=2).tolist()[0], draws[:, 1, 0].tolist()
    ((4, 2, 2), [4, 5], [0, 0, 0, 0])
    """
    X = np.asarray(counts, dtype=np.int64)
    if X.ndim != 2:
        raise ValueError(f"counts must have shape (k, T), got {X.shape}.")
    n_boot = check_n_boot(n_boot)
    k, T = X.shape
    out = np.zeros((n_boot, k, T), dtype=np.int64)
    remaining = np.broadcast_to(X.sum(axis=1), (n_boot, k)).copy()
    left = X.sum(axis=1)  # rows of the sample not yet assigned to a category
    for j in range(T - 1):
        xj = X[:, j]
        if not xj.any():
            left = left - xj
            continue
        pj = np.divide(xj, left, out=np.zeros(k), where=left > 0)
        pj = np.clip(pj, 0.0, 1.0)
        if np.all(pj == 1.0):
            out[:, :, j] = remaining
            remaining = np.zeros_like(remaining)
        else:
            drawn = rng.binomial(remaining, pj)
            out[:, :, j] = drawn
            remaining -= drawn
        left = left - xj
    out[:, :, T - 1] = remaining
    return out
