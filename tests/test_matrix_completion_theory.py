"""Tests of theory.matrix_completion: error measures, the deterministic lemmas (MC4-MC6), counts, registry.

Only the theory module (and numpy/scipy) is imported. The lemmas are property-tested at their own
constants on matrices hypothesis builds from sizes, condition numbers and seeds; each lemma also has a
test showing that its bound is violated when its hypothesis is (so that the tests can fail).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import matrix_completion as th
from theory.registry import ClaimKind, get_claim

SETTINGS = {"deadline": None, "derandomize": True}


def orthonormal(rng: np.random.Generator, m: int, k: int) -> np.ndarray:
    return np.linalg.qr(rng.standard_normal((m, k)))[0]


def matrix_with_spectrum(rng: np.random.Generator, rows: int, k: int, cond: float) -> tuple[np.ndarray, np.ndarray]:
    """A (rows, k) matrix with singular values spaced geometrically from cond down to 1."""
    s = np.geomspace(cond, 1.0, k)
    return orthonormal(rng, rows, k) @ np.diag(s) @ orthonormal(rng, k, k).T, s


# ---------------------------------------------------------------------------------------------
# §2: incoherence, ratios, distances, relF


@settings(max_examples=25, **SETTINGS)
@given(m=st.integers(2, 60), k_frac=st.floats(0.01, 1.0), alpha=st.floats(0, 50), seed=st.integers(0, 2**31))
def test_incoherence_lies_in_its_range(m: int, k_frac: float, alpha: float, seed: int) -> None:
    k = max(1, int(k_frac * m))
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((m, k))
    G[0] *= 1 + alpha  # coherent towards e₁ for large alpha
    U = np.linalg.qr(G)[0]
    mu = th.incoherence(U)
    assert 1 - 1e-12 <= mu <= math.sqrt(m / k) + 1e-12
    assert mu == pytest.approx(math.sqrt(m / k) * np.linalg.norm(U, axis=1).max(), rel=1e-14)


def test_incoherence_extremes_and_errors() -> None:
    m, k = 64, 4
    spiky = np.eye(m)[:, :k]
    assert th.incoherence(spiky) == pytest.approx(math.sqrt(m / k))
    flat = scipy.linalg.hadamard(m)[:, :k] / math.sqrt(m)
    assert th.incoherence(flat) == pytest.approx(1.0, abs=1e-14)
    with pytest.raises(ValueError, match="orthonormal"):
        th.incoherence(2 * flat)
    with pytest.raises(ValueError, match="2-D"):
        th.incoherence(np.ones(4))
    with pytest.raises(ValueError, match="1 ≤ k ≤ m"):
        th.incoherence(np.ones((2, 3)))
    with pytest.raises(ValueError, match="finite"):
        th.incoherence(np.full((3, 1), np.nan))


def test_ratios_and_counts() -> None:
    assert th.degrees_of_freedom(400, 500, 5) == 5 * 895
    assert th.oversampling_ratio(8 * 5 * 895, 400, 500, 5) == pytest.approx(8.0)
    np.testing.assert_allclose(th.oversampling_ratio([4475, 8950], 400, 500, 5), [1.0, 2.0])
    p = th.probability_for_ratio(8.0, 400, 500, 5)
    assert p == pytest.approx(8 * 5 * 895 / (400 * 500))
    assert th.condition_number([1.0, 3.0, 2.0]) == 3.0
    with pytest.raises(ValueError, match="k ≤ min"):
        th.degrees_of_freedom(3, 5, 4)
    with pytest.raises(ValueError, match="p = r·k"):
        th.probability_for_ratio(1000.0, 40, 50, 5)
    with pytest.raises(ValueError, match="sigma"):
        th.condition_number([1.0, 0.0])
    with pytest.raises(ValueError, match="nnz"):
        th.oversampling_ratio(1.5, 40, 50, 5)


def rotated_pair(rng: np.random.Generator, m: int, k: int, thetas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """U and W = U cos Θ + U⊥ sin Θ, whose principal angles are exactly ``thetas``."""
    Q = orthonormal(rng, m, 2 * k)
    U, Uperp = Q[:, :k], Q[:, k:]
    return U, U * np.cos(thetas) + Uperp * np.sin(thetas)


@settings(max_examples=20, **SETTINGS)
@given(m=st.integers(6, 80), k=st.integers(1, 3), log_theta=st.floats(-13, 0.15), seed=st.integers(0, 2**31))
def test_subspace_distance_matches_scipy_and_exact_angle(m: int, k: int, log_theta: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    theta_max = 10.0**log_theta
    thetas = theta_max * np.linspace(1.0, 0.3, k)
    U, W = rotated_pair(rng, m, k, thetas)
    d = th.subspace_distance(U, W)
    assert d == pytest.approx(math.sin(theta_max), rel=1e-3, abs=1e-15)
    ref = math.sin(scipy.linalg.subspace_angles(U, W).max())
    assert d == pytest.approx(ref, rel=1e-3, abs=1e-15)


def test_subspace_distance_tiny_where_naive_formula_fails() -> None:
    rng = np.random.default_rng(0)
    U, W = rotated_pair(rng, 300, 4, np.array([1e-12, 5e-13, 1e-13, 0.0]))
    d = th.subspace_distance(U, W)
    assert d == pytest.approx(1e-12, rel=1e-3)
    naive = math.sqrt(max(0.0, 1.0 - np.linalg.svd(U.T @ W, compute_uv=False).min() ** 2))
    assert abs(naive - 1e-12) > 1e-9  # the naive form is wrong by orders of magnitude here
    assert th.subspace_distance(U, U) < 1e-14
    with pytest.raises(ValueError, match="same number of rows"):
        th.subspace_distance(U, np.eye(299)[:, :4])


@settings(max_examples=20, **SETTINGS)
@given(m=st.integers(3, 30), n=st.integers(3, 30), k=st.integers(1, 3), log_scale=st.floats(-12, 0),
       seed=st.integers(0, 2**31))
def test_relative_error_factors_matches_dense(m: int, n: int, k: int, log_scale: float, seed: int) -> None:
    k = min(k, m, n)
    rng = np.random.default_rng(seed)
    Us, Vs = orthonormal(rng, m, k), orthonormal(rng, n, k)
    s = np.sort(rng.uniform(1, 3, k))[::-1]
    M = (Us * s) @ Vs.T
    # an estimate Uf Vᵀ = M + perturbation, with V orthonormal as in AltMin
    scale = 10.0**log_scale
    V = np.linalg.qr(Vs + scale * rng.standard_normal((n, k)))[0]
    Uf = M @ V + scale * rng.standard_normal((m, k))
    dense = np.linalg.norm(Uf @ V.T - M) / np.linalg.norm(M)
    got = th.relative_error_factors(Uf, V, Us, s, Vs)
    assert got == pytest.approx(dense, rel=1e-6, abs=1e-14)


def test_relative_error_factors_exact_and_errors() -> None:
    rng = np.random.default_rng(1)
    Us, Vs, s = orthonormal(rng, 20, 2), orthonormal(rng, 15, 2), np.array([2.0, 1.0])
    assert th.relative_error_factors(Us * s, Vs, Us, s, Vs) < 1e-15
    assert th.relative_error_factors(np.zeros((20, 2)), Vs, Us, s, Vs) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="must match"):
        th.relative_error_factors(Us, Vs[:-1], Us, s, Vs)
    with pytest.raises(ValueError, match="k = len"):
        th.relative_error_factors(Us, Vs, Us, s[:1], Vs)


# ---------------------------------------------------------------------------------------------
# MC1, MC2


def test_sample_complexity_and_constants() -> None:
    assert th.MC1_KAPPA_EXPONENT_CANDIDATES == (2, 4)
    for const in (th.MC1_KAPPA_EXPONENT, th.MC1_K_EXPONENT, th.MC1_CONSTANT, th.MC2_CONTRACTION):
        assert isinstance(const, th.ReconstructedConstant) and not const.confirmed and const.note
    assert th.MC1_K_EXPONENT.value == 4.5
    val = th.sample_complexity(1.5, 3.0, 500, 5, 1e-6, 10.0)
    assert val == pytest.approx(3.0**2 * 1.5**2 * 500 * 5**4.5 * math.log(500) * math.log(1e7))
    ratio = th.sample_complexity(1.5, 3.0, 500, 5, 1e-6, 10.0, a=4) / val
    assert ratio == pytest.approx(9.0)
    np.testing.assert_allclose(th.sample_complexity(1.0, [1.0, 2.0], 100, 1, 0.1, 1.0),
                               [1, 4] * np.full(2, 100 * math.log(100) * math.log(10)))
    with pytest.raises(ValueError, match="eps must be < norm_M"):
        th.sample_complexity(1.0, 1.0, 100, 1, 2.0, 1.0)
    with pytest.raises(ValueError, match="mu"):
        th.sample_complexity(0.5, 1.0, 100, 1, 0.1, 1.0)
    assert th.mc1_exponents()["k"] == 4.5 and th.mc1_exponents()["kappa_candidates"] == (2, 4)
    assert th.geometric_factor() == 0.25 and th.geometric_factor(2) == 1 / 16
    with pytest.raises(ValueError, match="half_steps"):
        th.geometric_factor(-1)


# ---------------------------------------------------------------------------------------------
# MC4: forward error and the certified stopping rule


def regression(rng: np.random.Generator, rows: int, k: int, cond: float, noise: float):
    A, s = matrix_with_spectrum(rng, rows, k, cond)
    b = A @ rng.standard_normal(k) + noise * rng.standard_normal(rows)
    x_star = np.linalg.lstsq(A, b, rcond=None)[0]
    z_star = np.linalg.norm(A @ x_star - b)
    _, _, Vt = np.linalg.svd(A, full_matrices=False)
    return A, b, x_star, z_star, s.min(), Vt[-1]


@settings(max_examples=40, **SETTINGS)
@given(rows=st.integers(3, 40), k=st.integers(1, 6), log_cond=st.floats(0, 4), eps0=st.floats(1e-8, 1.0),
       t=st.floats(0, 1), worst=st.booleans(), seed=st.integers(0, 2**31))
def test_forward_error_lemma(rows: int, k: int, log_cond: float, eps0: float, t: float, worst: bool,
                             seed: int) -> None:
    k = min(k, rows - 1)  # rows > k: a non-zero optimal residual
    rng = np.random.default_rng(seed)
    A, b, x_star, z_star, smin, v_min = regression(rng, rows, k, 10.0**log_cond, 1.0)
    # an ε₀-accurate x′: ‖A e‖² = t·ε₀(2+ε₀)‖z*‖², along the worst direction or a random one
    direction = v_min if worst else rng.standard_normal(k)
    e = direction * math.sqrt(t * eps0 * (2 + eps0)) * z_star / np.linalg.norm(A @ direction)
    x = x_star + e
    assert np.linalg.norm(A @ x - b) <= (1 + eps0) * z_star * (1 + 1e-10)
    bound = th.forward_error_bound(eps0, z_star, smin)
    assert np.linalg.norm(e) <= bound * (1 + 1e-9) + 1e-15
    sharp = th.forward_error_bound(eps0, z_star, smin, sharp=True)
    assert sharp <= bound * (1 + 1e-15)
    assert np.linalg.norm(e) <= sharp * (1 + 1e-9) + 1e-15
    if worst:  # the sharp bound is attained
        assert np.linalg.norm(e) == pytest.approx(math.sqrt(t) * sharp, rel=1e-6, abs=1e-15)


def test_forward_error_bound_fails_beyond_its_accuracy() -> None:
    rng = np.random.default_rng(3)
    A, _, _, z_star, smin, v_min = regression(rng, 30, 4, 100.0, 1.0)
    eps0 = 0.1
    # a (1 + 3ε₀)-accurate point along the worst direction breaks the ε₀ bound: the test can fail
    e = v_min * math.sqrt(3 * eps0 * (2 + 3 * eps0)) * z_star / np.linalg.norm(A @ v_min)
    assert np.linalg.norm(e) > th.forward_error_bound(eps0, z_star, smin)
    assert th.forward_error_factor(0.25) == pytest.approx(math.sqrt(0.75))
    np.testing.assert_allclose(th.forward_error_bound([0.0, 0.12], [1.0, 2.0], 2.0), [0.0, 0.6])
    with pytest.raises(ValueError, match="eps0 must be ≤ 1"):
        th.forward_error_bound(1.5, 1.0, 1.0)
    assert th.forward_error_bound(1.5, 1.0, 1.0, sharp=True) == pytest.approx(math.sqrt(1.5 * 3.5))
    with pytest.raises(ValueError, match="sigma_min"):
        th.forward_error_bound(0.1, 1.0, 0.0)


@settings(max_examples=40, **SETTINGS)
@given(rows=st.integers(3, 40), k=st.integers(1, 6), log_cond=st.floats(0, 3), eps0=st.floats(1e-6, 1.0),
       log_err=st.floats(-8, 1), noise=st.sampled_from([1e-3, 1.0]), seed=st.integers(0, 2**31))
def test_certified_rule_implies_accuracy(rows: int, k: int, log_cond: float, eps0: float, log_err: float,
                                         noise: float, seed: int) -> None:
    k = min(k, rows - 1)
    rng = np.random.default_rng(seed)
    A, b, x_star, z_star, smin, _ = regression(rng, rows, k, 10.0**log_cond, noise)
    x = x_star + 10.0**log_err * z_star / smin * rng.standard_normal(k)
    z = A @ x - b
    certified = th.certified_accuracy(np.linalg.norm(A.T @ z), smin, np.linalg.norm(z), eps0)
    if certified:
        assert np.linalg.norm(z) <= (1 + eps0) * z_star * (1 + 1e-9)
    # a lower bound of σ_min keeps the rule valid (it only certifies less)
    if th.certified_accuracy(np.linalg.norm(A.T @ z), 0.5 * smin, np.linalg.norm(z), eps0):
        assert certified


def test_certified_rule_is_not_vacuous_and_vectorised() -> None:
    rng = np.random.default_rng(5)
    A, b, x_star, z_star, smin, _ = regression(rng, 30, 4, 10.0, 1.0)
    sizes = np.geomspace(1e-8, 10, 30)
    zs, gs, exact_ok = [], [], []
    for size in sizes:
        x = x_star + size * z_star / smin * rng.standard_normal(4)
        z = A @ x - b
        zs.append(np.linalg.norm(z))
        gs.append(np.linalg.norm(A.T @ z))
        exact_ok.append(np.linalg.norm(z) <= 1.01 * z_star)
    cert = th.certified_accuracy(np.array(gs), smin, np.array(zs), 0.01)
    assert cert.dtype == bool and cert.shape == (30,)
    assert cert[:5].all() and not cert[-5:].any()  # certifies small errors, rejects large ones
    assert np.all(np.array(exact_ok)[cert])
    # consistent system: z* = 0, the rule certifies only z = 0
    assert not th.certified_accuracy(1e-3, 1.0, 1e-3, 0.5)
    assert th.certified_accuracy(0.0, 1.0, 0.0, 0.5)
    assert th.certified_threshold(1e-12) == pytest.approx(2e-12, rel=1e-9)  # no cancellation
    with pytest.raises(ValueError, match="eps0"):
        th.certified_accuracy(0.0, 1.0, 0.0, 0.0)


# ---------------------------------------------------------------------------------------------
# MC5: Weyl; MC6: incoherence perturbation


@settings(max_examples=30, **SETTINGS)
@given(rows=st.integers(2, 40), k=st.integers(1, 6), log_cond=st.floats(0, 3), frac=st.floats(0, 2),
       seed=st.integers(0, 2**31))
def test_weyl_lower_bound_and_guard(rows: int, k: int, log_cond: float, frac: float, seed: int) -> None:
    k = min(k, rows)
    rng = np.random.default_rng(seed)
    A, s = matrix_with_spectrum(rng, rows, k, 10.0**log_cond)
    E = rng.standard_normal((rows, k))
    E *= frac * s.min() / np.linalg.norm(E, 2)
    B = A + E
    d = np.linalg.norm(E, 2)
    smin_B = np.linalg.svd(B, compute_uv=False).min()
    assert smin_B >= th.weyl_lower_bound(s.min(), d) - 1e-12 * s.max()
    if th.weyl_guard(s.min(), d):
        assert smin_B >= 0.5 * s.min() - 1e-12 * s.max()
    assert th.weyl_guard(s.min(), d) == (frac <= 0.5 + 1e-12) or abs(frac - 0.5) < 1e-9


def test_weyl_half_is_needed() -> None:
    A, B = np.eye(3)[:, :1], np.zeros((3, 1))  # ‖A − B‖ = σ_min(A) = 1 and σ_min(B) = 0
    assert not th.weyl_guard(1.0, 1.0) and th.weyl_guard(1.0, 0.5)
    assert np.linalg.svd(B, compute_uv=False).min() == 0.0 < 0.5 * np.linalg.svd(A, compute_uv=False).min()
    np.testing.assert_array_equal(th.weyl_guard([2.0, 2.0], [1.0, 1.1]), [True, False])
    assert th.weyl_lower_bound(1.0, 3.0) == 0.0


@settings(max_examples=30, **SETTINGS)
@given(m=st.integers(4, 60), k_frac=st.floats(0, 1), log_cond=st.floats(0, 2), alpha=st.floats(0, 20),
       frac=st.floats(0, 0.99), row_spike=st.booleans(), seed=st.integers(0, 2**31))
def test_incoherence_perturbation(m: int, k_frac: float, log_cond: float, alpha: float, frac: float,
                                  row_spike: bool, seed: int) -> None:
    k = max(1, min(m - 1, int(k_frac * m / 2)))
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((m, k))
    G[:2] *= 1 + alpha
    QA = np.linalg.qr(G)[0]
    s = np.geomspace(10.0**log_cond, 1.0, k)
    A = QA @ np.diag(s) @ orthonormal(rng, k, k).T
    E = np.zeros((m, k))
    if row_spike:  # all the perturbation in one row: the worst case for incoherence
        E[rng.integers(m)] = rng.standard_normal(k)
    else:
        E = rng.standard_normal((m, k))
    E *= frac * s.min() / np.linalg.norm(E, 2)
    QB = np.linalg.qr(A + E)[0]
    bound = th.incoherence_perturbation_bound(th.incoherence(QA), s.max(), s.min(), np.linalg.norm(E, 2),
                                              np.linalg.norm(E, axis=1).max(), m, k)
    assert th.incoherence(QB) <= bound * (1 + 1e-9)


def test_incoherence_perturbation_is_nearly_tight() -> None:
    # B = A with κ = 1: equality
    rng = np.random.default_rng(2)
    QA = orthonormal(rng, 50, 3)
    assert th.incoherence_perturbation_bound(th.incoherence(QA), 1.0, 1.0, 0.0, 0.0, 50, 3) == pytest.approx(
        th.incoherence(QA))
    # k = 1, flat a, perturbation δ·e₁: μ(Q_B) ≈ 1 + √m·δ, the bound (1 + √m·δ)/(1 − δ)
    m, delta = 400, 0.01
    a = np.full((m, 1), 1 / math.sqrt(m))
    B = a.copy()
    B[0] += delta
    mu_B = th.incoherence(B / np.linalg.norm(B))
    bound = th.incoherence_perturbation_bound(1.0, 1.0, 1.0, delta, delta, m, 1)
    assert 0.98 * bound < mu_B <= bound


def test_incoherence_perturbation_values_and_errors() -> None:
    got = th.incoherence_perturbation_bound(1.0, 2.0, 1.0, 0.5, 0.25, 16, 4)
    assert got == pytest.approx((1.0 * 2.0 + 2.0 * 0.25) / 0.5)
    with pytest.raises(ValueError, match="perturbation_norm must be < sigma_min_A"):
        th.incoherence_perturbation_bound(1.0, 2.0, 1.0, 1.0, 0.25, 16, 4)
    with pytest.raises(ValueError, match="sigma_max_A must be ≥"):
        th.incoherence_perturbation_bound(1.0, 0.5, 1.0, 0.1, 0.1, 16, 4)
    with pytest.raises(ValueError, match="k must be ≤ m"):
        th.incoherence_perturbation_bound(1.0, 2.0, 1.0, 0.1, 0.1, 4, 16)


# ---------------------------------------------------------------------------------------------
# MC7, MC8


def test_cost_formulas() -> None:
    k, T = 5, 15
    exact_row = k * (k + 1) * (k + 2) // 6 + T + 2 * (k * (k + 1) + 2 * k) + k * (k + 1)
    assert th.flops_exact(1000, 40, k) == 1000 * (T + k) + 40 * exact_row
    # cg: design norms nk, start (2k+2)nnz + mk, s steps of (2k+3)nnz + 3mk, less the last gradient
    assert th.flops_cg(1000, k, 0, 40, 50) == 50 * k + 12 * 1000 + 40 * k
    assert th.flops_cg(1000, k, 3, 40, 50) == 50 * k + 12 * 1000 + 40 * k + 3 * (13 * 1000 + 120 * k) - (
        6 * 1000 + 80 * k)
    assert th.sketch_steps(1e-3, 1.0) == math.ceil(math.log(1e3))
    for s in range(1, 25):
        for kk in range(1, s + 1):
            ref = sum((s - c) * (1 + 2 * (kk - c)) for c in range(kk)) + kk * (kk + 1) // 2
            assert th.householder_flops(s, kk) == ref
    L = math.ceil(2 * math.log(1e4))
    pcg = 50 * k + 12 * 1000 + 40 * (k + T + k) + L * (13 * 1000 + 40 * (3 * k + 2 * T + k)) - (
        6 * 1000 + 40 * (2 * k + T + k))
    qr = 40 * th.householder_flops(20, k)
    assert th.flops_sketch(1000, 40, 50, k, 20, 1e-4, 2.0, sketch="countsketch") == 1000 * 6 + qr + pcg
    assert th.flops_sketch(1000, 40, 50, k, 20, 1e-4, 2.0) == 1000 * 6 * 20 + qr + pcg
    # the orders of MC7 in k at fixed |Ω|: exact ~ k², cg and CountSketch ~ k
    ks = np.array([8.0, 16.0, 32.0, 64.0])
    nnz, m, n = 10**8, 10**3, 10**3
    slope = {name: np.polyfit(np.log(ks), np.log(f), 1)[0] for name, f in [
        ("exact", th.flops_exact(nnz, m, ks)), ("cg", th.flops_cg(nnz, ks, 3, m, n)),
        ("count", th.flops_sketch(nnz, m, n, ks, 4 * ks, 1e-2, sketch="countsketch")),
        ("gauss", th.flops_sketch(nnz, m, n, ks, 4 * ks, 1e-2))]}
    assert 1.8 < slope["exact"] < 2.2 and 0.85 < slope["cg"] < 1.05 and 0.85 < slope["count"] < 1.2
    assert slope["gauss"] > 1.8
    with pytest.raises(ValueError, match="steps"):
        th.flops_cg(10, 2, -1, 4, 4)
    with pytest.raises(ValueError, match="eps0"):
        th.sketch_steps(2.0)
    with pytest.raises(ValueError, match="s must be ≥ k"):
        th.householder_flops(2, 3)
    with pytest.raises(ValueError, match="sketch"):
        th.flops_sketch(10, 4, 4, 2, 8, 0.1, sketch="srht")


def test_cost_formulas_equal_solver_counts() -> None:
    """MC7: the solvers' own counts equal the formulas on the generic path (every row takes all steps)."""
    rs = pytest.importorskip("solvers.matrix_completion.row_solvers")
    obs_mod = pytest.importorskip("solvers.matrix_completion.observations")
    rng = np.random.default_rng(0)
    m, n, k = 90, 110, 6
    # a sparse-enough Ω (about 45% of the entries) so that no row's design has k equal singular values
    mask = rng.random((m, n)) < 0.45
    rows, cols = np.nonzero(mask)
    obs = obs_mod.observations(rows, cols, rng.standard_normal(rows.size), (m, n))
    V, U = orthonormal(rng, n, k), orthonormal(rng, m, k)
    nnz = obs.nnz
    got = rs.exact().solve(obs, V)
    assert got.lstsq_rows.size == 0 and got.flops == th.flops_exact(nnz, m, k)
    for steps in (0, 1, 3):
        got = rs.cg(steps).solve(obs, V, x0=rng.standard_normal((m, k)))
        assert np.all(got.steps == steps) and got.flops == th.flops_cg(nnz, k, steps, m, n)
        got = rs.cg(steps).solve(obs.transpose(), U, x0=rng.standard_normal((n, k)))
        assert np.all(got.steps == steps) and got.flops == th.flops_cg(nnz, k, steps, n, m)
    for sketch in ("gaussian", "countsketch"):
        solver = rs.sketch_precond(2, sketch, 1e-2, 0.5, rng=1)  # L = ⌈0.5·log 100⌉ = 3 < k
        got = solver.solve(obs, V)
        assert got.lstsq_rows.size == 0 and np.all(got.steps == 3)
        assert got.flops == th.flops_sketch(nnz, m, n, k, 2 * k, 1e-2, 0.5, sketch=sketch)


