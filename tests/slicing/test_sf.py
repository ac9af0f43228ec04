"""Slicing functions, the decorator, builders and algebra (slicewidgets/slicing/sf.py)."""

from __future__ import annotations

import pickle
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from slicewidgets.preprocess import preprocessor
from slicewidgets.slicing import (
    CombinedSlicingFunction,
    KeywordSlicingFunction,
    PandasSFApplier,
    RegexSlicingFunction,
    SFApplyError,
    SlicingFunction,
    keyword_sf,
    regex_sf,
    slicing_function,
)
from slicewidgets.slicing.sf import validate_mask


# -- Snorkel's test/slicing/sf/test_core.py ----------------------------------------------------
def f(x: SimpleNamespace) -> int:
    return x.num > 42


def test_slicing_function_snorkel():
    sf = SlicingFunction(name="my_sf", f=f)
    assert sf(SimpleNamespace(num=8)) is False
    assert sf(SimpleNamespace(num=43)) is True
    assert sf(SimpleNamespace(num=42)) is False
    with pytest.raises(TypeError):
        sf(SimpleNamespace(num=None))
    assert repr(sf) == "SlicingFunction my_sf, Preprocessors: []"


def test_slicing_function_decorator_snorkel():
    @slicing_function()
    def sf(x) -> int:
        return x.num > 42

    assert isinstance(sf, SlicingFunction)
    assert sf.name == "sf"
    assert sf(SimpleNamespace(num=43)) is True

    @slicing_function(name="my_sf")
    def other(x):
        return True

    assert other.name == "my_sf"


def test_decorator_without_parentheses_raises():
    with pytest.raises(ValueError, match=r"^Looks like this decorator is missing parentheses! "
                                         r"Write @slicing_function\(\) instead of "
                                         r"@slicing_function\.$"):

        @slicing_function
        def sf(x):
            return True


def test_resources_and_preprocessors_reach_the_function():
    @preprocessor()
    def square(x):
        x.num_squared = x.num**2
        return x

    @slicing_function(resources=dict(threshold=100), pre=[square])
    def big_square(x, threshold):
        return x.num_squared > threshold

    assert big_square(SimpleNamespace(num=11)) is True
    assert big_square(SimpleNamespace(num=9)) is False
    assert repr(big_square).startswith("SlicingFunction big_square, Preprocessors: [")


def test_preprocessor_returning_none_is_an_error_naming_it():
    @preprocessor()
    def broken(x):
        return None

    sf = SlicingFunction("uses_broken", f, pre=[broken])
    with pytest.raises(ValueError, match=r"^Preprocessor should not return None: preprocessor "
                                         r"'broken' of slicing function 'uses_broken' returned "
                                         r"None; make it return the data point\.$"):
        sf(SimpleNamespace(num=1))


@pytest.mark.parametrize("name", ["", None, 3])
def test_bad_names_are_rejected(name):
    with pytest.raises(TypeError, match="SlicingFunction name must be a non-empty string, got"):
        SlicingFunction(name, f)


def test_bad_f_and_pre_are_rejected():
    with pytest.raises(TypeError, match=r"^SlicingFunction 'x': f must be callable, got int\.$"):
        SlicingFunction("x", 3)
    with pytest.raises(TypeError, match=r"SlicingFunction 'x': pre must hold preprocessors, "
                                        r"got 3\."):
        SlicingFunction("x", f, pre=[3])

    @preprocessor()
    def p(x):
        return x

    with pytest.raises(ValueError, match="preprocessors are row-wise and cannot feed a "
                                         "vectorized SF"):
        SlicingFunction("x", lambda df: df.a > 1, pre=[p], vectorized=True)


# -- vectorized SFs ------------------------------------------------------------------------------
def test_vectorized_sf_masks_and_evaluates_single_points():
    @slicing_function(vectorized=True)
    def big(df):
        return df.num > 42

    df = pd.DataFrame({"num": [1, 50, 43]}, index=[5, 6, 7])
    assert big.mask(df).tolist() == [False, True, True]
    assert big(SimpleNamespace(num=50)) is True
    assert big({"num": 3}) is False
    assert big(pd.Series({"num": 99})) is True
    with pytest.raises(TypeError, match="Cannot evaluate a vectorized slicing function on int"):
        big(3)
    assert repr(big) == "SlicingFunction big, Preprocessors: [], vectorized"


