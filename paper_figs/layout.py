"""Layout helpers shared by the figures of every topic: subplot axis names, wrapped captions, finishing."""

from __future__ import annotations

import math
import re

import numpy as np
import plotly.graph_objects as go
from scipy import stats

__all__ = ["axis_ref", "finish", "fmt_power", "fmt_slope", "half_width", "log_ticks", "rgba", "wrap"]


def axis_ref(fig: go.Figure, row: int, col: int) -> tuple[str, str]:
    """The ("x2", "y2")-style axis names of subplot (row, col), for annotations and shapes."""
    sub = fig.get_subplot(row, col)
    return sub.xaxis.plotly_name.replace("axis", ""), sub.yaxis.plotly_name.replace("axis", "")


def wrap(text: str, width: int) -> str:
    """Insert <br> at spaces so that no line's visible text exceeds ``width`` characters."""
    out = []
    for para in text.split("<br>"):
        line, length = [], 0
        for word in para.split(" "):
            visible = len(re.sub(r"<[^>]+>", "", word)) + 1
            if line and length + visible > width:
                out.append(" ".join(line))
                line, length = [], 0
            line.append(word)
            length += visible
        out.append(" ".join(line))
    return "<br>".join(out)


def finish(fig: go.Figure, title: str, *, width: int, plot_height: int, caption: str,
            legend_rows: int = 1, top: int = 90) -> None:
    """Title, size, a horizontal legend under the axes and a wrapped caption at the bottom."""
    caption = wrap(caption, int(width / 6.4))
    caption_px = 15 * (caption.count("<br>") + 1) + 10
    legend_px = 22 * legend_rows + 8
    bottom = 64 + legend_px + caption_px
    height = plot_height + bottom + top
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left"}, template="plotly_white",
        width=width, height=height, margin={"t": top, "b": bottom, "l": 70, "r": 30},
        legend={"orientation": "h", "yref": "container", "y": (caption_px + 4) / height,
                "yanchor": "bottom", "x": 0.0, "xanchor": "left"},
        hoverlabel={"namelength": -1})
    fig.add_annotation(text=caption, xref="paper", yref="paper", x=0.0, y=0.0,
                       yshift=-bottom + 6, xanchor="left", yanchor="bottom", showarrow=False,
                       align="left", font={"size": 11, "color": "#555555"})


def log_ticks(values: np.ndarray) -> tuple[list[float], list[str]]:
    """Tick values 1-2-5 (or 1-3, or decades on wide ranges) spanning the positive ``values``."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return [], []
    lo, hi = float(v.min()), float(v.max())
    span = hi / lo
    mult = (1.0, 2.0, 5.0) if span <= 50 else (1.0, 3.0) if span <= 2000 else (1.0,)
    vals = [k * 10.0**e for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
            for k in mult]
    pad = 1.15
    vals = [x for x in vals if lo / pad <= x <= hi * pad]
    return vals, [f"{x:g}" for x in vals]


def rgba(color: str, alpha: float) -> str:
    """'#rrggbb' as 'rgba(r,g,b,alpha)' (for translucent confidence bands)."""
    c = color.lstrip("#")
    r, g, b = (int(c[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def fmt_slope(s: float) -> str:
    """A fitted slope with two decimals ('n/a' when not finite)."""
    if not math.isfinite(s):
        return "n/a"
    return "0.00" if abs(s) < 0.005 else f"{s:.2f}"


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def fmt_power(x: float, *, below: int = -2, above: int = 4) -> str:
    """A number in short form: an exact power of ten 10^e with e ≤ ``below`` or e ≥ ``above`` as 10ᵉ
    (1e-4 → 10⁻⁴), anything else as ``f"{x:g}"`` (0.5 → 0.5, 100 → 100)."""
    if x == 0:
        return "0"
    e = math.log10(abs(x))
    if abs(e - round(e)) < 1e-9 and (e <= below or e >= above):
        return "10" + str(round(e)).translate(_SUPERSCRIPT)
    return f"{x:g}"


def half_width(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """95% Student-t half-width of the mean along ``axis`` (0 with one value)."""
    v = np.asarray(values, float)
    n = v.shape[axis]
    if n < 2:
        return np.zeros(np.delete(v.shape, axis))
    return stats.t.ppf(0.975, n - 1) * np.std(v, axis=axis, ddof=1) / math.sqrt(n)
