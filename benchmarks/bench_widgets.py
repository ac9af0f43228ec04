"""Studio benchmark: Apply, toggle, preview page and Cancel at 100k rows; opening at 2M rows.

Run ``python benchmarks/bench_widgets.py`` (no extra dependency; ``--skip-2m`` leaves out the
2M-row part, which first generates the data). Headless: a :class:`SliceStudio` is driven from
Python exactly as a click would (``studio.editor.apply_button.click()``,
``checkbox.value = False``, ``preview.next_button.click()``), with all its widgets listening
to the one SliceSet: editor, toggles, preview and the live score table (``SliceReport`` of
accuracy and F1 with intervals, tests and flags, plus the bar chart).

Workload: 100k generated YouTube-like comments (``bench_slicing.make_data``), 50 SFs written
in the editor (40 ``keyword_sf``, 10 ``regex_sf``). Timed, each click to the end of every
refresh it causes:

1. **Apply** after editing one keyword SF (a keyword list never seen before, so its mask is
   really recomputed): compile + exec the 50-SF code, fingerprint, one mask, the table (report,
   HTML, chart), toggles and preview. Also an undo (cached mask), the core path
   (``slice_set.update`` + refreshes) and the baseline a non-incremental tool pays (all 50 masks
   and the report on every edit).
2. **Toggle**: one checkbox off or on (the slice leaves or rejoins the table; nothing is
   recomputed but the report).
3. **Preview page**: next/previous page of a slice's rows.
4. **Cancel**: an Apply in a worker thread running an endless row-wise SF is cancelled from the
   editor; the time from the click to the worker having stopped (target <= 1 s), the
   SliceSet unchanged.
5. **Opening at 2M rows**: ``SliceStudio(df, golds, preds, sfs=<the 4 row-wise SFs of Snorkel's
   tutorial>)``: the time to the first progress update and to the finished studio.

Targets: Apply and toggle <= 100 ms median at 100k rows; cancel <= 1 s. Figures depend on the
machine and its load (printed); CPU time is given beside wall time, since a busy machine
inflates only the latter.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

TARGET_S = 0.100


def make_inputs(n_rows: int, seed: int = 123):
    from bench_slicing import _HAM, _SPAM, keyword_lists, make_data

    df = make_data(n_rows, seed)
    lists = keyword_lists(40, per_sf=2, seed=seed)
    vocab = sorted(set(_HAM) | set(_SPAM))
    rng = np.random.default_rng(seed)
    golds = df.label.to_numpy()
    preds = np.where(rng.random(len(df)) < 0.85, golds, 1 - golds)
    return df, lists, vocab, golds, preds


REGEXES = [r"\b\w+\.ly/", r"https?://", r"check.*out", r"sub(scribe)?\b", r"!!+",
           r"\bmy (channel|video)", r"[A-Z]{4,}", r"\d{4}", r"free \w+", r"\bplz\b"]


def editor_code(lists: list[list[str]], edited: list[str] | None = None) -> str:
    lines = ["from slicewidgets import keyword_sf, regex_sf", "import re", ""]
    for i, kws in enumerate(lists):
        if i == 7 and edited is not None:
            kws = edited
        lines.append(f"kw{i} = keyword_sf({kws!r}, name='kw{i}')")
    for j, pattern in enumerate(REGEXES):
        lines.append(f"rx{j} = regex_sf({pattern!r}, name='rx{j}', flags=re.IGNORECASE)")
    return "\n".join(lines) + "\n"


def p95(times: list[float]) -> float:
    ms = sorted(times)
    return ms[min(len(ms) - 1, math.ceil(0.95 * len(ms)) - 1)]


def summary(times: list[float], cpu: list[float] | None = None) -> str:
    ms = sorted(t * 1000 for t in times)
    out = (f"median {statistics.median(ms):7.1f} ms   p95 {p95(ms):7.1f} ms   "
           f"max {ms[-1]:7.1f} ms")
    if cpu:
        out += f"   (CPU time: median {statistics.median(cpu) * 1000:6.1f} ms)"
    return out


class Clock:
    """Wall-clock and CPU time of a block (CPU time is what a busy machine cannot inflate)."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


ENDLESS = """
@slicing_function()
def endless(x):
    while True:
        pass
"""


