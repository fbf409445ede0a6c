"""Tests of the bandit learners (solvers.bandits): Tsallis-INF, Exp3, binned Tsallis-INF-CB, ChebCB, replay.

Covers the Tsallis-INF distribution (Σp = 1, uniform for equal k, monotone Newton from x₀, the FTRL
optimum against cvxpy, positivity with huge importance weights, the numba and array-namespace paths),
the regret bounds of Theorems B.1/B.2 on the seed mean with a one-sided margin (and a uniform player
that violates them, so the check can fail), the counterexample to Theorem B.1's constant at η = 1/√T,
the authors'-code option against a transcription of their loop, reproducibility, binning, ChebCB's
box-constrained refits and learning, the regret helpers, and input validation (errors name the
argument). Spec: ``sor_bandit.md`` §3, §4 claims 4 and 10, §6, §7.
"""

from __future__ import annotations

import itertools
import math
import re

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import lsq_linear

from solvers.bandits import (
    FAITHFUL_NEWTON_STEPS,
    BinnedContextual,
    ChebCB,
    Exp3,
    TsallisINF,
    box_least_squares,
    chebyshev_features,
    expected_regret_vs_best_fixed,
    play,
    regret_vs_best_fixed,
    regret_vs_policy,
    tsallis_probabilities,
)

SETTINGS = {"deadline": None, "derandomize": True}
Z99 = 2.326  # one-sided 99 % normal quantile for the seed-mean margin


def _k(d: int, seed: int, spread: float) -> np.ndarray:
    """Cumulative loss estimates with entries spread over ``spread`` decades (importance weights)."""
    rng = np.random.default_rng(seed)
    return rng.exponential(1.0, d) * 10.0 ** rng.uniform(0, spread, d)


def _sum_p(k: np.ndarray, K: float, eta: float, x: float) -> float:
    return float(np.sum(4.0 / (eta**2 * (k / K - x) ** 2)))


def _names(name: str) -> str:
    return rf"^{re.escape(name)}\b"


# ---------------------------------------------------------------------------------------------
# the Tsallis-INF distribution


@settings(max_examples=40, **SETTINGS)
@given(d=st.integers(1, 40), K=st.floats(0.1, 100), log_eta=st.floats(-4, 1), seed=st.integers(0, 2**16),
       spread=st.floats(0, 12))
def test_tsallis_distribution_is_the_normalised_stationary_point(d, K, log_eta, seed, spread) -> None:
    eta = 10.0**log_eta
    k = _k(d, seed, spread)
    sol = tsallis_probabilities(k, K, eta)
    assert sol.converged and sol.iterations <= 30
    assert abs(sol.p.sum() - 1.0) < 1e-12
    assert np.all(sol.p > 0)
    assert sol.x < k.min() / K
    # p depends on k only through k − min k; x shifts with min k/K
    shifted = tsallis_probabilities(k - k.min(), K, eta)
    np.testing.assert_allclose(shifted.p, sol.p, rtol=1e-12)
    # stationarity of ⟨k,p⟩ − (4K/η)Σ√p on the simplex: η√p_i (k_i/K − x) = 2 for every i
    np.testing.assert_allclose(eta * np.sqrt(shifted.p) * ((k - k.min()) / K - shifted.x), 2.0, rtol=1e-9)
    # the smallest estimate gets the largest probability
    assert sol.p[np.argmin(k)] == sol.p.max()
    # the array-namespace path (the CuPy code, here on numpy) computes the same thing
    ref = tsallis_probabilities(k, K, eta, backend="xp")
    np.testing.assert_allclose(ref.p, sol.p, rtol=1e-10, atol=1e-300)
    assert ref.iterations == sol.iterations


@pytest.mark.parametrize("d", [1, 2, 7, 100])
@pytest.mark.parametrize("level", [0.0, 3.5, 1e9])
def test_equal_estimates_give_the_uniform_distribution(d, level) -> None:
    for backend in ("numba", "xp"):
        sol = tsallis_probabilities(np.full(d, level), 2.0, 0.3, backend=backend)
        np.testing.assert_allclose(sol.p, 1.0 / d, rtol=1e-12)
        # the root is x = k/K − 2√d/η exactly
        assert sol.x == pytest.approx(level / 2.0 - 2.0 * math.sqrt(d) / 0.3, rel=1e-12, abs=1e-9)


