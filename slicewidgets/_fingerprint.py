"""Content fingerprints of slicing functions, used as cache keys for slice masks.

A cached mask may be reused only when it is *provably* the mask the SF would compute now. So a
fingerprint is a hash of everything that decides the SF's result, by content:

* numbers, strings, bytes, NumPy arrays, pandas objects, containers (in their order): by value
  (hashed with :func:`joblib.hash`'s pickler, which reads arrays as raw bytes);
* Python functions: their byte code and constants, defaults, closure values, and the values of
  the **global names they read**, recursively, so an edited helper function or a changed global
  gives a new fingerprint; bound methods: the function and the object; classes defined outside
  installed libraries: their methods and attributes. A function that can read names given as
  strings (it calls ``eval``, ``query``, ``globals``, ``vars``, ``locals``, ``exec`` or
  ``getattr``, as in ``df.eval("n > @LIMIT")`` or ``pd.eval("n > LIMIT")``) also hashes the
  globals named by the identifiers in its string constants and in the strings it reads;
* any other object: its pickled state (what ``pickle`` saves is, by pickle's contract, what
  rebuilds the object), with functions and classes inside it hashed as above. A fitted
  scikit-learn model, refitted in place, gets a new fingerprint.

Installed libraries (the standard library, ``site-packages``, slicewidgets itself) are taken by
name: ``re.search`` or ``LogisticRegression`` the class. Modules are taken by name, but a
function that reads ``config.LIMIT`` from one of your own modules hashes ``config.LIMIT``.

An object that cannot be hashed this way (an open file, a lock, a generator, anything pickle
refuses) makes the fingerprint **volatile**: a fresh value every time, so its mask is never
reused and is recomputed on every update. To make such an object cacheable, give its class a
``__slicewidgets_fingerprint__(self)`` method returning a value that changes whenever the
object's behaviour changes (its settings, or a version number you increment when you change it
in place); that value is hashed instead of the object.

What no fingerprint can see: state outside Python objects (files the SF reads, the clock,
environment variables) and objects whose pickled form leaves out state they use. After changing
those, recompute explicitly (:meth:`slicewidgets.slicing.SliceSet.refresh`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import re
import site
import sys
import sysconfig
import types
import uuid
from typing import Any

from joblib.hashing import NumpyHasher

__all__ = ["DYNAMIC_LOOKUPS", "fingerprint", "is_volatile", "names_in_strings", "names_read", "PROTOCOL"]

#: Method name of the opt-in protocol: ``obj.__slicewidgets_fingerprint__()`` returns the value
#: hashed in place of ``obj``.
PROTOCOL = "__slicewidgets_fingerprint__"
#: Prefix of fingerprints that never match another one (nothing reusable).
VOLATILE = "volatile-"

_CLASS_SKIP = frozenset({"__dict__", "__weakref__", "__module__", "__doc__", "__qualname__",
                         "__annotations__", "__slots__", "__firstlineno__",
                         "__static_attributes__", "_abc_impl"})


class _Volatile(Exception):
    """Raised inside the hasher: the object has no content hash."""


def fingerprint(obj: Any) -> str:
    """Hex digest identifying ``obj``'s content (see the module docstring).

    Equal fingerprints mean equal content; objects without a content hash get a *volatile*
    fingerprint, different on every call.

    Examples
    --------
    >>> fingerprint(lambda x: x.a > 1) == fingerprint(lambda x: x.a > 1)
    True
    >>> fingerprint(lambda x: x.a > 1) == fingerprint(lambda x: x.a > 2)
    False
    >>> import threading
    >>> is_volatile(fingerprint(threading.Lock()))  # no content hash: never reused
    True
    """
    try:
        return _ContentHasher().hash(obj)
    except Exception:  # noqa: BLE001 - unpicklable or failing __reduce__: no content hash
        return VOLATILE + uuid.uuid4().hex


def is_volatile(fp: str) -> bool:
    """Whether a fingerprint was made for an object without a content hash."""
    return fp.startswith(VOLATILE)


class _ContentHasher(NumpyHasher):
    """joblib's hashing pickler, with code hashed by content and nothing reordered."""

    dispatch = NumpyHasher.dispatch.copy()
    del dispatch[set]  # keep iteration order (joblib sorts): equal order -> equal hash

    def __init__(self) -> None:
        super().__init__(hash_name="md5")
        self._active: set[int] = set()

    # dicts in insertion order (joblib sorts their keys)
    def _batch_setitems(self, items, *args):
        return pickle._Pickler._batch_setitems(self, items, *args)  # type: ignore[attr-defined]

    def save(self, obj: Any, save_persistent_id: bool = True) -> None:  # noqa: C901
        if obj is None or isinstance(obj, (str, bytes, int, float, bool, complex)):
            return NumpyHasher.save(self, obj)
        key = id(obj)
        if key in self._active:  # a cycle: the object is being hashed further up
            return NumpyHasher.save(self, ("cycle", type(obj).__qualname__))
        token = self._token(obj)
        if token is None:
            return NumpyHasher.save(self, obj)
        self._active.add(key)
        try:
            NumpyHasher.save(self, token)
        finally:
            self._active.discard(key)

    def _token(self, obj: Any) -> tuple | None:
        """A picklable stand-in for objects that pickle would take by name (or refuse)."""
        proto = getattr(type(obj), PROTOCOL, None)
        if proto is not None and not isinstance(obj, type):
            return ("proto", _qualname(type(obj)), proto(obj))
        if isinstance(obj, types.FunctionType):
            if _is_library(obj.__module__) and _by_name(obj):
                return ("fnref", obj.__module__, obj.__qualname__)
            return _function_token(obj)
        if isinstance(obj, types.MethodType):
            return ("method", obj.__func__, obj.__self__)
        if isinstance(obj, types.BuiltinFunctionType):  # C functions and their bound methods
            owner = obj.__self__
            if owner is None or isinstance(owner, types.ModuleType):
                return ("builtin", getattr(obj, "__module__", None), obj.__qualname__)
            return ("builtin-method", obj.__qualname__, owner)
        if isinstance(obj, type):
            if _is_library(obj.__module__) and _by_name(obj):
                return ("typeref", obj.__module__, obj.__qualname__)
            attrs = tuple((k, v) for k, v in vars(obj).items() if k not in _CLASS_SKIP)
            return ("type", obj.__module__, obj.__qualname__, obj.__bases__, attrs)
        if isinstance(obj, (staticmethod, classmethod)):
            return (type(obj).__name__, obj.__func__)
        if isinstance(obj, property):
            return ("property", obj.fget, obj.fset, obj.fdel)
        if isinstance(obj, functools.cached_property):
            return ("cached_property", obj.func)
        if isinstance(obj, types.ModuleType):
            return ("module", obj.__name__)
        if isinstance(obj, types.CodeType):
            return _code_token(obj)
        if isinstance(obj, (types.GeneratorType, types.CoroutineType, types.FrameType)):
            raise _Volatile(type(obj).__name__)
        return None


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _code_token(code: types.CodeType) -> tuple:
    # everything that decides behaviour, not the file name or line numbers (a notebook cell run
    # again gets another file name)
    return ("code", code.co_code, code.co_consts, code.co_names, code.co_varnames,
            code.co_freevars, code.co_cellvars, code.co_flags, code.co_argcount,
            code.co_posonlyargcount, code.co_kwonlyargcount,
            getattr(code, "co_exceptiontable", b""))


