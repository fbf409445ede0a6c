# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Auxiliary-loss-free load balancing: from the LP and its dual to the bias update
#
# A sparse mixture-of-experts layer sends every token to K of its E experts. If the router
# simply takes each token's top-K scores, popular experts drown and others idle. Wang et al.
# (2024) fix this *without* an auxiliary loss: every expert gets a bias b_i that is added to the
# scores **for the selection only**, and after each batch
#
#   b_i ← b_i + u·sign(mean load − load_i).
#
# Han & Zhong (2025) explain why this works: the bias is the negative **price** of an expert's
# capacity in an assignment LP, biased top-K is the exact best response to those prices, and the
# update is one step of dual (sub)gradient descent. This notebook builds that reading up from a
# single batch of router scores, with the library's public code:
#
# - `solvers.alf_lb`: routing (`route`), the bias rules, online balancing (`run_online`), the exact
#   LP (`solve_assignment_lp`) and its dual (`dual_value`, `dual_subgradient`);
# - `sims.alf_lb`: score streams, the fixed-batch primal-dual dynamics (`sims.alf_lb.dual`), the
#   Gumbel testbed (`sims.alf_lb.gumbel`) and MaxVio;
# - `theory.alf_lb`: the claims as plain functions (bounds, floors, closed forms).
#
# The spec with every formula is `shared/specs/alf_lb.md`; the derivations of the reconstructed
# claims are in the docstring of `theory/alf_lb.py`. Claims are cited by their id
# (`alf_lb.duality`, …); `boundlab verify --topic alf_lb` checks each of them.

# %%
import math
import os

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from IPython.display import display
from plotly.subplots import make_subplots

import sims.alf_lb.gumbel as gb
from sims.alf_lb.dual import detect_cycle, dual_alignment, run_fixed_batch, sandwich_terms, telescoping
from sims.alf_lb.metrics import maxvio
from sims.alf_lb.streams import drifting_scores, popularity, popularity_scores
from sims.checks import fit_slope
from solvers.alf_lb import (
    dual_subgradient,
    dual_value,
    route,
    run_online,
    sign_rule,
    solve_assignment_lp,
)
from theory import alf_lb as th

# %% tags=["parameters"]
# Scale of the notebook. Tests set BOUNDLAB_NOTEBOOK_SCALE=small (smaller batches and horizons, < 40 s).
SCALE = os.environ.get("BOUNDLAB_NOTEBOOK_SCALE", "default")
SMALL = SCALE == "small"
E, K = 8, 2                                  # experts, experts per token
N_TOKENS = 256 if SMALL else 512             # tokens n of the fixed batch (K·n/E must be an integer)
ITERS = 3000 if SMALL else 5000              # bias updates on the fixed batch
STREAM_BATCHES = 1200 if SMALL else 4000     # batches of the online stream
T_GUMBEL = 2**12 if SMALL else 2**16         # horizon of the Gumbel-testbed regret runs
SEEDS = 3 if SMALL else 10                   # repetitions averaged for expectation claims
print(f"scale {SCALE!r}: E = {E}, K = {K}, n = {N_TOKENS}, {ITERS} updates, {STREAM_BATCHES} stream batches, "
      f"T = {T_GUMBEL}, {SEEDS} seeds")

# %% [markdown]
# ## 1. A batch of router scores and top-K routing
#
# One batch has n tokens j and E experts i, with scores s ∈ ℝ^{n×E}. Here s_ji = a_i + ε_ji: a
# per-expert **popularity** a ~ N(0, 1) (drawn once) plus standard Gaussian token noise
# (`sims.alf_lb.streams.popularity_scores`). Plain top-K routing sends token j to the K experts with
# the largest s_ji (ties to the lower index), and the **load** of expert i is the number of tokens
# it receives, Σ_i load_i = Kn.
#
# Balance is measured by Wang et al.'s **MaxVio** (their Eq. 4): with the balanced load
# L̄ = Kn/E = C (the capacity),
#
#   MaxVio = (max_i load_i − L̄) / L̄,
#
# 0 for perfect balance and E/K − 1 when every token picks the same K experts.

# %%
rng = np.random.default_rng(2024)
a = popularity(E, rng, spread=1.0)
scores = popularity_scores(N_TOKENS, a, rng)
C = th.capacity(N_TOKENS, K, E)
plain = route(scores, K)
print(f"popularity a = {np.round(a, 2)}")
print(f"capacity C = Kn/E = {C}; loads of plain top-K = {plain.loads}; "
      f"MaxVio = {maxvio(plain.loads, K):.3f}")

fig = go.Figure(go.Bar(x=[f"expert {i}" for i in range(E)], y=plain.loads, name="plain top-K"))
fig.add_hline(y=C, line={"dash": "dash", "color": "black"}, annotation_text="capacity C = Kn/E")
fig.update_layout(title=f"Loads of plain top-K routing (n = {N_TOKENS}, K = {K}): MaxVio = "
                  f"{maxvio(plain.loads, K):.2f}", yaxis_title="tokens", template="plotly_white",
                  width=800, height=380)
fig.show()

