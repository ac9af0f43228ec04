"""Small tensor helpers shared by the data loaders, the trainer and the classifiers.

Same names and behaviour as ``snorkel.classification.utils``, except that ``move_to_device``
takes a ``torch.device`` (or a string) rather than a CUDA index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import torch

__all__ = [
    "collect_flow_outputs_by_suffix",
    "list_to_tensor",
    "metrics_dict_to_dataframe",
    "move_to_device",
    "pad_batch",
    "resolve_device",
]


def list_to_tensor(item_list: Sequence[torch.Tensor]) -> torch.Tensor:
    """Merge a list of tensors into one tensor, as ``snorkel.classification.utils`` does.

    0-d tensors are stacked; tensors of one shape with 2 or more dimensions are stacked; anything
    else is flattened to 1-D and right-padded with 0 (see :func:`pad_batch`).

    Examples
    --------
    >>> list_to_tensor([torch.tensor(1), torch.tensor(2)])
    tensor([1, 2])
    >>> list_to_tensor([torch.tensor([1, 2, 3]), torch.tensor([4])])
    tensor([[1, 2, 3],
            [4, 0, 0]])
    """
    if all(item.dim() == 0 for item in item_list):
        return torch.stack(list(item_list), dim=0)
    first = item_list[0].size()
    if all(item.size() == first and item.dim() != 1 for item in item_list):
        return torch.stack(list(item_list), dim=0)
    padded, _ = pad_batch([item.reshape(-1) for item in item_list])
    return padded


def pad_batch(
    batch: Sequence[torch.Tensor],
    max_len: int = 0,
    pad_value: int = 0,
    left_padded: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad 1-D tensors into a ``[batch, length]`` tensor and its padding mask.

    Parameters
    ----------
    batch
        1-D tensors of possibly different lengths.
    max_len
        Truncate to this length if positive and shorter than the longest item.
    pad_value
        Value used for padding (the mask is 1 where the padded tensor equals it).
    left_padded
        Pad on the left (keeping the last ``max_len`` items) instead of the right.

    Examples
    --------
    >>> padded, mask = pad_batch([torch.tensor([1, 2]), torch.tensor([3])])
    >>> padded
    tensor([[1, 2],
            [3, 0]])
    >>> mask
    tensor([[0, 0],
            [0, 1]])
    """
    max_seq_len = max(len(item) for item in batch)
    if 0 < max_len < max_seq_len:
        max_seq_len = max_len
    padded = batch[0].new_full((len(batch), max_seq_len), pad_value)
    for i, item in enumerate(batch):
        length = min(len(item), max_seq_len)
        if length == 0:
            continue
        if left_padded:
            padded[i, -length:] = item[-length:]
        else:
            padded[i, :length] = item[:length]
    mask = torch.eq(padded, pad_value).type_as(padded)
    return padded, mask


def resolve_device(device: Any) -> torch.device:
    """Turn ``"auto"``, ``None``, an int, a string or a device into a ``torch.device``.

    ``"auto"`` is ``cuda`` when CUDA is available, else ``cpu``. An int ``i >= 0`` is
    ``cuda:i`` when CUDA is available (Snorkel's ``device=0``), else ``cpu``; ``-1`` and
    ``None`` are ``cpu``.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device(-1)
    device(type='cpu')
    """
    if isinstance(device, torch.device):
        return device
    if device is None:
        return torch.device("cpu")
    if isinstance(device, int) and not isinstance(device, bool):
        if device >= 0 and torch.cuda.is_available():
            return torch.device(f"cuda:{device}")
        return torch.device("cpu")
    if isinstance(device, str):
        if device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        try:
            return torch.device(device)
        except RuntimeError:
            raise ValueError(
                f"device must be 'auto', 'cpu', 'cuda', 'cuda:N', an int or a torch.device; "
                f"got {device!r}."
            ) from None
    raise TypeError(
        f"device must be 'auto', 'cpu', 'cuda', an int or a torch.device; got {device!r}."
    )


def move_to_device(obj: Any, device: torch.device | str | int) -> Any:
    """Move the tensors in a (nested) dict / list / tuple to ``device``; other values as is.

    Examples
    --------
    >>> move_to_device({"x": torch.zeros(2), "ids": [1, 2]}, "cpu")
    {'x': tensor([0., 0.]), 'ids': [1, 2]}
    >>> move_to_device(torch.ones(1), -1)  # Snorkel's int devices: -1 is the CPU
    tensor([1.])
    """
    if not isinstance(device, torch.device):
        device = resolve_device(device)
    if isinstance(obj, torch.Tensor):
        return obj.to(device, non_blocking=True)  # returns obj itself when already there
    if isinstance(obj, Mapping):
        return {key: move_to_device(value, device) for key, value in obj.items()}
    if isinstance(obj, list):
        return [move_to_device(item, device) for item in obj]
    if isinstance(obj, tuple):
        return tuple(move_to_device(item, device) for item in obj)
    return obj


def collect_flow_outputs_by_suffix(
    output_dict: Mapping[str, torch.Tensor], suffix: str
) -> list[torch.Tensor]:
    """The values of ``output_dict`` whose key ends with ``suffix``, ordered by sorted key.

    Examples
    --------
    >>> collect_flow_outputs_by_suffix({"b_head": 2, "a_head": 1, "c": 3}, "_head")
    [1, 2]
    """
    return [output_dict[name] for name in sorted(output_dict) if name.endswith(suffix)]


def metrics_dict_to_dataframe(metrics_dict: Mapping[str, float]) -> pd.DataFrame:
    """A ``{"label/dataset/split/metric": score}`` dict as a DataFrame, one row per key.

    Columns are ``label, dataset, split, metric, score``, rows in the dict's order.

    Examples
    --------
    >>> metrics_dict_to_dataframe({"task/D/test/f1": 0.5})
      label dataset split metric  score
    0  task       D  test     f1    0.5
    """
    rows = []
    for key, score in metrics_dict.items():
        label, dataset, split, metric = key.split("/")
        rows.append((label, dataset, split, metric, score))
    return pd.DataFrame(rows, columns=["label", "dataset", "split", "metric", "score"])
