"""Slicing functions: the ``SlicingFunction`` class, its decorator, builders and algebra.

A slicing function (SF) marks the rows of one slice of the data. It comes in two forms:

* **row-wise** (Snorkel's form): ``f(x, **resources) -> bool`` for one data point ``x``
  whose fields are attributes (``x.text``), optionally after preprocessors (``pre=[...]``);
* **vectorized**: ``f(df, **resources) -> boolean mask`` over a whole DataFrame,
  declared with ``@slicing_function(vectorized=True)``; tens to thousands of times faster.

Both forms can be called on a single data point and both can be applied to a DataFrame by
:class:`~slicewidgets.slicing.PandasSFApplier`. SFs combine with ``&``, ``|`` and ``~``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from slicewidgets._fingerprint import fingerprint
from slicewidgets._row import FrozenRow, Row
from slicewidgets.preprocess.core import MISSING_PARENS, BaseMapper
from slicewidgets.slicing._rowwise_run import rowwise_mask
from slicewidgets.slicing._validation import (
    SFApplyError,
    protected_frame,
    validate_mask,
)

__all__ = [
    "SlicingFunction",
    "slicing_function",
    "KeywordSlicingFunction",
    "RegexSlicingFunction",
    "CombinedSlicingFunction",
    "SFApplyError",
    "keyword_sf",
    "regex_sf",
]


class SlicingFunction:
    """A named predicate that marks the data points of one slice.

    Parameters
    ----------
    name
        Name of the slice; becomes the field name in ``S`` and the row label in score tables.
    f
        Row-wise: ``f(x, **resources) -> bool``. Vectorized: ``f(df, **resources) -> mask``
        (boolean array or Series aligned with ``df``).
    resources
        Keyword arguments passed to ``f`` on every call.
    pre
        Preprocessors run (in order) on each data point before ``f`` (row-wise SFs only).
    vectorized
        Whether ``f`` takes the whole DataFrame.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> sf = SlicingFunction("big", lambda x: x.a > 42)
    >>> sf(SimpleNamespace(a=90))
    True
    >>> import pandas as pd
    >>> vsf = SlicingFunction("big", lambda df: df.a > 42, vectorized=True)
    >>> vsf.mask(pd.DataFrame({"a": [1, 90]})).tolist()
    [False, True]
    """

    def __init__(
        self,
        name: str,
        f: Callable[..., Any],
        resources: Mapping[str, Any] | None = None,
        pre: Sequence[BaseMapper] | None = None,
        *,
        vectorized: bool = False,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(
                f"SlicingFunction name must be a non-empty string, got {name!r}."
            )
        if not callable(f):
            raise TypeError(f"SlicingFunction {name!r}: f must be callable, got {type(f).__name__}.")
        self.name = name
        self._f = f
        self._resources = dict(resources or {})
        self._pre = list(pre or [])
        self.vectorized = vectorized
        if vectorized and self._pre:
            raise ValueError(
                f"SlicingFunction {name!r}: preprocessors are row-wise and cannot feed a "
                "vectorized SF; add the column to the DataFrame first, or drop vectorized=True."
            )
        for p in self._pre:
            if not callable(p):
                raise TypeError(
                    f"SlicingFunction {name!r}: pre must hold preprocessors, got {p!r}."
                )

    # -- identity -----------------------------------------------------------------------------
    @property
    def fingerprint(self) -> str:
        """Content hash of the SF's code, the globals and helpers it reads, its resources and
        preprocessors (not its name).

        The incremental engine reuses a cached mask only for an equal fingerprint. An SF
        holding an object without a content hash gets a fresh ("volatile") fingerprint on
        every call, so it is always recomputed; see :mod:`slicewidgets._fingerprint`.
        """
        return fingerprint(self)

    def __slicewidgets_fingerprint__(self) -> tuple:
        return self._fingerprint_parts()

    def _fingerprint_parts(self) -> tuple:
        return (type(self), self._f, self._resources, tuple(self._pre), self.vectorized)

    def rename(self, name: str) -> SlicingFunction:
        """A copy of this SF under another name."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.name = name
        return clone

    # -- evaluation ---------------------------------------------------------------------------
    def _preprocess(self, x: Any) -> Any:
        for p in self._pre:
            x = p(x)
            if x is None:
                raise ValueError(
                    f"Preprocessor should not return None: preprocessor "
                    f"{getattr(p, 'name', p)!r} of slicing function {self.name!r} returned None; "
                    "make it return the data point."
                )
        if self._pre and type(x) is Row:  # a memoized output may be shared: read-only
            x.__class__ = FrozenRow
        return x

    def __call__(self, x: Any) -> Any:
        """Evaluate the SF on one data point (any SF form)."""
        if self.vectorized:
            frame = _point_to_frame(x)
            return bool(self.mask(frame)[0])
        return self._f(self._preprocess(x), **self._resources)

    def mask(self, df: pd.DataFrame) -> np.ndarray:
        """Boolean membership of every row of ``df`` (validated).

        Row-wise SFs run as in :class:`~slicewidgets.slicing.PandasSFApplier` (a recognised
        body vectorized, else row by row).
        """
        if not self.vectorized:
            return rowwise_mask(self, df)
        try:
            out = self._f(protected_frame(df), **self._resources)
        except Exception as err:
            raise SFApplyError(self.name, None, None, err, vectorized=True) from err
        return validate_mask(self.name, out, df)

    # -- algebra ------------------------------------------------------------------------------
    def __and__(self, other: SlicingFunction) -> CombinedSlicingFunction:
        return CombinedSlicingFunction("and", [self, _check_sf(other, "&")])

    def __or__(self, other: SlicingFunction) -> CombinedSlicingFunction:
        return CombinedSlicingFunction("or", [self, _check_sf(other, "|")])

    def __invert__(self) -> CombinedSlicingFunction:
        return CombinedSlicingFunction("not", [self])

    def __repr__(self) -> str:
        kind = ", vectorized" if self.vectorized else ""
        return f"{type(self).__name__} {self.name}, Preprocessors: {self._pre}{kind}"


