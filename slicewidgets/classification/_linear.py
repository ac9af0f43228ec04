"""Large linear layers during ``Trainer.fit``'s step on the CPU: column-sparse inputs, and
weight gradients kept as their factors.

While the trainer's forward pass runs, :class:`LinearLayers` (a ``TorchFunctionMode``) routes
``torch.nn.functional.linear`` calls on large weights (:data:`MIN_NUMEL` elements or more)
through :class:`_Linear` where one of two things applies; every other call goes to torch
unchanged.

**Column-sparse inputs** (``Trainer(sparse_input="auto")``). Bag-of-words features are mostly
zeros: a batch of 64 of the tutorial's comments holds a nonzero value in 403 of its 3,916
columns on average, and the first layer's products ``x @ W.T`` and ``g.T @ x`` multiply
mostly zeros. Where at most :data:`MAX_FRACTION` of the batch's columns ``c`` are nonzero,
only they are multiplied: ``x[:, c] @ W[:, c].T + b`` forward; the weight gradient is
``g.T @ x[:, c]`` in the columns ``c`` and zero in the others (it keeps ``W``'s shape); the
input and bias gradients are the usual ones. The terms left out are exact zeros, so the
numbers differ from the dense products' only by the order of summation (float32 rounding).
The one case where leaving them out changes a number is a left-out column of ``W`` holding an
infinity or NaN (``0 * inf`` is NaN in the dense product): the forward pass checks that ``W``
is finite, block by block while it reads it, and computes the dense products if it is not.

**Weight gradients as factors** (``Trainer(low_rank_update="auto")``, see
``classification/_lowrank.py``). A linear layer's weight gradient ``g.T @ x`` has the rank of
the batch (64) where the weight is 3916 x 3916. Where the trainer's step can update the weight
from factors, the backward pass leaves the gradient as ``(g, x)`` (``(g, x[:, c])`` for a
column-sparse input): its norm for clipping comes from two 64 x 64 Gram matrices, and Adam
computes it block by block in cache, so the 61 MB gradient is never written, read for the
norm, scaled and read again. That needs a batch at most :data:`MAX_RANK_FRACTION` of the
weight's smaller side. The weight's ``.grad`` then stays ``None`` during ``fit``.

Left to torch: inputs that are not 2-D, strided, contiguous CPU tensors of the weight's
floating dtype, autocast, ``torch.compile``, ``torch.func`` transforms, tensor subclasses, and
everything before torch 2.4. A backward pass that records a graph (``create_graph=True``)
computes the dense, differentiable products.
Validation and prediction (outside the training step) never pass through here.

Measured on the tutorial's model (``benchmarks/README.md``, "Slice-aware training against this
CPU's GEMM rate"): the first layer's forward 15 -> 5 ms and weight gradient 22 -> 7 ms per
step; the factored second layer about 13 ms less per step. Splitting the dense products
across threads (as ``_parallel.py`` does for the experts) was tried too: faster alone (14 vs
22 ms for a weight gradient), not within a training step, where the operations around them
run on torch's two threads.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.overrides import TorchFunctionMode

from slicewidgets.classification._config import auto_setting
from slicewidgets.classification._lowrank import LowRankGrad, gradient_slot

__all__ = [
    "MAX_FRACTION",
    "MAX_RANK_FRACTION",
    "MIN_NUMEL",
    "LinearLayers",
    "linear",
    "nonzero_columns",
]

# Weights smaller than this (elements) are left to torch.
MIN_NUMEL = 1 << 20
# An input is column-sparse when at most this fraction of its columns holds a nonzero value.
MAX_FRACTION = 0.25
# A weight gradient is left as factors when the batch is at most this fraction of the weight's
# smaller side.
MAX_RANK_FRACTION = 0.125

_FLOATS = (torch.float32, torch.float64)
# torch.is_autocast_enabled(device_type) and torch.compiler.is_compiling() (torch >= 2.4)
_SUPPORTED = tuple(int(part) for part in torch.__version__.split(".")[:2]) >= (2, 4)
_BLOCKS = 16  # W is read in this many blocks of rows (about 4 MB each for the tutorial's)


def nonzero_columns(x: Tensor) -> Tensor | None:
    """Indices of the columns of a 2-D ``x`` holding a nonzero (NaN counts), or ``None`` if
    more than :data:`MAX_FRACTION` of them do.

    Examples
    --------
    >>> nonzero_columns(torch.tensor([[0., 2., 0., 0.], [0., 0., 0., 0.]]))
    tensor([1])
    >>> print(nonzero_columns(torch.ones(2, 4)))
    None
    """
    cols = (x != 0).any(0).nonzero().squeeze(1)
    return cols if cols.numel() <= MAX_FRACTION * x.shape[1] else None


def _row_blocks(n_rows: int) -> list[tuple[int, int]]:
    chunks = max(1, min(n_rows, _BLOCKS))
    bounds = [round(i * n_rows / chunks) for i in range(chunks + 1)]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _forward_sparse(xc: Tensor, cols: Tensor, w: Tensor, b: Tensor | None) -> Tensor | None:
    """``xc @ w[:, cols].T + b`` by blocks of ``w``'s rows, or ``None`` if ``w`` is not all
    finite (the dense product then differs: ``0 * inf`` is NaN)."""
    out = torch.empty((xc.shape[0], w.shape[0]), dtype=xc.dtype)
    for a, c in _row_blocks(w.shape[0]):
        rows = w[a:c]
        # a sum is finite only if every term is (a sum that overflows just falls back)
        if not bool(torch.isfinite(rows.sum())):
            return None
        wc = rows.index_select(1, cols)  # the block's rows are still in cache
        if b is None:
            torch.mm(xc, wc.T, out=out[:, a:c])
        else:
            torch.addmm(b[a:c], xc, wc.T, out=out[:, a:c])
    return out


def _grad_weight_sparse(g: Tensor, xc: Tensor, cols: Tensor, shape: torch.Size) -> Tensor:
    """``g.T @ x`` for an ``x`` whose columns outside ``cols`` are zero (``xc = x[:, cols]``)."""
    gt = g.T
    out = torch.empty(shape, dtype=g.dtype)
    for a, c in _row_blocks(shape[0]):
        block = out[a:c]
        block.zero_()
        block.index_copy_(1, cols, torch.mm(gt[a:c], xc))
    return out


class _Linear(torch.autograd.Function):
    """``F.linear(x, w, b)``: column-sparse where ``cols`` is given (and ``w`` is finite), the
    weight gradient left as factors in ``slot`` where it accepts them."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, w: Tensor, b: Tensor | None, cols: Tensor | None,
                slot: LowRankGrad | None) -> Tensor:
        ctx.slot = slot
        ctx.sparse = False
        if cols is not None:
            xc = x.index_select(1, cols)
            out = _forward_sparse(xc, cols, w, b)
            if out is not None:
                ctx.sparse = True
                ctx.save_for_backward(x, w, xc, cols)
                return out
        ctx.save_for_backward(x, w)
        return F.linear(x, w, b)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor | None, ...]:
        x, w, *sparse = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        dx = g @ w if need_x else None
        db = g.sum(0) if need_b else None
        dw = None
        if need_w:
            slot: LowRankGrad | None = ctx.slot
            if torch.is_grad_enabled():  # a double backward: the differentiable product
                dw = g.T @ x
            elif slot is not None and slot.accepting():
                if ctx.sparse:
                    slot.add(g, sparse[0], columns=sparse[1])
                else:
                    slot.add(g, x)
            elif ctx.sparse:
                dw = _grad_weight_sparse(g.contiguous(), sparse[0], sparse[1], w.shape)
            else:
                dw = g.T @ x
        return dx, dw, db, None, None


