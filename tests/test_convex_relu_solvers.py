"""Tests of the convex ReLU solvers: patterns, recovery and lift, the u-step identities, ADMM and gated FISTA."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers.convex_relu import (
    FT,
    GT,
    F,
    G,
    Patterns,
    ReLUNetwork,
    beta_max,
    cone_violation,
    convex_objective,
    convex_predict,
    dense_factor,
    enumerate_patterns_2d,
    lift,
    loss_grad,
    loss_value,
    pattern_of,
    recover,
    sample_patterns,
    with_bias,
    woodbury_factor,
)
from solvers.convex_relu.admm import _slack_step_xp, admm, default_rho, slack_step
from solvers.convex_relu.gated import gated_fista, gated_objective
from solvers.convex_relu.network import restore_feasible

FAST = settings(deadline=None, derandomize=True, max_examples=8)


def teacher(n: int, d: int, P: int, seed: int, c_beta: float = 0.1):
    """Gaussian X with bias, y from a random ReLU teacher plus noise, P sampled patterns, β = c·β_max."""
    rng = np.random.default_rng(seed)
    X = with_bias(rng.standard_normal((n, d - 1)))
    U, a = rng.standard_normal((6, d)), rng.standard_normal(6)
    y = np.maximum(X @ U.T, 0.0) @ a + 0.1 * rng.standard_normal(n)
    pats = sample_patterns(X, P, rng)
    return X, y, pats, c_beta * beta_max(X, y, pats)


def cvxpy_optimum(X, y, pats, beta, tol=None):
    """f*(𝒟) by cvxpy + Clarabel, the problem written out here (spec §3.4); ``tol`` tightens Clarabel's gaps."""
    cp = pytest.importorskip("cvxpy")
    d, P = X.shape[1], pats.P
    V, W = cp.Variable((d, P)), cp.Variable((d, P))
    pred = cp.sum(cp.multiply(pats.masks, X @ (V - W)), axis=1)
    obj = 0.5 * cp.sum_squares(pred - y) + beta * (cp.sum(cp.norm(V, 2, axis=0)) + cp.sum(cp.norm(W, 2, axis=0)))
    cons = [cp.multiply(pats.signs, X @ V) >= 0, cp.multiply(pats.signs, X @ W) >= 0]
    prob = cp.Problem(cp.Minimize(obj), cons)
    opts = {} if tol is None else {"tol_gap_abs": tol, "tol_gap_rel": tol, "tol_feas": tol}
    prob.solve(solver=cp.CLARABEL, **opts)
    return prob.value


@pytest.fixture(scope="module")
def small():
    """n = 60, d = 4, P = 20 sampled, with f* from cvxpy and from a long ADMM run."""
    X, y, pats, beta = teacher(60, 4, 20, 2)
    f_cvx = cvxpy_optimum(X, y, pats, beta)
    long = admm(X, y, pats, beta, rho_rule="balance_rel", max_iter=20000, abstol=1e-11, reltol=1e-11,
                stall_window=None)
    return X, y, pats, beta, f_cvx, long


# ---------------------------------------------------------------------------------------------- patterns


@FAST
@given(n=st.integers(5, 30), seed=st.integers(0, 10_000))
def test_enumeration_count_and_generators(n, seed):
    X = with_bias(np.random.default_rng(seed).standard_normal((n, 2)))
    pats = enumerate_patterns_2d(X)
    assert pats.P == n * n - n + 1
    assert np.array_equal(pattern_of(X, pats.generators), pats.masks)
    assert np.unique(pats.masks, axis=1).shape[1] == pats.P
    assert pats.masks.any(axis=0).all()


def test_enumeration_beats_sampling_and_rejects_collinear_points():
    rng = np.random.default_rng(1)
    X = with_bias(rng.standard_normal((12, 2)))
    full = enumerate_patterns_2d(X)
    sampled = sample_patterns(X, 2000, rng)
    assert set(map(bytes, sampled.masks.T.astype(np.uint8))) <= set(map(bytes, full.masks.T.astype(np.uint8)))
    X[2, :2] = 0.5 * (X[0, :2] + X[1, :2])  # three collinear points
    with pytest.raises(ValueError, match="general position"):
        enumerate_patterns_2d(X)


