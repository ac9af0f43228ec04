"""Faster row-wise slicing functions: read only the columns an SF reads, and run SF bodies that
are recognised as a known vectorized operation over the whole column at once.

Both are decided from the SF's own code and are used only when provably equivalent to calling
the SF on every row; everything else runs row by row as before.

**Columns read** (:func:`columns_read`): the SF's bytecode is scanned for every use of its data
point ``x``. When each use is ``x.<name>`` or ``x["<name>"]`` (also inside generator
expressions and nested functions), the SF can only see those fields, so its rows are built from
those columns alone. Any other use (``x`` passed to a function, iterated, compared, rebound,
``locals()``...) keeps every column.

**Recognised bodies** (:func:`vectorized_mask`): a plain ``def`` whose body is one ``return``
of, with ``c`` a column of the frame and ``K`` a constant:

* ``x.c <op> K`` for a numeric NumPy column (``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``),
  compared exactly as Python compares each row's value with ``K`` (float32/float16 columns are
  widened to float64, which is exact; integers beyond 2**53 against a float, and longdouble
  columns, run row by row), or ``x.c == "text"`` / ``!=`` for a column of strings;
* ``len(x.c) <op> K`` and ``len(x.c.split()) <op> K`` for a column of strings;
* ``bool(re.search(P, x.c[, flags]))``, ``re.search(...) is not None`` / ``is None``;
* ``"kw" in x.c``, ``"kw" in x.c.lower()``, ``any(w in x.c.lower() for w in KEYWORDS)`` (or
  without ``.lower()``), ``KEYWORDS`` a list/tuple of strings from the SF's resources, its
  closure or its globals;
* ``and`` / ``or`` / ``not`` of the above.

Names must resolve to the real builtins and the real ``re`` module; the source must compile to
the function's actual bytecode (so an edited file is never trusted); a string operation needs
every value of its column to be a ``str`` (a missing value would raise in the row-wise SF, and
that error is kept by running row-wise). Results equal the row-wise run: string searches use
:mod:`~slicewidgets.slicing._text` and :mod:`~slicewidgets.slicing._regex` (exact), word counts a
byte scan with Python's own whitespace (rows holding non-ASCII whitespace counted by
``str.split``). Set :data:`RECOGNISE` to ``False`` to run every SF row by row (benchmarks do, to
show both).
"""

from __future__ import annotations

import ast
import builtins
import dis
import functools
import inspect
import logging
import operator
import re
import textwrap
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["RECOGNISE", "columns_read", "needed_columns", "vectorized_mask"]

logger = logging.getLogger(__name__)

#: Run recognised SF bodies vectorized (set to False to always run row by row).
RECOGNISE = True

_ACCESS_OPS = {"LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_DEREF"}
_CELL_OPS = {"MAKE_CELL", "LOAD_CLOSURE"}
_VAR_OPS = set(dis.opname[i] for i in [*dis.haslocal, *dis.hasfree])
_FRAME_NAMES = {"locals", "vars", "eval", "exec", "globals", "_getframe", "currentframe",
                "getframeinfo", "stack", "f_locals"}


# -- columns read ---------------------------------------------------------------------------

def _scan(code: types.CodeType, name: str, out: set) -> bool:
    """Collect the fields of ``name`` read in ``code``; False if ``name`` is used otherwise."""
    if _FRAME_NAMES & set(code.co_names):
        return False
    ins = list(dis.get_instructions(code))
    for i, op in enumerate(ins):
        if op.opname not in _VAR_OPS:
            continue
        argval = op.argval
        if argval != name and not (isinstance(argval, tuple) and name in argval):
            continue
        if op.opname in _CELL_OPS:
            continue
        if op.opname not in _ACCESS_OPS or i + 1 >= len(ins):
            return False
        nxt = ins[i + 1]
        if nxt.opname in ("LOAD_ATTR", "LOAD_METHOD") and isinstance(nxt.argval, str):
            if nxt.argval.startswith("__"):
                return False  # x.__class__, x.__dict__...: the object itself
            out.add(nxt.argval)
        elif (nxt.opname == "LOAD_CONST" and i + 2 < len(ins)
              and ins[i + 2].opname == "BINARY_SUBSCR"):
            try:
                hash(nxt.argval)
            except TypeError:
                return False
            out.add(nxt.argval)
        else:
            return False
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            if name in const.co_freevars:
                if not _scan(const, name, out):
                    return False
            elif name in const.co_varnames or name in const.co_cellvars:
                continue  # its own variable of that name
    return True


