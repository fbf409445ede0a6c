"""Figures F1–F6 of the SOR-tuning topic (paper_figs.sor_bandit) and their registration in paper_figs.export."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paper_figs import export as ex
from paper_figs import sor_bandit as pf
from paper_figs.layout import fmt_slope
from sims.checks import fit_slope
from sims.runner import get_experiment, run_sweep
from theory import sor_bandit as th

#: Per experiment, the overrides that shrink a figure's own sweep to a tiny one (seconds for all six).
TINY: dict[str, dict[str, Any]] = {
    "cost_vs_omega": {"omega_step": 0.1},
    "bandit": {"T": 150, "record_every": 15},
    "traces": {"T": 200},
    "regret_vs_T": {"T": 400, "T_min": 100, "horizons": 3},
    "tau_beta": {"points": 3, "omega_step": 0.1},
    "heat": {"T": 40},
}


def _tiny(sweep: pf.Sweep, seeds: int = 2) -> pd.DataFrame:
    """The figure's own sweep at a tiny size."""
    configs = [dict(c, **TINY[sweep.experiment]) for c in sweep.configs]
    return run_sweep(get_experiment("sor_bandit", sweep.experiment), configs, seeds=seeds)


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return {k: _tiny(getattr(pf, f"f{k}_sweep")("quick")) for k in "123456"}


def _legend_names(fig: go.Figure) -> list[str]:
    return [t.name for t in fig.data if t.showlegend is not False and t.type == "scatter"]


def _caption(fig: go.Figure) -> str:
    """The caption's text with the wrapping line breaks undone."""
    return fig.layout.annotations[-1].text.replace("<br>", " ")


def _trace(fig: go.Figure, prefix: str) -> go.Scatter:
    found = [t for t in fig.data if t.name and t.name.startswith(prefix) and t.type == "scatter" and t.fill is None]
    assert len(found) == 1, (prefix, [t.name for t in fig.data])
    return found[0]


# ------------------------------------------------------------------------------------- sweeps
BUILDERS = [pf.f1_sweep, pf.f2_sweep, pf.f3_sweep, pf.f4_sweep, pf.f5_sweep, pf.f6_sweep]


def _work(sweep: pf.Sweep) -> float:
    """A size proxy of a sweep: seeds × Σ over configs of the work of one run."""
    def one(c: dict[str, Any]) -> float:
        if sweep.experiment == "cost_vs_omega":
            return len(c["shifts"]) * (c["omega_max"] - c["omega_min"]) / c["omega_step"]
        if sweep.experiment == "tau_beta":
            return c["points"] * (c["omega_high"] - 1.0) / c["omega_step"]
        if sweep.experiment == "heat":
            return c["T"] * (c["nx"] - 1) ** 2
        return float(c["T"])

    return sweep.seeds * sum(one(c) for c in sweep.configs)


@pytest.mark.parametrize("builder", BUILDERS)
def test_sweeps_are_small_at_quick_scale(builder) -> None:
    quick, full = builder("quick"), builder("full")
    assert quick.experiment == full.experiment == pf.EXPERIMENTS[f"F{BUILDERS.index(builder) + 1}"]
    assert 2 <= quick.seeds <= 4
    assert full.seeds >= 3
    assert _work(quick) * 4 < _work(full)
    exp = get_experiment("sor_bandit", quick.experiment)
    for c in quick.configs + full.configs:
        assert exp.config(c) == c  # full configs of the registered experiment
    with pytest.raises(ValueError, match="scale"):
        builder("medium")


