"""Per-slice metrics for all slices at once, from confusion counts.

For ``k`` slices over ``n`` rows, every count a label metric needs (rows scored, correct,
TP, FP, FN, non-abstained predictions) is one column of an ``(n, c)`` indicator matrix ``V``;
the ``(k, c)`` counts are ``M.T @ V``, computed in exact integer arithmetic without BLAS
(popcounts of bit-packed columns, or blocks of rows; see :func:`slice_counts`), and accuracy,
precision, recall, F1, F-beta and Matthews' correlation follow elementwise. Results equal scikit-learn's on each
slice (same zero-division conventions: 0.0), with NaN for slices with nothing to score.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = [
    "BINARY_COUNT_METRICS",
    "COUNT_METRICS",
    "COUNT_NAMES",
    "finish_counts",
    "is_binary",
    "metric_from_counts",
    "overall_counts",
    "pack_columns",
    "row_indicators",
    "slice_counts",
    "valid_rows",
]

#: metrics computable from counts for any labels
COUNT_METRICS = ("accuracy", "coverage")
#: metrics computable from counts when golds and preds are binary (0/1)
BINARY_COUNT_METRICS = ("precision", "recall", "f1", "fbeta", "matthews_corrcoef")

COUNT_NAMES = ("n_valid", "correct", "tp", "fp", "fn", "pred_nonabstain")


def valid_rows(golds: np.ndarray, *preds: np.ndarray | None,
               abstain_label: int | None = -1) -> np.ndarray:
    """The rows a built-in metric scores: neither the gold nor any prediction is
    ``abstain_label`` (every row when it is ``None``; ``None`` predictions are skipped).

    Examples
    --------
    >>> valid_rows(np.array([1, -1, 0]), np.array([1, 1, -1])).tolist()
    [True, False, False]
    """
    valid = np.ones(len(golds), dtype=bool)
    if abstain_label is not None:
        valid &= golds != abstain_label
        for labels in preds:
            if labels is not None:
                valid &= labels != abstain_label
    return valid


def is_binary(golds: np.ndarray, preds: np.ndarray | None = None,
              abstain_label: int | None = -1) -> bool:
    """Every label of ``golds`` and ``preds`` other than ``abstain_label`` is 0 or 1.

    Examples
    --------
    >>> is_binary(np.array([0, 1, -1]), np.array([1, 1, 0])), is_binary(np.array([0, 2]))
    (True, False)
    """
    allowed = {0, 1} if abstain_label is None else {0, 1, abstain_label}
    low, high = min(allowed), max(allowed)
    is_range = len(allowed) == high - low + 1  # {0, 1} or {-1, 0, 1}: two reductions suffice
    for labels in (golds, preds):
        if labels is None:
            continue
        labels = np.asarray(labels)
        if is_range and labels.dtype.kind in "iu" and labels.size:
            if labels.min() < low or labels.max() > high:
                return False
            continue
        ok = (labels == 0) | (labels == 1)
        if abstain_label is not None:
            ok |= labels == abstain_label
        if not ok.all():
            return False
    return True


def row_indicators(golds: np.ndarray, preds: np.ndarray,
                   abstain_label: int | None = -1) -> np.ndarray:
    """The ``(n, 7)`` boolean row indicators counted by :func:`slice_counts`: the columns of
    :data:`COUNT_NAMES`, then all ones (the slice size)."""
    return _indicators(np.asarray(golds), np.asarray(preds), abstain_label)


def _indicators(golds: np.ndarray, preds: np.ndarray, abstain_label: int | None) -> np.ndarray:
    valid = valid_rows(golds, preds, abstain_label=abstain_label)
    g1 = golds == 1
    p1 = preds == 1
    # column-major: each indicator is one contiguous column (counted in one pass each)
    V = np.empty((len(golds), len(COUNT_NAMES) + 1), dtype=bool, order="F")
    V[:, -1] = True  # the slice size
    V[:, 0] = valid
    np.logical_and(valid, golds == preds, out=V[:, 1])
    vg = valid & g1
    np.logical_and(vg, p1, out=V[:, 2])
    np.logical_and(valid & ~g1, p1, out=V[:, 3])
    np.logical_and(vg, ~p1, out=V[:, 4])
    np.not_equal(preds, -1, out=V[:, 5])
    return V


def finish_counts(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Name the last axis of raw counts (``COUNT_NAMES`` then the slice size) and add ``tn``."""
    out = {name: counts[..., i] for i, name in enumerate(COUNT_NAMES)}
    out["size"] = counts[..., -1]
    out["tn"] = out["n_valid"] - out["tp"] - out["fp"] - out["fn"]
    return out


