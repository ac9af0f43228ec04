"""Content fingerprints of functions and settings, used as cache keys for slice masks.

Two slicing functions with the same code, constants, defaults, closure values and resources
get the same fingerprint; editing any of those changes it. Values of *global* variables a
function reads are not included (they are looked up at call time).
"""

from __future__ import annotations

import functools
import hashlib
import types
from typing import Any

__all__ = ["fingerprint"]


def _code_parts(code: types.CodeType) -> tuple:
    consts = tuple(
        _code_parts(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts
    )
    return (code.co_code, consts, code.co_names, code.co_varnames, code.co_freevars)


def _parts(obj: Any, depth: int = 0) -> Any:
    if depth > 20:
        return repr(obj)
    fp = getattr(obj, "fingerprint", None)
    if isinstance(fp, str):
        return ("fp", fp)
    if isinstance(obj, functools.partial):
        return ("partial", _parts(obj.func, depth + 1), _parts(obj.args, depth + 1),
                _parts(obj.keywords, depth + 1))
    if isinstance(obj, (types.FunctionType, types.MethodType)):
        func = obj.__func__ if isinstance(obj, types.MethodType) else obj
        closure = tuple(
            _parts(c.cell_contents, depth + 1) if _cell_filled(c) else None
            for c in (func.__closure__ or ())
        )
        return ("fn", func.__qualname__, _code_parts(func.__code__),
                _parts(func.__defaults__, depth + 1), _parts(func.__kwdefaults__, depth + 1),
                closure)
    if isinstance(obj, dict):
        return ("dict", tuple(sorted((repr(k), _parts(v, depth + 1)) for k, v in obj.items())))
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = [_parts(v, depth + 1) for v in obj]
        if isinstance(obj, (set, frozenset)):
            items = sorted(map(repr, items))
        return (type(obj).__name__, tuple(items))
    if isinstance(obj, type):
        return ("type", obj.__module__, obj.__qualname__)
    return repr(obj)


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
