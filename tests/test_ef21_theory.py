"""Tests of theory.ef21: the constants, step sizes, bounds, error functions and the claim registry.

Only the theory module is imported. To test the derivations in its docstring (not just the formulas), a
ten-line EF21 / EF21-W with TopK runs here on small quadratics f_i(x) = ½xᵀQ_ix − b_iᵀx, whose smoothness
constants are exact (L_i = ‖Q_i‖₂), and the per-step Lyapunov inequalities are asserted on every round.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import ef21 as th
from theory.registry import ClaimKind, claims

SETTINGS = {"deadline": None, "derandomize": True}
alphas = st.floats(1e-6, 1.0, allow_nan=False)
open_alphas = st.floats(1e-6, 1.0 - 1e-9, allow_nan=False)


# ---------------------------------------------------------------------------------------------
# helpers: TopK, smoothness constants, a reference EF21


def topk(v: np.ndarray, K: int) -> np.ndarray:
    """Keep the K largest |v_j| of each row (ties by lowest index), zero the rest."""
    idx = np.argsort(-np.abs(v), axis=-1, kind="stable")[..., :K]
    out = np.zeros_like(v)
    np.put_along_axis(out, idx, np.take_along_axis(v, idx, axis=-1), axis=-1)
    return out


def quadratics(n: int, d: int, seed: int, zeta: float, convex: bool) -> tuple[np.ndarray, np.ndarray]:
    """Q (n, d, d) symmetric (PSD if convex) with client 0's curvature scaled by 1 + ζ, and b (n, d)."""
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((n, d, d)) / math.sqrt(d)
    Q = (B + B.transpose(0, 2, 1)) / 2
    if convex:
        Q = np.matmul(B, B.transpose(0, 2, 1)) + 0.05 * np.eye(d)
    Q[0] *= 1.0 + zeta
    return Q, rng.standard_normal((n, d))


def spectral(Q: np.ndarray) -> np.ndarray:
    return np.abs(np.linalg.eigvalsh(Q)).max(axis=-1)


def run_ef21(Q: np.ndarray, b: np.ndarray, x0: np.ndarray, gamma: float, K: int, T: int,
             weights: np.ndarray | None = None, zero_init: bool = False) -> dict[str, np.ndarray]:
    """EF21 (weights None) or EF21-W with TopK; returns x^t, ∇f_i(x^t) and g_i^t for t = 0..T."""
    n = Q.shape[0]
    scale = np.ones(n) if weights is None else 1.0 / (n * weights)
    agg = np.full(n, 1.0 / n) if weights is None else weights

    def client_grads(x: np.ndarray) -> np.ndarray:
        return np.einsum("nij,j->ni", Q, x) - b

    x = x0.copy()
    g = np.zeros_like(b) if zero_init else client_grads(x) * scale[:, None]
    xs, grads, gs = [x], [client_grads(x)], [g]
    for _ in range(T):
        x = x - gamma * (agg[:, None] * g).sum(axis=0)
        gi = client_grads(x)
        g = g + topk(gi * scale[:, None] - g, K)
        xs.append(x)
        grads.append(gi)
        gs.append(g)
    return {"x": np.array(xs), "grads": np.array(grads), "g": np.array(gs)}


def objective(Q: np.ndarray, b: np.ndarray, xs: np.ndarray) -> np.ndarray:
    return (0.5 * np.einsum("ti,nij,tj->tn", xs, Q, xs) - xs @ b.T).mean(axis=1)


# ---------------------------------------------------------------------------------------------
# claim 2: the constants


@settings(max_examples=60, **SETTINGS)
@given(alpha=open_alphas)
def test_closed_forms_match_the_young_construction(alpha: float) -> None:
    s = th.young_parameter(alpha)
    theta, beta, xi = th.theta(alpha), th.beta(alpha), th.xi(alpha)
    assert s == pytest.approx(1.0 / math.sqrt(1.0 - alpha) - 1.0, rel=1e-6, abs=1e-12)
    assert 1.0 - theta == pytest.approx((1.0 - alpha) * (1.0 + s), rel=1e-12)
    assert theta == pytest.approx(1.0 - (1.0 - alpha) * (1.0 + s), rel=1e-6, abs=1e-12)
    assert beta == pytest.approx((1.0 - alpha) * (1.0 + 1.0 / s), rel=1e-9)
    assert xi == pytest.approx(math.sqrt(beta / theta), rel=1e-12)
    assert xi == pytest.approx((math.sqrt(1.0 - alpha) + 1.0 - alpha) / alpha, rel=1e-12)
    assert alpha / 2 < theta <= alpha
    assert xi < 2.0 / alpha - 1.0


