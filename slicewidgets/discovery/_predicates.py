"""Base predicates of a frame and their sparse one-hot matrix.

Every predicate is a small piece of pandas code (:attr:`Predicate.expr`) over a frame ``df``.
The one-hot matrix is computed by fast paths (``pd.factorize``, ``np.searchsorted``, a
tokenizer), each of which gives exactly the rows that the code gives on any frame (the
property tests in ``tests/discovery`` check it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

#: Text patterns tried on every text column: (slug, label, regex, flags).
PATTERNS: tuple[tuple[str, str, str, int], ...] = (
    ("url", "has a URL", r"https?://|www\.", re.I),
    ("short_link", "has a shortened link",
     r"\b(?:bit\.ly|goo\.gl|tinyurl\.com|t\.co|ow\.ly|youtu\.be|is\.gd|buff\.ly)/", re.I),
    ("digits", "has digits", r"\d", 0),
    ("all_caps", "has an ALL-CAPS word", r"\b[A-Z]{3,}\b", 0),
    ("emoji", "has an emoji", "[\U0001F300-\U0001FAFF\u2600-\u27BF]", 0),
    ("exclamation", "has '!'", r"!", 0),
    ("question", "has '?'", r"\?", 0),
    ("mention", "has an @mention", r"@\w", 0),
)

#: Word tokens: maximal runs of ASCII letters, digits and underscores, of 2 characters or more,
#: compared case-insensitively; the same rows as ``regex_sf(r"\bword\b", flags=re.I | re.A)``.
WORD_PATTERN = r"(?a)\w\w+"
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_FLAG_NAMES = ((re.I, "re.I"), (re.A, "re.A"), (re.M, "re.M"), (re.S, "re.S"))


def raw_literal(pattern: str) -> str:
    """``pattern`` as a Python raw string literal when that is possible, else ``repr``."""
    if '"' not in pattern and not pattern.endswith("\\") and "\n" not in pattern \
            and pattern.isprintable():
        return f'r"{pattern}"'
    return repr(pattern)


def flags_code(flags: int) -> str:
    names = [name for flag, name in _FLAG_NAMES if flags & flag]
    return " | ".join(names)


def _value_code(value: Any) -> str:
    return repr(value)


def _number(value: float, integer: bool) -> str:
    if integer and float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _slug(text: str, limit: int | None = 24) -> str:
    slug = re.sub(r"[^0-9a-zA-Z]+", "_", str(text)).strip("_").lower()
    return (slug[:limit] if limit else slug).strip("_") or "x"


def col_code(column: str) -> str:
    return f"df[{column!r}]"


@dataclass(frozen=True, eq=False)
class Predicate:
    """One base predicate: ``kind`` over ``column``, with its code and readable label.

    Attributes
    ----------
    kind
        ``"equals"``, ``"isna"``, ``"range"``, ``"words"`` (length bucket), ``"word"``,
        ``"pattern"`` or ``"sf"`` (a user's slicing function).
    column
        The frame's column it reads (``None`` for a user SF).
    label
        Human-readable, e.g. ``"18 <= age < 30"``.
    slug
        Short identifier used in generated names.
    expr
        A pandas expression over ``df`` giving the rows (``None`` for a user SF).
    """

    kind: str
    column: str | None
    label: str
    slug: str
    expr: str | None
    group: int
    regex: tuple[str, int] | None = None
    sf: Any = field(default=None, repr=False)

    def builder_code(self, name: str) -> str | None:
        """``regex_sf(...)`` source for a word or pattern predicate, else ``None``."""
        if self.regex is None:
            return None
        pattern, flags = self.regex
        args = [raw_literal(pattern), f"name={name!r}", f"column={self.column!r}"]
        if flags:
            args.append(f"flags={flags_code(flags)}")
        return f"regex_sf({', '.join(args)})"


def _regex_expr(column: str, pattern: str, flags: int) -> str:
    args = [raw_literal(pattern), f"column={column!r}"]
    if flags:
        args.append(f"flags={flags_code(flags)}")
    return f"regex_sf({', '.join(args)}).mask(df)"


@dataclass
class Featurized:
    """The predicates of a frame and their (n, m) one-hot matrix, in CSC and CSR."""

    predicates: list[Predicate]
    csc: sparse.csc_matrix
    csr: sparse.csr_matrix
    groups: np.ndarray
    columns_used: dict[str, str]  # column -> "categorical" | "numeric" | "text"


def _columns_from_codes(codes: np.ndarray, n_codes: int) -> list[np.ndarray]:
    """Row indices of each code 0..n_codes-1 (codes < 0 or >= n_codes are skipped)."""
    small = np.int8 if n_codes < 127 else np.int16 if n_codes < 32767 else np.int64
    codes = codes.astype(small, copy=False)  # stable sort of small ints is a radix sort
    order = np.argsort(codes, kind="stable").astype(np.int32 if len(codes) < 2**31 else np.int64)
    sorted_codes = codes[order]
    bounds = np.searchsorted(sorted_codes, np.arange(n_codes + 1), side="left")
    return [order[bounds[i]:bounds[i + 1]] for i in range(n_codes)]


class _Builder:
    def __init__(self, n: int, min_support: int) -> None:
        self.n = n
        self.min_support = min_support
        self.predicates: list[Predicate] = []
        self.rows: list[np.ndarray] = []
        self.group = 0

    def add(self, rows: np.ndarray, **kwargs: Any) -> bool:
        if len(rows) < self.min_support:
            return False
        self.predicates.append(Predicate(group=self.group, **kwargs))
        self.rows.append(np.asarray(rows, dtype=np.int32 if self.n < 2**31 else np.int64))
        return True

    def next_group(self) -> None:
        self.group += 1

    def matrices(self) -> tuple[sparse.csc_matrix, sparse.csr_matrix, np.ndarray]:
        m = len(self.rows)
        lengths = np.array([len(r) for r in self.rows], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        indices = (np.concatenate(self.rows) if m else np.zeros(0, dtype=np.int64))
        idx_dtype = np.int32 if len(indices) < 2**31 and self.n < 2**31 else np.int64
        data = np.ones(len(indices), dtype=np.int8)
        csc = sparse.csc_matrix((data, indices.astype(idx_dtype), indptr.astype(idx_dtype)),
                                shape=(self.n, m))
        csc.has_sorted_indices = True
        csr = csc.tocsr()
        groups = np.array([p.group for p in self.predicates], dtype=np.int64)
        return csc, csr, groups


def _is_text(values: pd.Series, max_categories: int) -> bool:
    sample = values.dropna()
    if len(sample) > 2000:
        sample = sample.sample(2000, random_state=0)
    strings = sample[sample.map(lambda v: isinstance(v, str))] if len(sample) else sample
    if len(strings) == 0 or len(strings) < 0.5 * len(sample):
        return False
    n_unique = strings.nunique()
    if n_unique <= max_categories:
        return False
    return float(strings.str.split().str.len().mean()) >= 2.0


def _plain_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    return value


def _categorical(b: _Builder, name: str, values: pd.Series, max_categories: int) -> None:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    top = np.argsort(-counts, kind="stable")[:max_categories]
    rows = _columns_from_codes(codes, len(uniques))
    for i in (i for i in top if counts[i] >= b.min_support):
        value = _plain_value(uniques[i])
        if not isinstance(value, (str, bool, int, float)):
            continue
        if isinstance(value, float) and not np.isfinite(value):
            continue
        expr = f"{col_code(name)} == {_value_code(value)}"
        if not isinstance(values.dtype, np.dtype) and values.dtype.na_value is pd.NA:
            expr = f"({expr}).fillna(False)"  # pandas' masked dtypes: NA == value is NA
        b.add(rows[i], kind="equals", column=name, label=f"{name} == {value!r}",
              slug=f"{_slug(name)}_{_slug(str(value))}", expr=expr)
    _isna(b, name, values)
    b.next_group()


def _isna(b: _Builder, name: str, values: pd.Series) -> None:
    na = values.isna().to_numpy()
    if na.any():
        b.add(np.flatnonzero(na), kind="isna", column=name, label=f"{name} is missing",
              slug=f"{_slug(name)}_missing", expr=f"{col_code(name)}.isna()")


def _bin_edges(x: np.ndarray, n_bins: int, integer: bool) -> np.ndarray:
    """Interior edges: quantiles rounded to 3 significant digits, unique, above the minimum."""
    finite = x[~np.isnan(x)]
    if len(finite) == 0:
        return np.zeros(0)
    qs = np.quantile(finite, np.linspace(0, 1, n_bins + 1)[1:-1], method="lower")
    qs = np.array([float(f"{q:.3g}") for q in qs])
    if integer:
        qs = np.ceil(qs)
    return np.unique(qs[qs > finite.min()])


def _range_predicates(b: _Builder, name: str, x: np.ndarray, edges: np.ndarray, integer: bool,
                      expr_of: str, label_of: str, slug_of: str, kind: str,
                      nullable: bool = False) -> None:
    # bin i: edges[i-1] <= x < edges[i], with -inf / +inf at the ends; NaN in no bin. The
    # comparison is made in x's own dtype, as pandas compares a column with a Python number.
    if x.dtype.kind == "f":
        codes = np.searchsorted(edges.astype(x.dtype), x, side="right")
        codes[np.isnan(x)] = -1
    else:
        codes = np.searchsorted(edges, x, side="right")
    rows = _columns_from_codes(codes, len(edges) + 1)
    for i in range(len(edges) + 1):
        lo = None if i == 0 else _number(edges[i - 1], integer)
        hi = None if i == len(edges) else _number(edges[i], integer)
        if lo is None and hi is None:
            continue
        if lo is None:
            expr, label, bounds = f"{expr_of} < {hi}", f"{label_of} < {hi}", f"lt_{hi}"
        elif hi is None:
            expr, label, bounds = f"{expr_of} >= {lo}", f"{label_of} >= {lo}", f"ge_{lo}"
        else:
            expr = f"({expr_of} >= {lo}) & ({expr_of} < {hi})"
            label, bounds = f"{lo} <= {label_of} < {hi}", f"{lo}_{hi}"
        # the column part may be shortened, the bounds never (a cut number would mislead)
        slug = f"{slug_of[:16].strip('_')}_{_slug(bounds, limit=None)}"
        if nullable:
            expr = f"({expr}).fillna(False)"
        b.add(rows[i], kind=kind, column=name, label=label, slug=slug, expr=expr)


def _numeric(b: _Builder, name: str, values: pd.Series, n_bins: int, max_categories: int) -> None:
    few = max(n_bins, min(max_categories, 10))
    sample = values.iloc[:: max(1, len(values) // 20_000)]
    n_unique = sample.nunique(dropna=True)
    if n_unique <= few:
        n_unique = values.nunique(dropna=True)
    if n_unique <= few:
        _categorical(b, name, values, max_categories)
        return
    integer = pd.api.types.is_integer_dtype(values.dtype)
    nullable = not isinstance(values.dtype, np.dtype)
    native = values.to_numpy(dtype=float, na_value=np.nan) if nullable else values.to_numpy()
    x = native.astype(float, copy=False)
    edges = _bin_edges(x, n_bins, integer)
    _range_predicates(b, name, native if not nullable else x, edges, integer, col_code(name),
                      name, _slug(name), "range", nullable)
    _isna(b, name, values)
    b.next_group()


def word_lists_lower(values: Sequence[Any]) -> list[str]:
    return [v.translate(_ASCII_LOWER) if isinstance(v, str) else "" for v in values]


def _text(b: _Builder, name: str, values: pd.Series, *, n_bins: int, max_words: int,
          max_df: float, stop_words: Any) -> None:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    # length buckets (words): the code is the fast path
    words_expr = f"{col_code(name)}.str.split().str.len()"
    lengths = values.str.split().str.len().to_numpy(dtype=float, na_value=np.nan)
    _range_predicates(b, name, lengths, _bin_edges(lengths, n_bins, True), True, words_expr,
                      f"words({name})", f"{_slug(name)}_words", "words")
    b.next_group()
    # patterns: regex_sf itself
    from slicewidgets.slicing.sf import regex_sf

    frame = values.to_frame(name)
    for slug, label, pattern, flags in PATTERNS:
        rows = np.flatnonzero(regex_sf(pattern, column=name, flags=flags).mask(frame))
        if b.add(rows, kind="pattern", column=name, label=f"{name} {label}",
                 slug=f"{_slug(name)}_{slug}" if name != "text" else slug,
                 expr=_regex_expr(name, pattern, flags), regex=(pattern, flags)):
            b.next_group()
    # words
    if max_words <= 0:
        return
    stop = ENGLISH_STOP_WORDS if stop_words == "english" else (stop_words or None)
    vectorizer = CountVectorizer(
        preprocessor=lambda t: t, lowercase=False, token_pattern=WORD_PATTERN, binary=True,
        dtype=np.int8, min_df=max(b.min_support, 1), max_df=max_df, max_features=max_words,
        stop_words=sorted(stop) if stop else None,
    )
    try:
        W = vectorizer.fit_transform(word_lists_lower(values.tolist())).tocsc()
    except ValueError:  # no word passes the limits
        return
    vocab = vectorizer.get_feature_names_out()
    df_counts = np.diff(W.indptr)
    for j in np.argsort(-df_counts, kind="stable"):
        word = str(vocab[j])
        pattern = rf"\b{word}\b"
        rows = W.indices[W.indptr[j]:W.indptr[j + 1]]
        if b.add(np.sort(rows), kind="word", column=name, label=f"{name} has word {word!r}",
                 slug=f"word_{word}" if name == "text" else f"{_slug(name)}_word_{word}",
                 expr=_regex_expr(name, pattern, re.I | re.A), regex=(pattern, re.I | re.A)):
            b.next_group()


def featurize(
    df: pd.DataFrame,
    *,
    min_support: int,
    columns: Sequence[str] | None = None,
    text_columns: Sequence[str] | None = None,
    n_bins: int = 5,
    max_categories: int = 20,
    max_words: int = 200,
    max_df: float = 0.5,
    stop_words: Any = "english",
    sfs: Sequence[Any] = (),
) -> Featurized:
    """The base predicates of ``df`` (see :func:`~slicewidgets.discovery.find_slices`)."""
    b = _Builder(len(df), min_support)
    names = list(df.columns) if columns is None else list(columns)
    text_set = set(text_columns or ())
    kinds: dict[str, str] = {}
    for name in names:
        if not isinstance(name, str):
            raise TypeError(
                f"find_slices reads columns by name; column {name!r} is not a string. Rename "
                "the columns (df.columns = df.columns.astype(str)) or pass columns=[...]."
            )
        values = df[name]
        if isinstance(values, pd.DataFrame):
            raise ValueError(
                f"Column {name!r} appears {values.shape[1]} times in the DataFrame; give the "
                "columns distinct names."
            )
        dtype = values.dtype
        if name in text_set or (text_columns is None and (
                pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype))
                and _is_text(values, max_categories)):
            kinds[name] = "text"
            _text(b, name, values, n_bins=n_bins, max_words=max_words, max_df=max_df,
                  stop_words=stop_words)
        elif pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype) or \
                pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
            kinds[name] = "categorical"
            _categorical(b, name, values, max_categories)
        elif pd.api.types.is_numeric_dtype(dtype):
            kinds[name] = "numeric"
            _numeric(b, name, values, n_bins, max_categories)
        # other dtypes (datetimes, intervals, ...) give no predicate
    if sfs:
        from slicewidgets.slicing.apply import PandasSFApplier

        S = PandasSFApplier(list(sfs)).apply(df, progress_bar=False)
        for sf in sfs:
            if not sf.name.isidentifier():
                raise ValueError(
                    f"sfs: slicing function name {sf.name!r} is not a Python identifier, so "
                    "generated code cannot refer to it; rename it, e.g. sf.rename('my_slice')."
                )
            rows = np.flatnonzero(np.asarray(S[sf.name], dtype=bool))
            if b.add(rows, kind="sf", column=None, label=sf.name, slug=_slug(sf.name),
                     expr=f"{sf.name}.mask(df)", sf=sf):
                b.next_group()
    csc, csr, groups = b.matrices()
    return Featurized(b.predicates, csc, csr, groups, kinds)
