"""``find_slices``: discover slices where a model errs, and confirm them on held-out data."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from slicewidgets.discovery._code import slice_code, slice_name
from slicewidgets.discovery._predicates import featurize
from slicewidgets.discovery._result import Candidate, Confirmation, SliceDiscovery
from slicewidgets.discovery._search import Found, rows_of, search, slice_score

ORDER_BY = ("score", "significance")


def _labels(values: Any, argument: str, n: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{argument} must be one-dimensional, got shape {arr.shape}.")
    if len(arr) != n:
        raise ValueError(
            f"{argument} has {len(arr)} rows but df has {n}; pass {argument} for the same "
            "rows as df, in the same order."
        )
    return arr


def error_vector(df: pd.DataFrame, golds: Any, preds: Any, errors: Any, losses: Any,
                 abstain_label: int | None, where: str = "") -> tuple[np.ndarray, np.ndarray]:
    """(keep, errors): the rows that are scored and their error (0/1) or loss."""
    n = len(df)
    given = [name for name, v in (("golds/preds", golds if preds is not None else None),
                                  ("errors", errors), ("losses", losses)) if v is not None]
    if len(given) != 1:
        raise ValueError(
            f"find_slices{where} needs exactly one of golds and preds, errors=, or losses=; "
            f"got {given or 'none'}. E.g. find_slices(df, golds, preds)."
        )
    from slicewidgets.analysis.validation import check_aligned

    check_aligned(df=df, golds=golds, preds=preds, errors=errors, losses=losses)
    if errors is not None:
        e = _labels(errors, "errors", n)
        if e.dtype != bool and not np.isin(e, [0, 1]).all():
            raise ValueError(
                "errors must be booleans or 0/1 (1 where the model is wrong); for "
                "real-valued losses pass losses= instead."
            )
        return np.ones(n, dtype=bool), e.astype(float)
    if losses is not None:
        e = _labels(losses, "losses", n).astype(float)
        if not np.isfinite(e).all() or (e < 0).any():
            raise ValueError("losses must be finite and >= 0 (e.g. per-row log loss).")
        return np.ones(n, dtype=bool), e
    g = _labels(golds, "golds", n)
    p = _labels(preds, "preds", n)
    if p.ndim != 1:
        raise ValueError("preds must be labels (one per row); for probabilities use "
                         "probs_to_preds(probs), or pass losses=.")
    keep = np.ones(n, dtype=bool)
    if abstain_label is not None:
        keep = (g != abstain_label) & (p != abstain_label)
    return keep, (g != p).astype(float)


def _check_int(value: Any, argument: str, low: int, example: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{argument} must be an integer >= {low}, got {value!r}; e.g. {example}.")
    return int(value)


def _p_values(size: np.ndarray, err: np.ndarray, sq: np.ndarray | None, n: int, total_err: float,
              total_sq: float | None) -> np.ndarray:
    """Two-sided p of slice vs rest: two-proportion z (0/1 errors) or Welch's t (losses)."""
    from scipy import stats

    rest = n - size
    with np.errstate(divide="ignore", invalid="ignore"):
        m1, m0 = err / size, (total_err - err) / rest
        if sq is None:
            pooled = total_err / n
            se = np.sqrt(pooled * (1 - pooled) * (1 / size + 1 / rest))
            z = (m1 - m0) / se
            return np.where(rest > 0, 2 * stats.norm.sf(np.abs(z)), np.nan)
        v1 = (sq / size - m1**2) * size / np.maximum(size - 1, 1)
        v0 = ((total_sq - sq) / rest - m0**2) * rest / np.maximum(rest - 1, 1)
        t = (m1 - m0) / np.sqrt(v1 / size + v0 / rest)
        dof = (v1 / size + v0 / rest) ** 2 / ((v1 / size) ** 2 / np.maximum(size - 1, 1)
                                              + (v0 / rest) ** 2 / np.maximum(rest - 1, 1))
        return np.where(rest > 1, 2 * stats.t.sf(np.abs(t), dof), np.nan)