@settings(max_examples=40, **SETTINGS)
@given(alpha=st.floats(1e-3, 0.999))
def test_young_parameter_minimises_beta_over_theta(alpha: float) -> None:
    q = 1.0 - alpha
    s_max = alpha / q  # θ(s) = 1 − q(1+s) > 0 needs s < α/(1−α)

    def ratio(s: np.ndarray) -> np.ndarray:
        return q * (1 + 1 / s) / (1 - q * (1 + s))

    s_opt = th.young_parameter(alpha)
    assert 0 < s_opt < s_max
    grid = s_max * np.linspace(1e-4, 1 - 1e-4, 2001)
    assert ratio(np.array(s_opt)) <= ratio(grid).min() * (1 + 1e-9)
    assert ratio(np.array(s_opt)) == pytest.approx(th.xi(alpha) ** 2, rel=1e-9)


@settings(max_examples=40, **SETTINGS)
@given(d=st.integers(2, 2000))
def test_top1_xi_is_2d_minus_three_halves(d: int) -> None:
    # Tolerance from the docstring: 1/(8d) ≤ (2d − 3/2) − ξ ≤ 1/(2d), and d·gap ∈ [1/8, 1/8 + 3/(8d)];
    # float rounding in ξ ≈ 2d is allowed for by 1e-13·d² on d·gap.
    gap = (2 * d - 1.5) - th.xi(1.0 / d)
    tol = 1e-13 * d * d
    assert 1 / (8 * d) - tol / d <= gap <= 1 / (2 * d) + tol / d
    assert 1 / 8 - tol <= d * gap <= 1 / 8 + 3 / (8 * d) + tol
    assert th.xi(th.topk_alpha(1, d)) == pytest.approx(2 * d - 1.5, abs=1 / (2 * d) + tol)


def test_alpha_one_limits_and_small_alpha() -> None:
    assert th.theta(1.0) == 1.0
    assert th.beta(1.0) == 0.0
    assert th.xi(1.0) == 0.0
    assert th.young_parameter(1.0) == math.inf
    assert th.step_qm(2.0, 5.0, 1.0) == 0.5  # EF21 without compression is GD with γ = 1/L
    assert th.step_am(2.0, 3.0, 1.0) == 0.5
    assert th.step_pl(2.0, 5.0, 1.0, 0.1) == 0.5
    assert th.step_pl(2.0, 5.0, 1.0, 4.0) == 0.125  # θ/(2μ)
    assert th.predicted_speedup(1.0, 3.0, 2.0, 1.0) == 1.0
    a = 1e-8  # θ ~ α/2 and ξ ~ 2/α, computed without cancellation
    assert th.theta(a) == pytest.approx(a / 2, rel=1e-8)
    assert th.xi(a) == pytest.approx(2 / a - 1.5, rel=1e-12)
    assert th.beta(a) == pytest.approx(2 / a, rel=1e-7)


def test_constants_vectorised() -> None:
    a = np.array([0.25, 0.5, 1.0])
    np.testing.assert_allclose(th.theta(a), 1 - np.sqrt(1 - a), rtol=1e-14)
    np.testing.assert_allclose(th.xi(a), [(math.sqrt(0.75) + 0.75) / 0.25, (math.sqrt(0.5) + 0.5) / 0.5, 0.0])
    assert th.young_parameter(a).shape == (3,)
    assert isinstance(th.theta(0.5), float)


# ---------------------------------------------------------------------------------------------
# claim 1: compressors


