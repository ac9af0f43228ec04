"""Appliers: run slicing functions over data and return slice membership.

``PandasSFApplier(sfs).apply(df)`` returns Snorkel's ``S``: a 1-D ``np.recarray`` with one
``int64`` field (0/1) per SF. Internally membership is a boolean ``(n_rows, n_sfs)`` matrix
(:class:`SliceMembership`), computed as follows:

* keyword SFs of the same column share one lowercased, tokenized copy of the text and are
  all answered in one pass over it (see ``_text.py``);
* other vectorized SFs are called once on the whole frame;
* row-wise SFs whose body is a recognised operation (``len(x.text.split()) < 5``,
  ``bool(re.search(p, x.text))``, ``x.label == 1``...) run vectorized, with identical results
  (see ``_rowwise.py``);
* other row-wise SFs run over light read-only :class:`~slicewidgets._row.FrameRow` objects
  built in C (no ``pd.Series`` per row) from only the columns the SFs read, one SF at a time
  over all rows; each chain of preprocessors runs once per row and is shared by every SF that
  uses it; ``n_jobs`` spreads rows over processes;
* combined SFs (``a & b``) reuse their operands' masks; with ``fault_tolerant=True`` a row on
  which any of their operands raised is outside them (as ``sf(x)`` raises there), so that
  ``~a`` never gains the rows ``a`` failed on.

Snorkel's ``S`` is built from the boolean matrix in one conversion (:func:`to_recarray`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any, TypeGuard

import numpy as np
import pandas as pd

from slicewidgets.membership import MAX_FAULT_ROWS, ApplierMetadata, SliceMembership, to_recarray
from slicewidgets.slicing._rowwise_run import resolve_n_jobs, rowwise_masks, to_bool
from slicewidgets.slicing.sf import (
    CombinedSlicingFunction,
    KeywordSlicingFunction,
    RegexSlicingFunction,
    SFApplyError,
    SlicingFunction,
    check_memos,
    protected_frame,
    text_column,
    validate_mask,
)

__all__ = [
    "ApplierMetadata",  # these three live in slicewidgets.membership (shared with analysis)
    "SliceMembership",
    "to_recarray",
    "PandasSFApplier",
    "SFApplier",
    "compute_masks",
    "check_sfs",
]



# ---------------------------------------------------------------------------------------------
# validation


def check_sfs(sfs: Iterable[SlicingFunction], owner: str = "PandasSFApplier") -> list:
    """Validate a list of SFs: non-empty, all SlicingFunction, unique names."""
    if isinstance(sfs, SlicingFunction):
        sfs = [sfs]
    sfs = list(sfs)
    if not sfs:
        raise ValueError(f"{owner} needs at least one slicing function; got an empty list.")
    for i, sf in enumerate(sfs):
        if not isinstance(sf, SlicingFunction):
            hint = (" Decorate it with @slicing_function()." if callable(sf) else "")
            raise TypeError(
                f"{owner}: item {i} is a {type(sf).__name__} ({sf!r}), not a SlicingFunction."
                + hint
            )
    seen: dict[str, int] = {}
    for i, sf in enumerate(sfs):
        if sf.name in seen:
            count = sum(s.name == sf.name for s in sfs)
            raise ValueError(
                f"Operator names not unique: {count} operators with name {sf.name} "
                f"(slicing functions at positions {seen[sf.name]} and {i}). Give each SF its own "
                "name, e.g. @slicing_function(name=...) or sf.rename(...)."
            )
        seen[sf.name] = i
    return sfs


# ---------------------------------------------------------------------------------------------
# the engine


def _leaves(sf: SlicingFunction, out: dict) -> None:
    if isinstance(sf, CombinedSlicingFunction):
        for o in sf.operands:
            _leaves(o, out)
    else:
        out.setdefault(id(sf), sf)


def _is_plain_keyword(sf: SlicingFunction) -> TypeGuard[KeywordSlicingFunction]:
    return isinstance(sf, KeywordSlicingFunction) and \
        type(sf)._match_frame is KeywordSlicingFunction._match_frame


def compute_masks(
    df: pd.DataFrame,
    sfs: Sequence[SlicingFunction],
    *,
    fault_tolerant: bool = False,
    progress_bar: bool = False,
    n_jobs: int | None = None,
    text_cache: dict | None = None,
    rows: pd.DataFrame | None = None,
) -> SliceMembership:
    """Membership of every row of ``df`` in every SF's slice.

    Parameters
    ----------
    df
        The data; row-wise SFs see each row's columns as attributes.
    sfs
        Slicing functions (names must be unique).
    fault_tolerant
        Count rows on which an SF raises as not in its slice (recorded in ``meta``) instead of
        raising :class:`SFApplyError`. A vectorized SF that raises counts every row as failed.
        A combined SF (``~a``, ``a & b``, ``a | b``) fails on the rows where any SF it is made
        of raised: they are outside it (``~a`` too, and ``a | b`` even where ``b`` is true,
        as calling it on the row raises) and its own name's faults count them.
    progress_bar
        Show a ``tqdm.auto`` bar over the rows (row-wise SFs only).
    n_jobs
        Processes for row-wise SFs (``-1``: all cores; ``None``: this process). Worth it for
        costly SFs (TextBlob). Uses the ``fork`` start method (ignored where unavailable).
    text_cache
        A dict in which prepared text columns (:class:`~slicewidgets.slicing._text.TextIndex`)
        are kept between calls on the *same, unchanged* ``df``, keyed by ``(column, case)``.
    rows
        What row-wise SFs read instead of ``df``: the same rows and columns, with values as a
        data point holds them (``SparkSFApplier`` gives ``None`` for a null, as a Spark
        ``Row`` does, where pandas has ``NaN``). Vectorized and keyword/regex SFs read ``df``.

    Returns
    -------
    SliceMembership

    Raises
    ------
    SFApplyError
        An SF raised (without ``fault_tolerant``), returned something other than a boolean,
        or a vectorized SF returned a mask of the wrong length, dtype or index.

    Examples
    --------
    >>> from slicewidgets.slicing import keyword_sf
    >>> m = compute_masks(pd.DataFrame({"text": ["plz sub", "nice"]}), [keyword_sf(["plz"])])
    >>> m["keyword_plz"].tolist()
    [True, False]
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"Expected a pandas DataFrame, got {type(df).__name__}; use SFApplier for a list of "
            "data points."
        )
    sfs = check_sfs(sfs, "compute_masks")
    resolve_n_jobs(n_jobs)
    check_memos(sfs)  # memoized preprocessors edited since their memo was filled start afresh
    n = len(df)
    leaves: dict[int, SlicingFunction] = {}
    for sf in sfs:
        _leaves(sf, leaves)
    meta = ApplierMetadata()
    results: dict[int, np.ndarray] = {}
    # fault tolerant: the rows on which each leaf raised (id -> mask; None: on every row,
    # the SF failed as a whole)
    failed: dict[int, np.ndarray | None] = {}

    # keyword SFs: grouped by (column, case), searched together (see _text.py)
    groups: dict[tuple, list[KeywordSlicingFunction]] = defaultdict(list)
    regex_groups: dict[str, list[RegexSlicingFunction]] = defaultdict(list)
    rowwise: list[SlicingFunction] = []
    for key, sf in leaves.items():
        if _is_plain_keyword(sf):
            groups[(sf.column, sf.case)].append(sf)
        elif _is_plain_regex(sf):
            regex_groups[sf.column].append(sf)
        elif sf.vectorized:
            results[key] = _vectorized_mask(sf, df, fault_tolerant, meta, failed, key)
        else:
            rowwise.append(sf)
    for (column, case), members in groups.items():
        masks = _text_group_masks(df, column, case, members, text_cache, fault_tolerant, meta,
                                  partial(_keyword_masks, [sf._needles for sf in members]),
                                  failed)
        for sf, m in zip(members, masks, strict=True):
            results[id(sf)] = m

    for column, regex_members in regex_groups.items():
        masks = _text_group_masks(  # case-sensitive: kept as case-sensitive keyword SFs keep it
            df, column, True, regex_members, text_cache, fault_tolerant, meta,
            partial(_regex_masks, [sf.regex for sf in regex_members]), failed)
        for sf, m in zip(regex_members, masks, strict=True):
            results[id(sf)] = m

    if rows is None:
        rows = df
    elif rows.shape != df.shape or not rows.index.equals(df.index):
        raise ValueError(
            f"compute_masks: rows must have df's shape {df.shape} and index; got {rows.shape}."
        )
    if rowwise:  # row-wise SFs whose body is recognised run vectorized (see _rowwise.py)
        from slicewidgets.slicing._rowwise import vectorized_mask

        remaining = []
        keep = text_cache is not None and rows is df
        shared = text_cache if keep else {}
        for sf in rowwise:
            mask = vectorized_mask(sf, rows, shared, keep=keep)
            if mask is None:
                remaining.append(sf)
            else:
                results[id(sf)] = mask
        rowwise = remaining
    masks, sub, fails = rowwise_masks(rows, rowwise, fault_tolerant, progress_bar, n_jobs)
    meta.merge(sub)
    for sf, mask, failing in zip(rowwise, masks, fails, strict=True):
        results[id(sf)] = mask
        if len(failing):
            failed[id(sf)] = bad = np.zeros(n, dtype=bool)
            bad[failing] = True

    matrix = np.empty((n, len(sfs)), dtype=bool, order="F")
    for j, sf in enumerate(sfs):
        if isinstance(sf, CombinedSlicingFunction) and failed:
            matrix[:, j] = _fault_tolerant_combined_mask(sf, results, failed, df.index, meta)
        else:
            matrix[:, j] = _combined_mask(sf, results)
    return SliceMembership([sf.name for sf in sfs], matrix, meta)