def _check_sf(other: Any, op: str) -> SlicingFunction:
    if not isinstance(other, SlicingFunction):
        raise TypeError(
            f"Cannot combine a SlicingFunction with {type(other).__name__} using {op!r}; "
            "both operands must be slicing functions."
        )
    return other


def _point_to_frame(x: Any) -> pd.DataFrame:
    from slicewidgets._row import point_fields

    if isinstance(x, pd.Series):
        return x.to_frame().T.reset_index(drop=True)
    fields = point_fields(x)
    if fields is not None:
        return pd.DataFrame([fields])
    raise TypeError(
        f"Cannot evaluate a vectorized slicing function on {type(x).__name__}; pass a "
        "pd.Series, a dict or an object with attributes."
    )


class slicing_function:  # noqa: N801 - Snorkel's name
    """Decorator that turns a function into a :class:`SlicingFunction`.

    Parameters
    ----------
    name
        Slice name; defaults to the function's name.
    resources
        Keyword arguments for the function.
    pre
        Preprocessors (row-wise SFs only).
    vectorized
        The function takes a whole DataFrame and returns a boolean mask.

    Examples
    --------
    >>> @slicing_function()
    ... def short_comment(x):
    ...     return len(x.text.split()) < 5
    >>> short_comment
    SlicingFunction short_comment, Preprocessors: []
    >>> @slicing_function(vectorized=True)
    ... def short_comment_fast(df):
    ...     return df.text.str.split().str.len() < 5
    """

    def __init__(
        self,
        name: str | None = None,
        resources: Mapping[str, Any] | None = None,
        pre: Sequence[BaseMapper] | None = None,
        *,
        vectorized: bool = False,
    ) -> None:
        if callable(name):
            raise ValueError(MISSING_PARENS.format(deco="slicing_function"))
        self.name = name
        self.resources = resources
        self.pre = pre
        self.vectorized = vectorized

    def __call__(self, f: Callable[..., Any]) -> SlicingFunction:
        sf = SlicingFunction(
            self.name or f.__name__, f, resources=self.resources, pre=self.pre,
            vectorized=self.vectorized,
        )
        sf.__doc__ = f.__doc__
        return sf


# ---------------------------------------------------------------------------------------------
# Builders