@pytest.mark.parametrize("out, error, message", [
    (lambda df: df.num.to_numpy()[:-1] > 0, ValueError,
     r"^Vectorized slicing function 'bad' returned shape \(2,\) for a DataFrame of 3 rows; "
     r"return one boolean per row\.$"),
    (lambda df: df.num.iloc[:2] > 0, ValueError,
     r"^Vectorized slicing function 'bad' returned 2 values for a DataFrame of 3 rows; "),
    (lambda df: df.num, TypeError,
     r"^Vectorized slicing function 'bad' returned dtype int64; expected a boolean mask \(or "
     r"0/1 integers\)\. Compare to get booleans, e\.g\. `df\.n_words < 5`\.$"),
    (lambda df: df.num * 0.5, TypeError, "returned dtype float64"),
    (lambda df: (df.num > 1).reset_index(drop=True), ValueError,
     r"^Vectorized slicing function 'bad' returned a Series whose index is not aligned with "
     r"the DataFrame's \(was it sorted, filtered or reset\?\)"),
    (lambda df: (df.num > 1).sort_values(ascending=False), ValueError, "index is not aligned"),
    (lambda df: pd.Series([True, None, False], index=df.index, dtype="object"), ValueError,
     r"returned missing values \(1 of 3\); fill them, e\.g\. `\.fillna\(False\)`"),
    (lambda df: df, TypeError, "returned a DataFrame; expected one boolean per row"),
    (lambda df: True, ValueError, r"returned shape \(\) for a DataFrame of 3 rows"),
    (lambda df: np.array(["a", "b", "c"]), TypeError, "returned dtype <U1"),
])
def test_vectorized_sf_bad_output_names_the_sf(out, error, message):
    sf = SlicingFunction("bad", out, vectorized=True)
    df = pd.DataFrame({"num": [1, 2, 3]}, index=[10, 11, 12])
    with pytest.raises(error, match=message):
        sf.mask(df)


def test_validate_mask_accepts_booleans_and_0_1():
    df = pd.DataFrame({"a": [1, 2, 3]})
    assert validate_mask("s", np.array([1, 0, 1]), df).tolist() == [True, False, True]
    assert validate_mask("s", [True, False, True], df).dtype == bool
    assert validate_mask("s", np.array([True, 0, np.True_], dtype=object), df).tolist() == [
        True, False, True]
    assert validate_mask("s", pd.Series([True, False, True], dtype="boolean"), df).tolist() == [
        True, False, True]
    with pytest.raises(TypeError, match="returned dtype int64"):
        validate_mask("s", np.array([1, 2, 0]), df)


def test_vectorized_sf_raising_is_wrapped_with_its_name():
    sf = SlicingFunction("boom", lambda df: df.nope > 1, vectorized=True)
    with pytest.raises(SFApplyError, match=r"^Slicing function 'boom' raised AttributeError on "
                                           r"the whole DataFrame \(vectorized\): ") as info:
        sf.mask(pd.DataFrame({"a": [1]}))
    assert info.value.sf_name == "boom" and info.value.index is None


def test_sf_apply_error_pickles_with_its_fields():
    err = SFApplyError("sf", 12, 3, ZeroDivisionError("x"), partition=2)
    back = pickle.loads(pickle.dumps(err))
    assert (back.sf_name, back.index, back.position, back.partition) == ("sf", 12, 3, 2)
    assert str(back) == str(err) == (
        "Slicing function 'sf' raised ZeroDivisionError on the row with index 12 (position 3) "
        "of partition 2: x. Fix the SF, or apply with fault_tolerant=True to count failing "
        "rows as not in the slice."
    )


# -- builders --------------------------------------------------------------------------------------
def test_keyword_sf_matches_case_insensitive_substrings_and_skips_missing_text():
    sf = keyword_sf(["please", "plz"])
    assert isinstance(sf, KeywordSlicingFunction) and sf.vectorized
    assert sf.name == "keyword_please"
    assert (sf.keywords, sf.column, sf.case) == (["please", "plz"], "text", False)
    df = pd.DataFrame({"text": ["PLEASE subscribe", "plzzz", "nice", None, np.nan, "Plz"]})
    assert sf.mask(df).tolist() == [True, True, False, False, False, True]
    assert sf(SimpleNamespace(text="Plz")) is True
    assert sf({"text": None}) is False
    assert sf(pd.Series({"text": "nope"})) is False
    assert keyword_sf("check out").name == "keyword_check_out"
    assert keyword_sf(["Please"], case=True).mask(df).tolist() == [False] * 6
    assert keyword_sf(["PLEASE"], case=True).mask(df).tolist() == [True] + [False] * 5
    assert keyword_sf(["a"], name="x", column="c").mask(
        pd.DataFrame({"c": ["a", "b"]})).tolist() == [True, False]
    assert repr(sf) == ("KeywordSlicingFunction keyword_please, keywords=['please', 'plz'], "
                        "column='text'")


