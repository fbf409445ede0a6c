r"""Figures F1–F7 of the ALF-LB topic (spec ``alf_lb.md`` §5): auxiliary-loss-free load balancing.

Every figure is a pure function of the tidy table of one registered experiment of topic ``alf_lb``
(one row per config × seed × checkpoint, or × arm), and every figure has a sweep builder
``f<k>_sweep(scale) -> Sweep`` and a ``build_f<k>(scale, base_seed, jobs, cache_dir)`` that runs the
sweep (:func:`sims.runner.run_sweep`) and draws it. Seed means are drawn with 95% Student-t intervals.

- **F1** :func:`f1_regret_vs_T` (experiment ``gumbel_regret``): pseudo-regret Σ_t[F(p_t) − F*] on
  the Gumbel testbed (K = 1, E = 8, n = 64) against T, log-log, for η_t = c/(μt) with
  c ∈ {0.1, 0.5, 1, 2} (μ = 1/E, the curvature at p*, unprojected: claim 10's dichotomy), the
  projected runs η_t = c/(μ_R t), c ∈ {1, 2}, on P = {Σp = 0, ‖p − p*‖₂ ≤ R} with the claim-9 bound
  (cG²/(2μ_R))H_T, η₀/√t, a constant η and sign steps u ∈ {10⁻³, 10⁻²}; slopes fitted over the upper
  half of the checkpoints in the legend. A second panel draws the logarithmic-rate runs against ln T.
- **F2** :func:`f2_maxvio_batch` (``stream_balance``): MaxVio_batch against the step (log x) for the
  sign rule with u ∈ {10⁻⁴, 10⁻³, 10⁻²} and vanilla top-K on a drifting popularity stream, with
  claim 11's sampling floor m_E√((E − K)/(Kn)); a second panel shows MaxVio_global on the held-out
  set with the same floor at the held-out size.
- **F3** :func:`f3_dual_gap` (``fixed_batch``): the dual gap D(p_t) − OPT on one fixed batch against
  the iteration (log-log) for sign steps u ∈ {10⁻³, 10⁻², 10⁻¹}: a monotone phase, then a limit
  cycle (transient and period in the legend). A second panel shows claim 4's sandwich
  ⟨δ, g_t⟩ ≤ ΔD ≤ ⟨δ, g_{t+1}⟩ step by step for one run.
- **F4** :func:`f4_batch_size` (``batch_size``): MaxVio of computation batches of 2⁹…2¹⁶ tokens
  under the final router of ALF-LB (global counts) and of the aux loss, with claim 11's floor
  (analogue of Wang et al. Fig. 5).
- **F5** :func:`f5_tradeoff` (``tradeoff``): quality (Σs·x − LP)/(vanilla − LP) against MaxVio_global
  (log x) for the aux loss over α ∈ {0, 10⁻⁴, 10⁻³, 10⁻², 10⁻¹} and ALF-LB over u ∈ {10⁻⁴, 10⁻³, 10⁻²}.
- **F6** :func:`f6_specialisation` (``specialisation``): domain × expert usage of the final router
  on domain-clustered data for the aux loss and ALF-LB, each with micro- and global-batch counting
  (four heatmaps), with the mean per-domain usage entropy and MaxVio_global in the titles.
- **F7** :func:`f7_moe` (``moe``): the small MoE layer: held-out MSE and MaxVio_global over training
  for no balancing, the aux loss and ALF-LB.

A log axis cannot show a zero: a dual gap of exactly 0 (exact balance on the LP optimum, common at
small u) is drawn at the panel's floor with an ✕ marker in F3, and a MaxVio of 0 likewise in F2; the
captions say so and the hover gives the value.

References
----------
X.Y. Han, Y. Zhong, arXiv 2512.03915 (the primal-dual reading). L. Wang, H. Gao, C. Zhao, X. Sun,
D. Dai, arXiv 2408.15664 (Algorithm 1; MaxVio, Eq. 4; Fig. 2, 4, 5). Z. Qiu et al., arXiv 2501.11873
(global-batch counting). E. Hazan, A. Agarwal, S. Kale, Machine Learning 69 (2007) (log regret).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy import stats

import sims.alf_lb  # registers the experiments of the topic
import sims.alf_lb.balance  # noqa: F401  (registers stream_balance, batch_size, tradeoff, specialisation)
from paper_figs import FigureSpec
from paper_figs.layout import axis_ref, finish, fmt_power, fmt_slope, log_ticks, rgba
from paper_figs.sweeps import Sweep, builder, check_scale, make_sweep, require, run
from sims.backend import gpu_available
from sims.checks import fit_slope
from theory import alf_lb as th

__all__ = [
    "EXPERIMENTS",
    "FIGURES",
    "Sweep",
    "build_f1",
    "build_f2",
    "build_f3",
    "build_f4",
    "build_f5",
    "build_f6",
    "build_f7",
    "f1_regret_vs_T",
    "f1_sweep",
    "f2_maxvio_batch",
    "f2_sweep",
    "f3_dual_gap",
    "f3_sweep",
    "f4_batch_size",
    "f4_sweep",
    "f5_sweep",
    "f5_tradeoff",
    "f6_specialisation",
    "f6_sweep",
    "f7_moe",
    "f7_sweep",
    "run",
]


#: Numbers in labels: exact powers of ten as 10ᵉ (below=-2, above=2).
_fmt = partial(fmt_power, below=-2, above=2)

#: The experiment (of topic ``alf_lb``) behind each figure.
EXPERIMENTS: dict[str, str] = {"F1": "gumbel_regret", "F2": "stream_balance", "F3": "fixed_batch",
                               "F4": "batch_size", "F5": "tradeoff", "F6": "specialisation", "F7": "moe"}
#: F1: c of η_t = c/(μt) with μ = 1/E (unprojected), and c of the projected runs with μ = μ_R.
F1_CS = (0.1, 0.5, 1.0, 2.0)
F1_PROJECTED_CS = (1.0, 2.0)
F1_SIGN_US = (1e-3, 1e-2)
#: F1's η₀ of η₀/√t and its constant η (the constant of the claim-10 check).
F1_ETA0 = 1.0
F1_ETA = 1.0
#: The Gumbel testbed of F1: the checks' instance (E = 8, n = 64, spread 0.5, popularities of seed 0).
F1_TESTBED: dict[str, Any] = {"E": 8, "batch": 64, "spread": 0.5, "instance": 0}
F2_US = (1e-4, 1e-3, 1e-2)
F2_TAU = 1e-3
F3_US = (1e-3, 1e-2, 1e-1)
F5_ALPHAS = (0.0, 1e-4, 1e-3, 1e-2, 1e-1)
F5_US = (1e-4, 1e-3, 1e-2)
F7_ARMS = ("none", "aux", "alf_lb")

PALETTE = ("#d62728", "#ff7f0e", "#1f77b4", "#17becf", "#2ca02c", "#8c564b", "#9467bd", "#e377c2",
           "#bcbd22", "#7f7f7f")
ARM_COLORS: dict[str, str] = {"vanilla": "#7f7f7f", "none": "#7f7f7f", "aux": "#d62728", "alf_lb": "#1f77b4"}
U_COLORS = ("#9467bd", "#1f77b4", "#2ca02c", "#ff7f0e", "#8c564b")
THEORY_COLOR = "#444444"
MAXVIO_G = "MaxVio<sub>global</sub>"
MAXVIO_B = "MaxVio<sub>batch</sub>"


# ------------------------------------------------------------------------------------- sweeps
def _sweep(experiment: str, configs: Sequence[dict[str, Any]], seeds: int) -> Sweep:
    return make_sweep("alf_lb", experiment, configs, seeds)


def f1_sweep(scale: str = "quick") -> Sweep:
    """F1: the step rules of claims 9-10 on one Gumbel testbed (E = 8, n = 64, spread 0.5, instance 0).

    c/(μt) with μ = 1/E unprojected for c ∈ {0.1, 0.5, 1, 2}; c/(μ_R t) projected on
    ‖p − p*‖₂ ≤ R = ‖p*‖₂ for c ∈ {1, 2}; η₀/√t with η₀ = 1 and constant η = 1 (unprojected); sign
    steps u ∈ {10⁻³, 10⁻²}. quick: T = 2^14, 4 seeds; full: T = 2^17 (> 10⁵), 20 seeds.
    """
    check_scale(scale)
    T, seeds = (2**14, 4) if scale == "quick" else (2**17, 20)
    base = {**F1_TESTBED, "T": T}
    configs = [{**base, "rule": "inverse_t", "c": c, "mu": "curvature", "project": False} for c in F1_CS]
    configs += [{**base, "rule": "inverse_t", "c": c, "mu": "modulus", "project": True} for c in F1_PROJECTED_CS]
    configs += [{**base, "rule": "inverse_sqrt", "eta0": F1_ETA0, "project": False},
                {**base, "rule": "constant", "eta": F1_ETA, "project": False}]
    configs += [{**base, "rule": "sign", "u": u, "project": False} for u in F1_SIGN_US]
    return _sweep(EXPERIMENTS["F1"], configs, seeds)


def f2_sweep(scale: str = "quick") -> Sweep:
    """F2: sign rule u ∈ {10⁻⁴, 10⁻³, 10⁻²} and vanilla top-K on a drifting stream (τ = 10⁻³).

    E = 16, K = 2, n = 1024 tokens per batch, global counting. quick: 1000 steps, held-out set of
    8192 tokens, 2 seeds; full: 20000 steps, 65536 held-out tokens, 5 seeds.
    """
    check_scale(scale)
    if scale == "quick":
        size, seeds = {"steps": 1000, "held_out": 8192, "eval_points": 24}, 2
    else:
        size, seeds = {"steps": 20000, "held_out": 65536, "eval_points": 48}, 5
    base = {"E": 16, "K": 2, "batch": 1024, "tau": F2_TAU, "quality_points": 0, **size}
    configs = [{**base, "arm": "alf_lb", "rule": "sign", "u": u} for u in F2_US]
    configs.append({**base, "arm": "vanilla"})
    return _sweep(EXPERIMENTS["F2"], configs, seeds)


def f3_sweep(scale: str = "quick") -> Sweep:
    """F3: sign steps u ∈ {10⁻³, 10⁻², 10⁻¹} on one batch (E = 16, K = 2, spread 1).

    quick: n = 256 tokens, 3000 iterations, 2 seeds; full: n = 512, 10000 iterations, 5 seeds (each
    seed is its own batch).
    """
    check_scale(scale)
    n, iters, seeds = (256, 3000, 2) if scale == "quick" else (512, 10000, 5)
    configs = [{"n": n, "E": 16, "K": 2, "spread": 1.0, "rule": "sign", "u": u, "iters": iters} for u in F3_US]
    return _sweep(EXPERIMENTS["F3"], configs, seeds)


def f4_sweep(scale: str = "quick") -> Sweep:
    """F4: ALF-LB (sign, global counts) and the aux loss (α = 10⁻³) trained on one stream.

    quick: u = 10⁻², 1024 tokens per step, 1000 steps, computation batches 2⁹…2¹⁴ of a 2¹⁵-token pool, 2 seeds;
    full: u = 10⁻³, 4096 tokens per step, 5000 steps, 2⁹…2¹⁶ of a 2¹⁸-token pool, 5 seeds. The full run is long
    enough for sign steps of u = 10⁻³ to cover the popularity range (≈ 3.5 for E = 16, spread 1, so
    ≳ 3500 steps): the figure is about the trained router, not the transient.
    """
    check_scale(scale)
    if scale == "quick":  # u = 10⁻² covers the popularity range within the 1000 quick steps
        size, seeds = {"batch": 1024, "steps": 1000, "sizes": [2**k for k in range(9, 15)], "pool": 2**15,
                       "u": 1e-2}, 2
    else:
        size, seeds = {"batch": 4096, "steps": 5000, "sizes": [2**k for k in range(9, 17)], "pool": 2**18,
                       "u": 1e-3}, 5
    config = {"E": 16, "K": 2, "arms": ["alf_lb", "aux"], "rule": "sign", "alpha": 1e-3, **size}
    return _sweep(EXPERIMENTS["F4"], [config], seeds)


def f5_sweep(scale: str = "quick") -> Sweep:
    """F5: aux α ∈ {0, 10⁻⁴, 10⁻³, 10⁻², 10⁻¹} and ALF-LB u ∈ {10⁻⁴, 10⁻³, 10⁻²} on one stream per seed.

    E = 16, K = 2, n = 1024, stationary popularity. quick: 500 steps, 8192 held-out tokens, 2 seeds;
    full: 2000 steps, 65536 held-out tokens, 5 seeds.
    """
    check_scale(scale)
    size, seeds = ({"steps": 500, "held_out": 8192, "lp_batches": 1}, 2) if scale == "quick" else \
        ({"steps": 2000, "held_out": 65536, "lp_batches": 4}, 5)
    config = {"E": 16, "K": 2, "batch": 1024, "alphas": list(F5_ALPHAS), "us": list(F5_US), "rule": "sign",
              "counting": "global", **size}
    return _sweep(EXPERIMENTS["F5"], [config], seeds)


def f6_sweep(scale: str = "quick") -> Sweep:
    """F6: vanilla, aux and ALF-LB, micro and global counting, on domain-clustered data (D = 8, E = 16, K = 2).

    quick: sequences of 64 tokens, 100 steps, 4096 held-out tokens, 2 seeds; full: the spec's
    sequences of 256 tokens (8 micro-batches of 2 sequences), 1000 steps, 16384 held-out tokens, 5 seeds.
    """
    check_scale(scale)
    if scale == "quick":
        size, seeds = {"seq_len": 64, "steps": 100, "held_out": 4096, "lp_batches": 1}, 2
    else:
        size, seeds = {"seq_len": 256, "steps": 1000, "held_out": 16384, "lp_batches": 4}, 5
    config = {"D": 8, "E": 16, "K": 2, "seqs_per_micro": 2, "micros": 8, "boost": 2.0,
              "arms": ["vanilla", "alf_lb", "aux"], "countings": ["micro", "global"], **size}
    return _sweep(EXPERIMENTS["F6"], [config], seeds)


def _moe_backend() -> str:
    """``"cupy"`` where CuPy sees a usable GPU, else ``"numpy"`` (the full MoE scale is meant for a GPU)."""
    return "cupy" if gpu_available() else "numpy"


def f7_sweep(scale: str = "quick") -> Sweep:
    """F7: the small MoE, arms none / aux / ALF-LB (sign rule), global counting.

    quick: the experiment's CPU defaults cut to 150 steps (logged every 25), 2 seeds; full:
    :data:`sims.alf_lb.moe.FULL_SCALE` (5000 steps of 4096 tokens, α = u = 10⁻³, float32) on CuPy
    where a GPU is present (else numpy), 5 seeds.
    """
    check_scale(scale)
    if scale == "quick":
        return _sweep(EXPERIMENTS["F7"], [{"arms": list(F7_ARMS), "steps": 150, "log_every": 25}], 2)
    from sims.alf_lb.moe import FULL_SCALE

    config = {**FULL_SCALE, "arms": list(F7_ARMS), "backend": _moe_backend()}
    return _sweep(EXPERIMENTS["F7"], [config], 5)


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


def _seeds(df: pd.DataFrame) -> str:
    """'k seeds': the number of distinct seed indices in the table (1 without a ``seed`` column)."""
    if "seed" not in df:
        return "1 seed"
    k = df["seed"].nunique()
    return f"{k} seed" + ("s" if k != 1 else "")


def _log_range(values: np.ndarray, pad: float = 0.12) -> list[float] | None:
    """A log-axis range (in decades) around the positive ``values``: the curves, not their CI bands.

    CI bands of a few seeds can span decades; the axis is fitted to the means (and theory lines) and
    cuts the bands rather than letting them flatten the curves.
    """
    v = np.asarray(values, float)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return None
    return [math.log10(v.min()) - pad, math.log10(v.max()) + pad]


def _floor_below(values: np.ndarray) -> float:
    """A power of ten half a decade or more below the smallest positive value (1e-3 if none)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v) & (v > 0)]
    return 10.0 ** math.floor(math.log10(v.min()) - 0.5) if v.size else 1e-3


