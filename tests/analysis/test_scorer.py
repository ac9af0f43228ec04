"""The Scorer (slicewidgets/analysis/scorer.py), with Snorkel's test_scorer cases."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from slicewidgets.analysis import Scorer, metric_score
from slicewidgets.slicing import SliceMembership
from slicewidgets.utils import preds_to_probs

GOLDS = np.array([1, 0, 1, 0, 1])
PREDS = np.array([1, 0, 0, 0, 1])
PROBS = np.array([[0.1, 0.9], [0.8, 0.2], [0.6, 0.4], [0.7, 0.3], [0.2, 0.8]])


# -- Snorkel's test/analysis/test_scorer.py ----------------------------------------------------
def pred_sum(golds, preds, probs):
    return np.sum(preds)


def test_scorer():
    scorer = Scorer(metrics=["accuracy", "f1"], custom_metric_funcs=dict(pred_sum=pred_sum))
    results = scorer.score(np.array([1, 1, 0]), np.array([1, 1, 0]),
                           np.array([[0.1, 0.9], [0.1, 0.9], [0.9, 0.1]]))
    assert results == dict(accuracy=1.0, f1=1.0, pred_sum=2)
    assert list(scorer.metrics) == ["accuracy", "f1", "pred_sum"]


def test_dict_metric():
    def dict_metric(golds, preds, probs):
        return dict(a=1, b=2)

    scorer = Scorer(custom_metric_funcs=dict(dict_metric=dict_metric), metrics=[])
    assert scorer.score(GOLDS, PREDS, PROBS) == dict(a=1, b=2)


def test_invalid_metric():
    with pytest.raises(ValueError, match=r"^Unrecognized metric: f2\. Choose from \["):
        Scorer(metrics=["accuracy", "f2"])


def test_no_metrics():
    assert Scorer(metrics=[]).score(GOLDS, PREDS) == {}
    # as in Snorkel, Scorer() scores nothing but its custom metrics
    assert Scorer().score(GOLDS, PREDS) == {}
    assert Scorer(custom_metric_funcs={"n": lambda g, p, pr: len(g)}).score(GOLDS, PREDS) == {"n": 5}


def test_no_labels():
    with pytest.raises(ValueError, match="^Cannot score empty labels$"):
        Scorer().score(np.array([]), np.array([]))
    with pytest.raises(ValueError, match="^Cannot score empty labels$"):
        Scorer().score_slices({"a": np.array([], bool)}, np.array([]), np.array([]))


def test_no_probs():
    assert Scorer(["accuracy"]).score(GOLDS, PREDS) == {"accuracy": 0.8}


def test_1d_probs_pass_through_when_no_metric_reads_them():
    probs_1d = np.array([0.8, 0.6, 0.9, 0.7, 0.4])
    seen = []
    scorer = Scorer(["accuracy"], custom_metric_funcs={"p": lambda g, p, pr: seen.append(pr) or 1})
    assert scorer.score(GOLDS, PREDS, probs_1d) == {"accuracy": 0.8, "p": 1}
    assert seen[0] is probs_1d  # given to custom metrics as is, like Snorkel
    with pytest.raises(ValueError, match=r"^probs must have shape \[n, n_classes\], got \(5,\)"):
        Scorer(["roc_auc"]).score(GOLDS, PREDS, probs_1d)


def test_abstain_labels():
    golds = np.array([1, 0, 1, 0, -1])
    preds = np.array([1, 0, 1, 1, 0])
    probs = preds_to_probs(preds, 2)
    # no abstain label: every row scored
    assert Scorer(metrics=["accuracy"], abstain_label=None).score(golds, preds, probs) == \
        {"accuracy": 0.6}
    # -1 abstains: the row with gold -1 is ignored
    assert Scorer(metrics=["accuracy"], abstain_label=-1).score(golds, preds, probs) == \
        {"accuracy": 0.75}
    # a custom abstain value: rows with a gold or pred of 0 are ignored (-1 is a label now)
    assert Scorer(metrics=["accuracy"], abstain_label=0).score(golds, preds, probs) == \
        {"accuracy": 1.0}
    # coverage is never filtered and counts preds other than -1
    preds_abstain = np.array([1, -1, 1, 1, 0])
    assert Scorer(metrics=["coverage"]).score(golds, preds_abstain) == {"coverage": 0.8}
    assert Scorer(metrics=["coverage"], abstain_label=0).score(golds, preds_abstain) == \
        {"coverage": 0.8}


def test_score_slices():
    S = np.rec.fromarrays([np.array([1, 1, 1, 0, 0])], names="slice_1")
    scorer = Scorer(metrics=["accuracy"])
    assert scorer.score_slices(S, GOLDS, PREDS, PROBS) == {
        "overall": {"accuracy": 0.8}, "slice_1": {"accuracy": pytest.approx(2 / 3)}}
    table = scorer.score_slices(S, GOLDS, PREDS, PROBS, as_dataframe=True)
    want = pd.DataFrame.from_dict({"overall": {"accuracy": 0.8},
                                   "slice_1": {"accuracy": 2 / 3}}).transpose()
    pd.testing.assert_frame_equal(table, want)
    assert table.index.tolist() == ["overall", "slice_1"] and table.columns.tolist() == [
        "accuracy"]


def test_score_slices_length_mismatch_names_every_length():
    S = np.rec.fromarrays([np.array([1, 1, 1, 0])], names="slice_1")
    with pytest.raises(ValueError, match=r"^S, golds, preds, and probs must have the same number "
                                         r"of elements: S has 4, golds has 5, preds has 5, "
                                         r"probs has 5\. Compute them on the same rows\.$"):
        Scorer().score_slices(S, GOLDS, PREDS, PROBS)
    with pytest.raises(ValueError, match=r"^S, golds, and preds must have the same number of "
                                         r"elements: S has 4, golds has 5, preds has 5\."):
        Scorer().score_slices(S, GOLDS, PREDS)
    with pytest.raises(ValueError, match=r"^golds and preds must have the same number of "
                                         r"elements: golds has 5, preds has 4\."):
        Scorer().score(GOLDS, PREDS[:4])
    with pytest.raises(ValueError, match=r"S\['b'\] has shape \(3,\); expected \(4,\) like the "
                                         r"first slice"):
        Scorer().score_slices({"a": np.ones(4), "b": np.ones(3)}, GOLDS[:4], PREDS[:4])


# -- deliberate divergences --------------------------------------------------------------------
def test_empty_slice_and_all_abstain_slice_get_nan():
    S = {"empty": np.zeros(5, bool), "abstained": np.array([0, 0, 0, 0, 1], bool),
         "ok": np.ones(5, bool)}
    golds = np.array([1, 0, 1, 0, -1])
    scorer = Scorer(metrics=["accuracy", "f1", "coverage"])
    result = scorer.score_slices(S, golds, PREDS)
    assert all(math.isnan(v) for v in result["empty"].values())
    assert math.isnan(result["abstained"]["f1"]) and math.isnan(result["abstained"]["accuracy"])
    assert result["abstained"]["coverage"] == 1.0
    assert result["ok"] == result["overall"]


def test_minus_one_in_S_is_not_membership():
    S = np.rec.fromarrays([np.array([1, -1, -1, -1, 1])], names="s")
    result = Scorer(["accuracy"]).score_slices(S, GOLDS, PREDS)
    assert result["s"]["accuracy"] == 1.0  # rows 0 and 4 only (Snorkel: all five)


def test_probs_are_optional_and_checked_where_needed():
    S = {"s": np.array([1, 1, 0, 0, 1], bool)}
    assert Scorer(metrics=["f1"]).score_slices(S, GOLDS, PREDS)["s"]["f1"] == 1.0
    bad = PROBS * 2
    Scorer(metrics=["f1"]).score_slices(S, GOLDS, PREDS, bad)  # not read: not checked
    with pytest.raises(ValueError, match=r"^probs rows must sum to 1 for \['roc_auc'\]: row 0 "
                                         r"sums to 2 \(5 rows off\)\. Pass probabilities"):
        Scorer(metrics=["roc_auc"]).score_slices(S, GOLDS, PREDS, bad)
    nan = PROBS.copy()
    nan[2] = np.nan
    with pytest.raises(ValueError, match="row 2 sums to nan"):
        Scorer(metrics=["roc_auc"]).score(GOLDS, PREDS, nan)
    with pytest.raises(ValueError, match=r"^probs must have shape \[n, n_classes\], got \(5,\)"):
        Scorer(metrics=["roc_auc"]).score(GOLDS, PREDS, PROBS[:, 1])
    with pytest.raises(ValueError, match="^Metric roc_auc requires access to probs.$"):
        Scorer(metrics=["roc_auc"]).score_slices(S, GOLDS, PREDS)


def test_roc_auc_per_slice_and_nan_where_undefined():
    S = {"mixed": np.array([1, 1, 1, 1, 0], bool), "one_class": np.array([1, 0, 1, 0, 1], bool)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn: "Only one class is present in y_true"
        result = Scorer(metrics=["roc_auc"]).score_slices(S, GOLDS, PREDS, PROBS)
    assert result["overall"]["roc_auc"] == metric_score(GOLDS, probs=PROBS, metric="roc_auc")
    mask = S["mixed"]
    assert result["mixed"]["roc_auc"] == metric_score(GOLDS[mask], probs=PROBS[mask],
                                                      metric="roc_auc")
    assert math.isnan(result["one_class"]["roc_auc"])


def test_dict_metric_per_slice_keeps_its_keys():
    def stats(golds, preds, probs):
        return {"n": float(len(golds)), "pos": float(np.sum(golds))}

    S = {"a": np.array([1, 1, 0, 0, 0], bool), "empty": np.zeros(5, bool)}
    scorer = Scorer(metrics=["accuracy"], custom_metric_funcs={"stats": stats})
    table = scorer.score_slices(S, GOLDS, PREDS, as_dataframe=True)
    assert table.columns.tolist() == ["accuracy", "n", "pos"]
    assert table.loc["a"].tolist() == [1.0, 2.0, 1.0]
    assert table.loc["empty"].isna().all()
    assert table.loc["overall", "n"] == 5.0


def test_multiclass_accuracy_fast_and_f1_raises_like_snorkel():
    golds = np.array([0, 1, 2, 2, 1, -1])
    preds = np.array([0, 2, 2, 2, 1, 0])
    S = {"a": np.array([1, 1, 1, 0, 0, 1], bool)}
    result = Scorer(metrics=["accuracy", "f1_macro"]).score_slices(S, golds, preds)
    assert result["a"]["accuracy"] == pytest.approx(2 / 3)
    assert result["a"]["f1_macro"] == metric_score(golds[:3], preds[:3], metric="f1_macro")
    with pytest.raises(ValueError, match="^f1 not supported for multiclass"):
        Scorer(metrics=["f1"]).score_slices(S, golds, preds)


def test_all_abstained_overall_raises_a_clear_error():
    # Snorkel raises numpy's "zero-size array" / sklearn's "Found empty input array" here
    golds = np.array([-1, -1])
    for metrics in (["f1"], ["accuracy", "f1"]):
        with pytest.raises(ValueError, match=r"^Metric (f1|accuracy) has no rows to score: every "
                                             r"value of golds is in \[-1\] \(the abstain label\), "
                                             r"so all 2 rows are left out\. Score rows that have "
                                             r"labels\.$"):
            Scorer(metrics=metrics).score_slices({"a": np.ones(2, bool)}, golds, np.array([1, 0]))


def test_every_form_of_S_gives_the_same_scores():
    mask = np.array([1, 1, 1, 0, 0])
    scorer = Scorer(metrics=["accuracy", "f1"])
    forms = [
        np.rec.fromarrays([mask], names="s"),
        {"s": mask.astype(bool)},
        pd.DataFrame({"s": mask}),
        pd.DataFrame({"s": pd.array([True, True, True, None, False], dtype="boolean")}),
        SliceMembership(["s"], mask[:, None].astype(bool)),
    ]
    results = [scorer.score_slices(S, GOLDS, PREDS) for S in forms]
    assert all(r == results[0] for r in results)
    with pytest.raises(TypeError, match="^S must be a recarray with one field per slice"):
        scorer.score_slices([mask], GOLDS, PREDS)
    with pytest.raises(TypeError, match=r"S\['s'\] has dtype <U1; expected 0/1 or booleans"):
        scorer.score_slices(np.rec.fromarrays([np.array(list("abcde"))], names="s"), GOLDS,
                            PREDS)


# -- all slices at once == one scikit-learn call per slice -------------------------------------
def _reference(scorer, S, golds, preds, probs):
    """Snorkel's loop, with NaN where a slice has nothing to score or a metric raises."""
    out = {"overall": scorer.score(golds, preds, probs)}
    for j in range(S.shape[1]):
        mask = S[:, j]
        row = {}
        for name, func in scorer.metrics.items():
            if not mask.any():
                row[name] = math.nan
                continue
            valid = mask.copy()
            if name != "coverage" and scorer.abstain_label is not None:
                valid &= (golds != scorer.abstain_label) & (preds != scorer.abstain_label)
            if not valid.any() and name != "coverage":
                row[name] = math.nan
                continue
            try:
                row[name] = func(golds[mask], preds[mask], None)
            except ValueError:
                row[name] = math.nan
        out[f"s{j}"] = row
    return out


