"""Batch schedulers: in which order the trainer draws batches from several dataloaders.

:class:`SequentialScheduler` takes every batch of the first loader, then the second, ...;
:class:`ShuffledScheduler` (the :class:`~slicewidgets.classification.Trainer`'s default)
interleaves the batches of all loaders in a random order. Same names as
``snorkel.classification.training.schedulers``; the shuffled one takes a ``random.Random``
so that a seeded trainer draws the same order every run.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

from slicewidgets.classification.data import DictDataLoader

__all__ = ["SCHEDULERS", "Scheduler", "SequentialScheduler", "ShuffledScheduler"]

Batch = tuple[Any, DictDataLoader]


class Scheduler:
    """Base class: :meth:`get_batches` yields ``(batch, dataloader)`` pairs."""

    def get_batches(self, dataloaders: Sequence[DictDataLoader]) -> Iterator[Batch]:
        """Every batch of every loader once, each with the loader it came from."""
        raise NotImplementedError


class SequentialScheduler(Scheduler):
    """All batches of the first loader, then all of the second, and so on.

    Examples
    --------
    >>> import torch
    >>> from slicewidgets.classification import DictDataset
    >>> dls = [DictDataLoader(DictDataset(n, "train", {"x": torch.arange(4)},
    ...                                   {"y": torch.zeros(4)}), batch_size=2) for n in "ab"]
    >>> [dl.dataset.name for _, dl in SequentialScheduler().get_batches(dls)]
    ['a', 'a', 'b', 'b']
    """

    def get_batches(self, dataloaders: Sequence[DictDataLoader]) -> Iterator[Batch]:
        for dataloader in dataloaders:
            for batch in dataloader:
                yield batch, dataloader


class ShuffledScheduler(Scheduler):
    """The batches of all loaders, in a random order (each loader's own order kept).

    Parameters
    ----------
    rng
        The ``random.Random`` that shuffles (default: Python's global generator, as Snorkel).
    """

    def __init__(self, rng: random.Random | None = None) -> None:
        self.rng = rng

    def get_batches(self, dataloaders: Sequence[DictDataLoader]) -> Iterator[Batch]:
        order = [i for i, dl in enumerate(dataloaders) for _ in range(len(dl))]
        (self.rng or random).shuffle(order)
        iterators = [iter(dl) for dl in dataloaders]
        for i in order:
            yield next(iterators[i]), dataloaders[i]


#: ``batch_scheduler`` names accepted by the trainer.
SCHEDULERS = {"sequential": SequentialScheduler, "shuffled": ShuffledScheduler}
