"""The trainer at Snorkel's ``snorkel.classification.training.trainer`` path.

The code lives in :mod:`slicewidgets.classification.trainer`; this module re-exports it.
"""

from slicewidgets.classification._config import TrainerConfig
from slicewidgets.classification.trainer import Trainer, TrainerCallback

__all__ = ["Trainer", "TrainerCallback", "TrainerConfig"]