@settings(max_examples=25, **SETTINGS)
@given(d=st.integers(2, 30), log_eta=st.floats(-3, 1), seed=st.integers(0, 2**16), spread=st.floats(0, 8))
def test_newton_decreases_monotonically_to_the_root(d, log_eta, seed, spread) -> None:
    eta, K = 10.0**log_eta, 1.7
    k = _k(d, seed, spread)
    n = tsallis_probabilities(k, K, eta).iterations
    xs = [tsallis_probabilities(k, K, eta, max_newton=j).x for j in range(n + 1)]
    assert xs[0] == pytest.approx(k.min() / K - 2.0 / eta, rel=1e-14, abs=1e-14 * (k.min() / K + 2.0 / eta))
    sums = [_sum_p(k, K, eta, x) for x in xs]
    assert sums[0] >= 1.0 - 1e-13
    assert all(b < a for a, b in itertools.pairwise(xs)), xs  # x strictly decreases ...
    assert all(s >= 1.0 - 1e-12 for s in sums), sums  # ... and never crosses the root
    assert all(b <= a + 1e-12 for a, b in itertools.pairwise(sums))
    assert not tsallis_probabilities(k, K, eta, max_newton=0).converged or n == 0


def test_a_valid_warm_start_is_used_and_an_invalid_one_ignored() -> None:
    k, K, eta = _k(12, 4, 3), 2.0, 0.05
    cold = tsallis_probabilities(k, K, eta)
    near = tsallis_probabilities(k, K, eta, x0=cold.x + 1e-3)  # just right of the root: Σp ≥ 1, monotone side
    assert near.iterations < cold.iterations
    np.testing.assert_allclose(near.p, cold.p, rtol=1e-10)
    beyond = tsallis_probabilities(k, K, eta, x0=cold.x - 50.0)  # left of the root: ignored
    assert beyond.iterations == cold.iterations
    np.testing.assert_allclose(beyond.p, cold.p, rtol=0, atol=0)


@pytest.mark.parametrize("d", [2, 3, 5])
@pytest.mark.parametrize("seed", [0, 1])
def test_distribution_solves_the_ftrl_problem_like_cvxpy(d, seed) -> None:
    rng = np.random.default_rng(seed)
    K, eta = rng.uniform(0.5, 4), rng.uniform(0.1, 2)
    k = rng.uniform(0, 8, d)
    p = cp.Variable(d, nonneg=True)
    obj = k @ p - (4 * K / eta) * cp.sum(cp.sqrt(p))
    cp.Problem(cp.Minimize(obj), [cp.sum(p) == 1]).solve(solver="CLARABEL")
    ours = tsallis_probabilities(k, K, eta).p

    def f(q):
        return float(k @ q - (4 * K / eta) * np.sum(np.sqrt(np.maximum(q, 0))))

    assert f(ours) <= f(p.value) + 1e-9  # at least as good as the conic solver ...
    np.testing.assert_allclose(ours, p.value, atol=1e-4)  # ... and the same point to its accuracy


@pytest.mark.parametrize("backend", ["numba", "xp"])
def test_probabilities_stay_positive_with_huge_importance_weights(backend) -> None:
    k = np.array([0.0, 3.0, 1e12, 1e30, 1e100, 1e140])
    sol = tsallis_probabilities(k, 1.0, 1e-3, backend=backend)
    assert sol.converged and np.all(sol.p > 0) and abs(sol.p.sum() - 1) < 1e-12
    assert np.all(np.diff(sol.p) < 0)
    # a learner whose estimates became huge still draws, and updates finitely
    learner = TsallisINF(6, 1.0, rng=0)
    learner.cum_loss_est[:] = k
    for _ in range(50):
        arm = learner.select()
        learner.update(arm, 1.0)
    assert np.all(np.isfinite(learner.cum_loss_est))


# ---------------------------------------------------------------------------------------------
# regret of Tsallis-INF (claim 4): expectation bounds on the seed mean


def _bernoulli_table(T: int, d: int, K: float, gap: float, seed: int) -> np.ndarray:
    mu = np.full(d, 0.5)
    mu[seed % d] = 0.5 - gap  # the best arm moves with the seed
    return K * (np.random.default_rng(seed).random((T, d)) < mu)


