"""Tests of theory.convex_relu: pattern counts, scenario bound, certificate, rescaling, cost model, registry.

The counts are checked against brute-force enumeration on tiny data, the closed forms against the loss at
perturbations in the box, and the cost model against the solver's own counts. Property tests draw sizes,
levels and seeds with hypothesis, not raw float arrays.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import convex_relu as th
from theory.registry import ClaimKind, get_claim

SETTINGS = {"deadline": None, "derandomize": True}


# ---------------------------------------------------------------------------------------------
# CR6: counts


def test_bound_dominates_exact_count() -> None:
    for n in range(2, 61):
        for r in range(1, n + 1):
            exact = th.pattern_count_general_position(n, r)
            assert th.pattern_count_bound(n, r) >= exact, (n, r)
    assert th.pattern_count_bound(40, 3) == pytest.approx(6 * (13 * math.e) ** 3)  # 2r(e(n−1)/r)^r


def test_exact_counts() -> None:
    for n in range(1, 60):
        assert th.pattern_count_general_position(n, 3) == n * n - n + 2 == th.pattern_count_2d(n)
        assert th.pattern_count_general_position(n, 2) == 2 * n
        assert th.pattern_count_general_position(n, 3, include_zero=False) == n * n - n + 1
    assert th.pattern_count_general_position(5, 9) == 2**5  # r ≥ n: every dichotomy
    big = th.pattern_count_general_position(400, 60)
    assert isinstance(big, int) and big == 2 * sum(math.comb(399, j) for j in range(60))
    arr = th.pattern_count_general_position([4, 5, 6], 3)
    assert arr.dtype == np.int64 and arr.tolist() == [14, 22, 32]
    np.testing.assert_array_equal(th.pattern_count_2d(np.array([3, 40])), [8, 1562])
    assert th.pattern_count_general_position([400, 10], [60, 2]).dtype == object
    assert th.pattern_count_bound(10, [1, 2]).shape == (2,)


def test_count_errors() -> None:
    with pytest.raises(ValueError, match="r must be ≤ n"):
        th.pattern_count_bound(3, 4)
    with pytest.raises(ValueError, match="n must be"):
        th.pattern_count_bound(1, 1)
    with pytest.raises(ValueError, match="r must be an integer"):
        th.pattern_count_general_position(5, 2.5)
    with pytest.raises(TypeError, match="n must be a real number"):
        th.pattern_count_2d("5")


def _patterns(X: np.ndarray, H: np.ndarray) -> set[bytes]:
    return {col.tobytes() for col in (X @ H.T >= 0).T}


@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_cover_1d_with_bias_by_dense_sampling(n: int) -> None:
    rng = np.random.default_rng(n)
    t = np.linspace(-1, 1, n) + 0.02 * rng.standard_normal(n)  # distinct, well separated abscissae
    X = np.column_stack([t, np.ones(n)])
    theta = np.linspace(0, 2 * np.pi, 200_000, endpoint=False)
    H = np.column_stack([np.cos(theta), np.sin(theta)])
    found = _patterns(X, H) | _patterns(X, np.zeros((1, 2)))  # h = 0 adds nothing (all-ones again)
    assert len(found) == th.pattern_count_general_position(n, 2) == 2 * n


def _vertex_enumeration(X: np.ndarray) -> set[bytes]:
    """Spec §6: at each vertex ±(x_i × x_j), the signs of the other rows and all four values of rows i, j."""
    out = set()
    n = X.shape[0]
    for i, j in itertools.combinations(range(n), 2):
        ray = np.cross(X[i], X[j])
        for s in (1.0, -1.0):
            base = X @ (s * ray) >= 0
            for bi, bj in itertools.product((False, True), repeat=2):
                pat = base.copy()
                pat[i], pat[j] = bi, bj
                out.add(pat.tobytes())
    return out


@pytest.mark.parametrize("n", [3, 5, 9, 14])
def test_cover_2d_with_bias_by_vertex_enumeration(n: int) -> None:
    rng = np.random.default_rng(100 + n)
    X = np.column_stack([rng.standard_normal((n, 2)), np.ones(n)])
    full = _vertex_enumeration(X)
    assert len(full) == th.pattern_count_2d(n) == n * n - n + 2
    H = rng.standard_normal((20_000, 3))
    assert _patterns(X, H) <= full  # sampling never finds a pattern outside the enumeration
    assert np.zeros(n, dtype=bool).tobytes() in full


def test_degenerate_data_without_bias_gains_patterns() -> None:
    X = np.array([[1.0], [-1.0]])  # the docstring's example: ≥ adds the pattern of h = 0
    found = _patterns(X, np.array([[1.0], [-1.0], [0.0]]))
    assert len(found) == 3 > th.pattern_count_general_position(2, 1)


# ---------------------------------------------------------------------------------------------
# CR12: scenario approach


def _tail_exact(N: int, zeta: int, psi: Fraction) -> Fraction:
    return sum((math.comb(N, j) * psi**j * (1 - psi) ** (N - j) for j in range(min(zeta, N + 1))), Fraction(0))


@settings(max_examples=40, **SETTINGS)
@given(zeta=st.integers(1, 400), psi=st.floats(1e-3, 1.0), xi=st.floats(1e-12, 1.0))
def test_scenario_size_meets_the_tail(zeta: int, psi: float, xi: float) -> None:
    N = th.scenario_sample_size(zeta, psi, xi)
    assert isinstance(N, int) and N >= 0
    assert N == math.ceil((2 / psi) * (zeta - 1 + math.log(1 / xi)))
    assert th.scenario_violation_tail(N, zeta, psi) <= xi * (1 + 1e-9)


@settings(max_examples=20, **SETTINGS)
@given(zeta=st.integers(1, 30), psi=st.floats(0.01, 0.99), N0=st.integers(0, 200))
def test_scenario_tail_monotone_and_exact(zeta: int, psi: float, N0: int) -> None:
    Ns = np.arange(N0, N0 + 40)
    tails = th.scenario_violation_tail(Ns, zeta, psi)
    assert np.all(np.diff(tails) <= 1e-15)
    for N in (N0, N0 + 7):
        exact = float(_tail_exact(N, zeta, Fraction(psi)))
        assert th.scenario_violation_tail(N, zeta, psi) == pytest.approx(exact, rel=1e-9, abs=1e-300)


def test_scenario_deep_tail_and_errors() -> None:
    # deep in the tail (≈ 1e-70) the incomplete beta keeps its relative accuracy
    exact = float(_tail_exact(300, 20, Fraction(1, 2)))
    assert 0 < exact < 1e-60
    assert th.scenario_violation_tail(300, 20, 0.5) == pytest.approx(exact, rel=1e-9)
    assert th.scenario_violation_tail(0, 1, 0.3) == 1.0
    with pytest.raises(ValueError, match="psi must be > 0"):
        th.scenario_sample_size(5, 0.0, 0.1)
    with pytest.raises(ValueError, match="xi must be ≤ 1"):
        th.scenario_sample_size(5, 0.1, 1.5)
    with pytest.raises(ValueError, match="zeta must be"):
        th.scenario_violation_tail(10, 0, 0.1)


# ---------------------------------------------------------------------------------------------
# CR10: certificate


def _box_samples(rng: np.random.Generator, eps: float, d: int, count: int) -> np.ndarray:
    """Random points of the feature box, its vertices where few, and zero on the bias coordinate."""
    f = d - 1
    inner = rng.uniform(-eps, eps, (count, f))
    verts = np.array(list(itertools.product((-eps, eps), repeat=f))) if f <= 6 else rng.choice([-eps, eps], (64, f))
    out = np.vstack([inner, verts])
    return np.column_stack([out, np.zeros(len(out))])


@settings(max_examples=25, **SETTINGS)
@given(n=st.integers(1, 12), d=st.integers(2, 6), eps=st.floats(0.0, 2.0), seed=st.integers(0, 2**31))
def test_certified_closed_forms_bound_every_perturbation(n: int, d: int, eps: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(d)
    a[rng.random(d) < 0.2] = 0.0  # some zero slopes: their δ coordinates are free
    X = np.column_stack([rng.standard_normal((n, d - 1)), np.ones(n)])
    y_cls = rng.choice([-1.0, 1.0], n)
    y_reg = X @ a + rng.standard_normal(n)
    y_reg[0] = X[0] @ a  # a zero residual: the worst δ must still move the output
    l1 = np.sum(np.abs(a[:-1]))
    hinge = th.certified_hinge(y_cls * (X @ a), l1, eps)
    sq = th.certified_squared(y_reg - X @ a, l1, eps)
    deltas = _box_samples(rng, eps, d, 200)
    for k in range(n):
        out = (X[k] + deltas) @ a
        assert np.all(np.maximum(0, 1 - y_cls[k] * out) <= hinge[k] + 1e-12)
        assert np.all(0.5 * (y_reg[k] - out) ** 2 <= sq[k] + 1e-12)
        # equality at the stated δ (bias never perturbed)
        dh = -eps * y_cls[k] * np.sign(a)
        dh[-1] = 0.0
        assert max(0.0, 1 - y_cls[k] * (X[k] + dh) @ a) == pytest.approx(hinge[k], rel=1e-12, abs=1e-12)
        s = 1.0 if y_reg[k] - X[k] @ a >= 0 else -1.0
        ds = -eps * s * np.sign(a)
        ds[-1] = 0.0
        assert 0.5 * (y_reg[k] - (X[k] + ds) @ a) ** 2 == pytest.approx(sq[k], rel=1e-12, abs=1e-12)


def test_certified_values_and_errors() -> None:
    assert th.certified_hinge(2.0, 1.0, 0.5) == 0.0
    assert th.certified_hinge(0.5, 2.0, 0.25) == pytest.approx(1.0)
    assert th.certified_squared(-1.0, 2.0, 0.5) == pytest.approx(2.0)
    np.testing.assert_allclose(th.certified_squared([0.0, 1.0], [1.0, 0.0], 1.0), [0.5, 0.5])
    with pytest.raises(ValueError, match="l1 must be ≥ 0"):
        th.certified_hinge(0.0, -1.0, 0.1)
    with pytest.raises(ValueError, match="eps must be ≥ 0"):
        th.certified_squared(0.0, 1.0, -0.1)


# ---------------------------------------------------------------------------------------------
# CR2: rescaling; CR3: recovery mismatch; β_max


@settings(max_examples=30, **SETTINGS)
@given(m=st.integers(1, 8), d=st.integers(1, 6), scale=st.floats(1e-3, 1e3), seed=st.integers(0, 2**31))
def test_rescale_neuron(m: int, d: int, scale: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((m, d)) * scale
    alpha = rng.standard_normal(m) / scale
    U[0] *= 0.0 if m > 2 else 1.0  # a dead neuron when there is room
    U2, a2 = th.rescale_neuron(U, alpha)
    assert U2.shape == U.shape and a2.shape == alpha.shape
    before = np.sum(U**2, axis=1) + alpha**2
    after = np.sum(U2**2, axis=1) + a2**2
    assert np.all(after <= before * (1 + 1e-12))
    np.testing.assert_allclose(np.linalg.norm(U2, axis=1), np.abs(a2), rtol=1e-12)
    np.testing.assert_allclose(a2[:, None] * U2, alpha[:, None] * U, rtol=1e-12, atol=1e-300)
    Xs = rng.standard_normal((20, d))
    np.testing.assert_allclose(np.maximum(Xs @ U2.T, 0) * a2, np.maximum(Xs @ U.T, 0) * alpha, rtol=1e-10,
                               atol=1e-12 * scale)
    u1, a1 = th.rescale_neuron(U[-1], float(alpha[-1]))
    assert isinstance(a1, float) and np.allclose(u1, U2[-1])


def test_rescale_zero_and_errors() -> None:
    u, a = th.rescale_neuron(np.zeros(3), 2.0)
    assert a == 0.0 and not u.any()
    u, a = th.rescale_neuron(np.ones(3), 0.0)
    assert a == 0.0 and not u.any()
    u, a = th.rescale_neuron(np.array([3.0, 4.0]), -5.0)  # already balanced: unchanged
    np.testing.assert_allclose(u, [3.0, 4.0])
    assert a == pytest.approx(-5.0)
    with pytest.raises(ValueError, match="alpha must have shape"):
        th.rescale_neuron(np.ones((3, 2)), np.ones(2))


@settings(max_examples=20, **SETTINGS)
@given(n=st.integers(3, 25), P=st.integers(1, 8), noise=st.floats(0.0, 0.3), loss=st.sampled_from(th.LOSSES),
       seed=st.integers(0, 2**31))
def test_recovery_mismatch_bound(n: int, P: int, noise: float, loss: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    d = 3
    X = np.column_stack([rng.standard_normal((n, d - 1)), np.ones(n)])
    H = rng.standard_normal((2 * P, d))
    Dm = (X @ H[:P].T >= 0).astype(float)
    V = rng.uniform(0.1, 2, (P, 1)) * H[:P] + noise * rng.standard_normal((P, d))  # feasible when noise = 0
    S = 2 * Dm - 1
    eta = np.maximum(0.0, -(S * (X @ V.T)).min(axis=0))
    y = rng.choice([-1.0, 1.0], n) if loss == "hinge" else rng.standard_normal(n)
    b = np.sum(Dm * (X @ V.T), axis=1)  # convex predictions
    nrm = np.linalg.norm(V, axis=1)
    U, alpha = V / np.sqrt(nrm)[:, None], np.sqrt(nrm)  # recovered network
    a = np.maximum(X @ U.T, 0) @ alpha

    def ell(p: np.ndarray) -> float:
        return 0.5 * float(np.sum((p - y) ** 2)) if loss == "squared" else float(np.sum(np.maximum(0, 1 - y * p)))

    assert np.max(np.abs(a - b)) <= eta.sum() + 1e-12
    bound = th.recovery_mismatch_bound(eta, n, loss=loss, residual_norm=float(np.linalg.norm(b - y)))
    assert abs(ell(a) - ell(b)) <= bound + 1e-10
    if noise == 0.0:
        assert bound == 0.0 and ell(a) == pytest.approx(ell(b), rel=1e-12, abs=1e-12)


def test_beta_zero_threshold_is_the_group_lasso_threshold() -> None:
    rng = np.random.default_rng(5)
    n, d, P = 30, 3, 6
    X = np.column_stack([rng.standard_normal((n, d - 1)), np.ones(n)])
    y = rng.standard_normal(n)
    Dm = X @ rng.standard_normal((d, P)) >= 0
    bmax = th.beta_zero_threshold(X, y, Dm)
    G = X.T @ (Dm * y[:, None])  # column i: XᵀD_iy
    assert bmax == pytest.approx(np.linalg.norm(G, axis=0).max())
    i = int(np.argmax(np.linalg.norm(G, axis=0)))

    def gated(beta: float, t: float) -> float:  # objective at u_i = t·XᵀD_iy/‖·‖, other groups 0
        u = t * G[:, i] / np.linalg.norm(G[:, i])
        return 0.5 * float(np.sum((Dm[:, i] * (X @ u) - y) ** 2)) + beta * abs(t)

    for t in (1e-6, 1e-3):
        assert gated(0.99 * bmax, t) < gated(0.99 * bmax, 0.0)  # below β_max zero is not optimal
        assert gated(bmax, t) >= gated(bmax, 0.0) - 1e-15
    with pytest.raises(ValueError, match="Dm must have shape"):
        th.beta_zero_threshold(X, y, Dm[:-1])
    with pytest.raises(ValueError, match="y must have shape"):
        th.beta_zero_threshold(X, y[:-1], Dm)


# ---------------------------------------------------------------------------------------------
# CR7: reporting helpers


@settings(max_examples=20, **SETTINGS)
@given(q=st.floats(0.05, 0.999), c=st.floats(1e-3, 1e3), K=st.integers(4, 300))
def test_linear_rate_fit_recovers_the_factor(q: float, c: float, K: int) -> None:
    r = c * q ** np.arange(K)
    fit = th.linear_rate_fit(r)
    assert fit.factor == pytest.approx(q, rel=1e-9) and fit.slope < 0
    assert fit.points == max(2, math.ceil(0.5 * K))


def test_linear_rate_fit_floor_and_errors() -> None:
    r = np.concatenate([0.5 ** np.arange(30), np.full(30, 1e-16), [0.0]])
    assert th.linear_rate_fit(r, tail=1.0, floor=1e-15).factor == pytest.approx(0.5)
    assert th.linear_rate_fit(r, tail=0.5).factor == pytest.approx(1.0, abs=0.05)  # a plateau is not linear
    with pytest.raises(ValueError, match="at least 2 entries"):
        th.linear_rate_fit(r, tail=0.3, floor=1e-15)
    with pytest.raises(ValueError, match="residuals must be ≥ 0"):
        th.linear_rate_fit([1.0, -1.0])
    assert th.relative_gap([2.0, 1.5], 1.0).tolist() == [1.0, 0.5]
    assert th.relative_gap(-0.9, -1.0) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="f_star must be nonzero"):
        th.relative_gap(1.0, 0.0)
    assert th.ADMM_QUICK_GAP == 1e-4 and th.ADMM_QUICK_VIOLATION == 1e-5 and th.ADMM_SLOW_GAP == 1e-6


# ---------------------------------------------------------------------------------------------
# CR8: cost model


def test_flop_formulas() -> None:
    n, d, P = 10, 3, 4
    # W = S + 4ndP + 18nP + 27Pd + 10P; ndP = 120, nP = 40, Pd = 12, Pd² = 36, dP = 12, r = min(d, n) = 3
    assert th.admm_flops_per_iteration(n, d, P) == 3 * 36 + 2 * 120 + 2 * 40 + 100 + 4 * 120 + 18 * 40 + 27 * 12 + 40
    assert th.admm_flops_per_iteration(n, d, P, method="eigh") == 2092 + 100
    rec = 10 * 120 + 58 * 40 + 46 * 12 + 12 * 4 + 6 * 10 + 2 * 4 * (27 + 27 + 18 + 18 + 15)
    assert th.admm_flops_per_iteration(n, d, P, record=True) == 2092 + rec
    assert th.admm_flops_per_iteration(n, d, P, u_step="dense") == 36 + 12**2 + 4 * 120 + 18 * 40 + 27 * 12 + 40
    assert th.admm_setup_flops(n, d, P) == 2 * 90 + 27 + 300 + 400 + 4000
    assert th.admm_setup_flops(n, d, P, method="cholesky") == 2 * 90 + 27 + 300 + 400 + 1000
    assert th.admm_setup_flops(n, d, P, method="dense") == 10 * 144 + 90 + 27 + 12**3
    assert th.admm_run_flops(n, d, P, 7, 2, u_step="dense") == 3285 + 120 + 40 + 7 * 1744 + 2 * rec
    # quadratic per iteration in n when P ∝ n (d fixed)
    ns = np.array([100, 200, 400, 800])
    w = th.admm_flops_per_iteration(ns, 5, ns // 2)
    assert np.all(np.diff(np.log(w)) / np.log(2) == pytest.approx(2.0, abs=0.05))
    with pytest.raises(ValueError, match="u_step must be"):
        th.admm_flops_per_iteration(n, d, P, u_step="cg")
    with pytest.raises(ValueError, match="method must be"):
        th.admm_setup_flops(n, d, P, method="qr")
    with pytest.raises(ValueError, match="recorded must be ≤ iterations"):
        th.admm_run_flops(n, d, P, 3, 4)


@pytest.mark.parametrize(("u_step", "rule"), [("woodbury", "fixed"), ("woodbury", "balance"), ("dense", "fixed")])
def test_flop_formulas_equal_the_solver_counts(u_step: str, rule: str) -> None:
    admm_mod = pytest.importorskip("solvers.convex_relu.admm")
    patterns_mod = pytest.importorskip("solvers.convex_relu.patterns")
    operators = pytest.importorskip("solvers.convex_relu.operators")
    rng = np.random.default_rng(3)
    n = 30
    X = np.column_stack([rng.standard_normal((n, 3)), np.ones(n)])
    y = rng.standard_normal(n)
    pats = patterns_mod.sample_patterns(X, 12, rng)
    d, P = X.shape[1], pats.P
    res = admm_mod.admm(X, y, pats, 0.1, u_step=u_step, rho_rule=rule, max_iter=57, record_every=5)
    recorded = len(res.history.iteration)
    factorizations = len(set(res.history.rho.tolist())) if rule == "balance" else 1
    method = "dense" if u_step == "dense" else "cholesky"
    assert res.setup_flops == th.admm_setup_flops(n, d, P, method=method)
    assert res.flops == th.admm_run_flops(n, d, P, res.iterations, recorded, u_step=u_step,
                                          factorizations=factorizations)
    f = operators.woodbury_factor(X, pats.masks, method="eigh")
    assert f.setup_flops == th.admm_setup_flops(n, d, P, method="eigh")


# ---------------------------------------------------------------------------------------------
# registry

KINDS = {
    "convex_relu.exactness": (ClaimKind.PER_RUN, False),
    "convex_relu.lower_bound": (ClaimKind.PER_RUN, True),
    "convex_relu.recovery": (ClaimKind.IDENTITY, False),
    "convex_relu.sampling_upper_bound": (ClaimKind.PER_RUN, False),
    "convex_relu.gated_relaxation": (ClaimKind.PER_RUN, False),
    "convex_relu.pattern_count": (ClaimKind.IDENTITY, False),
    "convex_relu.admm_convergence": (ClaimKind.RATE, True),
    "convex_relu.admm_cost": (ClaimKind.IDENTITY, True),
    "convex_relu.identities": (ClaimKind.IDENTITY, True),
    "convex_relu.adversarial_certificate": (ClaimKind.PER_RUN, True),
    "convex_relu.robust_collapse": (ClaimKind.STRUCTURAL, True),
    "convex_relu.sampling_quality": (ClaimKind.EXPECTATION, True),
    "convex_relu.cone_splitting": (ClaimKind.PER_RUN, True),
}


def test_claims_registered_with_kinds() -> None:
    assert [c.id for c in th.CLAIMS] == list(KINDS)
    for c in th.CLAIMS:
        kind, reconstructed = KINDS[c.id]
        assert get_claim(c.id) is c
        assert c.kind is kind and c.reconstructed is reconstructed and c.known_failure is None, c.id
        assert all(callable(f) for f in c.bounds)
