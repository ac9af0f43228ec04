"""Checks of the inputs shared by :func:`~slicewidgets.analysis.report.slice_report`,
:func:`~slicewidgets.analysis.compare.compare_models` and the :class:`Scorer`: options,
random state, label arrays and their lengths, slice membership.

Every message names the argument, what was expected, what was got and how to fix it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from slicewidgets.membership import as_membership
from slicewidgets.utils import to_int_label_array

__all__ = [
    "as_probs",
    "check_auc_probs",
    "check_confidence",
    "check_labels",
    "check_n_boot",
    "check_options",
    "check_same_length",
    "lengths_message",
    "make_rng",
    "SliceSeeds",
    "slices_of",
]

_DEFAULT_SEED = 0


def check_confidence(confidence: Any) -> float:
    """Validate a confidence level: a number strictly between 0 and 1."""
    ok = isinstance(confidence, (int, float, np.integer, np.floating)) and not isinstance(
        confidence, bool)
    value = float(confidence) if ok else float("nan")
    if not 0.0 < value < 1.0:
        raise ValueError(
            f"confidence must be a number strictly between 0 and 1, got {confidence!r}; "
            "use e.g. confidence=0.95 for 95% intervals."
        )
    return value


def check_n_boot(n_boot: Any) -> int:
    """Validate a number of bootstrap resamples: an integer >= 1."""
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(
            f"n_boot must be an integer >= 1, got {n_boot!r}; use e.g. n_boot=1000 "
            "(more resamples give more stable intervals)."
        )
    return int(n_boot)


def check_options(
    confidence: Any, n_boot: Any, alpha: Any, min_n: Any, max_width: Any
) -> tuple[float, int, float, int, float]:
    """Validate the options shared by :func:`slice_report` and ``compare_models``."""
    confidence = check_confidence(confidence)
    n_boot = check_n_boot(n_boot)
    try:
        alpha_f = float(alpha)
    except (TypeError, ValueError):
        alpha_f = float("nan")
    if isinstance(alpha, bool) or not 0.0 < alpha_f < 1.0:
        raise ValueError(
            f"alpha must be a number strictly between 0 and 1, got {alpha!r}; use e.g. "
            "alpha=0.05 to flag slices at a 5% false discovery rate."
        )
    if isinstance(min_n, bool) or not isinstance(min_n, (int, np.integer)) or min_n < 0:
        raise ValueError(
            f"min_n must be an integer >= 0, got {min_n!r}; use e.g. min_n=10 "
            "(slices with fewer scored rows are flagged 'no-evidence')."
        )
    try:
        width = float(max_width)
    except (TypeError, ValueError):
        width = float("nan")
    if isinstance(max_width, bool) or not width > 0:
        raise ValueError(
            f"max_width must be a positive number, got {max_width!r}; use e.g. "
            "max_width=0.5, or float('inf') to never flag an interval as too wide."
        )
    return confidence, n_boot, alpha_f, int(min_n), width


def make_rng(random_state: Any) -> np.random.Generator:
    """``None`` -> a fixed seed (reports are reproducible); an int, SeedSequence or Generator."""
    if random_state is None:
        return np.random.default_rng(_DEFAULT_SEED)
    try:
        return np.random.default_rng(random_state)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"random_state must be None, an int or a numpy Generator, got {random_state!r}."
        ) from err


class SliceSeeds:
    """Random generators keyed by content, one per slice.

    The resamples drawn for a slice depend only on the seed and on what identifies the
    slice's data (its confusion counts, or which rows it holds): adding, editing, toggling or
    reordering *other* slices never moves its interval, and two reports of the same slice
    with the same seed agree.

    Parameters
    ----------
    random_state
        ``None`` (a fixed seed), an int or a ``numpy.random.Generator`` (one number is drawn
        from it: the next report draws afresh); ``n`` and ``default_rng(n)`` agree.

    Examples
    --------
    >>> seeds = SliceSeeds(0)
    >>> a = seeds.rng("counts", np.array([3, 1])).integers(0, 100, 3)
    >>> b = SliceSeeds(0).rng("counts", np.array([3, 1])).integers(0, 100, 3)
    >>> bool((a == b).all())
    True
    """

    def __init__(self, random_state: Any = None) -> None:
        # one number from the generator (an int and default_rng(int) agree; a Generator
        # passed in advances, so the next report draws afresh)
        self.base = str(int(make_rng(random_state).integers(0, 2**63)))

    def rng(self, tag: str, key: Any) -> np.random.Generator:
        """A generator for the data identified by ``tag`` and the array ``key``."""
        arr = np.ascontiguousarray(key)
        h = hashlib.blake2b(digest_size=16)
        for part in (self.base, tag, str(arr.dtype), repr(arr.shape)):
            h.update(part.encode())
            h.update(b"\0")
        h.update(arr.tobytes())
        return np.random.default_rng(np.frombuffer(h.digest(), dtype=np.uint32))

    def rows_rng(self, tag: str, mask: np.ndarray) -> np.random.Generator:
        """A generator for the rows where ``mask`` is true (boolean, one per row)."""
        mask = np.asarray(mask, dtype=bool)
        return self.rng(f"{tag}:{len(mask)}", np.packbits(mask))


def check_auc_probs(probs: np.ndarray | None, label: str = "probs", hint: str = "") -> None:
    """roc_auc needs binary probabilities ``label`` of shape [n, 2]; ``hint`` ends the
    message when they are missing."""
    if probs is None:
        raise ValueError(f"Metric roc_auc requires access to probs{hint}.")
    if probs.shape[1] != 2:
        raise ValueError(
            "Metric roc_auc is currently only defined for binary problems: expected "
            f"{label} of shape [n, 2], got {probs.shape}."
        )


def slices_of(S: Any, golds: Any) -> tuple[list[str], np.ndarray]:
    """The slice names and (n, k) membership of ``S``, once ``golds`` are known non-empty."""
    names, M = as_membership(S)
    if golds is None or len(golds) == 0:
        raise ValueError("Cannot score empty labels")
    if not names:  # no slice: nothing says how many rows S has
        M = np.zeros((len(golds), 0), dtype=bool)
    return names, M


def lengths_message(lengths: Mapping[str, int]) -> str:
    """The message for arrays of different lengths, in Snorkel's wording.

    Examples
    --------
    >>> lengths_message({"S": 3, "golds": 4})
    'S and golds must have the same number of elements: S has 3, golds has 4. Compute them on the same rows.'
    """
    names = list(lengths)
    if len(names) <= 2:
        listed = " and ".join(names)
    else:  # Snorkel's wording: "S, golds, preds, and probs"
        listed = ", ".join(names[:-1]) + ", and " + names[-1]
    parts = ", ".join(f"{k} has {v}" for k, v in lengths.items())
    return (
        f"{listed} must have the same number of elements: {parts}. "
        "Compute them on the same rows."
    )


def check_same_length(**arrays: Any) -> None:
    """Every given array (or row count) has the same length; ``None`` entries are skipped.

    Examples
    --------
    >>> check_same_length(S=3, golds=[1, 0, 1], preds=None)
    >>> check_same_length(golds=[1, 0], preds=[1])
    Traceback (most recent call last):
    ...
    ValueError: golds and preds must have the same number of elements: golds has 2, preds has 1. Compute them on the same rows.
    """
    lengths = {name: value if isinstance(value, int) else len(value)
               for name, value in arrays.items() if value is not None}
    if len(set(lengths.values())) > 1:
        raise ValueError(lengths_message(lengths))


def as_probs(probs: Any, argument: str = "probs") -> np.ndarray | None:
    """``probs`` as a 2-D float array (``None`` stays ``None``)."""
    if probs is None:
        return None
    probs = np.asarray(probs, dtype=float)
    if probs.ndim != 2:
        raise ValueError(
            f"{argument} must have shape [n, n_classes], got {probs.shape}; build it with "
            "preds_to_probs(preds, n_classes) or model.predict_proba(X)."
        )
    return probs


def check_labels(
    golds: Any, preds: Any = None, probs: Any = None, *, S_len: int | None = None,
    probs_metrics: Sequence[str] = (),
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Labels as integer arrays and ``probs`` as a 2-D float array, all of one length.

    ``S_len`` is the row count of the slice membership, if any; ``probs_metrics`` the
    probability metrics to be scored (their ``probs`` rows must sum to 1). When none is,
    ``probs`` is only made an array, of any shape (Snorkel passes 1-D probabilities to
    custom metrics).
    """
    golds = to_int_label_array(golds)
    if preds is not None:
        preds = to_int_label_array(preds)
    if probs_metrics:
        probs = as_probs(probs)
    elif probs is not None:
        probs = np.asarray(probs)
    check_same_length(S=S_len, golds=golds, preds=preds, probs=probs)
    if probs is not None and probs_metrics:
        sums = probs.sum(axis=1)
        bad = np.flatnonzero(~(np.abs(sums - 1) <= 1e-4))  # NaN rows are bad too
        if len(bad):
            raise ValueError(
                f"probs rows must sum to 1 for {list(probs_metrics)}"
                f": row {int(bad[0])} sums to {sums[bad[0]]:.6g} ({len(bad)} rows off). "
                "Pass probabilities (e.g. softmax outputs), not scores."
            )
    return golds, preds, probs
