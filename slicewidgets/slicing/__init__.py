"""Slicing: define slices of the data with slicing functions (SFs) and find their rows.

A slicing function marks the data points of one *slice*, a subset of the data where a model
must do well (short comments, shortened links, ...). Apply SFs to a DataFrame with
:class:`PandasSFApplier` to get Snorkel's ``S`` recarray (one 0/1 field per slice), look at a
slice with :func:`slice_dataframe`, score a model per slice with
:meth:`slicewidgets.analysis.Scorer.score_slices`, keep masks up to date while SFs are edited
with :class:`SliceSet`, and train a :class:`SliceAwareClassifier` that improves on slices.

The names mirror ``snorkel.slicing``: Snorkel code runs with its import lines changed.
"""

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


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module = importlib.import_module(_LAZY[name])
        return getattr(module, name)
    raise AttributeError(f"module 'slicewidgets.slicing' has no attribute {name!r}")