# %% [markdown]
# ## 2. The assignment LP and its dual
#
# The best *balanced* routing solves the assignment LP (P):
#
#   OPT = max Σ_ji s_ji x_ji  s.t.  Σ_i x_ji = K (each token gets K experts),
#                                  Σ_j x_ji = C (each expert gets C tokens),  0 ≤ x ≤ 1.
#
# Its constraint matrix is a bipartite incidence matrix, hence totally unimodular: the simplex
# vertex is 0/1, so the LP optimum is a real routing (`alf_lb.integrality`). HiGHS' dual simplex
# (`solve_assignment_lp`) returns x*, OPT and the **capacity prices** p* (the duals of the
# capacity rows, the value of one more unit of an expert's capacity).

# %%
lp = solve_assignment_lp(scores, K)
lp_loads = lp.x.sum(axis=0)
plain_value = float(plain.scores.sum())
print(f"integrality gap of the simplex vertex: {abs(lp.integrality_gap):.1e} (0/1 solution); "
      f"loads of x* = {lp_loads} (all = C = {C})")
print(f"OPT = {lp.value:.3f}; plain top-K (unconstrained) = {plain_value:.3f}; "
      f"price of balance = {plain_value - lp.value:.3f}")
print(f"prices p* = {np.round(lp.prices, 3)}")

# %% [markdown]
# **The dual function.** Price the capacity rows with p ∈ ℝ^E. The Lagrangian
# L(x, p) = Σ s_ji x_ji − Σ_i p_i(load_i − C) is maximised, token by token, by taking the K largest
# entries of s_j − p: **biased top-K with b = −p is the exact best response**
# (`alf_lb.best_response`). Its value is the dual function
#
#   D(p) = Σ_j topKsum(s_j − p) + C·Σ_i p_i,
#
# convex and piecewise linear (a maximum of functions affine in p), unchanged by p ↦ p + c·1, and
# D(p) ≥ OPT for every p with equality at p* (`alf_lb.duality`). At p = 0 it is the value of plain
# top-K. Any best response x(p) gives a **subgradient**
#
#   g(p) = C·1 − load(x(p)) ∈ ∂D(p),   Σ_i g_i = 0:
#
# positive for an under-loaded expert, negative for an over-loaded one.

# %%
print(f"D(0) = {dual_value(scores, K, np.zeros(E)):.3f} (= plain top-K value {plain_value:.3f})")
print(f"D(p*) − OPT = {dual_value(scores, K, lp.prices) - lp.value:.2e}")
random_p = [lp.prices + r * rng.standard_normal(E) for r in (1e-3, 1e-2, 1e-1, 1.0) for _ in range(5)]
print(f"min over 20 random p of D(p) − OPT = {min(dual_value(scores, K, p) for p in random_p) - lp.value:.3e} "
      "(≥ 0)")
print(f"g(0) = C·1 − load = {dual_subgradient(scores, K, np.zeros(E))}")

# %% [markdown]
# **D along a line and on a plane.** Move the price along a direction d ∈ 1^⊥ through p*
# (d = e₀ − e₁: expert 0 gets dearer, expert 1 cheaper): D(p* + τd) is a convex, piecewise-linear
# curve with its minimum at τ = 0, and its slope on each piece is ⟨g, d⟩ = g₀ − g₁ (dotted: the
# tangent from the subgradient at τ = 0.3). The contour plot is D on the plane of (p₀, p₁) with
# the other prices held at p*.

# %%
d = np.zeros(E)
d[0], d[1] = 1.0, -1.0
taus = np.linspace(-0.6, 0.6, 241)
line = np.array([dual_value(scores, K, lp.prices + t * d) for t in taus]) - lp.value
t0 = 0.3
g0 = dual_subgradient(scores, K, lp.prices + t0 * d)
tangent = dual_value(scores, K, lp.prices + t0 * d) - lp.value + (taus - t0) * float(g0 @ d)

grid = np.linspace(-0.8, 0.8, 41)
plane = np.empty((grid.size, grid.size))
for r, dp1 in enumerate(grid):
    for c_, dp0 in enumerate(grid):
        p = lp.prices.copy()
        p[0] += dp0
        p[1] += dp1
        plane[r, c_] = dual_value(scores, K, p) - lp.value

fig = make_subplots(rows=1, cols=2, subplot_titles=("D(p* + τd) − OPT, d = e₀ − e₁",
                                                    "D(p) − OPT on the (p₀, p₁) plane"))
fig.add_trace(go.Scatter(x=taus, y=line, mode="lines", name="D(p* + τd) − OPT"), row=1, col=1)
fig.add_trace(go.Scatter(x=taus, y=tangent, mode="lines", line={"dash": "dot", "color": "gray"},
                         name=f"D(q) + ⟨g(q), p − q⟩, q at τ = {t0}"), row=1, col=1)
fig.add_trace(go.Contour(x=lp.prices[0] + grid, y=lp.prices[1] + grid, z=plane, ncontours=25,
                         colorscale="Viridis", colorbar={"title": "D − OPT", "x": 1.02}, showlegend=False),
              row=1, col=2)
fig.add_trace(go.Scatter(x=[lp.prices[0]], y=[lp.prices[1]], mode="markers", name="p*",
                         marker={"color": "red", "size": 10, "symbol": "x"}), row=1, col=2)
