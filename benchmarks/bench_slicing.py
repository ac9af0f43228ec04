"""Slicing benchmark: slicewidgets against snorkel==0.10.0, same workloads, same process.

Run ``python benchmarks/bench_slicing.py`` (needs the ``bench`` extra:
``pip install "slicewidgets[bench]"``, i.e. ``snorkel==0.10.0`` and ``psutil``).

Workloads, on generated YouTube-like comments (100k *distinct* rows by default, seeded):

1. the 4 row-wise SFs of Snorkel's slicing tutorial (no TextBlob), ``PandasSFApplier.apply``;
2. one trivial row-wise SF (pure applier overhead);
3. 50 keyword SFs: Snorkel's tutorial factory ``make_keyword_sf`` (row-wise, resources) against
   ``keyword_sf`` (vectorized, all keywords of the column in one pass);
4. the 5 tutorial SFs including the memoized TextBlob preprocessor (slicewidgets: ``n_jobs=2``);
5. ``Scorer(["accuracy", "f1"]).score_slices`` for 100 slices x 100k rows;
6. (slicewidgets only) editing one keyword SF among 50 in a ``SliceSet`` and re-scoring all slices.

Timing: wall clock (``time.perf_counter``) of the call only, ``--repeat`` rounds (default 3) in
which Snorkel and slicewidgets run in turn, the order alternating each round, so both see the
same machine load; best and median of each side and both ratios are printed, with the load
average before and after each workload (the machine is shared: read the CPU-time ratio too).
Each run starts cold (memo caches of the preprocessors are reset before each run). Every
workload checks that both libraries return identical results (``S`` arrays equal field by field,
scores equal to 1e-12) before printing a ratio. Row-wise SFs whose body slicewidgets recognises
run vectorized (``slicing/_rowwise.py``); the ``*_rows`` workloads switch that off
(``_rowwise.RECOGNISE = False``) to show the row path alone.

Peak memory (``--memory``): each measured workload runs once more in a fresh subprocess, which
builds the data, resets the kernel's high-water mark (``/proc/self/clear_refs``), runs the
workload and reports ``VmHWM - VmRSS before the call``: the extra resident memory the call
needed at its peak (the same method for both libraries). Without ``/proc`` it falls back to
``tracemalloc`` peaks (Python allocations only; the table says which).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

N_ROWS = 100_000
SEED = 123

# ---------------------------------------------------------------------------------------------
# data

_HAM_TEXT = (
    "i love this song so much the best video ever lol omg she is amazing beautiful voice "
    "great music nice cool awesome wow amazing song love it my favorite song forever who is "
    "watching this in 2015 this song never gets old her dance is so good i can not stop "
    "listening to it the beat is sick good vibes happy sad tears memories old days back when "
    "i was a kid this reminds me of summer party dance all night long such a masterpiece "
    "legend queen king best singer in the world so talented proud of you never give up "
    "real music like this is rare today people who disliked are crazy haters gonna hate "
    "what a voice goosebumps every time beautiful lyrics meaning deep thank you for this "
    "greatest hit of all time perfect"
)
_SPAM_TEXT = (
    "check out my channel please subscribe plz sub to me free gift card win money now "
    "click here visit my website follow me on twitter make money online easy fast join "
    "our group promo offer cheap download the app earn cash daily giveaway contest video "
    "views likes link below new vlog music cover remix help me reach subscribers thanks"
)
_HAM, _SPAM = _HAM_TEXT.split(), _SPAM_TEXT.split()
_LINKS = ("bit.ly/", "goo.gl/", "adf.ly/", "ow.ly/", "youtu.be/", "www.site", "http://",
          "https://")
_EMOJI = ("😍", "🔥", "❤", "👍", "😂", "é", "ü", "ñ", "ç", "İ")


def make_data(n: int = N_ROWS, seed: int = SEED) -> pd.DataFrame:
    """``n`` distinct rows with the tutorial's columns: author, date, text, label, video."""
    rng = np.random.default_rng(seed)
    texts: dict[str, int] = {}
    ham, spam = _HAM, _SPAM
    while len(texts) < n:
        m = n - len(texts) + 64
        is_spam = rng.random(m) < 0.5
        lengths = np.minimum(rng.geometric(0.09, m), 60)
        ham_idx = rng.integers(0, len(ham), int(lengths.sum())).tolist()
        n_spam = np.where(is_spam, rng.integers(1, 6, m), 0)
        spam_idx = rng.integers(0, len(spam), int(n_spam.sum())).tolist()
        spam_pos = (rng.random(m) * (lengths + 1)).astype(int).tolist()
        link = (is_spam & (rng.random(m) < 0.15)).tolist()
        links = [f"{_LINKS[i]}{v:x}" for i, v in
                 zip(rng.integers(0, len(_LINKS), m).tolist(), rng.integers(0, 10**6, m).tolist(),
                     strict=True)]
        case = rng.random(m).tolist()
        emoji = [_EMOJI[i] if r < 0.15 else None for i, r in
                 zip(rng.integers(0, len(_EMOJI), m).tolist(), rng.random(m).tolist(), strict=True)]
        ends = rng.choice(["", "", "!", "!!", ".", "?", " :)"], m).tolist()
        h = s = 0
        for k in range(m):
            words = [ham[i] for i in ham_idx[h:h + lengths[k]]]
            h += lengths[k]
            if n_spam[k]:
                words[spam_pos[k]:spam_pos[k]] = [spam[i] for i in spam_idx[s:s + n_spam[k]]]
                s += n_spam[k]
                if link[k]:
                    words.insert(spam_pos[k], links[k])
            if case[k] < 0.3:
                words[0] = words[0].capitalize()
            elif case[k] < 0.4:
                words = [w.upper() for w in words]
            if emoji[k] is not None:
                words.append(emoji[k])
            text = " ".join(words) + ends[k]
            if text not in texts:
                texts[text] = int(is_spam[k])
                if len(texts) == n:
                    break
    text = list(texts)
    label = np.fromiter(texts.values(), dtype=np.int64, count=n)
    flip = rng.random(n) < 0.05
    label[flip] = 1 - label[flip]
    return pd.DataFrame({
        "author": [f"user{i:06d}" for i in rng.permutation(n)],
        "date": pd.date_range("2014-01-01", periods=n, freq="min").astype(str),
        "text": text,
        "label": label,
        "video": rng.integers(1, 6, n),
    })


