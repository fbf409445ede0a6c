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
# # Matrix completion by robust alternating minimization
#
# A rank-k matrix M ∈ R^{m×n} has only k(m+n−k) degrees of freedom, so a few percent of its entries can
# determine it. **Alternating minimization** (AltMin) finds it: fix U and solve one small k-dimensional
# least-squares problem per column for V, then fix V and solve one per row for U, and repeat. Jain,
# Netrapalli and Sanghavi (STOC 2013) proved that AltMin from a spectral start converges geometrically for
# an incoherent M and random entries. Gu, Song, Yin and Zhang (ICLR 2024) proved that the row problems need
# only be solved **approximately**: a fast sketch-preconditioned solver at a fixed relative accuracy keeps
# the geometric rate, and a round then costs Õ(|Ω|k) instead of Õ(|Ω|k²).
#
# **The paper has no experiments.** Everything below is this toolkit's own illustration, with no published
# numbers to compare against. It uses the library's public code:
#
# - `sims.matrix_completion.instances`: incoherent low-rank truths kept in factored form and the Bernoulli
#   sample Ω (never a dense mask, never the dense M);
# - `solvers.matrix_completion`: the observations, `altmin`, and the row solvers `exact`, `cg(s)`,
#   `sketch_precond`, each counting its multiply-adds;
# - `theory.matrix_completion`: the claims (MC1–MC9) as plain functions.
#
# The spec with every formula is `shared/specs/matrix_completion.md`; `boundlab verify --topic
# matrix_completion` checks the claims.

# %%
import math
import os
import time

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from IPython.display import display
from plotly.subplots import make_subplots

import solvers.matrix_completion as smc
from sims.matrix_completion import instances as ins
from theory import matrix_completion as th

# %% tags=["parameters"]
# Scale of the notebook. Tests set BOUNDLAB_NOTEBOOK_SCALE=small (a few seconds in all).
SCALE = os.environ.get("BOUNDLAB_NOTEBOOK_SCALE", "default")
SMALL = SCALE == "small"
M_ROWS, N_COLS, RANK = (1200, 1500, 5) if SMALL else (10_000, 12_000, 10)
RATIO = 8.0                      # oversampling r = |Ω|/(k(m+n−k))
T = 30                           # AltMin rounds at most
WIDGET_SIZE = (600, 800) if SMALL else (3000, 4000)
print(f"scale {SCALE!r}: m = {M_ROWS}, n = {N_COLS}, k = {RANK}, r = {RATIO:g}, at most T = {T} rounds")
COLORS = {"exact": "#000000", "cg(1)": "#ff7f0e", "cg(2)": "#2ca02c", "cg(3)": "#1f77b4",
          "sketch_precond": "#9467bd"}

# %% [markdown]
# ## 1. A large matrix from a few percent of its entries
#
# The truth is M = U*·diag(σ)·V*ᵀ with Haar-random orthonormal factors (incoherence μ of order √log n) and
# singular values running linearly from κ = 3 down to 1. We observe each entry independently with
# probability p, chosen so that |Ω| = r·k(m+n−k) with r = 8: eight times the degrees of freedom. M is never
# formed: the observed values are computed from the factors, and AltMin returns factors (X = U_f·Vᵀ).

# %%
rng = np.random.default_rng(2024)
inst = ins.incoherent(M_ROWS, N_COLS, RANK, 3.0, rng=rng)
omega = ins.sample(inst.shape, rng, ratio=RATIO, k=RANK)
obs = smc.observations(omega.rows, omega.cols, inst.entries(omega.rows, omega.cols), inst.shape)
truth = smc.Truth(inst.U_star, inst.V_star, inst.sigma)
print(f"M is {M_ROWS:,} × {N_COLS:,} = {M_ROWS * N_COLS:,} entries of rank {RANK}; we observe |Ω| = {obs.nnz:,} "
      f"of them: p̂ = {obs.p_hat:.2%}, r = {obs.ratio(RANK):.2f}; μ(U*, V*) = {inst.mu:.2f}, κ = {inst.kappa:g}")



def warm_up(*row_solvers: smc.Solver) -> None:
    """Compile the numba kernels of the solvers once, on a tiny problem, so that no timing below includes it."""
    g = np.random.default_rng(0)
    tiny = ins.incoherent(40, 50, 3, 2.0, rng=g)
    om = ins.sample(tiny.shape, g, ratio=4.0, k=3)
    ob = smc.observations(om.rows, om.cols, tiny.entries(om.rows, om.cols), tiny.shape)
    for s in row_solvers:
        smc.altmin(ob, 3, T=1, solver=s, rng=0)