def names_read(code: types.CodeType) -> set[str]:
    """The global and attribute names a code object reads, nested functions included.

    Examples
    --------
    >>> def f(x):
    ...     return np.any([helper(y) for y in x.items])
    >>> sorted(names_read(f.__code__))
    ['any', 'helper', 'items', 'np']
    """
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= names_read(const)
    return names


#: Names through which code reads globals named in strings: pandas' ``eval`` / ``query``
#: (``@name``; bare names in ``pd.eval``), ``globals()["name"]``, ``getattr(module, "name")``...
DYNAMIC_LOOKUPS = frozenset({"eval", "query", "globals", "vars", "locals", "exec", "getattr"})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _string_constants(code: types.CodeType) -> list[str]:
    out = []
    for const in code.co_consts:
        if isinstance(const, str):
            out.append(const)
        elif isinstance(const, types.CodeType):
            out += _string_constants(const)
    return out


def names_in_strings(code: types.CodeType, glob: dict[str, Any]) -> set[str]:
    """The identifiers in a code object's string constants, and in the strings of the globals
    it reads: the names a dynamic lookup (:data:`DYNAMIC_LOOKUPS`) could read.

    Examples
    --------
    >>> EXPR = "n > @LIMIT"
    >>> def big(df):
    ...     return df.eval(EXPR) & df.query("m < @LOW").notna()
    >>> sorted(names_in_strings(big.__code__, {"EXPR": EXPR}))
    ['LIMIT', 'LOW', 'm', 'n']
    """
    strings = _string_constants(code)
    strings += [v for k in names_read(code) if isinstance(v := glob.get(k), str)]
    return {tok for s in strings for tok in _IDENTIFIER.findall(s)}


