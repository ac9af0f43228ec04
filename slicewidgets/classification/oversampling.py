"""Oversampling baseline: a dataloader that draws the rows of critical slices more often."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch.utils.data import WeightedRandomSampler

from slicewidgets.classification._slice_labels import (
    check_rows,
    missing_labels_message,
    slice_columns,
    slice_label_tensors,
)
from slicewidgets.classification.data import DEFAULT_TASK_NAME, DictDataLoader, DictDataset

__all__ = ["make_oversampling_dataloader"]


def make_oversampling_dataloader(
    dataset: DictDataset,
    S: Any,
    *,
    slice_weights: float | Mapping[str, float] = 5.0,
    task_name: str = DEFAULT_TASK_NAME,
    num_samples: int | None = None,
    generator: torch.Generator | None = None,
    **dataloader_kwargs: Any,
) -> DictDataLoader:
    """A loader that draws the rows of the slices in ``S`` more often (oversampling baseline).

    Each row is drawn with probability proportional to its weight: 1 outside every slice, the
    largest ``slice_weights`` of its slices inside (PyTorch's ``WeightedRandomSampler``, with
    replacement). The loader's dataset is a copy of ``dataset`` with the slice labels added, so
    ``score_slices`` works on it.

    Parameters
    ----------
    dataset
        A ``DictDataset`` with the task labels.
    S
        Slice membership of the dataset's rows.
    slice_weights
        One factor for every slice, or ``{slice name: factor}`` (slices not named get 1).
    task_name
        The task label (for the slice labels).
    num_samples
        Rows drawn per epoch (default: ``len(dataset)``).
    generator
        Random generator of the sampler (default: torch's global one, seeded by
        ``Trainer(seed=...)``).
    **dataloader_kwargs
        Passed to ``DictDataLoader`` (``batch_size``, ...; not ``shuffle`` or ``sampler``).

    Examples
    --------
    >>> ds = DictDataset.from_tensors(torch.zeros(4, 1), torch.tensor([0, 1, 0, 1]), "train")
    >>> S = np.rec.fromarrays([np.array([1, 0, 0, 0])], names="first")
    >>> dl = make_oversampling_dataloader(ds, S, slice_weights=3.0, batch_size=2)
    >>> dl.sampler.weights.tolist()
    [3.0, 1.0, 1.0, 1.0]
    """
    names, M = slice_columns(S)
    check_rows(M, dataset)
    if {"shuffle", "sampler", "batch_sampler"} & set(dataloader_kwargs):
        raise TypeError(
            "make_oversampling_dataloader sets its own sampler; do not pass shuffle, sampler or "
            "batch_sampler."
        )
    if isinstance(slice_weights, Mapping):
        unknown = [n for n in slice_weights if n not in names]
        if unknown:
            raise ValueError(f"slice_weights names {unknown}, which are not fields of S ({names}).")
        factors = np.array([float(slice_weights.get(n, 1.0)) for n in names])
    else:
        factors = np.full(len(names), float(slice_weights))
    if (factors <= 0).any() or not np.isfinite(factors).all():
        raise ValueError(f"slice_weights must be positive numbers; got {slice_weights!r}.")
    member = M == 1
    weights = np.where(member, factors[None, :], 1.0).max(axis=1) if names else np.ones(len(M))
    if any(label.startswith(f"{task_name}_slice:") for label in dataset.Y_dict):
        new = dataset
    else:
        if task_name not in dataset.Y_dict:
            raise ValueError(missing_labels_message(task_name, dataset))
        new = copy.copy(dataset)
        new.X_dict = dict(dataset.X_dict)
        new.Y_dict = {
            **dataset.Y_dict,
            **slice_label_tensors(names, M, dataset.Y_dict[task_name].long(), task_name),
        }
    sampler = WeightedRandomSampler(
        torch.as_tensor(weights, dtype=torch.double),  # type: ignore[arg-type]  # stub: Sequence
        num_samples=num_samples if num_samples is not None else len(dataset),
        replacement=True,
        generator=generator,
    )
    return DictDataLoader(new, sampler=sampler, **dataloader_kwargs)
