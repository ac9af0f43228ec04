"""Slice labels: their names, the membership matrix they come from, the label tensors, their checks.

Shared by :mod:`~slicewidgets.classification.slice_tasks` (Snorkel's ``add_slice_labels``), the
slice-aware classifiers' ``make_slice_dataloader`` and the oversampling baseline, so each check
and message is written once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor

from slicewidgets.classification.data import DictDataset

__all__ = [
    "BASE_SLICE",
    "check_batch_labels",
    "check_label_values",
    "check_rows",
    "missing_labels_message",
    "slice_columns",
    "slice_label_names",
    "slice_label_tensors",
]

BASE_SLICE = "base"


def slice_label_names(task_name: str, slice_name: str) -> tuple[str, str]:
    """Snorkel's indicator and predictor label names for one slice.

    Examples
    --------
    >>> slice_label_names("task", "short_comment")
    ('task_slice:short_comment_ind', 'task_slice:short_comment_pred')
    """
    return f"{task_name}_slice:{slice_name}_ind", f"{task_name}_slice:{slice_name}_pred"


def slice_columns(S: Any, argument: str = "S") -> tuple[list[str], np.ndarray]:
    """Slice names and an int64 ``(n, k)`` matrix of -1/0/1 from any accepted form of ``S``."""
    from slicewidgets.membership import SliceMembership, membership_columns

    if isinstance(S, SliceMembership):
        return list(S.names), np.asarray(S.matrix, dtype=np.int64)
    names, cols, n = membership_columns(S, argument)
    matrix = np.zeros((n, len(names)), dtype=np.int64)
    for j, (name, col) in enumerate(zip(names, cols, strict=True)):
        values = col.astype(np.int64)
        bad = ~np.isin(values, (-1, 0, 1)) | (values != col)
        if bad.any():
            raise ValueError(
                f"{argument}[{name!r}] has values {sorted(set(col[bad].tolist()))[:5]}; slice "
                "membership must be 0/1 (or -1 where a slicing function abstained)."
            )
        matrix[:, j] = values
    return names, matrix


def _with_base(names: list[str], M: np.ndarray) -> tuple[list[str], np.ndarray]:
    if BASE_SLICE in names:
        return names, M
    return [*names, BASE_SLICE], np.concatenate([M, np.ones((M.shape[0], 1), np.int64)], axis=1)


def slice_label_tensors(
    names: list[str], M: np.ndarray, labels: Tensor, task_name: str
) -> dict[str, Tensor]:
    names, M = _with_base(names, M)
    out: dict[str, Tensor] = {}
    ind_all = torch.from_numpy(M).to(labels.device)
    for j, name in enumerate(names):
        ind_name, pred_name = slice_label_names(task_name, name)
        ind = ind_all[:, j].clone()
        pred = labels.clone()
        pred[ind != 1] = -1
        out[ind_name] = ind
        out[pred_name] = pred
    return out



def check_rows(M: np.ndarray, dataset: DictDataset) -> None:
    if M.shape[0] != len(dataset):
        raise ValueError(
            f"S has {M.shape[0]} rows but the dataset has {len(dataset)}; compute S with the "
            "applier on the same rows, in the same order, as the dataset."
        )


def missing_labels_message(task_name: str, dataset: Any) -> str:
    return (
        f"Base task ({task_name}) labels missing from {dataset}; build the dataset with "
        f"task_name={task_name!r} (DictDataset.from_tensors(X, Y, split, task_name=...)) or "
        "create the model with the dataset's label name as task_name."
    )


def check_label_values(name: str, labels: Tensor, num_classes: int) -> None:
    if labels.dtype.is_floating_point and not torch.equal(labels, labels.round()):
        raise ValueError(
            f"Label {name!r} has non-integer values; labels must be class indices 0..."
            f"{num_classes - 1} (or -1 for no label)."
        )
    if labels.numel() == 0:
        return
    bad = (labels < -1) | (labels >= num_classes)
    if bool(bad.any()):
        found = sorted(set(labels[bad].tolist()))[:5]
        raise ValueError(
            f"Label {name!r} has values outside the classes: found {found}, expected -1 (no "
            f"label) or 0..{num_classes - 1}. Set num_classes= to the number of classes, or map "
            "the labels to 0..num_classes-1."
        )


def check_batch_labels(
    present: list[tuple[str, tuple[str, int | None]]], Y: Mapping[str, Tensor], num_classes: int
) -> None:
    """:func:`check_label_values` for all labels of a batch, with one device sync."""
    flags = []
    for name, (kind, _) in present:
        y = Y[name]
        k = 2 if kind == "ind" else num_classes
        bad = (y < -1) | (y >= k)
        if y.dtype.is_floating_point:
            bad = bad | (y != y.round())
        flags.append(bad.any())
    if bool(torch.stack(flags).any()):
        for name, (kind, _) in present:
            check_label_values(name, Y[name], 2 if kind == "ind" else num_classes)