def _seed_stats(values: list[float]) -> tuple[float, float]:
    v = np.asarray(values)
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size))


@pytest.mark.parametrize("gap", [0.1, 0.45])
def test_tsallis_regret_is_within_theorems_b1_and_b2_on_a_stochastic_table(gap) -> None:
    T, d, K, seeds = 3000, 10, 3.0, range(8)
    b1, b2 = 2 * K * math.sqrt(2 * d * T), 4 * K * math.sqrt(d * T) + 1
    fixed, anytime, uniform = [], [], []
    for s in seeds:
        costs = _bernoulli_table(T, d, K, gap, s)
        fixed.append(regret_vs_best_fixed(costs, play(TsallisINF(d, K, horizon=T), costs, rng=s).arms)[-1])
        anytime.append(regret_vs_best_fixed(costs, play(TsallisINF(d, K), costs, rng=s).arms)[-1])
        uniform.append(regret_vs_best_fixed(costs, play(Exp3(d, K, eta=1e-12), costs, rng=s).arms)[-1])
    m1, e1 = _seed_stats(fixed)
    m2, e2 = _seed_stats(anytime)
    assert m1 - Z99 * e1 <= b1, (m1, e1, b1)
    assert m2 - Z99 * e2 <= b2, (m2, e2, b2)
    # the bounds are not vacuous: with a large gap, a uniform player's regret exceeds them
    mu_, eu = _seed_stats(uniform)
    if gap > 0.4:
        assert mu_ - Z99 * eu > max(b1, b2), (mu_, b1, b2)
        assert m2 < 0.5 * mu_  # and learning helps: Tsallis-INF beats it by a wide margin


def test_theorem_b1_constant_fails_at_eta_one_over_sqrt_t() -> None:
    """2K√(2dT) is the FTRL bound at η = √(8/T); at the spec's η = 1/√T it is exceeded (see TsallisINF)."""
    T, d, K = 5000, 50, 1.0
    costs = np.full((T, d), K)
    costs[:, 0] = 0.0  # deterministic: an oblivious adversary
    b1 = 2 * K * math.sqrt(2 * d * T)
    derived = 4 * K * (math.sqrt(d) - 1) * math.sqrt(T) + K * math.sqrt(d * T) / 2  # at η = 1/√T
    spec = [expected_regret_vs_best_fixed(costs, play(TsallisINF(d, K, horizon=T), costs, rng=s,
                                                      record_probabilities=True).probabilities)[-1]
            for s in range(3)]
    tuned = [expected_regret_vs_best_fixed(costs, play(TsallisINF(d, K, eta=math.sqrt(8 / T)), costs, rng=s,
                                                       record_probabilities=True).probabilities)[-1]
             for s in range(3)]
    m, e = _seed_stats(spec)
    assert m - Z99 * e > 1.05 * b1, (m / b1, e / b1)  # the spec's claim 4 (Thm B.1) fails here
    assert m + Z99 * e <= derived  # the derived bound at η = 1/√T holds
    mt, et = _seed_stats(tuned)
    assert mt + Z99 * et <= b1  # and 2K√(2dT) holds at η = √(8/T)


def test_exp3_default_rate_and_bound() -> None:
    T, d, K = 3000, 8, 2.0
    learner = Exp3(d, K, horizon=T)
    assert learner.eta == pytest.approx(math.sqrt(2 * math.log(d) / (d * T)) / K)
    assert Exp3(d, K).eta == pytest.approx(math.sqrt(math.log(d) / d) / K)  # anytime, t = 1
    bound = K * math.sqrt(2 * T * d * math.log(d))  # Bubeck & Cesa-Bianchi 2012, Thm 3.1
    regrets = [regret_vs_best_fixed(c, play(learner, c, rng=s).arms)[-1]
               for s in range(6) for c in [_bernoulli_table(T, d, K, 0.2, s)]]
    m, e = _seed_stats(regrets)
    assert m - Z99 * e <= bound


def test_exp3_distribution_is_stable_and_matches_the_formula() -> None:
    learner = Exp3(4, 1.0, eta=0.5, rng=0)
    learner.cum_loss_est[:] = [1e6, 1e6 + 1.0, 1e6 + 3.0, 1e9]
    p = learner.probabilities()
    w = np.exp(-0.5 * np.array([0.0, 1.0, 3.0, 1e9 - 1e6]))
    np.testing.assert_allclose(p, w / w.sum(), rtol=1e-12)
    assert np.all(np.isfinite(p)) and abs(p.sum() - 1) < 1e-15


