"""Library calls against the hand-written statistics they could replace, in one process.

The package prefers scipy/NumPy to hand-written code unless a measurement says otherwise. For
each candidate this prints the time of one call both ways and of a whole ``slice_report``
with each version patched in (CPU time, medians):

* Benjamini-Hochberg q-values: the NumPy formula (used) vs
  ``scipy.stats.false_discovery_control``, per call and, in fresh processes, a whole
  ``slice_report`` in fresh processes running bench_slice_report.py's sequence with and
  without ``scipy.stats`` imported (the scipy version imports it). Once measured 33 -> 39 ms
  with it, that was the allocator's state, not extra work (gone with a fixed
  ``MALLOC_MMAP_THRESHOLD_``); this row checks it stays ~1.0x;
* Fisher's exact test: a log-hypergeometric sum (used) vs ``scipy.stats.fisher_exact``, on
  a report whose 100 tiny slices all take the exact-test path;
* percentile bootstrap intervals: ``np.nanquantile`` vs the sort-once quantile of
  ``stats.percentile_interval`` (used: ``np.nanquantile`` loops over columns in Python).

    python benchmarks/bench_stats.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from unittest import mock

import numpy as np

from slicewidgets.analysis import Scorer, stats


def median_ms(f: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.process_time()
        f()
        times.append(time.process_time() - t)
    return 1e3 * float(np.median(times))


# -- the alternatives ---------------------------------------------------------------------------
def bh_scipy(p_values: np.ndarray) -> np.ndarray:
    from scipy.stats import false_discovery_control

    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = false_discovery_control(p[ok], method="bh")
    return q


#: A fresh process running bench_slice_report.py's sequence (accuracy, f1, both, then five
#: metrics; each score_slices, slice_report and to_html), optionally after ``import
#: scipy.stats`` (what the scipy BH brings in); prints the five-metric report's median CPU ms.
_FRESH = '''
import sys, time
import numpy as np
if sys.argv[1] == "scipy":
    import scipy.stats  # noqa: F401
from slicewidgets.analysis import Scorer
def median_ms(f, reps):
    times = []
    for _ in range(reps):
        t = time.process_time()
        f()
        times.append(time.process_time() - t)
    return 1e3 * float(np.median(times))
rng = np.random.default_rng(0)
n, k = 100_000, 50
M = np.asfortranarray(rng.random((n, k)) < rng.uniform(0.001, 0.3, k))
S = {f"s{j}": M[:, j] for j in range(k)}
golds = rng.integers(0, 2, n)
preds = np.where(rng.random(n) < 0.85, golds, 1 - golds)
reps = int(sys.argv[2])
for metrics in (["accuracy"], ["f1"], ["accuracy", "f1"],
                ["accuracy", "precision", "recall", "f1", "matthews_corrcoef"]):
    scorer = Scorer(metrics)
    report = scorer.slice_report(S, golds, preds)
    median_ms(lambda: scorer.score_slices(S, golds, preds), reps)
    t = median_ms(lambda: scorer.slice_report(S, golds, preds), reps)
    median_ms(report.to_html, reps)
print(t)
'''


def fresh_report_ms(repeat: int, rounds: int = 3) -> tuple[float, float]:
    """Medians over ``rounds`` pairs of fresh processes, interleaved: without, then with
    ``scipy.stats`` imported."""
    out: dict[str, list[float]] = {"none": [], "scipy": []}
    for _ in range(rounds):
        for how in out:
            run = subprocess.run([sys.executable, "-c", _FRESH, how, str(3 * repeat)],
                                 capture_output=True, text=True, check=True)
            out[how].append(float(run.stdout.strip().splitlines()[-1]))
    return float(np.median(out["none"])), float(np.median(out["scipy"]))


def fisher_scipy(a: int, b: int, c: int, d: int) -> float:
    from scipy.stats import fisher_exact

    return float(fisher_exact([[a, b], [c, d]]).pvalue)


def percentile_nanquantile(reps, estimate=None, confidence=0.95):
    alpha = 1.0 - confidence
    reps = np.asarray(reps, dtype=float)
    defined = np.isfinite(reps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanquantile(np.where(defined, reps, np.nan),
                                   [alpha / 2, 1 - alpha / 2], axis=0)
    if estimate is not None:
        est = np.asarray(estimate, dtype=float)
        low = np.where(np.isnan(est), np.nan, np.fmin(low, est))
        high = np.where(np.isnan(est), np.nan, np.fmax(high, est))
    return low, high, defined.sum(axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    repeat = parser.parse_args().repeat
    rng = np.random.default_rng(0)

    # a 100k-row report (50 slices, accuracy + F1) and one of 100 tiny slices (exact tests)
    n, k = 100_000, 50
    M = np.asfortranarray(rng.random((n, k)) < rng.uniform(0.001, 0.3, k))
    S_big = {f"s{j}": M[:, j] for j in range(k)}
    golds = rng.integers(0, 2, n)
    preds = np.where(rng.random(n) < 0.85, golds, 1 - golds)
    n_t = 3000
    S_tiny = {f"t{j}": np.isin(np.arange(n_t), rng.choice(n_t, 12, replace=False))
              for j in range(100)}
    g_t = rng.integers(0, 2, n_t)
    p_t = np.where(rng.random(n_t) < 0.85, g_t, 1 - g_t)
    acc_f1 = Scorer(["accuracy", "f1"])
    wilson = Scorer(["accuracy", "precision", "recall"])

    def big() -> object:
        return acc_f1.slice_report(S_big, golds, preds)

    def tiny() -> object:
        return wilson.slice_report(S_tiny, g_t, p_t)

    def report_with(target: str, replacement: Callable, f: Callable[[], object]) -> float:
        with mock.patch.object(stats, target, replacement):
            return median_ms(f, repeat)

    p50 = rng.random(50)
    reps = rng.random((1000, k + 1))
    fresh = fresh_report_ms(repeat)
    rows = [
        ("BH q-values, 50 p-values", "NumPy by hand",
         median_ms(lambda: [stats.benjamini_hochberg(p50) for _ in range(100)], repeat) / 100,
         "scipy false_discovery_control",
         median_ms(lambda: [bh_scipy(p50) for _ in range(100)], repeat) / 100),
        ("  bench_slice_report sequence, 5-metric report", "no scipy.stats", fresh[0],
         "scipy.stats imported", fresh[1]),
        ("Fisher exact test, one 2x2 table", "log-hypergeometric by hand",
         median_ms(lambda: [stats.fisher_exact_test(3, 7, 40, 60) for _ in range(100)],
                   repeat) / 100,
         "scipy fisher_exact",
         median_ms(lambda: [fisher_scipy(3, 7, 40, 60) for _ in range(100)], repeat) / 100),
        ("  slice_report 100 slices of 12 rows, 3 proportions", "by hand",
         median_ms(tiny, repeat), "scipy", report_with("fisher_exact_test", fisher_scipy, tiny)),
        ("percentile interval, 1000 x 51 resamples", "sort-once (package)",
         median_ms(lambda: stats.percentile_interval(reps, None), repeat),
         "np.nanquantile", median_ms(lambda: percentile_nanquantile(reps, None), repeat)),
        ("  slice_report 100k x 50, accuracy + f1", "sort-once", median_ms(big, repeat),
         "np.nanquantile", report_with("percentile_interval", percentile_nanquantile, big)),
    ]
    print(f"CPU time, median of {repeat} (ms)")
    print(f"{'what':<52} {'used':>28} {'ms':>8}   {'alternative':>28} {'ms':>8}  ratio")
    for what, used, t_used, alt, t_alt in rows:
        print(f"{what:<52} {used:>28} {t_used:>8.3f}   {alt:>28} {t_alt:>8.3f}  "
              f"{t_alt / t_used:5.2f}x")


if __name__ == "__main__":
    main()
