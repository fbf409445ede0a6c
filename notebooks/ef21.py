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
# # Error feedback under contractive compression: EF21 and EF21-W
#
# n clients each hold a smooth, possibly non-convex f_i and want to minimise f = (1/n)Σ_i f_i. Every
# round each client may send the server **one compressed vector** — a few entries instead of d. This
# notebook goes from the compressors to the reason plain compressed gradient descent fails, to
# **EF21** (Richtárik, Sokolov, Fatkhullin, NeurIPS 2021), which fixes it with a simple error-feedback
# rule, and to **EF21-W** ("Error Feedback Reloaded", Richtárik, Gasanov, Burlachenko, ICLR 2024), which
# replaces the quadratic mean of the clients' smoothness constants in the step size by their
# arithmetic mean — a gain of up to √n when one client is much less smooth than the others.
#
# Everything below uses the library's public code:
#
# - `solvers.ef21`: compressors (`TopK`, `RandK`), the methods (`gd`, `ef14`, `ef21`, `ef21w`,
#   `econtrol`) and the round loop `run`, which records ‖∇f(x^t)‖², f, the estimator errors and the bits;
# - `sims.ef21`: the problems (non-convex logistic regression, least squares) and the experiments;
# - `theory.ef21`: the claims as plain functions (θ, β, ξ, the step sizes, the bounds, S_pred).
#
# **Data.** The papers run on LIBSVM datasets (a9a, mushrooms, phishing, w8a). Nothing is downloaded
# here, so those are **not available offline**: this notebook uses synthetic data (spec default d = 20,
# n = 20 clients, N_i = 50 points each) and, at the end, scikit-learn's **bundled**
# `load_breast_cancer` (569 × 30) and `load_digits` (1797 × 64, label "digit < 5"), standardised, with
# an intercept column. The spec with every formula is `shared/specs/ef21.md`; `boundlab verify --topic
# ef21` checks each claim at the theorem's constants.

# %%
import math
import os

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from IPython.display import display
from plotly.subplots import make_subplots

import solvers.ef21 as se
from sims.ef21 import experiments as ex
from theory import ef21 as th

# %% tags=["parameters"]
# Scale of the notebook. Tests set BOUNDLAB_NOTEBOOK_SCALE=small (shorter runs, a few seconds in all).
SCALE = os.environ.get("BOUNDLAB_NOTEBOOK_SCALE", "default")
SMALL = SCALE == "small"
T = 1500 if SMALL else 20_000            # rounds of the training runs
T_WIDGET = 800 if SMALL else 5000        # rounds of one interactive comparison
VECTORS = 2000 if SMALL else 20_000      # random vectors of the compressor demo
print(f"scale {SCALE!r}: T = {T} rounds, {T_WIDGET} per interactive run, {VECTORS} test vectors")
COLORS = {"gd": "#7f7f7f", "ef14": "#ff7f0e", "ef21": "#1f77b4", "ef21w": "#2ca02c", "econtrol": "#9467bd",
          "cgd": "#d62728"}

# %% [markdown]
# ## 1. Compressors and their α
#
# A compressor C is **α-contractive** (0 < α ≤ 1) if E‖C(v) − v‖² ≤ (1 − α)‖v‖² for every v.
#
# - **TopK** keeps the K entries of largest magnitude (ties to the lowest index): deterministic, and
#   since the K largest of the d squares carry at least the fraction K/d of ‖v‖², α = K/d **on every v**;
# - **RandK** keeps a uniform random K-subset: E‖C(v) − v‖² = (1 − K/d)‖v‖², α = K/d **in expectation**;
# - **scaled RandK**, (d/K)·v_S, is unbiased but E‖C(v) − v‖² = (d/K − 1)‖v‖²: contractive only for
#   K > d/2. It is the natural compressor of unbiased methods (DIANA, QSGD-style) and the wrong one for
#   error feedback.
#
# Below: the ratio ‖C(v) − v‖²/‖v‖² over random, sparse and heavy-tailed vectors in d = 20, and for
# RandK the exact expectation, by enumerating all C(d, K) subsets.

