"""Tests of the OMD simulator (sims.omd) and the shared runner, store and checks (spec omd.md §6).

SEA quantities against Monte Carlo, gradients against finite differences, hindsight comparators
against cvxpy (Clarabel), seed determinism and the parquet cache of sweeps, and two cheap checks.
"""

from __future__ import annotations

import math

import cvxpy as cp
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sims
from sims.checks import CheckContext, run_check
from sims.omd import ball_lstsq, hindsight, make_stream
from sims.omd.environments import PATHS
from sims.omd.experiments import REGRET_DEFAULTS, checkpoints, regret_experiment
from sims.runner import Experiment, get_experiment, parse_overrides, run_sweep
from sims.store import load_table

SETTINGS = {"deadline": None, "derandomize": True}
FAMILIES = ("linear", "quadratic", "square")


def _grads(stream, x: np.ndarray) -> np.ndarray:
    """∇f_t(x) for every round t, vectorised (the same formulas as LossSequence.grad)."""
    a, b = stream.losses.a, stream.losses.b
    if stream.family == "linear":
        return a.copy()
    if stream.family == "quadratic":
        return x[None, :] - a
    return a * (a @ x - b)[:, None]


def _in_ball(rng: np.random.Generator, d: int, radius: float, n: int) -> np.ndarray:
    u = rng.standard_normal((n, d))
    return u / np.linalg.norm(u, axis=1, keepdims=True) * radius * rng.uniform(size=(n, 1))


# ---------------------------------------------------------------------------------------------
# SEA quantities vs Monte Carlo


@settings(max_examples=10, **SETTINGS)
@given(family=st.sampled_from(FAMILIES), d=st.integers(2, 8), seed=st.integers(0, 2**32 - 1),
       radius=st.floats(0.5, 2.0), m=st.floats(0.0, 1.5), rho=st.floats(0.0, 0.9),
       tau=st.floats(0.0, 0.5))
def test_sigma2_is_the_sup_of_the_gradient_variance(family: str, d: int, seed: int, radius: float,
                                                     m: float, rho: float, tau: float) -> None:
    """A constant mean path makes the T rounds i.i.d. draws from one round distribution."""
    n = 40_000
    rng = np.random.default_rng(seed)
    stream = make_stream(family, n, d, rng, rho=rho, path="constant", m=m, radius=radius, tau=tau)
    sigma2 = float(stream.sigma2[0])
    assert np.all(stream.sigma2 == sigma2)
    rows = np.arange(n)
    w = stream.means[0]

    def mc(x: np.ndarray) -> tuple[float, np.ndarray]:
        diff = _grads(stream, x) - stream.mean_grad(np.tile(x, (n, 1)), rows)
        return float(np.mean(np.sum(diff**2, axis=1))), diff.mean(axis=0)

    if family == "square":
        assert sigma2 == pytest.approx((radius + np.linalg.norm(w)) ** 2 * (d - 1) / d**2 + tau**2)
        nw = np.linalg.norm(w)
        x_star = -radius * w / nw if nw > 0 else radius * np.eye(d)[0]
        est, mean_diff = mc(x_star)
        assert est == pytest.approx(sigma2, rel=0.05)  # the sup is attained at x*
        for x in _in_ball(rng, d, radius, 5):
            assert mc(x)[0] <= 1.05 * sigma2
    else:  # ∇f − ∇F = ±ξ_t with ‖ξ_t‖ = s for every x
        s = (1.0 - rho) * 1.0
        assert sigma2 == pytest.approx(s * s)
        for x in _in_ball(rng, d, radius, 3):
            est, mean_diff = mc(x)
            assert est == pytest.approx(sigma2, rel=1e-9, abs=1e-12)
    # the noise is centred: ∇F_t = E ∇f_t (4 standard errors per coordinate)
    se = math.sqrt(max(sigma2, 1e-30) / n)
    assert np.all(np.abs(mean_diff) <= 4 * se + 1e-12)


@settings(max_examples=10, **SETTINGS)
@given(family=st.sampled_from(FAMILIES), d=st.integers(2, 6), seed=st.integers(0, 2**32 - 1),
       radius=st.floats(0.5, 2.0), m=st.floats(-1.0, 1.0), rho=st.floats(0.0, 0.9),
       tau=st.floats(0.0, 0.5))