def _plain(t: Any) -> bool:
    return (
        type(t) in (Tensor, torch.nn.Parameter)
        and t.device.type == "cpu"
        and t.layout == torch.strided
        and t.is_contiguous()
        and not torch._C._functorch.is_functorch_wrapped_tensor(t)
    )


def _applies(x: Any, w: Any, b: Any) -> bool:
    return (
        _SUPPORTED
        and _plain(x) and _plain(w) and (b is None or _plain(b))
        and x.dim() == 2 and w.dim() == 2 and x.shape[1] == w.shape[1] and x.shape[0] > 0
        and w.dtype in _FLOATS and x.dtype == w.dtype
        and (b is None or (b.dim() == 1 and b.shape[0] == w.shape[0] and b.dtype == w.dtype))
        and w.numel() >= MIN_NUMEL
        and not torch.is_autocast_enabled("cpu")
        and not torch.compiler.is_compiling()
    )


def linear(x: Tensor, w: Tensor, b: Tensor | None = None, *, sparse_input: bool = True,
           factored: bool = True) -> Tensor:
    """``torch.nn.functional.linear(x, w, b)``, column-sparse where ``sparse_input`` and ``x``
    allow it, its weight gradient left as factors where ``factored`` and the trainer's step
    allow it (see the module's text).

    Examples
    --------
    >>> x = torch.zeros(8, 2048); x[:, 5] = 1.0; x[3, 70] = 2.0
    >>> w, b = torch.randn(1024, 2048), torch.randn(1024)
    >>> torch.allclose(linear(x, w, b), torch.nn.functional.linear(x, w, b), atol=1e-5)
    True
    """
    return _route(x, w, b, sparse_input, factored)[0]


