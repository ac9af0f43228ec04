"""SliceLine's lattice search over a sparse one-hot matrix.

Scores and bounds follow Sagadeeva & Boehm, *SliceLine: Fast, Linear-Algebra-based Slice
Finding for ML Model Debugging* (SIGMOD 2021):

* score ``sc = alpha * (mean error in slice / mean error - 1) - (1 - alpha) * (n / size - 1)``,
  positive for slices worse than average and large enough to matter;
* upper bound of the score of a slice and of every slice inside it, from its size ``ss``, its
  error sum ``se`` and the largest error ``sm``: the score is monotone in the size, so its
  maximum over sizes in ``[min_sup, ss]`` with at most ``min(se, size * sm)`` error is at
  one of the sizes ``min_sup``, ``se / sm``, ``ss``.

The enumeration differs from SliceLine's matrix joins: a slice of level ``L`` is extended by
one predicate of a later group only (a set-enumeration tree, each conjunction generated once),
and the counts of all extensions of a parent come from one gather of the parent's rows in the
CSR matrix (for 0/1 errors, first from its *erroneous* rows only: a child whose exact error
sum already bounds its score below the threshold is never counted in full). A parent is
extended only if its upper bound beats the running top-k threshold.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import sparse


@dataclass(frozen=True)
class Found:
    cols: tuple[int, ...]
    size: int
    error_sum: float
    score: float


def slice_score(size, error_sum, *, n: int, mean_error: float, alpha: float):
    size = np.asarray(size, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        sc = alpha * ((np.asarray(error_sum, dtype=float) / size) / mean_error - 1) \
            - (1 - alpha) * (n / size - 1)
    return np.nan_to_num(sc, nan=-np.inf)


def score_upper_bound(size_ub, error_ub, max_error, *, n: int, mean_error: float, alpha: float,
                      min_sup: int):
    """SliceLine's bound: the best score of any sub-slice (see the module notes)."""
    size_ub = np.asarray(size_ub, dtype=float)
    error_ub = np.asarray(error_ub, dtype=float)
    points = np.stack([np.full_like(size_ub, float(max(min_sup, 1))),
                       np.maximum(error_ub / max_error, max(min_sup, 1)), size_ub])
    points = np.minimum(points, size_ub)
    errors = np.minimum(points * max_error, error_ub)
    return slice_score(points, errors, n=n, mean_error=mean_error, alpha=alpha).max(axis=0)


