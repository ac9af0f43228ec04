"""Row objects handed to row-wise slicing functions (slicewidgets/_row.py)."""

from __future__ import annotations

import pickle
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from slicewidgets._row import (
    FrameRow,
    Row,
    copy_point,
    frame_rows,
    get_hashable,
    iter_rows,
    point_fields,
)


@pytest.fixture
def df():
    return pd.DataFrame({
        "text": ["check it out", None],
        "name": ["Ann", "Bob"],
        "count": [3, 4],
        "index": [10, 11],
        "my col": [1.5, 2.5],
    }, index=[7, 7])


def test_frame_rows_read_columns_as_attributes_and_items(df):
    rows = frame_rows(df)
    assert len(rows) == 2
    x = rows[0]
    assert isinstance(x, FrameRow)
    assert (x.text, x.name, x.count, x.index, x["my col"]) == ("check it out", "Ann", 3, 10, 1.5)
    # the columns shadow tuple/Series methods: no pd.Series `name`/`count` surprise
    assert x.name == "Ann" and x.count == 3
    assert "text" in x and "nope" not in x and 3 not in x
    assert x.get("count") == 3 and x.get("nope", "d") == "d"
    assert x.keys() == ("text", "name", "count", "index", "my col")
    assert x.to_dict() == {"text": "check it out", "name": "Ann", "count": 3, "index": 10,
                           "my col": 1.5}
    assert repr(x) == "FrameRow(text='check it out', name='Ann', count=3, index=10, my col=1.5)"


def test_frame_rows_values_are_python_objects_and_missing_values_stay(df):
    x = frame_rows(df)[1]
    assert x.text is None or (isinstance(x.text, float) and np.isnan(x.text))
    assert type(x.count) is int and type(x["my col"]) is float


def test_frame_rows_slices_by_position_and_shares_one_class_per_columns(df):
    first, second = frame_rows(df, 0, 1), frame_rows(df, 1, None)
    assert [r.name for r in first] == ["Ann"] and [r.name for r in second] == ["Bob"]
    assert type(first[0]) is type(second[0])
    assert [r.name for r in iter_rows(df)] == ["Ann", "Bob"]
    assert frame_rows(df.iloc[:0]) == []


def test_frame_row_errors_name_the_field_and_list_the_columns(df):
    x = frame_rows(df)[0]
    with pytest.raises(AttributeError, match=r"^Row has no field 'txt'; its fields are \['text', "
                                             r"'name', 'count', 'index', 'my col'\]\. Check"):
        x.txt  # noqa: B018
    with pytest.raises(KeyError, match="Row has no field 'txt'"):
        x["txt"]
    assert not hasattr(x, "txt")
    with pytest.raises(AttributeError, match=r"^Cannot set 'polarity': rows handed to slicing "
                                             r"functions are read-only\. Add fields with a "
                                             r"preprocessor"):
        x.polarity = 0.5
    with pytest.raises(AttributeError, match="read-only"):
        x.text = "changed"


def test_frame_row_non_string_and_dunder_columns_are_items_only():
    x = frame_rows(pd.DataFrame({0: ["a"], "__init__": ["b"], "ok": [1]}))[0]
    assert x[0] == "a" and x["__init__"] == "b" and x.ok == 1


def test_frame_row_pickles_and_copies_as_a_mutable_row(df):
    x = frame_rows(df)[0]
    back = pickle.loads(pickle.dumps(x))
    assert type(back) is Row and back.to_dict() == x.to_dict()
    assert back == x and x == tuple(x)


def test_row_is_mutable_and_extensible():
    x = Row({"text": "hi"}, label=1)
    x.polarity = 0.5
    x["score"] = 2
    assert (x.text, x.label, x.polarity, x["score"]) == ("hi", 1, 0.5, 2)
    assert sorted(x.keys()) == ["label", "polarity", "score", "text"]
    assert x.get("nope", 3) == 3 and "text" in x
    assert repr(Row(a=1)) == "Row(a=1)"
    assert Row(a=1) == Row({"a": 1}) and Row(a=1) != Row(a=2)
    with pytest.raises(TypeError):
        hash(x)
    with pytest.raises(AttributeError, match=r"^Row has no field 'nope'; its fields are "):
        x.nope  # noqa: B018
    with pytest.raises(KeyError, match="Row has no field 'nope'"):
        x["nope"]
    assert pickle.loads(pickle.dumps(x)) == x


def test_copy_point_gives_an_independent_mutable_row(df):
    x = frame_rows(df)[0]
    c = copy_point(x)
    c.text = "changed"
    c.polarity = 1.0
    assert x.text == "check it out" and "polarity" not in x
    r = Row(a=[1, 2], b="s")
    c2 = copy_point(r)
    c2.a.append(3)  # nested values are copied, as Snorkel's pickle round trip does
    assert r.a == [1, 2] and c2.a == [1, 2, 3]
    ns = SimpleNamespace(a=[1])
    c3 = copy_point(ns)
    c3.a.append(2)
    assert ns.a == [1]
    s = pd.Series({"a": 1})
    c4 = copy_point(s)
    c4["a"] = 2
    assert s["a"] == 1


def test_get_hashable_keys_equal_content_equally(df):
    rows = frame_rows(pd.concat([df, df]))
    assert get_hashable(rows[0]) == get_hashable(rows[2])
    assert get_hashable(rows[0]) != get_hashable(rows[1])
    hash(get_hashable(rows[0]))
    unhashable = frame_rows(pd.DataFrame({"a": [[1, 2]], "b": [{"k": 1}]}))[0]
    hash(get_hashable(unhashable))
    assert get_hashable(Row(a=1, b=[1])) == get_hashable(Row(a=1, b=[1]))
    assert get_hashable(SimpleNamespace(a=1)) == get_hashable(SimpleNamespace(a=1))
    assert get_hashable(pd.Series({"a": 1}, name=3)) == get_hashable(pd.Series({"a": 1}, name=9))
    assert get_hashable(np.array([1, 2])) == get_hashable(np.array([1, 2]))
    assert get_hashable((1, [2])) == (1, (2,))
    assert get_hashable("s") == "s"

    class NoDict:
        __slots__ = ()
        __hash__ = None

    with pytest.raises(ValueError, match="has no hashing proxy; pass memoize_key= to the "
                                         "preprocessor"):
        get_hashable(NoDict())


def test_point_fields_of_each_kind_of_point(df):
    assert point_fields(frame_rows(df)[0])["name"] == "Ann"
    assert point_fields(Row(a=1)) == {"a": 1}
    assert point_fields({"a": 1}) == {"a": 1}
    assert point_fields(pd.Series({"a": 1})) == {"a": 1}
    assert point_fields(SimpleNamespace(a=1)) == {"a": 1}
    assert point_fields(3) is None
