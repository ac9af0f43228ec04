"""Slicing with Spark: membership columns, per-slice scores and slices, computed in Spark.

``SparkSFApplier(sfs).apply(sdf)`` returns a *lazy* Spark DataFrame: the input's columns plus
one boolean column per SF. Each Arrow batch runs the fast pandas engine
(:func:`~slicewidgets.slicing.apply.compute_masks`) in a Python worker (``mapInPandas``);
nothing is collected to the driver. ``SparkSFApplier(sfs).score(sdf, "label", "pred", scorer)``
sums per-slice confusion counts in Spark and returns only the small table of scores, in
:meth:`Scorer.score_slices <slicewidgets.analysis.Scorer.score_slices>`'s layout.

Divergence from Snorkel: Snorkel's ``SparkSFApplier`` (an alias of its ``SparkLFApplier``)
collects an ``n x k`` integer array to the driver (not even a recarray). Here the membership
stays in Spark, as columns next to the data (Spark rows have no index to align a separate
result with); pass ``return_recarray=True`` for Snorkel's ``S`` when it fits in memory.

Nulls: row-wise SFs see a null as ``None``, as in Snorkel (whose data points are Spark
``Row`` objects), and a Spark NaN as NaN; integers stay ``int``. Vectorized SFs get the pandas
batch, where a null is ``NaN``/``None``/``NaT`` as pandas converts it.

Needs the ``spark`` extra: ``pip install 'slicewidgets[spark]'`` (and Java). The Python
workers must run the driver's interpreter with slicewidgets installed (``PYSPARK_PYTHON``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from slicewidgets.slicing._distributed import (
    COUNT_COLUMNS,
    EngineSFApplier,
    counts_table,
    dump_sfs,
    filter_partition,
    load_sfs,
    masks_counts,
    partition_masks,
)
from slicewidgets.slicing.apply import ApplierMetadata, to_recarray
from slicewidgets.slicing.sf import SFApplyError, SlicingFunction

__all__ = ["SparkSFApplier", "SparkWorkerError", "slice_dataframe_spark"]

MISSING_SPARK = "{owner} needs pyspark: pip install 'slicewidgets[spark]'"
NOT_SPARK_DATA = (
    "{owner}.{method} expects a Spark DataFrame or an RDD of pyspark.sql.Row, got {got}. "
    "For a pandas DataFrame use PandasSFApplier; convert with spark.createDataFrame(df)."
)
BAD_RDD = (
    "{owner}.{method} could not turn the RDD into a Spark DataFrame ({error}); pass an RDD "
    "of pyspark.sql.Row (or dicts) with the fields the SFs read, or a Spark DataFrame."
)
NAME_CLASH = (
    "{owner}.apply: slicing function names {names} are already columns of the DataFrame; "
    "rename the SFs (sf.rename(...)) or drop those columns first."
)

_COUNTS_SCHEMA = "slice long, " + ", ".join(f"{c} long" for c in (*COUNT_COLUMNS, "n_nonbinary"))
_META_SCHEMA = "partition long, sf string, faults long, error string, positions array<long>"


def _import_spark(owner: str):
    try:
        import pyspark
        import pyspark.sql  # noqa: F401
    except ImportError:
        raise ImportError(MISSING_SPARK.format(owner=owner)) from None
    return pyspark


def _as_spark_frame(data: Any, owner: str, method: str) -> Any:
    pyspark = _import_spark(owner)
    from pyspark.sql import DataFrame

    if isinstance(data, DataFrame):
        return data
    if isinstance(data, pyspark.RDD):
        try:
            return data.toDF()
        except Exception as err:
            raise TypeError(BAD_RDD.format(owner=owner, method=method,
                                           error=f"{type(err).__name__}: {err}")) from err
    raise TypeError(NOT_SPARK_DATA.format(owner=owner, method=method, got=type(data).__name__))


def _partition_id() -> int | None:
    from pyspark import TaskContext

    ctx = TaskContext.get()
    return None if ctx is None else ctx.partitionId()


def _numbered(batches):
    """Give each batch an index counting rows from the start of the partition."""
    offset = 0
    for batch in batches:
        batch.index = pd.RangeIndex(offset, offset + len(batch))
        offset += len(batch)
        yield batch


# ---------------------------------------------------------------------------------------------
# nulls: None for row-wise SFs, as in a Spark Row (Snorkel's data point)

#: Prefix of the columns added for the workers: whether a nullable float column's value is
#: null (the Arrow -> pandas conversion turns a null and a NaN alike into NaN).
_NULL_FLAG = "__slicewidgets_null_"


def _with_null_flags(sdf: Any) -> tuple[Any, dict[str, str], list[str]]:
    """``sdf`` with a flag column per nullable float column, the flags' names by column, and
    the nullable integer columns: what the workers need to give row-wise SFs ``None`` for a
    null, as Snorkel's Spark applier does (its data points are Spark ``Row`` objects)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    flags: dict[str, str] = {}
    ints: list[str] = []
    for i, field in enumerate(sdf.schema.fields):
        if not field.nullable:
            continue
        if isinstance(field.dataType, (T.FloatType, T.DoubleType)):
            flags[field.name] = f"{_NULL_FLAG}{i}"
        elif isinstance(field.dataType, T.IntegralType):
            ints.append(field.name)
    if flags:
        sdf = sdf.select("*", *[F.isnull(_col(c)).alias(f) for c, f in flags.items()])
    return sdf, flags, ints


