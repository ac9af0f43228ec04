"""The incremental engine behind the live widgets (slicewidgets/slicing/incremental.py)."""

from __future__ import annotations

import contextlib
import re

import numpy as np
import pandas as pd
import pytest

from slicewidgets.analysis import Scorer
from slicewidgets.preprocess import preprocessor
from slicewidgets.slicing import (
    PandasSFApplier,
    SFApplyError,
    SliceMembership,
    SliceSet,
    SlicingFunction,
    keyword_sf,
    regex_sf,
    slicing_function,
)

TEXTS = ["please subscribe", "nice song", "check it out plz", "Check out my channel",
         "great", None, "love it please"]


@pytest.fixture
def df():
    return pd.DataFrame({"text": TEXTS, "n": [2, 2, 4, 4, 1, 0, 3]})


@slicing_function()
def short(x):
    return isinstance(x.text, str) and len(x.text.split()) < 3


@pytest.fixture
def ss(df):
    return SliceSet(df, [keyword_sf(["please", "plz"]), regex_sf("check.*out", flags=re.I), short])


def test_initial_masks_equal_the_applier(df, ss):
    S = PandasSFApplier(ss.sfs).apply(df, progress_bar=False)
    assert ss.names == ["keyword_please", "regex_check_out", "short"]
    for name in ss.names:
        assert ss.mask(name).tolist() == S[name].astype(bool).tolist()
    assert ss.S.tolist() == S.tolist()
    assert ss.sizes() == {"keyword_please": 3, "regex_check_out": 2, "short": 3}
    assert ss.n_computed == 3
    assert len(ss) == 3 and "short" in ss and ss["short"] is short
    assert repr(ss) == "SliceSet(7 rows; keyword_please=3, regex_check_out=2, short=3)"
    ss.set_enabled("short", False)
    assert repr(ss).endswith("short=3 (off))")


def test_precompute_fills_the_cache_without_changing_the_set(ss):
    edited = keyword_sf(["please", "plz", "song"], name="keyword_please")
    before, sizes = ss.n_computed, ss.sizes()
    (fp,) = ss.precompute([edited])
    assert fp == edited.fingerprint and ss.n_computed == before + 1
    assert ss.sizes() == sizes and ss["keyword_please"] is not edited  # the set is unchanged
    ss.update(edited)  # a cache hit
    assert ss.n_computed == before + 1 and ss.sizes()["keyword_please"] == 4
    ss.precompute([edited])  # cached: nothing computed
    assert ss.n_computed == before + 1
    ss.precompute([edited], fresh=True)  # forgotten first: computed again, same mask
    assert ss.n_computed == before + 2 and ss.sizes()["keyword_please"] == 4


def test_editing_one_sf_recomputes_only_that_sf(ss):
    before = ss.n_computed
    ss.update(keyword_sf(["please", "plz", "song"], name="keyword_please"))
    assert ss.n_computed == before + 1
    assert ss.sizes()["keyword_please"] == 4
    # editing it back is free: the old mask is cached by fingerprint
    ss.update(keyword_sf(["please", "plz"], name="keyword_please"))
    assert ss.n_computed == before + 1 and ss.sizes()["keyword_please"] == 3
    # same code under another name: free too
    ss.add(keyword_sf(["please", "plz"], name="again"))
    assert ss.n_computed == before + 1
    assert ss.mask("again").tolist() == ss.mask("keyword_please").tolist()


def test_add_remove_toggle(ss):
    before = ss.n_computed
    ss.add(keyword_sf(["love"]))
    assert ss.n_computed == before + 1 and ss.names[-1] == "keyword_love"
    ss.set_enabled("short", False)
    ss.set_enabled("short", False)  # no change, no event
    assert ss.enabled_names == ["keyword_please", "regex_check_out", "keyword_love"]
    assert not ss.is_enabled("short")
    assert list(ss.sizes()) == ss.enabled_names
    assert list(ss.sizes(enabled_only=False)) == ss.names
    assert ss.membership().names == ss.enabled_names
    assert ss.S.dtype.names == tuple(ss.enabled_names)
    ss.remove("keyword_love")
    assert "keyword_love" not in ss and "keyword_love" not in ss.errors
    ss.set_enabled("short", True)
    ss.add(keyword_sf(["love"]))  # back from the cache
    assert ss.n_computed == before + 1


