"""Figures F1–F5 of the matrix-completion topic (paper_figs.matrix_completion) and their registration."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from paper_figs import export as ex
from paper_figs import matrix_completion as pf
from sims.checks import fit_slope
from sims.runner import get_experiment, run_sweep

BUILDERS = [pf.f1_sweep, pf.f2_sweep, pf.f3_sweep, pf.f4_sweep, pf.f5a_sweep, pf.f5b_sweep]


def _tiny_configs(sweep: pf.Sweep) -> list[dict[str, Any]]:
    """A few configs of the figure's own quick sweep, shrunk (a few seconds for all six figures)."""
    cs = sweep.configs
    if sweep.experiment == "phase":
        panel = pf.phase_panels(pd.DataFrame([{k: (v if not isinstance(v, list) else str(v).replace("'", '"'))
                                               for k, v in c.items()} for c in cs]))
        keep = []
        for c, p in zip(cs, panel, strict=True):
            if p in ("a", "b") and c["k"] in (1, 5):
                keep.append(dict(c, T=20))
            elif p == "c" and c["k"] == 5:  # SCS is quick on these masks
                keep.append(c)
            elif p == "d" and c["ratio"] in (32.0, 128.0):
                keep.append(c)
        return keep
    if sweep.experiment == "convergence":
        return [dict(c, T=15) for c in cs]
    if sweep.experiment == "runtime":
        return [dict(c, rounds=1, m=min(c["m"], 1000), n=min(c["n"], 1000)) for c in cs
                if (c["ratio"] is not None and c["m"] <= 1000) or (c["per_line"] is not None and c["k"] <= 8)]
    if sweep.experiment == "robustness":
        return [dict(c, T=15, tail=3, values=c["values"][:4]) for c in cs]
    if sweep.experiment == "trimming":
        return [dict(c, T=8) for c in cs]
    return [c for c in cs if c["p"] in (0.1, 0.5, 0.9)]


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    out = {}
    for key, build in zip(("1", "2", "3", "4", "5a", "5b"), BUILDERS, strict=True):
        sweep = build("quick")
        seeds = 10 if sweep.experiment == "spiky" else 2
        out[key] = run_sweep(get_experiment("matrix_completion", sweep.experiment), _tiny_configs(sweep), seeds=seeds)
    return out


def _caption(fig: go.Figure) -> str:
    return fig.layout.annotations[-1].text


def _named(fig: go.Figure, start: str) -> list[Any]:
    return [t for t in fig.data if (t.name or "").startswith(start)]


# ------------------------------------------------------------------------------------- sweeps
def _runs(sweep: pf.Sweep) -> int:
    return sweep.seeds * len(sweep.configs)


@pytest.mark.parametrize("builder", BUILDERS)
def test_sweeps_are_small_at_quick_and_larger_at_full(builder) -> None:
    quick, full = builder("quick"), builder("full")
    key = builder.__name__[1:].removesuffix("_sweep").upper().replace("A", "a").replace("B", "b")
    assert quick.experiment == full.experiment == pf.EXPERIMENTS[f"F{key}"]
    assert quick.seeds <= 20 and full.seeds >= 3 and _runs(quick) * 2 < _runs(full)
    exp = get_experiment("matrix_completion", quick.experiment)
    for c in quick.configs + full.configs:
        assert exp.config(c) == c  # full configs of the registered experiment
    with pytest.raises(ValueError, match="scale"):
        builder("medium")


def test_full_sweeps_follow_the_spec() -> None:
    f1 = pf.f1_sweep("full")
    assert f1.seeds >= 10  # at least 10 seeds per cell
    a = [c for c in f1.configs if c["ratio"] is not None and c["methods"] == ["altmin"] and c["splits"] == [False]]
    assert {(c["m"], c["n"], c["kappa"]) for c in a} == {(300, 300, 2.0)}
    assert {c["k"] for c in a} == {1, 2, 5, 10, 20}
    assert sorted({c["ratio"] for c in a}) == [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8]
    assert all(c["ratio"] * c["k"] * (c["m"] + c["n"] - c["k"]) <= c["m"] * c["n"] for c in a)
    assert len(a) == 9 * 5 - 1  # r = 8 at k = 20 would need p > 1
    b = [c for c in f1.configs if c["p"] is not None]
    assert len({c["p"] for c in b}) >= 6 and {c["k"] for c in b} == {1, 2, 5, 10, 20}
    nuc = [c for c in f1.configs if "nuclear" in c["methods"]]
    assert nuc and {(c["m"], c["n"]) for c in nuc} == {(40, 40)} and all(c["methods"] == ["altmin", "nuclear"]
                                                                         for c in nuc)
    assert any(c["splits"] == [False, True] for c in f1.configs)
    f2 = pf.f2_sweep("full")
    (c2,) = f2.configs
    assert c2["solvers"] == ["exact", "cg1", "cg2", "cg3", "sketch", "inject0.1", "inject0.5"]
    assert (c2["m"], c2["n"], c2["k"], c2["kappa"], c2["ratio"]) == (400, 500, 5, 3.0, 8.0)
    f3 = pf.f3_sweep("full").configs
    sizes = {c["m"] for c in f3 if c["ratio"] is not None}
    assert min(sizes) == 1000 and max(sizes) == 100_000 and {c["k"] for c in f3 if c["ratio"] is not None} == {5, 20}
    ks = sorted(c["k"] for c in f3 if c["per_line"] is not None)
    assert ks[0] == 2 and ks[-1] == 64 and all(c["per_line"] > 4 * 64 for c in f3 if c["per_line"] is not None)
    deltas = next(c["values"] for c in pf.f4_sweep("full").configs if c["mode"] == "delta")
    assert min(deltas) == 1e-3 and max(deltas) == 1.0