@functools.lru_cache(maxsize=1024)
def _code_fields(code: types.CodeType) -> frozenset | None:
    if code.co_argcount < 1:
        return None
    name = code.co_varnames[0]
    fields: set = set()
    return frozenset(fields) if _scan(code, name, fields) else None


def columns_read(f: Any) -> frozenset | None:
    """The fields a row-wise function reads from its data point, or ``None`` when it may
    read more (or use the point in other ways).

    Examples
    --------
    >>> def f(x, keywords):
    ...     return any(w in x.text.lower() for w in keywords) and x["n"] > 1
    >>> sorted(columns_read(f))
    ['n', 'text']
    >>> columns_read(lambda x: print(x)) is None
    True
    """
    if not isinstance(f, types.FunctionType):
        return None
    return _code_fields(f.__code__)


def needed_columns(sfs: Any, df: pd.DataFrame) -> list[int] | None:
    """Positions of the columns of ``df`` that row-wise ``sfs`` read, or ``None`` for all.

    All columns are needed when an SF has preprocessors (they receive the whole row), when its
    reads cannot be established, when it reads a name that is not a column (its error must
    list the real fields), or when column labels repeat.
    """
    if not df.columns.is_unique:
        return None
    fields: set = set()
    for sf in sfs:
        if sf._pre:
            return None
        got = columns_read(sf._f)
        if got is None:
            return None
        fields |= got
    positions = []
    for field in fields:
        if field not in df.columns:
            return None
        position = df.columns.get_loc(field)
        if not isinstance(position, (int, np.integer)):
            return None  # a partial MultiIndex key names several columns
        positions.append(int(position))
    if len(positions) == df.shape[1]:
        return None
    return sorted(positions)


# -- recognised bodies ----------------------------------------------------------------------

class _NotRecognised(Exception):
    pass


_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
        ast.Gt: operator.gt, ast.GtE: operator.ge}
_MIRROR = {ast.Lt: ast.Gt, ast.LtE: ast.GtE, ast.Gt: ast.Lt, ast.GtE: ast.LtE,
           ast.Eq: ast.Eq, ast.NotEq: ast.NotEq}


