"""SparkSFApplier / slice_dataframe_spark on a local[2] Spark session, against the pandas path."""

from __future__ import annotations

import os
import re
import shutil
import sys
import threading
import warnings

import numpy as np
import pandas as pd
import pytest

pyspark = pytest.importorskip("pyspark")
cloudpickle = pytest.importorskip("cloudpickle")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java (none on PATH, JAVA_HOME unset)", allow_module_level=True)

from slicewidgets.analysis import Scorer  # noqa: E402
from slicewidgets.slicing import (  # noqa: E402
    PandasSFApplier,
    SFApplyError,
    keyword_sf,
    regex_sf,
    slice_dataframe,
    slicing_function,
)
from slicewidgets.slicing.spark import (  # noqa: E402
    SparkSFApplier,
    SparkWorkerError,
    slice_dataframe_spark,
)

cloudpickle.register_pickle_by_value(sys.modules[__name__])

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning",
                                        "ignore::DeprecationWarning",
                                        "ignore::UserWarning")

METRICS = ["accuracy", "coverage", "precision", "recall", "f1", "matthews_corrcoef"]


@slicing_function()
def short_comment(x):
    return len(x.text.split()) < 5


@slicing_function(vectorized=True)
def long_text(df):
    return df.text.str.len() > 120


SFS = [
    keyword_sf(["please", "plz"], name="keyword_please"),
    regex_sf(r"check.*out", name="regex_check_out", flags=re.I),
    short_comment,
    long_text,
    (short_comment | long_text).rename("short_or_long"),
]


@slicing_function()
def fails_on_row_700(x):
    if x.n == 700:
        raise ZeroDivisionError("cannot slice this row")
    return x.n % 3 == 0


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    old = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        session = (
            SparkSession.builder.master("local[2]").appName("slicewidgets-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.default.parallelism", "2")
            .config("spark.driver.host", "127.0.0.1")
            # small local jobs: a quick-start JIT and no code generation start faster
            .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
            .config("spark.sql.codegen.wholeStage", "false")
            .config("spark.sql.adaptive.enabled", "false")
            .config("spark.python.worker.reuse", "true")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate()
        )
    session.sparkContext.setLogLevel("OFF")
    yield session
    session.stop()
    if old is None:
        os.environ.pop("PYSPARK_PYTHON", None)
    else:
        os.environ["PYSPARK_PYTHON"] = old


@pytest.fixture(scope="module")
def spam(spam_splits):
    df_train, df_test = spam_splits
    df = pd.concat([df_train, df_test], ignore_index=True)
    rng = np.random.default_rng(0)
    flip = rng.random(len(df)) < 0.2
    pred = np.where(flip, 1 - df.label.to_numpy(), df.label.to_numpy())
    pred[rng.random(len(df)) < 0.05] = -1
    df = df.assign(pred=pred, text=df.text.astype(object))
    return df[["text", "label", "pred"]]


@pytest.fixture(scope="module")
def spam_sdf(spark, spam):
    return spark.createDataFrame(spam, "text string, label long, pred long")


def test_apply_returns_membership_columns_equal_to_pandas(spam, spam_sdf):
    applier = SparkSFApplier(SFS)
    out = applier.apply(spam_sdf)
    assert out.columns == ["text", "label", "pred", *applier._sf_names]
    assert {f.name: f.dataType.typeName() for f in out.schema.fields}["short_or_long"] == \
        "boolean"
    S = applier.apply(spam_sdf, return_recarray=True)  # rows keep the DataFrame's order
    want = PandasSFApplier(SFS).apply(spam, progress_bar=False)
    assert S.dtype == want.dtype
    np.testing.assert_array_equal(S, want)


def test_score_in_spark_matches_scorer(spam, spam_sdf):
    applier = SparkSFApplier(SFS)
    scorer = Scorer(metrics=METRICS)
    want = scorer.score_slices(PandasSFApplier(SFS).apply(spam, progress_bar=False),
                               spam.label, spam.pred, as_dataframe=True)
    got = applier.score(spam_sdf, "label", "pred", scorer, as_dataframe=True)
    pd.testing.assert_frame_equal(got, want, rtol=0, atol=0)
    # from the membership columns: plain Spark SQL sums, same counts
    counts_sql = applier.counts(spam_sdf, "label", "pred", S=applier.apply(spam_sdf))
    assert counts_sql.loc["overall", "size"] == len(spam)
    assert counts_sql.loc["keyword_please", "size"] == int(
        slice_dataframe(spam, SFS[0]).shape[0])
    from slicewidgets.analysis._fast import metric_from_counts

    np.testing.assert_array_equal(
        metric_from_counts("f1", {c: counts_sql[c].to_numpy() for c in counts_sql}),
        got["f1"].to_numpy())