# ------------------------------------------------------------------------------------- helpers
@settings(deadline=None, derandomize=True, max_examples=40)
@given(n=st.integers(1, 500), frac=st.floats(0, 1))
def test_wilson_interval_contains_the_estimate_and_shrinks(n: int, frac: float) -> None:
    s = round(frac * n)
    lo, hi = pf.wilson(s, n)
    assert 0 <= lo <= s / n <= hi <= 1
    lo4, hi4 = pf.wilson(4 * s, 4 * n)
    assert hi4 - lo4 < hi - lo


def test_wilson_known_values_and_bad_input() -> None:
    lo, hi = pf.wilson(0, 10)
    assert lo == 0 and hi == pytest.approx(0.27753, abs=1e-4)  # the classical Wilson bound for 0/10
    lo, hi = pf.wilson(5, 10)
    assert (lo, hi) == pytest.approx((0.23659, 0.76341), abs=1e-4)
    with pytest.raises(ValueError, match="successes"):
        pf.wilson(11, 10)


@settings(deadline=None, derandomize=True, max_examples=25)
@given(b=st.floats(-1.0, 2.0), c=st.floats(1.2, 3.0))
def test_threshold_exponent_recovers_a_planted_power_law(b: float, c: float) -> None:
    m = n = 300
    ks = [1, 2, 5, 10]
    dof = np.array([k * (m + n - k) for k in ks], float)
    r50 = c * np.asarray(ks, float) ** b * dof[0] / dof  # |Ω|₅₀ = c·dof(1)·k^b
    rows = []
    for k, r in zip(ks, r50, strict=True):
        # two grid points bracketing r50 with fractions 0.25 and 0.75: linear interpolation hits it exactly
        rows += [{"k": k, "ratio": r - 0.1, "frac": 0.25}, {"k": k, "ratio": r + 0.1, "frac": 0.75}]
    table, slope = pf.threshold_exponent(pd.DataFrame(rows), m, n)
    assert np.allclose(table["r50"], r50)
    assert slope == pytest.approx(b, abs=1e-9)


def test_threshold_exponent_skips_a_rank_that_never_succeeds() -> None:
    grid = pd.DataFrame({"k": [1, 1, 2, 2], "ratio": [1.0, 2.0, 1.0, 2.0], "frac": [0.0, 1.0, 0.0, 0.4]})
    table, slope = pf.threshold_exponent(grid, 50, 60)
    assert list(table["k"]) == [1] and table["r50"].iloc[0] == pytest.approx(1.5) and math.isnan(slope)


# ------------------------------------------------------------------------------------- F1
def test_f1_heatmaps_r1_lines_and_contours(tables) -> None:
    df = tables["1"]
    fig = pf.f1_phase(df)
    heat = [t for t in fig.data if t.type == "heatmap"]
    assert len(heat) == 4  # (a), (b), (c) AltMin, (c) nuclear norm
    assert all(t.zmin == 0 and t.zmax == 1 for t in heat)
    # (a): the cell (k, r) is the seed fraction of successes of AltMin
    panel = pf.phase_panels(df)
    a = df[(panel == "a") & (df["method"] == "altmin")]
    ha = heat[0]
    ks = sorted(set(a["k"]))
    for (k, r), g in a.groupby(["k", "ratio"]):
        i = int(np.flatnonzero(np.isclose(ha.y, r))[0])
        assert ha.z[i][ks.index(k)] == pytest.approx(g["success"].mean())
    r1 = _named(fig, "r = 1")
    assert {t.xaxis for t in r1} >= {"x", "x2", "x3", "x4"}
    assert all(t.y[0] == 1.0 for t in r1 if t.xaxis in ("x", "x3", "x4"))
    # (b): the r = 1 curve is p = k(m+n−k)/(mn) on the log10 p axis
    rb = next(t for t in r1 if t.xaxis == "x2")
    m = int(df.loc[panel == "b", "m"].iloc[0])
    kb = sorted(set(df.loc[panel == "b", "k"]))
    assert np.allclose(10 ** np.asarray(rb.y), [k * (2 * m - k) / m**2 for k in kb])
    contours = [t for t in fig.data if t.type == "contour"]
    assert contours and all(t.contours.start == 0.5 == t.contours.end for t in contours)  # (a) crosses 50%
    split = [t for t in fig.data if t.type == "scatter" and (t.name or "").startswith("split")]
    assert len(split) == 2 and fig.layout.xaxis5.type == "log"
    cap = _caption(fig)
    assert pf.NO_EXPERIMENTS in cap and "fitted exponent of |Ω|₅₀ in k" in cap and "k^4.5" in cap


