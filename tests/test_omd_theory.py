"""Tests of theory.omd and its registry, and property tests of every per-run OMD claim.

The per-run claims (1-4, the pathwise form of 7, and 11) are asserted at the theorem's own constants
on SEA streams whose parameters (family, ρ, mean path, horizon, dimension, radius, seed) hypothesis
draws; every prefix T' ≤ T of each run is a checkpoint.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import solvers.omd as so
import theory
from sims.checks import expectation_verdict, get_check, per_run_verdict, slope_verdict
from sims.omd import build_method, make_stream, trajectory_metrics
from sims.omd.environments import PATHS
from sims.omd.experiments import REGRET_DEFAULTS
from theory import omd as th
from theory.registry import ClaimKind

SETTINGS = {"deadline": None, "derandomize": True}
SQRT2 = math.sqrt(2.0)


# ---------------------------------------------------------------------------------------------
# registry


def test_registry_ids_sources_kinds_bounds() -> None:
    claims = theory.claims("omd")
    assert len(claims) >= 14
    ids = [c.id for c in claims]
    assert len(ids) == len(set(ids))
    for c in claims:
        assert c.id.startswith("omd.")
        assert c.topic == "omd"
        assert c.source.strip()
        assert c.statement.strip()
        assert isinstance(c.kind, ClaimKind)
        assert len(c.bounds) >= 1
        for fn in c.bounds:
            assert callable(fn)
            assert getattr(th, fn.__name__) is fn
        assert theory.get_claim(c.id) is c
    assert "omd" in theory.topics()
    per_run = {c.id for c in claims if c.kind is ClaimKind.PER_RUN}
    assert {"omd.optimistic_lemma", "omd.adaptive_step", "omd.variation_decomposition",
            "omd.sachs_pathwise", "omd.chen_convex_pathwise", "omd.ogd_convex",
            "omd.ogd_strongly_convex"} <= per_run
    assert theory.get_claim("omd.sachs_convex").kind is ClaimKind.EXPECTATION


def test_unknown_claim_lists_known_ids() -> None:
    with pytest.raises(KeyError, match=r"nope.*omd\.optimistic_lemma.*omd\.sachs_convex"):
        theory.get_claim("nope")


def test_every_claim_has_a_registered_check() -> None:
    for c in theory.claims("omd"):
        assert callable(get_check(c.id)), c.id
    with pytest.raises(KeyError, match="no registered check"):
        get_check("omd.nope")


def test_claim_validation() -> None:
    with pytest.raises(ValueError, match="topic"):
        theory.Claim("nodot", "s", "src", ClaimKind.RATE)
    with pytest.raises(TypeError, match="kind"):
        theory.Claim("omd.x", "s", "src", "rate")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="already registered"):
        theory.register(theory.Claim("omd.ogd_convex", "other", "src", ClaimKind.RATE))


# ---------------------------------------------------------------------------------------------
# bound functions at hand-computed values


def test_bounds_hand_computed() -> None:
    assert th.ogd_convex_bound(2, 3, 4) == 1.5 * 3 * 2 * 2
    assert th.ogd_strongly_convex_bound(2.0, 0.5, 1) == 4.0
    assert th.ogd_strongly_convex_bound(2.0, 0.5, 8) == pytest.approx(4.0 * (1 + math.log(8)))
    assert th.optimistic_lemma_bound(2.0, 0.5, 3.0, 1.0) == 6.0
    assert th.adaptive_step_bound(2.0, 1.0, 5.0, 7.0, 16.0) == 20.0
    assert th.variation_decomposition_bound(1.0, 2.0, 3.0, 4.0, 0.5) == 34.0
    assert th.default_nu(2.0, 3.0, 0.5) == 8.0
    assert th.sachs_lower_order(1.0, 1.0, 0.0, 2.0) == pytest.approx(1.5 * SQRT2 + 4.0)
    assert th.sachs_lower_order(1.0, 0.0, 1.0, 3.0) == pytest.approx(3.0 + 3.0)
    want = 12.0 + 9.0 * SQRT2 + 1.5 * SQRT2 + 4.0
    assert th.sachs_pathwise_bound(1.0, 1.0, 0.0, 2.0, 4.0, 9.0) == pytest.approx(want)
    assert th.sachs_convex_bound(1.0, 1.0, 0.0, 2.0, 4.0, 9.0) == pytest.approx(want)
    assert th.sachs_strongly_convex_bound(2.0, 0.0, 1.0, 1.0, np.array([4.0, 0.0])) == 14.0
    assert th.sachs_strongly_convex_bound(2.0, 1.0, 1.0, 1.0, [4.0, 0.0]) == pytest.approx(
        14.0 + 2.0 * math.log(9.0))
    assert th.chen_convex_pathwise_bound(2.0, 1.0, 0.0, 5.0, 1.0, 2.0) == 23.0
    assert th.chen_convex_pathwise_bound(2.0, 1.0, 1.0, 5.0, 1.0, 2.0) == pytest.approx(
        23.0 + 200.0 / 3.0)
    assert th.chen_convex_bound(2.0, 1.0, 1.0, 5.0, 1.0, 2.0) == pytest.approx(23.0 + 200.0 / 3.0)
    assert th.chen_convex_rate(2.0, 1.0, 1.0, 4.0, 9.0) == 16.0
    assert th.strongly_convex_burn_in(0.0, 1.0, 1.0) == 0.0
    # L = λ = D = 1: t₀ = 10; the terms 2·(16/t − (t−2)/4) are positive for t = 2..9
    assert th.strongly_convex_burn_in(1.0, 1.0, 1.0) == pytest.approx(
        2.0 * sum(16 / t - (t - 2) / 4 for t in range(2, 10)))
    assert th.chen_strongly_convex_bound(1.0, 0.0, 1.0, [1.0, 1.0], [2.0, 0.0]) == 32.0
    assert th.chen_strongly_convex_rate(2.0, 1.0, 3.0, 100) == pytest.approx(2.0 * math.log(100))
    assert th.chen_strongly_convex_rate(2.0, 1.0, 3.0, 1) == pytest.approx(2.0 * math.log(2))
    assert th.exp_concave_rate(3, 1.0, 0.5) == 3.0
    assert th.exp_concave_rate(3, math.exp(4.0), 0.0) == pytest.approx(12.0)
    assert th.exp_concave_rate(3, 0.0, 0.0) == 3.0  # a noiseless, static stream
    assert th.dynamic_rate(3.0, 4.0, 1.0) == 6.0
    assert th.regime_rate(2.0, 4.0, 9.0) == 10.0
    assert th.harmonic(1) == 1.0
    assert th.harmonic(4) == pytest.approx(25.0 / 12.0)


pos = st.floats(0.01, 100.0)
var = st.floats(0.0, 1e4)


@settings(max_examples=60, **SETTINGS)
@given(D=pos, G=pos, L=st.floats(0.0, 10.0), nu=pos, delta=pos, lam=pos, a=var, b=var, da=var,
       db=var, T=st.integers(1, 10**6), seed=st.integers(0, 2**32 - 1))
def test_bounds_monotone_in_variances(D: float, G: float, L: float, nu: float, delta: float,
                                      lam: float, a: float, b: float, da: float, db: float,
                                      T: int, seed: int) -> None:
    def up(f, *head: float) -> None:  # f(*head, a, b) is non-decreasing in a and b
        base = f(*head, a, b)
        assert f(*head, a + da, b) >= base
        assert f(*head, a, b + db) >= base
        assert f(*head, a + da, b + db) >= base

    up(th.sachs_pathwise_bound, D, G, L, nu)
    up(th.sachs_convex_bound, D, G, L, nu)
    up(th.chen_convex_pathwise_bound, D, G, L, delta)
    up(th.chen_convex_bound, D, G, L, delta)
    up(th.chen_convex_rate, D, G, L)
    up(th.regime_rate, D)
    up(th.exp_concave_rate, 4)
    up(lambda x, y: th.adaptive_step_bound(D, G, delta, x, x + y))
    up(lambda x, y: th.dynamic_rate(1.0, x, y))
    up(lambda x, y: th.chen_strongly_convex_rate(lam, x, y, T))
    up(lambda x, y: th.optimistic_lemma_bound(D, 0.5, x + y, 0.0))
    up(lambda x, y: th.variation_decomposition_bound(x, y, x, y, L))
    # bounds that take per-round sequences
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 50))
    s, S = rng.uniform(0, 3, n), rng.uniform(0, 3, n)
    ds, dS = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    base = th.chen_strongly_convex_bound(lam, L, D, s, S)
    assert th.chen_strongly_convex_bound(lam, L, D, s + ds, S) >= base
    assert th.chen_strongly_convex_bound(lam, L, D, s, S + dS) >= base
    base = th.sachs_strongly_convex_bound(lam, L, D, a, S)
    assert th.sachs_strongly_convex_bound(lam, L, D, a + da, S) >= base
    assert th.sachs_strongly_convex_bound(lam, L, D, a, S + dS) >= base
    # and in the horizon
    assert th.ogd_convex_bound(D, G, T + 1) >= th.ogd_convex_bound(D, G, T)
    assert th.ogd_strongly_convex_bound(G, lam, T + 1) >= th.ogd_strongly_convex_bound(G, lam, T)


@settings(max_examples=60, **SETTINGS)
@given(L=st.floats(0.0, 20.0), lam=st.floats(0.01, 10.0), D=st.floats(0.01, 10.0))
def test_strongly_convex_burn_in_brute_force(L: float, lam: float, D: float) -> None:
    t0 = 2.0 + 8.0 * L / lam
    t = np.arange(2, int(10 * t0) + 1000, dtype=float)
    brute = 2.0 * D * D * float(np.sum(np.maximum(0.0, 16 * L * L / (lam * t) - lam * (t - 2) / 4)))
    got = th.strongly_convex_burn_in(L, lam, D)
    assert got == pytest.approx(brute, rel=1e-12, abs=1e-300)
    assert got <= 32.0 * L * L * D * D / lam * th.harmonic(t0) * (1 + 1e-12)
    assert got >= 0.0


# ---------------------------------------------------------------------------------------------
# per-run claims on generated SEA streams


def _every_round(stream) -> np.ndarray:
    # least squares needs a nonsingular AᵀA for the hindsight solve, hence T' ≥ 2d there
    start = 2 * stream.dim if stream.family == "square" else 1
    return np.arange(start, stream.T + 1, dtype=np.int64)


def _play(family: str, method: str, p: dict, **config):
    rng = np.random.default_rng(p["seed"])
    stream = make_stream(family, p["T"], p["d"], rng, rho=p["rho"], s0=p["s0"], A0=p["A0"],
                         m=p["m"], path=p["path"], block=p["block"], omega=p["omega"],
                         radius=p["radius"])
    assume(stream.G > 0)  # all-zero linear losses: no step D/(G√t) exists
    cfg = dict(REGRET_DEFAULTS, **config)
    traj = so.run(build_method(method, stream, cfg), stream.losses)
    df = trajectory_metrics(stream, traj, _every_round(stream))
    return stream, traj, df, rng


def _random_u(rng: np.random.Generator, d: int, radius: float) -> np.ndarray:
    u = rng.standard_normal(d)
    return u * (radius * rng.uniform() ** (1 / d) / np.linalg.norm(u))


def _lin_regret_prefix(traj, u: np.ndarray, rounds: np.ndarray) -> np.ndarray:
    per_t = np.einsum("td,td->t", traj.grads, traj.x - u)
    return np.cumsum(per_t)[rounds - 1]


def _le(lhs, rhs) -> None:
    lhs, rhs = np.asarray(lhs, dtype=float), np.asarray(rhs, dtype=float)
    slack = 1e-9 * np.maximum(1.0, np.abs(rhs))
    bad = np.flatnonzero(lhs > rhs + slack)
    assert bad.size == 0, f"{bad.size} violations, first at {bad[0]}: {lhs[bad[0]]} > {rhs[bad[0]]}"


stream_params = st.fixed_dictionaries({
    "T": st.integers(16, 512),
    "d": st.integers(2, 8),
    "rho": st.floats(0.0, 1.0),
    "path": st.sampled_from(PATHS),
    "seed": st.integers(0, 2**32 - 1),
    "radius": st.floats(0.5, 2.0),
    "s0": st.floats(0.0, 2.0),
    "A0": st.floats(0.0, 2.0),
    "m": st.floats(-1.0, 1.0),
    "block": st.integers(1, 64),
    "omega": st.floats(0.001, 0.5),
})


def _claim1(stream, traj, df, rng) -> None:
    x, g, m, eta, xh = traj.x, traj.grads, traj.hints, traj.eta, traj.x_hat
    assert np.all(np.diff(eta) <= 0)  # the lemma needs non-increasing steps
    # the columns the bound uses, recomputed from the trajectory
    wv = np.cumsum(eta * np.sum((g - m) ** 2, axis=1))
    stab = np.cumsum((np.sum((x - xh[:-1]) ** 2, axis=1) + np.sum((xh[1:] - x) ** 2, axis=1))
                     / (2 * eta))
    rounds = df["rounds"].to_numpy()
    np.testing.assert_allclose(df["weighted_variation"], wv[rounds - 1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(df["stability"], stab[rounds - 1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(df["eta_T"], eta[rounds - 1])
    bound = np.array([th.optimistic_lemma_bound(stream.D, e, w, s) for e, w, s in
                      zip(df["eta_T"], df["weighted_variation"], df["stability"], strict=True)])
    _le(df["lin_regret"], bound)                  # u = u*_{T'} (hindsight)
    _le(df["regret"], df["lin_regret"])           # every f_t is convex
    u = _random_u(rng, stream.dim, stream.radius)
    _le(_lin_regret_prefix(traj, u, rounds), bound)


@settings(max_examples=50, **SETTINGS)
@given(p=stream_params, family=st.sampled_from(("linear", "quadratic", "square")),
       method=st.sampled_from(("optimistic_omd", "optimistic_omd_sc", "ogd", "ogd_sc")),
       delta=st.floats(0.1, 10.0))
def test_claim1_optimistic_lemma(p: dict, family: str, method: str, delta: float) -> None:
    if family == "linear" and method.endswith("_sc"):
        method = method[:-3]  # linear losses are not strongly convex
    _claim1(*_play(family, method, p, delta=delta))


@settings(max_examples=50, **SETTINGS)
@given(p=stream_params, family=st.sampled_from(("linear", "quadratic", "square")),
       delta=st.floats(0.1, 10.0))
def test_claim2_adaptive_step(p: dict, family: str, delta: float) -> None:
    stream, traj, df, rng = _play(family, "optimistic_omd", p, delta=delta)
    g = traj.grads
    assert np.max(np.linalg.norm(g, axis=1)) <= stream.G * (1 + 1e-12)  # ‖g_t − M_t‖ ≤ 2G
    var = np.sum((g - traj.hints) ** 2, axis=1)
    rounds = df["rounds"].to_numpy()
    np.testing.assert_allclose(df["V"], np.cumsum(var)[rounds - 1], rtol=1e-12)
    np.testing.assert_allclose(df["V_prev"], np.cumsum(var)[rounds - 1] - var[rounds - 1],
                               rtol=1e-9, atol=1e-12)
    bound = np.array([th.adaptive_step_bound(stream.D, stream.G, delta, vp, v)
                      for vp, v in zip(df["V_prev"], df["V"], strict=True)])
    _le(df["lin_regret"], bound)
    _le(_lin_regret_prefix(traj, _random_u(rng, stream.dim, stream.radius), rounds), bound)
    _claim1(stream, traj, df, rng)  # and claim 1 for the same run


@settings(max_examples=50, **SETTINGS)
@given(p=stream_params, family=st.sampled_from(("linear", "quadratic", "square")),
       method=st.sampled_from(("optimistic_omd", "ogd", "oftrl", "oftl")))
def test_claim3_variation_decomposition_every_step(p: dict, family: str, method: str) -> None:
    if family == "linear" and method == "oftl":
        method = "oftrl"
    stream, traj, df, _ = _play(family, method, p)
    x, g, L = traj.x, traj.grads, stream.L
    t = np.arange(stream.T)
    e = np.sum((g - stream.mean_grad(x, t)) ** 2, axis=1)                     # ‖g_t − ∇F_t(x_t)‖²
    lhs = np.sum(np.diff(g, axis=0) ** 2, axis=1)                             # t ≥ 2
    move = np.sum(np.diff(x, axis=0) ** 2, axis=1)
    drift = np.sum((stream.mean_grad(x[:-1], t[1:]) - stream.mean_grad(x[:-1], t[:-1])) ** 2,
                   axis=1)
    rhs = np.array([th.variation_decomposition_bound(e[i + 1], move[i], drift[i], e[i], L)
                    for i in range(stream.T - 1)])
    _le(lhs, rhs)
    # round 1 (g_0 = 0, ∇F_0 ≡ 0) and the metrics' own max ratio
    _le(np.sum(g[0] ** 2), 4 * e[0] + 4 * np.sum(stream.mean_grad(x[:1], t[:1]) ** 2))
    assert np.all(df["decomp_ratio"] <= 1.0 + 1e-9)


@settings(max_examples=50, **SETTINGS)
@given(p=stream_params, family=st.sampled_from(("linear", "quadratic", "square")))
def test_claim4_sachs_pathwise_oftrl(p: dict, family: str) -> None:
    stream, traj, df, rng = _play(family, "oftrl", p)
    D, G, L = stream.D, stream.G, stream.L
    nu = th.default_nu(D, G, L)
    rounds = df["rounds"].to_numpy()
    x, g = traj.x, traj.grads
    t = np.arange(stream.T)
    noise = np.cumsum(np.sum((g - stream.mean_grad(x, t)) ** 2, axis=1))
    drift_t = np.zeros(stream.T)  # term t: ‖∇F_{t+1}(x_t) − ∇F_t(x_t)‖², t < T'
    drift_t[:-1] = np.sum((stream.mean_grad(x[:-1], t[1:]) - stream.mean_grad(x[:-1], t[:-1]))
                          ** 2, axis=1)
    drift = np.concatenate([[0.0], np.cumsum(drift_t)[:-1]])
    np.testing.assert_allclose(df["noise"], noise[rounds - 1], rtol=1e-12)
    np.testing.assert_allclose(df["drift_sachs"], drift[rounds - 1], rtol=1e-9, atol=1e-12)
    bound = np.array([th.sachs_pathwise_bound(D, G, L, nu, n, dr)
                      for n, dr in zip(df["noise"], df["drift_sachs"], strict=True)])
    _le(df["lin_regret"], bound)
    _le(_lin_regret_prefix(traj, _random_u(rng, stream.dim, stream.radius), rounds), bound)


@settings(max_examples=50, **SETTINGS)
@given(p=stream_params, family=st.sampled_from(("linear", "quadratic", "square")),
       delta=st.floats(0.1, 10.0))
def test_chen_convex_pathwise(p: dict, family: str, delta: float) -> None:
    stream, traj, df, rng = _play(family, "optimistic_omd", p, delta=delta)
    D, G, L = stream.D, stream.G, stream.L
    rounds = df["rounds"].to_numpy()
    x, t = traj.x, np.arange(stream.T)
    drift_t = np.empty(stream.T)
    drift_t[0] = np.sum(stream.mean_grad(x[:1], t[:1]) ** 2)
    drift_t[1:] = np.sum((stream.mean_grad(x[:-1], t[1:]) - stream.mean_grad(x[:-1], t[:-1])) ** 2,
                         axis=1)
    np.testing.assert_allclose(df["drift"], np.cumsum(drift_t)[rounds - 1], rtol=1e-12)
    bound = np.array([th.chen_convex_pathwise_bound(D, G, L, delta, n, dr)
                      for n, dr in zip(df["noise"], df["drift"], strict=True)])
    _le(df["lin_regret"], bound)
    _le(_lin_regret_prefix(traj, _random_u(rng, stream.dim, stream.radius), rounds), bound)


@settings(max_examples=50, **SETTINGS)
@given(p=stream_params, family=st.sampled_from(("linear", "quadratic", "square")))
def test_claim11_ogd_convex(p: dict, family: str) -> None:
    stream, _, df, _ = _play(family, "ogd", p)
    bound = np.array([th.ogd_convex_bound(stream.D, stream.G, int(r)) for r in df["rounds"]])
    _le(df["regret"], bound)


@settings(max_examples=50, **SETTINGS)
@given(p=stream_params)
def test_claim11_ogd_strongly_convex(p: dict) -> None:
    stream, _, df, _ = _play("quadratic", "ogd_sc", p)
    assert stream.lam == 1.0  # every realised f_t = ½‖x − c_t − ξ_t‖² is 1-strongly convex
    bound = np.array([th.ogd_strongly_convex_bound(stream.G, stream.lam, int(r))
                      for r in df["rounds"]])
    _le(df["regret"], bound)


# ---------------------------------------------------------------------------------------------
# the check machinery can say no


def test_per_run_verdict_rejects_a_violation() -> None:
    df = pd.DataFrame({"measured": [1.0, 2.0, 3.5], "bound": [2.0, 2.0, 3.0]})
    v = per_run_verdict("omd.x", df, "measured", "bound")
    assert not v.holds
    assert v.status == "FAILS"
    assert v.tightness == pytest.approx(3.5 / 3.0)
    assert "1/3 rows exceed" in v.detail
    ok = per_run_verdict("omd.x", df.assign(bound=[2.0, 2.0, 3.5 * (1 + 1e-12)]), "measured",
                         "bound")
    assert ok.holds and ok.tightness <= 1.0
    with pytest.raises(ValueError, match="no rows"):
        per_run_verdict("omd.x", df.iloc[:0], "measured", "bound")


def test_expectation_verdict_rejects_a_mean_above_the_bound() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"cfg": np.repeat([0, 1], 20), "measured": rng.normal(10.0, 1.0, 40)})
    bad = expectation_verdict("omd.x", df.assign(bound=1.0), "measured", "bound", ["cfg"])
    assert not bad.holds
    assert "2 configs exceed" in bad.detail
    good = expectation_verdict("omd.x", df.assign(bound=10.0), "measured", "bound", ["cfg"])
    assert good.holds  # the mean sits at the bound: within the one-sided CI
    assert not slope_verdict("omd.x", df, 0.9, 0.5, 0.1).holds
    assert slope_verdict("omd.x", df, 0.55, 0.5, 0.1).holds
