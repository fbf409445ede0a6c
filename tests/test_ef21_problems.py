"""Tests of sims.ef21.problems: gradients, smoothness constants, heterogeneity scaling and input checks.

Ground truths are computed here independently: central finite differences for the gradients, the Hessians
(1/N_i)A_iᵀdiag(σ(1−σ))A_i + λ·diag(r''(x)) (themselves checked against finite differences of the
gradients) for the smoothness constants, and the normal equations for the least-squares optimum.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sims.ef21 import problems as P

SETTINGS = {"deadline": None, "derandomize": True}


def logistic(n_samples: int = 53, d: int = 5, n_clients: int = 4, seed: int = 0, **kw: object) -> P.LogisticProblem:
    X, y = P.synthetic_classification(n_samples, d, seed)
    return P.make_logistic(X, y, n_clients, seed + 1, **kw)


def least_squares(counts: int | list[int] = (4, 7, 3, 9), d: int = 5, seed: int = 0, **kw: object
                  ) -> P.LeastSquaresProblem:
    counts = list(counts) if not isinstance(counts, int) else counts
    n = len(counts) if isinstance(counts, list) else 4
    return P.make_least_squares(n, counts, d, seed, **kw)


def fd_jacobian(fun, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of a vector-valued fun: column k is (fun(x + he_k) − fun(x − he_k))/(2h)."""
    cols = []
    for k in range(x.size):
        e = np.zeros_like(x)
        e[k] = h
        cols.append((np.asarray(fun(x + e)) - np.asarray(fun(x - e))) / (2 * h))
    return np.stack(cols, axis=-1)


def sigmoid(u: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * u))


def logistic_hessians(p: P.LogisticProblem, x: np.ndarray) -> np.ndarray:
    """∇²f_i(x) = (1/N_i)A_iᵀdiag(σ(1−σ))A_i + λ·diag(r''(x_k)), r''(u) = (2 − 6u²)/(1+u²)³."""
    s = sigmoid(p.A @ x)  # σ(yz)(1 − σ(yz)) does not depend on the sign of y
    D = p.weights * s * (1 - s)
    r2 = (2 - 6 * x**2) / (1 + x**2) ** 3
    return np.einsum("nj,nja,njb->nab", D, p.A, p.A) + p.lam * np.diag(r2)


PROBLEMS = {
    "logistic": lambda: logistic(),
    "logistic_dominant": lambda: logistic(heterogeneity=30.0),
    "logistic_spread": lambda: logistic(n_clients=5, heterogeneity=3.0, profile="spread", lam=0.5),
    "logistic_convex": lambda: logistic(lam=0.0),
    "least_squares": lambda: least_squares(),
    "least_squares_hetero": lambda: least_squares(heterogeneity=10.0, optimum_spread=1.0, noise=0.5),
}