def _is_plain_regex(sf: SlicingFunction) -> TypeGuard[RegexSlicingFunction]:
    return isinstance(sf, RegexSlicingFunction) and \
        type(sf)._match_frame is RegexSlicingFunction._match_frame


def _keyword_masks(needles: list, index: Any) -> list[np.ndarray]:
    return index.masks(needles)


def _regex_masks(regexes: list, index: Any) -> list[np.ndarray]:
    from slicewidgets.slicing._regex import regex_search_masks

    return regex_search_masks(index, regexes)


def _text_group_masks(df: pd.DataFrame, column: str, case: bool, members: Sequence[Any],
                      text_cache: dict | None, fault_tolerant: bool, meta: ApplierMetadata,
                      answer: Callable[[Any], list[np.ndarray]],
                      failed: dict[int, np.ndarray | None]) -> list[np.ndarray]:
    """Masks of the text SFs (keyword or regex) of one column, all answered by ``answer`` from
    one shared :class:`~slicewidgets.slicing._text.TextIndex` of the column (kept in
    ``text_cache`` under ``(column, case)``). A failure raises naming the first SF, or (fault
    tolerant) counts every row of every member as failed (``failed[id(sf)] = None``)."""
    from slicewidgets.slicing._text import TextIndex

    n = len(df)
    try:
        index = None if text_cache is None else text_cache.get((column, case))
        if index is None:
            index = TextIndex(text_column(df, column, members[0].name), case=case,
                              prefer_tokens=text_cache is not None)
            if text_cache is not None:
                text_cache[(column, case)] = index
        return answer(index)
    except Exception as err:
        if not fault_tolerant:
            raise SFApplyError(members[0].name, None, None, err, vectorized=True) from err
        for sf in members:
            meta.record(sf.name, None, err, count=n)
            failed[id(sf)] = None
        return [np.zeros(n, dtype=bool) for _ in members]


