"""Appliers and the membership engine (slicewidgets/slicing/apply.py)."""

from __future__ import annotations

import math
import os
import re
import signal
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slicewidgets._row import Row
from slicewidgets.preprocess import preprocessor
from slicewidgets.slicing import (
    ApplierMetadata,
    CombinedSlicingFunction,
    PandasSFApplier,
    SFApplier,
    SFApplyError,
    SliceMembership,
    SlicingFunction,
    keyword_sf,
    regex_sf,
    slicing_function,
)
from slicewidgets.slicing.apply import compute_masks, to_recarray

MAIN_PID = os.getpid()


# -- Snorkel's test/slicing/apply/test_sf_applier.py -------------------------------------------
@preprocessor()
def square(x):
    x.num_squared = x.num**2
    return x


class SquareHitTracker:
    def __init__(self):
        self.n_hits = 0

    def __call__(self, x: float) -> float:
        self.n_hits += 1
        return x**2

    def __slicewidgets_fingerprint__(self):
        # the counter does not change what it computes: a memo filled before it counted more
        # stays valid (without this, a preprocessor reading the tracker starts afresh)
        return "SquareHitTracker"


@slicing_function()
def f(x) -> int:
    return x.num > 42


@slicing_function(pre=[square])
def fp(x) -> int:
    return x.num_squared > 42


@slicing_function(resources=dict(db=[3, 6, 9]))
def g(x, db) -> int:
    return x.num in db


DATA = [3, 43, 12, 9, 3]
S_EXPECTED = {"f": np.array([0, 1, 0, 0, 0]), "g": np.array([1, 0, 0, 1, 1])}
S_PREPROCESS_EXPECTED = {"f": np.array([0, 1, 0, 0, 0]), "fp": np.array([0, 1, 1, 1, 0])}


def _check(S, expected):
    assert isinstance(S, np.recarray)
    assert list(S.dtype.names) == list(expected)
    for name, values in expected.items():
        assert S[name].dtype == np.int64
        np.testing.assert_array_equal(S[name], values)


@pytest.mark.parametrize("progress_bar", [True, False])
def test_sf_applier(progress_bar):
    data_points = [SimpleNamespace(num=num) for num in DATA]
    _check(SFApplier([f, g]).apply(data_points, progress_bar=progress_bar), S_EXPECTED)


def test_sf_applier_preprocessor():
    data_points = [SimpleNamespace(num=num) for num in DATA]
    _check(SFApplier([f, fp]).apply(data_points, progress_bar=False), S_PREPROCESS_EXPECTED)


@pytest.mark.parametrize("progress_bar", [True, False])
def test_pandas_sf_applier(progress_bar):
    df = pd.DataFrame({"num": DATA})
    _check(PandasSFApplier([f, g]).apply(df, progress_bar=progress_bar), S_EXPECTED)
    _check(PandasSFApplier([f, fp]).apply(df, progress_bar=progress_bar), S_PREPROCESS_EXPECTED)


def test_applier_repr_and_sfs():
    applier = PandasSFApplier([f, g])
    assert repr(applier) == "PandasSFApplier, SFs: ['f', 'g']"
    assert applier.sfs == [f, g]


# -- S ---------------------------------------------------------------------------------------
def test_S_fields_follow_sf_order_and_ignore_the_index():
    df = pd.DataFrame({"num": DATA}, index=[0, 0, 1, 1, 1])  # duplicate labels, as df_train
    S = PandasSFApplier([g, f]).apply(df, progress_bar=False)
    assert S.dtype.names == ("g", "f")
    assert S.shape == (5,)
    np.testing.assert_array_equal(S.f, S_EXPECTED["f"])


def test_empty_dataframe_gives_empty_S_with_the_fields():
    df = pd.DataFrame({"num": pd.Series([], dtype=int), "text": pd.Series([], dtype=str)})
    S, meta = PandasSFApplier([f, keyword_sf(["a"])]).apply(df, progress_bar=True,
                                                           return_meta=True)
    assert S.shape == (0,) and S.dtype.names == ("f", "keyword_a")
    assert S.dtype["f"] == np.int64
    assert dict(meta.faults) == {}
    assert SFApplier([f]).apply([], progress_bar=False).shape == (0,)


def test_membership_is_a_boolean_matrix():
    m = PandasSFApplier([f, g]).membership(pd.DataFrame({"num": DATA}))
    assert isinstance(m, SliceMembership)
    assert m.matrix.dtype == bool and m.matrix.shape == (5, 2)
    assert m.names == ["f", "g"] and m.sizes.tolist() == [1, 3]
    assert m["g"].tolist() == [True, False, False, True, True]
    assert len(m) == 5 and repr(m) == "SliceMembership(5 rows; f=1, g=3)"
    with pytest.raises(KeyError, match=r"No slice named 'h'; slices are \['f', 'g'\]\."):
        m["h"]
    with pytest.raises(ValueError, match=r"membership matrix must have shape \(n, 2\), got"):
        SliceMembership(["a", "b"], np.zeros((3, 3), bool))


