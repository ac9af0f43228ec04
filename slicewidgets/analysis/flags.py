"""Flags: the verdict on each row of a result table, and the reason for it.

:func:`decide_flag` applies the rules documented in
:func:`~slicewidgets.analysis.report.slice_report` (``no-evidence``, ``worse``/``better``,
``ok``) to one row; :class:`~slicewidgets.analysis.SliceReport` and
:class:`~slicewidgets.analysis.compare.ModelComparison` both use it.
"""

from __future__ import annotations

import numpy as np

from slicewidgets.analysis.rendering import format_p

__all__ = ["FLAGS", "decide_flag"]

#: The values of the ``flag`` column.
FLAGS = ("worse", "better", "no-evidence", "ok")


def decide_flag(
    *, score: float, low: float, high: float, n_scored: int, unit: str, q: float, p: float,
    diff: float, is_reference: bool, undefined: str, untested: str, alpha: float, min_n: int,
    max_width: float, confidence: float, test: str, versus: str = "the rest",
) -> tuple[str, str]:
    """The flag and its reason for one row (the rules of :func:`slice_report`)."""
    if np.isnan(score):
        return "no-evidence", undefined or "score undefined"
    if n_scored < min_n:
        return "no-evidence", f"too small: {unit} = {n_scored} < min_n={min_n}"
    if np.isnan(low) or np.isnan(high):
        return "no-evidence", "interval undefined: no resample gave a defined score"
    width = high - low
    if width > max_width:
        return "no-evidence", (f"interval too wide: {confidence:.0%} interval spans "
                               f"{width:.2f} > max_width={max_width:g}")
    if is_reference:
        return "ok", "reference: all rows"
    if np.isnan(p) or np.isnan(q):
        if untested.startswith("nothing to compare"):
            return "ok", untested
        return "no-evidence", f"cannot test against {versus}: {untested or 'test undefined'}"
    if q < alpha and diff != 0:
        direction = "below" if diff < 0 else "above"
        return ("worse" if diff < 0 else "better"), (
            f"{direction} {versus} (q={format_p(q)} < alpha={alpha:g}, {test})"
        )
    return "ok", f"no significant difference from {versus} (q={format_p(q)} >= alpha={alpha:g})"

