"""Tests of theory.alf_lb: closed forms, derived inequalities and the claim registry.

Only the theory module is imported. Where a claim is about the batch dual D(p) = Σ_j topKsum(s_j − p) +
CΣp, the test computes D, its best response (stable top-K by (−value, index)) and the LP optimum
itself, so that the derivations in the module docstring are checked independently of ``solvers``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.optimize import linprog

import theory
from theory import alf_lb as th
from theory.registry import ClaimKind

SETTINGS = {"deadline": None, "derandomize": True}


# ---------------------------------------------------------------------------------------------
# helpers: the batch dual, computed directly


def topk_mask(v: np.ndarray, K: int) -> np.ndarray:
    """Boolean (n, E) mask of each row's top-K entries, ties broken by the lower index."""
    idx = np.argsort(-v, axis=1, kind="stable")[:, :K]
    mask = np.zeros(v.shape, dtype=bool)
    np.put_along_axis(mask, idx, True, axis=1)
    return mask


def dual_value(s: np.ndarray, p: np.ndarray, K: int, C: float) -> float:
    v = s - p
    return float(np.sort(v, axis=1)[:, ::-1][:, :K].sum() + C * p.sum())


def subgradient(s: np.ndarray, p: np.ndarray, K: int, C: float) -> np.ndarray:
    return C - topk_mask(s - p, K).sum(axis=0).astype(float)


def lp_optimum(s: np.ndarray, K: int) -> tuple[float, np.ndarray]:
    """OPT of the assignment LP and the prices p* = −(capacity-row marginals) from HiGHS."""
    n, E = s.shape
    C = th.capacity(n, K, E)
    A = sparse.vstack([sparse.kron(sparse.eye(n), np.ones((1, E))),
                       sparse.kron(np.ones((1, n)), sparse.eye(E))]).tocsr()
    b = np.concatenate([np.full(n, float(K)), np.full(E, float(C))])
    res = linprog(-s.ravel(), A_eq=A, b_eq=b, bounds=(0, 1), method="highs-ds")
    assert res.status == 0
    x = res.x
    assert np.allclose(x, np.round(x), atol=1e-9)  # claim 1: the vertex is 0/1
    return -res.fun, -res.eqlin.marginals[n:]


