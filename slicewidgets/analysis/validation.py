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
import pandas as pd

from slicewidgets.membership import as_membership
from slicewidgets.utils import to_int_label_array

__all__ = [
    "as_probs",
    "check_aligned",
    "check_auc_probs",
    "check_confidence",
    "check_labels",
    "check_n_boot",
    "check_options",
    "check_same_length",
    "label_array",
    "lengths_message",
    "make_rng",
    "SliceSeeds",
    "probs_tolerance",
    "slices_of",
]

#: What ``random_state`` accepts (``None``: a fixed default seed, so reports are reproducible).
RandomState = int | np.random.SeedSequence | np.random.Generator | None

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


def make_rng(random_state: RandomState) -> np.random.Generator:
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

    def __init__(self, random_state: RandomState = None) -> None:
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


def check_aligned(**inputs: Any) -> None:
    """Inputs that carry a pandas index (Series, DataFrames) carry the same one, in one order.

    Rows are paired by position (as scikit-learn and Snorkel do). A ``golds`` Series whose index
    is in another order than ``S``'s would silently pair one row's label with another row's
    slice membership, so this raises instead, naming the arguments. The pandas masks inside
    a dict ``S`` (``{"short": df["short"]}``) are checked too, as ``S['short']``. Plain
    arrays and lists carry no index and are taken in the order given.

    Examples
    --------
    >>> check_aligned(golds=pd.Series([1, 0], index=[7, 8]), preds=[1, 0])
    >>> check_aligned(golds=pd.Series([1, 0], index=[7, 8]),
    ...               preds=pd.Series([0, 1], index=[8, 7]))
    Traceback (most recent call last):
    ...
    ValueError: golds and preds are pandas objects with different indexes: golds's index starts [7, 8], preds's index starts [8, 7] (the same labels in another order). Rows are paired by position, so they would be mismatched. Put them in one order first, e.g. preds = preds.reindex(golds.index), or pass preds.to_numpy() if its rows are already in golds's order.
    """
    indexed = []
    for name, value in inputs.items():
        if isinstance(value, (pd.Series, pd.DataFrame)):
            indexed.append((name, value.index))
        elif isinstance(value, Mapping):  # a dict of masks: each pandas mask has an index
            indexed.extend((f"{name}[{str(key)!r}]", mask.index) for key, mask in value.items()
                           if isinstance(mask, (pd.Series, pd.DataFrame)))
    if len(indexed) < 2:
        return
    first, ref = indexed[0]
    for name, index in indexed[1:]:
        if index.equals(ref):
            continue
        if len(index) != len(ref):
            return  # check_same_length names the lengths
        how = ("the same labels in another order" if ref.is_unique and index.is_unique
               and set(ref) == set(index) else "different labels")
        raise ValueError(
            f"{first} and {name} are pandas objects with different indexes: {first}'s index "
            f"starts {_head(ref)}, {name}'s index starts {_head(index)} ({how}). Rows are "
            "paired by position, so they would be mismatched. Put them in one order first, "
            f"e.g. {name} = {name}.reindex({first}.index), or pass {name}.to_numpy() if its "
            f"rows are already in {first}'s order."
        )


def _head(index: pd.Index, n: int = 3) -> str:
    items = [item.item() if isinstance(item, np.generic) else item for item in index[:n]]
    return repr(items)[:-1] + (", ...]" if len(index) > n else "]")


def label_array(values: Any, argument: str = "golds") -> np.ndarray:
    """``values`` as a 1-D ``int64`` label array; the error names ``argument`` and what is wrong
    (strings, missing values, non-integer numbers) and how to fix it.

    Examples
    --------
    >>> label_array(["spam", "ham"], "golds")
    Traceback (most recent call last):
    ...
    ValueError: golds must hold integer class labels, but it holds strings (e.g. 'spam', 'ham'); map them to integers first, e.g. golds = (golds == 'spam').astype(int), or golds = pd.factorize(golds)[0].
    """
    try:
        return to_int_label_array(values)
    except ValueError as err:
        raise ValueError(_label_problem(values, argument) or f"{argument}: {err}") from err


def _label_problem(values: Any, argument: str) -> str | None:
    flat = np.asarray(values, dtype=object).ravel()
    missing = np.asarray(pd.isna(flat), dtype=bool)
    if missing.any():
        rows = np.flatnonzero(missing)
        return (
            f"{argument} has {len(rows)} missing value{'s' if len(rows) > 1 else ''} "
            f"(NaN/NA, first at row {int(rows[0])}); labels must be integers. Drop those rows, "
            f"or mark them as abstains: {argument} = {argument}.fillna(-1) (rows with the "
            "scorer's abstain label, -1 by default, are not scored)."
        )
    strings = [v for v in flat if isinstance(v, (str, bytes))]
    if strings:
        examples = list(dict.fromkeys(strings))[:2]
        shown = ", ".join(repr(v) for v in examples)
        return (
            f"{argument} must hold integer class labels, but it holds strings (e.g. {shown}); "
            f"map them to integers first, e.g. {argument} = ({argument} == {examples[0]!r})"
            f".astype(int), or {argument} = pd.factorize({argument})[0]."
        )
    for i, v in enumerate(flat):
        if isinstance(v, (float, np.floating)) and not float(v).is_integer():
            return (
                f"{argument} must hold integer class labels, but row {i} is {v!r}; pass "
                "predicted classes (e.g. probs.argmax(axis=1), or (p >= 0.5).astype(int)), "
                "not scores or probabilities."
            )
    return None


def probs_tolerance(dtype: np.dtype, n_classes: int) -> float:
    """How far a row of ``probs`` of this dtype may sum from 1: 1e-4, or the rounding of
    ``n_classes`` values of a low-precision float (float16 softmax outputs)."""
    if np.issubdtype(dtype, np.floating):
        return max(1e-4, float(np.finfo(dtype).eps) * max(n_classes, 2))
    return 1e-4


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
    check_aligned(golds=golds, preds=preds, probs=probs)
    golds = label_array(golds, "golds")
    if preds is not None:
        preds = label_array(preds, "preds")
    given = probs.dtype if isinstance(probs, np.ndarray) else np.dtype(float)
    if probs_metrics:
        probs = as_probs(probs)
    elif probs is not None:
        probs = np.asarray(probs)
    check_same_length(S=S_len, golds=golds, preds=preds, probs=probs)
    if probs is not None and probs_metrics:
        if probs.shape[1] == 1:
            raise ValueError(
                f"probs has one column (shape {probs.shape}), but {list(probs_metrics)} need "
                "one column per class whose rows sum to 1; for a binary model's positive-class "
                "probability p pass np.column_stack([1 - p, p])."
            )
        sums = probs.sum(axis=1)
        tol = probs_tolerance(given, probs.shape[1])
        bad = np.flatnonzero(~(np.abs(sums - 1) <= tol))  # NaN rows are bad too
        if len(bad):
            raise ValueError(
                f"probs rows must sum to 1 for {list(probs_metrics)}"
                f": row {int(bad[0])} sums to {sums[bad[0]]:.6g} ({len(bad)} rows off). "
                "Pass probabilities (e.g. softmax outputs), not scores."
            )
    return golds, preds, probs
