r"""Figures F1–F5 of the EF21 topic (spec ``ef21.md`` §5): error feedback under contractive compression.

Every figure is a pure function of the tidy table of one registered experiment of topic ``ef21``
(:mod:`sims.ef21.experiments`: one row per config × seed × stored round, or × heterogeneity ζ), and
every figure has a sweep builder ``f<k>_sweep(scale) -> Sweep`` and a ``build_f<k>(scale, base_seed,
jobs, cache_dir)`` that runs the sweep (:func:`sims.runner.run_sweep`) and draws it. ‖∇f‖² spans many
decades across rounds and seeds, so its curves are geometric seed means (exp of the mean of log ‖∇f‖²)
with a 95% Student-t band on that mean; F3's ratios are arithmetic seed means with 95% bars. The task is
the spec's non-convex logistic regression on synthetic data (d = 20, n = 20 clients, N_i = 50, λ = 0.1),
Top1 (α = 1/d), one dominant client (s₁ = 1 + ζ).

- **F1** :func:`f1_grad_vs_rounds` (experiment ``training``): ‖∇f(x^t)‖² (log y) against the round t for
  GD, EF14, EF21, EF21-W and EControl, rows ζ ∈ {0 (H ≈ 1), 100 (H large)}; (a) the theory steps (GD
  1/L, EF14, EF21 and EControl γ_QM, EF21-W γ_AM), with EF21's claim-4 bound
  2(f(x^0) − f_low)/(γT) + G^0/(θT) dashed (a bound on the running average, hence on min_{t<T}); (b) the
  best multiple of {1, 2, 4, 8, 16, 32} × theory step per method, chosen from the seed means of the sweep
  (:func:`best_multipliers`). No bound is ever drawn on EF14 (it has no guarantee here), nor on a tuned
  step (above the theorems' limits).
- **F2** :func:`f2_grad_vs_bits` (``training``, F1's sweep): the curves of F1 against the bits each
  client sent (log x), one column per convention ("values only", 32 bits per value; "values + indices",
  32 + ⌈log₂ d⌉ bits per entry plus one dense vector for a dense initial state); solid the best
  multiples of F1(b), dotted the theory steps of F1(a), and the bits each method needed to stop.
- **F3** :func:`f3_speedup` (``speedup``): rounds to ‖∇f‖² ≤ target·‖∇f(x^0)‖² of EF21 at γ_QM over
  EF21-W at γ_AM against H = L_QM/L_AM (log x), per ζ ∈ {0, 1, 3, 10, 30, 100, 300, 1000}, with claim 8's
  S_pred = (L + L_QM ξ)/(L + L_AM ξ), the line y = H and the ceiling √n.
- **F4** :func:`f4_claim_check` (``training``): the running average (1/T)Σ_{t<T}‖∇f(x^t)‖² against its
  bound for EF21 (γ_QM, G^0, claim 4), EF21-W (γ_AM, G_W^0, claim 5) and EF21 (γ_AM, G̃^0, claim 6), each
  with g_i^0 = ∇f_i(x^0) and g_i^0 = 0 (log-log), with the largest ratio over seeds and T in the caption.
- **F5** :func:`f5_divergence` (``divergence``): compressed GD without error feedback against EF21 on
  Beznosikov et al.'s three-client counterexample with Top1, with the growth rate
  ‖∇f(x^0)‖²(1 + γ(6c² − 1)/3)^{2t} of compressed GD along the ray x = t·1 (derived in
  :class:`sims.ef21.experiments.Counterexample`).

F1, F2 and F4 run every config on the same instances (``instance_seed`` 0..k−1, one seed each; TopK
draws nothing), so the methods, step multiples and initialisations meet the same k problems and starting
points x^0 (spec §7) and the means are over instances; F3 pairs EF21 and EF21-W inside each run, and F5's
seeds differ in the perturbation of x^0. A run stops at ‖∇f‖² ≤ tol·‖∇f(x^0)‖² or at its horizon; a mean
curve ends at the earliest last round of its runs (every run is interpolated, in log ‖∇f‖², onto the
stored rounds). A run that diverged ends where it left the finite range and is marked ✕; the captions
say so.

References
----------
P. Richtárik, I. Sokolov, I. Fatkhullin, EF21, NeurIPS 2021, arXiv 2106.05203 (Thm 1, Fig. 1-2).
P. Richtárik, E. Gasanov, K. Burlachenko, Error Feedback Reloaded, ICLR 2024, arXiv 2402.10774.
Y. Gao, R. Islamov, S. Stich, EControl, ICLR 2024, arXiv 2311.05645. A. Beznosikov, S. Horváth,
P. Richtárik, M. Safaryan, On Biased Compression for Distributed Learning, arXiv 2002.12410 (Example 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy import stats

import sims.ef21.experiments  # noqa: F401  (registers the experiments of the topic)
from paper_figs import FigureSpec
from paper_figs.layout import axis_ref, finish, fmt_power, half_width, log_ticks, rgba
from paper_figs.sweeps import Sweep, builder, check_scale, make_sweep, require, run
from sims.ef21.experiments import MULTIPLIERS

__all__ = [
    "EXPERIMENTS",
    "FIGURES",
    "METHOD_LABELS",
    "Sweep",
    "best_multipliers",
    "build_f1",
    "build_f2",
    "build_f3",
    "build_f4",
    "build_f5",
    "f1_grad_vs_rounds",
    "f1_sweep",
    "f2_grad_vs_bits",
    "f2_sweep",
    "f3_speedup",
    "f3_sweep",
    "f4_claim_check",
    "f4_sweep",
    "f5_divergence",
    "f5_sweep",
    "run",
]

#: The experiment (of topic ``ef21``) behind each figure.
EXPERIMENTS: dict[str, str] = {"F1": "training", "F2": "training", "F3": "speedup", "F4": "training",
                               "F5": "divergence"}
METHODS: tuple[str, ...] = ("gd", "ef14", "ef21", "ef21w", "econtrol")
METHOD_LABELS: dict[str, str] = {"gd": "GD", "ef14": "EF14", "ef21": "EF21", "ef21w": "EF21-W",
                                 "econtrol": "EControl", "compressed_gd": "compressed GD, no error feedback"}
#: The theory step of each method (spec §5): GD 1/L, EF21-W γ_AM, the others γ_QM.
THEORY_STEP: dict[str, str] = {"gd": "gd", "ef14": "qm", "ef21": "qm", "ef21w": "am", "econtrol": "qm"}
STEP_LABELS: dict[str, str] = {"gd": "1/L", "qm": "γ<sub>QM</sub>", "am": "γ<sub>AM</sub>"}
COLORS: dict[str, str] = {"gd": "#7f7f7f", "ef14": "#ff7f0e", "ef21": "#1f77b4", "ef21w": "#2ca02c",
                          "econtrol": "#9467bd", "compressed_gd": "#d62728"}
INIT_COLORS: dict[str, str] = {"gradient": "#1f77b4", "zero": "#d62728"}
INIT_LABELS: dict[str, str] = {"gradient": "g<sub>i</sub><sup>0</sup> = ∇f<sub>i</sub>(x<sup>0</sup>)",
                               "zero": "g<sub>i</sub><sup>0</sup> = 0"}
THEORY_COLOR = "#444444"
#: The heterogeneity levels of F1/F2 (dominant client s₁ = 1 + ζ): H ≈ 1 and H close to √n.
F12_ZETAS: tuple[float, ...] = (0.0, 100.0)
#: F4's heterogeneity (γ_AM and γ_QM far apart) and its three (method, step, claim) panels.
F4_ZETA = 100.0
F4_PANELS: tuple[tuple[str, str, str], ...] = (("ef21", "qm", "ef21.nonconvex_rate"),
                                               ("ef21w", "am", "ef21.ef21w_rate"),
                                               ("ef21", "am", "ef21.ef21_am_rate"))
F4_TITLES: dict[tuple[str, str], str] = {
    ("ef21", "qm"): "(a) EF21, γ<sub>QM</sub>, G<sup>0</sup> (claim 4)",
    ("ef21w", "am"): "(b) EF21-W, γ<sub>AM</sub>, G<sub>W</sub><sup>0</sup> (claim 5)",
    ("ef21", "am"): "(c) EF21, γ<sub>AM</sub>, G̃<sup>0</sup> (claim 6)"}
F3_ZETAS: tuple[float, ...] = (0.0, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0)
F5_MULTIPLIERS: tuple[float, ...] = (1.0, 8.0)
#: The synthetic task of spec §5 (the experiments' defaults, repeated so that the figures say what they run).
TASK: dict[str, Any] = {"dataset": "synthetic", "n_clients": 20, "samples_per_client": 50, "d": 20,
                        "lam": 0.1, "profile": "dominant", "compressor": "top", "k": 1}
_TINY = 1e-300


# ------------------------------------------------------------------------------------- sweeps
def _sweep(experiment: str, configs: Sequence[dict[str, Any]], seeds: int) -> Sweep:
    return make_sweep("ef21", experiment, configs, seeds)


def _size(scale: str) -> tuple[int, int]:
    """(T, instances) of the training sweeps: quick 1000 rounds, 3 instances; full T_max = 5·10⁴, 5."""
    check_scale(scale)
    return (1000, 3) if scale == "quick" else (50_000, 5)


def _paired(configs: list[dict[str, Any]], instances: int) -> list[dict[str, Any]]:
    """Every config on instances 0..k−1 (``instance_seed``): the methods, multiples and inits of a sweep
    meet the same problems and starts x^0 (spec §7), and a seed index is an instance."""
    return [{**c, "instance_seed": i} for c in configs for i in range(instances)]


def f1_sweep(scale: str = "quick") -> Sweep:
    """F1: the five methods × multiples {1, 2, 4, 8, 16, 32} of their theory step × ζ ∈ {0, 100}.

    Top1, g_i^0 = ∇f_i(x^0), stop at ‖∇f‖² ≤ 10⁻¹⁰‖∇f(x^0)‖², every config on the same instances
    (``instance_seed`` 0..k−1, one seed each: TopK draws nothing). quick: T = 1000, 3 instances; full:
    T = 5·10⁴, 5 instances.
    """
    T, instances = _size(scale)
    configs = [{**TASK, "heterogeneity": z, "method": m, "step": THEORY_STEP[m], "step_multiplier": float(c),
                "init": "gradient", "T": T, "tol": 1e-10}
               for z in F12_ZETAS for m in METHODS for c in MULTIPLIERS]
    return _sweep(EXPERIMENTS["F1"], _paired(configs, instances), 1)


def f2_sweep(scale: str = "quick") -> Sweep:
    """F2: the sweep of :func:`f1_sweep` (theory steps and their multiples), drawn against bits."""
    return f1_sweep(scale)


def f3_sweep(scale: str = "quick") -> Sweep:
    """F3: EF21 (γ_QM) and EF21-W (γ_AM) per ζ, every ζ on the same instance of a seed.

    quick: ζ ∈ {0, 3, 10, 30, 100}, target 10⁻², T = 10⁴, 3 seeds; full: ζ ∈ {0, 1, 3, 10, 30, 100, 300,
    1000} with the spec's target 10⁻⁴ and 5 seeds, T = 2·10⁵: EF21 at γ_QM needs ≈ 8·10⁴ rounds at
    ζ = 1000 (H ≈ 4.4), beyond the spec's T_max = 5·10⁴, and the runs stop at the target anyway.
    """
    check_scale(scale)
    if scale == "quick":
        zetas, target, T, seeds = [0.0, 3.0, 10.0, 30.0, 100.0], 1e-2, 10_000, 3
    else:
        zetas, target, T, seeds = list(F3_ZETAS), 1e-4, 200_000, 5
    config = {**TASK, "heterogeneity": zetas, "init": "gradient", "target": target, "T": T}
    return _sweep(EXPERIMENTS["F3"], [config], seeds)


def f4_sweep(scale: str = "quick") -> Sweep:
    """F4: EF21 (γ_QM), EF21-W (γ_AM), EF21 (γ_AM) × g_i^0 ∈ {∇f_i(x^0), 0} at ζ = 100, theory steps.

    Every config on the same instances (``instance_seed`` 0..k−1). quick: T = 1000, 3 instances; full:
    T = 5·10⁴, 5 instances (each run stops at ‖∇f‖² ≤ 10⁻¹⁰‖∇f(x^0)‖²).
    """
    T, instances = _size(scale)
    configs = [{**TASK, "heterogeneity": F4_ZETA, "method": m, "step": s, "step_multiplier": 1.0, "init": init,
                "T": T, "tol": 1e-10} for m, s, _ in F4_PANELS for init in ("gradient", "zero")]
    return _sweep(EXPERIMENTS["F4"], _paired(configs, instances), 1)


def f5_sweep(scale: str = "quick") -> Sweep:
    """F5: the counterexample (c = 1.1, Top1, x^0 ≈ 1) at γ = m·γ_QM, m ∈ {1, 8}.

    quick: T = 300, 2 seeds; full: T = 1000, 5 seeds (seeds differ in the 10⁻³ perturbation of x^0).
    At 8γ_QM EF21 reaches the float64 rounding floor (‖∇f‖² ≈ 10⁻³¹) after ≈ 450 rounds.
    """
    check_scale(scale)
    T, seeds = (300, 2) if scale == "quick" else (1000, 5)
    configs = [{"scale": 1.1, "k": 1, "step": "qm", "step_multiplier": m, "T": T} for m in F5_MULTIPLIERS]
    return _sweep(EXPERIMENTS["F5"], configs, seeds)


# ------------------------------------------------------------------------------------- helpers
def _summary(df: pd.DataFrame, by: str | list[str], value: str) -> pd.DataFrame:
    """Seed mean, 95% Student-t half-width and count of ``value`` per ``by`` (NaNs left out)."""
    g = df.groupby(by, sort=True)[value]
    out = g.agg(mean="mean", sd="std", n="count").reset_index()
    n = out["n"].to_numpy()
    sd = out["sd"].fillna(0.0).to_numpy()
    q = stats.t.ppf(0.975, np.maximum(n - 1, 1))
    out["half"] = np.where(n > 1, q * sd / np.sqrt(np.maximum(n, 1)), 0.0)
    return out.drop(columns="sd")


#: The columns that tell the repetitions of one config apart: the instance (training sweeps) and the seed.
_REPLICATE = ("instance_seed", "seed")


def _replicate_keys(df: pd.DataFrame) -> list[str]:
    return [c for c in _REPLICATE if c in df and df[c].notna().any()]


def _seeds(df: pd.DataFrame) -> str:
    """'k seeds' (or 'k instances' when the runs differ by ``instance_seed``): the repetitions of a config."""
    keys = _replicate_keys(df)
    k = len(df[keys].drop_duplicates()) if keys else 1
    word = "instance" if "instance_seed" in keys else "seed"
    return f"{k} {word}" + ("s" if k != 1 else "")


def _runs(sub: pd.DataFrame) -> list[pd.DataFrame]:
    """The rows of each repetition (instance, seed) of one config, sorted by round; a repeated round
    within one repetition means the rows mix configs."""
    keys = _replicate_keys(sub)
    runs = [g for _, g in sub.groupby(keys, sort=True, dropna=False)] if keys else [sub]
    runs = [g.sort_values("round") for g in runs]
    for g in runs:
        if g["round"].duplicated().any():
            raise ValueError("a run has two rows for one round: the rows mix configs (select one config)")
    return runs


def _seed_curve(sub: pd.DataFrame, value: str, *, first: int = 0) -> pd.DataFrame:
    """Geometric seed mean of a positive ``value`` per round with its 95% interval, on the stored rounds.

    ‖∇f‖² spans many decades across rounds and seeds, so the seeds are averaged in log space: ``mean`` is
    exp of the mean of log(value), ``lo``/``hi`` exp of that mean ∓ its 95% Student-t half-width. Each
    seed is interpolated linearly in log(value) between its stored rounds (every round up to 128, then
    ~60 per decade), from round ``first`` to the earliest last round of the seeds; rows where ``value``
    is not finite (a bound at round 0) are left out first.
    """
    runs = []
    for g in _runs(sub):
        r, v = g["round"].to_numpy(float), g[value].to_numpy(float)
        ok = np.isfinite(v) & (r >= first)
        if ok.any():
            runs.append((r[ok], v[ok]))
    if not runs:
        return pd.DataFrame({"round": [], "mean": [], "lo": [], "hi": [], "n": []})
    end = min(r[-1] for r, _ in runs)
    grid = np.unique(np.concatenate([r[r <= end] for r, _ in runs]))
    logs = np.vstack([np.interp(grid, r, np.log(np.maximum(v, _TINY))) for r, v in runs])
    m, h = logs.mean(axis=0), half_width(logs)
    return pd.DataFrame({"round": grid, "mean": np.exp(m), "lo": np.exp(m - h), "hi": np.exp(m + h),
                         "n": len(runs)})


def _log_range(values: Sequence[np.ndarray] | np.ndarray, pad: float = 0.15) -> list[float] | None:
    """A log-axis range (in decades) around the positive values: the curves, not their CI bands."""
    v = np.concatenate([np.ravel(np.asarray(a, float)) for a in values]) if isinstance(values, list) else \
        np.ravel(np.asarray(values, float))
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return None
    return [math.log10(v.min()) - pad, math.log10(v.max()) + pad]


def _band(fig: go.Figure, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, color: str, group: str,
          name: str, row: int, col: int) -> None:
    """A filled 95% band (no legend entry, no hover) in the colour of its curve; none for one seed."""
    x, lo, hi = (np.asarray(a, float) for a in (x, lo, hi))
    if not np.any(hi > lo):
        return
    fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate([hi, lo[::-1]]), mode="lines",
                             fill="toself", fillcolor=rgba(color, 0.1), line={"width": 0}, hoverinfo="skip",
                             showlegend=False, legendgroup=group, name=f"{name} · 95% CI"), row=row, col=col)


def _curve(fig: go.Figure, s: pd.DataFrame, *, x: np.ndarray | None = None, name: str, color: str, group: str,
           row: int, col: int, showlegend: bool, dash: str = "solid", hover: str = "round",
           band: bool = True) -> None:
    """Geometric seed mean (line) with its 95% band; the hover gives the interval and the seed count."""
    xs = s["round"].to_numpy(float) if x is None else np.asarray(x, float)
    if band:
        _band(fig, xs, s["lo"], s["hi"], color, group, name, row, col)
    fig.add_trace(go.Scatter(
        x=xs, y=s["mean"], mode="lines", name=name, legendgroup=group, showlegend=showlegend,
        line={"color": color, "width": 1.8, "dash": dash},
        customdata=np.column_stack([s["round"], s["lo"], s["hi"], s["n"]]),
        hovertemplate=(f"{name}<br>{hover} %{{x:.4g}} (round %{{customdata[0]:.0f}})<br>geometric mean %{{y:.4g}}, "
                       "95% [%{customdata[1]:.3g}, %{customdata[2]:.3g}] (%{customdata[3]} runs)<extra></extra>")),
        row=row, col=col)


def _log_axis(fig: go.Figure, values: list[np.ndarray], *, axis: str = "y", row: int, col: int,
              title: str | None = None, fit: bool = True) -> None:
    """A log axis over the positive ``values``: 1-2-5 or decade ticks up to 12 decades, powers of ten beyond."""
    v = np.concatenate([np.ravel(np.asarray(a, float)) for a in values]) if values else np.array([])
    v = v[np.isfinite(v) & (v > 0)]
    kw: dict[str, Any] = {"type": "log", "row": row, "col": col}
    if title is not None:
        kw["title_text"] = title
    if v.size:
        decades = math.log10(v.max() / v.min())
        if decades <= 12:
            ticks = log_ticks(v)
            kw.update(tickvals=ticks[0], ticktext=ticks[1])
        else:
            kw.update(dtick=math.ceil(decades / 8), exponentformat="power")
        if fit:
            kw["range"] = _log_range(v)
    (fig.update_yaxes if axis == "y" else fig.update_xaxes)(**kw)


def _diverged_mark(fig: go.Figure, x: float, y: float, *, name: str, color: str, group: str, row: int,
                   col: int) -> None:
    fig.add_trace(go.Scatter(x=[x], y=[y], mode="markers", name=f"{name}: diverged", legendgroup=group,
                             showlegend=False, marker={"color": color, "symbol": "x", "size": 10},
                             hovertemplate=f"{name}<br>diverged after round %{{x:.0f}}<extra></extra>"),
                  row=row, col=col)


def _status(sub: pd.DataFrame) -> list[str]:
    """The final status of each seed of one config (``target``, ``horizon``, ``diverged``, …)."""
    return [str(g["status"].iloc[-1]) for g in _runs(sub)]


#: Config columns that tell the runs of one table apart (with ``seed``).
_RUN_KEYS = ("heterogeneity", "method", "step", "step_multiplier", "init", "eta", "instance_seed", "seed")


def _zeta_title(df: pd.DataFrame, zeta: float) -> str:
    """'ζ = …: H = …', H averaged over the runs at ζ (each run draws its instance, so H varies a little)."""
    sub = df[df["heterogeneity"] == zeta]
    keys = [k for k in _RUN_KEYS if k in sub and sub[k].notna().any()]
    H = float(sub.groupby(keys, dropna=False)["H"].first().mean())
    return f"ζ = {fmt_power(zeta)}: H = L<sub>QM</sub>/L<sub>AM</sub> = {H:.3g}"


def _methods(df: pd.DataFrame) -> list[str]:
    present = set(df["method"])
    return [m for m in METHODS if m in present]


def _one_task(df: pd.DataFrame, figure: str) -> pd.Series:
    """The first row, after checking the table holds one task (dataset, n, d, compressor, k)."""
    keys = [k for k in ("dataset", "clients", "dim", "compressor", "k", "profile") if k in df]
    tasks = df[keys].drop_duplicates()
    if len(tasks) != 1:
        raise ValueError(f"{figure}: the table mixes tasks {tasks.to_dict('records')}; draw one")
    return df.iloc[0]


def _task_text(first: pd.Series) -> str:
    d, n = int(first["dim"]), int(first["clients"])
    k = int(first.get("k", 1))
    return (f"{first.get('dataset', 'synthetic')} logistic regression with the non-convex regulariser "
            f"(λ = {first.get('lam', 0.1):g}), d = {d}, n = {n} clients"
            + (f", N<sub>i</sub> = {int(first['samples_per_client'])}" if "samples_per_client" in first else "")
            + f", Top{k} (α = k/d = {k / d:.3g}), one dominant client s<sub>1</sub> = 1 + ζ")


# ------------------------------------------------------------------------------------- tuning
def best_multipliers(df: pd.DataFrame) -> pd.DataFrame:
    """The best multiple of the theory step per (ζ, method), chosen on the seed means of the sweep.

    A multiple is a candidate unless one of its seeds diverged. Among the candidates, one whose seeds
    all reached ‖∇f‖² ≤ tol·‖∇f(x^0)‖² beats one that did not, and is ranked by the seed-mean round at
    which it stopped; the others are ranked by the geometric seed mean of the final ‖∇f‖² (the rule of
    :func:`sims.ef21.experiments.run_training` for ``step_multiplier="tuned"``, on seed means instead of
    per seed).

    Returns
    -------
    DataFrame
        Columns heterogeneity, method, step_multiplier (NaN when every multiple diverged), reached (all
        seeds reached the target), rounds (seed-mean stopping round), final (geometric seed mean of the
        final ‖∇f‖²), diverged (the multiples with a diverged seed, as a sorted list). Only rows at the
        method's theory step rule (:data:`THEORY_STEP`) count.
    """
    require(df, ["heterogeneity", "method", "step_multiplier", "round", "grad_sq", "status"], "best_multipliers")
    if "step" in df:
        df = df[df["step"] == df["method"].map(THEORY_STEP)]
    rows = []
    for (zeta, method), sub in df.groupby(["heterogeneity", "method"], sort=True):
        cands, diverged = [], []
        for mult, run_rows in sub.groupby("step_multiplier", sort=True):
            runs = _runs(run_rows)
            status = [str(g["status"].iloc[-1]) for g in runs]
            if "diverged" in status:
                diverged.append(float(mult))
                continue
            reached = all(s == "target" for s in status)
            last = float(np.mean([g["round"].iloc[-1] for g in runs]))
            final = float(np.exp(np.mean([np.log(max(float(g["grad_sq"].iloc[-1]), _TINY)) for g in runs])))
            cands.append(((0 if reached else 1, last if reached else 0.0, final), float(mult), reached, last, final))
        if cands:
            _, mult, reached, last, final = min(cands)
        else:
            mult, reached, last, final = math.nan, False, math.nan, math.nan
        rows.append({"heterogeneity": zeta, "method": method, "step_multiplier": mult, "reached": reached,
                     "rounds": last, "final": final, "diverged": diverged})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------- F1
def _theory_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The rows run at each method's theory step (multiple 1 of GD's 1/L, γ_QM or EF21-W's γ_AM)."""
    step_ok = df["step"] == df["method"].map(THEORY_STEP)
    return df[step_ok & np.isclose(df["step_multiplier"].astype(float), 1.0)]


