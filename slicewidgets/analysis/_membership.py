"""Turn any accepted form of slice membership ``S`` into names and a boolean matrix."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["as_membership"]


def as_membership(S: Any, argument: str = "S") -> tuple[list[str], np.ndarray]:
    """Names and a boolean ``(n, k)`` matrix from ``S``.

    ``S`` may be Snorkel's recarray (or any structured array), a
    :class:`~slicewidgets.slicing.SliceMembership`, a DataFrame of 0/1 or boolean columns, or a
    dict ``{name: mask}``. A row is in a slice when its value is positive: unlike Snorkel, a
    ``-1`` (abstain/fault) does not count as membership.
    """
    from slicewidgets.slicing.apply import SliceMembership

    if isinstance(S, SliceMembership):
        return list(S.names), S.matrix
    if isinstance(S, np.ndarray) and S.dtype.names:
        names = list(S.dtype.names)
        cols = [np.asarray(S[name]) for name in names]
    elif isinstance(S, pd.DataFrame):
        names = [str(c) for c in S.columns]
        cols = [S[c].to_numpy() for c in S.columns]
    elif isinstance(S, Mapping):
        names = [str(k) for k in S]
        cols = [np.asarray(v) for v in S.values()]
    else:
        raise TypeError(
            f"{argument} must be a recarray with one field per slice (from PandasSFApplier), a "
            f"SliceMembership, a DataFrame or a dict of masks; got {type(S).__name__}."
        )
    n = len(cols[0]) if cols else 0
    matrix = np.zeros((n, len(names)), dtype=bool, order="F")
    for j, (name, col) in enumerate(zip(names, cols, strict=True)):
        if col.ndim != 1 or len(col) != n:
            raise ValueError(f"{argument}[{name!r}] has shape {col.shape}; expected ({n},).")
        if col.dtype.kind not in "biuf":
            raise TypeError(
                f"{argument}[{name!r}] has dtype {col.dtype}; expected 0/1 or booleans."
            )
        matrix[:, j] = col > 0
    return names, matrix
