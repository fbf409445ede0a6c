"""Figures F1–F5 of the convex-ReLU topic (paper_figs.convex_relu) and their registration."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paper_figs import convex_relu as pf
from paper_figs import export as ex
from sims.checks import fit_slope
from sims.runner import get_experiment, run_sweep
from theory import convex_relu as th

BUILDERS = [pf.f1_sweep, pf.f2_sweep, pf.f3_sweep, pf.f4_sweep, pf.f5_sweep]


def _tiny(sweep: pf.Sweep) -> list[dict[str, Any]]:
    """The figure's own quick configs, shrunk (a few seconds for all five figures)."""
    c = sweep.configs
    if sweep.experiment == "admm_gap":
        return [dict(x, n=60, P_s=12, max_iter=120) for x in c]
    if sweep.experiment == "timing":
        return [dict(x, ns=[30, 45, 60], max_iter=5000) for x in c]
    if sweep.experiment == "accuracy_time":
        return [dict(x, P_s=6, max_iter=16, record_every=4, nc_epochs=4, nc_runs=2) for x in c]
    if sweep.experiment == "robust":
        return [dict(x, P_s=8, attack_eps=[0.0, 0.1], pgd_steps=3, pgd_restarts=1, nc_epochs=10) for x in c]
    return [dict(x, n=10, P_list=[4, 16, 64], nc_runs=2, nc_epochs=50, fresh=50) for x in c]


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    out = {}
    for key, build in zip("12345", BUILDERS, strict=True):
        sweep = build("quick")
        out[key] = run_sweep(get_experiment("convex_relu", sweep.experiment), _tiny(sweep), seeds=3 if key in "14"
                             else 2)
    return out


def _caption(fig: go.Figure) -> str:
    return fig.layout.annotations[-1].text.replace("<br>", " ")


def _named(fig: go.Figure, start: str) -> list[Any]:
    return [t for t in fig.data if (t.name or "").startswith(start)]


# ------------------------------------------------------------------------------------- sweeps
def _runs(sweep: pf.Sweep) -> int:
    return sweep.seeds * len(sweep.configs)


def _work(sweep: pf.Sweep) -> float:
    """A size proxy of a sweep: runs × the largest size knob of its configs."""
    keys = ("max_iter", "nc_epochs", "fresh", "pgd_steps", "n", "P_s")
    sizes = [max(float(c[k]) for k in keys if isinstance(c.get(k), int | float)) for c in sweep.configs]
    ns = [max(c["ns"]) for c in sweep.configs if "ns" in c]
    return _runs(sweep) * max(sizes) * (max(ns) if ns else 1)


@pytest.mark.parametrize("builder", BUILDERS)
def test_sweeps_are_small_at_quick_and_larger_at_full(builder) -> None:
    quick, full = builder("quick"), builder("full")
    key = builder.__name__[1]
    assert quick.experiment == full.experiment == pf.EXPERIMENTS[f"F{key}"]
    assert quick.seeds <= 3 and full.seeds >= 3 and _work(quick) * 4 < _work(full)
    exp = get_experiment("convex_relu", quick.experiment)
    for c in quick.configs + full.configs:
        assert exp.config(c) == c  # full configs of the registered experiment
    with pytest.raises(ValueError, match="scale"):
        builder("medium")


