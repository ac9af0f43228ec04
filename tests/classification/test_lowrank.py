"""The experts' update from their gradient's factors (slicewidgets/classification/_lowrank.py):
the same model and Adam state as the ordinary step, and the ordinary step wherever it must run."""

from __future__ import annotations

import threading

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from slicewidgets.classification import (  # noqa: E402
    DictDataset,
    SliceAwareClassifier,
    Trainer,
    TrainerCallback,
    _lowrank,
)
from slicewidgets.classification._lowrank import (  # noqa: E402
    LowRankUpdate,
    factored_norm,
)

H = 12
NAMES = ["a", "b"]
N_STEPS = 3 * 6  # 3 epochs of 96 rows in batches of 16


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _model(cls=SliceAwareClassifier, seed=0):
    torch.manual_seed(seed)
    mlp = nn.Sequential(nn.Linear(6, H), nn.ReLU())
    return cls(mlp, H, NAMES, device="cpu")


def _loader(model, n=96):
    g = torch.Generator().manual_seed(1)
    X = torch.randn(n, 6, generator=g)
    Y = (X[:, 0] + 0.3 * X[:, 3] > 0).long()
    S = np.rec.fromarrays([(X[:, 1] > 0).numpy().astype(np.int64),
                           (X[:, 2] > 0.5).numpy().astype(np.int64)], names=NAMES)
    return model.make_slice_dataloader(DictDataset.from_tensors(X, Y, "train"), S, batch_size=16)


def _fit(low_rank, cls=SliceAwareClassifier, callbacks=(), **settings):
    model = _model(cls)
    settings = {"n_epochs": 3, "lr": 0.01, "progress_bar": False, "device": "cpu",
                "batch_scheduler": "sequential", **settings}
    trainer = Trainer(**settings, low_rank_update=low_rank, callbacks=list(callbacks))
    trainer.fit(model, [_loader(model)])
    return model, trainer


def _assert_same_training(a, b, *, exact=False):
    (model_a, trainer_a), (model_b, trainer_b) = a, b
    tol = {"rtol": 0, "atol": 0} if exact else {"rtol": 1e-5, "atol": 1e-6}
    for (name, p), (_, q) in zip(model_a.named_parameters(), model_b.named_parameters(), strict=True):
        torch.testing.assert_close(p, q, **tol, msg=lambda m, name=name: f"{name}: {m}")
    state_a = trainer_a.optimizer.state_dict()
    state_b = trainer_b.optimizer.state_dict()
    assert state_a["param_groups"] == state_b["param_groups"]
    assert state_a["state"].keys() == state_b["state"].keys()
    for index, values in state_b["state"].items():
        assert state_a["state"][index].keys() == values.keys()
        for key, value in values.items():
            ours = state_a["state"][index][key]
            assert (ours.dtype, ours.shape, ours.device) == (value.dtype, value.shape, value.device)
            torch.testing.assert_close(ours, value, **tol, msg=lambda m, key=key: f"{key}: {m}")
    assert [h["loss"] for h in trainer_a.history] == pytest.approx(
        [h["loss"] for h in trainer_b.history], rel=1e-6)


# -- the factored norm and step --------------------------------------------------------------------
@pytest.mark.parametrize("rank", [1, 4, 9])
def test_factored_norm_is_the_norm_of_the_product(rank):
    g = torch.Generator().manual_seed(rank)
    A, B = torch.randn(rank, 37, generator=g), torch.randn(rank, 53, generator=g) * 1e3
    expected = torch.linalg.norm(A.double().T @ B.double())
    assert factored_norm(A, B).dtype == torch.float64
    assert float(factored_norm(A, B)) == pytest.approx(float(expected), rel=1e-12)
    assert float(factored_norm(torch.zeros(2, 3), torch.ones(2, 4))) == 0.0