def test_update_keeps_the_enabled_state_unless_told(ss):
    ss.set_enabled("short", False)
    ss.update(SlicingFunction("short", lambda x: x.n < 2))
    assert not ss.is_enabled("short")
    ss.update(SlicingFunction("short", lambda x: x.n < 3), enabled=True)
    assert ss.is_enabled("short") and ss.sizes()["short"] == 4


def test_events(ss, df):
    events = []

    def listener(event, name):
        events.append((event, name))

    ss.observe(listener)
    ss.add(keyword_sf(["love"]))
    ss.update(keyword_sf(["lov"], name="keyword_love"))
    ss.set_enabled("keyword_love", False)
    ss.remove("keyword_love")
    ss.update(keyword_sf(["nice"]))
    ss.refresh("short")
    ss.set_frame(df.iloc[:3])
    ss.unobserve(listener)
    ss.set_enabled("short", False)
    assert events == [("add", "keyword_love"), ("edit", "keyword_love"),
                      ("toggle", "keyword_love"), ("remove", "keyword_love"),
                      ("add", "keyword_nice"), ("edit", "short"), ("frame", None)]


def test_bad_input_names_the_problem(ss):
    with pytest.raises(ValueError, match=r"^A slicing function named 'short' is already in the "
                                         r"set; use update\(\) to replace it"):
        ss.add(SlicingFunction("short", lambda x: True))
    with pytest.raises(TypeError, match="^SliceSet.add expects a SlicingFunction, got function"):
        ss.add(lambda x: True)
    with pytest.raises(TypeError, match="^SliceSet.update expects a SlicingFunction, got str"):
        ss.update("short")
    with pytest.raises(KeyError, match=r"No slicing function named 'nope'; the set has "
                                       r"\['keyword_please', 'regex_check_out', 'short'\]"):
        ss.mask("nope")
    for call in (ss.remove, ss.set_enabled, ss.is_enabled, ss.slice_dataframe, ss.refresh):
        with pytest.raises(KeyError, match="No slicing function named 'nope'"):
            call("nope")
    with pytest.raises(TypeError, match="^SliceSet needs a pandas DataFrame, got list"):
        SliceSet([1, 2])
    with pytest.raises(ValueError, match="Operator names not unique: 2 operators with name a"):
        SliceSet(pd.DataFrame({"text": ["a"]}), [keyword_sf(["a"], name="a"),
                                                 keyword_sf(["b"], name="a")])


def test_failing_rows_are_recorded_and_do_not_block_the_others(df):
    @slicing_function()
    def fragile(x):
        return x.text.startswith("p")  # None has no startswith

    ss = SliceSet(df, [fragile, keyword_sf(["plz"])])
    assert ss.sizes() == {"fragile": 1, "keyword_plz": 1}
    assert dict(ss.errors["fragile"].faults) == {"fragile": 1}
    assert ss.errors["fragile"].fault_rows["fragile"] == [5]
    assert ss.errors["fragile"].errors["fragile"].startswith("AttributeError")
    assert dict(ss.errors["keyword_plz"].faults) == {}
    assert dict(ss.membership().meta.faults) == {"fragile": 1}
    # the faults follow a renamed copy, under its own name
    ss.add(fragile.rename("fragile2"))
    assert dict(ss.errors["fragile2"].faults) == {"fragile2": 1}
    # combined SFs report the faults of their parts under their own name
    ss.add((fragile & keyword_sf(["plz"])).rename("both"))
    assert dict(ss.errors["both"].faults) == {"both": 1}
    # ... and leave those rows out, negated too: ~fragile holds neither row 5 (it raised
    # there) nor the rows fragile holds
    ss.add(~fragile)
    assert ss.sizes()["not_fragile"] == len(df) - 1 - ss.sizes()["fragile"]
    assert not ss.slice_dataframe("not_fragile").text.isna().any()
    assert dict(ss.errors["not_fragile"].faults) == {"not_fragile": 1}
    assert ss.errors["not_fragile"].fault_rows["not_fragile"] == [5]


def test_negated_sf_on_a_misspelt_column_holds_no_row():
    ss = SliceSet(pd.DataFrame({"text": ["plz", "x", "y"]}), [~keyword_sf(["plz"], column="txt")])
    assert ss.sizes() == {"not_keyword_plz": 0}  # every row failed: none is in the negation
    assert dict(ss.errors["not_keyword_plz"].faults) == {"not_keyword_plz": 3}
    assert ss.errors["not_keyword_plz"].errors["not_keyword_plz"].startswith(
        "KeyError: \"Slicing function 'keyword_plz' reads column 'txt'")


