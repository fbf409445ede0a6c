"""Tests of the exact cone projection (Lawson–Hanson) and of ADMM's cone splitting."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sims.convex_relu.checks import nnls_projection
from solvers.convex_relu import beta_max, convex_objective, sample_patterns, with_bias
from solvers.convex_relu.admm import admm, default_rho, iteration_flops
from solvers.convex_relu.cones import ConeProjector, project_groups
from solvers.convex_relu.operators import dense_factor, lambda_max_H, woodbury_factor

FAST = settings(deadline=None, derandomize=True, max_examples=10)


def _instance(n: int, d: int, P: int, seed: int):
    rng = np.random.default_rng(seed)
    X = with_bias(rng.standard_normal((n, d - 1)))
    U, a = rng.standard_normal((5, d)), rng.standard_normal(5)
    y = np.maximum(X @ U.T, 0.0) @ a + 0.1 * rng.standard_normal(n)
    pats = sample_patterns(X, P, rng)
    return X, y, pats, 0.1 * beta_max(X, y, pats)


@FAST
@given(n=st.integers(3, 80), d=st.integers(2, 8), seed=st.integers(0, 10_000))
def test_projection_equals_nnls_and_satisfies_moreau(n, d, seed):
    X, _, pats, _ = _instance(n, d, 4, seed)
    rng = np.random.default_rng(seed + 1)
    V, W = rng.standard_normal((pats.P, d)), rng.standard_normal((pats.P, d))
    PV, PW = project_groups(X, pats.signs, V, W)
    for A, PA in ((V, PV), (W, PW)):
        for i in range(pats.P):
            s = pats.signs[:, i]
            ref = nnls_projection(X, s, A[i])
            scale = max(1.0, np.linalg.norm(A[i]))
            np.testing.assert_allclose(PA[i], ref, atol=1e-9 * scale)
            g = s * (X @ PA[i])  # Moreau: p ∈ K, a − p ∈ K°, ⟨a − p, p⟩ = 0
            assert g.min() >= -1e-9 * scale * np.abs(X).sum(axis=1).max()
            assert abs((A[i] - PA[i]) @ PA[i]) <= 1e-9 * scale ** 2


def test_prox_is_the_shrunk_projection_and_warm_start_agrees():
    X, _, pats, _ = _instance(200, 6, 12, 3)
    rng = np.random.default_rng(0)
    A = rng.standard_normal((2 * pats.P, 6))
    cold = ConeProjector(X, pats.signs)
    proj = cold.project(A)
    t = 0.5
    nrm = np.linalg.norm(proj, axis=1)
    want = np.maximum(0.0, 1.0 - t / np.where(nrm > 0, nrm, 1.0))[:, None] * proj
    np.testing.assert_allclose(cold.prox(A, t), want, atol=1e-12)
    # warm from the passive sets of A, a nearby point projects to the cold answer in fewer steps
    B = A + 1e-3 * rng.standard_normal(A.shape)
    steps0 = cold.steps
    warm = cold.project(B)
    fresh = ConeProjector(X, pats.signs)
    np.testing.assert_allclose(warm, fresh.project(B), atol=1e-11)
    assert cold.steps - steps0 < fresh.steps
    assert cold.failures == fresh.failures == 0
    with pytest.raises(ValueError, match="A must be"):
        cold.project(A[:, :3])
    with pytest.raises(ValueError, match="signs"):
        ConeProjector(X, pats.signs[:10])


def test_cone_factor_is_the_system_without_the_cone_block():
    X, _, pats, _ = _instance(40, 4, 6, 1)
    rho = 2.5
    dense = dense_factor(X, pats.masks, rho, cone_block=False)
    q = np.random.default_rng(2).standard_normal((2 * pats.P, 4))
    M = np.eye(2 * pats.P * 4)
    Fm = np.concatenate([np.hstack([pats.masks[:, [i]] * X for i in range(pats.P)])] * 2, axis=1)
    Fm[:, pats.P * 4:] *= -1.0
    M += Fm.T @ Fm / rho
    want = np.linalg.solve(M, q.reshape(-1)).reshape(q.shape)
    np.testing.assert_allclose(dense.solve(q, rho), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dense.matrix(rho), M, atol=1e-10)
    wood = woodbury_factor(X, pats.masks, rho=rho, cone_block=False)
    np.testing.assert_allclose(wood.solve(q, rho), want, rtol=1e-9, atol=1e-11)
    assert lambda_max_H(X, pats.masks, cone_block=False) == pytest.approx(np.linalg.eigvalsh(Fm.T @ Fm)[-1],
                                                                           rel=1e-5)


@pytest.fixture(scope="module")
def teacher_program():
    X, y, pats, beta = _instance(120, 5, 24, 7)
    slack = admm(X, y, pats, beta, max_iter=30000, abstol=1e-12, reltol=1e-12, stall_window=None)
    return X, y, pats, beta, slack


def test_cone_splitting_is_feasible_and_reaches_the_optimum(teacher_program):
    X, y, pats, beta, slack = teacher_program
    res = admm(X, y, pats, beta, splitting="cone", max_iter=3000, abstol=1e-10, reltol=1e-10, record_every=5)
    assert res.status == "converged", res.message
    assert res.violation <= 1e-9  # every iterate lies in the cones (exact projection)
    # the two splittings agree on f*; the slack run's copy may sit a little below it (its violation)
    assert res.objective == pytest.approx(slack.restored_objective, rel=1e-6)
    assert res.restored_objective == pytest.approx(res.objective, rel=1e-9)
    assert convex_objective(X, y, pats, res.V, res.W, beta) == pytest.approx(res.objective, rel=1e-12)
    # f(v) of a feasible iterate never drops below f*
    assert np.all(res.history.objective >= res.objective * (1 - 1e-9))


def test_cone_splitting_reaches_the_target_quickly_at_the_default_rho(teacher_program):
    X, y, pats, beta, slack = teacher_program
    f_star = min(slack.restored_objective, slack.objective)
    cone = admm(X, y, pats, beta, splitting="cone", f_star=f_star, target_gap=1e-4, max_iter=5000, record_every=5)
    assert cone.status == "converged" and cone.iterations <= 150, cone.message
    assert 0.0 <= cone.history.restored_gap[-1] <= 1e-4 + 1e-6  # f* of the slack run may sit 1e-6 low


def test_cone_splitting_flops_and_reproducibility(teacher_program):
    X, y, pats, beta, _ = teacher_program
    a = admm(X, y, pats, beta, splitting="cone", max_iter=40, record_every=40)
    b = admm(X, y, pats, beta, splitting="cone", max_iter=40, record_every=40)
    assert np.array_equal(a.V, b.V) and a.flops == b.flops
    per = iteration_flops(120, 5, pats.P, dense_factor(X, pats.masks, cone_block=False).flops_per_solve, "cone")
    assert a.flops > a.setup_flops + 40 * per  # the projections' own multiply-adds are counted on top


def test_cone_splitting_bad_input(teacher_program):
    X, y, pats, beta, _ = teacher_program
    with pytest.raises(ValueError, match="splitting"):
        admm(X, y, pats, beta, splitting="cones")
    with pytest.raises(ValueError, match="splitting"):
        default_rho(X, pats, splitting="box")
    with pytest.raises(ValueError, match="cone_block"):
        admm(X, y, pats, beta, splitting="cone", factor=dense_factor(X, pats.masks, 1.0))
    with pytest.raises(ValueError, match="cone_block"):
        admm(X, y, pats, beta, factor=dense_factor(X, pats.masks, 1.0, cone_block=False))
