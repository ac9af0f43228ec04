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
    is below 5), :func:`fisher_exact_test`, :func:`wald_test` with
    :func:`delta_method_variance` (slice vs rest for any count-based metric),
    :func:`paired_permutation_z_test` (two models on the same rows; McNemar's z for accuracy),
    :func:`mcnemar_test` (exact), :func:`hanley_mcneil_variance` and :func:`delong_paired`
    (ROC AUC), :func:`z_test_p_value`.
Multiple testing
    :func:`benjamini_hochberg`.

One module per concept, all private; import from here (``from slicewidgets.analysis import
stats``): ``_proportions.py`` (Wilson, Fisher, two-proportion, McNemar), ``_bootstrap.py``
(percentile intervals, count resampling), ``_normal.py`` (z, delta method, Wald, paired
permutation z), ``_auc.py`` (ROC AUC: weights, bootstrap, Hanley-McNeil, DeLong) and
``_multiple_testing.py`` (Benjamini-Hochberg).

Examples
--------
>>> low, high = wilson_interval(8, 10)
>>> round(float(low), 4), round(float(high), 4)
(0.4902, 0.9433)
>>> benjamini_hochberg([0.01, 0.04, 0.03]).round(3).tolist()
[0.03, 0.04, 0.04]
"""

from __future__ import annotations

from slicewidgets.analysis.stats._auc import (
    bootstrap_auc,
    delong_paired,
    hanley_mcneil_variance,
    roc_auc_from_weights,
    tie_group_starts,
)
from slicewidgets.analysis.stats._bootstrap import multinomial_resample, percentile_interval
from slicewidgets.analysis.stats._multiple_testing import benjamini_hochberg
from slicewidgets.analysis.stats._normal import (
    delta_method_variance,
    paired_permutation_z_test,
    wald_test,
    z_test_p_value,
    z_value,
)
from slicewidgets.analysis.stats._proportions import (
    MIN_EXPECTED,
    fisher_exact_test,
    mcnemar_test,
    two_proportion_test,
    wilson_interval,
)
from slicewidgets.analysis.validation import check_confidence, check_n_boot

__all__ = [
    "MIN_EXPECTED",
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