def numbered(spark, n=1000):
    """n rows in 2 partitions: rows 0..n/2-1 in partition 0, the others in partition 1."""
    return spark.range(0, n, numPartitions=2).selectExpr("id AS n", "'plz' AS text",
                                                         "1 AS label", "1 AS pred")


def test_worker_failure_names_sf_partition_and_row(spark):
    with pytest.raises(SFApplyError) as info:
        SparkSFApplier([keyword_sf(["plz"]), fails_on_row_700]).score(
            numbered(spark), "label", "pred")
    err = info.value
    assert (err.sf_name, err.partition) == ("fails_on_row_700", 1)
    assert str(err) == (
        "Slicing function 'fails_on_row_700' raised ZeroDivisionError on the row with index "
        "200 (position 200) of partition 1: cannot slice this row. Fix the SF, or apply "
        "with fault_tolerant=True to count failing rows as not in the slice."
    )
    assert isinstance(err.__cause__, pyspark.errors.PythonException)


@slicing_function()
def kills_its_worker(x):
    if x.n == 600:
        os.kill(os.getpid(), 9)  # SIGKILL: as the kernel's OOM killer would
    return True


def test_sf_names_with_dots_are_column_names_not_struct_fields(spark):
    sfs = [keyword_sf(["youtube.com"], name="youtube.com"), keyword_sf(["plz"], name="a`b")]
    sdf = spark.createDataFrame(
        pd.DataFrame({"text": ["see youtube.com", "plz", "x"], "label": [1, 1, 0],
                      "pred": [1, 0, 0]}), "text string, label long, pred long")
    applier = SparkSFApplier(sfs)
    S = applier.apply(sdf, return_recarray=True)
    assert S["youtube.com"].tolist() == [1, 0, 0] and S["a`b"].tolist() == [0, 1, 0]
    assert applier.counts(sdf, "label", "pred", S=applier.apply(sdf)).loc[
        ["youtube.com", "a`b"], "size"].tolist() == [1, 1]


def test_a_killed_python_worker_gives_a_short_error_naming_partition_and_sfs(spark):
    with pytest.raises(SparkWorkerError) as info:
        SparkSFApplier([keyword_sf(["plz"]), kills_its_worker]).apply(
            numbered(spark), return_recarray=True)
    err = info.value
    message = str(err)
    assert message.startswith("A Spark Python worker died while applying the slicing functions "
                              "['keyword_plz', 'kills_its_worker'] to partition 1 (")
    assert len(message) < 800 and err.partition == 1
    assert err.sf_names == ["keyword_plz", "kills_its_worker"]
    assert err.__cause__ is not None and len(str(err.__cause__)) > len(message)


def test_fault_tolerant_meta_counts_faults(spark):
    S, meta = SparkSFApplier([fails_on_row_700]).apply(numbered(spark), fault_tolerant=True,
                                                       return_meta=True, return_recarray=True)
    assert dict(meta.faults) == {"fails_on_row_700": 1}
    assert meta.errors == {"fails_on_row_700": "ZeroDivisionError: cannot slice this row"}
    assert dict(meta.fault_rows) == {"fails_on_row_700": [(1, 200)]}  # (partition, position)
    assert S.fails_on_row_700.sum() == 334  # multiples of 3 below 1000; 700 is not one
    assert S.fails_on_row_700[700] == 0


def test_rdd_of_rows_as_snorkel(spark):
    from pyspark.sql import Row

    rdd = spark.sparkContext.parallelize(
        [Row(text="Please check it out", n=1), Row(text="nice song", n=2)])
    S = SparkSFApplier(SFS[:3]).apply(rdd, return_recarray=True)
    assert S.tolist() == [(1, 1, 1), (0, 0, 1)]


@slicing_function()
def n_missing(x):
    return x.n is None


@slicing_function()
def f_missing(x):
    return x.f is None


@slicing_function()
def f_nan(x):
    return x.f is not None and x.f != x.f


@slicing_function()
def n_is_int_below_3(x):
    return type(x.n) is int and x.n < 3


@slicing_function(vectorized=True)
def f_above_1(df):  # pandas semantics: a null is NaN, not above 1
    return df.f > 1


NULL_SFS = [n_missing, f_missing, f_nan, n_is_int_below_3, f_above_1, ~n_missing]


@pytest.fixture(scope="module")
def with_nulls(spark):
    return spark.createDataFrame(
        [("a", 1, 0.5), ("b", None, None), ("c", 3, float("nan")), ("d", 2, 2.0)],
        "text string, n long, f double")


