"""Cross-entropy against probabilistic labels (``cross_entropy_with_probs``, Snorkel's loss)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["cross_entropy_with_probs"]

REDUCTIONS = ("none", "mean", "sum")


def cross_entropy_with_probs(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """Cross-entropy of logits ``input [n, k]`` against label probabilities ``target [n, k]``.

    Equals ``F.cross_entropy`` when ``target`` is one-hot; with ``weight [k]``, class ``c``'s
    term is multiplied by ``weight[c]`` (Snorkel's definition: no renormalization by the
    weights). A drop-in for ``F.cross_entropy`` as a ``Task``'s ``loss_func`` when training on
    probabilistic labels.

    Parameters
    ----------
    input
        Logits, ``[n, k]``.
    target
        Label probabilities, ``[n, k]`` (rows sum to 1).
    weight
        Optional per-class weights, ``[k]``.
    reduction
        ``"none"`` (one loss per row), ``"mean"`` or ``"sum"``.

    Raises
    ------
    ValueError
        If ``reduction`` is not one of the three, or the shapes differ.

    Examples
    --------
    >>> logits = torch.tensor([[2.0, 0.0], [0.0, 2.0]])
    >>> one_hot = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> bool(torch.isclose(cross_entropy_with_probs(logits, one_hot),
    ...                    F.cross_entropy(logits, torch.tensor([0, 1]))))
    True
    """
    if reduction not in REDUCTIONS:
        raise ValueError("Keyword 'reduction' must be one of ['none', 'mean', 'sum']")
    if input.dim() != 2 or tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"input and target must both be [n, n_classes]; got {tuple(input.shape)} and "
            f"{tuple(target.shape)}. For integer labels use F.cross_entropy."
        )
    per_class = -F.log_softmax(input, dim=1)  # loss of each row if its label were class c
    if weight is not None:
        per_class = per_class * weight.to(per_class).view(1, -1)
    losses = (target.to(per_class) * per_class).sum(dim=1)
    if reduction == "none":
        return losses
    return losses.mean() if reduction == "mean" else losses.sum()