def test_f1_rejects_bad_tables(tables) -> None:
    df = tables["1"]
    with pytest.raises(ValueError, match="F1: the results table is empty"):
        pf.f1_phase(df.iloc[:0])
    with pytest.raises(ValueError, match=r"lacks columns \['success'\]"):
        pf.f1_phase(df.drop(columns="success"))
    a = df[pf.phase_panels(df) == "a"]
    with pytest.raises(ValueError, match="mix matrix sizes"):
        pf.f1_phase(pd.concat([a, a.assign(m=61)], ignore_index=True))


# ------------------------------------------------------------------------------------- F2
def test_f2_curves_fits_and_q_in_the_legend(tables) -> None:
    df = tables["2"]
    fig = pf.f2_convergence(df)
    legend = [t.name for t in fig.data if t.showlegend is not False and t.xaxis == "x"]
    assert [n.split(":")[0] for n in legend] == [pf.SOLVER_LABELS[s] for s in pf.SOLVERS]
    for name, label in zip(pf.SOLVERS, legend, strict=True):
        q = df[df["solver"] == name].groupby("seed")["q"].first().to_numpy(float)
        assert label.endswith(f"q = {math.exp(np.mean(np.log(q))):.3f}")
        fit = _named(fig, f"{pf.SOLVER_LABELS[name]}: fit")
        assert len(fit) == 1 and fit[0].line.dash == "dash"
        y = np.asarray(fit[0].y)
        assert np.allclose(y[1:] / y[:-1], math.exp(np.mean(np.log(q))))  # the dashed line falls by q per round
    exact = next(t for t in fig.data if t.name.startswith("exact:"))
    g = df[df["solver"] == "exact"]
    end = g.groupby("seed")["round"].max().min()
    at = g[g["round"] == end]["dist_U"].to_numpy(float)
    assert exact.y[-1] == pytest.approx(math.exp(np.mean(np.log(at))), rel=1e-9)  # geometric seed mean
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type == "log"
    with pytest.raises(ValueError, match="mixes instances"):
        pf.f2_convergence(pd.concat([df, df.assign(k=3)], ignore_index=True))


# ------------------------------------------------------------------------------------- F3
def test_f3_slopes_are_fitted_on_the_drawn_points(tables) -> None:
    df = tables["3"]
    fig = pf.f3_runtime(df)
    a = [t for t in fig.data if t.xaxis == "x"]
    b = [t for t in fig.data if t.xaxis == "x2"]
    assert {t.name.split(",")[0] for t in a} == {"exact", "cg(3)", "sketch_precond"}
    assert {t.name.split(":")[0] for t in b} == {"exact", "cg(3)", "sketch_precond"}
    for t in a + b:
        slope = fit_slope(np.asarray(t.x, float), np.asarray(t.y, float))
        assert t.name.endswith(f"slope {slope:.2f} in |Ω|") or t.name.endswith(f"slope {slope:.2f} in k")
    box = next(x.text for x in fig.layout.annotations if x.text.startswith("slopes in k"))
    exact_b = df[(df["per_line"].notna()) & (df["solver"] == "exact")].groupby("k")["flops"].mean()
    assert f"multiply-add slope {fit_slope(exact_b.index.to_numpy(float), exact_b.to_numpy(float)):.2f}" in box
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log" and fig.layout.xaxis2.type == "log"
    assert "the sketch solver's slope in k is what it measures" in _caption(fig)


