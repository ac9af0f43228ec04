"""DaskSFApplier / PandasParallelSFApplier / slice_dataframe_dask on a LocalCluster of processes.

Every result is compared with the pandas path (PandasSFApplier, Scorer.score_slices,
slice_dataframe) on the same data.
"""

from __future__ import annotations

import re
import sys
import threading

import numpy as np
import pandas as pd
import pytest

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

from slicewidgets.analysis import Scorer  # noqa: E402
from slicewidgets.analysis._fast import slice_counts  # noqa: E402
from slicewidgets.preprocess import preprocessor  # noqa: E402
from slicewidgets.slicing import (  # noqa: E402
    PandasSFApplier,
    SFApplyError,
    keyword_sf,
    regex_sf,
    slice_dataframe,
    slicing_function,
)
from slicewidgets.slicing.dask import (  # noqa: E402
    DaskSFApplier,
    PandasParallelSFApplier,
    slice_dataframe_dask,
)

# the worker processes cannot import this test module: ship its SFs by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])

METRICS = ["accuracy", "coverage", "precision", "recall", "f1", "matthews_corrcoef"]


@preprocessor()
def add_n_words(x):
    x.n_words = len(x.text.split())
    return x


@slicing_function(pre=[add_n_words])
def short_comment(x):
    return x.n_words < 5


@slicing_function(vectorized=True)
def long_text(df):
    return df.text.str.len() > 120


@slicing_function()
def has_digit(x):
    return any(c.isdigit() for c in x.text)


SPAM_SFS = [
    keyword_sf(["please", "plz"], name="keyword_please"),
    keyword_sf(["subscribe", "sub"], name="keyword_subscribe"),
    regex_sf(r"check.*out", name="regex_check_out", flags=re.I),
    short_comment,
    long_text,
    has_digit,
    (short_comment & has_digit).rename("short_with_digit"),
]


@slicing_function()
def fails_on_row_1234(x):
    if x.n == 1234:
        raise ZeroDivisionError("cannot slice this row")
    return x.n % 3 == 0


@slicing_function(vectorized=True)
def vectorized_fails(df):
    return df.missing_column > 0


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=None, host="127.0.0.1")
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def spam(spam_splits):
    df_train, df_test = spam_splits
    df = pd.concat([df_train, df_test])  # duplicate index labels, as the tutorial's frames
    rng = np.random.default_rng(0)
    flip = rng.random(len(df)) < 0.2
    df = df.assign(pred=np.where(flip, 1 - df.label.to_numpy(), df.label.to_numpy()))
    return df