def test_strict_set_raises_and_a_failed_update_changes_nothing(df):
    ss = SliceSet(df, [keyword_sf(["plz"])], fault_tolerant=False)
    with pytest.raises(SFApplyError, match=r"^Slicing function 'keyword_plz' raised "
                                           r"AttributeError on the row with index 5"):
        ss.update(SlicingFunction("keyword_plz", lambda x: x.text.startswith("c")))
    assert ss.sizes() == {"keyword_plz": 1}
    bad = SlicingFunction("bad", lambda df: df.n, vectorized=True)
    with pytest.raises(TypeError, match="Vectorized slicing function 'bad' returned dtype"):
        ss.add(bad)
    assert ss.names == ["keyword_plz"]


LIMIT = [2]


def _below(x):
    return x.n < LIMIT[0]  # reads a global: its value is part of the fingerprint


def test_an_edited_global_is_recomputed_and_refresh_recomputes_anyway(df):
    LIMIT[0] = 2
    try:
        ss = SliceSet(df, [SlicingFunction("below", _below)])
        assert ss.sizes()["below"] == 2
        LIMIT[0] = 4
        n = ss.n_computed
        ss.update(SlicingFunction("below", _below))
        assert ss.sizes()["below"] == 5 and ss.n_computed == n + 1
        ss.refresh()
        assert ss.sizes()["below"] == 5 and ss.n_computed == n + 2
    finally:
        LIMIT[0] = 2


def test_set_frame_recomputes_everything_and_keeps_the_state_on_failure(ss, df):
    ss.set_enabled("short", False)
    n = ss.n_computed
    ss.set_frame(df.iloc[:4])
    assert ss.n_computed == n + 3
    assert ss.sizes() == {"keyword_please": 2, "regex_check_out": 2}
    assert not ss.is_enabled("short") and len(ss.df) == 4
    with pytest.raises(TypeError, match="^SliceSet needs a pandas DataFrame"):
        ss.set_frame(None)
    # fault tolerant: the missing column fails every row of the SFs that read it
    ss.set_frame(pd.DataFrame({"other": [1, 2]}))
    assert ss.errors["keyword_please"].faults["keyword_please"] == 2
    assert ss.errors["keyword_please"].errors["keyword_please"].startswith(
        "KeyError: \"Slicing function 'keyword_please' reads column 'text'")
    strict = SliceSet(df, [keyword_sf(["plz"])], fault_tolerant=False)
    with pytest.raises(SFApplyError, match="reads column 'text', which the DataFrame does not"):
        strict.set_frame(pd.DataFrame({"other": [1]}))
    assert len(strict.df) == 7 and strict.sizes() == {"keyword_plz": 1}


def test_results_views(ss, df):
    m = ss.mask("keyword_please")
    assert not m.flags.writeable
    with pytest.raises(ValueError):
        m[0] = False
    assert ss.slice_dataframe("regex_check_out").index.tolist() == [2, 3]
    membership = ss.membership()
    assert isinstance(membership, SliceMembership)
    assert ss.membership() is membership  # cached until a change
    ss.set_enabled("short", False)
    assert ss.membership() is not membership
    assert ss.membership(enabled_only=False).names == ss.names


def test_score_equals_scorer_on_the_applier_output(ss, df):
    golds = np.array([1, 0, 1, 1, 0, 0, 1])
    preds = np.array([1, 0, 0, 1, 1, 0, 1])
    scorer = Scorer(metrics=["accuracy", "f1"])
    want = scorer.score_slices(PandasSFApplier(ss.sfs).apply(df, progress_bar=False), golds,
                               preds, as_dataframe=True)
    got = ss.score(scorer, golds, preds, as_dataframe=True)
    pd.testing.assert_frame_equal(got, want)


def test_keyword_edits_reuse_the_tokenized_column(ss):
    index = ss._text_cache[("text", False)]
    assert index.has_tokens
    ss.update(keyword_sf(["song"], name="keyword_please"))
    assert ss._text_cache[("text", False)] is index
    assert ss.mask("keyword_please").tolist() == [False, True, False, False, False, False,
                                                  False]