def test_to_recarray():
    S = to_recarray(["a", "b"], np.array([[True, False], [False, True], [True, True]]))
    assert S.dtype == np.dtype((np.record, [("a", "<i8"), ("b", "<i8")]))
    assert S.a.tolist() == [1, 0, 1] and S["b"].tolist() == [0, 1, 1]
    assert to_recarray([], np.zeros((2, 0), bool)).shape == (2,)


# -- bad input ---------------------------------------------------------------------------------
def test_duplicate_names_are_rejected():
    other = SlicingFunction("f", lambda x: True)
    with pytest.raises(ValueError, match=r"^Operator names not unique: 2 operators with name f "
                                         r"\(slicing functions at positions 0 and 1\)\. Give each "
                                         r"SF its own name"):
        PandasSFApplier([f, other])
    with pytest.raises(ValueError, match="Operator names not unique: 3 operators with name f"):
        SFApplier([f, other, other.rename("f")])


def test_empty_and_wrong_sf_lists_are_rejected():
    with pytest.raises(ValueError, match=r"^PandasSFApplier needs at least one slicing function; "
                                         r"got an empty list\.$"):
        PandasSFApplier([])
    with pytest.raises(TypeError, match=r"^PandasSFApplier: item 1 is a function \(.*\), not a "
                                        r"SlicingFunction\. Decorate it with "
                                        r"@slicing_function\(\)\.$"):
        PandasSFApplier([f, lambda x: True])
    with pytest.raises(TypeError, match="item 0 is a str"):
        PandasSFApplier(["f"])
    assert PandasSFApplier(f).sfs == [f]  # a single SF is accepted


def test_apply_needs_a_dataframe():
    with pytest.raises(TypeError, match="^Expected a pandas DataFrame, got list; use SFApplier"):
        PandasSFApplier([f]).apply([SimpleNamespace(num=1)], progress_bar=False)


@pytest.mark.parametrize("value, shown", [
    (None, "None (NoneType)"), ("yes", "'yes' (str)"), (2, "2 (int)"), (-1, "-1 (int)"),
    (0.7, "0.7 (float)"), (np.int64(3), "np.int64(3) (int64)"),
])
def test_sf_returning_a_non_boolean_names_the_sf_and_the_row(value, shown):
    @slicing_function()
    def odd(x):
        return value if x.num == 12 else True

    df = pd.DataFrame({"num": DATA}, index=list("abcde"))
    with pytest.raises(SFApplyError) as info:
        PandasSFApplier([f, odd]).apply(df, progress_bar=False)
    assert str(info.value) == (
        f"Slicing function 'odd' returned {shown} for the row with index 'c' (position 2); "
        "expected True/False (or 0/1). Make it return a boolean, e.g. `return bool(...)`."
    )
    assert (info.value.sf_name, info.value.index, info.value.position) == ("odd", "c", 2)
    with pytest.raises(SFApplyError, match="returned"):  # not a fault: never tolerated
        PandasSFApplier([odd]).apply(df, progress_bar=False, fault_tolerant=True)
    with pytest.raises(SFApplyError, match=r"'odd' returned .* for the row with index 2 "):
        SFApplier([odd]).apply([SimpleNamespace(num=n) for n in DATA], progress_bar=False)


def test_sf_returning_0_1_and_numpy_bools_is_fine():
    @slicing_function()
    def ints(x):
        return int(x.num > 10)

    @slicing_function()
    def np_bools(x):
        return np.bool_(x.num > 10)

    S = PandasSFApplier([ints, np_bools]).apply(pd.DataFrame({"num": DATA}), progress_bar=False)
    assert S.ints.tolist() == S.np_bools.tolist() == [0, 1, 1, 0, 0]


@slicing_function()
def boom(x):
    return 1 / (x.num - 12) > 0


def test_sf_raising_names_the_sf_and_the_row():
    df = pd.DataFrame({"num": DATA}, index=[10, 11, 12, 13, 14])
    with pytest.raises(SFApplyError) as info:
        PandasSFApplier([f, boom]).apply(df, progress_bar=False)
    err = info.value
    assert (err.sf_name, err.index, err.position) == ("boom", 12, 2)
    assert isinstance(err.__cause__, ZeroDivisionError)
    assert str(err) == (
        "Slicing function 'boom' raised ZeroDivisionError on the row with index 12 (position 2): "
        "division by zero. Fix the SF, or apply with fault_tolerant=True to count failing rows "
        "as not in the slice."
    )


def test_fault_tolerant_counts_failures_per_sf_as_not_in_the_slice():
    @slicing_function()
    def boom2(x):
        return 1 / (x.num - 3) > 0

    df = pd.DataFrame({"num": DATA}, index=[10, 11, 12, 13, 14])
    S, meta = PandasSFApplier([f, boom, boom2]).apply(df, progress_bar=False,
                                                      fault_tolerant=True, return_meta=True)
    assert isinstance(meta, ApplierMetadata)
    assert dict(meta.faults) == {"boom": 1, "boom2": 2}
    assert dict(meta.fault_rows) == {"boom": [12], "boom2": [10, 14]}
    assert meta.errors == {"boom": "ZeroDivisionError: division by zero",
                           "boom2": "ZeroDivisionError: division by zero"}
    assert S.boom.tolist() == [0, 1, 0, 0, 0]  # row 12 failed: not in the slice (Snorkel: -1)
    assert S.boom2.tolist() == [0, 1, 1, 1, 0]
    np.testing.assert_array_equal(S.f, S_EXPECTED["f"])
    S2, meta2 = SFApplier([boom]).apply([SimpleNamespace(num=n) for n in DATA],
                                        progress_bar=False, fault_tolerant=True, return_meta=True)
    assert dict(meta2.faults) == {"boom": 1} and S2.boom.tolist() == [0, 1, 0, 0, 0]