def _draw_methods(fig: go.Figure, rows: pd.DataFrame, methods: Sequence[str], *, row: int, col: int,
                  showlegend: bool, label: dict[str, str], values: list[np.ndarray], x: str = "round",
                  xs_out: list[np.ndarray] | None = None, dash: str = "solid", band: bool = True,
                  first: int = 0) -> list[str]:
    """One geometric-seed-mean ‖∇f‖² curve per method against the round or a bits column.

    Bits are the same on every seed of a config (a function of the round), so the curve in rounds is
    mapped to bits through the stored (round, bits) pairs of its first seed; 0 bits cannot be drawn on
    a log axis. Returns one note per method: seeds at the target and seeds that diverged.
    """
    notes = []
    for m in methods:
        sub = rows[rows["method"] == m]
        if sub.empty:
            continue
        s = _seed_curve(sub, "grad_sq", first=first)
        xs = None
        if x == "round" and xs_out is not None:
            xs_out.append(s["round"].to_numpy(float))
        if x != "round":
            ref = _runs(sub)[0]
            xs = np.interp(s["round"], ref["round"].to_numpy(float), ref[x].to_numpy(float))
            keep = xs > 0
            s, xs = s[keep], xs[keep]
            if xs_out is not None:
                xs_out.append(xs)
        if s.empty:
            continue
        values.append(s["mean"].to_numpy())
        _curve(fig, s, x=xs, name=label[m], color=COLORS[m], group=m, row=row, col=col, showlegend=showlegend,
               hover="round" if x == "round" else "bits", dash=dash, band=band)
        if dash != "solid":
            fig.data[-1].line.width = 1.2
        status = _status(sub)
        if "diverged" in status:
            xe = float(s["round"].iloc[-1]) if xs is None else float(xs[-1])
            _diverged_mark(fig, xe, float(s["mean"].iloc[-1]), name=label[m], color=COLORS[m], group=m, row=row,
                           col=col)
        reached = sum(st == "target" for st in status)
        notes.append(f"{METHOD_LABELS[m]} {reached}/{len(status)}"
                     + (f" ({status.count('diverged')} diverged)" if "diverged" in status else ""))
    return notes


