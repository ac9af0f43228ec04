"""How slices overlap: pairwise intersection counts, Jaccard indices and containment.

Slices are rarely disjoint (short comments and comments with links share rows), so their
scores are not independent evidence. :func:`slice_overlap` measures the overlap of every
pair. New slices can be built from old ones with ``&``, ``|`` and ``~`` on slicing functions
(:class:`~slicewidgets.slicing.sf.CombinedSlicingFunction`).
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

from slicewidgets.membership import as_membership

__all__ = ["SliceOverlap", "slice_overlap"]

_KINDS = ("jaccard", "count", "containment")

_OVERLAP_CSS = """
.sw-overlap table { border-collapse: collapse; font-size: 12px; font-family: var(--jp-ui-font-family, sans-serif); }
.sw-overlap caption { caption-side: top; text-align: left; padding: 2px 0 6px; color: #444; }
.sw-overlap th { padding: 2px 6px; font-weight: 600; text-align: right; }
.sw-overlap thead th { writing-mode: vertical-rl; transform: rotate(180deg); text-align: left; }
.sw-overlap td { padding: 2px 6px; text-align: right; font-variant-numeric: tabular-nums; border: 1px solid #fff; }
.sw-overlap td small { color: #555; }
"""


class SliceOverlap:
    """Pairwise overlap of slices (see :func:`slice_overlap`). Immutable.

    Attributes
    ----------
    names : list of str
        Slice names.
    n_rows : int
        Rows in the data.
    sizes : pandas.Series
        Rows per slice.
    counts : pandas.DataFrame
        ``counts.loc[a, b]``: rows in both ``a`` and ``b`` (the diagonal holds the sizes).
    jaccard : pandas.DataFrame
        ``|a & b| / |a | b|`` (NaN for two empty slices; 1 on the diagonal).
    containment : pandas.DataFrame
        ``containment.loc[a, b] = |a & b| / |a|``: the share of ``a`` that is also in ``b``
        (NaN where ``a`` is empty).
    """

    def __init__(self, names: list[str], counts: np.ndarray, n_rows: int) -> None:
        counts = np.asarray(counts, dtype=np.int64)
        sizes = np.diag(counts).copy()
        union = sizes[:, None] + sizes[None, :] - counts
        with np.errstate(invalid="ignore", divide="ignore"):
            jac = np.where(union > 0, counts / np.maximum(union, 1), np.nan)
            cont = np.where(sizes[:, None] > 0, counts / np.maximum(sizes[:, None], 1), np.nan)
        self._names = list(names)
        self._n_rows = int(n_rows)
        for arr in (counts, sizes, jac, cont):
            arr.flags.writeable = False
        self._counts, self._sizes, self._jaccard, self._containment = counts, sizes, jac, cont

    @property
    def names(self) -> list[str]:
        """Slice names."""
        return list(self._names)

    @property
    def n_rows(self) -> int:
        """Rows in the data."""
        return self._n_rows

    @property
    def sizes(self) -> pd.Series:
        """Rows per slice."""
        return pd.Series(self._sizes.copy(), index=self._names, name="size")

    def _frame(self, values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(values.copy(), index=pd.Index(self._names, name="slice"),
                            columns=pd.Index(self._names, name="slice"))

    @property
    def counts(self) -> pd.DataFrame:
        """Rows in both slices (diagonal: sizes)."""
        return self._frame(self._counts)

    @property
    def jaccard(self) -> pd.DataFrame:
        """Jaccard index of every pair."""
        return self._frame(self._jaccard)

    @property
    def containment(self) -> pd.DataFrame:
        """``loc[a, b]``: share of ``a`` also in ``b``."""
        return self._frame(self._containment)

    def matrix(self, kind: str = "jaccard") -> pd.DataFrame:
        """``kind``: ``"jaccard"``, ``"count"`` or ``"containment"``."""
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {list(_KINDS)}, got {kind!r}.")
        return {"jaccard": self.jaccard, "count": self.counts,
                "containment": self.containment}[kind]

    def to_frame(self, *, min_jaccard: float = 0.0, sort: bool = True) -> pd.DataFrame:
        """One row per pair of distinct slices (``a`` before ``b`` in slice order).

        Columns ``slice_a, slice_b, size_a, size_b, overlap, jaccard, a_in_b, b_in_a``
        (``a_in_b``: share of ``a`` also in ``b``); sorted by Jaccard index (largest first)
        when ``sort``; pairs below ``min_jaccard`` left out.
        """
        i, j = np.triu_indices(len(self._names), k=1)
        frame = pd.DataFrame({
            "slice_a": np.asarray(self._names, dtype=object)[i],
            "slice_b": np.asarray(self._names, dtype=object)[j],
            "size_a": self._sizes[i], "size_b": self._sizes[j],
            "overlap": self._counts[i, j], "jaccard": self._jaccard[i, j],
            "a_in_b": self._containment[i, j], "b_in_a": self._containment[j, i],
        })
        if min_jaccard > 0:
            frame = frame[frame["jaccard"].fillna(0) >= min_jaccard]
        if sort:
            frame = frame.sort_values("jaccard", ascending=False, na_position="last",
                                      kind="stable")
        return frame.reset_index(drop=True)

    def __repr__(self) -> str:
        header = (f"SliceOverlap: {len(self._names)} slices over {self._n_rows:,} rows "
                  "(Jaccard index; diagonal: sizes)")
        shown = self.jaccard.round(3).astype(object)
        for k in range(len(self._names)):
            shown.iloc[k, k] = f"[{self._sizes[k]}]"
        return f"{header}\n{shown.to_string()}"

    def to_html(self, kind: str = "jaccard") -> str:
        """A matrix with cells shaded by ``kind`` (counts shown beneath Jaccard/containment)."""
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {list(_KINDS)}, got {kind!r}.")
        esc = html.escape
        values = {"jaccard": self._jaccard, "count": self._counts,
                  "containment": self._containment}[kind].astype(float)
        top = np.nanmax(values) if kind == "count" and values.size else 1.0
        parts = [f'<div class="sw-overlap"><style>{_OVERLAP_CSS}</style><table>',
                 f"<caption>{esc(repr(self).splitlines()[0].replace('Jaccard index', kind))}"
                 "</caption><thead><tr><th></th>"]
        parts += [f"<th>{esc(name)}</th>" for name in self._names]
        parts.append("</tr></thead><tbody>")
        for a, name in enumerate(self._names):
            parts.append(f"<tr><th>{esc(name)} <small>({self._sizes[a]:,})</small></th>")
            for b in range(len(self._names)):
                v = values[a, b]
                shade = 0.0 if np.isnan(v) or not top else float(v) / top
                colour = f"rgba(26, 77, 143, {0.85 * shade:.2f})"
                ink = "#fff" if shade > 0.55 else "#222"
                if kind == "count":
                    text = f"{int(self._counts[a, b]):,}"
                else:
                    text = ("–" if np.isnan(v) else f"{v:.2f}")
                    text += f"<br><small>{int(self._counts[a, b]):,}</small>"
                title = esc(f"{name} & {self._names[b]}: {int(self._counts[a, b]):,} rows; "
                            f"Jaccard {self._jaccard[a, b]:.3f}", quote=True)
                parts.append(f'<td title="{title}" style="background:{colour};color:{ink}">'
                             f"{text}</td>")
            parts.append("</tr>")
        parts.append("</tbody></table></div>")
        return "".join(parts)

    def _repr_html_(self) -> str:
        return self.to_html()


def slice_overlap(S: Any) -> SliceOverlap:
    """Pairwise overlap of all slices: counts, Jaccard indices and containment.

    Parameters
    ----------
    S
        Slice membership: Snorkel's recarray, a ``SliceMembership``, a DataFrame of 0/1
        columns or a dict of masks.

    Returns
    -------
    SliceOverlap
        All pairs at once from one matrix product ``M.T @ M``.

    Examples
    --------
    >>> S = {"short": np.array([1, 1, 0, 0]), "link": np.array([0, 1, 1, 0])}
    >>> ov = slice_overlap(S)
    >>> ov.counts.to_numpy().tolist()
    [[2, 1], [1, 2]]
    >>> round(float(ov.jaccard.loc["short", "link"]), 3)
    0.333
    """
    names, M = as_membership(S)
    n = M.shape[0]
    dtype = np.float32 if n < 2**24 else np.float64
    Mf = M.astype(dtype)
    counts = np.rint(Mf.T @ Mf).astype(np.int64)
    return SliceOverlap(names, counts, n)