def test_fault_tolerant_vectorized_sf_fails_on_every_row():
    bad = SlicingFunction("bad", lambda df: df.nope > 0, vectorized=True)
    S, meta = PandasSFApplier([bad, f]).apply(pd.DataFrame({"num": DATA}), progress_bar=False,
                                              fault_tolerant=True, return_meta=True)
    assert dict(meta.faults) == {"bad": 5} and meta.fault_rows["bad"] == [None]
    assert meta.errors["bad"].startswith("AttributeError")
    assert S.bad.tolist() == [0] * 5


def test_missing_column_error_names_the_sf():
    @slicing_function()
    def reads_text(x):
        return "a" in x.text

    with pytest.raises(SFApplyError, match=r"^Slicing function 'reads_text' raised "
                                           r"AttributeError on the row with index 0 \(position "
                                           r"0\): Row has no field 'text'; its fields are "
                                           r"\['num'\]"):
        PandasSFApplier([reads_text]).apply(pd.DataFrame({"num": DATA}), progress_bar=False)


def test_applier_metadata_merge_caps_fault_rows():
    a, b = ApplierMetadata(), ApplierMetadata()
    for i in range(80):
        a.record("s", i, ValueError("x"))
        b.record("s", 100 + i, KeyError("y"))
    a.merge(b)
    assert a.faults["s"] == 160 and len(a.fault_rows["s"]) == 100
    assert a.errors["s"] == "ValueError: x"


# -- row objects -------------------------------------------------------------------------------
def test_columns_named_like_series_attributes_are_columns():
    @slicing_function()
    def named_ann(x):
        return x.name == "Ann" and x.count > 1

    df = pd.DataFrame({"name": ["Ann", "Bob", "Ann"], "count": [2, 5, 0]})
    # with Snorkel's pd.Series rows, x.name is the index label and x.count a method: all 0
    assert PandasSFApplier([named_ann]).apply(df, progress_bar=False).named_ann.tolist() == [
        1, 0, 0]


def test_missing_text_reaches_row_wise_sfs_and_builders_skip_it():
    seen = []

    @slicing_function()
    def missing(x):
        seen.append(x.text)
        return not isinstance(x.text, str)

    df = pd.DataFrame({"text": ["plz", None, np.nan, "check out bit.ly"]}, dtype=object)
    sfs = [missing, keyword_sf(["plz", "bit"]), regex_sf(r"\w+\.ly")]
    S = PandasSFApplier(sfs).apply(df, progress_bar=False)
    assert seen[0] == "plz" and seen[1] is None and math.isnan(seen[2])
    assert S.missing.tolist() == [0, 1, 1, 0]
    assert S.keyword_plz.tolist() == [1, 0, 0, 1]
    assert S.regex_w_ly.tolist() == [0, 0, 0, 1]
    # pandas' Arrow-backed strings: pandas 3's default "str" dtype (missing values are NaN), or
    # pd.ArrowDtype before it (missing values are NA; "str" meant object strings there)
    pandas3 = int(pd.__version__.split(".")[0]) >= 3
    arrow = df.astype("str") if pandas3 else df.astype(pd.ArrowDtype(pa.string()))
    assert PandasSFApplier(sfs).apply(arrow, progress_bar=False).tolist() == S.tolist()


def test_preprocessor_chain_runs_once_per_row_and_is_shared():
    calls = []

    @preprocessor()
    def add_len(x):
        calls.append(1)
        x.n = len(x.text)
        return x

    @slicing_function(pre=[add_len])
    def short(x):
        return x.n < 4

    @slicing_function(pre=[add_len])
    def long(x):
        return x.n > 6

    df = pd.DataFrame({"text": ["abc", "abcdefgh", "abcde"]})
    S = PandasSFApplier([short, long]).apply(df, progress_bar=False)
    assert len(calls) == 3
    assert S.short.tolist() == [1, 0, 0] and S.long.tolist() == [0, 1, 0]
    assert df.columns.tolist() == ["text"]  # the data is untouched