def _combined_mask(sf: SlicingFunction, results: dict) -> np.ndarray:
    if isinstance(sf, CombinedSlicingFunction):
        return sf.combine([_combined_mask(o, results) for o in sf.operands])
    return results[id(sf)]


def _fault_tolerant_combined_mask(sf: CombinedSlicingFunction, results: dict,
                                  failed: dict[int, np.ndarray | None], index: pd.Index,
                                  meta: ApplierMetadata) -> np.ndarray:
    """The mask of a combined SF without the rows on which any of its leaves raised, whose
    faults are recorded under the combined SF's own name (what ``sf(x)`` does on such a row:
    it raises, so the row is not in the slice).

    The leaves' masks are ``False`` on their failing rows; combined as they are, ``~a`` would
    count every row ``a`` failed on as *in* the slice."""
    leaves: dict[int, SlicingFunction] = {}
    _leaves(sf, leaves)
    hit = [key for key in leaves if key in failed]
    mask = _combined_mask(sf, results)
    if not hit:
        return mask
    first = leaves[hit[0]]
    err_text = meta.errors.get(first.name, "")
    if any(failed[key] is None for key in hit):  # a leaf failed as a whole: every row
        bad = np.ones(len(index), dtype=bool)
        labels: list = [None]
    else:
        bad = np.logical_or.reduce([m for key in hit if (m := failed[key]) is not None])
        labels = [v.item() if isinstance(v, np.generic) else v
                  for v in index[np.flatnonzero(bad)[:MAX_FAULT_ROWS]]]
    count = int(np.count_nonzero(bad))
    if count:  # set, not added: a leaf renamed as the combined SF (``(~a).rename("a")``) has
        # already recorded its own rows under this name, which the combined SF's include
        meta.faults[sf.name] = count
        meta.fault_rows[sf.name] = labels
        meta.errors[sf.name] = err_text
    return mask & ~bad


