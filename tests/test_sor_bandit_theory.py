"""Tests of theory.sor_bandit: closed forms against dense linear algebra, derived inequalities, the registry.

Only the theory module is imported (plus, where it exists, ``solvers.sor`` for one agreement test). The
SOR and SSOR matrices, SOR counts and PCG counts are built here with scipy/numpy, so the claims are
checked independently of ``solvers``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg as sl
import scipy.sparse as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

import theory
from theory import sor_bandit as th
from theory.registry import ClaimKind

SETTINGS = {"deadline": None, "derandomize": True}
EPS = 1e-8

betas = st.floats(0.05, 0.995)
taus = st.floats(0.01, 0.95)


# ---------------------------------------------------------------------------------------------
# dense helpers


def poisson(N: int) -> np.ndarray:
    """Dense 2-D Poisson matrix P_N = I⊗T + T⊗I, T = tridiag(−1, 2, −1), lexicographic order."""
    T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(N, N), dtype=float)
    eye = sp.eye(N, dtype=float)
    return (sp.kron(eye, T) + sp.kron(T, eye)).toarray()


def splitting(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.diag(np.diag(A)), np.tril(A, -1)


def sor_matrices(A: np.ndarray, omega: float) -> tuple[np.ndarray, np.ndarray]:
    """M_ω = I − W_ω⁻¹A and C_ω = I − AW_ω⁻¹ with W_ω = D/ω + L."""
    D, L = splitting(A)
    W = D / omega + L
    eye = np.eye(len(A))
    M = eye - sl.solve_triangular(W, A, lower=True)
    C = eye - A @ np.linalg.inv(W)
    return M, C


def spectral_radius(M: np.ndarray) -> float:
    return float(np.abs(np.linalg.eigvals(M)).max())


def jacobi_radius(A: np.ndarray) -> float:
    d = np.diag(A)
    return spectral_radius(np.eye(len(A)) - A / d[:, None])


def ssor_preconditioner(A: np.ndarray, omega: float) -> np.ndarray:
    D, L = splitting(A)
    Dinv = np.diag(1.0 / np.diag(D))
    return (D + omega * L) @ Dinv @ (D + omega * L.T) / (omega * (2.0 - omega))


def mu_nu(A: np.ndarray) -> tuple[float, float]:
    D, L = splitting(A)
    Dinv = np.diag(1.0 / np.diag(D))
    mu = float(sl.eigh(D, A, eigvals_only=True).max())
    nu = float(sl.eigh(L @ Dinv @ L.T - D / 4.0, A, eigvals_only=True).max())
    return mu, nu


def sor_count(A: np.ndarray, b: np.ndarray, omega: float, eps: float, k_max: int = 10_000) -> int:
    """Algorithm 1: the first k ≥ 1 with ‖r_k‖ < ε‖b‖."""
    D, L = splitting(A)
    W = D / omega + L
    x = np.zeros_like(b)
    r = b.copy()
    nb = np.linalg.norm(b)
    for k in range(1, k_max + 1):
        x = x + sl.solve_triangular(W, r, lower=True)
        r = b - A @ x
        if np.linalg.norm(r) < eps * nb:
            return k
    return k_max


def pcg_count(A: np.ndarray, b: np.ndarray, P: np.ndarray, eps: float, k_max: int = 10_000) -> int:
    """Preconditioned CG from x₀ = 0; the first k with ‖r_k‖ ≤ ε‖b‖."""
    cho = sl.cho_factor(P)
    x = np.zeros_like(b)
    r = b.copy()
    z = sl.cho_solve(cho, r)
    p = z.copy()
    rz = r @ z
    nb = np.linalg.norm(b)
    for k in range(1, k_max + 1):
        Ap = A @ p
        a = rz / (p @ Ap)
        x += a * p
        r -= a * Ap
        if np.linalg.norm(r) <= eps * nb:
            return k
        z = sl.cho_solve(cho, r)
        rz_new = r @ z
        p = z + (rz_new / rz) * p
        rz = rz_new
    return k_max


# ---------------------------------------------------------------------------------------------
# claim 1: Young


def test_young_against_dense_eigenvalues_of_sor_iteration() -> None:
    N = 10
    A = poisson(N)
    beta = jacobi_radius(A)
    assert beta == pytest.approx(th.poisson_beta(N), abs=1e-12)
    w_star = th.optimal_omega(beta)
    for omega in (0.3, 0.7, 1.0, 1.2, 1.3, 1.5, 1.57, 1.6, 1.8, 1.95, w_star):
        M, C = sor_matrices(A, omega)
        tol = 1e-6 if omega == w_star else 1e-10  # Jordan block at ω*: eig is √(machine ε)-accurate
        expected = th.young_radius(omega, beta)
        assert spectral_radius(M) == pytest.approx(expected, abs=tol)
        assert spectral_radius(C) == pytest.approx(expected, abs=tol)  # C_ω = A M_ω A⁻¹


def test_young_on_a_shifted_poisson_matrix() -> None:
    N, c = 8, 0.3
    A = poisson(N) + c * np.eye(N * N)
    beta = jacobi_radius(A)
    assert beta == pytest.approx(th.shifted_beta(c, N), abs=1e-12)
    for omega in (0.9, 1.25, 1.7):
        M, _ = sor_matrices(A, omega)
        assert spectral_radius(M) == pytest.approx(th.young_radius(omega, beta), abs=1e-10)


def test_spec_section6_numbers() -> None:
    assert th.poisson_beta(10) == pytest.approx(0.959493, abs=5e-7)
    assert th.poisson_omega_star(10) == pytest.approx(1.560388, abs=5e-7)
    assert th.optimal_omega(th.poisson_beta(10)) == pytest.approx(th.poisson_omega_star(10), abs=1e-14)
    rho = th.young_radius(np.array([1.3, 1.5, 1.8]), th.poisson_beta(10))
    np.testing.assert_allclose(rho, [0.849974, 0.728007, 0.8], atol=5e-7)
    w = th.omega_star_shifted(np.array([-0.15, 0.0, 0.45]), 10)
    np.testing.assert_allclose(w, [1.853594, 1.560388, 1.327919], atol=5e-7)
    assert th.spd_shift_threshold(10) == pytest.approx(-0.162028, abs=5e-7)
    assert th.poisson_rho_star(10) == pytest.approx(th.poisson_omega_star(10) - 1.0, abs=1e-14)


@settings(max_examples=40, **SETTINGS)
@given(beta=st.floats(0.0, 0.999))
def test_young_structure(beta: float) -> None:
    ws = th.optimal_omega(beta)
    s = math.sqrt(1.0 - beta * beta)
    assert ws == pytest.approx(1.0 + (beta / (1.0 + s)) ** 2, rel=1e-13)
    assert 1.0 <= ws < 2.0
    assert th.young_radius(1.0, beta) == pytest.approx(beta * beta, abs=1e-14)
    assert th.young_radius(ws, beta) == pytest.approx(ws - 1.0, abs=1e-7)
    left = np.linspace(0.05, ws, 200)
    rho_left = th.young_radius(left, beta)
    assert np.all(np.diff(rho_left) <= 1e-12)  # decreasing on (0, ω*]
    right = np.linspace(ws, 1.99, 50)
    np.testing.assert_allclose(th.young_radius(right, beta), right - 1.0, atol=1e-7)
    grid = np.linspace(0.05, 1.99, 2000)
    assert th.young_radius(grid, beta).min() >= ws - 1.0 - 1e-7  # ω* minimises ρ


# ---------------------------------------------------------------------------------------------
# claim 2: the surrogate


def test_surrogate_bound_on_dense_sor_runs_with_tau_hat() -> None:
    N = 6
    A = poisson(N)
    beta = th.poisson_beta(N)
    b = np.random.default_rng(7).standard_normal(N * N)
    omegas = np.array([0.8, 1.0, 1.2, 1.4, th.poisson_omega_star(N), 1.7, 1.9])
    ks = np.array([sor_count(A, b, w, EPS) for w in omegas])
    rho = th.young_radius(omegas, beta)
    norms = np.array([np.linalg.norm(np.linalg.matrix_power(sor_matrices(A, w)[1], k - 1), 2)
                      for w, k in zip(omegas, ks, strict=True)])
    req = th.tau_required(norms, ks, rho)
    tau = th.tau_hat(norms, ks, rho)
    assert tau == pytest.approx(req.max())
    assert 0.0 < tau < 1.0
    assert np.all(req >= -1e-12)  # ‖C^j‖ ≥ ρ^j
    U = th.surrogate_cost(omegas, beta, tau, EPS)
    assert np.all(ks <= U * (1 + 1e-9))  # Lemma 2.1, per run, at every ω
    # τ̂ is the smallest valid τ: Assumption 2.1 is tight at the arg-max and fails for any smaller τ
    j = int(np.argmax(req))
    q = th.asymptoticity_rate(rho, tau)
    assert q[j] ** (ks[j] - 1) == pytest.approx(norms[j], rel=1e-9)
    assert th.asymptoticity_rate(rho[j], 0.99 * tau) ** (ks[j] - 1) < norms[j]
    assert np.all(q ** (ks - 1) >= norms * (1 - 1e-9))
    # the asymptotic estimate is no bound either way (here it exceeds the count at small ω)
    est = th.asymptotic_estimate(omegas, beta, EPS)
    assert np.all(est <= U - 1.0)
    omega_max = omegas.max()
    alpha = th.alpha_param(beta, tau, omega_max)
    inside = omegas >= 1.0
    assert np.all(U[inside] <= th.surrogate_ceiling(alpha, EPS) + 1e-9)


def test_tau_required_values() -> None:
    # k = 1 imposes nothing; otherwise (‖C^{k−1}‖^{1/(k−1)} − ρ)/(1 − ρ)
    req = th.tau_required([0.5, 0.25, 0.9], [1, 3, 2], [0.2, 0.2, 0.5])
    np.testing.assert_allclose(req, [0.0, (0.5 - 0.2) / 0.8, (0.9 - 0.5) / 0.5])
    assert th.tau_hat([0.5, 0.25], [1, 3], [0.2, 0.2]) == pytest.approx(0.375)
    assert th.tau_hat([1.0], [1], [0.3]) == 0.0
    assert th.tau_hat([8.0], [4], [0.3]) > 1.0  # transient growth: no τ < 1 is valid
    with pytest.raises(TypeError, match="ks"):
        th.tau_required([0.5], [2.5], [0.2])
    with pytest.raises(ValueError, match="rho"):
        th.tau_required([0.5], [2], [1.0])


@settings(max_examples=40, **SETTINGS)
@given(beta=betas, tau=taus, eps=st.sampled_from([1e-4, 1e-8, 1e-12]), frac=st.floats(0.0, 1.0))
def test_surrogate_dominates_the_estimate_and_stays_below_the_ceiling(beta: float, tau: float, eps: float,
                                                                      frac: float) -> None:
    ws = th.optimal_omega(beta)
    omega_max = ws + frac * (1.99 - ws)
    grid = np.linspace(0.05, 1.99, 400)
    U = th.surrogate_cost(grid, beta, tau, eps)
    assert np.all(U - 1.0 >= th.asymptotic_estimate(grid, beta, eps) - 1e-9)
    q = th.asymptoticity_rate(th.young_radius(grid, beta), tau)
    np.testing.assert_allclose(U, 1.0 + np.log(eps) / np.log(q), rtol=1e-12)
    alpha = th.alpha_param(beta, tau, omega_max)
    inside = (grid >= 1.0) & (grid <= omega_max)
    assert np.all(U[inside] <= th.surrogate_ceiling(alpha, eps) * (1 + 1e-12))
    assert np.all(U[inside] - 1.0 <= th.surrogate_range(alpha, eps) * (1 + 1e-12))
    assert th.thm21_K(eps, alpha) == pytest.approx(th.surrogate_range(alpha, eps))


# ---------------------------------------------------------------------------------------------
# claim 3: semi-Lipschitz


@settings(max_examples=50, **SETTINGS)
@given(beta=betas, tau=taus, frac=st.floats(0.02, 1.0))
def test_surrogate_monotone_pieces_and_slope_bound(beta: float, tau: float, frac: float) -> None:
    ws = th.optimal_omega(beta)
    omega_max = min(ws + frac * (1.99 - ws), 1.99)
    assume(omega_max - ws > 1e-3)
    left = np.linspace(0.05, ws, 300)
    assert np.all(np.diff(th.surrogate_cost(left, beta, tau, EPS)) <= 1e-9)  # decreasing on (0, ω*]
    right = np.linspace(ws, omega_max, 400)
    U_right = th.surrogate_cost(right, beta, tau, EPS)
    slopes = np.diff(U_right) / np.diff(right)
    assert np.all(slopes >= -1e-9)  # increasing on [ω*, ω_max]
    sup = th.surrogate_max_slope(beta, tau, omega_max, EPS)
    assert slopes.max() <= sup * (1 + 1e-6)
    assert slopes.max() >= sup * (1 - 0.05)  # the exact sup is attained (up to the grid)
    alpha = th.alpha_param(beta, tau, omega_max)
    L_U = th.surrogate_lipschitz(tau, alpha, EPS)
    if th.semi_lipschitz_condition(tau, ws):
        assert sup <= L_U * (1 + 1e-12)
        # (L_U, ω_max)-semi-Lipschitz: U(x) − U(y) ≤ L_U(x − y) for y ≤ x ≤ ω_max
        pts = np.linspace(0.5, omega_max, 60)
        Up = th.surrogate_cost(pts, beta, tau, EPS)
        diff = Up[None, :] - Up[:, None]  # [i, j] = U(x_j) − U(y_i)
        gap = pts[None, :] - pts[:, None]
        upper = np.triu(np.ones_like(diff, dtype=bool))
        assert np.all(diff[upper] <= L_U * gap[upper] + 1e-9)
    # the width times the slope bound is Thm 2.1's discretisation constant
    assert (omega_max - 1.0) * L_U <= np.log(1.0 / EPS) / np.log(alpha) ** 2 * (1 + 1e-12)


def test_slope_bound_can_fail_without_the_condition() -> None:
    beta, tau, omega_max = 0.3, 0.01, 1.1
    ws = th.optimal_omega(beta)
    assert not th.semi_lipschitz_condition(tau, ws)
    alpha = th.alpha_param(beta, tau, omega_max)
    assert th.surrogate_max_slope(beta, tau, omega_max, EPS) > 1.3 * th.surrogate_lipschitz(tau, alpha, EPS)


@settings(max_examples=80, **SETTINGS)
@given(beta=st.floats(0.0, 0.999), tau=st.floats(1e-6, 0.999))
def test_paper_sufficient_condition_implies_the_exact_one(beta: float, tau: float) -> None:
    ws = th.optimal_omega(beta)
    if th.semi_lipschitz_sufficient(tau, beta):
        assert th.semi_lipschitz_condition(tau, ws)


def test_exact_condition_thresholds() -> None:
    e2 = math.exp(-2.0)
    assert th.PAPER_BETA2_THRESHOLD == pytest.approx(4 * e2 * (1 - e2))
    # τ ≥ e⁻² alone suffices; just below fails for β = 0
    assert th.semi_lipschitz_condition(e2, 1.0)
    assert not th.semi_lipschitz_condition(e2 * 0.999, 1.0)
    # τ → 0: exact threshold β² = 4e⁻²/(1 + e⁻²)², below the paper's 4e⁻²(1 − e⁻²)
    b_exact = 2.0 * math.exp(-1.0) / (1.0 + e2)
    assert b_exact**2 < th.PAPER_BETA2_THRESHOLD
    assert th.semi_lipschitz_condition(1e-12, th.optimal_omega(b_exact * 1.0001))
    assert not th.semi_lipschitz_condition(1e-12, th.optimal_omega(b_exact * 0.9999))
    # at the paper's threshold ω* − 1 = e⁻²/(1 − e⁻²)
    assert th.optimal_omega(math.sqrt(th.PAPER_BETA2_THRESHOLD)) - 1.0 == pytest.approx(e2 / (1 - e2))
    assert th.semi_lipschitz_sufficient(0.5, 0.0) and not th.semi_lipschitz_sufficient(0.1, 0.5)


def test_surrogate_lipschitz_and_range_values() -> None:
    tau, alpha = 0.2, 0.848
    la = math.log(alpha)
    assert th.surrogate_lipschitz(tau, alpha, EPS) == pytest.approx(0.8 * math.log(1e8) / (alpha * la * la))
    assert th.surrogate_range(alpha, EPS) == pytest.approx(math.log(1e8) / -la)
    assert th.surrogate_ceiling(alpha, EPS) == pytest.approx(1 + math.log(1e-8) / la)


# ---------------------------------------------------------------------------------------------
# claims 4-5: Tsallis-INF and discretisation


def test_tsallis_bounds_values() -> None:
    assert th.tsallis_regret_bound(3.0, 8, 100) == pytest.approx(2 * 3 * math.sqrt(1600))
    assert th.tsallis_anytime_bound(3.0, 8, 100) == pytest.approx(4 * 3 * math.sqrt(800) + 1)
    np.testing.assert_allclose(th.tsallis_regret_bound(1.0, 2, np.array([1, 4, 9])), [4, 8, 12])


@pytest.mark.parametrize("d", [2, 5, 20, 50, 400])
def test_fixed_rate_bound_meets_thm_b1_only_at_its_tuned_rate(d: int) -> None:
    """K[4(√d−1)/η + (η/2)√dT] is ≤ 2K√(2dT) at η = √(8/T), above it at Thm B.1's η = 1/√T once d ≥ 6, and
    minimised at η* = √(8(√d−1)/(√d T))."""
    K, T = 3.0, 5000
    paper = th.tsallis_regret_bound(K, d, T)
    assert th.tsallis_fixed_rate_bound(K, d, T, math.sqrt(8 / T)) <= paper * (1 + 1e-12)
    assert (th.tsallis_fixed_rate_bound(K, d, T, 1 / math.sqrt(T)) > paper) is (d >= 6)
    eta_star = math.sqrt(8 * (math.sqrt(d) - 1) / (math.sqrt(d) * T))
    etas = eta_star * np.array([0.9, 0.99, 1.01, 1.1])
    assert np.all(th.tsallis_fixed_rate_bound(K, d, T, etas) > th.tsallis_fixed_rate_bound(K, d, T, eta_star))
    assert th.discretisation_bound(1.0, 2, 1, 0.5, 4.0) == pytest.approx(4.0 + 1.0)


@settings(max_examples=40, **SETTINGS)
@given(width=st.floats(0.05, 1.0), L=st.floats(0.5, 500.0), K=st.floats(1.0, 300.0),
       T=st.integers(10, 10**7))
def test_tuned_discretisation_equals_the_bound_at_the_optimal_d(width: float, L: float, K: float, T: int) -> None:
    d = th.optimal_grid_size(width, L, T, K)
    assume(d >= 1.0)
    at_d = th.discretisation_bound(K, d, T, width, L * T)
    tuned = th.tuned_discretisation_bound(width, L, K, T)
    assert at_d == pytest.approx(tuned, rel=1e-10)
    res = minimize_scalar(lambda x: th.discretisation_bound(K, x, T, width, L * T), bounds=(1.0, 1e9),
                          method="bounded", options={"xatol": 1e-10 * d})
    assert res.fun >= tuned * (1 - 1e-9)
    if d > 2:
        assert res.x == pytest.approx(d, rel=1e-3)


# ---------------------------------------------------------------------------------------------
# claim 6: Theorem 2.1


def test_thm21_grid() -> None:
    np.testing.assert_allclose(th.thm21_grid(1.8, 4), [1.2, 1.4, 1.6, 1.8])
    assert th.thm21_grid(1.5, 1).tolist() == [1.5]
    with pytest.raises(ValueError, match="omega_max"):
        th.thm21_grid(2.0, 4)
    with pytest.raises(ValueError, match="d"):
        th.thm21_grid(1.5, 0)


@settings(max_examples=30, **SETTINGS)
@given(T=st.integers(50, 5000), a_lo=st.floats(0.3, 0.8), spread=st.floats(0.0, 0.19), seed=st.integers(0, 99))
def test_thm21_tuning_is_the_bound_at_the_tuned_d(T: int, a_lo: float, spread: float, seed: int) -> None:
    alphas = a_lo + spread * np.random.default_rng(seed).random(T)
    tun = th.thm21_tuning(T, alphas, EPS)
    assert tun.alpha_max == pytest.approx(alphas.max())
    assert tun.K == pytest.approx(th.thm21_K(EPS, alphas.max()))
    assert tun.gamma_bar == pytest.approx(np.mean(np.log(alphas) ** -2.0))
    assume(tun.d >= 1.0)
    S = 123.0
    bound = th.thm21_bound(tun.K, tun.d, T, EPS, alphas, S)
    assert bound - S == pytest.approx(tun.excess, rel=1e-10)
    for factor in (0.8, 1.25):  # the tuned d is a minimiser
        if tun.d * factor >= 1.0:
            assert th.thm21_bound(tun.K, tun.d * factor, T, EPS, alphas, S) >= bound
    assert tun.excess <= th.thm21_excess_upper(EPS, tun.alpha_max, T) * (1 + 1e-12)
    assert tun.grid_size == max(1, round(tun.d))


def test_thm21_paper_example() -> None:
    beta, tau = 0.9, 0.2
    omega_max = th.optimal_omega(beta)
    assert omega_max == pytest.approx(1.392864, abs=1e-6)
    alpha = th.alpha_param(beta, tau, omega_max)
    assert alpha == pytest.approx(0.848, abs=1e-12)
    T0 = th.thm21_break_even_T(alpha)
    assert T0 == pytest.approx(54.0 / math.log(0.848) ** 4)
    assert 7.25e4 < T0 < 7.35e4  # ≈ 7.3·10⁴
    log_inv_eps = math.log(1 / EPS)
    assert th.thm21_excess_upper(EPS, alpha, T0) / T0 == pytest.approx(log_inv_eps, rel=1e-12)
    assert th.thm21_excess_upper(EPS, alpha, 1.01 * T0) / (1.01 * T0) < log_inv_eps
    assert th.thm21_excess_upper(EPS, alpha, 0.99 * T0) / (0.99 * T0) > log_inv_eps
    # smaller τ or β only shrink α
    assert th.alpha_param(0.85, 0.1, th.optimal_omega(0.85)) < alpha


def test_thm21_alphas_length_is_checked() -> None:
    with pytest.raises(ValueError, match="alphas"):
        th.thm21_bound(10.0, 4, 5, EPS, [0.5, 0.6], 0.0)
    with pytest.raises(ValueError, match="alphas"):
        th.thm21_tuning(3, [0.5, 1.0, 0.6])
    assert th.thm21_bound(10.0, 4, 3, EPS, 0.5, 0.0) == pytest.approx(
        th.thm21_bound(10.0, 4, 3, EPS, [0.5, 0.5, 0.5], 0.0))


# ---------------------------------------------------------------------------------------------
# claim 7: contextual


def test_d_omega_star_dc_closed_form() -> None:
    N = 10
    c = np.linspace(-0.15, 0.65, 17)
    h = 1e-6
    fd = (th.omega_star_shifted(c + h, N) - th.omega_star_shifted(c - h, N)) / (2 * h)
    np.testing.assert_allclose(th.d_omega_star_dc(c, N), fd, rtol=1e-6)
    assert np.all(th.d_omega_star_dc(c, N) < 0)


def test_lemma_e1_constant_bounds_the_slope_for_poisson() -> None:
    N, c_min, C = 10, -0.15, 0.8
    beta_max = th.shifted_beta(c_min, N)
    L_f = th.lemma_e1_constant(beta_max, 4.0, c_min)
    c = np.linspace(c_min, c_min + C, 200)
    slopes = np.abs(th.d_omega_star_dc(c, N))
    assert slopes.max() <= L_f * (1 + 1e-12)
    assert slopes[0] == pytest.approx(L_f, rel=1e-12)  # exact at c_min for D = 4I
    Lam = th.thm22_Lambda(beta_max, 4.0, c_min)
    omega_max = th.omega_star_shifted(c_min, N)
    assert L_f <= Lam * (omega_max - 1.0) <= Lam


def consistently_ordered(n: int, seed: int) -> np.ndarray:
    """A random SPD tridiagonal matrix (tridiagonal ⇒ consistently ordered) with a varying diagonal."""
    rng = np.random.default_rng(seed)
    off = -rng.uniform(0.3, 1.0, n - 1)
    diag = np.abs(np.concatenate([[0.0], off])) + np.abs(np.concatenate([off, [0.0]])) + rng.uniform(0.05, 1.5, n)
    return np.diag(diag) + np.diag(off, 1) + np.diag(off, -1)


@settings(max_examples=10, **SETTINGS)
@given(seed=st.integers(0, 10**6), n=st.integers(4, 12))
def test_lemma_e1_constant_bounds_the_slope_for_a_general_diagonal(seed: int, n: int) -> None:
    A = consistently_ordered(n, seed)
    lam_A = np.linalg.eigvalsh(A)[0]
    c_min = -0.8 * lam_A
    cs = np.linspace(c_min, c_min + 2.0, 41)
    eye = np.eye(n)
    betas_c = np.array([jacobi_radius(A + c * eye) for c in cs])
    assert np.all(np.diff(betas_c) <= 1e-12)  # β(c) is non-increasing
    w = th.optimal_omega(betas_c)
    slopes = np.abs(np.diff(w) / np.diff(cs))
    L_f = th.lemma_e1_constant(betas_c[0], np.diag(A).min(), c_min)
    assert slopes.max() <= L_f * (1 + 1e-6)
    omega_max = w[0]
    assert L_f <= th.thm22_Lambda(betas_c[0], np.diag(A).min(), c_min) * (omega_max - 1.0)


def test_thm_b4_bound_and_tuning() -> None:
    assert th.thm_b4_bound(4, 2.0, 9, 100, 0.5, 2.0, 0.8, 10.0) == pytest.approx(
        4 + 4 * 2 * math.sqrt(3600) + (0.5 * 2 / 4 + 0.8 / 9) * 10)
    K, T, C, L_f, width, L = 50.0, 10**6, 0.6, 3.0, 0.85, 40.0
    tun = th.thm_b4_tuning(K, T, C, L_f, width, L)
    at = th.thm_b4_bound(tun.m, K, tun.d, T, C, L_f, width, L * T) - tun.m
    assert at == pytest.approx(tun.excess, rel=1e-10)
    for fd, fm in ((0.9, 1.0), (1.1, 1.0), (1.0, 0.9), (1.0, 1.1), (1.1, 1.1), (0.9, 0.9)):
        other = th.thm_b4_bound(tun.m * fm, K, tun.d * fd, T, C, L_f, width, L * T) - tun.m * fm
        assert other >= at
    # d, m ∝ T^{1/4}, excess ∝ T^{3/4}
    tun16 = th.thm_b4_tuning(K, 16 * T, C, L_f, width, L)
    assert tun16.d / tun.d == pytest.approx(2.0) and tun16.m / tun.m == pytest.approx(2.0)
    assert tun16.excess / tun.excess == pytest.approx(8.0)


def test_thm22_values() -> None:
    b, lam, c = 0.9, 4.0, -0.1
    x = lam + c
    Lam = th.thm22_Lambda(b, lam, c)
    assert Lam == pytest.approx((1 + b) / (b * math.sqrt(1 - b * b)) * ((x + 1) / x) ** 2)
    a = 0.848
    val = th.thm22_bound(0.6, Lam, 1000, a, EPS, 5.0)
    expected = ((54 * 0.6**3 * Lam**3 * 1000 / math.log(a) ** 2) ** 0.25
                + 4 * math.log(1e8) / -math.log(a) * (24 * 0.6 * Lam * 1000**3) ** 0.25 + 5.0)
    assert val == pytest.approx(expected)
    with pytest.raises(ValueError, match="c_min"):
        th.thm22_Lambda(0.9, 1.0, -1.0)


# ---------------------------------------------------------------------------------------------
# claim 8: SSOR-PCG


def test_ssor_constants_and_condition_bound_on_dense_poisson() -> None:
    N = 10
    A = poisson(N)
    mu, nu = mu_nu(A)
    assert mu >= 1.0
    assert -0.25 - 1e-12 <= nu <= 1e-12
    D, L = splitting(A)
    for omega in (0.5, 0.9, 1.0, 1.3, 1.6, 1.9):
        Wb = ssor_preconditioner(A, omega)
        # the two forms of W̆_ω
        alt = omega / (2 - omega) * (D / omega + L) @ np.linalg.inv(D) @ (D / omega + L.T)
        np.testing.assert_allclose(Wb, alt, atol=1e-12)
        ev = sl.eigh(A, Wb, eigvals_only=True)
        assert ev.max() <= 1.0 + 1e-10  # W̆ ⪰ A
        assert ev.max() / ev.min() <= th.ssor_condition_bound(omega, mu, nu) * (1 + 1e-10)


def test_nu_is_not_always_nonpositive() -> None:
    A = np.array([[1.0, 0.8], [0.8, 1.0]])
    mu, nu = mu_nu(A)
    assert mu >= 1.0 and nu > 0.0  # ν ≤ 0 is a property of the matrix class, not of every SPD A


def test_pcg_count_below_cg_surrogate() -> None:
    N = 10
    A = poisson(N)
    mu, nu = mu_nu(A)
    ev = np.linalg.eigvalsh(A)
    kappa = ev[-1] / ev[0]
    b = np.random.default_rng(3).standard_normal(N * N)
    for omega in (0.8, 1.0, 1.4, th.ssor_cg_optimal_omega(mu, nu), 1.8):
        k = pcg_count(A, b, ssor_preconditioner(A, omega), EPS)
        assert k <= th.cg_surrogate(omega, kappa, mu, nu, 1.0, EPS)


@settings(max_examples=40, **SETTINGS)
@given(mu=st.floats(1.0, 200.0), nu=st.floats(-0.25, 0.0), kappa=st.floats(1.0, 1e5), tau=st.floats(0.1, 1.0))
def test_cg_surrogate_minimiser(mu: float, nu: float, kappa: float, tau: float) -> None:
    w_opt = th.ssor_cg_optimal_omega(mu, nu)
    assert th.SSOR_Z - 1e-12 <= w_opt < 2.0
    res = minimize_scalar(lambda w: th.ssor_condition_bound(w, mu, nu), bounds=(1e-3, 2 - 1e-9), method="bounded",
                          options={"xatol": 1e-10})
    assert res.x == pytest.approx(w_opt, abs=1e-5)
    kmin = th.ssor_min_condition_bound(mu, nu)
    assert th.ssor_condition_bound(w_opt, mu, nu) == pytest.approx(kmin, rel=1e-12)
    assert kmin >= 1.0 - 1e-12
    grid = np.linspace(0.05, 1.99, 500)
    U = th.cg_surrogate(grid, kappa, mu, nu, tau, EPS)
    assert np.all(U >= th.cg_surrogate(w_opt, kappa, mu, nu, tau, EPS) - 1e-9)


def test_ssor_z_constant() -> None:
    assert th.SSOR_Z == pytest.approx(2 * math.sqrt(2) - 2)
    assert th.ssor_cg_optimal_omega(1.0, 0.0) == pytest.approx(th.SSOR_Z)  # the extreme case μ = 1, ν = 0


# ---------------------------------------------------------------------------------------------
# claim 9: semi-stochastic


def test_thm31_and_corF1_values_and_scaling() -> None:
    K, d, T, b, n, kap = 20.0, 50, 1000, 0.5, 100, 40.0
    expected = 2 * K * math.sqrt(2 * d * T) + 32 * K**4 * T / (b**4 * d) * math.sqrt(2 * n * kap / math.pi)
    assert th.thm31_bound(K, d, T, b, n, kap) == pytest.approx(expected)
    lip = th.corF1_lipschitz(K, n, kap, b, 1.9, 0.3)
    assert lip == pytest.approx(32 * K**4 * math.sqrt(2 * n * kap / math.pi) / b**4 * (1 / 0.1 + 0.6))
    # d = K²∛(nT): both terms ∝ K²n^{1/6}T^{2/3}
    vals = [th.thm31_bound(K, K * K * np.cbrt(n * t), t, b, n, kap) for t in (1e3, 8e3)]
    assert vals[1] / vals[0] == pytest.approx(4.0, rel=1e-9)


# ---------------------------------------------------------------------------------------------
# claim 10: rates


def test_rate_exponents() -> None:
    assert th.chebcb_exponent() == pytest.approx(9 / 11)
    assert dict(th.REGRET_SLOPES) == pytest.approx(
        {"grid_arm": 0.5, "fine_grid_retuned": 2 / 3, "contextual_binned": 0.75, "chebcb": 9 / 11})
    a, b = np.meshgrid(np.linspace(0, 1, 221), np.linspace(0, 1, 221))
    for comp in th.REGRET_SLOPES:
        tuned = th.tuning_exponents(comp)
        assert th.regret_slope(comp) == tuned.regret
        assert th.regret_exponent(comp, tuned.d, tuned.m) == pytest.approx(tuned.regret)
        assert th.regret_exponent(comp, a, b).min() >= tuned.regret - 1e-12  # the tuning is optimal
    assert th.tuning_exponents("chebcb")[1:] == pytest.approx((2 / 11, 3 / 11))
    with pytest.raises(ValueError, match="comparator"):
        th.regret_slope("best_fixed")


# ---------------------------------------------------------------------------------------------
# §6: model problems


def test_poisson_closed_forms_against_dense() -> None:
    for N in (3, 7, 10):
        A = poisson(N)
        lam = np.linalg.eigvalsh(A)
        assert th.spd_shift_threshold(N) == pytest.approx(-lam[0], abs=1e-12)
        assert jacobi_radius(A) == pytest.approx(th.poisson_beta(N), abs=1e-12)
        M, _ = sor_matrices(A, th.poisson_omega_star(N))
        assert spectral_radius(M) == pytest.approx(th.poisson_rho_star(N), abs=1e-6)
        for c in (-0.1, 0.2, 1.0):
            assert jacobi_radius(A + c * np.eye(N * N)) == pytest.approx(th.shifted_beta(c, N), abs=1e-12)
    with pytest.raises(ValueError, match="c must exceed"):
        th.shifted_beta(-0.17, 10)


def test_poisson_count_approximations() -> None:
    N = 200
    beta = th.poisson_beta(N)
    gs = math.log(1 / EPS) / -math.log(beta**2)
    opt = math.log(1 / EPS) / -math.log(th.poisson_rho_star(N))
    assert th.poisson_gs_count(N, EPS) == pytest.approx(gs, rel=1e-3)
    assert th.poisson_optimal_count(N, EPS) == pytest.approx(opt, rel=1e-3)


def test_heat_beta_and_mode_factor() -> None:
    n_x, r = 8, 0.37
    P = poisson(n_x - 1)
    eye = np.eye(len(P))
    A = eye + r * P
    assert jacobi_radius(A) == pytest.approx(th.heat_beta(r, n_x), abs=1e-12)
    x = np.arange(1, n_x) / n_x
    X, Y = np.meshgrid(x, x, indexing="ij")
    for i, j in ((1, 1), (2, 5), (7, 3)):
        u = (np.sin(i * np.pi * X) * np.sin(j * np.pi * Y)).ravel()
        u_next = np.linalg.solve(A, (eye - r * P) @ u)
        np.testing.assert_allclose(u_next, th.heat_mode_factor(r, i, j, n_x) * u, atol=1e-12)
    with pytest.raises(ValueError, match="n_x"):
        th.heat_mode_factor(r, 8, 1, n_x)


# ---------------------------------------------------------------------------------------------
# validation


@pytest.mark.parametrize(("call", "name"), [
    (lambda: th.young_radius(0.0, 0.5), "omega"),
    (lambda: th.young_radius(2.0, 0.5), "omega"),
    (lambda: th.young_radius(1.0, 1.0), "beta"),
    (lambda: th.young_radius(1.0, -0.1), "beta"),
    (lambda: th.optimal_omega(np.nan), "beta"),
    (lambda: th.surrogate_cost(1.0, 0.5, 0.0), "tau"),
    (lambda: th.surrogate_cost(1.0, 0.5, 1.0), "tau"),
    (lambda: th.surrogate_cost(1.0, 0.5, 0.5, eps=1.0), "eps"),
    (lambda: th.surrogate_cost(1.0, 0.5, 0.5, eps=0.0), "eps"),
    (lambda: th.alpha_param(0.5, 0.5, 2.0), "omega_max"),
    (lambda: th.surrogate_ceiling(1.0), "alpha"),
    (lambda: th.tsallis_regret_bound(1.0, 0.5, 10), "d"),
    (lambda: th.tsallis_regret_bound(1.0, 2, 0), "T"),
    (lambda: th.tsallis_anytime_bound(0.0, 2, 10), "K"),
    (lambda: th.thm_b4_bound(0.5, 1.0, 2, 10, 1.0, 1.0, 1.0, 1.0), "m"),
    (lambda: th.thm21_bound(1.0, 2, 2.5, EPS, 0.5, 0.0), "T"),
    (lambda: th.ssor_condition_bound(1.0, 0.5, 0.0), "mu"),
    (lambda: th.ssor_condition_bound(1.0, 2.0, -0.3), "nu"),
    (lambda: th.cg_surrogate(1.0, 0.5, 2.0, 0.0), "kappa"),
    (lambda: th.lemma_e1_constant(0.5, 4.0, -4.0), "c_min"),
    (lambda: th.poisson_beta(0), "N"),
    (lambda: th.heat_beta(0.0, 8), "r"),
    (lambda: th.young_radius("1.0", 0.5), "omega"),
    (lambda: th.poisson_beta(2.5), "N"),
])
def test_bad_input_names_the_argument(call, name: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises((ValueError, TypeError), match=rf"^{name} "):
        call()


def test_scalars_in_floats_out_and_broadcasting() -> None:
    assert isinstance(th.young_radius(1.2, 0.9), float)
    assert isinstance(th.semi_lipschitz_condition(0.5, 1.2), bool)
    out = th.surrogate_cost(np.array([[1.0], [1.5]]), np.array([0.5, 0.9]), 0.3)
    assert out.shape == (2, 2)


# ---------------------------------------------------------------------------------------------
# agreement with the solver's own Young functions, where the solver exists


def test_solver_young_functions_agree() -> None:
    sor = pytest.importorskip("solvers.sor")
    if not (hasattr(sor, "young_radius") and hasattr(sor, "optimal_omega")):
        pytest.skip("solvers.sor does not export young_radius/optimal_omega yet")
    for beta in (0.0, 0.5, 0.959493, 0.99):
        assert float(sor.optimal_omega(beta)) == pytest.approx(th.optimal_omega(beta), rel=1e-12)
        for omega in (0.5, 1.0, 1.3, 1.7, 1.95):
            assert float(sor.young_radius(omega, beta)) == pytest.approx(th.young_radius(omega, beta), abs=1e-12)


# ---------------------------------------------------------------------------------------------
# registry

IDS = ["sor_bandit.young", "sor_bandit.surrogate_bound", "sor_bandit.semi_lipschitz", "sor_bandit.tsallis_regret",
       "sor_bandit.tsallis_anytime", "sor_bandit.discretisation", "sor_bandit.thm21", "sor_bandit.contextual",
       "sor_bandit.ssor_pcg", "sor_bandit.ssor_nu_sign", "sor_bandit.semi_stochastic", "sor_bandit.chebcb_rate",
       "sor_bandit.model_problem"]
KINDS = {"sor_bandit.young": ClaimKind.IDENTITY, "sor_bandit.surrogate_bound": ClaimKind.PER_RUN,
         "sor_bandit.semi_lipschitz": ClaimKind.STRUCTURAL, "sor_bandit.tsallis_regret": ClaimKind.EXPECTATION,
         "sor_bandit.discretisation": ClaimKind.EXPECTATION, "sor_bandit.thm21": ClaimKind.EXPECTATION,
         "sor_bandit.contextual": ClaimKind.EXPECTATION, "sor_bandit.ssor_pcg": ClaimKind.PER_RUN,
         "sor_bandit.semi_stochastic": ClaimKind.EXPECTATION, "sor_bandit.chebcb_rate": ClaimKind.RATE,
         "sor_bandit.model_problem": ClaimKind.IDENTITY, "sor_bandit.tsallis_anytime": ClaimKind.EXPECTATION,
         "sor_bandit.ssor_nu_sign": ClaimKind.PER_RUN}
RECONSTRUCTED = {"sor_bandit.semi_lipschitz", "sor_bandit.contextual"}
KNOWN_FAILURES = {"sor_bandit.tsallis_regret", "sor_bandit.ssor_nu_sign"}


def test_registry_ids_kinds_sources_and_flags() -> None:
    ids = [c.id for c in th.CLAIMS]
    assert ids == IDS
    registered = {c.id: c for c in theory.claims("sor_bandit")}
    assert set(registered) == set(IDS)
    for c in th.CLAIMS:
        assert theory.get_claim(c.id) is c
        assert c.topic == "sor_bandit"
        assert c.kind is KINDS[c.id]
        assert c.reconstructed is (c.id in RECONSTRUCTED)
        assert bool(c.known_failure) is (c.id in KNOWN_FAILURES)
        assert c.statement.strip() and c.source.strip()
        if c.id != "sor_bandit.model_problem":
            assert "Khodak, Chow, Balcan, Talwalkar, ICLR 2024" in c.source
        if c.reconstructed:
            assert "derivation in theory.sor_bandit" in c.source
        assert c.bounds
        for fn in c.bounds:
            assert getattr(th, fn.__name__) is fn
            assert fn.__name__ in th.__all__
    bounds = {c.id: c.bounds for c in th.CLAIMS}
    assert bounds["sor_bandit.young"] == (th.young_radius, th.optimal_omega)
    assert th.surrogate_cost in bounds["sor_bandit.surrogate_bound"]
    assert th.thm_b4_bound in bounds["sor_bandit.contextual"]
    assert th.lemma_e1_constant in bounds["sor_bandit.contextual"]
    assert th.cg_surrogate in bounds["sor_bandit.ssor_pcg"]
    assert set(th.__all__) <= set(dir(th))