def test_memoized_preprocessor_hits_its_cache():
    tracker = SquareHitTracker()

    @preprocessor(memoize=True)
    def memo_square(x):
        x.num_squared = tracker(x.num)
        return x

    @slicing_function(pre=[memo_square])
    def fp_memo(x):
        return x.num_squared > 42

    df = pd.DataFrame({"num": DATA})
    S = PandasSFApplier([fp_memo]).apply(df, progress_bar=False)
    np.testing.assert_array_equal(S.fp_memo, S_PREPROCESS_EXPECTED["fp"])
    assert tracker.n_hits == 4  # rows 0 and 4 are equal: one computation
    PandasSFApplier([fp_memo]).apply(df, progress_bar=False)
    assert tracker.n_hits == 4
    memo_square.reset_cache()
    SFApplier([fp_memo]).apply([SimpleNamespace(num=n) for n in DATA], progress_bar=False)
    assert tracker.n_hits == 8


def test_a_memoized_preprocessor_reading_changed_state_starts_afresh():
    counts = {"calls": 0}

    @preprocessor(memoize=True)
    def counted(x):  # reads `counts`, which it changes: no apply can reuse the last one's memo
        counts["calls"] += 1
        x.num_squared = x.num**2
        return x

    @slicing_function(pre=[counted])
    def big(x):
        return x.num_squared > 42

    df = pd.DataFrame({"num": DATA})
    PandasSFApplier([big]).apply(df, progress_bar=False)
    assert counts["calls"] == 4
    PandasSFApplier([big]).apply(df, progress_bar=False)
    assert counts["calls"] == 8


def test_failing_preprocessor_is_named():
    @preprocessor()
    def picky(x):
        if x.num == 12:
            raise KeyError("no twelve")
        return x

    @preprocessor()
    def nothing(x):
        return None if x.num == 9 else x

    sf = SlicingFunction("uses_picky", lambda x: True, pre=[picky])
    df = pd.DataFrame({"num": DATA})
    with pytest.raises(SFApplyError, match=r"^Preprocessor 'picky' of slicing function "
                                           r"'uses_picky' raised KeyError on the row with index 2 "
                                           r"\(position 2\): 'no twelve'\. Fix the preprocessor"):
        PandasSFApplier([sf]).apply(df, progress_bar=False)
    sf2 = SlicingFunction("uses_nothing", lambda x: True, pre=[nothing])
    with pytest.raises(SFApplyError, match=r"^Preprocessor 'nothing' of slicing function "
                                           r"'uses_nothing' raised ValueError on the row with "
                                           r"index 3 .*Preprocessor should not return None"):
        PandasSFApplier([sf2]).apply(df, progress_bar=False)
    S, meta = PandasSFApplier([sf, sf2]).apply(df, progress_bar=False, fault_tolerant=True,
                                               return_meta=True)
    assert dict(meta.faults) == {"uses_picky": 1, "uses_nothing": 1}
    assert S.uses_picky.tolist() == [1, 1, 0, 1, 1]


# -- vectorized, keyword and combined SFs in one pass ---------------------------------------------
def test_all_kinds_of_sfs_in_one_applier():
    @slicing_function(vectorized=True)
    def short_v(df):
        return df.text.str.split().str.len() < 3

    @slicing_function()
    def short_r(x):
        return len(x.text.split()) < 3

    kw = keyword_sf(["please", "plz"])
    df = pd.DataFrame({"text": ["please sub", "a b c d", "PLZ", "nice one here"]})
    sfs = [short_v, short_r, kw, regex_sf("sub"), (kw & short_r).rename("both"), ~kw]
    S = PandasSFApplier(sfs).apply(df, progress_bar=False)
    assert S.short_v.tolist() == S.short_r.tolist() == [1, 0, 1, 0]
    assert S.keyword_please.tolist() == [1, 0, 1, 0]
    assert S.both.tolist() == [1, 0, 1, 0]
    assert S.not_keyword_please.tolist() == [0, 1, 0, 1]
    assert S.regex_sub.tolist() == [1, 0, 0, 0]


def test_many_keyword_sfs_use_one_pass_and_match_the_row_wise_result():
    rng = np.random.default_rng(0)
    words = ["love", "plz", "sub", "check out", "song", "İstanbul", "ΣΑΣ", "ß", "😍", "a b"]
    texts = [" ".join(rng.choice(words, rng.integers(0, 6))) for _ in range(300)] + [None]
    df = pd.DataFrame({"text": texts})
    lists = [list(rng.choice(["lo", "plz", "ub", "k o", "so", "i̇st", "σας", "ss", "😍", "b"],
                             2)) for _ in range(70)]  # > 64 SFs: two word chunks
    sfs = [keyword_sf(k, name=f"k{i}") for i, k in enumerate(lists)]
    S = PandasSFApplier(sfs).apply(df, progress_bar=False)
    for i, k in enumerate(lists):
        want = [isinstance(t, str) and any(w.lower() in t.lower() for w in k) for t in texts]
        assert S[f"k{i}"].astype(bool).tolist() == want, k


def test_text_cache_is_reused_between_calls():
    df = pd.DataFrame({"text": ["plz sub", "hello"]})
    cache: dict = {}
    compute_masks(df, [keyword_sf(["plz"])], text_cache=cache)
    index = cache[("text", False)]
    assert index.has_tokens  # a kept index is tokenized even for one keyword
    m = compute_masks(df, [keyword_sf(["hell"])], text_cache=cache)
    assert cache[("text", False)] is index and m.matrix[:, 0].tolist() == [False, True]


