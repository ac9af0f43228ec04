"""Vectorized substring search shared by all keyword slicing functions of one column.

The text column is lowercased once (Python's ``str.lower``, so results equal the row-wise
``k in x.text.lower()``), converted once to an Arrow array, and each *distinct* keyword across
all SFs is searched once with Arrow's ``match_substring`` (a C loop over UTF-8 bytes; a byte
substring match of UTF-8 is exactly a character substring match). Without pyarrow, or for
strings Arrow cannot encode, it falls back to a Python loop with the same results.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["keyword_masks"]


def _prepare(values: Sequence, case: bool) -> list:
    if case:
        return [t if isinstance(t, str) else None for t in values]
    return [t.lower() if isinstance(t, str) else None for t in values]


def keyword_masks(
    values: Sequence, needle_groups: Sequence[Sequence[str]], *, case: bool = False
) -> list[np.ndarray]:
    """One boolean mask per group: rows whose text contains any needle of the group.

    Parameters
    ----------
    values
        Text values (non-strings never match).
    needle_groups
        One sequence of keywords per slicing function (already lowercased when ``case`` is
        false).
    case
        Case-sensitive search.

    Examples
    --------
    >>> [m.tolist() for m in keyword_masks(["Plz sub", "hi", None], [["plz", "please"], ["hi"]])]
    [[True, False, False], [False, True, False]]
    """
    texts = _prepare(values, case)
    n = len(texts)
    distinct = list(dict.fromkeys(k for group in needle_groups for k in group))
    hits = _search(texts, distinct)
    masks = []
    for group in needle_groups:
        mask = np.zeros(n, dtype=bool)
        for k in group:
            mask |= hits[k]
        masks.append(mask)
    return masks


def _search(texts: list, needles: list[str]) -> dict[str, np.ndarray]:
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(texts, type=pa.large_string())
    except Exception:  # no pyarrow, or unencodable strings (lone surrogates)
        return {k: np.fromiter((t is not None and k in t for t in texts), dtype=bool,
                               count=len(texts)) for k in needles}
    out = {}
    for k in needles:
        found = pc.match_substring(arr, pattern=k)
        out[k] = found.fill_null(False).to_numpy(zero_copy_only=False)
    return out