@settings(max_examples=60, **SETTINGS)
@given(d=st.integers(1, 12), K_frac=st.floats(0, 1), seed=st.integers(0, 2**31 - 1),
       kind=st.sampled_from(["normal", "sparse", "tied", "zero"]))
def test_topk_contraction_on_every_vector(d: int, K_frac: float, seed: int, kind: str) -> None:
    K = 1 + round(K_frac * (d - 1))
    rng = np.random.default_rng(seed)
    v = {"normal": rng.standard_normal(d), "sparse": rng.standard_normal(d) * (rng.random(d) < 0.3),
         "tied": rng.choice([-1.0, 1.0], d) * 2.0, "zero": np.zeros(d)}[kind]
    err = float(np.sum((topk(v, K) - v) ** 2))
    assert err <= th.contraction_bound(float(v @ v), th.topk_alpha(K, d)) * (1 + 1e-12) + 1e-300
    if kind == "tied" and K < d:  # equal magnitudes attain the bound
        assert err == pytest.approx(th.contraction_bound(float(v @ v), K / d), rel=1e-12)


@pytest.mark.parametrize(("d", "K"), [(4, 1), (5, 2), (6, 4), (7, 7)])
def test_randk_expectations_by_enumeration(d: int, K: int) -> None:
    from itertools import combinations

    v = np.random.default_rng(d * 10 + K).standard_normal(d)
    subsets = list(combinations(range(d), K))
    unscaled, scaled = 0.0, 0.0
    for S in subsets:
        mask = np.zeros(d)
        mask[list(S)] = 1.0
        unscaled += np.sum((mask * v - v) ** 2) / len(subsets)
        scaled += np.sum(((d / K) * mask * v - v) ** 2) / len(subsets)
    assert unscaled == pytest.approx(th.contraction_bound(v @ v, th.randk_alpha(K, d)), rel=1e-12)
    assert scaled == pytest.approx((d / K - 1) * (v @ v), rel=1e-12)
    if 2 * K > d:
        assert scaled == pytest.approx(th.contraction_bound(v @ v, th.randk_alpha(K, d, scaled=True)), rel=1e-12)
    else:
        with pytest.raises(ValueError, match="K > d/2"):
            th.randk_alpha(K, d, scaled=True)


# ---------------------------------------------------------------------------------------------
# claim 3: the means


def test_means_values() -> None:
    am, qm = th.smoothness_means([1.0, 2.0, 3.0])
    assert am == 2.0
    assert qm == pytest.approx(math.sqrt(14 / 3), rel=1e-15)
    assert th.l_var([1.0, 2.0, 3.0]) == pytest.approx(qm**2 - am**2, rel=1e-12)
    assert th.heterogeneity(np.full(7, 0.3)) == 1.0
    out_am, out_qm = th.smoothness_means(np.array([[1.0, 1.0], [1.0, 3.0]]))
    np.testing.assert_allclose(out_am, [1.0, 2.0])
    np.testing.assert_allclose(out_qm, [1.0, math.sqrt(5.0)])


@settings(max_examples=50, **SETTINGS)
@given(n=st.integers(1, 200), seed=st.integers(0, 2**31 - 1), spread=st.floats(0.0, 30.0),
       dominant=st.floats(0.0, 1e8))
def test_heterogeneity_in_one_to_sqrt_n(n: int, seed: int, spread: float, dominant: float) -> None:
    L = np.exp(spread * np.random.default_rng(seed).random(n))
    L[0] *= 1.0 + dominant
    am, qm = th.smoothness_means(L)
    H = th.heterogeneity(L)
    assert am <= qm
    assert 1.0 <= H
    assert th.l_var(L) >= 0
    if n >= 2:
        assert H < math.sqrt(n)
    else:
        assert H == 1.0


def test_heterogeneity_tends_to_sqrt_n_with_a_dominant_client() -> None:
    n = 16
    hs = [th.heterogeneity(np.r_[1.0 + z, np.ones(n - 1)]) for z in (0, 1, 10, 100, 1e4, 1e8)]
    assert np.all(np.diff(hs) > 0)
    assert hs[-1] == pytest.approx(math.sqrt(n), rel=1e-6)


# ---------------------------------------------------------------------------------------------
# step sizes and the predicted speed-up (claims 4-8)