# -- hypothesis: the forms of one slice agree ----------------------------------------------------
PIECES = ["a", "b", "c", "A", "B", " ", " ", "\t", "\n", ".", "\u0130", "\u0131", "\u03a3",
          "\u03c3", "\u03c2", "\u00df", "\u1e9e", "\ufb01", "\U0001f60d", "\u00e9",
          "e\u0301", "\u00a0", "ab"]


def _pieces(min_size=0, max_size=12):
    return st.lists(st.sampled_from(PIECES), min_size=min_size, max_size=max_size).map("".join)


texts_strategy = st.lists(
    st.one_of(st.none(), st.just(float("nan")), _pieces(), st.text(max_size=8)),
    min_size=0, max_size=25,
)
keywords_strategy = st.lists(_pieces(1, 3), min_size=1, max_size=3)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(texts=texts_strategy, keyword_lists=st.lists(keywords_strategy, min_size=1, max_size=12),
       dtype=st.sampled_from(["object", "str"]), case=st.booleans())
def test_keyword_sf_equals_its_row_wise_form(texts, keyword_lists, dtype, case):
    df = pd.DataFrame({"text": pd.Series(texts, dtype=dtype)})
    sfs = [keyword_sf(k, name=f"k{i}", case=case) for i, k in enumerate(keyword_lists)]
    S = PandasSFApplier(sfs).apply(df, progress_bar=False)

    def lookup(x, keywords):  # the tutorial's make_keyword_sf, as a row-wise SF
        if not isinstance(x.text, str):
            return False
        text = x.text if case else x.text.lower()
        return any((w if case else w.lower()) in text for w in keywords)

    rowwise = [SlicingFunction(f"r{i}", lookup, resources={"keywords": k})
               for i, k in enumerate(keyword_lists)]
    R = PandasSFApplier(rowwise).apply(df, progress_bar=False)
    for i, sf in enumerate(sfs):
        assert S[f"k{i}"].tolist() == R[f"r{i}"].tolist()
        assert [int(sf(x)) for x in df.itertuples()] == S[f"k{i}"].tolist()


@settings(max_examples=100, deadline=None)
@given(texts=texts_strategy, pattern=st.sampled_from([r"\w+\.ly", r"check.*out", r"^a", r"σ$",
                                                      r"(?i)i̇", r"\s\s", r"[😍é]"]),
       flags=st.sampled_from([0, re.I]), dtype=st.sampled_from(["object", "str"]))
def test_regex_sf_equals_its_row_wise_form(texts, pattern, flags, dtype):
    df = pd.DataFrame({"text": pd.Series(texts, dtype=dtype)})
    sf = regex_sf(pattern, flags=flags)

    @slicing_function()
    def rowwise(x):
        return isinstance(x.text, str) and re.search(pattern, x.text, flags) is not None

    S = PandasSFApplier([sf, rowwise]).apply(df, progress_bar=False)
    assert S[sf.name].tolist() == S.rowwise.tolist()


@settings(max_examples=100, deadline=None)
@given(nums=st.lists(st.one_of(st.integers(-5, 5), st.none()), max_size=30),
       threshold=st.integers(-5, 5))
def test_vectorized_sf_equals_its_row_wise_form(nums, threshold):
    df = pd.DataFrame({"num": pd.array(nums, dtype="Int64"),
                       "text": pd.Series([None if n is None else "x" * abs(n) for n in nums],
                                         dtype=object)})

    @slicing_function(vectorized=True)
    def big_v(df):
        return (df.num > threshold).fillna(False).astype(bool)

    @slicing_function()
    def big_r(x):
        return x.num is not None and x.num is not pd.NA and x.num > threshold

    @slicing_function(vectorized=True)
    def long_v(df):
        return df.text.str.len().fillna(0).to_numpy() > 2

    @slicing_function()
    def long_r(x):
        return isinstance(x.text, str) and len(x.text) > 2

    sfs = [big_v, big_r, long_v, long_r, (big_v & ~long_v).rename("c_v"),
           (big_r & ~long_r).rename("c_r")]
    S = PandasSFApplier(sfs).apply(df, progress_bar=False)
    assert S.big_v.tolist() == S.big_r.tolist()
    assert S.long_v.tolist() == S.long_r.tolist()
    assert S.c_v.tolist() == S.c_r.tolist()


# -- processes ---------------------------------------------------------------------------------
def _frame(n=400):
    return pd.DataFrame({"num": np.arange(n) % 50, "text": [f"t{i}" for i in range(n)]},
                        index=np.arange(n) * 10)


@pytest.mark.timeout(120)
def test_n_jobs_gives_the_serial_result():
    @preprocessor(memoize=True)
    def double(x):
        x.twice = 2 * x.num
        return x

    @slicing_function(pre=[double])
    def twice_big(x):
        return x.twice > 60

    df = _frame()
    sfs = [f, g, twice_big, keyword_sf(["t1"])]
    serial = PandasSFApplier(sfs).apply(df, progress_bar=False)
    parallel = PandasSFApplier(sfs).apply(df, progress_bar=True, n_jobs=2)
    assert parallel.tolist() == serial.tolist()
    assert PandasSFApplier(sfs).apply(df, progress_bar=False, n_jobs=-1).tolist() == \
        serial.tolist()


