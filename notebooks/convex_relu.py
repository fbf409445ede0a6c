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
# # From hyperplane arrangements to ADMM: training a two-layer ReLU network globally
#
# A two-layer ReLU network f(x) = Σ_j α_j (u_jᵀx)_+ trained with weight decay,
#
#   L_nc(U, α) = ½‖f(X) − y‖² + (β/2) Σ_j (‖u_j‖² + α_j²),
#
# is a non-convex problem. Pilanci and Ergen (ICML 2020) showed that it is secretly **convex**: every neuron
# only sees the data through its *activation pattern* D = diag(1[Xu ≥ 0]), and once the patterns are
# fixed the network is linear in the weights. Enumerating all patterns (a hyperplane arrangement) turns
# training into the convex program
#
#   C(𝒟): min over v_i, w_i ∈ K_i of ½‖Σ_i D_iX(v_i − w_i) − y‖² + β Σ_i (‖v_i‖ + ‖w_i‖),
#
# with the cones K_i = {v : (2D_i − I)Xv ≥ 0} that keep each weight consistent with its pattern. Bai, Gautam
# and Sojoudi (SIMODS 2023) solve it by **ADMM** with a cheap, exact u-step, sample the patterns when there are
# too many, and derive **convex adversarial training**. This notebook walks the whole path on 2-D data, where
# everything can be drawn:
#
# 1. the data and its arrangement: the patterns, counted against Cover's n² − n + 2;
# 2. the convex program solved by ADMM, its gap per iteration against an interior-point solver;
# 3. the recovered network's decision boundary next to an SGD network of the same width;
# 4. the adversarially trained network and its certified ε-boxes;
# 5. controls for the number of patterns, β and ε.
#
# It uses the library's public code: `sims.convex_relu.data` (datasets), `solvers.convex_relu` (patterns,
# ADMM, cvxpy reference, recovery, non-convex training, attacks and certificates) and `theory.convex_relu`
# (the claims CR1–CR12 as functions). The paper's numbers are not confirmed, so none is quoted: everything
# below is measured here. The spec is `shared/specs/convex_relu.md`; `boundlab verify --topic convex_relu`
# checks the claims.

# %%
import os
import time

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
from IPython.display import display
from plotly.subplots import make_subplots

from sims.convex_relu import data
from solvers.convex_relu import (
    beta_max,
    cone_violation,
    enumerate_patterns_2d,
    sample_patterns,
    with_bias,
)
from solvers.convex_relu.admm import admm, default_rho
from solvers.convex_relu.adversarial import certify, eps_star, robust_accuracy
from solvers.convex_relu.cvx import solve_cvxpy
from solvers.convex_relu.nonconvex import train_nonconvex
from theory import convex_relu as th

# %% tags=["parameters"]
# Scale of the notebook. Tests set BOUNDLAB_NOTEBOOK_SCALE=small (a few seconds in all).
SCALE = os.environ.get("BOUNDLAB_NOTEBOOK_SCALE", "default")
SMALL = SCALE == "small"
N_POINTS = 20 if SMALL else 40          # spiral points (the enumeration is exact up to n ≈ 40)
C_BETA = 0.05                           # β = c_β·β_max
ADMM_ITERS = 1000 if SMALL else 6000
SGD_EPOCHS = 1000 if SMALL else 6000
GRID = 70 if SMALL else 160             # pixels per side of the decision-boundary plots
EPS = 0.05                              # ℓ∞ radius of the adversarial part
print(f"scale {SCALE!r}: n = {N_POINTS} spiral points, β = {C_BETA}·β_max, ADMM ≤ {ADMM_ITERS} iterations")

# %% [markdown]
# ## 1. Two spirals and their hyperplane arrangement
#
# Each point x_k ∈ R² gets a bias coordinate, so X ∈ R^{n×3} and a neuron u ∈ R³ acts on (x, 1). The neuron's
# pattern is the set of points on the non-negative side of the line u₁x₁ + u₂x₂ + u₃ = 0. The n planes
# {u : x_kᵀu = 0} cut R³ into cones, one per pattern; with no three points collinear there are exactly
# n² − n + 2 of them (Cover 1965, claim CR6), including the all-zero pattern, which no neuron needs.

