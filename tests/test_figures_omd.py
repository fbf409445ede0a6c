"""Figures F1–F4 of the OMD topic and their export (paper_figs.omd, paper_figs.export)."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from paper_figs import FigureSpec
from paper_figs import export as ex
from paper_figs import omd as pf
from sims.runner import get_experiment, run_sweep

TINY_T = 64


def _tiny(sweep: pf.Sweep, seeds: int = 2, T: int = TINY_T) -> pd.DataFrame:
    """The figure's own sweep, at a tiny horizon."""
    configs = [dict(c, T=T) for c in sweep.configs]
    return run_sweep(get_experiment("omd", "regret"), configs, seeds=seeds)


@pytest.fixture(scope="module")
def f1_table() -> pd.DataFrame:
    return _tiny(pf.f1_sweep("quick"))


def _names(fig: go.Figure) -> Counter:
    return Counter(t.name for t in fig.data)


def _legend_names(fig: go.Figure) -> list[str]:
    return [t.name for t in fig.data if t.showlegend is not False]


# ------------------------------------------------------------------------------------- sweeps
@pytest.mark.parametrize("builder", [pf.f1_sweep, pf.f2_sweep, pf.f3_sweep, pf.f4_sweep])
def test_sweeps_are_small_at_quick_scale(builder) -> None:
    quick, full = builder("quick"), builder("full")
    assert max(c["T"] for c in quick.configs) <= 4096
    assert quick.seeds <= 4
    assert full.seeds == 20
    assert max(c["T"] for c in full.configs) >= 16384
    assert len(quick.configs) * quick.seeds < len(full.configs) * full.seeds


def test_sweep_scales_follow_the_spec() -> None:
    assert {c["T"] for c in pf.f1_sweep("full").configs} == {2**16}
    assert {c["T"] for c in pf.f2_sweep("full").configs} == {2**14}
    benign = [c for c in pf.f1_sweep("quick").configs if c["s0"] == 0]
    assert benign and all(c["rho"] == 0 and c["m"] == 0.5 for c in benign)
    f3 = pf.f3_sweep("quick").configs
    sigmas = {round((1 - c["rho"]) * c["s0"], 9) for c in f3}
    assert sigmas == {0.0, 0.3}
    assert all(c["rho"] * c["A0"] == pytest.approx(0.5) for c in f3)  # circle of radius R/2
    with pytest.raises(ValueError, match="scale"):
        pf.f1_sweep("huge")


# ------------------------------------------------------------------------------------- figures
def test_f1_has_a_trace_per_method_and_panel(f1_table: pd.DataFrame) -> None:
    fig = pf.f1_regret_vs_T(f1_table)
    assert isinstance(fig, go.Figure)
    panels = 2 * (len(pf.F1_RHOS) + 1)  # G2 and G1 × (five ρ + benign)
    names = _names(fig)
    for m in pf.F1_METHODS:
        assert names[pf.METHOD_LABELS[m]] == panels
    rate = [n for n in names if n.startswith("D(√")]
    assert len(rate) == 1 and names[rate[0]] == panels
    assert len(fig.data) == panels * (len(pf.F1_METHODS) + 1)
    assert sorted(_legend_names(fig)) == sorted(names)  # one legend entry per name
    assert all(t.xaxis and fig.layout[t.xaxis.replace("x", "xaxis")].type == "log"
               for t in fig.data)
    slopes = [a.text for a in fig.layout.annotations if a.text.startswith("slopes")]
    assert len(slopes) == panels
    assert "benign" in " ".join(a.text for a in fig.layout.annotations)


def test_f1_draws_non_positive_means_at_the_floor_and_says_so() -> None:
    rounds = np.array([16, 32, 64, 128, 256])
    rows = []
    for method, regret in (("optimistic_omd", [-1.0, 2.0, 3.0, 4.0, 5.0]),
                           ("ogd", [1.0, 2.0, 4.0, 8.0, 16.0])):
        for seed in range(2):
            rows.append(pd.DataFrame({
                "family": "quadratic", "method": method, "rho": 1.0, "s0": 1.0, "seed": seed,
                "rounds": rounds, "regret": regret, "sigma2_sum": 0.0,
                "Sigma2_sum": 4.0 * rounds, "D": 2.0}))
    fig = pf.f1_regret_vs_T(pd.concat(rows, ignore_index=True))
    omd = next(t for t in fig.data if t.name == pf.METHOD_LABELS["optimistic_omd"])
    assert omd.y[0] > 0 and omd.y[0] < 1.0       # drawn at the floor, below every positive value
    assert omd.marker.symbol[0] == "x"
    assert "≤ 0" in omd.customdata[0][3]
    assert any("1 seed mean(s) ≤ 0" in a.text for a in fig.layout.annotations)
    ogd_slope = next(a.text for a in fig.layout.annotations if a.text.startswith("slopes"))
    assert "OGD 1/√t: 1.00" in ogd_slope


def test_f1_rejects_a_table_without_its_columns() -> None:
    with pytest.raises(ValueError, match="lacks columns"):
        pf.f1_regret_vs_T(pd.DataFrame({"rounds": [1], "regret": [1.0]}))
    with pytest.raises(ValueError, match="empty"):
        pf.f2_regret_vs_variation(pd.DataFrame())