@slicing_function()
def fails_in_worker(x):
    if x.num == 37:
        raise ValueError(f"bad row {x.text}")
    return True


@pytest.mark.timeout(120)
def test_worker_error_reaches_the_user_with_the_sf_and_row():
    df = _frame()
    with pytest.raises(SFApplyError) as info:
        PandasSFApplier([f, fails_in_worker]).apply(df, progress_bar=False, n_jobs=2)
    assert (info.value.sf_name, info.value.index, info.value.position) == (
        "fails_in_worker", 370, 37)
    assert str(info.value).startswith(
        "Slicing function 'fails_in_worker' raised ValueError on the row with index 370 "
        "(position 37): bad row t37.")
    S, meta = PandasSFApplier([fails_in_worker]).apply(df, progress_bar=False, n_jobs=2,
                                                       fault_tolerant=True, return_meta=True)
    assert dict(meta.faults) == {"fails_in_worker": 8}
    assert sorted(meta.fault_rows["fails_in_worker"]) == [370 + 500 * i for i in range(8)]
    assert S.fails_in_worker.sum() == 392


@slicing_function()
def kills_worker(x):
    if x.num == 3 and os.getpid() != MAIN_PID:
        os.kill(os.getpid(), signal.SIGKILL)
    return False


@pytest.mark.timeout(120)
def test_dead_worker_raises_instead_of_hanging():
    with pytest.raises(RuntimeError, match=r"^A worker process died while applying slicing "
                                           r"functions \['kills_worker'\] to rows 0\.\.49 "
                                           r"\(killed, out of memory, or a crash in native code\)\. "
                                           r"Retry with n_jobs=None"):
        PandasSFApplier([kills_worker]).apply(_frame(), progress_bar=False, n_jobs=2)


def test_bad_n_jobs():
    df = _frame(10)
    with pytest.raises(ValueError, match=r"^n_jobs must be a positive integer, -1 \(all cores\) "
                                         r"or None; got 0\.$"):
        PandasSFApplier([f]).apply(df, progress_bar=False, n_jobs=0)
    with pytest.raises(TypeError, match=r"^n_jobs must be an integer or None, got 'two'\.$"):
        PandasSFApplier([f]).apply(df, progress_bar=False, n_jobs="two")
    # fewer rows than twice the jobs: runs here
    assert PandasSFApplier([f]).apply(df.iloc[:3], progress_bar=False, n_jobs=2).shape == (3,)


# -- against Snorkel itself (when installed, as in the bench extra) ----------------------------------
def test_results_equal_snorkel_on_random_data():
    snorkel_slicing = pytest.importorskip("snorkel.slicing")
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"num": rng.integers(0, 100, 200),
                       "text": rng.choice(["plz sub", "Check it out", "nice", "bit.ly/x"], 200)})

    def build(sf_cls, deco):
        @deco()
        def big(x):
            return x.num > 42

        @deco()
        def short_link(x):
            return bool(re.search(r"\w+\.ly", x.text))

        def lookup(x, keywords):
            return any(word in x.text.lower() for word in keywords)

        return [big, short_link, sf_cls("keyword_plz", lookup, resources={"keywords": ["plz"]})]

    ours = PandasSFApplier(build(SlicingFunction, slicing_function)).apply(df, progress_bar=False)
    theirs = snorkel_slicing.PandasSFApplier(
        build(snorkel_slicing.SlicingFunction, snorkel_slicing.slicing_function)
    ).apply(df, progress_bar=False)
    assert ours.dtype == theirs.dtype
    assert ours.tolist() == theirs.tolist()


def test_no_fork_from_a_worker_thread_or_while_our_threads_run(monkeypatch):
    # fork copies only the calling thread (the studio's Apply runs in one): the serial path
    import threading

    from slicewidgets.slicing import _rowwise_run as apply_module

    forks: list = []
    real = apply_module._rowwise_parallel
    monkeypatch.setattr(apply_module, "_rowwise_parallel",
                        lambda *a, **k: forks.append(1) or real(*a, **k))
    df = _frame()
    serial = compute_masks(df, [f, g]).matrix
    out: dict = {}
    worker = threading.Thread(target=lambda: out.update(m=compute_masks(df, [f, g], n_jobs=2)),
                              name="slicewidgets-apply")
    worker.start()
    worker.join(60)
    assert forks == [] and (out["m"].matrix == serial).all()
    # from the main thread while one of our threads runs: no fork either
    release = threading.Event()
    busy = threading.Thread(target=release.wait, name="slicewidgets-training")
    busy.start()
    try:
        assert (compute_masks(df, [f, g], n_jobs=2).matrix == serial).all() and forks == []
    finally:
        release.set()
        busy.join()
    ours = [t for t in threading.enumerate() if t.name.startswith("slicewidgets-")]
    assert apply_module._fork_is_safe() == (not ours)  # the main thread: only ours matter


