"""Slicing functions at Snorkel's ``snorkel.slicing.sf.core`` path.

A re-export; the code lives in :mod:`slicewidgets.slicing.sf`.
"""

from slicewidgets.slicing.sf import SlicingFunction, slicing_function

__all__ = ["SlicingFunction", "slicing_function"]
