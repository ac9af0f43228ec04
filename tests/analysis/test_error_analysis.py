"""get_label_buckets and get_label_instances (slicewidgets/analysis/error_analysis.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from slicewidgets.analysis import get_label_buckets, get_label_instances


def test_buckets_group_rows_by_label_combination_in_first_row_order():
    golds = np.array([1, 0, 1, 1, 0, -1])
    preds = np.array([[1], [1], [0], [1], [1], [0]])  # [n, 1] is flattened
    buckets = get_label_buckets(golds, preds)
    assert list(buckets) == [(1, 1), (0, 1), (1, 0), (-1, 0)]
    assert {k: v.tolist() for k, v in buckets.items()} == {
        (1, 1): [0, 3], (0, 1): [1, 4], (1, 0): [2], (-1, 0): [5]}
    # the same as a plain Python grouping, on random labels
    rng = np.random.default_rng(0)
    a, b, c = (rng.integers(-1, 3, 500) for _ in range(3))
    expected: dict = {}
    for i, key in enumerate(zip(a.tolist(), b.tolist(), c.tolist(), strict=True)):
        expected.setdefault(key, []).append(i)
    assert {k: v.tolist() for k, v in get_label_buckets(a, b, c).items()} == expected


def test_instances_of_a_bucket_and_errors(caplog):
    x = np.array(["a", "b", "c", "d"])
    golds, preds = np.array([1, 1, 0, 1]), np.array([0, 1, 0, 0])
    assert get_label_instances((1, 0), x, golds, preds).tolist() == ["a", "d"]
    assert get_label_instances((0, 1), x, golds, preds).size == 0
    assert "Bucket (0, 1) does not exist" in caplog.text
    with pytest.raises(ValueError, match="Number of lists must match the amount of labels in bucket"):
        get_label_instances((1,), x, golds, preds)
    with pytest.raises(ValueError, match="Number of rows in x does not match"):
        get_label_instances((1, 0), x[:3], golds, preds)
    with pytest.raises(ValueError, match=r"same number of elements; got lengths \[4, 3\]"):
        get_label_buckets(golds, preds[:3])


def test_instances_of_pandas_rows_are_taken_by_position_not_by_index_label():
    df = pd.DataFrame({"text": ["a", "b", "c", "d"], "label": [1, 0, 1, 0]},
                      index=[3, 2, 1, 0])
    golds, preds = df.label.to_numpy(), np.array([0, 0, 1, 1])
    # before: ['d'] (the row whose index label is 0), and a KeyError for the DataFrame
    got = get_label_instances((1, 0), df.text, golds, preds)
    assert got.tolist() == ["a"]
    assert got.index.tolist() == [3]  # the rows keep their index
    frame = get_label_instances((0, 1), df, golds, preds)
    assert frame.equals(df.iloc[[3]])
    other = pd.Series(["w", "x", "y", "z"], index=["p", "q", "r", "s"])
    assert get_label_instances((1, 1), other, golds, preds).tolist() == ["y"]
