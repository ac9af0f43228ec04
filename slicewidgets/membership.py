"""Slice membership: the plain data that slicing produces and analysis reads.

A leaf module (NumPy and pandas only): :mod:`slicewidgets.slicing` builds
:class:`SliceMembership` objects and Snorkel's ``S`` recarrays, :mod:`slicewidgets.analysis`
and the slice-aware model read any accepted form of ``S`` through :func:`as_membership`,
:func:`membership_values` and :func:`membership_columns`, and neither package has to import
the other for it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np
import pandas as pd

__all__ = [
    "MAX_FAULT_ROWS",
    "MembershipLike",
    "ApplierMetadata",
    "SliceMembership",
    "as_membership",
    "membership_columns",
    "membership_values",
    "check_unique_names",
    "to_recarray",
]

#: The accepted forms of slice membership ``S``: Snorkel's recarray (any structured array), a
#: :class:`SliceMembership`, a DataFrame of 0/1 or boolean columns, or ``{name: mask}``.
MembershipLike = Union[np.ndarray, "SliceMembership", pd.DataFrame, Mapping[str, Any]]

#: Index labels of failing rows kept per SF by :class:`ApplierMetadata`.
MAX_FAULT_ROWS = 100


@dataclass
class ApplierMetadata:
    """What happened while applying SFs with ``fault_tolerant=True``.

    Attributes
    ----------
    faults
        Number of failing rows per SF name (as Snorkel's ``ApplierMetadata.faults``).
    fault_rows
        Index labels of the first failing rows per SF (at most 100 each).
    errors
        The first error message per SF.
    """

    faults: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    fault_rows: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, str] = field(default_factory=dict)

    def record(self, name: str, index: Any, err: BaseException, count: int = 1) -> None:
        self.faults[name] += count
        rows = self.fault_rows[name]
        if len(rows) < MAX_FAULT_ROWS:
            rows.append(index)
        self.errors.setdefault(name, f"{type(err).__name__}: {err}")

    def merge(self, other: ApplierMetadata) -> None:
        for name, count in other.faults.items():
            self.faults[name] += count
            room = MAX_FAULT_ROWS - len(self.fault_rows[name])
            self.fault_rows[name].extend(other.fault_rows.get(name, [])[:max(room, 0)])
        for name, msg in other.errors.items():
            self.errors.setdefault(name, msg)


class SliceMembership:
    """Boolean membership of ``n`` rows in ``k`` named slices.

    Parameters
    ----------
    names
        Slice names, in order; unique.
    matrix
        Array of shape ``(n, k)``: booleans, or numbers where a positive value is
        membership (as in every other form of ``S``: ``0``, ``-1`` and NaN are not).
    meta
        Faults recorded while computing it.

    Notes
    -----
    :meth:`from_columns` builds one from per-slice masks without copying them (what
    :class:`~slicewidgets.slicing.SliceSet` returns); its :attr:`matrix` is then assembled on
    first use, and its :attr:`column_keys` let the analysis reuse per-slice counts across
    reports (see :meth:`from_columns`).

    Examples
    --------
    >>> m = SliceMembership(["a", "b"], np.array([[True, False], [True, True]]))
    >>> m["b"].tolist(), m.sizes.tolist()
    ([False, True], [2, 1])
    >>> m.to_recarray().dtype.names
    ('a', 'b')
    """

    def __init__(self, names: Sequence[str], matrix: np.ndarray,
                 meta: ApplierMetadata | None = None) -> None:
        matrix = np.asarray(matrix)
        if matrix.ndim != 2 or matrix.shape[1] != len(names):
            raise ValueError(
                f"membership matrix must have shape (n, {len(names)}), got {matrix.shape}."
            )
        if matrix.dtype != bool:
            if matrix.dtype.kind not in "biuf":
                raise TypeError(
                    f"membership matrix has dtype {matrix.dtype}; expected booleans or "
                    "numbers (positive = member)."
                )
            matrix = matrix > 0  # -1 (abstain/fault) and NaN are not membership
        self.names = check_unique_names(names)
        self._matrix: np.ndarray | None = matrix
        self._columns: tuple[np.ndarray, ...] | None = None
        self._keys: tuple[Hashable, ...] | None = None
        self._sizes: np.ndarray | None = None
        self._n = matrix.shape[0]
        self.meta = meta if meta is not None else ApplierMetadata()

    @classmethod
    def from_columns(cls, names: Sequence[str], columns: Sequence[np.ndarray],
                     meta: ApplierMetadata | None = None, *,
                     keys: Sequence[Hashable] | None = None,
                     sizes: Sequence[int] | None = None) -> SliceMembership:
        """Membership from one boolean mask per slice, kept as read-only views (no copy).

        Parameters
        ----------
        names
            Slice names, in order.
        columns
            One boolean mask per name, all of one length.
        meta
            Faults recorded while computing them.
        keys
            One hashable per column with the promise that **two columns with equal keys have
            equal contents**, now and later (the masks are never written to): the analysis
            then caches per-slice counts by key, so a report after one edit counts only the
            edited slice. Give keys only if you can keep that promise (``SliceSet`` issues a
            new key for every mask it computes); leave ``None`` otherwise.
        sizes
            ``count_nonzero`` of each column, if already known.

        Examples
        --------
        >>> m = SliceMembership.from_columns(["a", "b"], [np.array([True, False]),
        ...                                               np.array([True, True])])
        >>> m.matrix.tolist(), m.sizes.tolist()
        ([[True, True], [False, True]], [1, 2])
        """
        names = check_unique_names(names)
        cols = []
        for name, col in zip(names, columns, strict=True):
            col = np.asarray(col)
            if col.dtype != bool or col.ndim != 1:
                raise ValueError(
                    f"column {name!r} must be a 1-D boolean mask, got dtype {col.dtype} and "
                    f"shape {col.shape}."
                )
            view = col.view()
            view.flags.writeable = False
            cols.append(view)
        if len(cols) != len(names):
            raise ValueError(f"{len(names)} names but {len(cols)} columns.")
        n = len(cols[0]) if cols else 0
        for name, col in zip(names, cols, strict=True):
            if len(col) != n:
                raise ValueError(
                    f"column {name!r} has {len(col)} rows; expected {n} like the first column."
                )
        self = cls.__new__(cls)
        self.names = names
        self._matrix = None if cols else np.zeros((0, 0), dtype=bool)
        self._columns = tuple(cols)
        self._keys = None if keys is None else tuple(keys)
        if self._keys is not None and len(self._keys) != len(names):
            raise ValueError(f"{len(names)} names but {len(self._keys)} keys.")
        self._sizes = None if sizes is None else np.array(sizes, dtype=np.int64)
        self._n = n
        self.meta = meta if meta is not None else ApplierMetadata()
        return self

    @property
    def matrix(self) -> np.ndarray:
        """Boolean ``(n, k)`` membership (column-major; read-only when built from columns)."""
        if self._matrix is None:
            assert self._columns is not None
            matrix = np.empty((self._n, len(self._columns)), dtype=bool, order="F")
            for j, col in enumerate(self._columns):
                matrix[:, j] = col
            matrix.flags.writeable = False  # the keys promise what it holds
            self._matrix = matrix
        return self._matrix

    @property
    def column_keys(self) -> tuple[Hashable, ...] | None:
        """The keys given to :meth:`from_columns` (equal keys: equal columns), else ``None``."""
        return self._keys

    def column(self, j: int) -> np.ndarray:
        """The mask of slice number ``j`` (without assembling :attr:`matrix`)."""
        if self._columns is not None:
            return self._columns[j]
        return self.matrix[:, j]

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            j = self.names.index(name)
        except ValueError:
            raise KeyError(f"No slice named {name!r}; slices are {self.names}.") from None
        return self.column(j)

    @property
    def sizes(self) -> np.ndarray:
        """Number of rows in each slice."""
        if self._sizes is not None:
            return self._sizes.copy()
        if self._columns is not None:
            return np.array([np.count_nonzero(c) for c in self._columns], dtype=np.int64)
        return self.matrix.sum(axis=0)

    def to_recarray(self) -> np.recarray:
        """Snorkel's ``S``: one ``int64`` 0/1 field per slice."""
        return to_recarray(self.names, self.matrix)

    def __getstate__(self) -> dict[str, Any]:
        # a copy's arrays are writeable again: it keeps no keys (its counts are never reused)
        state = dict(self.__dict__)
        state["_keys"] = None
        return state

    def __repr__(self) -> str:
        sizes = ", ".join(f"{n}={s}" for n, s in zip(self.names, self.sizes.tolist(), strict=True))
        return f"SliceMembership({len(self)} rows; {sizes})"


def to_recarray(names: Sequence[str], matrix: np.ndarray) -> np.recarray:
    """Snorkel's ``S`` from names and an ``(n, k)`` membership matrix: one ``int64`` field
    per name, values 0/1.

    Examples
    --------
    >>> to_recarray(["a", "b"], np.array([[True, False], [False, False]])).a.tolist()
    [1, 0]
    """
    names = list(names)
    matrix = np.asarray(matrix)
    n = matrix.shape[0]
    dtype = np.dtype([(name, np.int64) for name in names])
    if not names:
        return np.recarray(n, dtype=dtype)
    values = np.empty((n, len(names)), dtype=np.int64)  # C order: one record per row
    np.copyto(values, matrix, casting="unsafe")
    return values.view(dtype).reshape(n).view(np.recarray)


# -- readers of any accepted form of S ---------------------------------------------------------
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
        _check_mask_indexes(S, argument)
        cols = [_frame_column(v) if isinstance(v, pd.Series) else np.asarray(v)
                for v in S.values()]
        n = len(cols[0]) if cols else 0
    else:
        raise TypeError(
            f"{argument} must be a recarray with one field per slice (from PandasSFApplier), a "
            f"SliceMembership, a DataFrame or a dict of masks; got {type(S).__name__}."
        )
    check_unique_names(names, argument)
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
        fields = S.dtype.fields  # a new mapping per access: read it once, not once per field
        dtypes = {fields[name][0] for name in S.dtype.names}
        if len(dtypes) == 1:
            (dtype,) = dtypes
            if dtype.shape == () and dtype.kind in "biuf":
                from numpy.lib import recfunctions

                values = recfunctions.structured_to_unstructured(np.asarray(S), copy=False)
                return list(S.dtype.names), values
    return as_membership(S, argument)


def check_unique_names(names: Sequence[Any], argument: str = "S") -> list[str]:
    """``names`` as a list of strings, or a ``ValueError`` naming the duplicates (after
    ``str()``: a column ``1`` and a column ``"1"`` would share one slice name).

    Examples
    --------
    >>> check_unique_names(["a", 1, "1"])
    Traceback (most recent call last):
    ...
    ValueError: S has duplicate slice names ['1']: each slice needs its own name (names are compared after str(), so 1 and '1' clash). Rename one, e.g. SF(name=...) or S.rename(columns=...).
    """
    out = [str(name) for name in names]
    if len(set(out)) != len(out):
        counts = Counter(out)
        dups = [name for name, count in counts.items() if count > 1]
        raise ValueError(
            f"{argument} has duplicate slice names {dups}: each slice needs its own name "
            "(names are compared after str(), so 1 and '1' clash). Rename one, e.g. "
            "SF(name=...) or S.rename(columns=...)."
        )
    return out


def _check_mask_indexes(S: Mapping[Any, Any], argument: str) -> None:
    """The pandas masks of a dict share one index: rows are paired by position, as in a
    DataFrame (whose columns share one index by construction)."""
    first: tuple[Any, pd.Index] | None = None
    for key, value in S.items():
        if not isinstance(value, (pd.Series, pd.DataFrame)):
            continue
        if first is None:
            first = (key, value.index)
        elif len(value.index) == len(first[1]) and not value.index.equals(first[1]):
            raise ValueError(
                f"{argument}[{str(first[0])!r}] and {argument}[{str(key)!r}] are pandas "
                "objects with different indexes; rows are paired by position, so they would "
                f"be mismatched. Put them in one order first, e.g. "
                f"{argument}[{str(key)!r}].reindex({argument}[{str(first[0])!r}].index)."
            )


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
    names, fields = S.dtype.names, S.dtype.fields
    assert names is not None and fields is not None  # a structured array
    dtypes = {fields[name][0] for name in names}
    if len(dtypes) != 1:
        return None
    (dtype,) = dtypes
    if dtype.shape != ():
        return None
    _check_dtype(argument, names[0], dtype)
    from numpy.lib import recfunctions

    values = recfunctions.structured_to_unstructured(np.asarray(S), copy=False)
    return values > 0  # row-major like S: one pass over the records