fig.update_xaxes(title_text="τ", row=1, col=1)
fig.update_yaxes(title_text="D − OPT", range=[-0.05 * line.max(), line.max() * 1.05], row=1, col=1)
fig.update_xaxes(title_text="p₀", row=1, col=2)
fig.update_yaxes(title_text="p₁", row=1, col=2)
fig.update_layout(template="plotly_white", width=1000, height=430, legend={"x": 0.0, "y": -0.25,
                                                                           "orientation": "h"})
fig.show()

# %% [markdown]
# ## 3. The bias is a negative price; the sign rule is a dual subgradient step
#
# Write b = −p. Since mean(load) = C, the sign rule of Wang et al. (Algorithm 1)
#
#   b ← b + u·sign(mean load − load) = b + u·sign(g)   ⇔   p ← p − u·sign(g(p)),
#
# is a **sign-subgradient step on D**, and the gradient rule b ← b + η(C·1 − load) is the plain
# subgradient step p ← p − ηg. Run on one fixed batch (route with b_t, count, update, route the same
# batch again), the primal-dual method should drive the bias towards the LP's b* = −p*.
#
# `sims.alf_lb.dual.run_fixed_batch` runs it (a numba kernel over iterations and tokens) and records
# per iteration the loads, D(p_t), the dual gap D(p_t) − OPT ≥ 0 and the bias. The sign rule's bias
# lives on the lattice u·ℤ^E; routing ignores a common shift, so the run routes with the shifted
# bias u·(k − min k) (`route_bias`) and we centre everything (subtract the mean over experts) before
# comparing with the centred b*.

# %%
U_VALUES = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1]
runs = {u: run_fixed_batch(scores, K, rule="sign", u=u, iters=ITERS, lp=lp) for u in U_VALUES}
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def centred(b: np.ndarray) -> np.ndarray:
    """Subtract the mean over experts (the last axis): routing and D ignore b ↦ b + c·1."""
    return b - b.mean(axis=-1, keepdims=True)


def bias_traces(run, lp_bias: np.ndarray, visible: bool = True) -> list[go.Scatter]:
    """Each expert's centred bias against iteration (solid) and its centred b* (dashed)."""
    it = np.arange(1, run.route_bias.shape[0] + 1)
    cb, cs = centred(run.route_bias), centred(lp_bias)
    traces = []
    for i in range(cb.shape[1]):
        col = COLORS[i % len(COLORS)]
        traces.append(go.Scatter(x=it, y=cb[:, i], mode="lines", line={"color": col, "width": 1.5},
                                 name=f"expert {i}", legendgroup=str(i), visible=visible))
        traces.append(go.Scatter(x=[it[0], it[-1]], y=[cs[i], cs[i]], mode="lines",
                                 line={"color": col, "dash": "dash", "width": 1}, name=f"b*_{i}",
                                 legendgroup=str(i), showlegend=False, visible=visible))
    return traces


# A plotly slider over u: the figure works without a live kernel (every u is drawn in advance).
fig = go.Figure()
per_u = 2 * E
for k, u in enumerate(U_VALUES):
    for tr in bias_traces(runs[u], lp.bias, visible=(k == 2)):
        fig.add_trace(tr)
steps = []
for k, u in enumerate(U_VALUES):
    vis = [k * per_u <= i < (k + 1) * per_u for i in range(per_u * len(U_VALUES))]
    steps.append({"method": "update", "label": f"{u:g}",
                  "args": [{"visible": vis}, {"title": f"Sign rule on one batch, u = {u:g}: centred bias "
                                                        "(solid) → centred LP bias b* = −p* (dashed)"}]})
fig.update_layout(sliders=[{"active": 2, "currentvalue": {"prefix": "u = "}, "steps": steps, "pad": {"t": 40}}],
                  title=f"Sign rule on one batch, u = {U_VALUES[2]:g}: centred bias (solid) → centred LP bias "
                        "b* = −p* (dashed)",
                  xaxis={"title": "iteration t", "type": "log"}, yaxis_title="b_i − mean(b)",
                  template="plotly_white", width=900, height=480)
fig.show()

# %% [markdown]
# The bias climbs towards the LP duals at speed u per step (the sign step moves every coordinate by
# exactly u), so small u takes ~ max|b*|/u steps; after that it hovers around b*. The LP duals of
# an assignment problem are often **degenerate** (a whole face of optimal prices, of width about
# the score gaps ~ 1/n), so "converges to b*" means "to within the dual face plus a few u": the
# dual gap D(p_t) − OPT is the faithful measure. The table compares the final bias with b* by
# correlation and by the L∞ distance in units of u (after the best shift).

# %%
rows = []
for u, run in runs.items():
    corr, linf = dual_alignment(run.route_bias[-1], lp.bias, u)
    rows.append({"u": u, "D(p₁) − OPT": run.dual_gap[0], "D(p_T) − OPT": run.dual_gap[-1],
                 "MaxVio at t = 1": run.maxvio[0], "MaxVio at t = T": run.maxvio[-1],
                 "corr(b_T, b*)": corr, "‖b_T − b*‖∞ / u": linf})
pd.DataFrame(rows).round(4)

