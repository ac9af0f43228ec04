"""Regular-expression search over a text column: RE2 (Arrow) where it provably equals Python's
``re``, Python's ``re`` on the rows where the two engines could differ.

Python's ``re`` and RE2 do not read every pattern the same way (RE2 takes ``a{,3}`` literally,
its ``\\w``, ``\\d``, ``\\s`` and ``\\b`` are ASCII-only, its ``$`` never matches before a final
newline, case folding differs on a few letters...). So the pattern is never handed to RE2 as
written. Instead :func:`translate` rebuilds it from Python's own parse tree:

* every one-character atom (a literal, a class, ``.``, ``\\w``..., under the pattern's flags) is
  replaced by the explicit set of ASCII characters that *Python* matches with it (asked of
  Python's engine, character by character);
* groups, alternations, repeats and anchors are written in RE2 syntax with the same meaning;
  anything RE2 cannot express exactly (back-references, look-arounds, conditionals, possessive
  and atomic groups, inline flag groups, repeats over 1000) makes the pattern untranslatable.

On a row of ASCII text the translated pattern finds a match exactly when Python's pattern does
(a search's *existence* of a match does not depend on greedy or lazy repeats). On other rows
(any non-ASCII character; for a pattern with a non-multiline ``$``, any newline; for ``\\B``,
the empty string) only the rows that a *superset* translation accepts (each atom widened to
every non-ASCII character when Python's atom takes one) are searched again with Python's
``re``, which decides them. An RE2 match there proves nothing: RE2 may turn an explicit class
such as ``[Kk]`` into a case-folded literal that also takes U+212A (KELVIN SIGN).
Untranslatable patterns, strings Arrow cannot hold and environments without pyarrow use
Python's ``re`` on every row.

Several patterns of one column are searched together where that pays (:func:`_re2_masks`):
those that match few rows of a sample are joined into one alternation, searched in one pass,
and each is then searched only on the rows the alternation matched. A row that one pattern
matches is matched by the alternation, so every mask is the one a pass over all rows gives.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["regex_search_masks", "translate"]

_c: Any
_p: Any
_compiler: Any
try:  # Python >= 3.11: Python's own regex parser and compiler
    _c = importlib.import_module("re._constants")
    _p = importlib.import_module("re._parser")
    _compiler = importlib.import_module("re._compiler")
except ImportError:  # pragma: no cover - Python 3.10
    _c = importlib.import_module("sre_constants")
    _p = importlib.import_module("sre_parse")
    _compiler = importlib.import_module("sre_compile")

#: At least this many translatable patterns of a column before a joint pass is tried.
UNION_MIN_PATTERNS = 3
#: A pattern joins the joint pass when it matches at most this share of the sample ...
UNION_MAX_SAMPLE_SHARE = 0.1
#: ... of about this many rows (evenly spaced); smaller columns are searched pattern by pattern.
UNION_SAMPLE_ROWS = 2048
#: The alternation's matches are used only when they are at most this share of the rows.
UNION_MAX_CANDIDATE_SHARE = 0.5

#: RE2's limit on a counted repeat.
_RE2_MAX_REPEAT = 1000
_ONE_CHAR = {_c.LITERAL, _c.NOT_LITERAL, _c.ANY, _c.IN, _c.CATEGORY}
_ASCII_CHARS = [chr(i) for i in range(128)]


class Untranslatable(ValueError):
    """The pattern uses something RE2 cannot express with exactly Python's meaning."""


@functools.lru_cache(maxsize=512)
def translate(pattern: str, flags: int = 0) -> tuple[str, bool]:
    """An RE2 pattern that matches an ASCII string exactly when ``re.search(pattern, s, flags)``
    does, and whether rows containing a newline must also be checked by Python.

    Raises
    ------
    Untranslatable
        Back-references, look-arounds, conditionals, possessive/atomic groups, inline flag
        groups, the LOCALE flag, repeats over 1000, or a bytes pattern.

    Examples
    --------
    >>> translate(r"\\w+\\.ly")[0]
    '(?:[\\\\x{30}-\\\\x{39}\\\\x{41}-\\\\x{5a}\\\\x{5f}\\\\x{61}-\\\\x{7a}])+[\\\\x{2e}][\\\\x{6c}][\\\\x{79}]'
    """
    exact, _superset, newline, _boundary, _empty = _translations(pattern, flags)
    return exact, newline


