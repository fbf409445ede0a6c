"""Figures F1–F7 of the ALF-LB topic (paper_figs.alf_lb) and their registration in paper_figs.export."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from paper_figs import alf_lb as pf
from paper_figs import export as ex
from sims.runner import get_experiment, run_sweep
from theory import alf_lb as th

#: Per experiment, the overrides that shrink a figure's own sweep to a tiny one (seconds for all seven).
TINY: dict[str, dict[str, Any]] = {
    "gumbel_regret": {"T": 64},
    "stream_balance": {"steps": 40, "held_out": 1024, "eval_points": 6},
    "fixed_batch": {"n": 64, "iters": 200},
    "batch_size": {"batch": 256, "steps": 30, "sizes": [512, 1024, 2048], "pool": 4096},
    "tradeoff": {"batch": 256, "steps": 30, "held_out": 1024, "lp_tokens": 64, "lp_batches": 1},
    "specialisation": {"steps": 10, "seq_len": 16, "held_out": 512, "lp_tokens": 64, "lp_batches": 1},
    "moe": {"steps": 10, "log_every": 5, "seq_len": 16, "train_seqs": 32, "test_seqs": 8},
}


def _tiny(sweep: pf.Sweep, seeds: int = 2) -> pd.DataFrame:
    """The figure's own sweep at a tiny size."""
    configs = [dict(c, **TINY[sweep.experiment]) for c in sweep.configs]
    return run_sweep(get_experiment("alf_lb", sweep.experiment), configs, seeds=seeds)


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return {k: _tiny(getattr(pf, f"f{k}_sweep")("quick")) for k in "1234567"}


def _names(fig: go.Figure) -> Counter:
    return Counter(t.name for t in fig.data)


def _legend_names(fig: go.Figure) -> list[str]:
    return [t.name for t in fig.data if t.showlegend is not False and t.type == "scatter"]


def _caption(fig: go.Figure) -> str:
    return fig.layout.annotations[-1].text


# ------------------------------------------------------------------------------------- sweeps
BUILDERS = [pf.f1_sweep, pf.f2_sweep, pf.f3_sweep, pf.f4_sweep, pf.f5_sweep, pf.f6_sweep, pf.f7_sweep]


def _work(sweep: pf.Sweep) -> float:
    """A size proxy of a sweep: seeds × Σ over configs of the run length."""
    length = {"gumbel_regret": "T", "stream_balance": "steps", "fixed_batch": "iters", "batch_size": "steps",
              "tradeoff": "steps", "specialisation": "steps", "moe": "steps"}[sweep.experiment]
    return sweep.seeds * sum(float(c[length]) for c in sweep.configs)


@pytest.mark.parametrize("builder", BUILDERS)
def test_sweeps_are_small_at_quick_scale(builder) -> None:
    quick, full = builder("quick"), builder("full")
    assert quick.experiment == full.experiment
    assert 2 <= quick.seeds <= 4
    assert full.seeds >= 5
    assert _work(quick) * 4 < _work(full)
    exp = get_experiment("alf_lb", quick.experiment)
    for c in quick.configs + full.configs:
        assert exp.config(c) == c  # full configs of the registered experiment
    with pytest.raises(ValueError, match="scale"):
        builder("medium")


def test_sweep_scales_follow_the_spec() -> None:
    f1 = pf.f1_sweep("full").configs
    assert {c["T"] for c in f1} == {2**17} and 2**17 >= 1e5
    inv = [c for c in f1 if c["rule"] == "inverse_t"]
    assert sorted(c["c"] for c in inv if c["mu"] == "curvature" and not c["project"]) == [0.1, 0.5, 1.0, 2.0]
    assert sorted(c["c"] for c in inv if c["mu"] == "modulus" and c["project"]) == [1.0, 2.0]
    assert sorted(c["u"] for c in f1 if c["rule"] == "sign") == [1e-3, 1e-2]
    assert {c["rule"] for c in f1} == {"inverse_t", "inverse_sqrt", "constant", "sign"}
    f2 = pf.f2_sweep("full").configs
    assert sorted(c["u"] for c in f2 if c["arm"] == "alf_lb") == [1e-4, 1e-3, 1e-2]
    assert all(c["tau"] > 0 for c in f2)  # drifting scores
    assert sorted(c["u"] for c in pf.f3_sweep("full").configs) == [1e-3, 1e-2, 1e-1]
    (f4,) = pf.f4_sweep("full").configs
    assert f4["sizes"] == [2**k for k in range(9, 17)] and set(f4["arms"]) == {"alf_lb", "aux"}
    (f5,) = pf.f5_sweep("full").configs
    assert f5["alphas"] == [0.0, 1e-4, 1e-3, 1e-2, 1e-1] and f5["us"] == [1e-4, 1e-3, 1e-2]
    (f6,) = pf.f6_sweep("full").configs
    assert set(f6["countings"]) == {"micro", "global"} and {"aux", "alf_lb"} <= set(f6["arms"])
    assert (f6["D"], f6["E"], f6["K"], f6["seq_len"], f6["micros"], f6["boost"]) == (8, 16, 2, 256, 8, 2.0)
    (f7,) = pf.f7_sweep("full").configs
    assert f7["steps"] == 5000 and set(f7["arms"]) == {"none", "aux", "alf_lb"}