def _same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


@settings(max_examples=60, deadline=None)
@given(data=st.integers(1, 80).flatmap(lambda n: st.tuples(
    hnp.arrays(bool, (n, 5)),
    hnp.arrays(np.int64, n, elements=st.integers(-1, 1)),
    hnp.arrays(np.int64, n, elements=st.integers(-1, 1)),
)), abstain=st.sampled_from([-1, None]), multiclass=st.booleans(), fortran=st.booleans())
def test_score_slices_equals_per_slice_scikit_learn(data, abstain, multiclass, fortran):
    M, golds, preds = data
    if multiclass:
        golds = golds * 2  # labels -2, 0, 2: accuracy fast, the rest per slice
        metrics = ["accuracy", "coverage", "f1_micro"]
    else:
        metrics = ["accuracy", "coverage", "precision", "recall", "f1", "matthews_corrcoef"]
    scorer = Scorer(metrics=metrics, abstain_label=abstain)
    M = np.asfortranarray(M) if fortran else M
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            want = _reference(scorer, M, golds, preds, None)
        except ValueError as err:  # the overall row cannot be scored: same error
            with pytest.raises(ValueError, match=str(err)[:20]):
                scorer.score_slices({f"s{j}": M[:, j] for j in range(5)}, golds, preds)
            return
        got = scorer.score_slices(SliceMembership([f"s{j}" for j in range(5)], M), golds, preds)
    assert list(got) == list(want)
    for key in want:
        assert list(got[key]) == list(want[key])
        for metric in want[key]:
            assert _same(got[key][metric], want[key][metric]), (key, metric)