def _vectorized_mask(sf: SlicingFunction, df: pd.DataFrame, fault_tolerant: bool,
                     meta: ApplierMetadata, failed: dict[int, np.ndarray | None],
                     key: int) -> np.ndarray:
    try:
        out = sf._f(protected_frame(df), **sf._resources)
    except Exception as err:
        if not fault_tolerant:
            raise SFApplyError(sf.name, None, None, err, vectorized=True) from err
        meta.record(sf.name, None, err, count=len(df))
        failed[key] = None
        return np.zeros(len(df), dtype=bool)
    return validate_mask(sf.name, out, df)


# ---------------------------------------------------------------------------------------------
# public appliers


class BaseSFApplier:
    """Holds and validates a list of slicing functions (unique names)."""

    def __init__(self, sfs: Sequence[SlicingFunction]) -> None:
        self._sfs = check_sfs(sfs, type(self).__name__)
        self._sf_names = [sf.name for sf in self._sfs]

    @property
    def sfs(self) -> list[SlicingFunction]:
        return list(self._sfs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}, SFs: {self._sf_names}"


class PandasSFApplier(BaseSFApplier):
    """Apply slicing functions to a pandas DataFrame.

    Parameters
    ----------
    sfs
        Slicing functions; their names become the fields of ``S``, in order.

    Notes
    -----
    Same ``S`` as Snorkel's ``PandasSFApplier`` for SFs that return booleans, with these
    deliberate differences:

    * row-wise SFs receive a read-only :class:`~slicewidgets._row.FrameRow`, not a
      ``pd.Series``: ``x.name``/``x.count``/``x.index`` are those columns (a Series returns its
      index label and methods); preprocessors still receive a mutable copy;
    * an SF must return ``True``/``False`` (or 0/1): anything else raises
      :class:`SFApplyError` naming the SF and the row (Snorkel stores 2 or -1 as they are,
      truncates 0.7 to 0 and fails with a bare ``TypeError`` on ``None``);
    * an SF that raises is reported as :class:`SFApplyError` with the SF's name and the row's
      index label (the original exception is its ``__cause__``); with ``fault_tolerant=True``
      the row counts as *not in the slice* (0; Snorkel writes -1, which its own
      ``slice_dataframe`` and ``Scorer`` then count as in the slice), and the metadata also
      lists the first failing rows and the first error message per SF; a combined SF
      (``~sf``, ``sf & other``, ``sf | other``) leaves out, and counts as its own faults, the
      rows on which any SF it is built from raised;
    * an empty list of SFs raises ``ValueError`` (Snorkel: ``IndexError``);
    * vectorized SFs, keyword/regex builders and ``n_jobs`` exist only here.

    Examples
    --------
    >>> import pandas as pd
    >>> from slicewidgets.slicing import slicing_function
    >>> @slicing_function()
    ... def big(x):
    ...     return x.num > 42
    >>> S = PandasSFApplier([big]).apply(pd.DataFrame({"num": [1, 50]}), progress_bar=False)
    >>> S.big.tolist()
    [0, 1]
    """

    def apply(
        self,
        df: pd.DataFrame,
        progress_bar: bool = True,
        fault_tolerant: bool = False,
        return_meta: bool = False,
        *,
        n_jobs: int | None = None,
    ) -> np.recarray | tuple[np.recarray, ApplierMetadata]:
        """Slice membership of each row of ``df`` as Snorkel's ``S`` recarray.

        Parameters
        ----------
        df
            The data.
        progress_bar
            Show a ``tqdm.auto`` progress bar (row-wise SFs).
        fault_tolerant
            Rows on which an SF raises count as not in its slice; see ``return_meta``.
        return_meta
            Also return :class:`ApplierMetadata` (faults per SF).
        n_jobs
            Processes for row-wise SFs (``-1`` = all cores).

        Returns
        -------
        np.recarray or (np.recarray, ApplierMetadata)
        """
        membership = self.membership(df, progress_bar=progress_bar,
                                     fault_tolerant=fault_tolerant, n_jobs=n_jobs)
        S = membership.to_recarray()
        return (S, membership.meta) if return_meta else S

    def membership(
        self, df: pd.DataFrame, *, progress_bar: bool = False, fault_tolerant: bool = False,
        n_jobs: int | None = None,
    ) -> SliceMembership:
        """Slice membership as a compact boolean :class:`SliceMembership`."""
        return compute_masks(df, self._sfs, fault_tolerant=fault_tolerant,
                             progress_bar=progress_bar, n_jobs=n_jobs)