# %%
fig = make_subplots(rows=1, cols=2, subplot_titles=("dual gap D(p_t) − OPT", "MaxVio of batch routing"))
for k, (u, run) in enumerate(runs.items()):
    it = np.arange(1, run.dual.size + 1)
    col = COLORS[k]
    fig.add_trace(go.Scatter(x=it, y=np.maximum(run.dual_gap, 1e-9), mode="lines", line={"color": col},
                             name=f"u = {u:g}", legendgroup=str(u)), row=1, col=1)
    fig.add_trace(go.Scatter(x=it, y=np.maximum(run.maxvio, 1e-4), mode="lines", line={"color": col},
                             name=f"u = {u:g}", legendgroup=str(u), showlegend=False), row=1, col=2)
fig.update_xaxes(type="log", title_text="iteration t")
fig.update_yaxes(type="log", title_text="D(p_t) − OPT", row=1, col=1)
fig.update_yaxes(type="log", title_text="MaxVio (0 drawn at 10⁻⁴)", row=1, col=2)
fig.update_layout(template="plotly_white", width=1000, height=420)
fig.show()

# %% [markdown]
# **Claim 6(a), the telescoping identity.** Summing the updates gives, exactly,
# (1/T) Σ_{t≤T} sign g_t = (b_{T+1} − b_1)/(uT): since the bias differences stay bounded, the
# *time-averaged* sign of the imbalance vanishes like 1/T (`alf_lb.telescoping`).

# %%
lhs, rhs, tol = telescoping(runs[1e-2])
print(f"u = 0.01: max over T', i of |lhs − rhs| = {np.max(np.abs(lhs - rhs)):.1e} "
      f"(rounding bound {np.max(tol):.1e})")
