"""Metrics by name (slicewidgets/analysis/metrics.py), with Snorkel's test_metrics cases."""

from __future__ import annotations

import numpy as np
import pytest

from slicewidgets.analysis import METRICS, metric_score
from slicewidgets.analysis.metrics import PROPORTION_METRICS, Metric

GOLDS = np.array([0, 0, 0, 1, 1])
PREDS = np.array([1, 1, 0, 0, 1])


def test_accuracy_basic():
    assert metric_score(np.array([0, 0, 0, 1, 1]), np.array([0, 0, 0, 1, 0]),
                        metric="accuracy") == pytest.approx(0.8)
    assert metric_score([0, 1], [0, 1]) == 1.0  # lists and the default metric


def test_bad_inputs():
    with pytest.raises(ValueError, match="^Input contains at least one non-integer value"):
        metric_score(GOLDS, np.array([0, 0, 0, 1, 0.5]), metric="accuracy")
    with pytest.raises(ValueError, match="^Input could not be converted to 1d np.array"):
        metric_score(GOLDS, np.array([[0, 0, 0, 1, 0], [0, 0, 0, 1, 0]]), metric="accuracy")
    with pytest.raises(ValueError, match=r"^The metric you provided \(bad_metric\) is not "
                                         r"currently implemented; choose one of \['accuracy', "):
        metric_score(GOLDS, GOLDS, metric="bad_metric")
    with pytest.raises(ValueError, match=r"^filter_dict must only include keys in \['golds', "
                                         r"'preds', 'probs'\], got \['gold'\]\.$"):
        metric_score(GOLDS, PREDS, filter_dict={"gold": [-1]})


def test_missing_inputs():
    with pytest.raises(ValueError, match="^Metric accuracy requires access to preds.$"):
        metric_score(GOLDS, metric="accuracy")
    with pytest.raises(ValueError, match="^Metric roc_auc requires access to probs.$"):
        metric_score(GOLDS, PREDS, metric="roc_auc")


def test_ignores():
    golds = np.array([0, 0, 0, 1, 1])
    preds = np.array([0, -1, 0, 1, 0])
    assert metric_score(golds, preds, metric="accuracy") == pytest.approx(0.6)
    assert metric_score(golds, preds, metric="accuracy",
                        filter_dict={"preds": [-1]}) == pytest.approx(0.75)
    assert metric_score(golds, preds, metric="accuracy",
                        filter_dict={"golds": [0]}) == pytest.approx(0.5)
    assert metric_score(golds, preds, metric="accuracy",
                        filter_dict={"golds": [1], "preds": [-1]}) == pytest.approx(1.0)


def test_coverage():
    golds = np.array([1, 1, 1, 1, 2])
    preds = np.array([-1, -1, 0, 0, 0])
    assert metric_score(golds, preds, metric="coverage") == pytest.approx(0.6)
    assert metric_score(golds, preds, metric="coverage",
                        filter_dict={"golds": [2]}) == pytest.approx(0.5)


def test_precision_recall_f1_fbeta_matthews():
    assert metric_score(GOLDS, PREDS, metric="precision") == pytest.approx(1 / 3)
    assert metric_score(GOLDS, PREDS, metric="recall") == pytest.approx(0.5)
    assert metric_score(GOLDS, PREDS, metric="f1") == pytest.approx(0.4)
    assert metric_score(GOLDS, PREDS, metric="fbeta", beta=2) == pytest.approx(5 / 11)
    assert metric_score(GOLDS, PREDS, metric="matthews_corrcoef") == pytest.approx(-1 / 6)
    assert metric_score(np.array([0, 0, 0, 0, 1]), np.array([1, 0, 0, 0, 0]),
                        metric="matthews_corrcoef") == pytest.approx(-0.25)


def test_f1_multiclass():
    golds, preds = np.array([0, 1, 2, 2]), np.array([0, 1, 1, 2])
    with pytest.raises(ValueError, match="^f1 not supported for multiclass. Try f1_micro or "
                                         "f1_macro instead.$"):
        metric_score(golds, preds, metric="f1")
    assert metric_score(golds, preds, metric="f1_micro") == pytest.approx(0.75)
    assert metric_score(golds, preds, metric="f1_macro") == pytest.approx(7 / 9)