def test_an_overflowing_estimate_is_reported_not_returned() -> None:
    learner = Exp3(2, 1.0, eta=1.0, rng=0)
    learner.cum_loss_est[:] = [0.0, 744.0]  # p[1] ≈ e⁻⁷⁴⁴, a subnormal number
    learner.select()
    with pytest.raises(FloatingPointError, match="diverged"):
        learner.update(1, 1.0)  # importance weight 1/p[1] overflows


# ---------------------------------------------------------------------------------------------
# the authors'-code option


def _matlab_tsallis(costs: np.ndarray, seed: int) -> np.ndarray:
    """A transcription of learners/TsallisINF.m (predict/update), with our inverse-CDF draw."""
    rng = np.random.default_rng(seed)
    T, d = costs.shape
    k, scale, total, arms = np.zeros(d), 1.0, 0.0, []
    for t in range(1, T + 1):
        eta, x = 2.0 / math.sqrt(t), -1.0
        for _ in range(20):
            probs = 4 * (eta * (k / scale - x)) ** -2.0
            x = x - (probs.sum() - 1) / (eta * np.sum(probs**1.5))
        p = probs / np.cumsum(probs)[-1]
        arm = int(np.searchsorted(np.cumsum(p), rng.random() * np.cumsum(p)[-1], side="right"))
        loss = costs[t - 1, arm]
        total += loss
        scale = total / t
        k[arm] += loss / probs[arm]
        arms.append(arm)
    return np.array(arms)


