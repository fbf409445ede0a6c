r"""Figures F1–F4 of the OMD topic (spec ``omd.md`` §5): regret in the SEA model against the theory.

Every figure is a pure function of the tidy table of experiment ``omd regret``
(:func:`sims.omd.experiments.regret_experiment`: one row per config × seed × checkpoint), and every
figure has a sweep builder ``f<k>_sweep(scale) -> Sweep`` and a ``build_f<k>(scale, base_seed, jobs,
cache_dir)`` that runs the sweep (:func:`sims.runner.run_sweep`) and draws it.

- **F1** :func:`f1_regret_vs_T`: realised regret against T, log-log, for ρ ∈ {0, ¼, ½, ¾, 1} on G2
  (quadratic tracking) and zero-mean G1 (linear), methods optimistic OMD, OFTRL and OGD 1/√t, with the
  regime rate D(√σ²_{1:T} + √Σ²_{1:T}) and the slope fitted over the last four doublings. The
  *benign* column is σ = 0 with one fixed target: ρ = 0, s₀ = 0, m = ½ (so s = 0, c_t ≡ ½e₁ and
  Σ²_{1:T} = Σ₁² only, a fixed number — one — of switches, at t = 1).
- **F2** :func:`f2_regret_vs_variation`: regret at the largest T (2^14 at full scale) against
  √σ²_{1:T} (sweep s₀ with A₀ = 0, ρ = 0) and against √Σ²_{1:T} (sweep A₀ with s = 0, ρ = 1,
  alternating path), linear axes, with the Thm 5 bound of Sachs et al. (ν = LD² + DG). The stream is
  zero-mean G1 (linear, L = 0): its regret is linear in s and in A₀, where G2 would add an
  s²-quadratic term from the curvature.
- **F3** :func:`f3_dynamic_regret`: dynamic regret against the path length P_T, log-log, for G2 with
  c_t on a circle of radius R/2 at angular speed ω (swept). σ = 0: ρ = 1, A₀ = ½, s₀ = 0. σ = 0.3:
  ρ = ½, A₀ = 1 (radius ρA₀ = ½ again), s₀ = 0.6 (s = (1 − ρ)s₀ = 0.3), since the mixing parameter
  scales both the noise and the path. Methods: the best constant-step OGD of a small η grid (tuned
  in hindsight per ω, so an oracle baseline), optimistic OMD with its static adaptive step, and the
  Sword++-style ensemble, with the claim-10 rate √((1 + P_T + σ²_{1:T} + Σ²_{1:T})(1 + P_T)).
- **F4** :func:`f4_curved_losses`: regret against ln T for OGD 1/(λt), optimistic OMD 2/(λt) and
  OFTL on G2, and ONS against optimistic ONS on G3 (least squares, d = 2), each at ρ ∈ {0, 1}.

Regret of the best fixed point can be ≤ 0 (the comparator is beaten by a moving player). A log axis
cannot show it: F1 draws such a seed mean at the panel's floor with an ✕ marker and says so in the
hover text and the caption; nothing is dropped silently.

References
----------
S. Sachs, H. Hadiji, T. van Erven, C. Guzmán, NeurIPS 2022, arXiv 2202.07554 (Thm 5).
S. Chen, Y.-J. Zhang, W.-W. Tu, P. Zhao, L. Zhang, ICML 2023 / JMLR 2024, arXiv 2302.04552.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy import stats

from paper_figs import FigureSpec
from paper_figs.layout import axis_ref, finish, fmt_slope, log_ticks
from paper_figs.sweeps import Sweep, builder, check_scale, make_sweep, require, run
from sims.checks import fit_slope
from theory import omd as th

__all__ = [
    "FIGURES",
    "METHOD_LABELS",
    "Sweep",
    "build_f1",
    "build_f2",
    "build_f3",
    "build_f4",
    "f1_regret_vs_T",
    "f1_sweep",
    "f2_regret_vs_variation",
    "f2_sweep",
    "f3_dynamic_regret",
    "f3_sweep",
    "f4_curved_losses",
    "f4_sweep",
    "run",
]

F1_RHOS = (0.0, 0.25, 0.5, 0.75, 1.0)
#: The benign stream of F1: σ = 0 and a fixed target ½e₁ (one switch, at t = 1).
BENIGN = {"rho": 0.0, "s0": 0.0, "m": 0.5}
F1_METHODS = ("optimistic_omd", "oftrl", "ogd")
F2_METHODS = ("optimistic_omd", "oftrl")
F3_METHODS = ("ogd_const", "optimistic_omd", "sword")
F4_G2_METHODS = ("ogd_sc", "optimistic_omd_sc", "oftl")
F4_G3_METHODS = ("ons", "optimistic_ons")
#: F3's two noise levels: σ → the (ρ, A₀, s₀) that put c_t on the circle of radius ½ with s = σ.
F3_STREAMS: dict[float, dict[str, float]] = {0.0: {"rho": 1.0, "A0": 0.5, "s0": 0.0},
                                             0.3: {"rho": 0.5, "A0": 1.0, "s0": 0.6}}

METHOD_LABELS: dict[str, str] = {
    "optimistic_omd": "optimistic OMD",
    "optimistic_omd_sc": "optimistic OMD 2/(λt)",
    "oftrl": "OFTRL",
    "ogd": "OGD 1/√t",
    "ogd_sc": "OGD 1/(λt)",
    "ogd_const": "best constant-step OGD",
    "oftl": "OFTL",
    "ons": "ONS",
    "optimistic_ons": "optimistic ONS",
    "sword": "Sword++ ensemble",
}
COLORS: dict[str, str] = {
    "optimistic_omd": "#1f77b4", "optimistic_omd_sc": "#1f77b4", "oftrl": "#d62728",
    "ogd": "#2ca02c", "ogd_sc": "#2ca02c", "ogd_const": "#2ca02c", "oftl": "#d62728",
    "ons": "#9467bd", "optimistic_ons": "#ff7f0e", "sword": "#8c564b",
}
FAMILY_LABELS = {"quadratic": "G2 quadratic", "linear": "G1 linear, zero mean",
                 "square": "G3 least squares"}
THEORY_COLOR = "#444444"
S2 = "σ²<sub>1:T</sub>"
SS2 = "Σ²<sub>1:T</sub>"


# ------------------------------------------------------------------------------------- sweeps
def _full(configs: Iterable[dict[str, Any]], seeds: int) -> Sweep:
    return make_sweep("omd", "regret", configs, seeds)


def f1_sweep(scale: str = "quick") -> Sweep:
    """F1: G2 and zero-mean G1, ρ ∈ {0, ¼, ½, ¾, 1} (alternating path) plus the benign stream.

    quick: T = 2^12, 4 seeds; full: T = 2^16, 20 seeds.
    """
    check_scale(scale)
    T, seeds = (4096, 4) if scale == "quick" else (65536, 20)
    streams = [{"rho": r} for r in F1_RHOS] + [dict(BENIGN)]
    return _full([{"family": fam, "method": meth, "T": T, "path": "alternating", **s}
                  for fam in ("quadratic", "linear") for s in streams for meth in F1_METHODS], seeds)


def f2_sweep(scale: str = "quick") -> Sweep:
    """F2: zero-mean G1; s₀ sweep with A₀ = 0 (ρ = 0) and A₀ sweep with s = 0 (ρ = 1, alternating).

    quick: T = 2^12, 4 seeds, 5 values; full: T = 2^14, 20 seeds, 8 values.
    """
    check_scale(scale)
    if scale == "quick":
        T, seeds, grid = 4096, 4, (0.25, 0.5, 1.0, 1.5, 2.0)
    else:
        T, seeds, grid = 16384, 20, (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)
    base = {"family": "linear", "T": T, "m": 0.0, "path": "alternating"}
    configs = [{**base, "method": meth, "rho": 0.0, "A0": 0.0, "s0": v}
               for meth in F2_METHODS for v in grid]
    configs += [{**base, "method": meth, "rho": 1.0, "s0": 0.0, "A0": v}
                for meth in F2_METHODS for v in grid]
    return _full(configs, seeds)


def f3_sweep(scale: str = "quick") -> Sweep:
    """F3: G2 on a circle of radius R/2, σ ∈ {0, 0.3}, ω set so that P_T ≈ ωT/2 hits a grid.

    quick: T = 2^11, 2 seeds, P_T ≈ 2..128, η ∈ {1/16, 1/4, 1}; full: T = 2^14, 20 seeds,
    P_T ≈ 2..2048, η ∈ {1/32, ..., 1}.
    """
    check_scale(scale)
    if scale == "quick":
        T, seeds, paths, etas = 2048, 2, (2, 8, 32, 128), (1 / 16, 1 / 4, 1.0)
    else:
        T, seeds, paths = 16384, 20, (2, 8, 32, 128, 512, 2048)
        etas = tuple(2.0**-k for k in range(5, -1, -1))
    configs = []
    for stream in F3_STREAMS.values():
        for P in paths:
            # chord of a radius-½ circle per step ≈ ω/2, so P_T ≈ ωT/2
            base = {"family": "quadratic", "path": "circle", "T": T, "omega": 2.0 * P / T,
                    **stream}
            configs += [{**base, "method": "ogd_const", "eta": eta} for eta in etas]
            configs += [{**base, "method": m} for m in F3_METHODS if m != "ogd_const"]
    return _full(configs, seeds)


def f4_sweep(scale: str = "quick") -> Sweep:
    """F4: G2 (OGD 1/(λt), optimistic OMD 2/(λt), OFTL) and G3 (ONS, optimistic ONS).

    ρ ∈ {0, 1} (alternating path). quick: T = 2^12, 4 seeds; full: T = 2^16, 20 seeds. G3 uses the
    instance of the ``omd.chen_exp_concave`` check (d = 2, τ = 0.5, δ = 0.1), where the Newton phase
    of ONS starts early; with d = 5-10, τ = 0.1, δ = 1 the theory's β = ½min(1/(4GD), α) keeps ONS
    in a gradient-descent-like phase (regret bending upwards in ln T) beyond T = 2^16.
    """
    check_scale(scale)
    T, seeds = (4096, 4) if scale == "quick" else (65536, 20)
    configs = [{"family": "quadratic", "method": m, "rho": r, "T": T}
               for r in (0.0, 1.0) for m in F4_G2_METHODS]
    configs += [{"family": "square", "method": m, "rho": r, "d": 2, "tau": 0.5, "delta": 0.1, "T": T}
                for r in (0.0, 1.0) for m in F4_G3_METHODS]
    return _full(configs, seeds)


# ------------------------------------------------------------------------------------- helpers
def _mean_se(values: pd.Series) -> tuple[float, float]:
    n = len(values)
    mean = float(values.mean())
    se = float(values.std(ddof=1)) / math.sqrt(n) if n > 1 else 0.0
    return mean, se


def _curve(sub: pd.DataFrame, value: str, extra: Sequence[str] = ()) -> pd.DataFrame:
    """Seed mean, standard error and count of ``value`` (and means of ``extra``) per checkpoint."""
    g = sub.groupby("rounds")
    out = pd.DataFrame({"mean": g[value].mean(), "se": g[value].std(ddof=1).fillna(0.0)
                        / np.sqrt(g[value].count()), "n": g[value].count()})
    for col in extra:
        out[col] = g[col].mean()
    return out.reset_index()


def _tail_slope(x: np.ndarray, y: np.ndarray, points: int = 5) -> float:
    """Log-log slope over the last ``points`` checkpoints (four doublings); NaN if any y ≤ 0."""
    x, y = np.asarray(x, float)[-points:], np.asarray(y, float)[-points:]
    if x.size < 2 or np.any(y <= 0) or np.any(x <= 0):
        return math.nan
    return fit_slope(x, y)



# ------------------------------------------------------------------------------------- F1
def f1_regret_vs_T(df: pd.DataFrame) -> go.Figure:
    """F1: seed-mean regret against T (log-log) per family and ρ, with D(√σ²_{1:T} + √Σ²_{1:T}).

    Parameters
    ----------
    df
        Table of experiment ``omd regret`` with columns family, method, rho, s0, rounds, regret,
        sigma2_sum, Sigma2_sum, D (rows with ρ = 0 and s₀ = 0 form the benign column).

    Returns
    -------
    go.Figure
        Rows: families (G2, G1); columns: ρ values, then "benign". One trace per method and panel
        (seed mean; ✕ where the mean is ≤ 0, drawn at the panel floor), one dashed trace of the rate
        per panel, and the fitted slopes (last four doublings) written in each panel.
    """
    require(df, ["family", "method", "rho", "s0", "rounds", "regret", "sigma2_sum", "Sigma2_sum",
                  "D"], "F1")
    df = df.assign(_benign=(df["rho"] == 0) & (df["s0"] == 0))
    families = [f for f in ("quadratic", "linear", "square") if f in set(df["family"])]
    rhos = sorted(set(df.loc[~df["_benign"], "rho"]))
    columns: list[tuple[str, Any]] = [("rho", r) for r in rhos]
    if df["_benign"].any():
        columns.append(("benign", None))
    methods = [m for m in METHOD_LABELS if m in set(df["method"])]
    titles = []
    for fam in families:
        for kind, r in columns:
            head = f"ρ = {r:g}" if kind == "rho" else "benign: σ = 0, fixed target"
            titles.append(f"{FAMILY_LABELS.get(fam, fam)}<br>{head}")
    fig = make_subplots(rows=len(families), cols=len(columns), subplot_titles=titles,
                        horizontal_spacing=0.035, vertical_spacing=0.16)
    n_clipped = 0
    seeds = int(df.groupby(["family", "method", "rho", "s0", "rounds"]).size().min())
    for i, fam in enumerate(families, start=1):
        for j, (kind, r) in enumerate(columns, start=1):
            panel = df[(df["family"] == fam)
                       & (df["_benign"] if kind == "benign" else (~df["_benign"]) & (df["rho"] == r))]
            if panel.empty:
                continue
            curves = {m: _curve(panel[panel["method"] == m], "regret")
                      for m in methods if (panel["method"] == m).any()}
            rate = _curve(panel, "regret", ("sigma2_sum", "Sigma2_sum", "D"))
            rate_y = np.asarray(th.regime_rate(rate["D"].to_numpy(), rate["sigma2_sum"].to_numpy(),
                                               rate["Sigma2_sum"].to_numpy()))
            positives = np.concatenate([c["mean"][c["mean"] > 0].to_numpy() for c in curves.values()]
                                       + [rate_y[rate_y > 0]])
            floor = 10.0 ** math.floor(math.log10(positives.min()) - 0.5) if positives.size else 1e-3
            lines = []
            n_panel_clipped = 0
            for m, c in curves.items():
                y = c["mean"].to_numpy()
                clipped = y <= 0
                n_panel_clipped += int(clipped.sum())
                slope = _tail_slope(c["rounds"], y)
                lines.append(f"{METHOD_LABELS[m]}: {fmt_slope(slope)}")
                note = np.where(clipped, "mean ≤ 0: drawn at the panel floor", "")
                fig.add_trace(go.Scatter(
                    x=c["rounds"], y=np.where(clipped, floor, y), mode="lines+markers",
                    name=METHOD_LABELS[m], legendgroup=m, showlegend=(i == 1 and j == 1),
                    line={"color": COLORS[m], "width": 1.8},
                    marker={"size": np.where(clipped, 9, 5),
                            "symbol": np.where(clipped, "x", "circle").tolist()},
                    customdata=np.column_stack([y, 1.96 * c["se"], c["n"], note]),
                    hovertemplate=(f"{METHOD_LABELS[m]}, slope {fmt_slope(slope)}<br>T = %{{x}}"
                                   "<br>mean regret %{customdata[0]:.4g} ± %{customdata[1]:.2g} "
                                   "(95%, %{customdata[2]} seeds)<br>%{customdata[3]}"
                                   "<extra></extra>")), row=i, col=j)
            n_clipped += n_panel_clipped
            rate_slope = _tail_slope(rate["rounds"], rate_y)
            lines.append(f"rate: {fmt_slope(rate_slope)}")
            fig.add_trace(go.Scatter(
                x=rate["rounds"], y=rate_y, mode="lines", name=f"D(√{S2} + √{SS2})",
                legendgroup="rate", showlegend=(i == 1 and j == 1),
                line={"color": THEORY_COLOR, "dash": "dash", "width": 1.5},
                hovertemplate=(f"D(√{S2} + √{SS2}), slope {fmt_slope(rate_slope)}"
                               "<br>T = %{x}<br>%{y:.4g}<extra></extra>")), row=i, col=j)
            ticks = log_ticks(np.concatenate([positives, [floor] if n_panel_clipped else []]))
            fig.update_yaxes(tickvals=ticks[0], ticktext=ticks[1], row=i, col=j)
            xref, yref = axis_ref(fig, i, j)
            # curves rise to the upper right, so the lower right is free; benign curves are flat
            ypos, yanchor = (0.55, "middle") if kind == "benign" else (0.02, "bottom")
            fig.add_annotation(text="slopes<br>" + "<br>".join(lines), xref=f"{xref} domain",
                               yref=f"{yref} domain", x=0.98, y=ypos, xanchor="right",
                               yanchor=yanchor, showarrow=False, align="left",
                               font={"size": 9}, bgcolor="rgba(255,255,255,0.75)")
    fig.update_xaxes(type="log", title_text="T", dtick=math.log10(4), tickformat="d")
    fig.update_yaxes(type="log")
    fig.update_yaxes(title_text="regret R<sub>T</sub>", col=1)
    clip_note = (f"{n_clipped} seed mean(s) ≤ 0 are drawn at the panel floor as ✕ (a log axis "
                 "cannot show them; the hover gives the value)." if n_clipped else
                 "No seed mean is ≤ 0.")
    finish(fig, "F1 · realised regret against T: optimistic OMD, OFTRL and OGD across the "
            "stochastic–adversarial mix ρ", width=max(900, 280 * len(columns)),
            plot_height=330 * len(families),
            caption=(f"Seed means of the realised regret R<sub>T</sub> (≥ {seeds} seeds); slopes are "
                     "least-squares log-log fits over the last four doublings. Noise s = (1 − ρ)s₀, "
                     "alternating mean path of amplitude ρA₀ (s₀ = A₀ = 1). Benign: ρ = 0, s₀ = 0, "
                     "m = ½, i.e. σ = 0 and one fixed target ½e₁ (a single switch, at t = 1).<br>"
                     + clip_note + " Expect slope ½ where σ² or Σ² grows linearly in T; "
                     "on the benign stream (Σ²<sub>1:T</sub> = Σ₁², σ = 0) every method flattens."))
    return fig


# ------------------------------------------------------------------------------------- F2
def _final_rows(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["rounds"] == df["rounds"].max()]


def _f2_bounds(sub: pd.DataFrame, knob: str, xcol: str) -> pd.DataFrame:
    """Per value of the swept knob: x = √(mean of ``xcol``), Thm 5 and claim-7 bounds."""
    rows = []
    for value, grp in sub.groupby(knob):
        first = grp.iloc[0]
        sig, Sig = float(grp["sigma2_sum"].mean()), float(grp["Sigma2_sum"].mean())
        delta = float(first["delta"]) if "delta" in grp else 1.0
        rows.append({"knob": value, "x": math.sqrt(float(grp[xcol].mean())),
                     "sachs": th.sachs_convex_bound(first["D"], first["G"], first["L"],
                                                    first["oftrl_nu"], sig, Sig),
                     "chen": th.chen_convex_bound(first["D"], first["G"], first["L"], delta,
                                                  sig, Sig)})
    return pd.DataFrame(rows).sort_values("x")


def f2_regret_vs_variation(df: pd.DataFrame) -> go.Figure:
    """F2: regret at the largest T against √σ²_{1:T} (A₀ = 0) and against √Σ²_{1:T} (s₀ = 0).

    Parameters
    ----------
    df
        Table of experiment ``omd regret`` with columns method, s0, A0, rounds, regret, sigma2_sum,
        Sigma2_sum, D, G, L (and optionally nu, delta). Rows with A₀ = 0 form the σ sweep, rows
        with s₀ = 0 the Σ sweep; only the largest checkpoint is used.

    Returns
    -------
    go.Figure
        Two panels with linear axes: per method the seed mean with a 95% Student-t interval, the
        Thm 5 bound of Sachs et al. (ν = LD² + DG unless the table sets ν) and, for optimistic OMD,
        the claim-7 bound (constants reconstructed in ``theory.omd``).
    """
    require(df, ["method", "s0", "A0", "rounds", "regret", "sigma2_sum", "Sigma2_sum", "D", "G",
                  "L"], "F2")
    last = _final_rows(df)
    T = int(last["rounds"].iloc[0])
    sweeps = [("A0", last[(last["A0"] == 0) & (last["s0"] > 0)], "s0", "sigma2_sum",
               f"√{S2}  (s₀ sweep, A₀ = 0)"),
              ("s0", last[(last["s0"] == 0) & (last["A0"] > 0)], "A0", "Sigma2_sum",
               f"√{SS2}  (A₀ sweep, s = 0, alternating)")]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08,
                        subplot_titles=(f"stochastic: regret vs √{S2}",
                                        f"adversarial: regret vs √{SS2}"))
    methods = [m for m in METHOD_LABELS if m in set(last["method"])]
    shown: set[str] = set()
    ratios: list[str] = []
    for col, (_, sub, knob, xcol, xtitle) in enumerate(sweeps, start=1):
        if sub.empty:
            continue
        for m in methods:
            rows = []
            for value, grp in sub[sub["method"] == m].groupby(knob):
                mean, se = _mean_se(grp["regret"])
                n = len(grp)
                half = float(stats.t.ppf(0.975, n - 1)) * se if n > 1 else 0.0
                rows.append({"knob": value, "mean": mean, "ci": half, "n": n})
            if not rows:
                continue
            pts = pd.DataFrame(rows).merge(_f2_bounds(sub, knob, xcol), on="knob").sort_values("x")
            fig.add_trace(go.Scatter(
                x=pts["x"], y=pts["mean"], mode="lines+markers", name=METHOD_LABELS[m],
                legendgroup=m, showlegend=m not in shown, line={"color": COLORS[m]},
                error_y={"type": "data", "array": pts["ci"], "visible": True, "thickness": 1},
                customdata=np.column_stack([pts["knob"], pts["n"], pts["sachs"]]),
                hovertemplate=(f"{METHOD_LABELS[m]}<br>{knob} = %{{customdata[0]:g}}<br>"
                               "x = %{x:.4g}<br>mean regret %{y:.4g} (95% CI, %{customdata[1]} "
                               "seeds)<br>Thm 5 bound %{customdata[2]:.4g}<extra></extra>")),
                row=1, col=col)
            shown.add(m)
            ratios.append(f"{METHOD_LABELS[m]} ≤ {float((pts['mean'] / pts['sachs']).max()):.2f}"
                          f" × Thm 5 ({'σ' if col == 1 else 'Σ'} sweep)")
        bounds = _f2_bounds(sub, knob, xcol)  # the bounds depend on the stream only
        fig.add_trace(go.Scatter(
            x=bounds["x"], y=bounds["sachs"], mode="lines", name="Thm 5 bound (Sachs et al.)",
            legendgroup="sachs", showlegend="sachs" not in shown,
            line={"color": THEORY_COLOR, "dash": "dash"},
            hovertemplate="Thm 5 bound<br>x = %{x:.4g}<br>%{y:.4g}<extra></extra>"),
            row=1, col=col)
        shown.add("sachs")
        if "optimistic_omd" in methods:
            fig.add_trace(go.Scatter(
                x=bounds["x"], y=bounds["chen"], mode="lines",
                name="claim-7 bound for optimistic OMD (reconstructed constants)",
                legendgroup="chen", showlegend="chen" not in shown,
                line={"color": COLORS["optimistic_omd"], "dash": "dot", "width": 1.2},
                hovertemplate="claim-7 bound<br>x = %{x:.4g}<br>%{y:.4g}<extra></extra>"),
                row=1, col=col)
            shown.add("chen")
        fig.update_xaxes(title_text=xtitle, rangemode="tozero", row=1, col=col)
    fig.update_yaxes(title_text=f"regret R<sub>T</sub> at T = {T}", rangemode="tozero", col=1)
    finish(fig, f"F2 · regret at T = {T} against the stochastic and the adversarial variation",
            width=1150, plot_height=430,
            caption=("Zero-mean linear losses G1 on the unit ball (L = 0, D = 2). Seed means with 95% "
                     "Student-t intervals. Thm 5: 6D√σ²<sub>1:T</sub> + 3√2·D√Σ²<sub>1:T</sub> + "
                     "(3√2/2)DG + ν + (4D²G² + 9L²D⁴)/ν with ν = LD² + DG; it bounds OFTRL.<br>"
                     "Worst measured/bound: " + "; ".join(ratios) + "."))
    return fig


# ------------------------------------------------------------------------------------- F3
def f3_dynamic_regret(df: pd.DataFrame) -> go.Figure:
    """F3: seed-mean dynamic regret at the largest T against the path length P_T (log-log).

    Parameters
    ----------
    df
        Table of experiment ``omd regret`` with columns method, rho, s0, omega, rounds, dyn_regret,
        path_length, sigma2_sum, Sigma2_sum (and eta for ``ogd_const``). Panels are the noise
        levels σ = (1 − ρ)s₀; for ``ogd_const`` the η with the smallest seed-mean dynamic regret
        is kept per (σ, ω).

    Returns
    -------
    go.Figure
        One panel per σ; one trace per method and the claim-10 rate (no constant), dashed.
    """
    require(df, ["method", "rho", "s0", "omega", "rounds", "dyn_regret", "path_length",
                  "sigma2_sum", "Sigma2_sum"], "F3")
    last = _final_rows(df).assign(sigma=lambda d: ((1 - d["rho"]) * d["s0"]).round(6))
    T = int(last["rounds"].iloc[0])
    sigmas = sorted(set(last["sigma"]))
    fig = make_subplots(rows=1, cols=len(sigmas), horizontal_spacing=0.08,
                        subplot_titles=[f"σ = {s:g}" for s in sigmas])
    methods = [m for m in METHOD_LABELS if m in set(last["method"])]
    shown: set[str] = set()
    for col, sigma in enumerate(sigmas, start=1):
        panel = last[last["sigma"] == sigma]
        ys: list[float] = []
        for m in methods:
            sub = panel[panel["method"] == m]
            if sub.empty:
                continue
            rows = []
            for omega, grp in sub.groupby("omega"):
                if m == "ogd_const" and "eta" in grp:
                    by_eta = grp.groupby("eta")["dyn_regret"].mean()
                    eta = float(by_eta.idxmin())
                    grp = grp[grp["eta"] == eta]
                    tag = f"best η = {eta:g} of {len(by_eta)}"
                else:
                    tag = ""
                mean, se = _mean_se(grp["dyn_regret"])
                rows.append({"omega": omega, "P": float(grp["path_length"].mean()), "mean": mean,
                             "se": se, "n": len(grp), "tag": tag})
            pts = pd.DataFrame(rows).sort_values("P")
            ys += pts["mean"].tolist()
            fig.add_trace(go.Scatter(
                x=pts["P"], y=pts["mean"].clip(lower=1e-12), mode="lines+markers",
                name=METHOD_LABELS[m], legendgroup=m, showlegend=m not in shown,
                line={"color": COLORS[m]},
                customdata=np.column_stack([pts["omega"], pts["n"], 1.96 * pts["se"], pts["tag"]]),
                hovertemplate=(f"{METHOD_LABELS[m]}<br>ω = %{{customdata[0]:.3g}}, "
                               "P<sub>T</sub> = %{x:.4g}<br>mean dynamic regret %{y:.4g} ± "
                               "%{customdata[2]:.2g} (%{customdata[1]} seeds)<br>%{customdata[3]}"
                               "<extra></extra>")), row=1, col=col)
            shown.add(m)
        rate = pd.DataFrame([
            {"P": float(g["path_length"].mean()),
             "rate": th.dynamic_rate(float(g["path_length"].mean()), float(g["sigma2_sum"].mean()),
                                     float(g["Sigma2_sum"].mean()))}
            for _, g in panel.groupby("omega")]).sort_values("P")
        fig.add_trace(go.Scatter(
            x=rate["P"], y=rate["rate"], mode="lines",
            name=f"claim-10 rate √((1 + P<sub>T</sub> + {S2} + {SS2})(1 + P<sub>T</sub>)), "
                 "no constant",
            legendgroup="rate", showlegend="rate" not in shown,
            line={"color": THEORY_COLOR, "dash": "dash"},
            hovertemplate="rate<br>P<sub>T</sub> = %{x:.4g}<br>%{y:.4g}<extra></extra>"),
            row=1, col=col)
        shown.add("rate")
        yt, xt = log_ticks(np.array(ys + rate["rate"].tolist())), log_ticks(rate["P"].to_numpy())
        fig.update_yaxes(tickvals=yt[0], ticktext=yt[1], row=1, col=col)
        fig.update_xaxes(tickvals=xt[0], ticktext=xt[1], row=1, col=col)
    fig.update_xaxes(type="log", title_text="path length P<sub>T</sub> = Σ‖u<sub>t</sub> − "
                     "u<sub>t−1</sub>‖")
    fig.update_yaxes(type="log")
    fig.update_yaxes(title_text=f"dynamic regret at T = {T}", col=1)
    finish(fig, "F3 · dynamic regret against the path length of a drifting comparator",
            width=1150, plot_height=430, legend_rows=2,
            caption=("G2 with c<sub>t</sub> on a circle of radius R/2 at angular speed ω (swept; "
                     "P<sub>T</sub> ≈ ωT/2). σ = 0: ρ = 1, A₀ = ½, s₀ = 0; σ = 0.3: ρ = ½, A₀ = 1, "
                     "s₀ = 0.6. Constant-step OGD is tuned in hindsight over its η grid per ω "
                     "(an oracle baseline).<br>Optimistic OMD uses its static adaptive step; the "
                     "ensemble is the Sword++-style combination of optimistic OGD learners. Seed "
                     "means; the rate is drawn without a constant."))
    return fig


# ------------------------------------------------------------------------------------- F4
def f4_curved_losses(df: pd.DataFrame) -> go.Figure:
    """F4: seed-mean regret against ln T on curved losses, per family (G2 and G3) and ρ.

    Parameters
    ----------
    df
        Table of experiment ``omd regret`` with columns family, method, rho, rounds, regret.

    Returns
    -------
    go.Figure
        One panel per family; one trace per (method, ρ) (solid ρ = 0, dotted ρ = 1, others
        dashed). The legend gives the fitted increase of R_T per unit of ln T over the last four
        doublings: a log-T method draws a straight line, a √T method an upward-bending one.
    """
    require(df, ["family", "method", "rho", "rounds", "regret"], "F4")
    families = [f for f in ("quadratic", "square", "linear") if f in set(df["family"])]
    dims = {f: (int(df.loc[df["family"] == f, "d"].iloc[0]) if "d" in df else None)
            for f in families}
    titles = [f"{FAMILY_LABELS[f]}" + (f", d = {dims[f]}" if dims[f] else "") for f in families]
    fig = make_subplots(rows=1, cols=len(families), horizontal_spacing=0.08,
                        subplot_titles=titles)
    methods = [m for m in METHOD_LABELS if m in set(df["method"])]
    for col, fam in enumerate(families, start=1):
        panel = df[df["family"] == fam]
        for m in methods:
            for rho in sorted(set(panel.loc[panel["method"] == m, "rho"])):
                c = _curve(panel[(panel["method"] == m) & (panel["rho"] == rho)], "regret")
                lnT = np.log(c["rounds"].to_numpy(float))
                tail = slice(-5, None)
                per_ln = (float(np.polyfit(lnT[tail], c["mean"].to_numpy()[tail], 1)[0])
                          if len(c) >= 2 else math.nan)
                dash = {0.0: "solid", 1.0: "dot"}.get(float(rho), "dash")
                fig.add_trace(go.Scatter(
                    x=lnT, y=c["mean"], mode="lines+markers",
                    name=f"{METHOD_LABELS[m]}, ρ = {rho:g} (ΔR/Δln T ≈ {per_ln:.2g})",
                    line={"color": COLORS[m], "dash": dash}, marker={"size": 5},
                    customdata=np.column_stack([c["rounds"], 1.96 * c["se"], c["n"]]),
                    hovertemplate=(f"{METHOD_LABELS[m]}, ρ = {rho:g}<br>T = %{{customdata[0]}}"
                                   "<br>mean regret %{y:.4g} ± %{customdata[1]:.2g} "
                                   "(%{customdata[2]} seeds)<extra></extra>")), row=1, col=col)
    fig.update_xaxes(title_text="ln T")
    fig.update_yaxes(title_text="regret R<sub>T</sub>", col=1)
    finish(fig, "F4 · curved losses: regret against ln T", width=1150, plot_height=430,
            legend_rows=4,
            caption=("G2: f<sub>t</sub>(x) = ½‖x − c<sub>t</sub> − ξ<sub>t</sub>‖² (λ = L = 1). "
                     "G3: online least squares, α-exp-concave with α = 1/B². Solid ρ = 0 (i.i.d.), "
                     "dotted ρ = 1 (alternating adversary). Seed means; ΔR/Δln T is the slope of a "
                     "linear fit of R<sub>T</sub> on ln T over the last four doublings."))
    return fig


# ------------------------------------------------------------------------------------- builders
build_f1 = builder(f1_sweep, f1_regret_vs_T)
build_f2 = builder(f2_sweep, f2_regret_vs_variation)
build_f3 = builder(f3_sweep, f3_dynamic_regret)
build_f4 = builder(f4_sweep, f4_curved_losses)


FIGURES: list[FigureSpec] = [
    FigureSpec("omd_F1_regret_vs_T", "F1: regret vs T across the stochastic-adversarial mix",
               build_f1),
    FigureSpec("omd_F2_regret_vs_variation", "F2: regret vs √σ²_{1:T} and √Σ²_{1:T}, Thm 5 bound",
               build_f2),
    FigureSpec("omd_F3_dynamic_regret", "F3: dynamic regret vs path length P_T", build_f3),
    FigureSpec("omd_F4_curved_losses", "F4: curved losses, regret vs ln T", build_f4),
]
