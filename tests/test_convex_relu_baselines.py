"""Baselines of the convex_relu topic: cvxpy programs, certificate and attacks, non-convex training, pricing.

Claims CR2, CR3, CR4, CR5, CR10, CR11 and the KKT/pricing cross-check of spec §6.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers.convex_relu import adversarial as adv
from solvers.convex_relu.cvx import solve_cvxpy
from solvers.convex_relu.network import ReLUNetwork, cone_violation, group_norms, recover
from solvers.convex_relu.nonconvex import train_nonconvex
from solvers.convex_relu.patterns import (
    Patterns,
    beta_max,
    enumerate_patterns_2d,
    pattern_of,
    sample_patterns,
    with_bias,
)
from solvers.convex_relu.pricing import kkt_pricing_gap, price, pricing_value, violation_rate

FAST = settings(deadline=None, derandomize=True, max_examples=5)
LOSSES = ["squared", "hinge"]


def data(seed: int, n: int = 24, features: int = 2, labels: str = "squared", P: int = 14):
    """Gaussian features plus bias; smooth targets (squared) or their signs (hinge); sampled patterns."""
    rng = np.random.default_rng(seed)
    X = with_bias(rng.standard_normal((n, features)))
    y = np.sin(1.5 * X[:, 0]) + 0.5 * X[:, -2] + 0.1 * rng.standard_normal(n)
    if labels == "hinge":
        y = np.where(y >= 0, 1.0, -1.0)
    patterns = sample_patterns(X, P, rng)
    return X, y, patterns, 0.1 * beta_max(X, y, patterns)


def feasible_point(seed: int, n: int = 12, features: int = 3, P: int = 6):
    """An exactly feasible point of the robust program (spec §6): v_i = c_i h_i, w_i = c'_i h_i with D_i = D(h_i)
    and ε at half the smallest ratio |x_kᵀh_i|/‖h_i^f‖₁, so every robust cone holds with slack."""
    rng = np.random.default_rng(seed)
    X = with_bias(rng.uniform(0, 1, (n, features)))
    H = rng.standard_normal((features + 1, P))
    patterns = Patterns(pattern_of(X, H), H)
    ratio = np.abs(X @ H) / np.abs(H[:-1]).sum(axis=0)[None, :]
    eps = 0.5 * float(ratio.min())
    c = rng.uniform(0.2, 1.5, P) * (rng.random(P) < 0.8)
    cw = rng.uniform(0.2, 1.5, P) * (rng.random(P) < 0.5)
    V, W = c[:, None] * H.T, cw[:, None] * H.T
    y_sq = rng.standard_normal(n)
    y_pm = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    return X, {"squared": y_sq, "hinge": y_pm}, patterns, V, W, eps


# ----------------------------------------------------------------------------------------------------
# cvxpy programs: CR3, CR4, CR5


@pytest.mark.parametrize("loss", LOSSES)
def test_cvxpy_recovered_network_attains_value(loss):
    X, y, patterns, beta = data(0, labels=loss)
    res = solve_cvxpy(X, y, patterns, beta, loss=loss)
    assert res.ok and res.solver == "CLARABEL" and res.attempts == (("CLARABEL", "optimal"),)
    assert res.solve_time >= res.compile_time > 0
    np.testing.assert_allclose(res.value, res.solver_value, rtol=1e-6)
    assert res.violation <= 1e-7 * max(1.0, float(np.abs(X).max()))
    net = res.network()
    assert net.width == res.active_groups() >= 1
    np.testing.assert_allclose(net.objective(X, y, beta, loss), res.value, rtol=1e-6)  # CR3


@pytest.mark.parametrize("loss", LOSSES)
def test_gated_value_below_standard(loss):
    X, y, patterns, beta = data(1, labels=loss)
    std = solve_cvxpy(X, y, patterns, beta, loss=loss)
    gated = solve_cvxpy(X, y, patterns, beta, loss=loss, gated=True)
    assert gated.ok and np.all(gated.W == 0) and gated.violation == 0.0
    assert gated.value <= std.value * (1 + 1e-7)  # CR5
    assert gated.value < std.value * (1 - 1e-6)  # strict here: the cones bind at this instance


def test_gated_network_matches_program():
    pytest.importorskip("solvers.convex_relu.gated")
    X, y, patterns, beta = data(1)
    gated = solve_cvxpy(X, y, patterns, beta, gated=True)
    keep = group_norms(gated.V) > 1e-6 * group_norms(gated.V).max()
    np.testing.assert_allclose(gated.network().forward(X),
                               (patterns.masks[:, keep] * (X @ gated.V[keep].T)).sum(axis=1), atol=1e-9)


@FAST
@given(seed=st.integers(0, 10_000), loss=st.sampled_from(LOSSES))
def test_more_patterns_never_raise_the_optimum(seed, loss):
    X, y, patterns, beta = data(seed, n=20, labels=loss, P=24)
    values = [solve_cvxpy(X, y, patterns.subset(np.arange(k)), beta, loss=loss).value
              for k in (max(1, patterns.P // 4), patterns.P // 2, patterns.P)]
    assert values[0] >= values[1] * (1 - 1e-7) and values[1] >= values[2] * (1 - 1e-7)  # CR4


def test_solver_failure_is_reported_and_scs_is_the_fallback(monkeypatch):
    X, y, patterns, beta = data(2)
    res = solve_cvxpy(X, y, patterns, beta, solver="CLARABEL", max_iter=1)  # stops early: not optimal
    assert not res.ok and res.value == np.inf and res.attempts[0][0] == "CLARABEL" and len(res.attempts) == 1
    assert np.all(res.V == 0) and np.all(np.isfinite(res.V))
    ref = solve_cvxpy(X, y, patterns, beta, eps=1e-9)
    import cvxpy as cp

    solve = cp.Problem.solve

    def clarabel_breaks(self, *args, **kwargs):
        if kwargs.get("solver") == "CLARABEL":
            raise cp.error.SolverError("simulated failure")
        return solve(self, *args, **kwargs)

    monkeypatch.setattr(cp.Problem, "solve", clarabel_breaks)
    scs = solve_cvxpy(X, y, patterns, beta, eps=1e-9)
    assert scs.ok and scs.solver == "SCS" and [a[0] for a in scs.attempts] == ["CLARABEL", "SCS"]
    assert scs.attempts[0][1].startswith("solver_error")
    np.testing.assert_allclose(scs.value, ref.value, rtol=1e-3)  # SCS is a first-order method


# ----------------------------------------------------------------------------------------------------
# CR10: certificate and attacks


@FAST
@given(seed=st.integers(0, 10_000), loss=st.sampled_from(LOSSES))
def test_certificate_exact_on_feasible_point(seed, loss):
    X, ys, patterns, V, W, eps = feasible_point(seed)
    y = ys[loss]
    assert cone_violation(X, patterns, V, W, eps) == 0.0
    net = recover(V, W)
    wc = adv.worst_case_losses(X, y, patterns, V, W, eps, loss)
    scale = max(1.0, float(wc.max()))
    delta = adv.worst_case_delta(X, y, patterns, V, W, eps, loss)
    assert np.all(delta[:, -1] == 0) and np.abs(delta).max() <= eps
    np.testing.assert_allclose(adv.pointwise_loss(net.forward(X + delta), y, loss), wc, rtol=0, atol=1e-12 * scale)
    cert = adv.certify(net, X, y, eps, loss)
    assert np.all(cert.stable)
    np.testing.assert_allclose(cert.worst_loss, wc, rtol=0, atol=1e-12 * scale)
    brute = adv.brute_force_attack(net, X, y, eps, loss)
    np.testing.assert_allclose(brute.losses, wc, rtol=0, atol=1e-12 * scale)  # a vertex attains it
    pgd = adv.pgd(net, X, y, eps, loss, steps=20, restarts=2, rng=seed)
    for attack in (brute, pgd, adv.fgsm(net, X, y, eps, loss)):
        assert np.all(attack.losses <= wc + 1e-9 * scale), attack.method
        assert np.all(np.abs(attack.deltas).max(axis=1) <= eps) and np.all(attack.deltas[:, -1] == 0)
        np.testing.assert_allclose(adv.pointwise_loss(net.forward(X + attack.deltas), y, loss), attack.losses,
                                   atol=1e-12 * scale)
    # the closed form is tight: a larger box gives a larger loss somewhere
    assert np.any(adv.brute_force_attack(net, X, y, 1.5 * eps, loss).losses > wc + 1e-9 * scale)


@pytest.mark.parametrize("loss", LOSSES)
def test_certificate_on_robust_cvxpy_solution(loss):
    X, y, patterns, beta = data(3, n=20, labels=loss)
    eps = 0.05
    res = solve_cvxpy(X, y, patterns, beta, loss=loss, eps=eps)
    assert res.ok and res.eps == eps
    net = recover(res.V, res.W)  # every group kept: the network is the exact image of (V, W)
    wc = adv.worst_case_losses(X, y, patterns, res.V, res.W, eps, loss)
    # the solver's cones hold to res.violation; each group then moves the output by at most that much off the
    # affine model inside the box, so losses may exceed the closed form by B (hinge) or rB + B²/2 (squared)
    B = 2 * patterns.P * res.violation
    slack = B if loss == "hinge" else np.sqrt(2 * wc) * B + B**2 / 2
    tol = 1e-9 * max(1.0, float(wc.max())) + slack
    delta = adv.worst_case_delta(X, y, patterns, res.V, res.W, eps, loss)
    assert np.all(np.abs(adv.pointwise_loss(net.forward(X + delta), y, loss) - wc) <= tol)
    for attack in (adv.brute_force_attack(net, X, y, eps, loss), adv.pgd(net, X, y, eps, loss, restarts=2, rng=0),
                   adv.fgsm(net, X, y, eps, loss)):
        assert np.all(attack.losses <= wc + tol), attack.method
    # the robust non-convex objective of the recovered network is the robust convex optimum
    robust = adv.robust_objective(res.network(), X, y, beta, eps, loss, tol=1e-6)
    np.testing.assert_allclose(robust, res.value, rtol=1e-6)
    clean = solve_cvxpy(X, y, patterns, beta, loss=loss)
    assert res.value >= clean.value  # robustness costs


def test_robust_accuracy_orders():
    X, y, patterns, beta = data(4, n=30, labels="hinge")
    res = solve_cvxpy(X, y, patterns, beta, loss="hinge", eps=0.05)
    net = res.network()
    certified = adv.robust_accuracy(net, X, y, 0.05, "certified")
    for attack in ("pgd", "fgsm"):
        assert certified <= adv.robust_accuracy(net, X, y, 0.05, attack) <= adv.robust_accuracy(net, X, y, 0.0,
                                                                                                   attack)
    assert adv.robust_accuracy(net, X, y, 0.0, "pgd") == float(np.mean(y * net.forward(X) > 0))


# ----------------------------------------------------------------------------------------------------
# CR11: collapse


def _eps_star_direct(X: np.ndarray, mask: np.ndarray, grid: int = 20_001) -> float:
    """2-D data: ε_i* = max over ‖v^f‖₁ ≤ 1 of (min_{D=1} x^fᵀv^f − max_{D=0} x^fᵀv^f)/2 (the best bias), which is
    homogeneous in v^f, so its maximum is 0 (at v^f = 0) or on the ℓ1 sphere: a fine grid of the sphere."""
    t = np.linspace(-1.0, 1.0, grid)
    Vf = np.concatenate([np.stack([t, 1 - np.abs(t)], axis=1), np.stack([t, np.abs(t) - 1], axis=1)])
    Z = X[:, :2] @ Vf.T
    on, off = mask == 1, mask == 0
    return max(0.0, float(((Z[on].min(axis=0) - Z[off].max(axis=0)) / 2).max()))


def test_eps_star_lp_matches_direct_computation():
    rng = np.random.default_rng(5)
    X = with_bias(rng.uniform(0, 1, (15, 2)))
    patterns = sample_patterns(X, 30, rng).union(Patterns(np.ones((15, 1)), np.array([[0.0], [0.0], [1.0]])))
    es = adv.eps_star(X, patterns)
    counts = patterns.masks.sum(axis=0)
    np.testing.assert_array_equal(es.mixed, (counts > 0) & (counts < 15))
    assert np.all(np.isinf(es.per_pattern[~es.mixed])) and es.value == es.per_pattern[es.mixed].max()
    direct = np.array([_eps_star_direct(X, patterns.masks[:, i]) for i in np.flatnonzero(es.mixed)])
    lp = es.per_pattern[es.mixed]
    assert np.all(direct <= lp + 1e-12) and np.all(lp - direct <= 1e-3)


@pytest.mark.parametrize("loss", LOSSES)
def test_collapse_above_eps_star(loss):
    rng = np.random.default_rng(6)
    X = with_bias(rng.uniform(0, 1, (20, 2)))
    if loss == "hinge":
        y = np.where((X[:, 0] - 0.5) ** 2 + (X[:, 1] - 0.5) ** 2 > 0.1, 1.0, -1.0)
    else:
        y = np.sin(6 * X[:, 0])
    patterns = sample_patterns(X, 60, rng).union(Patterns(np.ones((20, 1)), np.array([[0.0], [0.0], [1.0]])))
    beta = 0.01 * beta_max(X, y, patterns)
    es = adv.eps_star(X, patterns)
    norms = lambda r: np.maximum(group_norms(r.V), group_norms(r.W))  # noqa: E731
    above = solve_cvxpy(X, y, patterns, beta, loss=loss, eps=1.05 * es.value)
    assert above.ok and np.all(norms(above)[es.mixed] <= 1e-6 * max(1.0, norms(above).max()))  # CR11
    below = solve_cvxpy(X, y, patterns, beta, loss=loss, eps=0.5 * es.value)
    assert np.any(norms(below)[es.mixed] > 1e-2)  # the check can fail: below ε* mixed patterns are used


# ----------------------------------------------------------------------------------------------------
# non-convex training: CR2 lower bound, determinism, divergence, adversarial training


@pytest.fixture(scope="module")
def enumerated():
    rng = np.random.default_rng(7)
    X = with_bias(rng.standard_normal((12, 2)))
    y = np.sin(2 * X[:, 0]) + 0.1 * rng.standard_normal(12)
    full = enumerate_patterns_2d(X)
    beta = 0.05 * beta_max(X, y, full)
    return X, y, full, beta, solve_cvxpy(X, y, full, beta)


@pytest.mark.parametrize("method", ["adam", "gd", "sgd"])
def test_nonconvex_descends_but_never_below_full_optimum(enumerated, method):
    X, y, full, beta, opt = enumerated
    assert opt.ok and full.P == 12 * 12 - 12 + 1
    for seed in range(2):
        res = train_nonconvex(X, y, 16, beta, method=method, epochs=600, rng=seed, record_every=20,
                              batch_size=4 if method == "sgd" else None)
        obj = res.history["objective"]
        assert res.status == "max_epochs" and res.epochs == 600
        assert obj[-1] < 0.5 * obj[0]
        assert np.all(obj >= opt.value * (1 - 1e-6))  # CR2: f*(𝒟_full) bounds every network
        assert res.network.objective(X, y, beta) == pytest.approx(obj[-1], rel=1e-12)


def test_nonconvex_same_seed_same_bits_and_divergence():
    X, y, _, beta = data(8, labels="hinge")
    a = train_nonconvex(X, y, 8, beta, loss="hinge", method="sgd", epochs=20, batch_size=5, rng=3)
    b = train_nonconvex(X, y, 8, beta, loss="hinge", method="sgd", epochs=20, batch_size=5, rng=3)
    assert np.array_equal(a.U, b.U) and np.array_equal(a.alpha, b.alpha)
    assert np.array_equal(a.history["objective"], b.history["objective"]) and "accuracy" in a.history
    bad = train_nonconvex(X, y, 8, beta, method="gd", lr=50.0, epochs=200, rng=0)
    assert bad.status == "diverged" and bad.epochs < 200
    assert np.all(np.isfinite(bad.U)) and np.all(np.isfinite(bad.history["objective"]))


@pytest.mark.parametrize("attack", ["pgd", "fgsm"])
def test_adversarial_training_records_robust_loss(attack):
    X, y, _, beta = data(9, labels="hinge")
    res = train_nonconvex(X, y, 10, beta, loss="hinge", epochs=100, rng=1, adv_eps=0.1, adv_attack=attack,
                          record_every=25)
    h = res.history
    assert np.all(h["adv_objective"] >= h["objective"] - 1e-12) and h["adv_objective"][-1] < h["adv_objective"][0]


# ----------------------------------------------------------------------------------------------------
# pricing


def test_pricing_kkt_at_cvxpy_optimum_and_new_patterns():
    X, y, patterns, beta = data(10, n=30, P=12)
    opt = solve_cvxpy(X, y, patterns, beta)
    kkt = kkt_pricing_gap(X, y, patterns, opt.V, opt.W, beta)
    assert kkt.excess <= 1e-6 * beta and kkt.active_deviation <= 1e-5 * beta and kkt.active_v.any()
    e = y - (patterns.masks * (X @ (opt.V - opt.W).T)).sum(axis=1)
    for i in range(3):  # the projection (NNLS) equals the SOCP
        mask = patterns.masks[:, i]
        assert pricing_value(X, e, mask) == pytest.approx(pricing_value(X, e, mask, method="cvxpy"), abs=1e-6)
    fresh = sample_patterns(X, 100, np.random.default_rng(11))
    priced = price(X, y, patterns, opt.V, opt.W, beta, fresh)
    assert priced.n_violated > 0
    bigger = patterns.union(fresh.subset(np.flatnonzero(priced.violated)[:1]))
    assert solve_cvxpy(X, y, bigger, beta).value < opt.value * (1 - 1e-6)  # a violated pattern lowers f*
    rate = violation_rate(X, y, patterns, opt.V, opt.W, beta, 200, 12)
    assert 0 < rate.rate < 1 and rate.n_samples == 200 and rate.values.shape == (200,)


# ----------------------------------------------------------------------------------------------------
# bad input


def test_bad_input_names_the_argument():
    X, y, patterns, beta = data(12, labels="hinge")
    V = np.zeros((patterns.P, 3))
    net = ReLUNetwork(np.ones((2, 3)), np.ones(2))
    cases = [
        (lambda: solve_cvxpy(X, y, patterns, beta, eps=-0.1), ValueError, "^eps"),
        (lambda: solve_cvxpy(X, y, patterns, 0.0), ValueError, "^beta"),
        (lambda: solve_cvxpy(X, y + 0.5, patterns, beta, loss="hinge"), ValueError, "^y"),
        (lambda: solve_cvxpy(X[:, :-1], y, patterns, beta), ValueError, "^X"),
        (lambda: solve_cvxpy(X, y, patterns, beta, gated=True, eps=0.1), ValueError, "^eps"),
        (lambda: solve_cvxpy(X, y, patterns, beta, solver="NOPE"), ValueError, "^solver"),
        (lambda: solve_cvxpy(X, y, patterns, beta, loss="l1"), ValueError, "^loss"),
        (lambda: adv.worst_case_losses(X, y, patterns, V[:, :2], V, 0.1, "hinge"), ValueError, "^V"),
        (lambda: adv.pgd(net, X, y, 0.1, restarts=2), ValueError, "^rng"),
        (lambda: adv.pgd(net, X, y, 0.1, steps=0), ValueError, "^steps"),
        (lambda: adv.fgsm(net, X, y, -1.0), ValueError, "^eps"),
        (lambda: adv.fgsm(ReLUNetwork(np.ones((2, 4)), np.ones(2)), X, y, 0.1), ValueError, "^network"),
        (lambda: adv.brute_force_attack(ReLUNetwork(np.ones((1, 14)), np.ones(1)), with_bias(np.ones((2, 13))),
                                        np.ones(2), 0.1), ValueError, "^X"),
        (lambda: adv.robust_accuracy(net, X, y, 0.1, "cw"), ValueError, "^attack"),
        (lambda: train_nonconvex(X, y, 0, beta, rng=0), ValueError, "^width"),
        (lambda: train_nonconvex(X, y, 4, -1.0, rng=0), ValueError, "^beta"),
        (lambda: train_nonconvex(X, y * 2, 4, beta, loss="hinge", rng=0), ValueError, "^y"),
        (lambda: train_nonconvex(X, y, 4, beta, method="lbfgs", rng=0), ValueError, "^method"),
        (lambda: train_nonconvex(X, y, 4, beta, method="gd", batch_size=3, rng=0), ValueError, "^batch_size"),
        (lambda: train_nonconvex(X, y, 4, beta, adv_eps=-0.1, rng=0), ValueError, "^adv_eps"),
        (lambda: pricing_value(X, y, np.ones(3)), ValueError, "^mask"),
        (lambda: price(X, y, patterns, V, V, 0.0, patterns), ValueError, "^beta"),
        (lambda: violation_rate(X, y, patterns, V, V, beta, 0, 1), ValueError, "^n_samples"),
        (lambda: adv.eps_star(X, "patterns"), TypeError, "^patterns"),
    ]
    for fn, exc, match in cases:
        with pytest.raises(exc, match=match):
            fn()
