"""Figures F1–F5 of the EF21 topic (paper_figs.ef21) and their registration in paper_figs.export."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paper_figs import ef21 as pf
from paper_figs import export as ex
from sims.runner import get_experiment, run_sweep

#: Per experiment, the overrides that shrink a figure's own sweep to a tiny one (a few seconds for all five).
TINY: dict[str, dict[str, Any]] = {
    "training": {"T": 40},
    "speedup": {"heterogeneity": [0.0, 10.0, 30.0], "target": 0.3, "T": 3000},
    "divergence": {"T": 30},
}
#: F1's tiny table keeps three multiples of the tuning grid (1 within the theorems, 32 beyond them).
TINY_MULTIPLIERS = (1.0, 4.0, 32.0)


def _tiny(sweep: pf.Sweep) -> pd.DataFrame:
    """The figure's own sweep at a tiny size: two instances (training) or two seeds (the others)."""
    configs = [dict(c, **TINY[sweep.experiment]) for c in sweep.configs
               if (c.get("step_multiplier", 1.0) in TINY_MULTIPLIERS or sweep.experiment == "divergence")
               and c.get("instance_seed", 0) in (0, 1)]
    seeds = 1 if "instance_seed" in sweep.configs[0] else 2
    return run_sweep(get_experiment("ef21", sweep.experiment), configs, seeds=seeds)


def _replicates(sweep: pf.Sweep) -> int:
    """Repetitions of each config: seeds × the instances the configs are paired on."""
    return sweep.seeds * len({c.get("instance_seed") for c in sweep.configs})


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return {k: _tiny(getattr(pf, f"f{k}_sweep")("quick")) for k in "12345"}


def _legend_names(fig: go.Figure) -> list[str]:
    return [t.name for t in fig.data if t.showlegend is not False and t.type == "scatter"]


def _caption(fig: go.Figure) -> str:
    return fig.layout.annotations[-1].text


def _geo_mean(df: pd.DataFrame, value: str, at: int) -> float:
    """Geometric mean over seeds of ``value`` at round ``at`` (stored on every seed)."""
    v = df.loc[df["round"] == at, value].to_numpy(float)
    return float(np.exp(np.mean(np.log(v))))


def _trace(fig: go.Figure, name: str, xaxis: str | None = None) -> go.Scatter:
    found = [t for t in fig.data if t.name == name and (xaxis is None or t.xaxis == xaxis)]
    assert len(found) == 1, (name, [t.name for t in fig.data])
    return found[0]


# ------------------------------------------------------------------------------------- sweeps
BUILDERS = [pf.f1_sweep, pf.f2_sweep, pf.f3_sweep, pf.f4_sweep, pf.f5_sweep]


def _work(sweep: pf.Sweep) -> float:
    """A size proxy: seeds × Σ over configs of the horizon (× the number of ζ of a speed-up config)."""
    per = [float(c["T"]) * (len(c["heterogeneity"]) if isinstance(c.get("heterogeneity"), list) else 1)
           for c in sweep.configs]
    return sweep.seeds * sum(per)


@pytest.mark.parametrize("builder", BUILDERS)
def test_sweeps_are_small_at_quick_scale(builder) -> None:
    quick, full = builder("quick"), builder("full")
    assert quick.experiment == full.experiment == pf.EXPERIMENTS[f"F{builder.__name__[1]}"]
    assert 2 <= _replicates(quick) <= 3
    assert _replicates(full) >= 5
    assert _work(quick) * 4 < _work(full)
    exp = get_experiment("ef21", quick.experiment)
    for c in quick.configs + full.configs:
        assert exp.config(c) == c  # full configs of the registered experiment
    with pytest.raises(ValueError, match="scale"):
        builder("medium")