@functools.lru_cache(maxsize=512)
def _translations(pattern: str, flags: int) -> tuple[str, str, bool, bool, bool]:
    """``(exact, superset, newline_sensitive, has_word_boundary, empty_sensitive)``.

    ``exact`` equals Python on ASCII text. ``superset`` matches every string (any text) in which
    Python finds a match: each atom also takes every non-ASCII character when Python's atom
    takes at least one, and word-boundary assertions and a non-multiline ``$`` are dropped; rows
    it rejects need no Python search.
    """
    if not isinstance(pattern, str):
        raise Untranslatable("bytes pattern")
    compiled = re.compile(pattern, flags)
    flags = compiled.flags
    if flags & re.LOCALE:
        raise Untranslatable("LOCALE flag")
    tree = _p.parse(pattern, flags)
    state = {"newline": False, "boundary": False, "empty": False}
    exact = _emit(tree, flags, tree.state, state, superset=False)
    superset = _emit(tree, flags, tree.state, state, superset=True)
    return exact, superset, state["newline"], state["boundary"], state["empty"]


@functools.lru_cache(maxsize=1)
def _all_non_ascii() -> str:
    cps = np.concatenate([np.arange(0x80, 0xD800), np.arange(0xE000, 0x110000)]).astype("<u4")
    return cps.tobytes().decode("utf-32-le")


def _ascii_class(atom: tuple, flags: int, parse_state: Any, superset: bool = False) -> str:
    """The ASCII characters Python's engine matches with one single-character atom, as an
    explicit RE2 class (with ``superset``: plus every non-ASCII character when Python's atom
    matches any non-ASCII character)."""
    sub = _p.SubPattern(parse_state, [atom])
    matcher = _compiler.compile(sub, flags)
    codes = [i for i, ch in enumerate(_ASCII_CHARS) if matcher.fullmatch(ch) is not None]
    wide = superset and matcher.search(_all_non_ascii()) is not None
    if not codes and not wide:
        return r"[^\x00-\x{10FFFF}]"  # matches nothing
    parts = []
    if codes:
        start = prev = codes[0]
        for code in [*codes[1:], None]:
            if code is not None and code == prev + 1:
                prev = code
                continue
            parts.append(f"\\x{{{start:x}}}" if start == prev
                         else f"\\x{{{start:x}}}-\\x{{{prev:x}}}")
            if code is not None:
                start = prev = code
    if wide:
        parts.append(r"\x{80}-\x{10FFFF}")
    return "[" + "".join(parts) + "]"


def _emit(items: Any, flags: int, parse_state: Any, state: dict, superset: bool) -> str:
    out = []
    for op, av in items:
        if op in _ONE_CHAR:
            out.append(_ascii_class((op, av), flags, parse_state, superset))
        elif op is _c.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            if add_flags or del_flags:
                raise Untranslatable("inline flag group")
            out.append("(?:" + _emit(sub, flags, parse_state, state, superset) + ")")
        elif op is _c.BRANCH:
            out.append("(?:" + "|".join(_emit(alt, flags, parse_state, state, superset)
                                        for alt in av[1]) + ")")
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
            lo, hi, sub = av
            if lo > _RE2_MAX_REPEAT or (hi is not _c.MAXREPEAT and hi > _RE2_MAX_REPEAT):
                raise Untranslatable("repeat count over 1000")
            inner = "(?:" + _emit(sub, flags, parse_state, state, superset) + ")"
            if hi is _c.MAXREPEAT:
                out.append(inner + ("*" if lo == 0 else "+" if lo == 1 else f"{{{lo},}}"))
            else:
                out.append(inner + f"{{{lo},{hi}}}")
        elif op is _c.AT:
            out.append(_anchor(av, flags, state, superset))
        else:  # GROUPREF, ASSERT(_NOT), GROUPREF_EXISTS, POSSESSIVE_REPEAT, ATOMIC_GROUP...
            raise Untranslatable(str(op))
    return "".join(out)