def keyword_lists(n_sfs: int = 50, per_sf: int = 2, seed: int = SEED) -> list[list[str]]:
    """``n_sfs`` keyword lists from the comment vocabulary (distinct first keywords)."""
    rng = np.random.default_rng(seed + 1)
    vocab = sorted(set(_HAM) | set(_SPAM))
    firsts = rng.choice(vocab, n_sfs, replace=False)
    return [[str(f), *map(str, rng.choice(vocab, per_sf - 1))] for f in firsts]


# ---------------------------------------------------------------------------------------------
# the tutorial's SFs, written once and built with either library


def tutorial_sfs(lib: str, textblob: bool) -> list:
    """The slicing tutorial's SFs, code as in the tutorial, from ``snorkel`` or ``slicewidgets``."""
    if lib == "snorkel":
        from snorkel.preprocess import preprocessor
        from snorkel.slicing import SlicingFunction, slicing_function
    else:
        from slicewidgets.preprocess import preprocessor
        from slicewidgets.slicing import SlicingFunction, slicing_function

    @slicing_function()
    def short_comment(x):
        return len(x.text.split()) < 5

    def keyword_lookup(x, keywords):
        return any(word in x.text.lower() for word in keywords)

    def make_keyword_sf(keywords):
        return SlicingFunction(name=f"keyword_{keywords[0]}", f=keyword_lookup,
                               resources=dict(keywords=keywords))

    @slicing_function()
    def regex_check_out(x):
        return bool(re.search(r"check.*out", x.text, flags=re.I))

    @slicing_function()
    def short_link(x):
        return bool(re.search(r"\w+\.ly", x.text))

    sfs = [short_comment, make_keyword_sf(["please", "plz"]), regex_check_out, short_link]
    if textblob:
        from textblob import TextBlob

        @preprocessor(memoize=True)
        def textblob_sentiment(x):
            scores = TextBlob(x.text)
            x.polarity = scores.sentiment.polarity
            return x

        @slicing_function(pre=[textblob_sentiment])
        def textblob_polarity(x):
            return x.polarity > 0.9

        sfs.append(textblob_polarity)
    return sfs


