"""Metrics by name (``snorkel.analysis.metrics``): ``metric_score`` and ``METRICS``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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


def _f1_score(golds: np.ndarray, preds: np.ndarray, **kwargs: Any) -> float:
    if golds.max() > 1:
        raise ValueError("f1 not supported for multiclass. Try f1_micro or f1_macro instead.")
    return _sk("f1_score")(golds, preds, **kwargs)


def _f1_micro(golds, preds):
    return _sk("f1_score")(golds, preds, average="micro")


def _f1_macro(golds, preds):
    return _sk("f1_score")(golds, preds, average="macro")


def _roc_auc_score(golds: np.ndarray, probs: np.ndarray) -> float:
    probs = np.asarray(probs)
    if probs.ndim != 2 or probs.shape[1] != 2:
        raise ValueError(
            "Metric roc_auc is currently only defined for binary problems: expected probs of "
            f"shape [n, 2], got {probs.shape}."
        )
    return _sk("roc_auc_score")(golds, probs[:, 1])


METRICS: dict[str, Metric] = {
    "accuracy": Metric(_sk("accuracy_score")),
    "coverage": Metric(_coverage_score, ["preds"]),
    "precision": Metric(_sk("precision_score")),
    "recall": Metric(_sk("recall_score")),
    "f1": Metric(_f1_score),
    "f1_micro": Metric(_f1_micro),
    "f1_macro": Metric(_f1_macro),
    "fbeta": Metric(_sk("fbeta_score")),
    "matthews_corrcoef": Metric(_sk("matthews_corrcoef")),
    "roc_auc": Metric(_roc_auc_score, ["golds", "probs"]),
}

assert set(get_args(MetricName)) == set(METRICS)

#: Metrics that are proportions k/n (Wilson intervals apply).
PROPORTION_METRICS = ("accuracy", "precision", "recall", "coverage")


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
        label_dict = filter_labels(label_dict, filter_dict)
    func, inputs = METRICS[metric]
    label_sets = []
    for name in inputs:
        if label_dict[name] is None:
            raise ValueError(f"Metric {metric} requires access to {name}.")
        label_sets.append(label_dict[name])
    return func(*label_sets, **kwargs)
