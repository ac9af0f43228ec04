"""The row-wise runner: row-wise SFs over the rows of a DataFrame, in chunks or forked processes.

Rows are light read-only :class:`~slicewidgets._row.FrameRow` objects built in C from only the
columns the SFs read; each chain of preprocessors runs once per row and is shared by every SF
that uses it; ``n_jobs`` spreads rows over forked processes. Each SF is called exactly once per
row, also when rows fail (an SF may keep state or be costly). A failing SF raises
:class:`~slicewidgets.slicing.sf.SFApplyError` naming the SF and the row, or (fault tolerant)
is counted in :class:`~slicewidgets.membership.ApplierMetadata`.

The appliers (``apply/``) call :func:`rowwise_masks` for the SFs left after the vectorized
ones; :meth:`SlicingFunction.mask` of a row-wise SF calls :func:`rowwise_mask`. This module
knows SFs only by duck typing (``sf.name``, ``sf._f``, ``sf._pre``, ``sf._resources``), so
that both can import it: it imports neither.
"""

from __future__ import annotations

import functools
import gc
import logging
import os
from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from slicewidgets._row import FrozenRow, Row, frame_rows
from slicewidgets.membership import ApplierMetadata
from slicewidgets.slicing._validation import INT_TYPES, SFApplyError

__all__ = ["CHUNK_ROWS", "resolve_n_jobs", "rowwise_mask", "rowwise_masks", "to_bool"]

logger = logging.getLogger("slicewidgets.slicing.apply")

CHUNK_ROWS = 50_000


def rowwise_mask(sf: Any, df: pd.DataFrame) -> np.ndarray:
    """The mask of one row-wise SF over ``df``, as the appliers compute it: its body
    vectorized when :mod:`~slicewidgets.slicing._rowwise` recognises it, else row by row
    (raising :class:`SFApplyError` on the first failing row).
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"Expected a pandas DataFrame, got {type(df).__name__}; use SFApplier for a list of "
            "data points."
        )
    from slicewidgets.slicing._rowwise import vectorized_mask

    mask = vectorized_mask(sf, df, {}, keep=False)
    if mask is not None:
        return mask
    masks, _, _ = rowwise_masks(df, [sf], False, False, None)
    return masks[0]


class _Failure:
    """A preprocessor failed on a row: the error and the preprocessor's name."""

    __slots__ = ("err", "pre")

    def __init__(self, err: BaseException, pre: str) -> None:
        self.err = err
        self.pre = pre


_BOOL_TYPES = {bool, np.bool_}


def _label(index: pd.Index, pos: int) -> Any:
    """The index label at ``pos`` as a plain Python value (``12``, not ``np.int64(12)``)."""
    value = index[pos]
    return value.item() if isinstance(value, np.generic) else value


def to_bool(name: str, vals: list, index: pd.Index, offset: int) -> np.ndarray:
    """The SF's return values as booleans; anything but True/False/0/1 is an error."""
    types = set(map(type, vals))
    if types <= _BOOL_TYPES:
        return np.array(vals, dtype=bool)
    if types <= _BOOL_TYPES | INT_TYPES:
        arr = np.array(vals, dtype=np.int64)
        bad = np.flatnonzero((arr != 0) & (arr != 1))
        if not len(bad):
            return arr.astype(bool)
        pos = int(bad[0])
    else:
        pos = next(i for i, v in enumerate(vals)
                   if type(v) not in _BOOL_TYPES and not (type(v) in INT_TYPES and v in (0, 1)))
    v = vals[pos]
    label = _label(index, offset + pos)
    raise SFApplyError(
        name, label, offset + pos,
        message=(
            f"Slicing function {name!r} returned {v!r} ({type(v).__name__}) for the row with "
            f"index {label!r} (position {offset + pos}); expected True/False "
            "(or 0/1). Make it return a boolean, e.g. `return bool(...)`."
        ),
    )


def _pre_name(p: Any) -> str:
    return str(getattr(p, "name", None) or getattr(p, "__name__", None) or p)


def _run_pre(p: Any, pts: list) -> list:
    """``p`` on each point, a failure kept as a :class:`_Failure`; the outputs that are
    :class:`Row` objects are made read-only (:class:`FrozenRow`): they are shared by every SF
    that uses the same preprocessors."""
    out: list[Any] = []
    append = out.append
    name = _pre_name(p)
    for x in pts:
        if type(x) is _Failure:
            append(x)
            continue
        try:
            y = p(x)
        except Exception as err:
            y = _Failure(err, name)
        else:
            if y is None:
                y = _Failure(ValueError(
                    f"Preprocessor should not return None: preprocessor {name!r} returned "
                    "None; make it return the data point."
                ), name)
            elif type(y) is Row:
                y.__class__ = FrozenRow
        append(y)
    return out


