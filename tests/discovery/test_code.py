"""Candidates are code: every predicate's code gives the rows the search used, on any frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slicewidgets.discovery import find_slices
from slicewidgets.discovery._code import build_sf, code_namespace
from slicewidgets.discovery._predicates import featurize
from slicewidgets.slicing import SlicingFunction, slicing_function

WORDS = ["free", "FREE", "Free", "check", "out", "my", "channel", "http://x.io", "bit.ly/ab",
         "www.site.com", "123", "a1", "İt", "\u212aey", "key", "ſub", "sub", "ß", "café", "caf",
         "!!", "?", "@bob", "😀", "subscribe", "SUBSCRIBE", "_x", "x_y", "go-to", "free-ish"]

texts = st.one_of(
    st.none(),
    st.lists(st.sampled_from(WORDS), min_size=0, max_size=8).map(" ".join),
    st.text(max_size=12),
)


@st.composite
def frames(draw):
    n = draw(st.integers(min_value=1, max_value=40))
    cat = draw(st.lists(st.sampled_from(["fr", "de", "us", None]), min_size=n, max_size=n))
    ints = draw(st.lists(st.integers(-5, 100), min_size=n, max_size=n))
    floats = draw(st.lists(st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.just(np.nan)),
                           min_size=n, max_size=n))
    f32 = draw(st.lists(st.floats(-10, 10, width=32), min_size=n, max_size=n))
    nullable = draw(st.lists(st.one_of(st.none(), st.integers(0, 50)), min_size=n, max_size=n))
    text = draw(st.lists(texts, min_size=n, max_size=n))
    flags = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return pd.DataFrame({
        "country": pd.Series(cat, dtype=object),
        "age": np.array(ints, dtype=np.int64),
        "income": np.array(floats, dtype=float),
        "score": np.array(f32, dtype=np.float32),
        "visits": pd.array(nullable, dtype="Int64"),
        "text": pd.Series(text, dtype=object),
        "flag": np.array(flags),
    })


def _code_mask(pred, df):
    ns = code_namespace({"df": df})
    out = eval(pred.expr, ns)  # noqa: S307 - the predicate's own code
    return SlicingFunction("p", lambda d: out, vectorized=True).mask(df)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_every_predicate_code_gives_the_rows_the_search_used(df):
    feats = featurize(df, min_support=1, text_columns=["text"], max_df=1.0, stop_words=None,
                      n_bins=4)
    assert feats.predicates, "expected some predicates"
    for j, pred in enumerate(feats.predicates):
        rows = feats.csc.indices[feats.csc.indptr[j]:feats.csc.indptr[j + 1]]
        expected = np.zeros(len(df), dtype=bool)
        expected[rows] = True
        np.testing.assert_array_equal(_code_mask(pred, df), expected, err_msg=pred.expr)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames(), frames(), st.integers(0, 2**32 - 1))
def test_candidate_sf_is_the_candidate_mask_on_any_frame(df, other, seed):
    errors = np.random.default_rng(seed).random(len(df)) < 0.4
    if not errors.any():
        errors[0] = True
    found = find_slices(df, errors=errors, k=20, max_order=2, min_support=1, max_overlap=None,
                        text_columns=["text"], max_df=1.0, stop_words=None, n_bins=4)
    for c in found:
        # on the discovery frame: the rows the search scored
        expected = np.zeros(len(df), dtype=bool)
        expected[c.rows] = True
        np.testing.assert_array_equal(c.sf.mask(df), expected, err_msg=c.code)
        assert c.n == len(c.rows)
        # on another frame: the conjunction of its predicates' code
        want = np.logical_and.reduce([_code_mask(p, other) for p in c.predicates])
        np.testing.assert_array_equal(c.sf.mask(other), want, err_msg=c.code)


def test_code_is_short_readable_and_runs_in_a_fresh_namespace():
    rng = np.random.default_rng(1)
    n = 2000
    df = pd.DataFrame({
        "country": rng.choice(["fr", "de", "us"], n),
        "text": rng.choice(["free stuff here now", "check out my channel please",
                            "nice song love it", "great video thanks man"], n),
    })
    errors = rng.random(n) < np.where((df.country == "fr") & df.text.str.contains("free"), 0.8,
                                      0.1)
    found = find_slices(df, errors=errors, k=3, text_columns=["text"])
    top = found[0]
    assert {p.label for p in top.predicates} == {"country == 'fr'", "text has word 'free'"}
    assert top.code.splitlines()[0].startswith("# country == 'fr' and text has word 'free'")
    assert top.code.splitlines()[1] == "@slicing_function(vectorized=True)"
    assert len(top.code.splitlines()) <= 7
    assert "df['country'] == 'fr'" in top.code and r'regex_sf(r"\bfree\b"' in top.code
    # the code defines exactly the SF named like the candidate, with the same rows
    sf = build_sf(top.code, top.name)
    assert sf.name == top.name == top.sf.name
    np.testing.assert_array_equal(sf.mask(df), top.sf.mask(df))


def test_single_text_predicate_is_a_regex_sf_line():
    df = pd.DataFrame({"text": ["free phone", "lovely song"] * 100 + ["meh ok"] * 50})
    errors = np.r_[np.tile([1, 0], 100), np.zeros(50)]
    found = find_slices(df, errors=errors, k=1, min_support=10, text_columns=["text"])
    assert found[0].code.strip().splitlines()[-1].startswith(f"{found[0].name} = regex_sf(r")
    assert "flags=re.I | re.A" in found[0].code


def test_user_sf_as_base_predicate_is_referenced_by_name():
    @slicing_function(vectorized=True)
    def big_id(df):
        return df["id"] >= 500

    df = pd.DataFrame({"id": np.arange(1000), "g": np.tile(["a", "b"], 500)})
    errors = ((df.id >= 500) & (df.g == "a")).to_numpy()
    found = find_slices(df, errors=errors, k=1, columns=["g"], sfs=[big_id], min_support=10)
    top = found[0]
    assert "big_id.mask(df)" in top.code
    np.testing.assert_array_equal(top.sf.mask(df), errors)


def test_user_sf_name_must_be_an_identifier():
    sf = SlicingFunction("not ok", lambda df: df.id > 1, vectorized=True)
    df = pd.DataFrame({"id": np.arange(100)})
    with pytest.raises(ValueError, match="not a Python identifier"):
        find_slices(df, errors=np.arange(100) % 2, sfs=[sf], min_support=5)