def test_full_sweeps_follow_the_spec() -> None:
    (f1,) = pf.f1_sweep("full").configs
    assert f1["rho_mults"] == [0.1, 1.0, 10.0, 100.0] and "balance" in f1["balance_rules"]
    assert 80 <= f1["n"] <= 400 and f1["d"] <= 10 and f1["P_s"] in (f1["n"] // 4, f1["n"] // 2, f1["n"])
    f2 = pf.f2_sweep("full").configs
    assert {c["P_factor"] for c in f2} == {0.25} and {c["target_gap"] for c in f2} == {1e-4}
    ns = sorted(n for c in f2 for n in c["ns"])
    assert len(ns) >= 6 and ns[-1] / ns[0] >= 8  # a slope needs a wide range of n
    scs = [n for c in f2 if "scs" in c["methods"] for n in c["ns"]]
    assert max(scs) < ns[-1] and all("woodbury" in c["methods"] and "dense" in c["methods"] for c in f2)
    f3 = pf.f3_sweep("full").configs
    assert [c["dataset"] for c in f3] == ["breast_cancer", "digits_pair"]
    assert all(c["methods"] == ["admm", "gated", "cvxpy", "adam", "sgd"] and c["nc_runs"] >= 3 for c in f3)
    (f4,) = pf.f4_sweep("full").configs
    assert f4["scaling"] == "minmax" and len(f4["train_eps"]) >= 3 and f4["pgd_restarts"] >= 2
    assert f4["attack_eps"][0] == 0.0 and set(f4["train_eps"]) <= set(f4["attack_eps"])
    (f5,) = pf.f5_sweep("full").configs
    assert f5["dataset"] == "spiral2d" and f5["n"] <= 40 and max(f5["P_list"]) >= 512
    assert f5["P_list"] == sorted(f5["P_list"])


# ------------------------------------------------------------------------------------- helpers
@settings(deadline=None, derandomize=True, max_examples=30)
@given(q=st.floats(0.9, 0.999), c=st.floats(1e-3, 1e3), every=st.integers(1, 20), k=st.integers(6, 40))
def test_tail_decades_recovers_a_planted_geometric_rate(q: float, c: float, every: int, k: int) -> None:
    it = every * np.arange(1, k + 1, dtype=float)
    assert pf.tail_decades(it, c * q**it, floor=0.0) == pytest.approx(1000 * math.log10(q), rel=1e-6, abs=1e-9)


def test_tail_decades_ignores_a_plateau_below_the_floor() -> None:
    it = 10.0 * np.arange(1, 21)
    values = np.where(it <= 100, 10.0 ** (-it / 20), 1e-20)  # 50 decades per 1000 iterations, then a floor
    assert pf.tail_decades(it, values, tail=1.0) == pytest.approx(-50.0)
    assert abs(pf.tail_decades(it, values, tail=1.0, floor=0.0) + 50.0) > 10.0  # the plateau bends the fit


def test_tail_decades_needs_three_points_and_rule_order() -> None:
    assert math.isnan(pf.tail_decades([1, 2], [1.0, 0.5]))
    assert pf.rule_order(["balance", "c=10", "c=0.1", "c=1"]) == ["c=0.1", "c=1", "c=10", "balance"]


# ------------------------------------------------------------------------------------- F1
def test_f1_curves_slopes_and_targets(tables) -> None:
    df = tables["1"]
    fig = pf.f1_admm_gap(df)
    rules = pf.rule_order(df["rule"].unique())
    legend = [t for t in fig.data if t.showlegend is not False and t.xaxis == "x" and t.fill is None
              and not t.name.startswith("CR7")]
    assert len(legend) == len(rules) == 6
    for rule, trace in zip(rules, legend, strict=True):
        sub = df[df["rule"] == rule]
        last = int(sub.groupby("seed")["iteration"].max().min())
        at = sub[sub["iteration"] == last]["gap"].to_numpy(float)
        assert trace.y[-1] == pytest.approx(math.exp(np.mean(np.log(np.maximum(at, 1e-16)))), rel=1e-9)
        # the legend's slope is the fit of the drawn r_pri curve
        (pri,) = [t for t in fig.data if t.name == trace.name + " · r_pri"]
        assert trace.name.endswith(f"r_pri tail {pf.fmt_slope(pf.tail_decades(pri.x, pri.y))} decades/1000 it.")
    (gap_line,) = _named(fig, "CR7 quick-test target")
    assert set(gap_line.y) == {1e-4} and fig.layout.yaxis.type == "log"
    (viol_line,) = _named(fig, "CR7 target: violation")
    assert set(viol_line.y) == {1e-5} and viol_line.xaxis == "x2"
    assert fig.layout.yaxis4.range[1] <= 1.05  # accuracy panel
    bands = [t for t in fig.data if t.fill == "toself"]
    assert bands  # three seeds: 95% bands are drawn
    cap = _caption(fig)
    assert pf.NOT_CONFIRMED in cap and "c = 0.1:" in cap and "balancing:" in cap
    with pytest.raises(ValueError, match="mix instances"):
        pf.f1_admm_gap(pd.concat([df, df.assign(n=61, seed=df["seed"] + 10)], ignore_index=True))
    with pytest.raises(ValueError, match=r"lacks columns \['gap'\]"):
        pf.f1_admm_gap(df.drop(columns="gap"))


def test_f1_no_bands_with_two_seeds(tables) -> None:
    df = tables["1"]
    fig = pf.f1_admm_gap(df[df["seed"] < 2])
    assert not [t for t in fig.data if t.fill == "toself"]


# ------------------------------------------------------------------------------------- F2
def test_f2_slopes_guides_and_cr8_count(tables) -> None:
    df = tables["2"]
    fig = pf.f2_timing(df)
    a = [t for t in fig.data if t.xaxis == "x" and t.mode == "lines+markers"]
    assert {t.name.split(":")[0] for t in a} == {pf.METHOD_LABELS[m] for m in set(df["method"])}
    for t in a + [t for t in fig.data if t.xaxis == "x2" and t.mode == "lines+markers"]:
        slope = fit_slope(np.asarray(t.x, float), np.asarray(t.y, float))
        assert t.name.endswith(f"slope {pf.fmt_slope(slope)}")
    wood = df[df["method"] == "woodbury"]
    per = ((wood["time"] - wood["setup_time"]) / wood["iterations"]).groupby(wood["n_train"]).apply(
        lambda v: math.exp(np.mean(np.log(v))))
    (b,) = [t for t in fig.data if t.xaxis == "x2" and t.name.startswith(pf.METHOD_LABELS["woodbury"])]
    assert np.allclose(b.y, per.to_numpy())
    (g3,) = _named(fig, "slope 3 guide")
    clar = df[df["method"] == "clarabel"].groupby("n_train")["time"].apply(lambda v: math.exp(np.mean(np.log(v))))
    assert g3.y[0] == pytest.approx(clar.iloc[0] * (g3.x[0] / clar.index[0]) ** 3)
    assert fit_slope(np.asarray(g3.x), np.asarray(g3.y)) == pytest.approx(3.0)
    (cr8,) = _named(fig, "CR8 multiply-adds")
    flops = np.asarray(th.admm_flops_per_iteration(per.index.to_numpy(int), int(df["d"].iloc[0]),
                                                   wood.groupby("n_train")["P"].mean().round().astype(int).to_numpy()))
    assert np.allclose(np.asarray(cr8.y) / flops, per.iloc[-1] / flops[-1])
    assert fig.layout.xaxis.type == fig.layout.yaxis.type == "log"
    assert "Every run reached its target" in _caption(fig)
    # a run that stopped at max_iter is drawn hollow and named in the caption
    bad = df.copy()
    bad.loc[(bad["method"] == "woodbury") & (bad["n_train"] == bad["n_train"].max()), "status"] = "max_iter"
    fig = pf.f2_timing(bad)
    (a_wood,) = [t for t in fig.data if t.xaxis == "x" and t.name.startswith(pf.METHOD_LABELS["woodbury"])]
    symbols = list(a_wood.marker.symbol)
    assert symbols[-1] == "circle-open" and symbols[0] == "circle"
    assert f"{pf.METHOD_LABELS['woodbury']} at n = {int(df['n_train'].max())}" in _caption(fig)


# ------------------------------------------------------------------------------------- F3
def test_f3_points_medians_and_panels(tables) -> None:
    df = tables["3"]
    fig = pf.f3_accuracy_time(df)
    assert len(fig.layout.annotations) >= 5  # four subplot titles and the caption
    assert "digits (8 × 8) 3 against 8" in fig.layout.annotations[1].text
    for j, ds in enumerate(["breast_cancer", "digits_pair"], start=1):
        sub = df[df["dataset"] == ds]
        axis = "x" if j == 1 else f"x{j}"
        (star,) = [t for t in fig.data if t.xaxis == axis and t.name == pf.METHOD_LABELS["cvxpy"]]
        pts = sub[sub["method"] == "cvxpy"].groupby("seed")[["time", "test_acc"]].first()
        assert star.y[0] == pytest.approx(pts["test_acc"].mean())
        assert star.x[0] == pytest.approx(math.exp(np.mean(np.log(pts["time"]))))
        (adam,) = [t for t in fig.data if t.xaxis == axis and t.name == pf.METHOD_LABELS["adam"] and t.fill is None]
        med = sub[sub["method"] == "adam"].groupby("step")["test_acc"].median()
        assert np.allclose(adam.y, med.to_numpy())
        assert fig.layout[f"xaxis{j if j > 1 else ''}"].type == "log"
    assert pf.NOT_CONFIRMED in _caption(fig)


# ------------------------------------------------------------------------------------- F4
def test_f4_eps_star_attacks_and_certificate(tables) -> None:
    df = tables["4"]
    fig = pf.f4_robust(df)
    star = df.groupby("seed")["eps_star"].first().mean()
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert len(lines) == 2 and all(s.x0 == pytest.approx(star) for s in lines)
    models = {(m, e) for m, e in df[["model", "eps_train"]].itertuples(index=False)}
    pgd = [t for t in fig.data if t.showlegend is not False and t.xaxis == "x" and (t.mode or "") == "lines+markers"]
    assert len(pgd) == len(models)
    sub = df[(df["model"] == "convex") & (df["attack"] == "pgd")]
    (conv,) = [t for t in fig.data if t.name == pf.MODEL_LABELS["convex"]]
    assert np.allclose(conv.y, sub.groupby("eps")["accuracy"].mean().to_numpy())
    fgsm = [t for t in fig.data if (t.name or "").endswith("· fgsm")]
    assert len(fgsm) == len(models) and all(t.line.dash == "dash" for t in fgsm)
    cert = [t for t in fig.data if (t.name or "").endswith("· certified")]
    assert len(cert) == len(models) and all(t.xaxis == "x2" for t in cert)
    assert "ε* per seed" in _caption(fig)


# ------------------------------------------------------------------------------------- F5
def test_f5_ratios_counts_and_breaches(tables) -> None:
    df = tables["5"]
    fig = pf.f5_sampling(df)
    s = df[df["kind"] == "sampled"]
    (ratio,) = _named(fig, "f*(𝒟)/f*(𝒟_full)")
    assert np.allclose(ratio.y, (s["value"] / s["f_full"]).groupby(s["P_s"]).mean().to_numpy())
    assert min(ratio.y) >= 1 - 1e-6  # CR4 on the tiny table
    n = int(df["n"].iloc[0])
    (cr6,) = _named(fig, "CR6")
    assert set(cr6.y) == {n * n - n + 1}
    widths = _named(fig, "L_nc/f*")
    assert len(widths) == 2 and "width 1·m*" in widths[0].name and "width 2·m*" in widths[1].name
    nc = df[df["kind"] == "nonconvex"]
    small = nc[nc["width"] == nc.groupby("seed")["width"].transform("min")]
    assert widths[0].y[0] == pytest.approx((small["value"] / small["f_full"]).median())
    (psi,) = _named(fig, "scenario level")
    assert np.allclose(psi.y, s.groupby("P_s")["scenario_psi"].mean().to_numpy())
    cap = _caption(fig)
    assert "CR4: 0 sampled" in cap and "CR2: 0 non-convex" in cap and "CLAIM BREACHED" not in cap
    bad = df.copy()
    bad.loc[bad["kind"] == "nonconvex", "value"] = bad["f_full"] * 0.9  # no network beats f*(𝒟_full) (CR2)
    assert "CLAIM BREACHED" in _caption(pf.f5_sampling(bad))
    with pytest.raises(ValueError, match="no rows of kind 'sampled'"):
        pf.f5_sampling(df[df["kind"] != "sampled"])


def test_unicode_labels_no_latex(tables) -> None:
    figs = [pf.f1_admm_gap(tables["1"]), pf.f2_timing(tables["2"]), pf.f3_accuracy_time(tables["3"]),
            pf.f4_robust(tables["4"]), pf.f5_sampling(tables["5"])]
    for fig in figs:
        text = fig.to_json()
        assert "$" not in text.replace("$schema", "")  # no MathJax
        assert pf.NOT_CONFIRMED in _caption(fig)
        assert math.isfinite(fig.layout.width) and fig.layout.height > 300


# ------------------------------------------------------------------------------------- export
def test_registered_in_the_export_registry() -> None:
    assert [s.name for s in ex.FIGURES["convex_relu"]] == [
        "convex_relu_F1_admm_gap", "convex_relu_F2_timing", "convex_relu_F3_accuracy_time", "convex_relu_F4_robust",
        "convex_relu_F5_sampling"]


def test_write_figures_builds_every_quick_figure(tmp_path) -> None:
    # ≈ 10 s for the five quick sweeps on two cores, so not marked slow
    report = ex.write_figures(["convex_relu"], formats=("html",), out_dir=tmp_path)
    assert {p.name for p in report.written} == {f"{s.name}.html" for s in ex.FIGURES["convex_relu"]}
    assert not report.skipped
    assert sum(report.seconds.values()) < 60
    for path in report.written:
        text = path.read_text(encoding="utf-8")
        assert "Plotly.newPlot" in text and "plotly.js v" in text[:200_000]
