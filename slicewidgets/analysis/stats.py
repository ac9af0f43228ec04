"""The statistics behind per-slice reports and model comparisons.

Pure functions on numbers and arrays; no knowledge of slices or scorers. Everything is
vectorized over slices (the last axes) so that a report on 50 slices costs a handful of NumPy
calls.

Intervals
    :func:`wilson_interval` (Wilson score interval for a proportion k/n) and
    :func:`percentile_interval` (percentile bootstrap interval from resampled scores).
Resampling
    :func:`multinomial_resample` resamples confusion counts (a row bootstrap expressed on
    counts), :func:`bootstrap_auc` resamples rows for ROC AUC.
Tests
    :func:`two_proportion_test` (pooled z-test, or Fisher's exact test when an expected count
    is below 5), :func:`fisher_exact_test`, :func:`permutation_z_test` (normal approximation
    to the permutation test of "slice vs rest" for any count-based metric),
    :func:`paired_permutation_z_test` (its paired version; McNemar's z for accuracy),
    :func:`mcnemar_test` (exact), :func:`hanley_mcneil_variance` and :func:`delong_paired`
    (ROC AUC), :func:`z_test_p_value`.
Multiple testing
    :func:`benjamini_hochberg`.

Examples
--------
>>> low, high = wilson_interval(8, 10)
>>> round(float(low), 4), round(float(high), 4)
(0.4902, 0.9433)
>>> benjamini_hochberg([0.01, 0.04, 0.03]).round(3).tolist()
[0.03, 0.04, 0.04]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from slicewidgets.analysis.validation import check_confidence, check_n_boot

__all__ = [
    "benjamini_hochberg",
    "bootstrap_auc",
    "check_confidence",
    "check_n_boot",
    "delong_paired",
    "fisher_exact_test",
    "hanley_mcneil_variance",
    "mcnemar_test",
    "multinomial_resample",
    "delta_method_variance",
    "paired_permutation_z_test",
    "percentile_interval",
    "roc_auc_from_weights",
    "tie_group_starts",
    "two_proportion_test",
    "wald_test",
    "wilson_interval",
    "z_test_p_value",
    "z_value",
]

#: Cochran's rule: the normal approximation is used when every expected count is at least this.
MIN_EXPECTED = 5.0


def z_value(confidence: float) -> float:
    """The two-sided normal quantile: 1.959963... for ``confidence=0.95``."""
    return float(special.ndtri(0.5 + check_confidence(confidence) / 2.0))


def z_test_p_value(z: ArrayLike) -> np.ndarray:
    """Two-sided p-value of a standard normal statistic: ``2 * (1 - Phi(|z|))``."""
    z = np.asarray(z, dtype=float)
    return special.erfc(np.abs(z) / np.sqrt(2.0))


# -- intervals -------------------------------------------------------------------------------
def wilson_interval(
    successes: ArrayLike, n: ArrayLike, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for the proportion ``successes / n``.

    Inverts the score test of a binomial proportion (Wilson, 1927). Unlike the normal (Wald)
    interval it stays inside [0, 1], is never empty at k = 0 or k = n and keeps close to its
    nominal coverage for small ``n``; it always contains ``successes / n``.

    Parameters
    ----------
    successes, n
        Counts (arrays broadcast together); ``0 <= successes <= n``.
    confidence
        Nominal coverage, in (0, 1).

    Returns
    -------
    (low, high)
        Float arrays; NaN where ``n == 0``.

    Examples
    --------
    >>> low, high = wilson_interval([0, 3], [10, 3])
    >>> low.round(4).tolist(), high.round(4).tolist()
    ([0.0, 0.4385], [0.2775, 1.0])
    """
    z = z_value(confidence)
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    if np.any(k < 0) or np.any(k > n):
        raise ValueError("wilson_interval needs 0 <= successes <= n for every proportion.")
    z2 = z * z
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        center = (k + z2 / 2.0) / (n + z2)
        half = z / (n + z2) * np.sqrt(k * (n - k) / n + z2 / 4.0)
        low = np.clip(center - half, 0.0, 1.0)
        high = np.clip(center + half, 0.0, 1.0)
        # exact ends at k = 0 and k = n, and no rounding error may exclude p itself
        low = np.where(k <= 0, 0.0, np.minimum(low, p))
        high = np.where(k >= n, 1.0, np.maximum(high, p))
    empty = n <= 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


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


# -- resampling ------------------------------------------------------------------------------
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


# -- tests -----------------------------------------------------------------------------------
def _log_comb(n: float | np.ndarray, k: float | np.ndarray) -> np.ndarray:
    return special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)


