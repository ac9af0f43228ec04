"""plot_slice_report and plot_slice_overlap: what they draw, on the Axes they are given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from slicewidgets.analysis import (  # noqa: E402
    Scorer,
    compare_models,
    plot_slice_overlap,
    plot_slice_report,
    slice_overlap,
)
from slicewidgets.analysis.plot import FLAG_COLORS  # noqa: E402


@pytest.fixture()
def data():
    rng = np.random.default_rng(0)
    n = 600
    golds = rng.integers(0, 2, n)
    bad = np.arange(n) < 150
    preds = np.where(rng.random(n) < np.where(bad, 0.4, 0.08), 1 - golds, golds)
    S = {"bad": bad, "mid": (np.arange(n) >= 200) & (np.arange(n) < 400),
         "tiny": np.arange(n) < 4, "empty": np.zeros(n, dtype=bool)}
    return S, golds, preds


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_plot_slice_report_draws_on_the_given_axes(data):
    S, golds, preds = data
    report = Scorer(["accuracy", "f1"]).slice_report(S, golds, preds)
    fig, ax = plt.subplots()
    out = plot_slice_report(report, ax=ax)
    assert out is ax
    labels = [t.get_text() for t in ax.get_yticklabels()]
    # sorted by gap, the largest drop at the top; undefined last; sizes in the labels
    frame = report.to_frame(include_overall=False, metric="accuracy")
    order = frame.sort_values("gap", na_position="last", kind="stable")
    expected = [f"{s} (n={n:,})" + ("" if np.isfinite(v) else ": undefined")
                for s, n, v in zip(order["slice"], order["n"], order["score"], strict=True)]
    ticks = ax.get_yticks()
    assert [lab for _, lab in sorted(zip(-ticks, labels, strict=True))] == expected
    assert expected[-1] == "empty (n=0): undefined"
    # the overall score as a dashed line
    overall = report.overall["accuracy"]
    lines = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert len(lines) == 1 and lines[0].get_xdata()[0] == pytest.approx(overall)
    assert ax.get_xlabel() == "accuracy (95% interval)"
    # one dot per defined score, coloured by flag
    dots = ax.collections[-1]
    defined = order[order["score"].notna()]
    np.testing.assert_allclose(dots.get_offsets()[:, 0], defined["score"])
    colours = [to_hex(c) for c in dots.get_facecolors()]
    assert colours == [FLAG_COLORS[f] for f in defined["flag"]]
    assert FLAG_COLORS["worse"] in colours and FLAG_COLORS["no-evidence"] in colours


def test_plot_slice_report_error_bars_and_metric_choice(data):
    S, golds, preds = data
    report = Scorer(["accuracy", "f1"]).slice_report(S, golds, preds)
    ax = plot_slice_report(report, metric="f1", sort=False)
    frame = report.to_frame(include_overall=False, metric="f1")
    frame = frame[frame["score"].notna()]
    segments = [seg for coll in ax.collections for seg in getattr(coll, "get_segments",
                                                                  lambda: [])()]
    ends = sorted((round(s[0][0], 9), round(s[1][0], 9)) for s in segments if s[0][1] == s[1][1])
    assert ends == sorted((round(lo, 9), round(hi, 9))
                          for lo, hi in zip(frame["ci_low"], frame["ci_high"], strict=True))
    assert [t.get_text() for t in ax.get_yticklabels()][0].startswith("bad")
    assert ax.get_xlabel() == "f1 (95% interval)"
    with pytest.raises(ValueError, match=r"Unknown metric 'auc'"):
        plot_slice_report(report, metric="auc")
    with pytest.raises(TypeError, match=r"plot_slice_report needs a SliceReport"):
        plot_slice_report(report.to_frame())


def test_plot_model_comparison(data):
    S, golds, preds = data
    better = golds.copy()
    cmp = compare_models(S, golds, preds, better, names=("old", "new"))
    ax = plot_slice_report(cmp)
    xs = sorted(ln.get_xdata()[0] for ln in ax.get_lines())
    assert 0.0 in xs and pytest.approx(cmp.overall["accuracy"]) in xs
    assert ax.get_xlabel() == "accuracy: new - old (95% interval)"


def test_plot_slice_overlap(data):
    S = data[0]
    fig, ax = plt.subplots()
    out = plot_slice_overlap(S, ax=ax)
    assert out is ax
    ov = slice_overlap(S)
    np.testing.assert_allclose(np.asarray(ax.images[0].get_array()),
                               ov.jaccard.to_numpy(), equal_nan=True)
    assert [t.get_text() for t in ax.get_xticklabels()] == ov.names
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "bad (n=150)"
    annotations = [t.get_text() for t in ax.texts]
    assert len(annotations) == 16 and "1.00" in annotations and "–" in annotations
    ax2 = plot_slice_overlap(ov, kind="count")
    np.testing.assert_array_equal(np.asarray(ax2.images[0].get_array()), ov.counts.to_numpy())
    assert ax2.get_title() == "Slice overlap (count)"
    with pytest.raises(ValueError, match=r"kind must be one of"):
        plot_slice_overlap(ov, kind="nope")