def test_factors_given_on_some_columns_are_zero_elsewhere():
    param = torch.zeros(5, 9, dtype=torch.float64)
    grad = _lowrank._Capture([param]).slot(param)
    g = torch.Generator().manual_seed(0)
    left, right = torch.randn(3, 5, generator=g, dtype=torch.float64), torch.randn(
        3, 3, generator=g, dtype=torch.float64)
    columns = torch.tensor([1, 4, 8])
    grad.add(left, right, columns=columns)
    wide = torch.zeros(3, 9, dtype=torch.float64)
    wide[:, columns] = right
    torch.testing.assert_close(grad.materialize(), left.T @ wide)
    A, B, cols = grad.factors()
    assert cols is columns and B.shape == (3, 3)
    assert float(factored_norm(A, B)) == pytest.approx(float(torch.linalg.norm(left.T @ wide)))
    other_left, other_right = torch.randn(2, 5, dtype=torch.float64), torch.randn(2, 9, dtype=torch.float64)
    grad.add(other_left, other_right)  # a second, dense pair: the factors are stacked, widened
    A, B, cols = grad.factors()
    assert cols is None and A.shape == (5, 5) and B.shape == (5, 9)
    expected = left.T @ wide + other_left.T @ other_right
    torch.testing.assert_close(A.T @ B, expected)
    torch.testing.assert_close(grad.materialize(), expected)
    with pytest.raises(ValueError, match=r"factors \(3, 5\) and \(3, 2\) do not make a gradient"):
        grad.add(left, right[:, :2], columns=columns)


@pytest.mark.parametrize("grad_clip", [0.05, 100.0, 0.0])  # clipping every step / never / off
@pytest.mark.parametrize("l2", [0.0, 0.01])
def test_factored_step_trains_the_same_model(grad_clip, l2):
    fused = _fit("auto", grad_clip=grad_clip, l2=l2)
    plain = _fit(False, grad_clip=grad_clip, l2=l2)
    assert fused[1].low_rank_steps == N_STEPS
    assert plain[1].low_rank_steps == 0
    _assert_same_training(fused, plain)
    # during fit the experts' gradient is never formed; the ordinary step leaves it in .grad
    assert fused[0].expert_weight.grad is None
    assert plain[0].expert_weight.grad is not None


@pytest.mark.parametrize("rows", [1, 5, 7, H])  # one row per block, ragged last block, one block
def test_blocks_of_rows_give_the_same_step(monkeypatch, rows):
    width = len([*NAMES, "base"]) * H  # the experts' weight as a matrix: [H, width]
    monkeypatch.setattr(_lowrank, "BLOCK_BYTES", rows * width * 4)
    blocks = []
    real = torch._fused_adam_

    def counting(params, *args, **kwargs):
        if len(params) == 1 and params[0].shape[-1] == width:
            blocks.append(params[0].shape[0])
        return real(params, *args, **kwargs)

    monkeypatch.setattr(torch, "_fused_adam_", counting)
    fused = _fit("auto", grad_clip=0.05, n_epochs=1)
    monkeypatch.setattr(torch, "_fused_adam_", real)
    assert fused[1].low_rank_steps == 6
    assert blocks == [min(rows, H - start) for start in range(0, H, rows)] * 6
    _assert_same_training(fused, _fit(False, grad_clip=0.05, n_epochs=1))


def test_optimizer_state_keeps_adams_format_and_loads(tmp_path):
    model, trainer = _fit("auto", n_epochs=1)
    path = str(tmp_path / "trainer.pt")
    trainer.save(path)
    other = Trainer()
    other.load(path, model)
    saved = trainer.optimizer.state_dict()["state"]
    loaded = other.optimizer.state_dict()["state"]
    index = [p is model.expert_weight for p in trainer.optimizer.param_groups[0]["params"]].index(True)
    assert set(loaded[index]) == {"step", "exp_avg", "exp_avg_sq"}
    assert float(loaded[index]["step"]) == 6.0
    for key, value in saved[index].items():
        torch.testing.assert_close(loaded[index][key], value, rtol=0, atol=0)


# -- where the ordinary step runs ---------------------------------------------------------------------
@pytest.mark.parametrize("settings", [
    {"optimizer": "sgd"},
    {"optimizer": "adamax"},
    {"optimizer_config": {"adam_config": {"amsgrad": True}}},
    {"optimizer_config": {"adam_config": {"fused": False}}},
], ids=["sgd", "adamax", "amsgrad", "foreach-adam"])
def test_other_optimizers_take_the_ordinary_step(settings):
    fused = _fit("auto", n_epochs=1, **settings)
    assert fused[1].low_rank_steps == 0
    assert fused[0].expert_weight.grad is not None
    _assert_same_training(fused, _fit(False, n_epochs=1, **settings), exact=True)


