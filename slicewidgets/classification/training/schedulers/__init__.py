"""Batch schedulers at Snorkel's ``snorkel.classification.training.schedulers`` path.

The code lives in :mod:`slicewidgets.classification.schedulers`; this package re-exports it.
"""

from slicewidgets.classification.schedulers import (
    Scheduler,
    SequentialScheduler,
    ShuffledScheduler,
)

__all__ = ["Scheduler", "SequentialScheduler", "ShuffledScheduler"]
