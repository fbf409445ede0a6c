"""Tests of the matrix-completion experiments, claim checks and benchmarks (sims.matrix_completion; spec §4-§6).

Every claim's check holds at quick scale; the experiments give the documented columns and the same table for
the same seed (and a different one for another seed); the statistics the checks rest on (the fitted rate, the
50% threshold, the monotonicity test) are tested on known inputs, including inputs that must fail; hypothesis
draws problem parameters for the deterministic lemmas MC4-MC6.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sims.matrix_completion.checks as ck
import solvers.matrix_completion as smc
from sims.checks import CheckContext, run_check
from sims.matrix_completion import bench
from sims.matrix_completion import experiments as ex
from sims.matrix_completion import instances as ins
from sims.runner import run_sweep
from theory import matrix_completion as th

SETTINGS = {"deadline": None, "derandomize": True}
CLAIMS = ("main_theorem", "geometric_convergence", "robustness", "forward_error", "weyl_guard",
          "incoherence_perturbation", "cost_model", "identifiability", "exactness")
SMALL = {"m": 60, "n": 80, "k": 3}

COLUMNS = {
    "convergence": {"solver", "round", "dist_U", "dist_V", "relF", "res_omega", "mu_U", "mu_V", "flops", "time", "q",
                    "rounds", "status", "nnz", "p_hat", "r_hat", "mu_star", "kappa_star"},
    "phase": {"method", "split", "success", "relF", "rounds", "status", "under_rows", "under_cols", "nnz", "p_hat",
              "r_hat", "mu_star", "kappa_star"},
    "runtime": {"solver", "round", "time", "flops", "nnz", "r_hat"},
    "robustness": {"value", "round", "dist_U", "relF", "res_omega", "relF_T", "plateau", "q", "rounds", "status"},
    "spiky": {"observed_11", "success", "relF", "rounds", "status", "nnz", "p_hat", "mu_star"},
    "trimming": {"trim", "round", "mu_U", "mu_V", "dist_U", "relF", "trimmed", "status", "mu_star"},
}
OVERRIDES = {
    "convergence": {**SMALL, "ratio": 6.0, "T": 8, "solvers": ["exact", "cg2", "sketch", "inject0.5"]},
    "phase": {"ratio": 4.0, "T": 10},
    "runtime": {"m": 200, "n": 250, "k": 4, "ratio": 6.0, "rounds": 2},
    "robustness": {**SMALL, "ratio": 6.0, "T": 6, "tail": 2, "values": [0.01, 0.5]},
    "spiky": {"T": 10},
    "trimming": {**SMALL, "T": 4},
}
#: Columns of wall time: they differ between two runs of the same seed.
TIMES = {"time"}


# ---------------------------------------------------------------------------------------------
# the checks


@pytest.mark.parametrize("claim", CLAIMS)
def test_every_check_holds_at_quick_scale(claim: str) -> None:
    verdict = run_check(f"matrix_completion.{claim}", CheckContext(scale="quick"))
    assert verdict.holds, verdict.detail
    assert math.isfinite(verdict.measured) and math.isfinite(verdict.bound) and verdict.bound > 0
    assert verdict.measured <= verdict.bound * (1 + 1e-9)
    assert not verdict.data.empty


def test_every_claim_of_the_theory_has_a_check() -> None:
    ids = {c.id for c in th.CLAIMS}
    assert ids == {f"matrix_completion.{c}" for c in CLAIMS}
    for claim_id in ids:
        assert callable(ck.__dict__.get(f"check_{claim_id.split('.')[1]}"))


@pytest.mark.slow
@pytest.mark.parametrize("claim", CLAIMS)
def test_every_check_holds_at_full_scale(claim: str) -> None:
    verdict = run_check(f"matrix_completion.{claim}", CheckContext(scale="full"))
    assert verdict.holds, verdict.detail


# ---------------------------------------------------------------------------------------------
# the experiments


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_experiments_give_documented_columns_and_same_table_for_same_seed(name: str) -> None:
    exp = ex.EXPERIMENTS[name]
    config = exp.config(OVERRIDES[name])
    first = run_sweep(exp, [config], seeds=1, base_seed=3)
    assert set(first.columns) == COLUMNS[name] | set(config) | {"seed"}
    again = run_sweep(exp, [config], seeds=1, base_seed=3)
    keep = [c for c in first.columns if c not in TIMES]
    pd.testing.assert_frame_equal(first[keep], again[keep])
    other = run_sweep(exp, [config], seeds=1, base_seed=4)
    varying = [c for c in ("relF", "nnz", "flops", "mu_star") if c in first.columns]
    assert not first[varying].equals(other[varying])


def test_convergence_rows_share_instance_and_mask_across_solvers() -> None:
    exp = ex.EXPERIMENTS["convergence"]
    df = exp.func(exp.config(OVERRIDES["convergence"]), np.random.default_rng(0))
    assert df.groupby("solver")[["nnz", "mu_star"]].nunique().eq(1).all().all()
    start = df[df["round"] == 0]
    assert start["dist_U"].nunique() == 1  # the same spectral initialisation for every solver
    assert (df.groupby("solver")["flops"].apply(lambda f: bool(np.all(np.diff(f.to_numpy()) > 0)))).all()


def test_phase_compares_altmin_and_nuclear_norm_on_the_same_mask() -> None:
    exp = ex.EXPERIMENTS["phase"]
    config = exp.config({"m": 25, "n": 30, "k": 2, "ratio": 5.0, "methods": ["altmin", "nuclear"],
                         "splits": [False, True], "T": 20})
    df = exp.func(config, np.random.default_rng(1))
    assert list(zip(df["method"], df["split"], strict=True)) == [("altmin", False), ("altmin", True),
                                                                 ("nuclear", False)]
    assert df["nnz"].nunique() == 1
    assert df.loc[df["method"] == "nuclear", "status"].iloc[0].startswith("optimal")


def test_robustness_plateau_scales_with_eta() -> None:
    exp = ex.EXPERIMENTS["robustness"]
    df = exp.func(exp.config({**SMALL, "ratio": 8.0, "mode": "eta", "values": [1e-8, 1e-4], "T": 25}),
                  np.random.default_rng(2))
    ratio = df["plateau"].iloc[1] / df["plateau"].iloc[0]
    assert 1e3 < ratio < 1e5


def test_runtime_at_fixed_entries_per_line() -> None:
    exp = ex.EXPERIMENTS["runtime"]
    config = exp.config({"m": 150, "n": 200, "k": 4, "ratio": None, "per_line": 40.0, "rounds": 1,
                         "solvers": ["exact", "cg2"]})
    df = exp.func(config, np.random.default_rng(0))
    assert df["nnz"].iloc[0] == pytest.approx(40.0 * 350, rel=0.1)
    assert list(df["solver"]) == ["exact", "cg2"] and (df["time"] > 0).all()
    assert df.loc[df["solver"] == "cg2", "flops"].iloc[0] == (
        th.flops_cg(df["nnz"].iloc[0], 4, 2, 200, 150) + th.flops_cg(df["nnz"].iloc[0], 4, 2, 150, 200))
    with pytest.raises(ValueError, match="per_line"):
        exp.func(exp.config({"ratio": 2.0, "per_line": 10.0}), np.random.default_rng(0))


def test_spiky_success_needs_the_spike() -> None:
    exp = ex.EXPERIMENTS["spiky"]
    df = run_sweep(exp, [exp.config({"p": 0.4, "T": 30})], seeds=8)
    assert (df["success"] <= df["observed_11"]).all()
    assert df["success"].any()


@pytest.mark.parametrize(("config", "match"), [
    ({"ratio": 2.0, "p": 0.1}, "exactly one of ratio and p"),
    ({"methods": ["nuclear"], "m": 100}, "nuclear"),
    ({"methods": ["svd"]}, "methods"),
    ({"solver": "newton"}, "solver"),
])
def test_phase_rejects_bad_configs_before_work(config: dict, match: str) -> None:
    exp = ex.EXPERIMENTS["phase"]
    with pytest.raises(ValueError, match=match):
        exp.func(exp.config(config), np.random.default_rng(0))


def test_build_solver_names() -> None:
    assert isinstance(ex.build_solver("exact"), smc.Exact)
    assert ex.build_solver("cg7").steps == 7
    sk = ex.build_solver("sketch", {"sketch": "countsketch", "s_factor": 3, "eps0": 1e-3})
    assert (sk.sketch, sk.s_factor, sk.eps0) == ("countsketch", 3, 1e-3)
    assert ex.build_solver("inject0.25").delta == 0.25
    assert ex.build_solver("inject", {"delta": 0.0, "eta": 1e-3}).eta == 1e-3
    with pytest.raises(ValueError, match="solver"):
        ex.build_solver("cg")
    with pytest.raises(TypeError, match="solver"):
        ex.build_solver(3)


# ---------------------------------------------------------------------------------------------
# the statistics of the checks, on inputs whose answer is known


@given(q=st.floats(0.05, 0.95), t0=st.integers(3, 40), c=st.floats(1e-3, 1e3))
@settings(max_examples=25, **SETTINGS)
def test_fit_rate_recovers_a_geometric_sequence_and_stops_at_the_floor(q: float, t0: int, c: float) -> None:
    t = np.arange(t0 + 10)
    dist = c * q**t
    dist[t0:] = 1e-15  # the floating-point floor: left out of the fit
    if np.sum(dist[1:] > ex.FIT_FLOOR) >= 2:
        assert ex.fit_rate(dist) == pytest.approx(q, rel=1e-9)


def test_fit_rate_is_nan_without_two_rounds() -> None:
    assert math.isnan(ex.fit_rate(np.array([1.0, 1e-13, 1e-14])))
    assert math.isnan(ex.fit_rate(np.array([1.0])))


def test_threshold_ratio() -> None:
    r = np.array([1.0, 2.0, 4.0])
    assert ck.threshold_ratio(r, np.array([0.0, 0.25, 0.75])) == pytest.approx(2.0 * math.sqrt(2.0))
    assert ck.threshold_ratio(r, np.array([0.6, 0.9, 1.0])) == 1.0
    assert math.isnan(ck.threshold_ratio(r, np.array([0.0, 0.1, 0.4])))


def test_fisher_monotonicity_flags_a_decrease() -> None:
    trials = np.full(4, 10)
    p, i, j = ck.fisher_monotonicity(np.array([0, 3, 8, 10]), trials)
    assert (p, i, j) == (1.0, -1, -1)
    p, i, j = ck.fisher_monotonicity(np.array([0, 10, 0, 10]), trials)
    assert p < ck.ALPHA / 6 and (i, j) == (1, 2)


def test_combine_reports_the_failing_part() -> None:
    from sims.checks import Verdict

    ok = Verdict("x.y", 0.5, 1.0, True, "fine", pd.DataFrame({"a": [1]}))
    bad = Verdict("x.y", 3.0, 1.0, False, "broken", pd.DataFrame({"a": [2]}))
    v = ck.combine("x.y", [("first", ok), ("second", bad)])
    assert not v.holds and v.measured == 3.0 and "[second]" in v.detail and len(v.data) == 2
    assert ck.combine("x.y", [("first", ok)]).measured == 0.5


# ---------------------------------------------------------------------------------------------
# property tests of the deterministic lemmas (MC4-MC6), with generated problem parameters


def _design(rng: np.random.Generator, N: int, k: int, kappa: float) -> np.ndarray:
    U = np.linalg.qr(rng.standard_normal((N, k)))[0]
    V = np.linalg.qr(rng.standard_normal((k, k)))[0]
    return (U * np.geomspace(kappa, 1.0, k)) @ V.T


@given(N=st.integers(2, 40), k=st.integers(1, 6), kappa=st.floats(1.0, 1e3), eps0=st.floats(1e-8, 1.0),
       seed=st.integers(0, 2**32 - 1))
@settings(max_examples=40, **SETTINGS)
def test_forward_error_lemma_on_generated_row_problems(N: int, k: int, kappa: float, eps0: float, seed: int) -> None:
    if k >= N:
        k = N - 1
    rng = np.random.default_rng(seed)
    A = _design(rng, N, k, kappa)
    b = rng.standard_normal(N)
    x_star = np.linalg.lstsq(A, b, rcond=None)[0]
    z_star = float(np.linalg.norm(A @ x_star - b))
    smin = float(np.linalg.svd(A, compute_uv=False)[-1])
    # the worst ε₀-accurate point: along the right singular vector of σ_min, ‖Ae‖² = ε₀(2+ε₀)‖z*‖²
    v = np.linalg.svd(A)[2][-1]
    x_worst = x_star + math.sqrt(eps0 * (2 + eps0)) * z_star / smin * v
    x_rand = x_star + rng.standard_normal(k) * 1e-3
    for x in (x_worst, x_rand):
        z = float(np.linalg.norm(A @ x - b))
        eps = max(z / z_star - 1.0, 0.0)
        err = float(np.linalg.norm(x - x_star))
        assert err <= th.forward_error_bound(eps, z_star, smin, sharp=True) * (1 + 1e-6) + 1e-12
        if eps <= 1:
            assert err <= th.forward_error_bound(eps, z_star, smin) * (1 + 1e-6) + 1e-12
        # the certified stopping rule never accepts an inaccurate point
        g = float(np.linalg.norm(A.T @ (A @ x - b)))
        for e0 in (1e-1, 1e-3):
            if th.certified_accuracy(g, smin, z, e0):
                assert z <= (1 + e0) * z_star * (1 + 1e-9)


def test_forward_error_bound_is_attained_and_can_fail() -> None:
    rng = np.random.default_rng(0)
    A = _design(rng, 10, 3, 10.0)
    b = rng.standard_normal(10)
    x_star = np.linalg.lstsq(A, b, rcond=None)[0]
    z_star = float(np.linalg.norm(A @ x_star - b))
    smin = float(np.linalg.svd(A, compute_uv=False)[-1])
    v = np.linalg.svd(A)[2][-1]
    eps0 = 0.01
    x = x_star + 1.01 * math.sqrt(eps0 * (2 + eps0)) * z_star / smin * v  # 1% beyond the worst accurate point
    z = float(np.linalg.norm(A @ x - b))
    assert z > (1 + eps0) * z_star  # no longer ε₀-accurate: the lemma does not apply, and its bound fails
    assert np.linalg.norm(x - x_star) > th.forward_error_bound(eps0, z_star, smin, sharp=True)


@given(N=st.integers(1, 30), k=st.integers(1, 5), kappa=st.floats(1.0, 1e4), t=st.floats(0.0, 0.999),
       seed=st.integers(0, 2**32 - 1))
@settings(max_examples=40, **SETTINGS)
def test_weyl_guard_on_generated_matrices(N: int, k: int, kappa: float, t: float, seed: int) -> None:
    k = min(k, N)
    rng = np.random.default_rng(seed)
    A = _design(rng, N, k, kappa)
    smin = float(np.linalg.svd(A, compute_uv=False)[-1])
    E = rng.standard_normal((N, k))
    E *= t * smin / np.linalg.norm(E, 2)
    norm_e = float(np.linalg.norm(E, 2))
    smin_B = float(np.linalg.svd(A + E, compute_uv=False)[-1])
    assert smin_B >= th.weyl_lower_bound(smin, norm_e) - 1e-12 * smin
    if th.weyl_guard(smin, norm_e):
        assert smin_B >= smin / 2 - 1e-12 * smin


@given(m=st.integers(5, 200), k=st.integers(1, 5), alpha=st.floats(0.0, 30.0), t=st.floats(0.0, 0.99),
       row=st.booleans(), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=40, **SETTINGS)
def test_incoherence_perturbation_bound_on_generated_matrices(m: int, k: int, alpha: float, t: float, row: bool,
                                                              seed: int) -> None:
    k = min(k, m)
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((m, k))
    G[0] *= 1 + alpha
    Q = np.linalg.qr(G)[0]
    s = np.geomspace(5.0, 1.0, k)
    A = (Q * s) @ np.linalg.qr(rng.standard_normal((k, k)))[0]
    E = np.zeros((m, k))
    if row:
        E[rng.integers(m)] = rng.standard_normal(k)
    else:
        E = rng.standard_normal((m, k))
    if np.linalg.norm(E, 2) > 0:
        E *= t * s[-1] / np.linalg.norm(E, 2)
    bound = th.incoherence_perturbation_bound(th.incoherence(Q), s[0], s[-1], float(np.linalg.norm(E, 2)),
                                              float(np.max(np.linalg.norm(E, axis=1))), m, k)
    assert th.incoherence(np.linalg.qr(A + E)[0]) <= bound * (1 + 1e-9)


# ---------------------------------------------------------------------------------------------
# the benchmarks


def test_completion_pair_reaches_the_target_and_reports_softimpute() -> None:
    inst, obs = bench.completion_problem(m=200, n=250, k=3, p=0.2)
    (candidate, reference), box = bench.completion_pair(inst, obs, budget={"n_lambdas": 2, "max_iter": 2})
    assert box["T_star"] >= 1
    candidate()
    assert box["candidate_relF"] <= bench.TARGET_RELF
    assert box["candidate_relF"] == pytest.approx(box["T_star_relF"], rel=1e-9)  # the same iteration as measured
    reference()
    assert box["reference_iterations"] <= 4 and box["reference_relF"] > 0


def test_round_pair_and_time_exponents() -> None:
    candidate, reference = bench.round_pair(4, m=150, n=180, nnz=6000)
    for f in (candidate, reference):
        U, warmV, _, flops = f()
        assert U.shape == (150, 4) and warmV.shape == (180, 4) and flops > 0
    table = pd.DataFrame({"solver": ["a"] * 3 + ["b"] * 3, "k": [2, 4, 8] * 2,
                          "time": [1.0, 4.0, 16.0, 1.0, 2.0, 4.0]})
    assert bench.time_exponents(table) == pytest.approx({"a": 2.0, "b": 1.0})
    small = bench.round_times((2, 4), m=100, n=120, nnz=4000, solvers=("exact", "cg3"), repeats=1)
    assert set(small["solver"]) == {"exact", "cg3"} and (small["flops"] > 0).all()


@pytest.mark.slow
def test_benchmark_candidate_reaches_relF_target_on_the_5000_instance() -> None:
    (candidate, _), box = bench.completion_pair(*bench.completion_problem())
    candidate()
    assert box["T_star"] <= 40 and box["candidate_relF"] <= bench.TARGET_RELF
    assert box["candidate_relF"] == pytest.approx(box["T_star_relF"], rel=1e-9)


def test_instances_used_by_the_checks_are_incoherent() -> None:
    inst = ex.build_instance(ex.EXPERIMENTS["convergence"].config(), np.random.default_rng(0))
    assert 1.0 <= inst.mu <= 3.0 and inst.kappa == pytest.approx(3.0)
    spike = ins.spiky(60, 80, 3, 1.0, rng=0)
    assert spike.mu == pytest.approx(math.sqrt(80 / 3))