warm_up(smc.cg(3))
start = time.perf_counter()
res = smc.altmin(obs, RANK, T=T, solver=smc.cg(3), truth=truth)
elapsed = time.perf_counter() - start
h = res.history
print(f"AltMin with cg(3): {res.status} after {res.rounds} rounds in {elapsed:.2f} s; "
      f"relF = ‖X − M‖_F/‖M‖_F = {h.relF[-1]:.1e}")
assert h.relF[-1] < 1e-8, "AltMin should complete the default instance"

# %% [markdown]
# relF is computed without forming X or M: X − M = [U_f, −U*Σ*]·[V, V*]ᵀ, so its Frobenius norm is
# ‖R₁R₂ᵀ‖_F with R₁, R₂ the triangular factors of the two thin QR factorisations (spec §7: Gram traces
# would cancel catastrophically near 10⁻⁸). We can also check a few thousand entries directly:

# %%
check_rng = np.random.default_rng(7)
rows = check_rng.integers(0, M_ROWS, 5000)
cols = check_rng.integers(0, N_COLS, 5000)
pred = res.predict(rows, cols)
true = inst.entries(rows, cols)
print(f"largest error over 5000 random entries (mostly unobserved): {np.max(np.abs(pred - true)):.1e}; "
      f"largest |M_ij| there: {np.max(np.abs(true)):.1e}")

# %% [markdown]
# ## 2. Geometric convergence
#
# Each round shrinks the subspace distance dist(U_t, U*) = ‖(I − U_tU_tᵀ)U*‖₂ (the sine of the largest
# principal angle) by a roughly constant factor q: a straight line on a log scale, down to the
# floating-point floor (claim MC2). We fit q on the rounds before the floor. JNS13's analysis promises
# q ≤ 1/16 per round only with far more samples than r = 8 (MC1's requirement is loose); the measured q is
# what this instance gives.

# %%
def fit_q(dist: np.ndarray, floor: float = 1e-11) -> tuple[float, float]:
    """(q, log C) of dist_t ≈ C·q^t fitted on t = 1, 2, … before dist first falls below ``floor``."""
    d = np.asarray(dist, float)[1:]
    stop = np.flatnonzero(d <= floor)
    d = d[: stop[0]] if stop.size else d
    slope, icept = np.polyfit(np.arange(1, d.size + 1), np.log(d), 1)
    return float(np.exp(slope)), float(icept)


q, log_c = fit_q(h.dist_U)
t = h.round
fig = make_subplots(rows=1, cols=2, subplot_titles=("dist(U_t, U*) and dist(V_t, V*)", "relF and res_Ω"))
fig.add_trace(go.Scatter(x=t, y=h.dist_U, name="dist(U_t, U*)", line={"color": "#1f77b4"}), row=1, col=1)
fig.add_trace(go.Scatter(x=t, y=h.dist_V, name="dist(V_t, V*)", line={"color": "#2ca02c", "dash": "dot"}),
              row=1, col=1)
fit_t = t[(t >= 1) & (h.dist_U > 1e-11)]
fig.add_trace(go.Scatter(x=fit_t, y=np.exp(log_c) * q**fit_t, name=f"fit C·q^t, q = {q:.3f}",
                         line={"color": "#444444", "dash": "dash"}), row=1, col=1)
fig.add_trace(go.Scatter(x=t, y=h.relF, name="relF = ‖X − M‖_F/‖M‖_F", line={"color": "#d62728"}), row=1, col=2)
fig.add_trace(go.Scatter(x=t, y=h.res_omega, name="res_Ω (on the observed entries)",
                         line={"color": "#9467bd", "dash": "dot"}), row=1, col=2)
fig.update_yaxes(type="log", exponentformat="power")
fig.update_xaxes(title_text="round t (t = 0: spectral start)")
fig.update_layout(title=f"AltMin with cg(3) on {M_ROWS:,} × {N_COLS:,}, p̂ = {obs.p_hat:.2%}: one factor q per round",
                  template="plotly_white", width=1100, height=420, legend={"orientation": "h", "y": -0.25})
fig.show()
print(f"fitted per-round factor q = {q:.3f} (about {-1 / math.log10(q):.1f} rounds per decade); "
      f"MC2's exact-solve contraction at MC1's sample size would be {th.geometric_factor(2):g}")

