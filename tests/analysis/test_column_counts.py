"""Per-slice counts reused by mask key (slicewidgets/analysis/_column_counts.py)."""

from __future__ import annotations

import numpy as np
import pytest

from slicewidgets.analysis import Scorer
from slicewidgets.analysis._column_counts import CACHE_STATS, keyed_slice_counts
from slicewidgets.analysis._fast import row_indicators, slice_counts
from slicewidgets.membership import SliceMembership


def _data(n=1000, k=6, seed=0):
    rng = np.random.default_rng(seed)
    M = rng.random((n, k)) < rng.uniform(0.0, 0.5, k)
    golds = rng.integers(0, 2, n)
    preds = np.where(rng.random(n) < 0.1, -1, rng.integers(0, 2, n))
    return M, golds, preds


@pytest.mark.parametrize("n", [1, 63, 64, 65, 1000])
def test_keyed_counts_equal_slice_counts(n):
    M, golds, preds = _data(n)
    V = row_indicators(golds, preds)
    keys = [("test", n, j, object()) for j in range(M.shape[1])]  # fresh keys: all counted
    got = keyed_slice_counts(lambda js: [M[:, j] for j in js], keys, V)
    want = slice_counts(np.asfortranarray(M), golds, preds, indicators=V)
    assert set(got) == set(want)
    for name in want:
        assert got[name].tolist() == want[name].tolist(), name


def test_counts_are_reused_only_for_the_same_key_and_the_same_indicators():
    M, golds, preds = _data(500, 4, seed=1)
    keys = [("reuse", j, object()) for j in range(4)]
    calls = []

    def columns(js):
        calls.append(list(js))
        return [M[:, j] for j in js]

    V = row_indicators(golds, preds)
    first = keyed_slice_counts(columns, keys, V)
    again = keyed_slice_counts(columns, keys, row_indicators(golds.copy(), preds.copy()))
    assert calls == [[0, 1, 2, 3]]  # equal indicators (a copy): nothing counted again
    assert all(first[c].tolist() == again[c].tolist() for c in first)
    preds2 = preds.copy()
    preds2[7] = 1 - preds2[7] if preds2[7] >= 0 else 1  # one prediction differs
    changed = keyed_slice_counts(columns, keys, row_indicators(golds, preds2))
    assert calls[-1] == [0, 1, 2, 3]
    want = slice_counts(np.asfortranarray(M), golds, preds2)
    assert all(changed[c].tolist() == want[c].tolist() for c in want)
    new_key = [keys[0], ("reuse", "new", object()), keys[2], keys[3]]
    keyed_slice_counts(columns, new_key, V)
    assert calls[-1] == [1]


def test_scores_of_a_keyed_membership_equal_the_matrix_ones():
    M, golds, preds = _data(2000, 5, seed=2)
    names = [f"s{j}" for j in range(5)]
    keyed = SliceMembership.from_columns(names, [M[:, j].copy() for j in range(5)],
                                         keys=[("equal", j, object()) for j in range(5)])
    plain = SliceMembership(names, M)
    scorer = Scorer(metrics=["accuracy", "recall", "f1", "matthews_corrcoef", "coverage"])
    for _ in range(2):  # counted, then from the cache
        hits = CACHE_STATS["hits"]
        assert (scorer.slice_report(keyed, golds, preds).to_frame().equals(
            scorer.slice_report(plain, golds, preds).to_frame()))
        assert scorer.score_slices(keyed, golds, preds, as_dataframe=True).equals(
            scorer.score_slices(plain, golds, preds, as_dataframe=True))
    assert CACHE_STATS["hits"] >= hits + 10


def test_from_columns_checks_its_input():
    with pytest.raises(ValueError, match="^column 'b' has 2 rows; expected 3 like the first"):
        SliceMembership.from_columns(["a", "b"], [np.zeros(3, bool), np.zeros(2, bool)])
    with pytest.raises(ValueError, match="^column 'a' must be a 1-D boolean mask, got dtype"):
        SliceMembership.from_columns(["a"], [np.zeros(3, int)])
    with pytest.raises(ValueError, match="^1 names but 2 keys"):
        SliceMembership.from_columns(["a"], [np.zeros(3, bool)], keys=[1, 2])
    mask = np.array([True, False, True])
    m = SliceMembership.from_columns(["a"], [mask])
    assert m.column_keys is None and len(m) == 3 and m.sizes.tolist() == [2]
    assert repr(m) == "SliceMembership(3 rows; a=2)"
    mask[1] = True  # the caller's array stays the caller's: the membership holds a view
    assert m["a"].tolist() == [True, True, True] and not m["a"].flags.writeable
