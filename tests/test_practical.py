"""The practical GPU experiments and the GPU-vs-CPU benchmarks (issue 9): alf_lb, ef21, matrix_completion,
convex_relu.

On numpy, at the quick scale: each experiment gives its documented columns, the same table for the same
seed (the wall-time columns aside), and results that say something (ALF-LB's metrics are the moe
experiment's, EF21-W beats EF21 on a heterogeneous problem, AltMin converges). ``backend="cupy"`` without
a GPU fails with one line, after the config checks and before any work. The benchmark workloads do the
real algorithm's step (compared with the solvers on numpy), and the GPU benchmarks are listed under the
cupy backend and skipped here. Tests marked ``gpu`` (skipped without CuPy and a CUDA device) run both
backends and compare the tables to the tolerances stated in each test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import solvers.ef21 as se
import solvers.matrix_completion as smc
from sims.alf_lb import bench_gpu as alf_bench
from sims.alf_lb import moe
from sims.alf_lb import practical as alf
from sims.backend import BackendUnavailable, gpu_available
from sims.bench import BenchmarkUnavailable, benchmarks, run_benchmarks
from sims.cli import main
from sims.convex_relu import bench_gpu as cr_bench
from sims.convex_relu import experiments as cr_ex
from sims.convex_relu import practical as cr
from sims.ef21 import bench_gpu as ef21_bench
from sims.ef21 import practical as ef21
from sims.matrix_completion import bench_gpu as mc_bench
from sims.matrix_completion import experiments as mc_ex
from sims.matrix_completion import practical as mc
from sims.runner import get_experiment, run_one
from solvers.convex_relu import admm, cone_violation
from theory import ef21 as th

SETTINGS = {"deadline": None, "derandomize": True}
#: Columns that depend on the machine and its load, not on the seed.
TIMING = ("wall_time_s", "step_time_s", "round_time_s", "device", "time", "setup_time_s", "iteration_time_s")
#: Test sizes: the quick scale, shortened for the MoE.
QUICK = {"alf_lb": {"steps": 60, "log_every": 20}, "ef21": {}, "matrix_completion": {},
         "convex_relu": {"n": 400, "iterations": 60}}
MODULES = {"alf_lb": alf, "ef21": ef21, "matrix_completion": mc, "convex_relu": cr}
GPU_BENCHMARKS = {("alf_lb", "moe_step_T4096_E16_gpu_vs_cpu"), ("ef21", "ef21w_round_n10000_d20_gpu_vs_cpu"),
                  ("matrix_completion", "altmin_round_20000x20000_k20_gpu_vs_cpu"),
                  ("convex_relu", "admm_20_iterations_n100000_d20_P64_gpu_vs_cpu")}
no_gpu = pytest.mark.skipif(gpu_available(), reason="a GPU is usable here: the missing-GPU error is not reachable")


def _run(topic: str, seed: int = 0, **overrides) -> pd.DataFrame:
    exp = get_experiment(topic, "practical")
    return run_one(exp, exp.config({**QUICK[topic], **overrides}), base_seed=seed, index=0)


def _seeded(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=list(TIMING), errors="ignore")


# ------------------------------------------------------------------------------------------- experiments
@pytest.mark.parametrize("topic", sorted(MODULES))
def test_quick_scale_has_the_documented_columns_and_repeats_bit_for_bit(topic) -> None:
    exp = get_experiment(topic, "practical")
    assert exp.defaults["backend"] == "numpy" and exp.defaults["scale"] == "quick"
    first = _run(topic)
    assert list(first.columns) == [*exp.defaults, "seed", *MODULES[topic].COLUMNS]
    assert len(first) > 2 and (first["backend"] == "numpy").all() and (first["device"].str.startswith("cpu")).all()
    assert (first["wall_time_s"] > 0).all()
    pd.testing.assert_frame_equal(_seeded(first), _seeded(_run(topic)), check_exact=True)
    other = _seeded(_run(topic, seed=1))
    assert not _seeded(first).equals(other)


@pytest.mark.parametrize("topic", sorted(MODULES))
def test_a_bad_scale_is_refused_before_the_backend_is_probed(topic) -> None:
    exp = get_experiment(topic, "practical")
    with pytest.raises(ValueError, match="scale"):
        exp.func(exp.config({"scale": "huge", "backend": "cupy"}), np.random.default_rng(0))


@no_gpu
@pytest.mark.parametrize("topic", sorted(MODULES))
def test_cupy_without_a_gpu_fails_in_one_line(topic) -> None:
    exp = get_experiment(topic, "practical")
    with pytest.raises(BackendUnavailable, match="CuPy") as info:
        exp.func(exp.config({**QUICK[topic], "backend": "cupy"}), np.random.default_rng(0))
    assert "\n" not in str(info.value)


@no_gpu
def test_the_cli_reports_a_missing_gpu_in_one_line(tmp_path, capsys) -> None:
    argv = ["run", "ef21", "practical", "--set", "scale=gpu", "--set", "backend=cupy", "--out", str(tmp_path / "t.pq")]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert "CuPy" in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_scale_presets_resolve_and_overrides_win() -> None:
    assert alf.resolve(alf.PRACTICAL_DEFAULTS)["steps"] == moe.MOE_DEFAULTS["steps"]
    gpu = alf.resolve({**alf.PRACTICAL_DEFAULTS, "scale": "gpu", "steps": 7})
    assert gpu["steps"] == 7 and gpu["seq_len"] == moe.FULL_SCALE["seq_len"] and gpu["dtype"] == "float32"
    assert gpu["backend"] == "numpy"  # the config's backend, never the preset's
    assert ef21.resolve({**ef21.PRACTICAL_DEFAULTS, "scale": "gpu"})["n_clients"] == 10_000
    big = mc.resolve({**mc.PRACTICAL_DEFAULTS, "scale": "gpu", "T": 3})
    assert (big["m"], big["n"], big["k"], big["T"]) == (20_000, 20_000, 20, 3)


def test_alf_lb_rows_are_those_of_the_moe_experiment_with_times() -> None:
    config = {**alf.PRACTICAL_DEFAULTS, **QUICK["alf_lb"]}
    ours = alf.practical_experiment(config, np.random.default_rng(3))
    theirs = moe.moe_experiment(alf.resolve(config), np.random.default_rng(3))
    pd.testing.assert_frame_equal(ours[list(theirs.columns)], theirs, check_exact=True)
    assert set(ours["arm"]) == {"aux", "alf_lb"} and (ours["tokens_per_step"] == 512).all()
    for _, arm in ours.groupby("arm"):
        assert np.all(np.diff(arm["wall_time_s"]) > 0) and (arm["step_time_s"] > 0).all()


def test_ef21w_beats_ef21_on_the_heterogeneous_quick_problem() -> None:
    df = ef21.practical_experiment(dict(ef21.PRACTICAL_DEFAULTS), np.random.default_rng(0))
    start = df[df["round"] == 0].set_index("method")
    assert start.loc["ef21", "grad_sq"] == start.loc["ef21w", "grad_sq"]  # one problem, one x⁰
    end = df.groupby("method").tail(1).set_index("method")
    assert (end["rounds"] == 300).all() and (end["status"] == "horizon").all()
    assert end.loc["ef21w", "grad_sq"] < 1e-2 * end.loc["ef21", "grad_sq"]
    assert (df["f_gap"] >= -1e-12).all() and df["H"].iloc[0] > 4


def test_ef21_batched_starts_repeat_the_single_run() -> None:
    config = {**ef21.PRACTICAL_DEFAULTS, "T": 60}
    one = _seeded(ef21.practical_experiment(config, np.random.default_rng(2)))
    three = _seeded(ef21.practical_experiment({**config, "starts": 3}, np.random.default_rng(2)))
    assert sorted(set(three["start"])) == [0, 1, 2]
    first = three[three["start"] == 0].reset_index(drop=True)
    # on numpy run_batch is run bit for bit, and start 0 has the x⁰ of the single run
    pd.testing.assert_frame_equal(first, one, check_exact=True)
    ends = three.groupby(["method", "start"])["grad_sq"].first().unstack()
    assert ends.loc["ef21", 0] != ends.loc["ef21", 1]  # the other starts are other points


@settings(max_examples=5, **SETTINGS)
@given(n=st.integers(2, 30), zeta=st.floats(0.0, 100.0), problem=st.sampled_from(["least_squares", "logistic"]),
       seed=st.integers(0, 2**16))
def test_ef21_steps_are_the_theorems_and_runs_stay_finite(n, zeta, problem, seed) -> None:
    config = {**ef21.PRACTICAL_DEFAULTS, "problem": problem, "n_clients": n, "heterogeneity": zeta, "T": 40,
              "d": 5, "samples_per_client": 10}
    df = ef21.practical_experiment(config, np.random.default_rng(seed))
    rows = df.groupby("method").first()
    ratio = rows.loc["ef21w", "gamma"] / rows.loc["ef21", "gamma"]
    assert ratio >= 1 - 1e-12 and rows["H"].iloc[0] >= 1 - 1e-12  # γ_AM ≥ γ_QM because L_AM ≤ L_QM
    assert (df["status"] != "diverged").all() and np.isfinite(df["grad_sq"]).all()
    assert df["f_gap"].isna().all() == (problem == "logistic")


def test_matrix_completion_converges_at_the_quick_scale() -> None:
    df = mc.practical_experiment(dict(mc.PRACTICAL_DEFAULTS), np.random.default_rng(0))
    assert df["status"].iloc[0] == "converged" and len(df) == df["rounds"].iloc[0] + 1
    assert df["relF"].iloc[-1] < 1e-10 < df["relF"].iloc[0]
    assert df["round_time_s"].sum() == pytest.approx(df["wall_time_s"].iloc[-1])
    assert (df["size_m"] == 600).all() and (df["size_n"] == 800).all() and (df["rank"] == 5).all()


# ------------------------------------------------------------------------------------------- benchmarks
def test_gpu_benchmarks_are_listed_under_cupy_only() -> None:
    listed = {(b.topic, b.name): b for b in benchmarks(backend="cupy")}
    assert GPU_BENCHMARKS <= set(listed)
    assert all(listed[key].target is None for key in GPU_BENCHMARKS)
    assert not GPU_BENCHMARKS & {(b.topic, b.name) for b in benchmarks(backend="numpy")}


@no_gpu
def test_gpu_benchmarks_are_skipped_without_a_gpu() -> None:
    selected = [b for b in benchmarks(backend="cupy") if (b.topic, b.name) in GPU_BENCHMARKS]
    table = run_benchmarks(selected)
    assert len(table) == len(GPU_BENCHMARKS) and table["speedup"].isna().all()
    assert table["skipped"].str.contains("CuPy").all()
    for bench in selected:
        with pytest.raises(BenchmarkUnavailable, match="CuPy"):
            bench.factory()


def test_the_ef21_workload_is_the_solvers_round() -> None:
    instance = ef21_bench.bench_instance(n_clients=40, heterogeneity=40.0)
    problem, x0, method, gamma = instance
    one_round, box = ef21_bench.round_workload(instance, np)
    for _ in range(5):
        one_round()
    traj = se.run(problem, method, gamma, 5, x0=x0)
    np.testing.assert_array_equal(box["x"], traj.x)
    assert gamma == pytest.approx(th.step_am(problem.L, problem.L_AM, 1 / problem.dim))


def test_the_altmin_workload_is_one_round_of_the_experiments() -> None:
    instance = mc_bench.bench_instance(m=300, n=400, k=4)
    obs, U0, warmV0, cfg = instance
    U, warmV = mc_bench.round_workload(instance, np)()
    U_ref, warmV_ref, _, _ = mc_ex.one_round(mc_ex.build_solver(cfg["solver"]), obs, U0, warmV0,
                                             np.random.default_rng(0))
    np.testing.assert_allclose(U @ warmV.T, U_ref @ warmV_ref.T, rtol=0, atol=1e-12)


def test_the_moe_workload_takes_alf_lb_steps() -> None:
    step, box = alf_bench.step_workload(np, seq_len=16, micros=2, train_seqs=8)
    before = box["state"].params.router.copy()
    for _ in range(3):
        step()
    state = box["state"]
    assert state.step == 3 and state.bias.t == 3 and np.ptp(state.bias.bias) > 0
    assert state.params.router.dtype == np.float32 and not np.array_equal(state.params.router, before)


# ------------------------------------------------------------------------------------------- GPU only
@pytest.mark.gpu
def test_alf_lb_cupy_matches_numpy() -> None:
    # float64, 60 steps: the runs differ only by reduction order; 1e-6 leaves room for its drift
    cpu, gpu = _run("alf_lb", backend="numpy"), _run("alf_lb", backend="cupy")
    assert gpu["device"].iloc[0] != "cpu"
    pd.testing.assert_frame_equal(_seeded(cpu).drop(columns="backend"), _seeded(gpu).drop(columns="backend"),
                                  rtol=1e-6)


@pytest.mark.gpu
def test_ef21_cupy_matches_numpy() -> None:
    # float64, 300 rounds of a contraction: agreement to 1e-8 relative
    cpu, gpu = _run("ef21", backend="numpy"), _run("ef21", backend="cupy")
    pd.testing.assert_frame_equal(_seeded(cpu).drop(columns="backend"), _seeded(gpu).drop(columns="backend"),
                                  rtol=1e-8)


@pytest.mark.gpu
def test_matrix_completion_cupy_matches_numpy() -> None:
    # different sparse SVDs start the runs: relF agrees to 1e-5 relative while above 1e-8; both converge
    cpu, gpu = _run("matrix_completion", backend="numpy"), _run("matrix_completion", backend="cupy")
    assert cpu["status"].iloc[0] == gpu["status"].iloc[0] == "converged"
    assert max(cpu["relF"].iloc[-1], gpu["relF"].iloc[-1]) < 1e-10
    rounds = min(len(cpu), len(gpu))
    a, b = cpu["relF"].to_numpy()[:rounds], gpu["relF"].to_numpy()[:rounds]
    keep = a > 1e-8
    np.testing.assert_allclose(b[keep], a[keep], rtol=1e-5)


@pytest.mark.gpu
def test_gpu_workloads_match_their_cpu_references() -> None:
    import cupy

    instance = ef21_bench.bench_instance(n_clients=40, heterogeneity=40.0)
    (cpu_round, cpu_box), (gpu_round, gpu_box) = (ef21_bench.round_workload(instance, xp) for xp in (np, cupy))
    for _ in range(5):
        cpu_round()
        gpu_round()
    np.testing.assert_allclose(cupy.asnumpy(gpu_box["x"]), cpu_box["x"], rtol=1e-10)
    instance = mc_bench.bench_instance(m=300, n=400, k=4)
    U, warmV = mc_bench.round_workload(instance, np)()
    Ug, warmVg = mc_bench.round_workload(instance, cupy)()
    rows, cols = instance[0].rows[:1000], instance[0].cols[:1000]
    np.testing.assert_allclose(smc.predict(cupy.asnumpy(Ug), cupy.asnumpy(warmVg), rows, cols),
                               smc.predict(U, warmV, rows, cols), rtol=1e-8, atol=1e-12)


# ------------------------------------------------------------------------------------------- convex_relu
def test_convex_relu_admm_makes_progress_and_restores_a_feasible_upper_bound() -> None:
    table = _run("convex_relu")
    assert (table["size_n"] == 400).all() and table["iteration"].iloc[-1] == 60
    assert table["restored_objective"].iloc[-1] < table["restored_objective"].iloc[0]
    assert table["r_pri"].iloc[-1] < table["r_pri"].iloc[0]
    assert 0 < table["active_groups"].iloc[0] <= 2 * table["patterns"].iloc[0]
    # the restored point is exactly feasible, so its objective is at least f*(𝒟), hence at least the dual
    # certificate of any point: a restoration that left the cones would be caught here
    cfg = cr.resolve(get_experiment("convex_relu", "practical").config(QUICK["convex_relu"]))
    X, y, patterns, beta = cr.practical_instance(cfg, np.random.default_rng(0))
    result = admm(X, y, patterns, beta, max_iter=cfg["iterations"], record_every=cfg["record_every"])
    lower = cr_ex.dual_lower_bound(X, y, patterns, result.V, result.W, beta)
    assert np.all(result.history.restored_objective >= lower) and lower > 0
    assert cone_violation(X, patterns, *result.restored()) <= 1e-12 * np.abs(X).max() * np.abs(result.V).max()


def test_convex_relu_workload_runs_the_solvers_iterations() -> None:
    run = cr_bench.iterations_workload(np, n=300)
    result = run()
    assert result.iterations == cr_bench.ITERATIONS and result.setup_flops == 0  # the factor was built outside
    again = run()
    np.testing.assert_array_equal(result.V, again.V)  # every call starts from scratch: the same iterations


@pytest.mark.gpu
def test_convex_relu_cupy_matches_numpy() -> None:
    # float64 BLAS on both sides; 60 ADMM iterations amplify rounding differences mildly: 1e-8 relative
    cpu = _seeded(_run("convex_relu"))
    gpu = _seeded(_run("convex_relu", backend="cupy"))
    for column in ("objective", "restored_objective", "r_pri", "violation"):
        np.testing.assert_allclose(gpu[column], cpu[column], rtol=1e-8, atol=1e-10)
