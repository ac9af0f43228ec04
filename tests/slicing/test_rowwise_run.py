"""The row-wise runner (slicewidgets/slicing/_rowwise_run.py): each SF runs once per row."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slicewidgets.preprocess import preprocessor
from slicewidgets.slicing import PandasSFApplier, SFApplyError, _rowwise_run, slicing_function


def _repeated():
    """A stateful SF: is this text one seen before? (raises on a missing text)."""
    seen = set()

    def repeated(x):
        t = x.text.strip()
        if t in seen:
            return True
        seen.add(t)
        return False

    return repeated


def test_a_failing_row_does_not_run_the_earlier_rows_again():
    snorkel_slicing = pytest.importorskip("snorkel.slicing")
    df = pd.DataFrame({"text": ["a", "b", "a", None, "c", "b"]})
    S, meta = PandasSFApplier([slicing_function()(_repeated())]).apply(
        df, progress_bar=False, fault_tolerant=True, return_meta=True)
    T = snorkel_slicing.PandasSFApplier([snorkel_slicing.slicing_function()(_repeated())]).apply(
        df, progress_bar=False, fault_tolerant=True)
    assert S.repeated.tolist() == [0, 0, 1, 0, 0, 1]
    # Snorkel marks the failing row -1; slicewidgets counts it as not in the slice
    assert np.where(T.repeated == -1, 0, T.repeated).tolist() == S.repeated.tolist()
    assert meta.faults == {"repeated": 1} and meta.fault_rows["repeated"] == [3]


@settings(max_examples=60, deadline=None)
@given(failing=st.lists(st.booleans(), min_size=1, max_size=12), resources=st.booleans(),
       with_pre=st.booleans(), chunk=st.integers(1, 5))
def test_each_row_is_evaluated_exactly_once(failing, resources, with_pre, chunk):
    calls: Counter = Counter()
    df = pd.DataFrame({"i": range(len(failing)), "bad": failing})

    def counted(x, offset=0):
        calls[x.i] += 1
        if x.bad:
            raise ValueError(f"row {x.i}")
        return (x.i + offset) % 2 == 0

    pre = []
    if with_pre:
        @preprocessor()
        def same(x):
            return x

        pre = [same]
    sf = slicing_function(pre=pre, resources={"offset": 1} if resources else None)(counted)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_rowwise_run, "CHUNK_ROWS", chunk)  # failures at chunk boundaries too
        S, meta = PandasSFApplier([sf]).apply(df, progress_bar=False, fault_tolerant=True,
                                              return_meta=True)
    assert calls == Counter(range(len(failing)))  # every row once, failing rows included
    expected = [not bad and (i + resources) % 2 == 0 for i, bad in enumerate(failing)]
    assert S.counted.astype(bool).tolist() == expected
    assert meta.faults.get("counted", 0) == sum(failing)


def test_not_fault_tolerant_raises_on_the_first_failing_row_having_run_it_once():
    calls: Counter = Counter()

    @slicing_function()
    def third_fails(x):
        calls[x.i] += 1
        return 1 // (x.i - 2) >= 0

    with pytest.raises(SFApplyError, match=r"'third_fails'.*position 2") as info:
        PandasSFApplier([third_fails]).apply(pd.DataFrame({"i": range(5)}), progress_bar=False)
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    assert calls == Counter([0, 1, 2])


def test_a_preprocessed_point_shared_by_sfs_is_read_only():
    from slicewidgets.preprocess import preprocessor
    from slicewidgets.slicing import PandasSFApplier, SFApplier, SFApplyError, slicing_function

    @preprocessor()
    def strip(x):
        x.text = x.text.strip()
        return x

    @slicing_function(pre=[strip])
    def lowers(x):  # changes its point: would change what `shouts` sees
        x.text = x.text.lower()
        return "plz" in x.text

    @slicing_function(pre=[strip])
    def shouts(x):
        return "PLZ" in x.text

    df = pd.DataFrame({"text": [" PLZ sub ", "hi"]})
    with pytest.raises(SFApplyError, match=r"lowers.*Cannot set 'text'.*read-only"):
        PandasSFApplier([lowers, shouts]).apply(df, progress_bar=False)
    S, meta = PandasSFApplier([lowers, shouts]).apply(df, progress_bar=False,
                                                      fault_tolerant=True, return_meta=True)
    assert S.shouts.tolist() == [1, 0]  # whatever the SFs' order
    assert S.lowers.tolist() == [0, 0] and meta.faults["lowers"] == 2
    S = PandasSFApplier([shouts]).apply(df, progress_bar=False)
    assert S.shouts.tolist() == [1, 0]
    from slicewidgets._row import Row

    with pytest.raises(SFApplyError, match=r"lowers.*Cannot set 'text'"):
        SFApplier([lowers, shouts]).apply([Row(text=t) for t in df.text], progress_bar=False)


def test_a_preprocessor_after_a_shared_one_still_works_on_a_copy():
    from slicewidgets.preprocess import preprocessor
    from slicewidgets.slicing import PandasSFApplier, slicing_function

    @preprocessor(memoize=True)
    def strip(x):
        x.text = x.text.strip()
        return x

    @preprocessor()
    def lower(x):
        x.text = x.text.lower()
        return x

    @slicing_function(pre=[strip])
    def stripped_shouts(x):
        return x.text.startswith("PLZ")

    @slicing_function(pre=[strip, lower])
    def lowered(x):
        return x.text.startswith("plz")

    df = pd.DataFrame({"text": [" PLZ sub ", "hi"]})
    S = PandasSFApplier([stripped_shouts, lowered]).apply(df, progress_bar=False)
    assert S.stripped_shouts.tolist() == [1, 0] and S.lowered.tolist() == [1, 0]