def f1_grad_vs_rounds(df: pd.DataFrame) -> go.Figure:
    """F1: ‖∇f(x^t)‖² against t for the five methods, at the theory steps and at the best multiples.

    Parameters
    ----------
    df
        Table of experiment ``ef21 training`` with columns heterogeneity, method, step, step_multiplier,
        round, grad_sq, avg_grad_sq, bound, claim, status, H, clients, dim (one task; every method at
        multiple 1 of its theory step for panel (a), the multiples of the tuning grid for panel (b)).

    Returns
    -------
    go.Figure
        Rows: ζ. Left: theory steps with EF21's claim-4 bound (dashed). Right: each method at its best
        multiple (:func:`best_multipliers`, listed in the panel), no bound. Geometric seed means with
        95% bands, log-log (rounds from 1).
    """
    require(df, ["heterogeneity", "method", "step", "step_multiplier", "round", "grad_sq", "avg_grad_sq", "bound",
                 "claim", "status", "H", "clients", "dim"], "F1")
    first = _one_task(df, "F1")
    zetas = sorted(set(df["heterogeneity"]))
    theory = _theory_rows(df)
    best = best_multipliers(df)
    titles = []
    for z in zetas:
        head = _zeta_title(df, z)
        titles += [f"(a) theory steps · {head}", f"(b) best multiple of the theory step · {head}"]
    fig = make_subplots(rows=len(zetas), cols=2, subplot_titles=titles, horizontal_spacing=0.07,
                        vertical_spacing=0.14 if len(zetas) > 1 else 0.1)
    theory_label = {m: f"{METHOD_LABELS[m]}, {STEP_LABELS[THEORY_STEP[m]]}" for m in METHODS}
    notes, choice_notes, bound_notes = [], [], []
    for i, z in enumerate(zetas, start=1):
        values: list[np.ndarray] = []
        th_rows = theory[theory["heterogeneity"] == z]
        rounds_a: list[np.ndarray] = []
        drawn = _draw_methods(fig, th_rows, _methods(th_rows), row=i, col=1, showlegend=i == 1, label=theory_label,
                              values=values, xs_out=rounds_a, first=1)
        notes.append(f"ζ = {fmt_power(z)}: " + ", ".join(drawn))
        ef = th_rows[(th_rows["method"] == "ef21") & (th_rows["claim"] == "ef21.nonconvex_rate")]
        if not ef.empty and ef["bound"].notna().any():
            b = _seed_curve(ef, "bound", first=1)
            values.append(b["mean"].to_numpy())
            _curve(fig, b, name="EF21 claim-4 bound on (1/T)Σ<sub>t<T</sub>‖∇f(x<sup>t</sup>)‖²", color=COLORS["ef21"],
                   group="bound", row=i, col=1, showlegend=i == 1, dash="dash", hover="T", band=False)
            ratio = max(float(np.nanmax((g["avg_grad_sq"] / g["bound"]).to_numpy(float))) for g in _runs(ef))
            bound_notes.append(f"ζ = {fmt_power(z)}: {ratio:.3g}" + ("" if ratio <= 1 else " (EXCEEDS THE BOUND)"))
        _log_axis(fig, values, row=i, col=1, title="‖∇f(x<sup>t</sup>)‖²")
        _log_axis(fig, rounds_a, axis="x", row=i, col=1, title="round t", fit=False)
        # (b) the best multiple per method, in the method's colour (the multiples are listed in the panel)
        values_b: list[np.ndarray] = []
        rounds_b: list[np.ndarray] = []
        parts, inside = [], []
        for _, c in best[best["heterogeneity"] == z].iterrows():
            m, mult = c["method"], c["step_multiplier"]
            if not math.isfinite(mult):
                parts.append(f"{METHOD_LABELS[m]}: every multiple diverged")
                inside.append(f"{METHOD_LABELS[m]}: every multiple diverged")
                continue
            rows_m = df[(df["heterogeneity"] == z) & (df["method"] == m) & (df["step"] == THEORY_STEP[m])
                        & np.isclose(df["step_multiplier"].astype(float), mult)]
            _draw_methods(fig, rows_m, [m], row=i, col=2, showlegend=False, values=values_b, xs_out=rounds_b,
                          first=1, label={m: f"{METHOD_LABELS[m]}, {mult:g}·{STEP_LABELS[THEORY_STEP[m]]}"})
            div = f", ×{', ×'.join(f'{d:g}' for d in c['diverged'])} diverged" if c["diverged"] else ""
            parts.append(f"{METHOD_LABELS[m]} ×{mult:g} ("
                         + (f"target at round {c['rounds']:.0f}" if c["reached"] else "target not reached") + div + ")")
            inside.append(f"{METHOD_LABELS[m]}: {mult:g}·{STEP_LABELS[THEORY_STEP[m]]}")
        xref, yref = axis_ref(fig, i, 2)
        fig.add_annotation(text="best multiple<br>" + "<br>".join(inside), xref=f"{xref} domain",
                           yref=f"{yref} domain", x=0.99, y=0.98, xanchor="right", yanchor="top", showarrow=False,
                           align="left", font={"size": 10}, bgcolor="rgba(255,255,255,0.8)")
        choice_notes.append(f"ζ = {fmt_power(z)}: " + "; ".join(parts))
        _log_axis(fig, values_b, row=i, col=2, title="‖∇f(x<sup>t</sup>)‖²")
        _log_axis(fig, rounds_b, axis="x", row=i, col=2, title="round t", fit=False)
    T = int(df["T"].max()) if "T" in df else int(df["round"].max())
    tol = f"{fmt_power(float(df['tol'].iloc[0]))}" if "tol" in df and pd.notna(df["tol"].iloc[0]) else "tol"
    finish(fig, "F1 · ‖∇f(x<sup>t</sup>)‖² against rounds: GD, EF14, EF21, EF21-W and EControl",
           width=1250, plot_height=330 * len(zetas), legend_rows=2, top=100,
           caption=(f"{_task_text(first)}. Geometric means over {_seeds(df)} with 95% Student-t bands on the mean "
                    f"of log ‖∇f‖²; T ≤ {T}; a run stops at ‖∇f‖² ≤ {tol}·‖∇f(x⁰)‖² and a curve ends where its "
                    "first run stops (✕: a run diverged); log rounds, so round 0 is not drawn. (a) Theory steps: "
                    "GD 1/L; EF14, EF21 and EControl "
                    "γ<sub>QM</sub> = 1/(L + L<sub>QM</sub>ξ); EF21-W γ<sub>AM</sub> = 1/(L + L<sub>AM</sub>ξ); "
                    "EControl with η = α/400. Dashed: EF21's claim-4 bound 2(f(x⁰) − f<sub>low</sub>)/(γT) + "
                    "G⁰/(θT), f<sub>low</sub> = 0, G⁰ = 0 for g<sub>i</sub><sup>0</sup> = ∇f<sub>i</sub>(x⁰): a bound "
                    "on the running average (hence the minimum) over t < T, not on the last iterate; largest "
                    "running average/bound over runs and T: " + "; ".join(bound_notes or ["no EF21 run"])
                    + ". No bound is drawn for EF14, which has no guarantee without bounded gradients. Runs at the "
                    "target: " + "; ".join(notes) + ". (b) Per method the multiple of {1, 2, 4, 8, 16, 32} × its "
                    "theory step, chosen on the means over the sweep's runs: multiples with a diverged run are "
                    "out; one whose runs all reach the target beats one that does not, and among those the "
                    "smallest mean stopping round wins, else the smallest geometric-mean final ‖∇f‖²: "
                    + "; ".join(choice_notes) + ". Steps above the theorems' limits carry no bound."))
    return fig


