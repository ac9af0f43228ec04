"""Multiple testing: Benjamini-Hochberg q-values."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


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
