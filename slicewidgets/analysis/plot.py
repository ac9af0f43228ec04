"""Plots of per-slice reports and slice overlaps (matplotlib, imported when called).

Both functions draw on the ``Axes`` they are given (or a new one) and return it, so they
compose with other plots: ``fig, (ax1, ax2) = plt.subplots(1, 2); plot_slice_report(r,
ax=ax1); plot_slice_overlap(S, ax=ax2)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from slicewidgets.analysis.rendering import FLAG_COLORS  # marker colours = the tables' hues
from slicewidgets.membership import MembershipLike

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from slicewidgets.analysis.compare import ModelComparison
    from slicewidgets.analysis.overlap import SliceOverlap
    from slicewidgets.analysis.report import SliceReport

__all__ = ["FLAG_COLORS", "plot_slice_overlap", "plot_slice_report"]


def _axes(ax: Axes | None, height: float) -> Axes:
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, height))
    return ax


def plot_slice_report(report: SliceReport | ModelComparison, metric: str | None = None,
                      ax: Axes | None = None, sort: bool = True) -> Axes:
    """Per-slice scores with their intervals, sizes and flags.

    One row per slice: the score (a dot coloured by flag), its interval (error bar), and the
    slice size in the label; a dashed line marks the overall score, with its interval shaded.
    Slices with an undefined score are listed with "undefined". For a
    :class:`~slicewidgets.analysis.compare.ModelComparison` the deltas are drawn around zero.

    Parameters
    ----------
    report
        A :class:`~slicewidgets.analysis.report.SliceReport` or a ``ModelComparison``.
    metric
        Which metric (default: the report's first).
    ax
        Draw here (default: a new figure).
    sort
        Sort slices by gap (delta), the largest drop at the top.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from slicewidgets.analysis import Scorer
    >>> golds = np.array([1, 0] * 50); preds = golds.copy(); preds[:20] = 1 - preds[:20]
    >>> report = Scorer(["accuracy"]).slice_report({"head": np.arange(100) < 30}, golds, preds)
    >>> ax = plot_slice_report(report)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['head (n=30)']
    """
    from slicewidgets.analysis.compare import ModelComparison
    from slicewidgets.analysis.report import SliceReport

    if not isinstance(report, (SliceReport, ModelComparison)):
        raise TypeError(
            "plot_slice_report needs a SliceReport (from Scorer.slice_report) or a "
            f"ModelComparison (from compare_models), got {type(report).__name__}."
        )
    is_cmp = isinstance(report, ModelComparison)
    value = "delta" if is_cmp else "score"
    if metric is None:
        if not report.metrics:
            raise ValueError(f"This {type(report).__name__} has no metric to plot.")
        metric = report.metrics[0]
    frame = report.to_frame(metric=metric)  # raises for an unknown metric
    rows = report.to_frame(include_overall=False, metric=metric)
    overall = frame.iloc[: len(frame) - len(rows)]  # to_frame puts the overall rows first
    if sort:
        rows = rows.sort_values("delta" if is_cmp else "gap", ascending=True,
                                na_position="last", kind="stable")
    ax = _axes(ax, max(2.0, 0.35 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]  # first row at the top
    scores = rows[value].to_numpy(dtype=float)
    low = rows["ci_low"].to_numpy(dtype=float)
    high = rows["ci_high"].to_numpy(dtype=float)
    colors = [FLAG_COLORS.get(f, "#333333") for f in rows["flag"]]
    ok = ~np.isnan(scores)
    if ok.any():
        err = np.vstack([scores - low, high - scores])[:, ok]
        err = np.where(np.isnan(err), 0.0, err)
        ax.errorbar(scores[ok], y[ok], xerr=err, fmt="none", ecolor="#777777", elinewidth=1.2,
                    capsize=3, zorder=1)
        ax.scatter(scores[ok], y[ok], c=[c for c, o in zip(colors, ok, strict=True) if o],
                   s=36, zorder=2)
    if is_cmp:
        ax.axvline(0.0, color="#333333", linewidth=1, zorder=0)
        ref = float(overall[value].iloc[0]) if len(overall) else np.nan
        if np.isfinite(ref):
            ax.axvline(ref, color="#c77777", linestyle="--", linewidth=1, zorder=0,
                       label=f"overall delta {ref:+.3f}")
    elif len(overall):
        ref = float(overall["score"].iloc[0])
        lo, hi = float(overall["ci_low"].iloc[0]), float(overall["ci_high"].iloc[0])
        if np.isfinite(lo) and np.isfinite(hi):
            ax.axvspan(lo, hi, color="#c77777", alpha=0.12, zorder=0)
        if np.isfinite(ref):
            ax.axvline(ref, color="#c77777", linestyle="--", linewidth=1, zorder=0,
                       label=f"overall {ref:.3f}")
    labels = [f"{name} (n={n:,})" + ("" if o else ": undefined")
              for name, n, o in zip(rows["slice"], rows["n"], ok, strict=True)]
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    for tick, color in zip(ax.get_yticklabels(), colors, strict=True):
        tick.set_color(color if color != FLAG_COLORS["ok"] else "#222222")
    if len(rows):
        ax.set_ylim(-0.7, len(rows) - 0.3)
    if isinstance(report, ModelComparison):
        a, b = report.names
        ax.set_xlabel(f"{metric}: {b} - {a} ({report.confidence:.0%} interval)")
    else:
        ax.set_xlabel(f"{metric} ({report.confidence:.0%} interval)")
    from matplotlib.lines import Line2D

    present = set(rows["flag"])
    handles = [Line2D([], [], marker="o", linestyle="", color=c, label=f)
               for f, c in FLAG_COLORS.items() if f in present]
    handles += [line for line in ax.get_lines() if not str(line.get_label()).startswith("_")]
    if handles:
        ax.legend(handles=handles, loc="best", fontsize="small", frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return ax


def plot_slice_overlap(S_or_overlap: SliceOverlap | MembershipLike, ax: Axes | None = None,
                       kind: Literal["jaccard", "count", "containment"] = "jaccard") -> Axes:
    """Heatmap of pairwise slice overlap.

    Parameters
    ----------
    S_or_overlap
        A :class:`~slicewidgets.analysis.overlap.SliceOverlap` or anything
        :func:`~slicewidgets.analysis.overlap.slice_overlap` accepts.
    ax
        Draw here (default: a new figure).
    kind
        ``"jaccard"`` (default), ``"count"`` (rows in both) or ``"containment"`` (row
        ``a``, column ``b``: share of ``a`` also in ``b``).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_slice_overlap({"a": np.array([1, 1, 0]), "b": np.array([0, 1, 1])})
    >>> ax.images[0].get_array().tolist()
    [[1.0, 0.3333333333333333], [0.3333333333333333, 1.0]]
    """
    from slicewidgets.analysis.overlap import SliceOverlap, slice_overlap

    overlap = S_or_overlap if isinstance(S_or_overlap, SliceOverlap) else slice_overlap(
        S_or_overlap)
    values = overlap.matrix(kind).to_numpy(dtype=float)
    names = overlap.names
    size = max(3.0, 0.45 * len(names) + 2.0)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(size + 1.0, size))
    vmax = 1.0 if kind != "count" else (np.nanmax(values) if values.size else 1.0)
    image = ax.imshow(values, cmap="Blues", vmin=0.0, vmax=vmax or 1.0)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label=kind)
    ax.set_xticks(range(len(names)))
    ax.set_yticks(range(len(names)))
    ax.set_xticklabels(names, rotation=45, ha="right")
    sizes = overlap.sizes.to_numpy()
    ax.set_yticklabels([f"{name} (n={n:,})" for name, n in zip(names, sizes, strict=True)])
    if len(names) <= 20:
        for i in range(len(names)):
            for j in range(len(names)):
                v = values[i, j]
                text = "–" if np.isnan(v) else (f"{int(v):,}" if kind == "count" else f"{v:.2f}")
                shade = 0.0 if np.isnan(v) or not vmax else v / vmax
                ax.text(j, i, text, ha="center", va="center", fontsize="small",
                        color="white" if shade > 0.6 else "black")
    ax.set_title(f"Slice overlap ({kind})")
    return ax
