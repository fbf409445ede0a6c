"""Solvers of the matrix_completion topic: observations, row solvers, AltMin, baselines (spec §3, §6, MC4/7/8/9)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

import solvers.matrix_completion as mc
from solvers.matrix_completion import cost

FAST = settings(deadline=None, derandomize=True, max_examples=8)


def incoherent(m: int, n: int, k: int, kappa: float, *, r: float | None = None, p: float | None = None,
               seed: int = 0) -> tuple[mc.Observations, mc.Truth]:
    """QR-of-Gaussians factors, σ from κ to 1, Bernoulli(p) samples drawn without forming M."""
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.standard_normal((m, k)))[0]
    V = np.linalg.qr(rng.standard_normal((n, k)))[0]
    s = np.linspace(kappa, 1.0, k)
    if p is None:
        p = r * k * (m + n - k) / (m * n)
    nnz = rng.binomial(m * n, p)
    flat = rng.choice(m * n, nnz, replace=False)
    ii, jj = flat // n, flat % n
    vals = np.einsum("ql,ql->q", U[ii] * s, V[jj])
    return mc.observations(ii, jj, vals, (m, n)), mc.Truth(U, V, s)


def random_rows(seed: int, m: int = 40, n: int = 30, k: int = 4, p: float = 0.35, few: bool = True):
    """Random observations with noisy values and a non-orthonormal design; rows 0/1 have 2 and 0 entries."""
    rng = np.random.default_rng(seed)
    mask = rng.random((m, n)) < p
    mask[:, 0] = True
    if few:
        mask[0] = False
        mask[0, rng.choice(n, 2, replace=False)] = True
        mask[1] = False
    ii, jj = np.nonzero(mask)
    perm = rng.permutation(ii.size)
    obs = mc.observations(ii[perm], jj[perm], rng.standard_normal(ii.size)[perm], (m, n))
    B = rng.standard_normal((n, k)) * np.linspace(1.0, 3.0, k)
    return obs, B


def lstsq_rows(obs: mc.Observations, B: np.ndarray) -> np.ndarray:
    X = np.zeros((obs.shape[0], B.shape[1]))
    for i in range(obs.shape[0]):
        a, e = obs.row_ptr[i], obs.row_ptr[i + 1]
        if e > a:
            X[i] = np.linalg.lstsq(B[obs.cols[a:e]], obs.values[a:e], rcond=None)[0]
    return X


# ----------------------------------------------------------------------------------------------------
# observations


def test_observations_sorted_csr_and_csc():
    obs, _ = random_rows(1)
    m, n = obs.shape
    assert np.all(np.diff(obs.rows * n + obs.cols) > 0)  # CSR order, no duplicates
    csc = obs.cols[obs.csc_perm] * m + obs.rows[obs.csc_perm]
    assert np.all(np.diff(csc) > 0)
    np.testing.assert_array_equal(obs.row_counts, np.bincount(obs.rows, minlength=m))
    np.testing.assert_array_equal(obs.col_counts, np.bincount(obs.cols, minlength=n))
    assert obs.p_hat == obs.nnz / (m * n)
    t = obs.transpose()
    assert t.shape == (n, m) and t.transpose() is obs
    np.testing.assert_array_equal((t.to_scipy() - obs.to_scipy().T).toarray(), 0.0)
    parts = obs.split(3, np.random.default_rng(0))
    assert sum(q.nnz for q in parts) == obs.nnz
    np.testing.assert_array_equal(sum(q.to_scipy() for q in parts).toarray(), obs.to_scipy().toarray())


@pytest.mark.parametrize(
    ("rows", "cols", "vals", "shape", "name", "exc"),
    [
        ([0, 1, 0], [1, 1, 1], [1.0, 2.0, 3.0], (2, 2), "rows, cols", ValueError),  # duplicate (0, 1)
        ([0, 2], [0, 0], [1.0, 2.0], (2, 2), "rows", ValueError),  # out of range
        ([0, 1], [0, -1], [1.0, 2.0], (2, 2), "cols", ValueError),
        ([0, 1], [0], [1.0, 2.0], (2, 2), "cols", ValueError),  # lengths differ
        ([0, 1], [0, 1], [1.0], (2, 2), "values", ValueError),
        ([0, 1], [0, 1], [1.0, np.nan], (2, 2), "values", ValueError),  # non-finite
        ([0, 1], [0, 1], [1.0, np.inf], (2, 2), "values", ValueError),
        ([], [], [], (2, 2), "rows", ValueError),  # empty
        ([0.0, 1.0], [0, 1], [1.0, 2.0], (2, 2), "rows", TypeError),  # not integer
        ([0, 1], [0, 1], [1.0, 2.0], (0, 2), "shape", ValueError),
        ([0, 1], [0, 1], [1.0, 2.0], (2,), "shape", TypeError),
    ],
)
def test_observations_bad_input_names_the_argument(rows, cols, vals, shape, name, exc):
    with pytest.raises(exc, match=name.replace("(", r"\(")):
        mc.observations(np.asarray(rows, dtype=float if name == "rows" and exc is TypeError else int)
                        if len(rows) else np.zeros(0, dtype=int), np.asarray(cols, dtype=int), vals, shape)


# ----------------------------------------------------------------------------------------------------
# row solvers


@pytest.mark.parametrize("backend", ["numba", "xp"])
@given(seed=st.integers(0, 10_000), k=st.integers(1, 6))
@FAST
def test_exact_matches_lstsq_row_by_row(backend, seed, k):
    obs, B = random_rows(seed, k=k)
    res = mc.exact().solve(obs, B, backend=backend)
    ref = lstsq_rows(obs, B)
    err = np.linalg.norm(res.X - ref, axis=1)
    assert np.all(err <= 1e-10 * np.maximum(np.linalg.norm(ref, axis=1), 1e-300))
    # rows with |Ω_i| < k, and only those (here), went through the minimum-norm path
    few = np.nonzero(obs.row_counts < k)[0]
    assert set(few) <= set(res.lstsq_rows)
    assert res.underdetermined == few.size


def test_exact_minimum_norm_on_underdetermined_row():
    obs, B = random_rows(3, k=5)
    res = mc.exact().solve(obs, B)
    a, e = obs.row_ptr[0], obs.row_ptr[1]
    A = B[obs.cols[a:e]]
    np.testing.assert_allclose(res.X[0], np.linalg.pinv(A) @ obs.values[a:e], rtol=1e-10)
    np.testing.assert_array_equal(res.X[1], 0.0)  # empty row: minimum norm is 0
    np.testing.assert_allclose(A @ res.X[0], obs.values[a:e], atol=1e-12)  # interpolates


@pytest.mark.parametrize("backend", ["numba", "xp"])
def test_exact_ill_conditioned_rows_take_the_svd_path(backend):
    obs, B = random_rows(1, k=4, few=False)
    B[:, 3] = B[:, 2] + 1e-5 * np.random.default_rng(0).standard_normal(B.shape[0])  # cond(A_i) ~ 1e5
    ref = lstsq_rows(obs, B)
    res = mc.exact().solve(obs, B, backend=backend)
    assert len(res.lstsq_rows) == obs.shape[0]
    assert np.max(np.linalg.norm(res.X - ref, axis=1) / np.linalg.norm(ref, axis=1)) < 1e-10
    naive = mc.exact(cond_max=1e30).solve(obs, B, backend=backend)  # normal equations lose cond² ε
    assert len(naive.lstsq_rows) == 0
    assert np.max(np.linalg.norm(naive.X - ref, axis=1) / np.linalg.norm(ref, axis=1)) > 1e-8


@pytest.mark.parametrize("backend", ["numba", "xp"])
def test_cg_converges_to_exact(backend):
    obs, B = random_rows(5, k=5)
    ref = mc.exact().solve(obs, B).X
    good = obs.row_counts >= 5
    far = mc.cg(2).solve(obs, B, backend=backend).X
    assert np.abs(far - ref)[good].max() > 1e-3  # two steps are not enough from zero
    res = mc.cg(60).solve(obs, B, backend=backend)
    np.testing.assert_allclose(res.X[good], ref[good], rtol=0, atol=1e-10 * np.abs(ref).max())
    assert np.all(res.steps[good] <= 60)


def test_cg_backends_agree_and_warm_start_helps():
    obs, B = random_rows(6, k=4)
    ref = mc.exact().solve(obs, B).X
    a = mc.cg(3).solve(obs, B)
    b = mc.cg(3).solve(obs, B, backend="xp")
    np.testing.assert_allclose(a.X, b.X, atol=1e-12)
    np.testing.assert_array_equal(a.steps, b.steps)
    assert a.flops == b.flops
    warm = mc.cg(3).solve(obs, B, ref + 1e-3)
    good = obs.row_counts >= 4
    assert np.abs(warm.X - ref)[good].max() < np.abs(a.X - ref)[good].max()


@given(seed=st.integers(0, 10_000), k=st.integers(1, 6), eps0=st.sampled_from([1e-1, 1e-2, 1e-3]))
@FAST
def test_certified_stopping_implies_eps0_accuracy(seed, k, eps0):
    obs, B = random_rows(seed, k=k, few=False)
    res = mc.cg(200, tol=eps0).solve(obs, B)
    ref = mc.exact().solve(obs, B).X
    z = np.sqrt(mc.row_residuals(obs, B, res.X))
    zs = np.sqrt(mc.row_residuals(obs, B, ref))
    assert res.certified.any()
    c = res.certified
    assert np.all(z[c] <= (1 + eps0) * zs[c] * (1 + 1e-12))
    # the rule is not vacuous: stopping one step earlier is often not ε₀-accurate
    assert res.steps[c].max() >= 1


@pytest.mark.parametrize("sketch", ["gaussian", "countsketch"])
@pytest.mark.parametrize("backend", ["numba", "xp"])
def test_sketch_precond_within_eps0_of_optimum(sketch, backend):
    obs, B = random_rows(7, m=60, n=200, k=5, p=0.4, few=False)
    eps0 = 1e-2
    sol = mc.sketch_precond(sketch=sketch, eps0=eps0).solve(obs, B, rng=np.random.default_rng(3), backend=backend)
    z = np.sqrt(mc.row_residuals(obs, B, sol.X))
    zs = np.sqrt(mc.row_residuals(obs, B, lstsq_rows(obs, B)))
    assert np.all(z <= (1 + eps0) * zs)
    big = obs.row_counts > 20
    assert np.all(sol.steps[big] <= sol_steps(eps0)) and big.any()


def sol_steps(eps0: float) -> int:
    return int(np.ceil(np.log(1 / eps0)))


def test_sketch_precond_backends_agree():
    obs, B = random_rows(8, m=50, n=120, k=3, p=0.4)
    a = mc.sketch_precond(rng=5).solve(obs, B)
    b = mc.sketch_precond(rng=5).solve(obs, B, backend="xp")
    np.testing.assert_allclose(a.X, b.X, atol=1e-10)


def test_inject_error_sizes():
    obs, B = random_rows(9, k=3, few=False)
    ref = mc.exact().solve(obs, B).X
    delta = 0.3
    res = mc.inject(delta, rng=4).solve(obs, B)
    z2 = mc.row_residuals(obs, B, ref)
    s2, _ = mc.row_sigma_min(obs, B)
    np.testing.assert_allclose(np.linalg.norm(res.X - ref, axis=1), delta * np.sqrt(z2 / s2), rtol=1e-9)
    res = mc.inject(0.0, 0.25, rng=4).solve(obs, B)
    np.testing.assert_allclose(np.linalg.norm(res.X - ref, axis=1), 0.25, rtol=1e-12)


def test_qr_invariance_of_design():
    """MC9: replacing B by BR maps every solution x to R⁻¹x."""
    obs, B = random_rows(10, k=4, few=False)
    R = np.triu(np.random.default_rng(1).standard_normal((4, 4))) + 3 * np.eye(4)
    X1 = mc.exact().solve(obs, B).X
    X2 = mc.exact().solve(obs, B @ R).X
    np.testing.assert_allclose(X2, X1 @ np.linalg.inv(R).T, rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------------------------------------------------
# flops (MC7): the kernels' own counters equal the closed-form formulas


def test_flops_exact_formula():
    obs, B = random_rows(11, k=4)
    res = mc.exact().solve(obs, B)
    counts = obs.row_counts
    ok = counts >= 4
    assert set(res.lstsq_rows) == set(np.nonzero(~ok)[0])  # no ill-conditioned row in this instance
    P = int(counts[~ok].max())
    expected = int(cost.exact_row_flops(counts[ok], 4).sum()) + int((~ok).sum()) * cost.svd_lstsq_flops(P, 4)
    assert res.flops == expected
    # leading order |Ω|k²/2: doubling the entries per row about doubles the gram part
    assert cost.exact_row_flops(np.array([200]), 4)[0] - cost.exact_row_flops(np.array([100]), 4)[0] == 100 * 14


@pytest.mark.parametrize("steps", [0, 1, 3, 7])
def test_flops_cg_formula(steps):
    obs, B = random_rows(12, k=5)
    x0 = np.random.default_rng(2).standard_normal((obs.shape[0], 5))
    res = mc.cg(steps).solve(obs, B, x0)
    f = cost.pcgls_flops(obs.row_counts, 5, res.steps, steps_max=steps)
    assert res.flops == int(f.sum()) + B.size
    good = obs.row_counts >= 5
    if steps <= 3:
        assert np.all(res.steps[good] == steps)  # nobody reaches the rounding floor this early
    else:
        assert np.all(res.steps[good] <= steps) and np.any(res.steps[good] < steps)  # the floor stops some
    cert = mc.cg(50, tol=1e-2).solve(obs, B, x0)
    f = cost.pcgls_flops(obs.row_counts, 5, cert.steps, steps_max=50, certify=True)
    extra = cost.gram_flops(obs.row_counts, 5) + obs.shape[0] * cost.eigvalsh_flops(5)
    assert cert.flops == int(f.sum()) + B.size + extra


@pytest.mark.parametrize("sketch", ["gaussian", "countsketch"])
def test_flops_sketch_formula(sketch):
    obs, B = random_rows(13, m=50, n=200, k=4, p=0.3)
    res = mc.sketch_precond(sketch=sketch, eps0=1e-3).solve(obs, B, rng=np.random.default_rng(0))
    s, counts = 16, obs.row_counts
    big = counts > s
    small = ~big
    few = counts < 4
    steps = sol_steps(1e-3)
    assert np.all((res.steps[big] >= 1) & (res.steps[big] <= steps))
    expected = (int(cost.sketch_apply_flops(counts[big], 4, s, sketch == "gaussian").sum())
                + int(big.sum()) * cost.householder_flops(s, 4)
                + int(cost.pcgls_flops(counts[big], 4, res.steps[big], steps_max=steps, precond=True).sum())
                + B.size
                + int(cost.exact_row_flops(counts[small & ~few], 4).sum())
                + int(few.sum()) * cost.svd_lstsq_flops(int(counts[few].max()), 4))
    assert res.flops == expected


# ----------------------------------------------------------------------------------------------------
# metrics


def test_dist_agrees_with_subspace_angles():
    rng = np.random.default_rng(0)
    U = np.linalg.qr(rng.standard_normal((50, 3)))[0]
    for scale in (1.0, 1e-3, 1e-6):
        W = np.linalg.qr(U + scale * rng.standard_normal((50, 3)))[0]
        ref = np.sin(np.max(scipy.linalg.subspace_angles(U, W)))
        assert mc.subspace_dist(U, W) == pytest.approx(ref, rel=1e-6)
        assert mc.subspace_dist(W, U) == pytest.approx(ref, rel=1e-6)


def test_factor_relF_agrees_with_dense():
    rng = np.random.default_rng(1)
    _, tr = incoherent(30, 40, 3, 2.0, r=3, seed=1)
    M = (tr.U * tr.s) @ tr.V.T
    for scale in (1.0, 1e-4, 1e-9):
        F = tr.U * tr.s + scale * rng.standard_normal((30, 3))
        G = tr.V + scale * rng.standard_normal((40, 3))
        dense = np.linalg.norm(F @ G.T - M) / np.linalg.norm(M)
        assert mc.rel_error(F, G, tr) == pytest.approx(dense, rel=1e-5)


# ----------------------------------------------------------------------------------------------------
# AltMin


def test_altmin_full_observation_one_round_is_exact():
    """MC9: p = 1 and exact solves return M after one round; trimming with the true μ removes nothing."""
    m, n, k = 30, 40, 3
    rng = np.random.default_rng(2)
    U = np.linalg.qr(rng.standard_normal((m, k)))[0]
    V = np.linalg.qr(rng.standard_normal((n, k)))[0]
    s = np.array([3.0, 2.0, 1.0])
    ii, jj = np.divmod(np.arange(m * n), n)
    obs = mc.observations(ii, jj, np.einsum("ql,ql->q", U[ii] * s, V[jj]), (m, n))
    res = mc.altmin(obs, k, T=1, solver="exact", truth=(U, V, s), tol=0.0)
    assert res.rounds == 1 and res.trimmed == 0
    assert res.history.relF[-1] < 1e-13
    np.testing.assert_allclose(res.to_dense(), (U * s) @ V.T, atol=1e-13)


@pytest.mark.parametrize("solver", ["cg", "exact"])
def test_altmin_recovers_default_instance(solver):
    obs, tr = incoherent(400, 500, 5, 3.0, r=8, seed=1)
    res = mc.altmin(obs, 5, T=40, solver=solver, truth=tr)
    h = res.history
    assert res.status == "converged" and res.ok
    assert h.relF[-1] < 1e-8 and res.rel_error(tr) < 1e-8
    assert h.dist_U[-1] < 1e-8 and h.dist_V[-1] < 1e-8
    assert np.all(np.diff(h.flops) > 0) and np.all(np.diff(h.time) >= 0)
    assert len(h.res_omega) == res.rounds + 1
    q = np.exp(np.polyfit(np.arange(1, 8), np.log(h.dist_U[1:8]), 1)[0])
    assert q < 0.9  # geometric (MC2 shape)
    idx = np.array([0, 7, 399]), np.array([3, 499, 0])
    np.testing.assert_allclose(res.predict(*idx), ((tr.U * tr.s) @ tr.V.T)[idx], atol=1e-7)


def test_altmin_same_seed_same_bits_and_split():
    obs, tr = incoherent(120, 150, 2, 2.0, p=0.6, seed=3)
    kw = dict(T=4, split=True, solver=mc.sketch_precond(), truth=tr)
    a = mc.altmin(obs, 2, rng=11, **kw)
    b = mc.altmin(obs, 2, rng=np.random.default_rng(11), **kw)
    np.testing.assert_array_equal(a.U, b.U)
    np.testing.assert_array_equal(a.history.relF, b.history.relF)
    c = mc.altmin(obs, 2, rng=12, **kw)
    assert not np.array_equal(a.U, c.U)


def test_altmin_trim_options_and_noise_stagnation():
    obs, tr = incoherent(200, 250, 3, 2.0, r=6, seed=9)
    mu_true = max(mc.coherence(tr.U), mc.coherence(tr.V))
    low = mc.altmin(obs, 3, T=3, trim="rows", mu=0.3, truth=tr)  # an underestimated μ trims rows
    assert low.trimmed > 0 and low.mu == 0.3
    none = mc.altmin(obs, 3, T=30, trim=None, truth=tr)
    assert none.trimmed == 0 and none.history.relF[-1] < 1e-8
    assert mc.altmin(obs, 3, T=2).mu is None  # no truth, no μ: no trimming
    assert mc.altmin(obs, 3, T=2, truth=tr).mu == pytest.approx(mu_true)
    noisy = obs.with_values(obs.values + 1e-5 * np.random.default_rng(0).standard_normal(obs.nnz))
    res = mc.altmin(noisy, 3, T=60, truth=tr)
    assert res.status == "stagnated" and res.rounds < 60
    assert 1e-6 < res.history.relF[-1] < 1e-2 and np.all(np.isfinite(res.history.res_omega))


def test_altmin_xp_backend_agrees():
    obs, tr = incoherent(80, 100, 3, 2.0, r=6, seed=4)
    a = mc.altmin(obs, 3, T=5, solver=mc.cg(3), truth=tr)
    b = mc.altmin(obs, 3, T=5, solver=mc.cg(3), truth=tr, backend="xp")
    np.testing.assert_allclose(a.history.relF, b.history.relF, rtol=1e-6)


def test_altmin_hopeless_instance_reports_failure():
    obs, tr = incoherent(60, 80, 5, 2.0, r=0.5, seed=5)
    res = mc.altmin(obs, 5, T=10, truth=tr)
    assert res.status == "underdetermined" and not res.ok
    assert res.underdetermined_rows.size + res.underdetermined_cols.size > 0
    assert "not identifiable" in res.message
    assert res.rel_error(tr) > 1e-2
    assert np.all(np.isfinite(res.U)) and np.all(np.isfinite(res.V))


def test_altmin_bad_input():
    obs, _ = incoherent(20, 25, 2, 2.0, p=0.5, seed=6)
    for k in (0, 21):
        with pytest.raises(ValueError, match="k must be"):
            mc.altmin(obs, k)
    with pytest.raises(TypeError, match="k must be an integer"):
        mc.altmin(obs, 2.0)
    with pytest.raises(ValueError, match="T must be"):
        mc.altmin(obs, 2, T=0)
    with pytest.raises(ValueError, match="solver"):
        mc.altmin(obs, 2, solver="newton")
    with pytest.raises(TypeError, match="solver"):
        mc.altmin(obs, 2, solver=3)
    with pytest.raises(ValueError, match="trim"):
        mc.altmin(obs, 2, trim="cols")
    with pytest.raises(TypeError, match="rng"):
        mc.altmin(obs, 2, split=True)
    with pytest.raises(TypeError, match="rng"):
        mc.altmin(obs, 2, solver=mc.inject(0.1))
    with pytest.raises(ValueError, match="truth"):
        mc.altmin(obs, 2, truth=(np.zeros((20, 2)), np.zeros((25, 3)), np.ones(2)))
    with pytest.raises(ValueError, match="mu"):
        mc.altmin(obs, 2, mu=-1.0)
    with pytest.raises(ValueError, match="steps"):
        mc.cg(-1)
    with pytest.raises(ValueError, match="tol"):
        mc.cg(3, tol=0.0)
    with pytest.raises(ValueError, match="sketch"):
        mc.sketch_precond(sketch="srht")
    with pytest.raises(ValueError, match="eps0"):
        mc.sketch_precond(eps0=1.5)
    with pytest.raises(ValueError, match="delta"):
        mc.inject(-0.1)
    with pytest.raises(ValueError, match="B must have shape"):
        mc.exact().solve(obs, np.zeros((20, 2)))
    with pytest.raises(ValueError, match="x0 must have shape"):
        mc.cg(2).solve(obs, np.ones((25, 2)), np.zeros((3, 2)))
    with pytest.raises(TypeError, match="rng"):
        mc.sketch_precond().solve(obs, np.ones((25, 2)))
    with pytest.raises(ValueError, match="k must be"):
        mc.zero_filled_svd(obs, 0)


# ----------------------------------------------------------------------------------------------------
# baselines


def test_zero_filled_svd_and_soft_impute_sanity():
    obs, tr = incoherent(150, 200, 3, 2.0, r=8, seed=7)
    zf = mc.zero_filled_svd(obs, 3)
    e0 = zf.rel_error(tr)
    assert 1e-3 < e0 < 1.0  # a rough estimate, far from exact at this sampling
    si = mc.soft_impute(obs, 3, truth=tr, n_lambdas=6, max_iter=60)
    h = si.history
    assert h["lambda"][0] == pytest.approx(si.lambdas[0]) and np.all(np.diff(si.lambdas) < 0)
    assert h["res_omega"][-1] < h["res_omega"][0]
    assert si.X.rel_error(tr) < min(0.1, e0 / 3)
    assert np.all(h["rank"] <= 3)


def test_nuclear_norm_recovers_tiny_instance():
    obs, tr = incoherent(15, 20, 1, 1.0, p=0.6, seed=8)
    res = mc.nuclear_norm(obs, "SCS", eps=1e-9, max_iters=20_000)
    assert res.status == "optimal"
    assert res.rel_error(tr) < 1e-4
    big, _ = incoherent(51, 20, 1, 1.0, p=0.5, seed=8)
    with pytest.raises(ValueError, match="obs must have m, n <= 50"):
        mc.nuclear_norm(big)


def test_altmin_reports_an_iterate_that_blows_up_as_diverged():
    """An iterate above `divergence`·‖P_Ω(M)‖_F/√p̂ stops the run as diverged, with the last factors in bounds."""
    obs, tr = incoherent(400, 500, 5, 3.0, r=8, seed=1)
    limit = np.linalg.norm(obs.values) / np.sqrt(obs.p_hat)
    res = mc.altmin(obs, 5, T=40, solver="cg", truth=tr, divergence=0.5)  # ‖M‖_F ≈ limit > 0.5·limit
    assert res.status == "diverged" and not res.ok and "0.5" in res.message
    assert np.isfinite(res.U).all() and np.linalg.norm(res.U) <= 0.5 * limit * (1 + 1e-12)
    assert mc.altmin(obs, 5, T=40, solver="cg", truth=tr).status == "converged"
    with pytest.raises(ValueError, match="divergence"):
        mc.altmin(obs, 5, divergence=0.0)
