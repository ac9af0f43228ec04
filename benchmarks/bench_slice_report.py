"""How long the honest per-slice report takes next to Snorkel-style ``score_slices``.

100k rows x 50 random slices, label metrics, default settings (Wilson intervals, count-based
bootstrap with n_boot=1000). Prints CPU-time medians; the live score table refreshes with
``slice_report``, so it has to stay well under the 100 ms refresh budget.

    python benchmarks/bench_slice_report.py
"""

from __future__ import annotations

import time

import numpy as np

from slicewidgets.analysis import Scorer
from slicewidgets.slicing import SliceMembership


def median_ms(f, reps: int = 7) -> float:
    times = []
    for _ in range(reps):
        t = time.process_time()
        f()
        times.append(time.process_time() - t)
    return 1e3 * float(np.median(times))


def main(n: int = 100_000, k: int = 50) -> None:
    rng = np.random.default_rng(0)
    M = np.asfortranarray(rng.random((n, k)) < rng.uniform(0.001, 0.3, k))
    membership = SliceMembership([f"s{j}" for j in range(k)], M)
    golds = rng.integers(0, 2, n)
    preds = np.where(rng.random(n) < 0.85, golds, 1 - golds)
    print(f"{n:,} rows x {k} slices (CPU time, median of 7)")
    print(f"{'metrics':<55} {'score_slices':>13} {'slice_report':>13} {'to_html':>8}")
    for metrics in (["accuracy"], ["f1"], ["accuracy", "f1"],
                    ["accuracy", "precision", "recall", "f1", "matthews_corrcoef"]):
        scorer = Scorer(metrics=metrics)
        report = scorer.slice_report(membership, golds, preds)
        t_report = median_ms(lambda s=scorer: s.slice_report(membership, golds, preds))
        t_scores = median_ms(lambda s=scorer: s.score_slices(membership, golds, preds), 3)
        t_html = median_ms(report.to_html)
        print(f"{', '.join(metrics):<55} {t_scores:>10.0f} ms {t_report:>10.0f} ms "
              f"{t_html:>5.0f} ms")


if __name__ == "__main__":
    main()
