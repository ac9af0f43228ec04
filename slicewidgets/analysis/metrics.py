"""Metrics by name (``snorkel.analysis.metrics``): ``metric_score`` and ``METRICS``."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal, NamedTuple, get_args

import numpy as np
from numpy.typing import ArrayLike

from slicewidgets.utils import filter_labels, to_int_label_array

__all__ = ["METRICS", "Metric", "MetricName", "metric_score"]

#: The names of the built-in metrics (the keys of :data:`METRICS`).
MetricName = Literal[
    "accuracy", "coverage", "precision", "recall", "f1", "f1_micro", "f1_macro", "fbeta",
    "matthews_corrcoef", "roc_auc",
]


class Metric(NamedTuple):
    """A metric function and the label sets it reads (``golds``, ``preds``, ``probs``)."""

    func: Callable[..., float]
    inputs: Sequence[str] = ("golds", "preds")


def _sk(name: str) -> Callable[..., float]:
    def call(*args: Any, **kwargs: Any) -> float:
        import sklearn.metrics

        return getattr(sklearn.metrics, name)(*args, **kwargs)

    call.__name__ = name
    return call


def _coverage_score(preds: np.ndarray) -> float:
    return float(np.sum(preds != -1) / len(preds))


#: Metrics of a positive class: binary 0/1 labels only; their multiclass alternatives.
BINARY_ONLY = {"precision": "f1_micro or f1_macro (or precision of one class against the rest)",
               "recall": "f1_micro or f1_macro (or recall of one class against the rest)",
               "f1": "f1_micro or f1_macro", "fbeta": "f1_micro or f1_macro"}


def _check_binary(metric: str, golds: np.ndarray, preds: np.ndarray) -> None:
    """Positive-class metrics need 0/1 labels: say which labels were found and what to do."""
    labels = np.union1d(np.unique(golds), np.unique(preds))
    if np.isin(labels, [0, 1]).all():
        return
    found = [int(v) for v in labels]
    if len(found) > 2:
        if metric == "f1":  # Snorkel's message
            raise ValueError("f1 not supported for multiclass. Try f1_micro or f1_macro instead.")
        raise ValueError(
            f"Metric {metric} is defined for binary 0/1 labels, but golds and preds hold "
            f"{len(found)} classes {found}; use {BINARY_ONLY[metric]} instead."
        )
    raise ValueError(
        f"Metric {metric} needs 0/1 labels (1 is the positive class), but golds and preds hold "
        f"{found}; map them to 0/1 first, e.g. golds = (golds == {found[-1]}).astype(int) "
        "(and the same for preds)."
    )


def _binary_metric(name: str) -> Callable[..., float]:
    sk = _sk(name + "_score")

    def call(golds: np.ndarray, preds: np.ndarray, **kwargs: Any) -> float:
        _check_binary(name, golds, preds)
        return sk(golds, preds, **kwargs)

    call.__name__ = name
    return call


_f1_score = _binary_metric("f1")


def _f1_micro(golds: np.ndarray, preds: np.ndarray) -> float:
    return _sk("f1_score")(golds, preds, average="micro")


def _f1_macro(golds: np.ndarray, preds: np.ndarray) -> float:
    return _sk("f1_score")(golds, preds, average="macro")


def _roc_auc_score(golds: np.ndarray, probs: np.ndarray) -> float:
    probs = np.asarray(probs)
    if probs.ndim == 2 and probs.shape[1] == 1:
        raise ValueError(
            "Metric roc_auc is currently only defined for binary problems: expected probs of "
            f"shape [n, 2], got {probs.shape}: probs has one column. Pass one column per class, "
            "e.g. np.column_stack([1 - p, p]) for a vector p of P(class 1)."
        )
    if probs.ndim != 2 or probs.shape[1] != 2:
        raise ValueError(
            "Metric roc_auc is currently only defined for binary problems: expected probs of "
            f"shape [n, 2], got {probs.shape}."
        )
    classes = [int(v) for v in np.unique(golds)]
    if not set(classes) <= {0, 1}:
        raise ValueError(
            f"Metric roc_auc is currently only defined for binary problems: golds hold "
            f"{len(classes)} classes {classes} but probs has 2 columns (P(class 0), P(class 1)); "
            "score 0/1 labels, or one class against the rest."
        )
    return _sk("roc_auc_score")(golds, probs[:, 1])


METRICS: dict[str, Metric] = {
    "accuracy": Metric(_sk("accuracy_score")),
    "coverage": Metric(_coverage_score, ["preds"]),
    "precision": Metric(_binary_metric("precision")),
    "recall": Metric(_binary_metric("recall")),
    "f1": Metric(_f1_score),
    "f1_micro": Metric(_f1_micro),
    "f1_macro": Metric(_f1_macro),
    "fbeta": Metric(_binary_metric("fbeta")),
    "matthews_corrcoef": Metric(_sk("matthews_corrcoef")),
    "roc_auc": Metric(_roc_auc_score, ["golds", "probs"]),
}

assert set(get_args(MetricName)) == set(METRICS)


@contextlib.contextmanager
def quiet_resample_warnings() -> Iterator[None]:
    """Silence only the warnings a metric gives on a resample or slice where it is undefined
    (scikit-learn's ``UndefinedMetricWarning``, NumPy's 0/0); a user's metric function keeps
    every other warning it raises."""
    from sklearn.exceptions import UndefinedMetricWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UndefinedMetricWarning)
        warnings.filterwarnings("ignore", category=RuntimeWarning,
                                message=r"(invalid value|divide by zero|Mean of empty slice)")
        yield


#: Metrics that are proportions k/n (Wilson intervals apply).
PROPORTION_METRICS = ("accuracy", "precision", "recall", "coverage")


def _nothing_to_score(metric: str, label_dict: Mapping[str, Any],
                      filter_dict: Mapping[str, Sequence[int]], n: int) -> str:
    for key, values in filter_dict.items():
        if label_dict.get(key) is not None and np.isin(label_dict[key], list(values)).all():
            why = f"every value of {key} is in {list(values)} (the abstain label)"
            break
    else:
        why = f"each row has an abstain label in one of {sorted(filter_dict)}"
    return (f"Metric {metric} has no rows to score: {why}, so all {n} rows are left out. "
            "Score rows that have labels.")


def metric_score(
    golds: ArrayLike | None = None,
    preds: ArrayLike | None = None,
    probs: ArrayLike | None = None,
    metric: MetricName = "accuracy",
    filter_dict: Mapping[str, Sequence[int]] | None = None,
    **kwargs: Any,
) -> float:
    """Evaluate one metric by name.

    Parameters
    ----------
    golds, preds, probs
        Gold labels ``[n]``, predicted labels ``[n]``, predicted probabilities ``[n, k]``.
    metric
        One of ``METRICS`` (accuracy, coverage, precision, recall, f1, f1_micro, f1_macro,
        fbeta, matthews_corrcoef, roc_auc).
    filter_dict
        Rows where an array named here holds one of the listed values are dropped first, e.g.
        ``{"golds": [-1], "preds": [-1]}`` to ignore abstains.
    **kwargs
        Passed to the metric (``beta`` for fbeta).

    Examples
    --------
    >>> round(metric_score(np.array([1, 0, 1]), np.array([1, 1, 1]), metric="accuracy"), 3)
    0.667
    """
    if metric not in METRICS:
        raise ValueError(
            f"The metric you provided ({metric}) is not currently implemented; "
            f"choose one of {sorted(METRICS)}."
        )
    if golds is not None:
        golds = to_int_label_array(golds)
    if preds is not None:
        preds = to_int_label_array(preds)
    label_dict: dict[str, Any] = {"golds": golds, "preds": preds, "probs": probs}
    if filter_dict:
        unknown = set(filter_dict) - set(label_dict)
        if unknown:
            raise ValueError(
                "filter_dict must only include keys in ['golds', 'preds', 'probs'], got "
                f"{sorted(unknown)}."
            )
        n_before = next((len(v) for v in label_dict.values() if v is not None), 0)
        kept = filter_labels(label_dict, filter_dict)
        if n_before and not next((len(v) for v in kept.values() if v is not None), 0):
            raise ValueError(_nothing_to_score(metric, label_dict, filter_dict, n_before))
        label_dict = kept
    func, inputs = METRICS[metric]
    label_sets = []
    for name in inputs:
        if label_dict[name] is None:
            raise ValueError(f"Metric {metric} requires access to {name}.")
        label_sets.append(label_dict[name])
    return func(*label_sets, **kwargs)
