"""Light row objects handed to row-wise slicing functions and preprocessors.

Snorkel hands each slicing function (SF) one ``pd.Series`` per row; building it costs more than
most SFs. Here the appliers hand out two kinds of light data points, both read with attributes
(``x.text``) or items (``x["my col"]``):

* :class:`FrameRow`: a read-only row of a DataFrame, a ``tuple`` subclass built in C from the
  frame's columns (about 20 times cheaper than a ``pd.Series``). One subclass per set of
  columns gives each column a C-level attribute getter.
* :class:`Row`: a plain mutable object whose attributes are its fields. Preprocessors work on a
  :class:`Row` copy of the data point (:func:`copy_point`), so they may add or overwrite fields
  (``x.polarity = ...``) without touching the data.

Unlike a ``pd.Series``, a column called ``name``, ``count`` or ``index`` is never shadowed by a
method: ``x.name`` is the ``name`` column (a Series' ``x.name`` is the row's index label).
"""

from __future__ import annotations

import copy
import functools
import itertools
import operator
from collections.abc import Hashable, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FrameRow", "FrozenRow", "Row", "copy_point", "frame_rows", "get_hashable", "iter_rows",
           "point_fields"]

try:  # the C attribute getter of namedtuple fields
    from collections import _tuplegetter  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - other Python implementations
    def _tuplegetter(index: int, doc: Any) -> property:
        return property(operator.itemgetter(index), doc=doc)



def _no_field(key: str, fields: Any) -> AttributeError:
    """The error for a missing field of a row (dunder lookups get a bare one, as Python's)."""
    if key.startswith("__"):
        return AttributeError(key)
    return AttributeError(
        f"Row has no field {key!r}; its fields are {list(fields)}. "
        "Check the column name, or add the field with a preprocessor."
    )

class Row:
    """A mutable data point: its fields are attributes.

    Parameters
    ----------
    fields
        Field values by name.
    **kwargs
        More fields.

    Examples
    --------
    >>> x = Row({"text": "check out my channel", "label": 1})
    >>> x.text, x["label"]
    ('check out my channel', 1)
    >>> x.polarity = 0.5
    >>> sorted(x.keys())
    ['label', 'polarity', 'text']
    """

    def __init__(self, fields: dict | None = None, **kwargs: Any) -> None:
        self.__dict__.update(fields or {}, **kwargs)

    def __getitem__(self, key: Any) -> Any:
        try:
            return self.__dict__[key]
        except KeyError:
            raise KeyError(
                f"Row has no field {key!r}; its fields are {list(self.__dict__)}."
            ) from None

    def __setitem__(self, key: Any, value: Any) -> None:
        self.__dict__[key] = value

    def __contains__(self, key: Any) -> bool:
        return key in self.__dict__

    def __getattr__(self, key: str) -> Any:
        # only called when normal lookup fails
        raise _no_field(key, self.__dict__)

    def get(self, key: Any, default: Any = None) -> Any:
        """The field ``key``, or ``default``."""
        return self.__dict__.get(key, default)

    def keys(self):
        """Field names."""
        return self.__dict__.keys()

    def to_dict(self) -> dict:
        """A dict of the fields (as ``pd.Series.to_dict``)."""
        return dict(self.__dict__)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrameRow):
            return self.__dict__ == other.to_dict()
        return isinstance(other, Row) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"Row({inner})"

    def __getstate__(self) -> dict:
        return self.__dict__

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


class FrozenRow(Row):
    """A preprocessed data point as slicing functions get it: a :class:`Row` made read-only in
    place (``row.__class__ = FrozenRow``), as a :class:`FrameRow` is.

    The output of a chain of preprocessors is computed once per row and shared by every SF
    with the same preprocessors; an SF that changed it would change what the next SF sees.
    A preprocessor given a frozen row works on a mutable copy, as always.

    Examples
    --------
    >>> x = Row(text="hi")
    >>> x.__class__ = FrozenRow
    >>> x.text
    'hi'
    >>> x.text = "changed"
    Traceback (most recent call last):
    ...
    AttributeError: Cannot set 'text': the data point a slicing function gets after its preprocessors is shared with the other SFs that use them, and read-only. Set fields in a preprocessor (which works on a copy).
    """

    __slots__ = ()

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(
            f"Cannot set {key!r}: the data point a slicing function gets after its "
            "preprocessors is shared with the other SFs that use them, and read-only. Set "
            "fields in a preprocessor (which works on a copy)."
        )

    __delattr__ = __setattr__  # type: ignore[assignment]

    def __setitem__(self, key: Any, value: Any) -> None:
        self.__setattr__(str(key), value)


