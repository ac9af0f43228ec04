"""Content fingerprints (slicewidgets/_fingerprint.py): a cached mask is reused only when it is
provably the mask the SF computes now."""

from __future__ import annotations

import threading
import types

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

from slicewidgets._fingerprint import fingerprint, is_volatile
from slicewidgets.slicing import (
    PandasSFApplier,
    SliceSet,
    SlicingFunction,
    keyword_sf,
    regex_sf,
    slicing_function,
)

RNG = np.random.default_rng(0)
N = 100
DF = pd.DataFrame({
    "score": RNG.random(N).round(3),
    "n": RNG.integers(0, 10, N),
    "text": RNG.choice(["please subscribe", "nice song", "check it out", "plz", None], N),
})


class Cutoff:
    """A resource whose repr ignores its state (the issue's first case)."""

    def __init__(self, threshold):
        self.threshold = threshold

    def __repr__(self):
        return "Cutoff()"


def above(x, cutoff):
    return x.score > cutoff.threshold


def fresh(sf):
    return PandasSFApplier([sf]).apply(DF, progress_bar=False)[sf.name].astype(bool)


# -- the three reproductions of issue #14 ----------------------------------------------------------
def test_a_resource_mutated_in_place_is_recomputed_although_its_repr_is_unchanged():
    cutoff = Cutoff(0.5)
    sf = SlicingFunction("high", above, resources={"cutoff": cutoff})
    ss = SliceSet(DF, [sf])
    assert ss.sizes()["high"] == int((DF.score > 0.5).sum())
    cutoff.threshold = 0.9  # the threshold moves; repr(cutoff) does not
    ss.update(sf)
    assert ss.sizes()["high"] == int((DF.score > 0.9).sum()) < int((DF.score > 0.5).sum())
    assert ss.mask("high").tolist() == fresh(sf).tolist()


def test_a_new_resource_object_with_another_threshold_gets_its_own_mask():
    ss = SliceSet(DF, [SlicingFunction("high", above, resources={"cutoff": Cutoff(0.5)})])
    sf = SlicingFunction("high", above, resources={"cutoff": Cutoff(0.1)})
    ss.update(sf)
    assert ss.sizes()["high"] == int((DF.score > 0.1).sum())
    # and going back to an equal resource reuses the first mask
    n = ss.n_computed
    ss.update(SlicingFunction("high", above, resources={"cutoff": Cutoff(0.5)}))
    assert ss.n_computed == n and ss.sizes()["high"] == int((DF.score > 0.5).sum())


def test_refitting_a_model_resource_in_place_is_recomputed():
    X = DF[["score"]].to_numpy()
    model = LogisticRegression().fit(X, DF.score > 0.5)

    @slicing_function(vectorized=True, resources={"model": model})
    def pred_pos(df, model):
        return model.predict(df[["score"]].to_numpy()) == 1

    ss = SliceSet(DF, [pred_pos])
    before = ss.sizes()["pred_pos"]
    model.fit(X, DF.score > 0.8)  # refit in place: same object, new coefficients
    ss.update(pred_pos)
    assert ss.sizes()["pred_pos"] != before
    assert ss.mask("pred_pos").tolist() == fresh(pred_pos).tolist()


# -- what the fingerprint follows -----------------------------------------------------------------
def _namespace(source: str) -> dict:
    ns: dict = {}
    exec(compile(source, "<cell>", "exec"), ns)  # noqa: S102 - a notebook cell stand-in
    return ns


def test_helper_functions_and_globals_they_read_are_followed_recursively():
    ns = _namespace("LIMIT = 3\ndef helper(n):\n    return n > LIMIT\n"
                    "def sf_f(x):\n    return helper(x.n)\n")
    sf = SlicingFunction("big", ns["sf_f"])
    first = sf.fingerprint
    assert sf.fingerprint == first  # stable
    ns["LIMIT"] = 5  # a global read by the helper
    second = sf.fingerprint
    assert second != first
    exec("def helper(n):\n    return n >= LIMIT\n", ns)  # noqa: S102 - the helper is edited
    assert sf.fingerprint not in (first, second)
    ss = SliceSet(DF, [sf])
    ns["LIMIT"] = 8
    ss.update(sf)
    assert ss.sizes()["big"] == int((DF.n >= 8).sum())


