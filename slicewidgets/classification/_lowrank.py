"""Low-rank weight gradients kept as their factors: Adam on the slice experts without their gradient.

The slice-aware model computes its heads through all experts at once, ``K = P @ W`` (``P``: the
two heads' weights, ``[2k, d]``; ``W``: every expert's weight, ``[d, S*h]``), so the experts'
gradient ``dW = P.T @ dK`` has rank ``2k`` (4 for two classes). Written out it is the step's
largest tensor (368 MB for the tutorial's model), and the ordinary step passes over it three
more times: the product writes it, gradient clipping reads it for the norm, Adam reads it again.
During :meth:`~slicewidgets.classification.Trainer.fit`, where nothing else can see it, the
gradient is kept as its factors ``(P, dK)`` instead, and

* its norm for clipping is computed from the factors: ``||P.T @ dK||_F^2 = sum((P @ P.T) *
  (dK @ dK.T))``, two ``2k x 2k`` Gram matrices, in float64;
* Adam updates ``W`` block by block: each block of rows of the gradient is computed into a
  reused cache-sized buffer, multiplied by the clipping coefficient, and handed with the same
  rows of ``W`` and of Adam's two averages to torch's fused Adam kernel (``torch._fused_adam_``,
  the kernel ``torch.optim.Adam(fused=True)`` runs). The gradient never reaches main memory.
  The blocks are shared among torch's threads, each block done by one thread
  (:func:`~slicewidgets.classification._parallel.run_parts`): alternating MKL's product and
  Adam's kernel on two-thread teams, block by block, was slower than the unfused step.

Large linear layers hand over their weight gradients the same way
(``classification/_linear.py``): ``g.T @ x`` has the rank of the batch (64 for the tutorial's
3916 x 3916 layers), its right factor given on the input's nonzero columns only where the
input is column-sparse (the block is then zero outside them).

The numbers are those of the ordinary step up to float32 rounding (the norm's summation order,
MKL's blocking of the product): ``tests/classification/test_lowrank.py`` trains both ways and
compares the parameters and Adam's state. The optimizer keeps ``torch.optim.Adam``'s state
(``step``, ``exp_avg``, ``exp_avg_sq`` per parameter), so ``state_dict``, ``Trainer.save`` /
``load`` and resuming read and write the same format. While a factored step runs, the
factored parameter's ``.grad`` stays ``None`` (it is never formed); a ``backward`` outside
``fit`` computes it as usual.

The factored step is taken only where it provably gives the ordinary step's numbers; the
ordinary step runs (the gradient is formed from its factors, then clipped and stepped as
before) whenever anything else is the case: another optimizer than ``torch.optim.Adam`` with
``fused=True`` (SGD, Adamax, the foreach Adam), ``amsgrad``, ``maximize``, ``capturable``,
``differentiable``, decoupled weight decay, a tensor learning rate or betas, a device other
than the CPU, a dtype other than float32/float64, a parameter or optimizer with hooks, a
parameter that also received an ordinary gradient in the same backward pass, or a
double-backward graph. Adam's L2 ``weight_decay`` is applied by the fused kernel itself, as in
the ordinary step.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor, optim

from slicewidgets.classification import _parallel
from slicewidgets.classification._config import auto_setting
from slicewidgets.classification._optim import clip_gradients

__all__ = [
    "BLOCK_BYTES",
    "LowRankGrad",
    "LowRankUpdate",
    "factored_norm",
    "gradient_slot",
]

# Rows of W are updated in blocks whose gradient takes about this many bytes (fits in L2/L3).
BLOCK_BYTES = 1 << 20

_FACTORED_DTYPES = (torch.float32, torch.float64)
_local = threading.local()


def factored_norm(left: Tensor, right: Tensor) -> Tensor:
    """Frobenius norm of ``left.T @ right`` from the factors (float64, 0-dim).

    ``||A.T B||_F^2 = trace(B.T A A.T B) = sum((A A.T) * (B B.T))``: two ``r x r`` Gram matrices
    instead of the ``m x n`` product.

    Examples
    --------
    >>> A, B = torch.randn(3, 50, dtype=torch.float64), torch.randn(3, 40, dtype=torch.float64)
    >>> bool(torch.isclose(factored_norm(A, B), torch.linalg.norm(A.T @ B)))
    True
    """
    a = left.to(torch.float64)
    b = right.to(torch.float64)
    return torch.sqrt(((a @ a.T) * (b @ b.T)).sum().clamp_min(0.0))


class LowRankGrad:
    """The gradient of one parameter as a sum of products ``left_i.T @ right_i``.

    ``left_i`` is ``[r_i, m]`` and ``right_i`` ``[r_i, n]``, with ``m * n`` the parameter's size
    (the gradient is ``[m, n]`` in the parameter's row-major layout). A ``right_i`` may be given
    on some columns only (``columns``: the others are zero, as for a linear layer's
    column-sparse input). Factors are taken only while the trainer's own backward pass runs
    (:meth:`accepting`).
    """

    def __init__(self, param: Tensor, capture: _Capture) -> None:
        self.param = param
        self._capture = capture
        self._left: list[Tensor] = []
        self._right: list[Tensor] = []
        self._columns: list[Tensor | None] = []

    def accepting(self) -> bool:
        """Whether a backward pass may add factors now (inside ``Trainer.fit``'s backward)."""
        return self._capture.armed and not torch.is_grad_enabled()  # not a double backward

    def add(self, left: Tensor, right: Tensor, columns: Tensor | None = None) -> None:
        """Add ``left.T @ right`` to the gradient (called from a backward pass); with
        ``columns``, ``right`` holds those columns of the right factor, the others are zero."""
        n = self.param.numel() // max(1, left.shape[-1])
        if (left.dim() != 2 or right.dim() != 2 or left.shape[0] != right.shape[0]
                or left.shape[1] * n != self.param.numel()
                or (right.shape[1] != n if columns is None else right.shape[1] != columns.numel())):
            raise ValueError(
                f"factors {tuple(left.shape)} and {tuple(right.shape)} do not make a gradient of "
                f"{tuple(self.param.shape)}"
            )
        self._left.append(left.detach())
        self._right.append(right.detach())
        self._columns.append(columns)

    def __bool__(self) -> bool:
        return bool(self._left)

    @property
    def shape(self) -> tuple[int, int]:
        """``(m, n)``: the gradient as a matrix."""
        m = self._left[0].shape[1]
        return m, self.param.numel() // m

    def factors(self) -> tuple[Tensor, Tensor, Tensor | None]:
        """``(A, B, columns)``: the gradient is ``A.T @ B`` (the factors stacked along the
        rank), ``B`` given on ``columns`` only where that is not ``None``."""
        if len(self._left) == 1:
            return self._left[0], self._right[0], self._columns[0]
        n = self.shape[1]
        rights = [right if columns is None else _widen(right, columns, n)
                  for right, columns in zip(self._right, self._columns, strict=True)]
        return torch.cat(self._left), torch.cat(rights), None

    def materialize(self) -> Tensor:
        """The gradient as a tensor of the parameter's shape (the ordinary backward's product)."""
        total: Tensor | None = None
        n = self.shape[1]
        for left, right, columns in zip(self._left, self._right, self._columns, strict=True):
            term = left.T.contiguous() @ (right if columns is None else _widen(right, columns, n))
            total = term if total is None else total.add_(term)
        assert total is not None
        return total.view(self.param.shape)


def _widen(right: Tensor, columns: Tensor, n: int) -> Tensor:
    """``right`` given on ``columns`` as the ``[r, n]`` matrix that is zero elsewhere."""
    out = right.new_zeros((right.shape[0], n))
    return out.index_copy_(1, columns, right)


class _Capture:
    """The parameters whose gradients one step may leave factored, and their factors."""

    def __init__(self, params: Sequence[Tensor]) -> None:
        self._params = {id(p): p for p in params}
        self.grads: dict[int, LowRankGrad] = {}
        self.armed = False

    def slot(self, param: Tensor) -> LowRankGrad | None:
        if id(param) not in self._params:
            return None
        grad = self.grads.get(id(param))
        if grad is None:
            grad = self.grads[id(param)] = LowRankGrad(param, self)
        return grad


def gradient_slot(param: Tensor, view: Tensor) -> LowRankGrad | None:
    """Where a product's backward may leave the gradient of ``view`` (``param`` as a matrix) as
    factors, or ``None``: compute it as usual.

    Called by a model's forward pass. Not ``None`` only inside ``Trainer.fit``'s own step
    (:meth:`LowRankUpdate.capturing`), for a parameter the step can update from factors, when
    ``view`` is ``param``'s memory as a contiguous 2-D matrix.
    """
    capture: _Capture | None = getattr(_local, "capture", None)
    if capture is None or not torch.is_grad_enabled():
        return None
    if not (view.dim() == 2 and view.is_contiguous() and param.is_contiguous()
            and view.numel() == param.numel() and view.data_ptr() == param.data_ptr()
            and view.dtype == param.dtype):
        return None
    return capture.slot(param)


class LowRankUpdate:
    """Gradient clipping and the optimizer step of a ``fit``, with factored gradients where possible.

    Build it with :meth:`for_fit`; then per step: the forward pass inside ``with
    update.capturing():``, then :meth:`backward_and_step` (backward, clipping, optimizer step).
    Where it is not ``enabled`` (the optimizer can never take a factored step), that is the
    ordinary step: ``loss.backward()``, :func:`~slicewidgets.classification._optim.clip_gradients`,
    ``optimizer.step()``.
    """

    def __init__(self, optimizer: optim.Optimizer, *, enabled: bool = True,
                 block_bytes: int | None = None) -> None:
        self.optimizer = optimizer
        self.enabled = enabled
        self.block_bytes = BLOCK_BYTES if block_bytes is None else block_bytes
        self._groups = {id(p): group for group in optimizer.param_groups for p in group["params"]}
        self._capture: _Capture | None = None

    @classmethod
    def for_fit(cls, optimizer: optim.Optimizer, device: torch.device,
                setting: bool | str = "auto") -> LowRankUpdate:
        """The step of a ``fit``: factored where ``optimizer`` is a fused CPU Adam with a group
        it can step (``enabled``), the ordinary step otherwise.

        ``setting`` is ``Trainer(low_rank_update=...)``: ``"auto"`` or ``True`` (the same: the
        factored step is only ever taken where it applies), or ``False`` (never).
        """
        enabled = (
            auto_setting("low_rank_update", setting)
            and device.type == "cpu"
            and type(optimizer) is optim.Adam
            and hasattr(torch.nn.utils, "get_total_norm")  # torch >= 2.6
            and hasattr(torch, "_fused_adam_")
            and any(_group_supported(group) for group in optimizer.param_groups)
        )
        return cls(optimizer, enabled=enabled)

    def _factorable(self, param: Tensor) -> bool:
        group = self._groups.get(id(param))
        return (
            group is not None
            and _group_supported(group)
            and param.device.type == "cpu"
            and param.dtype in _FACTORED_DTYPES
            and param.is_contiguous()
            and not param.is_sparse
            and not _has_hooks(param)
        )

    @contextmanager
    def capturing(self) -> Iterator[None]:
        """Run a step's forward pass: products it builds may keep their gradients factored."""
        self._capture = None
        if not self.enabled or _optimizer_has_hooks(self.optimizer):
            yield
            return
        params = [p for group in self.optimizer.param_groups for p in group["params"]
                  if self._factorable(p)]
        capture = self._capture = _Capture(params)
        previous = getattr(_local, "capture", None)
        _local.capture = capture
        try:
            yield
        finally:
            _local.capture = previous

    # -- step -------------------------------------------------------------------------------------
    def backward_and_step(self, loss: Tensor, params: Sequence[Tensor],
                          max_norm: float | None) -> int:
        """``loss.backward()``, clip all gradients to ``max_norm`` (if set), step the optimizer.

        Returns the number of parameters updated from factors (0: the ordinary step ran).
        """
        capture = self._capture
        if capture is not None:
            capture.armed = True
        try:
            loss.backward()
        finally:
            if capture is not None:
                capture.armed = False
        self._capture = None
        factored: list[LowRankGrad] = []
        for grad in capture.grads.values() if capture is not None else ():
            if not grad:
                continue
            param = grad.param
            if param.grad is None and self._state_ready(param) and not _has_hooks(param):
                factored.append(grad)
            else:  # another gradient reached it too, or its state is unusual: form the gradient
                formed = grad.materialize()
                with torch.no_grad():
                    param.grad = formed if param.grad is None else param.grad.add_(formed)
        if not factored:
            if max_norm:
                clip_gradients(params, max_norm)
            self.optimizer.step()
            return 0

        coef: Tensor | None = None
        if max_norm:
            ordinary = [p.grad for p in params if p.grad is not None]
            norms = [factored_norm(*g.factors()[:2]).to(g.param.dtype) for g in factored]
            total = torch.nn.utils.get_total_norm([*ordinary, *norms])
            if not float(max_norm) / (float(total) + 1e-6) >= 1.0:  # as clip_gradients
                # clip_grads_with_norm_'s coefficient, applied to the factored blocks as well
                coef = torch.clamp(float(max_norm) / (total + 1e-6), max=1.0)
                torch.nn.utils.clip_grads_with_norm_(params, max_norm, total)
        self.optimizer.step()  # the factored parameters have no .grad: Adam leaves them alone
        for grad in factored:
            self._adam_from_factors(grad, coef)
        return len(factored)

    def _state_ready(self, param: Tensor) -> bool:
        state = self.optimizer.state.get(param)
        if not state:
            return True  # set up as Adam does on the first step
        if set(state) != {"step", "exp_avg", "exp_avg_sq"}:
            return False
        step, avg, avg_sq = state["step"], state["exp_avg"], state["exp_avg_sq"]
        return (
            isinstance(step, Tensor) and step.numel() == 1 and step.device == param.device
            and all(t.shape == param.shape and t.dtype == param.dtype and t.is_contiguous()
                    and t.device == param.device for t in (avg, avg_sq))
        )

    @torch.no_grad()
    def _adam_from_factors(self, grad: LowRankGrad, coef: Tensor | None) -> None:
        param = grad.param
        group = self._groups[id(param)]
        state = self.optimizer.state[param]
        if not state:  # torch.optim.Adam's lazy set-up for fused=True
            state["step"] = torch.zeros((), dtype=torch.float32, device=param.device)
            state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        left, right, columns = grad.factors()
        m, n = grad.shape
        weight = param.view(m, n)
        exp_avg = state["exp_avg"].view(m, n)
        exp_avg_sq = state["exp_avg_sq"].view(m, n)
        step = state["step"]
        torch._foreach_add_([step], 1)
        left_t = left.T.contiguous().to(param.dtype)  # [m, r]
        right = right.to(param.dtype)
        rows = max(1, min(m, self.block_bytes // max(1, n * param.element_size())))
        starts = list(range(0, m, rows))
        parts = min(_parallel.n_parts(param), len(starts))
        if param.numel() < _parallel.MIN_SPLIT_NUMEL:
            parts = 1
        buffers = [torch.empty((rows, n), dtype=param.dtype) for _ in range(parts)]
        beta1, beta2 = group["betas"]
        lr, weight_decay, eps = group["lr"], group["weight_decay"], group["eps"]

        def update(index: int, step_by: int) -> None:
            buffer = buffers[index]
            for start in starts[index::step_by]:
                stop = min(start + rows, m)
                block = buffer[: stop - start]
                if columns is None:
                    torch.mm(left_t[start:stop], right, out=block)
                else:  # zero outside the columns
                    block.zero_()
                    block.index_copy_(1, columns, torch.mm(left_t[start:stop], right))
                if coef is not None:
                    block.mul_(coef)
                torch._fused_adam_(
                    [weight[start:stop]], [block], [exp_avg[start:stop]],
                    [exp_avg_sq[start:stop]], [], [step], amsgrad=False, lr=lr, beta1=beta1,
                    beta2=beta2, weight_decay=weight_decay, eps=eps, maximize=False,
                )

        _parallel.run_parts(update, parts)


def _group_supported(group: dict[str, Any]) -> bool:
    """Whether a param group's Adam step is the plain fused one the blocks reproduce."""
    betas = group.get("betas", ())
    return (
        bool(group.get("fused"))
        and not group.get("amsgrad", True)
        and not group.get("maximize", True)
        and not group.get("capturable", True)
        and not group.get("differentiable", True)
        and not group.get("decoupled_weight_decay", False)
        and isinstance(group.get("lr"), float | int)
        and len(betas) == 2
        and all(isinstance(b, float | int) for b in betas)
        and isinstance(group.get("eps"), float | int)
        and isinstance(group.get("weight_decay"), float | int)
    )


def _has_hooks(param: Tensor) -> bool:
    return bool(getattr(param, "_backward_hooks", None)) or bool(
        getattr(param, "_post_accumulate_grad_hooks", None)
    )


def _optimizer_has_hooks(optimizer: optim.Optimizer) -> bool:
    from torch.optim import optimizer as optimizer_module

    return any(
        bool(hooks)
        for hooks in (
            getattr(optimizer, "_optimizer_step_pre_hooks", None),
            getattr(optimizer, "_optimizer_step_post_hooks", None),
            getattr(optimizer_module, "_global_optimizer_pre_hooks", None),
            getattr(optimizer_module, "_global_optimizer_post_hooks", None),
        )
    )
