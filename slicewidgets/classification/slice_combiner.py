"""``SliceCombinerModule``: attention over slice experts (Snorkel's slice combiner).

Given each slice's indicator logits (is the row in the slice?) and its expert's prediction
logits, the combiner weights the slice representations by
``softmax_s(P(row in s) * confidence_s / temperature)`` and sums them: the master head of a
slice-aware model predicts from this sum. Binary as in Snorkel; multiclass too (a deliberate
difference: Snorkel raises ``NotImplementedError``).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from slicewidgets.classification._utils import collect_flow_outputs_by_suffix

__all__ = ["CONFIDENCES", "SliceCombinerModule"]

CONFIDENCES = ("auto", "positive", "max")


def confidence_kind(confidence: str, num_classes: int) -> str:
    if confidence not in CONFIDENCES:
        raise ValueError(f"confidence must be one of {list(CONFIDENCES)}; got {confidence!r}.")
    if confidence == "auto":
        return "positive" if num_classes == 2 else "max"
    if confidence == "positive" and num_classes != 2:
        raise ValueError(
            f"confidence='positive' (P(class 1), Snorkel's) needs 2 classes; got {num_classes}. "
            "Use confidence='max'."
        )
    return confidence


class SliceCombinerModule(nn.Module):
    """Attention over slice experts, Snorkel's ``SliceCombinerModule`` (binary and multiclass).

    With indicator logits ``[B, S, 2]`` and prediction-head logits ``[B, S, k]`` of the ``S``
    slices, the weights are ``softmax_s(P(row in s) * conf_s / temperature)``, where ``conf_s``
    is P(class 1) of slice ``s``'s prediction (two classes, as Snorkel) or its largest class
    probability (``k > 2``, or ``confidence="max"``). The output is the weighted sum of the
    slice representations.

    Parameters
    ----------
    slice_ind_key, slice_pred_key, slice_pred_feat_key
        Suffixes of the indicator logits, prediction logits and slice representations in the
        ``output_dict`` given to :meth:`forward` (Snorkel's op-name convention).
    temperature
        Softmax temperature (> 0): small values pick one expert, large values average them.
    confidence
        ``"auto"`` (``"positive"`` for 2 classes, else ``"max"``), ``"positive"`` or ``"max"``.

    Examples
    --------
    >>> combiner = SliceCombinerModule()
    >>> outputs = {
    ...     "a_ind_head": torch.tensor([[0.0, 5.0]]), "b_ind_head": torch.tensor([[5.0, 0.0]]),
    ...     "a_pred_head": torch.tensor([[0.0, 5.0]]), "b_pred_head": torch.tensor([[0.0, 5.0]]),
    ...     "a_pred_transform": torch.tensor([[1.0, 0.0]]),
    ...     "b_pred_transform": torch.tensor([[0.0, 1.0]]),
    ... }
    >>> combiner(outputs)  # slice a (row is a member, confident) gets more weight
    tensor([[0.7271, 0.2729]])
    """

    def __init__(
        self,
        slice_ind_key: str = "_ind_head",
        slice_pred_key: str = "_pred_head",
        slice_pred_feat_key: str = "_pred_transform",
        temperature: float = 1.0,
        confidence: str = "auto",
    ) -> None:
        super().__init__()
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0; got {temperature}.")
        if confidence not in CONFIDENCES:
            raise ValueError(f"confidence must be one of {list(CONFIDENCES)}; got {confidence!r}.")
        self.slice_ind_key = slice_ind_key
        self.slice_pred_key = slice_pred_key
        self.slice_pred_feat_key = slice_pred_feat_key
        self.temperature = temperature
        self.confidence = confidence

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, confidence={self.confidence!r}"

    def attention(self, ind_logits: Tensor, pred_logits: Tensor) -> Tensor:
        """Attention weights ``[B, S]`` from indicator ``[B, S, 2]`` and prediction ``[B, S, k]``
        logits."""
        k = pred_logits.shape[-1]
        if k < 2:
            raise NotImplementedError(
                "SliceCombiner currently requires output shape [..., 2] for predictor heads."
            )
        kind = confidence_kind(self.confidence, k)
        p_ind = F.softmax(ind_logits, dim=-1)[..., 1]
        probs = F.softmax(pred_logits, dim=-1)
        conf = probs[..., 1] if kind == "positive" else probs.max(dim=-1).values
        return F.softmax(p_ind * conf / self.temperature, dim=-1)

    def forward(self, output_dict: Mapping[str, Tensor]) -> Tensor:
        """The reweighted representation ``[B, d]`` from Snorkel-style op outputs."""
        ind = collect_flow_outputs_by_suffix(output_dict, self.slice_ind_key)
        pred = collect_flow_outputs_by_suffix(output_dict, self.slice_pred_key)
        feats = collect_flow_outputs_by_suffix(output_dict, self.slice_pred_feat_key)
        if not (len(ind) == len(pred) == len(feats)) or not ind:
            raise ValueError(
                f"output_dict must hold one '*{self.slice_ind_key}', '*{self.slice_pred_key}' "
                f"and '*{self.slice_pred_feat_key}' output per slice; found {len(ind)}, "
                f"{len(pred)} and {len(feats)}."
            )
        weights = self.attention(torch.stack(ind, dim=1), torch.stack(pred, dim=1))
        reps = torch.stack(feats, dim=1)
        return torch.sum(weights.unsqueeze(-1) * reps, dim=1)
