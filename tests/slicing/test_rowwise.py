"""Row-wise SFs: only the columns read, recognised bodies vectorized
(slicewidgets/slicing/_rowwise.py)."""

from __future__ import annotations

import gc
import itertools
import linecache
import re
import weakref

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slicewidgets.slicing import (
    PandasSFApplier,
    SFApplyError,
    SlicingFunction,
    _rowwise,
    slicing_function,
)
from slicewidgets.slicing._rowwise import columns_read, needed_columns, vectorized_mask
from slicewidgets.slicing.apply import compute_masks

pytest.importorskip("pyarrow")

_COUNTER = itertools.count()


def make_sf(source: str, resources: dict | None = None, env: dict | None = None):
    """An SF from source code that ``inspect.getsource`` can read (as in a notebook cell)."""
    filename = f"<sf-test-{next(_COUNTER)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"re": re, **(env or {})}
    exec(compile(source, filename, "exec"), namespace)
    f = namespace["f"]
    return SlicingFunction("f", f, resources=resources)


def run(df, sf, recognise):
    _rowwise.RECOGNISE = recognise
    try:
        return compute_masks(df, [sf]).matrix[:, 0].tolist()
    except SFApplyError as err:
        return ("error", str(err))
    finally:
        _rowwise.RECOGNISE = True


# -- columns read -----------------------------------------------------------------------------

def test_columns_read_from_attributes_items_and_generator_expressions():
    def f(x, keywords):
        return any(w in x.text.lower() for w in keywords) or x["n"] > 1

    assert columns_read(f) == {"text", "n"}

    def g(x):
        def inner(x):  # its own x
            return x

        return inner(3) == 3 and x.a

    assert columns_read(g) == {"a"}


@pytest.mark.parametrize("body", [
    "return print(x)", "return len(x) > 2", "y = x\n    return y.a", "x = 3\n    return x",
    "return locals()['x'].a", "return x.__class__ is None", "return [v for v in x]",
    "return (lambda: x)() is None",
])
def test_other_uses_of_the_row_keep_every_column(body):
    sf = make_sf(f"def f(x):\n    {body}\n")
    assert columns_read(sf._f) is None


def test_rows_hold_only_the_columns_read_unless_preprocessors_or_unknown_fields(monkeypatch):
    from slicewidgets.slicing import _rowwise_run as apply

    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": [0.5, 1.5]})
    built = []
    real = apply.frame_rows

    def spy(*args):
        rows = real(*args)
        built.append(rows[0].keys())
        return rows

    monkeypatch.setattr(apply, "frame_rows", spy)

    @slicing_function()
    def reads_a(x):
        return x.a > 1 if x.a else None

    assert needed_columns([reads_a], df) == [0]
    assert compute_masks(df, [reads_a]).matrix[:, 0].tolist() == [False, True]
    assert built[-1] == ("a",)

    @slicing_function()
    def reads_missing(x):
        return x.zzz > 1

    assert needed_columns([reads_missing], df) is None
    with pytest.raises(SFApplyError, match=r"its fields are \['a', 'b', 'c'\]"):
        compute_masks(df, [reads_missing])


def test_a_partial_multiindex_key_reads_every_column_and_the_error_names_the_sf():
    df = pd.DataFrame([[1, 2, 3]],
                      columns=pd.MultiIndex.from_tuples([("a", "x"), ("a", "y"), ("b", "z")]))

    @slicing_function()
    def top(x):
        return x["a"] is not None

    @slicing_function()
    def full(x):
        return x[("b", "z")] == 3

    assert needed_columns([top], df) is None  # "a" names two columns
    with pytest.raises(SFApplyError, match=r"Slicing function 'top' raised KeyError .*no field 'a'"):
        PandasSFApplier([top]).apply(df, progress_bar=False)
    assert vectorized_mask(make_sf('def f(x):\n    return x["a"] == 1\n'), df) is None
    assert needed_columns([full], df) == [2]
    assert PandasSFApplier([full]).apply(df, progress_bar=False).full.tolist() == [1]


def test_applying_an_sf_keeps_no_reference_to_it_or_its_closure():
    class Model:
        size = 5

    def make():
        model = Model()

        @slicing_function()
        def small(x):  # not recognised (a closure's attribute): its source is read all the same
            return len(x.text) < model.size

        @slicing_function()
        def short(x, limit=model):  # recognised
            return len(x.text) < 5

        return small, short, weakref.ref(model)

    small, short, model = make()
    df = pd.DataFrame({"text": ["a", "abcdef"]})
    S = PandasSFApplier([small, short]).apply(df, progress_bar=False)
    assert S.small.tolist() == S.short.tolist() == [1, 0]
    assert vectorized_mask(short, df) is not None
    del small, short, S
    gc.collect()
    assert model() is None


