"""``SequentialScheduler`` at Snorkel's ``snorkel.classification.training.schedulers.sequential_scheduler`` path (a re-export)."""

from slicewidgets.classification.schedulers import SequentialScheduler

__all__ = ["SequentialScheduler"]