def _fail_message(sf_name: str, failure: _Failure, index: Any, position: int) -> str:
    err = failure.err
    return (
        f"Preprocessor {failure.pre!r} of slicing function {sf_name!r} raised "
        f"{type(err).__name__} on the row with index {index!r} (position {position}): {err}. "
        "Fix the preprocessor, or apply with fault_tolerant=True to count failing rows as not "
        "in the slice."
    )


@contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector: building 10^5 row objects otherwise triggers
    collections that traverse all of them again and again (it doubles the cost). Memory is
    still freed by reference counting; cycles are collected when the pause ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _rowwise_chunk(
    df: pd.DataFrame, sfs: Sequence[Any], start: int, stop: int,
    fault_tolerant: bool,
) -> tuple[list[np.ndarray], ApplierMetadata, list[np.ndarray]]:
    """Masks of row-wise SFs on rows ``start:stop``, their faults, and per SF the positions
    (in ``df``) of the rows on which it raised (fault tolerant).

    Rows are built once and shared by all SFs; each distinct chain of preprocessors runs once
    per row and its output is shared by every SF that uses the same chain.
    """
    with _gc_paused():
        return _rowwise_chunk_inner(df, sfs, start, stop, fault_tolerant)


def _rowwise_chunk_inner(df, sfs, start, stop, fault_tolerant):
    from slicewidgets.slicing._rowwise import needed_columns

    meta = ApplierMetadata()
    rows = frame_rows(df, start, stop, needed_columns(sfs, df))  # only the columns SFs read
    index = df.index
    chains: dict[tuple, list] = {(): rows}
    masks = []
    failed_rows = []  # per SF: positions of the rows on which it raised
    for sf in sfs:
        key: tuple = ()
        bad: list[int] = []
        for p in sf._pre:
            parent, key = key, (*key, id(p))
            if key not in chains:
                chains[key] = _run_pre(p, chains[parent])
        pts = chains[key]
        call = functools.partial(sf._f, **sf._resources) if sf._resources else sf._f
        # The SF runs exactly once on each row (it may keep state, or be costly): the fast
        # pass stops at the first error, keeping the values before it (list.extend keeps the
        # items it took), and the rows from there on run one by one.
        vals: list = []
        err: Exception | None = None
        if not key or not any(type(x) is _Failure for x in pts):
            try:
                vals.extend(map(call, pts))
            except Exception as first:
                err = first  # the error of row len(vals)
        for i in range(len(vals), len(pts)):
            x = pts[i]
            if err is None:
                try:
                    if type(x) is _Failure:
                        raise x.err
                    vals.append(call(x))
                    continue
                except Exception as failed:
                    err = failed
            pos = start + i
            label = _label(index, pos)
            if not fault_tolerant:
                if type(x) is _Failure:
                    raise SFApplyError(
                        sf.name, label, pos, err,
                        message=_fail_message(sf.name, x, label, pos),
                    ) from err
                raise SFApplyError(sf.name, label, pos, err) from err
            meta.record(sf.name, label, err)
            bad.append(pos)
            vals.append(False)
            err = None
        masks.append(to_bool(sf.name, vals, index, start))
        failed_rows.append(np.array(bad, dtype=np.int64))
    return masks, meta, failed_rows


# Fork-based parallelism: the frame and SFs reach the workers by inheritance, never pickled, so
# SFs defined in a notebook work. Each call registers its job under its own key.
_FORK_JOBS: dict[int, tuple] = {}


def _fork_worker(job: int, start: int, stop: int):
    df, sfs, fault_tolerant = _FORK_JOBS[job]
    masks, meta, failed = _rowwise_chunk(df, sfs, start, stop, fault_tolerant)
    return ([np.packbits(m) for m in masks], stop - start, dict(meta.faults),
            dict(meta.fault_rows), dict(meta.errors), failed)


