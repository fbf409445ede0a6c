"""Tests of the EF21 experiments, claim checks and benchmarks (sims.ef21; spec ef21.md §4-§6).

Every claim's check holds at quick scale; the experiments give the documented columns and the same
table for the same seed; compressed GD without error feedback fails on the counterexample where EF21
converges; hypothesis draws (n, d, K, ζ, init, seed) and asserts claims 4-6 on each run, at every T.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sims.ef21.checks as ck
import solvers.ef21 as se
from sims.checks import CheckContext, run_check
from sims.ef21 import bench
from sims.ef21 import experiments as ex
from sims.runner import Experiment, run_sweep
from theory import ef21 as th

SETTINGS = {"deadline": None, "derandomize": True}
CLAIMS = ("compressor_contraction", "constants", "means", "nonconvex_rate", "lyapunov_descent", "ef21w_rate",
          "ef21_am_rate", "pl_rate", "pl_rate_am", "speedup_prediction", "econtrol_reduction")
SMALL = {"n_clients": 6, "samples_per_client": 15, "d": 6, "T": 300}

TRAINING_COLUMNS = {"round", "grad_sq", "loss", "G", "G_tilde", "bits_values", "bits_indices", "avg_grad_sq",
                    "min_grad_sq", "bound", "claim", "gamma", "multiplier", "L", "L_AM", "L_QM", "H", "alpha",
                    "clients", "dim", "status"}


def _experiment(name: str) -> Experiment:
    funcs = {"training": (ex.training_experiment, ex.TRAINING_DEFAULTS),
             "speedup": (ex.speedup_experiment, ex.SPEEDUP_DEFAULTS),
             "pl": (ex.pl_experiment, ex.PL_DEFAULTS),
             "divergence": (ex.divergence_experiment, ex.DIVERGENCE_DEFAULTS)}
    func, defaults = funcs[name]
    return Experiment("ef21", name, func, defaults)


# ---------------------------------------------------------------------------------------------
# the checks


@pytest.mark.parametrize("claim", CLAIMS)
def test_every_check_holds_at_quick_scale(claim: str) -> None:
    verdict = run_check(f"ef21.{claim}", CheckContext(scale="quick"))
    assert verdict.holds, verdict.detail
    assert math.isfinite(verdict.measured) and math.isfinite(verdict.bound) and verdict.bound > 0
    assert verdict.measured <= verdict.bound * (1 + 1e-9)
    assert not verdict.data.empty


def test_every_claim_of_the_theory_has_a_check() -> None:
    ids = {c.id for c in th.CLAIMS}
    assert ids == {f"ef21.{c}" for c in CLAIMS}
    for claim_id in ids:
        assert callable(ck.__dict__.get(f"check_{claim_id.split('.')[1]}"))


@pytest.mark.slow
@pytest.mark.parametrize("claim", CLAIMS)
def test_every_check_holds_at_full_scale(claim: str) -> None:
    verdict = run_check(f"ef21.{claim}", CheckContext(scale="full"))
    assert verdict.holds, verdict.detail


def test_rate_rows_keep_the_worst_horizon() -> None:
    config = {**ex.TRAINING_DEFAULTS, **SMALL, "tol": None}
    rows = ck._rate_rows(config, np.random.default_rng(1))
    run = ex.run_training(config, np.random.default_rng(1))
    worst = 1 + int(np.argmax(run.avg_grad_sq[1:] / run.bound[1:]))
    assert rows["worst"].sum() == 1 and int(rows.loc[rows["worst"], "round"].iloc[0]) == worst
    assert rows["violations"].iloc[0] == 0 and (rows["avg_grad_sq"] <= rows["bound"]).all()


def test_the_checks_can_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bound 60% smaller than the theorem's, or a PL rate three times faster, is caught."""
    bound, pl_bound = th.nonconvex_bound, th.pl_bound
    monkeypatch.setattr(th, "nonconvex_bound", lambda *a: 0.4 * bound(*a))
    verdict = ck.check_ef21w_rate(CheckContext(scale="quick"))
    assert not verdict.holds and verdict.measured > verdict.bound
    monkeypatch.setattr(th, "pl_bound", lambda T, g, mu, psi0: pl_bound(T, 3 * g, mu, psi0))
    verdict = ck.check_pl_rate(CheckContext(scale="quick"))
    assert not verdict.holds and verdict.measured > verdict.bound


