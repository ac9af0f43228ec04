"""``LogManager, LogManagerConfig`` at Snorkel's ``snorkel.classification.training.loggers.log_manager`` path (a re-export)."""

from slicewidgets.classification.training.loggers import LogManager, LogManagerConfig

__all__ = ["LogManager", "LogManagerConfig"]
