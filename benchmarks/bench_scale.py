"""Scale-out benchmark: 10M generated rows through DaskSFApplier on 2 worker processes.

Run ``python benchmarks/bench_scale.py`` (needs the ``dask`` extra and ``psutil``; options:
``--rows``, ``--partitions``, ``--workers``, ``--repeat``, ``--worker-profile``).

Workload: ``--rows`` YouTube-like comments (10M by default) generated *inside the workers*,
partition by partition (``dask.dataframe.from_map``; the driver never holds the rows), with
gold labels and predictions (12% wrong, 3% abstain). Seven SFs: four keyword SFs, one regex SF,
one vectorized SF and an ``&`` combination. Two measured steps, each over all the rows:

* ``apply``: ``DaskSFApplier(sfs).apply(ddf)`` reduced to slice sizes (``S.sum()``), the
  membership stays on the workers;
* ``score``: ``DaskSFApplier(sfs).score(ddf, "label", "pred", scorer)``: per-partition
  confusion counts summed in Dask, metrics for 7 slices + overall on the driver.

Baseline: the single-process pandas path on the same rows in the same process, partition by
partition (10M rows of text do not fit the pandas path at once on a small machine):
generate the partition, ``compute_masks`` (what ``PandasSFApplier`` runs), then sizes or
``slice_counts``, summed. Both paths must give identical sizes and scores.

Figures: wall clock (``time.perf_counter``) of each step, best of ``--repeat``; rows/s; the
Dask/single-process throughput ratio (target >= 1.6x on 2 workers) over all repeats (total
single-process wall over total Dask wall; the two paths' runs of a step are adjacent, in
alternating order), with each repeat's ratio and best wall against best wall; the driver's
peak RSS during the Dask steps (``ru_maxrss`` of this process, which runs no baseline itself,
plus a 20 ms psutil sampler; target <= 2 GB); each worker's peak RSS. The cluster's start-up
(worker processes importing pandas) is timed separately and not counted.

Cluster: ``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)``. Dask's worker
profiler (a thread sampling every task's stack every 10 ms, for the dashboard's profile page)
is switched off by default here (``--worker-profile off``), as one would for a throughput job on a
small machine: on 2 cores it costs a few percent of CPU. ``--worker-profile on`` measures Dask's
default configuration.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import sys
import threading
import time

import numpy as np
import pandas as pd

N_ROWS = 10_000_000
N_PARTITIONS = 40
SEED = 20240501

_OPENERS = np.array([
    f"{a} {b}" for a in ("i love", "omg", "wow", "this song", "her voice", "the beat",
                         "who is watching", "Best video", "LOL", "my favorite",
                         "great music", "so beautiful", "nice", "Amazing", "legend")
    for b in ("so much", "forever", "in 2015", "every day", "right now", "ever",
              "lol", "again", "tonight", "here", "!!", "today", "haha")
], dtype=object)
_HAM = np.array([
    "never gets old", "brings back memories", "is a masterpiece", "gives me goosebumps",
    "is the best", "makes me happy", "real music", "what a voice", "pure talent",
    "so underrated", "still here", "on repeat", "all night long", "thank you",
], dtype=object)
_SPAM = np.array([
    "check out my channel", "please subscribe", "plz sub 4 sub", "visit www.freegift.com",
    "Check it out http://bit.ly/x", "subscribe to me", "free gift card click here",
    "check out my new cover", "win money now", "PLEASE SUBSCRIBE",
], dtype=object)
_ENDS = np.array(["", "!", "!!", ".", " :)", " <3", "?", " xD", " 😍", " 🔥"], dtype=object)


def make_partition(i: int, n_rows: int, seed: int = SEED) -> pd.DataFrame:
    """Partition ``i``: ``n_rows`` comments, labels and predictions (deterministic)."""
    rng = np.random.default_rng([seed, i])
    spam = rng.random(n_rows) < 0.45
    body = np.where(spam, _SPAM[rng.integers(0, len(_SPAM), n_rows)],
                    _HAM[rng.integers(0, len(_HAM), n_rows)])
    text = (_OPENERS[rng.integers(0, len(_OPENERS), n_rows)] + " " + body
            + _ENDS[rng.integers(0, len(_ENDS), n_rows)])
    label = spam.astype(np.int64)
    flip = rng.random(n_rows) < 0.05
    label[flip] = 1 - label[flip]
    pred = np.where(rng.random(n_rows) < 0.12, 1 - label, label)
    pred[rng.random(n_rows) < 0.03] = -1
    # Arrow-backed strings, as read_parquet gives them (and as Dask would convert them to)
    return pd.DataFrame({"text": pd.array(text, dtype=pd.StringDtype("pyarrow")),
                         "label": label, "pred": pred},
                        index=pd.RangeIndex(i * n_rows, (i + 1) * n_rows))


def build_sfs() -> list:
    from slicewidgets.slicing import keyword_sf, regex_sf, slicing_function

    @slicing_function(vectorized=True)
    def short_comment(df):
        return df.text.str.count(" ") < 5

    kw_sub = keyword_sf(["subscribe", "sub 4 sub"], name="keyword_subscribe")
    return [
        keyword_sf(["please", "plz"], name="keyword_please"),
        kw_sub,
        keyword_sf(["http", "www"], name="keyword_link"),
        keyword_sf(["love", "beautiful"], name="keyword_love"),
        regex_sf(r"check.*out", name="regex_check_out", flags=re.I),
        short_comment,
        (short_comment & kw_sub).rename("short_and_subscribe"),
    ]


METRICS = ["accuracy", "coverage", "f1", "matthews_corrcoef"]


# ---------------------------------------------------------------------------------------------
# the two paths


def single_process(sfs, n_parts: int, rows_per_part: int, step: str):
    """The pandas path partition by partition in this process: sizes or counts."""
    from slicewidgets.slicing._distributed import counts_table, partition_counts
    from slicewidgets.slicing.apply import compute_masks

    total = None
    for i in range(n_parts):
        part = make_partition(i, rows_per_part)
        m = compute_masks(part, sfs)
        if step == "apply":
            out = m.matrix.sum(axis=0)
        else:
            out = partition_counts(m.matrix, part.label.to_numpy(), part.pred.to_numpy(), -1)
            out = out.set_index("slice")
        total = out if total is None else total + out
    if step == "apply":
        return pd.Series(total, index=[sf.name for sf in sfs])
    return counts_table(total, [sf.name for sf in sfs])


def run_single(args) -> None:
    """Child process: time the single-process path, print JSON (keeps the driver's RSS clean)."""
    import json

    sfs = build_sfs()
    scorer = _scorer()
    rows_per_part = args.rows // args.partitions
    out: dict = {}
    for step in [args.step] if args.step else ("apply", "score"):
        w, c = time.perf_counter(), time.process_time()
        res = single_process(sfs, args.partitions, rows_per_part, step)
        if step == "score":
            res = _scores(scorer, res)
        out[step] = {"wall": time.perf_counter() - w, "cpu": time.process_time() - c,
                     "result": res.to_dict() if step == "apply" else res}
    out["maxrss"] = _maxrss_bytes()
    print(json.dumps(out))


def dask_frame(n_parts: int, rows_per_part: int):
    import dask.dataframe as dd

    return dd.from_map(make_partition, range(n_parts), n_rows=rows_per_part,
                       meta=make_partition(0, 0), enforce_metadata=False)


class RSSSampler:
    """Peak RSS of this process sampled every 20 ms (complements ru_maxrss)."""

    def __init__(self) -> None:
        import psutil

        self._proc = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            self._stop.wait(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _maxrss_bytes() -> int:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r if sys.platform == "darwin" else r * 1024


def _scorer():
    from slicewidgets.analysis import Scorer

    return Scorer(metrics=METRICS)


def _worker_cpu() -> float:
    return time.process_time()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=N_ROWS)
    parser.add_argument("--partitions", type=int, default=N_PARTITIONS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--worker-profile", choices=["on", "off"], default="off",
                        help="Dask's statistical worker profiler (Dask's default: on)")
    parser.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--step", choices=["apply", "score"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.single:
        run_single(args)
        return 0
    import json
    import subprocess

    import dask
    import distributed

    from slicewidgets.slicing.dask import DaskSFApplier

    rows_per_part = args.rows // args.partitions
    n_rows = rows_per_part * args.partitions
    sfs = build_sfs()
    scorer = _scorer()
    applier = DaskSFApplier(sfs)
    load = os.getloadavg()
    print(f"{n_rows:,} rows in {args.partitions} partitions of {rows_per_part:,}; "
          f"{len(sfs)} SFs; {os.cpu_count()} CPUs; load average "
          f"{', '.join(f'{x:.1f}' for x in load)}", flush=True)

    # set before the cluster starts: the worker processes inherit the configuration
    dask.config.set({"distributed.worker.profile.enabled": args.worker_profile == "on"})
    print(f"Dask worker profiler: {args.worker_profile}", flush=True)
    t = time.perf_counter()
    cluster = distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1,
                                       processes=True, dashboard_address=None,
                                       host="127.0.0.1")
    client = distributed.Client(cluster)
    # warm the workers (imports) on a tiny frame; not timed as throughput
    applier.score(dask_frame(args.workers, 1000), "label", "pred", scorer)
    print(f"cluster start + worker warm-up: {time.perf_counter() - t:.1f} s", flush=True)

    wall: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    results: dict[tuple[str, str], object] = {}
    driver_peak = worker_peak = 0
    single_rss = 0

    def run_dask(step: str) -> None:
        nonlocal driver_peak
        ddf = dask_frame(args.partitions, rows_per_part)
        with RSSSampler() as sampler:
            c0 = sum(client.run(_worker_cpu).values()) + time.process_time()
            t = time.perf_counter()
            if step == "apply":
                res = applier.apply(ddf).sum().compute()
            else:
                res = applier.score(ddf, "label", "pred", scorer)
            wall.setdefault(("dask", step), []).append(time.perf_counter() - t)
            cpu.setdefault(("dask", step), []).append(
                sum(client.run(_worker_cpu).values()) + time.process_time() - c0)
        results["dask", step] = res.to_dict() if step == "apply" else res
        driver_peak = max(driver_peak, _maxrss_bytes(), sampler.peak)

    def run_baseline(step: str) -> None:
        nonlocal single_rss
        # the baseline runs in a child process so that this process's peak RSS stays the
        # driver's; the cluster idles meanwhile
        child = subprocess.run(
            [sys.executable, __file__, "--single", "--step", step, "--rows",
             str(args.rows), "--partitions", str(args.partitions)],
            capture_output=True, text=True, check=True)
        single = json.loads(child.stdout.strip().splitlines()[-1])
        single_rss = max(single_rss, single["maxrss"])
        wall.setdefault(("single", step), []).append(single[step]["wall"])
        cpu.setdefault(("single", step), []).append(single[step]["cpu"])
        results["single", step] = single[step]["result"]

    for r in range(args.repeat):
        # Dask and single-process runs of a step are adjacent, in alternating order, so that
        # both see the same machine load
        for step in ("apply", "score"):
            for run in (run_dask, run_baseline) if r % 2 == 0 else (run_baseline, run_dask):
                run(step)
            print(f"  run {r + 1}, {step}: dask {wall['dask', step][-1]:.1f} s, single "
                  f"process {wall['single', step][-1]:.1f} s (load average "
                  f"{os.getloadavg()[0]:.1f})", flush=True)
    worker_peak = max(client.run(_maxrss_worker).values())
    client.close()
    cluster.close()

    same_sizes = {k: int(v) for k, v in results["dask", "apply"].items()} == \
        {k: int(v) for k, v in results["single", "apply"].items()}
    same_scores = _same(results["dask", "score"], results["single", "score"])

    gb = 1024**3
    print()
    print(f"{'step':<7}{'path':<20}{'best wall s':>12}{'rows/s':>12}{'ratio':>8}"
          f"{'CPU s':>9}{'CPU us/row':>12}")
    ok = True
    for step in ("apply", "score"):
        for path in ("single", "dask"):
            i = int(np.argmin(wall[path, step]))
            w, c = wall[path, step][i], cpu[path, step][i]
            label = "single process" if path == "single" else f"dask, {args.workers} workers"
            ratio = min(wall["single", step]) / w
            print(f"{step if path == 'single' else '':<7}{label:<20}{w:>12.2f}"
                  f"{n_rows / w:>12,.0f}{ratio:>7.2f}x{c:>9.1f}{c / n_rows * 1e6:>12.2f}")
    for step in ("apply", "score"):
        # throughput over all repeats (each path processed repeat x rows in interleaved runs):
        # on a shared machine this averages the load both paths saw; paired and best-of
        # ratios are shown too
        overall = sum(wall["single", step]) / sum(wall["dask", step])
        ok &= overall >= 1.6
        paired = [s / d for s, d in zip(wall["single", step], wall["dask", step], strict=True)]
        best = min(wall["single", step]) / min(wall["dask", step])
        print(f"throughput ratio, {step}: {overall:.2f}x over {args.repeat} x {n_rows:,} rows "
              f"(target >= 1.6x: {'met' if overall >= 1.6 else 'NOT met'}); per repeat "
              f"{', '.join(f'{r:.2f}' for r in paired)}; best wall against best wall "
              f"{best:.2f}x")
    ok &= driver_peak <= 2 * gb
    print(f"driver peak RSS (Dask client + scheduler process): {driver_peak / gb:.2f} GB "
          f"(target <= 2 GB: {'met' if driver_peak <= 2 * gb else 'NOT met'}); worker peak "
          f"RSS {worker_peak / gb:.2f} GB; single-process peak RSS {single_rss / gb:.2f} GB")
    print(f"identical results: slice sizes {same_sizes}, scores {same_scores}")
    print(f"slice sizes: {results['dask', 'apply']}")
    print("scores (dask):")
    print(pd.DataFrame.from_dict(results["dask", "score"]).transpose().round(4).to_string())
    print(f"load average before: {', '.join(f'{x:.1f}' for x in load)}; after: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} (other processes share the "
          "CPUs when it is above the core count)")
    return 0 if ok and same_sizes and same_scores else 1


def _maxrss_worker() -> int:
    import resource as res

    return res.getrusage(res.RUSAGE_SELF).ru_maxrss * 1024


def _scores(scorer, table):
    from slicewidgets.slicing._distributed import scores_from_counts

    return scores_from_counts(scorer, table)


def _same(a: dict, b: dict) -> bool:
    return list(a) == list(b) and all(
        np.array_equal(list(a[k].values()), list(b[k].values()), equal_nan=True) for k in a)


if __name__ == "__main__":
    sys.exit(main())
