r"""Figures F1–F5 of the matrix-completion topic (spec ``matrix_completion.md`` §5): robust AltMin.

**The paper has no experiments** (Gu, Song, Yin, Zhang, ICLR 2024 is purely theoretical): every figure
below is this toolkit's own design, and no curve reproduces a published one; the captions say so.

Every figure is a pure function of the tidy table of one registered experiment of topic
``matrix_completion`` (:mod:`sims.matrix_completion.experiments`: one row per config × seed × run, round,
method or solver), and every figure has a sweep builder ``f<k>_sweep(scale) -> Sweep`` and a
``build_f<k>(scale, base_seed, jobs, cache_dir)`` that runs the sweep (:func:`sims.runner.run_sweep`) and
draws it. Errors spanning decades (dist, relF, time) are drawn as geometric seed means (exp of the mean
of the logs) with a 95% Student-t band on that mean; success fractions carry 95% Wilson intervals.

- **F1** :func:`f1_phase` (experiment ``phase``): heatmaps of the success fraction (relF < 10⁻⁴ after
  T = 50 rounds of AltMin with cg(3)): (a) oversampling r = |Ω|/(k(m+n−k)) against k at m = n = 300,
  κ = 2; (b) the sampling rate p (log grid) against k, same instance family; (c) AltMin against
  nuclear-norm minimisation (cvxpy, SCS) on the same masks at m = n = 40; each with the line r = 1
  (degrees of freedom, MC8) and the 50% contour; (d) success against |Ω| with and without sample
  splitting (T = 10 rounds, 2T + 1 = 21 parts). The caption gives the fitted exponent of the empirical
  50% threshold |Ω|₅₀ in k beside MC1's k^4.5 (a loose, reconstructed sufficient condition).
- **F2** :func:`f2_convergence` (``convergence``): dist(U_t, U*) (log) against the round t on the default
  instance (m = 400, n = 500, k = 5, κ = 3, r = 8) for exact, cg(1), cg(2), cg(3), sketch_precond and
  inject(δ = 0.1, 0.5), with the fitted geometric lines (dashed) and q in the legend (MC2, MC3); a
  second panel draws relF.
- **F3** :func:`f3_runtime` (``runtime``): (a) per-round wall time against |Ω| (log-log) for exact,
  cg(3) and sketch_precond at r = 6, k ∈ {5, 20}; (b) per-round time against k at fixed |Ω|/(m+n),
  with the fitted slopes in k of the time and of the exact multiply-add counts (MC7: ≈ 2 for exact,
  ≈ 1 for cg; the sketch solver's slope is what it measures, its (m+n)sk² term grows like k²).
- **F4** :func:`f4_robustness` (``robustness``): (a) relF after t rounds against the injected relative
  error δ ∈ [10⁻³, 1]; (b) the plateau relF against the absolute error η (log-log) with a slope-1 line
  and the fitted slope (MC3); (c) dist(U_t, U*) against t for several δ.
- **F5a** :func:`f5_trimming` (``trimming``): μ(U_t) and dist(U_t, U*) with trimming by entries, by rows
  and none, at the true μ and at an underestimated μ = 1.
- **F5b** :func:`f5_spiky` (``spiky``): success fraction on the spiky instance against p next to the
  line p (MC8: no AltMin run can succeed when entry (1, 1) is unobserved), with the fraction of runs
  that observed (1, 1).

References
----------
Y. Gu, Z. Song, J. Yin, L. Zhang, ICLR 2024, arXiv:2302.11068 (main theorem; no experiments).
P. Jain, P. Netrapalli, S. Sanghavi, STOC 2013, arXiv:1212.0467 (Theorem 2, Algorithm 2).
E. Candès, B. Recht, arXiv:0805.4471 (nuclear norm; the coherent example).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots
from scipy import stats

import sims.matrix_completion.experiments as mcx
from paper_figs import FigureSpec
from paper_figs.layout import axis_ref, finish, fmt_power, half_width, log_ticks, rgba
from paper_figs.sweeps import Sweep, builder, check_scale, make_sweep, require, run
from sims.checks import fit_slope
from theory import matrix_completion as th

__all__ = [
    "EXPERIMENTS",
    "FIGURES",
    "SOLVER_LABELS",
    "Sweep",
    "build_f1",
    "build_f2",
    "build_f3",
    "build_f4",
    "build_f5a",
    "build_f5b",
    "f1_phase",
    "f1_sweep",
    "f2_convergence",
    "f2_sweep",
    "f3_runtime",
    "f3_sweep",
    "f4_robustness",
    "f4_sweep",
    "f5_spiky",
    "f5_trimming",
    "f5a_sweep",
    "f5b_sweep",
    "phase_panels",
    "run",
    "threshold_exponent",
    "wilson",
]


#: Numbers in labels: exact powers of ten as 10ᵉ (below=-3).
_fmt = partial(fmt_power, below=-3)

TOPIC = "matrix_completion"
#: The experiment (of topic ``matrix_completion``) behind each figure.
EXPERIMENTS: dict[str, str] = {"F1": "phase", "F2": "convergence", "F3": "runtime", "F4": "robustness",
                               "F5a": "trimming", "F5b": "spiky"}
NO_EXPERIMENTS = ("The paper has no experiments: this figure is the toolkit's own design, with no published "
                  "numbers to reproduce.")
SOLVERS: tuple[str, ...] = ("exact", "cg1", "cg2", "cg3", "sketch", "inject0.1", "inject0.5")
SOLVER_LABELS: dict[str, str] = {"exact": "exact", "cg1": "cg(1)", "cg2": "cg(2)", "cg3": "cg(3)",
                                 "sketch": "sketch_precond", "inject0.1": "inject(δ = 0.1)",
                                 "inject0.5": "inject(δ = 0.5)"}
COLORS: dict[str, str] = {"exact": "#000000", "cg1": "#ff7f0e", "cg2": "#2ca02c", "cg3": "#1f77b4",
                          "sketch": "#9467bd", "inject0.1": "#8c564b", "inject0.5": "#d62728"}
TRIM_COLORS: dict[str, str] = {"entries": "#1f77b4", "rows": "#2ca02c", "none": "#d62728"}
TRIM_LABELS: dict[str, str] = {"entries": "trim entries (JNS13 clipping)", "rows": "trim rows (rescale)",
                               "none": "no trimming"}
THEORY_COLOR = "#444444"
#: F1's grids (spec §5): oversampling r, rank k, sampling rate p, the m = n = 40 comparison.
F1_RATIOS: tuple[float, ...] = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)
F1_RANKS: tuple[int, ...] = (1, 2, 5, 10, 20)
F1_PS: tuple[float, ...] = (0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5)
F1_SMALL_RATIOS: tuple[float, ...] = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0)
F1_SMALL_RANKS: tuple[int, ...] = (1, 2, 3, 5)
F1_SPLIT_RATIOS: tuple[float, ...] = (4.0, 8.0, 16.0, 32.0, 64.0, 96.0, 128.0)
#: Sample splitting divides p by 2T+1: F1(d) runs T = 10 rounds (21 parts) so that split=True can succeed.
F1_SPLIT_T = 10
F4_DELTAS: tuple[float, ...] = (0.001, 0.003, 0.01, 0.03, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)
F4_ETAS: tuple[float, ...] = (1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2)
F5_PS: tuple[float, ...] = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
#: F5a's trimming levels: the true μ (None) and an underestimated μ = 1 (spec §7's pitfall).
F5_MUS: tuple[float | None, ...] = (None, 1.0)
_TINY = 1e-300
_SUP = str.maketrans("-0123456789.", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹·")


# ------------------------------------------------------------------------------------- sweeps
def _sweep(experiment: str, configs: Sequence[dict[str, Any]], seeds: int) -> Sweep:
    return make_sweep(TOPIC, experiment, configs, seeds)


def _feasible(ratio: float, m: int, n: int, k: int) -> bool:
    """r·k(m+n−k) ≤ mn: the sample fits in the matrix (p ≤ 1)."""
    return ratio * k * (m + n - k) <= m * n


def f1_sweep(scale: str = "quick") -> Sweep:
    """F1: the phase-transition grids of spec §5, every cell its own masks (AltMin with cg(3), T = 50).

    full (10 seeds per cell): (a) r ∈ {1, 1.5, 2, 2.5, 3, 4, 5, 6, 8} × k ∈ {1, 2, 5, 10, 20} at
    m = n = 300, κ = 2 (cells with p > 1 left out: r = 8 at k = 20); (b) p ∈ {0.005, …, 0.5} × the same k;
    (c) m = n = 40, r ∈ {1, …, 4} × k ∈ {1, 2, 3, 5}, AltMin and nuclear norm (SCS) on each mask;
    (d) m = n = 300, k = 1, T = 10, split ∈ {False, True} on each mask, r ∈ {4, …, 128}.
    quick (2 seeds): m = n = 60 for (a, b), k ∈ {1, 2, 5}; (c) k ∈ {2, 5}, r ∈ {1.5, 2.5, 4}; (d) four r (≤ 128).
    """
    check_scale(scale)
    full = scale == "full"
    size = 300 if full else 60
    ranks = F1_RANKS if full else (1, 2, 5)
    ratios = F1_RATIOS if full else (1.0, 2.0, 3.0, 5.0)
    ps = F1_PS if full else (0.05, 0.1, 0.2, 0.4)
    small_ranks = F1_SMALL_RANKS if full else (2, 5)
    small_ratios = F1_SMALL_RATIOS if full else (1.5, 2.5, 4.0)
    split_ratios = F1_SPLIT_RATIOS if full else (8.0, 32.0, 64.0, 128.0)
    base = {"kappa": 2.0, "spectrum": "linear", "basis": "gaussian", "solver": "cg3", "T": 50,
            "success_tol": mcx.SUCCESS_TOL, "methods": ["altmin"], "splits": [False]}
    configs: list[dict[str, Any]] = []
    configs += [{**base, "m": size, "n": size, "k": k, "ratio": r, "p": None}
                for k in ranks for r in ratios if _feasible(r, size, size, k)]
    configs += [{**base, "m": size, "n": size, "k": k, "ratio": None, "p": p} for k in ranks for p in ps]
    configs += [{**base, "m": 40, "n": 40, "k": k, "ratio": r, "p": None, "methods": ["altmin", "nuclear"],
                 "nuclear_solver": "SCS"} for k in small_ranks for r in small_ratios if _feasible(r, 40, 40, k)]
    split_size = 300
    configs += [{**base, "m": split_size, "n": split_size, "k": 1, "ratio": r, "p": None, "T": F1_SPLIT_T,
                 "splits": [False, True]} for r in split_ratios if _feasible(r, split_size, split_size, 1)]
    return _sweep(EXPERIMENTS["F1"], configs, 10 if full else 2)


def f2_sweep(scale: str = "quick") -> Sweep:
    """F2: the default instance (m = 400, n = 500, k = 5, κ = 3, r = 8, T = 40) with the seven solvers.

    Every solver runs on the same M and Ω within a seed. quick: 2 seeds; full: 10 seeds.
    """
    check_scale(scale)
    config = {"solvers": list(SOLVERS), "T": 40, "ratio": 8.0, "sketch": "gaussian", "s_factor": 4, "eps0": 1e-2}
    return _sweep(EXPERIMENTS["F2"], [config], 2 if scale == "quick" else 10)


def f3_sweep(scale: str = "quick") -> Sweep:
    """F3: (a) m = n from 10³ to 10⁵ at r = 6, k ∈ {5, 20}; (b) k ∈ {2, …, 64} at |Ω|/(m+n) = 400, m = n = 3000.

    Timed rounds start from the spectral initialisation, numba compiled beforehand. full: 3 seeds, 3
    rounds; quick: m = n ∈ {500, …, 4000} at k = 5 and k ∈ {2, 4, 8, 16} at m = n = 1000,
    |Ω|/(m+n) = 100, 2 seeds, 2 rounds.
    """
    check_scale(scale)
    solvers = ["exact", "cg3", "sketch"]
    if scale == "full":
        sizes, ranks, seeds, rounds = (1000, 3000, 10_000, 30_000, 100_000), (5, 20), 3, 3
        k_size, per_line, k_grid = 3000, 400.0, (2, 4, 8, 16, 32, 64)
    else:
        sizes, ranks, seeds, rounds = (500, 1000, 2000, 4000), (5,), 2, 2
        k_size, per_line, k_grid = 1000, 100.0, (2, 4, 8, 16)
    base = {"kappa": 2.0, "solvers": solvers, "rounds": rounds, "sketch": "countsketch", "s_factor": 4,
            "eps0": 1e-2}
    configs = [{**base, "m": s, "n": s, "k": k, "ratio": 6.0, "per_line": None} for k in ranks for s in sizes]
    configs += [{**base, "m": k_size, "n": k_size, "k": k, "ratio": None, "per_line": per_line} for k in k_grid]
    return _sweep(EXPERIMENTS["F3"], configs, seeds)


def f4_sweep(scale: str = "quick") -> Sweep:
    """F4: inject(δ, 0) over δ ∈ [10⁻³, 1] and inject(0, η) over η ∈ [10⁻¹², 10⁻²], every round recorded.

    Default instance (m = 400, n = 500, k = 5, κ = 3, r = 8), T = 60, plateau = geometric mean of the last
    10 rounds; every δ and η of a seed on the same M and Ω. quick: T = 40, 5 δ, 4 η, 2 seeds; full: 10 seeds.
    """
    check_scale(scale)
    if scale == "full":
        T, deltas, etas, seeds = 60, F4_DELTAS, F4_ETAS, 10
    else:
        T, deltas, etas, seeds = 40, (0.001, 0.1, 0.5, 0.7, 1.0), (1e-10, 1e-7, 1e-4, 1e-2), 2
    base = {"ratio": 8.0, "T": T, "tail": 10, "record": "rounds"}
    configs = [{**base, "mode": "delta", "values": list(deltas)}, {**base, "mode": "eta", "values": list(etas)}]
    return _sweep(EXPERIMENTS["F4"], configs, seeds)


def f5a_sweep(scale: str = "quick") -> Sweep:
    """F5a: trimming by entries, rows, none at the true μ and at μ = 1 (m = 400, n = 500, k = 5, r = 3, T = 30).

    quick: 2 seeds; full: 10 seeds. Every rule of a seed sees the same M and Ω.
    """
    check_scale(scale)
    configs = [{"trims": ["entries", "rows", "none"], "mu": mu, "ratio": 3.0, "T": 30} for mu in F5_MUS]
    return _sweep(EXPERIMENTS["F5a"], configs, 2 if scale == "quick" else 10)


def f5b_sweep(scale: str = "quick") -> Sweep:
    """F5b: the spiky instance (m = 60, n = 80, k = 3, σ_spike = 1) over p; quick 5 p × 20 seeds, full 10 × 200."""
    check_scale(scale)
    ps, seeds = (F5_PS, 200) if scale == "full" else ((0.1, 0.3, 0.5, 0.7, 0.9), 20)
    return _sweep(EXPERIMENTS["F5b"], [{"p": p} for p in ps], seeds)


# ------------------------------------------------------------------------------------- helpers
def wilson(successes: np.ndarray | float, n: np.ndarray | float, z: float = 1.959964) -> tuple[Any, Any]:
    """95% Wilson score interval (lo, hi) of a binomial proportion successes/n (n ≥ 1)."""
    s, n = np.asarray(successes, float), np.asarray(n, float)
    if np.any(n < 1) or np.any(s < 0) or np.any(s > n):
        raise ValueError("wilson needs 0 ≤ successes ≤ n and n ≥ 1")
    phat = s / n
    den = 1 + z * z / n
    centre = (phat + z * z / (2 * n)) / den
    half = z * np.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / den
    # exact at the ends (0/n and n/n), where the two terms cancel up to rounding
    lo = np.where(s == 0, 0.0, np.clip(centre - half, 0, 1))
    hi = np.where(s == n, 1.0, np.clip(centre + half, 0, 1))
    return lo, hi


def _geo(values: np.ndarray) -> tuple[float, float, float]:
    """Geometric mean of positive values with its 95% Student-t interval (on the logs)."""
    logs = np.log(np.maximum(np.asarray(values, float), _TINY))
    m, h = float(logs.mean()), float(half_width(logs))
    return math.exp(m), math.exp(m - h), math.exp(m + h)


def _seed_curve(sub: pd.DataFrame, value: str) -> pd.DataFrame:
    """Geometric seed mean of ``value`` per round with its 95% band, up to the earliest last round of the seeds."""
    runs = [g.sort_values("round") for _, g in sub.groupby("seed", sort=True)] if "seed" in sub else [sub]
    for g in runs:
        if g["round"].duplicated().any():
            raise ValueError("a run has two rows for one round: the rows mix configs or solvers")
    end = min(int(g["round"].max()) for g in runs)
    grid = np.arange(end + 1, dtype=float)
    logs = np.vstack([np.interp(grid, g["round"].to_numpy(float),
                                np.log(np.maximum(g[value].to_numpy(float), _TINY))) for g in runs])
    m, h = logs.mean(axis=0), half_width(logs)
    return pd.DataFrame({"round": grid, "mean": np.exp(m), "lo": np.exp(m - h), "hi": np.exp(m + h),
                         "n": len(runs)})


def _hex(color: str) -> str:
    """'rgb(r, g, b)' (plotly's sampled colours) as '#rrggbb'."""
    if color.startswith("#"):
        return color
    r, g, b = (round(float(v)) for v in color[color.index("(") + 1: color.index(")")].split(",")[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _band(fig: go.Figure, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, color: str, group: str, row: int,
          col: int) -> None:
    x, lo, hi = (np.asarray(a, float) for a in (x, lo, hi))
    if not np.any(hi > lo * (1 + 1e-12)):
        return
    fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate([hi, lo[::-1]]), mode="lines",
                             fill="toself", fillcolor=rgba(color, 0.08), line={"width": 0}, hoverinfo="skip",
                             showlegend=False, legendgroup=group, name="95% CI"), row=row, col=col)


def _curve(fig: go.Figure, s: pd.DataFrame, *, name: str, color: str, group: str, row: int, col: int,
           showlegend: bool, dash: str = "solid") -> None:
    """A geometric-seed-mean curve against the round, with its 95% band."""
    _band(fig, s["round"], s["lo"], s["hi"], color, group, row, col)
    fig.add_trace(go.Scatter(
        x=s["round"], y=s["mean"], mode="lines", name=name, legendgroup=group, showlegend=showlegend,
        line={"color": color, "width": 1.8, "dash": dash}, customdata=np.column_stack([s["lo"], s["hi"], s["n"]]),
        hovertemplate=(f"{name}<br>round %{{x:.0f}}<br>geometric mean %{{y:.3g}}, 95% [%{{customdata[0]:.2g}}, "
                       "%{customdata[1]:.2g}] (%{customdata[2]} seeds)<extra></extra>")), row=row, col=col)


def _log_axis(fig: go.Figure, values: Sequence[np.ndarray], *, axis: str = "y", row: int, col: int,
              title: str | None = None) -> None:
    """A log axis with 1-2-5 or decade ticks up to 12 decades over the positive ``values``, powers of ten beyond."""
    v = np.concatenate([np.ravel(np.asarray(a, float)) for a in values]) if len(values) else np.array([])
    v = v[np.isfinite(v) & (v > 0)]
    kw: dict[str, Any] = {"type": "log", "row": row, "col": col}
    if title is not None:
        kw["title_text"] = title
    if v.size:
        decades = math.log10(v.max() / v.min()) if v.max() > v.min() else 0.0
        if decades <= 12:
            ticks = log_ticks(v)
            kw.update(tickvals=ticks[0], ticktext=ticks[1])
        else:
            kw.update(dtick=math.ceil(decades / 8), exponentformat="power")
        kw["range"] = [math.log10(v.min()) - 0.15, math.log10(v.max()) + 0.15]
    (fig.update_yaxes if axis == "y" else fig.update_xaxes)(**kw)


def _seeds(df: pd.DataFrame) -> str:
    k = int(df["seed"].nunique()) if "seed" in df else 1
    return f"{k} seed" + ("s" if k != 1 else "")


def _items(value: Any) -> list:
    """A config cell that holds a list (JSON text in the runner's tables) as a list."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return [value]
    if isinstance(value, list | tuple | np.ndarray):
        return list(value)
    return [value]


# ------------------------------------------------------------------------------------- F1
def phase_panels(df: pd.DataFrame) -> pd.Series:
    """F1's panel of every row of a ``phase`` table: 'c' (nuclear norm in ``methods``), 'd' (split=True in
    ``splits``), 'b' (the config gives ``p``), else 'a' (the config gives the ratio r)."""
    require(df, ["methods", "splits", "p", "ratio"], "F1")
    nuclear = df["methods"].map(lambda v: "nuclear" in _items(v))
    split = df["splits"].map(lambda v: True in _items(v))
    by_p = df["p"].notna()
    return pd.Series(np.where(nuclear, "c", np.where(split, "d", np.where(by_p, "b", "a"))), index=df.index)


def _success_grid(rows: pd.DataFrame, y: str) -> pd.DataFrame:
    """Success fraction, count and Wilson interval per (k, y)."""
    g = rows.groupby(["k", y], sort=True)["success"].agg(["sum", "count"]).reset_index()
    g["frac"] = g["sum"] / g["count"]
    g["lo"], g["hi"] = wilson(g["sum"].to_numpy(), g["count"].to_numpy())
    return g


def threshold_exponent(grid: pd.DataFrame, m: int, n: int) -> tuple[pd.DataFrame, float]:
    """The empirical 50% threshold r₅₀ per k (panel a's grid), |Ω|₅₀ = r₅₀·k(m+n−k), and its fitted k exponent.

    r₅₀ is the r where the success fraction first reaches ½, interpolated linearly from the grid point below
    (the smallest r of the grid when that already succeeds half the time); a k whose fraction never
    reaches ½ has no threshold. The exponent is the log-log slope of |Ω|₅₀ against k (NaN with fewer than two k).
    """
    out = []
    for k, g in grid.groupby("k", sort=True):
        r, f = g["ratio"].to_numpy(float), g["frac"].to_numpy(float)
        hit = np.flatnonzero(f >= 0.5)
        if not hit.size:
            continue
        i = int(hit[0])
        r50 = r[i] if i == 0 else r[i - 1] + (0.5 - f[i - 1]) * (r[i] - r[i - 1]) / (f[i] - f[i - 1])
        out.append({"k": int(k), "r50": float(r50), "omega50": float(r50 * th.degrees_of_freedom(m, n, k))})
    t = pd.DataFrame(out, columns=["k", "r50", "omega50"])
    slope = fit_slope(t["k"], t["omega50"]) if len(t) >= 2 else math.nan
    return t, slope


def _heat(fig: go.Figure, grid: pd.DataFrame, ks: list[int], y: str, ys: np.ndarray, *, row: int, col: int,
          ylab: str, fmt_y: Any, showscale: bool) -> None:
    """A success-fraction heatmap on (k index, y) with the 50% contour; blank where the grid has no cell."""
    z = np.full((len(ys), len(ks)), np.nan)
    text = np.full(z.shape, "", dtype=object)
    for _, c in grid.iterrows():
        i, j = int(np.flatnonzero(np.isclose(ys, c["_y"]))[0]), ks.index(int(c["k"]))
        z[i, j] = c["frac"]
        text[i, j] = (f"k = {int(c['k'])}, {ylab} = {fmt_y(c[y])}<br>success {int(c['sum'])}/{int(c['count'])} = "
                      f"{c['frac']:.2f}, 95% Wilson [{c['lo']:.2f}, {c['hi']:.2f}]")
    xs = np.arange(len(ks), dtype=float)
    fig.add_trace(go.Heatmap(x=xs, y=ys, z=z, zmin=0, zmax=1, colorscale="Viridis", text=text,
                             hovertemplate="%{text}<extra></extra>", showscale=showscale,
                             colorbar={"title": {"text": "success"}, "len": 0.45, "y": 0.8}), row=row, col=col)
    if np.nanmin(z, initial=1.0) < 0.5 < np.nanmax(z, initial=0.0) and min(z.shape) >= 2:
        fig.add_trace(go.Contour(x=xs, y=ys, z=z, contours={"start": 0.5, "end": 0.5, "size": 1, "coloring": "none"},
                                 line={"color": "#ff4444", "width": 2.5, "dash": "dash"}, showscale=False,
                                 name="50% success contour", legendgroup="c50", showlegend=False,
                                 hoverinfo="skip"), row=row, col=col)
    fig.update_xaxes(tickvals=list(xs), ticktext=[str(k) for k in ks], title_text="rank k", range=[-0.5, len(ks) - 0.5],
                     row=row, col=col)


def f1_phase(df: pd.DataFrame) -> go.Figure:
    """F1: phase transition of AltMin (and nuclear norm), heatmaps of the success fraction.

    Parameters
    ----------
    df
        Table of experiment ``matrix_completion phase`` with columns m, n, k, ratio, p, methods, splits, T,
        seed, method, split, success, nnz (the panels are read off the configs, :func:`phase_panels`).

    Returns
    -------
    go.Figure
        (a) r × k and (b) p × k heatmaps of AltMin's success fraction with the r = 1 line and the 50%
        contour; (c) AltMin and nuclear norm on the same masks at m = n = 40; (d) success fraction against
        |Ω| with split=False and split=True (Wilson 95% bars). Panels without rows are left empty.
    """
    require(df, ["m", "n", "k", "ratio", "p", "methods", "splits", "T", "seed", "method", "split", "success", "nnz"],
            "F1")
    panel = phase_panels(df)
    fig = make_subplots(rows=3, cols=2, vertical_spacing=0.11, horizontal_spacing=0.09,
                        specs=[[{}, {}], [{}, {}], [{"colspan": 2}, None]],
                        subplot_titles=["(a) oversampling r = |Ω|/(k(m+n−k)) × rank", "(b) sampling rate p × rank",
                                        "(c) AltMin, m = n = 40", "(c) nuclear norm (cvxpy, SCS), same masks",
                                        "(d) sample splitting: success against |Ω|"])
    notes = []
    line = {"color": "#ffffff", "width": 2, "dash": "dot"}
    r1_shown = False

    def r_line(row: int, col: int, n_k: int) -> None:
        nonlocal r1_shown
        fig.add_trace(go.Scatter(x=[-0.5, n_k - 0.5], y=[1.0, 1.0], mode="lines", line=line, legendgroup="r1",
                                 name="r = 1: |Ω| = k(m+n−k), the degrees of freedom (MC8: no method below)",
                                 showlegend=not r1_shown, hoverinfo="skip"), row=row, col=col)
        r1_shown = True

    # (a) r × k
    a = df[(panel == "a") & (df["method"] == "altmin")]
    if not a.empty:
        _one_size(a, "F1(a)")
        grid = _success_grid(a, "ratio")
        grid["_y"] = grid["ratio"]
        ks = sorted(int(k) for k in set(grid["k"]))
        ys = np.array(sorted(set(grid["ratio"])), float)
        _heat(fig, grid, ks, "ratio", ys, row=1, col=1, ylab="r", fmt_y=lambda v: f"{v:g}", showscale=True)
        r_line(1, 1, len(ks))
        fig.update_yaxes(title_text="oversampling r", tickvals=list(ys), ticktext=[f"{v:g}" for v in ys], row=1, col=1)
        m, n = int(a["m"].iloc[0]), int(a["n"].iloc[0])
        thr, slope = threshold_exponent(grid, m, n)
        exps = th.mc1_exponents()
        thr_txt = ", ".join(f"k = {int(t.k)}: r₅₀ = {t.r50:.2g}" for t in thr.itertuples()) or "none reached 50%"
        notes.append(f"(a) m = n = {m}, κ = {a['kappa'].iloc[0]:g}, {_seeds(a)} per cell; empirical 50% thresholds "
                     f"{thr_txt}; fitted exponent of |Ω|₅₀ in k: {slope:.2f} (MC1's sufficient |Ω| grows like "
                     f"k^{exps['k']:g}, a loose and reconstructed bound: never asserted)")
    # (b) p × k
    b = df[(panel == "b") & (df["method"] == "altmin")]
    if not b.empty:
        _one_size(b, "F1(b)")
        grid = _success_grid(b, "p")
        grid["_y"] = np.log10(grid["p"].to_numpy(float))
        ks = sorted(int(k) for k in set(grid["k"]))
        ps = np.array(sorted(set(grid["p"])), float)
        _heat(fig, grid, ks, "p", np.log10(ps), row=1, col=2, ylab="p", fmt_y=lambda v: f"{v:g}", showscale=False)
        m, n = int(b["m"].iloc[0]), int(b["n"].iloc[0])
        p1 = np.array([th.probability_for_ratio(1.0, m, n, k) for k in ks], float)
        fig.add_trace(go.Scatter(x=np.arange(len(ks), dtype=float), y=np.log10(p1), mode="lines+markers", line=line,
                                 marker={"size": 5, "color": "#ffffff"}, legendgroup="r1", showlegend=not r1_shown,
                                 name="r = 1: |Ω| = k(m+n−k), the degrees of freedom (MC8: no method below)",
                                 customdata=p1, hovertemplate="r = 1 at p = %{customdata:.3g}<extra></extra>"),
                      row=1, col=2)
        r1_shown = True
        fig.update_yaxes(title_text="sampling rate p", tickvals=list(np.log10(ps)), ticktext=[f"{v:g}" for v in ps],
                         row=1, col=2)
        notes.append(f"(b) the same family, {_seeds(b)} per cell")
    # (c) AltMin vs nuclear norm on the same masks
    c = df[panel == "c"]
    if not c.empty:
        _one_size(c, "F1(c)")
        ks = sorted(int(k) for k in set(c["k"]))
        ys = np.array(sorted(set(c["ratio"])), float)
        fracs = {}
        for col, method in ((1, "altmin"), (2, "nuclear")):
            rows = c[c["method"] == method]
            if rows.empty:
                continue
            grid = _success_grid(rows, "ratio")
            grid["_y"] = grid["ratio"]
            fracs[method] = float(rows["success"].mean())
            _heat(fig, grid, ks, "ratio", ys, row=2, col=col, ylab="r", fmt_y=lambda v: f"{v:g}", showscale=False)
            r_line(2, col, len(ks))
            fig.update_yaxes(title_text="oversampling r" if col == 1 else None, tickvals=list(ys),
                             ticktext=[f"{v:g}" for v in ys], row=2, col=col)
        both = c.pivot_table(index=["k", "ratio", "seed"], columns="method", values="success", aggfunc="first")
        extra = ""
        if {"altmin", "nuclear"} <= set(both.columns):
            only_nn = int((both["nuclear"].astype(bool) & ~both["altmin"].astype(bool)).sum())
            only_am = int((both["altmin"].astype(bool) & ~both["nuclear"].astype(bool)).sum())
            extra = (f"; on the same mask AltMin alone succeeded {only_am} times, nuclear norm alone {only_nn} "
                     f"times (of {len(both)} masks)")
        notes.append(f"(c) m = n = {int(c['m'].iloc[0])}, {_seeds(c)} per cell; overall success AltMin "
                     f"{fracs.get('altmin', math.nan):.2f}, nuclear norm {fracs.get('nuclear', math.nan):.2f}{extra}; "
                     "SCS solves to ≈ 10⁻⁵ relative accuracy, so a recovered nuclear-norm solution sits near, "
                     "but under, the 10⁻⁴ success threshold")
    # (d) split vs no split
    d = df[(panel == "d") & (df["method"] == "altmin")]
    if not d.empty:
        T = int(d["T"].iloc[0])
        first_half: dict[bool, float] = {}
        for split, color, dash in ((False, "#1f77b4", "solid"), (True, "#d62728", "dash")):
            rows = d[d["split"].astype(bool) == split]
            if rows.empty:
                continue
            g = rows.groupby("ratio", sort=True).agg(succ=("success", "sum"), cnt=("success", "count"),
                                                     nnz=("nnz", "mean")).reset_index()
            lo, hi = wilson(g["succ"].to_numpy(), g["cnt"].to_numpy())
            frac = g["succ"] / g["cnt"]
            reach = g["nnz"][frac >= 0.5]
            first_half[split] = float(reach.iloc[0]) if len(reach) else math.nan
            name = (f"split = True: 2T + 1 = {2 * T + 1} parts, p′ = p̂/{2 * T + 1} (theory mode)" if split
                    else "split = False: every round uses all of Ω (practical default)")
            fig.add_trace(go.Scatter(
                x=g["nnz"], y=frac, mode="lines+markers", name=name, line={"color": color, "dash": dash},
                error_y={"type": "data", "symmetric": False, "array": hi - frac, "arrayminus": frac - lo},
                customdata=np.column_stack([g["ratio"], g["succ"], g["cnt"]]),
                hovertemplate=("r = %{customdata[0]:g}, |Ω| ≈ %{x:.3g}<br>success %{customdata[1]:.0f}/"
                               "%{customdata[2]:.0f}<extra></extra>")), row=3, col=1)
        _log_axis(fig, [d["nnz"].to_numpy(float)], axis="x", row=3, col=1, title="|Ω| (seed mean)")
        fig.update_yaxes(title_text="success fraction", range=[-0.05, 1.05], row=3, col=1)
        seen = {mode: (f"|Ω| ≈ {_fmt(round(v, -1))}" if math.isfinite(v) else "never on the grid")
                for mode, v in first_half.items()}
        notes.append(f"(d) m = n = {int(d['m'].iloc[0])}, k = {int(d['k'].iloc[0])}, T = {T} rounds for both modes, "
                     f"{_seeds(d)} per point; first ≥ 50% success: split=False at {seen.get(False, 'no rows')}, "
                     f"split=True at {seen.get(True, 'no rows')} (splitting leaves each round 1/{2 * T + 1} of Ω)")
    if not (panel.isin(["a", "b", "c", "d"])).any():
        raise ValueError("F1: the table has no rows of any panel")
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name="50% success contour",
                             line={"color": "#ff4444", "width": 2.5, "dash": "dash"}, legendgroup="c50"), row=1, col=1)
    tol = _fmt(float(df["success_tol"].iloc[0])) if "success_tol" in df else "10⁻⁴"
    finish(fig, "F1 · phase transition of AltMin: success fraction against sampling and rank", width=1100,
           plot_height=1050, legend_rows=2,
           caption=(f"{NO_EXPERIMENTS} Success: relF = ‖X − M‖_F/‖M‖_F < {tol} after T rounds of AltMin with "
                    "cg(3), spectral start trimmed at the true μ, no splitting unless stated; Gaussian incoherent "
                    "M with a linear spectrum from κ to 1; every cell draws its own M and Ω. Blank cells: "
                    "r·k(m+n−k) > mn (more entries than the matrix has). Colour: fraction of seeds; hover: the "
                    "95% Wilson interval. " + "; ".join(notes) + "."))
    return fig


def _one_size(rows: pd.DataFrame, figure: str) -> None:
    sizes = rows[["m", "n"]].drop_duplicates()
    if len(sizes) != 1:
        raise ValueError(f"{figure}: the rows mix matrix sizes {sizes.to_dict('records')}; draw one")


# ------------------------------------------------------------------------------------- F2
def _fit_line(s: pd.DataFrame, q: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The line C·q^t through the mean curve on the rounds t ≥ 1 before it first falls below the fit floor."""
    d = s["mean"].to_numpy(float)[1:]
    t = s["round"].to_numpy(float)[1:]
    below = np.flatnonzero(~(d > mcx.FIT_FLOOR))
    stop = below[0] if below.size else d.size
    if stop < 2 or not (math.isfinite(q) and q > 0):
        return None
    t, d = t[:stop], d[:stop]
    c = float(np.mean(np.log(d) - t * math.log(q)))
    return t, np.exp(c + t * math.log(q))


def f2_convergence(df: pd.DataFrame) -> go.Figure:
    """F2: geometric convergence of dist(U_t, U*) and relF for exact and inexact row solvers.

    Parameters
    ----------
    df
        Table of experiment ``matrix_completion convergence`` with columns solver, seed, round, dist_U, relF,
        q, status, m, n, k, ratio, mu_star.

    Returns
    -------
    go.Figure
        Left: geometric seed mean of dist(U_t, U*) (log y) per solver with its 95% band and a dashed
        line C·q^t at the geometric seed mean of the runs' fitted factor q (in the legend, fitted on the
        rounds before dist falls below 10⁻¹¹). Right: relF.
    """
    require(df, ["solver", "seed", "round", "dist_U", "relF", "q", "status", "m", "n", "k", "ratio"], "F2")
    keys = [c for c in ("m", "n", "k", "kappa", "ratio") if c in df]
    if len(df[keys].drop_duplicates()) != 1:
        raise ValueError("F2: the table mixes instances; draw one config")
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08,
                        subplot_titles=["(a) subspace distance dist(U<sub>t</sub>, U*) = "
                                        "‖(I − U<sub>t</sub>U<sub>t</sub>ᵀ)U*‖₂",
                                        "(b) relative error relF = ‖X<sub>t</sub> − M‖<sub>F</sub>/‖M‖<sub>F</sub>"])
    present = [s for s in SOLVERS if s in set(df["solver"])] + sorted(set(df["solver"]) - set(SOLVERS))
    vals_a, vals_b, notes = [], [], []
    for name in present:
        sub = df[df["solver"] == name]
        color = COLORS.get(name, "#7f7f7f")
        label = SOLVER_LABELS.get(name, name)
        qs = sub.groupby("seed")["q"].first().to_numpy(float)
        qs = qs[np.isfinite(qs) & (qs > 0)]
        q, qlo, qhi = _geo(qs) if qs.size else (math.nan, math.nan, math.nan)
        s = _seed_curve(sub, "dist_U")
        vals_a.append(s["mean"].to_numpy())
        _curve(fig, s, name=f"{label}: q = {q:.3f}", color=color, group=name, row=1, col=1, showlegend=True)
        if name == "exact":  # drawn first and wide: the solvers that track it lie on top of it
            fig.data[-1].line.width = 4
        line = _fit_line(s, q)
        if line is not None:
            fig.add_trace(go.Scatter(x=line[0], y=line[1], mode="lines", line={"color": color, "dash": "dash",
                                                                                 "width": 1.1},
                                     name=f"{label}: fit C·q<sup>t</sup>", legendgroup=name, showlegend=False,
                                     hovertemplate=f"{label} fit, q = {q:.4f}<br>round %{{x:.0f}}: %{{y:.3g}}"
                                                   "<extra></extra>"), row=1, col=1)
        r = _seed_curve(sub, "relF")
        vals_b.append(r["mean"].to_numpy())
        _curve(fig, r, name=label, color=color, group=name, row=1, col=2, showlegend=False)
        status = sub.groupby("seed")["status"].last()
        final = _geo(sub.groupby("seed")["relF"].last().to_numpy(float))[0]
        notes.append(f"{label} q = {q:.3f} [{qlo:.3f}, {qhi:.3f}], final relF {final:.1e}"
                     + ("" if (status == "converged").all() else f" ({', '.join(sorted(set(status)))})"))
    _log_axis(fig, vals_a, row=1, col=1, title="dist(U<sub>t</sub>, U*)")
    _log_axis(fig, vals_b, row=1, col=2, title="relF")
    for col in (1, 2):
        fig.update_xaxes(title_text="round t (t = 0: spectral initialisation)", row=1, col=col)
    first = df.iloc[0]
    mu = f", μ(U*, V*) = {first['mu_star']:.2f}" if "mu_star" in df else ""
    finish(fig, "F2 · AltMin converges geometrically with exact and inexact row solves", width=1200, plot_height=460,
           legend_rows=2,
           caption=(f"{NO_EXPERIMENTS} m = {int(first['m'])}, n = {int(first['n'])}, k = {int(first['k'])}, "
                    f"κ = {first.get('kappa', math.nan):g} (linear spectrum), r = {first['ratio']:g}{mu}; every "
                    "solver of a seed on the same M and Ω; stop at res<sub>Ω</sub> < 10⁻¹³ or on stagnation. "
                    f"Geometric means over {_seeds(df)} with 95% bands; dashed: C·q<sup>t</sup> with q the geometric "
                    "mean of the runs' fitted per-round factors (fitted on t ≥ 1 before dist < 10⁻¹¹), anchored "
                    "on the mean curve. q with its 95% interval, final relF: " + "; ".join(notes) + ". MC2's "
                    "¼-per-half-step contraction is not expected here: r = 8 is far below MC1's sample requirement."))
    return fig


