"""Training, at Snorkel's ``snorkel.classification.training`` path.

:mod:`.trainer` (the :class:`~slicewidgets.classification.Trainer`), :mod:`.loggers`
(evaluation/checkpoint timing, checkpoints, logs) and :mod:`.schedulers` (batch order).
The code lives in :mod:`slicewidgets.classification`; these modules re-export it.
"""

from slicewidgets.classification.trainer import Trainer, TrainerCallback

__all__ = ["Trainer", "TrainerCallback"]
