"""The result of :func:`~slicewidgets.discovery.find_slices`: ranked candidates, as code."""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from slicewidgets.analysis.rendering import flag_badge_css, format_value
from slicewidgets.discovery._code import build_sf, slice_code
from slicewidgets.discovery._predicates import Predicate

#: Columns of :meth:`SliceDiscovery.to_frame` (the ``*_confirm`` ones only with confirm_on).
DISCOVERY_COLUMNS = ("rank", "slice", "description", "n", "error", "gap", "score", "p_value")
CONFIRM_COLUMNS = ("n_confirm", "error_confirm", "ci_low", "ci_high", "gap_confirm",
                   "p_confirm", "q_confirm", "flag", "confirmed")


@dataclass(frozen=True)
class Confirmation:
    """A candidate scored on held-out data (the rows of ``slice_report`` for it).

    ``error`` is the error rate (1 - accuracy) with its interval; ``flag`` is the report's:
    ``worse`` (confirmed), ``better``, ``ok`` or ``no-evidence``; ``q_value`` is the
    Benjamini-Hochberg adjustment over all the candidates tested together.
    """

    n: int
    error: float
    ci_low: float
    ci_high: float
    gap: float
    p_value: float
    q_value: float
    flag: str
    reason: str

    @property
    def confirmed(self) -> bool:
        return self.flag == "worse"


@dataclass(frozen=True, eq=False)
class Candidate:
    """One discovered slice: a conjunction of base predicates, with its discovery figures.

    Attributes
    ----------
    name
        A Python identifier; the name of :attr:`sf`.
    predicates
        The base predicates, ``and``-ed.
    n, error, gap, score, p_value
        On the discovery data: rows, mean error (error rate for 0/1 errors), ``error`` minus
        the overall mean error, SliceLine's score and a two-sided p-value of slice vs rest.
        The p-value is *not* evidence: the slice was chosen because it looks bad on these
        rows (see :attr:`confirmation`).
    confirmation
        The same slice scored on held-out data, or ``None``.
    code
        Readable source of the slicing function (run it in the studio's editor).
    """

    name: str
    predicates: tuple[Predicate, ...]
    n: int
    error: float
    gap: float
    score: float
    p_value: float
    rank: int
    code: str
    confirmation: Confirmation | None = None
    note: str = ""  # the comment line above the code
    _rows: np.ndarray | None = field(default=None, repr=False)  # rows in the discovery frame

    @property
    def description(self) -> str:
        return " and ".join(p.label for p in self.predicates)

    @property
    def order(self) -> int:
        return len(self.predicates)

    def code_as(self, name: str) -> str:
        """:attr:`code` with the slice (and the variable holding it) called ``name``.

        Examples
        --------
        >>> from slicewidgets.discovery import find_slices
        >>> df = pd.DataFrame({"kind": ["a", "b"] * 50})
        >>> c = find_slices(df, errors=np.arange(100) % 2 == 0, k=1)[0]
        >>> print(c.code_as("kind_a_slice"))
        # kind == 'a' (discovered: 50 rows, error 100.0% vs 50.0% overall)
        @slicing_function(vectorized=True)
        def kind_a_slice(df):
            return df['kind'] == 'a'
        <BLANKLINE>
        """
        if not (isinstance(name, str) and name.isidentifier()):
            raise ValueError(f"name must be a Python identifier, got {name!r}.")
        return slice_code(name, self.predicates, self.note)

    @cached_property
    def sf(self):
        """The :class:`~slicewidgets.slicing.SlicingFunction` that :attr:`code` defines."""
        extra = {p.sf.name: p.sf for p in self.predicates if p.kind == "sf"}
        return build_sf(self.code, self.name, extra)

    def mask(self, df: pd.DataFrame) -> np.ndarray:
        """Rows of ``df`` in the slice (runs :attr:`sf`)."""
        return self.sf.mask(df)

    @property
    def rows(self) -> np.ndarray | None:
        """Positions of the slice's rows in the ``df`` given to :func:`find_slices` (rows it did not
        score, where golds or preds abstain, are in no slice); ``None``: not known."""
        return self._rows

    def __repr__(self) -> str:
        conf = "" if self.confirmation is None else f", confirm={self.confirmation.flag}"
        return (f"Candidate({self.name!r}: {self.description}; n={self.n}, "
                f"error={self.error:.3g}, gap={self.gap:+.3g}{conf})")


CSS = f"""
.sw-discovery table {{ border-collapse: collapse; font-size: 12px; font-family: var(--jp-ui-font-family, sans-serif); }}
.sw-discovery caption {{ caption-side: top; text-align: left; padding: 2px 0 6px; color: var(--jp-ui-font-color1, #444); }}
.sw-discovery th {{ text-align: right; padding: 2px 8px; border-bottom: 1px solid var(--jp-border-color1, #999); }}
.sw-discovery th.sw-group {{ text-align: center; border-bottom: 1px solid var(--jp-border-color2, #ccc); }}
.sw-discovery td {{ text-align: right; padding: 2px 8px; border-bottom: 1px solid var(--jp-border-color2, #e4e4e4); font-variant-numeric: tabular-nums; white-space: nowrap; }}
.sw-discovery td.sw-text, .sw-discovery th.sw-text {{ text-align: left; white-space: normal; }}
.sw-discovery .sw-flag {{ padding: 0 6px; border-radius: 8px; font-size: 11px; }}
{flag_badge_css(".sw-discovery .sw-flag-{flag}")}
"""


