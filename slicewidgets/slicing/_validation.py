"""What a slicing function's answer must be, and the error that names the SF when it is not.

:func:`validate_mask` checks a vectorized SF's mask (length, dtype, index), :func:`protected_frame`
keeps an SF from changing the caller's frame, :class:`SFApplyError` carries the SF's name and
the row. Shared by the SFs (``sf/``), the appliers (``apply/``), the row-wise runner
(``_rowwise_run.py``) and the distributed engines; it imports none of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["INT_TYPES", "SFApplyError", "protected_frame", "validate_mask"]


class SFApplyError(RuntimeError):
    """A slicing function failed or returned something other than a boolean.

    Attributes
    ----------
    sf_name
        Name of the slicing function.
    index
        Index label of the row (``None`` for a vectorized SF).
    position
        Position of the row (0-based).
    """

    def __init__(
        self,
        sf_name: str,
        index: Any,
        position: int | None,
        err: BaseException | None = None,
        *,
        vectorized: bool = False,
        message: str | None = None,
        partition: int | None = None,
    ) -> None:
        self.sf_name = sf_name
        self.index = index
        self.position = position
        self.partition = partition
        self.original = err
        if message is None:
            where = (
                "on the whole DataFrame (vectorized)"
                if vectorized
                else f"on the row with index {index!r} (position {position})"
            )
            if partition is not None:
                where += f" of partition {partition}"
            message = (
                f"Slicing function {sf_name!r} raised {type(err).__name__} {where}: {err}. "
                "Fix the SF, or apply with fault_tolerant=True to count failing rows as "
                "not in the slice."
            )
        super().__init__(message)

    def __reduce__(self):  # picklable across processes
        return (_rebuild_error, (self.sf_name, self.index, self.position, str(self),
                                 self.partition))


def _rebuild_error(sf_name, index, position, message, partition):
    return SFApplyError(sf_name, index, position, None, message=message, partition=partition)


def _copy_on_write() -> bool:
    if int(pd.__version__.split(".")[0]) >= 3:
        return True
    return pd.options.mode.copy_on_write is True


def protected_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The frame a vectorized SF is given: changing it (new or edited columns, rows dropped in
    place, values set) leaves ``df`` as it was.

    With pandas' copy-on-write (pandas 3, or ``pd.options.mode.copy_on_write = True``) this is a
    free shallow copy whose data are copied only if the SF writes to them; with older pandas a
    copy of the columns (the Python objects inside object columns are shared, not copied).

    Examples
    --------
    >>> df = pd.DataFrame({"n": [1, 2]})
    >>> view = protected_frame(df)
    >>> view.loc[0, "n"] = 99
    >>> view["m"] = 0
    >>> df.n.tolist(), list(df.columns)
    ([1, 2], ['n'])
    """
    return df.copy(deep=not _copy_on_write())


def validate_mask(name: str, out: Any, df: pd.DataFrame) -> np.ndarray:
    """Check a vectorized SF's output and return it as a boolean ndarray.

    Raises
    ------
    TypeError
        Not booleans (or 0/1), or a DataFrame.
    ValueError
        Not one value per row of ``df``, missing values, or a Series not aligned with
        ``df``.
    """
    n = len(df)
    if isinstance(out, pd.DataFrame):
        raise TypeError(
            f"Vectorized slicing function {name!r} returned a DataFrame; expected one boolean "
            f"per row (a Series or array of length {n})."
        )
    if isinstance(out, pd.Series):
        if len(out) != n:
            raise ValueError(
                f"Vectorized slicing function {name!r} returned {len(out)} values for a "
                f"DataFrame of {n} rows; return one boolean per row."
            )
        if not out.index.equals(df.index):
            raise ValueError(
                f"Vectorized slicing function {name!r} returned a Series whose index is not "
                "aligned with the DataFrame's (was it sorted, filtered or reset?); return a mask "
                "computed from the frame's own columns, or `.to_numpy()` if the order is right."
            )
        if out.hasnans:
            raise ValueError(
                f"Vectorized slicing function {name!r} returned missing values "
                f"({int(out.isna().sum())} of {n}); fill them, e.g. `.fillna(False)`."
            )
        values = out.to_numpy()
    else:
        values = np.asarray(out)
        if values.ndim != 1 or len(values) != n:
            raise ValueError(
                f"Vectorized slicing function {name!r} returned shape {values.shape} for a "
                f"DataFrame of {n} rows; return one boolean per row."
            )
    if values.dtype == bool:
        return values
    if values.dtype.kind in "iu":
        ok = bool(np.isin(values, [0, 1]).all())
    elif values.dtype == object:
        ok = all(v is True or v is False or isinstance(v, np.bool_)
                 or (type(v) in INT_TYPES and v in (0, 1)) for v in values)
    else:
        ok = False
    if ok:
        return values.astype(bool)
    raise TypeError(
        f"Vectorized slicing function {name!r} returned dtype {values.dtype}; expected a "
        "boolean mask (or 0/1 integers). Compare to get booleans, e.g. `df.n_words < 5`."
    )


#: The integer types whose 0/1 values an SF may return instead of booleans.
INT_TYPES = frozenset({int, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
                       np.uint32, np.uint64})
