"""``Checkpointer, CheckpointerConfig`` at Snorkel's ``snorkel.classification.training.loggers.checkpointer`` path (a re-export)."""

from slicewidgets.classification.training.loggers import Checkpointer, CheckpointerConfig

__all__ = ["Checkpointer", "CheckpointerConfig"]
