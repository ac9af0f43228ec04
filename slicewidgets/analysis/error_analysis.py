"""Error buckets: which rows have which combination of labels (Snorkel's error analysis).

``get_label_buckets(golds, preds)`` groups row indices by ``(gold, pred)`` pair, so that
``buckets[(1, 0)]`` are the false negatives; ``get_label_instances`` returns those rows of a
data array. Used by Snorkel's tutorials to read a model's mistakes on a slice.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from slicewidgets.utils import to_int_label_array

__all__ = ["get_label_buckets", "get_label_instances"]

logger = logging.getLogger(__name__)


def get_label_buckets(*y: np.ndarray) -> dict[tuple[int, ...], np.ndarray]:
    """Row indices bucketed by their combination of labels across the arrays ``y``.

    Parameters
    ----------
    *y
        Integer label arrays of equal length (``[n]`` or ``[n, 1]``).

    Returns
    -------
    dict
        ``{(label_1, label_2, ...): row indices}``, buckets in order of their first row.

    Raises
    ------
    ValueError
        If the arrays have different lengths.

    Examples
    --------
    >>> golds = np.array([1, 1, 1, 0])
    >>> preds = np.array([1, 1, -1, -1])
    >>> buckets = get_label_buckets(golds, preds)
    >>> buckets[(1, 1)]  # true positives
    array([0, 1])
    >>> (1, 0) in buckets  # no false negatives
    False
    >>> buckets[(0, -1)]  # abstained negatives
    array([3])
    """
    columns = [to_int_label_array(np.asarray(labels), flatten_vector=True) for labels in y]
    lengths = [len(c) for c in columns]
    if len(set(lengths)) > 1:
        raise ValueError(
            f"Arrays must all have the same number of elements; got lengths {lengths}."
        )
    if not columns or lengths[0] == 0:
        return {}
    stacked = np.stack(columns, axis=1)
    keys, first, inverse = np.unique(stacked, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")  # rows grouped by bucket, in row order
    bounds = np.cumsum(np.bincount(inverse, minlength=len(keys)))[:-1]
    groups = np.split(order, bounds)
    return {
        tuple(int(v) for v in keys[k]): groups[k] for k in np.argsort(first, kind="stable")
    }


def get_label_instances(
    bucket: tuple[int, ...], x: np.ndarray | pd.Series | pd.DataFrame, *y: np.ndarray
) -> np.ndarray | pd.Series | pd.DataFrame:
    """The rows of ``x`` whose labels in ``y`` are the combination ``bucket``.

    Parameters
    ----------
    bucket
        One label per array in ``y``, e.g. ``(1, 0)`` for gold 1 predicted 0.
    x
        Data rows (an array, or a pandas Series/DataFrame such as ``df.text`` or ``df``), as
        many as the labels. Rows are taken by position (``x.iloc`` for pandas objects, whose
        index is not looked up: Snorkel's ``x[indices]`` would look up index labels).
    *y
        Label arrays.

    Returns
    -------
    np.ndarray or pandas object
        ``x[indices]`` (``x.iloc[indices]`` for a Series/DataFrame); an empty array (with a
        logged warning) if no row is in the bucket.

    Raises
    ------
    ValueError
        If ``len(bucket) != len(y)`` or ``x`` has another number of rows than the labels.

    Examples
    --------
    >>> x = np.array(["a", "b", "c"])
    >>> get_label_instances((1, 0), x, np.array([1, 1, 1]), np.array([1, 0, 0]))
    array(['b', 'c'], dtype='<U1')
    """
    if len(y) != len(bucket):
        raise ValueError(
            f"Number of lists must match the amount of labels in bucket: bucket {bucket} has "
            f"{len(bucket)} labels, got {len(y)} label arrays."
        )
    if x.shape[0] != len(y[0]):
        raise ValueError(
            f"Number of rows in x does not match number of elements in at least one label "
            f"list: x has {x.shape[0]} rows, the first label array {len(y[0])}."
        )
    buckets = get_label_buckets(*y)
    indices = buckets.get(tuple(bucket))
    if indices is None:
        logger.warning("Bucket %s does not exist.", bucket)
        return np.array([])
    if isinstance(x, (pd.Series, pd.DataFrame)):
        return x.iloc[indices]  # by position, whatever the index
    return x[indices]