def text_column(df: pd.DataFrame, column: str, sf_name: str) -> pd.Series:
    """Column ``column`` of ``df`` as text SF ``sf_name`` reads it, or an error naming the SF
    (a missing column, a duplicated name, values that are not text)."""
    if column not in df.columns:
        raise KeyError(
            f"Slicing function {sf_name!r} reads column {column!r}, which the DataFrame does "
            f"not have (columns: {list(df.columns)}); pass column=..."
        )
    values = df[column]
    if isinstance(values, pd.DataFrame):
        raise ValueError(
            f"Slicing function {sf_name!r} reads column {column!r}, which appears "
            f"{values.shape[1]} times in the DataFrame; give the columns distinct names."
        )
    _check_text(values, column, sf_name)
    return values


def _check_text(values: pd.Series, column: str, sf_name: str) -> None:
    """Text SFs on a column holding no text at all (bytes, numbers) would match nothing.

    (A text column with a few non-text cells is fine: those cells never match, like missing
    values.)"""
    if isinstance(values.dtype, pd.StringDtype) or (
        isinstance(values.dtype, pd.ArrowDtype) and str(values.dtype) in (
            "string[pyarrow]", "large_string[pyarrow]")):
        return
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("string", "empty"):
        return
    present = values.notna().to_numpy(dtype=bool)
    if not present.any() or any(isinstance(v, str) for v in values[present]):
        return
    position = int(np.flatnonzero(present)[0])
    value = values.iloc[position]
    hint = (" Decode it first, e.g. df[column].str.decode('utf-8')" if isinstance(value, bytes)
            else " Convert it first, e.g. df[column].astype(str), or search another column")
    raise TypeError(
        f"Slicing function {sf_name!r} searches text, but column {column!r} holds "
        f"{type(value).__name__} values (dtype {values.dtype}; row {values.index[position]!r}: "
        f"{value!r}), which would never match.{hint}"
    )


def _text_values(df: pd.DataFrame, column: str, sf_name: str) -> list:
    return text_column(df, column, sf_name).tolist()


class KeywordSlicingFunction(SlicingFunction):
    """Rows whose ``column`` contains any of ``keywords`` (substring match).

    Built by :func:`keyword_sf`. Missing values (None/NaN) never match. The applier evaluates
    all keyword SFs of one column together, in one pass (see ``_text.py``).

    Case-insensitive matching lowercases the text *and* the keywords (Python's ``str.lower``);
    the tutorial's ``make_keyword_sf`` lowercases only the text, so its upper-case keywords
    never match. With lowercase keywords both give the same slice.
    """

    def __init__(
        self, name: str, keywords: Sequence[str], column: str = "text", case: bool = False
    ) -> None:
        if isinstance(keywords, str):
            keywords = [keywords]
        keywords = list(keywords)
        if not keywords or not all(isinstance(k, str) and k for k in keywords):
            raise ValueError(
                f"keyword_sf {name!r}: keywords must be a non-empty list of non-empty strings, "
                f"got {keywords!r}."
            )
        self.keywords = keywords
        self.column = column
        self.case = case
        self._needles = tuple(keywords if case else [k.lower() for k in keywords])
        super().__init__(name, self._match_frame, vectorized=True)

    def _fingerprint_parts(self) -> tuple:
        return ("keyword", self._needles, self.column, self.case)

    def _match_frame(self, df: pd.DataFrame) -> np.ndarray:
        from slicewidgets.slicing._text import TextIndex

        index = TextIndex(text_column(df, self.column, self.name), case=self.case)
        return index.masks([self._needles])[0]

    def match_text(self, text: Any) -> bool:
        """Whether one text value is in the slice."""
        if not isinstance(text, str):
            return False
        if not self.case:
            text = text.lower()
        return any(k in text for k in self._needles)

    def __call__(self, x: Any) -> bool:
        value = x[self.column] if isinstance(x, (Mapping, pd.Series)) else getattr(x, self.column)
        return self.match_text(value)

    def __repr__(self) -> str:
        return f"KeywordSlicingFunction {self.name}, keywords={self.keywords!r}, column={self.column!r}"