def fisher_exact_test(a: int, b: int, c: int, d: int) -> float:
    """Two-sided Fisher exact test of the 2x2 table ``[[a, b], [c, d]]``.

    The p-value sums the hypergeometric probabilities of every table with the same margins
    that is no more likely than the observed one (relative tolerance 1e-7, as R's
    ``fisher.test``); it equals ``scipy.stats.fisher_exact([[a, b], [c, d]])[1]`` (tested).

    Written out on purpose: ``scipy.stats.fisher_exact`` costs ~0.4 ms a table against
    ~0.015 ms here, and a report on many small slices runs one test per slice and metric
    (100 slices x 3 proportions: 8 ms here, 113 ms with scipy, past the live table's 100 ms;
    ``benchmarks/bench_stats.py``).

    Examples
    --------
    >>> round(fisher_exact_test(3, 0, 40, 60), 4)
    0.0698
    """
    a, b, c, d = (int(v) for v in (a, b, c, d))
    if min(a, b, c, d) < 0:
        raise ValueError("fisher_exact_test needs non-negative counts.")
    row1, col1, total = a + b, a + c, a + b + c + d
    lo, hi = max(0, row1 + col1 - total), min(row1, col1)
    if lo == hi:
        return 1.0
    x = np.arange(lo, hi + 1, dtype=float)
    logp = _log_comb(float(col1), x) + _log_comb(float(total - col1), row1 - x)
    logp -= _log_comb(float(total), float(row1))
    observed = logp[a - lo]
    p = float(np.exp(logp[logp <= observed + 1e-7]).sum())
    return min(1.0, p)