def batch_sizes(draw: st.DrawFn, max_E: int = 8, max_n_mult: int = 6) -> tuple[int, int, int]:
    E = draw(st.integers(2, max_E))
    K = draw(st.integers(1, E - 1))
    g = math.gcd(K, E)
    n = (E // g) * draw(st.integers(1, max_n_mult))  # E | K·n
    return n, K, E


@st.composite
def batches(draw: st.DrawFn, max_E: int = 8, max_n_mult: int = 6) -> tuple[int, int, int, int]:
    n, K, E = batch_sizes(draw, max_E, max_n_mult)
    return n, K, E, draw(st.integers(0, 2**31 - 1))


# ---------------------------------------------------------------------------------------------
# capacity and the gradient bound (claims 1, 6(b), 7)


def test_capacity_values_and_errors() -> None:
    assert th.capacity(4096, 2, 16) == 512
    assert th.capacity(6, 1, 3) == 2
    assert th.capacity(np.int64(8), np.int32(2), 4) == 4
    assert isinstance(th.capacity(8, 2, 4), int)
    with pytest.raises(ValueError, match="not an integer"):
        th.capacity(5, 1, 3)
    with pytest.raises(ValueError, match="K"):
        th.capacity(8, 0, 4)
    with pytest.raises(ValueError, match="K"):
        th.capacity(8, 5, 4)
    with pytest.raises(ValueError, match="n"):
        th.capacity(0, 1, 4)
    with pytest.raises(ValueError, match="E"):
        th.capacity(8, 1, 0)
    with pytest.raises(TypeError, match="integers"):
        th.capacity(8.0, 1, 4)  # type: ignore[arg-type]


@settings(max_examples=40, **SETTINGS)
@given(E=st.integers(2, 32), K_frac=st.floats(0.0, 1.0), n=st.integers(1, 300), seed=st.integers(0, 2**31 - 1),
       spread=st.sampled_from([0.0, 0.5, 2.0, 10.0]))
def test_grad_sq_bound_attained_and_never_exceeded(E: int, K_frac: float, n: int, seed: int,
                                                   spread: float) -> None:
    K = 1 + round(K_frac * (E - 1))
    bound = th.grad_sq_bound(K, E, n)
    assert bound == pytest.approx(n * n * K * (1 - K / E), rel=1e-12)
    C = K * n / E
    extreme = np.zeros(E)
    extreme[:K] = n  # every token picks the same K experts
    assert np.sum((C - extreme) ** 2) == pytest.approx(bound, rel=1e-12)
    rng = np.random.default_rng(seed)
    s = rng.normal(0.0, spread, E) + rng.normal(size=(n, E))
    load = topk_mask(s, K).sum(axis=0)
    assert np.sum((C - load) ** 2) <= bound * (1 + 1e-12)
    # fraction units: a single token has ‖g‖² = G² exactly
    G2 = th.grad_sq_bound(K, E)
    l_one = topk_mask(s[:1], K).sum(axis=0)
    assert np.sum((K / E - l_one) ** 2) == pytest.approx(G2, rel=1e-12)
    frac = load / n
    assert np.sum((K / E - frac) ** 2) <= G2 * (1 + 1e-12)


def test_grad_sq_bound_vectorised_and_errors() -> None:
    out = th.grad_sq_bound(np.array([1, 2, 4]), 4, n=np.array([1, 10, 3]))
    np.testing.assert_allclose(out, [0.75, 100.0, 0.0])
    assert isinstance(th.grad_sq_bound(1, 8), float)
    with pytest.raises(ValueError, match="K"):
        th.grad_sq_bound(0, 4)
    with pytest.raises(ValueError, match="K"):
        th.grad_sq_bound(5, 4)
    with pytest.raises(ValueError, match="n"):
        th.grad_sq_bound(1, 4, n=0)


# ---------------------------------------------------------------------------------------------
# claim 4: the sandwich


@settings(max_examples=40, **SETTINGS)
@given(batch=batches(max_E=10, max_n_mult=8), integer_scores=st.booleans(),
       step=st.sampled_from([1e-3, 1e-1, 1.0]))
def test_sandwich_brackets_the_dual_change(batch: tuple[int, int, int, int], integer_scores: bool,
                                           step: float) -> None:
    n, K, E, seed = batch
    C = th.capacity(n, K, E)
    rng = np.random.default_rng(seed)
    if integer_scores:  # many ties: the fixed tie-break must still give a subgradient
        s = rng.integers(0, 4, size=(n, E)).astype(float)
        p = rng.integers(-2, 3, size=E).astype(float)
    else:
        s = rng.normal(size=(n, E))
        p = rng.normal(size=E)
    g = subgradient(s, p, K, C)
    assert g.sum() == pytest.approx(0.0, abs=1e-9)
    deltas = np.stack([
        step * rng.normal(size=E),                # arbitrary direction
        -step * np.sign(g),                       # sign step, u = step
        -step / max(n, 1) * g,                    # gradient step, η = step/n
        step * np.ones(E),                        # along 1: D unchanged
    ])
    D0 = dual_value(s, p, K, C)
    dD = np.array([dual_value(s, p + d, K, C) - D0 for d in deltas])
    g_after = np.stack([subgradient(s, p + d, K, C) for d in deltas])
    lower, upper = th.sandwich(deltas, np.broadcast_to(g, deltas.shape), g_after)
    assert lower.shape == upper.shape == (len(deltas),)
    tol = 1e-9 * (1.0 + abs(D0))
    assert np.all(lower <= dD + tol)
    assert np.all(dD <= upper + tol)
    assert dD[3] == pytest.approx(0.0, abs=tol)
    # the specialisations of the module docstring
    u, eta = step, step / n
    assert lower[1] == pytest.approx(-u * np.abs(g).sum(), abs=1e-12)
    assert upper[1] == pytest.approx(-u * np.sign(g) @ g_after[1], abs=1e-12)
    assert lower[2] == pytest.approx(-eta * g @ g, rel=1e-12, abs=1e-12)
    assert upper[2] == pytest.approx(-eta * g @ g_after[2], rel=1e-12, abs=1e-12)
    # a single step gives floats
    lo1, up1 = th.sandwich(deltas[0], g, g_after[0])
    assert isinstance(lo1, float) and isinstance(up1, float)
    assert (lo1, up1) == pytest.approx((lower[0], upper[0]))


def test_sandwich_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="disagree on E"):
        th.sandwich(np.ones(3), np.ones(4), np.ones(4))
    with pytest.raises(ValueError, match="broadcast"):
        th.sandwich(np.ones((2, 3)), np.ones((5, 3)), np.ones(3))
    with pytest.raises(ValueError, match="expert axis"):
        th.sandwich(1.0, np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="finite"):
        th.sandwich(np.array([np.nan, 1.0]), np.ones(2), np.ones(2))