# ------------------------------------------------------------------------------------- F3
def _run_times(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (solver, k, m, n, seed): the median round time and the mean multiply-adds per round, with nnz."""
    return rows.groupby(["solver", "k", "m", "n", "seed"], sort=True).agg(
        time=("time", "median"), flops=("flops", "mean"), nnz=("nnz", "first")).reset_index()


def _points(runs: pd.DataFrame, x: str) -> pd.DataFrame:
    """Geometric seed mean of the round time per ``x`` with its 95% interval, and the mean flops."""
    out = []
    for xv, g in runs.groupby(x, sort=True):
        mean, lo, hi = _geo(g["time"].to_numpy(float))
        out.append({x: xv, "nnz": float(g["nnz"].mean()), "mean": mean, "lo": lo, "hi": hi,
                    "flops": float(g["flops"].mean()), "n": len(g)})
    return pd.DataFrame(out)


def f3_runtime(df: pd.DataFrame) -> go.Figure:
    """F3: per-round wall time of the row solvers against |Ω| and against k, with fitted log-log slopes.

    Parameters
    ----------
    df
        Table of experiment ``matrix_completion runtime`` with columns solver, m, n, k, ratio, per_line, seed,
        round, time, flops, nnz. Rows with ``ratio`` set draw panel (a), rows with ``per_line`` set panel (b).

    Returns
    -------
    go.Figure
        (a) time per round against |Ω| per solver and k (log-log), slope in |Ω| in the legend; (b) time
        per round against k at fixed |Ω|/(m+n), slopes in k of the time and of the exact multiply-add
        counts annotated. Geometric seed means (of each run's median round) with 95% bars.
    """
    require(df, ["solver", "m", "n", "k", "ratio", "per_line", "seed", "round", "time", "flops", "nnz"], "F3")
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.09,
                        subplot_titles=["(a) time per round against |Ω| (r fixed)",
                                        "(b) time per round against k (|Ω|/(m+n) fixed)"])
    solvers = [s for s in ("exact", "cg3", "sketch") if s in set(df["solver"])]
    solvers += sorted(set(df["solver"]) - set(solvers))
    a = df[df["ratio"].notna()]
    b = df[df["per_line"].notna()]
    notes, box = [], []
    dashes = ["solid", "dash", "dot", "dashdot"]
    if not a.empty:
        runs = _run_times(a)
        ks = sorted(set(runs["k"]))
        for name in solvers:
            for j, k in enumerate(ks):
                pts = _points(runs[(runs["solver"] == name) & (runs["k"] == k)], "m")
                if pts.empty:
                    continue
                slope = fit_slope(pts["nnz"], pts["mean"]) if len(pts) >= 2 else math.nan
                label = f"{SOLVER_LABELS.get(name, name)}, k = {int(k)}: slope {slope:.2f} in |Ω|"
                fig.add_trace(go.Scatter(
                    x=pts["nnz"], y=pts["mean"], mode="lines+markers", name=label, legendgroup=f"a{name}{k}",
                    line={"color": COLORS.get(name, "#7f7f7f"), "dash": dashes[j % len(dashes)]},
                    error_y={"type": "data", "symmetric": False, "array": pts["hi"] - pts["mean"],
                             "arrayminus": pts["mean"] - pts["lo"]},
                    customdata=np.column_stack([pts["m"], pts["flops"], pts["n"]]),
                    hovertemplate=(f"{SOLVER_LABELS.get(name, name)}, k = {int(k)}<br>m = n = %{{customdata[0]:.0f}}, "
                                   "|Ω| = %{x:.3g}<br>%{y:.3g} s per round (%{customdata[2]} seeds)<br>"
                                   "%{customdata[1]:.3g} multiply-adds<extra></extra>")), row=1, col=1)
        _log_axis(fig, [a["nnz"].to_numpy(float)], axis="x", row=1, col=1, title="|Ω| (observed entries)")
        notes.append(f"(a) m = n ∈ {{{', '.join(_fmt(v) for v in sorted(set(a['m'])))}}}, r = "
                     f"{', '.join(f'{v:g}' for v in sorted(set(a['ratio'])))}")
    if not b.empty:
        runs = _run_times(b)
        for name in solvers:
            pts = _points(runs[runs["solver"] == name], "k")
            if pts.empty:
                continue
            ts = fit_slope(pts["k"], pts["mean"]) if len(pts) >= 2 else math.nan
            fs = fit_slope(pts["k"], pts["flops"]) if len(pts) >= 2 else math.nan
            label = SOLVER_LABELS.get(name, name)
            fig.add_trace(go.Scatter(
                x=pts["k"], y=pts["mean"], mode="lines+markers", name=f"{label}: slope {ts:.2f} in k",
                legendgroup=f"b{name}", line={"color": COLORS.get(name, "#7f7f7f"), "width": 2.2},
                marker={"symbol": "square"},
                error_y={"type": "data", "symmetric": False, "array": pts["hi"] - pts["mean"],
                         "arrayminus": pts["mean"] - pts["lo"]},
                customdata=np.column_stack([pts["flops"], pts["nnz"]]),
                hovertemplate=(f"{label}<br>k = %{{x}}, |Ω| = %{{customdata[1]:.3g}}<br>%{{y:.3g}} s per round<br>"
                               "%{customdata[0]:.3g} multiply-adds<extra></extra>")), row=1, col=2)
            box.append(f"{label}: time slope {ts:.2f}, multiply-add slope {fs:.2f}")
        fig.update_xaxes(type="log", title_text="rank k", tickvals=sorted(set(b["k"])),
                         ticktext=[str(int(k)) for k in sorted(set(b["k"]))], row=1, col=2)
        xref, yref = axis_ref(fig, 1, 2)
        fig.add_annotation(text="slopes in k (MC7: exact ≈ 2, cg ≈ 1)<br>" + "<br>".join(box), xref=f"{xref} domain",
                           yref=f"{yref} domain", x=0.02, y=0.98, xanchor="left", yanchor="top", showarrow=False,
                           align="left", font={"size": 10}, bgcolor="rgba(255,255,255,0.85)")
        first = b.iloc[0]
        notes.append(f"(b) m = n = {int(first['m'])}, |Ω|/(m+n) = {first['per_line']:g}, k ∈ "
                     f"{{{', '.join(str(int(k)) for k in sorted(set(b['k'])))}}}; " + "; ".join(box))
    if a.empty and b.empty:
        raise ValueError("F3: the table has no rows with ratio or per_line set")
    _log_axis(fig, [df["time"].to_numpy(float)], row=1, col=1, title="seconds per round")
    _log_axis(fig, [b["time"].to_numpy(float)] if not b.empty else [], row=1, col=2)
    sk = df["sketch"].iloc[0] if "sketch" in df else "countsketch"
    finish(fig, "F3 · cost per AltMin round: exact solves against CG and the sketch-preconditioned solver",
           width=1200, plot_height=460, legend_rows=3,
           caption=(f"{NO_EXPERIMENTS} One round = a V-step and a U-step with their QR factorisations, timed from "
                    "the spectral start with numba compiled beforehand (wall time on this machine; the counted "
                    f"multiply-adds are exact). Solvers: exact (batched normal equations), cg(3), sketch_precond "
                    f"({sk}, s = 4k, ε₀ = 10⁻²). Geometric means over {_seeds(df)} of each run's median round, "
                    "95% bars. " + "; ".join(notes) + ". MC7's model: exact Θ(|Ω|k² + (m+n)k³), cg(s) Θ(s|Ω|k), "
                    "sketch Θ(|Ω|k log(1/ε₀) + (m+n)sk²); the sketch solver's slope in k is what it measures "
                    "here (its (m+n)sk² term grows like k², and small k is overhead-bound), not a fitted claim."))
    return fig


# ------------------------------------------------------------------------------------- F4
def f4_robustness(df: pd.DataFrame) -> go.Figure:
    """F4: robustness of AltMin to relative (δ) and absolute (η) errors in the row solves (MC3).

    Parameters
    ----------
    df
        Table of experiment ``matrix_completion robustness`` with columns mode, value, seed, round, dist_U,
        relF, plateau, T, tail (``record="rounds"`` for panels (a) at several t and (c)).

    Returns
    -------
    go.Figure
        (a) relF after t rounds against δ (log-log), one line per t; (b) the plateau relF against η
        (log-log) with the fitted slope and a slope-1 line; (c) dist(U_t, U*) against t for each δ.
    """
    require(df, ["mode", "value", "seed", "round", "dist_U", "relF", "plateau", "T"], "F4")
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.07,
                        subplot_titles=["(a) relF after t rounds against δ", "(b) plateau relF against η",
                                        "(c) dist(U<sub>t</sub>, U*) for several δ"])
    dl = df[df["mode"] == "delta"]
    et = df[df["mode"] == "eta"]
    notes = []
    if not dl.empty:
        T = int(dl["T"].iloc[0])
        ts = [t for t in (5, 10, 20, 40, 60) if t < T] + [T]
        colors = ["#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c", "#08306b"]
        vals = []
        for i, t in enumerate(ts):
            pts = []
            for v, g in dl.groupby("value", sort=True):
                # a run that stopped before t keeps its last value (runs use tol = 0, so only T stops them)
                last = g[g["round"] <= t].sort_values("round").groupby("seed")["relF"].last().to_numpy(float)
                if last.size:
                    pts.append((float(v), *_geo(last), last.size))
            p = np.array(pts, float)
            if not p.size:
                continue
            vals.append(p[:, 1])
            color = colors[min(len(colors) - 1, i + max(0, len(colors) - len(ts)))]
            fig.add_trace(go.Scatter(
                x=p[:, 0], y=p[:, 1], mode="lines+markers", name=f"relF after t = {t} rounds",
                line={"color": color, "width": 2.2 if t == T else 1.5},
                error_y={"type": "data", "symmetric": False, "array": p[:, 3] - p[:, 1],
                         "arrayminus": p[:, 1] - p[:, 2]},
                hovertemplate=f"t = {t}<br>δ = %{{x:g}}<br>relF %{{y:.3g}}<extra></extra>"), row=1, col=1)
        _log_axis(fig, vals, row=1, col=1, title="relF (geometric seed mean)")
        _log_axis(fig, [dl["value"].to_numpy(float)], axis="x", row=1, col=1, title="relative error δ of inject(δ, 0)")
        final = dl.sort_values("round").groupby(["value", "seed"])["relF"].last().groupby("value").max()
        ok = [f"{v:g}" for v, x in final.items() if x < 1e-8]
        bad = [f"{v:g} (worst relF {x:.1e})" for v, x in final.items() if not x < 1e-8]
        notes.append(f"(a, c) T = {T}: relF < 10⁻⁸ on every seed for δ ∈ {{{', '.join(ok) or 'none'}}}"
                     + (f"; not for δ = {', '.join(bad)}" if bad else ""))
        vals_c = []
        values = sorted(set(dl["value"]))
        palette = [_hex(c) for c in sample_colorscale("Plasma", list(np.linspace(0.0, 0.85, len(values))))]
        for v, color in zip(values, palette, strict=True):
            s = _seed_curve(dl[dl["value"] == v], "dist_U")
            vals_c.append(s["mean"].to_numpy())
            _curve(fig, s, name=f"δ = {v:g}", color=color, group=f"d{v}", row=1, col=3, showlegend=True)
        _log_axis(fig, vals_c, row=1, col=3, title="dist(U<sub>t</sub>, U*)")
        fig.update_xaxes(title_text="round t", row=1, col=3)
    if not et.empty:
        pts = []
        for v, g in et.groupby("value", sort=True):
            plat = g.groupby("seed")["plateau"].first().to_numpy(float)
            pts.append((float(v), *_geo(plat)))
        p = np.array(pts, float)
        slope = fit_slope(p[:, 0], p[:, 1]) if len(p) >= 2 else math.nan
        fig.add_trace(go.Scatter(
            x=p[:, 0], y=p[:, 1], mode="lines+markers", name=f"plateau relF of inject(0, η): fitted slope {slope:.3f}",
            line={"color": "#d62728"}, marker={"size": 8},
            error_y={"type": "data", "symmetric": False, "array": p[:, 3] - p[:, 1], "arrayminus": p[:, 1] - p[:, 2]},
            hovertemplate="η = %{x:g}<br>plateau relF %{y:.3g}<extra></extra>"), row=1, col=2)
        c = float(np.exp(np.mean(np.log(p[:, 1]) - np.log(p[:, 0]))))
        fig.add_trace(go.Scatter(x=p[:, 0], y=c * p[:, 0], mode="lines", name=f"slope 1: relF = {c:.3g}·η (MC3)",
                                 line={"color": THEORY_COLOR, "dash": "dash", "width": 1.3},
                                 hovertemplate="slope-1 line<br>η = %{x:g}: %{y:.3g}<extra></extra>"), row=1, col=2)
        _log_axis(fig, [p[:, 1], c * p[:, 0]], row=1, col=2)
        _log_axis(fig, [p[:, 0]], axis="x", row=1, col=2, title="absolute error η of inject(0, η)")
        tail = int(et["tail"].iloc[0]) if "tail" in et else 10
        notes.append(f"(b) plateau = geometric mean of relF over the last {tail} of T = {int(et['T'].iloc[0])} "
                     f"rounds; fitted log-log slope {slope:.3f} (MC3 expects 1 ± 0.2), relF ≈ {c:.3g}·η")
    if dl.empty and et.empty:
        raise ValueError("F4: the table has no rows of mode 'delta' or 'eta'")
    first = df.iloc[0]
    size = (f"m = {int(first['m'])}, n = {int(first['n'])}, k = {int(first['k'])}, r = {first['ratio']:g}, "
            if {"m", "n", "k", "ratio"} <= set(df.columns) else "")
    finish(fig, "F4 · robustness: relative errors only slow AltMin down, absolute errors set a floor ∝ η",
           width=1400, plot_height=450, legend_rows=4,
           caption=(f"{NO_EXPERIMENTS} {size}exact solves plus, in every row, a random-direction error of norm "
                    "δ‖z*<sub>i</sub>‖/σ<sub>min</sub>(A<sub>i</sub>) (the size the forward-error lemma MC4 allows "
                    "an ε₀-accurate solve, δ = √(3ε₀)) and/or η; every value of a seed on the same M and Ω, no "
                    f"early stop. Geometric means over {_seeds(df)} with 95% bars and bands. " + "; ".join(notes)
                    + ". MC3's quantitative form is reconstructed."))
    return fig


# ------------------------------------------------------------------------------------- F5
def _mu_label(mu: Any) -> str:
    return "trimming at the true μ" if mu is None or (isinstance(mu, float) and math.isnan(mu)) else \
        f"trimming at an underestimated μ = {float(mu):g}"


def f5_trimming(df: pd.DataFrame) -> go.Figure:
    """F5a: incoherence μ(U_t) and dist(U_t, U*) per round with trimming by entries, by rows, or none.

    Parameters
    ----------
    df
        Table of experiment ``matrix_completion trimming`` with columns mu, trim, seed, round, mu_U, dist_U,
        trimmed, mu_star, m, k.

    Returns
    -------
    go.Figure
        One column per trimming level μ (None: the true μ): μ(U_t) (seed mean, 95% band) with μ(U*) and
        the ceiling √(m/k), and dist(U_t, U*) (geometric mean, log y).
    """
    require(df, ["mu", "trim", "seed", "round", "mu_U", "dist_U", "trimmed", "mu_star", "m", "k"], "F5a")
    mus = list(dict.fromkeys(None if pd.isna(v) else float(v) for v in df["mu"]))
    mus.sort(key=lambda v: -math.inf if v is None else v)
    cols = len(mus)
    titles = [f"({chr(97 + j)}) μ(U<sub>t</sub>), {_mu_label(mu)}" for j, mu in enumerate(mus)]
    titles += [f"({chr(97 + cols + j)}) dist(U<sub>t</sub>, U*), {_mu_label(mu)}" for j, mu in enumerate(mus)]
    fig = make_subplots(rows=2, cols=cols, horizontal_spacing=0.08, vertical_spacing=0.12, shared_xaxes=True,
                        subplot_titles=titles)
    m, k = int(df["m"].iloc[0]), int(df["k"].iloc[0])
    ceiling = math.sqrt(m / k)
    notes = []
    for j, mu in enumerate(mus, start=1):
        panel = df[df["mu"].isna()] if mu is None else df[np.isclose(df["mu"].astype(float), mu)]
        mu_star = float(panel.groupby("seed")["mu_star"].first().mean())
        used = mu_star if mu is None else mu
        end = int(panel["round"].max())
        parts, dvals = [], []
        for trim in [t for t in ("entries", "rows", "none") if t in set(panel["trim"])]:
            sub = panel[panel["trim"] == trim]
            runs = [g.sort_values("round") for _, g in sub.groupby("seed")]
            stop = min(int(g["round"].max()) for g in runs)
            mat = np.vstack([g["mu_U"].to_numpy(float)[: stop + 1] for g in runs])
            mean, h = mat.mean(axis=0), half_width(mat)
            s = pd.DataFrame({"round": np.arange(stop + 1), "mean": mean, "lo": mean - h, "hi": mean + h,
                              "n": len(runs)})
            color = TRIM_COLORS[trim]
            _curve(fig, s, name=TRIM_LABELS[trim], color=color, group=trim, row=1, col=j, showlegend=j == 1)
            fig.data[-1].hovertemplate = fig.data[-1].hovertemplate.replace("geometric mean", "mean")
            d = _seed_curve(sub, "dist_U")
            dvals.append(d["mean"].to_numpy())
            _curve(fig, d, name=TRIM_LABELS[trim], color=color, group=trim, row=2, col=j, showlegend=False)
            trimmed = sub.groupby("seed")["trimmed"].first().mean()
            parts.append(f"{trim}: μ(U₀) = {mean[0]:.2f}, {trimmed:.1f} changed")
        for y, name, dash in ((mu_star, f"max(μ(U*), μ(V*)) = {mu_star:.2f} (seed mean)", "dash"),
                              (ceiling, f"ceiling √(m/k) = {ceiling:.2f}", "dot")):
            fig.add_trace(go.Scatter(x=[0, end], y=[y, y], mode="lines", name=name if j == 1 else name + " ",
                                     line={"color": THEORY_COLOR, "dash": dash, "width": 1.2}, showlegend=j == 1,
                                     legendgroup=f"ref{dash}", hovertemplate=f"{name}<extra></extra>"), row=1, col=j)
        _log_axis(fig, dvals, row=2, col=j, title="dist(U<sub>t</sub>, U*)" if j == 1 else None)
        fig.update_yaxes(title_text="μ(U<sub>t</sub>) = √(m/k)·max‖U<sub>i,:</sub>‖" if j == 1 else None,
                         range=[0, 1.08 * ceiling], row=1, col=j)
        fig.update_xaxes(title_text="round t", row=2, col=j)
        notes.append(f"threshold 2μ√(k/m) with μ = {used:.2f}" + (" (the true μ, seed mean)" if mu is None else "")
                     + ": " + ", ".join(parts))
    first = df.iloc[0]
    extra = f", α = {first['alpha']:g} on {int(first['s'])} rows" if {"alpha", "s"} <= set(df.columns) else ""
    finish(fig, "F5a · trimming the spectral start: incoherence and distance per round", width=1150, plot_height=620,
           legend_rows=2,
           caption=(f"{NO_EXPERIMENTS} Coherence-dial instance (m = {m}, k = {k}{extra}, Gaussian factors), r = "
                    f"{first.get('ratio', math.nan):g}, AltMin with {first.get('solver', 'cg3')}; every rule of a seed "
                    "on the same M and Ω. Trimming acts once, on the spectral start U₀ (entries above 2μ√(k/m) set "
                    "to 0, or long rows rescaled to that norm); μ(U<sub>t</sub>) is recorded after the QR. Means over "
                    f"{_seeds(df)} with 95% bands (dist: geometric). " + "; ".join(notes) + "."))
    return fig


def f5_spiky(df: pd.DataFrame) -> go.Figure:
    """F5b: AltMin's success on the spiky instance against p, next to MC8's ceiling p.

    Parameters
    ----------
    df
        Table of experiment ``matrix_completion spiky`` with columns p, seed, success, observed_11, m, n, k.

    Returns
    -------
    go.Figure
        Success fraction and fraction of runs that observed entry (1, 1), with 95% Wilson bars, and the
        line y = p (MC8: success requires (1, 1) ∈ Ω, so P(success) ≤ p); the caption names every p whose
        success count exceeds the one-sided 99.9% binomial quantile of Binomial(seeds, p).
    """
    require(df, ["p", "seed", "success", "observed_11", "m", "n", "k"], "F5b")
    g = df.groupby("p", sort=True).agg(succ=("success", "sum"), obs=("observed_11", "sum"),
                                       cnt=("success", "count")).reset_index()
    p = g["p"].to_numpy(float)
    fig = go.Figure()
    for col, name, color, sym in (("obs", "runs with (1, 1) ∈ Ω", "#7f7f7f", "circle-open"),
                                  ("succ", "success (relF < 10⁻⁴)", "#1f77b4", "circle")):
        lo, hi = wilson(g[col].to_numpy(), g["cnt"].to_numpy())
        frac = (g[col] / g["cnt"]).to_numpy()
        fig.add_trace(go.Scatter(x=p, y=frac, mode="lines+markers", name=name, line={"color": color},
                                 marker={"symbol": sym, "size": 9},
                                 error_y={"type": "data", "symmetric": False, "array": hi - frac,
                                          "arrayminus": frac - lo},
                                 customdata=np.column_stack([g[col], g["cnt"]]),
                                 hovertemplate=(f"{name}<br>p = %{{x:g}}: %{{customdata[0]:.0f}}/%{{customdata[1]:.0f}}"
                                                "<extra></extra>")))
    grid = np.linspace(0, 1, 11)
    fig.add_trace(go.Scatter(x=grid, y=th.spiky_success_bound(grid), mode="lines",
                             name="MC8 ceiling: P(success) ≤ p = P((1, 1) ∈ Ω)",
                             line={"color": THEORY_COLOR, "dash": "dash"}, hoverinfo="skip"))
    # one-sided binomial check: a success count above the 99.9% quantile of Binomial(n, p) contradicts MC8
    limit = stats.binom.ppf(0.999, g["cnt"].to_numpy(), p)
    over = [f"{pv:g} ({int(s)}/{int(c)})" for pv, s, c, lim in zip(p, g["succ"], g["cnt"], limit, strict=True)
            if s > lim]
    not_obs = int((df["success"].astype(bool) & ~df["observed_11"].astype(bool)).sum())
    verdict = ("no success count exceeds the 99.9% binomial quantile of Binomial(seeds, p)" if not over
               else "SUCCESS ABOVE THE MC8 CEILING at p = " + ", ".join(over))
    fig.update_xaxes(title_text="sampling rate p", range=[0, 1])
    fig.update_yaxes(title_text="fraction of runs", range=[-0.03, 1.03])
    first = df.iloc[0]
    finish(fig, "F5b · the spiky instance: AltMin cannot beat the chance of observing entry (1, 1)", width=850,
           plot_height=420, legend_rows=2,
           caption=(f"{NO_EXPERIMENTS} MC8's construction: e₁ is a column of U* and V*, the other columns vanish "
                    f"on coordinate 1 (μ = √(m/k)); m = {int(first['m'])}, n = {int(first['n'])}, k = {int(first['k'])}"
                    f", σ_spike = {first.get('sigma_spike', 1.0):g}. M and M − σe₁e₁ᵀ differ only at (1, 1), so a run "
                    "without (1, 1) ∈ Ω cannot tell them apart. Fractions over "
                    f"{int(g['cnt'].min())}–{int(g['cnt'].max())} seeds per p with 95% Wilson bars; {not_obs} "
                    f"success(es) without (1, 1) observed; {verdict}. Small p also leaves rows with fewer than k "
                    "entries (r < 1), where no method succeeds."))
    return fig


# ------------------------------------------------------------------------------------- builders
build_f1 = builder(f1_sweep, f1_phase)
build_f2 = builder(f2_sweep, f2_convergence)
build_f3 = builder(f3_sweep, f3_runtime)
build_f4 = builder(f4_sweep, f4_robustness)
build_f5a = builder(f5a_sweep, f5_trimming)
build_f5b = builder(f5b_sweep, f5_spiky)


FIGURES: list[FigureSpec] = [
    FigureSpec("matrix_completion_F1_phase", "F1: success fraction over r × k, p × k, AltMin vs nuclear norm, split",
               build_f1),
    FigureSpec("matrix_completion_F2_convergence", "F2: dist(U_t, U*) and relF vs t per row solver, fitted q",
               build_f2),
    FigureSpec("matrix_completion_F3_runtime", "F3: time per round vs |Ω| and vs k with fitted slopes", build_f3),
    FigureSpec("matrix_completion_F4_robustness", "F4: relF vs δ, plateau vs η (slope 1), dist vs t per δ", build_f4),
    FigureSpec("matrix_completion_F5a_trimming", "F5a: μ(U_t) and dist with and without trimming", build_f5a),
    FigureSpec("matrix_completion_F5b_spiky", "F5b: spiky-instance success vs p next to the line p (MC8)",
               build_f5b),
]
