"""Spark applier at Snorkel's ``snorkel.slicing.apply.spark`` path (needs the ``[spark]`` extra).

A re-export; the code lives in :mod:`slicewidgets.slicing.spark`.
"""

from slicewidgets.slicing.spark import SparkSFApplier

__all__ = ["SparkSFApplier"]