# ---------------------------------------------------------------------------------------------
# claims 1-3, 6(a), 6(b): a constant-step subgradient run on a fixed batch against the LP


@settings(max_examples=12, **SETTINGS)
@given(batch=batches(max_E=5, max_n_mult=4), eta_scale=st.sampled_from([0.01, 0.1, 1.0]))
def test_constant_step_run_duality_telescoping_and_gap_bound(batch: tuple[int, int, int, int],
                                                             eta_scale: float) -> None:
    n, K, E, seed = batch
    C = th.capacity(n, K, E)
    rng = np.random.default_rng(seed)
    s = rng.normal(size=(n, E)) + rng.normal(0.0, 1.0, E)
    OPT, p_star = lp_optimum(s, K)
    assert dual_value(s, p_star, K, C) == pytest.approx(OPT, abs=1e-8)  # claim 3: D(−b*) = OPT
    eta, T = eta_scale / n, 150
    b = np.zeros(E)
    b1 = b.copy()
    gaps, g_sq, g_sum = [], [], np.zeros(E)
    for _ in range(T):
        p = -b
        g = subgradient(s, p, K, C)
        gaps.append(dual_value(s, p, K, C) - OPT)
        g_sq.append(g @ g)
        g_sum += g
        b = b + eta * g
    gaps_arr = np.array(gaps)
    assert np.all(gaps_arr >= -1e-9)  # claim 3: D(p) ≥ OPT
    np.testing.assert_allclose(g_sum / T, (b - b1) / (eta * T), rtol=1e-9, atol=1e-9)  # claim 6(a)
    assert np.all(np.array(g_sq) <= th.grad_sq_bound(K, E, n) * (1 + 1e-12))
    p1 = -b1
    p_shift = p_star - p_star.mean() + p1.mean()
    t = np.arange(1, T + 1)
    bound = th.constant_step_gap_bound(np.sum((p1 - p_shift) ** 2), eta, t, np.cumsum(g_sq))
    assert np.all(np.cumsum(gaps_arr) / t <= bound + 1e-9)


def test_constant_step_gap_bound_closed_form_and_errors() -> None:
    assert th.constant_step_gap_bound(4.0, 0.5, 10, 20.0) == pytest.approx(4 / 10 + 0.5 * 20 / 20)
    out = th.constant_step_gap_bound(1.0, 0.1, np.array([1, 2, 4]), np.array([1.0, 2.0, 4.0]))
    np.testing.assert_allclose(out, 1 / (0.2 * np.array([1, 2, 4])) + 0.05)
    for kwargs, name in [({"dist0_sq": -1.0}, "dist0_sq"), ({"eta": 0.0}, "eta"), ({"T": 0}, "T"),
                         ({"grad_sq_sum": -1.0}, "grad_sq_sum")]:
        args = {"dist0_sq": 1.0, "eta": 0.1, "T": 5, "grad_sq_sum": 1.0} | kwargs
        with pytest.raises(ValueError, match=name):
            th.constant_step_gap_bound(**args)


