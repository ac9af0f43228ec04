"""The synthetic data of the slice-based learning paper (Chen et al., NeurIPS 2019, Figure 1).

Points are uniform on ``[-1, 1]^2``; the label is 1 when ``x0 > x1 + 0.25``, and it is flipped
inside a small circle centred on the decision boundary: a *critical slice* that a model
trained for overall accuracy tends to get wrong. The slicing function that marks the slice is
deliberately imperfect: a circle of the same radius at another centre.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SliceSyntheticData", "make_slice_synthetic"]

Circle = tuple[float, float, float]
SPLITS = ("train", "valid", "test")


def _in_circles(x0: np.ndarray, x1: np.ndarray, circles: Sequence[Circle]) -> np.ndarray:
    inside = np.zeros(len(x0), dtype=bool)
    for cx, cy, r in circles:
        inside |= (x0 - cx) ** 2 + (x1 - cy) ** 2 <= r**2
    return inside


def _circle_mask(df: pd.DataFrame, cx: float, cy: float, r: float) -> np.ndarray:
    return _in_circles(df["x0"].to_numpy(), df["x1"].to_numpy(), [(cx, cy, r)])


def _check_circle(value: Any, argument: str) -> Circle:
    try:
        cx, cy, r = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{argument} must be (center_x, center_y, radius); got {value!r}.") from None
    if not r > 0:
        raise ValueError(f"{argument}: the radius must be > 0; got {r}.")
    return cx, cy, r


@dataclass(frozen=True)
class SliceSyntheticData:
    """The three splits of :func:`make_slice_synthetic` and the slicing function.

    Attributes
    ----------
    df_train, df_valid, df_test : pandas.DataFrame
        Columns ``x0``, ``x1`` (floats), ``label`` (0/1) and ``flipped`` (whether the point
        lies in a flip circle, i.e. the true critical slice).
    flip_circles : tuple of (x, y, radius)
        Where labels are flipped.
    sf_circle : (x, y, radius)
        The circle the slicing function tests (not the flip circle).
    sf_name : str
        Name of the slicing function (the field of ``S``).
    """

    df_train: pd.DataFrame
    df_valid: pd.DataFrame
    df_test: pd.DataFrame
    flip_circles: tuple[Circle, ...]
    sf_circle: Circle
    sf_name: str = "circle"

    def frame(self, split: str) -> pd.DataFrame:
        """The DataFrame of ``split`` (``"train"``, ``"valid"`` or ``"test"``)."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {list(SPLITS)}; got {split!r}.")
        return {"train": self.df_train, "valid": self.df_valid, "test": self.df_test}[split]

    def slicing_functions(self) -> list:
        """The (imperfect) slicing function, as a vectorized ``SlicingFunction`` in a list."""
        from slicewidgets.slicing import SlicingFunction

        cx, cy, r = self.sf_circle
        return [
            SlicingFunction(
                self.sf_name, _circle_mask, resources={"cx": cx, "cy": cy, "r": r}, vectorized=True
            )
        ]

    def slice_matrix(self, split: str, *, truth: bool = False) -> np.recarray:
        """``S`` for ``split``: the slicing function's field (what ``PandasSFApplier`` returns),
        or, with ``truth=True``, a field ``flipped`` marking the true critical slice."""
        df = self.frame(split)
        if truth:
            return np.rec.fromarrays([df["flipped"].to_numpy().astype(np.int64)],
                                     dtype=[("flipped", np.int64)])
        mask = _circle_mask(df, *self.sf_circle)
        return np.rec.fromarrays([mask.astype(np.int64)], dtype=[(self.sf_name, np.int64)])

    def tensors(self, split: str) -> tuple[Any, Any]:
        """``(X, Y)``: float32 features ``[n, 2]`` and int64 labels ``[n]`` (torch tensors)."""
        from slicewidgets._optional import import_optional

        torch = import_optional("torch", purpose="SliceSyntheticData.tensors")
        df = self.frame(split)
        X = torch.tensor(df[["x0", "x1"]].to_numpy(), dtype=torch.float32)
        Y = torch.tensor(df["label"].to_numpy(), dtype=torch.long)
        return X, Y

    def dataset(self, split: str, **kwargs: Any) -> Any:
        """A ``DictDataset`` of ``split`` (its split name is ``split``)."""
        from slicewidgets.classification import DictDataset

        X, Y = self.tensors(split)
        return DictDataset.from_tensors(X, Y, split, **kwargs)


def make_slice_synthetic(
    n_samples: int = 5000,
    *,
    flip_circles: Sequence[Sequence[float]] = ((0.25, 0.0, 0.2),),
    sf_circle: Sequence[float] = (0.35, -0.1, 0.2),
    offset: float = 0.25,
    split_fractions: Sequence[float] = (0.5, 0.25, 0.25),
    sf_name: str = "circle",
    random_state: int | np.random.Generator | None = None,
) -> SliceSyntheticData:
    """The slice-based learning paper's synthetic data set (Figure 1).

    Parameters
    ----------
    n_samples
        Number of points (split into train / valid / test by ``split_fractions``).
    flip_circles
        ``(x, y, radius)`` of each circle inside which labels are flipped (the critical
        slice; several circles give several critical regions).
    sf_circle
        ``(x, y, radius)`` of the slicing function's circle: deliberately not the flip circle.
    offset
        Label 1 when ``x0 > x1 + offset``.
    split_fractions
        Fractions of train, valid and test points (sum 1).
    sf_name
        Name of the slicing function.
    random_state
        Seed or ``numpy.random.Generator``.

    Returns
    -------
    SliceSyntheticData
        The three DataFrames, the circles and helpers for ``S``, tensors and datasets.

    Examples
    --------
    >>> data = make_slice_synthetic(random_state=0)
    >>> len(data.df_train), len(data.df_valid), len(data.df_test)
    (2500, 1250, 1250)
    >>> data.df_train.columns.tolist()
    ['x0', 'x1', 'label', 'flipped']
    >>> S = data.slice_matrix("test")
    >>> S.dtype.names, int(S["circle"].sum()) > 0
    (('circle',), True)
    """
    if not (isinstance(n_samples, int | np.integer) and n_samples >= 3):
        raise ValueError(f"n_samples must be an int >= 3; got {n_samples!r}.")
    circles = tuple(_check_circle(c, "flip_circles[i]") for c in flip_circles)
    sf = _check_circle(sf_circle, "sf_circle")
    fractions = np.asarray(split_fractions, dtype=float)
    if fractions.shape != (3,) or (fractions < 0).any() or not np.isclose(fractions.sum(), 1.0):
        raise ValueError(
            f"split_fractions must be three non-negative numbers summing to 1; got {split_fractions!r}."
        )
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
    X = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    x0, x1 = X[:, 0], X[:, 1]
    label = (x0 > x1 + offset).astype(np.int64)
    flipped = _in_circles(x0, x1, circles)
    label = np.where(flipped, 1 - label, label)
    df = pd.DataFrame({"x0": x0, "x1": x1, "label": label, "flipped": flipped})
    n_train = int(round(fractions[0] * n_samples))
    n_valid = int(round(fractions[1] * n_samples))
    parts = np.split(np.arange(n_samples), [n_train, n_train + n_valid])
    train, valid, test = (df.iloc[idx].reset_index(drop=True) for idx in parts)
    return SliceSyntheticData(train, valid, test, flip_circles=circles, sf_circle=sf,
                              sf_name=sf_name)