def _stop_pool(pool: Any, futures: list) -> None:
    """Cancel pending chunks and end running workers now (don't wait for their chunks)."""
    for f in futures:
        f.cancel()
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        if proc.is_alive():
            proc.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def _rowwise_parallel(df, sfs, fault_tolerant, n_jobs, bar):
    import itertools
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    n = len(df)
    n_chunks = min(n, max(n_jobs * 4, -(-n // CHUNK_ROWS)))
    bounds = np.linspace(0, n, n_chunks + 1).astype(int)
    job = next(_JOB_IDS)
    _FORK_JOBS[job] = (df, sfs, fault_tolerant)
    meta = ApplierMetadata()
    parts: list = [None] * n_chunks
    failed_parts: list = [None] * n_chunks
    pool = ProcessPoolExecutor(n_jobs, mp_context=mp.get_context("fork"))
    futures: list = []
    try:
        futures = [pool.submit(_fork_worker, job, int(a), int(b))
                   for a, b in itertools.pairwise(bounds)]
        for c, fut in enumerate(futures):
            try:
                packed, count, faults, fault_rows, errors, failed = fut.result()
            except BrokenProcessPool as err:
                raise RuntimeError(
                    f"A worker process died while applying slicing functions "
                    f"{[s.name for s in sfs]} to rows {bounds[c]}..{bounds[c + 1] - 1} (killed, "
                    "out of memory, or a crash in native code). Retry with n_jobs=None to see "
                    "the error in this process."
                ) from err
            parts[c] = [np.unpackbits(p, count=count).astype(bool) for p in packed]
            failed_parts[c] = failed
            sub = ApplierMetadata()
            sub.faults.update(faults)
            sub.fault_rows.update(fault_rows)
            sub.errors.update(errors)
            meta.merge(sub)
            if bar is not None:
                bar.update(count)
    except BaseException:
        _stop_pool(pool, futures)
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        _FORK_JOBS.pop(job, None)
    masks = [np.concatenate([p[j] for p in parts]) for j in range(len(sfs))]
    return masks, meta, [np.concatenate([p[j] for p in failed_parts]) for j in range(len(sfs))]


def _fork_is_safe() -> bool:
    """Forking copies only the calling thread: never fork from a worker thread (the
    studio's Apply) or while one of our own threads runs (training, an Apply), whose locks
    the child would inherit held."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return False
    return not any(t.name.startswith("slicewidgets-") and t.is_alive()
                   for t in threading.enumerate())


def _job_ids():
    i = 0
    while True:
        i += 1
        yield i


_JOB_IDS = _job_ids()


def resolve_n_jobs(n_jobs: int | None) -> int:
    if n_jobs is None:
        return 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)):
        raise TypeError(f"n_jobs must be an integer or None, got {n_jobs!r}.")
    if n_jobs < 0:
        return max(1, (os.cpu_count() or 1) + 1 + int(n_jobs))
    if n_jobs == 0:
        raise ValueError("n_jobs must be a positive integer, -1 (all cores) or None; got 0.")
    return int(n_jobs)


def rowwise_masks(df, sfs, fault_tolerant, progress_bar, n_jobs):
    """``(masks, meta, failed)``: each SF's mask over ``df``, the faults, and per SF the
    positions of the rows on which it raised (empty unless ``fault_tolerant``)."""
    n = len(df)
    jobs = resolve_n_jobs(n_jobs)
    if not sfs:
        return [], ApplierMetadata(), []
    bar = None
    if progress_bar and n:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc="Applying SFs", unit="rows")
    try:
        import multiprocessing as mp

        if jobs > 1 and n >= 2 * jobs and "fork" in mp.get_all_start_methods() \
                and _fork_is_safe():
            return _rowwise_parallel(df, sfs, fault_tolerant, jobs, bar)
        if jobs > 1:
            logger.info("n_jobs=%s ignored: fork unavailable, unsafe here (a worker thread, or "
                        "a slicewidgets thread running) or too few rows", jobs)
        meta = ApplierMetadata()
        chunks: list[list[np.ndarray]] = []
        fails: list[list[np.ndarray]] = []
        for start in range(0, n, CHUNK_ROWS):
            stop = min(start + CHUNK_ROWS, n)
            masks, sub, failed = _rowwise_chunk(df, sfs, start, stop, fault_tolerant)
            chunks.append(masks)
            fails.append(failed)
            meta.merge(sub)
            if bar is not None:
                bar.update(stop - start)
        if not chunks:
            return ([np.zeros(0, dtype=bool) for _ in sfs], meta,
                    [np.zeros(0, dtype=np.int64) for _ in sfs])
        if len(chunks) == 1:
            return chunks[0], meta, fails[0]
        return ([np.concatenate([c[j] for c in chunks]) for j in range(len(sfs))], meta,
                [np.concatenate([f[j] for f in fails]) for j in range(len(sfs))])
    finally:
        if bar is not None:
            bar.close()
