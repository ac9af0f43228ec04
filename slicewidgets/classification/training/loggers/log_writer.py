"""``LogWriter, LogWriterConfig`` at Snorkel's ``snorkel.classification.training.loggers.log_writer`` path (a re-export)."""

from slicewidgets.classification.training.loggers import LogWriter, LogWriterConfig

__all__ = ["LogWriter", "LogWriterConfig"]
