"""Keyword search shared by all keyword slicing functions of one text column.

A :class:`TextIndex` holds one column's text, lowercased once exactly as Python's ``str.lower``
does (so results equal the row-wise ``k in x.text.lower()``), and finds the rows of many keyword
SFs in one pass:

* the text is split once on spaces into tokens and each *distinct* token gets an id (Arrow
  ``split_pattern`` + ``dictionary_encode``, in C);
* a keyword without a space occurs in a text exactly when it occurs inside one of the text's
  tokens, so each keyword is searched in the (small) vocabulary of distinct tokens only;
* every SF's token hits are bit-packed into one word per token, and a single gather over the
  token ids and an OR-reduction per row give the masks of all SFs at once.

Keywords that contain a space are searched directly in each text, and so are few keywords
without a cached index (building the index costs more); with Arrow a direct search scans the
UTF-8 bytes of all rows at once, in NumPy. Without pyarrow, or for strings Arrow cannot
encode (lone surrogates), everything falls back to Python loops with the same results.
:class:`~slicewidgets.slicing.SliceSet` keeps the index of each column, so editing one keyword
SF costs a search of the vocabulary and one gather.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["TextIndex", "keyword_masks"]

#: Tokens are split on this character only; keywords containing it are searched directly.
SEPARATOR = " "
#: Without a cached index, this many distinct keywords or fewer are searched directly.
MAX_DIRECT_KEYWORDS = 8

_UNAVAILABLE = object()


#: Tokens from which :meth:`TextIndex.postings` sorts with scipy's sparse transpose (a counting
#: sort; importing scipy costs ~0.3 s once) instead of NumPy's argsort (0.1 s at 1M tokens).
POSTINGS_SPARSE_MIN = 1 << 20


class TextIndex:
    """One text column, prepared for keyword search (lowercased unless ``case``).

    Parameters
    ----------
    values
        The column (a Series or any sequence); values that are not strings never match.
    case
        Keep the case (case-sensitive search).
    prefer_tokens
        Build the token index even for a few keywords (when the index is kept for later
        searches, as :class:`~slicewidgets.slicing.SliceSet` does).

    Examples
    --------
    >>> index = TextIndex(pd.Series(["Plz sub", "hi there", None]))
    >>> [m.tolist() for m in index.masks([["plz", "please"], ["hi"]])]
    [[True, False, False], [False, True, False]]
    """

    def __init__(self, values: pd.Series | Sequence, case: bool = False, *,
                 prefer_tokens: bool = False) -> None:
        self._source = values
        self.case = case
        #: build the token index even for few keywords (worth it when the index is kept)
        self.prefer_tokens = prefer_tokens
        self.n = len(values)
        self._python: list | None = None
        self._arrow: Any = None
        self._tokens: Any = None
        self._postings: tuple | None = None
        self._non_ascii: np.ndarray | None = None

    # -- representations -------------------------------------------------------------------
    def python_values(self) -> list:
        """The prepared strings (``None`` for non-strings), as a list."""
        if self._python is None:
            values = (self._source.tolist() if isinstance(self._source, pd.Series)
                      else list(self._source))
            if self.case:
                self._python = [t if isinstance(t, str) else None for t in values]
            else:
                self._python = [t.lower() if isinstance(t, str) else None for t in values]
        return self._python

    def arrow_values(self) -> Any:
        """The prepared strings as one Arrow array, or ``None`` when Arrow cannot hold them."""
        if self._arrow is None:
            try:
                self._arrow = self._build_arrow()
            except ImportError:  # no pyarrow
                self._arrow = _UNAVAILABLE
        return None if self._arrow is _UNAVAILABLE else self._arrow

    def _build_arrow(self) -> Any:
        import pyarrow as pa

        arr = None
        if isinstance(self._source, pd.Series) and isinstance(self._source.dtype,
                                                               pd.StringDtype):
            arr = pa.array(self._source)
            if isinstance(arr, pa.ChunkedArray):
                arr = arr.combine_chunks()
            if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
                arr = None
        if arr is None:  # object columns (or any sequence): strings only, the rest missing
            arr = _object_to_arrow(self._source)
            if arr is _UNAVAILABLE:
                return arr
        if self.case:
            return arr
        return _lower(arr)

    def non_ascii_rows(self) -> np.ndarray:
        """Positions of the rows whose prepared text holds a non-ASCII character (Arrow only)."""
        if self._non_ascii is None:
            self._non_ascii = _non_ascii_rows(self.arrow_values())
        return self._non_ascii

    def tokens(self) -> tuple | None:
        """``(vocabulary, token ids, row starts)``, or ``None`` without Arrow."""
        if self._tokens is None:
            arr = self.arrow_values()
            if arr is None:
                self._tokens = _UNAVAILABLE
            else:
                import pyarrow.compute as pc

                lists = pc.split_pattern(arr, SEPARATOR)
                encoded = pc.dictionary_encode(lists.flatten())
                offsets = lists.offsets.to_numpy()
                self._tokens = (
                    encoded.dictionary,
                    encoded.indices.to_numpy(zero_copy_only=False),
                    (offsets - offsets[0]).astype(np.int64),
                )
        return None if self._tokens is _UNAVAILABLE else self._tokens

    def postings(self) -> tuple:
        """``(token counts, pointers, rows sorted by token)``: the rows of each token, so that
        a rare keyword costs the rows it occurs in, not a pass over all tokens."""
        if self._postings is None:
            tokens = self.tokens()
            assert tokens is not None, "postings() needs tokens()"
            vocab, ids, starts = tokens
            if len(ids) < POSTINGS_SPARSE_MIN:  # small: a sort, and scipy stays unimported
                counts = np.bincount(ids, minlength=len(vocab))
                ptr = np.zeros(len(vocab) + 1, dtype=np.int64)
                np.cumsum(counts, out=ptr[1:])
                row_of = np.repeat(np.arange(self.n, dtype=np.int64), np.diff(starts))
                self._postings = (counts, ptr, row_of[np.argsort(ids, kind="stable")])
            else:
                import scipy.sparse as sp

                # rows x tokens (CSR) turned column-major: scipy's transpose is a counting
                # sort, O(tokens + vocabulary): 0.1 s against 1.6 s for the stable argsort
                # of the 13.5M token ids of 1M comments (the first phrase keyword waited)
                by_token = sp.csr_matrix(
                    (np.ones(len(ids), dtype=np.int8), ids, starts), shape=(self.n, len(vocab))
                ).tocsc()
                ptr = by_token.indptr.astype(np.int64)
                self._postings = (np.diff(ptr), ptr, by_token.indices)
        return self._postings

    @property
    def has_tokens(self) -> bool:
        """Whether the token index is built."""
        return self._tokens is not None and self._tokens is not _UNAVAILABLE

    # -- search -----------------------------------------------------------------------------
    def contains(self, needle: str) -> np.ndarray:
        """Rows whose prepared text contains ``needle`` (a direct scan).

        With Arrow, the scan runs over the UTF-8 bytes of all rows at once
        (:func:`_utf8_contains`); otherwise it is Python's ``needle in text`` row by row.
        Both give the same rows.
        """
        arr = self.arrow_values()
        if arr is not None:
            return _utf8_contains(arr, needle)
        values = self.python_values()
        return np.fromiter((t is not None and needle in t for t in values), dtype=bool,
                           count=self.n)

    def _phrase(self, needle: str) -> np.ndarray:
        """:meth:`contains` for a needle holding the separator, on a kept token index: only
        the rows holding a token that one of its parts requires (a suffix of a token for the
        first part, a whole token for a middle one, a prefix for the last; the rarest part is
        used) are scanned."""
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = self.arrow_values()
        tokens = self.tokens()
        if arr is None or tokens is None:
            return self.contains(needle)
        vocab = tokens[0]
        counts, ptr, rows = self.postings()
        parts = needle.split(SEPARATOR)
        best: tuple | None = None
        for j, part in enumerate(parts):
            if not part:
                continue
            if j == 0:
                hit = pc.ends_with(vocab, part)
            elif j == len(parts) - 1:
                hit = pc.starts_with(vocab, part)
            else:
                hit = pc.equal(vocab, part)
            matched = np.flatnonzero(hit.fill_null(False).to_numpy(zero_copy_only=False))
            total = int(counts[matched].sum())
            if best is None or total < best[0]:
                best = (total, matched)
        if best is None or best[0] * 8 > self.n:  # common parts: scan every row
            return self.contains(needle)
        total, matched = best
        lengths = counts[matched]
        first = np.cumsum(lengths) - lengths
        where = np.repeat(ptr[matched] - first, lengths) + np.arange(total)
        candidates = np.unique(rows[where])
        mask = np.zeros(self.n, dtype=bool)
        if len(candidates):
            found = _utf8_contains(arr.take(pa.array(candidates)), needle)
            mask[candidates[found]] = True
        return mask

    def masks(self, needle_groups: Sequence[Sequence[str]], *,
              use_tokens: bool | None = None) -> list[np.ndarray]:
        """One mask per group: rows whose text contains any needle of the group.

        Needles must already be lowercased when the index is not case-sensitive.
        """
        groups = [list(dict.fromkeys(g)) for g in needle_groups]
        distinct = list(dict.fromkeys(k for g in groups for k in g))
        tokenizable = [k for k in distinct if SEPARATOR not in k]
        if use_tokens is None:
            use_tokens = (self.has_tokens or self.prefer_tokens
                          or len(tokenizable) > MAX_DIRECT_KEYWORDS)
        tokens = self.tokens() if (use_tokens and tokenizable) else None
        if tokens is None:
            tokenizable = []
        skip = set(tokenizable)
        direct = {k: self._phrase(k) if self.prefer_tokens and self.has_tokens
                  else self.contains(k) for k in distinct if k not in skip}
        if tokenizable:
            keep = set(tokenizable)
            token_groups = [[k for k in g if k in keep] for g in groups]
            assert tokens is not None
            token_masks = _token_masks(tokens, self.n, token_groups,
                                       self.postings if self.prefer_tokens else None)
        else:
            token_masks = [None] * len(groups)
        out = []
        for g, mask in zip(groups, token_masks, strict=True):
            mask = np.zeros(self.n, dtype=bool) if mask is None else mask
            for k in g:
                if k in direct:
                    mask |= direct[k]
            out.append(mask)
        return out


def _object_to_arrow(source: Any) -> Any:
    """A ``large_string`` Arrow array of the strings of ``source``, every value that is not a
    ``str`` missing (or ``_UNAVAILABLE`` when Arrow cannot hold a string: lone surrogates)."""
    import pyarrow as pa

    values = (source.to_numpy(dtype=object) if isinstance(source, pd.Series)
              else np.asarray(list(source) if not isinstance(source, np.ndarray) else source,
                              dtype=object))
    if values.ndim != 1:  # e.g. a sequence of tuples
        values = np.fromiter(iter(source), dtype=object, count=len(source))
    try:
        if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
            # only str and missing values (None, NaN, pd.NA): converted in C
            return pa.array(values, type=pa.large_string(), from_pandas=True)
        return pa.array([t if isinstance(t, str) else None for t in values],
                        type=pa.large_string())
    except (UnicodeError, pa.ArrowException):  # e.g. lone surrogates
        return _UNAVAILABLE


def _non_ascii_rows(arr: Any) -> np.ndarray:
    import pyarrow.compute as pc

    ascii_ = pc.string_is_ascii(arr).fill_null(True).to_numpy(zero_copy_only=False)
    return np.flatnonzero(~ascii_)


# -- lowercasing: Arrow's utf8_lower, patched where Python's str.lower differs -----------------

#: Code points whose lowercase differs between Python's ``str.lower`` and Arrow's
#: ``utf8_lower``, by (Unicode database of Python, pyarrow build). Computed by
#: :func:`_compute_lower_differences` (``tests/slicing/test_text.py`` checks the entry of the
#: environment it runs in); other environments compute theirs once per process (~0.5 s).
_LOWER_DIFFERENCES: dict[tuple, tuple[int, ...]] = {
    ("14.0.0", "26.0.1", "python-wheel-manylinux228"): (
        0x130, 0x1C89, 0xA7CB, 0xA7CC, 0xA7CE, 0xA7D2, 0xA7D4, 0xA7DA, 0xA7DC, 0xA7DD,
        0xA7E2, 0xAB6C, 0xAB6D, *range(0x10D50, 0x10D66), *range(0x16EA0, 0x16EB9),
        0x1DF40, 0x1DF48, 0x1DF4A, 0x1DF4D, 0x1DF51, 0x1DF68, 0x1DF6A, 0x1DF6C, 0x1DF6E,
        *range(0x1DF72, 0x1DF7F, 2),
    ),
}
#: Python lowers capital sigma by context (final sigma); Arrow always to U+03C3.
_CONTEXT_SENSITIVE = (0x3A3,)


def _arrow_key() -> tuple:
    import unicodedata

    import pyarrow as pa

    info = pa.cpp_build_info
    return (unicodedata.unidata_version, pa.__version__,
            getattr(info, "package_kind", "") + getattr(info, "git_id", ""))


def _compute_lower_differences() -> tuple[int, ...]:
    """Every code point ``c`` with ``chr(c).lower()`` different from Arrow's ``utf8_lower``
    of ``chr(c)`` (a scan of all 1.1M code points)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cps = np.concatenate([np.arange(0x80, 0xD800), np.arange(0xE000, 0x110000)]).astype("<u4")
    text = cps.tobytes().decode("utf-32-le")
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    lens = np.where(cps < 0x800, 2, np.where(cps < 0x10000, 3, 4)).astype(np.int32)
    offsets = np.zeros(len(cps) + 1, dtype=np.int32)
    np.cumsum(lens, out=offsets[1:])
    arr = pa.Array.from_buffers(pa.string(), len(cps),
                                [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    low = pc.utf8_lower(arr)
    low_offsets = np.frombuffer(low.buffers()[1], dtype=np.int32)[low.offset:
                                                                  low.offset + len(cps) + 1]
    low_data = np.frombuffer(low.buffers()[2], dtype=np.uint8)
    changed = np.diff(low_offsets) != lens
    for k in range(4):
        idx = np.flatnonzero(~changed & (lens > k))
        changed[idx] = data[offsets[idx] + k] != low_data[low_offsets[idx] + k]
    changed |= np.fromiter((c.lower() != c for c in text), dtype=bool, count=len(text))
    cand = np.flatnonzero(changed)
    arrow_lower = low.take(pa.array(cand)).to_pylist()
    out = {int(cps[i]) for i, low_c in zip(cand.tolist(), arrow_lower, strict=True)
           if text[i].lower() != low_c}
    return tuple(sorted(out))


@functools.lru_cache(maxsize=1)
def _lower_patch_class() -> str:
    """An RE2 class of the characters after which Arrow's lowering must be redone by Python."""
    known = _LOWER_DIFFERENCES.get(_arrow_key())
    points = known if known is not None else _compute_lower_differences()
    chars = sorted(set(points) | set(_CONTEXT_SENSITIVE))
    return "[" + "".join(f"\\x{{{c:x}}}" for c in chars) + "]"


def _lower(arr: Any) -> Any:
    """``str.lower`` of every string of the Arrow array ``arr``.

    ASCII rows: Arrow's ``ascii_lower``; the other rows: Arrow's ``utf8_lower``, except the rows
    holding a character on which it differs from Python (U+0130, capital sigma...: a few rows),
    which Python lowers. The three parts are assembled with one ``take``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    lowered = pc.ascii_lower(arr)
    other = _non_ascii_rows(arr)
    if not len(other):
        return lowered
    sub = arr.take(pa.array(other))
    parts = [lowered, pc.utf8_lower(sub)]
    order = np.arange(len(arr), dtype=np.int64)
    order[other] = len(arr) + np.arange(len(other))
    hit = pc.match_substring_regex(sub, _lower_patch_class()).fill_null(False)
    patch = np.flatnonzero(hit.to_numpy(zero_copy_only=False))
    if len(patch):
        texts = sub.take(pa.array(patch)).to_pylist()
        parts.append(pa.array([t.lower() for t in texts], type=arr.type))
        order[other[patch]] = len(arr) + len(other) + np.arange(len(patch))
    return pa.concat_arrays(parts).take(pa.array(order))


def _byte_rarity() -> np.ndarray:
    """A rough rarity rank of each byte in text: English letter frequencies, space the most
    common; only the speed of :func:`_utf8_contains` depends on it, never its result."""
    rarity = np.full(256, 13.0)  # digits, punctuation, non-ASCII bytes: as a mid letter
    for rank, letter in enumerate("etaoinshrdlcumwfgypbvkjxqz"):
        rarity[ord(letter)] = rank
        rarity[ord(letter.upper())] = rank + 0.5
    rarity[ord(" ")] = -1.0
    return rarity


_BYTE_RARITY = _byte_rarity()


def _utf8_contains(arr: Any, needle: str) -> np.ndarray:
    """Rows of the Arrow string array ``arr`` that contain ``needle``, searched in its bytes.

    All rows' UTF-8 bytes lie end to end in one buffer: the candidates are the positions of
    one byte of the needle, narrowed byte by byte, then mapped to rows through the offsets,
    keeping only occurrences that start and end inside one row. On valid UTF-8 a byte match is a
    character match (UTF-8 is self-synchronizing), so this equals ``needle in text``.
    """
    n = len(arr)
    try:
        pattern = np.frombuffer(needle.encode("utf-8"), dtype=np.uint8)
    except UnicodeEncodeError:  # a lone surrogate: no valid UTF-8 text contains it
        return np.zeros(n, dtype=bool)
    valid = (np.ones(n, dtype=bool) if arr.null_count == 0
             else arr.is_valid().to_numpy(zero_copy_only=False))
    if len(pattern) == 0:
        return valid
    import pyarrow as pa

    _, offset_buffer, data = arr.buffers()
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(offset_buffer, dtype=width)[arr.offset:arr.offset + n + 1]
    offsets = offsets.astype(np.int64)
    if n == 0 or data is None or offsets[-1] - offsets[0] < len(pattern):
        return np.zeros(n, dtype=bool)
    text = np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]]
    ends = offsets[1:] - offsets[0]
    # anchor on the needle's (likely) rarest byte: fewer candidates to narrow
    a = int(np.argmax(_BYTE_RARITY[pattern]))
    pos = np.flatnonzero(text[a: len(text) - len(pattern) + 1 + a] == pattern[a])
    for j in range(len(pattern)):
        if j == a or not len(pos):
            continue
        pos = pos[text[pos + j] == pattern[j]]
    rows = np.searchsorted(ends, pos, side="right")  # the row whose bytes hold pos
    mask = np.zeros(n, dtype=bool)
    mask[rows[pos + len(pattern) <= ends[rows]]] = True
    return mask & valid


def _token_masks(tokens: tuple, n: int, groups: list[list[str]],
                 postings: Any = None) -> list[np.ndarray | None]:
    """Masks of each group's token keywords: all groups in one gather per 64 groups (or, with
    ``postings`` and a few groups of rare keywords, the rows of the matching tokens only)."""
    vocab, ids, starts = tokens
    hits: dict[str, np.ndarray] = {}
    for g in groups:
        for k in g:
            if k not in hits:
                hits[k] = _utf8_contains(vocab, k)
    out: list[np.ndarray | None] = [None] * len(groups)
    active = [j for j, g in enumerate(groups) if g]
    if postings is not None and 0 < len(active) <= 4:
        counts, ptr, rows = postings()
        rest = []
        for j in active:
            hit = np.zeros(len(vocab), dtype=bool)
            for k in groups[j]:
                hit |= hits[k]
            matched = np.flatnonzero(hit)
            lengths = counts[matched]
            total = int(lengths.sum())
            if total * 8 > len(ids):  # a common keyword: the gather below is cheaper
                rest.append(j)
                continue
            first = np.cumsum(lengths) - lengths
            where = np.repeat(ptr[matched] - first, lengths) + np.arange(total)
            mask = np.zeros(n, dtype=bool)
            mask[rows[where]] = True
            out[j] = mask
        active = rest
    empty_rows = starts[1:] == starts[:-1]
    row_starts = starts[:-1]
    for c in range(0, len(active), 64):
        chunk = active[c:c + 64]
        width = 8 if len(chunk) <= 8 else 16 if len(chunk) <= 16 else 32 if len(chunk) <= 32 \
            else 64
        hit = np.zeros((len(vocab), width), dtype=bool)
        for col, j in enumerate(chunk):
            for k in groups[j]:
                hit[:, col] |= hits[k]
        words = np.packbits(hit, axis=1, bitorder="little").view(f"u{width // 8}")[:, 0]
        gathered = np.empty(len(ids) + 1, dtype=words.dtype)
        np.take(words, ids, out=gathered[:-1])
        gathered[-1] = 0
        per_row = np.bitwise_or.reduceat(gathered, row_starts) if n else gathered[:0]
        per_row[empty_rows] = 0
        bits = np.unpackbits(per_row.view(np.uint8).reshape(n, width // 8), axis=1,
                             bitorder="little").view(bool)
        for col, j in enumerate(chunk):
            out[j] = bits[:, col]  # a strided view; callers copy what they keep
    return out


def keyword_masks(
    values: pd.Series | Sequence, needle_groups: Sequence[Sequence[str]], *, case: bool = False,
    index: TextIndex | None = None,
) -> list[np.ndarray]:
    """One boolean mask per group: rows whose text contains any needle of the group.

    Parameters
    ----------
    values
        Text values (non-strings never match). Ignored when ``index`` is given.
    needle_groups
        One sequence of keywords per slicing function (already lowercased when ``case`` is
        false).
    case
        Case-sensitive search.
    index
        A prepared :class:`TextIndex` of ``values`` to reuse.

    Examples
    --------
    >>> [m.tolist() for m in keyword_masks(["Plz sub", "hi", None], [["plz", "please"], ["hi"]])]
    [[True, False, False], [False, True, False]]
    """
    if index is None:
        index = TextIndex(values, case=case)
    return index.masks(needle_groups)