def generated(n: int = 6000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    words = np.array(["plz", "sub", "check", "out", "nice", "song", "love", "video", "4u"])
    lengths = rng.integers(1, 12, n)
    text = [" ".join(rng.choice(words, k)) for k in lengths]
    golds = rng.integers(0, 2, n)
    preds = np.where(rng.random(n) < 0.25, 1 - golds, golds)
    preds[rng.random(n) < 0.05] = -1  # abstains
    golds[rng.random(n) < 0.02] = -1
    return pd.DataFrame({"text": text, "n": np.arange(n), "label": golds, "pred": preds},
                        index=pd.RangeIndex(n) * 10)


def pandas_matrix(df: pd.DataFrame, sfs) -> np.ndarray:
    S = PandasSFApplier(sfs).apply(df, progress_bar=False)
    return np.stack([S[name] for name in S.dtype.names], axis=1).astype(bool)


def assert_scores_equal(got: dict, want: dict) -> None:
    assert list(got) == list(want)
    for name in want:  # the same counts through the same formulas: bit-identical
        assert list(got[name]) == list(want[name])
        for metric, value in want[name].items():
            np.testing.assert_equal(got[name][metric], value)


# ---------------------------------------------------------------------------------------------
# apply


def test_apply_spam_matches_pandas_and_stays_lazy_and_aligned(client, spam):
    ddf = dd.from_pandas(spam, npartitions=4, sort=False)
    S = DaskSFApplier(SPAM_SFS).apply(ddf)
    assert isinstance(S, dd.DataFrame)
    assert list(S.columns) == [sf.name for sf in SPAM_SFS]
    assert S.npartitions == ddf.npartitions
    assert set(S.dtypes) == {np.dtype(bool)}
    got = S.compute()
    np.testing.assert_array_equal(got.to_numpy(), pandas_matrix(spam, SPAM_SFS))
    np.testing.assert_array_equal(got.index, spam.index)
    # aligned with the input partition by partition: boolean indexing works without a shuffle
    rows = ddf[S.keyword_please].compute()
    pd.testing.assert_frame_equal(rows, slice_dataframe(spam, SPAM_SFS[0]),
                                  check_dtype=False)


def test_apply_generated_keeps_divisions_and_returns_recarray(client):
    df = generated()
    ddf = dd.from_pandas(df, npartitions=5)
    applier = DaskSFApplier(SPAM_SFS)
    S = applier.apply(ddf)
    assert S.divisions == ddf.divisions
    joined = ddf.join(S).compute()
    np.testing.assert_array_equal(joined[applier.sfs[2].name].to_numpy(),
                                  pandas_matrix(df, SPAM_SFS)[:, 2])
    rec = applier.apply(ddf, return_recarray=True)
    want = PandasSFApplier(SPAM_SFS).apply(df, progress_bar=False)
    assert rec.dtype == want.dtype
    np.testing.assert_array_equal(rec, want)


def test_worker_failure_names_sf_partition_and_row(client):
    df = generated(3000)
    ddf = dd.from_pandas(df, npartitions=3)  # row 1234 is in partition 1 (rows 1000-1999)
    S = DaskSFApplier([keyword_sf(["plz"]), fails_on_row_1234]).apply(ddf)
    with pytest.raises(SFApplyError) as info:
        S.compute()
    err = info.value
    assert (err.sf_name, err.partition, err.index, err.position) == (
        "fails_on_row_1234", 1, 12340, 234)
    assert str(err) == (
        "Slicing function 'fails_on_row_1234' raised ZeroDivisionError on the row with index "
        "12340 (position 234) of partition 1: cannot slice this row. Fix the SF, or apply "
        "with fault_tolerant=True to count failing rows as not in the slice."
    )


def test_vectorized_failure_names_partition(client):
    ddf = dd.from_pandas(generated(100), npartitions=2)
    with pytest.raises(SFApplyError, match=r"'vectorized_fails' raised AttributeError on the "
                                           r"whole DataFrame \(vectorized\) of partition \d"):
        DaskSFApplier([vectorized_fails]).apply(ddf).compute()


def test_fault_tolerant_counts_match_pandas_in_one_pass(client):
    df = generated(3000)
    ddf = dd.from_pandas(df, npartitions=3)
    sfs = [keyword_sf(["plz"]), fails_on_row_1234]
    S, meta = DaskSFApplier(sfs).apply(ddf, fault_tolerant=True, return_meta=True)
    S, meta = dask.compute(S, meta)
    want_S, want_meta = PandasSFApplier(sfs).apply(df, progress_bar=False, fault_tolerant=True,
                                                   return_meta=True)
    np.testing.assert_array_equal(S.to_numpy(),
                                  np.stack([want_S[n] for n in want_S.dtype.names], 1) > 0)
    assert dict(meta.faults) == dict(want_meta.faults) == {"fails_on_row_1234": 1}
    assert dict(meta.fault_rows) == {"fails_on_row_1234": [12340]}
    assert meta.errors == {"fails_on_row_1234": "ZeroDivisionError: cannot slice this row"}
    assert not S.loc[12340, "fails_on_row_1234"]


def test_unpicklable_sf_raises_clear_error():
    lock = threading.Lock()

    @slicing_function(resources={"lock": lock})
    def locked(x, lock):
        with lock:
            return True

    applier = DaskSFApplier([keyword_sf(["plz"]), locked])
    ddf = dd.from_pandas(generated(10), npartitions=1)
    with pytest.raises(TypeError) as info:
        applier.apply(ddf)
    assert str(info.value) == (
        "DaskSFApplier: slicing function 'locked' cannot be pickled to send it to the workers "
        "(TypeError: cannot pickle '_thread.lock' object). Define the SF, its resources and "
        "its preprocessors at module top level or in a notebook cell, and do not let them "
        "hold open files, locks, generators, database connections or other process-bound "
        "objects: create such things inside the function (or lazily, once per worker) instead."
    )


# ---------------------------------------------------------------------------------------------
# scoring


def test_score_spam_matches_scorer(client, spam):
    ddf = dd.from_pandas(spam, npartitions=3, sort=False)
    scorer = Scorer(metrics=METRICS)
    applier = DaskSFApplier(SPAM_SFS)
    want = scorer.score_slices(PandasSFApplier(SPAM_SFS).apply(spam, progress_bar=False),
                               spam.label, spam.pred)
    assert_scores_equal(applier.score(ddf, "label", "pred", scorer), want)
    # reusing the membership from apply gives the same result
    S = applier.apply(ddf)
    got = applier.score(ddf, "label", "pred", scorer, S=S, as_dataframe=True)
    pd.testing.assert_frame_equal(got, pd.DataFrame.from_dict(want).transpose(), rtol=0,
                                  atol=0)


def test_counts_with_abstains_and_empty_partition_match_slice_counts(client):
    df = generated()
    ddf = dd.from_pandas(df, npartitions=4)
    ddf = ddf[ddf.n % 4 != 0]  # keeps partitions, some rows filtered
    ddf = ddf[(ddf.n < 1500) | (ddf.n >= 3000)]  # partition 1 becomes empty
    assert ddf.map_partitions(len).compute().tolist()[1] == 0
    local = ddf.compute()
    applier = DaskSFApplier(SPAM_SFS)
    table = applier.counts(ddf, "label", "pred")
    M = pandas_matrix(local, SPAM_SFS)
    want = slice_counts(np.column_stack([np.ones(len(local), bool), M]), local.label,
                        local.pred)
    assert list(table.index) == ["overall", *applier._sf_names]
    for column in table.columns:
        np.testing.assert_array_equal(table[column].to_numpy(), want[column])
    scorer = Scorer(metrics=METRICS)
    assert_scores_equal(applier.score(ddf, "label", "pred", scorer),
                        scorer.score_slices(_as_S(M, applier._sf_names), local.label,
                                            local.pred))


def _as_S(M: np.ndarray, names: list) -> dict:
    return {name: M[:, j] for j, name in enumerate(names)}


def test_score_rejects_metrics_it_cannot_sum():
    ddf = dd.from_pandas(generated(10), npartitions=1)
    with pytest.raises(ValueError) as info:
        DaskSFApplier(SPAM_SFS).score(ddf, "label", "pred", Scorer(metrics=["accuracy",
                                                                            "roc_auc"]))
    assert str(info.value) == (
        "DaskSFApplier.score computes metrics from per-slice counts summed in the engine and "
        "cannot compute ['roc_auc']; it supports ['accuracy', 'coverage', 'precision', "
        "'recall', 'f1', 'matthews_corrcoef']. For the others, collect the labels and "
        "membership (they must fit in memory) and use Scorer.score_slices."
    )


def test_score_refuses_a_custom_function_under_a_builtin_name():
    def balanced(golds, preds, probs):
        return 0.0

    ddf = dd.from_pandas(generated(10), npartitions=1)
    scorer = Scorer(metrics=["accuracy"], custom_metric_funcs={"accuracy": balanced})
    with pytest.raises(ValueError, match=r"cannot compute \['accuracy \(a custom function\)'\]"):
        DaskSFApplier(SPAM_SFS).score(ddf, "label", "pred", scorer)


def test_score_binary_metric_on_multiclass_labels_raises(client):
    df = generated(200).assign(label=lambda d: d.n % 3)
    ddf = dd.from_pandas(df, npartitions=2)
    assert DaskSFApplier(SPAM_SFS).score(ddf, "label", "pred")["overall"]["accuracy"] >= 0
    with pytest.raises(ValueError, match=r"\['f1'\] need binary labels"):
        DaskSFApplier(SPAM_SFS).score(ddf, "label", "pred", Scorer(metrics=["f1"]))


def test_score_missing_label_column():
    ddf = dd.from_pandas(generated(10), npartitions=1)
    with pytest.raises(KeyError, match="golds='gold' is not a column of the DataFrame"):
        DaskSFApplier(SPAM_SFS).score(ddf, "gold", "pred")


# ---------------------------------------------------------------------------------------------
# slice_dataframe, PandasParallelSFApplier, input checks


def test_slice_dataframe_dask_matches_pandas(client, spam):
    ddf = dd.from_pandas(spam, npartitions=3, sort=False)
    for sf in (SPAM_SFS[2], short_comment):
        got = slice_dataframe_dask(ddf, sf)
        assert isinstance(got, dd.DataFrame)
        pd.testing.assert_frame_equal(got.compute(), slice_dataframe(spam, sf),
                                      check_dtype=False)


def test_pandas_parallel_applier_matches_pandas_over_processes(spam):
    applier = PandasParallelSFApplier(SPAM_SFS)
    S, meta = applier.apply(spam, n_parallel=2, scheduler="processes", return_meta=True)
    want = PandasSFApplier(SPAM_SFS).apply(spam, progress_bar=False)
    assert S.dtype == want.dtype
    np.testing.assert_array_equal(S, want)
    assert dict(meta.faults) == {}
    with pytest.raises(ValueError, match="n_parallel should be >= 2, got 1. For single "
                                         "process Pandas, use PandasSFApplier."):
        applier.apply(spam, n_parallel=1)


def test_inputs_are_checked(spam):
    with pytest.raises(TypeError, match="DaskSFApplier.apply expects a dask.dataframe."
                                        "DataFrame, got DataFrame. For a pandas DataFrame use "
                                        "PandasParallelSFApplier"):
        DaskSFApplier(SPAM_SFS).apply(spam)
    with pytest.raises(ValueError, match="Operator names not unique"):
        DaskSFApplier([short_comment, short_comment])
    assert repr(DaskSFApplier([short_comment])) == "DaskSFApplier, SFs: ['short_comment']"


def test_missing_dask_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "dask.dataframe", None)
    with pytest.raises(ImportError) as info:
        DaskSFApplier([short_comment]).apply(object())
    assert str(info.value) == "DaskSFApplier needs dask: pip install 'slicewidgets[dask]'"
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_large_sf_resources_are_shipped_once_not_per_partition():
    big = np.arange(200_000)  # ~1.6 MB pickled

    @slicing_function(resources={"big": big}, vectorized=True)
    def in_big(df, big):
        return df.n.isin(big[:10])

    ddf = dd.from_pandas(generated(100), npartitions=5)
    small_graph = dict(DaskSFApplier([long_text]).apply(ddf).__dask_graph__())
    big_graph = dict(DaskSFApplier([in_big]).apply(ddf).__dask_graph__())
    assert len(big_graph) == len(small_graph) + 1  # one shared task holds the pickled SFs
    sizes = [len(cloudpickle.dumps(task)) for task in big_graph.values()]
    assert sum(s > 1_000_000 for s in sizes) == 1
    assert DaskSFApplier([in_big]).apply(ddf).in_big.sum().compute(scheduler="sync") == 10