def test_row_wise_sfs_see_a_null_as_none_as_in_snorkel(with_nulls):
    want = [[0, 0, 0, 1, 0, 1], [1, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 1], [0, 0, 0, 1, 1, 1]]
    S = SparkSFApplier(NULL_SFS).apply(with_nulls, return_recarray=True)
    assert [list(r) for r in S.tolist()] == want
    from snorkel.slicing import slicing_function as snorkel_sf
    from snorkel.slicing.apply.spark import SparkSFApplier as SnorkelSparkSFApplier

    row_wise = [snorkel_sf(name=sf.name)(sf._f) for sf in NULL_SFS[:4]]
    expected = SnorkelSparkSFApplier(row_wise).apply(with_nulls.rdd)
    assert expected.tolist() == [r[:4] for r in want]
    got = slice_dataframe_spark(with_nulls, n_missing).toPandas()
    assert got.text.tolist() == ["b"]
    counts = SparkSFApplier(NULL_SFS[:3]).counts(
        with_nulls.selectExpr("*", "1 AS label", "1 AS pred"), "label", "pred")
    assert counts["size"].tolist() == [4, 1, 1, 1]


def test_null_as_none_keeps_values_and_nan():
    from slicewidgets.slicing.spark import null_as_none

    batch = pd.DataFrame({"n": [1.0, np.nan], "f": [np.nan, np.nan], "g": [np.nan, 1.0],
                          "t": pd.to_datetime(["2024-01-01", None]), "s": ["x", None]})
    rows = null_as_none(batch, {"f": np.array([False, True])}, ints=["n"])
    assert rows.n.tolist() == [1, None] and type(rows.n[0]) is int
    assert np.isnan(rows.f[0]) and rows.f[1] is None  # a NaN stays NaN; a null is None
    assert np.isnan(rows.g[0]) and rows.g.dtype == float  # no flags: NaN is a value
    assert rows.t[1] is None and rows.s.tolist() == ["x", None]
    assert null_as_none(batch[["s"]].iloc[:1], {}) is None  # nothing missing: no copy


def test_slice_dataframe_spark_matches_pandas(spam, spam_sdf):
    got = slice_dataframe_spark(spam_sdf, SFS[1]).toPandas()
    want = slice_dataframe(spam, SFS[1]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_bad_inputs_are_rejected_before_any_job(spam, spam_sdf):
    lock = threading.Lock()

    @slicing_function(resources={"lock": lock})
    def locked(x, lock):
        return True

    with pytest.raises(TypeError, match=r"^SparkSFApplier: slicing function 'locked' cannot be "
                                        r"pickled to send it to the workers \(TypeError: cannot "
                                        r"pickle '_thread.lock' object\)\. Define the SF"):
        SparkSFApplier([locked]).apply(spam_sdf)
    with pytest.raises(ValueError, match=r"slicing function names \['text'\] are already "
                                         r"columns of the DataFrame"):
        SparkSFApplier([keyword_sf(["x"], name="text")]).apply(spam_sdf)
    with pytest.raises(ValueError, match=r"cannot compute \['roc_auc'\]"):
        SparkSFApplier(SFS).score(spam_sdf, "label", "pred", Scorer(metrics=["roc_auc"]))
    with pytest.raises(TypeError, match="expects a Spark DataFrame or an RDD of "
                                        "pyspark.sql.Row, got DataFrame"):
        SparkSFApplier(SFS).apply(spam)


def test_missing_pyspark_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(ImportError) as info:
        SparkSFApplier(SFS).apply(object())
    assert str(info.value) == "SparkSFApplier needs pyspark: pip install 'slicewidgets[spark]'"


# -- fault tolerant: combined SFs leave out the rows their operands failed on (review #2) ---------
@slicing_function()
def starts_a(x):
    return x.text.startswith("a")  # raises on None


@slicing_function()
def big(x):
    return x.num > 2


def test_fault_tolerant_combined_sfs_leave_out_failed_rows_as_pandas(spark):
    sfs = [~starts_a, (starts_a | big).rename("a_or_big"), ~(starts_a & big),
           ~keyword_sf(["a"], name="typo", column="txt")]
    df = pd.DataFrame({"text": pd.Series(["a b", None, "b", "b c", None, "ab"], dtype=object),
                       "num": [1, 5, 0, 3, 0, 4]})
    want, want_meta = PandasSFApplier(sfs).apply(df, progress_bar=False, fault_tolerant=True,
                                                 return_meta=True)
    # rows 1 and 4 hold None: starts_a raises there, so they are in no slice built from it
    assert want.tolist() == [(0, 1, 1, 0), (0, 0, 0, 0), (1, 0, 1, 0), (1, 1, 1, 0),
                             (0, 0, 0, 0), (0, 1, 0, 0)]
    sdf = spark.createDataFrame(df, "text string, num long").repartition(1)
    S, meta = SparkSFApplier(sfs).apply(sdf, fault_tolerant=True, return_meta=True,
                                        return_recarray=True)
    assert S.tolist() == want.tolist()
    assert dict(meta.faults) == dict(want_meta.faults)