@functools.lru_cache(maxsize=1024)
def _parsed_body(code: types.CodeType, source: str) -> ast.expr | None:
    """The returned expression of a one-statement ``def``, if ``source`` compiles to ``code``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        return None
    fn = tree.body[0]
    fn.decorator_list = []
    if code.co_freevars:  # a closure: compile it inside a function that defines those names
        outer = ast.parse("def __outer__():\n    " + "; ".join(
            f"{v} = None" for v in code.co_freevars) + "\n    return " + fn.name).body[0]
        assert isinstance(outer, ast.FunctionDef)
        outer.body.insert(1, fn)
        tree.body = [outer]
    try:
        compiled = compile(ast.fix_missing_locations(tree), code.co_filename, "exec")
    except (SyntaxError, ValueError):
        return None
    inner = next((c for c in compiled.co_consts if isinstance(c, types.CodeType)), None)
    if inner is not None and code.co_freevars:
        inner = next((c for c in inner.co_consts if isinstance(c, types.CodeType)), None)
    if inner is None or not _same_code(inner, code):
        return None
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]  # docstring
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        return None
    return body[0].value


_SAME_OP = {"LOAD_METHOD": "LOAD_ATTR", "LOAD_FAST_CHECK": "LOAD_FAST"}
_JUMPS = set(dis.hasjrel) | set(dis.hasjabs)


def _shape(code: types.CodeType) -> tuple:
    """The instructions of ``code`` with their names, constants and jump targets (by position),
    independent of how a compiler version spells a method call."""
    ins = list(dis.get_instructions(code))
    position = {op.offset: i for i, op in enumerate(ins)}
    out: list = []
    for i, op in enumerate(ins):
        name = _SAME_OP.get(op.opname, op.opname)
        if (name == "LOAD_CONST" and isinstance(op.argval, str) and i + 1 < len(ins)
                and ins[i + 1].opname == "MAKE_FUNCTION"):
            # Python <= 3.10 passes a nested function's qualified name as a constant; it
            # names the enclosing scopes (different where the source is re-compiled alone)
            # and changes nothing the code does
            arg: Any = "<qualname>"
        elif op.opcode in _JUMPS:
            arg = position.get(op.argval, op.argval)
        elif isinstance(op.argval, types.CodeType):
            arg = _shape(op.argval)
        elif name == "LOAD_GLOBAL":
            arg = op.argval  # the NULL flag differs with the call form, not the meaning
        else:
            arg = (type(op.argval).__name__, repr(op.argval))
        out.append((name, arg))
    return (tuple(out), code.co_varnames, code.co_freevars, code.co_cellvars,
            code.co_argcount, code.co_kwonlyargcount, code.co_posonlyargcount)


def _same_code(a: types.CodeType, b: types.CodeType) -> bool:
    """Whether two code objects do the same (the source we read is the code that runs)."""
    return _shape(a) == _shape(b)


class _Context:
    """What the names in an SF body refer to, and the frame it runs on."""

    def __init__(self, f: types.FunctionType, resources: dict, df: pd.DataFrame,
                 text_cache: dict, keep: bool) -> None:
        code = f.__code__
        self.x = code.co_varnames[0]
        self.df = df
        self.text_cache = text_cache
        self.keep = keep
        params = code.co_varnames[1:code.co_argcount + code.co_kwonlyargcount]
        sig = inspect.signature(f)
        self.params: dict[str, Any] = {}
        for p in params:
            if p in resources:
                if sig.parameters[p].kind is inspect.Parameter.POSITIONAL_ONLY:
                    raise _NotRecognised  # the row-wise call fails; let it say so
                self.params[p] = resources[p]
            elif sig.parameters[p].default is not inspect.Parameter.empty:
                self.params[p] = sig.parameters[p].default
            else:
                raise _NotRecognised  # the row-wise call fails; let it say so
        if set(resources) - set(params) or code.co_flags & (inspect.CO_VARARGS
                                                             | inspect.CO_VARKEYWORDS):
            raise _NotRecognised
        self.closure = dict(zip(code.co_freevars,
                                (c.cell_contents for c in (f.__closure__ or ())), strict=True))
        self.globals = f.__globals__
        self.local_names = {self.x, *params}

    def resolve(self, node: ast.expr) -> Any:
        """The value of a name (resource, closure, global, builtin) or a dotted attribute."""
        if isinstance(node, ast.Name):
            name = node.id
            if name == self.x:
                raise _NotRecognised
            if name in self.params:
                return self.params[name]
            if name in self.closure:
                return self.closure[name]
            if name in self.globals:
                return self.globals[name]
            if hasattr(builtins, name):
                return getattr(builtins, name)
            raise _NotRecognised
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            if not isinstance(base, types.ModuleType):
                raise _NotRecognised
            try:
                return getattr(base, node.attr)
            except AttributeError:
                raise _NotRecognised from None
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            left, right = self.resolve(node.left), self.resolve(node.right)
            if isinstance(left, int) and isinstance(right, int):
                return left | right
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            value = self.resolve(node.operand)
            if type(value) in (int, float):
                return -value
        raise _NotRecognised

    def is_builtin(self, node: ast.expr, name: str) -> bool:
        return isinstance(node, ast.Name) and node.id not in self.local_names and \
            self.lookup(node) is getattr(builtins, name)

    def lookup(self, node: ast.expr) -> Any:
        """:meth:`resolve`, or ``None`` when the name is not resolvable."""
        try:
            return self.resolve(node)
        except _NotRecognised:
            return None

    # -- column access --
    def column(self, node: ast.expr) -> str:
        """``x.c`` or ``x["c"]`` -> the column name ``c``."""
        name: Any
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id == self.x:
            name = node.attr
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) \
                and node.value.id == self.x and isinstance(node.slice, ast.Constant):
            name = node.slice.value
        else:
            raise _NotRecognised
        if (isinstance(name, str) and name.startswith("__") and name.endswith("__")) \
                or name not in self.df.columns or not self.df.columns.is_unique \
                or not isinstance(self.df.columns.get_loc(name), (int, np.integer)):
            raise _NotRecognised
        return name

    def str_column(self, node: ast.expr) -> tuple[str, pd.Series]:
        name = self.column(node)
        values = self.df[name]
        if not _all_str(values):
            raise _NotRecognised
        return name, values

    def text_index(self, name: str, case: bool) -> Any:
        from slicewidgets.slicing._text import TextIndex

        key = (name, case)
        index = self.text_cache.get(key)
        if index is None:
            index = TextIndex(self.df[name], case=case, prefer_tokens=self.keep)
            self.text_cache[key] = index
        if index.arrow_values() is None:  # strings Arrow cannot hold: stay row-wise
            raise _NotRecognised
        return index


def _all_str(values: pd.Series) -> bool:
    if isinstance(values.dtype, pd.StringDtype):
        return not values.isna().any()
    if values.dtype != object:
        return False
    return set(map(type, values.to_numpy())) <= {str}  # exact str: no subclass methods


def _eval_bool(node: ast.expr, ctx: _Context) -> np.ndarray:
    """A boolean mask equal to evaluating ``node`` (a bool-valued expression) on every row."""
    if isinstance(node, ast.BoolOp):
        masks = [_eval_bool(v, ctx) for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        return combine.reduce(masks)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ~_eval_bool(node.operand, ctx)
    if isinstance(node, ast.Call) and ctx.is_builtin(node.func, "bool") and \
            len(node.args) == 1 and not node.keywords:
        inner = node.args[0]
        if _is_re_search(inner, ctx):
            return _re_search(inner, ctx)
        return _eval_bool(inner, ctx)
    if isinstance(node, ast.Call) and ctx.is_builtin(node.func, "any"):
        return _any_keywords(node, ctx)
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        op, left, right = node.ops[0], node.left, node.comparators[0]
        if isinstance(op, (ast.Is, ast.IsNot)) and isinstance(right, ast.Constant) \
                and right.value is None and _is_re_search(left, ctx):
            found = _re_search(left, ctx)
            return found if isinstance(op, ast.IsNot) else ~found
        if isinstance(op, ast.In):
            return _contains(left, right, ctx)
        if isinstance(op, ast.NotIn):
            return ~_contains(left, right, ctx)
        if type(op) in _CMP:
            return _compare(left, op, right, ctx)
    raise _NotRecognised


def _is_re_search(node: ast.expr, ctx: _Context) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name))
            and ctx.lookup(node.func) is re.search)


def _re_search(node: ast.expr, ctx: _Context) -> np.ndarray:
    from slicewidgets.slicing._regex import regex_search_masks

    assert isinstance(node, ast.Call)
    args = list(node.args)
    kwargs: dict[Any, ast.expr] = {k.arg: k.value for k in node.keywords}
    if None in kwargs or len(args) > 3 or set(kwargs) - {"pattern", "string", "flags"}:
        raise _NotRecognised
    names = ["pattern", "string", "flags"]
    bound: dict[Any, ast.expr] = dict(zip(names, args, strict=False))
    if set(bound) & set(kwargs):
        raise _NotRecognised
    bound.update(kwargs)
    if "pattern" not in bound or "string" not in bound:
        raise _NotRecognised
    pattern = ctx.resolve(bound["pattern"])
    flags = ctx.resolve(bound["flags"]) if "flags" in bound else 0
    if not isinstance(pattern, str) or not isinstance(flags, int):
        raise _NotRecognised
    try:
        regex = re.compile(pattern, flags)
    except re.error:
        raise _NotRecognised from None  # the row-wise call raises: keep its error
    name, _ = ctx.str_column(bound["string"])
    return regex_search_masks(ctx.text_index(name, True), [regex])[0].copy()


def _text_operand(node: ast.expr, ctx: _Context) -> tuple[str, bool]:
    """``x.c`` -> (c, case-sensitive); ``x.c.lower()`` -> (c, not case-sensitive)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr == "lower" and not node.args and not node.keywords:
        name, _ = ctx.str_column(node.func.value)
        return name, False
    name, _ = ctx.str_column(node)
    return name, True


