"""Tests of the convex-ReLU experiments, claim checks and benchmarks (sims.convex_relu; spec §4-§6).

Every claim's check holds at quick scale; the experiments give the documented columns and the same table for
the same seed (and a different one for another seed); the certificates the checks rest on (the dual lower bound,
the projection onto the cones, the robust-cone violation, the scenario ψ) are tested on inputs where they must
hold and where they must fail; the benchmark factory runs at a tiny size and its candidate reaches the gap.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sims.convex_relu.checks as ck
from sims.checks import CheckContext, run_check
from sims.convex_relu import bench, data
from sims.convex_relu import experiments as ex
from sims.runner import run_sweep
from solvers.convex_relu import beta_max, convex_objective, enumerate_patterns_2d, sample_patterns
from solvers.convex_relu.cvx import solve_cvxpy
from theory import convex_relu as th

SETTINGS = {"deadline": None, "derandomize": True}
CLAIMS = ("exactness", "lower_bound", "recovery", "sampling_upper_bound", "gated_relaxation", "pattern_count",
          "admm_convergence", "admm_cost", "identities", "adversarial_certificate", "robust_collapse",
          "sampling_quality", "cone_splitting")

COLUMNS = {
    "admm_gap": {"rule", "rho_mult", "iteration", "objective", "gap", "restored_gap", "violation", "r_pri", "r_dual",
                 "rho", "train_acc", "test_acc", "time", "flops", "status", "f_star", "rho_base", "beta", "P"},
    "timing": {"method", "n_train", "P", "time", "iterations", "gap", "violation", "status", "setup_time", "flops",
               "f_star"},
    "accuracy_time": {"method", "run", "step", "time", "objective", "train_acc", "test_acc", "status", "P", "beta"},
    "robust": {"model", "eps_train", "eps", "attack", "split", "accuracy", "eps_star", "P", "beta"},
    "sampling": {"kind", "P_s", "P", "value", "lower", "active", "width", "run", "violation_rate", "scenario_psi",
                 "f_full", "beta"},
}
OVERRIDES = {
    "admm_gap": {"n": 60, "P_s": 10, "max_iter": 60, "record_every": 20, "rho_mults": [1.0, 10.0]},
    "timing": {"ns": [30, 50], "max_iter": 3000, "methods": ["woodbury", "dense", "clarabel"]},
    "accuracy_time": {"dataset": "iris_pair", "P_s": 6, "max_iter": 20, "record_every": 10, "nc_epochs": 4,
                      "nc_runs": 2},
    "robust": {"P_s": 6, "train_eps": [0.05], "attack_eps": [0.0, 0.1], "pgd_steps": 3, "pgd_restarts": 2,
               "nc_width": 4, "nc_epochs": 5},
    "sampling": {"n": 8, "P_list": [2, 8, 32], "nc_runs": 1, "nc_epochs": 50, "fresh": 50},
}
#: Columns of wall time: they differ between two runs of the same seed.
TIMES = {"time", "setup_time"}
#: Columns that depend on the seed (the data or the patterns).
VARYING = {"admm_gap": "f_star", "timing": "f_star", "accuracy_time": "beta", "robust": "beta", "sampling": "f_full"}


# ---------------------------------------------------------------------------------------------
# the checks


@pytest.mark.parametrize("claim", CLAIMS)
def test_every_check_holds_at_quick_scale(claim: str) -> None:
    verdict = run_check(f"convex_relu.{claim}", CheckContext(scale="quick"))
    assert verdict.holds, verdict.detail
    assert math.isfinite(verdict.measured) and math.isfinite(verdict.bound) and verdict.bound > 0
    assert verdict.measured <= verdict.bound * (1 + 1e-9)
    assert not verdict.data.empty


def test_every_claim_of_the_theory_has_a_check() -> None:
    ids = {c.id for c in th.CLAIMS}
    assert ids == {f"convex_relu.{c}" for c in CLAIMS}
    for claim_id in ids:
        assert callable(ck.__dict__.get(f"check_{claim_id.split('.')[1]}"))


@pytest.mark.slow
@pytest.mark.parametrize("claim", CLAIMS)
def test_every_check_holds_at_full_scale(claim: str) -> None:
    verdict = run_check(f"convex_relu.{claim}", CheckContext(scale="full"))
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
    assert not np.allclose(first[VARYING[name]].to_numpy(float), other[VARYING[name]].to_numpy(float))


def test_admm_gap_rules_share_the_program_and_reach_small_gaps() -> None:
    exp = ex.EXPERIMENTS["admm_gap"]
    df = exp.func(exp.config({"n": 60, "P_s": 10, "max_iter": 1500, "record_every": 50, "balance_rules": [],
                              "rho_mults": [0.1, 10.0]}), np.random.default_rng(0))
    assert df.groupby("rule")[["f_star", "P", "beta"]].nunique().eq(1).all().all()
    assert df["f_star"].nunique() == 1
    final = df.sort_values("iteration").groupby("rule").tail(1).set_index("rule")
    assert final["gap"].min() < 1e-3  # the better ρ is close to Clarabel's f*
    assert (df.groupby("rule")["flops"].apply(lambda f: bool(np.all(np.diff(f.to_numpy()) > 0)))).all()


def test_sampling_values_fall_with_nested_samples_and_stay_above_the_full_program() -> None:
    exp = ex.EXPERIMENTS["sampling"]
    df = exp.func(exp.config({"n": 10, "P_list": [2, 4, 16, 64, 256], "nc_runs": 1, "nc_epochs": 300,
                              "fresh": 100}), np.random.default_rng(1))
    sampled = df[df["kind"] == "sampled"].sort_values("P_s")
    values = sampled["value"].to_numpy()
    assert np.all(np.diff(values) <= 1e-6 * values[:-1])
    full = float(df.loc[df["kind"] == "full", "lower"].iloc[0])
    assert np.all(values >= full * (1 - 1e-9))
    assert np.all(df.loc[df["kind"] == "nonconvex", "value"] >= full)
    assert sampled["P"].iloc[-1] <= float(df.loc[df["kind"] == "full", "P"].iloc[0])


@pytest.mark.parametrize(("name", "override", "match"), [
    ("admm_gap", {"rho0": "median"}, "rho0"),
    ("admm_gap", {"balance_rules": ["boyd"]}, "balance_rules"),
    ("timing", {"methods": ["mosek"]}, "methods"),
    ("robust", {"loss": "logistic"}, "loss"),
    ("admm_gap", {"dataset": "mnist"}, "dataset"),
    ("admm_gap", {"data_kw": {"sigma": 1.0}}, "data_kw"),
    ("accuracy_time", {"nc_runs": 0}, "nc_runs"),
])
def test_experiments_reject_bad_configs(name: str, override: dict, match: str) -> None:
    exp = ex.EXPERIMENTS[name]
    with pytest.raises((ValueError, TypeError), match=match):
        exp.func(exp.config(override), np.random.default_rng(0))


# ---------------------------------------------------------------------------------------------
# the certificates the checks rest on


@settings(max_examples=6, **SETTINGS)
@given(n=st.integers(6, 14), seed=st.integers(0, 10_000), c_beta=st.sampled_from([0.05, 0.2, 0.6]))
def test_dual_lower_bound_brackets_the_optimum(n: int, seed: int, c_beta: float) -> None:
    rng = np.random.default_rng(seed)
    ds = data.spiral2d(n, rng)
    X, y = ds.X_train, ds.y_train
    pats = sample_patterns(X, 12, rng)
    beta = c_beta * beta_max(X, y, pats)
    res = solve_cvxpy(X, y, pats, beta)
    lower = ex.dual_lower_bound(X, y, pats, res.V, res.W, beta)
    assert lower <= res.value * (1 + 1e-9)
    assert res.value - lower <= 1e-6 * res.value  # tight at the optimum
    # any feasible point is above the certificate, and a bad point's certificate is still a lower bound
    V, W = pats.generators.T * rng.uniform(0, 1, (pats.P, 1)), np.zeros((pats.P, X.shape[1]))
    assert convex_objective(X, y, pats, V, W, beta) >= lower
    assert ex.dual_lower_bound(X, y, pats, V, W, beta) <= res.value * (1 + 1e-9)


def test_dual_lower_bound_is_not_a_tautology() -> None:
    rng = np.random.default_rng(5)
    ds = data.spiral2d(12, rng)
    X, y = ds.X_train, ds.y_train
    pats = sample_patterns(X, 10, rng)
    beta = 0.1 * beta_max(X, y, pats)
    res = solve_cvxpy(X, y, pats, beta)
    # the bound of a sub-optimal point (zero weights) is strictly below the optimum
    zero = np.zeros_like(res.V)
    assert ex.dual_lower_bound(X, y, pats, zero, zero, beta) < res.value * (1 - 1e-3)


@settings(max_examples=8, **SETTINGS)
@given(n=st.integers(5, 30), d=st.integers(2, 5), seed=st.integers(0, 10_000))
def test_projection_onto_the_cones_is_feasible_and_nearest(n: int, d: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = np.hstack([rng.standard_normal((n, d - 1)), np.ones((n, 1))])
    pats = sample_patterns(X, 6, rng)
    Z = rng.standard_normal((pats.P, d))
    Pz = ck.project_to_cones(X, pats.masks, Z)
    S = 2.0 * pats.masks - 1.0
    slack = S * (X @ Pz.T)
    assert slack.min() >= -1e-12 * np.abs(X @ Pz.T).max(initial=1.0)
    # Moreau: z − Π(z) is in the polar cone, orthogonal to Π(z); feasible points are left where they are
    for i in range(pats.P):
        assert abs(float((Z[i] - Pz[i]) @ Pz[i])) <= 1e-9 * max(1.0, float(Z[i] @ Z[i]))
        feasible = pats.generators[:, i] * 2.0
        assert np.allclose(ck.project_to_cones(X, pats.masks[:, i:i + 1], feasible[None, :]), feasible[None, :])
    assert np.all(np.linalg.norm(Z - Pz, axis=1) <= np.linalg.norm(Z, axis=1) + 1e-12)


def test_group_violations_vanish_on_the_cone_and_see_a_perturbation() -> None:
    rng = np.random.default_rng(2)
    X = np.hstack([rng.standard_normal((20, 2)), np.ones((20, 1))])
    pats = enumerate_patterns_2d(X)
    V = pats.generators.T.copy()
    assert ck.group_violations(X, pats.masks, V).max() == 0.0
    assert ck.group_violations(X, pats.masks, V, eps=1e3).max() > 0  # the robust cone is stricter
    V[3] -= 10 * pats.generators[:, 3]
    assert ck.group_violations(X, pats.masks, V)[:, 3].max() > 0


@settings(max_examples=10, **SETTINGS)
@given(zeta=st.integers(1, 30), extra=st.integers(0, 400), xi=st.sampled_from([0.01, 0.1, 0.5]))
def test_scenario_psi_inverts_the_campi_garatti_tail(zeta: int, extra: int, xi: float) -> None:
    N = zeta + extra
    psi = ex.scenario_psi(N, zeta, xi)
    assert 0 < psi <= 1
    if psi < 1:
        assert float(th.scenario_violation_tail(N, zeta, psi)) <= xi * (1 + 1e-6)
        assert float(th.scenario_violation_tail(N, zeta, psi * (1 - 1e-6))) >= xi * (1 - 1e-3)
        assert ex.scenario_psi(N + 50, zeta, xi) <= psi  # more samples, smaller violation level
    # the sample size of the spec reaches the level it was made for
    n_needed = int(th.scenario_sample_size(zeta, 0.2, xi))
    assert ex.scenario_psi(n_needed, zeta, xi) <= 0.2


def test_full_program_certificate_and_cache() -> None:
    fp = ck.full_program(8, 0)
    assert fp is ck.full_program(8, 0)
    assert fp.patterns.P == th.pattern_count_2d(8, include_zero=False)
    assert fp.lower <= min(fp.value, fp.L_rec)  # (thresholding tiny groups can lower L_nc below the cvx value)
    assert fp.L_rec - fp.lower <= ck.CERT_RTOL * fp.lower


# ---------------------------------------------------------------------------------------------
# the benchmark


@pytest.mark.parametrize("splitting", ["cone", "slack"])
def test_benchmark_factory_runs_at_a_tiny_size_and_the_candidate_reaches_the_gap(monkeypatch, splitting) -> None:
    from sims.bench import _BENCHMARKS

    monkeypatch.setattr(bench, "BENCH", bench.Size(60, 4, 8, probe_iter=500, long_iter=6000, splitting=splitting))
    entry = _BENCHMARKS[("convex_relu", "admm_vs_cvxpy_n2000_d20_P64")]
    assert entry.target == 50.0 and not entry.warm_reference
    assert _BENCHMARKS[("convex_relu", "admm_slack_vs_cvxpy_n500")].target is None
    (candidate, reference), box = bench.admm_pair(bench.BENCH)
    res = candidate()
    assert res.iterations == box["K_star"]
    assert box["candidate_gap"] <= bench.TARGET_GAP and box["candidate_violation"] <= bench.TARGET_VIOLATION
    assert box["drift"] <= bench.SETTLED and box["rho_mult"] in bench.BENCH.rho_grid
    # the dual bound at a slack-splitting iterate is loose, but it is a bound; at the cone splitting's feasible
    # optimum it closes the bracket lower ≤ f* ≤ f(v)
    assert box["certified_gap"] <= (1e-3 if splitting == "slack" else 1e-9)
    reference()
    assert box["agreement"] <= 1e-6, box
    cand, ref = entry.factory()  # the registered factory builds the (patched) tiny instance
    assert callable(cand) and callable(ref)


@pytest.mark.slow
def test_quick_benchmark_pair_at_its_own_size() -> None:
    (candidate, reference), box = bench.admm_pair(bench.QUICK)
    candidate()
    reference()
    assert box["candidate_gap"] <= bench.TARGET_GAP and box["candidate_violation"] <= bench.TARGET_VIOLATION
    assert box["agreement"] <= 1e-6, box
