"""Mappers and preprocessors (slicewidgets/preprocess/core.py), with Snorkel's map tests."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from slicewidgets._row import Row
from slicewidgets.preprocess import (
    BasePreprocessor,
    LambdaMapper,
    LambdaPreprocessor,
    Mapper,
    Preprocessor,
    lambda_mapper,
    preprocessor,
)


class SplitWordsMapper(Mapper):
    def __init__(self, name, text_field, lower_field, words_field, **kwargs):
        super().__init__(name, dict(text=text_field),
                         dict(lower=lower_field, words=words_field), **kwargs)

    def run(self, text):
        return dict(lower=text.lower(), words=text.split())


class SplitWordsMapperDefaultArgs(Mapper):
    def run(self, text):
        return dict(lower=text.lower(), words=text.split())


class MapperReturnsNone(Mapper):
    def run(self, text):
        return None


class MapperWithPre(Mapper):
    def run(self, num_squared):
        return dict(double_num_squared=2 * num_squared)


class MapperWithPre2(Mapper):
    def run(self, double_num_squared):
        return dict(double_num_squared_plus_1=double_num_squared + 1)


class SquareHitTracker:
    def __init__(self):
        self.n_hits = 0

    def __call__(self, x):
        self.n_hits += 1
        return x**2


@lambda_mapper()
def square(x):
    x.num_squared = x.num**2
    return x


@lambda_mapper()
def modify_in_place(x):
    x.d["my_key"] = 0
    x.d_new = x.d
    return x


def test_numeric_mapper():
    x = SimpleNamespace(num=8)
    x_mapped = square(x)
    assert x_mapped == SimpleNamespace(num=8, num_squared=64)
    assert x == SimpleNamespace(num=8)  # the input is untouched
    assert isinstance(square, LambdaMapper) and square.name == "square"


def test_text_mapper():
    split_words = SplitWordsMapper("split_words", "text", "text_lower", "text_words")
    x = SimpleNamespace(text="Jane Doe")
    assert split_words(x) == SimpleNamespace(text="Jane Doe", text_lower="jane doe",
                                             text_words=["Jane", "Doe"])
    assert x == SimpleNamespace(text="Jane Doe")
    assert repr(split_words) == "SplitWordsMapper split_words, Pre: []"


def test_mapper_same_field():
    split_words = SplitWordsMapper("split_words", "text", "text", "text_words")
    x = SimpleNamespace(text="Jane Doe")
    assert split_words(x) == SimpleNamespace(text="jane doe", text_words=["Jane", "Doe"])
    assert x.text == "Jane Doe"


def test_mapper_default_args():
    mapped = SplitWordsMapperDefaultArgs("split_words")(SimpleNamespace(text="Jane Doe"))
    assert mapped == SimpleNamespace(text="Jane Doe", lower="jane doe", words=["Jane", "Doe"])


def test_mapper_in_place_changes_do_not_reach_the_input():
    x = SimpleNamespace(d={"my_key": 1})
    mapped = modify_in_place(x)
    assert x.d == {"my_key": 1}
    assert mapped.d == {"my_key": 0} and mapped.d_new == {"my_key": 0}
    row = Row(d={"my_key": 1})
    modify_in_place(row)
    assert row.d == {"my_key": 1}


def test_mapper_returns_none():
    assert MapperReturnsNone("none_mapper")(SimpleNamespace(text="Jane")) is None


def test_mapper_pre():
    mapper_no_pre = MapperWithPre("pre_mapper")
    with pytest.raises(AttributeError):
        mapper_no_pre(SimpleNamespace(num=8))
    mapper_pre = MapperWithPre("pre_mapper", pre=[square])
    assert mapper_pre(SimpleNamespace(num=8)) == SimpleNamespace(
        num=8, num_squared=64, double_num_squared=128)
    mapper_pre_2 = MapperWithPre2("pre_mapper", pre=[mapper_pre])
    assert mapper_pre_2(SimpleNamespace(num=8)).double_num_squared_plus_1 == 129
    assert repr(mapper_pre_2) == "MapperWithPre2 pre_mapper, Pre: ['pre_mapper']"


def test_mapper_pre_decorator():
    @lambda_mapper(pre=[square])
    def mapper_pre(x):
        x.double_num_squared = 2 * x.num_squared
        return x

    assert mapper_pre(SimpleNamespace(num=8)).double_num_squared == 128


def test_pre_returning_none_stops_the_chain():
    calls = []

    @lambda_mapper(pre=[MapperReturnsNone("none", field_names={"text": "text"})])
    def after(x):
        calls.append(x)
        return x

    assert after(SimpleNamespace(text="a")) is None and calls == []


def test_decorator_mapper_memoized():
    square_hit_tracker = SquareHitTracker()

    @lambda_mapper(memoize=True)
    def memoized(x):
        x.num_squared = square_hit_tracker(x.num)
        return x

    x8 = SimpleNamespace(num=8)
    x9 = SimpleNamespace(num=9)
    first = memoized(x8)
    assert first == SimpleNamespace(num=8, num_squared=64) and square_hit_tracker.n_hits == 1
    assert memoized(x8) is first and square_hit_tracker.n_hits == 1  # same object back
    assert memoized(SimpleNamespace(num=8)) is first  # equal content, same key
    assert memoized(x9).num_squared == 81 and square_hit_tracker.n_hits == 2
    memoized.reset_cache()
    memoized(x8)
    assert square_hit_tracker.n_hits == 3


def test_decorator_mapper_memoized_none():
    tracker = SquareHitTracker()

    @lambda_mapper(memoize=True)
    def returns_none(x):
        tracker(x.num)
        return None

    assert returns_none(SimpleNamespace(num=8)) is None
    assert returns_none(SimpleNamespace(num=8)) is None
    assert tracker.n_hits == 1


def test_decorator_mapper_not_memoized():
    tracker = SquareHitTracker()

    @lambda_mapper()
    def not_memoized(x):
        x.num_squared = tracker(x.num)
        return x

    not_memoized(SimpleNamespace(num=8))
    not_memoized(SimpleNamespace(num=8))
    assert tracker.n_hits == 2


def test_memoize_key_and_maxsize():
    tracker = SquareHitTracker()

    @preprocessor(memoize=True, memoize_key=lambda x: x.num, memoize_maxsize=2)
    def keyed(x):
        x.num_squared = tracker(x.num)
        return x

    keyed(SimpleNamespace(num=2, other="a"))
    keyed(SimpleNamespace(num=2, other="b"))  # the key ignores `other`
    assert tracker.n_hits == 1
    keyed(SimpleNamespace(num=3))
    keyed(SimpleNamespace(num=4))  # evicts 2, the least recently used
    keyed(SimpleNamespace(num=3))
    assert tracker.n_hits == 3
    keyed(SimpleNamespace(num=2))
    assert tracker.n_hits == 4


def test_mapper_with_args_and_kwargs_is_rejected():
    class MapperWithArgs(Mapper):
        def run(self, text, *args):
            return None

    class MapperWithKwargs(Mapper):
        def run(self, text, **kwargs):
            return None

    with pytest.raises(ValueError, match=r"^Mapper 'args': run\(\) must not take \*args or "
                                         r"\*\*kwargs \(got \['args'\]\); name each field it "
                                         r"reads\.$"):
        MapperWithArgs("args")
    with pytest.raises(ValueError, match=r"got \['kwargs'\]"):
        MapperWithKwargs("kwargs")


def test_decorators_without_parentheses():
    with pytest.raises(ValueError, match=r"^Looks like this decorator is missing parentheses! "
                                         r"Write @lambda_mapper\(\) instead of "
                                         r"@lambda_mapper\.$"):

        @lambda_mapper
        def m(x):
            return x

    with pytest.raises(ValueError, match=r"Write @preprocessor\(\) instead of @preprocessor\."):

        @preprocessor
        def p(x):
            return x


def test_preprocessor_classes():
    @preprocessor(name="renamed")
    def p(x):
        return x

    assert isinstance(p, LambdaPreprocessor) and isinstance(p, BasePreprocessor)
    assert p.name == "renamed"

    class Lower(Preprocessor):
        def run(self, text):
            return {"text": text.lower()}

    lower = Lower("lower")
    assert isinstance(lower, BasePreprocessor)
    assert lower(Row(text="AB")).text == "ab"


def test_fingerprints_follow_code_and_settings():
    @preprocessor()
    def a(x):
        x.y = 1
        return x

    @preprocessor()
    def b(x):
        x.y = 2
        return x

    assert a.fingerprint != b.fingerprint

    class Threshold(Preprocessor):
        def __init__(self, name, k):
            self.k = k
            super().__init__(name)

        def run(self, num):
            return {"big": num > self.k}

    assert Threshold("t", 1).fingerprint == Threshold("t", 1).fingerprint
    assert Threshold("t", 1).fingerprint != Threshold("t", 2).fingerprint
    assert MapperWithPre("m", pre=[a]).fingerprint != MapperWithPre("m", pre=[b]).fingerprint


def test_a_memo_filled_before_an_edit_is_not_reused_by_the_appliers():
    import pandas as pd

    from slicewidgets.slicing import PandasSFApplier, SFApplier, SliceSet, slicing_function

    ns = {"preprocessor": preprocessor, "slicing_function": slicing_function, "SUFFIX": "!"}
    exec(  # noqa: S102 - a module whose global the test changes
        "@preprocessor(memoize=True)\n"
        "def shout(x):\n    x.loud = x.text + SUFFIX\n    return x\n"
        "@slicing_function(pre=[shout])\n"
        "def loud_q(x):\n    return x.loud.endswith('?')\n", ns)
    loud_q, shout = ns["loud_q"], ns["shout"]
    df = pd.DataFrame({"text": ["hi", "ok"]})
    ss = SliceSet(df, [loud_q])
    assert ss.sizes() == {"loud_q": 0}
    filled = dict(shout._cache)
    assert len(filled) == 2
    ns["SUFFIX"] = "?"
    ss.update(loud_q)
    assert ss.sizes() == {"loud_q": 2}
    points = [SimpleNamespace(text=t) for t in df.text]
    ns["SUFFIX"] = "!"
    assert PandasSFApplier([loud_q]).apply(df, progress_bar=False).loud_q.tolist() == [0, 0]
    ns["SUFFIX"] = "?"
    assert SFApplier([loud_q]).apply(points, progress_bar=False).loud_q.tolist() == [1, 1]
    # nothing changed: the memo is kept between applies (an output altered in the memo shows)
    shout._cache[next(iter(shout._cache))].loud = "hi, kept!"
    assert SFApplier([loud_q]).apply(points, progress_bar=False).loud_q.tolist() == [0, 1]


def test_refresh_empties_the_memos_of_the_refreshed_sfs(tmp_path):
    import pandas as pd

    from slicewidgets.slicing import SliceSet, slicing_function

    path = tmp_path / "suffix.txt"
    path.write_text("!")

    @preprocessor(memoize=True)
    def from_file(x):  # reads state no fingerprint sees
        x.loud = x.text + path.read_text()
        return x

    @slicing_function(pre=[from_file])
    def loud_q(x):
        return x.loud.endswith("?")

    ss = SliceSet(pd.DataFrame({"text": ["hi", "ok"]}), [loud_q])
    path.write_text("?")
    ss.update(loud_q)  # nothing Python sees changed: cached
    assert ss.sizes() == {"loud_q": 0}
    ss.refresh("loud_q")
    assert ss.sizes() == {"loud_q": 2}