def test_lyapunov_ratio_flags_an_increase() -> None:
    loss = np.array([1.0, 0.9, 0.95])
    r, dec, need = ck.lyapunov_ratio(loss, 0.0, np.zeros(3), np.array([0.1, 0.1, 0.1]), 1.0, 0.5)
    assert r[0] == pytest.approx(0.05 / 0.1, rel=1e-9) and math.isinf(r[1])
    assert dec[1] == pytest.approx(-0.05) and need[0] == pytest.approx(0.05)


# ---------------------------------------------------------------------------------------------
# the experiments


def test_training_columns_and_bound() -> None:
    df = ex.training_experiment({**ex.TRAINING_DEFAULTS, **SMALL, "T": 500}, np.random.default_rng(0))
    assert TRAINING_COLUMNS <= set(df.columns)
    assert df["round"].iloc[0] == 0 and df["round"].is_monotonic_increasing
    assert math.isnan(df["bound"].iloc[0]) and (df["bound"].iloc[1:] > 0).all()
    assert (df["avg_grad_sq"].iloc[1:] <= df["bound"].iloc[1:]).all()
    assert (df["min_grad_sq"].iloc[1:] <= df["avg_grad_sq"].iloc[1:] * (1 + 1e-12)).all()
    assert (df["claim"] == "ef21.nonconvex_rate").all()
    assert df["bits_values"].iloc[1] == 32 and df["bits_indices"].iloc[1] == 32 * 6 + 32 + 3
    assert set(df["status"]) <= {"horizon", "target"}


def test_long_runs_are_thinned_but_keep_the_last_round() -> None:
    rounds = ex.record_rounds(50_000)
    assert rounds[0] == 0 and rounds[-1] == 50_000 and np.all(np.diff(rounds) > 0)
    assert np.array_equal(rounds[: ex.DENSE_ROUNDS + 1], np.arange(ex.DENSE_ROUNDS + 1))
    assert len(rounds) < 500
    assert np.array_equal(ex.record_rounds(1000, "all"), np.arange(1001))


@pytest.mark.parametrize(("method", "step", "claim"), [
    ("ef21", "qm", "ef21.nonconvex_rate"), ("ef21", "am", "ef21.ef21_am_rate"), ("ef21w", "am", "ef21.ef21w_rate"),
    ("ef21w", "qm", "ef21.ef21w_rate"), ("gd", "gd", "ef21.nonconvex_rate"), ("ef14", "qm", ""),
    ("econtrol", "qm", "")])
def test_which_claim_bounds_a_run(method: str, step: str, claim: str) -> None:
    df = ex.training_experiment({**ex.TRAINING_DEFAULTS, **SMALL, "method": method, "step": step,
                                 "heterogeneity": 30.0}, np.random.default_rng(3))
    assert (df["claim"] == claim).all()
    if claim:
        assert (df["avg_grad_sq"].iloc[1:] <= df["bound"].iloc[1:] * (1 + 1e-9)).all()
    else:  # never a bound on EF14 or EControl
        assert df["bound"].isna().all()


def test_a_step_above_the_limit_gets_no_bound() -> None:
    config = {**ex.TRAINING_DEFAULTS, **SMALL, "step_multiplier": 2.0}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the intended StepSizeWarning is muted, nothing else is raised
        df = ex.training_experiment({**config, "step": "am", "heterogeneity": 100.0}, np.random.default_rng(0))
    assert df["bound"].isna().all() and (df["claim"] == "").all()


def test_tuned_step_picks_the_best_multiple() -> None:
    config = {**ex.TRAINING_DEFAULTS, **SMALL, "step_multiplier": "tuned", "tol": 1e-6}
    df = ex.training_experiment(config, np.random.default_rng(0))
    mult = float(df["multiplier"].iloc[0])
    assert mult in ex.MULTIPLIERS
    base = ex.training_experiment({**config, "step_multiplier": 1.0}, np.random.default_rng(0))
    if base["status"].iloc[-1] == "target":
        assert df["round"].iloc[-1] <= base["round"].iloc[-1]
    assert df["gamma"].iloc[0] == pytest.approx(mult * base["gamma"].iloc[0])


@pytest.mark.parametrize("name", ["training", "speedup", "pl", "divergence"])
def test_same_seed_same_table(name: str) -> None:
    exp = _experiment(name)
    overrides = {"training": {**SMALL, "compressor": "rand", "k": 2},
                 "speedup": {"n_clients": 5, "samples_per_client": 10, "d": 5, "k": 2, "T": 3000,
                             "heterogeneity": [0.0, 30.0]},
                 "pl": {"n_clients": 5, "samples_per_client": 10, "d": 5, "T": 200},
                 "divergence": {"T": 200}}[name]
    config = exp.config(overrides)
    a = run_sweep(exp, [config], seeds=2)
    b = run_sweep(exp, [config], seeds=2)
    pd.testing.assert_frame_equal(a, b)
    assert not a[a["seed"] == 0].reset_index(drop=True).equals(a[a["seed"] == 1].reset_index(drop=True))