# %% [markdown]
# ## 3. Exact against inexact row solves
#
# Each half-step solves, for every row i, min_x ‖A_i x − b_i‖ with A_i the rows of the current design at
# the observed columns of row i. The solvers (all batched over rows, no Python loop over rows):
#
# - **exact**: form every k × k Gram matrix G_i = A_iᵀA_i and solve the whole stack: ≈ |Ω|k²/2 + mk³/3
#   multiply-adds per half-step;
# - **cg(s)**: s steps of CG on each row's normal equations, warm-started from the previous round (passed
#   through the QR factors): ≈ 2s|Ω|k;
# - **sketch_precond**: sketch each A_i to s = 4k rows (CountSketch here; a Gaussian sketch is the other
#   option), factor SA_i = QR, and run CG preconditioned by R for ⌈log(1/ε₀)⌉ steps (a
#   Blendenpik/Rokhlin–Tygert member of the family the paper uses).
#
# All of them run on the **same** Ω from the same spectral start. We record rounds, wall time (numba
# compiled beforehand), the counted multiply-adds and the final relF.

# %%
solvers = {"exact": smc.exact(), "cg(1)": smc.cg(1), "cg(2)": smc.cg(2), "cg(3)": smc.cg(3),
           "sketch_precond": smc.sketch_precond(4, "countsketch", 1e-2)}
warm_up(*solvers.values())
runs, rows_ = {}, []
for name, s in solvers.items():
    start = time.perf_counter()
    r = smc.altmin(obs, RANK, T=T, solver=s, truth=truth, rng=1)
    wall = time.perf_counter() - start
    runs[name] = r
    rows_.append({"solver": name, "status": r.status, "rounds": r.rounds, "q": fit_q(r.history.dist_U)[0],
                  "final relF": r.history.relF[-1], "seconds": wall, "seconds per round": wall / max(r.rounds, 1),
                  "multiply-adds per round": r.flops / max(r.rounds, 1)})
table = pd.DataFrame(rows_).set_index("solver")
display(table.style.format({"q": "{:.3f}", "final relF": "{:.1e}", "seconds": "{:.2f}", "seconds per round": "{:.4f}",
                            "multiply-adds per round": "{:.3g}"}))

fig = make_subplots(rows=1, cols=2, subplot_titles=("relF against the round", "relF against wall time"))
for name, r in runs.items():
    hr = r.history
    fig.add_trace(go.Scatter(x=hr.round, y=hr.relF, name=name, line={"color": COLORS[name]}), row=1, col=1)
    fig.add_trace(go.Scatter(x=hr.time, y=hr.relF, name=name, line={"color": COLORS[name]}, showlegend=False),
                  row=1, col=2)
fig.update_yaxes(type="log", exponentformat="power", title_text="relF")
fig.update_xaxes(title_text="round t", row=1, col=1)
fig.update_xaxes(title_text="seconds (spectral start included)", row=1, col=2)
fig.update_layout(title="Inexact solves keep the geometric rate (cg(s ≥ 2) tracks exact) at a fraction of the cost",
                  template="plotly_white", width=1100, height=420, legend={"orientation": "h", "y": -0.25})
fig.show()
assert all(runs[n].history.relF[-1] < 1e-8 for n in ("exact", "cg(2)", "cg(3)", "sketch_precond"))

# %% [markdown]
# What to read off: cg(2), cg(3) and sketch_precond follow exact round for round (the same q), while
# one CG step per round (cg(1)) slows the rate but still converges with no floor: inexact solves only
# slow AltMin down, they do not stop it (claim MC3). Per round, exact costs Θ(|Ω|k² + (m+n)k³) and cg(s)
# Θ(s|Ω|k) multiply-adds (MC7, counted exactly by the solvers). At small k the two are close in wall time,
# because both are memory-bound passes over Ω; the gap opens as k grows (`boundlab figures
# matrix_completion`, F3, times a round against |Ω| and against k).

# %% [markdown]
# ### Try it: rank, sampling rate and solver accuracy
#
# The controls draw a fresh instance (m × n below, κ = 3) and sample at oversampling r; the solver is exact,
# cg(s) with s CG steps per half-step, or sketch_precond at relative accuracy ε₀ (loosest last). Below r ≈ 1
# (fewer entries than degrees of freedom) nothing can succeed; a little above it AltMin starts to work. The
# static figure right below is the default setting, so the notebook reads the same without a live kernel.