# %%
ds = data.spiral2d(N_POINTS, 0, noise=0.05, turns=0.75)
X, y = ds.X_train, ds.y_train
full = enumerate_patterns_2d(X)
count = th.pattern_count_2d(N_POINTS, include_zero=False)
print(f"n = {ds.n} points (d = {ds.d} with the bias); enumerated patterns: {full.P}; "
      f"CR6's n² − n + 1 = {count}")
assert full.P == count

rng = np.random.default_rng(1)
tries = [4, 16, 64, 256, 1024, 4096]
found = [sample_patterns(X, p, rng).P for p in tries]
for p, f in zip(tries, found, strict=True):
    print(f"  {p:5d} random Gaussian generators find {f:4d} distinct patterns ({f / full.P:.0%} of 𝒟_full)")

# %% [markdown]
# Sampling misses the thin cells of the arrangement for a long time: that is why the spec never builds
# 𝒟_full by sampling. The figure shows the data and the dividing lines of a few patterns; each line splits the
# points into the active side (the pattern) and the rest.

# %%
COLORS = {1.0: "#1f77b4", -1.0: "#d62728"}


def scatter(fig: go.Figure, Xs: np.ndarray, ys: np.ndarray, row: int | None = None, col: int | None = None,
            showlegend: bool = True) -> None:
    """The training points, one trace per class."""
    for label in (1.0, -1.0):
        pts = Xs[ys == label]
        fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name=f"y = {label:+.0f}",
                                 marker={"color": COLORS[label], "size": 8, "line": {"color": "#ffffff", "width": 1}},
                                 showlegend=showlegend, legendgroup=f"y{label}"), row=row, col=col)


LIM = 1.25
fig = make_subplots(rows=1, cols=2, subplot_titles=("spirals and eight pattern lines",
                                                    "distinct patterns found by sampling"))
scatter(fig, X, y, 1, 1)
t = np.linspace(-LIM, LIM, 2)
pick = np.random.default_rng(2).choice(full.P, 8, replace=False)
for i in pick:
    h = full.generators[:, i]
    if abs(h[1]) > abs(h[0]):   # h₁x₁ + h₂x₂ + h₃ = 0 solved for the steeper coordinate
        fig.add_trace(go.Scatter(x=t, y=-(h[0] * t + h[2]) / h[1], mode="lines", showlegend=False,
                                 line={"color": "#999999", "width": 1}), row=1, col=1)
    else:
        fig.add_trace(go.Scatter(x=-(h[1] * t + h[2]) / h[0], y=t, mode="lines", showlegend=False,
                                 line={"color": "#999999", "width": 1}), row=1, col=1)
fig.add_trace(go.Scatter(x=tries, y=found, mode="lines+markers", name="sampled, distinct"), row=1, col=2)
fig.add_trace(go.Scatter(x=[tries[0], tries[-1]], y=[count, count], mode="lines", name="n² − n + 1 (CR6)",
                         line={"dash": "dash", "color": "#444444"}), row=1, col=2)
fig.update_xaxes(range=[-LIM, LIM], row=1, col=1)
fig.update_yaxes(range=[-LIM, LIM], scaleanchor="x", row=1, col=1)
fig.update_xaxes(type="log", title_text="generators drawn", row=1, col=2)
fig.update_yaxes(title_text="patterns", row=1, col=2)
fig.update_layout(template="plotly_white", width=1000, height=430, title="The arrangement of the spirals")
fig.show()