def trivial_sf(lib: str):
    if lib == "snorkel":
        from snorkel.slicing import slicing_function
    else:
        from slicewidgets.slicing import slicing_function

    @slicing_function()
    def spam_label(x):
        return x.label == 1

    return [spam_label]


def keyword_sfs(lib: str, lists: list[list[str]], *, rowwise: bool = False) -> list:
    """Snorkel: the tutorial's ``make_keyword_sf``. Ours: ``keyword_sf``, or the same row-wise
    code when ``rowwise``."""
    if lib == "snorkel" or rowwise:
        if lib == "snorkel":
            from snorkel.slicing import SlicingFunction
        else:
            from slicewidgets.slicing import SlicingFunction

        def keyword_lookup(x, keywords):
            return any(word in x.text.lower() for word in keywords)

        return [SlicingFunction(name=f"keyword_{k[0]}", f=keyword_lookup,
                                resources=dict(keywords=k)) for k in lists]
    from slicewidgets.slicing import keyword_sf

    return [keyword_sf(k, name=f"keyword_{k[0]}") for k in lists]


def _reset_memo(sfs: list) -> None:
    for sf in sfs:
        for p in getattr(sf, "_pre", []):
            p.reset_cache()


# ---------------------------------------------------------------------------------------------
# workloads: each returns a zero-argument callable (the timed call) and a result checker


class Workload:
    def __init__(self, key: str, title: str, target: str, ratio: float | None = None,
                 our_note: str = "", snorkel_key: str | None = None) -> None:
        self.key, self.title, self.target, self.ratio, self.our_note = (
            key, title, target, ratio, our_note)
        #: the Snorkel workload to compare with (the same code: run once)
        self.snorkel_key = snorkel_key or key


WORKLOADS = [
    Workload("tutorial4", "4 tutorial SFs, row-wise (no TextBlob)", ">= 10x", 10,
             "bodies recognised, vectorized"),
    Workload("tutorial4_rows", "4 tutorial SFs, row-wise, run row by row", "(info)", None,
             "RECOGNISE=False: rows of the text column only", snorkel_key="tutorial4"),
    Workload("tutorial4_jobs2", "4 tutorial SFs, row-wise, ours on 2 processes", ">= 10x", 10,
             "n_jobs=2", snorkel_key="tutorial4"),
    Workload("trivial", "1 trivial row-wise SF", ">= 20x", 20, "body recognised, vectorized"),
    Workload("trivial_rows", "1 trivial row-wise SF, run row by row", "(info)", None,
             "RECOGNISE=False: rows of the label column only", snorkel_key="trivial"),
    Workload("keywords50", "50 keyword SFs", ">= 50x, mem <= 0.3x", 50,
             "keyword_sf (vectorized)"),
    Workload("keywords50_rowwise", "50 keyword SFs, same row-wise code (info)", "-", None,
             "ours row-wise too (make_keyword_sf)", snorkel_key="keywords50"),
    Workload("textblob5", "5 tutorial SFs incl. TextBlob", ">= 2x", 2, "n_jobs=2"),
    Workload("score100", "score_slices, 2 metrics, 100 slices", ">= 50x", 50),
]


