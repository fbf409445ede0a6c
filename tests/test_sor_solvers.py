"""Tests of the SOR solver package (solvers.sor): sweeps, solves, tables, Young's theory, validation.

Covers (spec sor_bandit.md §3, §6, §7): the componentwise sweep against the matrix form x + W_ω⁻¹(b − Ax)
and a literal transcription of the formula; CSR and stencil kernels against each other; the fused
residual against b − Ax; the SSOR two-sweep identity with W̆_ω; solutions against ``spsolve``; Young's
formula and the N = 10 ground truths against dense eigenvalues of M_ω (≈1e-6 at ω* where the Jordan block
limits eig, 1e-10 elsewhere); spec(C_ω) = spec(M_ω); the shifted family; iteration counts against
ln(1/ε)/(π²h²) and ln(1/ε)/(2πh); capping; SSOR-PCG against SOR and SciPy's CG; the 8-lane tables against
single solves, bit for bit; PyAMG's SOR (≥ 5.3.0); determinism; and every bad input.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers.sor import (
    Stencil5,
    cg,
    jacobi_radius,
    laplacian_2d,
    optimal_omega,
    pcg_counts,
    prepare,
    residual_csr,
    residual_stencil,
    sor,
    sor_counts,
    sor_iteration_matrix,
    sor_residual_matrix,
    sor_sweep,
    sor_sweep_csr,
    sor_sweep_csr_backward,
    sor_sweep_csr_fused,
    sor_sweep_stencil,
    sor_sweep_stencil_backward,
    sor_sweep_stencil_fused,
    ssor,
    ssor_iteration_matrix,
    ssor_pcg,
    young_radius,
)

SETTINGS = {"deadline": None, "derandomize": True, "max_examples": 15}
N10_BETA, N10_STAR = 0.959493, 1.560388
N10_RHO = {1.3: 0.849974, 1.5: 0.728007, 1.8: 0.8}


def random_spd(n: int, seed: int, density: float = 0.3) -> sp.csr_matrix:
    """A random sparse SPD matrix (symmetric pattern, strictly diagonally dominant, varied diagonal)."""
    rng = np.random.default_rng(seed)
    M = sp.random(n, n, density=density, random_state=rng, data_rvs=rng.standard_normal)
    S = (M + M.T).tocsr()
    S.setdiag(0.0)
    S.eliminate_zeros()
    d = np.abs(S).sum(axis=1).A1 + rng.uniform(0.5, 2.0, n)
    return (S + sp.diags(d)).tocsr()


def random_nonsym(n: int, seed: int) -> sp.csr_matrix:
    """A random non-symmetric matrix with a dominant (nonzero, mixed-sign) diagonal."""
    rng = np.random.default_rng(seed)
    M = sp.random(n, n, density=0.3, random_state=rng, data_rvs=rng.standard_normal).tocsr()
    M.setdiag(0.0)
    M.eliminate_zeros()
    d = (np.abs(M).sum(axis=1).A1 + 1.0) * rng.choice([-1.0, 1.0], n)
    return (M + sp.diags(d)).tocsr()


def literal_sor_sweep(A: np.ndarray, b: np.ndarray, x: np.ndarray, omega: float, backward: bool = False):
    """x_i ← (1−ω)x_i + ω(b_i − Σ_{j<i} a_ij x_j^new − Σ_{j>i} a_ij x_j)/a_ii, in a Python loop."""
    x = x.copy()
    n = len(b)
    for i in range(n - 1, -1, -1) if backward else range(n):
        s = b[i] - sum(A[i, j] * x[j] for j in range(n) if j != i)
        x[i] = (1 - omega) * x[i] + omega * s / A[i, i]
    return x


# ---------------------------------------------------------------------------------------------
# operators


def test_laplacian_and_stencil_agree():
    for N, c in [(1, 0.0), (2, 0.3), (7, -0.1)]:
        A = laplacian_2d(N, c)
        assert A.format == "csr" and A.dtype == np.float64 and A.has_sorted_indices
        T = np.diag(2 * np.ones(N)) - np.diag(np.ones(N - 1), 1) - np.diag(np.ones(N - 1), -1)
        dense = np.kron(np.eye(N), T) + np.kron(T, np.eye(N)) + c * np.eye(N * N)
        np.testing.assert_array_equal(A.toarray(), dense)
        S = Stencil5.laplacian(N, c)
        np.testing.assert_array_equal(S.to_csr().toarray(), dense)
        x = np.random.default_rng(N).standard_normal(N * N)
        np.testing.assert_allclose(S.matvec(x), dense @ x, rtol=0, atol=1e-13)
        np.testing.assert_allclose(S @ x, dense @ x, rtol=0, atol=1e-13)
        ev = np.linalg.eigvalsh(dense)
        assert S.lambda_min == pytest.approx(ev[0], abs=1e-12)
        assert S.lambda_max == pytest.approx(ev[-1], abs=1e-12)
    H = Stencil5.heat(5, 0.7)
    assert (H.center, H.off, H.n) == (1 + 4 * 0.7, -0.7, 25)
    np.testing.assert_allclose(H.to_csr().toarray(), np.eye(25) + 0.7 * laplacian_2d(5).toarray(), atol=1e-15)


def test_prepare_detects_symmetry_and_keeps_caller_arrays():
    A = random_spd(30, 1)
    assert prepare(A).symmetric
    B = random_nonsym(30, 2)
    assert not prepare(B).symmetric and prepare(B).asymmetry > 0
    C = A.copy()
    p = int(np.flatnonzero(C.indices[: C.indptr[1]] != 0)[0])  # an off-diagonal entry of row 0
    C.data[p] *= 1 + 4e-16  # a few-ulp asymmetry: not exact, but within the CG tolerance
    op = prepare(C)
    assert not op.symmetric and 0 < op.asymmetry <= 1e-12
    assert ssor_pcg(C, np.ones(30), 1.2).converged  # CG accepts it; SOR takes the unfused residual pass
    assert sor(C, np.ones(30), 1.2).iterations == sor(A, np.ones(30), 1.2).iterations
    # unsorted indices and a duplicate: canonicalised on a copy, the caller's arrays untouched
    M = sp.csr_matrix((np.array([1.0, 2.0, 0.5, 0.5, 3.0]), np.array([1, 0, 1, 0, 1]), np.array([0, 2, 5])),
                      shape=(2, 2))
    before = M.indices.copy(), M.data.copy()
    op = prepare(M)
    np.testing.assert_array_equal(op.diag, [2.0, 3.5])
    np.testing.assert_array_equal(op.indices, [0, 1, 0, 1])
    np.testing.assert_array_equal(M.indices, before[0])
    np.testing.assert_array_equal(M.data, before[1])


# ---------------------------------------------------------------------------------------------
# sweeps


@given(n=st.integers(2, 25), seed=st.integers(0, 10_000), omega=st.floats(0.05, 1.95), sym=st.booleans())
@settings(**SETTINGS)
def test_sweep_equals_matrix_form_and_literal_formula(n, seed, omega, sym):
    A = random_spd(n, seed) if sym else random_nonsym(n, seed)
    Ad = A.toarray()
    rng = np.random.default_rng(seed + 1)
    b, x0 = rng.standard_normal(n), rng.standard_normal(n)
    D, L, U = np.diag(np.diag(Ad)), np.tril(Ad, -1), np.triu(Ad, 1)
    fwd = x0 + sla.solve_triangular(D / omega + L, b - Ad @ x0, lower=True)
    bwd = x0 + sla.solve_triangular(D / omega + U, b - Ad @ x0, lower=False)
    x = x0.copy()
    sor_sweep(A, b, x, omega)
    scale = 1 + np.abs(fwd).max()
    np.testing.assert_allclose(x, fwd, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(x, literal_sor_sweep(Ad, b, x0, omega), rtol=0, atol=1e-12 * scale)
    x = x0.copy()
    sor_sweep(A, b, x, omega, direction="backward")
    np.testing.assert_allclose(x, bwd, rtol=0, atol=1e-12 * (1 + np.abs(bwd).max()))
    np.testing.assert_allclose(x, literal_sor_sweep(Ad, b, x0, omega, backward=True), rtol=0,
                               atol=1e-12 * (1 + np.abs(bwd).max()))
    # the array path (sparse triangular solves) is the same map
    x = x0.copy()
    sor_sweep(A, b, x, omega, direction="symmetric")
    op = prepare(A)
    y = x0.copy()
    from solvers.sor._array import array_sweep

    array_sweep(A, b, y, omega, "symmetric")
    np.testing.assert_allclose(x, y, rtol=0, atol=1e-11 * (1 + np.abs(y).max()))
    assert op.n == n


def test_raw_sweep_any_index_order():
    A = random_spd(25, 11)
    rng = np.random.default_rng(11)
    b, x0 = rng.standard_normal(25), rng.standard_normal(25)
    perm = np.concatenate([rng.permutation(A.indptr[i + 1] - A.indptr[i]) + A.indptr[i] for i in range(25)])
    indices, data = A.indices[perm], A.data[perm]
    assert any(np.any(np.diff(indices[A.indptr[i]:A.indptr[i + 1]]) < 0) for i in range(25))
    diag = A.diagonal()
    for sweep in (sor_sweep_csr, sor_sweep_csr_backward):
        x1, x2 = x0.copy(), x0.copy()
        sweep(A.indptr, A.indices, A.data, diag, b, x1, 1.3)
        sweep(A.indptr, indices, data, diag, b, x2, 1.3)
        np.testing.assert_allclose(x1, x2, rtol=0, atol=1e-12 * (1 + np.abs(x1).max()))


def test_sor_is_not_gauss_seidel_plus_extrapolation():
    # the pre-5.3 PyAMG "SOR": x ← ω·x_GS + (1−ω)·x_old, differs from SOR for ω ≠ 1
    A = laplacian_2d(3)
    Ad = A.toarray()
    b, x0 = np.arange(1.0, 10.0), np.zeros(9)
    x = x0.copy()
    sor_sweep(A, b, x, 1.5)
    gs = literal_sor_sweep(Ad, b, x0, 1.0)
    assert np.abs(x - (1.5 * gs - 0.5 * x0)).max() > 1e-2
    np.testing.assert_allclose(x, literal_sor_sweep(Ad, b, x0, 1.5), atol=1e-14)


@pytest.mark.parametrize("N,center,off", [(1, 4.0, -1.0), (2, 4.3, -1.0), (9, 3.9, -1.0), (6, 3.8, -0.7)])
def test_csr_and_stencil_kernels_agree(N, center, off):
    S = Stencil5(N, center, off)
    op = prepare(S.to_csr())
    rng = np.random.default_rng(N)
    b, x0 = rng.standard_normal(S.n), rng.standard_normal(S.n)
    for omega in (0.7, 1.0, 1.6):
        pairs = [(sor_sweep_csr, sor_sweep_stencil), (sor_sweep_csr_backward, sor_sweep_stencil_backward)]
        for fwd_csr, fwd_st in pairs:
            x1, x2 = x0.copy(), x0.copy()
            for _ in range(3):
                fwd_csr(op.indptr, op.indices, op.data, op.diag, b, x1, omega)
                fwd_st(center, off, N, b, x2, omega)
            np.testing.assert_allclose(x1, x2, rtol=0, atol=1e-13 * (1 + np.abs(x1).max()))
        # fused residual: the same sweep, and ‖b − Ax^new‖ out of the same pass
        for backward in (False, True):
            x1, x2, x3 = x0.copy(), x0.copy(), x0.copy()
            r = np.empty(S.n)
            n1 = sor_sweep_csr_fused(op.indptr, op.indices, op.data, op.diag, b, x1, omega, r, backward)
            n2 = sor_sweep_stencil_fused(center, off, N, b, x2, omega, backward)
            (sor_sweep_csr_backward if backward else sor_sweep_csr)(op.indptr, op.indices, op.data, op.diag, b, x3,
                                                                    omega)
            np.testing.assert_array_equal(x1, x3)
            true = b - S.to_csr() @ x1
            np.testing.assert_allclose(r, true, rtol=0, atol=1e-13 * (1 + np.abs(b).max()))
            assert n1 == pytest.approx(np.linalg.norm(true), rel=1e-12, abs=1e-14)
            assert n2 == pytest.approx(np.linalg.norm(b - S.to_csr() @ x2), rel=1e-12, abs=1e-14)
            rr = np.empty(S.n)
            assert residual_csr(op.indptr, op.indices, op.data, b, x1, rr) == pytest.approx(np.linalg.norm(true),
                                                                                           rel=1e-13)
            assert residual_stencil(center, off, N, b, x1) == pytest.approx(np.linalg.norm(true), rel=1e-12)


@given(n=st.integers(2, 20), seed=st.integers(0, 10_000), omega=st.floats(0.1, 1.9))
@settings(**SETTINGS)
def test_ssor_two_sweep_identity(n, seed, omega):
    A = random_spd(n, seed)
    Ad = A.toarray()
    D, L = np.diag(np.diag(Ad)), np.tril(Ad, -1)
    Wb = (D + omega * L) @ np.linalg.inv(D) @ (D + omega * L.T) / (omega * (2 - omega))
    Wb2 = (omega / (2 - omega)) * (D / omega + L) @ np.linalg.inv(D) @ (D / omega + L.T)
    np.testing.assert_allclose(Wb, Wb2, rtol=1e-12, atol=1e-12 * np.abs(Wb).max())
    rng = np.random.default_rng(seed)
    b, x0 = rng.standard_normal(n), rng.standard_normal(n)
    x = x0.copy()
    sor_sweep(A, b, x, omega, direction="symmetric")
    expect = x0 + np.linalg.solve(Wb, b - Ad @ x0)
    np.testing.assert_allclose(x, expect, rtol=0, atol=1e-10 * (1 + np.abs(expect).max()))
    M = ssor_iteration_matrix(A, omega)
    np.testing.assert_allclose(M, np.eye(n) - np.linalg.solve(Wb, Ad), atol=1e-10)
    Mf = sor_iteration_matrix(A, omega)
    Mb = np.eye(n) - sla.solve_triangular(D / omega + L.T, Ad, lower=False)
    np.testing.assert_allclose(M, Mb @ Mf, atol=1e-10)


# ---------------------------------------------------------------------------------------------
# solves


@pytest.mark.parametrize("kind", ["csr", "stencil", "random"])
def test_solutions_match_spsolve(kind):
    if kind == "random":
        A = random_spd(60, 3)
        ops = [A]
    else:
        A = laplacian_2d(8, 0.2)
        ops = [A] if kind == "csr" else [Stencil5.laplacian(8, 0.2)]
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    xs = spla.spsolve(A.tocsc(), b)
    cond = np.linalg.cond(A.toarray())
    for op in ops:
        for res in (sor(op, b, 1.0), sor(op, b, 1.4), ssor(op, b, 1.3, tol=1e-9),
                    ssor(op, b, 1.3, relative=True), ssor_pcg(op, b, 1.2), cg(op, b)):
            assert res.converged and not res.capped
            true = np.linalg.norm(b - A @ res.x) / np.linalg.norm(b)
            if res.relative:
                assert res.residual_norm == pytest.approx(true, rel=1e-6, abs=1e-15)
            assert np.linalg.norm(res.x - xs) <= 2 * cond * 1e-8 * np.linalg.norm(xs) + 1e-12
            assert res.cost == res.iterations == len(res.residuals)
            assert res.residuals[-1] == res.residual_norm


def test_stopping_rules():
    A, b = laplacian_2d(6), np.random.default_rng(1).standard_normal(36)
    bn = np.linalg.norm(b)
    for omega in (0.8, 1.0, 1.5, 1.9):
        r = sor(A, b, omega, tol=1e-6)
        # strict "<" at the first k, not before (the history is relative to ‖b‖)
        assert r.residuals[-1] < 1e-6 and np.all(r.residuals[:-1] >= 1e-6)
        r = ssor(A, b, omega, tol=1e-5)
        assert not r.relative and r.residuals[-1] <= 1e-5 and np.all(r.residuals[:-1] > 1e-5)
        r = ssor_pcg(A, b, omega, tol=1e-7)
        assert r.residuals[-1] <= 1e-7 and np.all(r.residuals[:-1] > 1e-7)
    # at least one iteration even when x0 is the solution
    xs = spla.spsolve(A.tocsc(), b)
    r = sor(A, b, 1.2, x0=xs)
    assert r.iterations == 1 and r.converged
    # PCG from a warm start that already meets the test: 0 iterations, measured against ‖b‖
    r = ssor_pcg(A, b, 1.2, x0=xs)
    assert r.iterations == 0 and r.converged
    assert ssor(A, np.zeros(36), 1.0).iterations == 1  # absolute test, b = 0 allowed
    assert bn > 0


def test_capped_runs_are_not_converged():
    A, b = laplacian_2d(10), np.random.default_rng(2).standard_normal(100)
    for f in (lambda: sor(A, b, 1.0, maxiter=20), lambda: ssor(A, b, 1.0, maxiter=5),
              lambda: ssor_pcg(A, b, 1.5, maxiter=3), lambda: cg(A, b, maxiter=3)):
        r = f()
        assert r.capped and not r.converged and r.iterations == len(r.residuals)
        assert r.iterations in (20, 5, 3)
    t = sor_counts(Stencil5.laplacian(10), b, [1.0, 1.5], maxiter=70)
    np.testing.assert_array_equal(t.capped, [True, False])
    np.testing.assert_array_equal(t.converged, [False, True])
    assert t.iterations[0] == 70 and t.iterations[1] < 70


def test_determinism():
    A, b = random_spd(40, 5), np.random.default_rng(5).standard_normal(40)
    for f in (lambda: sor(A, b, 1.3), lambda: ssor_pcg(A, b, 1.3), lambda: sor(Stencil5.laplacian(6), b[:36], 1.7)):
        r1, r2 = f(), f()
        assert r1.x.tobytes() == r2.x.tobytes() and r1.residuals.tobytes() == r2.residuals.tobytes()


def test_array_backend_matches_kernels():
    for A in (laplacian_2d(7), random_nonsym(30, 4)):
        b = np.random.default_rng(3).standard_normal(A.shape[0])
        for omega in (0.9, 1.4):
            r1, r2 = sor(A, b, omega), sor(A, b, omega, backend="array")
            assert abs(r1.iterations - r2.iterations) <= 1
            np.testing.assert_allclose(r1.x, r2.x, atol=1e-7)
    A = laplacian_2d(7)
    b = np.random.default_rng(4).standard_normal(49)
    r1, r2 = ssor_pcg(A, b, 1.3), ssor_pcg(Stencil5.laplacian(7), b, 1.3, backend="array")
    assert r1.iterations == r2.iterations
    np.testing.assert_allclose(r1.x, r2.x, atol=1e-9)
    assert ssor(A, b, 1.3).iterations == ssor(A, b, 1.3, backend="array").iterations


def test_nonsymmetric_sor_and_divergence():
    A = random_nonsym(40, 7)
    b = np.random.default_rng(7).standard_normal(40)
    r = sor(A, b, 1.0)
    assert r.converged
    np.testing.assert_allclose(A @ r.x, b, atol=1e-6 * np.linalg.norm(b))
    t = sor_counts(A, np.vstack([b, 2 * b]), [0.9, 1.0], shifts=[0.0, 0.5])
    assert t.iterations[0, 1] == r.iterations
    assert t.iterations[1, 0] == sor(A + 0.5 * sp.identity(40), 2 * b, 0.9).iterations
    indefinite = sp.csr_matrix(np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(FloatingPointError, match="diverged"):
        sor(indefinite, np.ones(2) + np.array([0, 1e-3]), 1.0)
    with pytest.raises(np.linalg.LinAlgError, match="positive definite"):
        cg(indefinite, np.array([1.0, -1.0]))


def test_heat_step_eigenmode():
    # Crank–Nicolson on an eigenmode: (I + rP)u' = (I − rP)u multiplies u by (1 − rλ)/(1 + rλ)
    nx, r, i, j = 16, 0.9, 2, 3
    m = nx - 1
    h = 1 / nx
    g = np.arange(1, m + 1) * h
    u = np.outer(np.sin(i * np.pi * g), np.sin(j * np.pi * g)).ravel()
    lam = 4 - 2 * math.cos(i * np.pi * h) - 2 * math.cos(j * np.pi * h)  # eigenvalue of P_{nx−1}
    A = Stencil5.heat(m, r)
    b = 2 * u - A.matvec(u)
    factor = (1 - r * lam) / (1 + r * lam)
    for res in (ssor_pcg(A, b, 1.4, tol=1e-12, x0=u), cg(A, b, tol=1e-12), sor(A, b, 1.2, tol=1e-12)):
        assert res.converged
        np.testing.assert_allclose(res.x, factor * u, atol=1e-10)


def test_counts_and_ssor_pcg_vs_sor():
    # the canonical counts: SOR/Gauss–Seidel ≈ ln(1/ε)/(π²h²), SOR at ω* ≈ ln(1/ε)/(2πh), within a factor 2
    eps = 1e-8
    for N in (10, 20):
        h = 1 / (N + 1)
        b = np.random.default_rng(N).standard_normal(N * N)
        S = Stencil5.laplacian(N)
        gs = sor(S, b, 1.0, tol=eps).iterations
        star = sor(S, b, 2 / (1 + math.sin(math.pi * h)), tol=eps).iterations
        assert 0.5 <= gs / (math.log(1 / eps) / (math.pi * h) ** 2) <= 2.0
        assert 0.5 <= star / (math.log(1 / eps) / (2 * math.pi * h)) <= 2.0
        assert star < gs / 3
        pcg = ssor_pcg(S, b, 1.5).iterations
        assert pcg <= sor(S, b, 1.5).iterations / 3
    # pcg_counts equals ssor_pcg one by one; CG counts against SciPy's (which tests "<", we test "≤")
    S = Stencil5.heat(12, 0.8)
    rng = np.random.default_rng(1)
    b, x0 = rng.standard_normal(S.n), rng.standard_normal(S.n)
    grid = np.array([1.0, 1.3, 1.6, 1.9])
    t = pcg_counts(S, b, grid, x0=x0, tol=1e-8)
    assert t.converged.all()
    np.testing.assert_array_equal(t.iterations, [ssor_pcg(S, b, w, x0=x0).iterations for w in grid])
    calls = []
    spla.cg(S.to_csr(), b, x0=x0, rtol=1e-8, atol=0.0, callback=lambda xk: calls.append(1))
    assert abs(cg(S, b, x0=x0, tol=1e-8).iterations - len(calls)) <= 1


# ---------------------------------------------------------------------------------------------
# tables: 8 lanes, bit for bit the single solves


@pytest.mark.parametrize("kind", ["stencil", "csr"])
@pytest.mark.parametrize("use_ssor", [False, True])
def test_tables_equal_single_solves(kind, use_ssor):
    N, T = 6, 11
    rng = np.random.default_rng(3)
    c = -0.1 + 0.5 * rng.random(T)
    B = rng.standard_normal((T, N * N))
    grid = np.array([0.8, 1.0, 1.3, 1.6, 1.9])
    base = Stencil5.laplacian(N) if kind == "stencil" else laplacian_2d(N)
    t = sor_counts(base, B, grid, shifts=c, ssor=use_ssor)
    f = ssor if use_ssor else sor
    for i in range(T):
        A = Stencil5.laplacian(N, c[i]) if kind == "stencil" else laplacian_2d(N, c[i])
        for g, w in enumerate(grid):
            r = f(A, B[i], w)
            assert t.iterations[i, g] == r.iterations
            assert t.residual_norm[i, g] == r.residual_norm  # bit for bit
            assert t.converged[i, g] == r.converged
    # a grid per instance (e.g. Young's ω*(A_t)), and a single system
    star = np.array([optimal_omega(jacobi_radius(Stencil5.laplacian(N, ci))) for ci in c])
    t2 = sor_counts(base, B, star[:, None], shifts=c, ssor=use_ssor)
    assert t2.iterations.shape == (T, 1)
    for i in (0, 5, 10):
        A = Stencil5.laplacian(N, c[i])
        assert t2.iterations[i, 0] == f(A, B[i], star[i]).iterations
    t3 = sor_counts(base, B[0], grid, ssor=use_ssor)
    assert t3.iterations.shape == (5,)
    np.testing.assert_array_equal(t3.iterations, [f(base, B[0], w).iterations for w in grid])


# ---------------------------------------------------------------------------------------------
# Young's theory


def test_poisson_ground_truths():
    N = 10
    S, A = Stencil5.laplacian(N), laplacian_2d(N)
    beta = jacobi_radius(S)
    assert beta == pytest.approx(math.cos(math.pi / 11), abs=1e-15)
    assert beta == pytest.approx(N10_BETA, abs=1e-6)
    assert jacobi_radius(A) == pytest.approx(beta, abs=1e-12)  # dense eigenvalues of D^{-1/2}AD^{-1/2}
    star = optimal_omega(beta)
    assert star == pytest.approx(N10_STAR, abs=1e-6)
    assert star == pytest.approx(2 / (1 + math.sin(math.pi / 11)), abs=1e-14)
    assert young_radius(star, beta) == pytest.approx((1 - math.sin(math.pi / 11)) / (1 + math.sin(math.pi / 11)),
                                                     abs=1e-12)
    assert young_radius(1.0, beta) == pytest.approx(beta ** 2, abs=1e-15)
    rhos = young_radius(np.array(list(N10_RHO)), beta)
    np.testing.assert_allclose(rhos, list(N10_RHO.values()), atol=1e-6)
    for omega, tol in [(1.3, 1e-10), (1.5, 1e-10), (1.8, 1e-10), (star, 1e-6), (1.0, 1e-10), (0.6, 1e-10)]:
        rho_eig = np.max(np.abs(np.linalg.eigvals(sor_iteration_matrix(A, omega))))
        assert rho_eig == pytest.approx(young_radius(omega, beta), abs=tol), omega


def test_residual_matrix_is_similar_to_iteration_matrix():
    A = laplacian_2d(5, 0.3)
    Ad = A.toarray()
    for omega in (0.9, 1.4, 1.8):
        M, C = sor_iteration_matrix(A, omega), sor_residual_matrix(A, omega)
        np.testing.assert_allclose(C, Ad @ M @ np.linalg.inv(Ad), atol=1e-11)
        em, ec = np.linalg.eigvals(M), np.linalg.eigvals(C)
        # spec(C) = spec(M): every eigenvalue of one is (numerically) one of the other
        assert np.max(np.min(np.abs(em[:, None] - ec[None, :]), axis=1)) < 1e-6
        assert np.max(np.abs(ec)) == pytest.approx(np.max(np.abs(em)), abs=1e-8)
        # r_k = C^k b from x0 = 0
        b = np.arange(1.0, 26.0)
        r = sor(A, b, omega, maxiter=3, tol=1e-300)
        np.testing.assert_allclose(b - Ad @ r.x, np.linalg.matrix_power(C, 3) @ b, atol=1e-10)


@given(N=st.integers(2, 12), c=st.floats(-0.15, 2.0), r=st.floats(0.01, 50.0))
@settings(**SETTINGS)
def test_shifted_and_heat_jacobi_radius_closed_form(N, c, r):
    h = 1 / (N + 1)
    S = Stencil5.laplacian(N, c)
    beta = jacobi_radius(S)
    assert beta == pytest.approx(4 * math.cos(math.pi * h) / (4 + c), rel=1e-14)
    assert jacobi_radius(S.to_csr()) == pytest.approx(beta, abs=1e-10)
    H = Stencil5.heat(N, r)
    assert jacobi_radius(H) == pytest.approx(4 * r * math.cos(math.pi * h) / (1 + 4 * r), rel=1e-14)
    assert jacobi_radius(H.to_csr()) == pytest.approx(jacobi_radius(H), abs=1e-10)


def test_shifted_family_ground_truths():
    N = 10
    h = 1 / 11
    spd = -4 * (1 - math.cos(math.pi * h))
    assert spd == pytest.approx(-0.162028, abs=1e-6)
    assert Stencil5.laplacian(N, spd + 1e-9).lambda_min > 0 > Stencil5.laplacian(N, spd - 1e-9).lambda_min
    for c, expect in [(-0.15, 1.853594), (0.0, 1.560388), (0.45, 1.327919)]:
        assert optimal_omega(jacobi_radius(Stencil5.laplacian(N, c))) == pytest.approx(expect, abs=1e-6)
    # Young at a shift: dense eig of M_ω against the formula, off ω*
    A = laplacian_2d(N, 0.45)
    beta = jacobi_radius(A)
    for omega in (1.1, 1.5):
        rho_eig = np.max(np.abs(np.linalg.eigvals(sor_iteration_matrix(A, omega))))
        assert rho_eig == pytest.approx(young_radius(omega, beta), abs=1e-10)


def test_young_vectorised():
    w = np.linspace(0.05, 1.99, 97)
    for beta in (0.0, 0.5, 0.959493, 0.999):
        rho = young_radius(w, beta)
        np.testing.assert_allclose(rho, [young_radius(float(x), beta) for x in w], rtol=0, atol=0)
        star = optimal_omega(beta)
        assert star == pytest.approx(1 + (beta / (1 + math.sqrt(1 - beta ** 2))) ** 2, rel=1e-14)
        assert np.all(np.diff(rho[w <= star]) <= 1e-15) and np.all(rho[w >= star] == w[w >= star] - 1)
        assert young_radius(star, beta) == pytest.approx(star - 1, abs=1e-12)
    assert young_radius(0.5, np.array([0.2, 0.4])).shape == (2,)


# ---------------------------------------------------------------------------------------------
# PyAMG


def test_pyamg_sor_agrees():
    pyamg = pytest.importorskip("pyamg")
    version = tuple(int(p) for p in pyamg.__version__.split(".")[:2])
    if version < (5, 3):
        pytest.skip(f"PyAMG {pyamg.__version__} < 5.3.0: its sor() is not SOR (issue #410)")
    from pyamg.relaxation.relaxation import sor as pyamg_sor

    for A in (laplacian_2d(6, 0.1), random_spd(50, 9)):
        rng = np.random.default_rng(0)
        b, x0 = rng.standard_normal(A.shape[0]), rng.standard_normal(A.shape[0])
        for omega in (0.7, 1.0, 1.45, 1.9):
            x1, x2 = x0.copy(), x0.copy()
            sor_sweep(A, b, x1, omega)
            pyamg_sor(A, x2, b, omega, iterations=1, sweep="forward")  # x2 updated in place
            np.testing.assert_allclose(x1, x2, rtol=0, atol=1e-12 * (1 + np.abs(x2).max()))


# ---------------------------------------------------------------------------------------------
# validation


def _raises(exc, pattern, f):
    with pytest.raises(exc, match=pattern):
        f()


def test_bad_inputs():
    A, S = laplacian_2d(4), Stencil5.laplacian(4)
    b = np.ones(16)
    for solve in (sor, ssor, ssor_pcg):
        for bad in (0.0, 2.0, -0.5, 2.5, float("nan"), float("inf")):
            _raises(ValueError, r"omega must satisfy 0 < omega < 2", lambda s=solve, w=bad: s(A, b, w))
        _raises(TypeError, "omega must be a real number", lambda s=solve: s(A, b, "1.5"))
        _raises(TypeError, "omega must be a real number", lambda s=solve: s(A, b, True))
    for solve in (lambda **k: sor(A, b, 1.0, **k), lambda **k: ssor_pcg(S, b, 1.0, **k), lambda **k: cg(A, b, **k)):
        _raises(ValueError, "tol must be finite and > 0", lambda s=solve: s(tol=0.0))
        _raises(ValueError, "tol must be finite and > 0", lambda s=solve: s(tol=-1e-8))
        _raises(ValueError, "maxiter must be >= 1", lambda s=solve: s(maxiter=0))
        _raises(TypeError, "maxiter must be an integer", lambda s=solve: s(maxiter=10.0))
        _raises(ValueError, re.escape("x0 must have shape (16,)"), lambda s=solve: s(x0=np.zeros(15)))
        _raises(ValueError, "x0 must be finite", lambda s=solve: s(x0=np.full(16, np.nan)))
        _raises(ValueError, "backend must be", lambda s=solve: s(backend="gpu"))
    _raises(ValueError, re.escape("b must have shape (16,)"), lambda: sor(A, np.ones(15), 1.0))
    _raises(ValueError, "b must be finite", lambda: sor(A, np.r_[np.ones(15), np.inf], 1.0))
    _raises(ValueError, "b must be finite", lambda: sor(S, np.r_[np.ones(15), np.nan], 1.0))
    _raises(TypeError, "b must be real", lambda: sor(A, np.ones(16, dtype=complex), 1.0))
    _raises(ValueError, "b must be nonzero", lambda: sor(A, np.zeros(16), 1.0))
    _raises(ValueError, "b must be nonzero", lambda: ssor_pcg(A, np.zeros(16), 1.0))
    _raises(ValueError, "A must be square", lambda: sor(sp.csr_matrix(np.ones((3, 4))), np.ones(3), 1.0))
    _raises(ValueError, "A must be square", lambda: sor(np.ones((3, 4)), np.ones(3), 1.0))
    _raises(ValueError, "A must be finite", lambda: sor(sp.csr_matrix(np.array([[1.0, np.nan], [0, 1]])),
                                                         np.ones(2), 1.0))
    _raises(ValueError, "A must have a nonzero diagonal, a_ii = 0 at row 1",
            lambda: sor(sp.csr_matrix(np.array([[1.0, 1.0], [1.0, 0.0]])), np.ones(2), 1.0))
    neg = sp.csr_matrix(np.array([[-2.0, 1.0], [1.0, -2.0]]))
    assert sor(neg, np.ones(2), 1.0).converged  # SOR needs only a nonzero diagonal
    _raises(ValueError, "A must have a positive diagonal", lambda: ssor_pcg(neg, np.ones(2), 1.0))
    _raises(ValueError, "A must have a positive diagonal", lambda: cg(neg, np.ones(2)))
    _raises(ValueError, "A must be symmetric", lambda: ssor_pcg(random_nonsym(10, 1).multiply(0) +
                                                                sp.csr_matrix(np.triu(np.ones((10, 10)))),
                                                                np.ones(10), 1.0))
    _raises(ValueError, "A must be symmetric positive definite", lambda: cg(Stencil5.laplacian(4, -0.9), b))
    _raises(ValueError, "A must have a nonzero diagonal", lambda: sor(Stencil5(4, 0.0, -1.0), b, 1.0))
    _raises(TypeError, "A must be a scipy.sparse matrix", lambda: sor([[1.0]], np.ones(1), 1.0))
    _raises(TypeError, "A must be real", lambda: sor(sp.csr_matrix(np.eye(2, dtype=complex)), np.ones(2), 1.0))
    # operators
    _raises(ValueError, "N must be >= 1", lambda: Stencil5(0, 4.0, -1.0))
    _raises(TypeError, "N must be an integer", lambda: Stencil5(3.0, 4.0, -1.0))
    _raises(ValueError, "center must be finite", lambda: Stencil5(3, np.inf, -1.0))
    _raises(ValueError, "off must be finite", lambda: Stencil5(3, 4.0, np.nan))
    _raises(ValueError, "r must be > 0", lambda: Stencil5.heat(3, 0.0))
    _raises(ValueError, "shift must be finite", lambda: laplacian_2d(3, np.nan))
    _raises(ValueError, "N must be >= 1", lambda: laplacian_2d(0))
    # sweeps
    x = np.zeros(16)
    _raises(ValueError, "direction must be", lambda: sor_sweep(A, b, x, 1.0, direction="up"))
    _raises(TypeError, "x must be float64", lambda: sor_sweep(A, b, np.zeros(16, dtype=np.float32), 1.0))
    _raises(TypeError, "x must be a numpy array", lambda: sor_sweep(A, b, [0.0] * 16, 1.0))
    _raises(ValueError, "x must be writable", lambda: sor_sweep(A, b, np.zeros(32)[::2], 1.0))
    _raises(ValueError, r"omega must satisfy", lambda: sor_sweep(A, b, x, 2.0))
    # tables
    _raises(ValueError, r"omegas must lie in \(0, 2\)", lambda: sor_counts(S, b, [1.0, 2.0]))
    _raises(ValueError, "omegas must be a non-empty", lambda: sor_counts(S, b, []))
    _raises(ValueError, "shifts must have one entry per row", lambda: sor_counts(S, np.ones((3, 16)), [1.0],
                                                                                  shifts=[0.0, 0.1]))
    _raises(ValueError, "shifts must be finite", lambda: sor_counts(S, b, [1.0], shifts=[np.nan]))
    _raises(ValueError, "shifts: A \\+ c_t I has a zero diagonal", lambda: sor_counts(S, b, [1.0], shifts=[-4.0]))
    _raises(ValueError, r"b must have shape \(16,\) or \(T, 16\)", lambda: sor_counts(S, np.ones((2, 15)), [1.0]))
    _raises(ValueError, "b must be nonzero", lambda: sor_counts(S, np.zeros((2, 16)), [1.0]))
    _raises(ValueError, "omegas: a 2-D grid needs one row per instance",
            lambda: sor_counts(S, np.ones((3, 16)), np.ones((2, 1))))
    _raises(ValueError, "A must be symmetric positive definite", lambda: pcg_counts(Stencil5(4, 1.0, -1.0), b, [1.0]))
    # Young
    _raises(ValueError, "beta must satisfy 0 <= beta < 1", lambda: optimal_omega(1.0))
    _raises(ValueError, "beta must satisfy 0 <= beta < 1", lambda: young_radius(1.0, -0.1))
    _raises(ValueError, "omega must satisfy 0 < omega < 2", lambda: young_radius([1.0, 2.0], 0.5))
    _raises(ValueError, "dense iteration matrices need n <= 4096", lambda: sor_iteration_matrix(laplacian_2d(65), 1.0))
