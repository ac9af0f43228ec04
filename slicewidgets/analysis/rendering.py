"""Rendering of result tables: one place that turns rows into HTML and text.

:func:`render_html` and :func:`render_text` draw :class:`~slicewidgets.analysis.SliceReport`
and :class:`~slicewidgets.analysis.compare.ModelComparison`; the widgets' tables use the same
formatters (:func:`format_value`, :func:`is_missing`) and flag colours (:data:`FLAG_COLORS`).
The tables and their interval bars are written as HTML by hand (no templating, no plotting
library): a table of 50 slices renders in about a millisecond, so it can refresh live.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "FLAG_BACKGROUNDS",
    "FLAG_COLORS",
    "REPORT_DISPLAY",
    "SLICE_REPORT_CSS",
    "format_p",
    "flag_badge_css",
    "format_value",
    "is_missing",
    "render_html",
    "render_text",
]

#: The colour of each flag, in the HTML tables, the plots and the widgets' charts.
FLAG_COLORS = {"worse": "#c62828", "better": "#2e7d32", "no-evidence": "#9e9e9e",
               "ok": "#1a4d8f"}

#: The background of each flag's badge (its text is in :data:`FLAG_COLORS`).
FLAG_BACKGROUNDS = {"worse": "#fde0dc", "better": "#dcf3e0", "no-evidence": "#eeeeee",
                    "ok": "#e8f0fe"}


def flag_badge_css(selector: str) -> str:
    """CSS rules that colour a flag's badge, one per flag; ``{flag}`` in ``selector`` is
    replaced by the flag. The badges carry their own background, so they read the same in
    light and dark themes.

    Examples
    --------
    >>> print(flag_badge_css(".t .sw-flag-{flag}").splitlines()[0])
    .t .sw-flag-worse { background: #fde0dc; color: #c62828; }
    """
    rules = []
    for flag, color in FLAG_COLORS.items():
        look = "color: #666; font-style: italic;" if flag == "no-evidence" else f"color: {color};"
        rules.append(f"{selector.format(flag=flag)} {{ background: {FLAG_BACKGROUNDS[flag]}; "
                     f"{look} }}")
    return "\n".join(rules)


#: CSS for the HTML tables (scoped to ``.sw-report``); reuse it in widgets.
_WORSE, _BETTER, _OK = FLAG_COLORS["worse"], FLAG_COLORS["better"], FLAG_COLORS["ok"]
SLICE_REPORT_CSS = f"""
.sw-report table {{ border-collapse: collapse; font-size: 12px; font-family: var(--jp-ui-font-family, sans-serif); }}
.sw-report caption {{ caption-side: top; text-align: left; padding: 2px 0 6px; color: #444; }}
.sw-report th {{ text-align: right; padding: 2px 8px; border-bottom: 1px solid #999; font-weight: 600; }}
.sw-report th.sw-text, .sw-report td.sw-text {{ text-align: left; }}
.sw-report td {{ text-align: right; padding: 2px 8px; border-bottom: 1px solid #e4e4e4; font-variant-numeric: tabular-nums; white-space: nowrap; }}
.sw-report td.sw-reason {{ white-space: normal; max-width: 28em; color: #555; text-align: left; }}
.sw-report tr.sw-overall td {{ font-weight: 600; background: #f6f8fa; }}
.sw-report .sw-flag {{ display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 11px; }}
{flag_badge_css(".sw-report tr.sw-flag-{flag} td.sw-flagcell .sw-flag")}
.sw-report tr.sw-flag-worse td.sw-gap {{ color: {_WORSE}; }}
.sw-report tr.sw-flag-better td.sw-gap {{ color: {_BETTER}; }}
.sw-report tr.sw-flag-no-evidence td {{ color: #777; }}
.sw-report .sw-bar {{ position: relative; width: 120px; height: 10px; }}
.sw-report .sw-bar .sw-ci {{ position: absolute; top: 4px; height: 2px; background: #888; }}
.sw-report .sw-bar .sw-pt {{ position: absolute; top: 1px; width: 8px; height: 8px; margin-left: -4px; border-radius: 4px; background: #333; }}
.sw-report .sw-bar .sw-ref {{ position: absolute; top: 0; width: 1px; height: 10px; background: #c77; }}
.sw-report tr.sw-flag-worse .sw-pt {{ background: {_WORSE}; }}
.sw-report tr.sw-flag-better .sw-pt {{ background: {_BETTER}; }}
.sw-report tr.sw-flag-no-evidence .sw-pt {{ background: #aaa; }}
"""


# -- formatting --------------------------------------------------------------------------------
def is_missing(value: Any) -> bool:
    """``None`` or a NaN float: shown as a dash.

    Examples
    --------
    >>> is_missing(None), is_missing(float("nan")), is_missing(np.float32("nan")), is_missing(0.0)
    (True, True, True, False)
    """
    return value is None or (isinstance(value, (float, np.floating)) and bool(value != value))


def format_p(value: float | None) -> str:
    """A p- or q-value for display: three decimals, two significant digits below 0.01.

    Examples
    --------
    >>> format_p(0.0312), format_p(0.0042), format_p(1e-5), format_p(None)
    ('0.031', '0.0042', '<0.001', '–')
    """
    if value is None or value != value:
        return "–"
    if value < 0.001:
        return "<0.001"
    return f"{value:.3f}" if value >= 0.01 else f"{value:.2g}"


def format_value(value: Any, kind: str) -> str:
    """One cell's text; ``kind`` is a display kind (text, flag, reason, int, score, signed, p,
    pct, signed_pct, num).

    Examples
    --------
    >>> format_value(1234, "int"), format_value(0.5, "score"), format_value(0.25, "signed")
    ('1,234', '0.500', '+0.250')
    >>> format_value(0.1234, "pct"), format_value(-0.05, "signed_pct"), format_value(12.345, "num")
    ('12.3%', '-5.0%', '12.3')
    >>> format_value(float("nan"), "score"), format_value("n/a", "score")
    ('–', '–')
    """
    if kind in _TEXT_KINDS:
        return "" if value is None else str(value)
    if kind in _NUMBER_KINDS:  # one float() and one NaN check: tables format thousands of cells
        if value is None:
            return "–"
        try:
            number = float(value)
        except (TypeError, ValueError):  # not a number: nothing to show
            return "–"
        if number != number:
            return "–"
        if kind == "p":
            return format_p(number)
        return format(int(number) if kind == "int" else number, _NUMBER_FORMATS[kind])
    return "–" if is_missing(value) else str(value)


_TEXT_KINDS = frozenset(("text", "flag", "reason"))
#: The format spec of each numeric display kind (``p`` goes through :func:`format_p`).
_NUMBER_FORMATS = {"int": ",", "score": ".3f", "signed": "+.3f", "pct": ".1%", "signed_pct": "+.1%",
                   "num": ".3g"}
_NUMBER_KINDS = frozenset((*_NUMBER_FORMATS, "p"))


#: (column, header, kind) for the HTML and text tables of a SliceReport
REPORT_DISPLAY = (
    ("slice", "slice", "text"), ("n", "n", "int"), ("metric", "metric", "text"),
    ("score", "score", "score"), ("ci", "interval", "ci"), ("bar", "", "bar"),
    ("gap", "gap", "signed"), ("p_value", "p", "p"), ("q_value", "q", "p"),
    ("flag", "flag", "flag"), ("reason", "reason", "reason"),
)


def _as_columns(rows: pd.DataFrame | Mapping[str, Any]) -> dict[str, list]:
    if isinstance(rows, pd.DataFrame):
        return {str(c): rows[c].tolist() for c in rows.columns}
    return {str(c): (v.tolist() if isinstance(v, np.ndarray) else list(v))
            for c, v in rows.items()}


def render_html(
    rows: pd.DataFrame | Mapping[str, Any],
    columns: Sequence[tuple[str, str, str]] = REPORT_DISPLAY,
    *,
    caption: str = "",
    reference: Mapping[str, float] | None = None,
    bar_domain: tuple[float, float] | None = None,
    css: str = SLICE_REPORT_CSS,
    score_column: str = "score",
    reference_rows: Sequence[bool] | None = None,
) -> str:
    """An HTML table of report rows (every value escaped), with one CSS class per flag.

    Parameters
    ----------
    rows
        A DataFrame or a mapping of equal-length columns holding the columns named in
        ``columns`` (``ci`` reads ``ci_low``/``ci_high``; ``bar`` draws the interval, the
        point ``score_column`` and ``reference[metric]``; ``flag`` shows ``reason`` as a
        tooltip).
    columns
        ``(column, header, kind)``; kinds: text, int, score, signed, p, ci, bar, flag, reason.
    caption
        Plain text (escaped).
    reference
        Per-metric reference value drawn on the bars (the overall score).
    bar_domain
        The bars' axis range; default: [0, 1] widened to fit every interval.
    css
        Style sheet put in a ``<style>`` element (``""`` to leave it out).
    score_column
        The point estimate drawn on the bars.
    reference_rows
        Which rows are reference rows (bold); default: ``slice == "overall"``.

    Examples
    --------
    >>> html_text = render_html({"slice": ["a<b"], "n": [3], "metric": ["f1"], "score": [0.5],
    ...     "ci_low": [0.0], "ci_high": [1.0], "gap": [-0.4], "p_value": [0.05],
    ...     "q_value": [0.05], "flag": ["no-evidence"], "reason": ["too small"]}, css="")
    >>> "a&lt;b" in html_text and 'class="sw-flag-no-evidence"' in html_text
    True
    """
    esc = html.escape
    cols = _as_columns(rows)
    n_rows = len(next(iter(cols.values()))) if cols else 0
    if reference_rows is None:
        reference_rows = [s == "overall" for s in cols.get("slice", [""] * n_rows)]
    if bar_domain is None:
        ends = [v for key in ("ci_low", "ci_high") for v in cols.get(key, [])
                if not is_missing(v) and math.isfinite(v)]
        bar_domain = (min([0.0, *ends]), max([1.0, *ends]))
    lo, hi = bar_domain
    span = (hi - lo) or 1.0

    def pct(v: float) -> float:
        return 100.0 * (min(max(v, lo), hi) - lo) / span

    parts = ['<div class="sw-report">']
    if css:
        parts.append(f"<style>{css}</style>")
    parts.append("<table>")
    if caption:
        parts.append(f"<caption>{esc(caption)}</caption>")
    head = "".join(
        f'<th class="sw-text">{esc(h)}</th>' if kind in ("text", "flag", "reason")
        else f"<th>{esc(h)}</th>" for _, h, kind in columns
    )
    parts.append(f"<thead><tr>{head}</tr></thead><tbody>")
    empty = [None] * n_rows
    for r in range(n_rows):
        flag = str(cols.get("flag", empty)[r] or "ok")
        classes = f"sw-flag-{esc(flag)}" + (" sw-overall" if reference_rows[r] else "")
        cells = []
        for col, _, kind in columns:
            if kind == "ci":
                low, high = cols["ci_low"][r], cols["ci_high"][r]
                text = "–" if is_missing(low) or is_missing(high) else f"[{low:.3f}, {high:.3f}]"
                cells.append(f"<td>{esc(text)}</td>")
            elif kind == "bar":
                low, high = cols["ci_low"][r], cols["ci_high"][r]
                score = cols[score_column][r]
                inner = []
                ref = None if reference is None else reference.get(str(cols["metric"][r]))
                if ref is not None and not is_missing(ref) and math.isfinite(ref):
                    inner.append(f'<div class="sw-ref" style="left:{pct(ref):.1f}%"></div>')
                if not (is_missing(low) or is_missing(high)):
                    inner.append(f'<div class="sw-ci" style="left:{pct(low):.1f}%;'
                                 f'width:{max(pct(high) - pct(low), 0.5):.1f}%"></div>')
                if not is_missing(score):
                    inner.append(f'<div class="sw-pt" style="left:{pct(score):.1f}%"></div>')
                cells.append(f'<td><div class="sw-bar">{"".join(inner)}</div></td>')
            elif kind == "flag":
                reason = esc(format_value(cols.get("reason", empty)[r], "text"), quote=True)
                cells.append(f'<td class="sw-text sw-flagcell"><span class="sw-flag" '
                             f'title="{reason}">{esc(flag)}</span></td>')
            elif kind == "reason":
                cells.append(f'<td class="sw-reason">{esc(format_value(cols[col][r], "text"))}</td>')
            else:
                cls = ' class="sw-text"' if kind == "text" else (
                    ' class="sw-gap"' if col in ("gap", "delta") else "")
                cells.append(f"<td{cls}>{esc(format_value(cols[col][r], kind))}</td>")
        parts.append(f'<tr class="{classes}">{"".join(cells)}</tr>')
    parts.append("</tbody></table></div>")
    return "".join(parts)


def render_text(rows: pd.DataFrame | Mapping[str, Any],
                columns: Sequence[tuple[str, str, str]], header: str) -> str:
    """A plain-text table of the same rows (the ``__repr__`` fallback)."""
    cols = _as_columns(rows)
    n_rows = len(next(iter(cols.values()))) if cols else 0
    if not n_rows:
        return f"{header}\n(no rows)"
    shown: dict[str, list[str]] = {}
    for col, h, kind in columns:
        if kind == "bar":
            continue
        if kind == "ci":
            shown["interval"] = [
                "–" if is_missing(lo) or is_missing(hi) else f"[{lo:.3f}, {hi:.3f}]"
                for lo, hi in zip(cols["ci_low"], cols["ci_high"], strict=True)
            ]
        else:
            shown[h] = [format_value(v, kind) for v in cols[col]]
    width = {h: max(len(h), *(len(v) for v in values)) for h, values in shown.items()}
    lines = ["  ".join(h.ljust(width[h]) for h in shown)]
    for r in range(n_rows):
        lines.append("  ".join(shown[h][r].ljust(width[h]) for h in shown).rstrip())
    return header + "\n" + "\n".join(lines)