def prepare(key: str, lib: str, df: pd.DataFrame, n_jobs: int = 2) -> Callable[[], object]:
    if lib == "snorkel":
        from snorkel.analysis import Scorer
        from snorkel.slicing import PandasSFApplier
    else:
        from slicewidgets.analysis import Scorer
        from slicewidgets.slicing import PandasSFApplier

    if key == "score100":
        rng = np.random.default_rng(SEED)
        n = len(df)
        golds = df.label.to_numpy()
        preds = np.where(rng.random(n) < 0.85, golds, 1 - golds)
        probs = np.eye(2)[preds]
        rates = rng.uniform(0.001, 0.3, 100)
        S = np.rec.fromarrays([(rng.random(n) < r).astype(np.int64) for r in rates],
                              names=[f"slice_{j}" for j in range(100)])
        scorer = Scorer(metrics=["accuracy", "f1"])
        return lambda: scorer.score_slices(S, golds, preds, probs, as_dataframe=True)

    rows_only = key.endswith("_rows")
    key = key.removesuffix("_rows")
    if key in ("tutorial4", "tutorial4_jobs2"):
        sfs = tutorial_sfs(lib, textblob=False)
    elif key == "textblob5":
        sfs = tutorial_sfs(lib, textblob=True)
    elif key == "trivial":
        sfs = trivial_sf(lib)
    elif key == "keywords50":
        sfs = keyword_sfs(lib, keyword_lists())
    elif key == "keywords50_rowwise":
        sfs = keyword_sfs(lib, keyword_lists(), rowwise=True)
    else:
        raise KeyError(key)
    applier = PandasSFApplier(sfs)
    uses_jobs = key in ("textblob5", "tutorial4_jobs2")
    kwargs = {"n_jobs": n_jobs} if (lib != "snorkel" and uses_jobs) else {}

    def call():
        _reset_memo(sfs)
        if rows_only:  # every SF row by row: the row path's own speed
            from slicewidgets.slicing import _rowwise

            _rowwise.RECOGNISE = False
            try:
                return applier.apply(df, progress_bar=False, **kwargs)
            finally:
                _rowwise.RECOGNISE = True
        return applier.apply(df, progress_bar=False, **kwargs)

    return call