def slice_counts(
    M: np.ndarray, golds: np.ndarray, preds: np.ndarray, abstain_label: int | None = -1,
    *, indicators: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Confusion counts per slice, for all slices at once, in exact integer arithmetic.

    Parameters
    ----------
    M
        Boolean membership, shape ``(n, k)`` (other dtypes: positive values are members).
    golds, preds
        Integer labels, shape ``(n,)``.
    abstain_label
        Rows where gold or pred equals it are not scored (``None``: score all rows).
    indicators
        The row indicators of ``golds`` and ``preds`` if already computed
        (:func:`row_indicators`).

    Returns
    -------
    dict
        ``size``, ``n_valid``, ``correct``, ``tp``, ``fp``, ``fn``, ``tn`` and
        ``pred_nonabstain`` (predictions other than -1, for coverage), each an ``int64``
        array of length ``k``.

    Notes
    -----
    A column-major boolean ``M`` (as :class:`~slicewidgets.slicing.SliceMembership` holds it)
    is bit-packed and counted with popcounts, 64 rows per operation, and so is a row-major one
    of at most :data:`FEW_SLICES` slices once transposed; any other ``M`` (e.g. the
    zero-copy int64 view of Snorkel's recarray of 50 slices) is read once, in blocks of rows turned into
    0/1 on the fly and summed per combination of row indicators. Both are exact. Reading the
    recarray's 8 bytes per row and slice is most of its cost (about 1.5 ms of 3 ms at 100,000
    rows and 50 slices).

    Examples
    --------
    >>> M = np.array([[1, 0], [1, 1], [0, 1]], dtype=bool)
    >>> c = slice_counts(M, np.array([1, 0, 1]), np.array([1, 1, 1]))
    >>> c["tp"].tolist(), c["fp"].tolist()
    ([1, 1], [1, 1])
    """
    golds = np.asarray(golds)
    preds = np.asarray(preds)
    M = np.asarray(M)
    if M.ndim != 2 or M.shape[0] != len(golds) or len(preds) != len(golds):
        raise ValueError(
            f"slice_counts: M must have shape (n, k) with n = len(golds) = len(preds); got "
            f"M {M.shape}, golds ({len(golds)},), preds ({len(preds)},)."
        )
    V = _indicators(golds, preds, abstain_label) if indicators is None else indicators
    if M.shape[1] == 0 or M.shape[0] == 0:
        counts = np.zeros((M.shape[1], V.shape[1]), dtype=np.int64)
    elif (M.dtype == bool and M.flags.f_contiguous
          and (not M.flags.c_contiguous or M.shape[1] == 1)  # one slice: both flags hold
          and hasattr(np, "bitwise_count")):
        counts = _bit_counts(M, V)
    elif M.shape[1] <= FEW_SLICES and hasattr(np, "bitwise_count"):
        # a few row-major slices (np.column_stack of masks, a small recarray): turned
        # column-major first, e.g. 2 slices x 1M rows in 1.8 ms instead of 15.6 ms in blocks
        counts = _bit_counts(np.asfortranarray(M if M.dtype == bool else M > 0), V)
    else:
        counts = _blocked_counts(M, V)
    return finish_counts(counts)


#: Up to this many slices, a row-major ``M`` is transposed and bit-counted rather than read in
#: blocks (at 1M rows: faster up to 8 int64 slices, 6.5 vs 13.4 ms, and 16 boolean ones).
FEW_SLICES = 8

#: Rows per block of :func:`_blocked_counts` (fewer, larger blocks measured faster: 16384 rows
#: of 50 slices took 3.2 ms at 100k rows against 3.6 ms for 8192 and 7.9 ms for 1024).
BLOCK_ROWS = 16384


def _blocked_counts(M: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Counts of a row-major ``M`` (any numeric dtype; positive = member, e.g. the int64 view of
    Snorkel's recarray), read once in blocks of rows that stay in cache.

    Each row's indicators form a code (a handful of combinations occur). In each block, the
    0/1 rows are put in code order (one ``take`` of 8-byte words, in cache) and each code's
    rows are summed (:func:`_sum_rows`); the sums then go to the counts their code's bits
    say. Integer arithmetic only: no BLAS (whose threads spin on a busy machine).
    """
    n, k = M.shape
    ncols = V.shape[1] - 1  # the last column (size) is all ones
    code = np.zeros(n, dtype=np.uint8 if ncols <= 8 else np.int64)
    for c in range(ncols):
        code |= V[:, c].astype(code.dtype) << c
    n_codes = 1 << ncols
    width = -(-k // 8) * 8  # whole 8-byte words per row; the padding stays False
    per_code = np.zeros((n_codes, width), dtype=np.int64)
    buf = np.zeros((min(n, BLOCK_ROWS), width), dtype=bool)
    for start in range(0, n, BLOCK_ROWS):
        stop = min(n, start + BLOCK_ROWS)
        block = buf[: stop - start]
        np.greater(M[start:stop], 0, out=block[:, :k])
        codes = code[start:stop]
        sizes = np.bincount(codes, minlength=n_codes)
        present = np.flatnonzero(sizes)
        if len(present) == 1:
            per_code[present[0]] += _sum_rows(block)
            continue
        ordered = block.view(np.uint64).take(np.argsort(codes, kind="stable"), axis=0)
        rows = ordered.view(bool)
        bounds = np.cumsum(sizes[present]).tolist()
        lo = 0
        for cell, hi in zip(present.tolist(), bounds, strict=True):
            per_code[cell] += _sum_rows(rows[lo:hi])
            lo = hi
    per_code = per_code[:, :k]
    bits = (np.arange(n_codes)[:, None] >> np.arange(ncols)) & 1  # (codes, ncols)
    counts = np.empty((k, V.shape[1]), dtype=np.int64)
    counts[:, :ncols] = per_code.T @ bits
    counts[:, ncols] = per_code.sum(axis=0)
    return counts


def _sum_rows(rows: np.ndarray) -> np.ndarray:
    """Column sums of a C-contiguous boolean ``(m, 8 * w)`` array, eight columns per 64-bit
    addition: a sum of at most 255 rows cannot carry from one byte lane into the next. The
    rows are summed in 255 interleaved groups (rows ``i, i + g, i + 2g...``), so that each
    addition runs over long contiguous runs of words."""
    m, width = rows.shape
    words = rows.view(np.uint64)
    full = m // 255 * 255
    out = np.zeros(width, dtype=np.int64)
    if full:
        lanes = words[:full].reshape(255, -1, width // 8).sum(axis=0, dtype=np.uint64)
        out += lanes.view(np.uint8).reshape(-1, width).sum(axis=0, dtype=np.int64)
    if m > full:
        out += words[full:].sum(axis=0, dtype=np.uint64).view(np.uint8)
    return out


def pack_columns(A: np.ndarray) -> np.ndarray:
    """``(n, k)`` booleans -> ``(k, ceil(n / 64))`` uint64 words, bit ``i % 64`` = row ``i``."""
    packed = np.packbits(A, axis=0, bitorder="little")  # (ceil(n / 8), k)
    pad = (-packed.shape[0]) % 8
    if pad:
        packed = np.concatenate([packed, np.zeros((pad, A.shape[1]), dtype=np.uint8)])
    return np.ascontiguousarray(packed.T).view(np.uint64)


def _bit_counts(M: np.ndarray, V: np.ndarray) -> np.ndarray:
    words = pack_columns(M)
    vwords = pack_columns(np.asfortranarray(V))
    counts = np.empty((M.shape[1], V.shape[1]), dtype=np.int64)
    for c in range(V.shape[1]):
        counts[:, c] = np.bitwise_count(words & vwords[c]).sum(axis=1, dtype=np.int64)
    return counts


def overall_counts(
    golds: np.ndarray, preds: np.ndarray, abstain_label: int | None = -1,
    *, indicators: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """:func:`slice_counts` for the single slice of all rows (arrays of length 1)."""
    if indicators is None:
        indicators = _indicators(np.asarray(golds), np.asarray(preds), abstain_label)
    V = indicators
    counts = np.array([[np.count_nonzero(V[:, c]) for c in range(V.shape[1])]],
                      dtype=np.int64)  # column by column: contiguous in a column-major V
    return finish_counts(counts)


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den > 0)
    return out


def metric_from_counts(metric: str, c: Mapping[str, Any], beta: float = 1.0) -> np.ndarray:
    """A metric for every slice from :func:`slice_counts` output (NaN where undefined).

    Works on arrays of any shape (e.g. bootstrap resamples of counts).

    Examples
    --------
    >>> c = {"n_valid": np.array([4]), "correct": np.array([3]), "tp": np.array([2]),
    ...      "fp": np.array([1]), "fn": np.array([0]), "tn": np.array([1]),
    ...      "size": np.array([4]), "pred_nonabstain": np.array([4])}
    >>> float(metric_from_counts("f1", c)[0])
    0.8
    """
    n_valid = np.asarray(c["n_valid"], dtype=float)
    tp, fp, fn = (np.asarray(c[k], dtype=float) for k in ("tp", "fp", "fn"))
    if metric == "coverage":
        size = np.asarray(c["size"], dtype=float)
        return np.where(size > 0, _div(c["pred_nonabstain"], size), np.nan)
    if metric == "accuracy":
        value = _div(c["correct"], n_valid)
    elif metric == "precision":
        value = _div(tp, tp + fp)
    elif metric == "recall":
        value = _div(tp, tp + fn)
    elif metric in ("f1", "fbeta"):
        b2 = 1.0 if metric == "f1" else beta**2
        value = _div((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp)
    elif metric == "matthews_corrcoef":
        # scikit-learn's formula from the confusion matrix, operation for operation, so the
        # result is bit-identical to matthews_corrcoef on the slice
        tn = np.asarray(c["tn"], dtype=float)
        t0, t1 = tn + fp, fn + tp
        p0, p1 = tn + fn, fp + tp
        n = t0 + t1
        cov_ytyp = (tp + tn) * n - (t0 * p0 + t1 * p1)
        cov_ypyp = n**2 - (p0 * p0 + p1 * p1)
        cov_ytyt = n**2 - (t0 * t0 + t1 * t1)
        den = cov_ypyp * cov_ytyt
        value = _div(cov_ytyp, np.sqrt(np.where(den > 0, den, 1.0)) * (den > 0))
    else:
        raise ValueError(f"metric_from_counts cannot compute {metric!r}.")
    return np.where(n_valid > 0, value, np.nan)