def two_proportion_test(
    k1: ArrayLike, n1: ArrayLike, k2: ArrayLike, n2: ArrayLike, *, min_expected: float = MIN_EXPECTED
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided test that two proportions ``k1/n1`` and ``k2/n2`` are equal.

    The pooled two-proportion z-test (identical to Pearson's chi-square test of the 2x2
    table without continuity correction) when every expected count of the table is at least
    ``min_expected`` (Cochran's rule); Fisher's exact test otherwise.

    Returns
    -------
    (p_value, method)
        Float array (NaN where ``n1 == 0`` or ``n2 == 0``) and a string array ``"z"``,
        ``"fisher"`` or ``""``.

    Examples
    --------
    >>> p, method = two_proportion_test([30, 2], [100, 3], [500, 500], [1000, 1000])
    >>> p.round(4).tolist(), method.tolist()
    ([0.0001, 1.0], ['z', 'fisher'])
    """
    k1, n1, k2, n2 = np.broadcast_arrays(*(np.asarray(v, dtype=np.int64) for v in (k1, n1, k2, n2)))
    shape = k1.shape
    k1, n1, k2, n2 = (v.ravel() for v in (k1, n1, k2, n2))
    p_value = np.full(k1.shape, np.nan)
    method = np.full(k1.shape, "", dtype=object)
    ok = (n1 > 0) & (n2 > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = (k1 + k2) / (n1 + n2)
        expected = np.minimum(np.minimum(n1, n2) * pooled, np.minimum(n1, n2) * (1 - pooled))
        z_ok = ok & (expected >= min_expected)
        se = np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
        z = (k1 / n1 - k2 / n2) / se
    p_value[z_ok] = z_test_p_value(z[z_ok])
    method[z_ok] = "z"
    for i in np.flatnonzero(ok & ~z_ok):
        p_value[i] = fisher_exact_test(k1[i], n1[i] - k1[i], k2[i], n2[i] - k2[i])
        method[i] = "fisher"
    return p_value.reshape(shape), method.reshape(shape)


def mcnemar_test(b: ArrayLike, c: ArrayLike) -> np.ndarray:
    """Exact McNemar test: two-sided binomial test of ``b`` vs ``c`` discordant pairs.

    ``b``: pairs where only the first model is right, ``c``: only the second. Under the null
    each discordant pair is equally likely either way, so ``b ~ Binomial(b + c, 1/2)``; the
    p-value is ``min(1, 2 * P[X <= min(b, c)])`` (1.0 when there is no discordant pair),
    equal to ``scipy.stats.binomtest(b, b + c, 0.5).pvalue``.

    Examples
    --------
    >>> mcnemar_test([10, 5], [2, 5]).round(4).tolist()
    [0.0386, 1.0]
    """
    b = np.asarray(b, dtype=np.int64)
    c = np.asarray(c, dtype=np.int64)
    n = b + c
    with np.errstate(invalid="ignore"):
        p = np.minimum(1.0, 2.0 * special.bdtr(np.minimum(b, c), n, 0.5))
    return np.where(n > 0, p, 1.0)


def benjamini_hochberg(p_values: ArrayLike) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN entries are left out and kept.

    ``q_(i) = min_{j >= i} min(1, m p_(j) / j)`` over the ``m`` finite p-values sorted
    increasingly. Rejecting ``q < alpha`` controls the false discovery rate at ``alpha`` for
    independent or positively dependent tests.

    Examples
    --------
    >>> benjamini_hochberg([0.01, np.nan, 0.02, 0.5]).round(3).tolist()
    [0.03, nan, 0.03, 0.5]
    """
    # Written out (equal to scipy.stats.false_discovery_control, the tests' oracle): measured
    # ~8x faster per call, and it keeps scipy.stats (a large import) out of the process
    # (benchmarks/bench_stats.py; whole reports take the same time either way).
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return q
    ps = p[ok]
    order = np.argsort(ps, kind="stable")
    ranked = ps[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(ranked, 1.0)
    q[ok] = adjusted
    return q


def _gradient(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    # central differences of a function of category proportions (T,) -> scalar
    T = x.shape[-1]
    h = 1e-6
    steps = np.eye(T) * h
    up = f(x[None, :] + steps)
    down = f(np.clip(x[None, :] - steps, 0.0, None))
    return (up - down) / (x[None, :] + steps - np.clip(x[None, :] - steps, 0.0, None)).sum(axis=1)


def delta_method_variance(
    f: Callable[[np.ndarray], np.ndarray], counts: ArrayLike, *, pseudocount: float = 0.5
) -> np.ndarray:
    """Delta-method variance of a metric of multinomial category counts.

    For a metric ``f`` homogeneous of degree 0 in the counts (a ratio of sums of counts, like
    F1 or MCC), ``Var f(x) ~= sum_i x_i (df/dx_i)^2``. The counts are smoothed by
    ``pseudocount`` in every category first (as the Agresti-Caffo interval adds pseudo
    observations), so that a sample without errors does not get a zero variance.

    Parameters
    ----------
    f
        Maps ``(..., T)`` count arrays to ``(...)`` metric values.
    counts
        Shape ``(k, T)``.

    Examples
    --------
    >>> f1 = lambda x: 2 * x[..., 0] / (2 * x[..., 0] + x[..., 1] + x[..., 2])
    >>> var = delta_method_variance(f1, [[50, 25, 25]], pseudocount=0)  # 4a(b+c)(a+b+c)/D^4
    >>> round(float(var[0]), 6)
    0.001975
    """
    X = np.asarray(counts, dtype=float) + pseudocount
    out = np.full(X.shape[0], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in range(X.shape[0]):
            g = _gradient(f, X[j] / X[j].sum()) / X[j].sum()
            out[j] = float(np.sum(X[j] * g**2))
    return out


def wald_test(
    estimate_a: ArrayLike, var_a: ArrayLike, estimate_b: ArrayLike, var_b: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided Wald z-test of ``a == b`` for independent estimates with given variances.

    Returns ``(p_value, z)``; NaN where a variance or estimate is not finite, and p = 1
    where both variances are zero and the estimates are equal.

    Examples
    --------
    >>> p, z = wald_test([0.7], [0.01], [0.9], [0.0004])
    >>> round(float(z[0]), 3), round(float(p[0]), 4)
    (-1.961, 0.0499)
    """
    a, va, b, vb = (np.asarray(v, dtype=float) for v in (estimate_a, var_a, estimate_b, var_b))
    diff = a - b
    var = va + vb
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(var > 0, diff / np.sqrt(np.where(var > 0, var, 1.0)),
                     np.where(diff == 0, 0.0, np.nan))
    z = np.where(np.isfinite(diff) & np.isfinite(var), z, np.nan)
    return z_test_p_value(z), z


def paired_permutation_z_test(
    f: Callable[[np.ndarray], np.ndarray],
    joint_counts: ArrayLike,
    to_a: ArrayLike,
    to_b: ArrayLike,
) -> tuple[np.ndarray, np.ndarray]:
    """Paired test that two models score the same on the same rows (count-based metrics).

    Each row has a joint type ``t`` (the pair of its categories under model a and model b);
    ``joint_counts`` counts them per slice and ``to_a``/``to_b`` (``(Tj, T)`` 0/1 matrices)
    map joint types to each model's categories. The statistic is ``D = f(a) - f(b)``. Under
    the null that the two predictions of each row are exchangeable (the sign-flip
    permutation test), linearizing ``f`` at the pooled proportions gives
    ``Var(D) = sum_t n_t (g_a(t) - g_b(t))^2 / N^2``. For accuracy this is McNemar's z,
    ``(b - c) / sqrt(b + c)``.

    Returns
    -------
    (p_value, z)
        Two-sided normal p-values, shape ``(k,)``.
    """
    J = np.asarray(joint_counts, dtype=float)
    Ea = np.asarray(to_a, dtype=float)
    Eb = np.asarray(to_b, dtype=float)
    A = J @ Ea
    B = J @ Eb
    N = J.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = f(A) - f(B)
        pooled = (A + B) / (2.0 * N[:, None])
        z = np.full(J.shape[0], np.nan)
        for j in range(J.shape[0]):
            if N[j] <= 0 or not np.isfinite(diff[j]):
                continue
            g = _gradient(f, pooled[j])
            d = Ea @ g - Eb @ g  # influence difference per joint type
            var = float(np.sum(J[j] * d**2)) / N[j] ** 2
            if var > 0:
                z[j] = diff[j] / np.sqrt(var)
            elif diff[j] == 0:
                z[j] = 0.0
    return z_test_p_value(z), z


# -- ROC AUC ---------------------------------------------------------------------------------
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
