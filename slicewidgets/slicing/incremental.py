"""``SliceSet``: a DataFrame, a set of slicing functions and their cached masks.

Adding, editing, removing or toggling one SF recomputes at most that SF: masks are cached by
the SF's *fingerprint*, a content hash of its code, constants, closure values, the globals and
helper functions it reads, its resources and preprocessors (see ``slicewidgets/_fingerprint.py``),
so an SF edited back to an earlier version, or renamed, costs nothing, and an SF whose resource
changed (a refitted model, a new threshold) is recomputed. An SF holding an object without a
content hash is recomputed on every update. The text of each column that
keyword SFs read is lowercased and tokenized once (see ``_text.py``), so editing a keyword SF
only searches the column's vocabulary. This is the engine of the live widgets; it is plain
Python and can be driven without them.
"""

from __future__ import annotations

import itertools
import os
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from slicewidgets._fingerprint import is_volatile
from slicewidgets.slicing.apply import (
    ApplierMetadata,
    SliceMembership,
    check_sfs,
    compute_masks,
    to_recarray,
)
from slicewidgets.slicing.sf import SlicingFunction, preprocessors

__all__ = ["SliceSet"]


class _Entry(NamedTuple):
    """A computed mask (read-only), its faults, its key and its size."""

    mask: np.ndarray
    meta: ApplierMetadata
    key: tuple[str, int]
    size: int


#: Keys of computed masks: unique in this process (and across processes by the random prefix),
#: one per computation, never reused, so equal keys mean the same (read-only) mask. The
#: analysis caches per-slice counts by them (``SliceMembership.from_columns``).
_KEY_PREFIX = os.urandom(8).hex()
_KEY_COUNTER = itertools.count()


def _new_key() -> tuple[str, int]:
    return (_KEY_PREFIX, next(_KEY_COUNTER))