def test_keyword_sf_bad_input():
    with pytest.raises(ValueError, match="^keyword_sf needs at least one keyword, got an empty "
                                         "list.$"):
        keyword_sf([])
    with pytest.raises(ValueError, match=r"^keyword_sf 'k': keywords must be a non-empty list of "
                                         r"non-empty strings, got \['a', ''\]\.$"):
        keyword_sf(["a", ""], name="k")
    with pytest.raises(ValueError, match="non-empty strings, got"):
        keyword_sf(["a", 3], name="k")
    sf = keyword_sf(["a"], column="body")
    with pytest.raises(SFApplyError, match=r"reads column 'body', which the DataFrame does not "
                                           r"have \(columns: \['text'\]\); pass column=\.\.\."):
        sf.mask(pd.DataFrame({"text": ["a"]}))
    dup = pd.DataFrame([["a", "b"]], columns=["text", "text"])
    with pytest.raises(SFApplyError, match="appears 2 times in the DataFrame"):
        keyword_sf(["a"]).mask(dup)


def test_regex_sf():
    sf = regex_sf(r"check.*out", flags=re.I)
    assert isinstance(sf, RegexSlicingFunction)
    assert sf.name == "regex_check_out" and sf.pattern == "check.*out"
    df = pd.DataFrame({"text": ["Check it OUT", "out check", None, 3]}, dtype=object)
    assert sf.mask(df).tolist() == [True, False, False, False]
    assert sf(SimpleNamespace(text="checkout")) is True
    assert regex_sf(r"\w+\.ly").name == "regex_w_ly"
    assert regex_sf(r"...").name == "regex_pattern"
    assert regex_sf(re.compile("ab", re.I)).mask(pd.DataFrame({"text": ["xAB"]})).tolist() == [
        True]
    with pytest.raises(ValueError, match=r"^regex_sf 'regex_a': invalid pattern '\(a': "):
        regex_sf("(a")
    assert repr(sf) == "RegexSlicingFunction regex_check_out, pattern='check.*out', column='text'"


# -- algebra ---------------------------------------------------------------------------------------
@pytest.fixture
def abc():
    a = SlicingFunction("a", lambda x: x.a)
    b = SlicingFunction("b", lambda df: df.b, vectorized=True)
    c = keyword_sf(["c"], name="c")
    return a, b, c


def test_combinations_give_masks_and_point_values(abc):
    a, b, c = abc
    df = pd.DataFrame({"a": [True, True, False, False], "b": [True, False, True, False],
                       "text": ["c", "x", "c", "x"]})
    both = a & b
    assert isinstance(both, CombinedSlicingFunction)
    assert both.mask(df).tolist() == [True, False, False, False]
    assert (a | b).mask(df).tolist() == [True, True, True, False]
    assert (~a).mask(df).tolist() == [False, False, True, True]
    assert ((a | b) & ~c).mask(df).tolist() == [False, True, False, False]
    x = SimpleNamespace(a=True, b=False, text="c")
    assert (a & c)(x) is True and (a & b)(x) is False and (~b)(x) is True and (b | c)(x) is True
    with pytest.raises(TypeError, match=r"^Cannot combine a SlicingFunction with int using '&'; "):
        a & 3  # noqa: B018


def test_combination_names_keep_precedence(abc):
    a, b, c = abc
    assert (a & b).name == "a_and_b"
    assert (a | b | c).name == "a_or_b_or_c"
    assert ((a & b) | c).name == "(a_and_b)_or_c"
    assert (a & (b | c)).name == "a_and_(b_or_c)"
    assert ((a & b) | c).name != (a & (b | c)).name
    assert (~(a & b)).name == "not_(a_and_b)"
    assert (~a & b).name == "not_a_and_b"
    assert (~~a).name == "not_not_a"
    assert ((a & b).rename("ab") | c).name == "ab_or_c"
    renamed = (a | b).rename("either")
    assert renamed.name == "either" and (a | b).name == "a_or_b"
    assert renamed.fingerprint == (a | b).fingerprint


