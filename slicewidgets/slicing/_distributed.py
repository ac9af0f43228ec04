"""Engine-agnostic pieces of the Dask and Spark appliers (no dask or pyspark import here).

Each engine runs the same three steps on every partition (or Arrow batch) of the data:

1. unpickle the slicing functions shipped once as a cloudpickle blob (:func:`dump_sfs`,
   :func:`load_sfs`, cached per process);
2. compute the partition's membership with :func:`~slicewidgets.slicing.apply.compute_masks`,
   re-raising a failure as an :class:`SFApplyError` that names the SF, the row and the
   partition (:func:`partition_masks`);
3. for scoring, reduce the partition to a ``(k + 1)``-row table of confusion counts
   (:func:`partition_counts`), which the engine sums; the driver only turns the summed table
   into metrics (:func:`scores_from_counts`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from slicewidgets.analysis import (
    BINARY_COUNT_METRICS,
    COUNT_METRICS,
    metric_from_counts,
    slice_counts,
)
from slicewidgets.slicing.apply import (
    ApplierMetadata,
    BaseSFApplier,
    SliceMembership,
    compute_masks,
)
from slicewidgets.slicing.sf import SFApplyError, SlicingFunction

__all__ = [
    "COUNT_COLUMNS",
    "ENGINE_METRICS",
    "EngineSFApplier",
    "check_engine_scorer",
    "counts_table",
    "dump_sfs",
    "filter_partition",
    "load_sfs",
    "masks_counts",
    "partition_counts",
    "partition_masks",
    "scores_from_counts",
]

#: the per-slice counts summed by the engines (``n_nonbinary`` only on the ``overall`` row)
COUNT_COLUMNS = ("size", "n_valid", "correct", "tp", "fp", "fn", "tn", "pred_nonabstain")
#: metrics the engines compute from summed counts
ENGINE_METRICS = tuple(COUNT_METRICS) + tuple(m for m in BINARY_COUNT_METRICS if m != "fbeta")

UNPICKLABLE_SF = (
    "{owner}: slicing function {name!r} cannot be pickled to send it to the workers "
    "({error}). Define the SF, its resources and its preprocessors at module top level or in "
    "a notebook cell, and do not let them hold open files, locks, generators, database "
    "connections or other process-bound objects: create such things inside the function "
    "(or lazily, once per worker) instead."
)

UNSUPPORTED_METRICS = (
    "{owner}.score computes metrics from per-slice counts summed in the engine and cannot "
    "compute {bad}; it supports {ok}. For the others, collect the labels and membership "
    "(they must fit in memory) and use Scorer.score_slices."
)

MISSING_COLUMN = (
    "{owner}.score: {arg}={column!r} is not a column of the DataFrame (columns: {columns}); "
    "pass the name of the column holding the {what}."
)

MISSING_SLICES = (
    "S has no column for slices {missing}; compute it with this applier's apply() on the "
    "same {what}."
)


def _cloudpickle():
    try:
        import cloudpickle
    except ImportError:  # pyspark ships its own copy
        from pyspark import cloudpickle
    return cloudpickle


def dump_sfs(sfs: Sequence[SlicingFunction], owner: str) -> bytes:
    """Pickle ``sfs`` for the workers; a clear ``TypeError`` names an SF that cannot be."""
    cp = _cloudpickle()
    for sf in sfs:
        try:
            cp.dumps(sf)
        except Exception as err:
            raise TypeError(UNPICKLABLE_SF.format(
                owner=owner, name=sf.name, error=f"{type(err).__name__}: {err}")) from err
    return cp.dumps(list(sfs))


_SF_CACHE: dict[str, list[SlicingFunction]] = {}


def load_sfs(blob: bytes) -> list[SlicingFunction]:
    """Unpickle SFs from :func:`dump_sfs`, once per process and blob."""
    key = hashlib.blake2b(blob, digest_size=16).hexdigest()
    sfs = _SF_CACHE.get(key)
    if sfs is None:
        import pickle

        sfs = pickle.loads(blob)
        if len(_SF_CACHE) >= 8:
            _SF_CACHE.pop(next(iter(_SF_CACHE)))
        _SF_CACHE[key] = sfs
    return sfs


def _with_partition(err: SFApplyError, partition: int | None) -> SFApplyError:
    if partition is None or err.partition is not None:
        return err
    if err.original is not None:
        return SFApplyError(err.sf_name, err.index, err.position, err.original,
                            vectorized=err.index is None and err.position is None,
                            partition=partition)
    return SFApplyError(err.sf_name, err.index, err.position,
                        message=f"{err} (in partition {partition})", partition=partition)


def partition_masks(
    df: pd.DataFrame, sfs: Sequence[SlicingFunction], fault_tolerant: bool,
    partition: int | None, rows: pd.DataFrame | None = None,
) -> SliceMembership:
    """:func:`compute_masks` on one partition (``rows``: what row-wise SFs read, see there);
    errors name the partition."""
    try:
        return compute_masks(df, sfs, fault_tolerant=fault_tolerant, rows=rows)
    except SFApplyError as err:
        raise _with_partition(err, partition) from err.original


def partition_counts(
    M: np.ndarray, golds: Any, preds: Any, abstain_label: int | None
) -> pd.DataFrame:
    """Counts of one partition: row 0 is ``overall``, row ``j + 1`` slice ``j``."""
    from slicewidgets.utils import to_int_label_array

    golds = to_int_label_array(np.asarray(golds))
    preds = to_int_label_array(np.asarray(preds))
    n, k = M.shape
    full = np.empty((n, k + 1), dtype=bool)
    full[:, 0] = True
    full[:, 1:] = M
    counts = slice_counts(full, golds, preds, abstain_label)
    out = pd.DataFrame({name: counts[name] for name in COUNT_COLUMNS})
    allowed = [0, 1] if abstain_label is None else [0, 1, abstain_label]
    nonbinary = np.zeros(k + 1, dtype=np.int64)
    nonbinary[0] = int((~np.isin(golds, allowed)).sum() + (~np.isin(preds, allowed)).sum())
    out["n_nonbinary"] = nonbinary
    out.insert(0, "slice", np.arange(k + 1, dtype=np.int64))
    return out


def masks_counts(
    part: pd.DataFrame, sfs: Sequence[SlicingFunction], golds: str, preds: str,
    abstain_label: int | None, fault_tolerant: bool, partition: int | None,
    rows: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """:func:`partition_counts` of one partition (or batch), running the SFs on it."""
    m = partition_masks(part, sfs, fault_tolerant, partition, rows)
    return partition_counts(m.matrix, part[golds].to_numpy(), part[preds].to_numpy(),
                            abstain_label)


def filter_partition(
    part: pd.DataFrame, sf: SlicingFunction, partition: int | None,
    rows: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The rows of one partition (or batch) in ``sf``'s slice."""
    mask = partition_masks(part, [sf], False, partition, rows).matrix[:, 0]
    return part.iloc[np.flatnonzero(mask)]


