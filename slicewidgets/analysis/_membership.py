"""Turn any accepted form of slice membership ``S`` into names and a boolean matrix."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["as_membership", "membership_values"]


def as_membership(S: Any, argument: str = "S") -> tuple[list[str], np.ndarray]:
    """Names and a boolean ``(n, k)`` matrix from ``S``.

    ``S`` may be Snorkel's recarray (or any structured array), a
    :class:`~slicewidgets.slicing.SliceMembership`, a DataFrame of 0/1 or boolean columns, or a
    dict ``{name: mask}``. A row is in a slice when its value is positive: unlike Snorkel, a
    ``-1`` (abstain/fault) does not count as membership.

    Examples
    --------
    >>> S = np.rec.fromarrays([np.array([1, 0, -1])], names="short")
    >>> names, M = as_membership(S)
    >>> names, M[:, 0].tolist()
    (['short'], [True, False, False])
    """
    from slicewidgets.slicing.apply import SliceMembership

    if isinstance(S, SliceMembership):
        return list(S.names), S.matrix
    if isinstance(S, np.ndarray) and S.dtype.names:
        fast = _structured_matrix(S, argument)
        if fast is not None:
            return list(S.dtype.names), fast
    names, cols, n = membership_columns(S, argument)
    matrix = np.zeros((n, len(names)), dtype=bool, order="F")
    for j, col in enumerate(cols):
        np.greater(col, 0, out=matrix[:, j])
    return names, matrix


def membership_columns(S: Any, argument: str = "S") -> tuple[list[str], list[np.ndarray], int]:
    """Names, one validated 1-D numeric column per slice, and the row count of ``S``.

    ``S`` is a structured array (Snorkel's recarray), a DataFrame or a dict of masks; the
    columns keep their values (so ``-1`` survives for callers that give it a meaning).
    """
    if isinstance(S, np.ndarray) and S.dtype.names is not None:
        names = list(S.dtype.names)
        cols = [np.asarray(S[name]) for name in names]
        n = len(S)
    elif isinstance(S, pd.DataFrame):
        names = [str(c) for c in S.columns]
        cols = [_frame_column(S.iloc[:, j]) for j in range(S.shape[1])]
        n = len(S)
    elif isinstance(S, Mapping):
        names = [str(k) for k in S]
        cols = [np.asarray(v) for v in S.values()]
        n = len(cols[0]) if cols else 0
    else:
        raise TypeError(
            f"{argument} must be a recarray with one field per slice (from PandasSFApplier), a "
            f"SliceMembership, a DataFrame or a dict of masks; got {type(S).__name__}."
        )
    for name, col in zip(names, cols, strict=True):
        if col.ndim != 1 or len(col) != n:
            raise ValueError(
                f"{argument}[{name!r}] has shape {col.shape}; expected ({n},) like the first "
                "slice: every slice needs one value per row."
            )
        _check_dtype(argument, name, col.dtype)
    return names, cols, n


def membership_values(S: Any, argument: str = "S") -> tuple[list[str], np.ndarray]:
    """Like :func:`as_membership`, but a Snorkel recarray comes back as a zero-copy numeric
    ``(n, k)`` view (positive = member) instead of a new boolean matrix.

    For counting (``_fast.slice_counts`` reads it once); use :func:`as_membership` for masks.
    """
    if isinstance(S, np.ndarray) and S.dtype.names and S.ndim == 1:
        dtypes = {S.dtype.fields[name][0] for name in S.dtype.names}
        if len(dtypes) == 1:
            (dtype,) = dtypes
            if dtype.shape == () and dtype.kind in "biuf":
                from numpy.lib import recfunctions

                values = recfunctions.structured_to_unstructured(np.asarray(S), copy=False)
                return list(S.dtype.names), values
    return as_membership(S, argument)


def _check_dtype(argument: str, name: str, dtype: np.dtype) -> None:
    if dtype.kind not in "biuf":
        raise TypeError(
            f"{argument}[{name!r}] has dtype {dtype}; expected 0/1 or booleans (one field "
            "per slice, as PandasSFApplier returns)."
        )


def _frame_column(col: pd.Series) -> np.ndarray:
    if isinstance(col.dtype, pd.api.extensions.ExtensionDtype) and col.dtype.kind in "biuf":
        return col.to_numpy(dtype=float, na_value=0)  # nullable booleans/integers: NA -> 0
    return col.to_numpy()


def _structured_matrix(S: np.ndarray, argument: str) -> np.ndarray | None:
    """All fields at once when they share one numeric dtype (Snorkel's ``S``): one pass."""
    if S.ndim != 1:
        raise ValueError(
            f"{argument} must be a 1-D recarray (one record per row), got shape {S.shape}."
        )
    dtypes = {S.dtype.fields[name][0] for name in S.dtype.names}
    if len(dtypes) != 1:
        return None
    (dtype,) = dtypes
    if dtype.shape != ():
        return None
    _check_dtype(argument, S.dtype.names[0], dtype)
    from numpy.lib import recfunctions

    values = recfunctions.structured_to_unstructured(np.asarray(S), copy=False)
    return values > 0  # row-major like S: one pass over the records