# -- vectorized SFs cannot damage the caller's frame (issue #14) -----------------------------------
def test_a_vectorized_sf_that_changes_its_frame_leaves_the_callers_frame_alone():
    df = pd.DataFrame({"text": ["Plz SUB", "nice", "plz"], "n": [1, 2, 3]})
    before = df.copy()

    @slicing_function(vectorized=True)
    def vandal(frame):
        frame["text"] = frame.text.str.lower()  # replaces a column
        frame.loc[0, "n"] = 99  # writes a value
        frame["extra"] = 1  # adds a column
        return frame.n > 50

    @slicing_function(vectorized=True)
    def reader(frame):  # runs after vandal: sees the original data
        return (frame.n == 1) & (frame.text == "Plz SUB") & ~frame.columns.isin(["extra"]).any()

    S = PandasSFApplier([vandal, reader]).apply(df, progress_bar=False)
    assert S["vandal"].tolist() == [1, 0, 0]  # its own change counts for its own mask
    assert S["reader"].tolist() == [1, 0, 0]
    pd.testing.assert_frame_equal(df, before)
    assert vandal.mask(df).tolist() == [True, False, False]
    pd.testing.assert_frame_equal(df, before)


@pytest.mark.filterwarnings("ignore:The inplace keyword")
def test_a_vectorized_sf_that_drops_rows_in_place_gets_an_error_naming_it():
    df = pd.DataFrame({"n": [1, 2, 3, 4]})

    @slicing_function(vectorized=True)
    def shrinker(frame):
        frame.drop(index=[0], inplace=True)
        return frame.n > 1

    with pytest.raises(ValueError, match="Vectorized slicing function 'shrinker' returned 3 "
                                         "values for a DataFrame of 4 rows"):
        PandasSFApplier([shrinker]).apply(df, progress_bar=False)
    assert len(df) == 4  # the caller's frame did not shrink

    floats = SlicingFunction("floats", lambda frame: frame.n * 0.5, vectorized=True)
    with pytest.raises(TypeError, match="'floats' returned dtype float64"):
        PandasSFApplier([floats]).apply(df, progress_bar=False)


# -- fault tolerant: combined SFs leave out the rows their operands failed on (review #2) ---------
@slicing_function()
def starts_a(x):
    return x.text.startswith("a")  # row by row; raises on None


@slicing_function()
def few_words(x):
    return len(x.text.split()) < 3  # a recognised body; raises on None


@slicing_function()
def tenth_big(x):
    return 10 / x.num > 3  # raises on num == 0


@slicing_function()
def big(x):
    return x.num > 2  # never fails


even = SlicingFunction("even", lambda df: df.num % 2 == 0, vectorized=True)
broken = SlicingFunction("broken", lambda df: df.nope > 0, vectorized=True)  # fails as a whole
typo = keyword_sf(["a"], name="typo", column="txt")  # a misspelt column: fails as a whole
LEAVES = [starts_a, few_words, tenth_big, big, even, broken, typo, regex_sf(r"^a", name="re_a")]


def _conservative(sf, x):
    """What the combined SF's slice holds for one point, evaluated independently of the
    library's algebra: None where any leaf raised (then the row is outside every slice built
    from it), else the Boolean value."""
    if isinstance(sf, CombinedSlicingFunction):
        values = [_conservative(o, x) for o in sf.operands]
        if any(v is None for v in values):
            return None
        return (not values[0]) if sf.op == "not" else (
            all(values) if sf.op == "and" else any(values))
    try:
        return bool(sf(x))
    except Exception:
        return None


def _failing_frame(texts, nums):
    index = np.arange(len(texts)) * 7 + 3
    return pd.DataFrame({"text": pd.Series(texts, dtype=object, index=index), "num": nums},
                        index=index)


def _points(df):
    return [Row(text=t, num=n) for t, n in zip(df.text, df.num, strict=True)]


_trees = st.recursive(
    st.sampled_from(LEAVES),
    lambda kids: st.one_of(kids.map(lambda s: ~s),
                           st.tuples(kids, kids).map(lambda t: t[0] & t[1]),
                           st.tuples(kids, kids).map(lambda t: t[0] | t[1])),
    max_leaves=4)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees=st.lists(_trees, min_size=1, max_size=4),
       rows=st.lists(st.tuples(st.one_of(st.none(), st.sampled_from(["a b", "b", "a b c d", "ab"])),
                               st.integers(0, 5)), min_size=1, max_size=12))
def test_fault_tolerant_combined_sfs_equal_sfapplier_and_the_row_by_row_rule(trees, rows):
    sfs = [t.rename(f"c{i}") for i, t in enumerate(trees)]
    df = _failing_frame([t for t, _ in rows], [n for _, n in rows])
    S, meta = PandasSFApplier(sfs).apply(df, progress_bar=False, fault_tolerant=True,
                                         return_meta=True)
    S2, meta2 = SFApplier(sfs).apply(_points(df), progress_bar=False, fault_tolerant=True,
                                     return_meta=True)
    for sf in sfs:
        expected = [_conservative(sf, x) for x in _points(df)]
        assert S[sf.name].tolist() == [int(bool(v)) for v in expected], sf
        assert S2[sf.name].tolist() == S[sf.name].tolist(), sf
        assert meta.faults.get(sf.name, 0) == meta2.faults.get(sf.name, 0) == \
            sum(v is None for v in expected), sf


