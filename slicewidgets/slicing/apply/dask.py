"""Dask appliers at Snorkel's ``snorkel.slicing.apply.dask`` path (needs the ``[dask]`` extra).

A re-export; the code lives in :mod:`slicewidgets.slicing.dask`.
"""

from slicewidgets.slicing.dask import DaskSFApplier, PandasParallelSFApplier

__all__ = ["DaskSFApplier", "PandasParallelSFApplier"]
