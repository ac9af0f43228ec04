"""``SliceAwareClassifier`` at Snorkel's ``snorkel.slicing.sliceaware_classifier`` path.

A re-export (imports torch); the code lives in :mod:`slicewidgets.classification.sliceaware`.
"""

from slicewidgets.classification.sliceaware import SliceAwareClassifier

__all__ = ["SliceAwareClassifier"]
