"""Slicing with Dask: membership, per-slice scores and slices of data larger than memory.

``DaskSFApplier(sfs).apply(ddf)`` returns slice membership as a *lazy* Dask DataFrame with
one boolean column per SF, partition for partition aligned with ``ddf`` (same index, same
partitions and divisions): nothing is collected to the driver. Each partition runs the fast
pandas engine (:func:`~slicewidgets.slicing.apply.compute_masks`) on a worker.

``DaskSFApplier(sfs).score(ddf, golds="label", preds="pred", scorer=...)`` computes the
per-slice confusion counts of each partition on the workers, sums them in Dask and returns
only the small table of scores, in :meth:`Scorer.score_slices
<slicewidgets.analysis.Scorer.score_slices>`'s layout.

Divergence from Snorkel: Snorkel's ``DaskSFApplier.apply`` computes and returns the whole
``n x k`` matrix on the driver, which runs out of memory on large data (snorkel#1501). Here
``apply`` is lazy; pass ``return_recarray=True`` for Snorkel's ``S`` recarray when it fits in
memory. :class:`PandasParallelSFApplier` (a pandas frame in, Snorkel's ``S`` out) behaves as
Snorkel's.

Throughput: each partition runs the same code as the pandas path, so a cluster of ``w``
single-threaded workers approaches ``w`` times the single-process throughput when partitions
hold 100k rows or more. On a small machine, where the workers share the cores with the
scheduler, switch off Dask's statistical worker profiler (it samples every task's stack every
10 ms) before starting the cluster:
``dask.config.set({"distributed.worker.profile.enabled": False})``. ``benchmarks/bench_scale.py``
measures both settings.

Needs the ``dask`` extra: ``pip install 'slicewidgets[dask]'``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from slicewidgets.slicing._distributed import (
    EngineSFApplier,
    counts_table,
    dump_sfs,
    filter_partition,
    load_sfs,
    masks_counts,
    merge_meta,
    partition_counts,
    partition_masks,
)
from slicewidgets.slicing.apply import ApplierMetadata, to_recarray
from slicewidgets.slicing.sf import SlicingFunction

__all__ = [
    "DaskSFApplier",
    "PandasParallelSFApplier",
    "slice_dataframe_dask",
]

MISSING_DASK = "{owner} needs dask: pip install 'slicewidgets[dask]'"
NOT_A_DASK_FRAME = (
    "{owner}.{method} expects a dask.dataframe.DataFrame, got {got}. For a pandas DataFrame "
    "use PandasParallelSFApplier (or PandasSFApplier), or convert it with "
    "dask.dataframe.from_pandas(df, npartitions=...)."
)
N_PARALLEL = (
    "n_parallel should be >= 2, got {n}. For single process Pandas, use PandasSFApplier."
)

_META_COLUMN = "__slicewidgets_meta__"


def _import_dask(owner: str):
    try:
        import dask
        import dask.dataframe as dd
    except ImportError:
        raise ImportError(MISSING_DASK.format(owner=owner)) from None
    return dask, dd


# ---------------------------------------------------------------------------------------------
# partition functions (run on the workers)


def _membership_partition(
    part: pd.DataFrame, blob: bytes, fault_tolerant: bool, with_meta: bool,
    partition_info: dict | None = None,
) -> pd.DataFrame:
    sfs = load_sfs(blob)
    number = None if partition_info is None else partition_info["number"]
    m = partition_masks(part, sfs, fault_tolerant, number)
    out = pd.DataFrame(m.matrix, columns=m.names, index=part.index)
    if with_meta:
        # the partition's faults ride in the first cell of an object column
        cell = pd.Series(None, index=part.index, dtype=object)
        if len(cell):
            cell.iloc[0] = m.meta
        out[_META_COLUMN] = cell
    return out


def _first_meta(cells: pd.Series) -> pd.Series:
    return pd.Series([v for v in cells.iloc[:1] if v is not None], dtype=object)


def _merge_meta_cells(cells: Any) -> ApplierMetadata:
    values = np.asarray(cells, dtype=object).ravel()
    return merge_meta([v for v in values if isinstance(v, ApplierMetadata)])


def _counts_partition(
    part: pd.DataFrame, blob: bytes, golds: str, preds: str, abstain_label: int | None,
    fault_tolerant: bool, partition_info: dict | None = None,
) -> pd.DataFrame:
    number = None if partition_info is None else partition_info["number"]
    return masks_counts(part, load_sfs(blob), golds, preds, abstain_label, fault_tolerant,
                        number)


def _counts_from_membership(
    S: pd.DataFrame, labels: pd.DataFrame, names: list, golds: str, preds: str,
    abstain_label: int | None,
) -> pd.DataFrame:
    M = S[names].to_numpy(dtype=bool)
    return partition_counts(M, labels[golds].to_numpy(), labels[preds].to_numpy(),
                            abstain_label)


def _filter_partition(
    part: pd.DataFrame, blob: bytes, partition_info: dict | None = None
) -> pd.DataFrame:
    number = None if partition_info is None else partition_info["number"]
    return filter_partition(part, load_sfs(blob)[0], number)


def _shipped(blob: bytes) -> Any:
    """The pickled SFs as a task argument: inline when small, else one shared Dask task
    (so that SFs with large resources, a model say, are sent once, not once per partition)."""
    if len(blob) <= _INLINE_BYTES:
        return blob
    import dask

    return dask.delayed(blob, pure=True)


_INLINE_BYTES = 100_000


def _counts_meta() -> pd.DataFrame:
    return partition_counts(np.zeros((0, 0), dtype=bool), np.zeros(0, np.int64),
                            np.zeros(0, np.int64), None).iloc[:0]


# ---------------------------------------------------------------------------------------------
# appliers


class DaskSFApplier(EngineSFApplier):
    """Apply slicing functions to a Dask DataFrame, partition by partition, on the workers.

    Parameters
    ----------
    sfs
        Slicing functions (unique names). They are pickled with cloudpickle and sent to the
        workers once per computation: define them at module top level or in a notebook.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> from slicewidgets.slicing import keyword_sf
    >>> df = pd.DataFrame({"text": ["plz sub", "nice", "check it out", "plz"],
    ...                    "label": [1, 0, 1, 1], "pred": [1, 0, 0, 1]})
    >>> ddf = dd.from_pandas(df, npartitions=2)
    >>> applier = DaskSFApplier([keyword_sf(["plz"], name="plz")])
    >>> S = applier.apply(ddf)  # lazy, aligned with ddf's partitions
    >>> S.compute(scheduler="sync").plz.tolist()
    [True, False, False, True]
    >>> applier.score(ddf, "label", "pred", scheduler="sync")
    {'overall': {'accuracy': 0.75}, 'plz': {'accuracy': 1.0}}
    """

    def _blob(self) -> Any:
        return _shipped(super()._blob())

    def _check_frame(self, df: Any, method: str) -> None:
        _, dd = _import_dask(type(self).__name__)
        if not isinstance(df, dd.DataFrame):
            raise TypeError(NOT_A_DASK_FRAME.format(
                owner=type(self).__name__, method=method, got=type(df).__name__))

    def _membership_meta(self, df: Any, with_meta: bool) -> pd.DataFrame:
        meta = pd.DataFrame({name: np.zeros(0, dtype=bool) for name in self._sf_names},
                            index=df._meta.index)
        if with_meta:
            meta[_META_COLUMN] = pd.Series(dtype=object, index=df._meta.index)
        return meta

    def apply(
        self,
        df: Any,
        scheduler: Any = None,
        fault_tolerant: bool = False,
        *,
        return_meta: bool = False,
        return_recarray: bool = False,
    ) -> Any:
        """Slice membership of every row of ``df``, computed on the workers.

        Parameters
        ----------
        df
            A ``dask.dataframe.DataFrame``; row-wise SFs see each row's columns as attributes.
        scheduler
            Dask scheduler for the computations this method runs itself
            (``return_recarray=True``): ``None`` uses the active ``distributed.Client`` if any,
            else Dask's default; ``"processes"`` (Snorkel's default), ``"threads"``,
            ``"sync"`` or a client also work. The lazy result computes wherever you compute it.
        fault_tolerant
            Rows on which an SF raises count as not in its slice (see ``return_meta``)
            instead of raising :class:`~slicewidgets.slicing.SFApplyError`.
        return_meta
            Also return the faults: a lazy Dask scalar that computes to
            :class:`~slicewidgets.slicing.ApplierMetadata`. Compute it together with the
            membership, ``dask.compute(S, meta)``, to run the SFs once.
        return_recarray
            Compute now and return Snorkel's ``S`` recarray (one ``int64`` 0/1 field per SF)
            instead of the lazy frame; needs the ``n x k`` result to fit in memory.

        Returns
        -------
        dask.dataframe.DataFrame, np.recarray, or a pair with the metadata
            By default a lazy Dask DataFrame of boolean columns named after the SFs, with
            ``df``'s index, partitions and divisions (so ``df[S.my_slice]`` and
            ``df.join(S)`` work partition-wise).

        Raises
        ------
        SFApplyError
            (When computed) an SF failed; the message names the SF, the row's index label,
            its position and the partition.
        TypeError
            An SF cannot be pickled (the message names it and says how to fix it).
        """
        return self._apply(df, scheduler, fault_tolerant, return_meta, return_recarray, {})

    def _apply(self, df, scheduler, fault_tolerant, return_meta, return_recarray, compute_kw):
        dask, _ = _import_dask(type(self).__name__)
        self._check_frame(df, "apply")
        blob = self._blob()
        full = df.map_partitions(
            _membership_partition, blob, fault_tolerant, return_meta,
            meta=self._membership_meta(df, return_meta), enforce_metadata=False,
        )
        S = full[self._sf_names] if return_meta else full
        meta = None
        if return_meta:
            meta = full[_META_COLUMN].reduction(
                chunk=_first_meta, aggregate=_merge_meta_cells, meta=object, split_every=False,
            )
        if return_recarray:
            if return_meta:
                frame, meta = dask.compute(S, meta, scheduler=scheduler, **compute_kw)
            else:
                (frame,) = dask.compute(S, scheduler=scheduler, **compute_kw)
            S = to_recarray(self._sf_names, frame.to_numpy(dtype=bool))
        return (S, meta) if return_meta else S

    # -- scoring ------------------------------------------------------------------------------
    def counts(
        self,
        df: Any,
        golds: str,
        preds: str,
        *,
        abstain_label: int | None = -1,
        S: Any = None,
        fault_tolerant: bool = False,
        scheduler: Any = None,
    ) -> pd.DataFrame:
        """Per-slice confusion counts, summed on the workers (the statistics' raw material).

        Parameters
        ----------
        df
            Dask DataFrame holding the SFs' inputs and the label columns.
        golds, preds
            Names of the columns with gold labels and predicted labels.
        abstain_label
            Rows where gold or pred equals it are not scored (``None``: score all).
        S
            Membership from :meth:`apply` on the same ``df``; when given, the SFs are not
            applied again.
        fault_tolerant
            As in :meth:`apply`.
        scheduler
            As in :meth:`apply`.

        Returns
        -------
        pd.DataFrame
            Index ``overall`` then the slice names; integer columns ``size``, ``n_valid``,
            ``correct``, ``tp``, ``fp``, ``fn``, ``tn``, ``pred_nonabstain``
            (see :func:`slicewidgets.analysis.slice_counts`).
        """
        dask, dd = _import_dask(type(self).__name__)
        self._check_frame(df, "score")
        self._check_label_columns(df.columns, golds, preds)
        if S is None:
            parts = df.map_partitions(
                _counts_partition, self._blob(), golds, preds, abstain_label, fault_tolerant,
                meta=_counts_meta(), enforce_metadata=False, clear_divisions=True,
            )
        else:
            if not isinstance(S, dd.DataFrame):
                raise TypeError(
                    f"S must be the lazy Dask DataFrame from {type(self).__name__}.apply, "
                    f"got {type(S).__name__}."
                )
            self._check_slice_columns(S.columns, "DataFrame")
            parts = dd.map_partitions(
                _counts_from_membership, S, df[[golds, preds]], self._sf_names, golds, preds,
                abstain_label, meta=_counts_meta(), enforce_metadata=False,
                clear_divisions=True, align_dataframes=False,
            )
        summed = parts.groupby("slice").sum(split_out=1)
        (summed,) = dask.compute(summed, scheduler=scheduler)
        return counts_table(summed, self._sf_names)

    def score(
        self,
        df: Any,
        golds: str,
        preds: str,
        scorer: Any = None,
        *,
        S: Any = None,
        fault_tolerant: bool = False,
        as_dataframe: bool = False,
        scheduler: Any = None,
    ) -> dict[str, dict[str, float]] | pd.DataFrame:
        """Scores overall and on every slice; only the small table reaches the driver.

        Parameters
        ----------
        df, golds, preds, S, fault_tolerant, scheduler
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
        return self._score(scorer, as_dataframe, df, golds, preds, S=S,
                           fault_tolerant=fault_tolerant, scheduler=scheduler)


class PandasParallelSFApplier(DaskSFApplier):
    """Apply slicing functions to a pandas DataFrame over several processes (via Dask).

    As Snorkel's: the frame is split into ``n_parallel`` partitions that are pickled to worker
    processes; the result is Snorkel's ``S`` recarray. For row-wise SFs,
    ``PandasSFApplier(sfs).apply(df, n_jobs=2)`` is usually faster (it forks instead of
    pickling the data).

    Examples
    --------
    >>> import pandas as pd
    >>> from slicewidgets.slicing import keyword_sf
    >>> df = pd.DataFrame({"text": ["plz sub", "nice", "check it out", "plz"]})
    >>> applier = PandasParallelSFApplier([keyword_sf(["plz"], name="plz")])
    >>> applier.apply(df, n_parallel=2, scheduler="threads").plz.tolist()
    [1, 0, 0, 1]
    """

    def apply(  # type: ignore[override]
        self,
        df: pd.DataFrame,
        n_parallel: int = 2,
        scheduler: Any = "processes",
        fault_tolerant: bool = False,
        *,
        return_meta: bool = False,
    ) -> np.recarray | tuple[np.recarray, ApplierMetadata]:
        """Snorkel's ``S`` for ``df``, computed in ``n_parallel`` partitions.

        Parameters
        ----------
        df
            A pandas DataFrame (its index is kept as is; duplicates are fine).
        n_parallel
            Number of partitions and worker processes (at least 2).
        scheduler
            Dask scheduler (``"processes"`` as Snorkel, ``"threads"``, ``None``, a client).
        fault_tolerant
            Count rows on which an SF raises as not in its slice.
        return_meta
            Also return :class:`~slicewidgets.slicing.ApplierMetadata`.

        Returns
        -------
        np.recarray or (np.recarray, ApplierMetadata)
        """
        dask, dd = _import_dask(type(self).__name__)
        if n_parallel < 2:
            raise ValueError(N_PARALLEL.format(n=n_parallel))
        if not isinstance(df, pd.DataFrame):
            raise TypeError(
                f"PandasParallelSFApplier.apply expects a pandas DataFrame, got "
                f"{type(df).__name__}; for a Dask DataFrame use DaskSFApplier."
            )
        with dask.config.set({"dataframe.convert-string": False}):
            ddf = dd.from_pandas(df, npartitions=n_parallel, sort=False)
        compute_kw = {"num_workers": n_parallel} if scheduler in (
            "processes", "threads", "multiprocessing") else {}
        return self._apply(ddf, scheduler, fault_tolerant, return_meta, True, compute_kw)


def slice_dataframe_dask(df: Any, slicing_function: SlicingFunction) -> Any:
    """The rows of a Dask DataFrame in the slice of ``slicing_function`` (lazy).

    Each partition is filtered on its worker; the result keeps ``df``'s columns, index
    labels and divisions.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> from slicewidgets.slicing import keyword_sf
    >>> ddf = dd.from_pandas(pd.DataFrame({"text": ["plz", "hi", "PLZ sub"]}), npartitions=2)
    >>> slice_dataframe_dask(ddf, keyword_sf(["plz"])).compute(scheduler="sync").text.tolist()
    ['plz', 'PLZ sub']
    """
    _import_dask("slice_dataframe_dask")
    if not isinstance(slicing_function, SlicingFunction):
        raise TypeError(
            "slice_dataframe_dask expects a SlicingFunction, got "
            f"{type(slicing_function).__name__}; decorate the function with @slicing_function()."
        )
    applier = DaskSFApplier([slicing_function])
    applier._check_frame(df, "slice_dataframe")
    blob = _shipped(dump_sfs([slicing_function], "slice_dataframe_dask"))
    return df.map_partitions(_filter_partition, blob, meta=df._meta, enforce_metadata=False)