def _batches(batches, flags: dict[str, str], ints: list[str]):
    """``(batch, rows)`` per pandas batch, the flag columns taken out: the batch as pandas has
    it (vectorized, keyword and regex SFs read it) and, where it holds nulls, what row-wise
    SFs read (:func:`null_as_none`; else ``None``: the batch itself)."""
    for batch in _numbered(batches):
        null = {c: batch.pop(f).to_numpy(dtype=bool) for c, f in flags.items()}
        yield batch, null_as_none(batch, null, ints)


def null_as_none(batch: pd.DataFrame, null: dict[str, Any],
                 ints: Sequence[str] = ()) -> pd.DataFrame | None:
    """``batch`` with ``None`` for each null, as a Spark ``Row`` holds it (``None`` if the
    batch has no null).

    ``null``: the null flags of the float columns (where pandas cannot tell a null from a
    NaN); in the other columns a missing value (``NaN`` in an integer column, ``NaT``,
    ``pd.NA``, ``None``) is a null, and the integers of ``ints`` stay Python ``int``.
    A float column without flags keeps its NaN (Spark declared it non-nullable).

    Examples
    --------
    >>> batch = pd.DataFrame({"n": [1.0, None], "f": [float("nan"), None]})
    >>> rows = null_as_none(batch, {"f": np.array([False, True])}, ints=["n"])
    >>> rows.n.tolist(), rows.f.tolist()
    ([1, None], [nan, None])
    """
    rows = None
    for c in batch.columns:
        col = batch[c]
        if c in null:
            isnull = np.asarray(null[c], dtype=bool)
        elif c not in ints and pd.api.types.is_float_dtype(col.dtype):
            continue
        else:
            isnull = col.isna().to_numpy(dtype=bool)
        if not isnull.any():
            continue
        values = col.to_numpy(dtype=object)
        if c in ints:
            values = [None if gap else int(v) for v, gap in zip(values, isnull, strict=True)]
        else:
            values = np.where(isnull, None, values)
        if rows is None:
            rows = batch.copy(deep=False)
        rows[c] = pd.Series(values, index=batch.index, dtype=object)
    return rows


# ---------------------------------------------------------------------------------------------
# functions run in the Python workers (built as closures over plain values)


def _membership_fn(blob: bytes, fault_tolerant: bool, flags: dict[str, str], ints: list[str]):
    def run(batches):
        sfs = load_sfs(blob)
        partition = _partition_id()
        for batch, rows in _batches(batches, flags, ints):
            m = partition_masks(batch, sfs, fault_tolerant, partition, rows)
            for j, name in enumerate(m.names):
                batch[name] = m.matrix[:, j]
            yield batch.reset_index(drop=True)

    return run


def _meta_fn(blob: bytes, flags: dict[str, str], ints: list[str]):
    def run(batches):
        sfs = load_sfs(blob)
        partition = _partition_id()
        meta = ApplierMetadata()
        for batch, rows in _batches(batches, flags, ints):
            meta.merge(partition_masks(batch, sfs, True, partition, rows).meta)
        rows = [
            (partition, name, count, meta.errors.get(name, ""),
             [int(p) for p in meta.fault_rows.get(name, []) if p is not None])
            for name, count in meta.faults.items()
        ]
        if rows:
            yield pd.DataFrame(rows, columns=["partition", "sf", "faults", "error", "positions"])

    return run