def _band(fig: go.Figure, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, color: str, group: str, name: str,
          row: int, col: int) -> None:
    """A filled 95% CI band (no legend entry, no hover) in the colour of its curve."""
    x, lo, hi = (np.asarray(a, float) for a in (x, lo, hi))
    fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate([hi, lo[::-1]]), mode="lines",
                             fill="toself", fillcolor=rgba(color, 0.1), line={"width": 0}, hoverinfo="skip",
                             showlegend=False, legendgroup=group, name=f"{name} · 95% CI"), row=row, col=col)


def _curve_with_floor(fig: go.Figure, x: np.ndarray, s: pd.DataFrame, *, name: str, color: str, group: str,
                      floor: float, zero_tol: float, row: int, col: int, showlegend: bool, hover: str,
                      dash: str = "solid", band: bool = True) -> int:
    """Seed mean (line) with its CI band on a log-y panel; means ≤ ``zero_tol`` as ✕ at ``floor``.

    Returns the number of points drawn at the floor.
    """
    x = np.asarray(x, float)
    mean, half = s["mean"].to_numpy(float), s["half"].to_numpy(float)
    zero = mean <= zero_tol
    y = np.where(zero, np.nan, mean)
    if band:
        lo = np.where(zero, floor, np.maximum(mean - half, floor))
        _band(fig, x, lo, np.where(zero, floor, mean + half), color, group, name, row, col)
    fig.add_trace(go.Scatter(
        x=x, y=y, mode="lines", name=name, legendgroup=group, showlegend=showlegend,
        line={"color": color, "width": 1.8, "dash": dash},
        customdata=np.column_stack([mean, half, s["n"]]),
        hovertemplate=(f"{name}<br>{hover} = %{{x}}<br>mean %{{customdata[0]:.4g}} ± %{{customdata[1]:.2g}} "
                       "(95%, %{customdata[2]} seeds)<extra></extra>")), row=row, col=col)
    if zero.any():
        fig.add_trace(go.Scatter(
            x=x[zero], y=np.full(int(zero.sum()), floor), mode="markers", name=f"{name}: 0 (at the floor)",
            legendgroup=group, showlegend=False, marker={"color": color, "symbol": "x", "size": 6},
            customdata=mean[zero],
            hovertemplate=(f"{name}<br>{hover} = %{{x}}<br>mean %{{customdata:.3g}}: zero, drawn at the "
                           "panel floor<extra></extra>")), row=row, col=col)
    return int(zero.sum())