def test_mean_loss_is_the_expected_loss(family: str, d: int, seed: int, radius: float, m: float,
                                        rho: float, tau: float) -> None:
    n = 40_000
    rng = np.random.default_rng(seed)
    stream = make_stream(family, n, d, rng, rho=rho, path="constant", m=m, radius=radius, tau=tau)
    for x in _in_ball(rng, d, radius, 3):
        X = np.tile(x, (n, 1))
        f = stream.losses.values(X)
        F = stream.mean_loss(X, np.arange(n))
        assert np.allclose(F, F[0])
        se = float(np.std(f)) / math.sqrt(n)
        assert abs(float(np.mean(f)) - F[0]) <= 4 * se + 1e-12


@settings(max_examples=20, **SETTINGS)
@given(family=st.sampled_from(FAMILIES), T=st.integers(2, 60), d=st.integers(2, 6),
       seed=st.integers(0, 2**32 - 1), radius=st.floats(0.5, 2.0), rho=st.floats(0.0, 1.0),
       path=st.sampled_from(PATHS), block=st.integers(1, 8), omega=st.floats(0.01, 1.0))
def test_Sigma2_is_the_sup_of_the_mean_gradient_drift(family: str, T: int, d: int, seed: int,
                                                      radius: float, rho: float, path: str,
                                                      block: int, omega: float) -> None:
    rng = np.random.default_rng(seed)
    stream = make_stream(family, T, d, rng, rho=rho, path=path, block=block, omega=omega,
                         radius=radius, m=0.3)
    pts = _in_ball(rng, d, radius, 20)
    for t in range(T):
        rows = np.full(len(pts), t)
        now = stream.mean_grad(pts, rows)
        before = stream.mean_grad(pts, rows - 1) if t > 0 else np.zeros_like(now)  # ∇F_0 ≡ 0
        drift = np.sum((now - before) ** 2, axis=1)
        assert np.all(drift <= stream.Sigma2[t] * (1 + 1e-12) + 1e-15)
        # the sup is attained: at x* = −R c_1/‖c_1‖ for t = 1 (G2, G3), anywhere otherwise
        c = stream.means[t]
        x_star = -radius * c / np.linalg.norm(c) if np.linalg.norm(c) > 0 else radius * np.eye(d)[0]
        nowx = stream.mean_grad(x_star[None, :], np.array([t]))
        beforex = (stream.mean_grad(x_star[None, :], np.array([t - 1])) if t > 0
                   else np.zeros_like(nowx))
        assert np.sum((nowx - beforex) ** 2) == pytest.approx(stream.Sigma2[t], rel=1e-9,
                                                              abs=1e-14)


@settings(max_examples=20, **SETTINGS)
@given(family=st.sampled_from(FAMILIES), T=st.integers(1, 20), d=st.integers(2, 6),
       seed=st.integers(0, 2**32 - 1), rho=st.floats(0.0, 1.0), path=st.sampled_from(PATHS))
