"""The learning stack on a GPU (marker ``gpu``): the same training, predictions, scores and
checkpoints on CUDA as on the CPU.

Each test takes the device as a parameter: ``cuda`` runs where a GPU is present (``python -m
pytest -m gpu tests/classification/test_cuda.py``) and skips elsewhere (CI has no GPU: the
skip is allowed in ``tests/conftest.py``); ``cpu`` runs everywhere, so the tests' own logic
(and what they compare with) is checked in every CI run.

On CUDA the trainer's CPU-only paths stay off (the column-sparse products and factored weight
gradients of ``_linear.py``, the experts' factored Adam update of ``_lowrank.py``): the step is
torch's ordinary one there. The reference of every comparison is that ordinary step on the CPU.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from slicewidgets.classification import DictDataset, _linear  # noqa: E402
from slicewidgets.slicing import SliceAwareClassifier  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

NO_GPU = "no CUDA device (these run on a machine with a GPU: pytest -m gpu)"
DEVICES = [
    pytest.param("cpu", id="cpu"),
    pytest.param("cuda", id="cuda", marks=[
        pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_GPU)]),
]


@pytest.fixture(autouse=True)
def small_weights_count(monkeypatch):
    """Test-sized weights would take the CPU's column-sparse products and factored gradients."""
    monkeypatch.setattr(_linear, "MIN_NUMEL", 1)


@pytest.fixture(scope="module")
def cpu_reference(fit_bag_of_words):
    """The ordinary step on the CPU: no column-sparse products, no factored gradients."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_linear, "MIN_NUMEL", 1)
        return fit_bag_of_words("cpu", sparse_input=False, low_rank_update=False)


@pytest.mark.parametrize("device", DEVICES)
def test_training_matches_the_cpu_ordinary_step(device, cpu_reference, fit_bag_of_words):
    model, trainer, _ = fit_bag_of_words(device)
    ref_model, ref_trainer, _ = cpu_reference
    assert {p.device.type for p in model.parameters()} == {device}
    assert trainer.device.type == device
    steps = 3 * 12
    # the CPU-only paths: taken on the CPU (a 200 x 64 first layer, column-sparse batches of 8),
    # never on CUDA
    if device == "cpu":
        assert trainer.sparse_products == steps and trainer.low_rank_steps == steps
    else:
        assert trainer.sparse_products == 0 and trainer.low_rank_steps == 0
    losses = [h["loss"] for h in trainer.history]
    assert np.isfinite(losses).all()
    assert losses == pytest.approx([h["loss"] for h in ref_trainer.history], rel=1e-4)
    for (name, p), (_, q) in zip(model.named_parameters(), ref_model.named_parameters(),
                                 strict=True):
        torch.testing.assert_close(p.detach().cpu(), q.detach(), rtol=1e-3, atol=1e-4,
                                   msg=lambda m, name=name: f"{name}: {m}")


@pytest.mark.parametrize("device", DEVICES)
def test_predictions_and_slice_scores_come_back_on_the_cpu(device, cpu_reference,
                                                            fit_bag_of_words):
    model, _, loader = fit_bag_of_words(device)
    ref_model, _, ref_loader = cpu_reference
    out = model.predict(loader, return_preds=True)
    ref = ref_model.predict(ref_loader, return_preds=True)
    for part in ("golds", "probs", "preds"):
        for label, value in out[part].items():
            assert value.device.type == "cpu", (part, label)
    probs = out["probs"]["task"]
    assert probs.shape == (96, 2)
    torch.testing.assert_close(probs.sum(1), torch.ones(96))
    torch.testing.assert_close(probs, ref["probs"]["task"], rtol=1e-3, atol=1e-4)
    table = model.score_slices([loader], as_dataframe=True)
    ref_table = ref_model.score_slices([ref_loader], as_dataframe=True)
    assert table["label"].tolist() == ref_table["label"].tolist()
    np.testing.assert_allclose(table["score"], ref_table["score"], atol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
def test_a_model_saved_on_the_device_loads_on_the_cpu(device, tmp_path, fit_bag_of_words,
                                                       bag_of_words):
    model, _, loader = fit_bag_of_words(device, n_epochs=1)
    model.save(str(tmp_path / "model.pth"))
    X, Y, S = bag_of_words
    torch.manual_seed(1)  # other initial weights, replaced by the loaded ones
    body = nn.Sequential(nn.Linear(X.shape[1], 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
    loaded = SliceAwareClassifier(body, 64, ["w5"], device="cpu")
    loaded.load(str(tmp_path / "model.pth"))
    assert {p.device.type for p in loaded.parameters()} == {"cpu"}
    for (name, p), (_, q) in zip(model.state_dict().items(), loaded.state_dict().items(),
                                 strict=True):
        assert torch.equal(p.cpu(), q), name
    cpu_loader = loaded.make_slice_dataloader(DictDataset.from_tensors(X, Y, "train"), S,
                                              batch_size=8)
    torch.testing.assert_close(loaded.predict(cpu_loader)["probs"]["task"],
                               model.predict(loader)["probs"]["task"], rtol=1e-4, atol=1e-5)