# ------------------------------------------------------------------------------------- F1
def _f1_rule(row: pd.Series) -> tuple[tuple[Any, ...], str, float]:
    """(sort key, label, claim-10 exponent) of one run's step rule."""
    rule = row["rule"]
    if rule == "inverse_t":
        c = float(row["c"])
        projected = bool(row.get("project", False))
        mu = "μ = 1/E" if row.get("mu", "modulus") == "curvature" else "μ = μ<sub>R</sub>"
        label = f"c/(μt), {mu}, c = {c:g}" + (", projected" if projected else "")
        return (0, int(projected), row.get("mu", ""), c), label, float(th.regret_exponent("inverse_t", c))
    if rule == "inverse_sqrt":
        eta0 = float(row["eta0"])
        return (1, 0, "", eta0), f"η₀/√t, η₀ = {eta0:g}", float(th.regret_exponent("inverse_sqrt"))
    if rule == "constant":
        eta = float(row["eta"])
        return (2, 0, "", eta), f"constant η = {eta:g}", float(th.regret_exponent("constant"))
    if rule == "sign":
        u = float(row["u"])
        return (3, 0, "", u), f"sign, u = {_fmt(u)}", float(th.regret_exponent("sign"))
    raise ValueError(f"F1: unknown rule {rule!r} in the results table")


