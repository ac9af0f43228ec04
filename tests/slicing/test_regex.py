"""Regex search: RE2 where it provably equals Python's re, re elsewhere
(slicewidgets/slicing/_regex.py)."""

from __future__ import annotations

import contextlib
import re
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slicewidgets.slicing import PandasSFApplier, regex_sf, slicing_function
from slicewidgets.slicing._regex import Untranslatable, regex_search_masks, translate
from slicewidgets.slicing._text import TextIndex

pa = pytest.importorskip("pyarrow")


def _python(texts, regex):
    return [isinstance(t, str) and regex.search(t) is not None for t in texts]


def _masks(texts, regexes, dtype="str"):
    index = TextIndex(pd.Series(texts, dtype=dtype), case=True)
    return [m.tolist() for m in regex_search_masks(index, regexes)]


# patterns whose meaning differs between RE2 and re when passed as written
TRICKY = [
    (r"a{,3}b", 0, ["ab", "a{,3}b", "b"]),  # RE2: literal "{,3}"
    (r"\w+\.ly", 0, ["naïve.ly", "bit.ly", "é.ly", ".ly"]),  # RE2 \w is ASCII-only
    (r"^\d+$", 0, ["١٢٣", "123", "123\n", "12a"]),  # Unicode digits, $ before final \n
    (r"x\s+y", 0, ["x\x1cy", "x\u00a0y", "x y", "xy"]),  # \x1c and NBSP are \s in Python
    (r"\bcat\b", 0, ["écat", "cat", "cats", "a cat."]),  # Unicode word boundaries
    (r"k", re.I, ["\u212a", "K", "x"]),  # Kelvin sign folds to k in Python
    (r"straße", re.I, ["STRASSE", "STRAẞE", "straße"]),
    (r"[^a]", 0, ["a", "aé", "b"]),
    (r"check.*out", re.I, ["Check it OUT", "check\nout", "CHECKOUT", "İcheck out"]),
    (r"(ab|cd)+e?$", re.M, ["abcd\nx", "xx", "cdab"]),
    (r"a.b", re.S, ["a\nb", "a\rb", "ab"]),
    (r"(a)|\B", 0, ["", "a", " ", "b"]),  # Python's \B never matches the empty string
    # a non-multiline $ matches before a final newline, which what follows may then take
    (r"end$\n", 0, ["the end\n", "the end", "end\nx", "end\n\n"]),
    (r"end$\s", 0, ["the end\n", "the end ", "end\nx"]),
    (r"end$.", re.S, ["the end\n", "the end", "end\nx", "é end\n"]),
    (r"$\A(?:\S){,2}", 0, ["\n", "", "a\n"]),
    (r"$(?:[^a])?a*^", 0, ["\n", "a\n", ""]),
]


@pytest.mark.parametrize(("pattern", "flags", "texts"), TRICKY)
def test_tricky_patterns_equal_python_re(pattern, flags, texts):
    regex = re.compile(pattern, flags)
    assert _masks([*texts, None], [regex]) == [_python([*texts, None], regex)]


UNTRANSLATABLE = [r"(a)\1", r"a(?=b)", r"(?<!x)a", r"(a)?(?(1)b|c)", r"(?i:a)b", r"a{1001}"]
if sys.version_info >= (3, 11):  # possessive quantifiers and atomic groups came in 3.11's re
    UNTRANSLATABLE += [r"a*+", r"(?>ab)"]


@pytest.mark.parametrize("pattern", UNTRANSLATABLE)
def test_untranslatable_patterns_run_in_python_re(pattern):
    with pytest.raises(Untranslatable):
        translate(pattern)
    regex = re.compile(pattern)
    texts = ["aa", "ab", "xa", "c", "a" * 1001, "b"]
    assert _masks(texts, [regex]) == [_python(texts, regex)]


def test_translation_spells_out_pythons_ascii_characters():
    # \w on ASCII text: exactly Python's word characters, never RE2's own \w
    assert translate(r"\w")[0] == r"[\x{30}-\x{39}\x{41}-\x{5a}\x{5f}\x{61}-\x{7a}]"
    assert translate(r"a$")[1] is True and translate(r"a$", re.M)[1] is False


