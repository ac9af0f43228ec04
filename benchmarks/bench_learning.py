"""Slice-aware learning benchmark: training speed against snorkel==0.10.0, and the paper's
synthetic experiment.

Run ``python benchmarks/bench_learning.py [epoch|synthetic|all]`` (the epoch part needs the
``bench`` extra: ``pip install "slicewidgets[bench]"``, i.e. ``snorkel==0.10.0``).

``epoch``: the setup of section 3 of Snorkel's data-slicing tutorial on the real YouTube spam
data (``SLICEWIDGETS_DATA_DIR`` or the loader's cache): bag-of-words features (3,916 words), a
2-layer 3916-wide MLP, 5 slicing functions (+ base), 6 experts of 3916 x 3916 (123M parameters),
batch 64, ``Trainer(n_epochs=2, lr=1e-4)``, then ``score_slices`` on the test split. The same
architecture, initial weights (seed 123) and data order run with Snorkel's
``SliceAwareClassifier`` + ``Trainer`` and with slicewidgets', in this process, alternating
(``--rounds``). Each epoch's wall-clock time and process CPU time are recorded (CPU time is what a
busy shared machine inflates least); the score tables are printed side by side.

``baseline --baseline DIR``: slicewidgets against another checkout of slicewidgets (e.g. the
commit before a change: ``git worktree add /tmp/before <commit>``) on the same ``epoch`` setup.
Each run is a separate process (``PYTHONPATH`` set to this checkout or to ``DIR``); the two
alternate, in ABBA order, for ``--rounds`` rounds; epoch times (wall, CPU) and the final
``score_slices`` tables are compared (the tables must be identical).

``gemm``: how near an epoch comes to this CPU's matrix-product rate (issue 19, item 5). Each
round measures the GEMM rate (``torch.matmul`` of two 2048 x 2048 matrices, and at the step's
own shapes) with the thread count the trainer uses, then trains ``--epochs`` epochs of the
``epoch`` setup three times, interleaved, each first in turn (the last epoch is timed: the
first includes the optimizer's set-up): as ``Trainer`` runs it now; with
``sparse_input=False`` (the bag-of-words first layer multiplied densely,
``classification/_linear.py``); and with neither the sparse input nor the factored
experts' update (``low_rank_update=False``: the experts' gradient formed, clipped and read by
Adam as a 368 MB tensor) nor the experts' products split across threads
(``classification/_parallel.py``). The epoch's FLOPs are counted by
``torch.utils.flop_counter.FlopCounterMode`` over one forward + backward pass of a full batch
and of the last, partial one, with the dense products (the model's arithmetic, whatever runs
it). Per round the fraction printed is ``FLOPs / (epoch wall time x GEMM rate of the same
round)``; the summary and the verdict divide by the *best* GEMM rate of the run instead (the
machine's demonstrated rate: a GEMM measured while another job held a core would otherwise
inflate the fraction), best and median over ``--rounds`` (at least 3), with the load average.

``synthetic``: the slice-based learning paper's Figure 1 setup (``make_slice_synthetic``): for
each seed, a plain MLP, the same MLP trained on a loader that oversamples the slicing function's
rows (``WeightedRandomSampler``), and a ``SliceAwareClassifier`` on the same MLP are trained with
identical settings; test F1 overall, on the slicing function's slice (what ``score_slices``
reports) and on the true critical slice (the flip circle) are printed as mean and standard
deviation over the seeds.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time

import numpy as np

SEED = 123


def _load() -> str:
    try:
        one, five, fifteen = os.getloadavg()
        return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f}"
    except OSError:  # pragma: no cover
        return "load average n/a"


# ---------------------------------------------------------------------------------------------
# epoch time on the tutorial setup


def tutorial_data():
    from sklearn.feature_extraction.text import CountVectorizer

    from slicewidgets.datasets import df_to_features, load_spam_dataset, spam_tutorial_sfs
    from slicewidgets.slicing import PandasSFApplier

    df_train, df_test = load_spam_dataset(load_train_labels=True)
    sfs = spam_tutorial_sfs()
    vectorizer = CountVectorizer(ngram_range=(1, 1))
    X_train, Y_train = df_to_features(vectorizer, df_train, "train")
    X_test, Y_test = df_to_features(vectorizer, df_test, "test")
    applier = PandasSFApplier(sfs)
    S_train = applier.apply(df_train, progress_bar=False)
    S_test = applier.apply(df_test, progress_bar=False)
    return {
        "X_train": np.asarray(X_train, dtype=np.float32), "Y_train": np.array(Y_train),
        "X_test": np.asarray(X_test, dtype=np.float32), "Y_test": np.array(Y_test),
        "S_train": S_train, "S_test": S_test, "slice_names": [sf.name for sf in sfs],
    }


def _mlp(torch, hidden_dim: int):
    # the tutorial's get_pytorch_mlp(hidden_dim, num_layers=2)
    return torch.nn.Sequential(
        torch.nn.Linear(hidden_dim, hidden_dim), torch.nn.ReLU(),
        torch.nn.Linear(hidden_dim, hidden_dim), torch.nn.ReLU(),
    )


class _Clock:
    """Per-batch wall and CPU time stamps; epoch times from them."""

    def __init__(self, n_batches_per_epoch: int, cuda: bool = False) -> None:
        self.n = n_batches_per_epoch
        self.cuda = cuda  # wait for the GPU's queued work before each stamp
        self.reset()

    def _stamp(self) -> tuple[float, float]:
        if self.cuda:
            import torch

            torch.cuda.synchronize()
        return time.perf_counter(), time.process_time()

    def reset(self) -> None:
        self.stamps = [self._stamp()]

    def tick(self) -> None:
        self.stamps.append(self._stamp())

    def epochs(self) -> list[tuple[float, float]]:
        out = []
        for start in range(0, len(self.stamps) - 1, self.n):
            end = min(start + self.n, len(self.stamps) - 1)
            (w0, c0), (w1, c1) = self.stamps[start], self.stamps[end]
            out.append((w1 - w0, c1 - c0))
        return out


def _torch_device(device: str):
    """``--device``: ``auto`` is CUDA where available (both libraries' default), else the CPU."""
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


def run_ours(data, n_epochs: int, device: str = "cpu", **trainer_kwargs):
    import torch

    from slicewidgets.analysis import Scorer
    from slicewidgets.classification import DictDataset, Trainer, TrainerCallback
    from slicewidgets.slicing import SliceAwareClassifier

    torch.manual_seed(SEED)
    h = data["X_train"].shape[1]
    device = _torch_device(device)
    model = SliceAwareClassifier(_mlp(torch, h), h, data["slice_names"], scorer=Scorer(metrics=["f1"]),
                                 device=device)
    train = DictDataset.from_tensors(torch.tensor(data["X_train"]), torch.tensor(data["Y_train"]), "train")
    test = DictDataset.from_tensors(torch.tensor(data["X_test"]), torch.tensor(data["Y_test"]), "train")
    train_dl = model.make_slice_dataloader(train, data["S_train"], shuffle=True, batch_size=64)
    test_dl = model.make_slice_dataloader(test, data["S_test"], shuffle=False, batch_size=64)
    clock = _Clock(len(train_dl), cuda=device.type == "cuda")

    class Tick(TrainerCallback):
        def on_train_begin(self, trainer, metrics):
            clock.reset()

        def on_batch_end(self, trainer, metrics):
            clock.tick()

    trainer = Trainer(n_epochs=n_epochs, lr=1e-4, progress_bar=False, callbacks=[Tick()],
                      device=device, **trainer_kwargs)
    trainer.fit(model, [train_dl])
    table = model.score_slices([test_dl], as_dataframe=True)
    n_params = sum(p.numel() for p in model.parameters())
    return clock.epochs(), table, n_params, [h["loss"] for h in trainer.history]


def run_snorkel(data, n_epochs: int, device: str = "cpu"):
    import torch
    from snorkel.analysis import Scorer
    from snorkel.classification import DictDataset, Trainer
    from snorkel.slicing import SliceAwareClassifier

    torch.manual_seed(SEED)
    h = data["X_train"].shape[1]
    device = _torch_device(device)
    # Snorkel's device setting: the GPU's index, or -1 for the CPU
    model = SliceAwareClassifier(_mlp(torch, h), h, data["slice_names"], scorer=Scorer(metrics=["f1"]),
                                 device=device.index or 0 if device.type == "cuda" else -1)
    train = DictDataset.from_tensors(torch.tensor(data["X_train"]), torch.tensor(data["Y_train"]), "train")
    test = DictDataset.from_tensors(torch.tensor(data["X_test"]), torch.tensor(data["Y_test"]), "train")
    train_dl = model.make_slice_dataloader(train, data["S_train"], shuffle=True, batch_size=64)
    test_dl = model.make_slice_dataloader(test, data["S_test"], shuffle=False, batch_size=64)
    clock = _Clock(len(train_dl), cuda=device.type == "cuda")

    class TimedTrainer(Trainer):
        def _set_batch_scheduler(self):
            super()._set_batch_scheduler()
            clock.reset()

        def _logging(self, *args, **kwargs):  # called once per batch, after the step
            clock.tick()
            return super()._logging(*args, **kwargs)

    trainer = TimedTrainer(n_epochs=n_epochs, lr=1e-4, progress_bar=False)
    trainer.fit(model, [train_dl])
    table = model.score_slices([test_dl], as_dataframe=True)
    n_params = sum(p.numel() for p in model.parameters())
    return clock.epochs(), table, n_params


def bench_epoch(args) -> None:
    import torch

    try:
        import snorkel
    except ImportError:
        print("epoch: snorkel is not installed; pip install 'slicewidgets[bench]' (snorkel==0.10.0)")
        return
    device = _torch_device(args.device)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"== Epoch time, Snorkel tutorial section 3 (snorkel {snorkel.__version__}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
          f"both libraries on {device} ({where})) ==")
    t = time.perf_counter()
    data = tutorial_data()
    print(f"data + features + S: {time.perf_counter() - t:.1f} s; X_train {data['X_train'].shape}")
    ours_epochs, snorkel_epochs = [], []
    for r in range(args.rounds):
        print(f"round {r + 1}: slicewidgets ... ({_load()})", flush=True)
        epochs, ours_table, ours_params, losses = run_ours(data, args.epochs, args.device)
        ours_epochs += epochs
        print("   epochs (wall s, cpu s):", [(round(w, 1), round(c, 1)) for w, c in epochs],
              "losses:", [round(x, 3) for x in losses], flush=True)
        print(f"round {r + 1}: snorkel ... ({_load()})", flush=True)
        epochs, snorkel_table, snorkel_params = run_snorkel(data, args.epochs, args.device)
        snorkel_epochs += epochs
        print("   epochs (wall s, cpu s):", [(round(w, 1), round(c, 1)) for w, c in epochs], flush=True)
    ours_wall = statistics.median(w for w, _ in ours_epochs)
    ours_cpu = statistics.median(c for _, c in ours_epochs)
    sn_wall = statistics.median(w for w, _ in snorkel_epochs)
    sn_cpu = statistics.median(c for _, c in snorkel_epochs)
    print(f"\nparameters: slicewidgets {ours_params:,}, snorkel {snorkel_params:,}")
    print("| per epoch (median) | snorkel 0.10.0 | slicewidgets | ratio |")
    print("|---|---|---|---|")
    print(f"| wall clock | {sn_wall:.1f} s | {ours_wall:.1f} s | {ours_wall / sn_wall:.2f} |")
    print(f"| process CPU time | {sn_cpu:.1f} s | {ours_cpu:.1f} s | {ours_cpu / sn_cpu:.2f} |")
    table = snorkel_table[["label", "score"]].rename(columns={"score": "snorkel"})
    table["slicewidgets"] = ours_table["score"].to_numpy()
    print("\nscore_slices (f1, test split):")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.6f}"))
    verdict = "PASS" if ours_wall <= 0.5 * sn_wall else "FAIL"
    print(f"\ntarget: epoch time <= 0.5x Snorkel's -> {verdict} ({ours_wall / sn_wall:.2f}x wall, "
          f"{ours_cpu / sn_cpu:.2f}x CPU); {_load()}")


