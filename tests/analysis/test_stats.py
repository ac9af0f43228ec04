"""The pure statistics behind slice reports, against scipy and hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
from sklearn.metrics import roc_auc_score

from slicewidgets.analysis import stats

# -- Wilson --------------------------------------------------------------------------------------


def _wilson_by_hand(k: int, n: int, confidence: float) -> tuple[float, float]:
    z = scipy.stats.norm.ppf(0.5 + confidence / 2)
    p = k / n
    center = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return center - half, center + half


@pytest.mark.parametrize("confidence", [0.8, 0.95, 0.99])
def test_wilson_matches_hand_formula_and_scipy(confidence):
    ks, ns = zip(*[(k, n) for n in (1, 2, 3, 7, 25, 100, 1000) for k in range(0, n + 1,
                                                                          max(1, n // 9))],
                 strict=True)
    low, high = stats.wilson_interval(ks, ns, confidence)
    for k, n, lo, hi in zip(ks, ns, low, high, strict=True):
        ref = scipy.stats.binomtest(k, n).proportion_ci(confidence_level=confidence,
                                                         method="wilson")
        hand = _wilson_by_hand(k, n, confidence)
        assert lo == pytest.approx(ref.low, abs=1e-12)
        assert hi == pytest.approx(ref.high, abs=1e-12)
        assert lo == pytest.approx(max(hand[0], 0.0), abs=1e-12)
        assert hi == pytest.approx(min(hand[1], 1.0), abs=1e-12)
        assert lo <= k / n <= hi


def test_wilson_ends_empty_and_errors():
    low, high = stats.wilson_interval([0, 5, 0], [5, 5, 0])
    assert low[0] == 0.0 and high[1] == 1.0
    assert np.isnan(low[2]) and np.isnan(high[2])
    with pytest.raises(ValueError, match=r"wilson_interval needs 0 <= successes <= n"):
        stats.wilson_interval(6, 5)


def test_wilson_coverage_by_simulation():
    # exact coverage (sum of binomial probabilities of covering outcomes) and a seeded
    # simulation, averaged over a grid of (n, p): nominal 95% within +-3 points
    rng = np.random.default_rng(12345)
    exact, simulated = [], []
    for n in (20, 50, 200):
        for p in (0.1, 0.3, 0.5, 0.8, 0.95):
            k = np.arange(n + 1)
            low, high = stats.wilson_interval(k, np.full(n + 1, n))
            covers = (low <= p) & (p <= high)
            exact.append(scipy.stats.binom.pmf(k[covers], n, p).sum())
            draws = rng.binomial(n, p, size=4000)
            lo, hi = stats.wilson_interval(draws, np.full(draws.shape, n))
            simulated.append(np.mean((lo <= p) & (p <= hi)))
    assert abs(np.mean(exact) - 0.95) < 0.03
    assert abs(np.mean(simulated) - 0.95) < 0.03
    assert min(simulated) > 0.88  # no (n, p) of the grid far off


# -- bootstrap helpers ---------------------------------------------------------------------------


def test_percentile_interval_matches_numpy_quantile_and_drops_nan():
    rng = np.random.default_rng(0)
    reps = rng.normal(size=(999, 4))
    low, high, m = stats.percentile_interval(reps, confidence=0.9)
    np.testing.assert_allclose(low, np.quantile(reps, 0.05, axis=0))
    np.testing.assert_allclose(high, np.quantile(reps, 0.95, axis=0))
    assert m.tolist() == [999] * 4
    reps[:100, 1] = np.nan
    low, high, m = stats.percentile_interval(reps, confidence=0.9)
    assert m[1] == 899
    assert low[1] == pytest.approx(np.quantile(reps[100:, 1], 0.05))
    all_nan = np.full((10, 1), np.nan)
    low, high, m = stats.percentile_interval(all_nan)
    assert np.isnan(low[0]) and np.isnan(high[0]) and m[0] == 0


def test_percentile_interval_is_widened_to_contain_the_estimate():
    reps = np.array([[0.5], [0.6], [0.7]])
    low, high, _ = stats.percentile_interval(reps, np.array([0.9]))
    assert low[0] == pytest.approx(0.505) and high[0] == 0.9
    low, high, _ = stats.percentile_interval(reps, np.array([np.nan]))
    assert np.isnan(low[0]) and np.isnan(high[0])


def test_multinomial_resample_preserves_sizes_and_moments():
    counts = np.array([[30, 50, 20, 0], [1, 0, 0, 0], [0, 0, 0, 0], [400, 100, 0, 500]])
    draws = stats.multinomial_resample(counts, 20000, np.random.default_rng(7))
    assert draws.shape == (20000, 4, 4)
    np.testing.assert_array_equal(draws.sum(axis=2), np.broadcast_to(counts.sum(axis=1),
                                                                      (20000, 4)))
    assert (draws[:, 0, 3] == 0).all() and (draws[:, 3, 2] == 0).all()
    assert (draws[:, 1, 0] == 1).all() and (draws[:, 2] == 0).all()
    n = counts[3].sum()
    p = counts[3] / n
    np.testing.assert_allclose(draws[:, 3].mean(axis=0), n * p, rtol=0.01, atol=0.1)
    np.testing.assert_allclose(draws[:, 3].var(axis=0), n * p * (1 - p), rtol=0.05)
    # multinomial covariance between categories: -n p_i p_j
    cov = np.cov(draws[:, 3, 0], draws[:, 3, 1])[0, 1]
    assert cov == pytest.approx(-n * p[0] * p[1], rel=0.08)


def test_multinomial_resample_rejects_bad_input():
    with pytest.raises(ValueError, match=r"counts must have shape \(k, T\), got \(3,\)"):
        stats.multinomial_resample([1, 2, 3], 10, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"n_boot must be an integer >= 1, got 0"):
        stats.multinomial_resample([[1, 2]], 0, np.random.default_rng(0))


def test_bootstrap_coverage_of_f1_from_counts_by_simulation():
    # 1500 independent samples of 300 rows from known confusion-cell probabilities; each
    # sample's percentile interval (1000 multinomial resamples) should cover the true F1
    rng = np.random.default_rng(2024)
    probs = np.array([0.30, 0.06, 0.09, 0.55])  # tp, fp, fn, tn
    true_f1 = 2 * probs[0] / (2 * probs[0] + probs[1] + probs[2])
    samples = rng.multinomial(300, probs, size=1500)

    def f1(x):
        x = np.asarray(x, dtype=float)
        return 2 * x[..., 0] / (2 * x[..., 0] + x[..., 1] + x[..., 2])

    reps = f1(stats.multinomial_resample(samples, 1000, rng))
    low, high, _ = stats.percentile_interval(reps, f1(samples))
    coverage = np.mean((low <= true_f1) & (true_f1 <= high))
    assert abs(coverage - 0.95) < 0.03


# -- tests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("table", [(3, 0, 40, 60), (0, 5, 5, 0), (2, 7, 8, 2), (1, 1, 1, 1),
                                   (10, 0, 0, 10), (0, 0, 3, 4), (12, 5, 290, 40)])
def test_fisher_exact_matches_scipy(table):
    a, b, c, d = table
    expected = scipy.stats.fisher_exact([[a, b], [c, d]]).pvalue
    assert stats.fisher_exact_test(a, b, c, d) == pytest.approx(expected, rel=1e-9)


def test_two_proportion_test_z_branch_matches_pooled_z_and_chi_square():
    k1, n1, k2, n2 = 30, 100, 500, 1000
    p, method = stats.two_proportion_test(k1, n1, k2, n2)
    pooled = (k1 + k2) / (n1 + n2)
    z = (k1 / n1 - k2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    assert method.item() == "z"
    assert float(p) == pytest.approx(2 * scipy.stats.norm.sf(abs(z)), rel=1e-10)
    table = [[k1, n1 - k1], [k2, n2 - k2]]
    chi2 = scipy.stats.chi2_contingency(table, correction=False)
    assert float(p) == pytest.approx(chi2.pvalue, rel=1e-9)


def test_two_proportion_test_uses_fisher_for_small_expected_counts_and_nan_for_empty():
    p, method = stats.two_proportion_test([2, 0, 5], [3, 0, 5], [900, 10, 0], [1000, 20, 0])
    assert method.tolist() == ["fisher", "", ""]
    assert p[0] == pytest.approx(scipy.stats.fisher_exact([[2, 1], [900, 100]]).pvalue)
    assert np.isnan(p[1]) and np.isnan(p[2])


def test_benjamini_hochberg_against_hand_computation_and_scipy():
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5, 0.2])
    # sorted: 0.005, 0.01, 0.03, 0.04, 0.2, 0.5 -> m p / rank: .03 .03 .06 .06 .24 .5
    expected_sorted = [0.03, 0.03, 0.06, 0.06, 0.24, 0.5]
    q = stats.benjamini_hochberg(p)
    np.testing.assert_allclose(q[np.argsort(p)], expected_sorted)
    np.testing.assert_allclose(q, scipy.stats.false_discovery_control(p))
    with_nan = stats.benjamini_hochberg([0.01, np.nan, 0.02])
    np.testing.assert_allclose(with_nan, [0.02, np.nan, 0.02])
    assert np.isnan(stats.benjamini_hochberg([np.nan])).all()
    assert stats.benjamini_hochberg([]).shape == (0,)


@pytest.mark.parametrize("b,c", [(10, 2), (0, 0), (0, 7), (5, 5), (40, 25), (1, 0)])
def test_mcnemar_matches_scipy_binomial_test(b, c):
    expected = 1.0 if b + c == 0 else scipy.stats.binomtest(b, b + c, 0.5).pvalue
    assert float(stats.mcnemar_test(b, c)) == pytest.approx(expected, rel=1e-10)


def test_delta_method_variance_of_f1_matches_closed_form():
    a, b, c = 50, 25, 10

    def f1(x):
        return 2 * x[..., 0] / (2 * x[..., 0] + x[..., 1] + x[..., 2])

    var = stats.delta_method_variance(f1, [[a, b, c, 999]], pseudocount=0)
    closed = 4 * a * (b + c) * (a + b + c) / (2 * a + b + c) ** 4
    assert var[0] == pytest.approx(closed, rel=1e-5)
    smoothed = stats.delta_method_variance(f1, [[20, 0, 0, 5]])
    assert smoothed[0] > 0  # a sample without errors still has a variance


def test_wald_test():
    p, z = stats.wald_test([0.7, 0.5, 0.5], [0.01, 0.0, 0.0], [0.9, 0.5, 0.6], [0.0004, 0, 0])
    assert z[0] == pytest.approx(-0.2 / math.sqrt(0.0104))
    assert p[0] == pytest.approx(2 * scipy.stats.norm.sf(abs(z[0])))
    assert p[1] == 1.0 and np.isnan(p[2])


def test_paired_permutation_z_is_mcnemar_z_for_accuracy():
    # joint types (a correct?, b correct?): both, a only, b only, neither
    J = np.array([[70, 12, 4, 14]])
    to_a = np.array([[1, 1], [1, 1], [1, 0], [1, 0]])  # (valid, correct) under model a
    to_b = np.array([[1, 1], [1, 0], [1, 1], [1, 0]])

    def accuracy(x):
        return x[..., 1] / x[..., 0]

    p, z = stats.paired_permutation_z_test(accuracy, J, to_a, to_b)
    assert z[0] == pytest.approx((12 - 4) / math.sqrt(12 + 4), rel=1e-5)
    assert p[0] == pytest.approx(2 * scipy.stats.norm.sf(abs(z[0])), rel=1e-5)


# -- ROC AUC -------------------------------------------------------------------------------------


def test_roc_auc_from_weights_matches_sklearn_with_ties_and_repeats():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 200).astype(bool)
    s = np.round(rng.random(200) + 0.3 * y, 1)  # many ties
    order = np.argsort(s, kind="stable")
    starts = stats.tie_group_starts(s[order])
    auc = stats.roc_auc_from_weights(y[order].astype(float), (~y[order]).astype(float), starts)
    assert float(auc) == pytest.approx(roc_auc_score(y, s))
    w = rng.integers(0, 4, 200).astype(float)  # a resample as multiplicities
    auc_w = stats.roc_auc_from_weights(w[order] * y[order], w[order] * ~y[order], starts)
    rows = np.repeat(np.arange(200), w.astype(int))
    assert float(auc_w) == pytest.approx(roc_auc_score(y[rows], s[rows]))
    assert np.isnan(stats.roc_auc_from_weights(np.ones(3), np.zeros(3)))


def test_bootstrap_auc_replicates_are_valid_aucs():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(30), np.ones(20)].astype(bool)
    s = rng.random(50) + 0.5 * y
    reps = stats.bootstrap_auc(y, s, 500, np.random.default_rng(1))
    assert reps.shape == (500,) and np.isfinite(reps).all()
    assert 0 <= reps.min() <= roc_auc_score(y, s) <= reps.max() <= 1
    assert abs(np.mean(reps) - roc_auc_score(y, s)) < 0.02
    again = stats.bootstrap_auc(y, s, 500, np.random.default_rng(1))
    np.testing.assert_array_equal(reps, again)


def test_hanley_mcneil_variance_matches_formula():
    A, n1, n0 = 0.8, 50, 40
    q1, q2 = A / (2 - A), 2 * A * A / (1 + A)
    expected = (A * (1 - A) + (n1 - 1) * (q1 - A * A) + (n0 - 1) * (q2 - A * A)) / (n1 * n0)
    assert float(stats.hanley_mcneil_variance(A, n1, n0)) == pytest.approx(expected)
    assert np.isnan(stats.hanley_mcneil_variance(0.8, 0, 10))


def _delong_brute_force(y, sa, sb):
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)

    def psi(x, z):
        return (x > z) + 0.5 * (x == z)

    comps = []
    for s in (sa, sb):
        M = psi(s[pos][:, None], s[neg][None, :])
        comps.append((M.mean(axis=1), M.mean(axis=0), M.mean()))
    s10 = np.cov(np.vstack([comps[0][0], comps[1][0]]))
    s01 = np.cov(np.vstack([comps[0][1], comps[1][1]]))
    var = ((s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / len(pos)
           + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / len(neg))
    return comps[0][2], comps[1][2], var


def test_delong_paired_matches_brute_force():
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, 120).astype(bool)
    sa = np.round(rng.random(120) + 0.4 * y, 2)
    sb = np.round(0.5 * sa + 0.5 * rng.random(120) + 0.2 * y, 2)
    got = stats.delong_paired(y, sa, sb)
    ref = _delong_brute_force(y, sa, sb)
    np.testing.assert_allclose(got, ref, rtol=1e-10)
    assert got[0] == pytest.approx(roc_auc_score(y, sa))
    assert all(np.isnan(stats.delong_paired([1, 1], [0.1, 0.2], [0.3, 0.4])))


# -- argument checks -----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.2, "0.9", None, True, float("nan")])
def test_check_confidence_message(bad):
    with pytest.raises(ValueError) as err:
        stats.check_confidence(bad)
    assert str(err.value) == (
        f"confidence must be a number strictly between 0 and 1, got {bad!r}; use e.g. "
        "confidence=0.95 for 95% intervals."
    )


@pytest.mark.parametrize("bad", [0, -3, 2.5, "100", None, True])
def test_check_n_boot_message(bad):
    with pytest.raises(ValueError) as err:
        stats.check_n_boot(bad)
    assert str(err.value) == (
        f"n_boot must be an integer >= 1, got {bad!r}; use e.g. n_boot=1000 "
        "(more resamples give more stable intervals)."
    )
    assert stats.check_n_boot(np.int64(5)) == 5