def test_regex_sf_in_the_applier_shares_one_column_copy_and_equals_re():
    df = pd.DataFrame({"text": ["Check it out bit.ly/x", "naïve.ly", None, "nothing"],
                       "other": ["x", "y", "z", "bit.ly"]})
    sfs = [regex_sf(r"check.*out", flags=re.I), regex_sf(r"\w+\.ly", name="ly"),
           regex_sf(r"\w+\.ly", name="ly_other", column="other")]
    S = PandasSFApplier(sfs).apply(df, progress_bar=False)
    assert S.regex_check_out.tolist() == [1, 0, 0, 0]
    assert S.ly.tolist() == [1, 1, 0, 0]
    assert S.ly_other.tolist() == [0, 0, 0, 1]


_ALPHABET = "abcAB .\n\t_1é\u0130\u212aß١\x1c"
_ATOMS = ["a", "b", "A", ".", r"\w", r"\W", r"\d", r"\s", r"\S", r"\b", r"\B", "^", "$", r"\A",
          r"\Z", "[a-c]", "[^ab]", r"[\w.]", "é", "k", "ss", r"\.", "(?:a|b)", "(a|)", "[é-ü]"]


@st.composite
def _patterns(draw):
    parts = draw(st.lists(st.sampled_from(_ATOMS), min_size=1, max_size=5))
    out = ""
    for p in parts:
        out += p + draw(st.sampled_from(["", "", "*", "+", "?", "{2}", "{,2}", "{1,3}?"]))
        if draw(st.integers(0, 6)) == 0:
            out = "(" + out + ")|" + draw(st.sampled_from(_ATOMS))
    return out


@settings(max_examples=300, deadline=None)
@given(pattern=_patterns(),
       flags=st.sampled_from([0, re.I, re.M, re.S, re.A, re.I | re.M, re.A | re.I]),
       texts=st.lists(st.one_of(st.none(), st.text(alphabet=_ALPHABET, max_size=10)),
                      max_size=20),
       dtype=st.sampled_from(["object", "str"]))
def test_re2_with_fallback_equals_python_re(pattern, flags, texts, dtype):
    try:
        regex = re.compile(pattern, flags)
    except re.error:
        return
    assert _masks(texts, [regex], dtype) == [_python(texts, regex)]


# atoms that can take the final newline after a non-multiline `$`
_AFTER_END = [r"\n", r"\s", ".", r"\W", "[^a]", r"[\n]", r"(?:\n|x)", r"\S", "a", r"\Z", "$",
              r"\A", "^", r"\b"]


@settings(max_examples=300, deadline=None)
@given(before=st.sampled_from(["", "end", "a", r"\w", "é", ".", r"\s"]),
       after=st.lists(st.sampled_from(_AFTER_END), min_size=1, max_size=3),
       repeat=st.sampled_from(["", "", "?", "*", "{,2}"]),
       flags=st.sampled_from([0, re.S, re.M, re.I, re.S | re.I, re.S | re.M, re.A]),
       texts=st.lists(st.one_of(st.none(), st.text(alphabet="ae nd\n\té", max_size=8)),
                      max_size=20),
       dtype=st.sampled_from(["object", "str"]))
def test_end_anchor_followed_by_an_atom_that_takes_the_newline_equals_python_re(
        before, after, repeat, flags, texts, dtype):
    anchors = {r"\Z", "$", r"\A", "^", r"\b"}  # Python refuses to repeat these
    pattern = before + "$" + "".join(a + ("" if a in anchors else repeat) for a in after)
    regex = re.compile(pattern, flags)
    texts = [*texts, "end\n", "é end\n", "a\n", "\n"]
    assert _masks(texts, [regex], dtype) == [_python(texts, regex)]


def test_without_arrow_copy_every_row_runs_in_python():
    texts = ["\ud800 lone surrogate ab", "ab", None]  # Arrow cannot hold a lone surrogate
    regex = re.compile("ab")
    index = TextIndex(pd.Series(texts, dtype=object), case=True)
    assert index.arrow_values() is None
    assert [m.tolist() for m in regex_search_masks(index, [regex])] == [[True, True, False]]
    assert np.asarray(regex_search_masks(index, [regex])[0]).dtype == bool


@pytest.mark.parametrize("dtype", ["object", "str"])
@pytest.mark.parametrize(("pattern", "flags"), [
    ("(a)|k", re.ASCII | re.IGNORECASE),  # found by Hypothesis: RE2 folds [Kk] to take U+212A
    ("k", re.ASCII | re.IGNORECASE),
    ("s+", re.ASCII | re.IGNORECASE),  # U+017F LONG S folds to s in RE2
    ("[kK]", 0),
])
def test_rows_re2_folds_onto_an_ascii_class_are_decided_by_python(pattern, flags, dtype):
    texts = ["\u212a", "\u017f", "K", "k", "s", "x\u212ay", None]
    regex = re.compile(pattern, flags)
    assert _masks(texts, [regex], dtype) == [_python(texts, regex)]


