"""``ShuffledScheduler`` at Snorkel's ``snorkel.classification.training.schedulers.shuffled_scheduler`` path (a re-export)."""

from slicewidgets.classification.schedulers import ShuffledScheduler

__all__ = ["ShuffledScheduler"]
