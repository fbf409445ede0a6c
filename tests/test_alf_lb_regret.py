"""The Gumbel testbed, the online regret experiment and the checks of claims 7-10 of ``alf_lb``."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

import sims.alf_lb.bench_online  # noqa: F401  (registers the benchmark)
import sims.alf_lb.checks_regret as cr
from sims.alf_lb import gumbel as gb
from sims.alf_lb.streams import popularity_scores
from sims.bench import benchmarks
from sims.checks import CheckContext, expectation_verdict, run_check
from sims.runner import run_sweep
from solvers.alf_lb import bias as bl
from solvers.alf_lb import route
from theory import alf_lb as th


@pytest.fixture(scope="module")
def testbed() -> gb.GumbelTestbed:
    return gb.make_testbed(8, 64, np.random.default_rng(3), spread=0.5)


def _rules(testbed: gb.GumbelTestbed) -> list[bl.BiasRule]:
    E, R = testbed.E, testbed.radius0
    return [
        bl.gradient_rule(E, bl.inverse_t(1.0, float(th.gumbel_modulus(E, R))), radius=R, anchor=-testbed.p_star),
        bl.gradient_rule(E, bl.inverse_sqrt(2.0)),
        bl.gradient_rule(E, bl.constant(0.5), center=True, freeze_after=700),
        bl.gradient_rule(E, bl.constant(0.01), units="count"),
        bl.sign_rule(E, 0.05),
        bl.sign_rule(E, 0.02, center=True),
    ]


# ---------------------------------------------------------------- the simulator
def test_numba_and_numpy_route_every_token_identically(testbed) -> None:
    cps = np.array([1, 5, 100, 1000, 9000])
    for rule in _rules(testbed):
        fast = gb.simulate(testbed, rule, 9000, np.random.default_rng(11), cps, trace=True)
        ref = gb.simulate_numpy(testbed, rule, 9000, np.random.default_rng(11), cps, trace=True)
        assert np.array_equal(fast.loads, ref.loads), rule.name  # 9000 rounds span two blocks of uniforms
        np.testing.assert_allclose(fast.trace, ref.trace, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(fast.state.steps, ref.state.steps)
        for name in ("regret", "grad_sq_sum", "grad_sq_max", "dist", "dist_inf", "gap", "maxvio_global",
                     "maxvio_batch", "q_ratio_min"):
            np.testing.assert_allclose(getattr(fast, name), getattr(ref, name), rtol=1e-10, atol=1e-13,
                                       err_msg=f"{rule.name}: {name}")


def test_same_seed_same_bits(testbed) -> None:
    rule = _rules(testbed)[0]
    one = gb.simulate(testbed, rule, 3000, np.random.default_rng(5), trace=True)
    two = gb.simulate(testbed, rule, 3000, np.random.default_rng(5), trace=True)
    for name in ("regret", "grad_sq_sum", "dist", "prices", "trace", "loads"):
        assert np.array_equal(getattr(one, name), getattr(two, name))
    assert np.array_equal(one.to_frame()["rounds"], gb.checkpoints(3000))


def test_records_match_their_definitions(testbed) -> None:
    run = gb.simulate(testbed, _rules(testbed)[1], 2000, np.random.default_rng(2), trace=True)
    gaps = np.asarray(testbed.loss(run.trace)) - testbed.F_star
    g = 1.0 / testbed.E - run.loads / testbed.n
    k = run.rounds - 1
    np.testing.assert_allclose(run.regret, np.cumsum(gaps)[k], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(run.grad_sq_sum, np.cumsum(np.sum(g**2, axis=1))[k], rtol=1e-12)
    np.testing.assert_allclose(run.prices, run.trace[k])
    np.testing.assert_allclose(run.dist, np.linalg.norm(run.trace[k] - testbed.p_star, axis=1), rtol=1e-12)
    q = special.softmax(testbed.a - run.trace[k], axis=1)
    np.testing.assert_allclose(run.maxvio_global, testbed.E * q.max(axis=1) - 1.0, atol=1e-12)
    assert np.all(run.loads.sum(axis=1) == testbed.n)
    assert np.all(run.q_ratio_min >= 1.0 - 1e-12)


def test_multinomial_batches_match_token_level_gumbel_routing(testbed) -> None:
    """Loads of the simulator at a fixed price have the law of routing real scores a + Gumbel."""
    rng = np.random.default_rng(7)
    p = testbed.p_star + 0.8 * rng.standard_normal(testbed.E)
    frozen = bl.gradient_rule(testbed.E, bl.constant(1.0), freeze_after=0)
    batches, n = 3000, testbed.n
    sim = gb.simulate(testbed, frozen, batches, rng, bias0=-p, trace=True).loads
    assert np.allclose(gb.simulate(testbed, frozen, 5, rng, bias0=-p, trace=True).trace, p)
    scores = popularity_scores(n, testbed.a, rng, batches=batches, noise="gumbel")
    experts = route(scores.reshape(-1, testbed.E), 1, -p).experts.ravel()
    routed = np.bincount(np.repeat(np.arange(batches), n) * testbed.E + experts,
                         minlength=batches * testbed.E).reshape(batches, testbed.E)
    q = special.softmax(testbed.a - p)
    # same categorical law: a 2 x E contingency test, and each against n·q
    assert stats.chi2_contingency(np.stack([sim.sum(axis=0), routed.sum(axis=0)]))[1] > 1e-3
    for loads in (sim, routed):
        assert stats.chisquare(loads.sum(axis=0), batches * n * q)[1] > 1e-3
        # per-batch spread is multinomial: Var(load_i) = n q_i (1 − q_i)
        ratio = loads.var(axis=0, ddof=1) / (n * q * (1 - q))
        assert np.all(np.abs(ratio - 1) < 0.15), ratio


def test_bad_inputs_are_named(testbed) -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="E"):
        gb.make_testbed(1, 64, rng)
    with pytest.raises(ValueError, match="batch"):
        gb.make_testbed(8, 0, rng)
    with pytest.raises(ValueError, match="spread"):
        gb.make_testbed(8, 64, rng, spread=-1.0)
    with pytest.raises(TypeError, match="rng"):
        gb.make_testbed(8, 64, 0)
    rule = _rules(testbed)[1]
    with pytest.raises(TypeError, match="testbed"):
        gb.simulate(object(), rule, 10, rng)
    with pytest.raises(TypeError, match="rule"):
        gb.simulate(testbed, "inverse_t", 10, rng)
    with pytest.raises(ValueError, match="E = 4"):
        gb.simulate(testbed, bl.gradient_rule(4, bl.constant(1.0)), 10, rng)
    with pytest.raises(ValueError, match="T"):
        gb.simulate(testbed, rule, 0, rng)
    with pytest.raises(ValueError, match="checkpoints"):
        gb.simulate(testbed, rule, 10, rng, np.array([4, 2]))
    with pytest.raises(ValueError, match="checkpoints"):
        gb.simulate_numpy(testbed, rule, 10, rng, np.array([11]))
    with pytest.raises(ValueError, match="bias"):
        gb.simulate(testbed, bl.sign_rule(8), 10, rng, bias0=np.ones(8))
    config = gb.EXPERIMENT.config()
    with pytest.raises(ValueError, match="mu"):
        gb.build_rule(testbed, dict(config, mu="hessian"))
    with pytest.raises(ValueError, match="rule"):
        gb.build_rule(testbed, dict(config, rule="adam"))
    with pytest.raises(ValueError, match="R"):
        gb.build_rule(testbed, dict(config, R=0.0))
    with pytest.raises(KeyError, match="gamma"):
        gb.EXPERIMENT.config({"gamma": 1})


# ---------------------------------------------------------------- the experiment
def test_experiment_columns_and_bound() -> None:
    exp = gb.EXPERIMENT
    df = run_sweep(exp, [exp.config({"T": 1000, "instance": 0})], seeds=2)
    for col in ("rounds", "regret", "bound", "heuristic", "mu_step", "radius", "G2", "grad_sq_sum",
                "grad_sq_max", "dist", "dist_inf", "gap", "maxvio_global", "maxvio_batch", "projected"):
        assert col in df.columns, col
    assert list(df["rounds"].unique()) == [*(2**k for k in range(10)), 1000]
    testbed = gb.testbed_of(exp.config({"instance": 0}), np.random.default_rng(0))
    R = testbed.radius0
    assert np.allclose(df["radius"], R) and np.allclose(df["mu_step"], math.exp(-2 * R) / 8)
    np.testing.assert_allclose(df["bound"], th.log_regret_bound(df["rounds"], 1, 8, math.exp(-2 * R) / 8))
    assert np.all(df["dist"] <= R + 1e-12)  # projected onto ‖p − p*‖₂ ≤ R
    for over in ({"c": 0.5}, {"project": False}, {"mu": "curvature"}, {"rule": "constant"}, {"rule": "sign"}):
        df = run_sweep(exp, [exp.config({"T": 64, **over})], seeds=1)
        assert df["bound"].isna().all(), over


def test_radius_below_the_start_projects_the_start() -> None:
    exp = gb.EXPERIMENT
    config = exp.config({"T": 256, "instance": 1, "R": 0.2})
    df = run_sweep(exp, [config], seeds=1)
    assert np.all(df["dist"] <= 0.2 + 1e-12)
    assert np.isfinite(df["bound"]).all()


def test_benchmark_is_registered_and_runs() -> None:
    (bench,) = [b for b in benchmarks(["alf_lb"]) if b.name == "online_gumbel_T100000_batch64_E8"]
    candidate, _ = bench.factory()
    run = candidate()
    assert run.rounds[-1] == 10**5 and np.all(np.isfinite(run.regret)) and run.dist[-1] < 0.05


# ---------------------------------------------------------------- the checks
@pytest.mark.parametrize("claim", ["alf_lb.stochastic_gradient", "alf_lb.gumbel_testbed", "alf_lb.strong_convexity",
                                   "alf_lb.log_regret", "alf_lb.step_dichotomy"])
def test_checks_hold_at_quick_scale(claim: str) -> None:
    verdict = run_check(claim, CheckContext(scale="quick"))
    assert verdict.holds, verdict.detail
    assert verdict.measured <= verdict.bound * (1 + 1e-9)
    assert len(verdict.data) > 0


def test_dichotomy_slopes_detect_a_wrong_exponent() -> None:
    """A constant step labelled as c/(μt) with c = 1 (logarithmic) fails the ln T slope test."""
    exp = gb.EXPERIMENT
    df = run_sweep(exp, [exp.config({"rule": "constant", "eta": 1.0, "mu": "curvature", "project": False,
                                     "T": 2**12, "instance": 0})], seeds=4)
    df = df.assign(label="mislabelled", rule="inverse_t", c=1.0)
    row = cr.dichotomy_slopes(df).iloc[0]
    assert row["exponent"] == 0 and row["deviation"] > cr.SLOPE_TOL


# ---------------------------------------------------------------- properties
@settings(deadline=None, derandomize=True, max_examples=6)
@given(E=st.integers(2, 12), spread=st.floats(0.1, 1.5), c=st.floats(1.0, 3.0), seed=st.integers(0, 2**16))
def test_regret_within_the_claim_9_bound(E: int, spread: float, c: float, seed: int) -> None:
    exp = gb.EXPERIMENT
    configs = [exp.config({"E": E, "spread": spread, "c": c, "batch": n, "T": 2**10, "instance": seed})
               for n in (1, 16)]
    df = run_sweep(exp, configs, seeds=6, base_seed=seed)
    assert np.all(df["grad_sq_max"] <= th.grad_sq_bound(1, E) * (1 + 1e-12))
    assert np.all(df["q_ratio_min"] >= 1.0 - 1e-12)
    verdict = expectation_verdict("alf_lb.log_regret", df, "regret", "bound", ["batch", "rounds"])
    assert verdict.holds, verdict.detail