# -- several patterns of a column searched together (_regex._re2_masks) ------------------------
@pytest.fixture
def union_always(monkeypatch):
    """Make the joint pass apply to any column: sample a row, join every pattern."""
    from slicewidgets.slicing import _regex

    monkeypatch.setattr(_regex, "UNION_SAMPLE_ROWS", 1)
    monkeypatch.setattr(_regex, "UNION_MAX_SAMPLE_SHARE", 1.0)
    monkeypatch.setattr(_regex, "UNION_MAX_CANDIDATE_SHARE", 1.0)
    return _regex


@settings(max_examples=150, deadline=None,  # the fixture only sets constants
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(patterns=st.lists(_patterns(), min_size=3, max_size=6),
       flags=st.sampled_from([0, re.I, re.M, re.A | re.I]),
       texts=st.lists(st.one_of(st.none(), st.text(alphabet=_ALPHABET, max_size=10)),
                      min_size=4, max_size=30))
def test_patterns_searched_together_equal_python_re(union_always, patterns, flags, texts):
    regexes = []
    for pattern in patterns:
        with contextlib.suppress(re.error):  # patterns re refuses are not the point here
            regexes.append(re.compile(pattern, flags))
    assert _masks(texts, regexes, "str") == [_python(texts, r) for r in regexes]


def _rows_searched(monkeypatch, regex_module):
    searched: list[tuple[str, int]] = []
    search = regex_module._search

    def spy(arr, pattern):
        searched.append((pattern, len(arr)))
        return search(arr, pattern)

    monkeypatch.setattr(regex_module, "_search", spy)
    return searched


def test_rare_patterns_are_searched_only_on_the_rows_their_alternation_matched(monkeypatch):
    from slicewidgets.slicing import _regex

    n = 4 * _regex.UNION_SAMPLE_ROWS
    texts = ["nothing to see here"] * n
    texts[10], texts[500], texts[4000] = "free stuff", "visit bit.ly/x", "FREE bit.ly"
    texts[1::2] = ["subscribe now"] * (n // 2)  # one frequent pattern
    regexes = [re.compile(p, re.I) for p in (r"free \w+", r"\w+\.ly/", r"\d{4}", "subscribe")]
    searched = _rows_searched(monkeypatch, _regex)
    masks = _masks(texts, regexes)
    assert masks == [_python(texts, r) for r in regexes]
    full = [p for p, rows in searched if rows == n]
    # one pass for the three rare patterns together, one for the frequent one, nothing else
    assert len(full) == 2 and full[0].count("|(?:") == 2
    assert sorted(rows for _, rows in searched if rows not in (n, _regex.UNION_SAMPLE_ROWS)) \
        == [3, 3, 3]  # each rare pattern on the 3 rows the alternation matched


def test_patterns_are_searched_one_by_one_when_the_alternation_is_refused(monkeypatch,
                                                                          union_always):
    searched = _rows_searched(monkeypatch, union_always)
    spy = union_always._search

    def refuse_alternations(arr, pattern):
        if "|(?:" in pattern:
            raise pa.ArrowInvalid("pattern too large - compile failed")
        return spy(arr, pattern)

    monkeypatch.setattr(union_always, "_search", refuse_alternations)
    texts = ["ab", "cd", "x", "abcd", None]
    regexes = [re.compile(p) for p in ("a", "c", "d")]
    assert _masks(texts, regexes) == [_python(texts, r) for r in regexes]
    assert [rows for _, rows in searched if rows == len(texts)] == [5, 5, 5]


def test_recognised_rowwise_re_search_with_end_anchor_equals_python_re():
    # a row-wise body `bool(re.search(P, x.text))` runs through the same RE2 search
    def ends_line(x):
        return bool(re.search(r"end$\s", x.text))

    df = pd.DataFrame({"text": ["the end\n", "the end", "end\nx", "é end\n"]})
    S = PandasSFApplier([slicing_function()(ends_line)]).apply(df, progress_bar=False)
    assert S.ends_line.tolist() == [1, 0, 0, 1]