class RegexSlicingFunction(SlicingFunction):
    """Rows whose ``column`` matches ``pattern`` (``re.search``). Built by :func:`regex_sf`.

    Over a DataFrame the pattern runs in RE2 (Arrow) on the rows where RE2 provably gives
    Python's answer, and in Python's ``re`` on the others (see ``_regex.py``): the slice is
    always the one ``re.search`` gives. The applier shares one Arrow copy of the column among
    all regex SFs of that column.
    """

    def __init__(self, name: str, pattern: str | re.Pattern, column: str = "text",
                 flags: int = 0) -> None:
        try:
            self.regex = re.compile(pattern, flags)
        except re.error as err:
            raise ValueError(f"regex_sf {name!r}: invalid pattern {pattern!r}: {err}.") from err
        self.pattern = self.regex.pattern
        self.column = column
        self.flags = flags
        super().__init__(name, self._match_frame, vectorized=True)

    def _fingerprint_parts(self) -> tuple:
        return ("regex", self.pattern, self.regex.flags, self.column)

    def _match_frame(self, df: pd.DataFrame) -> np.ndarray:
        from slicewidgets.slicing._regex import regex_search_masks
        from slicewidgets.slicing._text import TextIndex

        index = TextIndex(text_column(df, self.column, self.name), case=True)
        return regex_search_masks(index, [self.regex])[0]

    def match_text(self, text: Any) -> bool:
        """Whether one text value is in the slice."""
        return isinstance(text, str) and self.regex.search(text) is not None

    def __call__(self, x: Any) -> bool:
        value = x[self.column] if isinstance(x, (Mapping, pd.Series)) else getattr(x, self.column)
        return self.match_text(value)

    def __repr__(self) -> str:
        return f"RegexSlicingFunction {self.name}, pattern={self.pattern!r}, column={self.column!r}"


def keyword_sf(
    keywords: Sequence[str], name: str | None = None, column: str = "text", case: bool = False
) -> KeywordSlicingFunction:
    """A slicing function for rows whose text contains any of ``keywords``.

    Parameters
    ----------
    keywords
        Substrings to look for.
    name
        Slice name; default ``"keyword_" + keywords[0]`` (as the Snorkel tutorial's
        ``make_keyword_sf``).
    column
        Text column to search.
    case
        Case-sensitive matching (default: case-insensitive).

    Examples
    --------
    >>> import pandas as pd
    >>> sf = keyword_sf(["please", "plz"])
    >>> sf.name
    'keyword_please'
    >>> sf.mask(pd.DataFrame({"text": ["Please subscribe", "nice", None]})).tolist()
    [True, False, False]
    """
    if isinstance(keywords, str):
        keywords = [keywords]
    keywords = _check_keywords(keywords, name)
    if name is None:
        name = "keyword_" + re.sub(r"\W+", "_", keywords[0]).strip("_")
    return KeywordSlicingFunction(name, keywords, column=column, case=case)


def _check_keywords(keywords: Any, name: str | None) -> list[str]:
    who = "keyword_sf" if name is None else f"keyword_sf {name!r}"
    try:
        keywords = list(keywords)
    except TypeError:
        raise TypeError(
            f"{who}: keywords must be a list of strings, got {type(keywords).__name__}; "
            "e.g. keyword_sf([\"please\", \"plz\"])."
        ) from None
    if not keywords:
        raise ValueError("keyword_sf needs at least one keyword, got an empty list.")
    bad = [k for k in keywords if not isinstance(k, str)]
    if bad:
        raise ValueError(
            f"{who}: keywords must be a non-empty list of non-empty strings, got "
            f"{type(bad[0]).__name__} {bad[0]!r}; write it as text, e.g. {str(bad[0])!r}."
        )
    return keywords


def regex_sf(
    pattern: str | re.Pattern, name: str | None = None, column: str = "text", flags: int = 0
) -> RegexSlicingFunction:
    """A slicing function for rows whose text matches a regular expression (``re.search``).

    Parameters
    ----------
    pattern
        Regular expression.
    name
        Slice name; default ``"regex_"`` + the pattern's word characters
        (``r"check.*out"`` -> ``"regex_check_out"``).
    column
        Text column to search.
    flags
        ``re`` flags, e.g. ``re.I``.

    Examples
    --------
    >>> import pandas as pd, re
    >>> sf = regex_sf(r"check.*out", flags=re.I)
    >>> sf.name
    'regex_check_out'
    >>> sf.mask(pd.DataFrame({"text": ["Check it out!", "out, check"]})).tolist()
    [True, False]
    """
    if name is None:
        raw = pattern.pattern if isinstance(pattern, re.Pattern) else pattern
        name = "regex_" + (re.sub(r"\W+", "_", raw).strip("_") or "pattern")
    return RegexSlicingFunction(name, pattern, column=column, flags=flags)