class _Calls(list):
    """A call log that changes no result: its content is left out of fingerprints (else a
    preprocessor reading it would start afresh after each apply, as it must for state that
    can change its outputs)."""

    def __slicewidgets_fingerprint__(self):
        return "calls"


def test_memoized_preprocessor_is_not_rerun_for_an_edited_sf(df):
    calls = _Calls()

    @preprocessor(memoize=True)
    def count_words(x):
        calls.append(1)
        x.n_words = len(x.text.split()) if isinstance(x.text, str) else 0
        return x

    ss = SliceSet(df, [SlicingFunction("few", lambda x: x.n_words < 2, pre=[count_words])])
    assert len(calls) == 7
    ss.update(SlicingFunction("few", lambda x: x.n_words < 3, pre=[count_words]))
    assert len(calls) == 7 and ss.sizes()["few"] == 4


def test_cache_size_bounds_old_versions(df):
    ss = SliceSet(df, [keyword_sf(["a"], name="k")], cache_size=2)
    for word in ["b", "c", "d", "e"]:
        ss.update(keyword_sf([word], name="k"))
    assert len(ss._cache) == 3  # the mask in use + 2 others
    n = ss.n_computed
    ss.update(keyword_sf(["d"], name="k"))  # recent: still cached
    ss.update(keyword_sf(["a"], name="k"))  # evicted: recomputed
    assert ss.n_computed == n + 1


def test_empty_set_and_empty_frame():
    ss = SliceSet(pd.DataFrame({"text": pd.Series([], dtype=str)}))
    assert ss.names == [] and ss.S.shape == (0,) and ss.sizes() == {}
    ss.add(keyword_sf(["a"]))
    assert ss.sizes() == {"keyword_a": 0}


# -- the membership handed to the analysis: keyed masks, counts reused --------------------------
WORDS = ["please", "song", "check", "out", "love", "my", "it", "great", "plz", "channel"]


def _fresh_membership(ss, enabled_only=True):
    """The same slices computed from scratch, as a plain (unkeyed) matrix."""
    names = ss.enabled_names if enabled_only else ss.names
    sfs = [ss[name] for name in names]
    if not sfs:
        return SliceMembership([], np.zeros((len(ss.df), 0), dtype=bool))
    S = PandasSFApplier(sfs).apply(ss.df, progress_bar=False)
    return SliceMembership(names, np.column_stack([S[name] > 0 for name in names]))


@contextlib.contextmanager
def _cold_caches():
    """Empty every cache the report reads (counts, resamples, intervals), then put them back."""
    from slicewidgets.analysis import _column_counts, estimators

    caches = [_column_counts._COUNTS, _column_counts._INDICATORS, estimators._RESAMPLES,
              estimators._INTERVALS]
    saved = [cache.copy() for cache in caches]
    for cache in caches:
        cache.clear()
    try:
        yield
    finally:
        for cache, content in zip(caches, saved, strict=True):
            cache.clear()
            if isinstance(cache, list):
                cache.extend(content)
            else:
                cache.update(content)


def _assert_same_results(ss, golds, preds, scorer):
    for enabled_only in (True, False):
        got, want = ss.membership(enabled_only), _fresh_membership(ss, enabled_only)
        assert got.names == want.names
        assert np.array_equal(got.matrix, want.matrix)
        assert got.sizes.tolist() == want.sizes.tolist()
        got_report = scorer.slice_report(got, golds, preds, random_state=0).to_frame()
        got_scores = scorer.score_slices(got, golds, preds, as_dataframe=True)
        with _cold_caches():  # from scratch: nothing reused
            want_report = scorer.slice_report(want, golds, preds, random_state=0).to_frame()
            want_scores = scorer.score_slices(want, golds, preds, as_dataframe=True)
        pd.testing.assert_frame_equal(got_report, want_report)
        pd.testing.assert_frame_equal(got_scores, want_scores)