def test_gradients_match_finite_differences(family: str, T: int, d: int, seed: int, rho: float,
                                            path: str) -> None:
    rng = np.random.default_rng(seed)
    stream = make_stream(family, T, d, rng, rho=rho, path=path, m=0.2)
    losses, h = stream.losses, 1e-5
    x = _in_ball(rng, d, 1.0, 1)[0]
    rows = np.arange(T)
    fd = np.empty((T, d))
    fd_mean = np.empty((T, d))
    for i in range(d):
        e = np.zeros(d)
        e[i] = h
        plus, minus = np.tile(x + e, (T, 1)), np.tile(x - e, (T, 1))
        fd[:, i] = (losses.values(plus) - losses.values(minus)) / (2 * h)
        fd_mean[:, i] = (stream.mean_loss(plus, rows) - stream.mean_loss(minus, rows)) / (2 * h)
    grads = np.array([losses.grad(t, x) for t in range(T)])
    np.testing.assert_allclose(grads, fd, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(grads, _grads(stream, x), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(stream.mean_grad(np.tile(x, (T, 1)), rows), fd_mean, rtol=1e-6,
                               atol=1e-7)


def test_make_stream_validation() -> None:
    rng = np.random.default_rng(0)
    for kwargs, name in (({"family": "cubic"}, "family"), ({"rho": 1.5}, "rho"),
                         ({"rho": -0.1}, "rho"), ({"s0": -1.0}, "s0"), ({"A0": -1.0}, "A0"),
                         ({"tau": -1.0}, "tau"), ({"radius": 0.0}, "radius"),
                         ({"path": "zigzag"}, "path"), ({"T": 0}, "T"), ({"d": 1}, "d")):
        args = {"family": "linear", "T": 8, "d": 3, **kwargs}
        with pytest.raises(ValueError, match=rf"\b{name}\b"):
            make_stream(args.pop("family"), args.pop("T"), args.pop("d"), rng, **args)


# ---------------------------------------------------------------------------------------------
# hindsight comparators vs cvxpy


def _cvx(stream, Tk: int) -> tuple[np.ndarray, float]:
    a, b = stream.losses.a[:Tk], stream.losses.b[:Tk]
    x = cp.Variable(stream.dim)
    if stream.family == "linear":
        obj = a.sum(axis=0) @ x
    elif stream.family == "quadratic":
        obj = 0.5 * cp.sum_squares(x) * Tk - (a.sum(axis=0) @ x) + 0.5 * float(np.sum(a * a))
    else:
        obj = 0.5 * cp.sum_squares(a @ x - b)
    prob = cp.Problem(cp.Minimize(obj), [cp.norm(x, 2) <= stream.radius])
    prob.solve(solver=cp.CLARABEL)
    assert prob.status == cp.OPTIMAL, prob.status
    return np.asarray(x.value), float(prob.value)


@settings(max_examples=15, **SETTINGS)
@given(family=st.sampled_from(FAMILIES), T=st.integers(16, 200), d=st.integers(2, 6),
       seed=st.integers(0, 2**32 - 1), rho=st.floats(0.0, 1.0), path=st.sampled_from(PATHS),
       radius=st.floats(0.2, 3.0), m=st.floats(-1.0, 1.0))
def test_hindsight_matches_cvxpy(family: str, T: int, d: int, seed: int, rho: float, path: str,
                                 radius: float, m: float) -> None:
    rng = np.random.default_rng(seed)
    stream = make_stream(family, T, d, rng, rho=rho, path=path, radius=radius, m=m)
    cps = checkpoints(T)
    U, best = hindsight(stream, cps)
    for k, Tk in enumerate(cps):
        _, v_ref = _cvx(stream, int(Tk))
        assert np.linalg.norm(U[k]) <= radius * (1 + 1e-12)
        # the stored cumulative loss is the loss of the returned point ...
        played = float(np.sum(stream.losses.prefix(int(Tk)).values(np.tile(U[k], (Tk, 1)))))
        assert best[k] == pytest.approx(played, rel=1e-10, abs=1e-10)
        # ... and no feasible point does better
        assert best[k] <= v_ref + 1e-6 * max(1.0, abs(v_ref))
        assert best[k] == pytest.approx(v_ref, rel=1e-6, abs=1e-6)
        # the argmin itself is certified by the KKT conditions (the cvxpy argmin is only as
        # accurate as the square root of its objective tolerance on flat problems)
        _assert_kkt(stream, int(Tk), U[k])


def _assert_kkt(stream, Tk: int, u: np.ndarray) -> None:
    """∇Φ(u) + νu = 0 with ν ≥ 0, and ν = 0 unless ‖u‖ = R, for Φ = Σ_{t≤Tk} f_t on the ball."""
    a, b = stream.losses.a[:Tk], stream.losses.b[:Tk]
    if stream.family == "linear":
        grad = a.sum(axis=0)
    elif stream.family == "quadratic":
        grad = Tk * u - a.sum(axis=0)
    else:
        grad = a.T @ (a @ u - b)
    scale = max(1.0, float(np.abs(a).sum()) * max(1.0, stream.radius))
    norm_u = float(np.linalg.norm(u))
    if norm_u < stream.radius * (1 - 1e-9):
        assert np.linalg.norm(grad) <= 1e-8 * scale
        return
    nu = -float(grad @ u) / norm_u**2
    assert nu >= -1e-8 * scale
    assert np.linalg.norm(grad + nu * u) <= 1e-8 * scale


@pytest.mark.parametrize("active", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_least_squares_comparator_with_active_and_inactive_constraint(active: bool,
                                                                      seed: int) -> None:
    rng = np.random.default_rng(seed)
    # w = m e₁ with ‖w‖ = 0.5: the unconstrained solution sits near w
    radius = 0.2 if active else 2.0
    stream = make_stream("square", 300, 5, rng, rho=0.0, path="constant", m=0.5, radius=radius)
    cps = checkpoints(300)
    U, best = hindsight(stream, cps)
    A, y = stream.losses.a, stream.losses.b
    for k, Tk in enumerate(cps):
        u_ref, v_ref = _cvx(stream, int(Tk))
        assert best[k] == pytest.approx(v_ref, rel=1e-6)
        np.testing.assert_allclose(U[k], u_ref, rtol=0, atol=1e-5)
        unconstrained = np.linalg.lstsq(A[:Tk], y[:Tk], rcond=None)[0]
        if active:  # KKT: AᵀA u − Aᵀy = −ν u with ν > 0 on the sphere ‖u‖ = R
            assert np.linalg.norm(U[k]) == pytest.approx(radius, rel=1e-10)
            r = A[:Tk].T @ (A[:Tk] @ U[k] - y[:Tk])
            nu = -float(r @ U[k]) / radius**2
            assert nu > 0
            np.testing.assert_allclose(r, -nu * U[k], rtol=0, atol=1e-9 * max(1.0, nu))
        else:
            np.testing.assert_allclose(U[k], unconstrained, rtol=0, atol=1e-10)


@settings(max_examples=20, **SETTINGS)
@given(d=st.integers(2, 8), rank=st.integers(0, 7), seed=st.integers(0, 2**32 - 1),
       radius=st.floats(0.01, 0.5))
def test_ball_lstsq_singular_Q_active(d: int, rank: int, seed: int, radius: float) -> None:
    """Rank-deficient Q (fewer rows than unknowns) with a response too large for the ball."""
    rank = min(rank, d - 1)
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((max(rank, 1), d))
    if rank == 0:
        A[:] = 0.0
    y = rng.standard_normal(A.shape[0]) * 10
    Q, q = A.T @ A, A.T @ y
    x_min_norm = np.linalg.pinv(Q) @ q
    if np.linalg.norm(x_min_norm) <= radius:
        return  # inactive: see the test below
    x = ball_lstsq(Q, q, radius)
    z = cp.Variable(d)
    prob = cp.Problem(cp.Minimize(0.5 * cp.quad_form(z, cp.psd_wrap(Q)) - q @ z),
                      [cp.norm(z, 2) <= radius])
    prob.solve(solver=cp.CLARABEL)
    val = 0.5 * x @ Q @ x - q @ x
    assert np.linalg.norm(x) <= radius * (1 + 1e-9)
    assert val == pytest.approx(prob.value, rel=1e-6, abs=1e-8)


def test_ball_lstsq_singular_Q_inactive() -> None:
    """Rank-deficient Q whose least-squares solutions reach inside the ball.

    Fails today: ball_lstsq (sims/omd/metrics.py) goes to the root finder whenever Q is singular,
    but ‖x(ν)‖ − R has no sign change on [tiny, hi] when the min-norm solution is inside the ball,
    so brentq raises "f(a) and f(b) must have different signs". It is reached by
    ``regret_experiment`` with family="square" and d > 16 (the first checkpoint has T = 16 < d).
    """
    rng = np.random.default_rng(0)
    A = rng.standard_normal((2, 4))
    y = 0.1 * rng.standard_normal(2)
    Q, q = A.T @ A, A.T @ y
    x = ball_lstsq(Q, q, 10.0)
    assert np.linalg.norm(x) <= 10.0
    np.testing.assert_allclose(Q @ x, q, atol=1e-10)  # a least-squares solution


def test_ball_lstsq_nonsingular_cases() -> None:
    rng = np.random.default_rng(3)
    A = rng.standard_normal((20, 4))
    y = A @ np.array([0.1, -0.2, 0.05, 0.0]) + 0.01 * rng.standard_normal(20)
    Q, q = A.T @ A, A.T @ y
    inside = ball_lstsq(Q, q, 1.0)
    np.testing.assert_allclose(inside, np.linalg.solve(Q, q), rtol=1e-12)
    tight = ball_lstsq(Q, q, 0.05)
    assert np.linalg.norm(tight) == pytest.approx(0.05, rel=1e-10)
    # KKT: Qx − q = −ν x with ν ≥ 0
    r = Q @ tight - q
    nu = -float(r @ tight) / float(tight @ tight)
    assert nu > 0
    np.testing.assert_allclose(r, -nu * tight, atol=1e-9)


# ---------------------------------------------------------------------------------------------
# runner: determinism, cache, provenance, overrides


def _small_configs() -> list[dict]:
    exp = get_experiment("omd", "regret")
    return [exp.config({"T": 64, "d": 3, "family": fam, "method": meth, "rho": rho})
            for fam, meth, rho in (("quadratic", "optimistic_omd", 0.5), ("linear", "oftrl", 1.0),
                                   ("square", "ogd", 0.0))]


def test_sweep_is_deterministic_and_independent_of_jobs() -> None:
    exp = get_experiment("omd", "regret")
    configs = _small_configs()
    one = run_sweep(exp, configs, seeds=2, base_seed=7, jobs=1)
    two = run_sweep(exp, configs, seeds=2, base_seed=7, jobs=2)
    pd.testing.assert_frame_equal(one, two)
    assert len(one) == 3 * 2 * len(checkpoints(64))
    assert set(one["seed"]) == {0, 1}
    # a config's rows depend on that config, the seed index and the base seed only
    alone = run_sweep(exp, configs[:1], seeds=2, base_seed=7)  # ρ = 0.5: a random stream
    pd.testing.assert_frame_equal(
        one.loc[one["family"] == "quadratic", list(alone.columns)].reset_index(drop=True), alone)
    other = run_sweep(exp, configs[:1], seeds=2, base_seed=8)
    assert not np.array_equal(other["regret"], alone["regret"])
    # seeds differ from each other
    r0 = alone.loc[alone["seed"] == 0, "regret"].to_numpy()
    r1 = alone.loc[alone["seed"] == 1, "regret"].to_numpy()
    assert not np.array_equal(r0, r1)


def test_sweep_cache_and_provenance(tmp_path) -> None:
    calls = []

    def counting(config, rng):
        calls.append(config["family"])
        return regret_experiment(config, rng)

    exp = Experiment("omd", "regret", counting, REGRET_DEFAULTS)
    configs = _small_configs()
    first = run_sweep(exp, configs, seeds=2, base_seed=3, cache_dir=tmp_path)
    assert len(calls) == 6
    files = list(tmp_path.glob("omd-regret-*.parquet"))
    assert len(files) == 1
    mtime = files[0].stat().st_mtime_ns
    second = run_sweep(exp, configs, seeds=2, base_seed=3, cache_dir=tmp_path)
    assert len(calls) == 6  # loaded from parquet, not recomputed
    assert files[0].stat().st_mtime_ns == mtime
    pd.testing.assert_frame_equal(first, second)
    forced = run_sweep(exp, configs, seeds=2, base_seed=3, cache_dir=tmp_path, force=True)
    assert len(calls) == 12
    pd.testing.assert_frame_equal(first, forced)
    # another base seed is another cache entry
    run_sweep(exp, configs, seeds=2, base_seed=4, cache_dir=tmp_path)
    assert len(calls) == 18
    assert len(list(tmp_path.glob("omd-regret-*.parquet"))) == 2

    table, meta = load_table(files[0])
    pd.testing.assert_frame_equal(table, first)
    assert meta["boundlab"] == sims.__version__
    assert meta["numpy"] == np.__version__
    assert meta["base_seed"] == 3
    assert meta["seeds"] == 2
    assert meta["topic"] == "omd" and meta["experiment"] == "regret"
    assert len(meta["configs"]) == 3
    assert meta["configs"][0]["family"] == "quadratic"
    for key in ("python", "numba", "pandas", "platform", "code_fingerprint", "git_revision",
                "wall_time_s"):
        assert key in meta


def test_sweep_validation() -> None:
    exp = get_experiment("omd", "regret")
    with pytest.raises(ValueError, match="seeds"):
        run_sweep(exp, _small_configs(), seeds=0)
    with pytest.raises(ValueError, match="jobs"):
        run_sweep(exp, _small_configs(), seeds=1, jobs=0)
    with pytest.raises(KeyError, match="no parameter 'bogus'"):
        exp.config({"bogus": 1})
    with pytest.raises(KeyError, match="unknown experiment"):
        get_experiment("omd", "nope")
    with pytest.raises(KeyError, match="unknown topic"):
        get_experiment("nope", "regret")
    with pytest.raises(ValueError, match="method"):
        regret_experiment(exp.config({"T": 16, "d": 3, "method": "nope"}),
                          np.random.default_rng(0))


def test_parse_overrides() -> None:
    assert parse_overrides(["a=1"]) == {"a": 1}
    assert parse_overrides(["b=x"]) == {"b": "x"}
    assert parse_overrides(["c=[1,2]"]) == {"c": [1, 2]}
    assert parse_overrides(["d=0.25", "e=true", "f=null", " g =a=b"]) == {
        "d": 0.25, "e": True, "f": None, "g": "a=b"}
    assert parse_overrides([]) == {}
    for bad in ("bad", "=1", " =1"):
        with pytest.raises(ValueError, match="key=value"):
            parse_overrides([bad])


# ---------------------------------------------------------------------------------------------
# two cheap checks at quick scale


@pytest.mark.parametrize("claim_id", ["omd.ogd_strongly_convex", "omd.regimes"])
def test_cheap_checks_hold_at_quick_scale(claim_id: str) -> None:
    verdict = run_check(claim_id, CheckContext(scale="quick"))
    assert verdict.claim_id == claim_id
    assert verdict.holds, verdict.detail
    assert 0 < verdict.tightness <= 1
    assert verdict.status == "holds"
    assert not verdict.data.empty
    assert verdict.seconds > 0