def test_sweep_scales_follow_the_spec() -> None:
    (f1,) = pf.f1_sweep("full").configs
    assert (f1["N"], f1["omega_min"], f1["omega_max"], f1["omega_step"]) == (10, 1.0, 1.99, 0.01)
    assert 0.0 in f1["shifts"] and len(f1["shifts"]) >= 2
    f2 = pf.f2_sweep("full")
    assert {c["variance"] for c in f2.configs} == {"low", "high"} and f2.seeds == 40
    for c in f2.configs:
        assert c["T"] == 5000 and c["N"] == 10 and c["settings"] == "faithful" and c["stream_seed"] is None
        assert c["fixed_omegas"] == [1.0, 1.2, 1.4, 1.6, 1.8]
        assert set(c["learners"]) == {"tsallis_inf", "tsallis_inf_cb", "chebcb"}
        assert (c["cb_bins"], c["cheb_degree"], c["context_low"], c["context_width"]) == (5, 5, -0.15, 0.8)
    (f3,) = pf.f3_sweep("full").configs
    assert f3["T"] == 5000 and f3["learners"] == list(pf.F3_LEARNERS) and f3["stream_seed"] == 0
    (f4,) = pf.f4_sweep("full").configs
    assert set(f4["learners"]) == {"tsallis_inf", "chebcb"} and f4["T"] == 5000 and f4["with_table"]
    (f5,) = pf.f5_sweep("full").configs
    assert (f5["c_min"], f5["c_max"], f5["N"]) == (-0.15, 0.45, 10)
    f6 = pf.f6_sweep("full")
    assert [c["nx"] for c in f6.configs] == [25, 50, 100] and f6.seeds == 3
    assert {c["T"] for c in f6.configs} == {5000}
    assert [c["nx"] for c in pf.f6_sweep("quick").configs] == list(pf.F6_QUICK_NX)


# ------------------------------------------------------------------------------------- F1
def test_f1_counts_estimate_and_surrogate(tables) -> None:
    df = tables["1"]
    fig = pf.f1_cost_vs_omega(df)
    names = _legend_names(fig)
    for c in pf.F1_SHIFTS:
        assert sum(n.startswith(f"count, c = {c:g} ") for n in names) == 1
        assert sum(n.startswith("estimate") and n.endswith(f"c = {c:g}") for n in names) == 1
        sub = df[df["c"] == c]
        tau = float(sub["tau_hat"].max())  # pooled over the seeds
        U = _trace(fig, f"surrogate U(ω), τ̂ = {tau:.3f}, c = {c:g}")
        beta = float(sub["beta"].iloc[0])
        assert np.allclose(U.y, th.surrogate_cost(np.asarray(U.x), beta, tau))
        count = _trace(fig, f"count, c = {c:g} ")
        assert np.allclose(count.y, sub.groupby("omega")["count"].mean())
        assert np.all(np.asarray(count.y) <= np.asarray(U.y))  # Lemma 2.1 at the pooled τ̂
        star = _trace(fig, f"ω* = {float(sub['omega_star'].iloc[0]):.6f}, c = {c:g}")
        assert np.allclose(star.x, th.omega_star_shifted(c, 10))
    assert fig.layout.yaxis.type == "log"
    diag = _trace(fig, "diagonal")
    scatter = [t for t in fig.data if t.xaxis == "x2" and t.mode == "markers"]
    assert len(scatter) == len(pf.F1_SHIFTS)
    assert all(np.all(np.asarray(t.y) <= np.asarray(t.x) + 1e-12) for t in scatter)  # Assumption 2.1 at τ̂
    assert diag.x[0] == 0.0
    assert "max count/U = " in _caption(fig)


def test_f1_rejects_mixed_grids_and_bad_tables(tables) -> None:
    df = tables["1"]
    with pytest.raises(ValueError, match="grid sizes"):
        pf.f1_cost_vs_omega(pd.concat([df, df.assign(N=12)], ignore_index=True))
    with pytest.raises(ValueError, match="F1: the results table is empty"):
        pf.f1_cost_vs_omega(df.iloc[:0])
    with pytest.raises(ValueError, match=r"lacks columns \['count'\]"):
        pf.f1_cost_vs_omega(df.drop(columns="count"))
    with pytest.raises(TypeError, match="DataFrame"):
        pf.f1_cost_vs_omega(df.to_dict())


# ------------------------------------------------------------------------------------- F2
def test_f2_every_method_per_variance(tables) -> None:
    df = tables["2"]
    fig = pf.f2_cumulative_cost(df)
    names = _legend_names(fig)
    expected = ["ω = 1 (Gauss–Seidel)", "ω = 1.2", "ω = 1.4", "ω = 1.6", "ω = 1.8",
                "best fixed ω of the grid (per stream)", "instance-optimal (grid)", "ω*(c_t)", "Tsallis-INF",
                "Tsallis-INF-CB", "ChebCB"]
    assert names == expected
    lines = [t for t in fig.data if t.name == "ChebCB"]
    assert len(lines) == 4  # two variance panels and two paper's-view panels
    high = df[(df["variance"] == "high") & (df["method"] == "chebcb")]
    mean = high.groupby("t")["cum_cost"].mean()
    upper = next(t for t in lines if t.xaxis == "x2")
    assert np.allclose(upper.x, mean.index) and np.allclose(upper.y, mean)
    paper = next(t for t in lines if t.xaxis == "x4")
    assert np.allclose(paper.x, mean) and np.allclose(paper.y, mean.index.max() - mean.index)
    bands = [t for t in fig.data if t.name.endswith("95% CI")]
    assert len(bands) == 2 * 6  # comparators and learners, not the fixed ω, in each variance panel
    caption = _caption(fig)
    assert "low variance, T = 150" in caption and "high variance, T = 150" in caption
    assert "× best fixed" in caption


