"""Fixtures shared by the classification tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def one_torch_thread():
    """Tiny models: one CPU thread is faster, and immune to a busy machine (torch's setting is
    restored afterwards)."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def bag_of_words():
    """``(X, Y, S)``: 96 rows of word counts, 1-3 of 200 words per row; label: one of the
    first 10 words; one slice, ``w5`` (word 5)."""
    import numpy as np

    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    X = np.zeros((96, 200), dtype=np.float32)
    for i in range(96):
        X[i, rng.choice(200, size=rng.integers(1, 4), replace=False)] = rng.integers(1, 3)
    Y = (X[:, :10].sum(1) > 0).astype(np.int64)
    S = np.rec.fromarrays([(X[:, 5] > 0).astype(np.int64)], names=["w5"])
    return torch.tensor(X), torch.tensor(Y), S


@pytest.fixture(scope="session")
def fit_bag_of_words(bag_of_words):
    """``fit(device="cpu", *, n_epochs=3, **trainer_settings) -> (model, trainer, loader)``:
    the same slice-aware model (seed 0, a 200 -> 64 -> 64 MLP), data and batch order, trained
    with batch 8 (the 64-wide layers' weight gradients have rank 8 <= 64 / 8, within
    ``_linear.MAX_RANK_FRACTION``)."""
    torch = pytest.importorskip("torch")
    from torch import nn

    from slicewidgets.analysis import Scorer
    from slicewidgets.classification import DictDataset, Trainer
    from slicewidgets.slicing import SliceAwareClassifier

    X, Y, S = bag_of_words

    def fit(device="cpu", *, n_epochs=3, **settings):
        torch.manual_seed(0)
        body = nn.Sequential(nn.Linear(X.shape[1], 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        model = SliceAwareClassifier(body, 64, ["w5"], device=device,
                                     scorer=Scorer(metrics=["f1"]))
        loader = model.make_slice_dataloader(DictDataset.from_tensors(X, Y, "train"), S,
                                             batch_size=8)
        trainer = Trainer(n_epochs=n_epochs, lr=0.01, progress_bar=False, device=device,
                          batch_scheduler="sequential", **settings)
        trainer.fit(model, [loader])
        return model, trainer, loader

    return fit
