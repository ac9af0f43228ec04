"""Per-slice statistics: every per-slice score with its size, interval, gap, test and flag.

:func:`slice_report` (also :meth:`Scorer.slice_report`) returns a :class:`SliceReport`: one
row per (slice, metric), plus rows for ``overall``. The HTML renderer (:func:`render_html`,
:data:`SLICE_REPORT_CSS`) is shared by :class:`~slicewidgets.analysis.compare.ModelComparison`
and by the live ScoreTable widget.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from slicewidgets.analysis import stats
from slicewidgets.analysis._column_counts import counts_of, lazy_slices
from slicewidgets.analysis._fast import (
    is_binary,
    overall_counts,
    row_indicators,
)
from slicewidgets.analysis.estimators import (
    COUNT_BOOTSTRAP_METRICS,
    MetricEstimate,
    concat_counts,
    count_bootstrap_estimates,
    roc_auc_estimate,
    row_bootstrap_estimates,
    wilson_estimate,
)
from slicewidgets.analysis.flags import FLAGS, decide_flag
from slicewidgets.analysis.metrics import METRICS
from slicewidgets.analysis.rendering import SLICE_REPORT_CSS, render_html
from slicewidgets.analysis.scoring import BaseScorer
from slicewidgets.analysis.table import ResultTable, stack_results, table_columns
from slicewidgets.analysis.validation import (
    RandomState,
    SliceSeeds,
    check_aligned,
    check_options,
)
from slicewidgets.membership import MembershipLike

__all__ = [
    "FLAGS",
    "REPORT_COLUMNS",
    "SLICE_REPORT_CSS",
    "SliceReport",
    "render_html",
    "slice_report",
]


#: The required columns of :meth:`SliceReport.to_frame`, in order (extra columns follow).
REPORT_COLUMNS = (
    "slice", "n", "metric", "score", "ci_low", "ci_high", "gap", "p_value", "q_value", "flag",
)
EXTRA_COLUMNS = ("reason", "n_scored", "rest_score", "ci_method", "test")


# -- the report --------------------------------------------------------------------------------
def slice_report(
    scorer: BaseScorer | None,
    S: MembershipLike,
    golds: ArrayLike,
    preds: ArrayLike | None = None,
    probs: ArrayLike | None = None,
    *,
    confidence: float = 0.95,
    n_boot: int = 1000,
    random_state: RandomState = None,
    alpha: float = 0.05,
    min_n: int = 10,
    max_width: float = 0.5,
) -> SliceReport:
    """Per-slice scores with sizes, confidence intervals, gaps, tests and flags.

    Parameters
    ----------
    scorer
        A :class:`~slicewidgets.analysis.Scorer` (its metrics, custom metrics and
        ``abstain_label``); ``None`` for ``Scorer(metrics=["accuracy"])``.
    S
        Slice membership: Snorkel's recarray, a ``SliceMembership``, a DataFrame of 0/1
        columns or a dict of masks.
    golds, preds, probs
        Labels, predictions and probabilities, as for :meth:`Scorer.score_slices`.
    confidence
        Nominal coverage of the intervals, in (0, 1).
    n_boot
        Bootstrap resamples (>= 1) for the metrics that are not proportions.
    random_state
        Seed or ``numpy.random.Generator`` for the bootstrap. ``None`` uses a fixed seed, so
        the same inputs always give the same report; pass a Generator for fresh draws.
    alpha
        False discovery rate at which slices are flagged ``worse``/``better``.
    min_n
        Slices with fewer scored rows are flagged ``no-evidence``; for precision the count is
        of positive predictions, for recall of positive golds, for F1 of rows with a positive
        gold or prediction (TP + FP + FN), for coverage of all rows.
    max_width
        Slices whose interval is wider than this are flagged ``no-evidence``.

    Returns
    -------
    SliceReport
        ``to_frame()`` has one row per (slice, metric), ``overall`` first, with columns
        ``slice, n, metric, score, ci_low, ci_high, gap, p_value, q_value, flag`` then
        ``reason, n_scored, rest_score, ci_method, test``.

    Notes
    -----
    **Scores** equal :meth:`Scorer.score_slices` except where a metric is undefined on a
    slice: scikit-learn then reports 0.0 (precision with no positive prediction, recall or F1
    with no positive gold, MCC with one class) or raises (ROC AUC with one class); here the
    score is NaN, flagged ``no-evidence``, and ``reason`` says why.

    **Intervals.** Proportions (accuracy, precision, recall, coverage) get the Wilson score
    interval of their ``successes / trials`` counts. F1 and MCC (binary labels) get a
    percentile bootstrap interval computed from confusion counts: resampling a slice's rows
    with replacement gives multinomial counts of (TP, FP, FN, TN, unscored), so the counts
    are resampled directly, for all slices and resamples at once (cost independent of the
    number of rows). ROC AUC and custom or other metrics get a row bootstrap per slice.
    Resamples on which the metric is undefined are dropped (``reason`` says how many), and a
    bootstrap interval is widened to contain its point score if needed, so every interval
    contains its score. ``ci_method`` names the method.

    **Gap and tests.** ``gap = score - overall``. ``p_value`` tests the slice against the
    rest of the data (the rows outside the slice), two-sided: for proportions, the pooled
    two-proportion z-test, or Fisher's exact test when an expected count is below 5
    (Cochran's rule); for F1, the same test on ``J = TP / (TP + FP + FN)``, since
    ``F1 = 2J / (1 + J)`` and, given ``TP + FP + FN``, TP is binomial in J (so F1 is equal
    on slice and rest exactly when J is); for MCC, a Wald z-test with delta-method variances
    of the slice's and the rest's confusion counts (each cell smoothed by +0.5, so that a
    slice without errors does not get a zero variance); for ROC AUC, a z-test with
    Hanley-McNeil variances at the overall AUC; for other metrics, a z-test with bootstrap
    variances.
    ``test`` names it and ``rest_score`` gives the score on the rest. ``q_value`` is the
    Benjamini-Hochberg adjustment of the p-values of all slices, per metric.

    **Flags**, by the first rule that applies:

    1. ``no-evidence`` if the score is undefined (NaN), if fewer than ``min_n`` rows are
       scored, if the interval is wider than ``max_width``, or if the slice cannot be
       tested against the rest (e.g. the metric is undefined there);
    2. ``worse`` / ``better`` if ``q_value < alpha``, by the sign of ``score - rest_score``;
    3. ``ok`` otherwise (including the ``overall`` rows and a slice holding every row).

    ``reason`` explains every flag.

    **Cost.** Label metrics are computed from counts (:func:`slice_counts`): on 100,000 rows
    and 50 slices a report of accuracy and F1 with ``n_boot=1000`` takes tens of
    milliseconds. ROC AUC costs O(n_boot x rows) per slice; custom metrics call the metric
    function ``n_boot`` times per slice and per rest: lower ``n_boot`` for those.

    Examples
    --------
    >>> from slicewidgets.analysis import Scorer
    >>> golds = np.array([1, 0, 1, 1, 0, 1, 0, 0] * 10)
    >>> preds = np.array([1, 0, 1, 0, 0, 1, 1, 0] * 10)
    >>> S = {"first_half": np.arange(80) < 40, "tiny": np.arange(80) < 3}
    >>> report = slice_report(Scorer(["accuracy", "f1"]), S, golds, preds)
    >>> report.to_frame()[["slice", "n", "metric", "score", "flag"]]
            slice   n    metric  score         flag
    0     overall  80  accuracy   0.75           ok
    1     overall  80        f1   0.75           ok
    2  first_half  40  accuracy   0.75           ok
    3  first_half  40        f1   0.75           ok
    4        tiny   3  accuracy   1.00  no-evidence
    5        tiny   3        f1   1.00  no-evidence
    """
    confidence, n_boot, alpha, min_n, max_width = check_options(
        confidence, n_boot, alpha, min_n, max_width)
    if scorer is None:
        scorer = BaseScorer(metrics=["accuracy"])
    seeds = SliceSeeds(random_state)  # per slice: other slices never move an interval
    check_aligned(S=S, golds=golds, preds=preds, probs=probs)
    names, matrix, n_rows = lazy_slices(S, golds)  # a SliceSet's: no matrix unless needed
    golds, preds, probs = scorer.check_inputs(golds, preds, probs, S_len=n_rows)
    abstain = scorer.abstain_label
    builtin = set(scorer.builtin_metrics)
    binary = preds is not None and is_binary(golds, preds, abstain)
    for metric in scorer.builtin_metrics:
        for needed in METRICS[metric].inputs:
            if {"golds": golds, "preds": preds, "probs": probs}[needed] is None:
                raise ValueError(f"Metric {metric} requires access to {needed}.")

    wilson = [m for m in scorer.metrics if m in builtin and preds is not None and
              (m in ("accuracy", "coverage") or (binary and m in ("precision", "recall")))]
    counted = [m for m in scorer.metrics if m in builtin and binary
               and m in COUNT_BOOTSTRAP_METRICS]
    results: dict[str, MetricEstimate] = {}
    if wilson or counted:
        assert preds is not None  # both need predictions
        V = row_indicators(golds, preds, abstain)  # once, for the overall row and the slices
        c = concat_counts(overall_counts(golds, preds, abstain, indicators=V),
                          counts_of(S, matrix, golds, preds, abstain, indicators=V))
        for metric in wilson:
            results[metric] = wilson_estimate(metric, c, confidence)
        if counted:
            results.update(count_bootstrap_estimates(counted, c, confidence, n_boot, seeds))
    ordered: dict[str, MetricEstimate] = {}
    for name, func in scorer.metrics.items():
        if name in results:
            ordered[name] = results[name]
            continue
        if name == "roc_auc" and name in builtin:
            res = roc_auc_estimate(golds=golds, preds=preds, probs=probs, membership=matrix(),
                                   abstain_label=abstain, confidence=confidence,
                                   n_boot=n_boot, seeds=seeds)
            if res is not None:
                ordered[name] = res
                continue
        ordered.update(row_bootstrap_estimates(
            name, func, builtin=name in builtin, golds=golds, preds=preds, probs=probs,
            membership=matrix(), abstain_label=abstain, confidence=confidence, n_boot=n_boot, seeds=seeds))
    if wilson or counted:
        sizes = c["size"].astype(np.int64)
    else:
        sizes = np.concatenate([[len(golds)], np.count_nonzero(matrix(), axis=0)]
                               ).astype(np.int64)
    columns = _assemble(["overall", *names], sizes, ordered, alpha=alpha, min_n=min_n,
                        max_width=max_width, confidence=confidence)
    return SliceReport(columns, confidence=confidence, n_boot=n_boot, alpha=alpha, min_n=min_n,
                       max_width=max_width, random_state=random_state)


def _assemble(labels: list[str], sizes: np.ndarray, results: Mapping[str, MetricEstimate], *,
              alpha: float, min_n: int, max_width: float, confidence: float
              ) -> dict[str, np.ndarray]:
    k1 = len(labels)
    metrics = list(results)
    n_m = len(metrics)
    # rows: slice-major (overall first), metrics in order within a slice
    keys = ("score", "low", "high", "p", "rest", "n_scored")
    stack = dict(zip(keys, stack_results(results, keys), strict=True))
    q = np.full((k1, n_m), np.nan)
    for i, m in enumerate(metrics):
        q[1:, i] = stats.benjamini_hochberg(results[m].p[1:])
    q_flat = q.reshape(-1)
    overall = np.array([results[m].score[0] for m in metrics], dtype=float)
    gap = stack["score"] - np.tile(overall, k1)
    score_l, low_l, high_l, p_l, rest_l = (stack[key].tolist()
                                           for key in ("score", "low", "high", "p", "rest"))
    n_l, q_l = stack["n_scored"].astype(np.int64).tolist(), q_flat.tolist()

    def row_flag(j: int, r: int, res: MetricEstimate) -> tuple[str, str, str]:
        flag, reason = decide_flag(
            score=score_l[r], low=low_l[r], high=high_l[r], n_scored=n_l[r], unit=res.unit,
            q=q_l[r], p=p_l[r], diff=score_l[r] - rest_l[r], is_reference=j == 0,
            undefined=res.undefined[j], untested=res.untested[j], alpha=alpha,
            min_n=min_n, max_width=max_width, confidence=confidence, test=str(res.test[j]),
        )
        return flag, reason, str(res.test[j]) if j > 0 else ""

    return table_columns(
        (*REPORT_COLUMNS, *EXTRA_COLUMNS), labels, sizes, results, row_flag,
        score=stack["score"], ci_low=stack["low"], ci_high=stack["high"], gap=gap,
        p_value=stack["p"], q_value=q_flat, n_scored=stack["n_scored"].astype(np.int64),
        rest_score=stack["rest"],
    )



class SliceReport(ResultTable):
    """Per-slice scores with sizes, intervals, gaps, tests and flags (see :func:`slice_report`).

    Immutable: computed once; :meth:`to_frame`, :meth:`sorted` and :meth:`worst` return new
    objects. Renders as an HTML table in notebooks (flags coloured: ``worse`` red, ``better``
    green, ``no-evidence`` grey, ``ok`` blue; the reason as a tooltip and a column, an
    interval bar with the overall score as a red tick) and as text elsewhere; both are sorted
    by gap (largest drop first).

    Examples
    --------
    >>> from slicewidgets.analysis import Scorer
    >>> golds = np.array([1, 0] * 50); preds = np.where(np.arange(100) < 30, 1 - golds, golds)
    >>> report = Scorer(["accuracy"]).slice_report({"head": np.arange(100) < 30}, golds, preds)
    >>> report.overall
    {'accuracy': 0.7}
    >>> report.worst(1).to_frame(include_overall=False)[["slice", "score", "flag"]]
      slice  score   flag
    0  head    0.0  worse
    """

    _public = (*REPORT_COLUMNS, *EXTRA_COLUMNS)

    @property
    def overall(self) -> dict[str, float]:
        """``{metric: overall score}``."""
        return self._by_metric("score")

    def _reference(self) -> dict[str, float]:
        return self.overall

    def to_frame(self, *, include_overall: bool = True, metric: str | None = None) -> pd.DataFrame:
        """The rows as a new DataFrame.

        Columns ``slice, n, metric, score, ci_low, ci_high, gap, p_value, q_value, flag``
        then ``reason, n_scored, rest_score, ci_method, test``; ``overall`` rows first unless
        ``include_overall=False``; ``metric`` keeps only that metric's rows.
        """
        return super().to_frame(include_overall=include_overall, metric=metric)

    def sort_by_gap(self, *, ascending: bool = True) -> SliceReport:
        """``sorted("gap")``: the largest drops first (overall rows stay first)."""
        return self.sorted("gap", ascending=ascending)

    def worst(self, k: int = 5, *, metric: str | None = None,
              skip_no_evidence: bool = False) -> SliceReport:
        """The ``k`` slices with the most negative gap for ``metric`` (default: the first).

        The result keeps that metric's ``overall`` row first (drop it with
        ``to_frame(include_overall=False)``); slices with an undefined score are left out,
        and so are slices flagged ``no-evidence`` when ``skip_no_evidence=True``.
        """
        return self._worst(k, metric, skip_no_evidence)

    def flagged(self, *flags: str) -> SliceReport:
        """Only the slice rows with these flags (default ``worse`` and ``better``), plus overall."""
        flags = flags or ("worse", "better")
        unknown = set(flags) - set(FLAGS)
        if unknown:
            raise ValueError(f"Unknown flags {sorted(unknown)}; choose from {list(FLAGS)}.")
        keep = self._cols["_ref"] | np.isin(self._cols["flag"].astype(str), list(flags))
        return self._take(np.flatnonzero(keep))

    def _caption(self) -> str:
        n_slices = len(self.slices)
        return (f"SliceReport: {', '.join(self.metrics)} on {n_slices} slice"
                f"{'s' if n_slices != 1 else ''}; {self.confidence:.0%} intervals; flags at "
                f"q < {self.alpha:g} (Benjamini-Hochberg), no-evidence below "
                f"{self.min_n} scored rows or above interval width {self.max_width:g}")
