"""Analysis: score a model overall and on every slice, with the evidence behind each number.

:class:`Scorer` reproduces Snorkel's ``Scorer`` (``score``, ``score_slices``) and computes
per-slice scores for all slices at once. Per-slice statistics (sizes, confidence intervals,
gaps to the overall score, tests and flags), model comparisons, slice overlaps and plots build
on it.
"""

from typing import TYPE_CHECKING

from slicewidgets._lazy import lazy_attributes
from slicewidgets.analysis._fast import (
    BINARY_COUNT_METRICS,
    COUNT_METRICS,
    metric_from_counts,
    slice_counts,
)
from slicewidgets.analysis.error_analysis import get_label_buckets, get_label_instances
from slicewidgets.analysis.metrics import METRICS, Metric, metric_score
from slicewidgets.analysis.scorer import Scorer
from slicewidgets.membership import as_membership

if TYPE_CHECKING:  # the lazy names below, for type checkers and IDEs
    from slicewidgets.analysis.compare import (
        ModelComparison as ModelComparison,
    )
    from slicewidgets.analysis.compare import (
        compare_models as compare_models,
    )
    from slicewidgets.analysis.overlap import (
        SliceOverlap as SliceOverlap,
    )
    from slicewidgets.analysis.overlap import (
        slice_overlap as slice_overlap,
    )
    from slicewidgets.analysis.plot import (
        plot_slice_overlap as plot_slice_overlap,
    )
    from slicewidgets.analysis.plot import (
        plot_slice_report as plot_slice_report,
    )
    from slicewidgets.analysis.report import (
        SliceReport as SliceReport,
    )
    from slicewidgets.analysis.report import (
        slice_report as slice_report,
    )

_LAZY = {
    # statistics, comparisons, overlaps (scipy) and plots (matplotlib), imported on first use
    "SliceReport": "slicewidgets.analysis.report",
    "slice_report": "slicewidgets.analysis.report",
    "compare_models": "slicewidgets.analysis.compare",
    "ModelComparison": "slicewidgets.analysis.compare",
    "slice_overlap": "slicewidgets.analysis.overlap",
    "SliceOverlap": "slicewidgets.analysis.overlap",
    "plot_slice_report": "slicewidgets.analysis.plot",
    "plot_slice_overlap": "slicewidgets.analysis.plot",
}

__all__ = [
    "BINARY_COUNT_METRICS",
    "COUNT_METRICS",
    "METRICS",
    "Metric",
    "Scorer",
    "as_membership",
    "get_label_buckets",
    "get_label_instances",
    "metric_from_counts",
    "metric_score",
    "slice_counts",
    *_LAZY,
]

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