# -- a custom function under a built-in name wins everywhere (review #1) --------------------------
def _every_path(scorer, S, golds, preds):
    """The scores of every path: score, score_slices, slice_report, compare_models (a and b)."""
    from slicewidgets.analysis import compare_models

    out = {"score": scorer.score(golds, preds),
           "score_slices": scorer.score_slices(S, golds, preds)}
    report = scorer.slice_report(S, golds, preds, n_boot=20).to_frame()
    out["slice_report"] = {(r["slice"], r["metric"]): r["score"] for r in report.to_dict("records")}
    cmp = compare_models(S, golds, preds, preds, scorer=scorer, n_boot=20).to_frame()
    out["compare_a"] = {(r["slice"], r["metric"]): r["score_a"] for r in cmp.to_dict("records")}
    out["compare_b"] = {(r["slice"], r["metric"]): r["score_b"] for r in cmp.to_dict("records")}
    return out


@pytest.mark.parametrize("metric", ["accuracy", "coverage", "precision", "recall", "f1",
                                    "matthews_corrcoef", "f1_micro"])
def test_a_custom_function_named_like_a_builtin_metric_is_used_by_every_path(metric):
    calls = []

    def custom(golds, preds, probs):
        calls.append(len(golds))
        return 0.125

    golds = np.array([1, 1, 1, 1, 0, 0, 1, 0])
    preds = np.array([1, 1, 1, 1, 1, 0, -1, 0])
    S = {"all": np.ones(8, bool), "head": np.arange(8) < 5}
    scorer = Scorer(metrics=[metric, "accuracy" if metric != "accuracy" else "coverage"],
                    custom_metric_funcs={metric: custom})
    assert metric not in scorer.builtin_metrics
    paths = _every_path(scorer, S, golds, preds)
    # before: the count paths computed the built-in metric and never called `custom`
    assert paths["score"][metric] == 0.125
    for name in ("overall", "all", "head"):
        assert paths["score_slices"][name][metric] == 0.125
        for key in ("slice_report", "compare_a", "compare_b"):
            assert paths[key][(name, metric)] == 0.125, (key, name)
    assert calls


