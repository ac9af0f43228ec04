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
    from slicewidgets.classification.oversampling import (
        make_oversampling_dataloader as make_oversampling_dataloader,
    )
    from slicewidgets.classification.slice_combiner import (
        SliceCombinerModule as SliceCombinerModule,
    )
    from slicewidgets.classification.slice_tasks import (
        add_slice_labels as add_slice_labels,
    )
    from slicewidgets.classification.slice_tasks import (
        convert_to_slice_tasks as convert_to_slice_tasks,
    )
    from slicewidgets.classification.slice_tasks import (
        slice_label_names as slice_label_names,
    )
    from slicewidgets.classification.sliceaware import (
        PlainClassifier as PlainClassifier,
    )
    from slicewidgets.classification.sliceaware import (
        SliceAwareClassifier as SliceAwareClassifier,
    )
    from slicewidgets.slicing.dask import (
        DaskSFApplier as DaskSFApplier,
    )
    from slicewidgets.slicing.dask import (
        PandasParallelSFApplier as PandasParallelSFApplier,
    )
    from slicewidgets.slicing.dask import (
        slice_dataframe_dask as slice_dataframe_dask,
    )
    from slicewidgets.slicing.sf.nlp import (
        NLPSlicingFunction as NLPSlicingFunction,
    )
    from slicewidgets.slicing.sf.nlp import (
        nlp_slicing_function as nlp_slicing_function,
    )
    from slicewidgets.slicing.spark import (
        SparkSFApplier as SparkSFApplier,
    )
    from slicewidgets.slicing.spark import (
        slice_dataframe_spark as slice_dataframe_spark,
    )

_LAZY = {
    # torch-based names (they live in slicewidgets.classification), imported on first use so
    # that `import slicewidgets.slicing` stays free of torch
    "SliceAwareClassifier": "slicewidgets.classification.sliceaware",
    "SliceCombinerModule": "slicewidgets.classification.slice_combiner",
    "add_slice_labels": "slicewidgets.classification.slice_tasks",
    "convert_to_slice_tasks": "slicewidgets.classification.slice_tasks",
    "PlainClassifier": "slicewidgets.classification.sliceaware",
    "make_oversampling_dataloader": "slicewidgets.classification.oversampling",
    "slice_label_names": "slicewidgets.classification.slice_tasks",
    # spaCy-based slicing functions (the [nlp] extra)
    "NLPSlicingFunction": "slicewidgets.slicing.sf.nlp",
    "nlp_slicing_function": "slicewidgets.slicing.sf.nlp",
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