# -- fingerprints ----------------------------------------------------------------------------------
def test_fingerprint_follows_code_resources_and_closures_not_names():
    def make(threshold):
        return SlicingFunction("s", lambda x: x.n > threshold)

    assert make(1).fingerprint == make(1).fingerprint
    assert make(1).fingerprint != make(2).fingerprint
    s1 = SlicingFunction("s", lambda x, k: x.n > k, resources={"k": 1})
    s2 = SlicingFunction("t", lambda x, k: x.n > k, resources={"k": 1})
    s3 = SlicingFunction("s", lambda x, k: x.n > k, resources={"k": 2})
    assert s1.fingerprint == s2.fingerprint != s3.fingerprint
    assert s1.fingerprint != SlicingFunction("s", lambda x, k: x.n >= k,
                                             resources={"k": 1}).fingerprint
    big = np.arange(10_000)
    edited = big.copy()
    edited[5_000] = -1  # same repr (elided), different content
    assert (SlicingFunction("s", f, resources={"ids": big}).fingerprint
            != SlicingFunction("s", f, resources={"ids": edited}).fingerprint)
    words = pd.Series(["a", "b"])
    assert (SlicingFunction("s", f, resources={"w": words}).fingerprint
            != SlicingFunction("s", f, resources={"w": pd.Series(["a", "c"])}).fingerprint)
    assert keyword_sf(["a", "b"]).fingerprint == keyword_sf(["A", "b"], name="x").fingerprint
    assert keyword_sf(["a"]).fingerprint != keyword_sf(["a"], case=True).fingerprint
    assert regex_sf("a").fingerprint != regex_sf("a", flags=re.I).fingerprint
    assert (SlicingFunction("s", f).fingerprint
            != SlicingFunction("s", f, vectorized=True).fingerprint)


def test_fingerprint_of_preprocessors_and_bound_methods():
    @preprocessor()
    def p1(x):
        x.y = 1
        return x

    @preprocessor()
    def p2(x):
        x.y = 2
        return x

    def g(x):
        return x.y > 1

    assert SlicingFunction("s", g, pre=[p1]).fingerprint != SlicingFunction(
        "s", g, pre=[p2]).fingerprint

    class Holder:
        def __init__(self, k):
            self.k = k

        def check(self, x):
            return x.n > self.k

        def __repr__(self):
            return f"Holder({self.k})"

    assert (SlicingFunction("s", Holder(1).check).fingerprint
            != SlicingFunction("s", Holder(2).check).fingerprint)

    class SelfRef(SlicingFunction):  # f bound to the SF itself: no infinite recursion
        def __init__(self):
            super().__init__("self_ref", self.go)

        def go(self, x):
            return True

    assert isinstance(SelfRef().fingerprint, str)

    class BadRepr:
        def __repr__(self):
            raise RuntimeError("no repr")

    assert isinstance(SlicingFunction("s", f, resources={"o": BadRepr()}).fingerprint, str)


# -- clear errors for keyword/regex SFs (issue #14) ------------------------------------------------
def test_keyword_sf_with_a_non_string_keyword_names_it():
    with pytest.raises(ValueError, match=r"^keyword_sf: keywords must be a non-empty list of "
                                         r"non-empty strings, got int 1; write it as text, e\.g\. "
                                         r"'1'\.$"):
        keyword_sf([1])
    with pytest.raises(ValueError, match=r"keyword_sf 'k': .* strings, got bytes b'b'"):
        keyword_sf(["a", b"b"], name="k")
    with pytest.raises(TypeError, match="keywords must be a list of strings, got int"):
        keyword_sf(5)
    with pytest.raises(ValueError, match="needs at least one keyword"):
        keyword_sf([])


@pytest.mark.parametrize(("values", "kind", "hint"), [
    ([b"plz", b"nice"], "bytes", r"Decode it first, e.g. df\[column\].str.decode\('utf-8'\)"),
    ([1, 2], "int64", r"Convert it first, e.g. df\[column\].astype\(str\)"),
    ([3, None, 4.5], "int", "Convert it first"),
])
def test_text_sfs_on_a_column_without_text_raise_instead_of_matching_nothing(values, kind, hint):
    df = pd.DataFrame({"text": pd.Series(values, dtype=None if kind == "int64" else object)})
    for sf in (keyword_sf(["plz"]), regex_sf("plz")):
        with pytest.raises(SFApplyError) as info:
            PandasSFApplier([sf]).apply(df, progress_bar=False)
        message = str(info.value)
        assert f"Slicing function {sf.name!r} searches text, but column 'text' holds {kind} values" \
            in message
        assert "which would never match" in message
        assert re.search(hint, message)
    # missing values and string dtypes are text columns
    ok = pd.DataFrame({"text": pd.Series(["plz", None], dtype="string")})
    assert keyword_sf(["plz"]).mask(ok).tolist() == [True, False]
    assert keyword_sf(["plz"]).mask(pd.DataFrame({"text": ["plz", np.nan]})).tolist() == [True, False]