# ---------------------------------------------------------------------------------------------
# gradients


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_gradients_match_finite_differences(name: str) -> None:
    p = PROBLEMS[name]()
    assert len(set(p.counts.tolist())) > 1  # unequal N_i, so the 1/N_i weights matter
    rng = np.random.default_rng(7)
    for scale in (0.3, 2.0):
        x = scale * rng.standard_normal(p.dim)
        G = p.client_grads(x)
        assert G.shape == (p.n_clients, p.dim)
        np.testing.assert_allclose(G, fd_jacobian(p.client_losses, x), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(p.grad(x), fd_jacobian(p.loss, x), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(p.grad(x), G.mean(axis=0), rtol=1e-12, atol=1e-14)
        assert p.loss(x) == pytest.approx(float(p.client_losses(x).mean()), rel=1e-14)
        assert isinstance(p.loss(x), float)


def test_logistic_loss_against_direct_formula_and_stability() -> None:
    X = np.array([[1.0, 2.0], [-1.0, 0.5], [3.0, -1.0]])
    y = np.array([1.0, -1.0, 1.0])
    p = P.LogisticProblem.from_clients([X[:2], X[2:]], [y[:2], y[2:]], lam=0.2)
    x = np.array([0.3, -0.7])
    reg = 0.2 * np.sum(x**2 / (1 + x**2))
    f1 = np.mean(np.log1p(np.exp(-y[:2] * (X[:2] @ x)))) + reg
    f2 = np.log1p(np.exp(-y[2] * (X[2] @ x))) + reg
    np.testing.assert_allclose(p.client_losses(x), [f1, f2], rtol=1e-14)
    big = np.array([800.0, -900.0])  # exp overflows without logaddexp and a stable sigmoid
    assert np.all(np.isfinite(p.client_losses(big)))
    assert np.all(np.isfinite(p.client_grads(big)))
    assert p.loss(big) > 100.0


# ---------------------------------------------------------------------------------------------
# smoothness constants


@pytest.mark.parametrize("name", ["logistic", "logistic_dominant", "logistic_spread", "logistic_convex"])
def test_logistic_hessian_within_smoothness(name: str) -> None:
    p = PROBLEMS[name]()
    rng = np.random.default_rng(1)
    x_check = rng.standard_normal(p.dim)
    H = logistic_hessians(p, x_check)  # the Hessian formula itself, against differences of the gradient
    np.testing.assert_allclose(H, fd_jacobian(p.client_grads, x_check, 1e-5), rtol=1e-5, atol=1e-6)
    tol = 1e-12
    for x in [np.zeros(p.dim), *(s * rng.standard_normal(p.dim) for s in (0.1, 1.0, 3.0, 30.0))]:
        eig = np.linalg.eigvalsh(logistic_hessians(p, x))
        assert np.all(eig[:, -1] <= p.smoothness * (1 + tol))
        assert np.all(eig[:, 0] >= -p.smoothness * (1 + tol))
        eig_f = np.linalg.eigvalsh(logistic_hessians(p, x).mean(axis=0))
        assert eig_f[-1] <= p.L * (1 + tol) and eig_f[0] >= -p.L * (1 + tol)
    # at x = 0 every σ(1−σ) = ¼ and r''(0) = 2: the constants are attained, not just upper bounds
    np.testing.assert_allclose(np.linalg.eigvalsh(logistic_hessians(p, np.zeros(p.dim)))[:, -1], p.smoothness,
                               rtol=1e-10)


def test_least_squares_constants() -> None:
    p = least_squares(heterogeneity=5.0, profile="spread")
    M = np.einsum("nj,nja,njb->nab", p.weights, p.A, p.A)
    np.testing.assert_allclose(np.linalg.eigvalsh(M)[:, -1], p.smoothness, rtol=1e-12)
    eig = np.linalg.eigvalsh(M.mean(axis=0))
    assert p.L == pytest.approx(eig[-1], rel=1e-12)
    assert p.mu == pytest.approx(eig[0], rel=1e-10)
    # a known spectrum with condition number ~1e12 (as strong heterogeneity produces): M = Rᵀdiag(λ)R with
    # λ_k = (c² + s_k²)/(2d); μ must be accurate to far better than eigvalsh's absolute error ε‖M‖
    d, c, sk = 4, 1e-3, np.array([1e6, 3.0, 1.0, 2.0])
    R = np.linalg.qr(np.random.default_rng(0).standard_normal((d, d)))[0]
    q = P.LeastSquaresProblem.from_clients([c * R, np.diag(sk) @ R], [np.ones(d), np.zeros(d)])
    lam = (c**2 + sk**2) / (2 * d)
    assert q.mu == pytest.approx(lam.min(), rel=1e-9)
    assert q.L == pytest.approx(lam.max(), rel=1e-12)
    np.testing.assert_allclose(q.smoothness, [c**2 / d, sk.max() ** 2 / d], rtol=1e-12)
    assert 0 < p.mu <= p.L


@st.composite
def instances(draw: st.DrawFn) -> tuple[str, int, float, str, int]:
    return (draw(st.sampled_from(["logistic", "least_squares"])), draw(st.integers(1, 10)),
            draw(st.sampled_from([0.0, 0.5, 3.0, 30.0, 300.0])), draw(st.sampled_from(P.PROFILES)),
            draw(st.integers(0, 2**31 - 1)))


def build(kind: str, n: int, zeta: float, profile: str, seed: int) -> P.LogisticProblem | P.LeastSquaresProblem:
    rng = np.random.default_rng(seed)
    d = int(rng.integers(2, 6))
    if kind == "logistic":
        X, y = P.synthetic_classification(n * int(rng.integers(1, 6)) + int(rng.integers(0, n)), d, rng)
        return P.make_logistic(X, y, n, rng, lam=float(rng.choice([0.0, 0.1])), heterogeneity=zeta,
                               profile=profile)
    counts = [int(c) for c in rng.integers(1, 6, size=n)]
    counts[0] += d
    if profile == "spread":  # condition number e^ζ: beyond ζ ≈ 60 the design is numerically singular
        zeta = min(zeta, 30.0)
    return P.make_least_squares(n, counts, d, rng, heterogeneity=zeta, profile=profile)


@settings(max_examples=40, **SETTINGS)
@given(inst=instances())
def test_means_ordering_on_every_instance(inst: tuple[str, int, float, str, int]) -> None:
    p = build(*inst)
    n = p.n_clients
    assert p.L <= p.L_AM * (1 + 1e-12)  # λ_max of a mean ≤ mean of λ_max (up to eigvalsh rounding)
    assert p.L_AM <= p.L_QM
    if n >= 2:
        # strict in exact arithmetic; √n − H ~ min L_i/max L_i, which float64 resolves above ~1e-12
        assert 1.0 <= p.heterogeneity <= math.sqrt(n) * (1 + 1e-15)
        if p.smoothness.min() > 1e-10 * p.smoothness.max():
            assert p.L_QM < math.sqrt(n) * p.L_AM
    else:
        assert p.heterogeneity == pytest.approx(1.0, rel=1e-15)
    assert p.smoothness.shape == (n,) and np.all(p.smoothness > 0)
    x = np.random.default_rng(inst[-1]).standard_normal(p.dim) * 3
    assert np.all(p.client_losses(x) >= p.f_low) and p.loss(x) >= p.f_low


# ---------------------------------------------------------------------------------------------
# heterogeneity


def test_heterogeneity_scales() -> None:
    np.testing.assert_allclose(P.heterogeneity_scales(4, 3.0, "dominant"), [4.0, 1.0, 1.0, 1.0])
    np.testing.assert_allclose(P.heterogeneity_scales(3, 2.0, "spread"), [1.0, math.e, math.e**2])
    np.testing.assert_allclose(P.heterogeneity_scales(1, 2.0, "spread"), [1.0])
    np.testing.assert_allclose(P.heterogeneity_scales(5, 0.0, "spread"), np.ones(5))


def test_dominant_scaling_multiplies_client_one_curvature() -> None:
    base, scaled = logistic(lam=0.0), logistic(lam=0.0, heterogeneity=9.0)
    assert scaled.smoothness[0] == pytest.approx(10.0 * base.smoothness[0], rel=1e-10)
    np.testing.assert_allclose(scaled.smoothness[1:], base.smoothness[1:], rtol=1e-12)
    np.testing.assert_allclose(scaled.A[0], math.sqrt(10.0) * base.A[0], rtol=1e-14)


@settings(max_examples=15, **SETTINGS)
@given(n=st.integers(2, 12), seed=st.integers(0, 2**31 - 1), kind=st.sampled_from(["logistic", "least_squares"]))
def test_dominant_heterogeneity_grows_towards_sqrt_n(n: int, seed: int, kind: str) -> None:
    # dH/dζ has the sign of L_1 − Σ_{j≥2}L_j²/Σ_{j≥2}L_j, so H increases once client 1 leads every other
    # client (it can dip first when client 1 starts as the smoothest); it tends to √n.
    zetas = [0.0, 1.0, 3.0, 10.0, 30.0, 100.0, 1e3, 1e4, 1e6, 1e8]
    probs = [build(kind, n, z, "dominant", seed) for z in zetas]
    H = np.array([p.heterogeneity for p in probs])
    others = probs[0].smoothness[1:]
    leads = np.array([p.smoothness[0] >= others.max() for p in probs])
    assert np.all(np.diff(H)[leads[:-1]] > 0)
    assert np.all(H < math.sqrt(n))
    assert H[-1] == pytest.approx(math.sqrt(n), rel=1e-5)


def test_spread_heterogeneity_increases() -> None:
    H = [logistic(n_samples=120, n_clients=8, heterogeneity=z, profile="spread").heterogeneity
         for z in (0.0, 1.0, 3.0, 10.0, 30.0, 100.0)]
    assert np.all(np.diff(H) > 0)
    assert H[-1] < math.sqrt(8)


# ---------------------------------------------------------------------------------------------
# splitting, determinism, data sets


def test_split_is_a_permutation_into_near_equal_parts() -> None:
    X, y = P.synthetic_classification(103, 4, 5)
    p = P.make_logistic(X, y, 7, 9)
    assert sorted(p.counts.tolist()) == [14] * 2 + [15] * 5
    assert p.counts.sum() == 103 and p.counts[0] == 15  # np.array_split: the first parts are larger
    rows = np.concatenate([p.A[i, : p.counts[i]] for i in range(7)])
    labels = np.concatenate([p.y[i, : p.counts[i]] for i in range(7)])
    order = np.lexsort(rows.T)
    ref = np.lexsort(X.T)
    np.testing.assert_array_equal(rows[order], X[ref])
    np.testing.assert_array_equal(labels[order], y[ref])
    assert np.all(p.weights[p.counts[:, None] > np.arange(p.A.shape[1])] > 0)
    np.testing.assert_allclose(p.weights.sum(axis=1), 1.0)


def test_same_seed_same_bits() -> None:
    a, b = logistic(seed=3, heterogeneity=2.0), logistic(seed=3, heterogeneity=2.0)
    for field in ("A", "y", "weights", "smoothness"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert a.L == b.L
    c = logistic(seed=4)
    assert not np.array_equal(a.y, c.y)
    u, v = least_squares(seed=2), P.make_least_squares(4, [4, 7, 3, 9], 5, np.random.default_rng(2))
    np.testing.assert_array_equal(u.A, v.A)
    np.testing.assert_array_equal(u.b, v.b)
    # the knobs do not change the draws: ζ only rescales rows
    w = least_squares(seed=2, heterogeneity=3.0)
    np.testing.assert_allclose(w.A[1:], u.A[1:], rtol=0)
    np.testing.assert_allclose(w.A[0], 2.0 * u.A[0], rtol=1e-15)


@pytest.mark.parametrize(("name", "shape"), [("breast_cancer", (569, 31)), ("digits", (1797, 62))])
def test_bundled_datasets(name: str, shape: tuple[int, int]) -> None:
    X, y = P.load_dataset(name)
    assert X.shape == shape and y.shape == (shape[0],)
    assert set(np.unique(y)) == {-1.0, 1.0}
    np.testing.assert_allclose(X[:, -1], 1.0)
    np.testing.assert_allclose(X[:, :-1].mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X[:, :-1].std(axis=0), 1.0, rtol=1e-12)
    assert P.load_dataset(name, intercept=False)[0].shape == (shape[0], shape[1] - 1)
    p = P.make_logistic(X, y, 10, 0)
    assert p.dim == shape[1] and p.n_clients == 10


# ---------------------------------------------------------------------------------------------
# least squares: the optimum and PL


@pytest.mark.parametrize("kw", [{}, {"heterogeneity": 30.0, "optimum_spread": 2.0}, {"noise": 0.0},
                                {"profile": "spread", "heterogeneity": 4.0, "noise": 1.0}])
def test_least_squares_optimum_and_pl(kw: dict) -> None:
    p = least_squares(**kw)
    assert np.linalg.norm(p.grad(p.x_star)) <= 1e-10 * (1 + np.linalg.norm(p.client_grads(p.x_star)))
    assert p.f_star == p.loss(p.x_star) and p.f_star >= p.f_low == 0.0
    if kw.get("noise") == 0.0:
        assert p.f_star == pytest.approx(0.0, abs=1e-20)
    M = np.einsum("nj,nja,njb->ab", p.weights, p.A, p.A) / p.n_clients  # normal equations
    rhs = np.einsum("nj,nja,nj->a", p.weights, p.A, p.b) / p.n_clients
    np.testing.assert_allclose(p.x_star, np.linalg.solve(M, rhs), rtol=1e-8, atol=1e-10)
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = p.x_star + rng.standard_normal(p.dim) * rng.choice([1e-3, 1.0, 10.0])
        gap = p.loss(x) - p.f_star
        assert gap >= 0
        assert 0.5 * np.sum(p.grad(x) ** 2) >= p.mu * gap * (1 - 1e-8)  # PL with μ = λ_min
        assert gap <= 0.5 * p.L * np.sum((x - p.x_star) ** 2) * (1 + 1e-8)


# ---------------------------------------------------------------------------------------------
# the array namespace


def test_to_numpy_keeps_the_problem() -> None:
    p = logistic(heterogeneity=3.0)
    q = p.to(np)
    x = np.linspace(-1, 1, p.dim)
    np.testing.assert_array_equal(q.client_grads(x), p.client_grads(x))
    assert q.L == p.L and q.heterogeneity == p.heterogeneity


@pytest.mark.gpu
def test_cupy_matches_numpy() -> None:
    cp = pytest.importorskip("cupy")
    try:
        cp.cuda.runtime.getDeviceCount()
    except Exception:
        pytest.skip("no CUDA device")
    rng = np.random.default_rng(0)
    for p in (logistic(heterogeneity=3.0), least_squares(heterogeneity=3.0)):
        q = p.to(cp)
        x = rng.standard_normal(p.dim)
        G = q.client_grads(cp.asarray(x))
        assert type(G).__module__.startswith("cupy")
        np.testing.assert_allclose(cp.asnumpy(G), p.client_grads(x), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(cp.asnumpy(q.grad(cp.asarray(x))), p.grad(x), rtol=1e-10, atol=1e-12)
        assert q.loss(cp.asarray(x)) == pytest.approx(p.loss(x), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# bad input


def test_bad_input_names_the_argument() -> None:
    X, y = P.synthetic_classification(20, 3, 0)
    with pytest.raises(ValueError, match=r"^y must hold labels"):
        P.make_logistic(X, (y + 1) / 2, 2, 0)  # 0/1 labels
    with pytest.raises(ValueError, match=r"^y must have shape"):
        P.make_logistic(X, y[:-1], 2, 0)
    X_bad = X.copy()
    X_bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"^X must be finite"):
        P.make_logistic(X_bad, y, 2, 0)
    with pytest.raises(ValueError, match=r"^X must have shape"):
        P.make_logistic(X[0], y[:1], 1, 0)
    with pytest.raises(ValueError, match="n_clients"):
        P.make_logistic(X, y, 0, 0)
    with pytest.raises(ValueError, match="n_clients"):
        P.make_logistic(X, y, 21, 0)
    with pytest.raises(TypeError, match="n_clients"):
        P.make_logistic(X, y, 2.0, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lam"):
        P.make_logistic(X, y, 2, 0, lam=-0.1)
    with pytest.raises(ValueError, match="heterogeneity"):
        P.make_logistic(X, y, 2, 0, heterogeneity=-1.0)
    with pytest.raises(ValueError, match="heterogeneity"):
        P.make_logistic(X, y, 3, 0, heterogeneity=301.0, profile="spread")
    with pytest.raises(ValueError, match="profile"):
        P.make_logistic(X, y, 2, 0, profile="uniform")
    with pytest.raises(TypeError, match="rng"):
        P.make_logistic(X, y, 2, "seed")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="name"):
        P.load_dataset("a9a")
    with pytest.raises(ValueError, match=r"^x must have shape"):
        P.make_logistic(X, y, 2, 0).client_grads(np.zeros(4))
    with pytest.raises(ValueError, match="y_list"):
        P.LogisticProblem.from_clients([X[:3]], [np.array([1.0, 0.0, 1.0])])
    with pytest.raises(ValueError, match="A_list"):
        P.LogisticProblem.from_clients([X[:3], X[3:5, :2]], [y[:3], y[3:5]])
    with pytest.raises(ValueError, match="samples_per_client"):
        P.make_least_squares(2, 1, 5, 0)  # 2 rows < d = 5: μ would be 0
    with pytest.raises(ValueError, match="samples_per_client"):
        P.make_least_squares(3, [4, 4], 2, 0)
    with pytest.raises(ValueError, match="samples_per_client"):
        P.make_least_squares(2, [4, 0], 2, 0)
    with pytest.raises(ValueError, match="noise"):
        P.make_least_squares(2, 4, 2, 0, noise=-1.0)
    with pytest.raises(ValueError, match="optimum_spread"):
        P.make_least_squares(2, 4, 2, 0, optimum_spread=math.nan)
    with pytest.raises(ValueError, match="rank"):  # enough rows, but all on one line
        P.LeastSquaresProblem.from_clients([np.ones((4, 3))], [np.ones(4)])