def test_sweep_scales_follow_the_spec() -> None:
    f1 = pf.f1_sweep("full").configs
    assert {c["method"] for c in f1} == {"gd", "ef14", "ef21", "ef21w", "econtrol"}
    assert sorted({c["step_multiplier"] for c in f1}) == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]
    assert {(c["method"], c["step"]) for c in f1} == {("gd", "gd"), ("ef14", "qm"), ("ef21", "qm"),
                                                       ("ef21w", "am"), ("econtrol", "qm")}
    for c in f1 + pf.f4_sweep("full").configs:  # the spec's synthetic task, Top1, T_max = 5·10⁴
        assert (c["dataset"], c["d"], c["n_clients"], c["samples_per_client"], c["lam"]) == \
            ("synthetic", 20, 20, 50, 0.1)
        assert (c["compressor"], c["k"], c["T"], c["tol"]) == ("top", 1, 50_000, 1e-10)
    assert {c["heterogeneity"] for c in f1} == {0.0, 100.0}
    assert {c["instance_seed"] for c in f1} == set(range(5))  # every config on the same five instances
    assert len(f1) == 5 * 6 * 2 * 5 and pf.f1_sweep("full").seeds == 1
    assert pf.f2_sweep("full") == pf.f1_sweep("full")  # F2 draws F1's runs against bits
    (f3,) = pf.f3_sweep("full").configs
    assert f3["heterogeneity"] == [0.0, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0]
    assert f3["target"] == 1e-4 and f3["T"] >= 50_000 and f3["k"] == 1
    f4 = pf.f4_sweep("full").configs
    assert sorted({(c["method"], c["step"], c["init"]) for c in f4}) == sorted(
        (m, s, i) for m, s, _ in pf.F4_PANELS for i in ("gradient", "zero"))
    assert len(f4) == 6 * 5 and {c["instance_seed"] for c in f4} == set(range(5))
    assert all(c["step_multiplier"] == 1.0 for c in f4)
    assert sorted(c["step_multiplier"] for c in pf.f5_sweep("full").configs) == list(pf.F5_MULTIPLIERS)


# ------------------------------------------------------------------------------------- helpers
@settings(deadline=None, derandomize=True, max_examples=25)
@given(seeds=st.integers(1, 4), rounds=st.integers(2, 300), shift=st.floats(-5, 5), spread=st.floats(0, 3),
       stop=st.integers(1, 300))
def test_seed_curve_is_a_geometric_mean_inside_its_band(seeds: int, rounds: int, shift: float, spread: float,
                                                         stop: int) -> None:
    rng = np.random.default_rng(seeds * 1000 + rounds)
    parts = []
    for s in range(seeds):
        end = rounds if s else min(stop, rounds)  # seed 0 may stop early
        r = np.unique(np.concatenate([np.arange(min(end, 20) + 1), rng.integers(0, end + 1, 10), [end]]))
        log_v = shift + spread * s - 0.05 * r + 0.1 * rng.standard_normal(r.size)
        parts.append(pd.DataFrame({"seed": s, "round": r, "grad_sq": np.exp(log_v)}))
    df = pd.concat(parts, ignore_index=True)
    out = pf._seed_curve(df, "grad_sq")
    assert out["round"].iloc[-1] == min(g["round"].max() for _, g in df.groupby("seed"))  # ends at the first stop
    assert np.all((out["lo"] <= out["mean"] * (1 + 1e-12)) & (out["mean"] <= out["hi"] * (1 + 1e-12)))
    common = set.intersection(*(set(g["round"]) for _, g in df.groupby("seed")))
    for r in sorted(common)[:5]:  # at a round every seed stored, the geometric mean of the stored values
        got = float(out.loc[out["round"] == r, "mean"].iloc[0])
        assert got == pytest.approx(_geo_mean(df, "grad_sq", r), rel=1e-9)
    if seeds == 1:
        assert np.allclose(out["lo"], out["hi"])


def _run_rows(mult: float, seed: int, status: str, last: int, final: float) -> pd.DataFrame:
    r = np.arange(last + 1)
    g = np.geomspace(1.0, final, r.size)
    return pd.DataFrame({"heterogeneity": 0.0, "method": "ef21", "step": "qm", "step_multiplier": mult,
                         "seed": seed, "round": r, "grad_sq": g, "status": status})


@settings(deadline=None, derandomize=True, max_examples=30)
@given(st.lists(st.tuples(st.sampled_from(["target", "horizon", "diverged"]), st.integers(5, 60),
                          st.floats(1e-12, 1.0)), min_size=2, max_size=12))