def test_edits_toggles_removals_and_reorders_give_fresh_results():
    """Whatever happened before, a report on ``ss.membership()`` (whose counts come from the
    cache by mask key) equals one on the same slices computed from scratch."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from slicewidgets.analysis._column_counts import CACHE_STATS

    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(WORDS, rng.integers(1, 5))) for _ in range(80)]
    frames = [pd.DataFrame({"text": texts}),
              pd.DataFrame({"text": texts[::-1]})]  # same length, other rows
    op = st.one_of(
        st.tuples(st.just("edit"), st.integers(0, 3), st.integers(0, 9), st.integers(0, 9)),
        st.tuples(st.just("toggle"), st.integers(0, 3)),
        st.tuples(st.just("remove"), st.integers(0, 3)),
        st.tuples(st.just("refresh"), st.integers(0, 3)),
        st.tuples(st.just("preds"), st.integers(0, 79)),  # predictions changed in place
        st.tuples(st.just("frame"), st.integers(0, 1)),
    )
    scorer = Scorer(metrics=["accuracy", "precision", "f1", "matthews_corrcoef", "coverage"])
    hits = CACHE_STATS["hits"]

    @settings(max_examples=30, deadline=None)
    @given(st.lists(op, min_size=1, max_size=12))
    def run(ops):
        golds = np.resize([0, 1, 1, 0, 1], 80)
        preds = np.resize([0, 1, 0, 0, 1, -1, 1], 80)
        ss = SliceSet(frames[0], [keyword_sf([w], name=f"s{i}")
                                  for i, w in enumerate(WORDS[:3])])
        _assert_same_results(ss, golds, preds, scorer)
        for step in ops:
            kind, i = step[0], step[1]
            name = f"s{i}"
            if kind == "edit":  # an edit, an add (at the end: a reorder) or an edit back
                ss.update(keyword_sf([WORDS[step[2]], WORDS[step[3]]], name=name))
            elif kind == "toggle" and name in ss:
                ss.set_enabled(name, not ss.is_enabled(name))
            elif kind == "remove" and name in ss:
                ss.remove(name)
            elif kind == "refresh" and name in ss:
                ss.refresh(name)
            elif kind == "preds":
                preds[i] = 1 - preds[i] if preds[i] >= 0 else 0
            elif kind == "frame":
                ss.set_frame(frames[i])
            _assert_same_results(ss, golds, preds, scorer)

    run()
    assert CACHE_STATS["hits"] > hits  # the comparisons above did exercise the cache


def test_one_edit_recounts_one_slice():
    from slicewidgets.analysis._column_counts import CACHE_STATS

    rng = np.random.default_rng(1)
    df = pd.DataFrame({"text": [" ".join(rng.choice(WORDS, 3)) for _ in range(200)]})
    ss = SliceSet(df, [keyword_sf([w]) for w in WORDS])
    golds, preds = rng.integers(0, 2, 200), rng.integers(0, 2, 200)
    scorer = Scorer(metrics=["accuracy", "f1"])
    scorer.slice_report(ss.membership(), golds, preds)
    before = dict(CACHE_STATS)
    ss.update(keyword_sf(["please", "song"], name="keyword_please"))
    scorer.slice_report(ss.membership(), golds, preds)
    assert CACHE_STATS["misses"] - before["misses"] == 1
    assert CACHE_STATS["hits"] - before["hits"] == len(WORDS) - 1
    preds[0] = 1 - preds[0]  # new predictions: every slice is counted again
    scorer.slice_report(ss.membership(), golds, preds)
    assert CACHE_STATS["misses"] - before["misses"] == 1 + len(WORDS)


def test_membership_is_read_only_and_keyed_per_computed_mask(ss, df):
    import pickle

    m = ss.membership()
    assert m.column_keys is not None and len(set(m.column_keys)) == 3
    for array in (m.matrix, m["short"], m.column(0)):
        with pytest.raises(ValueError, match="read-only"):
            array[(0,) * array.ndim] = False
    # another set on another frame, with the same SFs: other masks, other keys
    other = SliceSet(df.iloc[::-1].reset_index(drop=True), ss.sfs)
    assert not set(other.membership().column_keys) & set(m.column_keys)
    # a refresh computes the mask again: a new key even though the SF is the same
    ss.refresh("short")
    keys = ss.membership().column_keys
    assert keys[:2] == m.column_keys[:2] and keys[2] != m.column_keys[2]
    # editing back to an earlier version reuses that version's mask, and its key
    ss.update(keyword_sf(["song"], name="keyword_please"))
    ss.update(keyword_sf(["please", "plz"], name="keyword_please"))
    assert ss.membership().column_keys[0] == m.column_keys[0]
    # a copy is writeable again: it carries no keys, so its counts are never reused
    copy = pickle.loads(pickle.dumps(m))
    assert copy.column_keys is None and copy.matrix.tolist() == m.matrix.tolist()