# ------------------------------------------------------------------------------------- F1
def test_f1_traces_slopes_and_claim9_bound(tables) -> None:
    df = tables["1"]
    fig = pf.f1_regret_vs_T(df)
    legend = _legend_names(fig)
    runs = [n for n in legend if "slope" in n]
    assert len(runs) == len(pf.f1_sweep("quick").configs) == 10
    assert all("claim 10" in n for n in runs)
    assert sum("c = 0.1" in n and "T<sup>0.8</sup>" in n for n in runs) == 1
    bounds = [t for t in fig.data if t.name.startswith("claim-9 bound")]
    assert len(bounds) == len(pf.F1_PROJECTED_CS)  # only the projected c ≥ 1 runs
    proj = df[df["project"] & (df["rule"] == "inverse_t") & (df["c"] == 1.0)]
    expected = th.log_regret_bound(np.sort(proj["rounds"].unique()), 1, 8, float(proj["mu_step"].iloc[0]), 1.0)
    assert np.allclose(bounds[0].y, expected)
    # panel (b): the logarithmic-rate runs against ln T
    right = [t for t in fig.data if t.xaxis == "x2"]
    assert len(right) == 5  # c ∈ {0.5, 1, 2} at μ = 1/E, projected c ∈ {1, 2}
    assert np.allclose(np.exp(np.asarray(right[0].x)), np.sort(df["rounds"].unique()))
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    assert "max mean R<sub>T</sub>/bound" in _caption(fig)


def test_f1_rejects_mixed_testbeds_and_bad_tables(tables) -> None:
    df = tables["1"]
    mixed = pd.concat([df, df.assign(E=16)], ignore_index=True)
    with pytest.raises(ValueError, match="testbed sizes"):
        pf.f1_regret_vs_T(mixed)
    with pytest.raises(ValueError, match="F1: the results table is empty"):
        pf.f1_regret_vs_T(df.iloc[:0])
    with pytest.raises(ValueError, match=r"lacks columns \['regret'\]"):
        pf.f1_regret_vs_T(df.drop(columns="regret"))
    with pytest.raises(TypeError, match="DataFrame"):
        pf.f1_regret_vs_T(df.to_dict())


# ------------------------------------------------------------------------------------- F2
def test_f2_runs_and_claim11_floor(tables) -> None:
    df = tables["2"]
    fig = pf.f2_maxvio_batch(df)
    names = _legend_names(fig)
    for u in pf.F2_US:
        assert f"ALF-LB sign, u = {pf._fmt(u)}" in names
    assert "vanilla top-K" in names
    floor = next(t for t in fig.data if t.name.startswith("claim-11 floor"))
    assert np.allclose(floor.y, th.batch_maxvio_floor(1024, 2, 16))
    held = next(t for t in fig.data if t.name.startswith("the same floor"))
    assert np.allclose(held.y, th.batch_maxvio_floor(1024, 2, 16))  # tiny held-out set of 1024 tokens
    bands = [t for t in fig.data if t.name.endswith("95% CI")]
    assert len(bands) == 2 * 4  # one per run and panel
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"


# ------------------------------------------------------------------------------------- F3
def test_f3_gap_sandwich_and_zero_gaps(tables) -> None:
    df = tables["3"]
    fig = pf.f3_dual_gap(df)
    names = _legend_names(fig)
    for u in pf.F3_US:
        assert sum(n.startswith(f"u = {pf._fmt(u)} ·") for n in names) == 1
    assert {"lower bound ⟨δ, g<sub>t</sub>⟩", "upper bound ⟨δ, g<sub>t+1</sub>⟩"} <= set(names)
    dD = next(t for t in fig.data if t.name.startswith("ΔD"))
    one = df[(df["u"] == 1e-2) & (df["seed"] == 0)].sort_values("iteration")
    assert np.allclose(dD.y, one["delta_D"])
    assert "0 of" in _caption(fig) and "steps outside" in _caption(fig)
    # exact balance: a zero gap is drawn at the floor with an ✕ and counted in the caption
    zeroed = df.copy()
    zeroed.loc[(zeroed["u"] == 1e-3) & (zeroed["iteration"] > 150), "dual_gap"] = 0.0
    fig0 = pf.f3_dual_gap(zeroed)
    marks = [t for t in fig0.data if t.name.endswith("(at the floor)")]
    assert len(marks) == 1 and marks[0].marker.symbol == "x"
    assert len(marks[0].x) == 50
    curves = [np.asarray(t.y, float) for t in fig0.data if t.xaxis == "x" and t.mode == "lines" and t.fill is None]
    lowest = min(np.nanmin(y) for y in curves)
    assert np.all(np.asarray(marks[0].y) < lowest)  # the floor lies below every drawn seed mean
    assert "drawn at the panel floor as ✕" in _caption(fig0)