def bench_cancel(df, repeats: int) -> list[float]:
    """Cancel an Apply stuck in an endless row-wise SF; the time to the worker's end."""
    from slicewidgets.slicing import SliceSet, keyword_sf
    from slicewidgets.widgets import SFEditor

    ss = SliceSet(df, [keyword_sf(["song"], name="kept")])
    editor = SFEditor(ss, namespace={}, path=None, background=True, code_widget="textarea")
    editor.code.value = ENDLESS
    times = []
    for _ in range(repeats):
        editor.apply_button.click()
        deadline = time.monotonic() + 30
        while "endless" not in editor.status.value:  # the SF is being evaluated
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Apply did not start: {editor.status.value}")
            time.sleep(0.01)
        time.sleep(0.2)
        t0 = time.perf_counter()
        editor.cancel_button.click()
        editor.wait(10)
        times.append(time.perf_counter() - t0)
        assert not editor.busy and ss.names == ["kept"], (editor.busy, ss.names)
        assert editor.last_result.interrupted, editor.last_result
    editor.close()
    return times


def bench_first_render(n_rows: int) -> None:
    """Open a studio on ``n_rows`` rows with the tutorial's row-wise SFs, with progress."""
    import tqdm.auto
    from bench_slicing import make_data, tutorial_sfs

    from slicewidgets.widgets import SliceStudio

    t0 = time.perf_counter()
    df = make_data(n_rows, 7)
    golds = df.label.to_numpy()
    preds = np.where(np.random.default_rng(7).random(len(df)) < 0.85, golds, 1 - golds)
    print(f"\nopening a studio on {len(df):,} rows (data built in "
          f"{time.perf_counter() - t0:.0f} s), 4 row-wise SFs of the tutorial:")
    updates: list[float] = []
    real = tqdm.auto.tqdm

    shown: list[float] = []

    class Recording(real):  # type: ignore[misc, valid-type]
        def __init__(self, *a, **k):
            shown.append(time.perf_counter())
            super().__init__(*a, **k)

        def update(self, n=1):
            updates.append(time.perf_counter())
            return super().update(n)

    tqdm.auto.tqdm = Recording
    try:
        with Clock() as clock:
            start = time.perf_counter()
            studio = SliceStudio(df, golds, preds, sfs=tutorial_sfs("slicewidgets", False),
                                 path=None, namespace={}, progress_bar=True)
    finally:
        tqdm.auto.tqdm = real
    assert studio.table.frame.shape[0] > 0 and updates
    first = updates[0] - start
    gaps = np.diff([start, *updates])
    print(f"  progress bar shown after {shown[0] - start:.2f} s, first update after "
          f"{first:.2f} s; {len(updates)} updates, at most "
          f"{gaps.max():.2f} s apart; studio ready in {clock.wall:.1f} s wall "
          f"({clock.cpu:.1f} s CPU)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--edits", type=int, default=25)
    parser.add_argument("--toggles", type=int, default=30)
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--cancels", type=int, default=5)
    parser.add_argument("--baseline-edits", type=int, default=5)
    parser.add_argument("--open-rows", type=int, default=2_000_000)
    parser.add_argument("--skip-2m", action="store_true", help="leave out the opening at 2M")
    parser.add_argument("--no-chart", action="store_true", help="score table without chart")
    args = parser.parse_args(argv)

    from slicewidgets.slicing import keyword_sf
    from slicewidgets.widgets import SliceStudio

    load0 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    t0 = time.perf_counter()
    df, lists, vocab, golds, preds = make_inputs(args.rows)
    print(f"data: {len(df):,} rows, 50 SFs (40 keyword, 10 regex); built in "
          f"{time.perf_counter() - t0:.1f} s")

    with tempfile.TemporaryDirectory() as tmp:
        studio = SliceStudio(df, golds, preds, path=Path(tmp) / "bench.sfs.py", namespace={},
                             metrics=("accuracy", "f1"))
        studio.table.chart_toggle.value = not args.no_chart
        ss, editor, table = studio.slice_set, studio.editor, studio.table
        toggles, preview = studio.toggles, studio.preview
        assert editor is not None
        editor.code.value = editor_code(lists)
        t0 = time.perf_counter()
        editor.apply_button.click()
        first = time.perf_counter() - t0
        assert editor.last_result.ok and len(ss) == 50, editor.error.value
        preview.slice_select.value = "kw7"  # the preview shows the slice being edited
        print(f"first Apply (50 new SFs, one refresh): {first * 1000:.0f} ms")

        # warm-up (first report imports scipy etc.)
        for i in range(2):
            editor.code.value = editor_code(lists, [f"warm{i}", "warmup"])
            editor.apply_button.click()

        # 1. the editor path: Apply after editing one SF in the code
        times, cpu, parts = [], [], []
        computed, refreshes = ss.n_computed, table.refresh_count
        for i in range(args.edits):
            kws = [vocab[i % len(vocab)], vocab[(3 * i + 1) % len(vocab)]]
            editor.code.value = editor_code(lists, kws)
            with Clock() as clock:
                editor.apply_button.click()
            times.append(clock.wall)
            cpu.append(clock.cpu)
            parts.append(table.last_refresh_s)
            assert editor.last_result.changed == ["kw7"], editor.last_result
        assert ss.n_computed - computed == args.edits
        assert table.refresh_count - refreshes == args.edits
        assert toggles.coverage["kw7"].value.startswith(f"{ss.sizes()['kw7']:,} row")
        print(f"\n1. edit one SF of 50 in the editor + Apply ({args.edits} edits, each a new "
              "mask):")
        print(f"  whole click        {summary(times, cpu)}")
        print(f"  of which the table {summary(parts)}  (report + HTML + chart)")
        apply_median, apply_cpu = statistics.median(times), statistics.median(cpu)

        # an undo: back to an earlier version (cached mask)
        undo = []
        for i in range(min(10, args.edits)):
            kws = [vocab[i % len(vocab)], vocab[(3 * i + 1) % len(vocab)]]
            editor.code.value = editor_code(lists, kws)
            t0 = time.perf_counter()
            editor.apply_button.click()
            undo.append(time.perf_counter() - t0)
        print(f"  undo (cached mask) {summary(undo)}")

        # 2. toggles: a checkbox off, then on again
        toggle, toggle_cpu = [], []
        box = toggles.checkboxes["kw3"]
        refreshes = table.refresh_count
        for _ in range(args.toggles):
            with Clock() as clock:
                box.value = not box.value
            toggle.append(clock.wall)
            toggle_cpu.append(clock.cpu)
        assert table.refresh_count - refreshes == args.toggles
        assert ss.is_enabled("kw3") == (args.toggles % 2 == 0)
        print(f"\n2. toggle one slice off/on: {summary(toggle, toggle_cpu)}")

        # 3. preview pages
        preview.slice_select.value = max(ss.names, key=lambda n: ss.sizes()[n])
        pages = []
        for i in range(args.pages):
            button = preview.next_button if i % 10 < 5 else preview.prev_button
            page = preview.page.value
            with Clock() as clock:
                button.click()
            pages.append(clock.wall)
            assert preview.page.value != page
        print(f"3. preview: next/previous page: {summary(pages)}")

    # 4. cancel an endless SF
    cancels = bench_cancel(df, args.cancels)
    print(f"4. cancel an endless row-wise SF ({args.cancels}x): {summary(cancels)}; the "
          "SliceSet unchanged each time")

    # the core path: slice_set.update + the listeners' refresh
    core, core_cpu = [], []
    for i in range(args.edits):
        kws = [vocab[(i + 7) % len(vocab)], vocab[(5 * i + 2) % len(vocab)]]
        with Clock() as clock:
            ss.update(keyword_sf(kws, name="kw7"))  # table, toggles, preview refresh on it
        core.append(clock.wall)
        core_cpu.append(clock.cpu)
    print(f"\nslice_set.update(sf) + live refresh: {summary(core, core_cpu)}")

    # baseline: recompute every mask and the report on each edit
    from slicewidgets.analysis import Scorer
    from slicewidgets.slicing.apply import compute_masks

    scorer = Scorer(["accuracy", "f1"])
    sfs = ss.sfs
    base, base_cpu = [], []
    for i in range(args.baseline_edits):
        sfs[7] = keyword_sf([vocab[i], vocab[(7 * i + 3) % len(vocab)]], name="kw7")
        with Clock() as clock:
            m = compute_masks(df, sfs)
            scorer.slice_report(m, golds, preds, random_state=0)
        base.append(clock.wall)
        base_cpu.append(clock.cpu)
    print(f"baseline, all 50 masks + report:    {summary(base, base_cpu)}")

    def verdict(value: float, target: float = TARGET_S) -> str:
        return "PASS" if value <= target else "FAIL"

    toggle_median = statistics.median(toggle)
    print(f"\nmedian Apply: {apply_median * 1000:.1f} ms wall ({verdict(apply_median)}), "
          f"{apply_cpu * 1000:.1f} ms CPU ({verdict(apply_cpu)}); median toggle "
          f"{toggle_median * 1000:.1f} ms ({verdict(toggle_median)}) vs the "
          f"{TARGET_S * 1000:.0f} ms target; worst cancel {max(cancels):.2f} s "
          f"({verdict(max(cancels), 1.0)} vs 1 s); Apply "
          f"{statistics.median(base) / apply_median:.1f}x faster than recomputing everything")

    if not args.skip_2m:
        bench_first_render(args.open_rows)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"(load average {load0:.1f} at the start, {load:.1f} at the end, on "
          f"{os.cpu_count()} CPUs: on a busy machine the wall time exceeds the CPU time)")


if __name__ == "__main__":
    main()