FAULTY_COMBINED = [few_words, ~few_words, (starts_a & big).rename("a_and_big"),
                   (starts_a | big).rename("a_or_big"), ~(starts_a & big), ~typo, typo | big,
                   ~broken, ~tenth_big | even]
# rows: text None (starts_a and few_words raise) on positions 1 and 4; num 0 (tenth_big raises)
# on positions 2 and 4
FAULTY_TEXTS = ["a b", None, "a b c d", "b", None, "ab x y"]
FAULTY_NUMS = [1, 5, 0, 3, 0, 4]
FAULTY_EXPECTED = {
    "few_words": [1, 0, 0, 1, 0, 0],
    "not_few_words": [0, 0, 1, 0, 0, 1],  # never the rows few_words failed on (1, 4)
    "a_and_big": [0, 0, 0, 0, 0, 1],
    "a_or_big": [1, 0, 1, 1, 0, 1],  # row 1: big is true, but starts_a raised there
    "not_(starts_a_and_big)": [1, 0, 1, 1, 0, 0],
    "not_typo": [0] * 6,  # the column does not exist: no row is in its negation
    "typo_or_big": [0] * 6,
    "not_broken": [0] * 6,
    "not_tenth_big_or_even": [0, 1, 0, 0, 0, 1],
}
FAULTY_FAULTS = {"few_words": 2, "not_few_words": 2, "a_and_big": 2, "a_or_big": 2,
                 "not_(starts_a_and_big)": 2, "not_typo": 6, "typo_or_big": 6, "not_broken": 6,
                 "not_tenth_big_or_even": 2}


def test_fault_tolerant_combined_sfs_agree_in_every_pandas_applier():
    from slicewidgets.slicing import SliceSet

    df = _failing_frame(FAULTY_TEXTS, FAULTY_NUMS)
    names = [sf.name for sf in FAULTY_COMBINED]
    assert names == list(FAULTY_EXPECTED)
    S, meta = PandasSFApplier(FAULTY_COMBINED).apply(df, progress_bar=False,
                                                     fault_tolerant=True, return_meta=True)
    assert {n: S[n].tolist() for n in names} == FAULTY_EXPECTED
    assert {n: meta.faults[n] for n in names} == FAULTY_FAULTS
    # the leaves' own faults are kept, and the combined SFs' rows and first error are theirs
    assert meta.faults["starts_a"] == 2 and meta.faults["typo"] == 6
    assert meta.fault_rows["not_few_words"] == [10, 31]
    assert meta.fault_rows["not_tenth_big_or_even"] == [17, 31]
    assert meta.fault_rows["not_typo"] == [None]  # failed as a whole, as the leaf
    assert meta.errors["not_few_words"].startswith("AttributeError")
    assert "'typo' reads column 'txt'" in meta.errors["typo_or_big"]
    # list applier, forked processes, one combined SF at a time, the incremental engine
    S2, meta2 = SFApplier(FAULTY_COMBINED).apply(_points(df), progress_bar=False,
                                                 fault_tolerant=True, return_meta=True)
    assert {n: S2[n].tolist() for n in names} == FAULTY_EXPECTED
    assert {n: meta2.faults[n] for n in names} == FAULTY_FAULTS
    forked = compute_masks(df, FAULTY_COMBINED, fault_tolerant=True, n_jobs=2)
    assert {n: forked[n].astype(int).tolist() for n in names} == FAULTY_EXPECTED
    assert {n: forked.meta.faults[n] for n in names} == FAULTY_FAULTS
    for sf in FAULTY_COMBINED:
        alone = compute_masks(df, [sf], fault_tolerant=True)
        assert alone[sf.name].astype(int).tolist() == FAULTY_EXPECTED[sf.name]
    ss = SliceSet(df, FAULTY_COMBINED)  # fault tolerant by default
    assert ss.sizes() == {n: sum(v) for n, v in FAULTY_EXPECTED.items()}
    assert {n: dict(ss.errors[n].faults) for n in names} == \
        {n: {n: c} for n, c in FAULTY_FAULTS.items()}


def test_a_combined_sf_named_as_its_leaf_counts_its_failing_rows_once():
    df = _failing_frame(FAULTY_TEXTS, FAULTY_NUMS)
    sfs = [(~starts_a).rename("starts_a")]
    S, meta = PandasSFApplier(sfs).apply(df, progress_bar=False, fault_tolerant=True,
                                         return_meta=True)
    S2, meta2 = SFApplier(sfs).apply(_points(df), progress_bar=False, fault_tolerant=True,
                                     return_meta=True)
    assert S.starts_a.tolist() == S2.starts_a.tolist() == [0, 0, 0, 1, 0, 0]
    assert dict(meta.faults) == dict(meta2.faults) == {"starts_a": 2}
    assert meta.fault_rows["starts_a"] == [10, 31]