def test_faithful_mode_reproduces_the_authors_loop() -> None:
    rng = np.random.default_rng(7)
    T, d, K = 400, 6, 50.0
    costs = np.clip(rng.uniform(5, 20, d)[None, :] + rng.normal(0, 3, (T, d)), 1, K)
    run = play(TsallisINF(d, K, faithful=True), costs, rng=3, record_probabilities=True)
    np.testing.assert_array_equal(run.arms, _matlab_tsallis(costs, 3))
    np.testing.assert_allclose(run.probabilities.sum(axis=1), 1.0, rtol=1e-12)
    assert FAITHFUL_NEWTON_STEPS == 20
    # all-zero losses: their normaliser is 0; ours keeps the uniform distribution, no NaN
    zero = play(TsallisINF(d, K, faithful=True), np.zeros((50, d)), rng=0, record_probabilities=True)
    np.testing.assert_allclose(zero.probabilities, 1.0 / d, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# reproducibility and the protocol


def _learners(d: int, K: float):
    return {
        "tsallis": lambda r: TsallisINF(d, K, horizon=300, rng=r),
        "tsallis_anytime": lambda r: TsallisINF(d, K, rng=r),
        "faithful": lambda r: TsallisINF(d, K, rng=r, faithful=True),
        "exp3": lambda r: Exp3(d, K, rng=r),
        "binned": lambda r: BinnedContextual(3, 0.0, 1.0, n_arms=d, K=K, rng=r),
        "chebcb": lambda r: ChebCB(d, 3, 0.0, 1.0, K, lipschitz=K, rng=r),
    }


@pytest.mark.parametrize("name", list(_learners(5, 2.0)))
def test_same_seed_same_arms_and_reset_replays(name) -> None:
    rng = np.random.default_rng(0)
    T, d, K = 300, 5, 2.0
    costs = K * rng.random((T, d))
    ctx = rng.random(T)
    make = _learners(d, K)[name]
    one = play(make(11), costs, ctx, record_probabilities=True)
    two = play(make(np.random.default_rng(11)), costs, ctx, record_probabilities=True)
    np.testing.assert_array_equal(one.arms, two.arms)
    np.testing.assert_array_equal(one.probabilities, two.probabilities)
    learner = make(11)
    play(learner, costs, ctx)
    learner.reset()  # back to the construction-time stream
    np.testing.assert_array_equal(play(learner, costs, ctx).arms, one.arms)
    np.testing.assert_array_equal(play(learner, costs, ctx, rng=11).arms, one.arms)  # play(rng=) resets
    assert not np.array_equal(play(learner, costs, ctx, rng=12).arms, one.arms)
    np.testing.assert_allclose(one.probabilities.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(one.losses, costs[np.arange(T), one.arms])
    np.testing.assert_allclose(one.cumulative_loss[-1], one.total_loss)


def test_play_continues_a_learner_without_rng() -> None:
    costs = np.random.default_rng(1).random((200, 4))
    whole = play(TsallisINF(4, 1.0, rng=5), costs)
    learner = TsallisINF(4, 1.0, rng=5)
    first, second = play(learner, costs[:120]), play(learner, costs[120:])
    np.testing.assert_array_equal(np.concatenate([first.arms, second.arms]), whole.arms)


def test_update_protocol_and_loss_range() -> None:
    learner = TsallisINF(3, 2.0, rng=0)
    with pytest.raises(RuntimeError, match="update must follow a select"):
        learner.update(0, 1.0)
    arm = learner.select()
    for bad in (-0.1, 2.1, math.nan, math.inf):
        with pytest.raises(ValueError, match=_names("loss")):
            learner.update(arm, bad)
    with pytest.raises(TypeError, match=_names("loss")):
        learner.update(arm, "1")
    with pytest.raises(ValueError, match=_names("arm")):
        learner.update(3, 1.0)
    learner.update(arm, 2.0 + 1e-12)  # float slack is accepted and clipped
    assert learner.cum_loss_est[arm] == 2.0 / learner.last_probabilities[arm]
    with pytest.raises(RuntimeError):
        learner.update(arm, 1.0)  # one update per select


# ---------------------------------------------------------------------------------------------
# contextual learners


@settings(max_examples=40, **SETTINGS)
@given(m=st.integers(1, 12), low=st.floats(-5, 5), width=st.floats(0.01, 10), u=st.floats(-0.5, 1.5))
def test_binned_contextual_picks_the_nearest_centre(m, low, width, u) -> None:
    learner = BinnedContextual(m, low, width, n_arms=2, K=1.0, rng=0)
    c = low + u * width
    j = learner.bin_of(c)
    clipped = min(max(c, low), low + width)
    dist = np.abs(learner.centers - clipped)
    assert dist[j] <= dist.min() + 1e-9 * (1 + abs(low) + width)
    np.testing.assert_allclose(learner.centers, low + width * (np.arange(m) + 0.5) / m)
    # the context is routed to that bin's learner only
    learner.update(learner.select(c), 0.5)
    assert [lr.t for lr in learner.learners] == [2 if i == j else 1 for i in range(m)]


def test_binned_contextual_midpoint_goes_to_the_lower_bin_and_learns_per_bin() -> None:
    learner = BinnedContextual(4, 0.0, 1.0, n_arms=3, K=1.0, rng=1)
    assert learner.bin_of(0.5) == 1 and learner.bin_of(0.5 + 1e-12) == 2
    np.testing.assert_array_equal(learner.bin_of(np.array([-3.0, 0.0, 0.1, 0.99, 7.0])), [0, 0, 0, 3, 3])
    # two halves of the context interval with different best arms: each bin learns its own
    rng = np.random.default_rng(2)
    T = 3000
    ctx = rng.random(T)
    costs = np.where(ctx[:, None] < 0.5, [0.1, 0.9, 0.9], [0.9, 0.9, 0.1]) * (rng.random((T, 3)) < 0.9)
    play(learner, costs, ctx, rng=1)
    assert np.argmax(learner.probabilities(0.1)) == 0 and np.argmax(learner.probabilities(0.9)) == 2


def test_chebyshev_features_match_numpy() -> None:
    for c in (-1.0, 0.0, 0.37, 2.0, 5.0):
        z = np.clip(2 * (c - 0.0) / 2.0 - 1, -1, 1)
        np.testing.assert_allclose(chebyshev_features(c, 6, 0.0, 2.0), np.polynomial.chebyshev.chebvander(z, 6)[0],
                                   rtol=1e-13, atol=1e-14)


@settings(max_examples=30, **SETTINGS)
@given(n=st.integers(1, 40), p=st.integers(1, 7), seed=st.integers(0, 2**16), zero_bounds=st.booleans())
def test_box_least_squares_matches_lsq_linear_on_all_the_data(n, p, seed, zero_bounds) -> None:
    rng = np.random.default_rng(seed)
    Phi = np.polynomial.chebyshev.chebvander(rng.uniform(-1, 1, n), p - 1)
    y = rng.uniform(0, 0.5, n)
    bound = rng.uniform(0.01, 0.5, p)
    if zero_bounds and p > 1:
        bound[1:] = 0.0  # L_c = 0: only θ_0 is free
    gram = Phi.T @ Phi
    theta = box_least_squares(gram, Phi.T @ y, bound)
    assert np.all(np.abs(theta) <= bound)
    free = bound > 0
    ref = np.zeros(p)
    ref[free] = lsq_linear(Phi[:, free], y, bounds=(-bound[free], bound[free]), method="bvls", tol=1e-14).x

    def obj(th):
        return float(np.sum((Phi @ th - y) ** 2))

    # the ridge λ moves the objective by at most λ‖θ*‖² ≤ λ‖bound‖² (θ_λ minimises f + λ‖·‖² on the box)
    lam = 1e-10 * (1 + np.trace(gram) / p)
    assert obj(theta) <= obj(ref) + lam * np.sum(bound**2) + 1e-12
    if n >= 3 * p and np.linalg.cond(Phi) < 1e3:
        np.testing.assert_allclose(theta, ref, atol=1e-6)


def _context_table(T: int, d: int, K: float, seed: int):
    """Cost K·(0.2 + 0.7|g_i − c|) + noise with c ~ U[0, 1]: the best arm follows the context."""
    rng = np.random.default_rng(seed)
    g = np.linspace(0, 1, d)
    ctx = rng.uniform(0, 1, T)
    mean = K * (0.2 + 0.7 * np.abs(g[None, :] - ctx[:, None]))
    costs = np.clip(mean + 0.05 * K * rng.standard_normal((T, d)), 0, K)
    return costs, ctx, np.argmin(mean, axis=1)


def test_chebcb_learns_a_context_dependent_best_arm() -> None:
    T, d, K = 4000, 10, 5.0
    costs, ctx, policy = _context_table(T, d, K, 0)
    learner = ChebCB(d, 5, 0.0, 1.0, K, lipschitz=0.7 * K)
    run = play(learner, costs, ctx, rng=0)
    per_round = np.diff(np.concatenate([[0.0], regret_vs_policy(costs, run.arms, policy)]))
    windows = per_round.reshape(4, -1).mean(axis=1)
    assert windows[-1] < 0.5 * windows[0], windows  # regret per round against ω*(c) decreases
    assert regret_vs_best_fixed(costs, run.arms)[-1] < -0.1 * K * T  # beats every fixed arm
    # binned Tsallis-INF learns more slowly here, but also beats the best fixed arm
    binned = play(BinnedContextual(5, 0.0, 1.0, n_arms=d, K=K), costs, ctx, rng=0)
    assert regret_vs_best_fixed(costs, binned.arms)[-1] < 0
    # the incremental refit equals a fit on all of each arm's data (compared by objective)
    for arm in np.unique(run.arms):
        Phi = np.array([learner.features(c) for c in ctx[run.arms == arm]])
        y = run.losses[run.arms == arm] / (K * learner.N)
        free = learner.bound > 0
        ref = lsq_linear(Phi[:, free], y, bounds=(-learner.bound[free], learner.bound[free]), method="bvls").x
        ours = np.sum((Phi @ learner.theta[arm] - y) ** 2)
        lam = 1e-10 * (1 + np.trace(Phi.T @ Phi) / Phi.shape[1])  # the ridge's effect, as above
        assert ours <= np.sum((Phi[:, free] @ ref - y) ** 2) + lam * np.sum(learner.bound**2) + 1e-12
    # predictions are in loss units and follow the V shape
    assert np.argmin(learner.predict(0.05)) <= 2 and np.argmin(learner.predict(0.95)) >= d - 3


def test_chebcb_distribution_rates_and_boxes() -> None:
    d, K, L, m = 6, 4.0, 3.0, 4
    learner = ChebCB(d, m, -1.0, 2.0, K, lipschitz=L, horizon=1000, oracle_regret=50.0, rng=0)
    N = 2 + 4 * 2.0 * L / K * (1 + math.log(m))
    assert learner.N == pytest.approx(N)
    np.testing.assert_allclose(learner.bound, [1 / N] + [2 * 2.0 * L / (K * N * j) for j in range(1, m + 1)])
    alpha = learner.approx_error
    assert learner.eta == pytest.approx(2 * math.sqrt(d * 1000 / (50.0 + 2 * alpha**2 * 1000)))
    np.testing.assert_allclose(learner.probabilities(0.3), 1.0 / d)  # nothing learned: uniform
    learner.theta[:, 0] = np.linspace(0.0, 0.2, d)
    p = learner.probabilities(0.3)
    gaps = learner.theta[:, 0] - learner.theta[0, 0]
    np.testing.assert_allclose(p[1:], 1.0 / (d + learner.eta * gaps[1:]))
    assert p[0] >= 1.0 / d and abs(p.sum() - 1) < 1e-15
    # η = ∞ (no regression error, no approximation error): greedy, ties share 1/d
    greedy = ChebCB(3, 0, 0.0, 1.0, 1.0, lipschitz=0.0, horizon=10, oracle_regret=0.0)
    assert greedy.eta == math.inf and greedy.N == 2.0
    greedy.theta[:, 0] = [0.1, 0.0, 0.0]
    np.testing.assert_allclose(greedy.probabilities(0.5), [0.0, 2 / 3, 1 / 3])
    # the code's schedule starts at η = 0 and grows
    code = ChebCB(d, 2, 0.0, 1.0, K, lipschitz=L, rng=0)
    assert code.schedule == "code" and code.eta == 0.0
    costs, ctx, _ = _context_table(200, d, K, 1)
    play(code, costs, ctx)
    assert code.eta > 1.0


# ---------------------------------------------------------------------------------------------
# regret helpers


def test_regret_helpers_against_loops() -> None:
    rng = np.random.default_rng(3)
    T, d = 30, 4
    costs = rng.random((T, d))
    arms = rng.integers(0, d, T)
    policy = np.argmin(costs, axis=1)
    best = [sum(costs[s, arms[s]] for s in range(t + 1)) - min(costs[: t + 1, i].sum() for i in range(d))
            for t in range(T)]
    np.testing.assert_allclose(regret_vs_best_fixed(costs, arms), best)
    np.testing.assert_allclose(regret_vs_policy(costs, arms, policy),
                               np.cumsum([costs[t, arms[t]] - costs[t].min() for t in range(T)]))
    onehot = np.eye(d)[arms]
    np.testing.assert_allclose(expected_regret_vs_best_fixed(costs, onehot), best)
    assert np.all(regret_vs_policy(costs, arms, policy) >= 0)  # nothing beats the per-round optimum


# ---------------------------------------------------------------------------------------------
# input validation


BAD = [
    (lambda: TsallisINF(0, 1.0), ValueError, "n_arms"),
    (lambda: TsallisINF(2.0, 1.0), TypeError, "n_arms"),
    (lambda: TsallisINF(3, 0.0), ValueError, "K"),
    (lambda: TsallisINF(3, 1.0, horizon=0), ValueError, "horizon"),
    (lambda: TsallisINF(3, 1.0, eta=-1.0), ValueError, "eta"),
    (lambda: TsallisINF(3, 1.0, eta=0.1, horizon=5), ValueError, "eta"),
    (lambda: TsallisINF(3, 1.0, horizon=5, faithful=True), ValueError, "horizon"),
    (lambda: TsallisINF(3, 1.0, rng="seed"), TypeError, "rng"),
    (lambda: Exp3(3, 1.0, eta=0.0), ValueError, "eta"),
    (lambda: Exp3(3, 1.0, horizon=-2), ValueError, "horizon"),
    (lambda: tsallis_probabilities(np.array([1.0, np.nan]), 1.0, 1.0), ValueError, "cum_loss_est"),
    (lambda: tsallis_probabilities(np.ones((2, 2)), 1.0, 1.0), ValueError, "cum_loss_est"),
    (lambda: tsallis_probabilities(np.ones(2), 1.0, 0.0), ValueError, "eta"),
    (lambda: tsallis_probabilities(np.ones(2), -1.0, 1.0), ValueError, "K"),
    (lambda: tsallis_probabilities(np.ones(2), 1.0, 1.0, max_newton=-1), ValueError, "max_newton"),
    (lambda: tsallis_probabilities(np.ones(2), 1.0, 1.0, x0=math.inf), ValueError, "x0"),
    (lambda: tsallis_probabilities(np.ones(2), 1.0, 1.0, backend="gpu"), ValueError, "backend"),
    (lambda: BinnedContextual(0, 0.0, 1.0, n_arms=2, K=1.0), ValueError, "n_bins"),
    (lambda: BinnedContextual(2, 0.0, 0.0, n_arms=2, K=1.0), ValueError, "width"),
    (lambda: BinnedContextual(2, math.nan, 1.0, n_arms=2, K=1.0), ValueError, "low"),
    (lambda: BinnedContextual(2, 0.0, 1.0), ValueError, "n_arms"),
    (lambda: BinnedContextual(2, 0.0, 1.0, lambda g: Exp3(3, 1.0, rng=g), n_arms=2), ValueError, "n_arms"),
    (lambda: ChebCB(3, -1, 0.0, 1.0, 1.0, lipschitz=1.0), ValueError, "degree"),
    (lambda: ChebCB(3, 2, 0.0, -1.0, 1.0, lipschitz=1.0), ValueError, "width"),
    (lambda: ChebCB(3, 2, 0.0, 1.0, 1.0, lipschitz=-1.0), ValueError, "lipschitz"),
    (lambda: ChebCB(3, 2, 0.0, 1.0, 1.0, lipschitz=1.0, eta=0.0), ValueError, "eta"),
    (lambda: ChebCB(3, 2, 0.0, 1.0, 1.0, lipschitz=1.0, horizon=10), ValueError, "oracle_regret"),
    (lambda: ChebCB(3, 2, 0.0, 1.0, 1.0, lipschitz=1.0, eta=1.0, horizon=10), ValueError, "oracle_regret"),
    (lambda: ChebCB(3, 2, 0.0, 1.0, 1.0, lipschitz=1.0, eta=1.0, horizon=10, oracle_regret=1.0), ValueError,
     "eta"),
    (lambda: ChebCB(3, 2, 0.0, 1.0, 1.0, lipschitz=1.0, oracle_regret=1.0), ValueError, "horizon"),
    (lambda: ChebCB(0, 2, 0.0, 1.0, 1.0, lipschitz=1.0), ValueError, "n_arms"),
    (lambda: play(TsallisINF(2, 1.0), np.ones(5)), ValueError, "costs"),
    (lambda: play(TsallisINF(2, 1.0), np.full((5, 2), 1.5)), ValueError, "costs"),
    (lambda: play(TsallisINF(2, 1.0), np.full((5, 2), np.inf)), ValueError, "costs"),
    (lambda: play(TsallisINF(3, 1.0), np.ones((5, 2))), ValueError, "costs"),
    (lambda: play(ChebCB(2, 1, 0.0, 1.0, 1.0, lipschitz=1.0), np.ones((5, 2))), ValueError, "contexts"),
    (lambda: play(ChebCB(2, 1, 0.0, 1.0, 1.0, lipschitz=1.0), np.ones((5, 2)), np.ones(4)), ValueError,
     "contexts"),
    (lambda: play(BinnedContextual(2, 0.0, 1.0, n_arms=2, K=1.0), np.ones((2, 2)), [0.1, math.nan]),
     ValueError, "contexts"),
    (lambda: ChebCB(2, 1, 0.0, 1.0, 1.0, lipschitz=1.0).select(), ValueError, "context"),
    (lambda: regret_vs_best_fixed(np.ones((3, 2)), np.array([0, 2, 1])), ValueError, "arms"),
    (lambda: regret_vs_best_fixed(np.ones((3, 2)), np.array([0, 1])), ValueError, "arms"),
    (lambda: regret_vs_policy(np.ones((3, 2)), np.zeros(3, int), np.zeros(3)), TypeError, "policy_arms"),
    (lambda: expected_regret_vs_best_fixed(np.ones((3, 2)), np.ones((3, 3))), ValueError, "probabilities"),
]


@pytest.mark.parametrize(("make", "exc", "name"), BAD, ids=[f"{i}-{b[2]}" for i, b in enumerate(BAD)])
def test_bad_input_names_the_argument(make, exc, name) -> None:
    with pytest.raises(exc, match=_names(name)):
        make()
