"""Training loggers at Snorkel's ``snorkel.classification.training.loggers`` path.

:class:`LogManager` says when to evaluate and checkpoint, :class:`Checkpointer` keeps the
best model, :class:`LogWriter` / :class:`TensorBoardWriter` write the metrics. The code lives
in :mod:`slicewidgets.classification._loggers`; this package re-exports it.
"""

from slicewidgets.classification._config import (
    CheckpointerConfig,
    LogManagerConfig,
    LogWriterConfig,
)
from slicewidgets.classification._loggers import (
    Checkpointer,
    LogManager,
    LogWriter,
    TensorBoardWriter,
)

__all__ = [
    "Checkpointer",
    "CheckpointerConfig",
    "LogManager",
    "LogManagerConfig",
    "LogWriter",
    "LogWriterConfig",
    "TensorBoardWriter",
]