def _route(x: Any, w: Any, b: Any, sparse_input: bool, factored: bool) -> tuple[Tensor, str]:
    """``F.linear(x, w, b)``, and how it ran: ``"sparse"``, ``"factored"`` or ``"torch"``."""
    if not _applies(x, w, b):
        return F.linear(x, w, b), "torch"
    cols = nonzero_columns(x.detach()) if sparse_input else None
    slot = None
    if factored and w.requires_grad and x.shape[0] <= MAX_RANK_FRACTION * min(w.shape):
        slot = gradient_slot(w, w)
    if cols is None and slot is None:
        return F.linear(x, w, b), "torch"
    out = _Linear.apply(x, w, b, cols, slot)
    return out, "sparse" if cols is not None else "factored"


class LinearLayers(TorchFunctionMode):
    """Routes ``F.linear`` calls through :class:`_Linear` where it applies, while active.

    The trainer enters it around its step's forward pass only. ``sparse_products`` counts the
    column-sparse products, ``factored_products`` the others whose weight gradient may be left
    as factors. Every other call goes to torch unchanged.
    """

    def __init__(self, *, sparse_input: bool = True, factored: bool = True) -> None:
        super().__init__()
        self.sparse_input = sparse_input
        self.factored = factored
        self.sparse_products = 0
        self.factored_products = 0

    @classmethod
    def for_fit(cls, device: torch.device, sparse_input: bool | str = "auto", *,
                factored: bool = True, params: Iterable[Tensor] | None = None,
                ) -> LinearLayers | nullcontext[None]:
        """The context a ``fit``'s forward passes run in: this mode on the CPU for a model with
        a large weight, else nothing.

        ``sparse_input`` is ``Trainer(sparse_input=...)``: ``"auto"`` or ``True`` (the same:
        the column-sparse product is taken only for inputs sparse enough), or ``False``
        (never). ``factored``: whether the step can update weights from factors
        (:class:`~slicewidgets.classification._lowrank.LowRankUpdate` ``.enabled``).
        ``params``: the model's parameters; without a 2-D one of :data:`MIN_NUMEL` elements
        the mode would only cost time (25% of a small model's ``fit``), and is not used.

        Examples
        --------
        >>> type(LinearLayers.for_fit(torch.device("cpu"))).__name__
        'LinearLayers'
        >>> type(LinearLayers.for_fit(torch.device("cpu"), False, factored=False)).__name__
        'nullcontext'
        >>> small = torch.nn.Linear(10, 10).parameters()
        >>> type(LinearLayers.for_fit(torch.device("cpu"), params=small)).__name__
        'nullcontext'
        """
        sparse = auto_setting("sparse_input", sparse_input)
        if device.type != "cpu" or not (sparse or factored) or not _SUPPORTED:
            return nullcontext()
        if params is not None and not any(p.dim() == 2 and p.numel() >= MIN_NUMEL for p in params):
            return nullcontext()
        return cls(sparse_input=sparse, factored=factored)

    def __torch_function__(self, func: Any, types: Any, args: tuple = (),
                           kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if func is not F.linear:
            return func(*args, **kwargs)
        x, w, b = _linear_args(args, kwargs)
        out, how = _route(x, w, b, self.sparse_input, self.factored)
        if how == "sparse":
            self.sparse_products += 1
        elif how == "factored":
            self.factored_products += 1
        return out


def _linear_args(args: tuple, kwargs: dict) -> tuple[Any, Any, Any]:
    values = dict(zip(("input", "weight", "bias"), args, strict=False))
    values.update(kwargs)
    return values.get("input"), values.get("weight"), values.get("bias")