def _new_row(fields: dict) -> Row:
    row = Row.__new__(Row)
    row.__dict__ = fields
    return row


class FrameRow(tuple):
    """A read-only row of a DataFrame: a tuple of its values with one attribute per column.

    Built by :func:`frame_rows`; fields are read as ``x.text`` or ``x["my col"]``. With
    MultiIndex columns a field is a whole label, ``x[("a", "x")]``; a partial key such as
    ``x["a"]`` raises ``KeyError`` listing the fields (a Snorkel row, a ``pd.Series``, returns
    the sub-Series). To add a field, write a preprocessor: it receives a mutable :class:`Row`
    copy.

    Examples
    --------
    >>> import pandas as pd
    >>> x = frame_rows(pd.DataFrame({"text": ["hi"], "name": ["Ann"], "count": [3]}))[0]
    >>> x.text, x.name, x.count, x["count"]
    ('hi', 'Ann', 3, 3)
    >>> x
    FrameRow(text='hi', name='Ann', count=3)
    """

    __slots__ = ()
    #: column labels, in order (set on each per-frame subclass)
    __row_fields__: tuple = ()
    #: column label -> position
    __row_positions__: dict = {}

    def __getitem__(self, key: Any) -> Any:
        try:
            return tuple.__getitem__(self, type(self).__row_positions__[key])
        except (KeyError, TypeError):
            raise KeyError(
                f"Row has no field {key!r}; its fields are {list(self.__row_fields__)}."
            ) from None

    def __getattr__(self, key: str) -> Any:
        raise _no_field(key, self.__row_fields__)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(
            f"Cannot set {key!r}: rows handed to slicing functions are read-only. Add fields "
            "with a preprocessor (@preprocessor(), passed as pre=[...]), which works on a copy."
        )

    __delattr__ = __setattr__  # type: ignore[assignment]

    def __contains__(self, key: Any) -> bool:  # a field name, as for a pd.Series
        try:
            return key in type(self).__row_positions__
        except TypeError:
            return False

    def get(self, key: Any, default: Any = None) -> Any:
        """The field ``key``, or ``default``."""
        pos = type(self).__row_positions__.get(key)
        return default if pos is None else tuple.__getitem__(self, pos)

    def keys(self) -> tuple:
        """Field names."""
        return self.__row_fields__

    def to_dict(self) -> dict:
        """A dict of the fields (as ``pd.Series.to_dict``)."""
        return dict(zip(self.__row_fields__, self, strict=True))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in zip(self.__row_fields__, self, strict=True))
        return f"FrameRow({inner})"

    def __reduce__(self):  # pickles (and copies) as a mutable Row
        return (Row, (self.to_dict(),))


@functools.lru_cache(maxsize=256)
def _row_class(columns: tuple) -> type[FrameRow]:
    namespace: dict[str, Any] = {
        "__slots__": (),
        "__row_fields__": columns,
        "__row_positions__": {c: i for i, c in enumerate(columns)},
    }
    for i, col in enumerate(columns):
        if isinstance(col, str) and not (col.startswith("__") and col.endswith("__")):
            namespace[col] = _tuplegetter(i, None)
    return type("FrameRow", (FrameRow,), namespace)


def _column_values(part: pd.DataFrame) -> list[list]:
    return [part.iloc[:, i].tolist() for i in range(part.shape[1])]