# -- fault tolerant: combined SFs leave out the rows their operands failed on (review #2) ---------
@slicing_function()
def starts_a(x):
    return x.text.startswith("a")  # raises on None


@slicing_function()
def big(x):
    return x.num > 2


FAULTY_SFS = [~starts_a, (starts_a | big).rename("a_or_big"), ~(starts_a & big),
              ~keyword_sf(["a"], name="typo", column="txt")]
# rows 1 and 4 hold None: starts_a raises there, so they are in no slice built from it
FAULTY_EXPECTED = [[0, 1, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [1, 1, 1, 0], [0, 0, 0, 0],
                   [0, 1, 0, 0]]


def test_fault_tolerant_combined_sfs_leave_out_failed_rows_as_pandas(client):
    df = pd.DataFrame({"text": pd.Series(["a b", None, "b", "b c", None, "ab"], dtype=object),
                       "num": [1, 5, 0, 3, 0, 4]})
    want, want_meta = PandasSFApplier(FAULTY_SFS).apply(df, progress_bar=False,
                                                        fault_tolerant=True, return_meta=True)
    assert want.tolist() == [tuple(r) for r in FAULTY_EXPECTED]
    S, meta = DaskSFApplier(FAULTY_SFS).apply(dd.from_pandas(df, npartitions=2),
                                              fault_tolerant=True, return_meta=True)
    S, meta = dask.compute(S, meta)
    assert S.astype(int).to_numpy().tolist() == FAULTY_EXPECTED
    S2, meta2 = PandasParallelSFApplier(FAULTY_SFS).apply(
        df, n_parallel=2, scheduler="processes", fault_tolerant=True, return_meta=True)
    assert S2.tolist() == want.tolist()
    assert dict(meta.faults) == dict(meta2.faults) == dict(want_meta.faults) == {
        "starts_a": 2, "not_starts_a": 2, "a_or_big": 2, "not_(starts_a_and_big)": 2,
        "typo": 6, "not_typo": 6}