def test_the_same_code_run_again_in_another_cell_hits_the_cache():
    src = "def short(x):\n    return isinstance(x.text, str) and len(x.text) < 5\n"
    a = SlicingFunction("short", _namespace(src)["short"])
    ns = {}
    exec(compile(src, "<another cell, other line numbers>", "exec"), ns)  # noqa: S102
    b = SlicingFunction("short", ns["short"])
    assert a.fingerprint == b.fingerprint
    ss = SliceSet(DF, [a])
    n = ss.n_computed
    ss.update(b)
    assert ss.n_computed == n


def test_user_module_attributes_read_by_the_sf_are_followed():
    config = types.ModuleType("my_config")
    config.LIMIT = 3
    ns = _namespace("def f(x):\n    return x.n > config.LIMIT\n")
    ns["config"] = config
    sf = SlicingFunction("big", ns["f"])
    first = sf.fingerprint
    config.LIMIT = 4
    assert sf.fingerprint != first


def test_methods_and_classes_of_user_code_are_hashed_by_content():
    ns = _namespace("class Rule:\n    k = 2\n    def check(self, x):\n        return x.n > self.k\n")
    rule = ns["Rule"]()
    sf = SlicingFunction("rule", rule.check)
    first = sf.fingerprint
    ns["Rule"].k = 5  # a class attribute
    assert sf.fingerprint != first
    exec("def check(self, x):\n    return x.n >= self.k\n", ns)  # noqa: S102
    ns["Rule"].check = ns["check"]  # a method edited on the class
    assert SlicingFunction("rule", rule.check).fingerprint != first


def test_arrays_and_containers_are_hashed_by_content_and_order():
    ids = np.arange(10_000)
    sf = SlicingFunction("in", lambda x, ids: x.n in ids, resources={"ids": ids})
    first = sf.fingerprint
    ids[5_000] = -1  # in place, same repr (elided)
    assert sf.fingerprint != first
    words = {"a": 1}
    sf = SlicingFunction("w", lambda x, w: x.text in w, resources={"w": words})
    first = sf.fingerprint
    words["b"] = 2
    assert sf.fingerprint != first
    assert fingerprint({"a": 1, "b": 2}) != fingerprint({"b": 2, "a": 1})  # order kept


def test_objects_without_a_content_hash_are_never_reused():
    lock = threading.Lock()
    sf = SlicingFunction("locked", lambda x, lock: x.n > 5, resources={"lock": lock})
    assert is_volatile(sf.fingerprint) and sf.fingerprint != sf.fingerprint
    ss = SliceSet(DF, [sf], cache_size=256)
    n = ss.n_computed
    for _ in range(3):
        ss.update(sf)
    assert ss.n_computed == n + 3
    assert len(ss._cache) == 1  # volatile masks are not kept once replaced


def test_the_protocol_opts_an_object_into_caching():
    class Versioned:
        def __init__(self):
            self.lock = threading.Lock()  # unpicklable
            self.version = 0

        def __slicewidgets_fingerprint__(self):
            return ("Versioned", self.version)

    obj = Versioned()
    sf = SlicingFunction("v", lambda x, obj: x.n > 5, resources={"obj": obj})
    first = sf.fingerprint
    assert not is_volatile(first) and sf.fingerprint == first
    obj.version += 1
    assert sf.fingerprint != first


def test_library_code_is_taken_by_name_and_the_common_cases_stay_cached():
    import re

    a = SlicingFunction("r", lambda x: re.search("a", x.text) is not None)
    assert a.fingerprint == SlicingFunction("r", lambda x: re.search("a", x.text) is not None
                                            ).fingerprint
    ss = SliceSet(DF, [keyword_sf(["plz"]), regex_sf("check.*out")])
    n = ss.n_computed
    ss.update(keyword_sf(["plz", "song"], name="keyword_plz"))
    ss.update(keyword_sf(["plz"]))
    ss.update(regex_sf("check.*out"))
    assert ss.n_computed == n + 1


# -- property: the cache never changes a mask ------------------------------------------------------
OPS = st.lists(st.tuples(st.sampled_from(["kw", "box_mutate", "box_new", "array", "global",
                                          "helper", "model", "closure", "same"]),
                         st.integers(0, 9)), min_size=1, max_size=12)