def _counts_fn(blob: bytes, golds: str, preds: str, abstain_label: int | None,
               fault_tolerant: bool, flags: dict[str, str], ints: list[str]):
    def run(batches):
        sfs = load_sfs(blob)
        partition = _partition_id()
        total = None
        for batch, rows in _batches(batches, flags, ints):
            counts = masks_counts(batch, sfs, golds, preds, abstain_label, fault_tolerant,
                                  partition, rows)
            if total is None:
                total = counts
            else:
                total[counts.columns[1:]] += counts[counts.columns[1:]]
        if total is not None:
            yield total

    return run


def _filter_fn(blob: bytes, flags: dict[str, str], ints: list[str]):
    def run(batches):
        sf = load_sfs(blob)[0]
        partition = _partition_id()
        for batch, rows in _batches(batches, flags, ints):
            yield filter_partition(batch, sf, partition, rows).reset_index(drop=True)

    return run


# ---------------------------------------------------------------------------------------------
# errors from the workers


_SF_ERROR = re.compile(r"SFApplyError: (?P<msg>Slicing function '(?P<name>[^']*)'.*)")
_PARTITION = re.compile(r"partition (\d+)")


def _reraise_sf_error(err: BaseException) -> None:
    """Re-raise a worker's SFApplyError (wrapped by Spark) as an SFApplyError."""
    match = _SF_ERROR.search(str(err))
    if match is None:
        return
    part = _PARTITION.search(match["msg"])
    raise SFApplyError(match["name"], None, None, message=match["msg"],
                       partition=int(part.group(1)) if part else None) from err


_WORKER_DIED = re.compile(
    r"Python worker exited unexpectedly|Python worker (?:failed|crashed)|"
    r"crashed unexpectedly|EOFException|Connection reset|worker.*(?:killed|lost)", re.I)
_TASK = re.compile(r"Lost task (\d+)\.\d+ in stage|task (\d+)\.\d+ in stage", re.I)


class SparkWorkerError(RuntimeError):
    """A Spark Python worker died while running slicing functions (killed, out of memory,
    crashed). The Spark error is chained as ``__cause__``.

    Attributes
    ----------
    partition
        The partition whose task failed (``None`` if Spark's message does not say).
    sf_names
        The slicing functions the worker was running.
    """

    def __init__(self, message: str, partition: int | None, sf_names: Sequence[str]) -> None:
        super().__init__(message)
        self.partition = partition
        self.sf_names = list(sf_names)


def _reraise_worker_death(err: BaseException, sf_names: Sequence[str]) -> None:
    """Replace Spark's (very long) error for a dead Python worker by a short one."""
    text = str(err)
    if not _WORKER_DIED.search(text):
        return
    task = _TASK.search(text)
    partition = int(next(g for g in task.groups() if g is not None)) if task else None
    where = f"partition {partition}" if partition is not None else "a partition"
    cause = next((line.strip() for line in text.splitlines() if _WORKER_DIED.search(line)), "")
    raise SparkWorkerError(
        f"A Spark Python worker died while applying the slicing functions {list(sf_names)} to "
        f"{where} ({cause[:200]}). It was killed or crashed, often for lack of memory: give the "
        "executors more memory, use more and smaller partitions (df.repartition(n)), or check "
        "SFs that call native code. Spark's full error is chained below (__cause__).",
        partition, sf_names,
    ) from err


def _collect(frame: Any, sf_names: Sequence[str] = ()) -> list:
    try:
        return frame.collect()
    except Exception as err:
        _reraise_sf_error(err)
        _reraise_worker_death(err, sf_names)
        raise


def _quoted(name: str) -> str:
    """A column reference for ``name`` taken literally (``youtube.com`` is not a struct field)."""
    return "`" + name.replace("`", "``") + "`"


def _col(name: str) -> Any:
    from pyspark.sql import functions as F

    return F.col(_quoted(name))


# ---------------------------------------------------------------------------------------------
# the applier