class SliceSet:
    """Slicing functions over one DataFrame, with masks kept up to date incrementally.

    Parameters
    ----------
    df
        The data the SFs are applied to.
    sfs
        Initial slicing functions (names must be unique).
    fault_tolerant
        Rows on which an SF raises count as not in its slice; the failures are kept in
        :attr:`errors` (default ``True``: one bad SF never blocks the others).
    n_jobs
        Processes for row-wise SFs.
    cache_size
        Masks of SF versions no longer in the set kept for a quick undo.
    progress_bar
        Show a ``tqdm.auto`` bar over the rows while the initial SFs are computed (row-wise
        SFs; a studio opened on millions of rows shows its progress).

    Examples
    --------
    >>> from slicewidgets.slicing import keyword_sf
    >>> df = pd.DataFrame({"text": ["please subscribe", "nice song", "check it out"]})
    >>> ss = SliceSet(df, [keyword_sf(["please"]), keyword_sf(["check"])])
    >>> ss.sizes()
    {'keyword_please': 1, 'keyword_check': 1}
    >>> ss.set_enabled("keyword_check", False)
    >>> ss.enabled_names
    ['keyword_please']
    >>> ss.update(keyword_sf(["please", "song"], name="keyword_please"))
    >>> ss.sizes()
    {'keyword_please': 2}
    """

    def __init__(
        self,
        df: pd.DataFrame,
        sfs: Iterable[SlicingFunction] = (),
        *,
        fault_tolerant: bool = True,
        n_jobs: int | None = None,
        cache_size: int = 256,
        progress_bar: bool = False,
    ) -> None:
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"SliceSet needs a pandas DataFrame, got {type(df).__name__}.")
        self._df = df
        self.fault_tolerant = fault_tolerant
        self.n_jobs = n_jobs
        self.cache_size = cache_size
        self._sfs: dict[str, SlicingFunction] = {}
        self._fps: dict[str, str] = {}  # name -> fingerprint
        self._enabled: dict[str, bool] = {}
        self._masks: dict[str, np.ndarray] = {}
        self._entries: dict[str, _Entry] = {}  # name -> its mask, key and size
        self.errors: dict[str, ApplierMetadata] = {}
        self._cache: OrderedDict[str, _Entry] = OrderedDict()  # fingerprint -> computed mask
        self._listeners: list[Callable[[str, str | None], None]] = []
        self._text_cache: dict = {}  # (column, case) -> TextIndex of self._df
        self._membership: dict[bool, SliceMembership] = {}  # enabled_only -> cached result
        #: SF evaluations so far (tests and benchmarks read it)
        self.n_computed = 0
        sfs = list(sfs)
        if sfs:
            check_sfs(sfs, "SliceSet")
        for sf, fp in zip(sfs, self._compute_many(sfs, progress_bar=progress_bar), strict=True):
            self._insert(sf, True, fp)
        self._evict()

    # -- data -----------------------------------------------------------------------------------
    @property
    def df(self) -> pd.DataFrame:
        return self._df

    def set_frame(self, df: pd.DataFrame) -> None:
        """Use another DataFrame (or the same one after changing it): every mask is recomputed.

        If an SF fails on the new frame, the set keeps the previous frame and masks.
        """
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"SliceSet needs a pandas DataFrame, got {type(df).__name__}.")
        old = (self._df, self._cache, self._text_cache)
        self._df, self._cache, self._text_cache = df, OrderedDict(), {}
        try:
            fps = self._compute_many(list(self._sfs.values()))
        except BaseException:
            self._df, self._cache, self._text_cache = old
            raise
        for (name, sf), fp in zip(list(self._sfs.items()), fps, strict=True):
            self._insert(sf, self._enabled[name], fp)
        self._evict()
        self._notify("frame", None)

    def refresh(self, name: str | None = None) -> None:
        """Recompute one SF (or all), ignoring cached masks.

        Fingerprints follow code, globals, helpers and resources by content; this is needed
        only when an SF's result depends on state outside Python objects (a file it reads, the
        clock) or an object whose pickled form leaves out state the SF uses. The memos of the
        refreshed SFs' preprocessors are emptied too.
        """
        names = self.names if name is None else [self._check_name(name)]
        for mapper in preprocessors(self._sfs[n] for n in names):
            mapper.reset_cache()  # their outputs may depend on the same outside state
        saved = {self._fps[n]: self._cache.pop(self._fps[n]) for n in names
                 if self._fps[n] in self._cache}
        try:
            fps = self._compute_many([self._sfs[n] for n in names])
        except BaseException:
            self._cache.update(saved)
            raise
        for n, fp in zip(names, fps, strict=True):
            self._insert(self._sfs[n], self._enabled[n], fp)
        self._evict()
        for n in names:
            self._notify("edit", n)

    # -- SFs ----------------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """All SF names, in order."""
        return list(self._sfs)

    @property
    def enabled_names(self) -> list[str]:
        """Names of the enabled SFs, in order."""
        return [n for n in self._sfs if self._enabled[n]]

    @property
    def sfs(self) -> list[SlicingFunction]:
        return list(self._sfs.values())

    def __contains__(self, name: str) -> bool:
        return name in self._sfs

    def __len__(self) -> int:
        return len(self._sfs)

    def __getitem__(self, name: str) -> SlicingFunction:
        return self._sfs[self._check_name(name)]

    def add(self, sf: SlicingFunction, *, enabled: bool = True) -> None:
        """Add a new SF; its name must not be taken (use :meth:`update` to replace)."""
        if not isinstance(sf, SlicingFunction):
            raise TypeError(f"SliceSet.add expects a SlicingFunction, got {type(sf).__name__}.")
        if sf.name in self._sfs:
            raise ValueError(
                f"A slicing function named {sf.name!r} is already in the set; use update() to "
                "replace it or give the new SF another name."
            )
        (fp,) = self._compute_many([sf])
        self._insert(sf, enabled, fp)
        self._evict()
        self._notify("add", sf.name)

    def precompute(self, sfs: Iterable[SlicingFunction], *, fresh: bool = False) -> list[str]:
        """Compute the masks of ``sfs`` into the cache without changing the set: a later
        :meth:`update` with the same SFs is a cache hit (a UI computes in a worker thread,
        then updates on its main loop). ``fresh=True`` first forgets cached masks with the
        same fingerprints (an SF's code is unchanged but a helper it calls was edited).
        Returns the SFs' fingerprints."""
        sfs = list(sfs)
        if fresh:
            for sf in sfs:
                self._cache.pop(sf.fingerprint, None)
        return self._compute_many(sfs)

    def update(self, sf: SlicingFunction, *, enabled: bool | None = None) -> None:
        """Add ``sf`` or replace the SF of the same name (recomputing only if its code changed)."""
        if not isinstance(sf, SlicingFunction):
            raise TypeError(
                f"SliceSet.update expects a SlicingFunction, got {type(sf).__name__}."
            )
        event = "edit" if sf.name in self._sfs else "add"
        if enabled is None:
            enabled = self._enabled.get(sf.name, True)
        (fp,) = self._compute_many([sf])
        self._insert(sf, enabled, fp)
        self._evict()
        self._notify(event, sf.name)

    def remove(self, name: str) -> None:
        """Remove an SF (its mask stays cached for a while)."""
        self._check_name(name)
        del self._sfs[name], self._enabled[name], self._masks[name], self._fps[name]
        del self._entries[name]
        self.errors.pop(name, None)
        self._membership.clear()
        self._notify("remove", name)

    def set_enabled(self, name: str, enabled: bool = True) -> None:
        """Include or exclude an SF from :meth:`membership` and scores (no recomputation)."""
        self._check_name(name)
        if self._enabled[name] != bool(enabled):
            self._enabled[name] = bool(enabled)
            self._membership.clear()
            self._notify("toggle", name)

    def is_enabled(self, name: str) -> bool:
        return self._enabled[self._check_name(name)]

    def observe(self, callback: Callable[[str, str | None], None]) -> None:
        """Call ``callback(event, name)`` after each change.

        Events: ``"add"``, ``"edit"``, ``"remove"``, ``"toggle"``, ``"frame"``.
        """
        self._listeners.append(callback)

    def unobserve(self, callback: Callable[[str, str | None], None]) -> None:
        self._listeners.remove(callback)

    # -- results ------------------------------------------------------------------------------
    def mask(self, name: str) -> np.ndarray:
        """Boolean membership of every row in the slice ``name`` (read-only view)."""
        mask = self._masks[self._check_name(name)]
        view = mask.view()
        view.flags.writeable = False
        return view

    def sizes(self, enabled_only: bool = True) -> dict[str, int]:
        """Rows per slice."""
        names = self.enabled_names if enabled_only else self.names
        return {n: self._entries[n].size for n in names}

    def membership(self, enabled_only: bool = True) -> SliceMembership:
        """Membership of every row in every (enabled) slice (read-only).

        Built from the kept masks without copying them (its ``matrix`` is assembled on first
        use), with one key per mask (``SliceMembership.column_keys``): a report after an edit
        recounts only the edited slice. Cached until the next change.
        """
        cached = self._membership.get(enabled_only)
        if cached is not None:
            return cached
        names = self.enabled_names if enabled_only else self.names
        entries = [self._entries[name] for name in names]
        meta = ApplierMetadata()
        for name in names:
            meta.merge(self.errors.get(name, ApplierMetadata()))
        if names:
            result = SliceMembership.from_columns(
                names, [e.mask for e in entries], meta, keys=[e.key for e in entries],
                sizes=[e.size for e in entries])
        else:  # no column says how many rows: the frame does
            result = SliceMembership([], np.zeros((len(self._df), 0), dtype=bool), meta)
        self._membership[enabled_only] = result
        return result

    @property
    def S(self) -> np.recarray:
        """Snorkel's ``S`` recarray of the enabled slices."""
        m = self.membership()
        return to_recarray(m.names, m.matrix)

    def slice_dataframe(self, name: str) -> pd.DataFrame:
        """Rows of the slice ``name``."""
        return self._df.iloc[np.flatnonzero(self._masks[self._check_name(name)])]

    def score(self, scorer: Any, golds, preds=None, probs=None, as_dataframe: bool = False):
        """``scorer.score_slices`` over the enabled slices."""
        return scorer.score_slices(self.membership(), golds, preds, probs,
                                   as_dataframe=as_dataframe)

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{n}={int(self._masks[n].sum())}{'' if self._enabled[n] else ' (off)'}"
            for n in self._sfs
        )
        return f"SliceSet({len(self._df)} rows; {parts})"

    # -- internals ----------------------------------------------------------------------------
    def _check_name(self, name: str) -> str:
        if name not in self._sfs:
            raise KeyError(f"No slicing function named {name!r}; the set has {self.names}.")
        return name

    def _compute_many(self, sfs: list[SlicingFunction], *, progress_bar: bool = False
                      ) -> list[str]:
        """Compute the masks of the SFs not cached yet; return every SF's fingerprint."""
        fps = [sf.fingerprint for sf in sfs]
        todo, todo_fps = [], []  # names are unique here: errors name the user's SFs
        for sf, fp in zip(sfs, fps, strict=True):
            if fp in self._cache:
                self._cache.move_to_end(fp)
            elif fp not in todo_fps:
                todo_fps.append(fp)
                todo.append(sf)
        if todo:
            result = compute_masks(self._df, todo, fault_tolerant=self.fault_tolerant,
                                   n_jobs=self.n_jobs, text_cache=self._text_cache,
                                   progress_bar=progress_bar)
            self.n_computed += len(todo)
            for j, (sf, fp) in enumerate(zip(todo, todo_fps, strict=True)):
                meta = ApplierMetadata()
                key = sf.name  # a combined SF's failing rows are recorded under its own name
                if key in result.meta.faults:
                    meta.faults[key] = result.meta.faults[key]
                    meta.fault_rows[key] = list(result.meta.fault_rows.get(key, []))
                    meta.errors[key] = result.meta.errors.get(key, "")
                mask = np.ascontiguousarray(result.matrix[:, j])
                mask.flags.writeable = False  # its key promises its content
                self._cache[fp] = _Entry(mask, meta, _new_key(), int(np.count_nonzero(mask)))
        return fps

    def _evict(self) -> None:
        """Keep the masks in use plus the ``cache_size`` most recent others (volatile
        fingerprints never match again: their masks go as soon as they are not in use)."""
        in_use = set(self._fps.values())
        for fp in [fp for fp in self._cache if fp not in in_use and is_volatile(fp)]:
            del self._cache[fp]
        extra = [fp for fp in self._cache if fp not in in_use]
        for fp in extra[: max(0, len(extra) - self.cache_size)]:
            del self._cache[fp]

    def _insert(self, sf: SlicingFunction, enabled: bool, fp: str) -> None:
        self._membership.clear()
        entry = self._cache[fp]
        mask, meta = entry.mask, entry.meta
        self._sfs[sf.name] = sf
        self._fps[sf.name] = fp
        self._enabled[sf.name] = bool(enabled)
        self._masks[sf.name] = mask
        self._entries[sf.name] = entry
        renamed = ApplierMetadata()
        for key in meta.faults:  # failures are reported under the SF's own name
            renamed.faults[sf.name] += meta.faults[key]
            renamed.fault_rows[sf.name].extend(meta.fault_rows[key])
            renamed.errors.setdefault(sf.name, meta.errors[key])
        self.errors[sf.name] = renamed

    def _notify(self, event: str, name: str | None) -> None:
        for callback in list(self._listeners):
            callback(event, name)