# ------------------------------------------------------------------------------------- F4
def test_f4_panels_slope_one_line_and_verdicts(tables) -> None:
    df = tables["4"]
    fig = pf.f4_robustness(df)
    eta = df[df["mode"] == "eta"]
    plateau = eta.groupby(["value", "seed"])["plateau"].first().groupby("value").apply(
        lambda v: math.exp(np.mean(np.log(v))))
    slope = fit_slope(plateau.index.to_numpy(float), plateau.to_numpy(float))
    (meas,) = _named(fig, "plateau relF")
    assert meas.name.endswith(f"fitted slope {slope:.3f}") and np.allclose(meas.y, plateau.to_numpy())
    (ref,) = _named(fig, "slope 1")
    assert np.allclose(np.asarray(ref.y) / np.asarray(ref.x), ref.y[0] / ref.x[0])  # a line of slope 1
    deltas = sorted(set(df.loc[df["mode"] == "delta", "value"]))
    assert [t.name for t in fig.data if t.xaxis == "x3" and t.fill is None] == [f"δ = {v:g}" for v in deltas]
    T = int(df["T"].iloc[0])
    (final,) = _named(fig, f"relF after t = {T} rounds")
    last = df[(df["mode"] == "delta") & (df["round"] == T)].groupby("value")["relF"].apply(
        lambda v: math.exp(np.mean(np.log(v))))
    assert np.allclose(final.y, last.to_numpy())
    assert "MC3 expects 1 ± 0.2" in _caption(fig)
    with pytest.raises(ValueError, match="no rows of mode"):
        pf.f4_robustness(df.assign(mode="other"))


# ------------------------------------------------------------------------------------- F5
def test_f5a_mu_and_distance_per_trimming_rule(tables) -> None:
    df = tables["5a"]
    fig = pf.f5_trimming(df)
    names = [t.name for t in fig.data if t.showlegend is not False]
    assert names[:3] == [pf.TRIM_LABELS[t] for t in ("entries", "rows", "none")]
    mu_star = df[df["mu"].isna()].groupby("seed")["mu_star"].first().mean()
    assert any(t.name == f"max(μ(U*), μ(V*)) = {mu_star:.2f} (seed mean)" for t in fig.data)
    m, k = int(df["m"].iloc[0]), int(df["k"].iloc[0])
    assert any(t.name.startswith(f"ceiling √(m/k) = {math.sqrt(m / k):.2f}") for t in fig.data)
    # μ panel: the seed mean of μ(U_t) of the rule at the true μ
    sub = df[df["mu"].isna() & (df["trim"] == "none")]
    curve = next(t for t in fig.data if t.name == pf.TRIM_LABELS["none"] and t.xaxis == "x" and t.fill is None)
    assert np.allclose(curve.y, sub.groupby("round")["mu_U"].mean().to_numpy()[: len(curve.y)])
    assert fig.layout.yaxis3.type == "log"
    assert "underestimated μ = 1" in fig.layout.annotations[1].text


def test_f5b_ceiling_and_its_binomial_verdict(tables) -> None:
    df = tables["5b"]
    fig = pf.f5_spiky(df)
    (ceiling,) = _named(fig, "MC8 ceiling")
    assert np.allclose(ceiling.x, ceiling.y)
    (succ,) = _named(fig, "success")
    assert np.allclose(succ.y, df.groupby("p")["success"].mean().to_numpy())
    assert "no success count exceeds" in _caption(fig)
    # a table where every run succeeds breaks the ceiling at small p, and the caption says so
    bad = df.assign(success=True)
    cap = _caption(pf.f5_spiky(bad))
    n = int(df.groupby("p").size().iloc[0])
    assert "SUCCESS ABOVE THE MC8 CEILING at p = 0.1" in cap and stats.binom.ppf(0.999, n, 0.1) < n


def test_unicode_labels_no_latex(tables) -> None:
    figs = [pf.f1_phase(tables["1"]), pf.f2_convergence(tables["2"]), pf.f3_runtime(tables["3"]),
            pf.f4_robustness(tables["4"]), pf.f5_trimming(tables["5a"]), pf.f5_spiky(tables["5b"])]
    for fig in figs:
        text = fig.to_json()
        assert "$" not in text.replace("$schema", "")  # no MathJax
        assert pf.NO_EXPERIMENTS in _caption(fig)
        assert math.isfinite(fig.layout.width) and fig.layout.height > 300


# ------------------------------------------------------------------------------------- export
def test_registered_in_the_export_registry() -> None:
    assert [s.name for s in ex.FIGURES["matrix_completion"]] == [
        "matrix_completion_F1_phase", "matrix_completion_F2_convergence", "matrix_completion_F3_runtime",
        "matrix_completion_F4_robustness", "matrix_completion_F5a_trimming", "matrix_completion_F5b_spiky"]
    assert next(iter(ex.FIGURES)) == "omd"


@pytest.mark.slow
def test_write_figures_builds_every_quick_figure(tmp_path) -> None:
    report = ex.write_figures(["matrix_completion"], formats=("html",), out_dir=tmp_path)
    assert {p.name for p in report.written} == {f"{s.name}.html" for s in ex.FIGURES["matrix_completion"]}
    assert not report.skipped
    assert sum(report.seconds.values()) < 60
    for path in report.written:
        text = path.read_text(encoding="utf-8")
        assert "Plotly.newPlot" in text and "plotly.js v" in text[:200_000]