def frame_rows(df: pd.DataFrame, start: int = 0, stop: int | None = None,
               columns: list[int] | None = None) -> list[FrameRow]:
    """One :class:`FrameRow` per DataFrame row (positions ``start:stop``).

    Values are Python objects (``Series.tolist``); missing values stay ``None``/``nan`` as
    pandas holds them. ``columns``: positions of the only columns to put in the rows (those a
    row-wise SF reads), default all.
    """
    part = df.iloc[start:stop] if columns is None else df.iloc[start:stop, columns]
    cls = _row_class(_hashable_columns(part.columns))
    new = functools.partial(tuple.__new__, cls)
    if part.shape[1] == 0:  # an SF that reads no field: empty rows, one per row
        return list(map(new, itertools.repeat((), len(part))))
    return list(map(new, zip(*_column_values(part), strict=True)))


def _hashable_columns(columns: pd.Index) -> tuple:
    cols = tuple(columns)
    try:
        hash(cols)
    except TypeError:  # pragma: no cover - pandas labels are hashable
        cols = tuple(map(str, cols))
    return cols


def iter_rows(df: pd.DataFrame, start: int = 0, stop: int | None = None) -> Iterator[FrameRow]:
    """Iterate over :func:`frame_rows`."""
    return iter(frame_rows(df, start, stop))


#: Field values of these types are immutable: shared, not copied, by :func:`copy_point`.
_ATOMIC = (str, int, float, bool, type(None), bytes, complex, np.generic, pd.Timestamp,
           pd.Timedelta)


def _copy_fields(fields: dict) -> dict:
    for key, value in fields.items():
        if not isinstance(value, _ATOMIC):  # lists, dicts, arrays...: copied, as Snorkel does
            fields[key] = copy.deepcopy(value)
    return fields


def copy_point(x: Any) -> Any:
    """A copy of a data point that a preprocessor may change without side effects.

    :class:`FrameRow` and :class:`Row` become a new mutable :class:`Row`; field values that
    are not atomic (lists, dicts, arrays...) are deep-copied, so a preprocessor may even change
    them in place (Snorkel deep-copies the whole point with a pickle round trip). Other objects
    are deep-copied (``pd.Series.copy(deep=True)`` for a Series).
    """
    if isinstance(x, FrameRow):
        return _new_row(_copy_fields(dict(zip(x.__row_fields__, x, strict=True))))
    if type(x) is Row or type(x) is FrozenRow:
        return _new_row(_copy_fields(x.__dict__.copy()))
    if isinstance(x, pd.Series):
        return x.copy(deep=True)
    return copy.deepcopy(x)


def get_hashable(obj: Any) -> Hashable:
    """A hashable proxy of a data point, the memoization key of preprocessors.

    Two data points with equal field values share a key (as in Snorkel, a row's index label is
    not part of it).
    """
    if isinstance(obj, FrameRow):
        try:
            hash(obj)
            return (type(obj).__row_fields__, tuple(obj))
        except TypeError:
            return (type(obj).__row_fields__, tuple(get_hashable(v) for v in obj))
    if type(obj) is Row or type(obj) is FrozenRow:
        try:
            key = tuple(obj.__dict__.items())
            hash(key)
            return key
        except TypeError:
            return frozenset((k, get_hashable(v)) for k, v in obj.__dict__.items())
    if isinstance(obj, Hashable) and not isinstance(obj, (np.ndarray, pd.Series)):
        try:
            hash(obj)
            return obj
        except TypeError:
            pass
    if isinstance(obj, (dict, pd.Series)):
        return frozenset((k, get_hashable(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return tuple(get_hashable(v) for v in obj)
    if isinstance(obj, np.ndarray):
        return (obj.dtype.str, obj.shape, obj.tobytes())
    if hasattr(obj, "__dict__"):
        return frozenset((k, get_hashable(v)) for k, v in vars(obj).items())
    raise ValueError(
        f"Object {obj!r} has no hashing proxy; pass memoize_key= to the preprocessor to say "
        "how to key its cache."
    )


def point_fields(x: Any) -> dict | None:
    """The fields of a data point as a dict, or ``None`` when it has none we can read."""
    if isinstance(x, FrameRow):
        return x.to_dict()
    if isinstance(x, pd.Series):
        return x.to_dict()
    if isinstance(x, Mapping):
        return dict(x)
    if hasattr(x, "__dict__"):
        return dict(vars(x))
    return None

