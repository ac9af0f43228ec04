"""Slice membership (slicewidgets/membership.py): the forms of S read alike."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from slicewidgets import membership
from slicewidgets.analysis import Scorer
from slicewidgets.membership import SliceMembership, as_membership, membership_columns, to_recarray


# -- positive = member in every form of S (review #12) --------------------------------------------
def test_minus_one_and_nan_in_a_slice_membership_matrix_are_not_members():
    M = np.array([[1], [1], [-1], [0]])
    golds, preds = np.array([1, 0, 1, 1]), np.array([1, 0, 0, 1])
    scorer = Scorer(["accuracy"])
    forms = [to_recarray(["s"], M), pd.DataFrame(M, columns=["s"]), {"s": M[:, 0]},
             SliceMembership(["s"], M)]
    # before: SliceMembership cast -1 to True (accuracy 0.667 on 3 rows; 1.0 elsewhere)
    assert [scorer.score_slices(S, golds, preds)["s"]["accuracy"] for S in forms] == [1.0] * 4
    assert SliceMembership(["s"], M).sizes.tolist() == [2]
    assert SliceMembership(["s"], np.array([[np.nan], [0.0], [1.0]])).sizes.tolist() == [1]
    with pytest.raises(TypeError, match=r"^membership matrix has dtype <U1; expected booleans "
                                        r"or numbers \(positive = member\)"):
        SliceMembership(["s"], np.array([["a"], ["b"]]))


@settings(max_examples=50, deadline=None)
@given(M=st.integers(1, 40).flatmap(lambda n: hnp.arrays(
    np.float64, (n, 3), elements=st.sampled_from([-1.0, 0.0, 1.0, 2.0, 0.5, np.nan]))))
def test_every_form_of_S_reads_the_same_members(M):
    names = ["a", "b", "c"]
    want = np.nan_to_num(M, nan=0.0) > 0
    forms = [SliceMembership(names, M), pd.DataFrame(M, columns=names),
             {n: M[:, j] for j, n in enumerate(names)},
             np.rec.fromarrays([M[:, j] for j in range(3)], names=names)]
    for S in forms:
        got_names, got = as_membership(S)
        assert got_names == names
        np.testing.assert_array_equal(got, want)
    ints = np.nan_to_num(M, nan=-1).astype(np.int64)
    np.testing.assert_array_equal(SliceMembership(names, ints).matrix, ints > 0)


# -- unique names (review #4) ------------------------------------------------------------------
def test_duplicate_names_are_refused_by_every_reader_and_constructor():
    msg = r"^S has duplicate slice names \['1'\]: each slice needs its own name"
    with pytest.raises(ValueError, match=msg):
        membership.check_unique_names([1, "1", "x"])
    with pytest.raises(ValueError, match=msg):
        membership_columns({1: np.ones(2, bool), "1": np.zeros(2, bool)})
    with pytest.raises(ValueError, match=msg):
        as_membership(pd.DataFrame([[1, 0]], columns=[1, "1"]))
    with pytest.raises(ValueError, match=r"^S has duplicate slice names \['a'\]"):
        SliceMembership(["a", "a"], np.ones((2, 2), bool))
    with pytest.raises(ValueError, match=r"^S has duplicate slice names \['a'\]"):
        SliceMembership.from_columns(["a", "a"], [np.ones(2, bool), np.ones(2, bool)])
    assert membership.check_unique_names([1, "2"]) == ["1", "2"]


# -- pandas masks in a dict (reviews #2 and #9) ---------------------------------------------------
def test_series_masks_in_a_dict_must_share_an_index():
    a = pd.Series([True, False, True], index=[0, 1, 2])
    with pytest.raises(ValueError, match=r"^S\['a'\] and S\['b'\] are pandas objects with "
                                         r"different indexes"):
        membership_columns({"a": a, "b": a[::-1]})
    names, cols, n = membership_columns({"a": a, "b": ~a, "c": np.array([1, 0, 0])})
    assert (names, n) == (["a", "b", "c"], 3)


def test_nullable_masks_in_a_dict_read_na_as_zero():
    names, cols, n = membership_columns({
        "b": pd.Series([True, pd.NA, False], dtype="boolean"),
        "i": pd.Series([-1, pd.NA, 2], dtype="Int64"),
    })
    assert [c.tolist() for c in cols] == [[1.0, 0.0, 0.0], [-1.0, 0.0, 2.0]]
    assert as_membership({"b": pd.Series([True, pd.NA], dtype="boolean")})[1].tolist() == [
        [True], [False]]