# %% [markdown]
# ## 2. The convex program, solved by ADMM
#
# With every pattern in 𝒟 = 𝒟_full, the optimum f*(𝒟_full) of C(𝒟) is the global minimum of L_nc over every
# width (CR1). We pick β = c_β·β_max, where β_max = max_i ‖XᵀD_iy‖ is the smallest β for which zero is
# certainly optimal, and solve C(𝒟) twice: by Clarabel through cvxpy (an interior-point reference) and by
# ADMM (Algorithm 3.1 of the paper). ADMM's u-step is a linear system with the same matrix at every
# iteration; Woodbury's identity reduces it to one n×n factorisation (CR9), so an iteration costs
# O(ndP + n² + Pd²) (CR8). ADMM returns the copy v, which is exactly group-sparse but may violate the cones a
# little, so its objective can dip *below* f*; the violation is reported next to the gap (spec §7).
#
# Two more runs use the **cone splitting** (`splitting="cone"`): the cones stay in the v-step, which
# projects each group exactly onto its cone (a small active-set problem) before the group soft-threshold.
# Every iterate is then feasible and its objective never dips below f*. Its default ρ = max_i ‖D_iX‖² suits
# sampled patterns; with all 2-D patterns, as here, a ten times smaller ρ is much faster (both are drawn).

# %%
beta = C_BETA * beta_max(X, y, full)
start = time.perf_counter()
ref = solve_cvxpy(X, y, full, beta)
t_ref = time.perf_counter() - start
f_star = ref.value
print(f"β = {beta:.4g}; Clarabel: f*(𝒟_full) = {f_star:.6f} in {t_ref:.2f} s ({ref.status}), "
      f"{ref.active_groups()} active neurons")

runs = {}
for label, rule, splitting in (("fixed ρ = default_rho (the solver's default)", "fixed", "slack"),
                               ("residual balancing", "balance", "slack"),
                               ("cone splitting, its default ρ", "fixed", "cone"),
                               ("cone splitting, ρ = default/10", "fixed", "cone/10")):
    start = time.perf_counter()
    cone = splitting.startswith("cone")
    rho = default_rho(X, full, splitting="cone") / 10 if splitting == "cone/10" else None
    r = admm(X, y, full, beta, rho=rho, rho_rule=rule, max_iter=ADMM_ITERS, f_star=f_star, record_every=10,
             abstol=0.0, reltol=0.0, stall_window=None, splitting="cone" if cone else "slack")
    runs[label] = r
    print(f"ADMM, {label}: {r.status} after {r.iterations} iterations in {time.perf_counter() - start:.2f} s, "
          f"final ρ = {r.rho:.3g}; relative gap {abs(r.objective - f_star) / f_star:.1e}, cone violation "
          f"{r.violation:.1e}, {r.active_groups} active neurons")

fig = make_subplots(rows=1, cols=2, subplot_titles=("relative gap |f(v) − f*|/f*", "cone violation max(0, −min Gv)"))
for (label, r), color in zip(runs.items(), ("#1f77b4", "#000000", "#2ca02c", "#d62728"), strict=True):
    h = r.history
    fig.add_trace(go.Scatter(x=h.iteration, y=np.maximum(np.abs(h.objective - f_star) / f_star, 1e-16), name=label,
                             line={"color": color}), row=1, col=1)
    fig.add_trace(go.Scatter(x=h.iteration, y=np.maximum(h.violation, 1e-16), name=label, showlegend=False,
                             line={"color": color, "dash": "dot"}), row=1, col=2)
fig.update_yaxes(type="log", exponentformat="power")
fig.update_xaxes(title_text="iteration")
fig.update_layout(template="plotly_white", width=1000, height=400, legend={"orientation": "h", "y": -0.2},
                  title="ADMM on C(𝒟_full): gap and feasibility per iteration (CR7)")
fig.show()

# %% [markdown]
# Both runs converge linearly, but at rates that depend strongly on ρ (F1 of the figures sweeps it): here the
# default ρ is too large and residual balancing, which doubles or halves ρ to keep the two residuals within a
# factor of 10, reaches a far smaller gap in the same number of iterations. Clarabel gets there in a handful of
# interior-point steps on a problem this small; ADMM's advantage is its per-iteration cost, quadratic in n
# when P ∝ n (F2 times both). The cone splitting's violation stays at rounding level from the first
# iteration. On this spiral with every pattern its default ρ is slow and ρ/10 ends with the smallest gap; on
# sampled patterns the default is right: on the benchmark of `boundlab bench convex_relu` (n = 2000, d = 20,
# 64 patterns) it reaches a 1e-4 gap in about 50 iterations, about 160× faster than Clarabel.