def _keyword_mask(name: str, case: bool, needles: list[str], ctx: _Context) -> np.ndarray:
    # needles as written: `"Plz" in x.text.lower()` never matches, as in Python
    return ctx.text_index(name, case).masks([needles])[0].copy()


def _contains(left: ast.expr, right: ast.expr, ctx: _Context) -> np.ndarray:
    needle = ctx.resolve(left) if isinstance(left, ast.Constant) else None
    if not isinstance(needle, str):
        raise _NotRecognised
    name, case = _text_operand(right, ctx)
    return _keyword_mask(name, case, [needle], ctx)


def _any_keywords(node: ast.Call, ctx: _Context) -> np.ndarray:
    if len(node.args) != 1 or node.keywords or not isinstance(node.args[0], ast.GeneratorExp):
        raise _NotRecognised
    gen = node.args[0]
    if len(gen.generators) != 1:
        raise _NotRecognised
    comp = gen.generators[0]
    if comp.ifs or comp.is_async or not isinstance(comp.target, ast.Name):
        raise _NotRecognised
    var = comp.target.id
    elt = gen.elt
    if not (isinstance(elt, ast.Compare) and len(elt.ops) == 1 and isinstance(elt.ops[0], ast.In)
            and isinstance(elt.left, ast.Name) and elt.left.id == var):
        raise _NotRecognised
    keywords = ctx.resolve(comp.iter)
    if not isinstance(keywords, (list, tuple)) or not all(type(k) is str for k in keywords):
        raise _NotRecognised
    name, case = _text_operand(elt.comparators[0], ctx)
    if var in (ctx.x, name):
        raise _NotRecognised
    if not keywords:
        return np.zeros(len(ctx.df), dtype=bool)
    return _keyword_mask(name, case, list(keywords), ctx)


