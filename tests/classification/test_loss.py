"""cross_entropy_with_probs (slicewidgets/classification/loss.py)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402

from slicewidgets.classification import cross_entropy_with_probs  # noqa: E402


def test_matches_cross_entropy_on_one_hot_targets_with_and_without_weights():
    torch.manual_seed(0)
    logits, labels = torch.randn(6, 3), torch.tensor([0, 1, 2, 2, 1, 0])
    one_hot = F.one_hot(labels, 3).float()
    weight = torch.tensor([1.0, 2.0, 0.5])
    for reduction in ("none", "sum"):
        torch.testing.assert_close(
            cross_entropy_with_probs(logits, one_hot, weight=weight, reduction=reduction),
            F.cross_entropy(logits, labels, weight=weight, reduction=reduction))
    torch.testing.assert_close(cross_entropy_with_probs(logits, one_hot),
                               F.cross_entropy(logits, labels))


def test_soft_targets_mix_the_class_losses():
    logits = torch.tensor([[1.0, -1.0]])
    target = torch.tensor([[0.25, 0.75]])
    per_class = -F.log_softmax(logits, dim=1)[0]
    expected = 0.25 * per_class[0] + 0.75 * per_class[1]
    assert cross_entropy_with_probs(logits, target).item() == pytest.approx(expected.item())


def test_errors():
    with pytest.raises(ValueError, match=r"Keyword 'reduction' must be one of \['none', 'mean', 'sum'\]"):
        cross_entropy_with_probs(torch.zeros(1, 2), torch.zeros(1, 2), reduction="max")
    with pytest.raises(ValueError, match=r"must both be \[n, n_classes\]; got \(2, 2\) and \(2,\)"):
        cross_entropy_with_probs(torch.zeros(2, 2), torch.zeros(2))