def counts_table(summed: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """Summed counts (indexed by slice number) as a table indexed ``overall`` + slice names.

    Slices missing from ``summed`` (no partition produced them: empty data) get zeros.
    """
    summed = summed.reindex(range(len(names) + 1), fill_value=0)
    table = summed.loc[:, list(COUNT_COLUMNS)].astype(np.int64)
    table.index = pd.Index(["overall", *names], name="slice")
    table.attrs["n_nonbinary"] = int(summed["n_nonbinary"].iloc[0])
    return table


def check_engine_scorer(scorer: Any, owner: str) -> Any:
    """A :class:`~slicewidgets.analysis.Scorer` whose metrics the engines can compute."""
    from slicewidgets.analysis import Scorer

    if scorer is None:
        scorer = Scorer(metrics=["accuracy"])
    if not isinstance(scorer, Scorer):
        raise TypeError(f"{owner}.score: scorer must be a Scorer, got {type(scorer).__name__}.")
    builtin = set(scorer.builtin_metrics)
    # a custom function under a built-in's name (custom_metric_funcs={"accuracy": f}) is not
    # what the counts give: refused, as any custom metric
    bad = [m if m not in ENGINE_METRICS else f"{m} (a custom function)"
           for m in scorer.metrics if m not in ENGINE_METRICS or m not in builtin]
    if bad:
        raise ValueError(UNSUPPORTED_METRICS.format(owner=owner, bad=bad,
                                                    ok=list(ENGINE_METRICS)))
    return scorer


def scores_from_counts(
    scorer: Any, table: pd.DataFrame, *, as_dataframe: bool = False, owner: str = ""
) -> dict[str, dict[str, float]] | pd.DataFrame:
    """``Scorer.score_slices``'s result (``overall`` + slices) from a counts table."""
    if int(table.loc["overall", "size"]) == 0:
        raise ValueError("Cannot score empty labels")
    binary_only = [m for m in scorer.metrics if m not in COUNT_METRICS]
    if binary_only and table.attrs.get("n_nonbinary", 0):
        raise ValueError(
            f"{owner}.score: {binary_only} need binary labels (golds and preds in 0/1, or "
            f"the abstain label {scorer.abstain_label}); the data has other labels. Use "
            "metrics=['accuracy'] or map the labels to 0/1."
        )
    counts = {c: table[c].to_numpy() for c in COUNT_COLUMNS}
    values = {m: metric_from_counts(m, counts) for m in scorer.metrics}
    result = {
        name: {m: float(values[m][i]) for m in scorer.metrics}
        for i, name in enumerate(table.index)
    }
    if as_dataframe:
        return pd.DataFrame.from_dict(result).transpose()
    return result


def merge_meta(parts: Sequence[Any]) -> ApplierMetadata:
    """One :class:`ApplierMetadata` from per-partition ones (``None`` entries skipped)."""
    meta = ApplierMetadata()
    for part in parts:
        if part is not None:
            meta.merge(part)
    return meta


class EngineSFApplier(BaseSFApplier):
    """What the Dask and Spark appliers share: shipping the SFs, checking ``counts``'
    arguments, and ``score`` as metrics of the summed ``counts``."""

    counts: Callable[..., pd.DataFrame]  # each engine's own

    def _blob(self) -> Any:
        return dump_sfs(self._sfs, type(self).__name__)

    def _check_label_columns(self, columns: Sequence[str], golds: str, preds: str) -> None:
        for arg, column, what in (("golds", golds, "gold labels"),
                                  ("preds", preds, "predicted labels")):
            if column not in columns:
                raise KeyError(MISSING_COLUMN.format(
                    owner=type(self).__name__, arg=arg, column=column,
                    columns=list(columns), what=what))

    def _check_slice_columns(self, columns: Sequence[str], what: str) -> None:
        missing = [n for n in self._sf_names if n not in columns]
        if missing:
            raise ValueError(MISSING_SLICES.format(missing=missing, what=what))

    def _score(self, scorer: Any, as_dataframe: bool, *args: Any, **counts_kw: Any
               ) -> dict[str, dict[str, float]] | pd.DataFrame:
        """``score``: ``self.counts(*args, **counts_kw)`` with the scorer's abstain label,
        turned into the scorer's metrics."""
        owner = type(self).__name__
        scorer = check_engine_scorer(scorer, owner)
        table = self.counts(*args, abstain_label=scorer.abstain_label, **counts_kw)
        return scores_from_counts(scorer, table, as_dataframe=as_dataframe, owner=owner)