def same_result(a: object, b: object) -> str:
    """'' when the results are identical, else a description of the difference."""
    if isinstance(a, np.ndarray):
        if a.dtype.names != b.dtype.names or len(a) != len(b):
            return f"fields/length differ: {a.dtype.names} vs {b.dtype.names}"
        for name in a.dtype.names:
            diff = np.flatnonzero(np.asarray(a[name]) != np.asarray(b[name]))
            if len(diff):
                return f"{name}: {len(diff)} rows differ (first position {diff[0]})"
        return ""
    a, b = a.astype(float), b.astype(float)
    if a.shape != b.shape or list(a.index) != list(b.index) or list(a.columns) != list(b.columns):
        return "score tables have different shapes or labels"
    worst = np.nanmax(np.abs(a.to_numpy() - b.to_numpy()))
    if not np.array_equal(np.isnan(a.to_numpy()), np.isnan(b.to_numpy())) or worst > 1e-12:
        return f"scores differ by up to {worst:.3g}"
    return ""


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the n_jobs workers)."""
    try:
        import resource

        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime
    except ImportError:  # pragma: no cover - Windows
        return time.process_time()


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def interleaved(calls: dict[str, Callable[[], object]], rounds: int,
                slow: float = 60.0) -> dict[str, tuple[list[float], object, list[float]]]:
    """Run the contenders in ``calls`` in turn, ``rounds`` times (the order alternates each
    round, so both see the same machine); stop after a round in which any run took over
    ``slow`` s. Returns per contender: wall times, the last result, CPU times."""
    out: dict[str, tuple[list[float], object, list[float]]] = {k: ([], None, []) for k in calls}
    names = list(calls)
    for r in range(rounds):
        worst = 0.0
        for name in (names if r % 2 == 0 else names[::-1]):
            gc.collect()
            c0, t0 = _cpu_seconds(), time.perf_counter()
            result = calls[name]()
            wall, used = time.perf_counter() - t0, _cpu_seconds() - c0
            walls, _, cpus = out[name]
            walls.append(wall)
            cpus.append(used)
            out[name] = (walls, result, cpus)
            worst = max(worst, wall)
        if worst > slow:
            break
    return out


# ---------------------------------------------------------------------------------------------
# peak memory in a fresh subprocess


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def memory_worker(key: str, lib: str, n_rows: int, n_jobs: int) -> dict:
    df = make_data(n_rows)
    call = prepare(key, lib, df, n_jobs)
    gc.collect()
    before = _status_kb("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        method = "VmHWM"
    except OSError:
        method = "tracemalloc"
    if method == "VmHWM" and before is not None:
        call()
        peak = _status_kb("VmHWM")
        return {"method": method, "peak_mb": (peak - before) / 1024, "rss_mb": peak / 1024}
    import tracemalloc

    tracemalloc.start()
    call()
    _, peak = tracemalloc.get_traced_memory()
    return {"method": "tracemalloc", "peak_mb": peak / 2**20, "rss_mb": float("nan")}


def measure_memory(key: str, lib: str, n_rows: int, n_jobs: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--memory-worker", key, lib, "--rows", str(n_rows),
         "--n-jobs", str(n_jobs)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# SliceSet: edit one SF among 50 and re-score


def edit_and_rescore(df: pd.DataFrame, n_edits: int = 30) -> tuple[float, float, int]:
    """Median and max seconds of ``update(sf) + score`` over ``n_edits`` distinct edits."""
    from slicewidgets.analysis import Scorer
    from slicewidgets.slicing import SliceSet, keyword_sf

    lists = keyword_lists()
    ss = SliceSet(df, keyword_sfs("slicewidgets", lists))
    rng = np.random.default_rng(SEED)
    golds = df.label.to_numpy()
    preds = np.where(rng.random(len(df)) < 0.85, golds, 1 - golds)
    scorer = Scorer(metrics=["accuracy", "f1"])
    vocab = sorted(set(_HAM) | set(_SPAM))
    ss.score(scorer, golds, preds)
    times = []
    computed = ss.n_computed
    target = f"keyword_{lists[7][0]}"
    for i in range(n_edits):
        # a new keyword list each time, as a user typing: never a cache hit
        kws = [vocab[i % len(vocab)], f"{vocab[(3 * i) % len(vocab)]} {i}"]
        t0 = time.perf_counter()
        ss.update(keyword_sf(kws, name=target))
        ss.score(scorer, golds, preds)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), max(times), ss.n_computed - computed


# ---------------------------------------------------------------------------------------------


def seed_tutorial_check() -> str | None:
    """Apply the 5 tutorial SFs and score f1 with both libraries on the seed tutorial's test set
    (when SLICEWIDGETS_DATA_DIR holds the YouTube spam CSVs); '' when identical."""
    if not os.environ.get("SLICEWIDGETS_DATA_DIR"):
        return None
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from snorkel.analysis import Scorer as SnorkelScorer
    from snorkel.slicing import PandasSFApplier as SnorkelApplier

    from slicewidgets.analysis import Scorer
    from slicewidgets.datasets import df_to_features, load_spam_dataset
    from slicewidgets.slicing import PandasSFApplier
    from slicewidgets.utils import preds_to_probs

    df_train, df_test = load_spam_dataset(load_train_labels=True)
    vectorizer = CountVectorizer(ngram_range=(1, 1))
    X_train, Y_train = df_to_features(vectorizer, df_train, "train")
    X_test, Y_test = df_to_features(vectorizer, df_test, "test")
    preds = LogisticRegression(C=0.001, solver="liblinear").fit(X_train, Y_train).predict(X_test)
    probs = preds_to_probs(preds, 2)
    S_snk = SnorkelApplier(tutorial_sfs("snorkel", True)).apply(df_test, progress_bar=False)
    S_ours = PandasSFApplier(tutorial_sfs("slicewidgets", True)).apply(df_test,
                                                                       progress_bar=False)
    diff = same_result(S_snk, S_ours)
    if not diff:
        diff = same_result(
            SnorkelScorer(metrics=["f1"]).score_slices(S_snk, Y_test, preds, probs,
                                                       as_dataframe=True),
            Scorer(metrics=["f1"]).score_slices(S_ours, Y_test, preds, probs,
                                                as_dataframe=True))
    return diff


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=N_ROWS)
    parser.add_argument("--repeat", type=int, default=3,
                        help="interleaved rounds per workload (Snorkel and ours in turn)")
    parser.add_argument("--slow", type=float, default=60.0,
                        help="stop a workload's rounds after one in which a run took longer")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--only", nargs="*", help="workload keys to run (and 'edit')")
    parser.add_argument("--memory", choices=["none", "keywords", "all"], default="keywords",
                        help="which workloads also get a peak-memory run in subprocesses")
    parser.add_argument("--memory-worker", nargs=2, metavar=("KEY", "LIB"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.memory_worker:
        print(json.dumps(memory_worker(*args.memory_worker, args.rows, args.n_jobs)))
        return

    import snorkel

    import slicewidgets

    t0 = time.perf_counter()
    df = make_data(args.rows)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"data: {len(df):,} distinct rows ({df.text.nunique():,} distinct texts), "
          f"generated in {time.perf_counter() - t0:.1f} s; snorkel {snorkel.__version__}, "
          f"slicewidgets {slicewidgets.__version__}, {os.cpu_count()} CPUs, "
          f"load average {load:.1f}", flush=True)
    rows = []
    for w in WORKLOADS:
        if args.only and w.key not in args.only:
            continue
        load_before = _load()
        runs = interleaved({
            "snorkel": prepare(w.snorkel_key, "snorkel", df, args.n_jobs),
            "ours": prepare(w.key, "slicewidgets", df, args.n_jobs),
        }, args.repeat, args.slow)
        t_snk, r_snk, c_snk = runs["snorkel"]
        t_ours, r_ours, c_ours = runs["ours"]
        diff = same_result(r_snk, r_ours)
        mem = {}
        if args.memory == "all" or (args.memory == "keywords" and w.key == "keywords50"):
            mem = {lib: measure_memory(w.key, lib, args.rows, args.n_jobs)
                   for lib in ("snorkel", "slicewidgets")}
        rows.append((w, t_snk, t_ours, diff, mem, min(c_snk) / min(c_ours),
                     (load_before, _load())))
        print(f"  done {w.key}: snorkel best {min(t_snk):.3f} s median "
              f"{statistics.median(t_snk):.3f} s, ours best {min(t_ours):.4f} s median "
              f"{statistics.median(t_ours):.4f} s ({len(t_ours)} interleaved rounds), "
              f"{'identical' if not diff else 'DIFFERENT: ' + diff}; load "
              f"{load_before:.1f} -> {_load():.1f}", flush=True)

    edit = None
    if not args.only or "edit" in args.only:
        edit = edit_and_rescore(df)
    seed = seed_tutorial_check() if not args.only or "seed" in args.only else None

    print()
    head = (f"{'workload':44} {'snorkel best/median s':>22} {'ours best/median s':>20} "
            f"{'ratio best/med':>15} {'target':>8} {'ok':>3}  {'same':>4}  notes")
    print(head)
    print("-" * len(head))
    for w, t_snk, t_ours, diff, mem, cpu_ratio, (l0, l1) in rows:
        ratio, ratio_med = min(t_snk) / min(t_ours), (statistics.median(t_snk)
                                                      / statistics.median(t_ours))
        ok = "" if w.ratio is None else ("yes" if min(ratio, ratio_med) >= w.ratio else "NO")
        notes = [w.our_note] if w.our_note else []
        notes.append(f"{len(t_ours)} rounds; CPU-time ratio {cpu_ratio:.1f}x; load {l0:.1f}"
                     f"->{l1:.1f}")
        if mem:
            s_, o = mem["snorkel"], mem["slicewidgets"]
            mratio = o["peak_mb"] / s_["peak_mb"]
            notes.append(f"peak +{s_['peak_mb']:.0f} MB vs +{o['peak_mb']:.0f} MB "
                         f"= {mratio:.3f}x ({s_['method']})")
            if mratio > 0.3 and w.key == "keywords50":
                ok = "NO"
        snk = f"{min(t_snk):.3f}/{statistics.median(t_snk):.3f}"
        ours = f"{min(t_ours):.4f}/{statistics.median(t_ours):.4f}"
        print(f"{w.title:44} {snk:>22} {ours:>20} {f'{ratio:.1f}x/{ratio_med:.1f}x':>15} "
              f"{w.target:>8} {ok:>3}  {'yes' if not diff else 'NO':>4}  {'; '.join(notes)}")
    if edit is not None:
        med, worst, n_computed = edit
        ok = "yes" if med <= 0.1 else "NO"
        print(f"{'edit 1 keyword SF of 50 + re-score (ours)':44} {'-':>22} {med:20.4f} "
              f"{'-':>15} {'<= 0.1 s':>8} {ok:>3}  {'-':>4}  "
              f"median; max {worst:.4f} s; {n_computed} SF evaluations for 30 edits")
    if seed is not None:
        print(f"seed tutorial (df_test, 5 SFs incl. TextBlob): S and f1 table "
              f"{'identical to Snorkel' if not seed else 'DIFFER: ' + seed}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"(wall-clock times and ratios = snorkel / ours; the CPU-time ratio counts the n_jobs "
          f"workers too; load average at the end {load:.1f})")


if __name__ == "__main__":
    main()