@st.composite
def constants(draw: st.DrawFn) -> tuple[np.ndarray, float, float]:
    n = draw(st.integers(1, 50))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    L_i = np.exp(draw(st.floats(0.0, 10.0)) * rng.random(n)) * draw(st.floats(1e-3, 1e3))
    L = float(L_i.mean()) * draw(st.floats(0.01, 1.0))
    return L_i, L, draw(alphas)


@settings(max_examples=60, **SETTINGS)
@given(c=constants())
def test_steps_satisfy_the_lyapunov_conditions(c: tuple[np.ndarray, float, float]) -> None:
    L_i, L, alpha = c
    am, qm = th.smoothness_means(L_i)
    theta, beta = th.theta(alpha), th.beta(alpha)
    g_qm, g_am = th.step_qm(L, qm, alpha), th.step_am(L, am, alpha)
    assert 0 < g_qm <= g_am <= 1 / L
    for gamma, LM in ((g_qm, qm), (g_am, am)):  # 1/γ − L − γ(β/θ)L_M² ≥ 0 (claims 4-6)
        assert 1 / gamma - L - gamma * beta / theta * LM**2 >= -1e-9 / gamma
    mu = L * 0.3
    g_pl = th.step_pl(L, qm, alpha, mu)
    assert g_pl == pytest.approx(min(1 / (L + qm * math.sqrt(2 * beta / theta)), theta / (2 * mu)), rel=1e-12)
    assert 1 / g_pl - L - g_pl * 2 * beta / theta * qm**2 >= -1e-9 / g_pl
    assert 1 - theta / 2 <= 1 - g_pl * mu + 1e-15  # γμ ≤ θ/2


@settings(max_examples=60, **SETTINGS)
@given(c=constants())
def test_predicted_speedup_between_one_and_H(c: tuple[np.ndarray, float, float]) -> None:
    L_i, L, alpha = c
    am, qm = th.smoothness_means(L_i)
    H = th.heterogeneity(L_i)
    S = th.predicted_speedup(L, qm, am, alpha)
    assert S == pytest.approx(th.step_am(L, am, alpha) / th.step_qm(L, qm, alpha), rel=1e-12)
    assert 1.0 <= S <= H * (1 + 1e-12)
    # H − S = (H − 1)L/(L + L_AM ξ): the gap closes like 1/ξ as α → 0
    xi = th.xi(alpha)
    assert H - S == pytest.approx((H - 1) * L / (L + am * xi), rel=1e-6, abs=1e-12)
    alphas_down = np.array([1.0, 0.5, 0.1, 1e-2, 1e-4, 1e-8])
    s_path = th.predicted_speedup(L, qm, am, alphas_down)
    assert np.all(np.diff(s_path) >= -1e-12)
    assert s_path[-1] == pytest.approx(H, rel=1e-6)


# ---------------------------------------------------------------------------------------------
# bound functions


def test_bounds_values_and_vectorised() -> None:
    T = np.array([1, 2, 10])
    out = th.nonconvex_bound(T, 0.5, 3.0, 2.0, 0.75)  # θ(0.75) = 0.5
    np.testing.assert_allclose(out, (2 * 3.0 / 0.5 + 2.0 / 0.5) / T)
    assert isinstance(th.nonconvex_bound(5, 0.5, 3.0, 0.0, 1.0), float)
    np.testing.assert_allclose(th.lyapunov(np.array([1.0, 2.0]), np.array([4.0, 0.0]), 0.5, 0.75), [3.0, 2.0])
    assert th.lyapunov_decrease(0.5, 4.0) == 1.0
    np.testing.assert_allclose(th.pl_lyapunov(np.array([1.0, 2.0]), 4.0, 0.5, 0.75), [5.0, 6.0])
    np.testing.assert_allclose(th.pl_bound(np.array([0, 1, 3]), 0.5, 0.5, 2.0), [2.0, 1.5, 2.0 * 0.75**3])
    grid = th.nonconvex_bound(T[:, None], np.array([0.1, 0.2]), 1.0, 0.0, 0.5)
    assert grid.shape == (3, 2)