for T_ in (ITERS // 10, ITERS // 2, ITERS):
    print(f"  T = {T_:5d}: ‖(1/T)Σ sign g_t‖∞ = {np.max(np.abs(lhs[T_ - 1])):.5f}, "
          f"times T = {T_ * np.max(np.abs(lhs[T_ - 1])):.1f} (bounded: the average falls like 1/T)")

# %% [markdown]
# ### Try it: the step u and the batch size n
#
# Move u and n; the figure redraws the centred bias against b*, the dual gap and MaxVio on a fresh
# batch of n tokens with the same popularity a. A larger batch has more, finer-grained tokens to
# move, so its LP duals are less degenerate and the bias settles closer to b*. The static figure
# right below is the default setting, so the notebook reads the same without a live kernel.

# %%
N_OPTIONS = [n for n in (64, 128, 256, 512, 1024) if not SMALL or n <= 512]


def dynamics_figure(u: float, n: int, iters: int = ITERS) -> go.Figure:
    """Sign-rule dynamics on a fresh batch of n tokens: centred bias vs b*, dual gap, MaxVio."""
    s = popularity_scores(n, a, np.random.default_rng([7, n]))
    batch_lp = solve_assignment_lp(s, K)
    run = run_fixed_batch(s, K, rule="sign", u=u, iters=iters, lp=batch_lp)
    cyc = detect_cycle(run)
    f = make_subplots(rows=1, cols=3, subplot_titles=("centred bias vs b* (dashed)", "D(p_t) − OPT", "MaxVio"))
    for tr in bias_traces(run, batch_lp.bias):
        tr.showlegend = False
        f.add_trace(tr, row=1, col=1)
    it = np.arange(1, run.dual.size + 1)
    f.add_trace(go.Scatter(x=it, y=np.maximum(run.dual_gap, 1e-9), mode="lines", showlegend=False), row=1, col=2)
    f.add_trace(go.Scatter(x=it, y=np.maximum(run.maxvio, 1e-4), mode="lines", showlegend=False), row=1, col=3)
    f.update_xaxes(type="log", title_text="iteration t")
    f.update_yaxes(type="log", row=1, col=2)
    f.update_yaxes(type="log", row=1, col=3)
    cycle = f"limit cycle of period {cyc.period} after {cyc.start} steps" if cyc.found else "no cycle yet"
    f.update_layout(title=f"u = {u:g}, n = {n}: {cycle}", template="plotly_white", width=1050, height=380)
    return f


dynamics_figure(1e-2, 256).show()  # the default, drawn statically


def redraw(u: float, n: int) -> None:
    dynamics_figure(u, n).show()


# Headless runs (the tests, SCALE == "small") get the same controls behind a "Run" button and draw
# a few settings once here: a cell whose Output widget captures output on its own can lose its
# execute reply in nbclient (jupyter/nbclient#312), which stalls the run until the cell timeout.
HEADLESS = SMALL
controls = widgets.interactive(
    redraw, {"manual": HEADLESS},
    u=widgets.SelectionSlider(options=[1e-3, 3e-3, 1e-2, 3e-2, 1e-1], value=1e-2, description="u"),
    n=widgets.Dropdown(options=N_OPTIONS, value=256, description="n"),
)
display(controls)
if HEADLESS:
    for u_, n_ in ((1e-3, 64), (1e-1, N_OPTIONS[-1])):
        dynamics_figure(u_, n_, iters=200)

# %% [markdown]
# ## 4. What each step guarantees
#
# **The sandwich (`alf_lb.monotone_improvement`).** Writing the subgradient inequality at p and at
# p + δ gives, for any step δ,
#
#   ⟨δ, g(p)⟩ ≤ D(p + δ) − D(p) ≤ ⟨δ, g(p + δ)⟩.
#
# For the sign step δ = −u·sign g_t this reads −u‖g_t‖₁ ≤ D(p_{t+1}) − D(p_t) ≤ −u⟨sign g_t, g_{t+1}⟩:
# the dual value **strictly decreases whenever the step does not overshoot**
# (⟨sign g_t, g_{t+1}⟩ > 0). Below, ΔD of the first steps of the u = 0.01 run inside its two
# bounds, and the count of violations over all steps and all u (with a rounding tolerance of a
# few machine epsilons of |D|).

# %%
run = runs[1e-2]
lower, dD, upper, tol = sandwich_terms(run)
show = min(400, dD.size)
it = np.arange(1, show + 1)
width = upper - lower
# where g_(t+1) = g_t the step stays on one linear piece and ΔD = lower = upper: no position to draw
position = np.where(width > 0, (dD - lower) / np.where(width > 0, width, 1.0), np.nan)
fig = make_subplots(rows=1, cols=2, subplot_titles=("ΔD and its two bounds",
                                                    "position of ΔD in the sandwich (must lie in [0, 1])"))
fig.add_trace(go.Scatter(x=it, y=upper[:show], mode="lines", line={"color": COLORS[3]},
                         name="upper ⟨δ, g(p_(t+1))⟩ = −u⟨sign g_t, g_(t+1)⟩"), row=1, col=1)
fig.add_trace(go.Scatter(x=it, y=dD[:show], mode="markers", marker={"size": 3, "color": "black"},
                         name="ΔD = D(p_(t+1)) − D(p_t)"), row=1, col=1)
fig.add_trace(go.Scatter(x=it, y=lower[:show], mode="lines", line={"color": COLORS[0]},
                         name="lower ⟨δ, g(p_t)⟩ = −u‖g_t‖₁"), row=1, col=1)
fig.add_trace(go.Scatter(x=it, y=position[:show], mode="markers", marker={"size": 3, "color": "black"},
                         showlegend=False), row=1, col=2)
for y in (0.0, 1.0):
    fig.add_hline(y=y, line={"dash": "dash", "color": "gray"}, row=1, col=2)
fig.update_xaxes(type="log", title_text="step t → t + 1")
fig.update_yaxes(title_text="ΔD", row=1, col=1)
fig.update_yaxes(title_text="(ΔD − lower)/(upper − lower)", range=[-0.1, 1.1], row=1, col=2)
fig.update_layout(title="Claim 4 on the sign rule, u = 0.01: every step inside its sandwich",
                  template="plotly_white", width=1100, height=440, legend={"orientation": "h", "y": -0.25})
fig.show()

rows = []
for u, r_ in runs.items():
    lo, dd, up, tl = sandwich_terms(r_)
    rows.append({"u": u, "steps": dd.size, "sandwich violations": int(np.sum((dd < lo - tl) | (dd > up + tl))),
                 "steps with ΔD < 0": int(np.sum(dd < 0)), "token moves": int(r_.pref_moves.sum()),
                 "preference violations": int(r_.pref_violations.sum()), "ties": int(r_.pref_ties.sum()),
                 "max load_k / load_i": float(r_.pref_load_ratio.max())})
claims_4_5 = pd.DataFrame(rows)
assert claims_4_5["sandwich violations"].eq(0).all(), "claim 4 fails on a fixed-batch run"
assert claims_4_5["preference violations"].eq(0).all(), "claim 5 fails on a fixed-batch run"
display(claims_4_5)

# %% [markdown]
# **The preference rule (`alf_lb.preference_rule`).** A sign step changes token j's biased gap
# (s_ji + b_i) − (s_jk + b_k) by u(σ_i − σ_k), σ = sign g_t. So if expert k *enters* token j's top-K
# while i *leaves* it, then σ_k > σ_i: **tokens only move towards less-loaded experts**
# (load_k < load_i). The table above counts every (token, entering, leaving) move of every step:
# zero violations, and the largest load_k/load_i over all moves stays below 1.
#
# **Limit cycles (`alf_lb.sign_limit_cycle`).** With a constant u the bias differences stay
# bounded on the lattice u·ℤ^E and the update is deterministic, so the trajectory is eventually
# **exactly periodic**; `detect_cycle` finds the first repeat of the centred lattice state. Larger
# u reaches its cycle sooner but cycles farther from the optimum: the cycle-averaged dual gap and
# MaxVio grow with u (the trade-off of Wang et al.'s Fig. 4: small u balances slowly, large u
# fluctuates).

# %%
rows = []
for u, r_ in runs.items():
    cyc = detect_cycle(r_)
    sl = slice(cyc.start, cyc.start + cyc.period) if cyc.found else slice(len(r_.dual) // 2, None)
    rows.append({"u": u, "transient (steps)": cyc.start if cyc.found else math.nan,
                 "period": cyc.period if cyc.found else math.nan,
                 "cycle-mean D − OPT": float(r_.dual_gap[sl].mean()),
                 "cycle-mean MaxVio": float(r_.maxvio[sl].mean())})
cycles = pd.DataFrame(rows)
display(cycles)

# %%
big = runs[1e-1]
cyc = detect_cycle(big)
window = np.arange(max(cyc.start - 10, 0), min(cyc.start + 6 * max(cyc.period, 1), big.dual.size))
fig = make_subplots(rows=1, cols=2, subplot_titles=("centred bias, u = 0.1", "D(p_t) − OPT, u = 0.1"))
cb = centred(big.route_bias)
for i in range(E):
    fig.add_trace(go.Scatter(x=window, y=cb[window, i], mode="lines+markers", marker={"size": 4},
                             line={"color": COLORS[i]}, name=f"expert {i}"), row=1, col=1)
fig.add_trace(go.Scatter(x=window, y=big.dual_gap[window], mode="lines+markers", line={"color": "black"},
                         name="D − OPT"), row=1, col=2)
fig.add_vline(x=cyc.start, line={"dash": "dot", "color": "gray"})
fig.update_xaxes(title_text="iteration t")
fig.update_layout(title=f"u = 0.1: exact limit cycle of period {cyc.period} from t = {cyc.start}",
                  template="plotly_white", width=1000, height=400)
fig.show()

# %% [markdown]
# ## 5. Online: a stream of batches
#
# In training the bias is updated **causally**: batch t is routed with b_{t−1}, computed from the
# loads of earlier batches only, and every batch brings fresh tokens. `solvers.alf_lb.run_online`
# does this in one numba kernel. The stream here has popularity that drifts slowly,
# a_{t+1} = a_t + τξ_t (`sims.alf_lb.streams.drifting_scores`), so the prices must keep tracking it.
#
# Two balance measures now differ (spec §2):
#
# - **MaxVio_batch**: the MaxVio of each training batch's own loads, averaged over batches;
# - **MaxVio_global**: the loads of a large held-out set (here 2¹⁴ tokens of the current
#   popularity) under the current bias.
#
# Prices fix the *expected* loads, not the sampling noise of one batch: even under perfect global
# balance each load is Binomial(n, K/E), so (`alf_lb.batch_floor`)
#
#   MaxVio_batch ≳ m_E·√((E − K)/(Kn)),  m_E = 𝔼 max of E standard normals < √(2 ln E)
#
# (`theory.alf_lb.batch_maxvio_floor`). ALF-LB should drive MaxVio_global towards 0 while
# MaxVio_batch settles on that floor.

# %%
N_STREAM = 256
stream_rng = np.random.default_rng(11)
a0 = popularity(E, stream_rng, spread=1.0)
TAU = 1e-3
stream, a_path = drifting_scores(N_STREAM, a0, STREAM_BATCHES, stream_rng, tau=TAU)
held_noise = stream_rng.standard_normal((2**14, E))      # held-out tokens, shifted by the current a_t
evals = np.unique(np.geomspace(1, STREAM_BATCHES, 24).astype(int)) - 1


def global_maxvio(biases: np.ndarray | None) -> np.ndarray:
    """MaxVio_global at the evaluation batches t: held-out tokens of popularity a_t, routed with b_t."""
    out = []
    for t in evals:
        b = None if biases is None else biases[t]
        out.append(maxvio(route(held_noise + a_path[t], K, b).loads, K))
    return np.array(out)


flat = route(stream.reshape(-1, E), K).experts.reshape(STREAM_BATCHES, -1)
plain_loads = np.stack([np.bincount(row, minlength=E) for row in flat])
arms = {"plain top-K": (plain_loads, global_maxvio(None))}
for u in (1e-3, 1e-2, 1e-1):
    on = run_online(sign_rule(E, u), stream, K)
    arms[f"sign rule, u = {u:g}"] = (on.loads, global_maxvio(on.biases))
floor = float(th.batch_maxvio_floor(N_STREAM, K, E))


def rolling(x: np.ndarray, w: int = 10) -> np.ndarray:
    """Trailing mean over w batches (shorter at the start)."""
    c = np.cumsum(np.insert(x, 0, 0.0))
    idx = np.arange(1, x.size + 1)
    lo = np.maximum(idx - w, 0)
    return (c[idx] - c[lo]) / (idx - lo)


fig = make_subplots(rows=1, cols=2, subplot_titles=("MaxVio_batch (10-batch mean)", "MaxVio_global (held-out set)"))
for k, (name, (loads, glob)) in enumerate(arms.items()):
    col = ["black", COLORS[0], COLORS[2], COLORS[3]][k]
    fig.add_trace(go.Scatter(x=np.arange(1, STREAM_BATCHES + 1), y=rolling(maxvio(loads, K)), mode="lines",
                             line={"color": col}, name=name, legendgroup=name), row=1, col=1)
    fig.add_trace(go.Scatter(x=evals + 1, y=np.maximum(glob, 1e-3), mode="lines+markers", line={"color": col},
                             name=name, legendgroup=name, showlegend=False), row=1, col=2)
fig.add_hline(y=floor, line={"dash": "dash", "color": "gray"}, row=1, col=1,
              annotation_text="claim-11 floor m_E√((E−K)/(Kn))", annotation_position="bottom left")
fig.update_xaxes(type="log", title_text="batch t")
fig.update_yaxes(type="log", title_text="MaxVio_batch", row=1, col=1)
fig.update_yaxes(type="log", title_text="MaxVio_global (0 drawn at 10⁻³)", row=1, col=2)
fig.update_layout(title=f"Causal online balancing, drifting popularity (τ = {TAU:g}), n = {N_STREAM}, E = {E}, K = {K}",
                  template="plotly_white", width=1050, height=430)
fig.show()

half = STREAM_BATCHES // 2
pd.DataFrame([{"arm": name, "MaxVio_batch (second half)": float(maxvio(loads[half:], K).mean()),
               "MaxVio_global (last)": float(glob[-1]), "claim-11 floor": floor,
               "MaxVio_batch / floor": float(maxvio(loads[half:], K).mean()) / floor}
              for name, (loads, glob) in arms.items()]).round(3)

# %% [markdown]
# Small u needs ~ max|b*|/u batches before it balances at all; large u balances within tens of
# batches but then jitters by ± u around the prices, which costs global balance. No price vector
# can push MaxVio_batch below the floor: it is the sampling noise of n = 256 tokens, and it falls
# only like 1/√n with the batch (Wang et al.'s Fig. 5: larger computation batches balance better).

# %% [markdown]
# ## 6. The Gumbel testbed and logarithmic regret
#
# Online, each batch gives a stochastic subgradient of the **expected** dual loss
# F(p) = 𝔼 f_t(p), f_t(p) = (1/n) Σ_j topKsum(s_j − p) + (K/E) Σ_i p_i, and the gradient rule
# b ← b + η_t((K/E)·1 − l_t) is online gradient descent on it (`alf_lb.stochastic_gradient`,
# ‖g_t‖² ≤ G² = K(1 − K/E)). The natural yardstick is the pseudo-regret
# R_T = Σ_{t≤T} [F(p_t) − F*].
#
# With K = 1 and Gumbel noise, s_ji = a_i + Gumbel(0, 1), everything is in closed form
# (`alf_lb.gumbel_testbed`): routing is a softmax draw, the loads are Multinomial(n, q),
# q = softmax(a − p), and
#
#   F(p) = logsumexp(a − p) + (1/E) Σ_i p_i + γ,   ∇F = 1/E − q,   ∇²F = diag(q) − qqᵀ,
#   p* = a − mean(a),   F* = mean(a) + ln E + γ.
#
# F is strongly convex on 1^⊥: μ = 1/E at p* and μ_R = e^{−2R}/E on the ball ‖p − p*‖ ≤ R
# (`alf_lb.strong_convexity`). For projected steps η_t = c/(μ_R t) with **c ≥ 1**, the
# Hazan–Agarwal–Kale argument gives (`alf_lb.log_regret`)
#
#   𝔼 R_T ≤ (cG²/(2μ_R))·H_T ≤ (cG²/(2μ_R))(1 + ln T),
#
# and the step-size dichotomy (`alf_lb.step_dichotomy`) says that c < ½ (relative to the true
# curvature) loses it: regret ~ T^{1−2c}. `sims.alf_lb.gumbel.simulate` draws the exact multinomial
# batches and adds the exact F(p_t) − F* each round.

# %%
GUMBEL_ARMS = {
    "c = 1, μ = μ_R, projected (claim 9)": {"rule": "inverse_t", "c": 1.0},
    "c = 1, μ = 1/E, unprojected": {"rule": "inverse_t", "c": 1.0, "mu": "curvature", "project": False},
    "c = 0.1, μ = 1/E, unprojected": {"rule": "inverse_t", "c": 0.1, "mu": "curvature", "project": False},
}


def gumbel_runs(overrides: dict, batch: int, T: int = T_GUMBEL, seeds: int = SEEDS) -> pd.DataFrame:
    """Pseudo-regret at checkpoints T = 1, 2, 4, … on one testbed (E = 8), one row per (seed, T)."""
    config = gb.EXPERIMENT.config({**overrides, "T": T, "batch": batch, "instance": 0})
    frames = [gb.gumbel_regret(config, np.random.default_rng([seed, batch])).assign(seed=seed)
              for seed in range(seeds)]
    return pd.concat(frames, ignore_index=True)


testbed = gb.make_testbed(8, 64, np.random.default_rng(0))
R = testbed.radius0
print(f"testbed: E = {testbed.E}, p* = {np.round(testbed.p_star, 3)}, F* = {testbed.F_star:.4f}")
print(f"R = ‖p*‖₂ = {R:.3f}: μ_R = e^(−2R)/E = {th.gumbel_modulus(testbed.E, R):.4f} vs the curvature 1/E = "
      f"{1 / testbed.E:.4f}; G² = {testbed.G2:.3f}")

# %%
BATCHES = (64, 1)
results = {(name, b): gumbel_runs(cfg, b) for name, cfg in GUMBEL_ARMS.items() for b in BATCHES}
fig = make_subplots(rows=1, cols=2, subplot_titles=[f"batch n = {b}" for b in BATCHES])
for col, b in enumerate(BATCHES, start=1):
    for k, name in enumerate(GUMBEL_ARMS):
        df = results[(name, b)]
        mean = df.groupby("rounds")["regret"].mean()
        sd = df.groupby("rounds")["regret"].std(ddof=1)
        fig.add_trace(go.Scatter(x=mean.index, y=mean.to_numpy(), mode="lines+markers", line={"color": COLORS[k]},
                                 error_y={"type": "data", "array": 1.96 * sd.to_numpy() / math.sqrt(SEEDS)},
                                 name=name, legendgroup=name, showlegend=col == 1), row=1, col=col)
    rounds = np.array(sorted(results[(next(iter(GUMBEL_ARMS)), b)]["rounds"].unique()), dtype=float)
    bound_R = th.log_regret_bound(rounds, 1, testbed.E, th.gumbel_modulus(testbed.E, R), c=1.0)
    bound_c = th.log_regret_bound(rounds, 1, testbed.E, 1.0 / testbed.E, c=1.0)
    fig.add_trace(go.Scatter(x=rounds, y=bound_R, mode="lines", line={"dash": "dash", "color": COLORS[0]},
                             name="claim-9 bound (cG²/(2μ_R))H_T, c = 1", showlegend=col == 1), row=1, col=col)
    fig.add_trace(go.Scatter(x=rounds, y=bound_c, mode="lines", line={"dash": "dot", "color": COLORS[1]},
                             name="(G²/(2μ))H_T at μ = 1/E (heuristic)", showlegend=col == 1), row=1, col=col)
fig.update_xaxes(type="log", title_text="T")
fig.update_yaxes(type="log", title_text="𝔼 R_T (seed mean, 95% CI)")
fig.update_layout(title=f"Pseudo-regret on the Gumbel testbed (E = 8, {SEEDS} seeds)", template="plotly_white",
                  width=1100, height=460, legend={"orientation": "h", "y": -0.25})
fig.show()

# %% [markdown]
# The table gives, per arm and batch, the fitted log-log slope of the seed-mean regret over the
# upper half of the checkpoints against claim 10's exponent (0 = logarithmic), and, for the arm
# the proof covers, how much of the claim-9 bound the regret uses at the horizon.

# %%
rows = []
for (name, b), df in results.items():
    mean = df.groupby("rounds")[["regret", "bound"]].mean()
    tail = mean.iloc[len(mean) // 2:]
    cfg = GUMBEL_ARMS[name]
    T_last = float(mean.index[-1])
    heuristic = th.log_regret_bound(T_last, 1, testbed.E, 1.0 / testbed.E, c=1.0)
    rows.append({"arm": name, "batch n": b, "𝔼 R_T": mean["regret"].iloc[-1],
                 "slope": fit_slope(tail.index.to_numpy(), tail["regret"].to_numpy()),
                 "claim-10 exponent": float(th.regret_exponent("inverse_t", cfg["c"])),
                 "𝔼 R_T / claim-9 bound": mean["regret"].iloc[-1] / mean["bound"].iloc[-1],
                 "𝔼 R_T / heuristic (μ = 1/E)": mean["regret"].iloc[-1] / heuristic})
gumbel_table = pd.DataFrame(rows)
covered = gumbel_table["𝔼 R_T / claim-9 bound"].dropna()
assert (covered <= 1).all(), "claim 9's bound is exceeded on the seed mean"
gumbel_table.round(3)

# %% [markdown]
# What to read off:
#
# - the covered arm (projected, μ_R) stays under its bound. With n = 64 tokens per batch the
#   gradient noise, and with it the regret, is ~64 times smaller than with n = 1, while the bound
#   (written with G², the noise of a single token) does not know about n;
# - the c in η_t = c/(μt) counts relative to the *true* curvature: μ_R < 1/E, so "c = 1 with μ_R"
#   is an effective c = e^{2R} > 1 at p*, safely logarithmic;
# - the unprojected run with μ = 1/E, the curvature at p* only, is **not** covered by the proof,
#   and at n = 1 it shows why: the first steps η_t = E/t with a one-token gradient throw p far from
#   p*, where the softmax saturates and F is almost flat, and the regret ends well above the
#   curvature-form "bound" (G²/(2/E))·H_T. Projection onto the ball, with the modulus μ_R that
#   holds on all of it, is what the log-T guarantee needs;
# - c = 0.1 against the true curvature 1/E is the failure mode of claim 10: the steps shrink too
#   fast, the iterate crawls towards p*, and the regret grows like T^{0.8};
# - fitted log-log slopes of logarithmic curves approach 0 only slowly (R_T ≈ A + B ln T has local
#   slope B/(A + B ln T)), and at n = 1 the horizon here is still pre-asymptotic; the
#   check `alf_lb.step_dichotomy` fits log R_T against log ln T instead.
#
# ## Where to go next
#
# - `boundlab verify --topic alf_lb` checks every claim of `theory.alf_lb` at the theorem's constants;
# - `boundlab run alf_lb fixed_batch`, `sign_cycle`, `gumbel_regret`, … run the experiments behind
#   this notebook over many seeds (`sims/alf_lb/`);
# - the spec `shared/specs/alf_lb.md` lists the paper figures (regret dichotomy, MaxVio vs u and vs
#   batch size, the aux-loss trade-off) and the published numbers they reproduce.
