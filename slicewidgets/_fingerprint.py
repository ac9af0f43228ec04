"""Content fingerprints of functions and settings, used as cache keys for slice masks.

Two slicing functions with the same code, constants, defaults, closure values and resources
get the same fingerprint; editing any of those changes it. NumPy arrays and pandas objects are
hashed by content; other values by ``repr``, which for most objects without a ``__repr__``
includes their address (so two such objects never share a fingerprint).

Not included: the values of *global* variables and the code of other functions that a function
calls by name (they are looked up at call time). After changing those, recompute explicitly
(:meth:`slicewidgets.slicing.SliceSet.refresh`).
"""

from __future__ import annotations

import functools
import hashlib
import re
import types
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["fingerprint"]

_ACTIVE: set[int] = set()  # objects whose fingerprint is being computed


def _code_parts(code: types.CodeType) -> tuple:
    consts = tuple(
        _code_parts(c) if isinstance(c, types.CodeType) else _safe_repr(c)
        for c in code.co_consts
    )
    return (code.co_code, consts, code.co_names, code.co_varnames, code.co_freevars)


def _parts(obj: Any, depth: int = 0) -> Any:
    if depth > 20:
        return _safe_repr(obj)
    if isinstance(getattr(type(obj), "fingerprint", None), property):
        # an SF or preprocessor: use its own fingerprint (guarding against self-reference)
        if id(obj) in _ACTIVE:
            return ("cycle", type(obj).__qualname__)
        _ACTIVE.add(id(obj))
        try:
            fp = obj.fingerprint
        finally:
            _ACTIVE.discard(id(obj))
        if isinstance(fp, str):
            return ("fp", fp)
    if isinstance(obj, functools.partial):
        return ("partial", _parts(obj.func, depth + 1), _parts(obj.args, depth + 1),
                _parts(obj.keywords, depth + 1))
    if isinstance(obj, types.MethodType):
        return ("method", _parts(obj.__func__, depth + 1), _parts(obj.__self__, depth + 1))
    if isinstance(obj, types.FunctionType):
        closure = tuple(
            _parts(c.cell_contents, depth + 1) if _cell_filled(c) else None
            for c in (obj.__closure__ or ())
        )
        return ("fn", obj.__qualname__, _code_parts(obj.__code__),
                _parts(obj.__defaults__, depth + 1), _parts(obj.__kwdefaults__, depth + 1),
                closure)
    if isinstance(obj, np.ndarray):
        data = obj.tobytes() if obj.dtype != object else repr(obj.tolist()).encode()
        return ("ndarray", obj.dtype.str, obj.shape, hashlib.blake2b(data).hexdigest())
    if isinstance(obj, (pd.Series, pd.DataFrame, pd.Index)):
        try:
            values = pd.util.hash_pandas_object(obj, index=not isinstance(obj, pd.Index))
            digest = hashlib.blake2b(values.to_numpy().tobytes()).hexdigest()
        except TypeError:  # unhashable cells
            digest = _safe_repr(obj.to_dict() if not isinstance(obj, pd.Index) else list(obj))
        columns = tuple(map(repr, obj.columns)) if isinstance(obj, pd.DataFrame) else ()
        return (type(obj).__name__, obj.shape, columns, digest)
    if isinstance(obj, dict):
        return ("dict", tuple(sorted((_safe_repr(k), _parts(v, depth + 1))
                                     for k, v in obj.items())))
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = [_parts(v, depth + 1) for v in obj]
        if isinstance(obj, (set, frozenset)):
            items = sorted(map(_safe_repr, items))
        return (type(obj).__name__, tuple(items))
    if isinstance(obj, type):
        return ("type", obj.__module__, obj.__qualname__)
    if isinstance(obj, re.Pattern):
        return ("re", obj.pattern, obj.flags)
    return _safe_repr(obj)


def _safe_repr(obj: Any) -> str:
    try:
        return repr(obj)
    except Exception:  # a broken __repr__: identify the object by type and address
        return f"<{type(obj).__qualname__} at {id(obj):#x}>"


def _cell_filled(cell: types.CellType) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True


def fingerprint(obj: Any) -> str:
    """Hex digest identifying ``obj``'s code and values.

    Examples
    --------
    >>> fingerprint(lambda x: x.a > 1) == fingerprint(lambda x: x.a > 1)
    True
    >>> fingerprint(lambda x: x.a > 1) == fingerprint(lambda x: x.a > 2)
    False
    """
    return hashlib.blake2b(repr(_parts(obj)).encode(), digest_size=16).hexdigest()
