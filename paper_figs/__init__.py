"""Paper figures: one pure function per figure (results table in, plotly figure out), per topic.

``paper_figs/<topic>.py`` holds the figure functions of a topic, the sweeps that feed them and a list
``FIGURES`` of :class:`FigureSpec`; :mod:`paper_figs.export` gathers them in the registry
``FIGURES[topic]`` and writes them to HTML (plotly.js embedded), PDF and PNG (kaleido with a system
Chromium) with :func:`paper_figs.export.write_figures`, which is what ``boundlab figures`` runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["FIGURES", "FigureSpec", "write_figures"]

#: ``build(scale, base_seed, jobs, cache_dir) -> go.Figure``: runs the figure's sweep and draws it.
BuildFn = Callable[[str, int, int, "str | Path | None"], "go.Figure"]


@dataclass(frozen=True)
class FigureSpec:
    """One paper figure: its file name (without extension), what it shows, and how to build it.

    Attributes
    ----------
    name
        File stem, ``<topic>_<figure id>_<what>``, e.g. ``"omd_F1_regret_vs_T"``.
    title
        One line saying what the figure shows.
    build
        ``build(scale, base_seed, jobs, cache_dir) -> go.Figure`` with ``scale`` in
        {"quick", "full"}: runs (or loads from ``cache_dir``) the sweep and returns the figure.
    """

    name: str
    title: str
    build: BuildFn


def __getattr__(name: str) -> Any:
    # Lazy, so that ``import paper_figs`` (and FigureSpec) stays free of plotly and the simulators.
    if name in ("FIGURES", "write_figures"):
        from paper_figs import export

        return getattr(export, name)
    raise AttributeError(f"module 'paper_figs' has no attribute {name!r}")