def _refinement_p(child: tuple[float, float, float], parent: tuple[float, float, float],
                  binary: bool) -> float:
    """One-sided p that the child's mean error exceeds that of the parent's other rows.

    Each argument is ``(size, error sum, squared error sum)``.
    """
    from scipy import stats

    n1, s1, q1 = child
    n0, s0, q0 = parent[0] - n1, parent[1] - s1, parent[2] - q1
    if n0 < 1 or n1 < 1:
        return 1.0
    m1, m0 = s1 / n1, s0 / n0
    if binary:
        pooled = (s1 + s0) / (n1 + n0)
        se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
        return float(stats.norm.sf((m1 - m0) / se)) if se > 0 else (0.0 if m1 > m0 else 1.0)
    v1 = max(q1 / n1 - m1**2, 0.0) * n1 / max(n1 - 1, 1)
    v0 = max(q0 / n0 - m0**2, 0.0) * n0 / max(n0 - 1, 1)
    se = math.sqrt(v1 / n1 + v0 / n0)
    if se == 0:
        return 0.0 if m1 > m0 else 1.0
    dof = (v1 / n1 + v0 / n0) ** 2 / ((v1 / n1) ** 2 / max(n1 - 1, 1)
                                      + (v0 / n0) ** 2 / max(n0 - 1, 1) or 1.0)
    return float(stats.t.sf((m1 - m0) / se, max(dof, 1.0)))


def _generalize(found: list[Found], csc: Any, e: np.ndarray, binary: bool, scratch: np.ndarray,
                *, alpha: float, n_predicates: int, level: float = 0.05) -> list[Found]:
    """Replace refinements that add no significant error over a parent by that parent.

    A conjunction ``A and B`` is kept only if its rows err significantly more than the other
    rows of ``A`` (and of ``B``): one-sided test at ``level`` divided by the number of base
    predicates (Bonferroni over the refinements a search could pick from). Otherwise the
    search picked a lucky subset of a weak slice ``A``, and ``A`` itself is the better
    candidate (SliceFinder's rule that a slice must differ from its parent). Parents that are
    no worse than average (score <= 0) never replace a child.
    """
    n = len(e)
    mean_error = float(e.mean())
    threshold = level / max(n_predicates, 1)
    cache: dict[tuple[int, ...], tuple[float, float, float]] = {}

    def stats_of(cols: tuple[int, ...]) -> tuple[float, float, float]:
        if cols not in cache:
            rows = rows_of(csc, cols, scratch)
            cache[cols] = (float(len(rows)), float(e[rows].sum()), float((e[rows] ** 2).sum()))
        return cache[cols]

    out: dict[tuple[int, ...], Found] = {}
    for f in found:
        current = f
        while len(current.cols) > 1:
            child = stats_of(current.cols)
            best = None
            for drop in range(len(current.cols)):
                cols = current.cols[:drop] + current.cols[drop + 1:]
                parent = stats_of(cols)
                score = float(slice_score(parent[0], parent[1], n=n, mean_error=mean_error,
                                          alpha=alpha))
                if score > 0 and _refinement_p(child, parent, binary) > threshold and (
                        best is None or score > best.score):
                    best = Found(cols, int(parent[0]), parent[1], score)
            if best is None:
                break
            current = best
        if current.cols not in out:
            out[current.cols] = current
    return sorted(out.values(), key=lambda f: -f.score)


def _inside(a: np.ndarray, b: np.ndarray) -> float:
    """The fraction of rows ``a`` (sorted positions) that are also in ``b``."""
    return len(np.intersect1d(a, b, assume_unique=True)) / len(a) if len(a) else 1.0


