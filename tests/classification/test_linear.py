"""Large linear layers in the trainer's step (slicewidgets/classification/_linear.py):
column-sparse products with the dense products' numbers up to float rounding, NaN where the
dense product has NaN, torch's own products wherever they do not apply, weight gradients left
as factors, and training that matches the ordinary step."""

from __future__ import annotations

import contextlib

import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from slicewidgets.classification import _linear, _lowrank  # noqa: E402
from slicewidgets.classification._linear import (  # noqa: E402
    LinearLayers,
    linear,
    nonzero_columns,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")
D_IN, D_OUT = 40, 24


@pytest.fixture(autouse=True)
def small_weights_count(monkeypatch):
    """Test-sized weights take the column-sparse products too."""
    monkeypatch.setattr(_linear, "MIN_NUMEL", 1)


def _sparse_x(rows=8, cols=(3, 17, 30), seed=0, requires_grad=False, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(rows, D_IN, dtype=dtype)
    for c in cols:
        kept = torch.rand(rows, generator=g) < 0.7
        x[:, c] = torch.randn(rows, generator=g, dtype=dtype) * kept
    return x.requires_grad_(requires_grad)


def _layer(seed=1, dtype=torch.float32, bias=True):
    torch.manual_seed(seed)
    return nn.Linear(D_IN, D_OUT, bias=bias, dtype=dtype)


def _grads(fn, x, layer):
    layer.zero_grad(set_to_none=True)
    out = fn(x, layer.weight, layer.bias)
    (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
    grads = [None if p is None or p.grad is None else p.grad.clone()
             for p in (layer.weight, layer.bias)]
    return out.detach(), grads, None if x.grad is None else x.grad.clone()


def test_nonzero_columns_counts_nan_and_refuses_dense_inputs():
    x = torch.zeros(3, 8)
    x[1, 2] = 5.0
    x[2, 6] = float("nan")
    assert nonzero_columns(x).tolist() == [2, 6]
    x[0, :3] = 1.0  # 4 of 8 columns > MAX_FRACTION
    assert nonzero_columns(x) is None
    assert nonzero_columns(torch.zeros(2, 8)).tolist() == []


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_grad", [False, True])
def test_outputs_and_gradients_are_the_dense_ones(dtype, bias, x_grad):
    layer = _layer(dtype=dtype, bias=bias)
    x = _sparse_x(dtype=dtype, requires_grad=x_grad)
    out, grads, x_grad_value = _grads(linear, x, layer)
    x_dense = x.detach().clone().requires_grad_(x_grad)
    ref, ref_grads, ref_x_grad = _grads(F.linear, x_dense, layer)
    torch.testing.assert_close(out, ref)
    for ours, theirs in zip(grads, ref_grads, strict=True):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            torch.testing.assert_close(ours, theirs)
    # the weight gradient is exactly zero in the columns the batch does not use
    assert torch.equal(grads[0][:, [c for c in range(D_IN) if c not in (3, 17, 30)]],
                       torch.zeros(D_OUT, D_IN - 3, dtype=dtype))
    assert grads[0].shape == layer.weight.shape and grads[0].is_contiguous()
    if x_grad:
        torch.testing.assert_close(x_grad_value, ref_x_grad)
    else:
        assert x_grad_value is None


def test_a_weight_blocked_into_many_row_blocks_and_an_all_zero_batch(monkeypatch):
    monkeypatch.setattr(_linear, "_BLOCKS", 7)
    layer = _layer()
    for x in (_sparse_x(), torch.zeros(5, D_IN)):
        out, grads, _ = _grads(linear, x, layer)
        ref, ref_grads, _ = _grads(F.linear, x.clone(), layer)
        torch.testing.assert_close(out, ref)
        torch.testing.assert_close(grads[0], ref_grads[0])


@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
def test_a_non_finite_weight_in_an_unused_column_gives_the_dense_nan(bad):
    layer = _layer()
    with torch.no_grad():
        layer.weight[5, 0] = bad  # column 0 is all zero in the batch: 0 * inf is NaN
    x = _sparse_x()
    out, grads, _ = _grads(linear, x, layer)
    ref, ref_grads, _ = _grads(F.linear, x.clone(), layer)
    assert out[:, 5].isnan().all()
    torch.testing.assert_close(out, ref, equal_nan=True)
    torch.testing.assert_close(grads[0], ref_grads[0], equal_nan=True)


def test_the_mode_takes_only_the_calls_it_applies_to(monkeypatch):
    layer = _layer()
    mode = LinearLayers()
    sparse, dense = _sparse_x(), torch.randn(8, D_IN)
    expected = F.linear(sparse, layer.weight, layer.bias)
    with mode:
        torch.testing.assert_close(layer(sparse), expected)
        assert mode.sparse_products == 1
        cases = [
            dense,  # most columns nonzero
            sparse.unsqueeze(0),  # 3-D input
            sparse.T.contiguous().T,  # not contiguous
            sparse.double(),  # dtype differs from the weight's
        ]
        for x in cases:
            with contextlib.suppress(RuntimeError):  # torch's own error for the dtype
                layer(x)
        assert mode.sparse_products == 1
        with torch.autocast("cpu", dtype=torch.bfloat16):
            assert layer(sparse).dtype == torch.bfloat16
        assert mode.sparse_products == 1
        # keyword arguments reach the same function
        F.linear(input=sparse, weight=layer.weight, bias=layer.bias)
        assert mode.sparse_products == 2
    monkeypatch.setattr(_linear, "MIN_NUMEL", layer.weight.numel() + 1)
    with mode:
        layer(sparse)
    assert mode.sparse_products == 2
    layer(sparse)  # outside the mode
    assert mode.sparse_products == 2


def test_a_double_backward_gets_the_dense_differentiable_products():
    layer = _layer(dtype=torch.float64)
    x = _sparse_x(dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: linear(x, w, b),
                                    (x, layer.weight, layer.bias))
    assert torch.autograd.gradgradcheck(lambda x, w, b: linear(x, w, b),
                                        (x, layer.weight, layer.bias))


def test_for_fit_settings():
    cpu = torch.device("cpu")
    for setting in ("auto", True):
        mode = LinearLayers.for_fit(cpu, setting, factored=False)
        assert isinstance(mode, LinearLayers) and mode.sparse_input and not mode.factored
    mode = LinearLayers.for_fit(cpu, False)
    assert isinstance(mode, LinearLayers) and not mode.sparse_input and mode.factored
    assert not isinstance(LinearLayers.for_fit(cpu, False, factored=False), LinearLayers)
    assert not isinstance(LinearLayers.for_fit(torch.device("meta"), True), LinearLayers)
    with pytest.raises(ValueError, match="sparse_input must be 'auto', True or False; got 'yes'"):
        LinearLayers.for_fit(cpu, "yes")


# -- training --------------------------------------------------------------------------------------
@pytest.mark.parametrize("sparse_input, low_rank", [("auto", True), ("auto", False), (False, True)])
def test_training_matches_the_ordinary_step(monkeypatch, fit_bag_of_words, sparse_input,
                                            low_rank):
    # Adam's blocks from factors: 7 rows of the first layer's weight, a ragged last block
    monkeypatch.setattr(_lowrank, "BLOCK_BYTES", 7 * 200 * 4)
    model, trainer, _ = fit_bag_of_words(sparse_input=sparse_input, low_rank_update=low_rank)
    dense_model, dense_trainer, _ = fit_bag_of_words(sparse_input=False, low_rank_update=False)
    steps = 3 * 12
    assert trainer.sparse_products == (steps if sparse_input else 0)  # the first layer
    assert dense_trainer.sparse_products == 0 and dense_trainer.low_rank_steps == 0
    assert trainer.low_rank_steps == (steps if low_rank else 0)
    first, second = model.base_architecture[0], model.base_architecture[2]
    # the weights updated from factors have no .grad; the biases (and the other run) do
    assert (first.weight.grad is None, second.weight.grad is None) == (low_rank, low_rank)
    assert first.bias.grad is not None
    assert dense_model.base_architecture[0].weight.grad is not None
    for (name, p), (_, q) in zip(model.named_parameters(), dense_model.named_parameters(),
                                 strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6,
                                   msg=lambda m, name=name: f"{name}: {m}")
    state, dense_state = trainer.optimizer.state_dict(), dense_trainer.optimizer.state_dict()
    for index, values in dense_state["state"].items():
        for key, value in values.items():
            torch.testing.assert_close(state["state"][index][key], value, rtol=1e-5, atol=1e-6)
    assert [h["loss"] for h in trainer.history] == pytest.approx(
        [h["loss"] for h in dense_trainer.history], rel=1e-6)


def test_a_batch_too_large_for_factors_gets_an_ordinary_gradient(monkeypatch, fit_bag_of_words):
    monkeypatch.setattr(_linear, "MAX_RANK_FRACTION", 0.01)
    model, trainer, _ = fit_bag_of_words(sparse_input=False, low_rank_update=True)
    assert trainer.sparse_products == 0
    assert model.base_architecture[0].weight.grad is not None  # formed as usual
    assert model.base_architecture[2].weight.grad is not None
    assert trainer.low_rank_steps == 3 * 12  # the experts still are


def test_a_model_without_large_weights_trains_without_the_mode(monkeypatch, fit_bag_of_words):
    monkeypatch.setattr(_linear, "MIN_NUMEL", 200 * 64 + 1)  # above every weight of the model
    made = []
    real = LinearLayers.for_fit.__func__

    def spy(cls, *args, **kwargs):
        made.append(real(cls, *args, **kwargs))
        return made[-1]

    monkeypatch.setattr(LinearLayers, "for_fit", classmethod(spy))
    model, trainer, _ = fit_bag_of_words(sparse_input="auto", low_rank_update=True)
    assert len(made) == 1 and not isinstance(made[0], LinearLayers)
    assert trainer.sparse_products == 0
    assert model.base_architecture[0].weight.grad is not None  # an ordinary gradient