def test_sampled_patterns_dedup_nonzero_and_reproducible():
    X = with_bias(np.random.default_rng(2).standard_normal((15, 2)))
    a = sample_patterns(X, 300, np.random.default_rng(7))
    b = sample_patterns(X, 300, 7)
    assert np.array_equal(a.masks, b.masks) and np.array_equal(a.generators, b.generators)
    assert np.unique(a.masks, axis=1).shape[1] == a.P < 300
    assert a.masks.any(axis=0).all()
    assert np.array_equal(pattern_of(X, a.generators), a.masks)
    H = np.random.default_rng(7).standard_normal((3, 300))  # the first generator of each pattern is kept
    first = [int(np.flatnonzero((pattern_of(X, H) == a.masks[:, [i]]).all(axis=0))[0]) for i in range(a.P)]
    assert first == sorted(first)
    assert np.array_equal(a.generators, H[:, first])


def test_patterns_union_and_subset():
    X = with_bias(np.random.default_rng(3).standard_normal((10, 2)))
    a, b = sample_patterns(X, 20, 1), sample_patterns(X, 20, 2)
    u = a.union(b)
    assert np.array_equal(u.masks[:, :a.P], a.masks)
    assert np.unique(u.masks, axis=1).shape[1] == u.P
    assert np.array_equal(u.subset(np.arange(a.P)).masks, a.masks)
    assert np.array_equal(a.signs, 2 * a.masks - 1)


# ------------------------------------------------------------------------------- recovery and lift (CR2, CR3)


@FAST
@given(seed=st.integers(0, 10_000), d=st.integers(2, 6))
def test_recovery_exact_on_feasible_point(seed, d):
    rng = np.random.default_rng(seed)
    X = with_bias(rng.standard_normal((40, d - 1)))
    y = rng.standard_normal(40)
    pats = sample_patterns(X, 30, rng)
    H = pats.generators.T
    c = rng.uniform(0.1, 2.0, (2, pats.P)) * (rng.random((2, pats.P)) < 0.6)
    V, W = c[0][:, None] * H, c[1][:, None] * H  # v_i = c_i h_i ∈ K_i, w_i likewise
    assert cone_violation(X, pats, V, W) == 0.0
    net = recover(V, W)
    pred = convex_predict(X, pats, V, W)
    np.testing.assert_allclose(net.forward(X), pred, rtol=1e-12, atol=1e-12 * np.abs(pred).max())
    f_cvx = convex_objective(X, y, pats, V, W, 0.3)
    assert net.objective(X, y, 0.3) == pytest.approx(f_cvx, rel=1e-12)
    assert net.width == int((c > 0).sum())


@FAST
@given(seed=st.integers(0, 10_000), m=st.integers(1, 12))
def test_lift_feasible_and_below_nonconvex_objective(seed, m):
    rng = np.random.default_rng(seed)
    X = with_bias(rng.standard_normal((14, 2)))
    y = rng.standard_normal(14)
    full = enumerate_patterns_2d(X)
    net = ReLUNetwork(rng.standard_normal((m, 3)) * rng.uniform(0.1, 3.0), rng.standard_normal(m))
    out, V, W = lift(net, X, full)
    assert out.P == full.P  # the full set already holds every neuron's pattern
    assert cone_violation(X, out, V, W) == 0.0
    np.testing.assert_allclose(convex_predict(X, out, V, W), net.forward(X), atol=1e-12 * (1 + np.abs(y).max()))
    assert convex_objective(X, y, out, V, W, 0.2) <= net.objective(X, y, 0.2) * (1 + 1e-12)


def test_lift_appends_missing_patterns():
    rng = np.random.default_rng(5)
    X = with_bias(rng.standard_normal((20, 3)))
    pats = sample_patterns(X, 3, rng)
    net = ReLUNetwork(rng.standard_normal((9, 4)), rng.standard_normal(9))
    out, V, W = lift(net, X, pats)
    assert out.P > pats.P and np.array_equal(out.masks[:, :pats.P], pats.masks)
    assert np.array_equal(pattern_of(X, out.generators), out.masks)
    assert cone_violation(X, out, V, W) == 0.0