# ------------------------------------------------------------------------------------- F3
def test_f3_reference_slopes_fitted_slopes_and_bounds(tables) -> None:
    df = tables["3"]
    fig = pf.f3_regret_vs_T(df)
    for name, key in pf.F3_SLOPE_KEYS.items():
        ref = _trace(fig, f"reference slope {pf._frac(th.regret_slope(key))} ")
        x, y = np.asarray(ref.x, float), np.asarray(ref.y, float)
        assert fit_slope(x, y) == pytest.approx(th.regret_slope(key))
        sub = df[df["learner"] == name]
        mean = sub.groupby("horizon")["regret"].mean()
        curve = _trace(fig, f"{pf.F3_LABELS[name]}: fitted slope")
        late = mean.iloc[pf._late_window(mean.index.to_numpy())]
        if (late > 0).all():
            assert curve.name.endswith(fmt_slope(fit_slope(late.index.to_numpy(float), late.to_numpy())))
    stated = _trace(fig, "Thm B.1 as stated")
    ftrl = _trace(fig, "FTRL bound at η = 1/√T")
    fixed = df[df["learner"] == "tsallis_fixed"]
    K, d = float(fixed["K"].iloc[0]), float(fixed["d"].iloc[0])
    T = np.asarray(stated.x, float)
    assert np.allclose(stated.y, 2 * K * np.sqrt(2 * d * T))
    assert np.allclose(ftrl.y, K * (4 * (math.sqrt(d) - 1) * np.sqrt(T) + np.sqrt(d * T) / 2))
    assert np.all(np.asarray(ftrl.y) > np.asarray(stated.y))  # at η = 1/√T the stated constant is not implied
    assert all(getattr(fig.layout, f"xaxis{k}").type == "log" for k in ("", "2", "3", "4"))
    assert f"a lattice of {int(df['lattice_size'].iloc[0])} points" in _caption(fig)


def test_f3_regret_at_most_zero_is_drawn_at_the_floor(tables) -> None:
    df = tables["3"].copy()
    first = df["horizon"].min()
    df.loc[(df["learner"] == "tsallis_retuned") & (df["horizon"] == first), "regret"] = -5.0
    fig = pf.f3_regret_vs_T(df)
    marks = [t for t in fig.data if t.name.endswith("(at the floor)")]
    assert len(marks) == 1 and marks[0].marker.symbol == "x" and list(marks[0].x) == [first]
    curve = _trace(fig, f"{pf.F3_LABELS['tsallis_retuned']}: fitted slope")
    assert math.isnan(curve.y[0]) and marks[0].y[0] < np.nanmin(np.asarray(curve.y, float))
    assert "✕" in _caption(fig)
    bad = tables["3"].assign(reference=0.1)
    with pytest.raises(ValueError, match="reference slope"):
        pf.f3_regret_vs_T(bad)


# ------------------------------------------------------------------------------------- F4
def test_f4_moving_mean_over_the_contour(tables) -> None:
    df = tables["4"]
    fig = pf.f4_traces(df)
    contours = [t for t in fig.data if t.type == "contour"]
    assert len(contours) == len(pf.F4_LEARNERS)
    for m in pf.F4_LEARNERS:
        line = _trace(fig, f"{pf.LEARNER_LABELS[m]}: {pf.F4_WINDOW}-instance moving mean")
        per_seed = [g.sort_values("c")["omega"].to_numpy() for _, g in df[df["method"] == m].groupby("seed")]
        mean, _ = pf._moving(np.vstack(per_seed), pf.F4_WINDOW)
        assert np.allclose(line.y, mean)
    star = next(t for t in fig.data if t.name == "Young's ω*(c<sub>t</sub>)")
    assert np.all(np.diff(star.y) <= 1e-12)  # ω*(c) decreases in c: instances are sorted by c
    best = float(df.loc[df["method"] == "best fixed ω (grid)", "omega"].iloc[0])
    assert any(t.name == f"best fixed ω of the grid ({best:g})" for t in fig.data)
    if (df["method"] == pf.F4_TABLE_METHOD).any():
        assert "measured" in contours[0].hovertemplate
    else:  # without the table rows the contour is Young's estimate, and says so
        assert "Young's estimate" in contours[0].hovertemplate and "no cost table" in _caption(fig)