# ---------------------------------------------------------------------------------------------
# claim 5: the preference rule


@settings(max_examples=25, **SETTINGS)
@given(batch=batches(max_E=10, max_n_mult=10), u=st.sampled_from([1e-2, 1e-1, 0.5]))
def test_preference_rule_sign_and_gradient_steps(batch: tuple[int, int, int, int], u: float) -> None:
    n, K, E, seed = batch
    C = th.capacity(n, K, E)
    rng = np.random.default_rng(seed)
    s = rng.normal(size=(n, E)) + rng.normal(0.0, 1.0, E)
    for rule in ("sign", "gradient"):
        counts = np.zeros(E)  # sign rule: b = u·counts with integer counts
        b = np.zeros(E)
        for _ in range(40):
            old = topk_mask(s + b, K)
            load = old.sum(axis=0)
            g = C - load
            if rule == "sign":
                counts = counts + np.sign(g)
                b_new = u * counts
                key = np.sign(g)  # σ_k > σ_i for entering k, leaving i
            else:
                b_new = b + (u / n) * g
                key = -load.astype(float)  # load_k < load_i
            new = topk_mask(s + b_new, K)
            entering, leaving = new & ~old, old & ~new
            np.testing.assert_array_equal(entering.sum(axis=1), leaving.sum(axis=1))
            moved = entering.any(axis=1)
            if moved.any():
                enter_min = np.where(entering, key, np.inf).min(axis=1)[moved]
                leave_max = np.where(leaving, key, -np.inf).max(axis=1)[moved]
                assert np.all(enter_min > leave_max), rule
            b = b_new


# ---------------------------------------------------------------------------------------------
# claims 7-8: the Gumbel testbed


@st.composite
def popularities(draw: st.DrawFn, max_E: int = 10) -> np.ndarray:
    E = draw(st.integers(2, max_E))
    spread = draw(st.sampled_from([0.0, 0.3, 1.0, 3.0]))
    seed = draw(st.integers(0, 2**31 - 1))
    return np.random.default_rng(seed).normal(0.0, spread, E) + draw(st.sampled_from([0.0, 5.0]))


@settings(max_examples=5, **SETTINGS)
@given(a=popularities(max_E=8), seed=st.integers(0, 2**31 - 1))
def test_gumbel_loss_and_gradient_match_monte_carlo(a: np.ndarray, seed: int) -> None:
    E, N = a.size, 200_000
    rng = np.random.default_rng(seed)
    p = rng.normal(0.0, 0.7, E)
    v = a - p + rng.gumbel(size=(N, E))
    f = v.max(axis=1) + p.mean()  # per-token dual loss, K = 1
    se = f.std(ddof=1) / math.sqrt(N)
    assert abs(f.mean() - th.gumbel_dual_loss(a, p)) <= 4 * se
    # claim 7: 𝔼 g = ∇F with g = 1/E − one-hot(selected expert)
    freq = np.bincount(v.argmax(axis=1), minlength=E) / N
    q = 1.0 / E - th.gumbel_dual_grad(a, p)
    assert np.all(np.abs(freq - q) <= 4 * np.sqrt(q * (1 - q) / N) + 1e-12)


@settings(max_examples=30, **SETTINGS)
@given(a=popularities(), seed=st.integers(0, 2**31 - 1))
def test_gumbel_derivatives_match_finite_differences(a: np.ndarray, seed: int) -> None:
    E = a.size
    p = np.random.default_rng(seed).normal(0.0, 1.0, E)
    h = 1e-5
    eye = np.eye(E)
    fd_grad = (th.gumbel_dual_loss(a, p + h * eye) - th.gumbel_dual_loss(a, p - h * eye)) / (2 * h)
    grad = th.gumbel_dual_grad(a, p)
    np.testing.assert_allclose(grad, fd_grad, atol=1e-8)
    assert grad.sum() == pytest.approx(0.0, abs=1e-14)
    fd_hess = (th.gumbel_dual_grad(a, p + h * eye) - th.gumbel_dual_grad(a, p - h * eye)) / (2 * h)
    H = th.gumbel_dual_hessian(a, p)
    np.testing.assert_allclose(H, fd_hess.T, atol=1e-8)
    np.testing.assert_allclose(H, H.T, atol=0)
    np.testing.assert_allclose(H @ np.ones(E), 0.0, atol=1e-15)
    # broadcasting over leading axes
    P = p + np.arange(6).reshape(2, 3, 1) * 0.1 * np.linspace(-1, 1, E)
    np.testing.assert_allclose(th.gumbel_dual_loss(a, P),
                               [[th.gumbel_dual_loss(a, P[i, j]) for j in range(3)] for i in range(2)])
    assert th.gumbel_dual_grad(a, P).shape == P.shape