def test_bad_configs_are_refused() -> None:
    base = {**ex.TRAINING_DEFAULTS, **SMALL}
    for key, value, exc in (("dataset", "a9a", ValueError), ("method", "ef22", ValueError),
                            ("step", "pl", ValueError), ("compressor", "sign", ValueError), ("k", 7, ValueError),
                            ("k", 1.5, TypeError), ("init", "random", ValueError), ("T", 0, ValueError),
                            ("step_multiplier", -1.0, ValueError), ("heterogeneity", -1.0, ValueError)):
        with pytest.raises(exc, match=key if key != "dataset" else "dataset"):
            ex.training_experiment({**base, key: value}, np.random.default_rng(0))
    with pytest.raises(ValueError, match="target"):
        ex.speedup_experiment({**ex.SPEEDUP_DEFAULTS, "target": 2.0}, np.random.default_rng(0))
    with pytest.raises(ValueError, match="mean"):
        ex.pl_experiment({**ex.PL_DEFAULTS, "method": "ef21w", "mean": "qm"}, np.random.default_rng(0))


def test_speedup_rows_and_unreached_targets() -> None:
    config = {**ex.SPEEDUP_DEFAULTS, "n_clients": 5, "samples_per_client": 10, "d": 5, "k": 2,
              "heterogeneity": [0.0, 100.0], "T": 20_000}
    df = ex.speedup_experiment(config, np.random.default_rng(0))
    assert list(df["zeta"]) == [0.0, 100.0] and df["H"].is_monotonic_increasing
    assert df["reached_ef21"].all() and df["reached_ef21w"].all()
    assert (df["predicted_speedup"] >= 1).all() and (df["predicted_speedup"] <= df["H"]).all()
    assert np.allclose(df["measured_speedup"], df["rounds_ef21"] / df["rounds_ef21w"])
    assert (df["sqrt_n"] == math.sqrt(5)).all()
    short = ex.speedup_experiment({**config, "T": 5}, np.random.default_rng(0))
    assert short["measured_speedup"].isna().all() and not short["reached_ef21"].any()
    assert short["rounds_ef21"].isna().all()  # NaN, never clipped to T


def test_rounds_to_target() -> None:
    g = np.array([4.0, 2.0, 1.0, 0.5, 0.1])
    assert ex.rounds_to_target(g, 0.25) == 2.0 and math.isnan(ex.rounds_to_target(g, 0.01))


def test_pl_experiment_rows() -> None:
    df = ex.pl_experiment({**ex.PL_DEFAULTS, "T": 400}, np.random.default_rng(0))
    assert {"round", "psi", "bound", "f_gap", "grad_sq", "gamma", "mu", "alpha", "H"} <= set(df.columns)
    assert df["psi"].iloc[0] == pytest.approx(df["bound"].iloc[0])
    assert (df["gamma"] * df["mu"] <= th.theta(df["alpha"]) / 2 * (1 + 1e-12)).all()
    assert (df["psi"] <= df["bound"] + 1e-12).all()


# ---------------------------------------------------------------------------------------------
# divergence without error feedback


def test_counterexample_gradients_and_constants() -> None:
    prob = ex.counterexample()
    rng = np.random.default_rng(0)
    x, h = rng.standard_normal(3), 1e-6
    fd = np.array([(prob.loss(x + h * e) - prob.loss(x - h * e)) / (2 * h) for e in np.eye(3)])
    assert np.allclose(fd, prob.grad(x), atol=1e-7)
    hess_i = 2 * prob.a[:, :, None] * prob.a[:, None, :] + np.eye(3)
    assert np.allclose(np.linalg.eigvalsh(hess_i)[:, -1], prob.smoothness)
    assert prob.L == pytest.approx(np.linalg.eigvalsh(hess_i.mean(axis=0))[-1])
    # Top1 picks each client's own negative entry on the ray t·1
    C = se.TopK(1).compress(prob.client_grads(np.ones(3)))
    assert np.array_equal(np.nonzero(C)[1], [0, 1, 2]) and np.all(C[np.arange(3), np.arange(3)] < 0)


