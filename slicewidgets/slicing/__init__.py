"""Slicing: define slices of the data with slicing functions (SFs) and find their rows.

A slicing function marks the data points of one *slice*, a subset of the data where a model
must do well (short comments, shortened links, ...). Apply SFs to a DataFrame with
:class:`PandasSFApplier` to get Snorkel's ``S`` recarray (one 0/1 field per slice), look at a
slice with :func:`slice_dataframe`, score a model per slice with
:meth:`slicewidgets.analysis.Scorer.score_slices`, keep masks up to date while SFs are edited
with :class:`SliceSet`, and train a :class:`SliceAwareClassifier` that improves on slices.

The names mirror ``snorkel.slicing``: Snorkel code runs with its import lines changed.
"""

from typing import TYPE_CHECKING

from slicewidgets._lazy import lazy_attributes
from slicewidgets.slicing.apply import (
    ApplierMetadata,
    PandasSFApplier,
    SFApplier,
    SliceMembership,
)
from slicewidgets.slicing.incremental import SliceSet
from slicewidgets.slicing.monitor import slice_dataframe
from slicewidgets.slicing.sf import (
    CombinedSlicingFunction,
    KeywordSlicingFunction,
    RegexSlicingFunction,
    SFApplyError,
    SlicingFunction,
    keyword_sf,
    regex_sf,
    slicing_function,
)

if TYPE_CHECKING:  # the lazy names below, for type checkers and IDEs
    from slicewidgets.slicing.dask import (
        DaskSFApplier as DaskSFApplier,
    )
    from slicewidgets.slicing.dask import (
        PandasParallelSFApplier as PandasParallelSFApplier,
    )
    from slicewidgets.slicing.dask import (
        slice_dataframe_dask as slice_dataframe_dask,
    )
    from slicewidgets.slicing.sliceaware import (
        PlainClassifier as PlainClassifier,
    )
    from slicewidgets.slicing.sliceaware import (
        SliceAwareClassifier as SliceAwareClassifier,
    )
    from slicewidgets.slicing.sliceaware import (
        SliceCombinerModule as SliceCombinerModule,
    )
    from slicewidgets.slicing.sliceaware import (
        add_slice_labels as add_slice_labels,
    )
    from slicewidgets.slicing.sliceaware import (
        convert_to_slice_tasks as convert_to_slice_tasks,
    )
    from slicewidgets.slicing.sliceaware import (
        make_oversampling_dataloader as make_oversampling_dataloader,
    )
    from slicewidgets.slicing.sliceaware import (
        slice_label_names as slice_label_names,
    )
    from slicewidgets.slicing.spark import (
        SparkSFApplier as SparkSFApplier,
    )
    from slicewidgets.slicing.spark import (
        slice_dataframe_spark as slice_dataframe_spark,
    )

_LAZY = {
    # torch-based names, imported on first use so that `import slicewidgets.slicing` stays light
    "SliceAwareClassifier": "slicewidgets.slicing.sliceaware",
    "SliceCombinerModule": "slicewidgets.slicing.sliceaware",
    "add_slice_labels": "slicewidgets.slicing.sliceaware",
    "convert_to_slice_tasks": "slicewidgets.slicing.sliceaware",
    "PlainClassifier": "slicewidgets.slicing.sliceaware",
    "make_oversampling_dataloader": "slicewidgets.slicing.sliceaware",
    "slice_label_names": "slicewidgets.slicing.sliceaware",
    # optional engines
    "DaskSFApplier": "slicewidgets.slicing.dask",
    "PandasParallelSFApplier": "slicewidgets.slicing.dask",
    "SparkSFApplier": "slicewidgets.slicing.spark",
    "slice_dataframe_dask": "slicewidgets.slicing.dask",
    "slice_dataframe_spark": "slicewidgets.slicing.spark",
}

__all__ = [
    "ApplierMetadata",
    "CombinedSlicingFunction",
    "KeywordSlicingFunction",
    "PandasSFApplier",
    "RegexSlicingFunction",
    "SFApplier",
    "SFApplyError",
    "SliceMembership",
    "SliceSet",
    "SlicingFunction",
    "keyword_sf",
    "regex_sf",
    "slice_dataframe",
    "slicing_function",
    *_LAZY,
]

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
