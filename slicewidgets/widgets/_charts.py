"""Inline SVG charts of the widgets: the score table's bars and the training loss curve.

Drawn directly (no matplotlib): a few microseconds per element, so a chart follows every
refresh. Colours go through :func:`paint`: the theme's CSS variable, the hex value as the
fallback.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from slicewidgets.analysis.rendering import FLAG_COLORS, is_missing
from slicewidgets.widgets._util import escape

__all__ = ["THEME_VARS", "bar_chart_svg", "loss_curve_svg", "paint"]


#: the theme variable of each colour (JupyterLab light/dark; the hex value is the fallback)
THEME_VARS = {"#c62828": "--jp-error-color1", "#2e7d32": "--jp-success-color1",
              "#9e9e9e": "--jp-ui-font-color3", "#1a4d8f": "--jp-brand-color1",
              "#4a7fb5": "--jp-brand-color1",
              "#222": "--jp-ui-font-color1", "#333": "--jp-ui-font-color1",
              "#555": "--jp-ui-font-color2", "#ddd": "--jp-border-color2",
              "#999": "--jp-ui-font-color3"}


def paint(prop: str, color: str) -> str:
    """``fill='#c62828' style='fill:var(--jp-error-color1, #c62828)'``: the theme's colour,
    with the attribute as the fallback where CSS variables are unknown."""
    var = THEME_VARS.get(color)
    style = f" style='{prop}:var({var}, {color})'" if var else ""
    return f"{prop}='{color}'{style}"


def bar_chart_svg(items: list[tuple[str, float, float, float, str]], *, overall: float,
                  metric: str, width: int = 460) -> str:
    """Horizontal bars of ``(name, score, ci_low, ci_high, flag)`` with error bars and a
    dashed line at the overall score, as an inline SVG (scores in [0, 1]).

    Drawn directly (no matplotlib): a few microseconds per bar, so the chart follows every
    edit live.
    """
    bar_h, gap_h, label_w, top = 14, 4, 150, 18
    plot_w = width - label_w - 50
    height = top + len(items) * (bar_h + gap_h) + 6

    def x(v: float) -> float:
        return label_w + max(0.0, min(1.0, v)) * plot_w

    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
             f"viewBox='0 0 {width} {height}' class='sw-chart-svg' font-size='11' "
             f"font-family='sans-serif' {paint('fill', '#333')}>",
             f"<text x='{label_w}' y='12' {paint('fill', '#555')}>{escape(metric)} (bars: score, "
             "whiskers: interval)</text>"]
    for i, (name, score, lo, hi, flag) in enumerate(items):
        y = top + i * (bar_h + gap_h)
        label = name if len(name) <= 22 else name[:21] + "…"
        parts.append(f"<text x='{label_w - 4}' y='{y + bar_h - 3}' text-anchor='end'>"
                     f"<title>{escape(name)}</title>{escape(label)}</text>")
        if is_missing(score):
            continue
        color = FLAG_COLORS.get(flag, FLAG_COLORS["ok"])
        parts.append(f"<rect class='sw-bar' data-slice=\"{escape(name)}\" x='{label_w}' "
                     f"y='{y}' width='{x(score) - label_w:.1f}' height='{bar_h}' "
                     f"{paint('fill', color)}><title>{escape(name)}: {score:.3f}</title></rect>")
        if not (is_missing(lo) or is_missing(hi)):
            ym = y + bar_h / 2
            parts.append(f"<path class='sw-errorbar' d='M{x(lo):.1f},{ym} H{x(hi):.1f} "
                         f"M{x(lo):.1f},{y + 3} V{y + bar_h - 3} M{x(hi):.1f},{y + 3} "
                         f"V{y + bar_h - 3}' {paint('stroke', '#222')} fill='none'/>")
        parts.append(f"<text x='{x(score) + 3 if is_missing(hi) else x(hi) + 3:.1f}' "
                     f"y='{y + bar_h - 3}' {paint('fill', '#333')}>{score:.2f}</text>")
    if not is_missing(overall):
        parts.append(f"<line class='sw-overall-line' x1='{x(overall):.1f}' y1='{top - 2}' "
                     f"x2='{x(overall):.1f}' y2='{height - 4}' {paint('stroke', '#555')} "
                     "stroke-dasharray='3,2'><title>overall</title></line>")
    parts.append("</svg>")
    return "".join(parts)


def loss_curve_svg(losses: Sequence[float], *, n_per_epoch: int = 0, width: int = 320,
                   height: int = 140, max_points: int = 400) -> str:
    """The training loss after every batch as an inline SVG polyline (epoch ticks below)."""
    values = [v for v in losses if math.isfinite(v)]
    if not values:
        return ""
    step = max(1, math.ceil(len(values) / max_points))
    pts = values[::step]
    if pts[-1] is not values[-1]:
        pts.append(values[-1])
    lo, hi = min(pts), max(pts)
    span = hi - lo or 1.0
    left, top, w, h = 40, 14, width - 50, height - 32
    n = max(1, len(values) - 1)
    xs = [left + w * min(i * step, n) / n for i in range(len(pts))]
    xs[-1] = left + w * (len(values) - 1) / n
    coords = " ".join(f"{x:.1f},{top + h * (hi - v) / span:.1f}" for x, v in zip(xs, pts,
                                                                             strict=True))
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
             f"viewBox='0 0 {width} {height}' class='sw-loss-svg' font-size='10' "
             f"font-family='sans-serif' {paint('fill', '#333')}>",
             f"<text x='{left}' y='10' {paint('fill', '#555')}>training loss</text>",
             f"<text x='{left - 4}' y='{top + 4}' text-anchor='end'>{hi:.3g}</text>",
             f"<text x='{left - 4}' y='{top + h}' text-anchor='end'>{lo:.3g}</text>",
             f"<rect x='{left}' y='{top}' width='{w}' height='{h}' fill='none' "
             f"{paint('stroke', '#ddd')}/>"]
    if n_per_epoch and len(values) > n_per_epoch:
        for e in range(n_per_epoch, len(values), n_per_epoch):
            x = left + w * (e - 1) / n
            parts.append(f"<line x1='{x:.1f}' y1='{top + h}' x2='{x:.1f}' y2='{top + h + 4}' "
                         f"{paint('stroke', '#999')}/>")
    parts.append(f"<polyline class='sw-loss-line' points='{coords}' fill='none' "
                 f"{paint('stroke', '#4a7fb5')} stroke-width='1.5'/>")
    parts.append(f"<text x='{left + w}' y='{height - 4}' text-anchor='end' "
                 f"{paint('fill', '#555')}>"
                 f"{len(values)} batches</text></svg>")
    return "".join(parts)