def _numeric_term(node: ast.expr, ctx: _Context) -> np.ndarray:
    """``x.c`` (numeric column), ``len(x.c)`` or ``len(x.c.split())`` as an array."""
    if isinstance(node, ast.Call) and ctx.is_builtin(node.func, "len") and \
            len(node.args) == 1 and not node.keywords:
        arg = node.args[0]
        if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and \
                arg.func.attr == "split" and not arg.args and not arg.keywords:
            name, values = ctx.str_column(arg.func.value)
            return _word_counts(ctx.text_index(name, True))
        name, values = ctx.str_column(arg)
        import pyarrow.compute as pc

        return pc.utf8_length(ctx.text_index(name, True).arrow_values()).to_numpy(
            zero_copy_only=False).astype(np.int64)
    name = ctx.column(node)
    values = ctx.df[name]
    if not isinstance(values.dtype, np.dtype) or values.dtype.kind not in "biuf":
        raise _NotRecognised
    return values.to_numpy()


def _compare(left: ast.expr, op: ast.cmpop, right: ast.expr, ctx: _Context) -> np.ndarray:
    if isinstance(left, (ast.Constant, ast.UnaryOp)) and not isinstance(
            right, (ast.Constant, ast.UnaryOp)):
        left, right, op = right, left, _MIRROR[type(op)]()
    const: Any = ctx.resolve(right) if isinstance(right, (ast.Constant, ast.UnaryOp)) else None
    if isinstance(const, str) and isinstance(op, (ast.Eq, ast.NotEq)):
        _name, values = ctx.str_column(left)
        equal = (values == const).to_numpy(dtype=bool)
        return equal if isinstance(op, ast.Eq) else ~equal
    if type(const) not in (int, float, bool):
        raise _NotRecognised
    values = _numeric_term(left, ctx)
    if values.dtype.kind == "f" and values.dtype.itemsize < 8:
        # NumPy 2 compares a float32/float16 array with a Python float in the array's type
        # (0.9 rounded to float32); each row holds a Python float, compared exactly. Widening
        # to float64 is exact, and then NumPy compares as Python does.
        values = values.astype(np.float64)
    if not _exact(values, const):
        raise _NotRecognised
    return np.asarray(_CMP[type(op)](values, const), dtype=bool)


def _exact(values: np.ndarray, const: int | float) -> bool:
    """Whether NumPy compares ``values`` with ``const`` exactly as Python compares each value."""
    kind = values.dtype.kind
    if kind == "f":
        if values.dtype != np.float64:  # longdouble: rows hold np.longdouble, not floats
            return False
        return type(const) is float or abs(const) <= 2**53
    if kind in "iu":
        if type(const) is float:  # NumPy compares in float64: exact while |v| <= 2**53
            return len(values) == 0 or (int(values.min()) >= -2**53
                                        and int(values.max()) <= 2**53)
        info = np.iinfo(values.dtype)
        return info.min <= const <= info.max
    return kind == "b" and type(const) in (bool, int) and abs(const) <= 2**31