def _operand_name(o: SlicingFunction, op: str) -> str:
    """An operand's name inside a default name, parenthesized when precedence would be lost."""
    nested = (isinstance(o, CombinedSlicingFunction) and o.name == o.default_name
              and o.op != "not" and (op == "not" or o.op != op))
    return f"({o.name})" if nested else o.name


class CombinedSlicingFunction(SlicingFunction):
    """``a & b``, ``a | b`` or ``~a`` of slicing functions, itself a slicing function.

    Default names: ``a_and_b``, ``a_or_b``, ``not_a``; a nested combination of another
    operator is parenthesized so that different combinations get different names:
    ``(a & b) | c`` is ``(a_and_b)_or_c`` and ``a & (b | c)`` is ``a_and_(b_or_c)``;
    ``a & b & c`` is ``a_and_b_and_c``. Use :meth:`rename` to choose a name.

    Calling it on a point calls every operand, so it raises where any operand raises. Applied
    with ``fault_tolerant=True``, such a row is therefore *outside* the combined slice and
    counted among its faults, whatever the other operands say: the rows ``a`` fails on are in
    neither ``a`` nor ``~a``, nor in ``a | b`` where ``b`` holds (a row whose membership
    depends on an SF that could not be evaluated is never counted as in a slice).

    Examples
    --------
    >>> import pandas as pd
    >>> short = SlicingFunction("short", lambda df: df.n < 3, vectorized=True)
    >>> spam = SlicingFunction("spam", lambda df: df.label == 1, vectorized=True)
    >>> both = short & spam
    >>> both.name
    'short_and_spam'
    >>> both.mask(pd.DataFrame({"n": [1, 1, 5], "label": [1, 0, 1]})).tolist()
    [True, False, False]
    """

    _OPS = {"and": np.logical_and, "or": np.logical_or}

    def __init__(self, op: str, operands: Sequence[SlicingFunction], name: str | None = None):
        self.op = op
        self.operands = list(operands)
        parts = [_operand_name(o, op) for o in self.operands]
        self.default_name = f"not_{parts[0]}" if op == "not" else f"_{op}_".join(parts)
        super().__init__(name or self.default_name, self._combine_frame, vectorized=True)

    def _fingerprint_parts(self) -> tuple:
        return ("combined", self.op, tuple(self.operands))

    def combine(self, masks: Sequence[np.ndarray]) -> np.ndarray:
        """Combine the operands' masks."""
        if self.op == "not":
            return ~masks[0]
        return self._OPS[self.op].reduce(masks)

    def _combine_frame(self, df: pd.DataFrame) -> np.ndarray:
        return self.combine([o.mask(df) for o in self.operands])

    def __call__(self, x: Any) -> bool:
        values = [bool(o(x)) for o in self.operands]
        if self.op == "not":
            return not values[0]
        return all(values) if self.op == "and" else any(values)

    def __repr__(self) -> str:
        return f"CombinedSlicingFunction {self.name} ({self.op} of {[o.name for o in self.operands]})"



def preprocessors(sfs: Iterable[SlicingFunction]) -> list[BaseMapper]:
    """Every preprocessor ``sfs`` run, once each: their ``pre``, the preprocessors' own
    ``pre``, and those of the operands of combined SFs."""
    found: dict[int, BaseMapper] = {}
    stack: list[Any] = list(sfs)
    while stack:
        obj = stack.pop()
        if isinstance(obj, CombinedSlicingFunction):
            stack += obj.operands
        elif isinstance(obj, SlicingFunction):
            stack += obj._pre
        elif isinstance(obj, BaseMapper) and id(obj) not in found:
            found[id(obj)] = obj
            stack += obj._pre
    return list(found.values())


def check_memos(sfs: Iterable[SlicingFunction]) -> None:
    """:meth:`BaseMapper.check_memo <slicewidgets.preprocess.core.BaseMapper.check_memo>` for
    each preprocessor of ``sfs``: a memoized preprocessor whose fingerprint changed since its
    memo was filled starts afresh. Called by the appliers once per apply."""
    for mapper in preprocessors(sfs):
        mapper.check_memo()