# ------------------------------------------------------------------------------------- F2
def _best_rows(df: pd.DataFrame, best: pd.DataFrame, zeta: float, method: str) -> pd.DataFrame:
    """The rows of ``method`` at ζ run at the multiple :func:`best_multipliers` chose (empty if none)."""
    c = best[(best["heterogeneity"] == zeta) & (best["method"] == method)]
    if c.empty or not math.isfinite(c["step_multiplier"].iloc[0]):
        return df.iloc[:0]
    mult = float(c["step_multiplier"].iloc[0])
    return df[(df["heterogeneity"] == zeta) & (df["method"] == method) & (df["step"] == THEORY_STEP[method])
              & np.isclose(df["step_multiplier"].astype(float), mult)]


def _bits_to_target(rows: pd.DataFrame, column: str) -> float:
    """Mean over runs of the bits sent when the run stopped at the target (NaN unless every run did)."""
    runs = _runs(rows)
    if not runs or any(str(g["status"].iloc[-1]) != "target" for g in runs):
        return math.nan
    return float(np.mean([g[column].iloc[-1] for g in runs]))


def f2_grad_vs_bits(df: pd.DataFrame) -> go.Figure:
    """F2: ‖∇f(x^t)‖² against the bits each client sent, one column per bit convention.

    Parameters
    ----------
    df
        Table of experiment ``ef21 training`` (the sweep of F1) with columns heterogeneity, method, step,
        step_multiplier, round, grad_sq, bits_values, bits_indices, status, H, clients, dim.

    Returns
    -------
    go.Figure
        Rows: ζ; columns: "values only" (32 bits per value sent; dense initial vectors not counted) and
        "values + indices" (32 + ⌈log₂ d⌉ bits per sent entry, plus 32d once for a dense initial state).
        Solid with 95% bands: each method at its best multiple (:func:`best_multipliers`, as F1(b));
        dotted: at its theory step (multiple 1). Log-log; 0 bits (round 0, values only) cannot be drawn.
    """
    require(df, ["heterogeneity", "method", "step", "step_multiplier", "round", "grad_sq", "bits_values",
                 "bits_indices", "status", "H", "clients", "dim"], "F2")
    first = _one_task(df, "F2")
    theory = _theory_rows(df)
    if theory.empty:
        raise ValueError("F2: the table has no run at a method's theory step (step_multiplier 1)")
    tuned = len(set(df["step_multiplier"].astype(float))) > 1
    best = best_multipliers(df) if tuned else None
    zetas = sorted(set(theory["heterogeneity"]))
    conventions = (("bits_values", "values only"), ("bits_indices", "values + indices"))
    titles = [f"({'ab'[j]}) {conv} · {_zeta_title(df, z)}" for z in zetas for j, (_, conv) in enumerate(conventions)]
    fig = make_subplots(rows=len(zetas), cols=2, subplot_titles=titles, horizontal_spacing=0.07,
                        vertical_spacing=0.14 if len(zetas) > 1 else 0.1)
    d = int(first["dim"])
    axis_names = {"bits_values": "bits per client, values only (32 per value)",
                  "bits_indices": f"bits per client, values + indices (32 + ⌈log₂ {d}⌉ per entry)"}
    notes = []
    for i, z in enumerate(zetas, start=1):
        rows = theory[theory["heterogeneity"] == z]
        methods = _methods(rows)
        for j, (column, _) in enumerate(conventions, start=1):
            values: list[np.ndarray] = []
            xs: list[np.ndarray] = []
            first_panel = i == 1 and j == 1
            if tuned:
                for m in methods:
                    _draw_methods(fig, _best_rows(df, best, z, m), [m], row=i, col=j, showlegend=first_panel,
                                  label={m: METHOD_LABELS[m]}, values=values, x=column, xs_out=xs)
            _draw_methods(fig, rows, methods, row=i, col=j, showlegend=first_panel and not tuned,
                          label={m: f"{METHOD_LABELS[m]}, theory step" for m in methods}, values=values, x=column,
                          xs_out=xs, dash="dot" if tuned else "solid", band=not tuned)
            _log_axis(fig, values, row=i, col=j, title="‖∇f(x<sup>t</sup>)‖²")
            _log_axis(fig, xs, axis="x", row=i, col=j, title=axis_names[column], fit=False)
            if tuned:
                cost = []
                for m in methods:
                    c = best[(best["heterogeneity"] == z) & (best["method"] == m)]
                    b = _bits_to_target(_best_rows(df, best, z, m), column)
                    if math.isfinite(b):
                        cost.append(f"{METHOD_LABELS[m]} ×{float(c['step_multiplier'].iloc[0]):g}: {b:.0f}")
                name = "values only" if column == "bits_values" else "values + indices"
                notes.append(f"ζ = {fmt_power(z)}, {name}: " + (", ".join(cost) if cost else "no method at the target"))
    if tuned:  # a legend key for the dotted theory-step curves
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name="dotted: the same method at its theory step",
                                 line={"color": THEORY_COLOR, "dash": "dot", "width": 1.2}, hoverinfo="skip"),
                      row=1, col=1)
    shift = ""
    comp = theory[(theory["method"] != "gd") & (theory["heterogeneity"] == zetas[0])]
    if not comp.empty:
        g = _runs(comp[comp["method"] == comp["method"].iloc[0]])[0]
        per = np.diff(g[["bits_values", "bits_indices"]].to_numpy(float)[-2:], axis=0)[0]
        if per[0] > 0:
            shift = (f" Per round, a compressed method's values + indices count is ×{per[1] / per[0]:.4g} its "
                     f"values-only count ((32 + ⌈log₂ {d}⌉)/32 = {(32 + math.ceil(math.log2(d))) / 32:.4g}): "
                     "the compressed curves shift right by that factor (and by the dense start).")
    tuning = (" Solid, with 95% bands: each method at the multiple of its theory step chosen for F1(b); dotted: "
              "at the theory step itself. Mean bits per client at the stopping target ‖∇f‖² ≤ tol·‖∇f(x⁰)‖² "
              "(every run there; best multiples): " + "; ".join(notes) + "." if tuned else
              " Every method at its theory step.")
    finish(fig, "F2 · ‖∇f(x<sup>t</sup>)‖² against the uplink bits per client, two bit conventions",
           width=1250, plot_height=330 * len(zetas), legend_rows=2, top=100,
           caption=(f"{_task_text(first)}, g<sub>i</sub><sup>0</sup> = ∇f<sub>i</sub>(x⁰). Geometric means over "
                    f"{_seeds(df)} against the uplink bits each client sent up to round t (downlink broadcast not "
                    f"counted; 32 bits per value as the authors count). GD sends 32d = {32 * d} bits per round "
                    "under both conventions, Top1 one value. Values + indices adds ⌈log₂ d⌉ bits per sent entry "
                    "and 32d once for a method whose initial state needs a dense gradient (EF21, EF21-W, "
                    "EControl here); under values only, round 0 sends nothing and is not drawn." + tuning + shift))
    return fig


