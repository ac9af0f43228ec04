"""Per-slice confusion counts, reused across reports for slices that did not change.

A live score table re-scores every slice after each edit although one changed. The counts of a
slice (:func:`~slicewidgets.analysis._fast.slice_counts`) depend only on its mask and on the
row indicators of ``golds`` and ``preds``. A :class:`~slicewidgets.membership.SliceMembership`
built by ``SliceSet`` names each mask with a key that is never reused for other contents
(``column_keys``), so the counts are cached by ``(mask key, indicators)``:

* the mask key is the producer's promise (equal keys, equal read-only masks);
* the indicators are compared **exactly**: their bit-packed words are kept and compared with
  ``np.array_equal`` (not hashed), so new predictions never meet old counts.

Anything else (no keys, a recarray, a DataFrame) is counted afresh every time.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

from slicewidgets.analysis._fast import finish_counts, pack_columns, slice_counts
from slicewidgets.analysis.validation import slices_of
from slicewidgets.membership import SliceMembership

__all__ = ["CACHE_STATS", "counts_of", "keyed_membership", "keyed_slice_counts", "lazy_slices"]

#: Cached count rows (one slice under one set of indicators); a few KB in all.
_COUNTS_MAX = 8192
#: Packed indicators kept for comparison (875 KB each at 1M rows).
_INDICATORS_MAX = 4

_LOCK = threading.Lock()
_COUNTS: OrderedDict[tuple[Hashable, int], np.ndarray] = OrderedDict()
_INDICATORS: list[tuple[int, np.ndarray]] = []  # (token, packed words), most recent last
_TOKENS = itertools.count()

#: Slices counted (``misses``) and reused (``hits``) so far; tests and benchmarks read it.
CACHE_STATS = {"hits": 0, "misses": 0}


def keyed_slice_counts(
    columns: Callable[[Sequence[int]], list[np.ndarray]], keys: Sequence[Hashable],
    indicators: np.ndarray,
) -> dict[str, np.ndarray]:
    """:func:`~slicewidgets.analysis._fast.slice_counts` of keyed masks, counting only the
    masks not counted before under the same indicators.

    Parameters
    ----------
    columns
        ``columns(js)`` returns the boolean masks of slices ``js`` (called for the misses
        only).
    keys
        One key per slice: equal keys must mean equal masks (see
        ``SliceMembership.from_columns``).
    indicators
        The ``(n, 7)`` row indicators (:func:`~slicewidgets.analysis._fast.row_indicators`).
    """
    V = indicators
    k = len(keys)
    counts = np.empty((k, V.shape[1]), dtype=np.int64)
    if k == 0:
        return finish_counts(counts)
    vwords = pack_columns(np.asfortranarray(V))
    with _LOCK:
        token = _indicators_token(vwords)
        missing = []
        for j, key in enumerate(keys):
            row = _COUNTS.get((key, token))
            if row is None:
                missing.append(j)
            else:
                _COUNTS.move_to_end((key, token))
                counts[j] = row
        CACHE_STATS["hits"] += k - len(missing)
        CACHE_STATS["misses"] += len(missing)
    if missing:
        masks = columns(missing)
        fresh = _count_masks(masks, V, vwords)
        counts[missing] = fresh
        with _LOCK:
            for j, row in zip(missing, fresh, strict=True):
                _COUNTS[(keys[j], token)] = row
            while len(_COUNTS) > _COUNTS_MAX:
                _COUNTS.popitem(last=False)
    return finish_counts(counts)


def _indicators_token(vwords: np.ndarray) -> int:
    """The token of these packed indicators: an earlier one's if exactly equal, else new."""
    for token, words in reversed(_INDICATORS):
        if words.shape == vwords.shape and np.array_equal(words, vwords):
            return token
    token = next(_TOKENS)
    _INDICATORS.append((token, vwords))
    del _INDICATORS[:-_INDICATORS_MAX]
    return token


def _count_masks(masks: list[np.ndarray], V: np.ndarray, vwords: np.ndarray) -> np.ndarray:
    """``(len(masks), 7)`` counts: each mask bit-packed on its own (no ``(n, k)`` copy)."""
    n = V.shape[0]
    for mask in masks:
        if mask.shape != (n,):
            raise ValueError(f"a slice mask has shape {mask.shape}; expected ({n},).")
    words = np.empty((len(masks), vwords.shape[1]), dtype=np.uint64)
    as_bytes = words.view(np.uint8)
    nbytes = -(-n // 8)
    as_bytes[:, nbytes:] = 0
    for j, mask in enumerate(masks):
        as_bytes[j, :nbytes] = np.packbits(mask, bitorder="little")
    out = np.empty((len(masks), V.shape[1]), dtype=np.int64)
    for c in range(V.shape[1]):
        out[:, c] = np.bitwise_count(words & vwords[c]).sum(axis=1, dtype=np.int64)
    return out


def lazy_slices(S: Any, golds: Any) -> tuple[list[str], Callable[[], np.ndarray], int]:
    """Names, a function returning the ``(n, k)`` membership matrix, and ``n``.

    A keyed :class:`~slicewidgets.membership.SliceMembership` (from ``SliceSet``) is not
    assembled into a matrix unless a caller needs one (ROC AUC, custom metrics); anything else
    goes through :func:`~slicewidgets.analysis.validation.slices_of` at once.
    """
    keyed = keyed_membership(S)
    if keyed is not None:
        if golds is None or len(golds) == 0:
            raise ValueError("Cannot score empty labels")
        return list(keyed.names), lambda: keyed.matrix, len(keyed)
    names, M = slices_of(S, golds)
    return names, lambda: M, M.shape[0]


def keyed_membership(S: Any) -> SliceMembership | None:
    """``S`` if it is a :class:`~slicewidgets.membership.SliceMembership` with column keys
    (and at least one slice), else ``None``."""
    if isinstance(S, SliceMembership) and S.column_keys is not None and S.names:
        return S
    return None


def counts_of(S: Any, matrix: Callable[[], np.ndarray], golds: np.ndarray, preds: np.ndarray,
              abstain_label: int | None, *, indicators: np.ndarray) -> dict[str, np.ndarray]:
    """Per-slice counts of ``S``: cached by column key when ``S`` has keys, else
    :func:`~slicewidgets.analysis._fast.slice_counts` of ``matrix()``."""
    keyed = keyed_membership(S)
    if keyed is not None:
        if len(keyed) != len(golds):
            raise ValueError(
                f"slice_counts: S has {len(keyed)} rows but golds has {len(golds)}; compute S "
                "on the same rows as golds.")
        keys = keyed.column_keys
        assert keys is not None
        return keyed_slice_counts(lambda js: [keyed.column(j) for j in js], keys, indicators)
    return slice_counts(matrix(), golds, preds, abstain_label, indicators=indicators)
