"""The update rule of a training step: optimizer, learning-rate schedules, gradient clipping.

Built from :class:`~slicewidgets.classification.TrainerConfig` with Snorkel's names and
defaults; :class:`~slicewidgets.classification.Trainer` calls these once per ``fit``
(:func:`make_optimizer`, :func:`make_lr_schedules`) and once per step
(:func:`clip_gradients`, :meth:`LRSchedules.step`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import torch
from torch import nn, optim

from slicewidgets.classification._config import TrainerConfig

__all__ = [
    "LR_SCHEDULERS",
    "OPTIMIZERS",
    "LRSchedules",
    "clip_gradients",
    "make_lr_schedules",
    "make_optimizer",
]

OPTIMIZERS = ("sgd", "adam", "adamax")
LR_SCHEDULERS = ("constant", "linear", "exponential", "step")
_FUSED_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)


def make_optimizer(cfg: TrainerConfig, model: nn.Module) -> optim.Optimizer:
    """The optimizer named by ``cfg.optimizer`` over ``model``'s trainable parameters.

    Adam is fused (one kernel over all parameters) where torch supports it, unless
    ``adam_config.fused`` is ``False``; ``True`` makes an unsupported case an error.

    Examples
    --------
    >>> type(make_optimizer(TrainerConfig(optimizer="sgd"), nn.Linear(2, 1))).__name__
    'SGD'
    """
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError(f"{type(model).__name__} has no trainable parameters.")
    oc = cfg.optimizer_config
    if cfg.optimizer == "sgd":
        return optim.SGD(params, lr=cfg.lr, weight_decay=cfg.l2, momentum=oc.sgd_config.momentum)
    if cfg.optimizer == "adam":
        ac = oc.adam_config
        betas = (float(ac.betas[0]), float(ac.betas[1]))
        fused = ac.fused
        if fused is None:
            fused = all(p.dtype in _FUSED_DTYPES and p.device.type in ("cpu", "cuda") for p in params)
        if fused:
            try:
                return optim.Adam(params, lr=cfg.lr, weight_decay=cfg.l2, amsgrad=ac.amsgrad,
                                  betas=betas, fused=True)
            except (RuntimeError, TypeError, ValueError):
                if ac.fused:
                    raise
        return optim.Adam(params, lr=cfg.lr, weight_decay=cfg.l2, amsgrad=ac.amsgrad, betas=betas)
    ac_max = oc.adamax_config
    return optim.Adamax(params, lr=cfg.lr, weight_decay=cfg.l2,
                        betas=(float(ac_max.betas[0]), float(ac_max.betas[1])), eps=ac_max.eps)


class LRSchedules(NamedTuple):
    """The warm-up schedule (its first ``warmup_steps`` steps) and the main schedule."""

    warmup: Any  # a LambdaLR, or None
    warmup_steps: int
    main: Any  # a torch LR scheduler, or None for "constant"

    def step(self, optimizer: optim.Optimizer, global_step: int, min_lr: float) -> None:
        """Advance after optimizer step ``global_step`` (Snorkel's order and ``min_lr``)."""
        if self.warmup is not None and global_step < self.warmup_steps:
            self.warmup.step()
        elif self.main is not None:
            self.main.step()
            if min_lr and optimizer.param_groups[0]["lr"] < min_lr:
                optimizer.param_groups[0]["lr"] = min_lr


def make_lr_schedules(
    cfg: TrainerConfig, optimizer: optim.Optimizer, n_batches_per_epoch: int
) -> LRSchedules:
    """The schedules of ``cfg.lr_scheduler`` and ``cfg.lr_scheduler_config`` (warm-up by
    batches, epochs or a percentage of all steps).

    Examples
    --------
    >>> opt = make_optimizer(TrainerConfig(), nn.Linear(2, 1))
    >>> make_lr_schedules(TrainerConfig(lr_scheduler="constant"), opt, 10).main is None
    True
    """
    sc = cfg.lr_scheduler_config
    total_steps = n_batches_per_epoch * cfg.n_epochs
    warmup_steps = 0
    if sc.warmup_steps:
        if sc.warmup_steps < 0:
            raise ValueError(f"warmup_steps must be >= 0; got {sc.warmup_steps}.")
        if sc.warmup_unit == "epochs":
            warmup_steps = int(sc.warmup_steps * n_batches_per_epoch)
        elif sc.warmup_unit == "batches":
            warmup_steps = int(sc.warmup_steps)
        else:
            raise ValueError(
                f"warmup_unit must be 'batches' or 'epochs', but {sc.warmup_unit} found."
            )
    elif sc.warmup_percentage:
        warmup_steps = int(sc.warmup_percentage * total_steps)
    warmup = None
    if warmup_steps > 0:
        steps = warmup_steps
        warmup = optim.lr_scheduler.LambdaLR(optimizer, lambda x: x / steps)
    main: Any
    name = cfg.lr_scheduler
    if name == "constant":
        main = None
    elif name == "linear":
        decay_steps = max(total_steps - warmup_steps, 1)
        main = optim.lr_scheduler.LambdaLR(optimizer, lambda x: (decay_steps - x) / decay_steps)
    elif name == "exponential":
        main = optim.lr_scheduler.ExponentialLR(optimizer, **sc.exponential_config._asdict())
    else:
        main = optim.lr_scheduler.StepLR(optimizer, **sc.step_config._asdict())
    return LRSchedules(warmup, warmup_steps, main)


def clip_gradients(params: Sequence[torch.Tensor], max_norm: float) -> None:
    """``torch.nn.utils.clip_grad_norm_(params, max_norm)``, without its multiplication by 1.

    ``clip_grad_norm_`` always multiplies every gradient by ``min(1, max_norm / (norm +
    1e-6))``, to spare a GPU a synchronisation; for a CPU model of 123M parameters that is a
    pass over 0.5 GB per step that changes nothing when the norm is below ``max_norm``. Here,
    where the norm is on the CPU, the gradients are multiplied only when the coefficient is
    below 1 (or NaN): the same numbers as ``clip_grad_norm_`` in every case.

    Examples
    --------
    >>> w = torch.nn.Parameter(torch.zeros(2)); w.grad = torch.tensor([3.0, 4.0])
    >>> clip_gradients([w], 1.0); [round(v, 4) for v in w.grad.tolist()]
    [0.6, 0.8]
    """
    get_total_norm = getattr(torch.nn.utils, "get_total_norm", None)
    clip_with_norm = getattr(torch.nn.utils, "clip_grads_with_norm_", None)
    grads = [p.grad for p in params if p.grad is not None]
    if get_total_norm is None or clip_with_norm is None or not grads:  # torch < 2.6
        torch.nn.utils.clip_grad_norm_(params, max_norm)
        return
    total_norm = get_total_norm(grads)
    if total_norm.device.type == "cpu" and float(max_norm) / (float(total_norm) + 1e-6) >= 1.0:
        return  # clip_grad_norm_ would multiply by exactly 1.0
    clip_with_norm(params, max_norm, total_norm)
