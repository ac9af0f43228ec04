"""Label utilities (slicewidgets/utils.py), with Snorkel's utils test cases."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slicewidgets.utils import filter_labels, preds_to_probs, probs_to_preds, to_int_label_array


def _snorkel_probs_to_preds(probs, tie_break_policy="random", tol=1e-5):
    """Snorkel 0.10's loop, verbatim in substance (the reference for ties)."""
    n, _ = probs.shape
    out = np.empty(n)
    diffs = np.abs(probs - probs.max(axis=1).reshape(-1, 1))
    for i in range(n):
        max_idxs = np.where(diffs[i, :] < tol)[0]
        if len(max_idxs) == 1:
            out[i] = max_idxs[0]
        elif tie_break_policy == "random":
            out[i] = max_idxs[int(hashlib.sha1(str(i).encode()).hexdigest(), 16) % len(max_idxs)]
        else:
            out[i] = -1
    return out.astype(int)


def test_to_int_label_array():
    # Snorkel: test_to_int_label_array
    X = np.array([[1], [0], [2.0]])
    Y = to_int_label_array(X, flatten_vector=True)
    np.testing.assert_array_equal(Y, np.array([1, 0, 2]))
    assert Y.dtype == np.int64
    with pytest.raises(ValueError, match="^Input contains at least one non-integer value"):
        to_int_label_array(np.array([[0.1], [0], [2.0]]))
    with pytest.raises(ValueError, match=r"^Input could not be converted to 1d np\.array"):
        to_int_label_array(np.array([[1, 0], [0, 1]]))
    assert to_int_label_array(np.array([[1, 0]]), flatten_vector=False).shape == (1, 2)
    np.testing.assert_array_equal(to_int_label_array(np.array(3)), [3])
    np.testing.assert_array_equal(to_int_label_array([True, False]), [1, 0])
    np.testing.assert_array_equal(to_int_label_array(pd.Series([1, 0], dtype=object)), [1, 0])
    np.testing.assert_array_equal(to_int_label_array(np.array([], dtype=float)), [])
    for bad in (np.array([np.nan, 1.0]), np.array(["a", "b"]), np.array(["a", 1], dtype=object)):
        with pytest.raises(ValueError, match="labels must be integers"):
            to_int_label_array(bad)


def test_preds_to_probs():
    # Snorkel: test_preds_to_probs
    np.testing.assert_array_equal(preds_to_probs(np.array([0, 1, 1]), 2),
                                  np.array([[1, 0], [0, 1], [0, 1]]))
    np.testing.assert_array_equal(preds_to_probs(np.array([[2], [0]]), 3),
                                  np.array([[0, 0, 1], [1, 0, 0]]))
    assert preds_to_probs(np.array([], dtype=int), 2).shape == (0, 2)
    with pytest.raises(ValueError, match=r"^Could not convert abstained vote to probability: "
                                         r"preds contains -1 at positions \[1\]"):
        preds_to_probs(np.array([0, -1]), 2)
    with pytest.raises(ValueError, match="preds contains label 2 but num_classes=2"):
        preds_to_probs(np.array([0, 2]), 2)


def test_probs_to_preds_snorkel_cases():
    # Snorkel: test_probs_to_preds
    np.testing.assert_array_equal(probs_to_preds(np.array([[0.5, 0.5, 0.5]]), "abstain"), [-1])
    np.testing.assert_array_equal(probs_to_preds(np.array([[0.8, 0.1, 0.1]])), [0])
    np.testing.assert_array_equal(probs_to_preds(np.array([[0.5, 0.5], [0.2, 0.8]])), [0, 1])
    np.testing.assert_array_equal(
        probs_to_preds(np.array([[0.5, 0.5], [0.2, 0.8]]), tie_break_policy="abstain"), [-1, 1])
    # ties within tol
    near_tie = np.array([[0.35, 0.35 + 1e-6, 0.3 - 1e-6]])
    np.testing.assert_array_equal(probs_to_preds(near_tie, "abstain", tol=1e-5), [-1])
    np.testing.assert_array_equal(probs_to_preds(near_tie, "abstain", tol=1e-7), [1])
    probs = np.array([[0.4, 0.4, 0.2]] * 50)
    preds = probs_to_preds(probs, "true-random")
    assert set(preds.tolist()) <= {0, 1}
    with pytest.raises(ValueError, match="probs must have probabilities for at least 2 classes"):
        probs_to_preds(np.array([[1.0], [1.0]]))
    with pytest.raises(ValueError, match=r"expected shape \[n, k\] with k >= 2, got \(3,\)"):
        probs_to_preds(np.array([0.1, 0.2, 0.7]))
    with pytest.raises(ValueError, match="^tie_break_policy=bogus policy not recognized"):
        probs_to_preds(np.array([[0.5, 0.5]]), tie_break_policy="bogus")


@pytest.mark.parametrize("policy", ["random", "true-random", "abstain"])
def test_probs_to_preds_refuses_nan_rows_naming_the_first(policy):
    probs = np.array([[0.2, 0.8], [0.9, np.nan], [np.nan, np.nan], [0.5, np.inf]])
    # before: [1, 1, 0, 1]: the NaN's position was taken as the most likely class
    with pytest.raises(ValueError, match=r"^probs row 1 is \[0\.9, nan\] \(3 rows with NaN or "
                                         r"infinite values\): it has no most likely class"):
        probs_to_preds(probs, policy)
    np.testing.assert_array_equal(probs_to_preds(probs[:1], policy), [1])


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.lists(st.sampled_from([0.0, 0.1, 0.2, 0.25, 0.5, 0.5 + 1e-7]), min_size=2,
                           max_size=4), min_size=1, max_size=30).filter(
        lambda r: len({len(x) for x in r}) == 1),
    policy=st.sampled_from(["random", "abstain"]),
)
def test_probs_to_preds_matches_snorkel_loop_including_ties(rows, policy):
    probs = np.array(rows)
    np.testing.assert_array_equal(probs_to_preds(probs, policy),
                                  _snorkel_probs_to_preds(probs, policy))


def test_filter_labels():
    # Snorkel: test_filter_labels
    golds = np.array([-1, 0, 0, 1, 1])
    preds = np.array([0, 0, 1, 1, -1])
    filtered = filter_labels({"golds": golds, "preds": preds},
                             {"golds": [-1], "preds": [-1]})
    np.testing.assert_array_equal(filtered["golds"], [0, 0, 1])
    np.testing.assert_array_equal(filtered["preds"], [0, 1, 1])
    filtered = filter_labels({"golds": golds, "preds": preds, "probs": None},
                             {"golds": [-1]})
    np.testing.assert_array_equal(filtered["preds"], [0, 1, 1, -1])
    assert filtered["probs"] is None
    same = filter_labels({"golds": golds}, {"golds": []})
    np.testing.assert_array_equal(same["golds"], golds)
