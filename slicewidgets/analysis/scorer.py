"""The ``Scorer``: a model's metrics overall and on every slice, and its per-slice report.

The scoring itself is :class:`~slicewidgets.analysis.scoring.BaseScorer`'s; this class adds
:meth:`Scorer.slice_report`. Imports point one way: ``scorer -> report -> scoring`` (the
report builds on the scoring core, never on this module).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from numpy.typing import ArrayLike

from slicewidgets.analysis.scoring import PROBS_METRICS, BaseScorer
from slicewidgets.analysis.validation import RandomState
from slicewidgets.membership import MembershipLike

if TYPE_CHECKING:
    from slicewidgets.analysis.report import SliceReport

__all__ = ["PROBS_METRICS", "Scorer"]


class Scorer(BaseScorer):
    """Score predictions with several metrics, overall and per slice.

    Parameters
    ----------
    metrics
        Names from :data:`slicewidgets.analysis.METRICS`; none by default (as in Snorkel,
        ``Scorer()`` scores only ``custom_metric_funcs``).
    custom_metric_funcs
        ``{name: func(golds, preds, probs) -> float | dict}``; not abstain-filtered.
    abstain_label
        Rows whose gold or predicted label equals it are ignored (except by ``coverage``);
        ``None`` scores every row.

    Notes
    -----
    ``probs`` is checked (shape ``[n, n_classes]``, rows summing to 1) only when a built-in
    metric reads it; otherwise it is passed to custom metrics as given (Snorkel's tests pass
    1-D probabilities). See :meth:`score_slices` for the differences from Snorkel.

    Examples
    --------
    >>> import numpy as np
    >>> scorer = Scorer(metrics=["accuracy", "f1"])
    >>> scorer.score(np.array([1, 0, 1, 1]), np.array([1, 0, 0, 1]))
    {'accuracy': 0.75, 'f1': 0.8}
    >>> S = np.rec.fromarrays([np.array([1, 1, 0, 0])], names="first_two")
    >>> scorer.score_slices(S, np.array([1, 0, 1, 1]), np.array([1, 0, 0, 1]),
    ...                     as_dataframe=True)
               accuracy   f1
    overall        0.75  0.8
    first_two      1.00  1.0
    """

    def slice_report(
        self,
        S: MembershipLike,
        golds: ArrayLike,
        preds: ArrayLike | None = None,
        probs: ArrayLike | None = None,
        *,
        confidence: float = 0.95,
        n_boot: int = 1000,
        random_state: RandomState = None,
    ) -> SliceReport:
        """Per-slice scores with sizes, confidence intervals, gaps, tests and flags.

        See :func:`slicewidgets.analysis.report.slice_report`.
        """
        # imported when called, to keep scipy (the statistics) out of `import slicewidgets`;
        # not to break a cycle: report.py never imports this module
        from slicewidgets.analysis.report import slice_report

        return slice_report(self, S, golds, preds, probs, confidence=confidence,
                            n_boot=n_boot, random_state=random_state)
