"""Normal-approximation tests: z quantiles and p-values, the delta method, Wald and paired
permutation z-tests for count-based metrics."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from slicewidgets.analysis.validation import check_confidence


def z_value(confidence: float) -> float:
    """The two-sided normal quantile: 1.959963... for ``confidence=0.95``."""
    return float(special.ndtri(0.5 + check_confidence(confidence) / 2.0))


def z_test_p_value(z: ArrayLike) -> np.ndarray:
    """Two-sided p-value of a standard normal statistic: ``2 * (1 - Phi(|z|))``."""
    z = np.asarray(z, dtype=float)
    return special.erfc(np.abs(z) / np.sqrt(2.0))


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