# %%
#: The solver choices of the controls, from exact to loose: (label, solver factory).
SOLVER_CHOICES = {
    "exact": smc.exact,
    "cg(1)": lambda: smc.cg(1), "cg(2)": lambda: smc.cg(2), "cg(3)": lambda: smc.cg(3), "cg(5)": lambda: smc.cg(5),
    "sketch_precond, ε₀ = 10⁻³": lambda: smc.sketch_precond(4, "countsketch", 1e-3),
    "sketch_precond, ε₀ = 10⁻²": lambda: smc.sketch_precond(4, "countsketch", 1e-2),
    "sketch_precond, ε₀ = 0.3": lambda: smc.sketch_precond(4, "countsketch", 0.3),
}


def complete(k: int, ratio: float, solver: str, rounds: int = 40) -> go.Figure:
    """AltMin on a fresh m × n instance of rank k at oversampling ``ratio``: relF and dist against the round."""
    m, n = WIDGET_SIZE
    gen = np.random.default_rng([k, round(100 * ratio)])
    truth_i = ins.incoherent(m, n, k, 3.0, rng=gen)
    om = ins.sample(truth_i.shape, gen, ratio=ratio, k=k)
    ob = smc.observations(om.rows, om.cols, truth_i.entries(om.rows, om.cols), truth_i.shape)
    start = time.perf_counter()
    r = smc.altmin(ob, k, T=rounds, solver=SOLVER_CHOICES[solver](), rng=3,
                   truth=smc.Truth(truth_i.U_star, truth_i.V_star, truth_i.sigma))
    wall = time.perf_counter() - start
    hr = r.history
    f = go.Figure()
    f.add_trace(go.Scatter(x=hr.round, y=hr.relF, name="relF"))
    f.add_trace(go.Scatter(x=hr.round, y=hr.dist_U, name="dist(U_t, U*)", line={"dash": "dot"}))
    f.update_yaxes(type="log", exponentformat="power")
    f.update_xaxes(title_text="round t")
    f.update_layout(title=(f"{m} × {n}, k = {k}, r = {ob.ratio(k):.2f} (p̂ = {ob.p_hat:.1%}), {solver}: {r.status}, "
                           f"relF {hr.relF[-1]:.1e} after {r.rounds} rounds, {wall:.2f} s"),
                    template="plotly_white", width=900, height=380)
    print(f"k = {k}, r = {ratio:g}, {solver}: {r.status}, relF {hr.relF[-1]:.1e}, {r.rounds} rounds, {wall:.2f} s")
    return f


complete(5, 6.0, "cg(3)").show()  # the default, drawn statically


def redraw(k: int, ratio: float, solver: str) -> None:
    complete(k, ratio, solver).show()


# Headless runs (the tests, SCALE == "small") get the same controls behind a "Run" button and draw a few
# settings once here: a cell whose Output widget captures output on its own can lose its execute reply in
# nbclient (jupyter/nbclient#312), which stalls the run until the cell timeout.
HEADLESS = SMALL
controls = widgets.interactive(
    redraw, {"manual": HEADLESS},
    k=widgets.SelectionSlider(options=[1, 2, 5, 10, 20], value=5, description="rank k"),
    ratio=widgets.SelectionSlider(options=[0.8, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0], value=6.0, description="r"),
    solver=widgets.Dropdown(options=list(SOLVER_CHOICES), value="cg(3)", description="solver"),
)
display(controls)
if HEADLESS:
    for args in ((2, 0.8, "exact"), (10, 3.0, "sketch_precond, ε₀ = 0.3"), (5, 6.0, "cg(1)")):
        complete(*args, rounds=15)

# %% [markdown]
# Things to try: r = 0.8 gives fewer entries than degrees of freedom, and AltMin reports `underdetermined`
# (MC8: no method can succeed); sweep r from 1 upwards at each rank to find where AltMin starts to
# succeed (F1 of the figures maps it); compare cg(1) with cg(3), and loosen ε₀ of sketch_precond.
#
# ## Where to go next
#
# - `boundlab verify --topic matrix_completion` checks the claims MC1–MC9 at their constants;
# - `boundlab run matrix_completion convergence --set solvers='["exact", "cg3"]'` runs one experiment;
#   `phase`, `runtime`, `robustness`, `spiky` and `trimming` are the others (`sims/matrix_completion/`);
# - `boundlab figures matrix_completion` draws the figures: the phase transition (F1), convergence per
#   solver (F2), the cost per round (F3), robustness to injected errors (F4), trimming and the spiky
#   instance (F5).
