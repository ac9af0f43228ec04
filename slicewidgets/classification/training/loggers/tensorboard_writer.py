"""``TensorBoardWriter`` at Snorkel's ``snorkel.classification.training.loggers.tensorboard_writer`` path (a re-export)."""

from slicewidgets.classification.training.loggers import TensorBoardWriter

__all__ = ["TensorBoardWriter"]