def test_f4_contour_from_table_rows(tables) -> None:
    """With ``table`` rows (t, c, omega, cost) the contour is log₁₀ of the measured counts, instances sorted by c."""
    df = tables["4"]
    traces = df[df["method"] != pf.F4_TABLE_METHOD]
    one = traces[(traces["method"] == "ω*(c_t)") & (traces["seed"] == 0)]
    grid = np.round(np.linspace(1.0, 1.95, 4), 12)
    rows = pd.DataFrame([{"t": t, "c": c, "method": pf.F4_TABLE_METHOD, "omega": w, "cost": 10.0 * t + j,
                          "seed": 0} for t, c in zip(one["t"], one["c"], strict=True) for j, w in enumerate(grid)])
    fig = pf.f4_traces(pd.concat([traces, rows], ignore_index=True))
    contour = next(t for t in fig.data if t.type == "contour")
    assert "measured" in contour.hovertemplate
    assert np.allclose(contour.y, grid)
    order = one.sort_values("c")["t"].to_numpy()
    assert np.allclose(np.asarray(contour.z)[2], np.log10(10.0 * order + 2))


# ------------------------------------------------------------------------------------- F5-F6
def test_f5_tau_beta_and_thresholds(tables) -> None:
    df = tables["5"]
    fig = pf.f5_tau_beta(df)
    tau = _trace(fig, "τ̂ (seed mean")
    assert np.allclose(tau.y, df.groupby("c")["tau_hat"].mean())
    beta = _trace(fig, "β = 4cos(πh)/(4 + c)")
    assert np.allclose(beta.y, th.shifted_beta(np.asarray(beta.x), 10))
    beta_sq = _trace(fig, "β² (")
    assert np.allclose(beta_sq.y, np.asarray(beta.y) ** 2)
    q = _trace(fig, "q* = ")
    mean_q = (df["tau_hat"] + (1 - df["tau_hat"]) * (df["omega_star"] - 1)).groupby(df["c"]).mean()
    assert np.allclose(q.y, mean_q)
    assert np.allclose(_trace(fig, "e⁻² = ").y, th.E_MINUS_2)
    assert np.allclose(_trace(fig, "4e⁻²(1 − e⁻²) = ").y, th.PAPER_BETA2_THRESHOLD)
    assert "β, not β²" in _caption(fig)


def test_f6_totals_against_n(tables) -> None:
    df = tables["6"]
    fig = pf.f6_heat(df)
    names = _legend_names(fig)
    assert names[0] == "CG" and "ω = 1 (Gauss–Seidel)" in names and "ω = 1.95" in names
    assert {"Tsallis-INF", "Tsallis-INF-CB", "ChebCB", "instance-optimal (grid)"} <= set(names)
    ns = [(nx - 1) ** 2 for nx in pf.F6_QUICK_NX]
    cheb = _trace(fig, "ChebCB")
    assert list(cheb.x) == ns
    assert np.allclose(cheb.y, df[df["method"] == "chebcb"].groupby("n")["total"].mean())
    inst = _trace(fig, "instance-optimal (grid)")
    best = _trace(fig, "best fixed ω of the grid")
    assert np.all(np.asarray(inst.y) <= np.asarray(best.y))  # comparators of the same table
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    assert "speed-up over ω = 1" in _caption(fig)


def test_unicode_labels_no_latex(tables) -> None:
    figs = [pf.f1_cost_vs_omega(tables["1"]), pf.f3_regret_vs_T(tables["3"]), pf.f5_tau_beta(tables["5"])]
    for fig in figs:
        text = fig.to_json()
        assert "$" not in text.replace("$schema", "")  # no MathJax
        assert math.isfinite(fig.layout.width) and fig.layout.height > 300


