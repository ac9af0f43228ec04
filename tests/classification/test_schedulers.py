"""Batch schedulers (slicewidgets/classification/schedulers.py)."""

from __future__ import annotations

import random

import pytest

torch = pytest.importorskip("torch")

from slicewidgets.classification import DictDataLoader, DictDataset  # noqa: E402
from slicewidgets.classification.schedulers import (  # noqa: E402
    SequentialScheduler,
    ShuffledScheduler,
)


def loaders():
    return [DictDataLoader(DictDataset(name, "train", {"x": torch.arange(start, start + 6)},
                                       {"y": torch.zeros(6)}), batch_size=2)
            for name, start in (("a", 0), ("b", 100))]


def test_sequential_takes_loaders_in_order():
    got = [(dl.dataset.name, X["x"].tolist()) for (X, _), dl in SequentialScheduler().get_batches(loaders())]
    assert got == [("a", [0, 1]), ("a", [2, 3]), ("a", [4, 5]),
                   ("b", [100, 101]), ("b", [102, 103]), ("b", [104, 105])]


def test_shuffled_interleaves_reproducibly_and_keeps_each_loaders_order():
    def run(seed):
        return [(dl.dataset.name, X["x"].tolist())
                for (X, _), dl in ShuffledScheduler(rng=random.Random(seed)).get_batches(loaders())]

    first = run(1)
    assert first == run(1) and first != run(2)
    assert [b for name, b in first if name == "a"] == [[0, 1], [2, 3], [4, 5]]
    assert sorted(name for name, _ in first) == ["a"] * 3 + ["b"] * 3
