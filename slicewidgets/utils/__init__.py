"""Label utilities shared by the scorer, the appliers and the classifiers.

Same names and signatures as ``snorkel.utils``; ``probs_to_preds`` is vectorized.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["preds_to_probs", "probs_to_preds", "to_int_label_array", "filter_labels"]


def to_int_label_array(X: ArrayLike, flatten_vector: bool = True) -> np.ndarray:
    """Convert an array of integer-valued labels to an ``int64`` array.

    Parameters
    ----------
    X
        Labels, shape ``[n]`` or ``[n, 1]`` (or anything ``np.asarray`` accepts).
    flatten_vector
        Flatten ``[n, 1]`` to ``[n]``.

    Raises
    ------
    ValueError
        If a value is not an integer, or the array cannot be flattened to 1-D.

    Examples
    --------
    >>> to_int_label_array([1.0, 0.0, 1.0])
    array([1, 0, 1])
    """
    X = np.asarray(X)
    if X.dtype.kind == "b":
        X = X.astype(np.int64)
    elif X.dtype.kind == "O":  # e.g. a pandas object column of ints
        try:
            X = X.astype(float)
        except (TypeError, ValueError):
            raise ValueError(
                "Input contains at least one non-integer value; labels must be integers "
                "(got an object array with non-numeric values)."
            ) from None
    integral = X.dtype.kind in "iu" or (
        X.dtype.kind == "f" and not (X.size and not np.all(np.isfinite(X) & (np.mod(X, 1) == 0)))
    )
    if not integral:
        raise ValueError(
            "Input contains at least one non-integer value; labels must be integers "
            f"(got dtype {X.dtype})."
        )
    X = X.astype(np.int64, copy=False)
    if flatten_vector:
        X = np.squeeze(X)
        if X.ndim == 0:
            X = np.expand_dims(X, 0)
        if X.ndim != 1:
            raise ValueError(
                f"Input could not be converted to 1d np.array (got shape {np.shape(X)})."
            )
    return X


def preds_to_probs(preds: np.ndarray, num_classes: int) -> np.ndarray:
    """Convert predicted labels to one-hot probabilities.

    Parameters
    ----------
    preds
        Integer predictions, shape ``[n]`` or ``[n, 1]``, values in ``0..num_classes-1``.
    num_classes
        Number of classes ``k``.

    Returns
    -------
    np.ndarray
        Float array of shape ``[n, k]``.

    Examples
    --------
    >>> preds_to_probs([1, 0], 2)
    array([[0., 1.],
           [1., 0.]])
    """
    preds = np.asarray(preds)
    if preds.ndim == 2 and preds.shape[1] == 1:
        preds = preds[:, 0]
    preds = to_int_label_array(preds) if preds.size else preds.astype(np.int64).ravel()
    if np.any(preds < 0):
        raise ValueError(
            "Could not convert abstained vote to probability: preds contains -1 at positions "
            f"{np.flatnonzero(preds < 0)[:5].tolist()}; filter abstains before calling preds_to_probs."
        )
    if preds.size and preds.max() >= num_classes:
        raise ValueError(
            f"preds contains label {int(preds.max())} but num_classes={num_classes}; "
            "labels must lie in 0..num_classes-1."
        )
    return np.eye(num_classes)[preds]


def _hash_index(i: int, n: int) -> int:
    return int(hashlib.sha1(str(i).encode()).hexdigest(), 16) % n


def probs_to_preds(
    probs: np.ndarray, tie_break_policy: str = "random", tol: float = 1e-5
) -> np.ndarray:
    """Convert probabilities to labels, breaking ties as Snorkel does.

    Parameters
    ----------
    probs
        Array of shape ``[n, k]``, ``k >= 2``.
    tie_break_policy
        ``"random"`` (deterministic hash of the row number, as Snorkel), ``"true-random"``
        or ``"abstain"`` (ties become ``-1``).
    tol
        Probabilities within ``tol`` of the row maximum count as tied.

    Raises
    ------
    ValueError
        A row holds NaN or an infinite value (it has no most likely class).

    Examples
    --------
    >>> probs_to_preds(np.array([[0.5, 0.5], [0.2, 0.8]]))
    array([0, 1])
    >>> probs_to_preds(np.array([[0.5, 0.5], [0.2, 0.8]]), tie_break_policy="abstain")
    array([-1,  1])
    """
    probs = np.asarray(probs, dtype=float)
    if probs.ndim != 2 or probs.shape[1] <= 1:
        raise ValueError(
            "probs must have probabilities for at least 2 classes: expected shape [n, k] with "
            f"k >= 2, got {probs.shape}."
        )
    if tie_break_policy not in ("random", "true-random", "abstain"):
        raise ValueError(
            f"tie_break_policy={tie_break_policy} policy not recognized; "
            "use 'random', 'true-random' or 'abstain'."
        )
    if not np.isfinite(probs).all():
        bad = np.flatnonzero(~np.isfinite(probs).all(axis=1))
        raise ValueError(
            f"probs row {int(bad[0])} is {probs[bad[0]].tolist()} ({len(bad)} row"
            f"{'s' if len(bad) > 1 else ''} with NaN or infinite values): it has no most "
            "likely class. Drop those rows first, e.g. "
            "keep = np.isfinite(probs).all(axis=1); probs_to_preds(probs[keep])."
        )
    preds = probs.argmax(axis=1).astype(np.int64)
    is_max = np.abs(probs - probs.max(axis=1, keepdims=True)) < tol
    tied = np.flatnonzero(is_max.sum(axis=1) > 1)
    for i in tied:  # ties are rare; the loop only runs over them
        max_idxs = np.flatnonzero(is_max[i])
        if tie_break_policy == "random":
            preds[i] = max_idxs[_hash_index(int(i), len(max_idxs))]
        elif tie_break_policy == "true-random":
            preds[i] = np.random.choice(max_idxs)  # noqa: NPY002 - Snorkel's global RNG
        else:
            preds[i] = -1
    return preds


def filter_labels(
    label_dict: Mapping[str, np.ndarray | None], filter_dict: Mapping[str, Sequence[int]]
) -> dict[str, np.ndarray | None]:
    """Drop rows where any array named in ``filter_dict`` holds one of the listed values.

    Examples
    --------
    >>> out = filter_labels({"golds": np.array([1, -1, 0]), "preds": np.array([1, 1, -1])},
    ...                     {"golds": [-1], "preds": [-1]})
    >>> out["golds"].tolist(), out["preds"].tolist()
    ([1], [1])
    """
    masks = []
    for name, values in filter_dict.items():
        arr = label_dict.get(name)
        if arr is not None and len(values):
            masks.append(~np.isin(np.asarray(arr), values))
    if not masks:
        return dict(label_dict)
    keep = np.logical_and.reduce(masks)
    return {k: (None if v is None else np.asarray(v)[keep]) for k, v in label_dict.items()}