# %%
rng = np.random.default_rng(0)
d, K = 20, 2
V = np.vstack([rng.standard_normal((VECTORS // 2, d)),                               # Gaussian
               rng.standard_t(1.5, (VECTORS // 4, d)),                               # heavy tails
               rng.standard_normal((VECTORS // 4, d)) * (rng.random((VECTORS // 4, d)) < 0.2)])  # sparse
top = se.contraction_ratio(se.TopK(K), V)
rand = se.contraction_ratio(se.RandK(K), V, rng)
scaled = se.contraction_ratio(se.RandK(K, scaled=True), V, rng)
print(f"TopK:   max ratio {top.max():.4f} ≤ 1 − K/d = {1 - K / d:.4f} on every vector: "
      f"{bool(np.all(top <= 1 - K / d + 1e-12))}")
print(f"RandK:  mean ratio {rand.mean():.4f} ≈ 1 − K/d = {1 - K / d:.4f}  (single draws range up to {rand.max():.3f})")
print(f"scaled: mean ratio {scaled.mean():.3f} ≈ d/K − 1 = {d / K - 1:g} > 1: not contractive")
v = rng.standard_normal(8)
print(f"exact RandK expectation, d = 8, K = 3, all {math.comb(8, 3)} subsets: "
      f"{se.randk_expected_error(v, 3):.6f} = (1 − 3/8)‖v‖² = {se.randk_error_closed_form(v, 3):.6f}")

fig = go.Figure()
for name, r, col in (("Top2", top, COLORS["ef21"]), ("Rand2", rand, COLORS["ef14"])):
    fig.add_trace(go.Histogram(x=r, name=name, opacity=0.6, nbinsx=60, marker_color=col))
fig.add_vline(x=1 - K / d, line={"dash": "dash", "color": "black"}, annotation_text="1 − α = 1 − K/d")
fig.update_layout(barmode="overlay", title=f"‖C(v) − v‖²/‖v‖² over {len(V)} vectors, d = {d}, K = {K}",
                  xaxis_title="‖C(v) − v‖²/‖v‖²", yaxis_title="vectors", template="plotly_white",
                  width=850, height=380)
fig.show()

# %% [markdown]
# **The constants of the analysis.** EF21's proof uses Young's inequality with the optimal parameter
# s = 1/√(1−α) − 1 and produces θ = 1 − √(1−α) (how fast the estimator error contracts),
# β = (1−α)/(1−√(1−α)) (how much a step re-injects) and ξ = √(β/θ) = (√(1−α) + 1 − α)/α. The step size
# is γ = 1/(L + L_M·ξ), so ξ is the price of compression: ξ = 0 at α = 1 (EF21 is GD with γ = 1/L) and
# ξ ≈ 2d − 3/2 for Top1 (α = 1/d).

# %%
alphas = np.geomspace(1e-3, 1, 200)
fig = go.Figure()
for name, fn in (("θ = 1 − √(1−α)", th.theta), ("β = (1−α)/(1−√(1−α))", th.beta), ("ξ = √(β/θ)", th.xi)):
    fig.add_trace(go.Scatter(x=alphas, y=np.maximum(fn(alphas), 1e-6), mode="lines", name=name))
fig.add_trace(go.Scatter(x=alphas, y=2 / alphas - 1, mode="lines", line={"dash": "dot", "color": "gray"},
                         name="2/α − 1 (ξ ≤ 2/α − 1)"))
fig.update_xaxes(type="log", title_text="α")
fig.update_yaxes(type="log", title_text="value (0 drawn at 10⁻⁶)")
fig.update_layout(title="The constants of EF21 as functions of α", template="plotly_white", width=850, height=400)
fig.show()
print(f"Top1, d = 20: ξ = {th.xi(1 / 20):.3f} (2d − 3/2 = {2 * 20 - 1.5}); α = 1: θ = {th.theta(1.0):g}, "
      f"β = {th.beta(1.0):g}, ξ = {th.xi(1.0):g}")

# %% [markdown]
# ## 2. Why error feedback: compressed GD can diverge
#
# The obvious method, x^{t+1} = x^t − γ(1/n)Σ_i C(∇f_i(x^t)), has no guarantee for a biased compressor
# such as TopK. Beznosikov, Horváth, Richtárik and Safaryan (2020, Example 1) give three clients in
# d = 3, f_i(x) = ⟨a_i, x⟩² + ½‖x‖² with a_1 = c(−3, 2, 2), a_2 = c(2, −3, 2), a_3 = c(2, 2, −3): f is
# strongly convex with x* = 0, yet on the ray x = t·1 Top1 keeps, for client i, its i-th entry
# t(1 − 6c²) < 0, so the compressed mean points **away** from x* and x grows by the factor
# 1 + γ(6c² − 1)/3 per round, for **every** γ > 0. (We take c = 1.1: at c = 1 the three entries tie and
# the paper needs the tie broken towards the negative one; our ties go to the lowest index.)
#
# EF21 compresses the *innovation* ∇f_i(x^{t+1}) − g_i^t instead: g_i tracks ∇f_i, and the server
# steps along g = (1/n)Σ g_i. Same compressor, same step, same start:

# %%
cex = ex.counterexample(1.1)
top1 = se.TopK(1)
L_AM3, L_QM3 = th.smoothness_means(cex.smoothness)
x0 = np.ones(3) + 1e-3 * np.random.default_rng(1).standard_normal(3)
fig = make_subplots(rows=1, cols=2, subplot_titles=[f"γ = {m:g}·γ_QM" for m in (1, 8)])
for col, mult in enumerate((1.0, 8.0), start=1):
    gamma = mult * float(th.step_qm(cex.L, L_QM3, top1.alpha(3)))
    cgd = ex.compressed_gd(cex, top1, gamma, 300, x0)
    ef = se.run(cex, se.ef21(top1), gamma, 300, x0=x0)
    rate = 1 + gamma * (6 * 1.1**2 - 1) / 3
    t_ = np.arange(cgd.rounds + 1)
    fig.add_trace(go.Scatter(x=t_, y=cgd.grad_sq, name="compressed GD (Top1), no error feedback",
                             line={"color": COLORS["cgd"]}, showlegend=col == 1), row=1, col=col)
    fig.add_trace(go.Scatter(x=t_, y=cgd.grad_sq[0] * rate ** (2 * t_), name="(1 + γ(6c² − 1)/3)^{2t} growth",
                             line={"color": "black", "dash": "dot"}, showlegend=col == 1), row=1, col=col)
    fig.add_trace(go.Scatter(x=ef.t, y=ef.grad_sq, name="EF21 (Top1)", line={"color": COLORS["ef21"]},
                             showlegend=col == 1), row=1, col=col)
    print(f"γ = {mult:g}·γ_QM = {gamma:.4f}: compressed GD ‖∇f‖² {cgd.grad_sq[0]:.3g} → {cgd.grad_sq[-1]:.3g} "
          f"({cgd.status}), EF21 → {ef.grad_sq[-1]:.3g}")
    assert cgd.grad_sq[-1] > cgd.grad_sq[0] > ef.grad_sq[-1]
fig.update_yaxes(type="log", title_text="‖∇f(x^t)‖²")
fig.update_xaxes(title_text="round t")
fig.update_layout(title="Beznosikov et al.'s counterexample: the compressed mean points away from x* = 0",
                  template="plotly_white", width=1050, height=420, legend={"orientation": "h", "y": -0.2})
fig.show()

# %% [markdown]
# ## 3. The task, and heterogeneous smoothness
#
# Non-convex logistic regression (the EF21 paper's task): with labels y ∈ {±1},
#
#   f_i(x) = (1/N_i)Σ_j log(1 + exp(−y_ij a_ijᵀx)) + λΣ_k x_k²/(1 + x_k²),  λ = 0.1.
#
# The regulariser's curvature lies in [−λ/2, 2λ], so L_i = λ_max(A_iᵀA_i)/(4N_i) + 2λ is a true
# smoothness constant of f_i (and f ≥ f_low = 0). The step sizes depend on these constants through
#
#   L_AM = (1/n)Σ L_i ≤ L_QM = √((1/n)Σ L_i²),   H = L_QM/L_AM ∈ [1, √n),
#
# EF21: γ_QM = 1/(L + L_QM ξ);  EF21-W (and, by the Reloaded analysis, EF21 itself): γ_AM = 1/(L + L_AM ξ).
#
# To make the clients' smoothness differ we scale the rows of client 1 by √(1 + ζ) (the spec's
# "dominant client" knob; Reloaded's exact procedure is not confirmed). Then L_1 grows like ζ, L_QM
# follows L_1/√n while L_AM follows L_1/n, and H climbs towards √n. Claim 8's predicted speed-up is the
# ratio of the steps, S_pred = γ_AM/γ_QM ∈ [1, H], close to H when ξ is large (Top1).

# %%
BASE = {**ex.TRAINING_DEFAULTS, "T": T}
rows = []
for zeta in (0.0, 1.0, 10.0, 100.0, 1000.0):
    prob = ex.build_problem({**BASE, "heterogeneity": zeta}, np.random.default_rng(0))
    L_AM, L_QM = th.smoothness_means(prob.smoothness)
    a = 1 / prob.dim
    rows.append({"ζ": zeta, "L": prob.L, "L_AM": L_AM, "L_QM": L_QM, "H": L_QM / L_AM,
                 "γ_QM": th.step_qm(prob.L, L_QM, a), "γ_AM": th.step_am(prob.L, L_AM, a),
                 "S_pred": th.predicted_speedup(prob.L, L_QM, L_AM, a)})
het = pd.DataFrame(rows)
print(f"n = {BASE['n_clients']} clients, √n = {math.sqrt(BASE['n_clients']):.3f}; Top1 in d = {BASE['d']}")
het.round(4)

# %% [markdown]
# ## 4. EF21 against EF21-W on heterogeneous clients
#
# One problem (ζ = 100, one seed), one start x⁰ ~ N(0, I), Top1 for every compressed method, theory
# steps: GD with 1/L, EF14 (classic error feedback) and EF21 with γ_QM, EF21-W with γ_AM, and the
# reconstructed EControl with γ_QM and η = α/400. `sims.ef21.experiments.run_training` draws the problem
# and x⁰ from the generator; we reuse them for every method.

# %%
ZETA = 100.0
inst_rng = np.random.default_rng(7)
problem = ex.build_problem({**BASE, "heterogeneity": ZETA}, inst_rng)
x_start = inst_rng.standard_normal(problem.dim)
runs = {}
for method, step in (("gd", "gd"), ("ef14", "qm"), ("ef21", "qm"), ("ef21w", "am"), ("econtrol", "qm")):
    cfg = {**BASE, "heterogeneity": ZETA, "method": method, "step": step}
    runs[method] = ex.run_training(cfg, np.random.default_rng(0), problem=problem, x0=x_start)
H = problem.L_QM / problem.L_AM
print(f"ζ = {ZETA:g}: H = {H:.3f}, γ_AM/γ_QM = {runs['ef21w'].gamma / runs['ef21'].gamma:.3f}")

labels = {"gd": "GD, 1/L", "ef14": "EF14, γ_QM", "ef21": "EF21, γ_QM", "ef21w": "EF21-W, γ_AM",
          "econtrol": "EControl, γ_QM"}
fig = make_subplots(rows=1, cols=2, subplot_titles=("against rounds", "against bits per client (values + indices)"))
for m, r in runs.items():
    tr = r.traj
    fig.add_trace(go.Scatter(x=tr.t, y=tr.grad_sq, name=labels[m], line={"color": COLORS[m]}), row=1, col=1)
    fig.add_trace(go.Scatter(x=tr.bits_indices[1:], y=tr.grad_sq[1:], name=labels[m], line={"color": COLORS[m]},
                             showlegend=False), row=1, col=2)
fig.update_yaxes(type="log", title_text="‖∇f(x^t)‖²")
fig.update_xaxes(title_text="round t", row=1, col=1)
fig.update_xaxes(type="log", title_text="bits sent per client", row=1, col=2)
fig.update_layout(title=f"Theory steps on one heterogeneous problem (ζ = {ZETA:g}, H = {H:.2f}, Top1)",
                  template="plotly_white", width=1100, height=430, legend={"orientation": "h", "y": -0.2})
fig.show()

# %% [markdown]
# What to read off: per round GD is fastest (it sends d = 20 values per round, 20× as many bits as
# Top1; in bits it falls behind). Among the compressed methods EF21-W's larger step γ_AM makes it
# ≈ S_pred times faster than EF21 at γ_QM. EF14 carries no guarantee here (its non-convex theory needs
# bounded gradients) and tends to stall at a level set by the heterogeneity, since its messages
# C(e_i + γ∇f_i) need not vanish at a stationary point.
#
# **The claims, per run.** With full gradients and TopK every run is deterministic, so the bounds must
# hold on *this* run for every T. Claim 4 (EF21, γ ≤ γ_QM), claim 5 (EF21-W, γ ≤ γ_AM) and claim 6 (plain
# EF21 with the larger γ_AM, reconstructed) all read
#
#   (1/T)Σ_{t<T}‖∇f(x^t)‖² ≤ 2(f(x⁰) − f_low)/(γT) + E⁰/(θT),
#
# with E⁰ = G⁰, G_W⁰ or G̃⁰ — all zero for g_i⁰ = ∇f_i(x⁰), and positive for g_i⁰ = 0 (the bound
# is then looser). `run_training` records the running average and the bound of the claim that covers the
# run:

# %%
checks = []
for method, step in (("ef21", "qm"), ("ef21w", "am"), ("ef21", "am")):
    for init in ("gradient", "zero"):
        cfg = {**BASE, "heterogeneity": ZETA, "method": method, "step": step, "init": init}
        r = ex.run_training(cfg, np.random.default_rng(0), problem=problem, x0=x_start)
        ratio = r.avg_grad_sq[1:] / r.bound[1:]
        checks.append({"method": method, "step": step, "init": init, "claim": r.claim, "γ": r.gamma,
                       "max over T of average/bound": float(np.max(ratio)),
                       "average at T": float(r.avg_grad_sq[-1]), "bound at T": float(r.bound[-1])})
claims = pd.DataFrame(checks)
assert (claims["max over T of average/bound"] <= 1).all(), "a claim-4/5/6 bound is exceeded on this run"
display(claims)

# %% [markdown]
# The last four rows agree: **with TopK, EF21-W at γ_AM runs exactly the iterates of EF21 at γ_AM.** TopK
# is positively homogeneous, C(v/c) = C(v)/c for c > 0, so client i's EF21-W state is its EF21 state times
# 1/(n w_i) = L_AM/L_i, the weighted aggregate Σ_i w_i g_i equals (1/n)Σ_i g_i, and
# G_W = Σ_i w_i‖g_i/(n w_i) − ∇f_i/(n w_i)‖² = (1/n)Σ_i (L_AM/L_i)‖g_i − ∇f_i‖² = G̃. Claims 5 and 6 are then
# one statement about one run; the weighting matters for compressors that are not homogeneous (e.g. with
# a threshold or quantisation grid) and for the analysis, which is where Reloaded needs it.

# %%
plain_am = ex.run_training({**BASE, "heterogeneity": ZETA, "method": "ef21", "step": "am"},
                           np.random.default_rng(0), problem=problem, x0=x_start)
gap = np.max(np.abs(plain_am.traj.grad_sq - runs["ef21w"].traj.grad_sq) / runs["ef21w"].traj.grad_sq)
print(f"EF21 at γ_AM vs EF21-W at γ_AM, largest relative difference of ‖∇f(x^t)‖² over {T} rounds: {gap:.1e}")
print(f"G̃ of EF21 vs G_W of EF21-W at the last round: {plain_am.traj.G_tilde[-1]:.6e} vs "
      f"{runs['ef21w'].traj.G[-1]:.6e}")
assert gap < 1e-9, "EF21-W with TopK should run the iterates of EF21 at the same step"

# %% [markdown]
# ### Try it: compressor, K, n and heterogeneity
#
# The controls rebuild the problem (synthetic data, n clients, dominant client 1 + ζ) and run EF21 at
# γ_QM against EF21-W at γ_AM with TopK or (unscaled) RandK keeping K of the d = 20 entries. The
# title reports H, S_pred and the measured ratio of rounds to ‖∇f‖² ≤ 10⁻²‖∇f(x⁰)‖². The static figure
# right below is the default setting, so the notebook reads the same without a live kernel.


# %%
def comparison(compressor: str, k: int, n: int, zeta: float, rounds: int = T_WIDGET) -> go.Figure:
    """EF21 (γ_QM) against EF21-W (γ_AM) on a fresh synthetic problem: ‖∇f‖² against rounds."""
    prob = ex.build_problem({**BASE, "n_clients": n, "heterogeneity": zeta}, np.random.default_rng([3, n]))
    x_init = np.random.default_rng(4).standard_normal(prob.dim)
    comp = ex.build_compressor(compressor, k, prob.dim)
    alpha = comp.alpha(prob.dim)
    L_AM, L_QM = th.smoothness_means(prob.smoothness)
    steps = {"ef21": float(th.step_qm(prob.L, L_QM, alpha)), "ef21w": float(th.step_am(prob.L, L_AM, alpha))}
    methods = {"ef21": se.ef21(comp), "ef21w": se.ef21w(comp, prob.smoothness)}
    f = go.Figure()
    hit = {}
    for m in ("ef21", "ef21w"):
        tr = se.run(prob, methods[m], steps[m], rounds, x0=x_init, rng=np.random.default_rng(5))
        hit[m] = ex.rounds_to_target(tr.grad_sq, 1e-2)
        f.add_trace(go.Scatter(x=tr.t, y=tr.grad_sq, name=f"{'EF21, γ_QM' if m == 'ef21' else 'EF21-W, γ_AM'}",
                               line={"color": COLORS[m]}))
    measured = hit["ef21"] / hit["ef21w"] if np.isfinite(hit["ef21"]) and np.isfinite(hit["ef21w"]) else math.nan
    S = float(th.predicted_speedup(prob.L, L_QM, L_AM, alpha))
    f.update_yaxes(type="log", title_text="‖∇f(x^t)‖²")
    f.update_xaxes(title_text="round t")
    f.update_layout(title=(f"{comp.name}, n = {n}, ζ = {zeta:g}: H = {L_QM / L_AM:.2f} (√n = {math.sqrt(n):.2f}), "
                           f"S_pred = {S:.2f}, measured {measured:.2f}" + ("" if np.isfinite(measured)
                                                                           else " (10⁻² not reached)")),
                    template="plotly_white", width=900, height=400)
    return f


comparison("top", 1, 20, 100.0).show()  # the default, drawn statically


def redraw(compressor: str, k: int, n: int, zeta: float) -> None:
    comparison(compressor, k, n, zeta).show()


# Headless runs (the tests, SCALE == "small") get the same controls behind a "Run" button and draw a few
# settings once here: a cell whose Output widget captures output on its own can lose its execute reply in
# nbclient (jupyter/nbclient#312), which stalls the run until the cell timeout.
HEADLESS = SMALL
controls = widgets.interactive(
    redraw, {"manual": HEADLESS},
    compressor=widgets.Dropdown(options=[("TopK", "top"), ("RandK (unscaled)", "rand")], value="top",
                                description="compressor"),
    k=widgets.SelectionSlider(options=[1, 2, 5, 10, 20], value=1, description="K"),
    n=widgets.Dropdown(options=[5, 10, 20, 50], value=20, description="n"),
    zeta=widgets.SelectionSlider(options=[0.0, 1.0, 10.0, 100.0, 1000.0], value=100.0, description="ζ"),
)
display(controls)
if HEADLESS:
    for args in (("rand", 2, 10, 10.0), ("top", 20, 5, 1000.0)):
        comparison(*args, rounds=200)

# %% [markdown]
# Things to try: with K = d (no compression, α = 1, ξ = 0) both steps are 1/L and the two methods
# coincide; with ζ = 0 the clients are alike, H ≈ 1 and so is the speed-up; with large ζ and Top1, H
# approaches √n and S_pred ≈ H. RandK is α-contractive only in expectation, so its curves are noisy.

# %% [markdown]
# ## 5. Bundled real data
#
# The same comparison on scikit-learn's bundled breast-cancer data (569 × 30 plus an intercept, split over
# 10 clients). Its features are standardised, so the clients' L_i differ only through the split; the
# dominant-client knob adds heterogeneity as before. (`load_digits`, 1797 × 64, works the same way:
# `dataset="digits"`.)

# %%
rows = []
for zeta in (0.0, 100.0):
    cfg = {**BASE, "dataset": "breast_cancer", "n_clients": 10, "heterogeneity": zeta, "T": T}
    prob = ex.build_problem(cfg, np.random.default_rng(11))
    start = np.random.default_rng(12).standard_normal(prob.dim)
    res = {m: ex.run_training({**cfg, "method": m, "step": s}, np.random.default_rng(0), problem=prob, x0=start)
           for m, s in (("ef21", "qm"), ("ef21w", "am"))}
    rt = {m: ex.rounds_to_target(r.traj.grad_sq, 1e-2) for m, r in res.items()}
    rows.append({"ζ": zeta, "d": prob.dim, "H": prob.L_QM / prob.L_AM,
                 "S_pred": res["ef21w"].gamma / res["ef21"].gamma,
                 "rounds to 10⁻², EF21": rt["ef21"], "rounds to 10⁻², EF21-W": rt["ef21w"],
                 "final ‖∇f‖², EF21": res["ef21"].traj.grad_sq[-1],
                 "final ‖∇f‖², EF21-W": res["ef21w"].traj.grad_sq[-1]})
pd.DataFrame(rows).round(4)

# %% [markdown]
# ## Where to go next
#
# - `boundlab verify --topic ef21` checks every claim of `theory.ef21` at the theorem's constants;
# - `boundlab run ef21 training --set method=ef21w --set step=am --set heterogeneity=100` runs one
#   training curve; `speedup`, `pl` and `divergence` are the other experiments (`sims/ef21/`);
# - `boundlab figures ef21` draws the paper figures: ‖∇f‖² against rounds and bits (F1, F2), the speed-up
#   against H (F3), the per-run claim check (F4) and the divergence example (F5).