class SliceDiscovery:
    """Ranked candidate slices, best first; immutable.

    Iterate over it or index it for :class:`Candidate` objects; :meth:`to_frame` gives a
    table; in a notebook it renders as HTML with discovery and confirmation figures side by
    side.
    """

    __slots__ = ("_candidates", "_meta")
    _candidates: tuple[Candidate, ...]
    _meta: dict[str, Any]

    def __init__(self, candidates: tuple[Candidate, ...], **meta: Any) -> None:
        object.__setattr__(self, "_candidates", tuple(candidates))
        object.__setattr__(self, "_meta", dict(meta))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("SliceDiscovery is immutable")

    def __len__(self) -> int:
        return len(self._candidates)

    def __iter__(self) -> Iterator[Candidate]:
        return iter(self._candidates)

    def __getitem__(self, key: int | str) -> Candidate:
        if isinstance(key, str):
            for c in self._candidates:
                if c.name == key:
                    return c
            raise KeyError(f"No candidate named {key!r}; names: {[c.name for c in self]}")
        return self._candidates[key]

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        return self._candidates

    @property
    def meta(self) -> Mapping[str, Any]:
        """Settings and totals: n, overall error, order, alpha, min_support, n_scored, ..."""
        return dict(self._meta)

    @property
    def overall_error(self) -> float:
        return self._meta["overall_error"]

    @property
    def confirmed_on(self) -> int | None:
        """Rows of the held-out data the candidates were confirmed on (``None``: not confirmed)."""
        return self._meta.get("n_confirm")

    def confirmed(self) -> list[Candidate]:
        """Candidates whose held-out error is significantly higher (flag ``worse``)."""
        return [c for c in self if c.confirmation is not None and c.confirmation.confirmed]

    def sfs(self, *, confirmed_only: bool = False) -> list[Any]:
        """The candidates' slicing functions."""
        return [c.sf for c in (self.confirmed() if confirmed_only else self)]

    def code(self, *, confirmed_only: bool = False) -> str:
        """Source of all (or the confirmed) candidates, ready for the editor."""
        return "\n".join(c.code for c in (self.confirmed() if confirmed_only else self))

    def to_frame(self) -> pd.DataFrame:
        rows = []
        for c in self:
            row = {"rank": c.rank, "slice": c.name, "description": c.description, "n": c.n,
                   "error": c.error, "gap": c.gap, "score": c.score, "p_value": c.p_value}
            if self.confirmed_on is not None:
                k = c.confirmation
                assert k is not None  # confirmed_on: every candidate was confirmed
                row.update({"n_confirm": k.n, "error_confirm": k.error, "ci_low": k.ci_low,
                            "ci_high": k.ci_high, "gap_confirm": k.gap, "p_confirm": k.p_value,
                            "q_confirm": k.q_value, "flag": k.flag, "confirmed": k.confirmed})
            rows.append(row)
        cols = list(DISCOVERY_COLUMNS) + (list(CONFIRM_COLUMNS) if self.confirmed_on is not None
                                          else [])
        return pd.DataFrame(rows, columns=cols)

    def _caption(self) -> str:
        m = self._meta
        what = "error rate" if m.get("binary", True) else "mean loss"
        text = (f"{len(self)} candidate slices from {m['n']:,} rows ({what} "
                f"{m['overall_error']:.1%} overall), order ≤ {m['max_order']}, "
                f"support ≥ {m['min_support']:,}, ranked by {m['order_by']}; "
                f"{m['n_scored']:,} slices scored.")
        if self.confirmed_on is not None:
            text += (f" Confirmed on {m['n_confirm']:,} held-out rows ({what} "
                     f"{m['overall_error_confirm']:.1%}): {len(self.confirmed())} worse at "
                     f"q < {m['alpha']:g} (BH over the {len(self)} candidates).")
        else:
            text += (" Not confirmed: discovery p-values are optimistic (the slices were chosen"
                     " on these rows); pass confirm_on=(df, golds, preds) of held-out data.")
        return text

    def __repr__(self) -> str:
        frame = self.to_frame()
        if len(frame):
            frame = frame.drop(columns=["description"])
        return self._caption() + "\n" + frame.to_string(index=False, float_format="{:.3g}".format)

    def _repr_html_(self) -> str:
        conf = self.confirmed_on is not None
        esc, fmt = html.escape, format_value
        head1 = ('<tr><th></th><th class="sw-text"></th>'
                 '<th class="sw-group" colspan="4">discovery split</th>')
        head2 = ("<tr><th>#</th><th class='sw-text'>slice</th><th>n</th><th>error</th>"
                 "<th>gap</th><th>score</th>")
        if conf:
            head1 += '<th class="sw-group" colspan="5">confirmation split (held out)</th>'
            head2 += "<th>n</th><th>error</th><th>95% CI</th><th>q</th><th>flag</th>"
        body = []
        for c in self:
            cells = [str(c.rank), f'<td class="sw-text"><code>{esc(c.name)}</code><br>'
                     f"<small>{esc(c.description)}</small></td>",
                     fmt(c.n, "int"), fmt(c.error, "pct"), fmt(c.gap, "signed_pct"),
                     fmt(c.score, "num")]
            if conf:
                k = c.confirmation
                assert k is not None  # confirmed_on: every candidate was confirmed
                cells += [fmt(k.n, "int"), fmt(k.error, "pct"),
                          f"{fmt(k.ci_low, 'pct')} – {fmt(k.ci_high, 'pct')}",
                          fmt(k.q_value, "p"),
                          f'<span class="sw-flag sw-flag-{esc(k.flag)}" title="{esc(k.reason)}">'
                          f"{esc(k.flag)}</span>"]
            body.append("<tr>" + "".join(x if x.startswith("<td") else f"<td>{x}</td>"
                                         for x in cells) + "</tr>")
        return (f'<div class="sw-discovery"><style>{CSS}</style><table><caption>'
                f"{esc(self._caption())}</caption><thead>{head1}</tr>{head2}</tr></thead>"
                f"<tbody>{''.join(body)}</tbody></table></div>")