class SFApplier(BaseSFApplier):
    """Apply slicing functions to a sequence of data points (objects, Series, dicts...).

    Each SF is called on each point as is (row by row; errors and faults as in
    :class:`PandasSFApplier`). Prefer :class:`PandasSFApplier` for DataFrames: it is much faster.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from slicewidgets.slicing import slicing_function
    >>> @slicing_function()
    ... def big(x):
    ...     return x.num > 42
    >>> SFApplier([big]).apply([SimpleNamespace(num=1), SimpleNamespace(num=50)],
    ...                        progress_bar=False).big.tolist()
    [0, 1]
    """

    def apply(
        self,
        data_points: Iterable[Any],
        progress_bar: bool = True,
        fault_tolerant: bool = False,
        return_meta: bool = False,
    ) -> np.recarray | tuple[np.recarray, ApplierMetadata]:
        """Slice membership of each data point as Snorkel's ``S`` recarray."""
        from tqdm.auto import tqdm

        points = list(data_points)
        check_memos(self._sfs)
        meta = ApplierMetadata()
        matrix = np.zeros((len(points), len(self._sfs)), dtype=bool)
        positions = pd.RangeIndex(len(points))
        for i, x in enumerate(tqdm(points, disable=not progress_bar)):
            vals = []
            for sf in self._sfs:
                try:
                    vals.append(sf(x))
                except Exception as err:
                    if not fault_tolerant:
                        raise SFApplyError(sf.name, i, i, err) from err
                    meta.record(sf.name, i, err)
                    vals.append(False)
            for j, sf in enumerate(self._sfs):
                matrix[i, j] = to_bool(sf.name, [vals[j]], positions, i)[0]
        S = to_recarray(self._sf_names, matrix)
        return (S, meta) if return_meta else S
