"""``DictDataset`` and ``DictDataLoader``: data fields and labels kept in dictionaries.

Same API as ``snorkel.classification.data``. One addition: when a ``DictDataLoader`` draws a
batch, the rows are gathered with one indexing operation per field instead of one Python
lookup per row and field (``DictDataset.__getitems__``); the batch is identical to what
Snorkel's row-by-row ``collate_dicts`` builds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from slicewidgets.classification._utils import list_to_tensor

__all__ = [
    "DEFAULT_DATASET_NAME",
    "DEFAULT_INPUT_DATA_KEY",
    "DEFAULT_TASK_NAME",
    "DictDataLoader",
    "DictDataset",
    "collate_dicts",
]

DEFAULT_INPUT_DATA_KEY = "input_data"
DEFAULT_DATASET_NAME = "SnorkelDataset"
DEFAULT_TASK_NAME = "task"

XDict = dict[str, Any]
YDict = dict[str, Tensor]
Batch = tuple[XDict, YDict]


class DictDataset(Dataset):
    """A dataset whose data fields and labels are dictionaries of equal-length columns.

    Parameters
    ----------
    name
        Name of the dataset, used in metric names (``"label/name/split/metric"``).
    split
        Name of the split (``"train"``, ``"valid"``, ``"test"``): the :class:`Trainer` trains on
        the loaders whose dataset split is its ``train_split``.
    X_dict
        ``{field: values}``; each value is indexed per row (a tensor, a list, an array).
    Y_dict
        ``{label: tensor}``; one label tensor per task, ``-1`` where a row has no label.

    Raises
    ------
    ValueError
        If a label is not a ``torch.Tensor``, or the labels / fields have different lengths.

    Examples
    --------
    >>> ds = DictDataset.from_tensors(torch.zeros(3, 2), torch.tensor([0, 1, 1]), "train")
    >>> ds
    DictDataset(name=SnorkelDataset, X_keys=['input_data'], Y_keys=['task'])
    >>> len(ds), ds[2][1]
    (3, {'task': tensor(1)})
    """

    def __init__(self, name: str, split: str, X_dict: XDict, Y_dict: YDict) -> None:
        self.name = name
        self.split = split
        self.X_dict = X_dict
        self.Y_dict = Y_dict
        for label_name, label in self.Y_dict.items():
            if not isinstance(label, Tensor):
                raise ValueError(f"Label {label_name} should be torch.Tensor, not {type(label)}.")
        lengths = {f"Y_dict[{k!r}]": len(v) for k, v in self.Y_dict.items()}
        lengths.update(
            {f"X_dict[{k!r}]": len(v) for k, v in self.X_dict.items() if hasattr(v, "__len__")}
        )
        if len(set(lengths.values())) > 1:
            listed = ", ".join(f"{k} has {v}" for k, v in lengths.items())
            raise ValueError(
                f"All fields and labels of a DictDataset must have one value per row: {listed}. "
                "Build them from the same rows."
            )

    def __getitem__(self, index: int) -> Batch:
        x_dict = {name: feature[index] for name, feature in self.X_dict.items()}
        y_dict = {name: label[index] for name, label in self.Y_dict.items()}
        return x_dict, y_dict

    def __getitems__(self, indices: Sequence[int]) -> _IndexedRows:
        # Called by torch's DataLoader with the indices of a whole batch.
        return _IndexedRows(self, indices)

    def __len__(self) -> int:
        try:
            return len(next(iter(self.Y_dict.values())))
        except StopIteration:
            return 0

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name}, X_keys={list(self.X_dict.keys())}, "
            f"Y_keys={list(self.Y_dict.keys())})"
        )

    @classmethod
    def from_tensors(
        cls,
        X_tensor: Tensor,
        Y_tensor: Tensor,
        split: str,
        input_data_key: str = DEFAULT_INPUT_DATA_KEY,
        task_name: str = DEFAULT_TASK_NAME,
        dataset_name: str = DEFAULT_DATASET_NAME,
    ) -> DictDataset:
        """A dataset with one data field and one label.

        Parameters
        ----------
        X_tensor
            Input data, ``[n_rows, ...]``.
        Y_tensor
            Labels, ``[n_rows]`` (integers; ``-1`` for no label).
        split
            Split name (``"train"``, ``"valid"`` or ``"test"``).
        input_data_key
            Name of the data field.
        task_name
            Name of the label.
        dataset_name
            Name of the dataset.

        Examples
        --------
        >>> ds = DictDataset.from_tensors(torch.ones(4, 3), torch.tensor([0, 1, 0, 1]), "test")
        >>> ds.name, ds.split, list(ds.X_dict), list(ds.Y_dict)
        ('SnorkelDataset', 'test', ['input_data'], ['task'])
        """
        return cls(
            name=dataset_name,
            split=split,
            X_dict={input_data_key: X_tensor},
            Y_dict={task_name: Y_tensor},
        )


class _IndexedRows(Sequence):
    """The rows of one batch, fetched lazily; :func:`collate_dicts` gathers them at once.

    Any other collate function sees an ordinary sequence of ``(x_dict, y_dict)`` rows.
    """

    def __init__(self, dataset: DictDataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = list(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self.dataset[j] for j in self.indices[i]]
        return self.dataset[self.indices[i]]

    def __iter__(self) -> Iterator[Batch]:
        return (self.dataset[j] for j in self.indices)

    def gather(self) -> Batch:
        index = torch.as_tensor(self.indices, dtype=torch.long)
        X_batch: XDict = {}
        for name, values in self.dataset.X_dict.items():
            if isinstance(values, Tensor) and values.dim() >= 1:
                # Same result as stacking/padding the rows: they all have the same shape.
                X_batch[name] = values[index.to(values.device)]
            else:
                rows = [values[j] for j in self.indices]
                X_batch[name] = list_to_tensor(rows) if isinstance(rows[0], Tensor) else rows
        Y_batch: YDict = {}
        for name, label in self.dataset.Y_dict.items():
            if isinstance(label, Tensor):
                Y_batch[name] = label[index.to(label.device)]
            else:  # e.g. a list of per-row tensors, set after the dataset was built (Snorkel)
                Y_batch[name] = list_to_tensor([label[j] for j in self.indices])
        return X_batch, Y_batch


def collate_dicts(batch: Sequence[Batch]) -> Batch:
    """Merge ``(x_dict, y_dict)`` rows into one ``(X_dict, Y_dict)`` batch.

    Tensor fields are merged with :func:`~slicewidgets.classification._utils.list_to_tensor`
    (stacked, or flattened and right-padded); other fields become lists; every label becomes a
    tensor.

    Parameters
    ----------
    batch
        The rows, as returned by ``DictDataset[i]``.

    Examples
    --------
    >>> rows = [({"x": torch.tensor([1, 2])}, {"task": torch.tensor(0)}),
    ...         ({"x": torch.tensor([3])}, {"task": torch.tensor(1)})]
    >>> X, Y = collate_dicts(rows)
    >>> X["x"], Y["task"]
    (tensor([[1, 2],
            [3, 0]]), tensor([0, 1]))
    """
    if isinstance(batch, _IndexedRows):
        return batch.gather()
    X_batch: dict[str, Any] = defaultdict(list)
    Y_batch: dict[str, Any] = defaultdict(list)
    for x_dict, y_dict in batch:
        for field_name, value in x_dict.items():
            X_batch[field_name].append(value)
        for label_name, value in y_dict.items():
            Y_batch[label_name].append(value)
    for field_name, values in X_batch.items():
        if isinstance(values[0], Tensor):
            X_batch[field_name] = list_to_tensor(values)
    for label_name, values in Y_batch.items():
        Y_batch[label_name] = list_to_tensor(values)
    return dict(X_batch), dict(Y_batch)


class DictDataLoader(DataLoader):
    """A ``torch.utils.data.DataLoader`` over a :class:`DictDataset`.

    Parameters
    ----------
    dataset
        The dataset to load.
    collate_fn
        How rows are merged into a batch (default :func:`collate_dicts`).
    **kwargs
        Passed to ``DataLoader`` (``batch_size`` defaults to 1, ``shuffle``, ``sampler``,
        ``num_workers``, ...).

    Raises
    ------
    TypeError
        If ``dataset`` is not a :class:`DictDataset`.

    Examples
    --------
    >>> ds = DictDataset.from_tensors(torch.arange(6.0).view(3, 2), torch.tensor([0, 1, 1]), "train")
    >>> X, Y = next(iter(DictDataLoader(ds, batch_size=2)))
    >>> X["input_data"], Y["task"]
    (tensor([[0., 1.],
            [2., 3.]]), tensor([0, 1]))
    """

    dataset: DictDataset  # narrowed from DataLoader's Dataset (checked in __init__)

    def __init__(
        self,
        dataset: DictDataset,
        collate_fn: Callable[..., Any] = collate_dicts,
        **kwargs: Any,
    ) -> None:
        if not isinstance(dataset, DictDataset):
            raise TypeError(
                f"DictDataLoader needs a DictDataset; got {type(dataset).__name__}. Wrap your "
                "tensors with DictDataset.from_tensors(X, Y, split)."
            )
        super().__init__(dataset, collate_fn=collate_fn, **kwargs)

