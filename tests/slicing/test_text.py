"""Shared keyword search over a text column (slicewidgets/slicing/_text.py)."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slicewidgets.slicing._text import (
    MAX_DIRECT_KEYWORDS,
    SEPARATOR,
    TextIndex,
    _utf8_contains,
    keyword_masks,
)

pa = pytest.importorskip("pyarrow")
pc = pytest.importorskip("pyarrow.compute")


def _reference(texts, groups, case=False):
    out = []
    for group in groups:
        out.append([isinstance(t, str) and any(k in (t if case else t.lower()) for k in group)
                    for t in texts])
    return out


def test_tokens_and_direct_search_agree_on_tricky_text():
    texts = ["İstanbul ΣΑΣ", "ΟΔΟΣ", "straße STRASSE", "ﬁsh", "a\u00a0b", "x\ty  z", "",
             "bit.ly/abc", None, "😍😍", "e\u0301", "\u00e9"]
    groups = [["i̇st"], ["σας"], ["οδος"], ["ς"], ["ss"], ["ß"], ["ﬁ"], ["a\u00a0b"], ["y  z"],
              ["t.ly"], ["😍"], ["\u0301"], ["x\ty"], ["nothing", "bul σ"]]
    want = _reference(texts, groups)
    for use_tokens in (False, True):
        index = TextIndex(pd.Series(texts, dtype="str"))
        assert [m.tolist() for m in index.masks(groups, use_tokens=use_tokens)] == want
        assert index.has_tokens is use_tokens
    obj = TextIndex(pd.Series(texts, dtype=object))
    assert [m.tolist() for m in obj.masks(groups, use_tokens=True)] == want


@pytest.mark.parametrize("type_", ["string", "large_string"])
def test_byte_search_ignores_matches_across_rows_and_reads_slices(type_):
    texts = ["xab", "cd", None, "", "abc", "éa", "bé", "plz"]
    full = pa.array(["zz"] + texts + ["zz"], type=getattr(pa, type_)())
    arr = full.slice(1, len(texts))  # offset 1: offsets and data do not start at 0
    for needle in ["abc", "bc", "ab", "bcd", "abcd", "a", "é", "éab", "aé", "zz", "", "plz",
                   "xabcdabc", "\ud800"]:
        want = [t is not None and needle in t for t in texts]
        assert _utf8_contains(arr, needle).tolist() == want, needle
    # a null whose slot still holds bytes never matches
    width = np.int64 if type_ == "large_string" else np.int32
    masked = pa.Array.from_buffers(
        getattr(pa, type_)(), 2,
        [pa.py_buffer(bytes([0b01])), pa.py_buffer(np.array([0, 3, 6], dtype=width)),
         pa.py_buffer(b"abcabc")])
    assert masked.to_pylist() == ["abc", None]
    assert _utf8_contains(masked, "abc").tolist() == [True, False]
    assert _utf8_contains(pa.array([], type=pa.string()), "a").tolist() == []


def test_lowering_follows_python_not_arrow():
    # Arrow's utf8_lower differs from str.lower on these (final sigma, dotted I, ...)
    texts = ["ΟΔΟΣ", "İ", "Σ Σ", "\u1e9e"]
    index = TextIndex(pd.Series(texts, dtype="str"))
    assert index.arrow_values().to_pylist() == [t.lower() for t in texts]
    assert index.python_values() == [t.lower() for t in texts]


def test_case_sensitive_index_keeps_the_case():
    index = TextIndex(pd.Series(["Plz", "plz", None]), case=True, prefer_tokens=True)
    assert [m.tolist() for m in index.masks([["Plz"], ["plz"], ["PLZ"]])] == [
        [True, False, False], [False, True, False], [False, False, False]]


def test_non_strings_never_match():
    values = pd.Series(["a1", 1, 1.5, None, b"a1", ["a1"], "A1"], dtype=object)
    index = TextIndex(values)
    for use_tokens in (False, True):
        assert index.masks([["a1"], ["1"]], use_tokens=use_tokens)[0].tolist() == [
            True, False, False, False, False, False, True]


def test_strings_arrow_cannot_hold_fall_back_to_python():
    values = ["ok \ud800 plz", "plz", "no"]  # a lone surrogate: not encodable as UTF-8
    index = TextIndex(values)
    assert index.arrow_values() is None and index.tokens() is None
    assert index.masks([["plz"]], use_tokens=True)[0].tolist() == [True, True, False]


def test_more_than_64_groups_and_empty_groups():
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(30)]
    texts = [" ".join(rng.choice(words, rng.integers(0, 5))) for _ in range(200)]
    groups = [list(rng.choice(words, 2)) for _ in range(130)] + [["w1 w2"], ["zz"]]
    masks = TextIndex(texts).masks(groups)
    assert [m.tolist() for m in masks] == _reference(texts, groups)
    assert TextIndex([]).masks([["a"]], use_tokens=True)[0].shape == (0,)
    assert TextIndex(["a"]).masks([]) == []


def test_postings_for_rare_keywords_and_gather_for_common_ones():
    texts = [f"w{i % 50} common" for i in range(400)] + [None, ""]
    index = TextIndex(texts, prefer_tokens=True)
    rare, common = index.masks([["w7 "]]), index.masks([["w7"], ["comm"], ["zz"], ["w1"]])
    assert index._postings is not None
    assert rare[0].tolist() == _reference(texts, [["w7 "]])[0]
    assert [m.tolist() for m in common] == _reference(texts, [["w7"], ["comm"], ["zz"], ["w1"]])


def test_keyword_masks_reuses_an_index():
    index = TextIndex(["Plz sub", "hi"], prefer_tokens=True)
    assert [m.tolist() for m in keyword_masks(None, [["plz"]], index=index)] == [[True, False]]
    assert index.has_tokens
    assert keyword_masks(["a b", "b"], [["a"]])[0].tolist() == [True, False]


def test_direct_search_below_the_threshold_and_tokens_above():
    index = TextIndex(["a b"] * 3)
    index.masks([[f"k{i}"] for i in range(MAX_DIRECT_KEYWORDS)])
    assert not index.has_tokens
    index.masks([[f"k{i}"] for i in range(MAX_DIRECT_KEYWORDS + 1)])
    assert index.has_tokens


def test_arrow_splits_only_on_the_separator():
    # the token shortcut is exact because tokens are split on SEPARATOR only, and keywords
    # containing it are searched directly: other whitespace stays inside tokens
    arr = pa.array(["a\tb c\u00a0d"])
    assert pc.split_pattern(arr, SEPARATOR).to_pylist() == [["a\tb", "c\u00a0d"]]


@pytest.mark.skipif(sys.maxunicode < 0xFFFF, reason="narrow build")
def test_arrow_whitespace_equals_python_whitespace_in_the_bmp():
    # documents the assumption if the tokenizer is ever switched to utf8_split_whitespace
    cps = [c for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF]
    lengths = pc.list_value_length(pc.utf8_split_whitespace(
        pa.array(["a" + chr(c) + "b" for c in cps]))).to_numpy()
    arrow_ws = {cps[i] for i in np.flatnonzero(lengths != 1)}
    assert arrow_ws <= {c for c in cps if chr(c).isspace()}


@settings(max_examples=150, deadline=None)
@given(
    texts=st.lists(st.one_of(st.none(), st.text(max_size=15)), max_size=30),
    groups=st.lists(st.lists(st.text(min_size=1, max_size=3), min_size=1, max_size=3),
                    min_size=1, max_size=12),
    case=st.booleans(),
    dtype=st.sampled_from(["object", "str"]),
)
def test_token_search_equals_python_substring_search(texts, groups, case, dtype):
    needles = [[k if case else k.lower() for k in g] for g in groups]
    want = _reference(texts, needles, case)
    for use_tokens in (False, True):
        index = TextIndex(pd.Series(texts, dtype=dtype), case=case)
        assert [m.tolist() for m in index.masks(needles, use_tokens=use_tokens)] == want
    # a kept index answers a few groups from its postings (rows of the matching tokens)
    kept = TextIndex(pd.Series(texts, dtype=dtype), case=case, prefer_tokens=True)
    for j, group in enumerate(needles):
        assert kept.masks([group])[0].tolist() == want[j]


# -- Arrow lowering + exact patch -------------------------------------------------------------

_SPECIAL = "İΣσςΟΔΟΣ\u1e9eßﬁKſ\u0130\u1c89\ua7cb\U00010d50\U00016ea0\U0001df40 aZé"


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(st.one_of(st.none(), st.text(max_size=12),
                                st.text(alphabet=_SPECIAL, max_size=8)), max_size=25),
       large=st.booleans())
def test_arrow_lowering_with_patch_equals_str_lower(texts, large):
    from slicewidgets.slicing._text import _lower

    arr = pa.array(texts, type=pa.large_string() if large else pa.string())
    assert _lower(arr).to_pylist() == [t if t is None else t.lower() for t in texts]


def test_lower_differences_table_is_this_environments():
    # the stored table must be exactly what a scan of every code point finds here; other
    # environments scan at first use
    from slicewidgets.slicing._text import (
        _LOWER_DIFFERENCES,
        _arrow_key,
        _compute_lower_differences,
    )

    found = _compute_lower_differences()
    assert 0x130 in found  # İ lowers to two characters in Python, one in Arrow
    if _arrow_key() in _LOWER_DIFFERENCES:
        assert tuple(sorted(_LOWER_DIFFERENCES[_arrow_key()])) == found


def test_object_column_goes_to_arrow_in_one_conversion_non_strings_missing():
    values = pd.Series(["Plz", None, float("nan"), 3, b"plz", "PLZ é"], dtype=object)
    index = TextIndex(values)
    assert index.arrow_values().to_pylist() == ["plz", None, None, None, None, "plz é"]
    assert index.masks([["plz"]])[0].tolist() == [True, False, False, False, False, True]


def test_word_index_searches_the_vocabulary_with_the_byte_scan():
    # the byte scan must find keywords inside tokens exactly as match_substring did
    texts = ["checkout bit.ly/x", "x", "ο δρόμος", "", None]
    index = TextIndex(pd.Series(texts, dtype="str"), prefer_tokens=True)
    groups = [["eck"], ["ly/"], ["δρ"], ["x"], ["zz"]]
    assert [m.tolist() for m in index.masks(groups, use_tokens=True)] == \
        _reference(texts, groups)


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(st.one_of(st.none(), st.text(alphabet="ab c", max_size=12)), max_size=40),
       phrases=st.lists(st.text(alphabet="ab c", min_size=1, max_size=5).filter(
           lambda k: SEPARATOR in k), min_size=1, max_size=4))
def test_phrases_on_a_kept_index_scan_only_candidate_rows_and_equal_substring_search(
        texts, phrases):
    kept = TextIndex(pd.Series(texts, dtype="str"), prefer_tokens=True)
    kept.masks([["a"]])  # the token index exists, as in a SliceSet after its first apply
    assert kept.has_tokens
    want = _reference(texts, [[p] for p in phrases])
    assert [m.tolist() for m in kept.masks([[p] for p in phrases])] == want


@pytest.mark.parametrize("sparse_min", [0, 1 << 20])  # scipy's transpose, NumPy's sort
def test_postings_list_each_tokens_rows_in_order(monkeypatch, sparse_min):
    from slicewidgets.slicing import _text

    monkeypatch.setattr(_text, "POSTINGS_SPARSE_MIN", sparse_min)
    texts = ["b a b", None, "", "a", "c b", "a a"]
    index = TextIndex(texts, prefer_tokens=True)
    vocab, ids, starts = index.tokens()
    counts, ptr, rows = index.postings()
    row_of = np.repeat(np.arange(len(texts)), np.diff(starts))
    for t, token in enumerate(vocab.to_pylist()):
        want = [r for r, i in zip(row_of.tolist(), ids.tolist(), strict=True) if i == t]
        assert rows[ptr[t]:ptr[t + 1]].tolist() == want, token  # one entry per occurrence
        assert counts[t] == len(want)
    assert ptr[-1] == len(ids) and ptr.dtype == np.int64
    kept = TextIndex(pd.Series(texts, dtype="str"), prefer_tokens=True)
    kept.masks([["a"]])  # the token index kept: phrases are searched through the postings
    groups = [["b a"], ["c b"], ["a a"], ["b "]]
    assert [m.tolist() for m in kept.masks(groups)] == _reference(texts, groups)