def _anchor(code: Any, flags: int, state: dict, superset: bool) -> str:
    multiline = bool(flags & re.MULTILINE)
    if code is _c.AT_BEGINNING:
        return "(?m:^)" if multiline else r"\A"
    if code is _c.AT_BEGINNING_STRING:
        return r"\A"
    if code is _c.AT_END:
        if multiline:
            return "(?m:$)"
        # Python's $ also matches just before a final newline, and what follows it may then
        # take that newline (``end$\n``, ``end$\s``, ``end$.`` with DOTALL): RE2 cannot say
        # "before a final newline" without a look-ahead, so the superset drops the assertion
        # (dropping a zero-width assertion only widens a pattern) and rows with a newline are
        # left to Python
        state["newline"] = True
        return "" if superset else r"\z"
    if code is _c.AT_END_STRING:
        return r"\z"
    if code in (_c.AT_BOUNDARY, _c.AT_NON_BOUNDARY):
        # on ASCII text both engines' word characters are [0-9A-Za-z_]; next to a non-ASCII
        # character they differ (Python: Unicode word characters)
        state["boundary"] = True
        if code is _c.AT_NON_BOUNDARY:
            state["empty"] = True  # Python's \B never matches in an empty string; RE2's does
        if superset:
            return ""
        return r"\b" if code is _c.AT_BOUNDARY else r"\B"
    raise Untranslatable(str(code))  # pragma: no cover - no other anchors exist


def _python_masks(values: Sequence, regexes: Sequence[re.Pattern]) -> list[np.ndarray]:
    n = len(values)
    return [np.fromiter((isinstance(t, str) and r.search(t) is not None for t in values),
                        dtype=bool, count=n) for r in regexes]


def regex_search_masks(index: Any, regexes: Sequence[re.Pattern]) -> list[np.ndarray]:
    """One mask per compiled pattern: rows whose text ``re.search``-matches it (non-strings
    never match), equal to Python's ``re`` on every row.

    Parameters
    ----------
    index
        A case-sensitive :class:`~slicewidgets.slicing._text.TextIndex` of the column (its
        Arrow copy and the rows holding non-ASCII text are shared by all patterns).
    regexes
        Compiled ``str`` patterns.

    Examples
    --------
    >>> import pandas as pd
    >>> from slicewidgets.slicing._text import TextIndex
    >>> index = TextIndex(pd.Series(["bit.ly/x", "naïve.ly", "no", None]), case=True)
    >>> [m.tolist() for m in regex_search_masks(index, [re.compile(r"\\w+\\.ly")])]
    [[True, True, False, False]]
    """
    arr = index.arrow_values()
    if arr is None:
        return _python_masks(index.python_values(), regexes)
    import pyarrow as pa
    import pyarrow.compute as pc

    translations: list[tuple[str, str, bool, bool, bool] | None] = []
    for regex in regexes:
        try:
            translations.append(_translations(regex.pattern, regex.flags))
        except (Untranslatable, re.error, RecursionError):
            translations.append(None)
    re2 = _re2_masks(arr, {i: t[0] for i, t in enumerate(translations) if t is not None})
    empty_rows: np.ndarray | None = None  # rows of empty text, found once for every pattern
    out = []
    for i, regex in enumerate(regexes):
        try:
            translated = translations[i]
            if translated is None or i not in re2:  # untranslatable, or RE2 refused it
                raise Untranslatable(regex.pattern)
            mask = re2[i]
            _exact, superset, newline_sensitive, _boundary, empty_sensitive = translated
            # rows where the engines can differ: non-ASCII text (and newlines before `$`)
            suspect = index.non_ascii_rows()
            if newline_sensitive:
                suspect = np.union1d(suspect, np.flatnonzero(index.contains("\n")))
            if empty_sensitive:
                if empty_rows is None:
                    empty = pc.equal(pc.utf8_length(arr), 0).fill_null(False)
                    empty_rows = np.flatnonzero(empty.to_numpy(zero_copy_only=False))
                suspect = np.union1d(suspect, empty_rows)
            # No shortcut for the rows RE2 matched: RE2 may fold an ASCII class such as
            # [Kk] into a case-folded literal that also takes U+212A (KELVIN SIGN) or
            # U+017F (LONG S), which Python's class does not; Python decides every one.
            if len(suspect):  # only rows the superset pattern accepts can match in Python
                suspect = suspect[_search(arr.take(pa.array(suspect)), superset)]
        except (Untranslatable, pa.ArrowException, re.error, RecursionError):
            out.append(_python_masks(index.python_values(), [regex])[0])
            continue
        if len(suspect):
            texts = arr.take(pa.array(suspect)).to_pylist()
            search = regex.search
            mask[suspect] = [t is not None and search(t) is not None for t in texts]
        out.append(mask)
    return out