WORDS = ["please", "plz", "song", "check", "nice", "out", "it"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS)
def test_random_edits_and_resource_mutations_never_change_a_mask(ops):
    box = Cutoff(0.5)
    ids = np.array([1, 2, 3])
    model = LogisticRegression().fit(DF[["score"]].to_numpy(), DF.score > 0.5)
    ns = _namespace("LIMIT = 3\ndef helper(n):\n    return n > LIMIT\n"
                    "def glob_f(x):\n    return x.n < LIMIT\n"
                    "def helper_f(x):\n    return helper(x.n)\n")

    def make_closure(k):
        return SlicingFunction("closure", lambda x: x.n % (k + 1) == 0)

    sfs = {
        "kw": keyword_sf(["please"], name="kw"),
        "box": SlicingFunction("box", above, resources={"cutoff": box}),
        "array": SlicingFunction("array", lambda df, ids: df.n.isin(ids), vectorized=True,
                                 resources={"ids": ids}),
        "global": SlicingFunction("global", ns["glob_f"]),
        "helper": SlicingFunction("helper", ns["helper_f"]),
        "model": SlicingFunction(
            "model", lambda df, m: m.predict(df[["score"]].to_numpy()) == 1, vectorized=True,
            resources={"m": model}),
        "closure": make_closure(1),
    }
    ss = SliceSet(DF, list(sfs.values()))
    for op, i in ops:
        if op == "kw":
            sfs["kw"] = keyword_sf(WORDS[i % len(WORDS): i % len(WORDS) + 2], name="kw")
        elif op == "box_mutate":
            box.threshold = i / 10
        elif op == "box_new":
            box = Cutoff(i / 10)
            sfs["box"] = SlicingFunction("box", above, resources={"cutoff": box})
        elif op == "array":
            ids[i % 3] = i
        elif op == "global":
            ns["LIMIT"] = i
        elif op == "helper":
            exec(f"def helper(n):\n    return n % {i + 1} == 0\n", ns)  # noqa: S102
        elif op == "model":
            model.fit(DF[["score"]].to_numpy(), DF.score > (i + 0.5) / 10)
        elif op == "closure":
            sfs["closure"] = make_closure(i)
        for sf in sfs.values():
            ss.update(sf)
        expected = PandasSFApplier(list(sfs.values())).apply(DF, progress_bar=False)
        for name in sfs:
            assert ss.mask(name).tolist() == expected[name].astype(bool).tolist(), (op, i, name)


def _defined(source: str, **names) -> dict:
    """Run ``source`` in a fresh module namespace (its globals can then be changed)."""
    ns = {"pd": pd, "slicing_function": slicing_function, **names}
    exec(source, ns)  # noqa: S102 - test code
    return ns


DYNAMIC = {
    "df.eval @": 'return df.eval("n > @LIMIT")',
    "df.query @": 'return df.index.isin(df.query("n > @LIMIT").index)',
    "pd.eval bare": 'return pd.eval("df.n > LIMIT")',
    "globals()": 'return df.n > globals()["LIMIT"]',
    "an expression global": "return df.eval(EXPR)",
}


@pytest.mark.parametrize("body", DYNAMIC.values(), ids=DYNAMIC.keys())
def test_globals_named_in_strings_are_followed(body):
    ns = _defined(f"@slicing_function(vectorized=True)\ndef big(df):\n    {body}\n",
                  LIMIT=3, EXPR="n > @LIMIT")
    big = ns["big"]
    df = pd.DataFrame({"n": [1, 5, 9]})
    ss = SliceSet(df, [big])
    assert ss.sizes() == {"big": 2}
    first = big.fingerprint
    ns["LIMIT"] = 6
    assert big.fingerprint != first
    ss.update(big)
    assert ss.sizes() == {"big": 1} == {"big": int(big.mask(df).sum())}


def test_strings_are_read_as_names_only_where_a_dynamic_lookup_can_read_them():
    ns = _defined('@slicing_function()\ndef f(x):\n    return x.text == "LIMIT"\n', LIMIT=3)
    first = ns["f"].fingerprint
    ns["LIMIT"] = 6  # a global that happens to share the string's spelling
    assert ns["f"].fingerprint == first