# ------------------------------------------------------------------------------------- F3
def f3_speedup(df: pd.DataFrame) -> go.Figure:
    """F3: measured rounds ratio EF21(γ_QM)/EF21-W(γ_AM) against H, with S_pred, y = H and √n.

    Parameters
    ----------
    df
        Table of experiment ``ef21 speedup`` with columns zeta, H, measured_speedup, predicted_speedup,
        sqrt_n, reached_ef21, reached_ef21w (and target, T, clients, k for the caption).

    Returns
    -------
    go.Figure
        Log-log. x: H = L_QM/L_AM (seed mean per ζ with a 95% bar); y: the seed-mean measured ratio with
        its 95% bar (over the seeds where both methods reached the target), claim 8's S_pred (seed mean),
        the line y = H and the ceiling √n.
    """
    require(df, ["zeta", "H", "measured_speedup", "predicted_speedup", "sqrt_n", "reached_ef21", "reached_ef21w"],
            "F3")
    df = df.assign(_both=df["reached_ef21"].astype(bool) & df["reached_ef21w"].astype(bool))
    H = _summary(df, "zeta", "H")
    pred = _summary(df, "zeta", "predicted_speedup").merge(H[["zeta", "mean"]].rename(columns={"mean": "H"}),
                                                            on="zeta")
    ok = df[df["_both"]]
    meas = _summary(ok, "zeta", "measured_speedup") if not ok.empty else \
        pd.DataFrame({"zeta": [], "mean": [], "half": [], "n": []})
    meas = meas.merge(H[["zeta", "mean", "half"]].rename(columns={"mean": "H", "half": "H_half"}), on="zeta")
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=meas["H"], y=meas["mean"], mode="lines+markers",
        name="measured: rounds of EF21 (γ<sub>QM</sub>) / rounds of EF21-W (γ<sub>AM</sub>)",
        line={"color": COLORS["ef21w"], "width": 2}, marker={"size": 8},
        error_y={"type": "data", "array": meas["half"], "visible": True, "thickness": 1.2},
        error_x={"type": "data", "array": meas["H_half"], "visible": True, "thickness": 1},
        customdata=np.column_stack([meas["zeta"], meas["half"], meas["n"]]),
        hovertemplate=("ζ = %{customdata[0]:g}<br>H = %{x:.4g}<br>measured %{y:.4g} ± %{customdata[1]:.2g} "
                       "(95%, %{customdata[2]} seeds)<extra></extra>")))
    fig.add_trace(go.Scatter(
        x=pred["H"], y=pred["mean"], mode="lines+markers",
        name="claim 8: S<sub>pred</sub> = γ<sub>AM</sub>/γ<sub>QM</sub> = (L + L<sub>QM</sub>ξ)/(L + L<sub>AM</sub>ξ)",
        line={"color": THEORY_COLOR, "dash": "dash", "width": 1.5}, marker={"size": 6, "symbol": "diamond"},
        customdata=pred["zeta"],
        hovertemplate="ζ = %{customdata:g}<br>H = %{x:.4g}<br>S_pred %{y:.4g}<extra></extra>"))
    h_all = df["H"].to_numpy(float)
    sqrt_n = float(df["sqrt_n"].iloc[0])
    span = np.array([max(1.0, h_all.min() / 1.05), max(h_all.max() * 1.1, sqrt_n * 1.05)])
    fig.add_trace(go.Scatter(x=span, y=span, mode="lines", name="y = H (S<sub>pred</sub> → H as ξ → ∞)",
                             line={"color": "#bcbd22", "dash": "dot", "width": 1.5},
                             hovertemplate="y = H = %{x:.4g}<extra></extra>"))
    fig.add_trace(go.Scatter(x=span, y=[sqrt_n, sqrt_n], mode="lines", name=f"ceiling √n = {sqrt_n:.3g} (H < √n)",
                             line={"color": "#d62728", "dash": "longdash", "width": 1.2},
                             hovertemplate=f"√n = {sqrt_n:.4g}<extra></extra>"))
    ticks = [v for v in (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 15, 20, 30) if span[0] / 1.05 <= v <= span[1] * 1.05]
    ticks = (ticks, [f"{v:g}" for v in ticks])
    fig.update_xaxes(type="log", tickvals=ticks[0], ticktext=ticks[1],
                     title_text="heterogeneity H = L<sub>QM</sub>/L<sub>AM</sub> (seed mean per ζ)")
    fig.update_yaxes(type="log", tickvals=ticks[0], ticktext=ticks[1],
                     title_text="speed-up in rounds to the target (the same in bits)")
    missed = df[~df["_both"]]
    miss = (f"{len(missed)} of {len(df)} (ζ, seed) runs did not reach the target within T and are left out "
            f"(ζ ∈ {{{', '.join(fmt_power(z) for z in sorted(set(missed['zeta'])))}}})" if len(missed)
            else "every run reached the target")
    rel = meas["mean"].to_numpy() / pred.set_index("zeta").loc[meas["zeta"], "mean"].to_numpy() if len(meas) else []
    track = (f"measured/S<sub>pred</sub> per ζ lies in [{np.min(rel):.4f}, {np.max(rel):.4f}]" if len(rel)
             else "no ratio was measured")
    first = df.iloc[0]
    target = fmt_power(float(first["target"])) if "target" in df else "target"
    T = f", T = {int(first['T'])}" if "T" in df else ""
    n = int(first["clients"]) if "clients" in df else round(sqrt_n**2)
    finish(fig, "F3 · speed-up of EF21-W (γ<sub>AM</sub>) over EF21 (γ<sub>QM</sub>) against heterogeneity",
           width=1000, plot_height=470, legend_rows=2,
           caption=(f"Rounds to ‖∇f‖² ≤ {target}·‖∇f(x⁰)‖² of EF21 at γ<sub>QM</sub> over those of EF21-W at "
                    f"γ<sub>AM</sub> (Top{int(first.get('k', 1))}, g<sub>i</sub><sup>0</sup> = ∇f<sub>i</sub>(x⁰)"
                    f"{T}); n = {n} clients, one dominant client s₁ = 1 + ζ, ζ ∈ "
                    f"{{{', '.join(fmt_power(z) for z in sorted(set(df['zeta'])))}}}; each ζ scales the same data, "
                    f"split "
                    f"and x⁰ of a seed. Seed means over {_seeds(df)} with 95% Student-t bars in both coordinates. "
                    "Both methods send k values per round, so the ratio is the same in bits. S<sub>pred</sub> is a "
                    "ratio of upper bounds, not a guarantee; it lies in [1, H] and tends to H as ξ grows. "
                    f"{track}; {miss}."))
    return fig