def test_compressed_gd_diverges_where_ef21_converges() -> None:
    df = ex.divergence_experiment(dict(ex.DIVERGENCE_DEFAULTS), np.random.default_rng(0))
    cgd, ef = df[df["method"] == "compressed_gd"], df[df["method"] == "ef21"]
    assert ef["grad_sq"].iloc[-1] <= 1e-6 * ef["grad_sq"].iloc[0]
    assert cgd["grad_sq"].iloc[-1] >= 1e6 * cgd["grad_sq"].iloc[0]
    assert cgd["grad_sq"].iloc[-1] >= 1e12 * ef["grad_sq"].iloc[-1]
    # with GD's own step 1/L too, and for every step the failure is a growth, not a stall
    gd_step = ex.divergence_experiment({**ex.DIVERGENCE_DEFAULTS, "step": "gd", "T": 300}, np.random.default_rng(1))
    g = gd_step[gd_step["method"] == "compressed_gd"]["grad_sq"].to_numpy()
    assert g[-1] > 1e6 * g[0] or gd_step[gd_step["method"] == "compressed_gd"]["status"].iloc[0] == "diverged"


def test_compressed_gd_stops_on_divergence() -> None:
    prob = ex.counterexample()
    run = ex.compressed_gd(prob, se.TopK(1), 0.5, 10_000, np.ones(3))
    assert run.status == "diverged" and run.rounds < 10_000 and np.all(np.isfinite(run.grad_sq))
    with pytest.raises(ValueError, match="gamma"):
        ex.compressed_gd(prob, se.TopK(1), 0.0, 10, np.ones(3))
    with pytest.raises(ValueError, match="x0"):
        ex.compressed_gd(prob, se.TopK(1), 0.1, 10, np.ones(2))


# ---------------------------------------------------------------------------------------------
# property tests: claims 4-6 on every drawn run, at every T


@settings(max_examples=12, **SETTINGS)
@given(n=st.integers(2, 8), d=st.integers(2, 8), k_frac=st.floats(0.0, 1.0), zeta=st.sampled_from([0.0, 3.0, 100.0]),
       profile=st.sampled_from(["dominant", "spread"]), init=st.sampled_from(["gradient", "zero"]),
       seed=st.integers(0, 2**32 - 1))
def test_claims_4_to_6_hold_on_every_drawn_run(n: int, d: int, k_frac: float, zeta: float, profile: str, init: str,
                                               seed: int) -> None:
    k = 1 + int(k_frac * (d - 1))
    rng = np.random.default_rng(seed)
    base = {**ex.TRAINING_DEFAULTS, "n_clients": n, "samples_per_client": 8, "d": d, "k": k, "init": init,
            "heterogeneity": zeta, "profile": profile, "T": 300, "tol": None}
    problem = ex.build_problem(base, rng)
    x0 = rng.standard_normal(d)
    for method, step, claim in (("ef21", "qm", "ef21.nonconvex_rate"), ("ef21w", "am", "ef21.ef21w_rate"),
                                ("ef21", "am", "ef21.ef21_am_rate")):
        run = ex.run_training({**base, "method": method, "step": step}, np.random.default_rng(seed), problem, x0)
        assert run.claim == claim
        assert np.all(run.avg_grad_sq[1:] <= run.bound[1:] * (1 + 1e-9)), claim
        r, _, _ = ck.lyapunov_ratio(run.traj.loss, problem.f_low, ex.claim_error(claim, run.traj),
                                    run.traj.grad_sq, run.gamma, run.alpha)
        assert np.all(r <= 1 + 1e-9), claim


# ---------------------------------------------------------------------------------------------
# benchmarks: candidate and reference do the same work


def test_fused_update_and_per_client_loop_agree() -> None:
    for k in (1, 4):
        (cand, ref), box = bench.update_pair(n=30, d=17, k=k)
        for _ in range(3):
            cand()
            ref()
        for a, b in zip(box["fused"], box["loop"], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_full_round_matches_the_solver() -> None:
    problem = bench.bench_problem(n=12, d=9, N=5)
    M = np.matmul(problem.A.transpose(0, 2, 1), problem.A) / 5
    assert np.allclose(problem.smoothness, np.linalg.eigvalsh(M)[:, -1] / 4 + 0.2)
    assert problem.L == pytest.approx(np.linalg.eigvalsh(M.mean(axis=0))[-1] / 4 + 0.2)
    (cand, ref), box = bench.full_round_pair(problem)
    x0 = box["x"].copy()
    for _ in range(4):
        cand()
    gamma = float(th.step_qm(problem.L, problem.L_QM, 1 / 9))
    traj = se.run(problem, se.ef21(se.TopK(1)), gamma, 4, x0=x0)
    np.testing.assert_allclose(box["x"], traj.x, rtol=1e-12, atol=1e-14)
    assert ref().shape == (12, 9)
