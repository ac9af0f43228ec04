"""Slice-aware learning, at its former path (a re-export; imports torch).

The code lives in :mod:`slicewidgets.classification` (models in
:mod:`~slicewidgets.classification.sliceaware`, the combiner in
:mod:`~slicewidgets.classification.slice_combiner`, slice labels and tasks in
:mod:`~slicewidgets.classification.slice_tasks`, the oversampling baseline in
:mod:`~slicewidgets.classification.oversampling`).
"""

from slicewidgets.classification.oversampling import make_oversampling_dataloader
from slicewidgets.classification.slice_combiner import SliceCombinerModule
from slicewidgets.classification.slice_tasks import (
    add_slice_labels,
    convert_to_slice_tasks,
    slice_label_names,
)
from slicewidgets.classification.sliceaware import PlainClassifier, SliceAwareClassifier

__all__ = [
    "PlainClassifier",
    "SliceAwareClassifier",
    "SliceCombinerModule",
    "add_slice_labels",
    "convert_to_slice_tasks",
    "make_oversampling_dataloader",
    "slice_label_names",
]
