"""Slice-aware learning: a classifier that adds capacity for critical slices.

Slice-based learning (Chen, Wu, Weng, Ratner, Ré, NeurIPS 2019), as Snorkel's
``SliceAwareClassifier`` implements it: a shared ``base_architecture`` computes a representation
``h``; for each slice (plus ``"base"``, every row) an *indicator head* learns slice membership
and an *expert* (a linear transform of ``h``) learns the task on the slice's rows through one
*prediction head* shared by all experts; an attention combiner weights the experts by
``softmax_s(P(row in s) * confidence_s / temperature)`` and a master head predicts from the
weighted representation. Slicing functions are only needed to build the training labels:
predictions use the master head alone.

Same label names, losses and numbers as Snorkel (the training loss is the sum over labels of
each label's mean cross-entropy; slice experts learn on slice members only). Differences:

* multiclass works (``num_classes``); the combiner's confidence is P(class 1) for two classes,
  as in Snorkel, and the largest class probability for more (``confidence=``);
* the experts are computed together, and never materialized: they only reach the loss through
  the master and prediction heads, so ``head(expert(h))`` is computed as
  ``(head.weight @ expert.weight) h`` -- same parameters and results, a fraction of the cost;
* ``expert_dim`` can be smaller than ``head_dim`` (Snorkel: equal);
* ``make_slice_dataloader`` copies the dataset instead of changing it, and checks ``S``;
* ``score_slices`` matches label names exactly (Snorkel matches the substrings "pred" / "ind")
  and reports NaN for a slice with no row instead of failing;
* ``-1`` in ``S`` (an SF that abstained or failed) means unknown membership: the row is ignored
  by that slice's indicator and expert (Snorkel counts it as a member).

Baselines with the same API: :class:`PlainClassifier` (no slices) and
:func:`make_oversampling_dataloader` (slice rows drawn more often, with PyTorch's
``WeightedRandomSampler``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

try:  # torch comes with the 'learn' extra; say so instead of a bare ModuleNotFoundError
    import torch
except ModuleNotFoundError as _err:
    from slicewidgets._optional import missing_extra

    raise missing_extra(_err, purpose="Slice-aware learning (slicewidgets.slicing.sliceaware)") from None
import torch.nn.functional as F
from torch import Tensor, nn

from slicewidgets.classification._dict_classifier import _Heads
from slicewidgets.classification._lowrank import LowRankGrad, gradient_slot
from slicewidgets.classification._parallel import mm_split_inner, mm_t_split_rows
from slicewidgets.classification._prediction import _PredictingClassifier
from slicewidgets.classification._utils import resolve_device
from slicewidgets.classification.data import DEFAULT_INPUT_DATA_KEY, DEFAULT_TASK_NAME
from slicewidgets.classification.slice_combiner import SliceCombinerModule, confidence_kind
from slicewidgets.classification.slice_tasks import BASE_SLICE

__all__ = ["PlainClassifier", "SliceAwareClassifier"]


def _init_linear_(weight: Tensor, bias: Tensor) -> None:
    """Initialise ``weight [out, in]`` and ``bias [out]`` (views allowed) as ``nn.Linear``
    does, drawing the same random numbers in the same order."""
    with torch.no_grad():
        w = torch.empty(weight.shape, dtype=weight.dtype)
        nn.init.kaiming_uniform_(w, a=math.sqrt(5))
        fan_in = w.shape[1]
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        b = torch.empty(bias.shape, dtype=bias.dtype)
        nn.init.uniform_(b, -bound, bound)
        weight.copy_(w)
        bias.copy_(b)


class _HeadsThroughExperts(torch.autograd.Function):
    """``P @ W`` (heads ``[2k, d]`` times all experts ``[d, S*h]``), with the experts' gradient
    ``P.T @ dK`` computed from a contiguous copy of ``P.T``, or, inside ``Trainer.fit``'s own
    step, not computed at all.

    That gradient is the step's largest output (``d * S * h`` numbers, 368 MB for the tutorial
    model) with an inner dimension of only ``2k`` (4): MKL's kernel for the transposed view
    ``torch.mm`` backward passes ran 1.3-1.6x slower than for a contiguous ``[d, 2k]`` matrix
    (``benchmarks/bench_learning.py gemm`` prints both). Same products, same values as autograd's.
    Given a ``slot`` (:func:`~slicewidgets.classification._lowrank.gradient_slot`), the backward
    pass of the trainer's step leaves the gradient as its factors ``(P, dK)`` there, and the
    trainer updates the experts from them (``classification/_lowrank.py``); ``W``'s parameter
    then gets no ``.grad``.
    """

    @staticmethod
    def forward(ctx: Any, P: Tensor, W: Tensor, slot: LowRankGrad | None = None) -> Tensor:
        ctx.save_for_backward(P, W)
        ctx.slot = slot
        return mm_split_inner(P, W)

    @staticmethod
    def backward(ctx: Any, dK: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        P, W = ctx.saved_tensors
        dP = None
        if ctx.needs_input_grad[0]:  # one product where a graph is recorded (double backward)
            dP = dK @ W.T if torch.is_grad_enabled() else mm_t_split_rows(dK, W)
        dW = None
        if ctx.needs_input_grad[1]:
            slot: LowRankGrad | None = ctx.slot
            if slot is not None and slot.accepting():
                slot.add(P, dK)  # the gradient is P.T @ dK, kept as its factors
            else:
                dW = P.T.contiguous() @ dK
        return dP, dW, None


# -- the models -----------------------------------------------------------------------------------
class SliceAwareClassifier(_PredictingClassifier):
    """Snorkel's slice-aware classifier: slice indicator heads, slice experts and attention.

    A :class:`~slicewidgets.classification.MultitaskClassifier` with the tasks of
    :func:`~slicewidgets.classification.convert_to_slice_tasks` (same names, same initial
    weights for a seeded run, same outputs), computed together.

    Parameters
    ----------
    base_architecture
        A module mapping the input field to a representation ``[batch, head_dim]``.
    head_dim
        Size of ``base_architecture``'s output.
    slice_names
        Names of the slices (the fields of ``S``); a ``"base"`` slice (all rows) is added.
    input_data_key
        The ``X_dict`` field fed to ``base_architecture``.
    task_name
        Name of the task label (``Y_dict`` key) and prefix of the slice labels.
    scorer
        A :class:`~slicewidgets.analysis.Scorer` for ``score`` / ``score_slices`` (default
        ``Scorer(metrics=["accuracy", "f1"])``, ``["accuracy", "f1_macro"]`` for multiclass).
    num_classes
        Number of classes (Snorkel: 2 only).
    expert_dim
        Output size of each slice expert (default ``head_dim``, as in Snorkel); smaller values
        save memory and time.
    temperature
        Temperature of the attention softmax.
    confidence
        Confidence of a slice expert in the attention: ``"auto"`` is P(class 1) for two classes
        (Snorkel) and the largest class probability otherwise.
    device
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, an int (Snorkel) or a device.
    dataparallel
        Accepted for Snorkel compatibility and ignored (the model is never wrapped).

    Attributes
    ----------
    slice_names : list of str
        As given.
    task_names : set of str
        The task label and the ``_ind`` / ``_pred`` label of every slice, ``base`` included.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from slicewidgets.classification import DictDataset, Trainer
    >>> _ = torch.manual_seed(0)
    >>> X = torch.randn(200, 2); Y = (X[:, 0] > X[:, 1]).long()
    >>> S = np.rec.fromarrays([(X[:, 0] > 1).numpy().astype(np.int64)], names="right")
    >>> mlp = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU())
    >>> model = SliceAwareClassifier(mlp, head_dim=16, slice_names=["right"], device="cpu")
    >>> dl = model.make_slice_dataloader(DictDataset.from_tensors(X, Y, "train"), S,
    ...                                  batch_size=32, shuffle=True)
    >>> Trainer(n_epochs=5, lr=0.05, progress_bar=False, seed=0, device="cpu").fit(model, [dl])
    >>> sorted(model.score_slices([dl]))[:2]
    ['task/SnorkelDataset/train/accuracy', 'task/SnorkelDataset/train/f1']
    >>> bool((model.predict(X) == Y.numpy()).mean() > 0.9)  # no SF needed at inference
    True
    """

    _model_kind = "sliceaware_classifier"

    def __init__(
        self,
        base_architecture: nn.Module,
        head_dim: int,
        slice_names: Sequence[str],
        input_data_key: str = DEFAULT_INPUT_DATA_KEY,
        task_name: str = DEFAULT_TASK_NAME,
        scorer: Any = None,
        *,
        num_classes: int = 2,
        expert_dim: int | None = None,
        temperature: float = 1.0,
        confidence: str = "auto",
        device: Any = "auto",
        dataparallel: bool = False,
    ) -> None:
        super().__init__()
        self._init_common(base_architecture, head_dim, input_data_key, task_name, scorer, num_classes)
        if isinstance(slice_names, str) or not all(isinstance(s, str) and s for s in slice_names):
            raise TypeError(
                f"slice_names must be a list of non-empty strings, e.g. [sf.name for sf in sfs]; "
                f"got {slice_names!r}."
            )
        slice_names = list(slice_names)
        dupes = sorted({s for s in slice_names if slice_names.count(s) > 1})
        if dupes:
            raise ValueError(f"slice_names must be unique; repeated: {dupes}.")
        if BASE_SLICE in slice_names:
            raise ValueError(
                f"slice_names must not contain {BASE_SLICE!r}: the model adds its own "
                f"{BASE_SLICE!r} slice of all rows, which a slice of that name would replace. "
                "Rename the slicing function, e.g. sf.rename('base_rows')."
            )
        bad = [s for s in slice_names if "/" in s]
        if bad:
            raise ValueError(
                f"Slice names must not contain '/', which separates the parts of metric names; "
                f"got {bad}."
            )
        if expert_dim is None:
            expert_dim = head_dim
        if not (isinstance(expert_dim, int) and expert_dim > 0):
            raise ValueError(f"expert_dim must be a positive int; got {expert_dim!r}.")
        confidence_kind(confidence, num_classes)
        self.slice_names = slice_names
        self._slice_list = slice_names if BASE_SLICE in slice_names else [*slice_names, BASE_SLICE]
        self.expert_dim = expert_dim
        h, d, k, n_slices = head_dim, expert_dim, num_classes, len(self._slice_list)

        # Created in the order Snorkel creates them, so that a seeded model starts from the
        # same weights: master head, indicator heads, shared prediction head, experts.
        self.master_head = nn.Linear(d, k)
        self.ind_head_weight = nn.Parameter(torch.empty(n_slices, 2, h))
        self.ind_head_bias = nn.Parameter(torch.empty(n_slices, 2))
        for j in range(n_slices):
            _init_linear_(self.ind_head_weight[j], self.ind_head_bias[j])
        self.pred_head = nn.Linear(d, k)
        # expert j is the Linear(h, d) with weight expert_weight[:, j, :] and bias expert_bias[j];
        # this layout makes ``head.weight @ all experts`` one matrix product.
        self.expert_weight = nn.Parameter(torch.empty(d, n_slices, h))
        self.expert_bias = nn.Parameter(torch.empty(n_slices, d))
        for j in range(n_slices):
            _init_linear_(self.expert_weight[:, j, :], self.expert_bias[j])
        self.combiner = SliceCombinerModule(temperature=temperature, confidence=confidence)
        self.to(resolve_device(device))

    def extra_repr(self) -> str:
        return (
            f"slice_names={self.slice_names}, task_name={self.task_name!r}, "
            f"num_classes={self.num_classes}, head_dim={self.head_dim}, "
            f"expert_dim={self.expert_dim}"
        )

    @property
    def temperature(self) -> float:
        return self.combiner.temperature

    def _heads(self, H: Tensor, need_slices: bool = True) -> _Heads:
        B, h = H.shape
        d, n_slices, k = self.expert_dim, len(self._slice_list), self.num_classes
        ind = F.linear(
            H, self.ind_head_weight.reshape(n_slices * 2, h), self.ind_head_bias.reshape(-1)
        ).view(B, n_slices, 2)
        # head(expert_s(H)) = H @ (head.W @ W_s).T + head.W @ b_s: the experts' d-dimensional
        # outputs are never formed; both heads are applied to all experts in one product.
        P = torch.cat([self.pred_head.weight, self.master_head.weight], dim=0)  # [2k, d]
        W = self.expert_weight.view(d, n_slices * h)
        K = _HeadsThroughExperts.apply(P, W, gradient_slot(self.expert_weight, W))
        K = K.view(2 * k * n_slices, h)
        Z = (H @ K.T).view(B, 2 * k, n_slices) + (P @ self.expert_bias.T)  # [B, 2k, S]
        pred = (Z[:, :k, :] + self.pred_head.bias.view(1, k, 1)).transpose(1, 2)  # [B, S, k]
        attention = self.combiner.attention(ind, pred)  # [B, S]
        master = torch.bmm(Z[:, k:, :], attention.unsqueeze(-1)).squeeze(-1) + self.master_head.bias
        return _Heads(master, ind, pred, attention)

    @torch.no_grad()
    def slice_attention(self, data: Any, *, batch_size: int = 256) -> pd.DataFrame:
        """Attention weights of each slice expert for every row (rows sum to 1).

        Examples
        --------
        >>> model = SliceAwareClassifier(torch.nn.Identity(), 2, ["a"], device="cpu")
        >>> model.slice_attention(torch.zeros(2, 2)).columns.tolist()
        ['a', 'base']
        """
        self.eval()
        chunks = []
        for X, _ in self._iter_batches(data, batch_size):
            attention = self._heads(self._body(X)).attention
            assert attention is not None  # need_slices=True
            chunks.append(attention.cpu())
        values = torch.cat(chunks).numpy() if chunks else np.zeros((0, len(self._slice_list)))
        return pd.DataFrame(values, columns=self._slice_list)


class PlainClassifier(_PredictingClassifier):
    """Baseline with the same API: ``base_architecture`` and one linear head, no slice heads.

    Trains on the task label only (slice labels in the loader are used for
    :meth:`score_slices`). With :meth:`make_oversampling_dataloader` it is the oversampling
    baseline.

    Parameters
    ----------
    base_architecture, head_dim, input_data_key, task_name, scorer, num_classes, device
        As for :class:`SliceAwareClassifier`.
    slice_names
        If given, ``make_slice_dataloader`` checks that ``S`` has these fields.

    Examples
    --------
    >>> model = PlainClassifier(torch.nn.Linear(3, 4), head_dim=4, device="cpu")
    >>> model.predict_proba(torch.zeros(2, 3)).shape
    (2, 2)
    """

    _model_kind = "plain_classifier"

    def __init__(
        self,
        base_architecture: nn.Module,
        head_dim: int,
        input_data_key: str = DEFAULT_INPUT_DATA_KEY,
        task_name: str = DEFAULT_TASK_NAME,
        scorer: Any = None,
        *,
        num_classes: int = 2,
        slice_names: Sequence[str] | None = None,
        device: Any = "auto",
    ) -> None:
        super().__init__()
        self._init_common(base_architecture, head_dim, input_data_key, task_name, scorer, num_classes)
        self.slice_names = list(slice_names) if slice_names is not None else None
        self._slice_list = []
        self.head = nn.Linear(head_dim, num_classes)
        self.to(resolve_device(device))

    def _expected_slices(self) -> list[str] | None:
        return self.slice_names

    def _heads(self, H: Tensor, need_slices: bool = True) -> _Heads:
        return _Heads(self.head(H), None, None, None)