def test_f2_two_panels_with_the_thm5_bound() -> None:
    df = _tiny(pf.f2_sweep("quick"))
    fig = pf.f2_regret_vs_variation(df)
    names = _names(fig)
    assert names["optimistic OMD"] == 2 and names["OFTRL"] == 2
    assert names["Thm 5 bound (Sachs et al.)"] == 2
    assert len(fig.data) == 8
    by_name = {}
    for t in fig.data:
        by_name.setdefault(t.name, []).append(t)
    for measured, bound in zip(by_name["OFTRL"], by_name["Thm 5 bound (Sachs et al.)"],
                               strict=True):
        assert np.all(np.asarray(measured.y) <= np.asarray(bound.y))  # seed means below Thm 5
        assert np.all(np.diff(measured.x) > 0)
    assert fig.layout.xaxis.type in (None, "linear") and fig.layout.yaxis.type in (None, "linear")


def test_f3_best_constant_step_and_rate() -> None:
    df = _tiny(pf.f3_sweep("quick"), seeds=1, T=256)
    fig = pf.f3_dynamic_regret(df)
    names = _names(fig)
    for m in pf.F3_METHODS:
        assert names[pf.METHOD_LABELS[m]] == 2  # σ = 0 and σ = 0.3
    assert sum(n.startswith("claim-10 rate") for n in names) == 1
    assert len(fig.data) == 8
    assert [a.text for a in fig.layout.annotations[:2]] == ["σ = 0", "σ = 0.3"]
    ogd = next(t for t in fig.data if t.name == pf.METHOD_LABELS["ogd_const"])
    assert all("best η" in row[3] for row in ogd.customdata)


def test_f4_traces_per_method_and_rho() -> None:
    df = _tiny(pf.f4_sweep("quick"))
    fig = pf.f4_curved_losses(df)
    assert len(fig.data) == 2 * (len(pf.F4_G2_METHODS) + len(pf.F4_G3_METHODS))
    names = [t.name for t in fig.data]
    for m in (*pf.F4_G2_METHODS, *pf.F4_G3_METHODS):
        for rho in (0, 1):
            assert sum(n.startswith(f"{pf.METHOD_LABELS[m]}, ρ = {rho} ") for n in names) == 1
    x = np.asarray(fig.data[0].x)
    assert np.allclose(np.exp(x), [16, 32, 64])  # ln T on the axis


# ------------------------------------------------------------------------------------- export
def test_registry_and_bad_arguments(tmp_path) -> None:
    assert [s.name for s in ex.FIGURES["omd"]] == [
        "omd_F1_regret_vs_T", "omd_F2_regret_vs_variation", "omd_F3_dynamic_regret",
        "omd_F4_curved_losses"]
    with pytest.raises(ValueError, match="known topics: omd"):
        ex.write_figures(["nope"], out_dir=tmp_path)
    with pytest.raises(ValueError, match="formats"):
        ex.write_figures(["omd"], formats=("svg",), out_dir=tmp_path)
    assert not list(tmp_path.iterdir())  # nothing built before the arguments are checked


def test_write_figures_html_is_self_contained(tmp_path) -> None:
    report = ex.write_figures(["omd"], formats=("html",), out_dir=tmp_path)
    expected = {f"{s.name}.html" for s in ex.FIGURES["omd"]}
    assert {p.name for p in report.written} == expected
    assert not report.skipped
    for path in report.written:
        text = path.read_text(encoding="utf-8")
        assert "plotly.js v" in text[:200_000]                       # the library, embedded
        assert not re.search(r"<script[^>]*\bsrc=[\"']https?://", text)  # no CDN
        assert "Plotly.newPlot" in text


def _tiny_spec(f1_table: pd.DataFrame) -> FigureSpec:
    fig = pf.f1_regret_vs_T(f1_table)
    return FigureSpec("omd_F1_tiny", "F1 on a tiny sweep", lambda *args: fig)


def test_without_a_browser_html_is_written_and_the_report_says_why(
        tmp_path, monkeypatch, f1_table) -> None:
    monkeypatch.setitem(ex.FIGURES, "omd", [_tiny_spec(f1_table)])
    monkeypatch.setattr(ex, "find_browser", lambda: None)
    report = ex.write_figures(["omd"], formats=("html", "pdf", "png"), out_dir=tmp_path)
    assert [p.name for p in report.written] == ["omd_F1_tiny.html"]
    assert {name for name, _ in report.skipped} == {"omd_F1_tiny.pdf", "omd_F1_tiny.png"}
    assert "apt-get install chromium" in str(report) and "BROWSER_PATH" in str(report)


def test_browser_path_env_takes_precedence(tmp_path, monkeypatch) -> None:
    fake = tmp_path / "my-chrome"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("BROWSER_PATH", str(fake))
    assert ex.find_browser() == str(fake)


@pytest.mark.browser
def test_static_export_writes_pdf_and_png(tmp_path, monkeypatch, f1_table) -> None:
    if ex.find_browser() is None:
        pytest.skip("no Chrome/Chromium found (apt-get install chromium, or set BROWSER_PATH)")
    monkeypatch.setitem(ex.FIGURES, "omd", [_tiny_spec(f1_table)])
    report = ex.write_figures(["omd"], formats=("pdf", "png"), out_dir=tmp_path)
    assert not report.skipped, str(report)
    pdf, png = tmp_path / "omd_F1_tiny.pdf", tmp_path / "omd_F1_tiny.png"
    assert pdf.stat().st_size > 1000 and pdf.read_bytes()[:5] == b"%PDF-"
    assert png.stat().st_size > 1000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