def test_best_multiplier_never_picks_a_diverged_multiple(runs: list[tuple[str, int, float]]) -> None:
    mults = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]
    df = pd.concat([_run_rows(mults[i // 2], i % 2, s, last, final) for i, (s, last, final) in enumerate(runs)],
                   ignore_index=True)
    (best,) = pf.best_multipliers(df).to_dict("records")
    status = {m: list(g.groupby("seed")["status"].last()) for m, g in df.groupby("step_multiplier")}
    fine = [m for m, s in status.items() if "diverged" not in s]
    if not fine:
        assert math.isnan(best["step_multiplier"])
        return
    chosen = best["step_multiplier"]
    assert chosen in fine and "diverged" not in status[chosen]
    reaching = [m for m in fine if all(s == "target" for s in status[m])]
    assert best["reached"] == bool(reaching) and (chosen in reaching or not reaching)
    assert best["diverged"] == sorted(m for m in status if m not in fine)


def test_best_multiplier_prefers_reaching_the_target_soonest() -> None:
    df = pd.concat([_run_rows(1.0, 0, "horizon", 50, 1e-9), _run_rows(4.0, 0, "target", 40, 1e-10),
                    _run_rows(8.0, 0, "target", 20, 1e-10), _run_rows(32.0, 0, "diverged", 5, 1e3)])
    (best,) = pf.best_multipliers(df).to_dict("records")
    assert (best["step_multiplier"], best["reached"], best["rounds"], best["diverged"]) == (8.0, True, 20.0, [32.0])
    # without a run at the target, the smallest (geometric-mean) final ‖∇f‖² wins
    df = pd.concat([_run_rows(1.0, 0, "horizon", 50, 1e-3), _run_rows(2.0, 0, "horizon", 50, 1e-6),
                    _run_rows(4.0, 0, "horizon", 50, 1e-4)])
    assert pf.best_multipliers(df)["step_multiplier"].iloc[0] == 2.0


# ------------------------------------------------------------------------------------- F1
def test_f1_methods_bound_only_on_ef21_and_best_multiples(tables) -> None:
    df = tables["1"]
    fig = pf.f1_grad_vs_rounds(df)
    legend = _legend_names(fig)
    theory = ["GD, 1/L", "EF14, γ<sub>QM</sub>", "EF21, γ<sub>QM</sub>", "EF21-W, γ<sub>AM</sub>",
              "EControl, γ<sub>QM</sub>"]
    assert legend[:5] == theory
    bounds = [t for t in fig.data if "bound" in t.name and "95%" not in t.name]
    assert len(bounds) == 2 and {t.xaxis for t in bounds} == {"x", "x3"}  # panel (a) of each ζ only
    assert all(t.name.startswith("EF21 claim-4 bound") and t.line.dash == "dash" for t in bounds)
    assert not any("EF14" in t.name and "bound" in t.name for t in fig.data)  # never a bound on EF14
    # the bound is the geometric seed mean of the table's EF21 bound at γ_QM
    ef = df[(df["method"] == "ef21") & (df["heterogeneity"] == 0.0) & (df["step_multiplier"] == 1.0)]
    assert bounds[0].y[-1] == pytest.approx(_geo_mean(ef, "bound", int(bounds[0].x[-1])), rel=1e-9)
    # panel (b): one curve per method at the multiple best_multipliers chose, listed in the panel
    best = pf.best_multipliers(df)
    right = [t for t in fig.data if t.xaxis == "x2" and t.fill is None and t.mode == "lines"]
    chosen = best[best["heterogeneity"] == 0.0]
    assert len(right) == int(np.isfinite(chosen["step_multiplier"]).sum())
    box = next(a.text for a in fig.layout.annotations if a.text.startswith("best multiple") and a.xref == "x2 domain")
    for _, c in chosen.iterrows():
        if math.isfinite(c["step_multiplier"]):
            assert f"{pf.METHOD_LABELS[c['method']]}: {c['step_multiplier']:g}·" in box
    assert all(fig.layout[f"{a}axis{k}"].type == "log" for a in "xy" for k in ("", "2", "3", "4"))
    assert "largest running average/bound" in _caption(fig)


def test_f1_rejects_mixed_tasks_and_bad_tables(tables) -> None:
    df = tables["1"]
    with pytest.raises(ValueError, match="mixes tasks"):
        pf.f1_grad_vs_rounds(pd.concat([df, df.assign(dim=30)], ignore_index=True))
    with pytest.raises(ValueError, match="F1: the results table is empty"):
        pf.f1_grad_vs_rounds(df.iloc[:0])
    with pytest.raises(ValueError, match=r"lacks columns \['grad_sq'\]"):
        pf.f1_grad_vs_rounds(df.drop(columns="grad_sq"))
    with pytest.raises(TypeError, match="DataFrame"):
        pf.f1_grad_vs_rounds(df.to_dict())


def test_f1_marks_a_diverged_run(tables) -> None:
    df = tables["1"].copy()
    sel = (df["method"] == "ef14") & (df["step_multiplier"] == 1.0) & (df["heterogeneity"] == 0.0)
    df.loc[sel & (df["instance_seed"] == 0), "status"] = "diverged"
    fig = pf.f1_grad_vs_rounds(df)
    marks = [t for t in fig.data if t.name.endswith(": diverged")]
    assert len(marks) == 1 and marks[0].marker.symbol == "x" and marks[0].xaxis == "x"


# ------------------------------------------------------------------------------------- F2
def test_f2_bits_axes_per_convention(tables) -> None:
    df = tables["2"]
    fig = pf.f2_grad_vs_bits(df)
    d = int(df["dim"].iloc[0])
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis2.type == "log"
    assert "values only" in fig.layout.xaxis.title.text and "values + indices" in fig.layout.xaxis2.title.text
    ef21 = [t for t in fig.data if t.name == "EF21, theory step" and t.xaxis in ("x", "x2")]
    values, indices = (next(t for t in ef21 if t.xaxis == a) for a in ("x", "x2"))
    assert values.line.dash == "dot"
    rounds = np.asarray(values.customdata, float)[:, 0]
    assert np.allclose(values.x, 32 * rounds)  # Top1: 32 bits per round, no dense start
    assert np.allclose(np.asarray(indices.customdata, float)[:, 0], np.arange(len(indices.x)))
    assert np.allclose(indices.x, 32 * d + (32 + math.ceil(math.log2(d))) * np.arange(len(indices.x)))
    gd = next(t for t in fig.data if t.name == "GD, theory step" and t.xaxis == "x2")
    assert np.allclose(gd.x, 32 * d * np.asarray(gd.customdata, float)[:, 0])  # dense: 32d per round
    # solid: the best multiple of F1(b), the same curve against bits
    best = pf.best_multipliers(df)
    mult = float(best[(best["heterogeneity"] == 0.0) & (best["method"] == "ef21")]["step_multiplier"].iloc[0])
    solid = next(t for t in fig.data if t.name == "EF21" and t.xaxis == "x" and t.fill is None)
    rows = df[(df["method"] == "ef21") & (df["heterogeneity"] == 0.0) & (df["step_multiplier"] == mult)]
    r = int(np.asarray(solid.customdata, float)[-1, 0])
    assert solid.y[-1] == pytest.approx(_geo_mean(rows, "grad_sq", r), rel=1e-9)
    assert solid.x[-1] == pytest.approx(32 * r)
    caption = _caption(fig).replace("<br>", " ")
    assert f"×{37 / 32:.4g}" in caption and "Mean bits per client at the stopping target" in caption
    # a table of theory steps only draws them solid, without the tuning notes
    only = pf.f2_grad_vs_bits(df[df["step_multiplier"] == 1.0])
    assert next(t for t in only.data if t.name == "EF21, theory step").line.dash == "solid"
    assert "Mean bits" not in _caption(only).replace("<br>", " ")


# ------------------------------------------------------------------------------------- F3
def test_f3_ratio_overlays_and_missed_targets(tables) -> None:
    df = tables["3"]
    fig = pf.f3_speedup(df)
    names = [t.name for t in fig.data]
    assert len(names) == 4 and names[0].startswith("measured") and names[1].startswith("claim 8: S<sub>pred</sub>")
    assert names[2].startswith("y = H") and names[3].startswith("ceiling √n")
    assert np.allclose(fig.data[3].y, math.sqrt(20))
    both = df[df["reached_ef21"] & df["reached_ef21w"]]
    assert np.allclose(fig.data[0].y, both.groupby("zeta")["measured_speedup"].mean())
    assert np.allclose(fig.data[1].y, df.groupby("zeta")["predicted_speedup"].mean())
    assert np.all(np.asarray(fig.data[1].y) <= np.asarray(fig.data[1].x) + 1e-9)  # S_pred ≤ H
    assert fig.layout.xaxis.type == "log" and "every run reached the target" in _caption(fig)
    # a run that missed the target is left out and counted
    missed = df.copy()
    missed.loc[missed.index[-1], ["reached_ef21", "measured_speedup"]] = [False, np.nan]
    fig2 = pf.f3_speedup(missed)
    assert f"1 of {len(df)} (ζ, seed) runs did not reach the target" in _caption(fig2)
    assert fig2.data[0].y[-1] == pytest.approx(both.loc[both.index[:-1]].groupby("zeta")["measured_speedup"]
                                               .mean().iloc[-1])


# ------------------------------------------------------------------------------------- F4
def test_f4_three_claims_two_inits_with_their_bounds(tables) -> None:
    df = tables["4"]
    fig = pf.f4_claim_check(df)
    titles = [a.text for a in fig.layout.annotations[:3]]
    assert titles == [pf.F4_TITLES[(m, s)] for m, s, _ in pf.F4_PANELS]
    for axis in ("x", "x2", "x3"):
        lines = [t for t in fig.data if t.xaxis == axis and t.fill is None]
        assert sorted(t.name for t in lines) == sorted(
            f"{kind}, {pf.INIT_LABELS[i]}" for kind in ("running average", "bound") for i in ("gradient", "zero"))
        assert all((t.line.dash == "dash") == t.name.startswith("bound") for t in lines)
    one = df[(df["method"] == "ef21w") & (df["init"] == "zero")]
    bound = _trace(fig, f"bound, {pf.INIT_LABELS['zero']}", "x2")
    assert bound.y[-1] == pytest.approx(_geo_mean(one, "bound", int(bound.x[-1])), rel=1e-9)
    worst = max((g["avg_grad_sq"] / g["bound"]).max() for _, g in one.groupby("instance_seed"))
    assert f"max {worst:.3g} over 2 runs" in _caption(fig)
    assert "FAILS" not in _caption(fig) and "over 2 instances" in _caption(fig)
    # TopK is positively homogeneous: on shared instances EF21-W at γ_AM runs the iterates of EF21 at γ_AM
    b, c = (_trace(fig, f"running average, {pf.INIT_LABELS['gradient']}", a) for a in ("x2", "x3"))
    assert np.allclose(b.y, c.y, rtol=1e-9)
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"


def test_f4_reports_a_violated_bound(tables) -> None:
    df = tables["4"].copy()
    sel = (df["method"] == "ef21") & (df["step"] == "am") & (df["init"] == "gradient") & (df["instance_seed"] == 1)
    df.loc[sel & (df["round"] == 10), "avg_grad_sq"] = 2.0 * df.loc[sel & (df["round"] == 10), "bound"]
    caption = _caption(pf.f4_claim_check(df))
    assert caption.count("THE BOUND FAILS") == 1 and "max 2 over 2 runs" in caption


# ------------------------------------------------------------------------------------- F5
def test_f5_divergence_and_its_growth_rate(tables) -> None:
    df = tables["5"]
    fig = pf.f5_divergence(df)
    names = _legend_names(fig)
    assert names[0] == "compressed GD, no error feedback, Top1" and "EF21, Top1" in names
    for axis, mult in (("x", pf.F5_MULTIPLIERS[0]), ("x2", pf.F5_MULTIPLIERS[1])):
        panel = df[df["step_multiplier"] == mult]
        cgd = _trace(fig, "compressed GD, no error feedback, Top1", axis)
        ef = _trace(fig, "EF21, Top1", axis)
        assert cgd.y[-1] > cgd.y[0] > ef.y[-1]  # the one grows, the other converges
        rate = 1 + float(panel["gamma"].iloc[0]) * (6 * 1.1**2 - 1) / 3
        growth = next(t for t in fig.data if t.name.startswith("growth along") and t.xaxis == axis)
        assert np.allclose(growth.y, cgd.y[0] * rate ** (2 * np.asarray(growth.x)))
    # a run that left the finite range gets an ✕
    gone = df.copy()
    gone.loc[gone["method"] == "compressed_gd", "status"] = "diverged"
    assert sum(t.name.endswith(": diverged") for t in pf.f5_divergence(gone).data) == 2


def test_unicode_labels_no_latex(tables) -> None:
    figs = [pf.f1_grad_vs_rounds(tables["1"]), pf.f3_speedup(tables["3"]), pf.f4_claim_check(tables["4"])]
    for fig in figs:
        text = fig.to_json()
        assert "$" not in text.replace("$schema", "")  # no MathJax
        assert math.isfinite(fig.layout.width) and fig.layout.height > 300


# ------------------------------------------------------------------------------------- export
def test_registered_in_the_export_registry() -> None:
    assert [s.name for s in ex.FIGURES["ef21"]] == [
        "ef21_F1_grad_vs_rounds", "ef21_F2_grad_vs_bits", "ef21_F3_speedup", "ef21_F4_claim_check",
        "ef21_F5_divergence"]
    assert next(iter(ex.FIGURES)) == "omd"


@pytest.mark.slow
def test_write_figures_builds_every_quick_figure(tmp_path) -> None:
    # with a cache, as `boundlab figures` runs it: F2 draws F1's table without running it again
    report = ex.write_figures(["ef21"], formats=("html",), out_dir=tmp_path / "out", cache_dir=tmp_path / "cache")
    assert {p.name for p in report.written} == {f"{s.name}.html" for s in ex.FIGURES["ef21"]}
    assert not report.skipped
    assert sum(report.seconds.values()) < 60
    for path in report.written:
        text = path.read_text(encoding="utf-8")
        assert "Plotly.newPlot" in text and "plotly.js v" in text[:200_000]