class SparkSFApplier(EngineSFApplier):
    """Apply slicing functions to a Spark DataFrame (or an RDD of Rows) inside Spark.

    Parameters
    ----------
    sfs
        Slicing functions (unique names). They are pickled with cloudpickle and shipped to
        the Python workers: define them at module top level or in a notebook.

    Examples
    --------
    >>> from slicewidgets.slicing import keyword_sf
    >>> applier = SparkSFApplier([keyword_sf(["plz"], name="plz")])
    >>> sdf = spark.createDataFrame([("plz sub", 1, 1), ("nice", 0, 1)],
    ...                             "text string, label long, pred long")  # doctest: +SKIP
    >>> applier.apply(sdf).select("plz").collect()  # doctest: +SKIP
    [Row(plz=True), Row(plz=False)]
    >>> applier.score(sdf, "label", "pred")  # doctest: +SKIP
    {'overall': {'accuracy': 0.5}, 'plz': {'accuracy': 1.0}}
    """

    def apply(
        self,
        data_points: Any,
        fault_tolerant: bool = False,
        *,
        return_meta: bool = False,
        return_recarray: bool = False,
    ) -> Any:
        """The data with one boolean membership column per SF (lazy).

        Parameters
        ----------
        data_points
            A Spark DataFrame, or an RDD of ``pyspark.sql.Row`` (Snorkel's input), converted
            with ``rdd.toDF()``. Row-wise SFs see each row's columns as attributes.
        fault_tolerant
            Rows on which an SF raises count as not in its slice instead of failing the job.
        return_meta
            Also return :class:`~slicewidgets.slicing.ApplierMetadata`. This runs one Spark
            job now to count the faults; ``fault_rows`` holds ``(partition, position)`` pairs.
        return_recarray
            Collect and return Snorkel's ``S`` recarray (one ``int64`` 0/1 field per SF, rows
            in the DataFrame's order) instead of the lazy frame; needs it to fit in memory.

        Returns
        -------
        pyspark.sql.DataFrame, np.recarray, or a pair with the metadata
            By default the input's columns followed by the SFs' boolean columns.

        Raises
        ------
        SFApplyError
            An SF failed (in the actions this method runs; in your own actions Spark raises
            its ``PythonException`` whose message holds the SFApplyError's text: SF name,
            row position and partition).
        TypeError
            An SF cannot be pickled (the message names it and says how to fix it).
        """
        sdf = _as_spark_frame(data_points, type(self).__name__, "apply")
        from pyspark.sql.types import BooleanType, StructField, StructType

        clash = [n for n in self._sf_names if n in sdf.columns]
        if clash:
            raise ValueError(NAME_CLASH.format(owner=type(self).__name__, names=clash))
        blob = self._blob()
        schema = StructType(list(sdf.schema.fields)
                            + [StructField(n, BooleanType(), False) for n in self._sf_names])
        flagged, flags, ints = _with_null_flags(sdf)
        out = flagged.mapInPandas(_membership_fn(blob, fault_tolerant, flags, ints), schema)
        result: Any = out
        if return_recarray:
            try:
                selected = out.select(*[_col(n) for n in self._sf_names])
                frame = (selected.toArrow().to_pandas() if hasattr(selected, "toArrow")
                         else selected.toPandas())
            except Exception as err:
                _reraise_sf_error(err)
                _reraise_worker_death(err, self._sf_names)
                raise
            result = to_recarray(self._sf_names, frame.to_numpy(dtype=bool))
        if not return_meta:
            return result
        meta = ApplierMetadata()
        if fault_tolerant:
            meta_parts = flagged.mapInPandas(_meta_fn(blob, flags, ints), _META_SCHEMA)
            for row in _collect(meta_parts, self._sf_names):
                sub = ApplierMetadata()
                sub.faults[row.sf] = row.faults
                sub.fault_rows[row.sf] = [(row.partition, p) for p in row.positions]
                if row.error:
                    sub.errors[row.sf] = row.error
                meta.merge(sub)
        return result, meta

    # -- scoring ------------------------------------------------------------------------------
    def counts(
        self,
        data: Any,
        golds: str,
        preds: str,
        *,
        abstain_label: int | None = -1,
        S: Any = None,
        fault_tolerant: bool = False,
    ) -> pd.DataFrame:
        """Per-slice confusion counts, summed in Spark.

        Parameters
        ----------
        data
            Spark DataFrame (or RDD of Rows) with the SFs' inputs and the label columns.
        golds, preds
            Names of the gold-label and predicted-label columns.
        abstain_label
            Rows where gold or pred equals it are not scored (``None``: score all).
        S
            The output of :meth:`apply` (with the label columns); when given, the counts are
            plain Spark SQL sums over its membership columns and the SFs are not run again.
        fault_tolerant
            As in :meth:`apply`.

        Returns
        -------
        pd.DataFrame
            Index ``overall`` then the slice names; integer columns ``size``, ``n_valid``,
            ``correct``, ``tp``, ``fp``, ``fn``, ``tn``, ``pred_nonabstain``.
        """
        sdf = _as_spark_frame(data if S is None else S, type(self).__name__, "score")
        from pyspark.sql import functions as F

        self._check_label_columns(sdf.columns, golds, preds)
        if S is None:
            flagged, flags, ints = _with_null_flags(sdf)
            parts = flagged.mapInPandas(
                _counts_fn(self._blob(), golds, preds, abstain_label, fault_tolerant, flags,
                           ints),
                _COUNTS_SCHEMA,
            )
            cols = [*COUNT_COLUMNS, "n_nonbinary"]
            rows = _collect(parts.groupBy("slice").agg(*[F.sum(c).alias(c) for c in cols]),
                            self._sf_names)
            summed = pd.DataFrame([r.asDict() for r in rows], columns=["slice", *cols])
            summed = summed.set_index("slice").sort_index()
        else:
            self._check_slice_columns(sdf.columns, "data")
            summed = self._sql_counts(sdf, golds, preds, abstain_label)
        return counts_table(summed, self._sf_names)

    def _sql_counts(self, sdf: Any, golds: str, preds: str,
                    abstain_label: int | None) -> pd.DataFrame:
        from pyspark.sql import functions as F

        g, p = _col(golds), _col(preds)
        valid = F.lit(True) if abstain_label is None else (
            (g != abstain_label) & (p != abstain_label))
        conds = {
            "size": F.lit(True),
            "n_valid": valid,
            "correct": valid & (g == p),
            "tp": valid & (g == 1) & (p == 1),
            "fp": valid & (g != 1) & (p == 1),
            "fn": valid & (g == 1) & (p != 1),
            "pred_nonabstain": p != -1,
        }
        members = [F.lit(True)] + [_col(n) for n in self._sf_names]
        exprs = [F.sum(F.when(m & c, 1).otherwise(0)).alias(f"{name}_{j}")
                 for j, m in enumerate(members) for name, c in conds.items()]
        allowed = [0, 1] if abstain_label is None else [0, 1, abstain_label]
        exprs.append(F.sum(F.when(~g.isin(allowed), 1).otherwise(0)
                           + F.when(~p.isin(allowed), 1).otherwise(0)).alias("n_nonbinary"))
        (row,) = _collect(sdf.agg(*exprs), self._sf_names)
        values = row.asDict()
        summed = pd.DataFrame(
            {name: [values[f"{name}_{j}"] or 0 for j in range(len(members))] for name in conds}
        )
        summed["tn"] = summed.n_valid - summed.tp - summed.fp - summed.fn
        summed["n_nonbinary"] = [values["n_nonbinary"] or 0] + [0] * (len(members) - 1)
        return summed

    def score(
        self,
        data: Any,
        golds: str,
        preds: str,
        scorer: Any = None,
        *,
        S: Any = None,
        fault_tolerant: bool = False,
        as_dataframe: bool = False,
    ) -> dict[str, dict[str, float]] | pd.DataFrame:
        """Scores overall and on every slice; only the small table reaches the driver.

        Parameters
        ----------
        data, golds, preds, S, fault_tolerant
            As in :meth:`counts`.
        scorer
            A :class:`~slicewidgets.analysis.Scorer` (default: accuracy) whose metrics are
            among ``accuracy``, ``coverage``, ``precision``, ``recall``, ``f1``,
            ``matthews_corrcoef`` (the last four need 0/1 labels).
        as_dataframe
            Return a DataFrame (index ``overall`` then the slices, one column per metric).

        Returns
        -------
        dict or DataFrame
            The layout and values of :meth:`Scorer.score_slices` (the same counts through
            the same formulas).
        """
        return self._score(scorer, as_dataframe, data, golds, preds, S=S,
                           fault_tolerant=fault_tolerant)


def slice_dataframe_spark(data: Any, slicing_function: SlicingFunction) -> Any:
    """The rows of a Spark DataFrame in the slice of ``slicing_function`` (lazy).

    Each Arrow batch is filtered in a Python worker; the result has the input's schema.

    Examples
    --------
    >>> from slicewidgets.slicing import keyword_sf
    >>> sdf = spark.createDataFrame([("plz",), ("hi",)], "text string")  # doctest: +SKIP
    >>> slice_dataframe_spark(sdf, keyword_sf(["plz"])).collect()  # doctest: +SKIP
    [Row(text='plz')]
    """
    if not isinstance(slicing_function, SlicingFunction):
        raise TypeError(
            "slice_dataframe_spark expects a SlicingFunction, got "
            f"{type(slicing_function).__name__}; decorate the function with @slicing_function()."
        )
    sdf = _as_spark_frame(data, "slice_dataframe_spark", "slice_dataframe")
    blob = dump_sfs([slicing_function], "slice_dataframe_spark")
    flagged, flags, ints = _with_null_flags(sdf)
    return flagged.mapInPandas(_filter_fn(blob, flags, ints), sdf.schema)