# %% [markdown]
# ## 3. The recovered network against SGD
#
# Each nonzero v_i becomes a neuron u = v_i/√‖v_i‖ with α = √‖v_i‖ (and w_i one with α = −√‖w_i‖). On the data
# its output is exactly Σ_i D_iX(v_i − w_i), and L_nc of the recovered network equals the convex objective
# (CR3). We train an ordinary network of the **same width** by SGD on L_nc, from a random start. By CR2 its
# L_nc can never go below f*(𝒟_full); it can only get stuck above it.

# %%
net_cvx = ref.network()
width = net_cvx.width
sgd = train_nonconvex(X, y, width, beta, method="sgd", epochs=SGD_EPOCHS, rng=3, record_every=SGD_EPOCHS)
net_sgd = sgd.network
L_cvx, L_sgd = net_cvx.objective(X, y, beta), net_sgd.objective(X, y, beta)
print(f"width {width}: L_nc of the recovered network {L_cvx:.6f} (f* = {f_star:.6f}); "
      f"SGD after {sgd.epochs} epochs {L_sgd:.6f} ({sgd.status})")
assert L_sgd >= f_star * (1 - 1e-6), "CR2: no network beats f*(𝒟_full)"
print(f"SGD is {L_sgd / f_star - 1:.2%} above the global optimum")

xs = np.linspace(-LIM, LIM, GRID)
G1, G2 = np.meshgrid(xs, xs)
GRID_X = with_bias(np.column_stack([G1.ravel(), G2.ravel()]))


def boundary(fig: go.Figure, network, row: int, col: int, showscale: bool = False) -> None:
    """The network's output (tanh-squashed colour) and its zero level set on the plotting grid."""
    z = np.asarray(network.forward(GRID_X)).reshape(G1.shape)
    fig.add_trace(go.Heatmap(x=xs, y=xs, z=np.tanh(z), colorscale="RdBu", zmin=-1, zmax=1, opacity=0.55,
                             zsmooth="best", showscale=showscale, hoverinfo="skip"), row=row, col=col)
    fig.add_trace(go.Contour(x=xs, y=xs, z=z, contours={"start": 0, "end": 0, "size": 1, "coloring": "lines"},
                             colorscale=[[0, "#000000"], [1, "#000000"]], line={"width": 2}, showscale=False,
                             hoverinfo="skip"), row=row, col=col)


def accuracy(network, Xs: np.ndarray, ys: np.ndarray) -> float:
    return float(np.mean(ys * np.asarray(network.forward(Xs)) > 0))


fig = make_subplots(rows=1, cols=2, subplot_titles=(
    f"recovered from C(𝒟_full): L_nc = {L_cvx:.4f} (global optimum)",
    f"SGD, same width {width}: L_nc = {L_sgd:.4f}"))
for c, net in ((1, net_cvx), (2, net_sgd)):
    boundary(fig, net, 1, c)
    scatter(fig, X[:, :2], y, 1, c, showlegend=c == 1)
    fig.update_xaxes(range=[-LIM, LIM], row=1, col=c)
    fig.update_yaxes(range=[-LIM, LIM], scaleanchor=f"x{c if c > 1 else ''}", row=1, col=c)
fig.update_layout(template="plotly_white", width=1000, height=480,
                  title=f"Decision boundaries (training accuracy: convex {accuracy(net_cvx, X, y):.2f}, "
                        f"SGD {accuracy(net_sgd, X, y):.2f})")
fig.show()

