"""Slice labels and slice tasks at Snorkel's ``snorkel.slicing.utils`` path.

A re-export (imports torch); the code lives in :mod:`slicewidgets.classification.slice_tasks`.
"""

from slicewidgets.classification.slice_tasks import add_slice_labels, convert_to_slice_tasks

__all__ = ["add_slice_labels", "convert_to_slice_tasks"]
