"""``Scheduler`` at Snorkel's ``snorkel.classification.training.schedulers.scheduler`` path (a re-export)."""

from slicewidgets.classification.schedulers import Scheduler

__all__ = ["Scheduler"]