# ---------------------------------------------------------------------------------------------
# the epoch against this CPU's GEMM rate


def _best_time(f, repeat: int = 5) -> float:
    f()  # warm-up: first touch of the output, thread pool
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - start)
    return best


def gemm_rates(torch, h: int, n_slices: int, batch: int) -> dict[str, float]:
    """GFLOP/s of ``torch.matmul`` on a large square product and on the step's shapes."""
    g = torch.Generator().manual_seed(0)
    k2 = 4  # the two heads' rows (2 classes each)
    shapes = {
        "square 2048": (2048, 2048, 2048),
        "MLP forward [64,h]x[h,h]": (batch, h, h),
        "MLP weight grad [h,64]x[64,h]": (h, batch, h),
        "heads x experts [4,h]x[h,6h]": (k2, h, n_slices * h),
        "experts' grad [h,4]x[4,6h]": (h, k2, n_slices * h),
    }
    rates = {}
    for name, (m, k, n) in shapes.items():
        A = torch.randn(m, k, generator=g)
        B = torch.randn(k, n, generator=g)
        out = torch.empty(m, n)
        seconds = _best_time(lambda A=A, B=B, out=out: torch.matmul(A, B, out=out), repeat=3)
        rates[name] = 2 * m * k * n / seconds / 1e9
        del A, B, out
    return rates


