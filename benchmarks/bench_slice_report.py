"""How long the honest per-slice report takes next to Snorkel-style ``score_slices``.

100k rows x 50 random slices, label metrics, default settings (Wilson intervals, count-based
bootstrap with n_boot=1000). Prints CPU-time medians; the live score table refreshes with
``slice_report``, so it has to stay well under the 100 ms refresh budget.

    python benchmarks/bench_slice_report.py [--edit-rows 1000000] [--edits 15]

Second part (issue 19's live-report target, keyword edit + report <= 30 ms at 1M rows): a
``SliceSet`` of 50 ``keyword_sf`` over ``--edit-rows`` generated comments
(``bench_slicing.make_data``); each edit replaces one SF by a keyword list never seen before
(its mask is really recomputed from the kept text index) and refreshes
``slice_report(accuracy, f1)`` over the 50 slices, as the studio's score table does. Wall and
CPU medians and the load average are printed; the two steps are timed separately too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
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
    print(f"{n:,} rows x {k} slices (CPU time, median of 7; reports drawn afresh each time)")
    print(f"{'metrics':<55} {'score_slices':>13} {'slice_report':>13} {'to_html':>8}")
    for metrics in (["accuracy"], ["f1"], ["accuracy", "f1"],
                    ["accuracy", "precision", "recall", "f1", "matthews_corrcoef"]):
        scorer = Scorer(metrics=metrics)
        report = scorer.slice_report(membership, golds, preds)
        # a fresh seed per call: nothing drawn before is reused (the edit benchmark below
        # shows the reuse across edits)
        t_report = median_ms(lambda s=scorer: s.slice_report(
            membership, golds, preds, random_state=np.random.default_rng()))
        t_scores = median_ms(lambda s=scorer: s.score_slices(membership, golds, preds), 3)
        t_html = median_ms(report.to_html)
        print(f"{', '.join(metrics):<55} {t_scores:>10.0f} ms {t_report:>10.0f} ms "
              f"{t_html:>5.0f} ms")
    recarray_input(membership, golds, preds)


def recarray_input(membership: SliceMembership, golds: np.ndarray, preds: np.ndarray,
                   rounds: int = 9) -> None:
    """``score_slices`` on Snorkel's recarray ``S`` against the same slices as a
    ``SliceMembership`` (interleaved rounds; the recarray is read through a zero-copy view)."""
    S = membership.to_recarray()
    scorer = Scorer(metrics=["accuracy", "f1"])
    same = scorer.score_slices(S, golds, preds) == scorer.score_slices(membership, golds, preds)
    times: dict[str, list[float]] = {"SliceMembership": [], "recarray": []}
    for _ in range(rounds):
        for label, arg in (("SliceMembership", membership), ("recarray", S)):
            t = time.perf_counter()
            scorer.score_slices(arg, golds, preds)
            times[label].append(time.perf_counter() - t)
    best = {k: 1e3 * min(v) for k, v in times.items()}
    med = {k: 1e3 * statistics.median(v) for k, v in times.items()}
    print(f"score_slices(accuracy, f1), wall, best / median of {rounds} interleaved: "
          f"SliceMembership {best['SliceMembership']:.2f} / {med['SliceMembership']:.2f} ms, "
          f"Snorkel recarray {best['recarray']:.2f} / {med['recarray']:.2f} ms "
          f"({med['recarray'] / med['SliceMembership']:.1f}x); identical scores: {same}; "
          f"load average {os.getloadavg()[0]:.1f}")


def edit_and_report(n: int, n_edits: int) -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_slicing import _HAM, _SPAM, keyword_lists, make_data

    from slicewidgets.slicing import SliceSet, keyword_sf

    t0 = time.perf_counter()
    df = make_data(n)
    lists = keyword_lists()
    ss = SliceSet(df, [keyword_sf(k, name=f"keyword_{k[0]}") for k in lists])
    rng = np.random.default_rng(0)
    golds = df.label.to_numpy()
    preds = np.where(rng.random(n) < 0.85, golds, 1 - golds)
    scorer = Scorer(metrics=["accuracy", "f1"])
    scorer.slice_report(ss.membership(), golds, preds, random_state=0)
    print(f"\n{n:,} rows, 50 keyword SFs: data + first apply {time.perf_counter() - t0:.1f} s; "
          f"load average {os.getloadavg()[0]:.1f}")
    vocab = sorted(set(_HAM) | set(_SPAM))
    walls, cpus, t_mask, t_report = [], [], [], []
    for i in range(n_edits):
        kws = [vocab[(7 * i) % len(vocab)], f"{vocab[(3 * i) % len(vocab)]} {i}"]
        w0, c0 = time.perf_counter(), time.process_time()
        ss.update(keyword_sf(kws, name=f"keyword_{lists[7][0]}"))
        M = ss.membership()
        w1 = time.perf_counter()
        scorer.slice_report(M, golds, preds, random_state=0)
        w2, c2 = time.perf_counter(), time.process_time()
        walls.append(w2 - w0)
        cpus.append(c2 - c0)
        t_mask.append(w1 - w0)
        t_report.append(w2 - w1)
    med = statistics.median
    print(f"keyword edit + report, median of {n_edits}: wall {1e3 * med(walls):.1f} ms "
          f"(edit + membership {1e3 * med(t_mask):.1f} ms, slice_report "
          f"{1e3 * med(t_report):.1f} ms), CPU {1e3 * med(cpus):.1f} ms; best wall "
          f"{1e3 * min(walls):.1f} ms, worst {1e3 * max(walls):.1f} ms; target <= 30 ms: "
          f"{'met' if med(walls) <= 0.030 else 'NOT met'}; load average "
          f"{os.getloadavg()[0]:.1f}")
    # the counts of the last report taken afresh from the matrix (the tests also compare
    # with cold caches)
    fresh = SliceMembership(M.names, np.array(M.matrix))
    same = scorer.slice_report(M, golds, preds, random_state=0).to_frame().equals(
        scorer.slice_report(fresh, golds, preds, random_state=0).to_frame())
    print(f"last report identical to one on an unkeyed copy of the membership (counted "
          f"afresh): {same}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--edit-rows", type=int, default=0,
                        help="also time keyword edit + report on this many rows (e.g. 1000000)")
    parser.add_argument("--edits", type=int, default=15)
    args = parser.parse_args()
    main()
    if args.edit_rows:
        edit_and_report(args.edit_rows, args.edits)
