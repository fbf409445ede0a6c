"""A self-contained HTML report of a ``verify`` run (plotly.js embedded: it opens offline)."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

__all__ = ["write_report"]


def _tightness_figure(table: pd.DataFrame) -> go.Figure:
    colors = ["#2ca02c" if v == "holds" else "#ff7f0e" if documented else "#d62728"
              for v, documented in zip(table["verdict"], table.get("expected", "holds") == "fails", strict=True)]
    fig = go.Figure(go.Bar(
        x=table["tightness"], y=table["claim"], orientation="h", marker_color=colors,
        customdata=table[["measured", "bound", "verdict"]].to_numpy(),
        hovertemplate="%{y}<br>measured %{customdata[0]:.4g} / bound %{customdata[1]:.4g}"
                      " = %{x:.3f}<br>%{customdata[2]}<extra></extra>"))
    fig.add_vline(x=1.0, line_dash="dash", line_color="black")
    fig.update_layout(title="Tightness of each claim (measured / bound; a bar past 1 fails; orange: a "
                            "documented failure)",
                      xaxis_title="measured / bound", height=120 + 28 * len(table),
                      margin={"l": 260}, yaxis={"autorange": "reversed"})
    return fig


def write_report(table: pd.DataFrame, path: str | Path, *, title: str, meta: dict) -> Path:
    """Write the verdict table and a tightness chart to one HTML file with plotly.js inline."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    chart = pio.to_html(_tightness_figure(table), include_plotlyjs=True, full_html=False)
    shown = table.drop(columns=["detail", "known_failure"], errors="ignore").copy()
    for col in ("bound", "measured", "tightness", "seconds"):
        shown[col] = shown[col].map(lambda x: f"{x:.4g}")
    table_html = shown.to_html(index=False, escape=True, border=0, classes="verdicts")
    details = "".join(f"<li><b>{html.escape(r.claim)}</b>: {html.escape(str(r.detail))}"
                      + (f"<br><i>documented failure</i>: {html.escape(r.known_failure)}"
                         if getattr(r, "known_failure", "") else "") + "</li>"
                      for r in table.itertuples())
    provenance = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
                         for k, v in meta.items())
    doc = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}}
table{{border-collapse:collapse}}td,th{{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}}
</style></head><body>
<h1>{html.escape(title)}</h1>
{table_html}
<h2>Tightness</h2>
{chart}
<h2>Details</h2><ul>{details}</ul>
<h2>Provenance</h2><table>{provenance}</table>
</body></html>"""
    path.write_text(doc, encoding="utf-8")
    return path