class _Pool:
    """The best ``size`` slices found so far (a min-heap on score)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.heap: list[tuple[float, int, Found]] = []
        self.counter = 0

    @property
    def threshold(self) -> float:
        return max(0.0, self.heap[0][0]) if len(self.heap) >= self.size else 0.0

    def push(self, found: Found) -> None:
        if found.score <= 0:
            return
        self.counter += 1
        item = (found.score, -self.counter, found)
        if len(self.heap) < self.size:
            heapq.heappush(self.heap, item)
        elif found.score > self.heap[0][0]:
            heapq.heapreplace(self.heap, item)

    def sorted(self) -> list[Found]:
        return [f for _, _, f in sorted(self.heap, key=lambda t: (-t[0], -t[1]))]


def rows_of(csc: sparse.csc_matrix, cols: tuple[int, ...], scratch: np.ndarray) -> np.ndarray:
    """Sorted row indices of the conjunction of columns ``cols``."""
    ptr, idx = csc.indptr, csc.indices
    sizes = [ptr[c + 1] - ptr[c] for c in cols]
    order = np.argsort(sizes)
    rows = idx[ptr[cols[order[0]]]:ptr[cols[order[0]] + 1]]
    for o in order[1:]:
        c = cols[o]
        other = idx[ptr[c]:ptr[c + 1]]
        scratch[other] = True
        rows = rows[scratch[rows]]
        scratch[other] = False
    return rows


def search(
    csc: sparse.csc_matrix,
    csr: sparse.csr_matrix,
    groups: np.ndarray,
    errors: np.ndarray,
    *,
    alpha: float,
    min_sup: int,
    max_order: int,
    pool_size: int,
    progress_bar: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
) -> tuple[list[Found], int]:
    """The best ``pool_size`` slices by SliceLine's score, and how many slices were scored.

    ``progress(done, total, stage)`` is called for every parent slice extended (``stage`` is
    ``"level L"``) and once at the end of each level.
    """
    from tqdm.auto import tqdm

    n, m = csc.shape
    e = np.asarray(errors, dtype=float)
    mean_error = float(e.mean()) if n else 0.0
    pool = _Pool(pool_size)
    if n == 0 or m == 0 or mean_error <= 0:
        return [], 0
    max_error = float(e.max())
    binary = bool(np.all((e == 0) | (e == 1)))
    kw = {"n": n, "mean_error": mean_error, "alpha": alpha}
    sizes1 = np.diff(csc.indptr).astype(np.int64)
    errs1 = np.asarray(csc.T @ e).ravel()
    scores1 = slice_score(sizes1, errs1, **kw)
    n_scored = m
    level: list[Found] = []
    for j in np.flatnonzero((sizes1 >= min_sup) & (errs1 > 0)):
        f = Found((int(j),), int(sizes1[j]), float(errs1[j]), float(scores1[j]))
        pool.push(f)
        level.append(f)
    max_group = int(groups.max())
    scratch = np.zeros(n, dtype=bool)
    err_rows = e > 0
    bar = tqdm(total=max_order - 1, desc="levels", disable=not progress_bar, leave=False)
    for _order in range(2, max_order + 1):
        bounds = score_upper_bound([f.size for f in level], [f.error_sum for f in level],
                                   max_error, min_sup=min_sup, **kw)
        parents = [(b, f) for b, f in zip(bounds, level, strict=True)
                   if b > pool.threshold and groups[f.cols[-1]] < max_group]
        parents.sort(key=lambda t: -t[0])
        nxt: list[Found] = []
        stage = f"level {_order}"
        for i_parent, (bound, parent) in enumerate(tqdm(
                parents, desc=stage, disable=not progress_bar, leave=False)):
            if progress is not None:
                progress(i_parent, len(parents), stage)
            threshold = pool.threshold
            if bound <= threshold:
                continue
            rows = rows_of(csc, parent.cols, scratch)
            later = groups > groups[parent.cols[-1]]
            if binary:
                sub = csr[rows[err_rows[rows]]]
                err_c = np.bincount(sub.indices, minlength=m).astype(float)
            else:
                sub = csr[rows]
                counts = np.diff(sub.indptr)
                err_c = np.bincount(sub.indices, weights=np.repeat(e[rows], counts), minlength=m)
                size_c = np.bincount(sub.indices, minlength=m)
            cand = np.flatnonzero(later & (err_c > 0))
            if len(cand) == 0:
                continue
            size_ub = np.minimum(parent.size, sizes1[cand])
            ub = score_upper_bound(size_ub, err_c[cand], max_error, min_sup=min_sup, **kw)
            cand = cand[(size_ub >= min_sup) & (ub > threshold)]
            if len(cand) == 0:
                continue
            if binary:
                if int(sizes1[cand].sum()) < len(rows) * 4:
                    scratch[rows] = True
                    size_c = np.zeros(m, dtype=np.int64)
                    for j in cand:
                        size_c[j] = np.count_nonzero(
                            scratch[csc.indices[csc.indptr[j]:csc.indptr[j + 1]]])
                    scratch[rows] = False
                else:
                    size_c = np.bincount(csr[rows].indices, minlength=m)
            n_scored += len(cand)
            sc = slice_score(size_c[cand], err_c[cand], **kw)
            for j, s, se, score in zip(cand, size_c[cand], err_c[cand], sc, strict=True):
                if s < min_sup:
                    continue
                f = Found((*parent.cols, int(j)), int(s), float(se), float(score))
                pool.push(f)
                nxt.append(f)
        level = nxt
        if progress is not None:
            progress(len(parents), len(parents), stage)
        bar.update(1)
        if not level:
            break
    bar.close()
    return pool.sorted(), n_scored