@settings(max_examples=30, **SETTINGS)
@given(a=popularities(), seed=st.integers(0, 2**31 - 1), shift=st.floats(-50.0, 50.0))
def test_gumbel_optimum_and_shift_invariance(a: np.ndarray, seed: int, shift: float) -> None:
    E = a.size
    p_star, F_star = th.gumbel_optimum(a)
    assert p_star.sum() == pytest.approx(0.0, abs=1e-9)
    assert F_star == pytest.approx(a.mean() + math.log(E) + th.EULER_GAMMA, rel=1e-14)
    np.testing.assert_allclose(th.gumbel_dual_grad(a, p_star), 0.0, atol=1e-14)
    assert th.gumbel_dual_loss(a, p_star) == pytest.approx(F_star, rel=1e-13, abs=1e-13)
    p = np.random.default_rng(seed).normal(0.0, 2.0, (20, E))
    F = th.gumbel_dual_loss(a, p)
    np.testing.assert_allclose(th.gumbel_dual_loss(a, p + shift), F, rtol=1e-12, atol=1e-10)
    assert np.all(F >= F_star - 1e-12)


@settings(max_examples=30, **SETTINGS)
@given(a=popularities(max_E=12), R=st.sampled_from([0.0, 0.1, 0.5, 1.0, 2.0, 4.0]),
       seed=st.integers(0, 2**31 - 1))
def test_hessian_spectrum_on_orthogonal_complement(a: np.ndarray, R: float, seed: int) -> None:
    E = a.size
    basis = np.linalg.qr(np.column_stack([np.ones(E), np.eye(E)[:, : E - 1]]))[0][:, 1:]  # of 1^⊥
    p_star, _ = th.gumbel_optimum(a)
    eig_star = np.linalg.eigvalsh(basis.T @ th.gumbel_dual_hessian(a, p_star) @ basis)
    np.testing.assert_allclose(eig_star, 1.0 / E, rtol=1e-12)
    assert th.gumbel_modulus(E) == pytest.approx(1.0 / E)
    mu_R = th.gumbel_modulus(E, R)
    assert mu_R == pytest.approx(math.exp(-2 * R) / E)
    rng = np.random.default_rng(seed)
    d = rng.uniform(-R, R, (10, E))
    d[0] = R * np.where(np.arange(E) == 0, 1.0, -1.0)  # an extreme corner of the ball
    for p in p_star + d:
        q = 1.0 / E - th.gumbel_dual_grad(a, p)
        eig = np.linalg.eigvalsh(basis.T @ th.gumbel_dual_hessian(a, p) @ basis)
        assert q.min() >= mu_R * (1 - 1e-12)
        assert eig.min() >= q.min() * (1 - 1e-9) - 1e-15  # interlacing