def epoch_flops(data, batch: int = 64, *, sparse_input: bool = False) -> tuple[float, int]:
    """GEMM FLOPs of one training epoch (forward + backward of every batch), and the batches.

    Counted with the experts' products in this thread (``FlopCounterMode`` does not see the
    threads ``classification/_parallel.py`` splits them across) and the gradient formed by the
    ordinary backward pass: the model's arithmetic, whatever runs it. With ``sparse_input``,
    the arithmetic actually done where the first layer multiplies only the nonzero columns of
    each batch (``classification/_linear.py``), batch by batch in the data's order.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from slicewidgets.classification import DictDataset, _parallel
    from slicewidgets.classification._linear import LinearLayers
    from slicewidgets.slicing import SliceAwareClassifier

    h = data["X_train"].shape[1]
    n = len(data["X_train"])
    model = SliceAwareClassifier(_mlp(torch, h), h, data["slice_names"], device="cpu")
    starts = range(0, n, batch)
    split_at = _parallel.MIN_SPLIT_NUMEL
    _parallel.MIN_SPLIT_NUMEL = 2**62
    per_batch: dict[int, float] = {}
    try:
        # dense: the count depends on the batch size only
        keys = starts if sparse_input else {min(batch, n - start): start for start in starts}.values()
        for start in keys:
            rows = slice(start, start + batch)
            ds = DictDataset.from_tensors(torch.tensor(data["X_train"][rows]),
                                          torch.tensor(data["Y_train"][rows]), "train")
            dl = model.make_slice_dataloader(ds, data["S_train"][rows], batch_size=batch)
            X, Y = next(iter(dl))
            with FlopCounterMode(display=False) as counter:
                with LinearLayers() if sparse_input else contextlib.nullcontext():
                    losses, _ = model.calculate_loss(X, Y)
                torch.stack(list(losses.values())).sum().backward()
            per_batch[start] = counter.get_total_flops()
            model.zero_grad(set_to_none=True)
    finally:
        _parallel.MIN_SPLIT_NUMEL = split_at
    if sparse_input:
        return float(sum(per_batch.values())), len(per_batch)
    by_size = {min(batch, n - start): flops for start, flops in per_batch.items()}
    return float(sum(by_size[min(batch, n - start)] for start in starts)), len(starts)


def bench_gemm(args) -> None:
    import torch

    from slicewidgets.classification._runtime import keeps_freed_memory_here, training_threads

    rounds = max(3, args.rounds)
    n_epochs = max(1, args.epochs)
    t = time.perf_counter()
    data = tutorial_data()
    h = data["X_train"].shape[1]
    n_slices = len(data["slice_names"]) + 1
    flops, n_batches = epoch_flops(data)
    done, _ = epoch_flops(data, sparse_input=True)
    threads = training_threads("auto", device_type="cpu", n_params=10**9,
                               current=torch.get_num_threads())
    print(f"== Epoch against this CPU's GEMM rate (tutorial section 3: X_train "
          f"{data['X_train'].shape}, {n_batches} batches of 64; torch {torch.__version__}, "
          f"trainer threads {threads}, {os.cpu_count()} CPUs, reuse_memory works here: "
          f"{keeps_freed_memory_here()}) ==")
    print(f"setup {time.perf_counter() - t:.1f} s; GEMM FLOPs per epoch (FlopCounterMode): "
          f"{flops / 1e9:.1f} GFLOP (the fractions below); done with sparse_input: "
          f"{done / 1e9:.1f} GFLOP (the first layer's nonzero columns only)", flush=True)
    from slicewidgets.classification import _parallel

    # name: (Trainer settings, split the experts' products across threads)
    contenders = {
        "now": ({}, True),
        "sparse_input=False": ({"sparse_input": False}, True),
        "no sparse input, no factors, no split": (
            {"sparse_input": False, "low_rank_update": False}, False),
    }
    split_at = _parallel.MIN_SPLIT_NUMEL
    rows: dict[str, list[tuple[float, float, float]]] = {name: [] for name in contenders}
    gemm: list[float] = []
    losses: dict[str, list[float]] = {}
    for r in range(rounds):
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            rates = gemm_rates(torch, h, n_slices, 64)
        finally:
            torch.set_num_threads(before)
        gemm.append(rates["square 2048"])
        print(f"round {r + 1} ({_load()}): GEMM GFLOP/s " + ", ".join(
            f"{name} {rate:.1f}" for name, rate in rates.items()), flush=True)
        names = list(contenders)
        order = names[r % len(names):] + names[:r % len(names)]  # each first in turn
        for name in order:
            settings, split = contenders[name]
            _parallel.MIN_SPLIT_NUMEL = split_at if split else 2**62
            try:
                epochs, _, _, loss = run_ours(data, n_epochs, **settings)
            finally:
                _parallel.MIN_SPLIT_NUMEL = split_at
            wall, cpu = epochs[-1]  # the last epoch: past the first step's optimizer set-up
            fraction = flops / (wall * rates["square 2048"] * 1e9)
            rows[name].append((wall, cpu, fraction))
            losses.setdefault(name, loss)
            if loss != losses[name]:
                print(f"   WARNING: {name} epoch loss {loss} differs from round 1's {losses[name]}")
            print(f"   {name}: epoch {n_epochs} {wall:.1f} s wall, {cpu:.1f} s CPU "
                  f"(epoch 1: {epochs[0][0]:.1f} s wall), "
                  f"{flops / wall / 1e9:.1f} GFLOP/s = {fraction:.0%} of the GEMM rate "
                  f"(loss {loss[0]:.6f}; {_load()})", flush=True)
    print(f"\nGEMM rate (square 2048, {threads} threads): best {max(gemm):.1f}, median "
          f"{statistics.median(gemm):.1f} GFLOP/s")
    rate = max(gemm) * 1e9  # the best GEMM rate of the run
    print(f"| epoch, tutorial section 3 | best wall | median wall | median CPU | "
          f"fraction of the best GEMM rate ({max(gemm):.1f} GFLOP/s), best / median |")
    print("|---|---|---|---|---|")
    for name, values in rows.items():
        walls = [w for w, _, _ in values]
        print(f"| {name} | {min(walls):.1f} s | {statistics.median(walls):.1f} s | "
              f"{statistics.median(c for _, c, _ in values):.1f} s | "
              f"{flops / (min(walls) * rate):.0%} / "
              f"{flops / (statistics.median(walls) * rate):.0%} |")
    for name in contenders:
        gap = max(abs(a - b) / abs(b) for a, b in zip(losses[name], losses["now"], strict=True))
        print(f"epoch losses, {name}: {[f'{x:.9f}' for x in losses[name]]} "
              f"(largest relative difference to 'now': {gap:.1e})")
    for name in contenders:
        if name != "now":
            ratio = statistics.median(w for w, _, _ in rows[name]) / statistics.median(
                w for w, _, _ in rows["now"])
            print(f"median epoch, {name} / now: {ratio:.2f}x")
    walls = [w for w, _, _ in rows["now"]]
    best, median = flops / (min(walls) * rate), flops / (statistics.median(walls) * rate)
    print(f"arithmetic done by 'now' (sparse first layer): {done / (min(walls) * rate):.0%} / "
          f"{done / (statistics.median(walls) * rate):.0%} of the best GEMM rate (best / median)")
    print(f"target: epoch >= 30% of the best GEMM rate -> {'PASS' if best >= 0.3 else 'FAIL'} "
          f"(best {best:.0%}, median {median:.0%}); {_load()}")


# ---------------------------------------------------------------------------------------------
# the synthetic experiment


def synthetic_run(seed: int, method: str, args):
    import torch
    from sklearn.metrics import f1_score

    from slicewidgets.analysis import Scorer
    from slicewidgets.classification import Trainer
    from slicewidgets.datasets import make_slice_synthetic
    from slicewidgets.slicing import SliceAwareClassifier
    from slicewidgets.slicing.sliceaware import PlainClassifier

    data = make_slice_synthetic(random_state=seed)
    train = data.dataset("train")
    S_train = data.slice_matrix("train")
    h = args.hidden

    torch.manual_seed(seed)
    mlp = torch.nn.Sequential(
        torch.nn.Linear(2, h), torch.nn.ReLU(), torch.nn.Linear(h, h), torch.nn.ReLU()
    )
    scorer = Scorer(metrics=["f1"])
    if method == "slice-aware":
        model = SliceAwareClassifier(mlp, h, [data.sf_name], scorer=scorer, device="cpu")
        loader = model.make_slice_dataloader(train, S_train, batch_size=args.batch_size, shuffle=True)
    else:
        model = PlainClassifier(mlp, h, scorer=scorer, slice_names=[data.sf_name], device="cpu")
        if method == "plain":
            loader = model.make_slice_dataloader(train, S_train, batch_size=args.batch_size, shuffle=True)
        else:
            loader = model.make_oversampling_dataloader(
                train, S_train, slice_weights=args.oversample, batch_size=args.batch_size
            )
    start = time.process_time()
    Trainer(n_epochs=args.synthetic_epochs, lr=args.lr, progress_bar=False, seed=seed,
            device="cpu").fit(model, [loader])
    cpu = time.process_time() - start
    X, Y = data.tensors("test")
    preds, golds = model.predict(X), Y.numpy()
    sf = data.slice_matrix("test")[data.sf_name] == 1
    true = data.df_test["flipped"].to_numpy()
    return {
        "overall": f1_score(golds, preds),
        "sf_slice": f1_score(golds[sf], preds[sf]),
        "true_slice": f1_score(golds[true], preds[true]),
        "cpu_s": cpu,
    }


def bench_synthetic(args) -> None:
    methods = ["plain", "oversampling", "slice-aware"]
    print(f"== Synthetic experiment (make_slice_synthetic, {args.seeds} seeds; MLP 2-{args.hidden}-"
          f"{args.hidden}, {args.synthetic_epochs} epochs, Adam lr {args.lr}, batch "
          f"{args.batch_size}, oversampling x{args.oversample}) ==", flush=True)
    results = {m: [] for m in methods}
    for seed in range(args.seeds):
        for method in methods:
            results[method].append(synthetic_run(seed, method, args))
        print(f"seed {seed}: " + "; ".join(
            f"{m} {results[m][-1]['overall']:.3f}/{results[m][-1]['sf_slice']:.3f}/"
            f"{results[m][-1]['true_slice']:.3f}" for m in methods), flush=True)

    def cell(method: str, key: str) -> str:
        values = np.array([r[key] for r in results[method]])
        return f"{values.mean():.3f} ± {values.std(ddof=1):.3f}"

    print("\nF1 on the test split, mean ± std over seeds (overall / slicing function's slice / "
          "true critical slice):")
    print("| model | overall F1 | SF slice F1 | true slice F1 | CPU s per run |")
    print("|---|---|---|---|---|")
    for method in methods:
        cpu = statistics.mean(r["cpu_s"] for r in results[method])
        print(f"| {method} | {cell(method, 'overall')} | {cell(method, 'sf_slice')} | "
              f"{cell(method, 'true_slice')} | {cpu:.1f} |")
    sa = np.array([[r["overall"], r["sf_slice"], r["true_slice"]] for r in results["slice-aware"]])
    pl = np.array([[r["overall"], r["sf_slice"], r["true_slice"]] for r in results["plain"]])
    diff = (sa - pl).mean(axis=0)
    wins = (sa[:, 1:] > pl[:, 1:]).sum(axis=0)
    print(f"\nslice-aware minus plain (mean): overall {diff[0]:+.3f}, SF slice {diff[1]:+.3f} "
          f"(better on {wins[0]}/{len(sa)} seeds), true slice {diff[2]:+.3f} "
          f"(better on {wins[1]}/{len(sa)} seeds)")


def _ours_json(args) -> None:
    """One ``run_ours`` in this process, printed as a JSON line (for ``baseline``)."""
    import json

    import slicewidgets

    data = tutorial_data()
    epochs, table, n_params, losses = run_ours(data, args.epochs)
    print("RESULT " + json.dumps({
        "package": os.path.dirname(slicewidgets.__file__), "epochs": epochs, "losses": losses,
        "table": table[["label", "score"]].to_dict("records"), "n_params": n_params,
    }), flush=True)


def bench_baseline(args) -> None:
    import json
    import subprocess

    if not args.baseline:
        raise SystemExit("baseline: pass --baseline DIR, a checkout of the slicewidgets to compare with")
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    checkouts = {"this": here, "baseline": os.path.abspath(args.baseline)}
    print(f"== Epoch time, this checkout ({here}) vs baseline ({checkouts['baseline']}), "
          f"{args.rounds} rounds, ABBA order ==")
    results: dict[str, list] = {"this": [], "baseline": []}
    for r in range(args.rounds):
        order = ["this", "baseline"] if r % 2 == 0 else ["baseline", "this"]
        for which in order:
            env = dict(os.environ, PYTHONPATH=checkouts[which])
            out = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "ours-json", "--epochs", str(args.epochs)],
                env=env, capture_output=True, text=True, check=True)
            line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
            result = json.loads(line[len("RESULT "):])
            assert os.path.realpath(result["package"]).startswith(os.path.realpath(checkouts[which]))
            results[which].append(result)
            print(f"round {r + 1} {which}: epochs (wall s, cpu s) "
                  f"{[(round(w, 1), round(c, 1)) for w, c in result['epochs']]} ({_load()})", flush=True)
    med = {k: (statistics.median(w for res in v for w, _ in res["epochs"]),
               statistics.median(c for res in v for _, c in res["epochs"])) for k, v in results.items()}
    print("| per epoch (median) | baseline | this | ratio |")
    print("|---|---|---|---|")
    print(f"| wall clock | {med['baseline'][0]:.1f} s | {med['this'][0]:.1f} s | "
          f"{med['this'][0] / med['baseline'][0]:.3f} |")
    print(f"| process CPU time | {med['baseline'][1]:.1f} s | {med['this'][1]:.1f} s | "
          f"{med['this'][1] / med['baseline'][1]:.3f} |")
    same = all(res["table"] == results["baseline"][0]["table"] for v in results.values() for res in v)
    print(f"score_slices tables identical in every run: {same}")
    for row in results["this"][0]["table"]:
        print(f"  {row['label']}: {row['score']:.6f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", nargs="?", default="all",
                        choices=["epoch", "gemm", "synthetic", "all", "baseline", "ours-json"])
    parser.add_argument("--baseline", help="another slicewidgets checkout (part 'baseline')")
    parser.add_argument("--epochs", type=int, default=2, help="tutorial epochs per run")
    parser.add_argument("--rounds", type=int, default=1, help="alternating runs of each library")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--synthetic-epochs", type=int, default=50)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--oversample", type=float, default=5.0)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                        help="part 'epoch': where both libraries train (auto: CUDA if available)")
    args = parser.parse_args(argv)
    if args.part == "ours-json":
        return _ours_json(args)
    if args.part == "baseline":
        return bench_baseline(args)
    if args.part in ("epoch", "all"):
        bench_epoch(args)
    if args.part in ("gemm", "all"):
        bench_gemm(args)
    if args.part in ("synthetic", "all"):
        bench_synthetic(args)


if __name__ == "__main__":
    sys.exit(main())