def test_validation_errors_name_the_argument() -> None:
    for bad in (0.0, -0.1, 1.5, math.nan):
        with pytest.raises(ValueError, match="alpha"):
            th.theta(bad)
    with pytest.raises(ValueError, match="alpha"):
        th.xi(np.array([0.5, 0.0]))
    with pytest.raises(ValueError, match="L_i"):
        th.smoothness_means([1.0, 0.0])
    with pytest.raises(ValueError, match="L_i"):
        th.heterogeneity([])
    with pytest.raises(ValueError, match=r"^L must"):
        th.step_qm(0.0, 1.0, 0.5)
    with pytest.raises(ValueError, match="L_QM"):
        th.step_qm(1.0, -1.0, 0.5)
    with pytest.raises(ValueError, match="L_AM"):
        th.step_am(1.0, math.inf, 0.5)
    with pytest.raises(ValueError, match="mu"):
        th.step_pl(1.0, 1.0, 0.5, 0.0)
    with pytest.raises(ValueError, match="T"):
        th.nonconvex_bound(0, 0.1, 1.0, 0.0, 0.5)
    with pytest.raises(ValueError, match="gamma"):
        th.nonconvex_bound(1, 0.0, 1.0, 0.0, 0.5)
    with pytest.raises(ValueError, match="f0_minus_flow"):
        th.nonconvex_bound(1, 0.1, -1.0, 0.0, 0.5)
    with pytest.raises(ValueError, match="G0"):
        th.nonconvex_bound(1, 0.1, 1.0, -1.0, 0.5)
    with pytest.raises(ValueError, match="gamma·mu"):
        th.pl_bound(1, 2.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="psi0"):
        th.pl_bound(1, 0.1, 1.0, -1.0)
    with pytest.raises(ValueError, match="L_QM must be ≥ L_AM"):
        th.predicted_speedup(1.0, 1.0, 2.0, 0.5)
    with pytest.raises(ValueError, match="K"):
        th.topk_alpha(5, 4)
    with pytest.raises(ValueError, match="K"):
        th.topk_alpha(1.5, 4)
    with pytest.raises(ValueError, match="d"):
        th.randk_alpha(1, 0)
    with pytest.raises(ValueError, match="v_sq"):
        th.contraction_bound(-1.0, 0.5)
    with pytest.raises(TypeError, match="gamma"):
        th.lyapunov_decrease("fast", 1.0)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# G, G_W, G̃


def test_error_functions() -> None:
    rng = np.random.default_rng(3)
    n, d = 5, 4
    grads = rng.standard_normal((n, d))
    L = np.array([1.0, 2.0, 4.0, 8.0, 100.0])
    w = th.ef21w_weights(L)
    assert w.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(n * w, L / L.mean())
    assert th.initial_error(grads, grads) == 0.0  # g_i^0 = ∇f_i(x^0)
    assert th.initial_error(grads, np.zeros_like(grads)) == pytest.approx(np.mean(np.sum(grads**2, 1)))
    assert th.weighted_error(grads, grads / (n * w)[:, None], w) == pytest.approx(0.0, abs=1e-28)
    g0 = np.zeros_like(grads)  # with g = 0, G_W = G̃ = (1/n)Σ(L_AM/L_i)‖∇f_i‖²
    expected = np.mean(L.mean() / L * np.sum(grads**2, 1))
    assert th.weighted_error(grads, g0, w) == pytest.approx(expected, rel=1e-12)
    assert th.reweighted_error(grads, g0, L) == pytest.approx(expected, rel=1e-12)
    assert th.initial_error(grads, g0, smoothness=L) == th.reweighted_error(grads, g0, L)
    # Jensen: the aggregate error is below each form (claims 4-6)
    g = grads + rng.standard_normal((n, d))
    agg = np.sum((g.mean(0) - grads.mean(0)) ** 2)
    assert agg <= th.initial_error(grads, g) and agg <= th.reweighted_error(grads, g, L)
    gw = g / (n * w)[:, None]
    assert np.sum(((w[:, None] * gw).sum(0) - grads.mean(0)) ** 2) <= th.weighted_error(grads, gw, w)
    # leading axes (e.g. a whole history)
    hist = rng.standard_normal((7, n, d))
    out = th.initial_error(hist, np.zeros_like(hist), smoothness=L)
    assert out.shape == (7,)
    assert out[2] == pytest.approx(th.reweighted_error(hist[2], np.zeros((n, d)), L))