# ------------------------------------------------------------------------------------- F4-F5
def test_f4_arms_and_floor(tables) -> None:
    df = tables["4"]
    fig = pf.f4_batch_size(df)
    names = _legend_names(fig)
    assert sum(n.startswith("ALF-LB sign, u = 10⁻²") for n in names) == 1
    assert sum(n.startswith("aux loss, α = 10⁻³") for n in names) == 1
    floor = next(t for t in fig.data if t.name.startswith("claim-11 floor"))
    assert np.allclose(floor.y, th.batch_maxvio_floor(np.array([512, 1024, 2048]), 2, 16))
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"


def test_f5_families_and_references(tables) -> None:
    df = tables["5"]
    fig = pf.f5_tradeoff(df)
    aux = next(t for t in fig.data if t.name.startswith("aux loss, α"))
    alf = next(t for t in fig.data if t.name.startswith("ALF-LB sign, u"))
    assert len(aux.x) == len(pf.F5_ALPHAS) and len(alf.x) == len(pf.F5_US)
    assert aux.text[0] == "α = 0 (vanilla)"
    assert aux.y[0] == pytest.approx(1.0)  # α = 0 routes like vanilla top-K
    assert {"vanilla top-K (quality 1)", "LP optimum, balanced (quality 0)"} <= set(_names(fig))
    assert fig.layout.xaxis.type == "log"
    assert "dominated" in _caption(fig)


# ------------------------------------------------------------------------------------- F6-F7
def test_f6_four_heatmaps_with_entropy_and_maxvio(tables) -> None:
    df = tables["6"]
    fig = pf.f6_specialisation(df)
    maps = [t for t in fig.data if t.type == "heatmap"]
    assert len(maps) == 4
    assert all(np.asarray(m.z).shape == (8, 16) for m in maps)
    sub = df[(df["arm"] == "aux") & (df["counting"] == "micro")]
    assert np.allclose(maps[0].z, sub.groupby(["domain", "expert"])["share"].mean().unstack().to_numpy())
    titles = [a.text for a in fig.layout.annotations[:4]]
    assert all("H̄ = " in t and "MaxVio<sub>global</sub> = " in t for t in titles)
    assert ["micro-batch" in t for t in titles] == [True, False, True, False]
    assert "Vanilla top-K for reference" in _caption(fig)


def test_f7_arms_over_training(tables) -> None:
    df = tables["7"]
    fig = pf.f7_moe(df)
    names = _legend_names(fig)
    assert names == ["no balancing", "aux loss, α = 10⁻²", "ALF-LB sign, u = 10⁻²"]
    lines = [t for t in fig.data if t.name in names]
    assert len(lines) == 6  # two panels
    assert np.allclose(lines[0].x, [5, 10])
    assert np.allclose(lines[0].y, df[df["arm"] == "none"].groupby("step")["test_loss"].mean())
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type == "log"


def test_unicode_labels_no_latex(tables) -> None:
    figs = [pf.f1_regret_vs_T(tables["1"]), pf.f3_dual_gap(tables["3"]), pf.f6_specialisation(tables["6"])]
    for fig in figs:
        text = fig.to_json()
        assert "$" not in text.replace("$schema", "")  # no MathJax
        assert math.isfinite(fig.layout.width) and fig.layout.height > 300


# ------------------------------------------------------------------------------------- export
def test_registered_in_the_export_registry() -> None:
    assert [s.name for s in ex.FIGURES["alf_lb"]] == [
        "alf_lb_F1_regret_vs_T", "alf_lb_F2_maxvio_batch", "alf_lb_F3_dual_gap", "alf_lb_F4_batch_size",
        "alf_lb_F5_tradeoff", "alf_lb_F6_specialisation", "alf_lb_F7_moe"]
    assert next(iter(ex.FIGURES)) == "omd"  # the omd tests match "known topics: omd"


@pytest.mark.slow
def test_write_figures_builds_every_quick_figure(tmp_path) -> None:
    report = ex.write_figures(["alf_lb"], formats=("html",), out_dir=tmp_path)
    assert {p.name for p in report.written} == {f"{s.name}.html" for s in ex.FIGURES["alf_lb"]}
    assert not report.skipped
    assert sum(report.seconds.values()) < 120
    for path in report.written:
        text = path.read_text(encoding="utf-8")
        assert "Plotly.newPlot" in text and "plotly.js v" in text[:200_000]


def test_a_figure_draws_from_a_sweep_dataset(tmp_path) -> None:
    """A `boundlab sweep` directory feeds a figure directly (the table is the one run_sweep gives)."""
    from sims.sweep import load_sweep, sweep

    grid = {"n": [128], "u": [1e-3, 1e-2, 1e-1], "iters": [200]}
    result = sweep("alf_lb", "fixed_batch", grid, out=tmp_path / "sw", seeds=2)
    assert result.ok and result.ran == 6
    fig = pf.f3_dual_gap(load_sweep(tmp_path / "sw"))
    assert isinstance(fig, go.Figure) and len(fig.data) > 0
    pd.testing.assert_frame_equal(result.table, run_sweep(get_experiment("alf_lb", "fixed_batch"),
                                                          [get_experiment("alf_lb", "fixed_batch").config(
                                                              {"n": 128, "u": u, "iters": 200})
                                                           for u in grid["u"]], seeds=2))
