"""The ``boundlab`` command: list, verify (including a claim made to fail), run, bench, bad usage."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from sims import TOPICS
from sims.cli import main
from sims.store import load_table
from theory import claims
from theory import omd as th


def test_list_shows_every_claim(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for claim in claims():
        assert claim.id in out
    assert "(reconstructed)" in out


def test_verify_writes_table_and_offline_report(tmp_path, capsys) -> None:
    status = main(["verify", "--claim", "omd.ogd_convex", "--claim", "omd.regimes",
                   "--out", str(tmp_path), "--no-progress"])
    assert status == 0
    out = capsys.readouterr().out
    assert "omd.ogd_convex" in out and "holds" in out and "tightness" in out
    table, meta = load_table(tmp_path / "verify.parquet")
    assert list(table["claim"]) == ["omd.ogd_convex", "omd.regimes"]
    assert (table["verdict"] == "holds").all()
    assert ((table["tightness"] > 0) & (table["tightness"] <= 1)).all()
    assert meta["scale"] == "quick" and meta["base_seed"] == 0 and "numpy" in meta
    html = (tmp_path / "report.html").read_text()
    assert "<script src=\"http" not in html and "plotly" in html.lower()
    assert len(html) > 1_000_000  # plotly.js is inlined


def test_verify_exits_1_when_a_bound_is_made_smaller(tmp_path, monkeypatch, capsys) -> None:
    original = th.ogd_convex_bound
    monkeypatch.setattr(th, "ogd_convex_bound", lambda D, G, T: 0.1 * original(D, G, T))
    status = main(["verify", "--claim", "omd.ogd_convex", "--out", str(tmp_path), "--no-progress"])
    assert status == 1
    out = capsys.readouterr().out
    assert "FAILS omd.ogd_convex" in out


@pytest.mark.parametrize("topic", TOPICS)
def test_verify_topic_runs_every_claim_of_the_topic(topic, tmp_path) -> None:
    status = main(["verify", "--topic", topic, "--out", str(tmp_path), "--no-progress"])
    table, _ = load_table(tmp_path / "verify.parquet")
    assert set(table["claim"]) == {c.id for c in claims(topic)}
    assert status == (0 if table["as_documented"].all() else 1)
    assert table["as_documented"].all(), table[~table["as_documented"]].to_string()
    expected = {c.id: "holds" if c.known_failure is None else "FAILS" for c in claims(topic)}
    assert dict(zip(table["claim"], table["verdict"], strict=True)) == expected


@pytest.mark.parametrize("argv, message", [
    (["verify", "--topic", "nope"], "unknown topic 'nope'"),
    (["verify", "--claim", "omd.nope"], "unknown claim 'omd.nope'"),
    (["run", "nope", "regret"], "unknown topic 'nope'"),
    (["run", "omd", "nope"], "unknown experiment 'nope'"),
    (["run", "omd", "regret", "--set", "foo=1"], "no parameter 'foo'"),
    (["run", "omd", "regret", "--set", "novalue"], "key=value"),
    (["run", "omd", "regret", "--set", "rho=2"], "rho must lie in [0, 1]"),
    (["bench", "nope"], "unknown topic 'nope'"),
    (["run", "alf_lb", "fixed_batch", "--set", "K=0"], "K"),
    (["run", "alf_lb", "gumbel_regret", "--set", "rule=nope"], "rule"),
])
def test_bad_usage_is_one_line_and_exit_2(argv, message, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_run_without_a_gpu_backend_is_one_line_and_exit_1(capsys) -> None:
    try:
        import cupy  # noqa: F401
    except ImportError:
        assert main(["run", "alf_lb", "moe", "--set", "backend=cupy", "--set", "steps=2"]) == 1
        err = capsys.readouterr().err.strip()
        assert "CuPy" in err and len(err.splitlines()) == 1 and "Traceback" not in err
    else:
        pytest.skip("CuPy is installed: the missing-GPU message is not reachable")


@pytest.mark.parametrize("argv", [
    ["run", "alf_lb", "moe", "--backend", "cupy", "--set", "steps=2", "--set", "log_every=1"],
    ["run", "omd", "regret", "--backend", "cupy", "--set", "T=64"],  # no GPU path, but cupy was asked for
    ["sweep", "alf_lb", "moe", "--set", "steps=2", "--set", "log_every=1", "--backend", "cupy", "--no-progress"],
    ["sweep", "alf_lb", "moe", "--set", "steps=2", "--set", "log_every=1", "--set", "backend=cupy", "--no-progress"],
    ["verify", "--claim", "omd.regimes", "--backend", "cupy", "--no-progress"],
    ["bench", "omd", "--backend", "cupy", "--repeats", "1"],
])
def test_backend_cupy_without_a_gpu_is_one_line_and_exit_1(argv, tmp_path, monkeypatch, capsys) -> None:
    from sims.backend import gpu_available

    monkeypatch.chdir(tmp_path)  # the commands write under ./boundlab-results by default
    status = main(argv)
    captured = capsys.readouterr()
    if gpu_available():  # a GPU is here: the real thing runs instead
        assert status == 0, captured.err
        return
    err = captured.err.strip()
    assert status == 1, captured.out + err
    assert "CuPy" in err and "--backend numpy" in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"boundlab {argv[0]}: ")
    assert not (tmp_path / "boundlab-results").exists()  # refused before any work


def test_list_experiments_marks_gpu_paths(capsys) -> None:
    assert main(["list", "--experiments"]) == 0
    lines = capsys.readouterr().out.splitlines()
    moe = next(line for line in lines if line.startswith("alf_lb moe "))
    regret = next(line for line in lines if line.startswith("omd regret "))
    assert "GPU path" in moe and "GPU path" not in regret
    assert "experiments have a GPU path (--backend cupy)" in lines[-1]


def test_argparse_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as info:
        main(["verify", "--scale", "huge"])
    assert info.value.code == 2


def test_run_writes_parquet_with_provenance_and_reuses_it(tmp_path, capsys) -> None:
    out = tmp_path / "r.parquet"
    argv = ["run", "omd", "regret", "--set", "method=oftrl", "--set", "T=256", "--seeds", "3",
            "--out", str(out)]
    assert main(argv) == 0
    df, meta = load_table(out)
    assert set(df["seed"]) == {0, 1, 2} and (df["method"] == "oftrl").all()
    assert meta["config"]["T"] == 256 and meta["seeds"] == 3 and meta["boundlab"]
    cached = list((tmp_path / "cache").glob("omd-regret-*.parquet"))
    assert len(cached) == 1
    mtime = cached[0].stat().st_mtime_ns
    assert main(argv) == 0
    assert cached[0].stat().st_mtime_ns == mtime  # reused, not recomputed
    assert main([*argv, "--force"]) == 0
    assert cached[0].stat().st_mtime_ns != mtime
    df2, _ = load_table(out)
    assert df.equals(df2)


def test_bench_prints_ratios(capsys) -> None:
    assert main(["bench", "omd", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert out.count("x\n") >= 3 and "numba kernel" in out


def test_bench_reports_targets_and_skips() -> None:
    from sims.bench import Benchmark, BenchmarkUnavailable, run_benchmarks

    def fast_vs_slow():
        return (lambda: None), (lambda: time.sleep(0.002))

    def missing():
        raise BenchmarkUnavailable("pyamg is not installed")

    table = run_benchmarks([Benchmark("t", "met", "c", "r", fast_vs_slow, 2, target=2.0),
                            Benchmark("t", "unmet", "c", "r", fast_vs_slow, 2, target=1e9),
                            Benchmark("t", "plain", "c", "r", fast_vs_slow, 2),
                            Benchmark("t", "skip", "c", "r", missing, 2, target=1.0)]).set_index("benchmark")
    assert table.loc["met", "met"] is True and table.loc["unmet", "met"] is False
    assert table.loc["plain", "met"] is None and table.loc["skip", "skipped"] == "pyamg is not installed"


def test_console_script_entry_point() -> None:
    result = subprocess.run([sys.executable, "-m", "sims.cli", "list"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0 and "omd.chen_convex" in result.stdout


def test_figures_to_html(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["figures", "omd", "--format", "html", "--out", str(tmp_path / "figs")]) == 0
    written = sorted(p.name for p in (tmp_path / "figs").glob("*.html"))
    assert written == ["omd_F1_regret_vs_T.html", "omd_F2_regret_vs_variation.html",
                       "omd_F3_dynamic_regret.html", "omd_F4_curved_losses.html"]
    assert "omd_F1_regret_vs_T.html" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["figures", "nope"], "nope"),
    (["figures", "omd", "--format", "svgz"], "svgz"),
])
def test_figures_bad_usage_exit_2(argv, message, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
