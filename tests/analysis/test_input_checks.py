"""Inputs the analysis API refuses instead of scoring wrongly (issue #14): pandas inputs in
different row orders, a slice named ``overall`` in ``score_slices``, labels that are not integer
classes, one-column probs, and float16 probabilities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from slicewidgets.analysis import Scorer, compare_models, slice_report
from slicewidgets.analysis.validation import check_aligned, probs_tolerance


# -- pandas inputs are paired by position, never silently misaligned -------------------------------
def _shuffled_case():
    """A frame in one row order and golds/preds Series in another: slice ``first`` (rows 0-49)
    is predicted perfectly, the rest never."""
    index = pd.Index(np.arange(100) * 3 + 7)
    S = pd.DataFrame({"first": np.arange(100) < 50}, index=index)
    golds = pd.Series(np.tile([0, 1], 50), index=index)
    preds = golds.where(np.arange(100) < 50, 1 - golds)
    return S, golds, preds


def test_golds_in_another_row_order_than_S_raise_naming_both():
    S, golds, preds = _shuffled_case()
    assert Scorer(["accuracy"]).score_slices(S, golds, preds)["first"]["accuracy"] == 1.0
    shuffled = golds.sample(frac=1, random_state=0)
    shuffled_preds = preds.loc[shuffled.index]
    # before: scored by position, 'first' got an accuracy near 0.5 (the case: 1.0 -> 0.0)
    with pytest.raises(ValueError, match=r"^S and golds are pandas objects with different "
                                         r"indexes: S's index starts \[7, 10, 13, \.\.\.\], "
                                         r"golds's index starts \[\d+, \d+, \d+, \.\.\.\] \(the "
                                         r"same labels in another order\)\. Rows are paired by "
                                         r"position.*golds = golds\.reindex\(S\.index\)"):
        Scorer(["accuracy"]).score_slices(S, shuffled, shuffled_preds)
    with pytest.raises(ValueError, match="^S and golds are pandas objects"):
        slice_report(None, S, shuffled, shuffled_preds)
    with pytest.raises(ValueError, match="^S and preds_b are pandas objects"):
        compare_models(S, golds, preds.to_numpy(), shuffled_preds)
    # the fix the message gives yields the true number
    fixed = Scorer(["accuracy"]).score_slices(S, shuffled.reindex(S.index),
                                              shuffled_preds.reindex(S.index))
    assert fixed["first"]["accuracy"] == 1.0
    report = slice_report(None, S, shuffled.reindex(S.index), shuffled_preds.reindex(S.index))
    assert report.to_frame().set_index("slice").loc["first", "score"] == 1.0


def test_golds_and_preds_series_in_different_orders_raise_in_score():
    golds = pd.Series([1, 1, 0, 0], index=["a", "b", "c", "d"])
    preds = golds[::-1]
    with pytest.raises(ValueError, match=r"^golds and preds are pandas objects with different "
                                         r"indexes: golds's index starts \['a', 'b', 'c', "
                                         r"\.\.\.\], preds's index starts \['d', 'c', 'b', "
                                         r"\.\.\.\]"):
        Scorer(["accuracy"]).score(golds, preds)
    other = pd.Series([1, 1, 0, 0], index=["w", "x", "y", "z"])
    with pytest.raises(ValueError, match=r"\(different labels\)"):
        Scorer(["accuracy"]).score(golds, other)


def test_plain_arrays_beside_indexed_inputs_are_taken_by_position():
    S, golds, preds = _shuffled_case()
    assert Scorer(["accuracy"]).score_slices(
        S, golds.to_numpy(), preds.to_numpy())["first"]["accuracy"] == 1.0
    # a shuffled Series with plain arrays beside it: nothing to compare its index with
    shuffled = golds.sample(frac=1, random_state=1)
    assert Scorer(["accuracy"]).score(shuffled, golds.to_numpy())["accuracy"] < 1.0
    check_aligned(S=S, golds=golds, preds=list(preds), probs=None)


# -- reserved names ----------------------------------------------------------------------------
def test_a_slice_named_overall_is_refused_by_score_slices_unless_it_is_every_row():
    golds = np.array([1, 0] * 20)
    preds = np.where(np.arange(40) < 10, golds, 1 - golds)
    S = pd.DataFrame({"overall": np.arange(40) < 10, "tail": np.arange(40) >= 30})
    # before: the slice's accuracy (1.0) silently replaced the overall one (0.25)
    with pytest.raises(ValueError, match=r"^A slice is named 'overall' but holds 10 of 40 rows; "
                                         r"score_slices' 'overall' row is all the rows.*Rename "
                                         r"the slice"):
        Scorer(["accuracy"]).score_slices(S, golds, preds)
    with pytest.raises(ValueError, match="A slice is named 'overall'"):
        Scorer(["accuracy"]).score_slices({"overall": np.arange(40) < 10}, golds, preds,
                                          as_dataframe=True)
    # an 'overall' slice of every row has the overall row's scores: nothing is replaced
    every = Scorer(["accuracy"]).score_slices({"overall": np.ones(40, bool), "tail": S["tail"]},
                                              golds, preds)
    assert every == {"overall": {"accuracy": 0.25}, "tail": {"accuracy": 0.0}}


# -- labels that are not integer classes --------------------------------------------------------
def test_string_labels_name_the_argument_and_the_fix():
    with pytest.raises(ValueError, match=r"^golds must hold integer class labels, but it holds "
                                         r"strings \(e\.g\. 'spam', 'ham'\); map them to integers "
                                         r"first, e\.g\. golds = \(golds == 'spam'\)\.astype\(int\)"):
        Scorer(["accuracy"]).score(np.array(["spam", "ham", "spam"]), np.array([1, 0, 1]))
    with pytest.raises(ValueError, match=r"^preds must hold integer class labels, but it holds "
                                         r"strings"):
        slice_report(None, {"a": [1, 0, 1]}, [1, 0, 1], pd.Series(["yes", "no", "yes"]))
    with pytest.raises(ValueError, match=r"^preds_a must hold integer class labels"):
        compare_models({"a": [1, 0, 1]}, [1, 0, 1], ["x", "y", "x"], [1, 0, 1])


@pytest.mark.parametrize("golds", [
    np.array([0, 1, np.nan, 1, np.nan]),
    pd.array([0, 1, None, 1, None], dtype="Int64"),
    pd.Series([0, 1, None, 1, None], dtype="object"),
], ids=["nan", "Int64-NA", "object-None"])
def test_missing_labels_are_named_with_their_row(golds):
    with pytest.raises(ValueError, match=r"^golds has 2 missing values \(NaN/NA, first at row "
                                         r"2\); labels must be integers\. Drop those rows, or mark "
                                         r"them as abstains: golds = golds\.fillna\(-1\)"):
        Scorer(["accuracy"]).score_slices({"a": np.ones(5, bool)}, golds, np.ones(5, int))


def test_scores_given_as_labels_are_named():
    with pytest.raises(ValueError, match=r"^preds must hold integer class labels, but row 1 is "
                                         r"0\.7; pass predicted classes"):
        Scorer(["accuracy"]).score(np.array([0, 1, 1]), np.array([0.0, 0.7, 1.0]))


# -- probabilities -------------------------------------------------------------------------------
def test_one_column_probs_say_so():
    golds = np.array([0, 1, 1, 0])
    p = np.array([[0.2], [0.9], [0.7], [0.1]])
    # before: "probs rows must sum to 1 ... row 0 sums to 0.2"
    with pytest.raises(ValueError, match=r"^probs has one column \(shape \(4, 1\)\), but "
                                         r"\['roc_auc'\] need one column per class.*"
                                         r"np\.column_stack\(\[1 - p, p\]\)"):
        Scorer(["roc_auc"]).score(golds, probs=p)
    assert Scorer(["roc_auc"]).score(golds, probs=np.column_stack([1 - p[:, 0], p[:, 0]])) == {
        "roc_auc": 1.0}


def test_float16_softmax_passes_with_a_tolerance_set_by_dtype():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(400, 2)).astype(np.float16)
    e = np.exp(logits)
    probs16 = (e / e.sum(axis=1, keepdims=True)).astype(np.float16)
    assert np.abs(probs16.astype(float).sum(axis=1) - 1).max() > 1e-4  # the old tolerance
    golds = rng.integers(0, 2, 400)
    expected = roc_auc_score(golds, probs16[:, 1].astype(float))
    assert Scorer(["roc_auc"]).score(golds, probs=probs16) == {"roc_auc": expected}
    assert probs_tolerance(np.dtype(np.float16), 2) == pytest.approx(2 ** -10 * 2)
    assert probs_tolerance(np.dtype(np.float64), 2) == 1e-4
    # float64 keeps the 1e-4 tolerance: scores that are not probabilities are still refused
    with pytest.raises(ValueError, match=r"probs rows must sum to 1 for \['roc_auc'\]: row 0"):
        Scorer(["roc_auc"]).score(golds[:2], probs=np.array([[0.5, 0.4998], [0.5, 0.5]]))


# -- a dict of pandas masks is index-checked like a DataFrame (review #2) -------------------------
def _dict_case():
    df = pd.DataFrame({"label": [1, 1, 0, 0, 1, 0], "pred": [1, 1, 0, 0, 0, 1],
                       "short": [True, True, False, False, False, False]})
    return df, df.sample(frac=1, random_state=0)  # test: index [5, 2, 1, 3, 0, 4]


def test_a_dict_of_series_masks_in_another_order_than_the_labels_raises():
    df, test = _dict_case()
    S = {"short": df["short"]}
    msg = (r"^S\['short'\] and golds are pandas objects with different indexes: S\['short'\]'s "
           r"index starts \[0, 1, 2, \.\.\.\], golds's index starts \[5, 2, 1, \.\.\.\]")
    # before: paired by position, 'short' scored 0.5 (its true accuracy is 1.0)
    with pytest.raises(ValueError, match=msg):
        Scorer(["accuracy"]).score_slices(S, test["label"], test["pred"])
    with pytest.raises(ValueError, match=msg):
        slice_report(None, S, test["label"], test["pred"])
    with pytest.raises(ValueError, match=msg):
        compare_models(S, test["label"], test["pred"], test["pred"])
    with pytest.raises(ValueError, match=r"^S\['short'\] and preds are pandas objects"):
        Scorer(["accuracy"]).score_slices(S, df["label"].to_numpy(), test["pred"])
    # in one order (or plain arrays beside it), the true number
    assert Scorer(["accuracy"]).score_slices(S, df["label"], df["pred"])["short"] == {
        "accuracy": 1.0}
    assert Scorer(["accuracy"]).score_slices(
        S, df["label"].to_numpy(), df["pred"].to_numpy())["short"] == {"accuracy": 1.0}
    assert compare_models(S, df["label"], df["pred"], df["pred"]).to_frame()[
        "score_a"].tolist() == [2 / 3, 1.0]


def test_series_masks_of_one_dict_in_different_orders_raise():
    df, test = _dict_case()
    S = {"short": df["short"], "long": ~test["short"]}
    with pytest.raises(ValueError, match=r"^S\['short'\] and S\['long'\] are pandas objects "
                                         r"with different indexes"):
        Scorer(["accuracy"]).score_slices(S, df["label"].to_numpy(), df["pred"].to_numpy())


# -- duplicate slice names (review #4) ----------------------------------------------------------
@pytest.mark.parametrize("S", [
    pd.concat([pd.DataFrame({"short": [1, 1, 1, 0, 0, 0]}),
               pd.DataFrame({"short": [0, 0, 0, 1, 1, 1]})], axis=1),
    {1: np.arange(6) < 3, "1": np.arange(6) >= 3},
    pd.DataFrame({1: np.arange(6) < 3, "1": np.arange(6) >= 3}),
], ids=["concat", "dict 1 and '1'", "frame 1 and '1'"])
def test_duplicate_slice_names_raise_naming_them(S):
    golds = np.array([1, 0, 1, 1, 0, 1])
    preds = np.array([1, 0, 1, 0, 1, 0])
    name = "short" if isinstance(S, pd.DataFrame) and "short" in S.columns else "1"
    msg = rf"^S has duplicate slice names \['{name}'\]: each slice needs its own name"
    # before: score_slices kept one of the two (short: 0.0; the 1.0 slice was gone)
    with pytest.raises(ValueError, match=msg):
        Scorer(["accuracy"]).score_slices(S, golds, preds)
    with pytest.raises(ValueError, match=msg):
        slice_report(None, S, golds, preds)
    with pytest.raises(ValueError, match=msg):
        compare_models(S, golds, preds, preds)


# -- nullable masks in a dict (review #9) -------------------------------------------------------
def test_a_nullable_boolean_mask_in_a_dict_reads_na_as_not_a_member():
    golds, preds = np.array([1, 0, 1, 1]), np.array([1, 0, 0, 1])
    mask = pd.Series([True, pd.NA, False, True], dtype="boolean")
    scorer = Scorer(["accuracy"])
    want = scorer.score_slices(pd.DataFrame({"s": mask}), golds, preds)
    assert want["s"] == {"accuracy": 1.0}
    # before: TypeError "S['s'] has dtype object; expected 0/1 or booleans"
    assert scorer.score_slices({"s": mask}, golds, preds) == want
    assert scorer.score_slices({"s": pd.Series([1, pd.NA, 0, 1], dtype="Int64")}, golds,
                               preds) == want
    assert slice_report(scorer, {"s": mask}, golds, preds).to_frame()["n"].tolist() == [4, 2]