def test_not_on_other_devices_or_optimizers():
    params = [nn.Parameter(torch.zeros(3, 4))]
    adam = torch.optim.Adam(params, fused=True)
    cpu = torch.device("cpu")
    assert LowRankUpdate.for_fit(adam, cpu).enabled
    assert not LowRankUpdate.for_fit(adam, cpu, False).enabled
    assert not LowRankUpdate.for_fit(adam, torch.device("cuda")).enabled
    assert not LowRankUpdate.for_fit(torch.optim.AdamW(params, fused=True), cpu).enabled
    assert not LowRankUpdate.for_fit(torch.optim.Adam(params, fused=True, maximize=True), cpu).enabled
    assert not LowRankUpdate.for_fit(torch.optim.Adam(params, fused=False), cpu).enabled


def test_hooks_on_the_experts_see_their_gradient():
    seen = []

    class Hooked(TrainerCallback):
        def on_train_begin(self, trainer, metrics):
            model.expert_weight.register_hook(lambda g: seen.append(g.shape))

    model = _model()
    trainer = Trainer(n_epochs=1, lr=0.01, progress_bar=False, device="cpu",
                      batch_scheduler="sequential", callbacks=[Hooked()])
    trainer.fit(model, [_loader(model)])
    assert trainer.low_rank_steps == 0
    assert seen == [model.expert_weight.shape] * 6


def test_optimizer_hooks_take_the_ordinary_step():
    from torch.optim.optimizer import register_optimizer_step_post_hook

    grads = []
    handle = register_optimizer_step_post_hook(
        lambda opt, args, kwargs: grads.append(opt.param_groups[0]["params"][-1].grad is not None))
    try:
        fused = _fit("auto", n_epochs=1)
    finally:
        handle.remove()
    assert fused[1].low_rank_steps == 0
    assert grads == [True] * 6
    _assert_same_training(fused, _fit(False, n_epochs=1), exact=True)


class _PenalisedExperts(SliceAwareClassifier):
    """A loss with a second path to the experts' weights: their gradient is not low-rank."""

    def calculate_loss(self, X_dict, Y_dict):
        losses, counts = super().calculate_loss(X_dict, Y_dict)
        first = next(iter(losses))
        losses[first] = losses[first] + 1e-3 * self.expert_weight.square().sum()
        return losses, counts


def test_a_second_gradient_path_forms_the_gradient():
    fused = _fit("auto", cls=_PenalisedExperts, grad_clip=0.05)
    plain = _fit(False, cls=_PenalisedExperts, grad_clip=0.05)
    assert fused[1].low_rank_steps == 0
    _assert_same_training(fused, plain)


def test_a_backward_outside_the_trainers_step_forms_the_gradient():
    model = _model()
    optimizer = torch.optim.Adam(model.parameters(), fused=True)
    update = LowRankUpdate.for_fit(optimizer, torch.device("cpu"))
    assert update.enabled
    X, Y = next(iter(_loader(model)))
    with update.capturing():
        losses, _ = model.calculate_loss(X, Y)
    torch.stack(list(losses.values())).sum().backward()  # the user's own backward
    reference = _model()
    losses, _ = reference.calculate_loss(X, Y)
    torch.stack(list(losses.values())).sum().backward()
    assert model.expert_weight.grad is not None
    torch.testing.assert_close(model.expert_weight.grad, reference.expert_weight.grad)


def test_setting_is_checked():
    model = _model()
    with pytest.raises(ValueError, match="low_rank_update must be 'auto', True or False; got 'on'"):
        Trainer(low_rank_update="on", progress_bar=False, device="cpu").fit(model, [_loader(model)])


def test_factored_step_split_across_threads_trains_the_same_model(monkeypatch):
    from slicewidgets.classification import _parallel

    monkeypatch.setattr(_parallel, "MIN_SPLIT_NUMEL", 0)  # split the tiny model's work too
    width = len([*NAMES, "base"]) * H
    monkeypatch.setattr(_lowrank, "BLOCK_BYTES", 5 * width * 4)
    threads = set()
    real = torch._fused_adam_

    def recording(params, *args, **kwargs):
        if len(params) == 1 and params[0].shape[-1] == width:
            threads.add(threading.current_thread().name)
        return real(params, *args, **kwargs)

    monkeypatch.setattr(torch, "_fused_adam_", recording)
    fused = _fit("auto", grad_clip=0.05, num_threads=2)
    monkeypatch.setattr(torch, "_fused_adam_", real)
    assert fused[1].low_rank_steps == N_STEPS
    # the blocks are shared by this thread and one started for them
    assert threads == {threading.current_thread().name, "slicewidgets-part-1"}
    _assert_same_training(fused, _fit(False, grad_clip=0.05, num_threads=2))