# -- recognised bodies ------------------------------------------------------------------------

def test_tutorial_sfs_are_recognised_and_equal_row_wise():
    from slicewidgets.datasets.spam import spam_tutorial_sfs

    df = pd.DataFrame({"text": ["Check it out bit.ly/x", "please sub", "PLZ", "nice song",
                                "naïve.ly ok", "İ check\nout", "a b c d e f"]})
    for sf in spam_tutorial_sfs()[:4]:
        assert vectorized_mask(sf, df) is not None, sf.name
        assert run(df, sf, True) == run(df, sf, False)


def test_not_recognised_when_a_name_is_shadowed_or_the_source_is_stale():
    df = pd.DataFrame({"text": ["a b", "a"]})
    shadowed = make_sf("def f(x):\n    return len(x.text) > 1\n", env={"len": lambda s: 0})
    assert vectorized_mask(shadowed, df) is None
    assert run(df, shadowed, True) == [False, False]
    # (its code differs from the SF above: sources are cached by code object, and equal code
    # objects (the file name aside) share one source, checked to compile to that code)
    stale = make_sf("def f(x):\n    return 2 <= len(x.text)\n")
    filename = stale._f.__code__.co_filename
    linecache.cache[filename] = (0, None, ["def f(x):\n", "    return len(x.text) > 2\n"],
                                 filename)  # the file changed after the SF was defined
    assert vectorized_mask(stale, df) is None
    assert run(df, stale, True) == [True, False]


def test_missing_text_keeps_the_row_wise_error():
    sf = make_sf("def f(x):\n    return len(x.text.split()) < 3\n")
    df = pd.DataFrame({"text": ["a b", None]})
    assert vectorized_mask(sf, df) is None
    got = run(df, sf, True)
    assert got[0] == "error" and got == run(df, sf, False)


def test_numeric_comparisons_only_when_exact():
    big = pd.DataFrame({"n": np.array([2**53 + 1, 3], dtype=np.int64)})
    sf = make_sf("def f(x):\n    return x.n == 9007199254740992.0\n")
    assert vectorized_mask(sf, big) is None  # float64 would round 2**53 + 1
    assert run(big, sf, True) == run(big, sf, False) == [False, False]
    small = make_sf("def f(x):\n    return x.n >= 3\n")
    assert vectorized_mask(small, big).tolist() == [True, True]


def test_narrow_float_columns_compare_exactly_as_python_floats():
    # NumPy 2 casts the constant to the column's type (0.9 -> float32); a row holds the
    # Python float 0.8999999762, which is < 0.9
    df = pd.DataFrame({"p": np.array([0.9, 0.95, 0.5], dtype=np.float32),
                       "big": np.array([16777216, 1, 2], dtype=np.float32),
                       "h": np.array([0.1, 0.2, 0.0], dtype=np.float16),
                       "ld": np.array([0.9, 1, 2], dtype=np.longdouble)})
    for body, expected in [("x.p >= 0.9", [False, True, False]),
                           ("x.big == 16777217", [False, False, False]),
                           ("x.h >= 0.1", [False, True, False]),
                           ("0.9 > x.p", [True, False, True])]:
        sf = make_sf(f"def f(x):\n    return {body}\n")
        assert vectorized_mask(sf, df).tolist() == expected, body
        assert run(df, sf, True) == run(df, sf, False) == expected, body
    longdouble = make_sf("def f(x):\n    return x.ld >= 0.9\n")
    assert vectorized_mask(longdouble, df) is None  # rows hold np.longdouble: row by row


_NUMERIC_DTYPES = ["float16", "float32", "float64", "longdouble", "int8", "uint8", "int16",
                   "int32", "uint32", "int64", "uint64", "bool"]
_TRICKY = [0.1, 0.9, 0.5, 2.5, -0.0, 1e300, 1e-300, float("inf"), -float("inf"), 255, 256, -129,
           2**24 + 1, 2**53, 2**53 + 1, 2**63, 2**64, -2**63 - 1, True, False, 65504.0, 65520.0]


@st.composite
def _numeric_columns(draw):
    dtype = np.dtype(draw(st.sampled_from(_NUMERIC_DTYPES)))
    if dtype.kind == "f":
        elements = st.floats(width=min(8 * dtype.itemsize, 64))
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        elements = st.integers(int(info.min), int(info.max))
    else:
        elements = st.booleans()
    values = np.array(draw(st.lists(elements, min_size=1, max_size=8)), dtype=dtype)
    return values


def _literal(k):
    if isinstance(k, float) and np.isinf(k):
        return "-1e999" if k < 0 else "1e999"  # a constant, where repr() gives a name
    return repr(k)