def test_identifiability_helpers() -> None:
    assert th.undetermined_lines([0, 1, 4, 5, 9], 5) == 3
    assert th.spiky_success_bound(0.3) == 0.3
    with pytest.raises(ValueError, match="p must be ≤ 1"):
        th.spiky_success_bound(1.5)


# ---------------------------------------------------------------------------------------------
# registry

KINDS = {
    "matrix_completion.main_theorem": (ClaimKind.RATE, True),
    "matrix_completion.geometric_convergence": (ClaimKind.PER_RUN, True),
    "matrix_completion.robustness": (ClaimKind.RATE, True),
    "matrix_completion.forward_error": (ClaimKind.PER_RUN, True),
    "matrix_completion.weyl_guard": (ClaimKind.PER_RUN, True),
    "matrix_completion.incoherence_perturbation": (ClaimKind.PER_RUN, True),
    "matrix_completion.cost_model": (ClaimKind.IDENTITY, True),
    "matrix_completion.identifiability": (ClaimKind.EXPECTATION, False),
    "matrix_completion.exactness": (ClaimKind.IDENTITY, False),
}


def test_claims_registered_with_kinds() -> None:
    assert [c.id for c in th.CLAIMS] == list(KINDS)
    for c in th.CLAIMS:
        kind, reconstructed = KINDS[c.id]
        assert get_claim(c.id) is c
        assert c.kind is kind and c.reconstructed is reconstructed, c.id
        assert c.topic == "matrix_completion" and c.statement and c.source
        assert all(callable(f) for f in c.bounds)
    assert th.forward_error_bound in get_claim("matrix_completion.forward_error").bounds
    assert th.incoherence_perturbation_bound in get_claim("matrix_completion.incoherence_perturbation").bounds


def test_solver_diagnostics_agree_with_the_theory_definitions() -> None:
    """solvers.matrix_completion keeps its own μ, dist and relF (solvers import nothing of ours): same values."""
    import solvers.matrix_completion as smc

    rng = np.random.default_rng(3)
    m, n, k = 60, 45, 4
    U = np.linalg.qr(rng.standard_normal((m, k)))[0]
    W = np.linalg.qr(U + 1e-3 * rng.standard_normal((m, k)))[0]
    V = np.linalg.qr(rng.standard_normal((n, k)))[0]
    s = np.array([3.0, 2.0, 1.5, 1.0])
    F, G = rng.standard_normal((m, k)), rng.standard_normal((n, k))
    assert smc.coherence(U) == pytest.approx(th.incoherence(U), rel=1e-14)
    assert smc.subspace_dist(U, W) == pytest.approx(th.subspace_distance(U, W), rel=1e-12)
    assert smc.rel_error(F, G, smc.Truth(U, V, s)) == pytest.approx(th.relative_error_factors(F, G, U, s, V), rel=1e-12)