def _search(arr: Any, pattern: str) -> np.ndarray:
    import pyarrow.compute as pc

    return pc.match_substring_regex(arr, pattern).fill_null(False).to_numpy(zero_copy_only=False)


def _re2_masks(arr: Any, patterns: dict[int, str]) -> dict[int, np.ndarray]:
    """RE2's mask over every row of ``arr`` for each ``{key: translated pattern}``; a pattern
    RE2 refuses is left out.

    Patterns that match at most :data:`UNION_MAX_SAMPLE_SHARE` of an evenly spaced sample are
    searched together: one pass of their alternation ``(?:p1)|(?:p2)|...`` finds the
    candidate rows, and each of them is then searched on the candidates only (its matches are
    a subset of them, so its mask is the same). Frequent patterns, and all of them when the
    candidates are more than :data:`UNION_MAX_CANDIDATE_SHARE` of the rows, are searched on
    every row. The studio benchmark's ten patterns (eight rare), 100k rows: 86 ms against 133 ms
    pattern by pattern, identical masks (``benchmarks/bench_text.py``).
    """
    import pyarrow as pa

    out: dict[int, np.ndarray] = {}
    n = len(arr)
    rare: list[int] = []
    if len(patterns) >= UNION_MIN_PATTERNS and n >= 4 * UNION_SAMPLE_ROWS:
        sample = arr.take(pa.array(np.linspace(0, n - 1, UNION_SAMPLE_ROWS, dtype=np.int64)))
        for key, pattern in patterns.items():
            try:
                share = _search(sample, pattern).mean()
            except pa.ArrowException:  # left to the pass over every row, which says so
                continue
            if share <= UNION_MAX_SAMPLE_SHARE:
                rare.append(key)
    if len(rare) >= 2:
        try:
            candidates = np.flatnonzero(_search(arr, "|".join(f"(?:{patterns[k]})" for k in rare)))
        except pa.ArrowException:  # e.g. the alternation exceeds RE2's memory budget
            candidates = None
        if candidates is not None and len(candidates) <= UNION_MAX_CANDIDATE_SHARE * n:
            sub = arr.take(pa.array(candidates))
            for key in rare:
                with contextlib.suppress(pa.ArrowException):  # then searched on every row
                    mask = np.zeros(n, dtype=bool)
                    mask[candidates[_search(sub, patterns[key])]] = True
                    out[key] = mask
    for key, pattern in patterns.items():
        if key not in out:
            with contextlib.suppress(pa.ArrowException):  # then run in Python's re
                out[key] = _search(arr, pattern)
    return out