# %% [markdown]
# ## 4. Adversarial training, certified
#
# An adversary may move every point by δ with ‖δ‖_∞ ≤ ε (features only, never the bias). Robust optimisation
# makes this convex too: tighten each cone to (2D_i − I)Xv ≥ ε‖v^f‖₁ so that no neuron can change its
# activation inside the box, and then the worst-case loss has a closed form (CR10). We train with the hinge
# loss Σ_k (1 − y_kf(x_k))_+; each training point's box is drawn green when the closed form **certifies** it
# correct for every δ in the box, red otherwise. Above the collapse radius ε* only the all-active pattern may
# keep feature weights (CR11).
#
# Two solver-precision details (spec §7). An interior-point solution is not exactly group-sparse, so the
# neurons are kept when their norm exceeds 10⁻⁶ of the largest; and Clarabel meets the robust cones only to
# ≈ 10⁻⁹, so the certificate accepts neurons that could cross zero by at most CERT_TOL = 10⁻⁸ inside a box
# (the output then moves by at most Σ_j|α_j|·10⁻⁸ off the closed form). With tolerance 0, rounding alone
# would leave most points uncertified.

# %%
def robust_model(patterns, c_beta: float, eps: float):
    """The convex-robust network (hinge loss, Clarabel) and its β."""
    b = c_beta * beta_max(X, y, patterns)
    res_r = solve_cvxpy(X, y, patterns, b, loss="hinge", eps=eps)
    return res_r, b


CERT_TOL = 1e-8
star = eps_star(X, full).value
res_rob, _ = robust_model(full, C_BETA, EPS)
net_rob = res_rob.network()
cert = certify(net_rob, X, y, EPS, "hinge", tol=CERT_TOL)
print(f"ε* = {star:.3g}; robust program at ε = {EPS:g}: {res_rob.status}, cone violation "
      f"{cone_violation(X, full, res_rob.V, res_rob.W, EPS):.1e}, width {net_rob.width}")
print(f"certified training accuracy {float(np.mean(cert.robust_correct)):.2f}; "
      f"PGD on the training points {robust_accuracy(net_rob, X, y, EPS, 'pgd', steps=20, restarts=2, rng=0):.2f} "
      "(an attack can only find fewer errors than the certificate rules out)")


def boxes(fig: go.Figure, certificate, eps: float, row: int, col: int) -> None:
    """The ℓ∞ boxes of radius eps around the training points, green when certified correct."""
    for k in range(X.shape[0]):
        ok = bool(certificate.robust_correct[k])
        fig.add_shape(type="rect", x0=X[k, 0] - eps, x1=X[k, 0] + eps, y0=X[k, 1] - eps, y1=X[k, 1] + eps,
                      line={"color": "#2ca02c" if ok else "#d62728", "width": 1.2},
                      fillcolor="rgba(44,160,44,0.12)" if ok else "rgba(214,39,40,0.12)", row=row, col=col)


def robust_figure(network, certificate, eps: float, title: str) -> go.Figure:
    f = make_subplots(rows=1, cols=1)
    boundary(f, network, 1, 1)
    scatter(f, X[:, :2], y, 1, 1)
    boxes(f, certificate, eps, 1, 1)
    f.update_xaxes(range=[-LIM, LIM])
    f.update_yaxes(range=[-LIM, LIM], scaleanchor="x")
    f.update_layout(template="plotly_white", width=620, height=560, title=title)
    return f


robust_figure(net_rob, cert, EPS, f"Convex-robust network at ε = {EPS:g}: certified ε-boxes "
              f"({int(np.sum(cert.robust_correct))}/{X.shape[0]} green)").show()

# %% [markdown]
# ### Try it: number of patterns, β and ε
#
# The controls solve the standard program (squared loss) on P_s sampled patterns (or all of them) at
# β = c_β·β_max, and the robust program (hinge loss) at radius ε on the same patterns, and draw both boundaries
# with the certified boxes. Few patterns give a cruder boundary and a larger f*(𝒟) (CR4); a large c_β kills
# neurons; ε beyond ε* collapses the robust model to an affine one (CR11). The static figure right below is the
# default setting, so the notebook reads the same without a live kernel.

# %%
PATTERN_CHOICES = {"4": 4, "16": 16, "64": 64, "256": 256, "all (𝒟_full)": None}