# ------------------------------------------------------------------------------------- F4
def f4_claim_check(df: pd.DataFrame) -> go.Figure:
    """F4: running average of ‖∇f‖² against its bound, per claim and initialisation (log-log).

    Parameters
    ----------
    df
        Table of experiment ``ef21 training`` with columns method, step, init, round, avg_grad_sq, bound,
        claim, clients, dim (runs at multiple 1 of the step).

    Returns
    -------
    go.Figure
        One panel per (method, step) of :data:`F4_PANELS`: the geometric seed mean of the running
        average (1/T)Σ_{t<T}‖∇f(x^t)‖² (solid, 95% band) and of the bound 2(f(x^0) − f_low)/(γT) +
        E^0/(θT) (dashed) for g_i^0 = ∇f_i(x^0) and g_i^0 = 0; the largest per-run ratio average/bound
        over seeds and T in each panel and in the caption (per-run claims: ≤ 1 on every seed and T).
    """
    require(df, ["method", "step", "init", "round", "avg_grad_sq", "bound", "claim", "clients", "dim"], "F4")
    first = _one_task(df, "F4")
    panels = [(m, s, c) for m, s, c in F4_PANELS if ((df["method"] == m) & (df["step"] == s)).any()]
    if not panels:
        raise ValueError("F4: the table has none of the runs (EF21, γ_QM), (EF21-W, γ_AM), (EF21, γ_AM)")
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[F4_TITLES[(m, s)] for m, s, _ in panels],
                        horizontal_spacing=0.06)
    verdicts = []
    for j, (m, s, claim) in enumerate(panels, start=1):
        sub = df[(df["method"] == m) & (df["step"] == s)]
        values: list[np.ndarray] = []
        lines = []
        for init in [i for i in ("gradient", "zero") if i in set(sub["init"])]:
            runs = sub[sub["init"] == init]
            color, lab = INIT_COLORS[init], INIT_LABELS[init]
            short = "g⁰ = ∇f(x⁰)" if init == "gradient" else "g⁰ = 0"
            avg = _seed_curve(runs, "avg_grad_sq", first=1)
            values.append(avg["mean"].to_numpy())
            _curve(fig, avg, name=f"running average, {lab}", color=color, group=init, row=1, col=j,
                   showlegend=j == 1, hover="T")
            claims = set(runs["claim"].fillna(""))
            if claims != {claim} or not runs["bound"].notna().any():
                lines.append(f"{short}: no bound ({', '.join(sorted(claims)) or 'no claim'})")
                verdicts.append(f"{F4_TITLES[(m, s)][4:]}, {lab}: the table names claim {sorted(claims)}, not "
                                f"{claim}; no bound drawn")
                continue
            bnd = _seed_curve(runs, "bound", first=1)
            values.append(bnd["mean"].to_numpy())
            _curve(fig, bnd, name=f"bound, {lab}", color=color, group=init, row=1, col=j, showlegend=j == 1,
                   dash="dash", hover="T", band=False)
            ratios = [float(np.nanmax((g["avg_grad_sq"] / g["bound"]).to_numpy(float))) for g in _runs(runs)
                      if g["bound"].notna().any()]
            worst = max(ratios)
            holds = all(r <= 1.0 for r in ratios)
            lines.append(f"{short}: max avg/bound {worst:.3g}" + ("" if holds else " > 1: FAILS"))
            verdicts.append(f"{F4_TITLES[(m, s)][4:]}, {lab}: max {worst:.3g} over {len(ratios)} runs"
                            + ("" if holds else " — THE BOUND FAILS"))
        xref, yref = axis_ref(fig, 1, j)
        # the bounds fall from the upper left and the averages run along the bottom: the upper right is free
        fig.add_annotation(text="<br>".join(lines), xref=f"{xref} domain", yref=f"{yref} domain", x=0.98, y=0.98,
                           xanchor="right", yanchor="top", showarrow=False, align="left", font={"size": 10},
                           bgcolor="rgba(255,255,255,0.8)")
        _log_axis(fig, values, row=1, col=j, title="(1/T)Σ<sub>t<T</sub>‖∇f(x<sup>t</sup>)‖²" if j == 1 else None)
        _log_axis(fig, [sub["round"].to_numpy(float)], axis="x", row=1, col=j, title="T (rounds averaged)", fit=False)
    zeta = float(df["heterogeneity"].iloc[0]) if "heterogeneity" in df else math.nan
    H = float(df["H"].mean()) if "H" in df else math.nan
    finish(fig, "F4 · claims 4-6 per run: the running average of ‖∇f(x<sup>t</sup>)‖² against its bound",
           width=1300, plot_height=420, legend_rows=2,
           caption=(f"{_task_text(first)}, ζ = {fmt_power(zeta)} (H = {H:.3g}), theory steps. Solid: the running "
                    "average "
                    "(1/T)Σ<sub>t<T</sub>‖∇f(x<sup>t</sup>)‖²; dashed: its bound 2(f(x⁰) − f<sub>low</sub>)/(γT) + "
                    "E⁰/(θT), f<sub>low</sub> = 0, with E⁰ = G⁰ = (1/n)Σ‖g<sub>i</sub><sup>0</sup> − "
                    "∇f<sub>i</sub>(x⁰)‖² (claim 4), G<sub>W</sub><sup>0</sup> = "
                    "Σw<sub>i</sub>‖g<sub>i</sub><sup>0</sup> − ∇f<sub>i</sub>(x⁰)/(nw<sub>i</sub>)‖² (claim 5) "
                    "or G̃⁰ = (1/n)Σ(L<sub>AM</sub>/L<sub>i</sub>)"
                    "‖g<sub>i</sub><sup>0</sup> − ∇f<sub>i</sub>(x⁰)‖² (claim 6); E⁰ = 0 for g<sub>i</sub><sup>0</sup> "
                    f"= ∇f<sub>i</sub>(x⁰). Geometric means over {_seeds(df)} with 95% bands. With full gradients and "
                    "Top1 every run is deterministic, so each claim must hold on every run and every T; the largest "
                    "ratio running average/bound: " + "; ".join(verdicts) + ". TopK is positively homogeneous "
                    "(C(cv) = cC(v), c > 0), so EF21-W at γ<sub>AM</sub> runs the iterates of EF21 at γ<sub>AM</sub> "
                    "and G<sub>W</sub> = G̃: (b) and (c) coincide on a shared instance."))
    return fig