def test_roc_auc():
    golds = np.array([0, 0, 1, 1, 1])
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.55, 0.45], [0.2, 0.8], [0.3, 0.7]])
    assert metric_score(golds, probs=probs, metric="roc_auc") == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"^Metric roc_auc is currently only defined for binary "
                                         r"problems: expected probs of shape \[n, 2\], got "
                                         r"\(5, 3\)\.$"):
        metric_score(golds, probs=np.full((5, 3), 1 / 3), metric="roc_auc")


def test_metric_table():
    assert sorted(METRICS) == sorted([
        "accuracy", "coverage", "precision", "recall", "f1", "f1_micro", "f1_macro", "fbeta",
        "matthews_corrcoef", "roc_auc"])
    assert isinstance(METRICS["roc_auc"], Metric)
    assert list(METRICS["roc_auc"].inputs) == ["golds", "probs"]
    assert list(METRICS["coverage"].inputs) == ["preds"]
    assert set(PROPORTION_METRICS) <= set(METRICS)


# -- clear errors (issue #14) ----------------------------------------------------------------------
def test_labels_one_and_two_with_f1_say_to_map_them_to_0_1():
    golds, preds = np.array([1, 2, 1, 2]), np.array([1, 2, 2, 2])
    with pytest.raises(ValueError, match=r"^Metric f1 needs 0/1 labels \(1 is the positive "
                                         r"class\), but golds and preds hold \[1, 2\]; map them to "
                                         r"0/1 first, e\.g\. golds = \(golds == 2\)\.astype\(int\)"):
        metric_score(golds, preds, metric="f1")
    assert metric_score((golds == 2).astype(int), (preds == 2).astype(int),
                        metric="f1") == pytest.approx(0.8)


@pytest.mark.parametrize("metric", ["precision", "recall", "fbeta"])
def test_multiclass_with_a_binary_only_metric_names_the_metric(metric):
    golds, preds = np.array([0, 1, 2, 1]), np.array([0, 1, 2, 2])
    with pytest.raises(ValueError, match=rf"^Metric {metric} is defined for binary 0/1 labels, "
                                         r"but golds and preds hold 3 classes \[0, 1, 2\]; use "
                                         r"f1_micro or f1_macro"):
        metric_score(golds, preds, metric=metric, beta=1) if metric == "fbeta" else \
            metric_score(golds, preds, metric=metric)


def test_roc_auc_with_multiclass_golds_or_one_column_probs():
    with pytest.raises(ValueError, match=r"golds hold 3 classes \[0, 1, 2\] but probs has 2 "
                                         r"columns"):
        metric_score(np.array([0, 1, 2, 1]), probs=np.full((4, 2), 0.5), metric="roc_auc")
    with pytest.raises(ValueError, match=r"got \(4, 1\): probs has one column\. Pass one column "
                                         r"per class, e\.g\. np\.column_stack\(\[1 - p, p\]\)"):
        metric_score(np.array([0, 1, 1, 0]), probs=np.array([[0.2], [0.9], [0.7], [0.1]]),
                     metric="roc_auc")


def test_a_user_metrics_own_warnings_reach_the_user_on_every_call():
    import warnings

    from slicewidgets.analysis import Scorer

    calls = []

    def noisy(golds, preds, _):
        calls.append(len(golds))
        warnings.warn("my metric: 3 rows had no label", UserWarning, stacklevel=1)
        return float(np.mean(golds == preds))

    golds = np.array([0, 1] * 20)
    S = {"first": np.arange(40) < 10, "zeros": golds == 0}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Scorer([], custom_metric_funcs={"noisy": noisy}).slice_report(
            S, golds, golds, n_boot=5, random_state=0)
    # before: warnings.simplefilter("ignore") around every call but the first hid all the others
    assert len(calls) > 10
    assert [str(w.message) for w in caught] == ["my metric: 3 rows had no label"] * len(calls)


def test_undefined_metric_warnings_of_a_slice_stay_quiet():
    import warnings

    from sklearn.metrics import precision_score

    from slicewidgets.analysis import Scorer

    golds = np.array([0, 1] * 20)
    preds = np.zeros(40, int)
    preds[:4] = 1  # no predicted positives on rows 20.. : precision is undefined there
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = Scorer([], custom_metric_funcs={"prec": lambda g, p, _: precision_score(g, p)})\
            .slice_report({"late": np.arange(40) >= 20}, golds, preds, n_boot=5, random_state=0)
    assert caught == []
    assert report.to_frame().set_index("slice").loc["late", "score"] == 0.0