def _upper_half_slope(x: np.ndarray, y: np.ndarray) -> float:
    """Log-log slope over the upper half of the checkpoints; NaN with fewer than 2 points or y ≤ 0."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    x, y = x[len(x) // 2:], y[len(y) // 2:]
    if x.size < 2 or np.any(y <= 0) or np.any(x <= 0):
        return math.nan
    return fit_slope(x, y)


def f1_regret_vs_T(df: pd.DataFrame) -> go.Figure:
    """F1: seed-mean pseudo-regret on the Gumbel testbed against T (log-log), per step rule.

    Parameters
    ----------
    df
        Table of experiment ``alf_lb gumbel_regret`` with columns rule, c, mu, project, eta, eta0, u,
        rounds, regret, bound, E, batch (one testbed size).

    Returns
    -------
    go.Figure
        Left: regret against T, log-log, one trace per rule (seed mean with 95% CI bars; the slope
        over the upper half of the checkpoints and claim 10's exponent in the legend), and the claim-9
        bound (cG²/(2μ_R))H_T, dashed, for every projected c/(μ_R t) run with c ≥ 1. Right: the runs
        whose claim-10 rate is logarithmic (c ≥ ½), against ln T, with ΔR/Δln T over the upper half.
    """
    require(df, ["rule", "c", "mu", "project", "eta", "eta0", "u", "rounds", "regret", "bound", "E", "batch"],
             "F1")
    sizes = df[["E", "batch"]].drop_duplicates()
    if len(sizes) != 1:
        raise ValueError(f"F1: the table mixes testbed sizes (E, batch) {sizes.values.tolist()}; draw one")
    E, n = int(sizes["E"].iloc[0]), int(sizes["batch"].iloc[0])
    info: dict[str, tuple[tuple[Any, ...], float]] = {}
    for _, row in df.drop_duplicates(["rule", "c", "mu", "project", "eta", "eta0", "u"]).iterrows():
        key, label, expo = _f1_rule(row)
        info[label] = (key, expo)
    df = df.assign(_label=[_f1_rule(r)[1] for _, r in df.iterrows()])
    labels = sorted(info, key=lambda lab: info[lab][0])
    fig = make_subplots(rows=1, cols=2, column_widths=[0.62, 0.38], horizontal_spacing=0.08,
                        subplot_titles=("(a) regret against T, log-log",
                                        "(b) logarithmic-rate runs against ln T"))
    positives: list[np.ndarray] = []
    ratios: list[str] = []
    log_lines: list[str] = []
    color_of = {lab: PALETTE[i % len(PALETTE)] for i, lab in enumerate(labels)}
    # a projected run shares the colour of the unprojected run with the same c, dashed
    for lab in labels:
        if lab.endswith(", projected"):
            twin = lab.replace("μ = μ<sub>R</sub>", "μ = 1/E").removesuffix(", projected")
            if twin in color_of:
                color_of[lab] = color_of[twin]
    for lab in labels:
        sub = df[df["_label"] == lab]
        s = _summary(sub, "rounds", "regret")
        T = s["rounds"].to_numpy(float)
        expo = info[lab][1]
        slope = _upper_half_slope(T, s["mean"].to_numpy())
        theory = "log T" if expo == 0 else f"T<sup>{expo:g}</sup>"
        name = f"{lab}: slope {fmt_slope(slope)} (claim 10: {theory})"
        projected = lab.endswith(", projected")
        color = color_of[lab]
        positives.append(s["mean"].to_numpy()[s["mean"].to_numpy() > 0])
        fig.add_trace(go.Scatter(
            x=T, y=s["mean"], mode="lines+markers", name=name, legendgroup=lab,
            line={"color": color, "width": 1.8, "dash": "dash" if projected else "solid"},
            marker={"size": 5, "symbol": "diamond" if projected else "circle"},
            error_y={"type": "data", "array": s["half"], "visible": True, "thickness": 1, "width": 2},
            customdata=np.column_stack([s["half"], s["n"]]),
            hovertemplate=(f"{lab}<br>T = %{{x}}<br>mean regret %{{y:.4g}} ± %{{customdata[0]:.2g}} "
                           "(95%, %{customdata[1]} seeds)<extra></extra>")), row=1, col=1)
        bound = sub.groupby("rounds")["bound"].mean()
        if bound.notna().any():
            b = bound.reindex(s["rounds"]).to_numpy(float)
            positives.append(b[np.isfinite(b)])
            c = float(sub["c"].iloc[0])
            fig.add_trace(go.Scatter(
                x=T, y=b, mode="lines", name=f"claim-9 bound (cG²/(2μ<sub>R</sub>))H<sub>T</sub>, c = {c:g}",
                legendgroup=f"bound {lab}", legendrank=1100, line={"color": color, "dash": "dot", "width": 1.3},
                hovertemplate=(f"claim-9 bound, c = {c:g}<br>T = %{{x}}<br>%{{y:.4g}}<extra></extra>")),
                row=1, col=1)
            ratio = s["mean"].to_numpy() / b
            ratios.append(f"c = {c:g}: max mean R<sub>T</sub>/bound = {np.nanmax(ratio):.3g}")
        if expo == 0:
            lnT = np.log(T)
            half = slice(len(lnT) // 2, None)
            per_ln = float(np.polyfit(lnT[half], s["mean"].to_numpy()[half], 1)[0]) if len(lnT) >= 4 else math.nan
            log_lines.append(f"{lab}: {per_ln:.3g}")
            fig.add_trace(go.Scatter(
                x=lnT, y=s["mean"], mode="lines+markers", name=name, legendgroup=lab, showlegend=False,
                line={"color": color, "width": 1.8, "dash": "dash" if projected else "solid"},
                marker={"size": 5, "symbol": "diamond" if projected else "circle"},
                error_y={"type": "data", "array": s["half"], "visible": True, "thickness": 1, "width": 2},
                customdata=np.column_stack([T, s["half"], s["n"]]),
                hovertemplate=(f"{lab}<br>T = %{{customdata[0]}}<br>mean regret %{{y:.4g}} ± "
                               "%{customdata[1]:.2g} (95%, %{customdata[2]} seeds)<extra></extra>")), row=1, col=2)
    if log_lines:
        xref, yref = axis_ref(fig, 1, 2)
        fig.add_annotation(text="ΔR/Δln T (upper half)<br>" + "<br>".join(log_lines), xref=f"{xref} domain",
                           yref=f"{yref} domain", x=0.02, y=0.98, xanchor="left", yanchor="top", showarrow=False,
                           align="left", font={"size": 9}, bgcolor="rgba(255,255,255,0.75)")
    allpos = np.concatenate(positives) if positives else np.array([])
    ticks = log_ticks(allpos)
    fig.update_xaxes(type="log", title_text="T (rounds)", dtick=math.log10(4), tickformat="d", row=1, col=1)
    fig.update_yaxes(type="log", title_text="regret Σ<sub>t≤T</sub>[F(p<sub>t</sub>) − F*]", tickvals=ticks[0],
                     ticktext=ticks[1], range=_log_range(allpos), row=1, col=1)
    fig.update_xaxes(title_text="ln T", row=1, col=2)
    fig.update_yaxes(title_text="regret", rangemode="tozero", row=1, col=2)
    first = df.iloc[0]
    R = float(df["radius"].iloc[0]) if "radius" in df else math.nan
    mu_R = float(th.gumbel_modulus(E, R)) if math.isfinite(R) else math.nan
    T_max = int(df["rounds"].max())
    finish(fig, f"F1 · regret of the online bias rules on the Gumbel testbed (K = 1, E = {E}, n = {n})",
            width=1250, plot_height=470, legend_rows=6,
            caption=(f"Exact pseudo-regret Σ<sub>t≤T</sub>[F(p<sub>t</sub>) − F*] of the expected dual loss "
                     f"F(p) = logsumexp(a − p) + Σp/E + γ (claim 8), seed means with 95% Student-t bars "
                     f"({_seeds(df)}; popularity spread {first.get('spread', math.nan):g}, instance "
                     f"{first.get('instance', '–')}, T up to {T_max}). Slopes: least squares of log R<sub>T</sub> "
                     "on log T over the upper half of the checkpoints; claim 10 predicts T<sup>1−2c</sup> for "
                     "c ∈ (0, ½), log T for c ≥ ½, √T for η₀/√t and linear growth for constant steps (sign "
                     "steps included) once at their noise floor. μ = 1/E is the curvature at p* (unprojected "
                     f"runs); the projected runs use μ<sub>R</sub> = e<sup>−2R</sup>/E = {mu_R:.3g} on "
                     f"‖p − p*‖₂ ≤ R = ‖p*‖₂ = {R:.3g}, where claim 9's bound (cG²/(2μ<sub>R</sub>))H<sub>T</sub>, "
                     "G² = 1 − 1/E, holds in expectation"
                     + (": " + "; ".join(ratios) + "." if ratios else ".")))
    return fig


# ------------------------------------------------------------------------------------- balance labels
def _arm_label(row: pd.Series) -> str:
    """A readable name of one balance-experiment run: vanilla, ALF-LB (rule and step) or aux (α)."""
    arm = row.get("arm", "alf_lb")
    if arm in ("vanilla", "none"):
        return "vanilla top-K" if arm == "vanilla" else "no balancing"
    if arm == "alf_lb":
        rule = row.get("rule", row.get("bias_rule", "sign"))
        if rule == "gradient":
            return f"ALF-LB gradient, η = {_fmt(float(row['eta']))}"
        return f"ALF-LB sign, u = {_fmt(float(row['u']))}"
    if arm == "aux":
        return f"aux loss, α = {_fmt(float(row['alpha']))}"
    return str(row.get("label", arm))


# ------------------------------------------------------------------------------------- F2
def f2_maxvio_batch(df: pd.DataFrame) -> go.Figure:
    """F2: MaxVio_batch (and MaxVio_global) against the step on a drifting stream, with claim 11's floor.

    Parameters
    ----------
    df
        Table of experiment ``alf_lb stream_balance`` with columns arm, u, step, maxvio_batch,
        maxvio_global, floor, E, K (and held_out for the held-out floor).

    Returns
    -------
    go.Figure
        Left: MaxVio_batch (mean over the steps since the previous checkpoint) against the step, log-log,
        one trace per run (seed mean with a 95% band), and claim 11's floor m_E√((E − K)/(Kn)). Right:
        MaxVio_global of the held-out set under the router after that step, with the same floor at
        the held-out size.
    """
    require(df, ["arm", "u", "step", "maxvio_batch", "maxvio_global", "floor", "E", "K"], "F2")
    df = df.assign(_label=[_arm_label(r) for _, r in df.iterrows()])
    runs = df.drop_duplicates("_label")
    alf = runs[runs["arm"] == "alf_lb"].sort_values("u")["_label"].tolist()
    others = [lab for lab in runs["_label"] if lab not in alf]
    labels = alf + others
    colors = {lab: U_COLORS[i % len(U_COLORS)] for i, lab in enumerate(alf)}
    colors.update({lab: ARM_COLORS.get(runs.loc[runs["_label"] == lab, "arm"].iloc[0], "#7f7f7f")
                   for lab in others})
    E, K = int(df["E"].iloc[0]), int(df["K"].iloc[0])
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08,
                        subplot_titles=(f"(a) {MAXVIO_B} per training batch", f"(b) {MAXVIO_G} on the held-out set"))
    steps = df["step"].to_numpy(float)
    x_range = np.array([steps.min(), steps.max()])
    n_floor = 0
    summaries = {lab: {col: _summary(df[df["_label"] == lab], "step", col) for col in ("maxvio_batch",
                                                                                      "maxvio_global")}
                 for lab in labels}
    floors = {"maxvio_batch": sorted(set(df["floor"].round(12)))}
    held = sorted(set(df["held_out"])) if "held_out" in df else []
    floors["maxvio_global"] = [float(th.batch_maxvio_floor(int(m), K, E)) for m in held]
    finals: list[str] = []
    for col, metric in enumerate(("maxvio_batch", "maxvio_global"), start=1):
        values = np.concatenate([summaries[lab][metric]["mean"].to_numpy() for lab in labels] + [floors[metric]])
        floor = _floor_below(values)
        for lab in labels:
            s = summaries[lab][metric]
            n_floor += _curve_with_floor(fig, s["step"], s, name=lab, color=colors[lab], group=lab, floor=floor,
                                         zero_tol=0.0, row=1, col=col, showlegend=col == 1, hover="step")
            if metric == "maxvio_batch":
                last = s.iloc[-1]
                finals.append(f"{lab}: {last['mean']:.3g} ± {last['half']:.2g}")
        for i, f in enumerate(floors[metric]):
            size = (f"n = {int(df.loc[df['floor'].round(12) == f, 'batch'].iloc[0])}" if metric == "maxvio_batch"
                    and "batch" in df else f"m = {held[i]}" if metric == "maxvio_global" else "")
            name = ("claim-11 floor m<sub>E</sub>√((E − K)/(Kn))" if metric == "maxvio_batch" else
                    "the same floor at the held-out size m")
            fig.add_trace(go.Scatter(
                x=x_range, y=[f, f], mode="lines", name=name, legendgroup=f"floor {metric}",
                showlegend=i == 0, line={"color": THEORY_COLOR, "dash": "dash", "width": 1.4},
                hovertemplate=f"{name}, {size}<br>{f:.4g}<extra></extra>"), row=1, col=col)
        shown = np.concatenate([values, [floor] if n_floor else []])
        ticks = log_ticks(shown)
        fig.update_yaxes(type="log", tickvals=ticks[0], ticktext=ticks[1], range=_log_range(shown), row=1, col=col)
    fig.update_xaxes(type="log", title_text="step t (batches seen)")
    fig.update_yaxes(title_text="MaxVio = (max load − mean)/mean", col=1)
    first = df.iloc[0]
    zero_note = (f"{n_floor} seed mean(s) equal to 0 are drawn at the panel floor as ✕ (a log axis cannot show "
                 "them). " if n_floor else "")
    tau = float(first.get("tau", math.nan))
    finish(fig, f"F2 · {MAXVIO_B} against the step: sign rule on a drifting stream (Wang et al. Fig. 4)",
            width=1200, plot_height=430, legend_rows=2,
            caption=(f"E = {E}, K = {K}, n = {int(first.get('batch', 0))} tokens per batch, popularity "
                     f"a ~ N(0, {first.get('spread', math.nan):g}²) drifting by τ = {tau:g} per step, Gaussian "
                     f"token noise, global counting. Seed means ({_seeds(df)}, each run on its own stream) with 95% "
                     f"bands; {MAXVIO_B} is averaged over the steps since the previous checkpoint. Claim 11: at "
                     "perfect global balance a batch of n tokens still has MaxVio ≈ m<sub>E</sub>√((E − K)/(Kn)) "
                     f"(m<sub>E</sub> = 𝔼 max of E standard normals = {float(th.expected_max_normal(E)):.3f}): "
                     "prices fix only global balance. " + zero_note
                     + f"Final {MAXVIO_B}: " + "; ".join(finals) + "."))
    return fig


# ------------------------------------------------------------------------------------- F3
def _f3_label(rule: str, step: float) -> str:
    return f"u = {_fmt(step)}" if rule == "sign" else f"gradient η = {_fmt(step)}"


def _span(v: pd.Series) -> str:
    """'a' or 'a–b' for the range of integer values ``v``."""
    lo, hi = int(v.min()), int(v.max())
    return f"{lo}" if lo == hi else f"{lo}–{hi}"


def f3_dual_gap(df: pd.DataFrame) -> go.Figure:
    """F3: the dual gap D(p_t) − OPT on a fixed batch against the iteration, and claim 4's sandwich.

    Parameters
    ----------
    df
        Table of experiment ``alf_lb fixed_batch`` with columns rule, u, eta, iteration, dual_gap,
        lower, delta_D, upper, sandwich_ratio (and transient, period, opt, sandwich_tol).

    Returns
    -------
    go.Figure
        Left: seed-mean dual gap per iteration, log-log, one trace per step size with a 95% band; a
        mean gap of 0 (to rounding) is drawn at the panel floor as ✕. Right: for the middle step size
        and the first seed, ΔD = D(p_{t+1}) − D(p_t) (dots) between claim 4's lower bound ⟨δ, g_t⟩
        and upper bound ⟨δ, g_{t+1}⟩ (a band), δ = p_{t+1} − p_t.
    """
    require(df, ["rule", "u", "eta", "iteration", "dual_gap", "lower", "delta_D", "upper", "sandwich_ratio"],
             "F3")
    df = df.assign(_step=np.where(df["rule"] == "sign", df["u"], df["eta"]).astype(float))
    keys = sorted({(r, float(s)) for r, s in zip(df["rule"], df["_step"], strict=True)},
                  key=lambda k: (k[0] != "sign", k[1]))
    colors = {k: U_COLORS[i % len(U_COLORS)] for i, k in enumerate(keys)}
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08, column_widths=[0.55, 0.45],
                        subplot_titles=("(a) dual gap D(p<sub>t</sub>) − OPT",
                                        "(b) claim 4: ⟨δ, g<sub>t</sub>⟩ ≤ ΔD ≤ ⟨δ, g<sub>t+1</sub>⟩"))
    # a gap is 0 when it is below the rounding of D: 1e-9 of the batch's OPT (the kernel sums D with
    # Kahan compensation, so its error is far smaller)
    opt_scale = df["opt"].abs().clip(lower=1.0) if "opt" in df else pd.Series(1.0, index=df.index)
    df = df.assign(_zero=df["dual_gap"] <= 1e-9 * opt_scale)
    summaries = {k: _summary(df[(df["rule"] == k[0]) & (df["_step"] == k[1])], "iteration", "dual_gap")
                 for k in keys}
    tol_of = {k: 1e-9 * float(opt_scale[(df["rule"] == k[0]) & (df["_step"] == k[1])].max()) for k in keys}
    positives = np.concatenate([s["mean"].to_numpy()[s["mean"].to_numpy() > tol_of[k]]
                                for k, s in summaries.items()])
    floor = _floor_below(positives)
    n_floor = 0
    sandwich: list[str] = []
    for k in keys:
        sub = df[(df["rule"] == k[0]) & (df["_step"] == k[1])]
        label = _f3_label(*k)
        if {"transient", "period"} <= set(sub.columns):
            per_seed = sub.groupby("seed")[["transient", "period"]].first() if "seed" in sub else \
                sub[["transient", "period"]].iloc[:1]
            if per_seed["period"].notna().any():
                tr, pe = per_seed["transient"].dropna(), per_seed["period"].dropna()
                label += f" · cycle after {_span(tr)} steps, period {_span(pe)}"
            else:
                label += " · no cycle detected"
        s = summaries[k]
        n_floor += _curve_with_floor(fig, s["iteration"], s, name=label, color=colors[k], group=str(k),
                                     floor=floor, zero_tol=tol_of[k], row=1, col=1, showlegend=True,
                                     hover="iteration")
        ratio = sub["sandwich_ratio"].to_numpy(float)
        viol = int(np.sum(ratio > 1.0))
        sandwich.append(f"{_f3_label(*k)}: {viol} of {ratio.size} steps outside, max ratio {np.nanmax(ratio):.4f}")
    zeros_total = int(df["_zero"].sum())
    shown = np.concatenate([positives, [floor] if n_floor else []])
    ticks = log_ticks(shown)
    fig.update_xaxes(type="log", title_text="iteration t", row=1, col=1)
    fig.update_yaxes(type="log", title_text="D(p<sub>t</sub>) − OPT", tickvals=ticks[0], ticktext=ticks[1],
                     range=_log_range(shown), row=1, col=1)
    # panel (b): one run, the middle step size
    k = keys[len(keys) // 2]
    sub = df[(df["rule"] == k[0]) & (df["_step"] == k[1])]
    seed = int(sub["seed"].min()) if "seed" in sub else 0
    one = sub[sub["seed"] == seed] if "seed" in sub else sub
    one = one.sort_values("iteration")
    it = one["iteration"].to_numpy(float)
    color = colors[k]
    fig.add_trace(go.Scatter(x=it, y=one["lower"], mode="lines", name="lower bound ⟨δ, g<sub>t</sub>⟩",
                             legendgroup="sandwich", line={"color": THEORY_COLOR, "width": 0.8},
                             hovertemplate="t = %{x}<br>⟨δ, g_t⟩ = %{y:.4g}<extra></extra>"), row=1, col=2)
    fig.add_trace(go.Scatter(x=it, y=one["upper"], mode="lines", name="upper bound ⟨δ, g<sub>t+1</sub>⟩",
                             legendgroup="sandwich", line={"color": THEORY_COLOR, "width": 0.8, "dash": "dot"},
                             fill="tonexty", fillcolor="rgba(68,68,68,0.15)",
                             hovertemplate="t = %{x}<br>⟨δ, g_t+1⟩ = %{y:.4g}<extra></extra>"), row=1, col=2)
    fig.add_trace(go.Scatter(x=it, y=one["delta_D"], mode="markers",
                             name=f"ΔD = D(p<sub>t+1</sub>) − D(p<sub>t</sub>), {_f3_label(*k)}, seed {seed}",
                             legendgroup="sandwich", marker={"color": color, "size": 3},
                             hovertemplate="t = %{x}<br>ΔD = %{y:.4g}<extra></extra>"), row=1, col=2)
    fig.update_xaxes(type="log", title_text="iteration t", row=1, col=2)
    fig.update_yaxes(title_text="change of D per step", row=1, col=2)
    first = df.iloc[0]
    if n_floor:
        zero_note = (f"{n_floor} seed mean(s) of the gap are 0 (exact balance at the LP optimum; ≤ 10⁻⁹·|OPT|) and "
                     "are drawn at the panel floor as ✕, since a log axis cannot show 0; "
                     f"{zeros_total} of the {len(df)} per-seed gaps are 0.")
    elif zeros_total:
        zero_note = (f"{zeros_total} of the {len(df)} per-seed gaps are 0 (exact balance at the LP optimum; "
                     "≤ 10⁻⁹·|OPT|), but no seed mean is, so nothing is drawn at a floor.")
    else:
        zero_note = "No gap is 0 (to 10⁻⁹·|OPT|)."
    finish(fig, "F3 · the sign rule as a dual subgradient method on one batch: monotone phase, then a limit cycle",
            width=1250, plot_height=450, legend_rows=4,
            caption=(f"One batch per seed ({_seeds(df)}): n = {int(first.get('n', 0))} tokens, E = "
                     f"{int(first.get('E', 0))}, K = {int(first.get('K', 0))}, scores a + N(0, 1) with a ~ "
                     f"N(0, {first.get('spread', math.nan):g}²). Iteration t routes the batch with b<sub>t</sub> "
                     "(b<sub>1</sub> = 0) and steps b ← b + u·sign(C·1 − load), i.e. p ← p − u·sign g on the LP dual "
                     "D(p) = Σ<sub>j</sub>topKsum(s<sub>j</sub> − p) + CΣp, whose minimum is OPT. Seed means with 95% "
                     "bands; the legend gives the transient and period of the exact cycle of the lattice state over "
                     "the seeds. " + zero_note + "<br>Claim 4 over every step of every run (ratio = |ΔD − mid|/"
                     "(half-width + rounding tolerance), ≤ 1 inside): " + "; ".join(sandwich) + "."))
    return fig


# ------------------------------------------------------------------------------------- F4
def f4_batch_size(df: pd.DataFrame) -> go.Figure:
    """F4: MaxVio of computation batches against their size, ALF-LB vs the aux loss, with claim 11's floor.

    Parameters
    ----------
    df
        Table of experiment ``alf_lb batch_size`` with columns arm, n_tokens, maxvio, floor,
        maxvio_global, u, alpha, rule, eta.

    Returns
    -------
    go.Figure
        Log-log: per arm the seed-mean MaxVio (mean over the pool's batches of each size) with 95% CI
        bars, and the floor m_E√((E − K)/(Kn)) (dashed).
    """
    require(df, ["arm", "n_tokens", "maxvio", "floor", "maxvio_global"], "F4")
    df = df.assign(_label=[_arm_label(r) for _, r in df.iterrows()])
    fig = go.Figure()
    values: list[np.ndarray] = []
    notes: list[str] = []
    for lab in dict.fromkeys(df["_label"]):
        sub = df[df["_label"] == lab]
        arm = sub["arm"].iloc[0]
        s = _summary(sub, "n_tokens", "maxvio")
        g = _summary(sub.drop_duplicates(["seed"] if "seed" in sub else ["arm"]), "arm", "maxvio_global").iloc[0]
        values.append(s["mean"].to_numpy())
        name = f"{lab} ({MAXVIO_G} {g['mean']:.3g})"
        fig.add_trace(go.Scatter(
            x=s["n_tokens"], y=s["mean"], mode="lines+markers", name=name, legendgroup=lab,
            line={"color": ARM_COLORS.get(arm, "#7f7f7f"), "width": 2},
            error_y={"type": "data", "array": s["half"], "visible": True, "thickness": 1, "width": 3},
            customdata=np.column_stack([s["half"], s["n"]]),
            hovertemplate=(f"{lab}<br>batch of %{{x}} tokens<br>mean MaxVio %{{y:.4g}} ± %{{customdata[0]:.2g}} "
                           "(95%, %{customdata[1]} seeds)<extra></extra>")))
        floor = sub.groupby("n_tokens")["floor"].mean().reindex(s["n_tokens"]).to_numpy()
        ratio = s["mean"].to_numpy() / floor
        notes.append(f"{lab}: MaxVio/floor from {ratio[0]:.3g} (n = {int(s['n_tokens'].iloc[0])}) to "
                     f"{ratio[-1]:.3g} (n = {int(s['n_tokens'].iloc[-1])})")
    fl = df.groupby("n_tokens")["floor"].mean()
    values.append(fl.to_numpy())
    fig.add_trace(go.Scatter(x=fl.index, y=fl.to_numpy(), mode="lines",
                             name="claim-11 floor m<sub>E</sub>√((E − K)/(Kn))",
                             line={"color": THEORY_COLOR, "dash": "dash", "width": 1.4},
                             hovertemplate="floor at n = %{x}: %{y:.4g}<extra></extra>"))
    ticks = log_ticks(np.concatenate(values))
    fig.update_xaxes(type="log", title_text="computation batch size n (tokens)", dtick=math.log10(2), tickformat="d")
    fig.update_yaxes(type="log", title_text="MaxVio (mean over batches)", tickvals=ticks[0], ticktext=ticks[1],
                     range=_log_range(np.concatenate(values)))
    first = df.iloc[0]
    finish(fig, "F4 · MaxVio against the computation-batch size (Wang et al. Fig. 5)", width=950,
            plot_height=430, legend_rows=2,
            caption=(f"Both arms are trained on the same stationary stream per seed ({_seeds(df)}; E = "
                     f"{int(first.get('E', 0))}, K = {int(first.get('K', 0))}, {int(first.get('batch', 0))} "
                     f"tokens per step, {int(first.get('steps', 0))} steps, global counting); their final router "
                     f"then routes a held-out pool of {int(first.get('pool', 0))} tokens cut into batches of n "
                     "tokens. Seed means with 95% Student-t bars. Balanced prices leave only the sampling floor, "
                     "which falls like 1/√n; a router with a global imbalance plateaus at its "
                     f"{MAXVIO_G}. " + "; ".join(notes) + "."))
    return fig


# ------------------------------------------------------------------------------------- F5
def f5_tradeoff(df: pd.DataFrame) -> go.Figure:
    """F5: quality against MaxVio_global for the aux loss over α and ALF-LB over u.

    Parameters
    ----------
    df
        Table of experiment ``alf_lb tradeoff`` with columns arm, param ("alpha" or "u"), value,
        maxvio_global, quality.

    Returns
    -------
    go.Figure
        x: MaxVio_global (log), y: quality (Σs·x − LP)/(vanilla − LP) (1 = vanilla top-K, 0 = the
        balanced LP optimum); one trace per family, points joined in order of α or u, with 95% CI bars
        in x and y and the parameter written next to each point.
    """
    require(df, ["arm", "param", "value", "maxvio_global", "quality"], "F5")
    fig = go.Figure()
    points: dict[str, pd.DataFrame] = {}
    xs: list[np.ndarray] = []
    for param, arm, symbol, name in (("alpha", "aux", "square", "aux loss, α"),
                                     ("u", "alf_lb", "circle", "ALF-LB sign, u")):
        sub = df[df["param"] == param]
        if sub.empty:
            continue
        x, y = _summary(sub, "value", "maxvio_global"), _summary(sub, "value", "quality")
        pts = x.merge(y, on="value", suffixes=("_x", "_y")).sort_values("value")
        points[param] = pts
        xs.append(pts["mean_x"].to_numpy())
        sym = "α" if param == "alpha" else "u"
        text = [f"{sym} = {_fmt(v)}" + (" (vanilla)" if param == "alpha" and v == 0 else "") for v in pts["value"]]
        fig.add_trace(go.Scatter(
            x=pts["mean_x"], y=pts["mean_y"], mode="lines+markers+text", text=text,
            textposition="top right" if param == "alpha" else "bottom left", textfont={"size": 10},
            name=f"{name} ∈ {{{', '.join(_fmt(v) for v in pts['value'])}}}",
            line={"color": ARM_COLORS[arm], "width": 1.5}, marker={"size": 9, "symbol": symbol},
            error_x={"type": "data", "array": pts["half_x"], "visible": True, "thickness": 1},
            error_y={"type": "data", "array": pts["half_y"], "visible": True, "thickness": 1},
            customdata=np.column_stack([pts["half_x"], pts["half_y"], pts["n_x"]]),
            hovertemplate=(f"{name}<br>%{{text}}<br>{MAXVIO_G} %{{x:.4g}} ± %{{customdata[0]:.2g}}<br>"
                           "quality %{y:.4g} ± %{customdata[1]:.2g} (95%, %{customdata[2]} seeds)<extra></extra>")))
    allx = np.concatenate(xs) if xs else np.array([1.0])
    span = np.array([allx[allx > 0].min() / 1.5, allx.max() * 1.5]) if np.any(allx > 0) else np.array([1e-2, 10])
    for y, name, dash in ((1.0, "vanilla top-K (quality 1)", "dot"), (0.0, "LP optimum, balanced (quality 0)",
                                                                         "dash")):
        fig.add_trace(go.Scatter(x=span, y=[y, y], mode="lines", name=name,
                                 line={"color": THEORY_COLOR, "dash": dash, "width": 1.2},
                                 hovertemplate=f"{name}<extra></extra>"))
    # dominance: an aux point is dominated when some ALF-LB point is at least as balanced and as good
    dom: list[str] = []
    if "alpha" in points and "u" in points:
        alf = points["u"]
        for _, p in points["alpha"].iterrows():
            better = alf[(alf["mean_x"] <= p["mean_x"]) & (alf["mean_y"] >= p["mean_y"])]
            dom.append(f"α = {_fmt(p['value'])}: " + (f"dominated by u = {', '.join(_fmt(v) for v in better['value'])}"
                                                      if len(better) else "not dominated"))
    ticks = log_ticks(span)
    fig.update_xaxes(type="log", title_text=f"{MAXVIO_G} (held-out set, final router)", tickvals=ticks[0],
                     ticktext=ticks[1])
    fig.update_yaxes(title_text="quality (Σ s·x − LP)/(vanilla − LP)")
    first = df.iloc[0]
    finish(fig, "F5 · the balance–quality trade-off: aux loss over α against ALF-LB over u (Wang et al. Fig. 2, 4)",
            width=1000, plot_height=470, legend_rows=2,
            caption=(f"Every arm sees the same stationary stream per seed ({_seeds(df)}; E = {int(first.get('E', 0))}, "
                     f"K = {int(first.get('K', 0))}, {int(first.get('batch', 0))} tokens per step, "
                     f"{int(first.get('steps', 0))} steps, global counting). Quality of the final router on a held-out "
                     "batch whose assignment LP (capacity Kn/E) is solved exactly: 1 is vanilla top-K, 0 the best "
                     "balanced routing, negative a balanced but worse one; up and to the left is better. Seed means "
                     "with 95% bars in both coordinates. ALF-LB dominates an aux point if one u is at least as "
                     "balanced and at least as good: " + ("; ".join(dom) if dom else "n/a") + "."))
    return fig


# ------------------------------------------------------------------------------------- F6
def f6_specialisation(df: pd.DataFrame) -> go.Figure:
    """F6: domain × expert usage under micro- and global-batch counting, aux loss and ALF-LB.

    Parameters
    ----------
    df
        Table of experiment ``alf_lb specialisation`` with columns arm, counting, domain, expert, share,
        entropy_mean, maxvio_global (vanilla rows, counting "none", only enter the caption).

    Returns
    -------
    go.Figure
        Rows: aux loss, ALF-LB; columns: micro, global counting. Heatmaps of the seed-mean usage share
        of each expert within each domain (one colour scale), titles with the mean per-domain usage
        entropy H̄ (nats) and MaxVio_global, seed means ± 95% half-widths.
    """
    require(df, ["arm", "counting", "domain", "expert", "share", "entropy_mean", "maxvio_global"], "F6")
    arms = [a for a in ("aux", "alf_lb") if a in set(df["arm"])]
    countings = [c for c in ("micro", "global") if c in set(df["counting"])]
    if not arms or not countings:
        raise ValueError("F6: the table has no aux or alf_lb rows with micro or global counting")
    D, E = int(df["domain"].max()) + 1, int(df["expert"].max()) + 1
    per_run = df.drop_duplicates(["arm", "counting", "seed"] if "seed" in df else ["arm", "counting"])
    names = {a: _arm_label(df[df["arm"] == a].iloc[0]) for a in arms}
    titles, stats_of = [], {}
    for a in arms:
        for c in countings:
            run = per_run[(per_run["arm"] == a) & (per_run["counting"] == c)]
            h = _summary(run.assign(_k=0), "_k", "entropy_mean").iloc[0]
            m = _summary(run.assign(_k=0), "_k", "maxvio_global").iloc[0]
            stats_of[(a, c)] = (h, m)
            titles.append(f"{names[a]}, {c}-batch counting<br>H̄ = {h['mean']:.3g} ± {h['half']:.2g} nats, "
                          f"{MAXVIO_G} = {m['mean']:.3g} ± {m['half']:.2g}")
    fig = make_subplots(rows=len(arms), cols=len(countings), subplot_titles=titles, horizontal_spacing=0.1,
                        vertical_spacing=0.16)
    shares = df[df["arm"].isin(arms)].groupby(["arm", "counting", "domain", "expert"])["share"].mean()
    zmax = float(shares.max())
    for i, a in enumerate(arms, start=1):
        for j, c in enumerate(countings, start=1):
            z = shares.loc[(a, c)].unstack("expert").reindex(index=range(D), columns=range(E)).to_numpy()
            fig.add_trace(go.Heatmap(
                z=z, x=list(range(E)), y=list(range(D)), zmin=0.0, zmax=zmax, colorscale="Viridis",
                name=f"{names[a]}, {c}", showscale=(i == 1 and j == len(countings)),
                colorbar={"title": {"text": "usage share"}, "len": 0.8},
                hovertemplate=(f"{names[a]}, {c}<br>domain %{{y}}, expert %{{x}}<br>share %{{z:.3f}}"
                               "<extra></extra>")), row=i, col=j)
            fig.update_xaxes(title_text="expert", dtick=max(1, E // 8), row=i, col=j)
            fig.update_yaxes(title_text="domain", dtick=1, autorange="reversed", row=i, col=j)
    vanilla = per_run[per_run["arm"] == "vanilla"]
    van = ""
    if not vanilla.empty:
        h = _summary(vanilla.assign(_k=0), "_k", "entropy_mean").iloc[0]
        m = _summary(vanilla.assign(_k=0), "_k", "maxvio_global").iloc[0]
        van = (f" Vanilla top-K for reference: H̄ = {h['mean']:.3g} ± {h['half']:.2g} nats, {MAXVIO_G} = "
               f"{m['mean']:.3g} ± {m['half']:.2g}.")
    first = df.iloc[0]
    K = int(first.get("K", 2))
    finish(fig, "F6 · micro- vs global-batch counting on domain-clustered data: expert usage per domain",
            width=1050, plot_height=330 * len(arms), legend_rows=0, top=130,
            caption=(f"D = {D} domains, E = {E} experts, K = {K}; each sequence of {int(first.get('seq_len', 0))} "
                     f"tokens comes from one domain, whose E/D preferred experts get +{first.get('boost', math.nan):g} "
                     f"on their scores; {int(first.get('micros', 0))} micro-batches of "
                     f"{int(first.get('seqs_per_micro', 0))} sequences per step, {int(first.get('steps', 0))} steps. "
                     "Micro counting balances (and, for ALF-LB, updates the bias) per micro-batch, global counting "
                     "over the whole step. Usage share of each expert among a domain's routed slots on a held-out "
                     f"set (domains balanced) under the final router, mean over {_seeds(df)}. H̄ is the mean over "
                     f"domains of −Σ<sub>i</sub>u<sub>di</sub>ln u<sub>di</sub>: ln E = {math.log(E):.3g} for "
                     f"uniform usage, ln(E/D) = {math.log(E / D):.3g} when each domain uses only its preferred "
                     "experts; lower means more specialised." + van))
    return fig


# ------------------------------------------------------------------------------------- F7
def f7_moe(df: pd.DataFrame) -> go.Figure:
    """F7: the small MoE layer: held-out loss and MaxVio_global over training, per balancing arm.

    Parameters
    ----------
    df
        Table of experiment ``alf_lb moe`` with columns arm, step, test_loss, maxvio_global (and alpha,
        u, bias_rule for the legend, entropy for the caption).

    Returns
    -------
    go.Figure
        Left: held-out MSE (log y); right: MaxVio_global of the held-out set (log y); one trace per arm,
        seed means with 95% bands.
    """
    require(df, ["arm", "step", "test_loss", "maxvio_global"], "F7")
    arms = [a for a in ("none", "aux", "alf_lb") if a in set(df["arm"])]
    arms += [a for a in dict.fromkeys(df["arm"]) if a not in arms]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.09,
                        subplot_titles=("(a) held-out MSE", f"(b) {MAXVIO_G} on the held-out set"))
    finals: list[str] = []
    for col, metric in enumerate(("test_loss", "maxvio_global"), start=1):
        summaries = {a: _summary(df[df["arm"] == a], "step", metric) for a in arms}
        values = np.concatenate([s["mean"].to_numpy() for s in summaries.values()])
        floor = _floor_below(values)
        for a in arms:
            row = df[df["arm"] == a].iloc[0]
            label = _arm_label(row) if a != "alf_lb" else (
                f"ALF-LB {row.get('bias_rule', 'sign')}, " + (f"u = {_fmt(float(row['u']))}"
                                                                if row.get("bias_rule", "sign") == "sign"
                                                                else f"η = {_fmt(float(row['eta']))}"))
            s = summaries[a]
            _curve_with_floor(fig, s["step"], s, name=label, color=ARM_COLORS.get(a, "#7f7f7f"), group=a,
                              floor=floor, zero_tol=0.0, row=1, col=col, showlegend=col == 1, hover="step")
            last = s.iloc[-1]
            finals.append(f"{label}: {'MSE' if metric == 'test_loss' else 'MaxVio'} {last['mean']:.3g} ± "
                          f"{last['half']:.2g}")
        ticks = log_ticks(values)
        fig.update_yaxes(type="log", tickvals=ticks[0], ticktext=ticks[1], range=_log_range(values), row=1, col=col)
    if "entropy" in df:
        last_step = df["step"].max()
        ent = df[df["step"] == last_step].groupby("arm")["entropy"].mean()
        finals.append("per-domain usage entropy " + ", ".join(f"{a} {ent[a]:.3g}" for a in arms if a in ent))
    fig.update_xaxes(title_text="training step")
    fig.update_yaxes(title_text="held-out MSE", col=1)
    fig.update_yaxes(title_text="MaxVio", col=2)
    first = df.iloc[0]
    tokens = int(first.get("seq_len", 0)) * int(first.get("seqs_per_micro", 0)) * int(first.get("micros", 0))
    finish(fig, "F7 · a small MoE layer trained with no balancing, the aux loss and ALF-LB", width=1150,
            plot_height=420, legend_rows=1,
            caption=(f"One MoE layer (E = {int(first.get('experts', 0))} experts of width "
                     f"{int(first.get('hidden', 0))}, K = {int(first.get('K', 0))}, sigmoid router) regressing "
                     f"{int(first.get('domains', 0))} domain-clustered teachers; {tokens} tokens per step in "
                     f"{int(first.get('micros', 0))} micro-batches, {first.get('counting', '')} counting, Adam, "
                     f"{int(first.get('steps', 0))} steps "
                     f"({first.get('backend', 'numpy')}, {first.get('dtype', '')}). Seed means over {_seeds(df)} with "
                     f"95% bands; {MAXVIO_G} routes the held-out set with the current router and bias. Final values: "
                     + "; ".join(finals) + "."))
    return fig


# ------------------------------------------------------------------------------------- builders
build_f1 = builder(f1_sweep, f1_regret_vs_T)
build_f2 = builder(f2_sweep, f2_maxvio_batch)
build_f3 = builder(f3_sweep, f3_dual_gap)
build_f4 = builder(f4_sweep, f4_batch_size)
build_f5 = builder(f5_sweep, f5_tradeoff)
build_f6 = builder(f6_sweep, f6_specialisation)
build_f7 = builder(f7_sweep, f7_moe)


FIGURES: list[FigureSpec] = [
    FigureSpec("alf_lb_F1_regret_vs_T", "F1: regret vs T on the Gumbel testbed, step rules, claim-9 bound",
               build_f1),
    FigureSpec("alf_lb_F2_maxvio_batch", "F2: MaxVio_batch vs step for u, drifting scores, claim-11 floor",
               build_f2),
    FigureSpec("alf_lb_F3_dual_gap", "F3: dual gap vs iteration on a fixed batch, claim-4 sandwich", build_f3),
    FigureSpec("alf_lb_F4_batch_size", "F4: MaxVio vs computation-batch size, ALF-LB vs aux loss", build_f4),
    FigureSpec("alf_lb_F5_tradeoff", "F5: quality vs MaxVio_global, aux α sweep vs ALF-LB u sweep", build_f5),
    FigureSpec("alf_lb_F6_specialisation", "F6: micro vs global counting, domain × expert usage", build_f6),
    FigureSpec("alf_lb_F7_moe", "F7: small MoE, held-out loss and MaxVio_global per arm", build_f7),
]
