"""Appliers at Snorkel's ``snorkel.slicing.apply.core`` path.

A re-export; the code lives in :mod:`slicewidgets.slicing.apply`.
"""

from slicewidgets.slicing.apply import PandasSFApplier, SFApplier

__all__ = ["PandasSFApplier", "SFApplier"]