@settings(max_examples=400, deadline=None)
@given(values=_numeric_columns(), data=st.data(),
       op=st.sampled_from(["<", "<=", "==", "!=", ">", ">="]), mirrored=st.booleans())
def test_numeric_comparisons_equal_row_wise_for_every_dtype(values, data, op, mirrored):
    # constants near the column's values: a value as Python reads it, its short decimal form
    # in the column's type (float32 0.9 -> "0.9"), its neighbours, and edge values
    near = [values[0].item(), float(str(values[0])) if values.dtype.kind == "f" else 0]
    if values.dtype.kind == "f" and np.isfinite(values[0]):
        near += [float(np.nextafter(values[0], np.inf)), float(np.nextafter(values[0], -np.inf))]
    const = data.draw(st.one_of(st.sampled_from(near + _TRICKY),
                                st.floats(allow_nan=False), st.integers(-2**65, 2**65)))
    if isinstance(const, np.generic) or (isinstance(const, float) and np.isnan(const)):
        const = 0.5
    body = f"{_literal(const)} {op} x.c" if mirrored else f"x.c {op} {_literal(const)}"
    sf = make_sf(f"def f(x):\n    return {body}\n")
    df = pd.DataFrame({"c": values})
    assert run(df, sf, True) == run(df, sf, False), (values.dtype, body)
    if values.dtype.kind == "f" and values.dtype.itemsize <= 8 and type(const) is float:
        assert vectorized_mask(sf, df) is not None  # recognised, not just a fallback
    if values.dtype == np.longdouble:
        assert vectorized_mask(sf, df) is None


_ALPHABET = "ab cAB.\t\n\x1c\u00a0\u2003\u3000éİΣς😍ly"
_TEMPLATES = [
    "len(x.text.split()) {op} {k}",
    "len(x.text) {op} {k}",
    "bool(re.search({pat!r}, x.text))",
    "bool(re.search({pat!r}, x.text, flags=re.I))",
    "re.search({pat!r}, x.text, re.I | re.M) is not None",
    "re.search({pat!r}, x.text) is None",
    "any(w in x.text.lower() for w in keywords)",
    "any(w in x.text for w in keywords)",
    "{kw!r} in x.text.lower()",
    "{kw!r} not in x.text",
    "x.n {op} {k}",
    "x.v {op} {k}.5",
    "x.text == {kw!r}",
    "-{k} < x.n",
]


@st.composite
def _bodies(draw):
    def one():
        t = draw(st.sampled_from(_TEMPLATES))
        return t.format(op=draw(st.sampled_from(["<", "<=", "==", "!=", ">", ">="])),
                        k=draw(st.integers(0, 4)),
                        pat=draw(st.sampled_from([r"a.*b", r"\w+\.ly", r"^a", r"b$", r"\bab",
                                                  r"\s\S", r"[é-ü]", r"(a|B){2}"])),
                        kw=draw(st.text(alphabet=_ALPHABET, max_size=3)))
    body = one()
    if draw(st.booleans()):
        body = f"{body} {draw(st.sampled_from(['and', 'or']))} not {one()}"
    return body


@settings(max_examples=250, deadline=None)
@given(body=_bodies(),
       texts=st.lists(st.text(alphabet=_ALPHABET, max_size=10), min_size=1, max_size=15),
       missing=st.booleans(),
       keywords=st.lists(st.text(alphabet=_ALPHABET, max_size=3), max_size=3),
       dtype=st.sampled_from(["object", "str"]))
def test_recognised_bodies_equal_row_wise(body, texts, missing, keywords, dtype):
    n = len(texts)
    if missing:
        texts = [*texts[:-1], None]
    df = pd.DataFrame({"text": pd.Series(texts, dtype=dtype),
                       "n": np.arange(n) % 5,
                       "v": np.where(np.arange(n) % 3 == 0, np.nan, np.arange(n) / 2)})
    resources = {"keywords": keywords} if "keywords" in body else None
    params = ", keywords" if resources else ""
    sf = make_sf(f"def f(x{params}):\n    return {body}\n", resources)
    assert run(df, sf, True) == run(df, sf, False)
    if not missing and "keywords" not in body or (keywords and not missing):
        assert vectorized_mask(sf, df) is not None  # recognised, not just a fallback


def test_applier_result_and_recognition_switch():
    df = pd.DataFrame({"text": ["a b", "c"], "label": [1, 0]})

    @slicing_function()
    def spam(x):
        return x.label == 1

    S = PandasSFApplier([spam]).apply(df, progress_bar=False)
    assert S.spam.tolist() == [1, 0]
    _rowwise.RECOGNISE = False
    try:
        assert vectorized_mask(spam, df) is None
    finally:
        _rowwise.RECOGNISE = True