# ------------------------------------------------------------------------------------ identities (CR9)


def dense_F(X, masks):
    """F as an explicit n × 2dP matrix (only in this test)."""
    Fa = (masks[:, :, None] * X[:, None, :]).reshape(X.shape[0], -1)
    return np.concatenate([Fa, -Fa], axis=1)


def test_operator_identities_and_H():
    rng = np.random.default_rng(11)
    X = with_bias(rng.standard_normal((25, 3)))
    pats = sample_patterns(X, 12, rng)
    P, d = pats.P, X.shape[1]
    U2 = rng.standard_normal((2 * P, d))
    np.testing.assert_allclose(GT(G(U2, X, pats.signs), X, pats.signs), U2 @ (X.T @ X), rtol=1e-12)
    Fd = dense_F(X, pats.masks)
    np.testing.assert_allclose(F(U2, X, pats.masks), Fd @ U2.reshape(-1), rtol=1e-12, atol=1e-12)
    e = rng.standard_normal(25)
    np.testing.assert_allclose(FT(e, X, pats.masks).reshape(-1), Fd.T @ e, rtol=1e-12, atol=1e-12)
    Binv = np.kron(np.eye(2 * P), np.linalg.inv(np.eye(d) + X.T @ X))
    fac = woodbury_factor(X, pats.masks, method="cholesky")
    np.testing.assert_allclose(fac.H, Fd @ Binv @ Fd.T, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("rho", [1e-2, 1.0, 30.0])
def test_woodbury_equals_dense_solve(rho):
    rng = np.random.default_rng(12)
    X = with_bias(rng.standard_normal((30, 3)))
    pats = sample_patterns(X, 10, rng)
    q = rng.standard_normal((2 * pats.P, 4))
    ref = dense_factor(X, pats.masks).solve(q, rho)
    M = dense_factor(X, pats.masks).matrix(rho)
    assert np.linalg.norm(M @ ref.reshape(-1) - q.reshape(-1)) <= 1e-10 * np.linalg.norm(q)
    for method in ("cholesky", "eigh"):
        got = woodbury_factor(X, pats.masks, method=method).solve(q, rho)
        assert np.linalg.norm(got - ref) <= 1e-12 * np.linalg.norm(ref)
    a = woodbury_factor(X, pats.masks, method="cholesky").solve(q, rho)
    b = woodbury_factor(X, pats.masks, method="eigh").solve(q, rho)
    assert np.linalg.norm(a - b) <= 1e-12 * np.linalg.norm(a)


def test_factor_counts_flops():
    X = with_bias(np.random.default_rng(0).standard_normal((50, 4)))
    pats = sample_patterns(X, 8, 0)
    n, d, P = 50, 5, pats.P
    fac = woodbury_factor(X, pats.masks, method="cholesky", rho=1.0)
    assert fac.flops_per_solve == 3 * P * d * d + 2 * n * d * P + 2 * n * P + n * n
    assert fac.setup_flops == 2 * n * d * d + d ** 3 + n * n * d + n * n * P + n ** 3
    fac.solve(np.ones((2 * P, d)), 2.0)  # a new ρ refactors
    assert fac.factorizations == 2


# ------------------------------------------------------------------------------------------ ADMM (CR7)


def test_long_admm_matches_cvxpy(small):
    *_, f_cvx, long = small
    assert long.status == "converged"
    assert abs(long.objective - f_cvx) <= 1e-6 * f_cvx
    assert long.violation <= 1e-8


def test_admm_reaches_gap_with_default_rho(small):
    X, y, pats, beta, f_cvx, long = small
    res = admm(X, y, pats, beta, f_star=f_cvx, max_iter=4000)
    gap, viol = res.history.rel_gap, res.history.violation
    hit = np.flatnonzero((np.abs(gap) <= 1e-4) & (viol <= 1e-5))
    assert hit.size and hit[0] < 1000
    assert abs(res.objective - long.objective) <= 1e-4 * long.objective
    tail = np.log(res.history.r_pri[hit[0]:])
    assert np.polyfit(np.arange(tail.size), tail, 1)[0] < 0
    np.testing.assert_allclose(res.V, res.V * (np.linalg.norm(res.V, axis=1) > 0)[:, None])
    net = res.network()
    assert net.width == res.active_groups


def test_admm_residual_balancing_converges(small):
    X, y, pats, beta, f_cvx, _ = small
    res = admm(X, y, pats, beta, rho=100 * default_rho(X, pats, beta), rho_rule="balance_rel", f_star=f_cvx,
               max_iter=20000, abstol=1e-10, reltol=1e-10)
    assert res.status == "converged"
    assert abs(res.history.rel_gap[-1]) <= 1e-6 and res.violation <= 1e-6
    assert len(set(res.history.rho)) > 1  # ρ moved


def test_admm_dense_equals_woodbury(small):
    X, y, pats, beta, *_ = small
    a = admm(X, y, pats, beta, rho=3.0, max_iter=50, u_step="dense")
    b = admm(X, y, pats, beta, rho=3.0, max_iter=50, u_step="woodbury")
    np.testing.assert_allclose(a.V, b.V, rtol=1e-8, atol=1e-10)
    assert a.status == b.status == "max_iter" and "r_pri" in a.message


def test_admm_zero_above_beta_max():
    X, y, pats, _ = teacher(40, 3, 10, 4)
    res = admm(X, y, pats, 1.01 * beta_max(X, y, pats), max_iter=500)
    assert res.active_groups == 0


def test_admm_statuses_and_reproducible(small):
    X, y, pats, beta, *_ = small
    r = admm(X, y, pats, beta, max_iter=3)
    assert r.status == "max_iter" and r.iterations == 3 and "r_dual" in r.message
    r2 = admm(X, y, pats, beta, max_iter=3)
    assert np.array_equal(r.V, r2.V)
    with pytest.raises(ValueError, match="gamma"):
        admm(X, y, pats, beta, gamma=1.5)
    with pytest.raises(ValueError, match="loss"):
        admm(X, np.sign(y), pats, beta, loss="hinge")


# ---------------------------------------------------------------------------------------- gated (CR5)


def test_gated_fista_below_convex_optimum(small):
    X, y, pats, beta, f_cvx, _ = small
    res = gated_fista(X, y, pats, beta, max_iter=20000, tol=1e-10)
    assert res.status == "converged"
    assert res.objective <= f_cvx
    assert gated_objective(X, y, pats, res.U, beta) == pytest.approx(res.objective, rel=1e-12)
    np.testing.assert_allclose(res.network.forward(X), (pats.masks * (X @ res.U.T)).sum(axis=1), atol=1e-12)
    assert np.all(np.diff(res.history.objective) <= 1e-12 * f_cvx)  # restarts keep it monotone


# --------------------------------------------------------------------------------------------- inputs


def test_losses():
    yhat, y = np.array([0.5, -2.0, 3.0]), np.array([1.0, -1.0, -1.0])
    assert loss_value(yhat, y, "squared") == pytest.approx(0.5 * (0.25 + 1.0 + 16.0))
    assert loss_value(yhat, y, "hinge") == pytest.approx(0.5 + 0.0 + 4.0)
    np.testing.assert_array_equal(loss_grad(yhat, y, "hinge"), [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(loss_grad(yhat, y, "squared"), yhat - y)


def test_bad_inputs_name_the_argument(small):
    X, y, pats, beta, *_ = small
    with pytest.raises(ValueError, match="X must be 2-D"):
        admm(X[:, 0], y, pats, beta)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="X must be finite"):
        admm(Xn, y, pats, beta)
    with pytest.raises(ValueError, match="with_bias"):
        admm(X[:, :-1], y, pats, beta)
    with pytest.raises(ValueError, match="y must be 1-D of length"):
        admm(X, y[:-1], pats, beta)
    with pytest.raises(ValueError, match="y must take values"):
        ReLUNetwork(np.zeros((1, 4)), np.zeros(1)).objective(X, y, beta, "hinge")
    for bad in (0.0, -1.0, np.inf):
        with pytest.raises(ValueError, match="beta"):
            admm(X, y, pats, bad)
        with pytest.raises(ValueError, match="rho"):
            admm(X, y, pats, beta, rho=bad)
    with pytest.raises(TypeError, match="beta"):
        admm(X, y, pats, True)
    empty = Patterns(np.zeros((60, 0)), np.zeros((4, 0)))
    with pytest.raises(ValueError, match="zero patterns"):
        admm(X, y, empty, beta)
    with pytest.raises(ValueError, match="zero patterns"):
        gated_fista(X, y, empty, beta)
    with pytest.raises(ValueError, match="patterns must have n"):
        admm(X[:30], y[:30], pats, beta)


# ------------------------------------------- over-relaxed ADMM, reduced u-step, feasibility restoration


def test_admm_alpha_and_target_validation(small):
    X, y, pats, beta, *_ = small
    for bad in (0.0, -0.5, 2.0, 2.5, np.nan, np.inf):
        with pytest.raises(ValueError, match="alpha"):
            admm(X, y, pats, beta, alpha=bad)
    with pytest.raises(TypeError, match="alpha"):
        admm(X, y, pats, beta, alpha=True)
    with pytest.raises(ValueError, match="target must be"):
        admm(X, y, pats, beta, target="gap")


def _slack_sv(XU, S2, s, nu, alpha):
    """The s/ν form of the over-relaxed slack step (Boyd §3.4.3), written out."""
    Guh = alpha * (S2 * XU) + (1.0 - alpha) * s
    s_new = np.maximum(0.0, Guh + nu)
    nu_new = nu + Guh - s_new
    return s_new, nu_new, S2 * (s_new - nu_new)


@pytest.mark.parametrize("alpha", [1.0, 1.6])
def test_z_slack_equals_s_nu_form_bit_for_bit(small, alpha):
    X, y, pats, beta, *_ = small
    P, d = pats.P, X.shape[1]
    S2 = np.ascontiguousarray(np.concatenate([pats.signs, pats.signs], axis=1))
    fac = dense_factor(X, pats.masks)
    rho = default_rho(X, pats)
    fty2 = (2.0 / rho) * ((pats.masks * y[:, None]).T @ X)
    z, w_kernel, w_xp = np.zeros_like(S2), np.zeros_like(S2), np.zeros_like(S2)
    z_xp = z.copy()
    s, nu = np.zeros_like(S2), np.zeros_like(S2)
    v, lam, gt = np.zeros((2 * P, d)), np.zeros((2 * P, d)), np.zeros((2 * P, d))
    for _ in range(6):
        q = v - lam + gt
        p, m = fac.solve_split(q[:P] + q[P:], q[:P] - q[P:] + fty2, rho)
        u = np.concatenate([0.5 * (p + m), 0.5 * (p - m)])
        XU = X @ u.T
        a = (alpha * u + (1.0 - alpha) * v) + lam
        v = np.maximum(0.0, 1.0 - (beta / rho) / np.linalg.norm(a, axis=1))[:, None] * a
        lam = a - v
        slack_step(XU, S2, z, w_kernel, alpha)  # numba kernel
        _slack_step_xp(XU, S2, z_xp, w_xp, alpha)  # the CuPy code path, run on numpy
        s, nu, w_ref = _slack_sv(XU, S2, s, nu, alpha)
        assert np.array_equal(np.maximum(z, 0.0), s) and np.array_equal(np.minimum(z, 0.0), nu)
        assert np.array_equal(z_xp, z) and np.array_equal(w_xp, w_kernel)
        assert np.array_equal(w_kernel, w_ref)
        gt = w_kernel.T @ X
        assert np.array_equal(gt, w_ref.T @ X)
    assert np.any(nu < 0) and np.any(s > 0)  # both halves of the state were exercised


@FAST
@given(n=st.integers(8, 60), d=st.integers(2, 5), P_s=st.integers(2, 24), log_rho=st.floats(-2.0, 2.0),
       seed=st.integers(0, 10_000))
def test_reduced_u_step_equals_full_solve(n, d, P_s, log_rho, seed):
    rng = np.random.default_rng(seed)
    X = with_bias(rng.standard_normal((n, d - 1)))
    pats = sample_patterns(X, P_s, rng)
    P, rho = pats.P, 10.0 ** log_rho
    q = rng.standard_normal((2 * P, d))
    dense = dense_factor(X, pats.masks)
    M = dense.matrix(rho)  # the full 2dP × 2dP system I + GᵀG + FᵀF/ρ
    ref = np.linalg.solve(M, q.reshape(-1)).reshape(q.shape)
    scale = np.linalg.norm(ref)
    got = dense.solve(q, rho)
    assert np.linalg.norm(got - ref) <= 1e-12 * scale
    assert np.linalg.norm(M @ got.reshape(-1) - q.reshape(-1)) <= 1e-12 * np.linalg.norm(M, 2) * scale
    wood = woodbury_factor(X, pats.masks, method="cholesky")
    assert np.linalg.norm(wood.solve(q, rho) - got) <= 1e-12 * scale
    p, m = wood.solve_split(q[:P] + q[P:], q[:P] - q[P:], rho)
    np.testing.assert_allclose(np.concatenate([0.5 * (p + m), 0.5 * (p - m)]), got, rtol=0,
                               atol=1e-12 * scale)
    red = dense.reduced_matrix(rho)
    np.testing.assert_allclose(red, np.kron(np.eye(P), np.eye(d) + X.T @ X) + 2.0 * dense.A / rho, rtol=1e-14)


def test_admm_auto_picks_reduced_dense_when_dP_below_n():
    X, y, pats, beta = teacher(120, 4, 20, 6)
    d, P = X.shape[1], pats.P
    assert d * P < 120 < 2 * d * P  # the old rule (2dP < n) would have picked Woodbury
    auto = admm(X, y, pats, beta, max_iter=40)
    dense = admm(X, y, pats, beta, max_iter=40, u_step="dense")
    wood = admm(X, y, pats, beta, max_iter=40, u_step="woodbury")
    assert auto.setup_flops == dense.setup_flops != wood.setup_flops
    assert np.array_equal(auto.V, dense.V)
    np.testing.assert_allclose(dense.V, wood.V, rtol=1e-8, atol=1e-10 * np.abs(wood.V).max())


def _feasibility_scale(X, V, W):
    return np.abs(X).max() * max(np.abs(V).sum(axis=1).max(), np.abs(W).sum(axis=1).max(), 1e-300)


@FAST
@given(seed=st.integers(0, 10_000), d=st.integers(2, 6), spread=st.floats(0.01, 3.0),
       method=st.sampled_from(["least_norm", "generator"]), eps=st.sampled_from([0.0, 0.05]))
def test_restore_feasible_is_feasible(seed, d, spread, method, eps):
    rng = np.random.default_rng(seed)
    X = with_bias(rng.uniform(0.0, 1.0, (40, d - 1)))
    pats = sample_patterns(X, 25, rng)
    H = pats.generators.T
    # points near the cones (the generator direction) plus noise: many small violations, some groups clean
    V = H * rng.uniform(0.0, 2.0, (pats.P, 1)) + spread * rng.standard_normal(H.shape) * (rng.random((pats.P, 1)) < 0.7)
    W = H * rng.uniform(0.0, 2.0, (pats.P, 1)) + spread * rng.standard_normal(H.shape)
    Vr, Wr = restore_feasible(X, pats, V, W, eps, method=method)
    assert cone_violation(X, pats, Vr, Wr, eps) <= 1e-12 * _feasibility_scale(X, Vr, Wr)
    S = pats.signs
    for Z, Zr in ((V, Vr), (W, Wr)):
        slack = S * (X @ Z.T) - eps * np.abs(Z[:, :-1]).sum(axis=1)
        clean = (slack >= 0).all(axis=0)
        assert np.array_equal(Zr[clean], Z[clean])  # only violated groups move


def test_restore_feasible_falls_back_to_zero_without_margin():
    rng = np.random.default_rng(9)
    X = with_bias(rng.standard_normal((12, 2)))
    ones = Patterns(np.ones((12, 1)), np.zeros((3, 1)))  # h = 0 realises the all-ones pattern with zero margin
    V = np.array([[1.0, -1.0, 0.1]])  # violates some rows
    W = np.array([[0.0, 0.0, 1.0]])  # feasible: X w = 1 > 0
    assert cone_violation(X, ones, V, np.zeros_like(W)) > 0
    Vr, Wr = restore_feasible(X, ones, V, W)
    assert np.array_equal(Vr, np.zeros_like(V)) and np.array_equal(Wr, W)
    with pytest.raises(ValueError, match="method must be"):
        restore_feasible(X, ones, V, W, method="project")
    with pytest.raises(ValueError, match="V must have shape"):
        restore_feasible(X, ones, V[:, :2], W)


def test_restored_objective_bounds_the_optimum_from_above(small):
    X, y, pats, beta, *_ = small
    # Clarabel at its default 1e-8 lands 2e-8 (relative) above a restored ADMM point here: tighten it to 1e-10
    f_cvx = cvxpy_optimum(X, y, pats, beta, tol=1e-10)
    res = admm(X, y, pats, beta, f_star=f_cvx, max_iter=400, record_every=5, abstol=0.0, reltol=0.0,
               stall_window=None)
    h = res.history
    assert h.rel_gap.min() < -1e-4  # v dips far below f* (spec §7) ...
    assert np.all(h.restored_objective >= f_cvx * (1 - 1e-9))  # ... the restored point never does
    np.testing.assert_allclose(h.restored_gap, (h.restored_objective - f_cvx) / f_cvx, rtol=1e-12)
    for k in (1, 5, 40):  # early, far-from-feasible iterates too
        r = admm(X, y, pats, beta, max_iter=k)
        Vr, Wr = restore_feasible(X, pats, r.V, r.W)
        assert cone_violation(X, pats, Vr, Wr) <= 1e-12 * _feasibility_scale(X, Vr, Wr)
        assert convex_objective(X, y, pats, Vr, Wr, beta) >= f_cvx * (1 - 1e-9)
    Vr, Wr = res.restored()
    assert cone_violation(X, pats, Vr, Wr) <= 1e-12 * _feasibility_scale(X, Vr, Wr)
    assert convex_objective(X, y, pats, Vr, Wr, beta) == pytest.approx(res.restored_objective, rel=1e-12)
    assert res.restored_objective == h.restored_objective[-1]


def test_admm_targets_restored_gap_or_violation(small):
    X, y, pats, beta, f_cvx, _ = small
    res = admm(X, y, pats, beta, f_star=f_cvx, target_gap=1e-4, record_every=5, max_iter=4000)
    assert res.status == "converged" and "restored" in res.message
    assert 0 <= res.history.restored_gap[-1] <= 1e-4 and np.all(res.history.restored_gap[:-1] > 1e-4)
    old = admm(X, y, pats, beta, f_star=f_cvx, target_gap=1e-4, target="violation", record_every=5, max_iter=4000)
    assert old.status == "converged" and abs(old.history.rel_gap[-1]) <= 1e-4 and old.violation <= 1e-5
    plain = admm(X, y, pats, beta, f_star=f_cvx, target_gap=1e-4, alpha=1.0, record_every=5, max_iter=4000)
    assert plain.status == "converged" and plain.iterations > res.iterations  # over-relaxation pays here
    damped = admm(X, y, pats, beta, f_star=f_cvx, target_gap=1e-4, gamma=0.8, record_every=5, max_iter=4000)
    assert damped.status == "converged" and damped.history.restored_gap[-1] <= 1e-4  # the s/ν path (γ < 1)


def test_gated_callback_sees_every_recorded_iterate() -> None:
    rng = np.random.default_rng(3)
    X = with_bias(rng.standard_normal((40, 3)))
    y = rng.standard_normal(40)
    pats = sample_patterns(X, 10, rng)
    seen: dict[int, np.ndarray] = {}
    res = gated_fista(X, y, pats, 0.5, max_iter=60, tol=0.0, record_every=5,
                      callback=lambda k, U: seen.__setitem__(k, U.copy()))
    assert sorted(seen) == res.history.iteration.tolist() and res.history.iteration[-1] == 60
    np.testing.assert_array_equal(seen[60], res.U)
    with pytest.raises(TypeError, match="callback"):
        gated_fista(X, y, pats, 0.5, callback=3)
