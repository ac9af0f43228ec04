"""Per-slice counts and metrics for all slices at once (slicewidgets/analysis/_fast.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from slicewidgets.analysis._fast import (
    BLOCK_ROWS,
    COUNT_NAMES,
    _bit_counts,
    _blocked_counts,
    _indicators,
    is_binary,
    metric_from_counts,
    overall_counts,
    row_indicators,
    slice_counts,
)


def _brute(M, golds, preds, abstain):
    out = {k: [] for k in ("size", "n_valid", "correct", "tp", "fp", "fn", "tn",
                           "pred_nonabstain")}
    for j in range(M.shape[1]):
        g, p = golds[M[:, j]], preds[M[:, j]]
        valid = np.ones(len(g), bool) if abstain is None else (g != abstain) & (p != abstain)
        gv, pv = g[valid], p[valid]
        out["size"].append(len(g))
        out["n_valid"].append(len(gv))
        out["correct"].append(int((gv == pv).sum()))
        out["tp"].append(int(((gv == 1) & (pv == 1)).sum()))
        out["fp"].append(int(((gv != 1) & (pv == 1)).sum()))
        out["fn"].append(int(((gv == 1) & (pv != 1)).sum()))
        out["tn"].append(int(((gv != 1) & (pv != 1)).sum()))
        out["pred_nonabstain"].append(int((p != -1).sum()))
    return {k: np.array(v, dtype=np.int64) for k, v in out.items()}


cases = st.integers(0, 90).flatmap(lambda n: st.tuples(
    hnp.arrays(bool, (n, 4)),
    hnp.arrays(np.int64, n, elements=st.integers(-1, 2)),
    hnp.arrays(np.int64, n, elements=st.integers(-1, 2)),
    st.sampled_from([-1, None, 2]),
))


@settings(max_examples=150, deadline=None)
@given(case=cases)
def test_slice_counts_equal_brute_force_in_both_layouts(case):
    M, golds, preds, abstain = case
    want = _brute(M, golds, preds, abstain)
    for layout in (np.ascontiguousarray(M), np.asfortranarray(M)):
        got = slice_counts(layout, golds, preds, abstain)
        assert {k: v.tolist() for k, v in got.items()} == {k: v.tolist() for k, v in want.items()}
        assert all(v.dtype == np.int64 for v in got.values())


def test_both_count_kernels_agree_beyond_one_word_and_one_block():
    rng = np.random.default_rng(0)
    for n in (1, 63, 64, 65, 1000, BLOCK_ROWS + 3, 2 * BLOCK_ROWS):
        M = rng.random((n, 7)) < 0.3
        V = _indicators(rng.integers(-1, 2, n), rng.integers(-1, 2, n), -1)
        want = M.T.astype(np.int64) @ V.astype(np.int64)
        np.testing.assert_array_equal(_blocked_counts(M, V), want)
        np.testing.assert_array_equal(_bit_counts(np.asfortranarray(M), V), want)
        # a numeric view counts positive values: -1 and 0 are not members
        raw = np.where(M, rng.integers(1, 3, M.shape), rng.integers(-1, 1, M.shape))
        np.testing.assert_array_equal(_blocked_counts(raw, V), want)


def test_non_boolean_membership_counts_positive_values():
    M = np.array([[1, -1], [2, 0], [0, 1]])
    c = slice_counts(M, np.array([1, 1, 0]), np.array([1, 0, 0]))
    assert c["size"].tolist() == [2, 1] and c["tp"].tolist() == [1, 0]


def test_overall_counts_equal_a_slice_of_all_rows():
    golds = np.array([1, 0, -1, 1, 0])
    preds = np.array([1, 1, 0, -1, 0])
    whole = slice_counts(np.ones((5, 1), bool), golds, preds)
    assert {k: v.tolist() for k, v in overall_counts(golds, preds).items()} == \
        {k: v.tolist() for k, v in whole.items()}
    assert set(COUNT_NAMES) < set(whole)


def test_shape_errors():
    with pytest.raises(ValueError, match=r"^slice_counts: M must have shape \(n, k\) with n = "
                                         r"len\(golds\) = len\(preds\); got M \(3, 1\), golds "
                                         r"\(2,\), preds \(2,\)\.$"):
        slice_counts(np.ones((3, 1), bool), np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="cannot compute 'roc_auc'"):
        metric_from_counts("roc_auc", overall_counts(np.ones(2), np.ones(2)))


def test_empty_inputs():
    c = slice_counts(np.zeros((0, 2), bool), np.zeros(0, int), np.zeros(0, int))
    assert c["size"].tolist() == [0, 0]
    assert np.isnan(metric_from_counts("accuracy", c)).all()
    assert slice_counts(np.zeros((3, 0), bool), np.ones(3), np.ones(3))["tp"].shape == (0,)


SK = {
    "accuracy": skm.accuracy_score, "precision": skm.precision_score,
    "recall": skm.recall_score, "f1": skm.f1_score,
    "matthews_corrcoef": skm.matthews_corrcoef,
}


@settings(max_examples=60, deadline=None)
@given(labels=st.integers(1, 60).flatmap(lambda n: st.tuples(
    hnp.arrays(np.int64, n, elements=st.integers(0, 1)),
    hnp.arrays(np.int64, n, elements=st.integers(0, 1)),
)))
def test_metrics_from_counts_are_bit_identical_to_scikit_learn(labels):
    golds, preds = labels
    c = overall_counts(golds, preds, None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, func in SK.items():
            assert float(metric_from_counts(name, c)[0]) == func(golds, preds), name
        assert float(metric_from_counts("fbeta", c, beta=2)[0]) == skm.fbeta_score(
            golds, preds, beta=2)
    assert float(metric_from_counts("coverage", c)[0]) == 1.0


def test_metrics_from_counts_nan_where_nothing_to_score_and_any_shape():
    c = slice_counts(np.array([[True, False], [True, False]]), np.array([1, -1]),
                     np.array([-1, 1]))
    assert np.isnan(metric_from_counts("f1", c)).all()
    assert metric_from_counts("coverage", c)[0] == 0.5 and np.isnan(
        metric_from_counts("coverage", c)[1])
    boot = {k: np.stack([v, v]) for k, v in overall_counts(np.array([1, 0]),
                                                           np.array([1, 1])).items()}
    assert metric_from_counts("accuracy", boot).shape == (2, 1)


def test_one_slice_takes_the_bit_kernel_and_indicators_are_column_major(monkeypatch):
    from slicewidgets.analysis import _fast

    rng = np.random.default_rng(3)
    golds, preds = rng.integers(0, 2, 300), rng.integers(-1, 2, 300)
    V = row_indicators(golds, preds)
    assert V.flags.f_contiguous  # each indicator column is contiguous
    one = np.asfortranarray(rng.random((300, 1)) < 0.3)  # C- and F-contiguous at once
    want = slice_counts(np.hstack([one, one]).astype(np.int64), golds, preds)
    monkeypatch.setattr(_fast, "_blocked_counts", None)  # the slow branch must not be taken
    got = slice_counts(one, golds, preds, indicators=V)
    assert {k: v.tolist() for k, v in got.items()} == {k: v[:1].tolist() for k, v in want.items()}
    overall = overall_counts(golds, preds, indicators=V)
    assert overall["size"].tolist() == [300]
    assert overall["n_valid"].tolist() == [int(((golds != -1) & (preds != -1)).sum())]


def test_is_binary_equals_the_elementwise_definition():
    # integer labels take a min/max shortcut when the allowed labels are a range of integers
    rng = np.random.default_rng(0)
    for trial in range(600):
        labels = rng.integers(-3, 4, rng.integers(0, 6))
        abstain = [None, -1, 0, 2, 5, -7][trial % 6]
        for dtype in (np.int64, np.int8, np.uint8, np.float64):
            if dtype is np.uint8 and (labels < 0).any():
                continue
            x = labels.astype(dtype)
            ok = (x == 0) | (x == 1) | (False if abstain is None else x == abstain)
            assert is_binary(x, None, abstain) == bool(np.all(ok)), (x, abstain)
            assert is_binary(np.zeros(len(x), int), x, abstain) == bool(np.all(ok))


def test_a_few_row_major_slices_are_transposed_and_bit_counted(monkeypatch):
    from slicewidgets.analysis import _fast

    rng = np.random.default_rng(4)
    golds, preds = rng.integers(0, 2, 500), rng.integers(-1, 2, 500)
    few = rng.random((500, _fast.FEW_SLICES)) < 0.3  # C order, as np.column_stack gives
    many = rng.random((500, _fast.FEW_SLICES + 1)) < 0.3
    want_few, want_many = (_brute(M, golds, preds, -1) for M in (few, many))
    got_many = slice_counts(many, golds, preds)  # the blocked kernel
    monkeypatch.setattr(_fast, "_blocked_counts", None)  # must not be taken for a few slices
    for M in (few, np.where(few, 1, rng.integers(-1, 1, few.shape))):  # booleans, S-like ints
        got = slice_counts(M, golds, preds)
        assert {k: v.tolist() for k, v in got.items()} == {
            k: v.tolist() for k, v in want_few.items()}
    assert {k: v.tolist() for k, v in got_many.items()} == {
        k: v.tolist() for k, v in want_many.items()}
