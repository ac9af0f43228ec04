"""``SliceCombinerModule`` at Snorkel's ``snorkel.slicing.modules.slice_combiner`` path.

A re-export (imports torch); the code lives in :mod:`slicewidgets.classification.slice_combiner`.
"""

from slicewidgets.classification.slice_combiner import SliceCombinerModule

__all__ = ["SliceCombinerModule"]