def test_a_custom_accuracy_gives_snorkels_numbers():
    from sklearn.metrics import balanced_accuracy_score

    SnorkelScorer = pytest.importorskip("snorkel.analysis").Scorer  # noqa: N806

    def balanced(golds, preds, probs):
        return balanced_accuracy_score(golds, preds)

    golds = np.array([1, 1, 1, 1, 0, 0])
    preds = np.array([1, 1, 1, 1, 1, 0])
    S = np.rec.fromarrays([np.ones(6, int), np.array([1, 1, 1, 0, 1, 1])], names="all,some")
    args = dict(metrics=["accuracy"], custom_metric_funcs={"accuracy": balanced})
    want = SnorkelScorer(**args).score_slices(S, golds, preds, np.zeros((6, 2)))
    paths = _every_path(Scorer(**args), S, golds, preds)
    assert paths["score_slices"] == want  # before: 0.833 (the built-in accuracy), not 0.75
    assert paths["score"] == want["overall"]
    for name in want:
        assert paths["slice_report"][(name, "accuracy")] == want[name]["accuracy"]
        assert paths["compare_a"][(name, "accuracy")] == want[name]["accuracy"]


def test_a_builtin_metric_replaced_after_construction_is_used_by_every_path():
    golds, preds = np.array([1, 0, 1, 1]), np.array([1, 0, 0, 1])
    scorer = Scorer(["accuracy", "f1"])
    scorer.metrics["f1"] = lambda golds, preds, probs: 0.5
    assert scorer.builtin_metrics == ("accuracy",)
    paths = _every_path(scorer, {"s": np.array([1, 1, 0, 0], bool)}, golds, preds)
    assert paths["score"] == {"accuracy": 0.75, "f1": 0.5}
    assert paths["score_slices"]["s"] == {"accuracy": 1.0, "f1": 0.5}
    assert paths["slice_report"][("overall", "f1")] == 0.5
    assert paths["compare_a"][("s", "f1")] == 0.5


