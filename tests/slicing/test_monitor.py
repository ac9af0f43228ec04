"""slice_dataframe (slicewidgets/slicing/monitor.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from slicewidgets.slicing import SFApplyError, keyword_sf, slice_dataframe, slicing_function


@slicing_function()
def f(x) -> int:
    return x.num < 20


def test_slice_dataframe_snorkel():
    # Snorkel: test/slicing/test_monitor.py
    df = pd.DataFrame({"num": [5, 10, 15, 20, 25], "text": list("abcde")})
    sliced = slice_dataframe(df, f)
    assert len(sliced) == 3
    assert sliced.num.tolist() == [5, 10, 15]
    assert sliced.columns.tolist() == ["num", "text"]


def test_slice_keeps_index_labels_and_positions():
    df = pd.DataFrame({"num": [30, 5, 5, 40]}, index=[7, 7, 3, 1])
    sliced = slice_dataframe(df, f, progress_bar=True)
    assert sliced.index.tolist() == [7, 3]
    assert sliced.num.tolist() == [5, 5]


def test_vectorized_and_keyword_sfs():
    df = pd.DataFrame({"text": ["plz sub", "hi", None]})
    assert slice_dataframe(df, keyword_sf(["plz"])).text.tolist() == ["plz sub"]
    assert slice_dataframe(df.iloc[:0], keyword_sf(["plz"])).empty


def test_bad_input():
    with pytest.raises(TypeError, match=r"^slice_dataframe expects a SlicingFunction, got "
                                        r"function; decorate the function with "
                                        r"@slicing_function\(\)\.$"):
        slice_dataframe(pd.DataFrame({"num": [1]}), lambda x: True)

    @slicing_function()
    def boom(x):
        raise ValueError("nope")

    with pytest.raises(SFApplyError, match="'boom' raised ValueError on the row with index 0"):
        slice_dataframe(pd.DataFrame({"num": [1]}), boom)