def test_error_function_validation() -> None:
    grads = np.ones((3, 2))
    with pytest.raises(ValueError, match=r"^g must"):
        th.initial_error(grads, np.ones((3, 3)))
    with pytest.raises(ValueError, match="client_grads"):
        th.initial_error(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="client_grads must be finite"):
        th.initial_error(np.full((3, 2), np.nan), grads)
    with pytest.raises(ValueError, match="not both"):
        th.initial_error(grads, grads, np.ones(3) / 3, smoothness=np.ones(3))
    with pytest.raises(ValueError, match="weights"):
        th.initial_error(grads, grads, np.array([0.5, 0.5, 0.0]))
    with pytest.raises(ValueError, match="smoothness"):
        th.initial_error(grads, grads, smoothness=np.ones(2))


# ---------------------------------------------------------------------------------------------
# claims 4-7 on a reference EF21: every round, at the theorem's own constants


@settings(max_examples=25, **SETTINGS)
@given(n=st.integers(1, 6), d=st.integers(2, 6), K=st.integers(1, 6), seed=st.integers(0, 2**31 - 1),
       zeta=st.sampled_from([0.0, 3.0, 30.0]), zero_init=st.booleans())
def test_lyapunov_descent_on_every_round(n: int, d: int, K: int, seed: int, zeta: float, zero_init: bool) -> None:
    K = min(K, d)
    Q, b = quadratics(n, d, seed, zeta, convex=False)  # non-convex: the per-step claims need no f^inf
    L_i, L = spectral(Q), float(spectral(Q.mean(0)))
    am, qm = th.smoothness_means(L_i)
    alpha = th.topk_alpha(K, d)
    x0 = np.random.default_rng(seed + 1).standard_normal(d)
    w = th.ef21w_weights(L_i)
    T = 30
    cases = [  # (γ, run, error of the run) for claims 4, 6 and 5
        (th.step_qm(L, qm, alpha), None, lambda r: th.initial_error(r["grads"], r["g"])),
        (th.step_am(L, am, alpha), None, lambda r: th.reweighted_error(r["grads"], r["g"], L_i)),
        (th.step_am(L, am, alpha), w, lambda r: th.weighted_error(r["grads"], r["g"], w)),
    ]
    for gamma, weights, error in cases:
        r = run_ef21(Q, b, x0, gamma, K, T, weights=weights, zero_init=zero_init)
        f = objective(Q, b, r["x"])
        grad_sq = np.sum(r["grads"].mean(axis=1) ** 2, axis=1)
        psi = th.lyapunov(f, error(r), gamma, alpha)  # f_low cancels in the differences
        slack = 1e-10 * (1 + np.abs(psi[:-1]))
        assert np.all(psi[1:] <= psi[:-1] - th.lyapunov_decrease(gamma, grad_sq[:-1]) + slack)