# ------------------------------------------------------------------------------------- F5
def f5_divergence(df: pd.DataFrame) -> go.Figure:
    """F5: compressed GD without error feedback diverges where EF21 converges (Top1, three clients).

    Parameters
    ----------
    df
        Table of experiment ``ef21 divergence`` with columns method (``compressed_gd``, ``ef21``),
        step_multiplier, scale, k, round, grad_sq, status, gamma.

    Returns
    -------
    go.Figure
        One panel per step multiple: geometric seed mean of ‖∇f(x^t)‖² (log y) for both methods, a ✕
        where compressed GD left the finite range, and the growth ‖∇f(x^0)‖²(1 + γ(6c² − 1)/3)^{2t}
        along the ray x = t·1 (dotted), with the fitted growth factor per round in the caption.
    """
    require(df, ["method", "step_multiplier", "scale", "k", "round", "grad_sq", "status", "gamma"], "F5")
    mults = sorted(set(df["step_multiplier"].astype(float)))
    fig = make_subplots(rows=1, cols=len(mults), horizontal_spacing=0.08,
                        subplot_titles=[f"({chr(97 + j)}) γ = {m:g}·γ<sub>QM</sub>" for j, m in enumerate(mults)])
    notes = []
    k = int(df["k"].iloc[0])
    for j, mult in enumerate(mults, start=1):
        panel = df[np.isclose(df["step_multiplier"].astype(float), mult)]
        values: list[np.ndarray] = []
        gamma, c = float(panel["gamma"].iloc[0]), float(panel["scale"].iloc[0])
        note = [f"γ = {mult:g}γ<sub>QM</sub> = {gamma:.3g}"]
        for m in [m for m in ("compressed_gd", "ef21") if m in set(panel["method"])]:
            sub = panel[panel["method"] == m]
            s = _seed_curve(sub, "grad_sq")
            values.append(s["mean"].to_numpy())
            _curve(fig, s, name=f"{METHOD_LABELS[m]}, Top{k}", color=COLORS[m], group=m, row=1, col=j,
                   showlegend=j == 1)
            status = _status(sub)
            if "diverged" in status:
                _diverged_mark(fig, float(s["round"].iloc[-1]), float(s["mean"].iloc[-1]), name=METHOD_LABELS[m],
                               color=COLORS[m], group=m, row=1, col=j)
            end = (f"diverged after round {s['round'].iloc[-1]:.0f}" if "diverged" in status
                   else f"‖∇f‖² = {s['mean'].iloc[-1]:.3g} at round {s['round'].iloc[-1]:.0f}")
            note.append(f"{'compressed GD' if m == 'compressed_gd' else 'EF21'} {end}")
            if m == "compressed_gd":
                rate = 1.0 + gamma * (6.0 * c * c - 1.0) / 3.0
                t = s["round"].to_numpy(float)
                fig.add_trace(go.Scatter(
                    x=t, y=float(s["mean"].iloc[0]) * rate ** (2.0 * t), mode="lines",
                    name="growth along x = t·1: ‖∇f(x⁰)‖²(1 + γ(6c² − 1)/3)<sup>2t</sup>", legendgroup="rate",
                    showlegend=j == 1, line={"color": THEORY_COLOR, "dash": "dot", "width": 1.3},
                    hovertemplate="growth along the ray<br>round %{x:.0f}<br>%{y:.4g}<extra></extra>"), row=1, col=j)
                half = len(t) // 2
                if len(t) - half >= 2:
                    slope = float(np.polyfit(t[half:], np.log(s["mean"].to_numpy()[half:]), 1)[0])
                    note.append(f"its growth per round over the second half {math.exp(slope / 2):.6g} "
                                f"(predicted {rate:.6g})")
        notes.append(", ".join(note))
        _log_axis(fig, values, row=1, col=j, title="‖∇f(x<sup>t</sup>)‖²" if j == 1 else None)
        fig.update_xaxes(title_text="round t", row=1, col=j)
    c = float(df["scale"].iloc[0])
    finish(fig, "F5 · why error feedback: compressed GD diverges where EF21 converges (Top1, three clients)",
           width=1150, plot_height=420, legend_rows=2,
           caption=(f"Beznosikov et al.'s Example 1 with c = {c:g}: f<sub>i</sub>(x) = ⟨a<sub>i</sub>, x⟩² + "
                    "½‖x‖², a₁ = c(−3, 2, 2), a₂ = c(2, −3, 2), a₃ = c(2, 2, −3), x* = 0, f* = 0; x⁰ = (1, 1, 1) + "
                    "10⁻³·N(0, I). On the ray x = t·1, Top1 keeps client i's i-th gradient entry t(1 − 6c²), so "
                    "compressed GD, x<sup>t+1</sup> = x<sup>t</sup> − γ(1/n)ΣC(∇f<sub>i</sub>(x<sup>t</sup>)), "
                    "multiplies x by 1 + γ(6c² − 1)/3 > 1 at every γ > 0 (the other directions contract), while "
                    f"EF21 at the same γ compresses innovations and converges. Geometric means over {_seeds(df)} "
                    "(seeds differ only in the perturbation of x⁰) with 95% bands; ✕: the run stopped once ‖∇f‖² "
                    "left the range. " + "; ".join(notes) + "."))
    return fig


# ------------------------------------------------------------------------------------- builders
build_f1 = builder(f1_sweep, f1_grad_vs_rounds)
build_f2 = builder(f2_sweep, f2_grad_vs_bits)
build_f3 = builder(f3_sweep, f3_speedup)
build_f4 = builder(f4_sweep, f4_claim_check)
build_f5 = builder(f5_sweep, f5_divergence)


FIGURES: list[FigureSpec] = [
    FigureSpec("ef21_F1_grad_vs_rounds", "F1: ‖∇f‖² vs rounds, five methods, theory and tuned steps, claim-4 bound",
               build_f1),
    FigureSpec("ef21_F2_grad_vs_bits", "F2: ‖∇f‖² vs bits per client, values only and values + indices", build_f2),
    FigureSpec("ef21_F3_speedup", "F3: EF21-W over EF21 rounds ratio vs heterogeneity H, S_pred, y = H, √n",
               build_f3),
    FigureSpec("ef21_F4_claim_check", "F4: running average of ‖∇f‖² vs the bounds of claims 4-6, two inits",
               build_f4),
    FigureSpec("ef21_F5_divergence", "F5: compressed GD without error feedback diverges, EF21 converges", build_f5),
]