@pytest.mark.parametrize(("before", "after"), [(-1, None), (None, -1), (-1, 0)])
def test_abstain_label_set_after_construction_is_used_by_every_path(before, after):
    golds = np.array([1, 0, -1, 1, 0, 0])
    preds = np.array([1, 0, 1, 0, -1, 0])
    S = {"all": np.ones(6, bool), "head": np.arange(6) < 4}
    metrics = ["accuracy", "coverage", "f1_micro", "matthews_corrcoef"]
    scorer = Scorer(metrics, abstain_label=before)
    scorer.abstain_label = after
    assert scorer.abstain_label == after
    got = _every_path(scorer, S, golds, preds)
    want = _every_path(Scorer(metrics, abstain_label=after), S, golds, preds)
    # before: the count paths used the new label, the metric functions the old one
    for key in want:
        assert str(got[key]) == str(want[key]), key  # NaN-safe equality of the dicts


# -- no slice: the overall row, as slice_report and compare_models give it (review #8) -----------
@pytest.mark.parametrize("S", [{}, pd.DataFrame(index=range(4)),
                               SliceMembership.from_columns([], [])], ids=["dict", "frame",
                                                                          "membership"])
def test_score_slices_without_slices_scores_overall(S):
    from slicewidgets.analysis import compare_models

    golds, preds = np.array([1, 0, 1, 1]), np.array([1, 0, 0, 1])
    scorer = Scorer(["accuracy", "f1"])
    # before: "S, golds, and preds must have the same number of elements: S has 0"
    assert scorer.score_slices(S, golds, preds) == {"overall": {"accuracy": 0.75, "f1": 0.8}}
    frame = scorer.score_slices(S, golds, preds, as_dataframe=True)
    assert list(frame.index) == ["overall"]
    assert scorer.slice_report(S, golds, preds).overall == {"accuracy": 0.75, "f1": 0.8}
    assert compare_models(S, golds, preds, preds).to_frame()["slice"].tolist() == ["overall"]