def test_gumbel_input_validation() -> None:
    a = np.zeros(3)
    with pytest.raises(ValueError, match="a must"):
        th.gumbel_dual_loss(np.zeros((2, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="p must"):
        th.gumbel_dual_loss(a, np.zeros(4))
    with pytest.raises(ValueError, match="p must"):
        th.gumbel_dual_grad(a, 0.0)
    with pytest.raises(ValueError, match="single price vector"):
        th.gumbel_dual_hessian(a, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="finite"):
        th.gumbel_optimum(np.array([0.0, np.inf]))
    with pytest.raises(ValueError, match="R"):
        th.gumbel_modulus(4, -1.0)
    with pytest.raises(ValueError, match="E"):
        th.gumbel_modulus(0)
    np.testing.assert_allclose(th.gumbel_modulus(np.array([2, 4]), np.array([0.0, 1.0])),
                               [0.5, math.exp(-2) / 4])


# ---------------------------------------------------------------------------------------------
# claims 9-10: regret


def test_harmonic_matches_the_sum() -> None:
    T = np.arange(0, 80)
    direct = np.array([np.sum(1.0 / np.arange(1, t + 1)) for t in T])
    np.testing.assert_allclose(th.harmonic(T), direct, rtol=1e-13, atol=1e-15)
    assert th.harmonic(0) == 0.0
    assert isinstance(th.harmonic(10), float)
    big = 10**7
    assert th.harmonic(big) == pytest.approx(math.log(big) + th.EULER_GAMMA + 1 / (2 * big), rel=1e-13)
    assert np.all(th.harmonic(T[1:]) <= 1 + np.log(T[1:]) + 1e-15)
    with pytest.raises(ValueError, match="T"):
        th.harmonic(-1)


def test_log_regret_bound_closed_form_and_errors() -> None:
    T = np.array([1, 10, 100, 10**5])
    K, E, mu, c = 2, 16, math.exp(-2) / 16, 1.5
    G2 = K * (1 - K / E)
    np.testing.assert_allclose(th.log_regret_bound(T, K, E, mu, c), c * G2 / (2 * mu) * th.harmonic(T), rtol=1e-14)
    assert np.all(th.log_regret_bound(T, K, E, mu, c) <= c * G2 / (2 * mu) * (1 + np.log(T)) + 1e-12)
    assert th.log_regret_bound(1, 1, 8, 1 / 8) == pytest.approx((7 / 8) / (2 / 8))
    assert isinstance(th.log_regret_bound(5, 1, 8, 1 / 8), float)
    with pytest.raises(ValueError, match="c must be ≥ 1"):
        th.log_regret_bound(10, 1, 8, 1 / 8, c=0.99)
    with pytest.raises(ValueError, match="mu"):
        th.log_regret_bound(10, 1, 8, 0.0)
    with pytest.raises(ValueError, match="T"):
        th.log_regret_bound(0, 1, 8, 1 / 8)
    with pytest.raises(ValueError, match="K"):
        th.log_regret_bound(10, 9, 8, 1 / 8)


@pytest.mark.parametrize("c", [1.0, 2.0])
def test_log_regret_bound_holds_for_projected_sgd_on_gumbel_testbed(c: float) -> None:
    """Claim 9 end to end: projected SGD, η_t = c/(μ_R t), one token per step, 200 seeds."""
    E, R, T, seeds = 4, 1.0, 3000, 200
    rng = np.random.default_rng(12345)
    a = np.array([0.8, 0.1, -0.3, -0.6])
    p_star, F_star = th.gumbel_optimum(a)
    mu = th.gumbel_modulus(E, R)

    def project(y: np.ndarray) -> np.ndarray:
        r = y - p_star
        norm = np.linalg.norm(r, axis=-1, keepdims=True)
        return p_star + r * np.minimum(1.0, R / np.maximum(norm, 1e-300))

    p = project(np.zeros((seeds, E)))
    regret = np.zeros(seeds)
    for t in range(1, T + 1):
        regret += th.gumbel_dual_loss(a, p) - F_star
        chosen = np.argmax(a - p + rng.gumbel(size=(seeds, E)), axis=1)
        g = 1.0 / E - np.eye(E)[chosen]
        p = project(p - c / (mu * t) * g)
        assert np.abs(p.sum(axis=1)).max() < 1e-9  # iterates stay in Σp = 0
    assert np.all(np.linalg.norm(p - p_star, axis=1) <= R * (1 + 1e-12))
    mean, se = regret.mean(), regret.std(ddof=1) / math.sqrt(seeds)
    assert mean + 3 * se <= th.log_regret_bound(T, 1, E, mu, c)


def test_regret_exponent() -> None:
    assert th.regret_exponent("inverse_t", 0.1) == pytest.approx(0.8)
    assert th.regret_exponent("inverse_t", 0.5) == 0.0
    assert th.regret_exponent("inverse_t", 2.0) == 0.0
    np.testing.assert_allclose(th.regret_exponent("inverse_t", np.array([0.1, 0.25, 1.0])), [0.8, 0.5, 0.0])
    assert th.regret_exponent("inverse_sqrt") == 0.5
    assert th.regret_exponent("constant") == 1.0
    assert th.regret_exponent("sign") == 1.0
    with pytest.raises(ValueError, match="c is required"):
        th.regret_exponent("inverse_t")
    with pytest.raises(ValueError, match="c must be > 0"):
        th.regret_exponent("inverse_t", 0.0)
    with pytest.raises(ValueError, match="schedule"):
        th.regret_exponent("adam")


# ---------------------------------------------------------------------------------------------
# claim 11: the batch floor


def test_expected_max_normal_known_values() -> None:
    sqrt_pi = math.sqrt(math.pi)
    np.testing.assert_allclose(th.expected_max_normal([1, 2, 3]), [0.0, 1 / sqrt_pi, 3 / (2 * sqrt_pi)],
                               atol=1e-12)
    assert th.expected_max_normal(4) == pytest.approx(1.0293753730, abs=1e-9)
    assert th.expected_max_normal(5) == pytest.approx(1.1629644736, abs=1e-9)
    E = np.array([2, 4, 16, 64, 256, 10**4, 10**6])
    m = th.expected_max_normal(E)
    assert np.all(np.diff(m) > 0)
    assert np.all(m < np.sqrt(2 * np.log(E)))
    assert th.expected_max_normal(np.array([[2, 3], [3, 2]])).shape == (2, 2)
    for bad in (0, 2.5, -3):
        with pytest.raises(ValueError, match="E"):
            th.expected_max_normal(bad)


@settings(max_examples=5, **SETTINGS)
@given(E=st.integers(2, 64), seed=st.integers(0, 2**31 - 1))
def test_expected_max_normal_matches_monte_carlo(E: int, seed: int) -> None:
    N = 100_000
    mx = np.random.default_rng(seed).standard_normal((N, E)).max(axis=1)
    assert abs(mx.mean() - th.expected_max_normal(E)) <= 4 * mx.std(ddof=1) / math.sqrt(N)


def test_batch_maxvio_floor_formula_and_errors() -> None:
    n, K, E = 4096, 2, 16
    base = th.expected_max_normal(E) * math.sqrt((E - K) / (K * n))
    assert th.batch_maxvio_floor(n, K, E) == pytest.approx(base, rel=1e-14)
    assert th.batch_maxvio_floor(n, K, E, exchangeable=True) == pytest.approx(base * math.sqrt(E / (E - 1)))
    assert th.batch_maxvio_floor(n, E, E) == 0.0
    n_arr = np.array([512, 2048, 8192])
    np.testing.assert_allclose(th.batch_maxvio_floor(n_arr, K, E) * np.sqrt(n_arr), base * math.sqrt(n))
    with pytest.raises(ValueError, match="n"):
        th.batch_maxvio_floor(0, 1, 8)
    with pytest.raises(ValueError, match="K"):
        th.batch_maxvio_floor(100, 9, 8)


@pytest.mark.parametrize(("n", "K", "E"), [(8192, 1, 8), (4096, 2, 16)])
def test_batch_maxvio_floor_against_uniform_routing(n: int, K: int, E: int) -> None:
    """Uniform routing is perfectly balanced in expectation; its mean batch MaxVio sits at the floor."""
    rng = np.random.default_rng(7)
    reps = 3000
    first = rng.integers(0, E, size=(reps, n))
    picks = [first]
    if K == 2:
        picks.append((first + 1 + rng.integers(0, E - 1, size=(reps, n))) % E)  # a distinct second expert
    offsets = (np.arange(reps) * E)[:, None]
    loads = sum(np.bincount((pk + offsets).ravel(), minlength=reps * E).reshape(reps, E) for pk in picks)
    assert np.all(loads.sum(axis=1) == K * n)
    L_bar = K * n / E
    maxvio = (loads.max(axis=1) - L_bar) / L_bar
    mean, se = maxvio.mean(), maxvio.std(ddof=1) / math.sqrt(reps)
    exch = th.batch_maxvio_floor(n, K, E, exchangeable=True)
    assert mean > th.batch_maxvio_floor(n, K, E) + 3 * se  # the independent-normal form is a floor
    assert abs(mean / exch - 1) < 0.05  # the exchangeable form is close (Binomial skew accounts for the rest)


# ---------------------------------------------------------------------------------------------
# registry

IDS = ["alf_lb.integrality", "alf_lb.best_response", "alf_lb.duality", "alf_lb.monotone_improvement",
       "alf_lb.preference_rule", "alf_lb.telescoping", "alf_lb.constant_step_gap", "alf_lb.sign_limit_cycle",
       "alf_lb.bias_vs_duals", "alf_lb.stochastic_gradient", "alf_lb.gumbel_testbed", "alf_lb.strong_convexity",
       "alf_lb.log_regret", "alf_lb.step_dichotomy", "alf_lb.batch_floor"]
RECONSTRUCTED = {"alf_lb.monotone_improvement", "alf_lb.preference_rule", "alf_lb.sign_limit_cycle",
                 "alf_lb.log_regret"}
KINDS = {"alf_lb.integrality": ClaimKind.STRUCTURAL, "alf_lb.best_response": ClaimKind.IDENTITY,
         "alf_lb.duality": ClaimKind.PER_RUN, "alf_lb.monotone_improvement": ClaimKind.PER_RUN,
         "alf_lb.preference_rule": ClaimKind.STRUCTURAL, "alf_lb.telescoping": ClaimKind.IDENTITY,
         "alf_lb.constant_step_gap": ClaimKind.PER_RUN, "alf_lb.sign_limit_cycle": ClaimKind.STRUCTURAL,
         "alf_lb.bias_vs_duals": ClaimKind.STRUCTURAL, "alf_lb.stochastic_gradient": ClaimKind.IDENTITY,
         "alf_lb.gumbel_testbed": ClaimKind.IDENTITY, "alf_lb.strong_convexity": ClaimKind.IDENTITY,
         "alf_lb.log_regret": ClaimKind.EXPECTATION, "alf_lb.step_dichotomy": ClaimKind.RATE,
         "alf_lb.batch_floor": ClaimKind.RATE}


def test_registry_ids_sources_kinds_and_flags() -> None:
    ids = [c.id for c in th.CLAIMS]
    assert ids == IDS
    assert len(set(ids)) == len(ids)
    registered = {c.id: c for c in theory.claims("alf_lb")}
    assert set(registered) == set(IDS)
    for c in th.CLAIMS:
        assert registered[c.id] is c
        assert theory.get_claim(c.id) is c
        assert c.topic == "alf_lb"
        assert c.statement.strip() and c.source.strip()
        assert c.kind is KINDS[c.id]
        assert c.reconstructed is (c.id in RECONSTRUCTED)
        if c.reconstructed:
            assert "Han & Zhong 2025, arXiv 2512.03915" in c.source
            assert "derivation in theory.alf_lb" in c.source
        for fn in c.bounds:
            assert callable(fn)
            assert getattr(th, fn.__name__) is fn
            assert fn.__name__ in th.__all__
    bounds = {c.id: c.bounds for c in th.CLAIMS}
    assert bounds["alf_lb.monotone_improvement"] == (th.sandwich,)
    assert bounds["alf_lb.constant_step_gap"] == (th.constant_step_gap_bound, th.grad_sq_bound)
    assert bounds["alf_lb.log_regret"][0] is th.log_regret_bound
    assert bounds["alf_lb.step_dichotomy"] == (th.regret_exponent,)
    assert bounds["alf_lb.batch_floor"][0] is th.batch_maxvio_floor
    assert "alf_lb" in theory.topics()