def explore(patterns: str, c_beta: float, eps: float) -> go.Figure:
    """Standard and robust convex networks on the chosen patterns, β and ε: boundaries and certified boxes."""
    P_s = PATTERN_CHOICES[patterns]
    pats = full if P_s is None else sample_patterns(X, P_s, 5)
    b = c_beta * beta_max(X, y, pats)
    start = time.perf_counter()
    std = solve_cvxpy(X, y, pats, b)
    rob, _ = robust_model(pats, c_beta, eps)
    wall = time.perf_counter() - start
    n_std, n_rob = std.network(), rob.network()
    c_std, c_rob = certify(n_std, X, y, eps, "hinge", tol=CERT_TOL), certify(n_rob, X, y, eps, "hinge", tol=CERT_TOL)
    star_p = eps_star(X, pats).value
    f = make_subplots(rows=1, cols=2, subplot_titles=(
        f"standard: f*(𝒟) = {std.value:.4f} (f*(𝒟_full) = {f_star:.4f} at c_β = {C_BETA})",
        f"robust at ε = {eps:g} (ε* = {star_p:.3g}): {int(np.sum(c_rob.robust_correct))} certified"))
    for c, (net, crt) in enumerate(((n_std, c_std), (n_rob, c_rob)), start=1):
        boundary(f, net, 1, c)
        scatter(f, X[:, :2], y, 1, c, showlegend=c == 1)
        boxes(f, crt, eps, 1, c)
        f.update_xaxes(range=[-LIM, LIM], row=1, col=c)
        f.update_yaxes(range=[-LIM, LIM], row=1, col=c)
    f.update_layout(template="plotly_white", width=1050, height=500,
                    title=(f"P = {pats.P} patterns, β = {c_beta:g}·β_max: widths {n_std.width} and {n_rob.width}, "
                           f"{wall:.2f} s"))
    print(f"{patterns} patterns (P = {pats.P}), c_β = {c_beta:g}, ε = {eps:g}: f*(𝒟) = {std.value:.4f}, widths "
          f"{n_std.width}/{n_rob.width}, certified {int(np.sum(c_std.robust_correct))}/"
          f"{int(np.sum(c_rob.robust_correct))} of {X.shape[0]}, {wall:.2f} s")
    return f


explore("all (𝒟_full)", C_BETA, EPS).show()  # the default, drawn statically


def redraw(patterns: str, c_beta: float, eps: float) -> None:
    explore(patterns, c_beta, eps).show()


# Headless runs (the tests, SCALE == "small") get the same controls behind a "Run" button and draw a few
# settings once here: a cell whose Output widget captures output on its own can lose its execute reply in
# nbclient (jupyter/nbclient#312), which stalls the run until the cell timeout.
HEADLESS = SMALL
controls = widgets.interactive(
    redraw, {"manual": HEADLESS},
    patterns=widgets.SelectionSlider(options=list(PATTERN_CHOICES), value="all (𝒟_full)", description="patterns"),
    c_beta=widgets.SelectionSlider(options=[0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0], value=C_BETA,
                                   description="c_β"),
    eps=widgets.SelectionSlider(options=[0.01, 0.02, 0.05, 0.1, 0.2], value=EPS, description="ε"),
)
display(controls)
if HEADLESS:
    for args in (("4", 0.05, 0.05), ("64", 0.5, 0.02), ("all (𝒟_full)", 0.02, 0.2)):
        explore(*args)

# %% [markdown]
# Things to try: with 4 patterns the network has at most 8 neurons and f*(𝒟) stays well above f*(𝒟_full);
# at c_β = 1 every neuron is switched off (β ≥ β_max makes zero optimal); an ε above ε* leaves an affine robust
# model, which cannot separate spirals.
#
# ## Where to go next
#
# - `boundlab verify --topic convex_relu` checks the claims CR1–CR12 at their constants;
# - `boundlab run convex_relu admm_gap --set rho_mults='[1, 10]'` runs one experiment; `timing`,
#   `accuracy_time`, `robust` and `sampling` are the others (`sims/convex_relu/experiments.py`);
# - `boundlab figures convex_relu` draws the figures: ADMM's gap per iteration and ρ (F1), time against n
#   against interior point (F2), accuracy against training time (F3), robustness against ε (F4) and sampled
#   patterns against the full arrangement (F5).
