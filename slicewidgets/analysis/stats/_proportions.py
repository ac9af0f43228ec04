"""Proportions: the Wilson interval and the exact and z tests that two proportions are equal
(Fisher, pooled z, McNemar)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from slicewidgets.analysis.stats._normal import z_test_p_value, z_value

#: Cochran's rule: the normal approximation is used when every expected count is at least this.
MIN_EXPECTED = 5.0


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