def _function_token(fn: types.FunctionType) -> tuple:
    cells: list[tuple[Any, ...]] = []
    for cell in fn.__closure__ or ():
        try:
            cells.append(("cell", cell.cell_contents))
        except ValueError:  # an empty cell (a name assigned later)
            cells.append(("empty",))
    names = names_read(fn.__code__)
    glob = fn.__globals__
    if names & DYNAMIC_LOOKUPS:  # names given as strings: hash the globals they could name
        names |= names_in_strings(fn.__code__, glob)
    read = []
    for name in sorted(names & glob.keys()):
        value = glob[name]
        if isinstance(value, types.ModuleType) and not _is_library(value.__name__):
            # your own module: the attributes this code reads from it
            value = ("module", value.__name__,
                     tuple((a, getattr(value, a)) for a in sorted(names) if hasattr(value, a)))
        read.append((name, value))
    return ("fn", fn.__module__, fn.__qualname__, fn.__code__, fn.__defaults__,
            fn.__kwdefaults__, tuple(cells), tuple(read))


def _by_name(obj: Any) -> bool:
    """Whether ``module.qualname`` leads to ``obj`` itself (so the name identifies it)."""
    target: Any = sys.modules.get(obj.__module__)
    for part in obj.__qualname__.split("."):
        target = getattr(target, part, None)
    return target is obj


@functools.cache
def _library_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    dirs = [paths.get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")]
    with contextlib.suppress(AttributeError):  # virtualenv's old site.py has neither
        dirs += site.getsitepackages() + [site.getusersitepackages()]
    dirs.append(os.path.dirname(__file__))  # slicewidgets itself
    return tuple(sorted({os.path.realpath(d) + os.sep for d in dirs if d}))


_LIBRARY: dict[str, bool] = {}


def _is_library(module: str | None) -> bool:
    """Whether ``module`` is installed code (stdlib, site-packages, slicewidgets): by name."""
    if not module:
        return False
    known = _LIBRARY.get(module)
    if known is not None:
        return known
    mod = sys.modules.get(module)
    if mod is None:
        result = False
    else:
        file = getattr(mod, "__file__", None)
        if file is None:
            spec = getattr(mod, "__spec__", None)
            result = module in sys.builtin_module_names or getattr(spec, "origin", None) in (
                "built-in", "frozen")
        else:
            result = os.path.realpath(file).startswith(_library_dirs())
    if mod is not None and module != "__main__":
        _LIBRARY[module] = result
    return result
