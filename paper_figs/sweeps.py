"""What every topic's figures share: a figure's sweep, running it, and the ``build_f<k>`` builders.

A figure is a pure function of the tidy table of one registered experiment; its sweep names that
experiment, the full configs (registered defaults filled in) and the number of seeds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from sims.runner import get_experiment, run_sweep
from sims.sweep import SweepPlan

__all__ = ["SCALES", "Sweep", "builder", "check_scale", "make_sweep", "require", "run"]

SCALES = ("quick", "full")


#: What a figure runs: the plan of a sweep (experiment, full configs, seeds), as ``boundlab sweep`` runs it.
Sweep = SweepPlan


def check_scale(scale: str) -> None:
    """Raise unless ``scale`` is 'quick' or 'full'."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")


def make_sweep(topic: str, experiment: str, configs: Iterable[dict[str, Any]], seeds: int) -> Sweep:
    """A sweep of ``configs`` (overrides of the experiment's registered defaults) over ``seeds`` seeds."""
    exp = get_experiment(topic, experiment)
    return Sweep(topic, experiment, [exp.config(c) for c in configs], seeds)


def run(sweep: Sweep, *, base_seed: int = 0, jobs: int = 1,
        cache_dir: str | Path | None = None) -> pd.DataFrame:
    """Run a figure's sweep through :func:`sims.runner.run_sweep` (cached when ``cache_dir``)."""
    return run_sweep(get_experiment(sweep.topic, sweep.experiment), sweep.configs, seeds=sweep.seeds,
                     base_seed=base_seed, jobs=jobs, cache_dir=cache_dir)


def builder(sweep: Callable[[str], Sweep], draw: Callable[[pd.DataFrame], go.Figure]
            ) -> Callable[..., go.Figure]:
    """``build(scale, base_seed, jobs, cache_dir)``: run ``sweep(scale)`` and draw the table."""

    def build(scale: str = "quick", base_seed: int = 0, jobs: int = 1,
              cache_dir: str | Path | None = None) -> go.Figure:
        return draw(run(sweep(scale), base_seed=base_seed, jobs=jobs, cache_dir=cache_dir))

    build.__doc__ = f"Run {sweep.__name__} at ``scale`` and draw it with {draw.__name__}."
    return build


def require(df: pd.DataFrame, columns: Sequence[str], figure: str) -> None:
    """Raise naming the figure unless ``df`` is a non-empty DataFrame with ``columns``."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{figure}: df must be a pandas DataFrame, got {type(df).__name__}")
    if df.empty:
        raise ValueError(f"{figure}: the results table is empty")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{figure}: the results table lacks columns {missing}")
