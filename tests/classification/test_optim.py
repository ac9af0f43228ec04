"""The update rule: optimizer, LR schedules, gradient clipping
(slicewidgets/classification/_optim.py), and the fused heads' gradients."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from slicewidgets.classification._config import TrainerConfig, merge_config  # noqa: E402
from slicewidgets.classification._optim import (  # noqa: E402
    clip_gradients,
    make_lr_schedules,
    make_optimizer,
)


def _params_with_grads(scale, seed=0):
    g = torch.Generator().manual_seed(seed)
    params = [torch.nn.Parameter(torch.zeros(s)) for s in ((5, 3), (7,), (2, 2, 2))]
    for p in params:
        p.grad = torch.randn(p.shape, generator=g) * scale
    return params


@pytest.mark.parametrize("scale", [1e-3, 0.2, 1.0, 50.0])
@pytest.mark.parametrize("max_norm", [0.5, 1.0, 10.0])
def test_clip_gradients_equals_clip_grad_norm_exactly(scale, max_norm):
    ours, theirs = _params_with_grads(scale), _params_with_grads(scale)
    clip_gradients(ours, max_norm)
    torch.nn.utils.clip_grad_norm_(theirs, max_norm)
    for a, b in zip(ours, theirs, strict=True):
        assert torch.equal(a.grad, b.grad)
    norm = math.sqrt(sum(float((p.grad**2).sum()) for p in ours))
    assert norm <= max_norm * (1 + 1e-5)


def test_clip_gradients_non_finite_like_torch():
    for bad in (float("nan"), float("inf")):
        ours, theirs = _params_with_grads(1.0), _params_with_grads(1.0)
        ours[1].grad[0] = theirs[1].grad[0] = bad
        clip_gradients(ours, 1.0)
        torch.nn.utils.clip_grad_norm_(theirs, 1.0)
        for a, b in zip(ours, theirs, strict=True):
            torch.testing.assert_close(a.grad, b.grad, equal_nan=True, rtol=0, atol=0)


def test_clip_gradients_without_gradients_is_a_no_op():
    p = torch.nn.Parameter(torch.ones(3))
    clip_gradients([p], 1.0)
    assert p.grad is None


def test_optimizer_and_schedules_from_config():
    model = torch.nn.Linear(3, 2)
    opt = make_optimizer(TrainerConfig(optimizer="adam", lr=0.1), model)
    assert type(opt).__name__ == "Adam" and opt.defaults["fused"] is True
    opt = make_optimizer(TrainerConfig(optimizer="adamax", lr=0.1), model)
    assert type(opt).__name__ == "Adamax"
    cfg = merge_config(TrainerConfig(), {"lr": 1.0, "n_epochs": 1, "lr_scheduler": "linear",
                                         "lr_scheduler_config": {"warmup_steps": 2,
                                                                 "warmup_unit": "batches"}})
    opt = make_optimizer(cfg, model)
    schedules = make_lr_schedules(cfg, opt, n_batches_per_epoch=6)
    lrs = []
    for step in range(6):
        opt.step()  # no gradients: changes nothing, keeps torch's step order
        schedules.step(opt, step, min_lr=0.0)
        lrs.append(round(opt.param_groups[0]["lr"], 4))
    assert schedules.warmup_steps == 2
    assert lrs == [0.5, 1.0, 0.75, 0.5, 0.25, 0.0]
    with pytest.raises(ValueError, match="has no trainable parameters"):
        make_optimizer(cfg, torch.nn.Identity())


def test_fused_heads_gradients_equal_autograd():
    from slicewidgets.classification.sliceaware import _HeadsThroughExperts

    g = torch.Generator().manual_seed(0)
    P = torch.randn(4, 5, dtype=torch.float64, generator=g, requires_grad=True)
    W = torch.randn(5, 12, dtype=torch.float64, generator=g, requires_grad=True)
    assert torch.autograd.gradcheck(_HeadsThroughExperts.apply, (P, W))
    dK = torch.randn(4, 12, dtype=torch.float64, generator=g)
    ours = torch.autograd.grad(_HeadsThroughExperts.apply(P, W), (P, W), dK)
    plain = torch.autograd.grad(P @ W, (P, W), dK)
    for a, b in zip(ours, plain, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    # only the gradient asked for is computed
    (dP,) = torch.autograd.grad(_HeadsThroughExperts.apply(P, W.detach()), (P,), dK)
    torch.testing.assert_close(dP, plain[0])
