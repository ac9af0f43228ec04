"""Per-slice metrics for all slices at once, from confusion counts.

For ``k`` slices over ``n`` rows, every count a label metric needs (rows scored, correct,
TP, FP, FN, non-abstained predictions) is one column of an ``(n, c)`` indicator matrix ``V``;
``M.T @ V`` gives all ``(k, c)`` counts in one BLAS call, and accuracy, precision, recall,
F1, F-beta and Matthews' correlation follow elementwise. Results equal scikit-learn's on each
slice (same zero-division conventions: 0.0), with NaN for slices with nothing to score.
"""

from __future__ import annotations

import numpy as np

__all__ = ["slice_counts", "metric_from_counts", "COUNT_METRICS", "BINARY_COUNT_METRICS"]

#: metrics computable from counts for any labels
COUNT_METRICS = ("accuracy", "coverage")
#: metrics computable from counts when golds and preds are binary (0/1)
BINARY_COUNT_METRICS = ("precision", "recall", "f1", "fbeta", "matthews_corrcoef")

COUNT_NAMES = ("n_valid", "correct", "tp", "fp", "fn", "pred_nonabstain")


def slice_counts(
    M: np.ndarray, golds: np.ndarray, preds: np.ndarray, abstain_label: int | None = -1
) -> dict[str, np.ndarray]:
    """Confusion counts per slice.

    Parameters
    ----------
    M
        Boolean membership, shape ``(n, k)``.
    golds, preds
        Integer labels, shape ``(n,)``.
    abstain_label
        Rows where gold or pred equals it are not scored (``None``: score all rows).

    Returns
    -------
    dict
        ``size``, ``n_valid``, ``correct``, ``tp``, ``fp``, ``fn``, ``tn`` and
        ``pred_nonabstain`` (predictions other than -1, for coverage), each an ``int64``
        array of length ``k``.

    Examples
    --------
    >>> M = np.array([[1, 0], [1, 1], [0, 1]], dtype=bool)
    >>> c = slice_counts(M, np.array([1, 0, 1]), np.array([1, 1, 1]))
    >>> c["tp"].tolist(), c["fp"].tolist()
    ([1, 1], [1, 1])
    """
    golds = np.asarray(golds)
    preds = np.asarray(preds)
    valid = np.ones(len(golds), dtype=bool)
    if abstain_label is not None:
        valid &= (golds != abstain_label) & (preds != abstain_label)
    g1 = golds == 1
    p1 = preds == 1
    V = np.stack(
        [valid, valid & (golds == preds), valid & g1 & p1, valid & ~g1 & p1, valid & g1 & ~p1,
         preds != -1],
        axis=1,
    )
    dtype = np.float32 if len(golds) < 2**24 else np.float64
    M = np.asarray(M)
    counts = M.T.astype(dtype) @ V.astype(dtype)
    counts = np.rint(counts).astype(np.int64)
    out = {name: counts[:, i] for i, name in enumerate(COUNT_NAMES)}
    out["size"] = M.sum(axis=0).astype(np.int64)
    out["tn"] = out["n_valid"] - out["tp"] - out["fp"] - out["fn"]
    return out


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den > 0)
    return out


def metric_from_counts(metric: str, c: dict[str, np.ndarray], beta: float = 1.0) -> np.ndarray:
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
        tn = np.asarray(c["tn"], dtype=float)
        den = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
        value = _div(tp * tn - fp * fn, den)
    else:
        raise ValueError(f"metric_from_counts cannot compute {metric!r}.")
    return np.where(n_valid > 0, value, np.nan)