def find_slices(
    df: pd.DataFrame,
    golds: Any = None,
    preds: Any = None,
    *,
    errors: Any = None,
    losses: Any = None,
    k: int = 10,
    max_order: int = 2,
    min_support: int | float | None = None,
    alpha: float = 0.95,
    order_by: str = "score",
    max_overlap: float | None = 0.8,
    columns: Sequence[str] | None = None,
    text_columns: Sequence[str] | None = None,
    n_bins: int = 5,
    max_categories: int = 20,
    max_words: int = 200,
    max_df: float = 0.5,
    stop_words: Any = "english",
    sfs: Sequence[Any] = (),
    confirm_on: tuple | None = None,
    confirm_alpha: float = 0.05,
    confirm_min_n: int = 10,
    abstain_label: int | None = -1,
    progress_bar: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
) -> SliceDiscovery:
    """Find slices of ``df`` where the model errs most, as slicing functions.

    Each candidate is a conjunction of up to ``max_order`` base predicates built from the
    frame: ``column == value`` for categorical columns (the ``max_categories`` most frequent
    values), quantile bins ``lo <= column < hi`` for numeric ones, and for text columns the
    number of words (quantile buckets), patterns (URL, shortened link, digits, ALL-CAPS word,
    emoji, ``!``, ``?``, @mention) and words (the ``max_words`` most frequent, without
    stop-words, in at least ``min_support`` and at most ``max_df`` of the rows); plus any
    slicing functions passed as ``sfs``.

    Parameters
    ----------
    df
        The data the model was scored on.
    golds, preds
        Labels and predicted labels: the error is ``golds != preds`` (rows where either is
        ``abstain_label`` are left out). Or pass ``errors=`` (0/1 per row) or ``losses=``
        (a non-negative number per row) instead.
    k
        Number of candidates returned.
    max_order
        Most predicates in a conjunction (1 to 3 is usual).
    min_support
        Fewest rows in a candidate; a float in (0, 1) is a fraction of the rows. Default:
        ``max(20, 1% of the rows)``.
    alpha
        SliceLine's weight of the error against the size, in (0, 1]: 1 ranks by error alone.
    order_by
        ``"score"`` (SliceLine's score) or ``"significance"`` (the discovery p-value, among
        the slices worse than the rest; the search is the same).
    max_overlap
        Redundancy control. A conjunction whose rows do not err significantly more than the
        other rows of one of its parents (``A and B`` vs ``A``) is replaced by that parent;
        then a candidate is dropped when more than this fraction of its rows lie in a better
        candidate. ``None`` turns both off (the plain top-k by score).
    columns, text_columns
        Columns to build predicates from (default all) and those to treat as text (default:
        string columns with more than ``max_categories`` values and two words or more on
        average).
    n_bins, max_categories, max_words, max_df, stop_words
        Limits of the predicates (see above); ``stop_words`` is ``"english"`` (scikit-learn's
        list), a collection of words, or ``None``.
    sfs
        Slicing functions used as extra base predicates.
    confirm_on
        Held-out data ``(df_eval, golds_eval, preds_eval)`` (or ``(df_eval, errors_eval)``):
        every candidate is scored there with :func:`~slicewidgets.analysis.slice_report`
        (size, interval, gap, p, Benjamini-Hochberg q over the ``k`` candidates, flag).
        Without it the figures are those of the rows the slices were chosen on, and their
        p-values are not evidence.
    confirm_alpha, confirm_min_n
        ``alpha`` and ``min_n`` of that report.
    progress_bar
        Show progress (``tqdm.auto``).
    progress
        A callback ``progress(done, total, stage)`` for a progress display of one's own
        (the studio's "Suggest slices" panel): ``stage`` is ``"predicates"``, ``"level 2"``,
        ``"level 3"``, ... or ``"confirmation"``.

    Returns
    -------
    SliceDiscovery

    Notes
    -----
    **Why confirm.** Slices found by searching thousands of conjunctions for high error look
    bad on the searched rows partly by chance; their discovery p-values ignore the search.
    Scored on rows that played no part in the search, with a false discovery rate control
    over exactly the candidates tested, a ``worse`` flag is evidence.

    **Search.** SliceLine's score and upper-bound pruning, level by level over a sparse
    one-hot matrix; see :mod:`slicewidgets.discovery._search`. The top ``4 k`` slices by
    score form a pool; a refinement that adds no significant error over its parent (one-sided
    test at 0.05 divided by the number of base predicates) gives way to the parent, as in
    SliceFinder, and slices mostly inside a better one are removed (``max_overlap``).

    Examples
    --------
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"country": rng.choice(["fr", "de", "us"], 3000),
    ...                    "age": rng.integers(18, 80, 3000)})
    >>> errors = rng.random(3000) < np.where((df.country == "fr") & (df.age >= 60), 0.6, 0.1)
    >>> found = find_slices(df, errors=errors, k=3)
    >>> found[0].description
    "country == 'fr' and age >= 67"
    >>> print(found[0].code)
    # country == 'fr' and age >= 67 (discovered: 193 rows, error 54.4% vs 15.1% overall)
    @slicing_function(vectorized=True)
    def country_fr_and_age_ge_67(df):
        return (df['country'] == 'fr') & (df['age'] >= 67)
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}.")
    if order_by not in ORDER_BY:
        raise ValueError(f"order_by must be one of {ORDER_BY}, got {order_by!r}.")
    k = _check_int(k, "k", 1, "k=10")
    max_order = _check_int(max_order, "max_order", 1, "max_order=2")
    if not (isinstance(alpha, (int, float)) and 0 < alpha <= 1):
        raise ValueError(f"alpha must be in (0, 1], got {alpha!r}; e.g. alpha=0.95.")
    if max_overlap is not None and not 0 < max_overlap <= 1:
        raise ValueError(f"max_overlap must be in (0, 1] or None, got {max_overlap!r}.")
    start = time.perf_counter()
    keep, e = error_vector(df, golds, preds, errors, losses, abstain_label)
    scored = None  # positions of the scored rows in the caller's df, where some are not
    if not keep.all():
        scored = np.flatnonzero(keep)
        df, e = df.iloc[scored], e[keep]
    n = len(df)
    if min_support is None:
        min_sup = max(20, math.ceil(0.01 * n))
    elif isinstance(min_support, float) and 0 < min_support < 1:
        min_sup = max(1, math.ceil(min_support * n))
    else:
        min_sup = _check_int(min_support, "min_support", 1, "min_support=50 or 0.01")
    if progress is not None:
        progress(0, 1, "predicates")
    feats = featurize(df, min_support=min_sup, columns=columns, text_columns=text_columns,
                      n_bins=n_bins, max_categories=max_categories, max_words=max_words,
                      max_df=max_df, stop_words=stop_words, sfs=sfs)
    pool_size = 4 * k if max_overlap is not None or order_by != "score" else k
    found, n_scored = search(feats.csc, feats.csr, feats.groups, e, alpha=alpha,
                             min_sup=min_sup, max_order=max_order, pool_size=pool_size,
                             progress_bar=progress_bar, progress=progress)
    binary = bool(np.all((e == 0) | (e == 1)))
    overall = float(e.mean()) if n else float("nan")
    scratch = np.zeros(n, dtype=bool)
    if max_overlap is not None:
        found = _generalize(found, feats.csc, e, binary, scratch, alpha=alpha,
                            n_predicates=len(feats.predicates))
    rows = [rows_of(feats.csc, f.cols, scratch) for f in found]
    sizes = np.array([f.size for f in found], dtype=float)
    errs = np.array([f.error_sum for f in found], dtype=float)
    sq = None if binary else np.array([float((e[r] ** 2).sum()) for r in rows])
    p = _p_values(sizes, errs, sq, n, float(e.sum()), None if binary else float((e**2).sum()))
    order = list(range(len(found)))
    if order_by == "significance":
        worse = [i for i in order if errs[i] / sizes[i] > overall]
        order = sorted(worse, key=lambda i: (p[i], -found[i].score))
    chosen: list[int] = []
    for i in order:
        if len(chosen) >= k:
            break
        if max_overlap is not None and any(_inside(rows[i], rows[j]) > max_overlap
                                           for j in chosen):
            continue
        chosen.append(i)
    taken: set[str] = set()
    candidates = []
    for rank, i in enumerate(chosen, start=1):
        preds_i = tuple(feats.predicates[c] for c in found[i].cols)
        name = slice_name(preds_i, taken)
        err = errs[i] / sizes[i]
        doc = (f"{' and '.join(p_.label for p_ in preds_i)} (discovered: {int(sizes[i]):,} rows,"
               f" error {err:.1%} vs {overall:.1%} overall)")
        candidates.append(Candidate(
            name=name, predicates=preds_i, n=int(sizes[i]), error=float(err),
            gap=float(err - overall), score=found[i].score, p_value=float(p[i]), rank=rank,
            code=slice_code(name, preds_i, doc), note=doc,
            _rows=rows[i] if scored is None else scored[rows[i]],
        ))
    meta = {"n": n, "overall_error": overall, "binary": binary, "max_order": max_order,
            "min_support": min_sup, "alpha": confirm_alpha, "sliceline_alpha": alpha,
            "order_by": "SliceLine score" if order_by == "score" else "discovery p-value",
            "n_predicates": len(feats.predicates), "n_scored": n_scored,
            "columns": dict(feats.columns_used)}
    if confirm_on is not None:
        if progress is not None:
            progress(0, 1, "confirmation")
        candidates, extra = _confirm(candidates, confirm_on, alpha=confirm_alpha,
                                     min_n=confirm_min_n, abstain_label=abstain_label)
        meta.update(extra)
    meta["seconds"] = time.perf_counter() - start
    return SliceDiscovery(tuple(candidates), **meta)


def _confirm(candidates: list[Candidate], confirm_on: Any, *, alpha: float, min_n: int,
             abstain_label: int | None) -> tuple[list[Candidate], dict[str, Any]]:
    """Score every candidate on held-out data with ``slice_report`` (accuracy)."""
    from dataclasses import replace

    from slicewidgets.analysis import Scorer, slice_report
    from slicewidgets.analysis.validation import check_aligned

    if not isinstance(confirm_on, (tuple, list)) or len(confirm_on) not in (2, 3):
        raise TypeError(
            "confirm_on must be (df_eval, golds_eval, preds_eval) or (df_eval, errors_eval), "
            f"got {type(confirm_on).__name__}"
            f"{' of length ' + str(len(confirm_on)) if isinstance(confirm_on, (tuple, list)) else ''}."
        )
    df_eval = confirm_on[0]
    if not isinstance(df_eval, pd.DataFrame):
        raise TypeError(f"confirm_on[0] must be a DataFrame, got {type(df_eval).__name__}.")
    if len(confirm_on) == 3:
        check_aligned(df_eval=df_eval, golds_eval=confirm_on[1], preds_eval=confirm_on[2])
        golds = _labels(confirm_on[1], "confirm_on golds", len(df_eval))
        preds = _labels(confirm_on[2], "confirm_on preds", len(df_eval))
        scorer = Scorer(["accuracy"], abstain_label=abstain_label)
    else:
        check_aligned(df_eval=df_eval, errors_eval=confirm_on[1])
        errs = _labels(confirm_on[1], "confirm_on errors", len(df_eval))
        if errs.dtype != bool and not np.isin(errs, [0, 1]).all():
            raise ValueError("confirm_on errors must be booleans or 0/1; real-valued losses "
                             "cannot be confirmed with an error-rate test.")
        golds, preds = np.zeros(len(errs), dtype=int), errs.astype(int)
        scorer = Scorer(["accuracy"], abstain_label=None)
    S = {c.name: c.mask(df_eval) for c in candidates}
    report = slice_report(scorer, S, golds, preds, alpha=alpha, min_n=min_n)
    frame = report.to_frame()
    frame = frame[frame.metric == "accuracy"]
    # by position: a candidate may itself be named "overall" (an SF passed in sfs)
    overall_row = frame.iloc[0]
    assert overall_row["slice"] == "overall"
    by_name = frame.iloc[1:].set_index("slice")
    overall_acc = float(overall_row["score"])
    out = []
    for c in candidates:
        r = by_name.loc[c.name]
        out.append(replace(c, confirmation=Confirmation(
            n=int(r["n_scored"]), error=1 - float(r["score"]), ci_low=1 - float(r["ci_high"]),
            ci_high=1 - float(r["ci_low"]), gap=-float(r["gap"]), p_value=float(r["p_value"]),
            q_value=float(r["q_value"]), flag=str(r["flag"]), reason=str(r["reason"]))))
    return out, {"n_confirm": int(overall_row["n_scored"]),
                 "overall_error_confirm": 1 - overall_acc, "report": report}