def test_ef21w_equals_ef21_for_topk() -> None:
    """Remark in claim 6: TopK is positively homogeneous, so EF21-W's iterates are EF21's."""
    Q, b = quadratics(5, 6, 11, 30.0, convex=False)
    L_i = spectral(Q)
    w = th.ef21w_weights(L_i)
    x0 = np.ones(6)
    for zero_init in (False, True):
        plain = run_ef21(Q, b, x0, 0.01, 2, 40, zero_init=zero_init)
        weighted = run_ef21(Q, b, x0, 0.01, 2, 40, weights=w, zero_init=zero_init)
        np.testing.assert_allclose(weighted["x"], plain["x"], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(th.weighted_error(weighted["grads"], weighted["g"], w),
                                   th.reweighted_error(plain["grads"], plain["g"], L_i), rtol=1e-8, atol=1e-20)


@settings(max_examples=15, **SETTINGS)
@given(n=st.integers(1, 5), d=st.integers(2, 5), seed=st.integers(0, 2**31 - 1), zeta=st.sampled_from([0.0, 10.0]),
       zero_init=st.booleans())
def test_rate_and_pl_on_convex_quadratics(n: int, d: int, seed: int, zeta: float, zero_init: bool) -> None:
    Q, b = quadratics(n, d, seed, zeta, convex=True)
    L_i, Qm = spectral(Q), Q.mean(0)
    eig = np.linalg.eigvalsh(Qm)
    L, mu = float(eig[-1]), float(eig[0])
    x_star = np.linalg.solve(Qm, b.mean(0))
    f_star = float(objective(Q, b, x_star[None])[0])
    am, qm = th.smoothness_means(L_i)
    alpha = th.topk_alpha(1, d)
    x0 = np.random.default_rng(seed).standard_normal(d)
    T = np.arange(1, 201)
    # claim 4 (γ_QM, G^0) and claim 6 (γ_AM, G̃^0): average and minimum of ‖∇f‖² for every T
    for gamma, G0 in ((th.step_qm(L, qm, alpha), None), (th.step_am(L, am, alpha), L_i)):
        r = run_ef21(Q, b, x0, gamma, 1, 200, zero_init=zero_init)
        grad_sq = np.sum(r["grads"].mean(axis=1) ** 2, axis=1)[:-1]
        err0 = th.initial_error(r["grads"][0], r["g"][0], smoothness=G0)
        bound = th.nonconvex_bound(T, gamma, float(objective(Q, b, x0[None])[0]) - f_star, err0, alpha)
        assert np.all(np.cumsum(grad_sq) / T <= bound * (1 + 1e-10))
        assert np.all(np.minimum.accumulate(grad_sq) <= bound * (1 + 1e-10))
    # claim 7 with L_QM and G; its L_AM analogue with G̃
    for LM, smooth in ((qm, None), (am, L_i)):
        gamma = th.step_pl(L, LM, alpha, mu)
        r = run_ef21(Q, b, x0, gamma, 1, 200, zero_init=zero_init)
        err = th.initial_error(r["grads"], r["g"], smoothness=smooth)
        psi = th.pl_lyapunov(objective(Q, b, r["x"]) - f_star, err, gamma, alpha)
        assert np.all(psi[1:] <= (1 - gamma * mu) * psi[:-1] + 1e-12 * psi[0])
        assert np.all(psi <= th.pl_bound(np.arange(201), gamma, mu, psi[0]) * (1 + 1e-9) + 1e-12 * psi[0])


# ---------------------------------------------------------------------------------------------
# the registry

EXPECTED = {
    "ef21.compressor_contraction": (ClaimKind.PER_RUN, False),
    "ef21.constants": (ClaimKind.IDENTITY, False),
    "ef21.means": (ClaimKind.PER_RUN, False),
    "ef21.nonconvex_rate": (ClaimKind.PER_RUN, False),
    "ef21.lyapunov_descent": (ClaimKind.PER_RUN, True),
    "ef21.ef21w_rate": (ClaimKind.PER_RUN, True),
    "ef21.ef21_am_rate": (ClaimKind.PER_RUN, True),
    "ef21.pl_rate": (ClaimKind.PER_RUN, False),
    "ef21.pl_rate_am": (ClaimKind.PER_RUN, True),
    "ef21.speedup_prediction": (ClaimKind.STRUCTURAL, False),
    "ef21.econtrol_reduction": (ClaimKind.IDENTITY, True),
}


def test_every_claim_registered_with_its_kind() -> None:
    registered = {c.id: c for c in claims("ef21")}
    assert set(registered) == set(EXPECTED)
    assert [c.id for c in th.CLAIMS] == list(EXPECTED)
    for cid, (kind, reconstructed) in EXPECTED.items():
        c = registered[cid]
        assert c.kind is kind, cid
        assert c.reconstructed is reconstructed, cid
        assert c.statement and c.source
        assert all(callable(f) and f.__module__ == "theory.ef21" for f in c.bounds)
    assert "Thm 1" in registered["ef21.nonconvex_rate"].source
    assert "Thm 2" in registered["ef21.pl_rate"].source