# ------------------------------------------------------------------------------------- helpers
@settings(deadline=None, derandomize=True, max_examples=25)
@given(seeds=st.integers(1, 4), T=st.integers(1, 80), window=st.integers(1, 30), seed=st.integers(0, 2**16))
def test_moving_mean_and_std_pool_the_window_and_the_seeds(seeds: int, T: int, window: int, seed: int) -> None:
    v = np.random.default_rng(seed).uniform(1.0, 1.95, (seeds, T))
    mean, sd = pf._moving(v, window)
    # brute force: scipy's 'nearest' mode repeats the edge values; a centred window of size w starts w//2 before
    idx = np.clip(np.arange(T)[:, None] + np.arange(window)[None, :] - window // 2, 0, T - 1)
    vals = v[:, idx]  # (seeds, T, window)
    pooled = vals.transpose(1, 0, 2).reshape(T, -1)
    assert np.allclose(mean, pooled.mean(axis=1))
    assert np.allclose(sd, pooled.std(axis=1), atol=1e-7)


@settings(deadline=None, derandomize=True, max_examples=20)
@given(T=st.integers(pf.F4_MAX_COLUMNS + 1, 3 * pf.F4_MAX_COLUMNS), seed=st.integers(0, 2**16))
def test_contour_bins_average_ranks(T: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    c = np.sort(rng.uniform(-0.15, 0.45, T))
    df = pd.DataFrame({"t": np.arange(1, T + 1), "c": c, "method": "chebcb", "omega": 1.5, "cost": 1.0, "N": 10,
                       "eps": 1e-8})
    ranks, omegas, z, label = pf._contour(df, c, np.arange(1, T + 1))
    assert z.shape == (omegas.size, pf.F4_MAX_COLUMNS) and ranks.size == pf.F4_MAX_COLUMNS
    assert np.all(np.diff(ranks) > 0) and ranks[0] >= 1 and ranks[-1] <= T
    assert "Young's estimate" in label
    # each column is the mean over its bin of ranks of log₁₀(1 + log ε/log ρ(C_ω)) at β(c_t)
    edges = np.linspace(0, T, pf.F4_MAX_COLUMNS + 1).astype(int)
    j = int(rng.integers(0, pf.F4_MAX_COLUMNS))
    cs = c[edges[j]:edges[j + 1]]
    k = int(rng.integers(0, omegas.size))
    rho = th.young_radius(omegas[k], th.shifted_beta(cs, 10))
    assert z[k, j] == pytest.approx(np.mean(np.log10(1 + np.log(1e-8) / np.log(rho))))
    assert ranks[j] == pytest.approx(0.5 * (edges[j] + edges[j + 1]) + 0.5)


def test_frac_and_fmt() -> None:
    assert [pf._frac(th.regret_slope(k)) for k in pf.F3_SLOPE_KEYS.values()] == ["½", "⅔", "¾", "9/11"]
    assert pf._num(134200) == "134.2k" and pf._num(2.5e6) == "2.50M" and pf._num(987.0) == "987"
    assert fmt_slope(math.nan) == "n/a"


# ------------------------------------------------------------------------------------- export
def test_registered_in_the_export_registry() -> None:
    assert [s.name for s in ex.FIGURES["sor_bandit"]] == [
        "sor_bandit_F1_cost_vs_omega", "sor_bandit_F2_cumulative_cost", "sor_bandit_F3_regret_vs_T",
        "sor_bandit_F4_traces", "sor_bandit_F5_tau_beta", "sor_bandit_F6_heat"]
    assert next(iter(ex.FIGURES)) == "omd"


def test_write_figures_builds_every_quick_figure(tmp_path) -> None:
    """Every quick figure, end to end (≈ 5 s on two cores, hence not marked slow)."""
    report = ex.write_figures(["sor_bandit"], formats=("html",), out_dir=tmp_path)
    assert {p.name for p in report.written} == {f"{s.name}.html" for s in ex.FIGURES["sor_bandit"]}
    assert not report.skipped
    assert sum(report.seconds.values()) < 60
    for path in report.written:
        text = path.read_text(encoding="utf-8")
        assert "Plotly.newPlot" in text and "plotly.js v" in text[:200_000]