# -- word counts: len(s.split()) over all rows ----------------------------------------------

@functools.lru_cache(maxsize=1)
def _whitespace() -> tuple[np.ndarray, str]:
    """Python's whitespace: a byte table for ASCII, an RE2 class of the other characters."""
    table = np.zeros(256, dtype=bool)
    for c in range(128):
        table[c] = chr(c).isspace()
    other = [c for c in range(128, 0x110000) if chr(c).isspace()]
    return table, "[" + "".join(f"\\x{{{c:x}}}" for c in other) + "]"


def _word_counts(index: Any) -> np.ndarray:
    """``len(s.split())`` of every string of a case-sensitive TextIndex."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = index.arrow_values()
    n = len(arr)
    table, other_ws = _whitespace()
    _, offset_buffer, data = arr.buffers()
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    raw = np.frombuffer(offset_buffer, dtype=width)[arr.offset:arr.offset + n + 1]
    raw = raw.astype(np.int64)
    offsets = raw - raw[0]
    counts = np.zeros(n, dtype=np.int64)
    if n and offsets[-1] > 0:
        text = np.frombuffer(data, dtype=np.uint8)[raw[0]:raw[-1]]
        space = table[text]
        start = ~space
        start[1:] &= space[:-1]
        firsts = offsets[:-1][np.diff(offsets) > 0]
        start[firsts] = ~space[firsts]  # a word may start at the first byte of every row
        total = np.zeros(len(start) + 1,
                         dtype=np.int32 if len(start) < 2**31 - 1 else np.int64)
        np.cumsum(start, out=total[1:])
        counts = (total[offsets[1:]] - total[offsets[:-1]]).astype(np.int64)
    suspects = index.non_ascii_rows()
    if len(suspects):
        sub = arr.take(pa.array(suspects))
        hit = pc.match_substring_regex(sub, other_ws).fill_null(False).to_numpy(
            zero_copy_only=False)
        rows = suspects[hit]
        if len(rows):
            counts[rows] = [len(t.split()) for t in arr.take(pa.array(rows)).to_pylist()]
    return counts


@functools.lru_cache(maxsize=1024)
def _source(code: types.CodeType) -> str | None:
    """The source of ``code``, cached by the code object alone: a cache holding the function
    would keep it alive, with its closure and defaults (a model, a table), long after the SF
    is gone. :func:`_parsed_body` checks that the source compiles to ``code``."""
    try:
        return textwrap.dedent(inspect.getsource(code))
    except (OSError, TypeError):
        return None


def vectorized_mask(sf: Any, df: pd.DataFrame, text_cache: dict | None = None, *,
                    keep: bool = False) -> np.ndarray | None:
    """The SF's mask over ``df`` computed vectorized, or ``None`` if its body is not
    recognised (then run it row by row).

    ``text_cache`` holds the prepared text columns (:class:`~slicewidgets.slicing._text.TextIndex`
    by ``(column, case)``) shared by the SFs of one call, or kept between calls on the same
    frame (``keep=True``: then each index also builds its token index).

    Examples
    --------
    >>> from slicewidgets.slicing import slicing_function
    >>> @slicing_function()
    ... def short(x):
    ...     return len(x.text.split()) < 3
    >>> vectorized_mask(short, pd.DataFrame({"text": ["a b", "a b c", " x\\ty "]})).tolist()
    [True, False, True]
    """
    f: Callable = sf._f
    if not RECOGNISE or sf._pre or not isinstance(f, types.FunctionType) or len(df) == 0:
        return None
    code = f.__code__
    if code.co_argcount < 1 or f.__name__ == "<lambda>":
        return None
    source = _source(code)
    body = None if source is None else _parsed_body(code, source)
    if body is None:
        return None
    try:
        ctx = _Context(f, sf._resources, df, {} if text_cache is None else text_cache, keep)
        mask = _eval_bool(body, ctx)
    except _NotRecognised:
        return None
    except Exception:  # never worse than row by row: any surprise there, the rows decide
        logger.debug("recognised body of %r failed; running it row by row", sf.name,
                     exc_info=True)
        return None
    mask = np.asarray(mask, dtype=bool)
    return mask if mask.shape == (len(df),) else None
