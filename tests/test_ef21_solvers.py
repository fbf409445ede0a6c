"""Tests of the EF21-family solvers (solvers.ef21: compressors, methods, run loop).

Covers (spec ef21.md §3, §5, §6): TopK contraction on every vector and its stable tie rule, the numba
and array (CuPy-style) TopK paths agreeing exactly, RandK's exact expectation by enumeration and a
Monte-Carlo mean, scaled RandK's contraction limit, every fused update against the per-client loop
and against the array path, the reductions (K = d EF21 = GD, EControl with η = 0 = EF21, EF21-W = EF21
for TopK), the estimator errors G, G_W, G̃ against their definitions, bit counters in closed form,
divergence and target stops, the step-size warning, and input validation (errors name the argument).
"""

from __future__ import annotations

import itertools
import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers.ef21 import (
    Compressor,
    Identity,
    Problem,
    RandK,
    StepSizeWarning,
    TopK,
    bits_per_round,
    contraction_ratio,
    copy_state,
    econtrol,
    ef14,
    ef21,
    ef21w,
    gd,
    initial_bits,
    randk_error_closed_form,
    randk_expected_error,
    run,
)

SETTINGS = {"deadline": None, "derandomize": True}


class LeastSquares:
    """f_i(x) = ‖A_i x − b_i‖²/(2N), client rows scaled by √s_i; L_i = λ_max(A_iᵀA_i)/N."""

    def __init__(self, n: int = 5, N: int = 8, d: int = 6, seed: int = 0, scales=None):
        rng = np.random.default_rng(seed)
        self.A = rng.standard_normal((n, N, d))
        if scales is not None:
            self.A *= np.sqrt(np.asarray(scales, dtype=float))[:, None, None]
        self.b = rng.standard_normal((n, N))
        self.n_clients, self.dim, self.N = n, d, N
        self.smoothness = np.array([np.linalg.eigvalsh(a.T @ a / N)[-1] for a in self.A])
        hess = np.einsum("ijk,ijl->kl", self.A, self.A) / (n * N)
        self.L = float(np.linalg.eigvalsh(hess)[-1])
        self.f_low = 0.0

    def client_grads(self, x):
        r = self.A @ x - self.b
        return np.einsum("ij,ijk->ik", r, self.A) / self.N

    def loss(self, x):
        r = self.A @ x - self.b
        return float((r**2).sum() / (2 * self.N * self.n_clients))

    def grad(self, x):
        return self.client_grads(x).mean(axis=0)


def _rows(rng: np.random.Generator, n: int, d: int, kind: str) -> np.ndarray:
    """Rows that are normal, sparse, tied (few integer values), constant in magnitude, or zero."""
    if kind == "normal":
        return rng.standard_normal((n, d))
    if kind == "sparse":
        return rng.standard_normal((n, d)) * (rng.random((n, d)) < 0.2)
    if kind == "tied":
        return rng.integers(-2, 3, size=(n, d)).astype(float)
    if kind == "equal":
        return rng.choice([-1.5, 1.5], size=(n, d))
    return np.zeros((n, d))


KINDS = st.sampled_from(["normal", "sparse", "tied", "equal", "zero"])


# ---------------------------------------------------------------------------------------------
# compressors


@settings(max_examples=40, **SETTINGS)
@given(d=st.integers(1, 40), kfrac=st.floats(0, 1), kind=KINDS, seed=st.integers(0, 2**16))
def test_topk_contracts_every_vector(d, kfrac, kind, seed):
    k = 1 + int(kfrac * (d - 1))
    V = _rows(np.random.default_rng(seed), 7, d, kind)
    C = TopK(k).compress(V)
    ratio = contraction_ratio(TopK(k), V)
    assert np.all(ratio <= 1 - TopK(k).alpha(d) + 1e-12)
    assert np.all(ratio[~V.any(axis=1)] == 0)
    kept = C != 0
    assert np.all(C[kept] == V[kept]) and np.all(kept.sum(axis=1) <= k)
    # every kept magnitude is at least every dropped one
    for v, c in zip(V, C, strict=True):
        if (c == 0).any() and (c != 0).any():
            assert np.abs(c[c != 0]).min() >= np.abs(v[c == 0]).max()


@settings(max_examples=40, **SETTINGS)
@given(d=st.integers(1, 60), k=st.integers(1, 60), kind=KINDS, seed=st.integers(0, 2**16),
       nan=st.booleans())
def test_topk_numba_equals_xp_path_with_ties(d, k, kind, seed, nan):
    k = min(k, d)
    rng = np.random.default_rng(seed)
    V = _rows(rng, 9, d, kind)
    if nan:
        V[rng.random(V.shape) < 0.1] = np.nan
    a = TopK(k).compress(V, backend="numba")
    b = TopK(k).compress(V, backend="xp")
    assert np.array_equal(a, b, equal_nan=True)
    assert np.array_equal(TopK(k).compress(V[0]), b[0], equal_nan=True)  # one vector in, one out


def test_topk_ties_go_to_the_lowest_index():
    v = np.array([1.0, -3.0, 3.0, 2.0, -3.0])
    assert np.array_equal(TopK(1).compress(v), [0, -3.0, 0, 0, 0])
    assert np.array_equal(TopK(2).compress(v), [0, -3.0, 3.0, 0, 0])
    assert np.array_equal(TopK(3).compress(v), [0, -3.0, 3.0, 0, -3.0])
    assert TopK(1).deterministic and TopK(2).name == "Top2" and TopK(4).alpha(8) == 0.5


@settings(max_examples=25, **SETTINGS)
@given(d=st.integers(1, 9), kfrac=st.floats(0, 1), seed=st.integers(0, 2**16), scaled=st.booleans())
def test_randk_enumeration_equals_closed_form(d, kfrac, seed, scaled):
    k = 1 + int(kfrac * (d - 1))
    v = np.random.default_rng(seed).standard_normal(d)
    exact = randk_expected_error(v, k, scaled=scaled)
    # the closed forms written out, not through the library
    closed = ((d / k - 1) if scaled else (1 - k / d)) * float(v @ v)
    assert math.isclose(exact, closed, rel_tol=1e-12, abs_tol=1e-14)
    assert math.isclose(randk_error_closed_form(v, k, scaled=scaled), closed, rel_tol=1e-15, abs_tol=1e-15)


def test_randk_enumeration_by_brute_force_and_limit():
    v = np.array([1.0, -2.0, 0.5, 3.0])
    brute = np.mean([sum(v[j] ** 2 for j in range(4) if j not in S) for S in itertools.combinations(range(4), 2)])
    assert math.isclose(randk_expected_error(v, 2), brute, rel_tol=1e-15)
    with pytest.raises(ValueError, match="enumeration limit"):
        randk_expected_error(np.ones(40), 20)  # C(40, 20) ≈ 1.4e11


@pytest.mark.parametrize("scaled,k", [(False, 10), (True, 150)])
def test_randk_monte_carlo_mean_within_margin(scaled, k):
    d, draws = 200, 4000
    rng = np.random.default_rng(7)
    v = rng.standard_normal(d)
    V = np.repeat(v[None, :], draws, axis=0)
    C = RandK(k, scaled=scaled).compress(V, rng)
    assert np.all((C != 0).sum(axis=1) == k)  # exactly k entries per row (v has no zeros)
    errs = ((C - V) ** 2).sum(axis=1)
    margin = 5 * errs.std(ddof=1) / math.sqrt(draws)  # 5 standard errors
    assert abs(errs.mean() - randk_error_closed_form(v, k, scaled=scaled)) <= margin
    freq = (C != 0).mean(axis=0)  # every coordinate kept with probability k/d
    assert np.all(np.abs(freq - k / d) <= 5 * math.sqrt(k / d * (1 - k / d) / draws))
    if scaled:
        assert np.allclose(C[C != 0], (d / k) * V[C != 0], rtol=1e-15)


def test_randk_alpha_and_scaled_limit():
    assert RandK(3).alpha(12) == 0.25 and not RandK(3).deterministic
    assert RandK(8, scaled=True).alpha(12) == pytest.approx(2 - 12 / 8)
    for k, d in [(6, 12), (1, 12), (3, 7)]:
        with pytest.raises(ValueError, match=re.escape("scaled RandK is not contractive for k <= d/2")):
            RandK(k, scaled=True).alpha(d)
    assert RandK(2).name == "Rand2" and RandK(7, scaled=True).name == "Rand7-scaled"
    with pytest.raises(ValueError, match="rng"):
        RandK(2).compress(np.ones(5))
    rng = np.random.default_rng(3)
    keys = np.random.default_rng(3).random((4, 6))  # RandK keeps the k smallest uniform keys per row
    C = RandK(2).compress(np.arange(1.0, 25.0).reshape(4, 6), rng)
    assert np.array_equal(C != 0, keys <= np.sort(keys, axis=1)[:, 1:2])


def test_identity_and_user_subclass():
    v = np.array([1.0, -2.0, 3.0])
    out = Identity().compress(v)
    assert np.array_equal(out, v) and out is not v
    assert Identity().alpha(3) == 1.0 and Identity().values_sent(3) == 3 and Identity().name == "Identity"

    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Half(Compressor):  # keeps the first k entries: deterministic, but not contractive in general
        def alpha(self, d):
            return self.k / self.check_dim(d)

        def compress(self, V, rng=None):
            out = np.zeros_like(V)
            out[..., : self.k] = V[..., : self.k]
            return out

    assert Half(2).name == "Half2" and Half(2).values_sent(5) == 2 and not Half(2).deterministic
    assert np.allclose(contraction_ratio(Half(1), np.array([[3.0, 4.0]])), [16 / 25])
    with pytest.raises(TypeError):
        Compressor(1)  # abstract


def test_compressor_validation_names_k():
    for bad in (0, -1):
        with pytest.raises(ValueError, match="k"):
            TopK(bad)
        with pytest.raises(ValueError, match="k"):
            RandK(bad)
    with pytest.raises(TypeError, match="k"):
        TopK(1.5)
    with pytest.raises(ValueError, match=r"k must be in \[1, d\]"):
        TopK(5).compress(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"k must be in \[1, d\]"):
        TopK(5).alpha(3)
    with pytest.raises(ValueError, match=r"k must be in \[1, d\]"):
        RandK(4).compress(np.ones(3), 0)
    with pytest.raises(ValueError, match="V must be"):
        TopK(1).compress(np.ones((2, 2, 2)))
    with pytest.raises(TypeError, match="scaled"):
        RandK(1, scaled=1)


# ---------------------------------------------------------------------------------------------
# methods: fused kernel == array path == per-client loop

COMPRESSORS = {
    "top1": lambda d: TopK(1),
    "top3": lambda d: TopK(min(3, d)),
    "topd": lambda d: TopK(d),
    "identity": lambda d: Identity(),
    "rand2": lambda d: RandK(min(2, d)),
    "rand_scaled": lambda d: RandK(d, scaled=True),
}
METHODS = {
    "ef21": lambda c, L: ef21(c),
    "ef21_zero": lambda c, L: ef21(c, init="zero"),
    "ef21w": lambda c, L: ef21w(c, L),
    "ef14": lambda c, L: ef14(c),
    "econtrol": lambda c, L: econtrol(c, 0.3),
    "econtrol_zero": lambda c, L: econtrol(c, 0.05, init="zero"),
}


def _assert_states(a, b, exact: bool):
    for name, x, y in zip(a._fields, a, b, strict=True):
        if name == "err" or not exact:
            assert np.allclose(x, y, rtol=1e-12, atol=1e-13), name
        else:
            assert np.array_equal(x, y), name


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("comp", COMPRESSORS)
@settings(max_examples=4, **SETTINGS)
@given(n=st.integers(1, 7), d=st.integers(1, 12), seed=st.integers(0, 2**16), tied=st.booleans())
def test_update_paths_agree(method, comp, n, d, seed, tied):
    rng = np.random.default_rng(seed)
    data = rng.integers(-2, 3, size=(4, n, d)).astype(float) if tied else rng.standard_normal((4, n, d))
    L = rng.uniform(0.5, 5.0, n)
    m = METHODS[method](COMPRESSORS[comp](d), L)
    fused_ok = comp in ("top1", "top3", "topd", "identity")
    states = {}
    for path in ("fused", "xp", "loop"):
        r = np.random.default_rng(seed + 1)
        backend = "xp" if path == "xp" else "auto"
        s = m.init(data[0], 0.1, r, backend=backend)
        for grads in data[1:]:
            if path == "loop":
                s = m.update_per_client(s, grads, 0.1, r)
            else:
                s = m.update(s, grads, 0.1, r, backend=backend)
        states[path] = copy_state(s)
    # same generator, same subsets: fused (or auto) and loop do the same arithmetic in the same order
    _assert_states(states["fused"], states["loop"], exact=fused_ok)
    _assert_states(states["fused"], states["xp"], exact=False)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", ["normal", "sparse", "tied", "equal"])
@pytest.mark.parametrize("k", [1, 2, 16, 17])
@settings(max_examples=2, **SETTINGS)
@given(d=st.integers(257, 800), seed=st.integers(0, 2**16))
def test_fused_matches_the_loop_on_rows_of_several_blocks(method, kind, k, d, seed):
    """Rows longer than the Top1 kernels' 256-entry blocks (the leader in any block, ties across blocks),
    and k on both sides of the one-pass small-k selection (k ≤ 16)."""
    rng = np.random.default_rng(seed)
    m = METHODS[method](TopK(k), rng.uniform(0.5, 5.0, 3))
    states = {}
    for path in ("fused", "loop"):
        s = m.init(_rows(np.random.default_rng(seed), 3, d, kind), 0.1)  # u = a difference of such rows
        for t in range(2):
            grads = _rows(np.random.default_rng(seed + t + 1), 3, d, kind)
            s = m.update(s, grads, 0.1) if path == "fused" else m.update_per_client(s, grads, 0.1)
        states[path] = copy_state(s)
    _assert_states(states["fused"], states["loop"], exact=True)


@pytest.mark.parametrize("method", ["ef21", "ef14", "econtrol"])
def test_fused_top1_ties_across_blocks_and_a_dominant_entry(method):
    d = 700
    U = np.full((3, d), 1e-3)
    U[0, [600, 300, 257]] = [-5.0, 5.0, -5.0]  # tied leaders in the 2nd and 3rd block: the lowest index
    U[1, 1] = 1e8  # ‖u − c‖² ≈ 7e-4 next to ‖u‖² ≈ 1e16: a total minus the kept square would give 0
    U[2, [0, 255, 256, 699]] = [2.0, -3.0, 3.0, 3.0]  # ties at a block boundary
    m = METHODS[method](TopK(1), None)
    s = m.init(np.zeros((3, d)), 1.0)
    s = m.update(s, U, 1.0)
    kept = {"ef21": lambda: s.g, "ef14": lambda: U - s.e, "econtrol": lambda: s.h}[method]()
    assert [int(np.flatnonzero(row)[0]) for row in kept] == [257, 1, 255]
    assert np.count_nonzero(kept) == 3 and kept[0, 257] == -5.0 and kept[1, 1] == 1e8
    rest = np.array([np.sum(np.delete(U[i], j) ** 2) for i, j in enumerate([257, 1, 255])])
    assert np.allclose(s.err, rest, rtol=1e-12, atol=0)


@pytest.mark.parametrize("method", ["ef21", "ef14", "econtrol"])
def test_fused_top1_ranks_nan_below_every_number(method):
    """A nan never wins over a number (as in numpy's sort), an all-nan row keeps its first entry, and the
    estimator error of a row holding a nan is nan (the run reports divergence from it)."""
    rng = np.random.default_rng(3)
    d = 600
    U = rng.standard_normal((4, d))
    U[0, [5, 300, 599]] = np.nan
    U[1] = np.nan
    U[2, [10, 400]] = [np.nan, -np.inf]
    expected = TopK(1).compress(U, backend="xp")  # stable argsort of −|u|: nan last
    assert np.array_equal(TopK(1).compress(U, backend="numba"), expected, equal_nan=True)
    m = METHODS[method](TopK(1), None)
    s = m.update(m.init(np.zeros((4, d)), 1.0), U, 1.0)
    kept = s.g if method == "ef21" else getattr(s, "h", None)
    if kept is None:  # EF14 leaves u − c in e: u except at the kept entry, u − u (nan for u = ±inf or nan)
        changed = ~((s.e == U) | (np.isnan(s.e) & np.isnan(U)))
        kept = np.where(changed, U, 0.0)
        kept[1, 0] = np.nan  # the all-nan row: e = u − c is nan everywhere
    assert np.array_equal(kept, expected, equal_nan=True)
    assert np.isnan(s.err[:3]).all() and np.isfinite(s.err[3])


def test_fused_kernel_runs_only_where_it_can():
    m = ef21(RandK(1))
    s = m.init(np.ones((2, 3)))
    with pytest.raises(ValueError, match="backend='numba' needs numpy arrays and a TopK or Identity"):
        m.update(s, np.ones((2, 3)), 0.1, np.random.default_rng(0), backend="numba")
    with pytest.raises(ValueError, match="rng is required"):
        m.update(s, np.ones((2, 3)), 0.1)


def test_update_is_in_place_and_copy_state_keeps_the_old_state():
    m = ef21(TopK(1))
    s0 = m.init(np.zeros((3, 4)))
    kept = copy_state(s0)
    s1 = m.update(s0, np.ones((3, 4)), 0.1)
    assert s1.g is s0.g and not np.array_equal(kept.g, s1.g)
    assert np.array_equal(kept.g, np.zeros((3, 4)))


# ---------------------------------------------------------------------------------------------
# run: reductions, estimator errors, stops


def _x0(p, seed=0):
    return np.random.default_rng(seed).standard_normal(p.dim)


@pytest.mark.parametrize("comp", [Identity(), TopK(6)])
def test_ef21_with_k_equal_d_is_gd(comp):
    p = LeastSquares()
    gamma = 1 / p.L
    a = run(p, gd(), gamma, 60, x0=_x0(p))
    b = run(p, ef21(comp), gamma, 60, x0=_x0(p))
    assert a.rounds == b.rounds == 60
    assert np.allclose(b.x, a.x, rtol=1e-12, atol=1e-14)
    # ‖∇f‖ agrees to round-off of the client gradients (O(1) each, though their mean vanishes)
    assert np.allclose(np.sqrt(b.grad_sq), np.sqrt(a.grad_sq), rtol=1e-10, atol=1e-13)
    assert a.grad_sq[-1] < 1e-20 * a.grad_sq[0]  # GD converged: the comparison covers the whole run
    assert np.allclose(b.loss, a.loss, rtol=1e-12)
    assert np.all(b.G <= 1e-24) and np.all(np.isnan(a.G))


def test_econtrol_with_eta_zero_is_ef21_claim9():
    p = LeastSquares(n=6, d=8, seed=2)
    for comp in (TopK(1), TopK(3)):
        a = run(p, ef21(comp), 0.05, 150, x0=_x0(p))
        b = run(p, econtrol(comp, 0.0), 0.05, 150, x0=_x0(p))
        assert np.array_equal(a.x, b.x) and np.array_equal(a.grad_sq, b.grad_sq)
        assert np.allclose(a.G, b.G, rtol=1e-12, atol=1e-300)
        c = run(p, econtrol(comp, 0.1), 0.05, 150, x0=_x0(p))  # η > 0 is a different method
        assert not np.array_equal(a.x, c.x)


def test_ef21w_equals_ef21():
    # equal L_i: EF21-W is EF21
    p = LeastSquares(n=4, d=5, seed=3)
    L = np.full(4, 2.5)
    a = run(p, ef21(TopK(1)), 0.05, 100, x0=_x0(p))
    b = run(p, ef21w(TopK(1), L), 0.05, 100, x0=_x0(p))
    assert np.allclose(a.x, b.x, rtol=1e-12) and np.allclose(a.G, b.G, rtol=1e-10, atol=1e-300)
    # unequal L_i: TopK(s·u) = s·TopK(u) for s > 0, so g_i^W = g_i/(n w_i) and the iterates are still
    # EF21's, with G_W = Σ w_i (L_AM/L_i)²‖g_i − ∇f_i‖² = G̃
    p = LeastSquares(n=5, d=6, seed=4, scales=[1, 1, 1, 1, 50])
    a = run(p, ef21(TopK(2)), 0.01, 100, x0=_x0(p))
    b = run(p, ef21w(TopK(2), p.smoothness), 0.01, 100, x0=_x0(p))
    assert np.allclose(a.x, b.x, rtol=1e-10)
    assert np.allclose(b.G, a.G_tilde, rtol=1e-8, atol=1e-300) and np.all(np.isnan(b.G_tilde))
    assert not np.allclose(a.G[1:], a.G_tilde[1:], rtol=1e-3)  # G̃ is a different weighting


@pytest.mark.parametrize("init", ["gradient", "zero"])
def test_estimator_errors_match_their_definitions(init):
    p = LeastSquares(n=4, d=5, seed=5, scales=[1, 3, 1, 10])
    x0, gamma, T = _x0(p), 0.02, 12
    L = p.smoothness
    LAM, w = L.mean(), L / L.sum()
    for m in (ef21(TopK(1), init=init), ef21w(TopK(1), L, init=init)):
        tr = run(p, m, gamma, T, x0=x0)
        x, state = x0.copy(), m.init(p.client_grads(x0))
        for t in range(T + 1):
            if t:
                x = x - gamma * state.g_mean
                state = m.update_per_client(state, p.client_grads(x), gamma)
            grads = p.client_grads(x)
            if m.kind == "ef21":
                res = ((state.g - grads) ** 2).sum(axis=1)
                assert math.isclose(tr.G[t], res.mean(), rel_tol=1e-9, abs_tol=1e-300)
                assert math.isclose(tr.G_tilde[t], (LAM / L * res).mean(), rel_tol=1e-9, abs_tol=1e-300)
            else:
                res = ((state.g - grads * (LAM / L)[:, None]) ** 2).sum(axis=1)
                assert math.isclose(tr.G[t], w @ res, rel_tol=1e-9, abs_tol=1e-300)
            assert math.isclose(tr.grad_sq[t], float(grads.mean(0) @ grads.mean(0)), rel_tol=1e-12)
            assert math.isclose(tr.loss[t], p.loss(x), rel_tol=1e-12)
    # G^0: 0 for g_i^0 = ∇f_i(x^0), (1/n)Σ‖∇f_i(x^0)‖² for g_i^0 = 0
    tr = run(p, ef21(TopK(1), init=init), gamma, 1, x0=x0)
    expected = 0.0 if init == "gradient" else float((p.client_grads(x0) ** 2).sum(axis=1).mean())
    assert math.isclose(tr.G[0], expected, rel_tol=1e-12)


def test_ef14_and_econtrol_round_order():
    """EF14 steps by the mean message of C(e + γ∇f(x^t)); EControl by h^{t+1} (spec §3)."""
    p = LeastSquares(n=3, d=4, seed=6)
    x0, gamma = _x0(p), 0.05
    tr = run(p, ef14(TopK(1)), gamma, 3, x0=x0)
    x, e = x0.copy(), np.zeros((3, 4))
    for t in range(4):
        u = e + gamma * p.client_grads(x)
        v = TopK(1).compress(u)
        e = u - v
        assert math.isclose(tr.G[t], ((e / gamma) ** 2).sum(axis=1).mean(), rel_tol=1e-12)  # ‖e^{t+1}‖²/γ²
        if t < 3:
            x = x - v.mean(axis=0)
    assert np.allclose(tr.x, x, rtol=1e-13)
    eta = 0.2
    tr = run(p, econtrol(TopK(1), eta), gamma, 3, x0=x0)
    x, e = x0.copy(), np.zeros((3, 4))
    h = p.client_grads(x0)
    hbar = h.mean(axis=0)
    for t in range(3):
        g = p.client_grads(x)
        delta = TopK(1).compress(eta * e + g - h)
        e, h = e + g - h - delta, h + delta
        assert math.isclose(tr.G[t], ((h - g) ** 2).sum(axis=1).mean(), rel_tol=1e-12, abs_tol=1e-300)
        x, hbar = x - gamma * (hbar + delta.mean(axis=0)), hbar + delta.mean(axis=0)
    assert np.allclose(tr.x, x, rtol=1e-13)


def test_bits_closed_forms():
    d = 20
    top1 = ef21(TopK(1))
    assert bits_per_round(top1, d, "values") == 32
    assert bits_per_round(top1, d, "indices") == 37  # 32 + ⌈log₂ 20⌉ = 32 + 5
    assert bits_per_round(ef21(TopK(3)), 1000, "indices") == 3 * (32 + 10)
    assert bits_per_round(ef21(TopK(2)), 1024, "indices") == 2 * 42 and bits_per_round(ef21(TopK(2)), 1025,
                                                                                            "indices") == 2 * 43
    assert bits_per_round(gd(), d, "values") == bits_per_round(gd(), d, "indices") == 640
    assert bits_per_round(ef21(Identity()), d, "indices") == 640  # a dense message needs no positions
    assert initial_bits(top1, d, "indices") == 640 and initial_bits(top1, d, "values") == 0
    assert initial_bits(ef21(TopK(1), init="zero"), d, "indices") == 0
    assert initial_bits(econtrol(TopK(1), 0.0), d, "indices") == 640
    assert initial_bits(ef21w(TopK(1), np.ones(3)), d, "indices") == 640
    assert initial_bits(gd(), d, "indices") == initial_bits(ef14(TopK(1)), d, "indices") == 0
    p = LeastSquares(n=3, N=30, d=20, seed=1)
    tr = run(p, top1, 0.01, 7, x0=_x0(p))
    assert np.array_equal(tr.bits_values, 32.0 * np.arange(8))
    assert np.array_equal(tr.bits_indices, 640 + 37.0 * np.arange(8))
    with pytest.raises(ValueError, match="convention"):
        bits_per_round(top1, d, "both")


def test_divergence_stops_and_records_no_nan():
    p = LeastSquares()
    for m in (gd(), ef21(TopK(2))):
        tr = run(p, m, 1e3 / p.L, 500, x0=_x0(p))
        assert tr.diverged and tr.status == "diverged" and 0 < tr.rounds < 500
        assert tr.grad_sq.shape == (tr.rounds + 1,) and np.all(np.isfinite(tr.grad_sq))
        assert np.all(np.isfinite(tr.loss)) and np.all(np.isfinite(tr.x))
        assert tr.grad_sq[-1] <= 1e30 * tr.grad_sq[0]
    tr = run(p, gd(), 1 / p.L, 30, x0=_x0(p))
    assert tr.status == "horizon" and not tr.diverged and tr.rounds == 30


def test_tol_stops_at_the_target():
    p = LeastSquares()
    tr = run(p, gd(), 1 / p.L, 10_000, x0=_x0(p), tol=1e-8)
    assert tr.status == "target" and tr.rounds < 10_000
    assert tr.grad_sq[-1] <= 1e-8 * tr.grad_sq[0] < tr.grad_sq[-2]


def test_same_seed_same_bits_with_randk():
    p = LeastSquares()
    a = run(p, ef21(RandK(2)), 0.05, 50, x0=_x0(p), rng=11)
    b = run(p, ef21(RandK(2)), 0.05, 50, x0=_x0(p), rng=np.random.default_rng(11))
    c = run(p, ef21(RandK(2)), 0.05, 50, x0=_x0(p), rng=12)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.G, b.G) and not np.array_equal(a.x, c.x)


def test_step_size_warning():
    p = LeastSquares()
    with pytest.warns(StepSizeWarning, match="gamma"):
        run(p, ef21(TopK(1)), 0.2, 2, x0=_x0(p), theorem_step=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run(p, ef21(TopK(1)), 0.1, 2, x0=_x0(p), theorem_step=0.1)


def test_bad_input_names_the_argument():
    p = LeastSquares()
    x0 = _x0(p)
    m = ef21(TopK(1))
    assert isinstance(p, Problem)
    cases = [
        (dict(gamma=0.0), ValueError, "gamma"),
        (dict(gamma=-1.0), ValueError, "gamma"),
        (dict(T=0), ValueError, "T"),
        (dict(T=2.5), TypeError, "T"),
        (dict(x0=np.r_[x0[:-1], np.nan]), ValueError, "x0"),
        (dict(x0=x0[:-1]), ValueError, "x0"),
        (dict(tol=0.0), ValueError, "tol"),
        (dict(theorem_step=-1.0), ValueError, "theorem_step"),
        (dict(method=ef21(TopK(7))), ValueError, "k must be in"),
        (dict(method=ef21(RandK(2))), ValueError, "rng"),
        (dict(method=ef21w(TopK(1), np.ones(3))), ValueError, "smoothness"),
        (dict(problem=object()), TypeError, "problem"),
        (dict(method="ef21"), TypeError, "method"),
    ]
    for kw, err, name in cases:
        args = dict(problem=p, method=m, gamma=0.1, T=3, x0=x0) | kw
        with pytest.raises(err, match=name):
            run(args.pop("problem"), args.pop("method"), args.pop("gamma"), args.pop("T"), **args)
    with pytest.raises(ValueError, match="eta"):
        econtrol(TopK(1), -0.1)
    with pytest.raises(ValueError, match="init"):
        ef21(TopK(1), init="random")
    with pytest.raises(TypeError, match="compressor"):
        ef21("top1")
    with pytest.raises(ValueError, match="smoothness"):
        ef21w(TopK(1), [1.0, 0.0])
    with pytest.raises(ValueError, match="gamma"):
        ef14(TopK(1)).init(np.ones((2, 3)))
    with pytest.raises(ValueError, match="scaled RandK is not contractive"):
        ef21(RandK(2, scaled=True)).init(np.ones((2, 4)), rng=0)
    with pytest.raises(ValueError, match="grads0"):
        ef21(TopK(1)).init(np.full((2, 3), np.inf))
    with pytest.raises(ValueError, match="grads"):
        m.update(m.init(np.ones((2, 3))), np.ones((3, 3)), 0.1)


@settings(max_examples=6, **SETTINGS)
@given(seed=st.integers(0, 2**16), k=st.integers(1, 3), spike=st.sampled_from([1.0, 30.0]),
       init=st.sampled_from(["gradient", "zero"]))
def test_lyapunov_descent_at_the_theory_steps(seed, k, spike, init):
    """End to end (round order, G bookkeeping): Ψ^t = f(x^t) − f_low + (γ/(2θ))E^t decreases by at least
    (γ/2)‖∇f(x^t)‖² every round (claims 4–6) for (EF21, γ_QM, G), (EF21-W, γ_AM, G_W), (EF21, γ_AM, G̃)."""
    d = 8
    p = LeastSquares(n=6, N=10, d=d, seed=seed, scales=[1, 1, 1, 1, 1, spike])
    L = p.smoothness
    L_AM, L_QM = L.mean(), math.sqrt((L**2).mean())
    alpha = k / d
    theta = 1 - math.sqrt(1 - alpha)
    xi = math.sqrt((1 - alpha) / theta**2)  # √(β/θ), β = (1 − α)/θ
    runs = [(ef21(TopK(k), init=init), 1 / (p.L + L_QM * xi), "G"),
            (ef21w(TopK(k), L, init=init), 1 / (p.L + L_AM * xi), "G"),
            (ef21(TopK(k), init=init), 1 / (p.L + L_AM * xi), "G_tilde")]
    for m, gamma, err in runs:
        tr = run(p, m, gamma, 200, x0=_x0(p, seed))
        psi = tr.loss - p.f_low + gamma / (2 * theta) * getattr(tr, err)
        assert np.all(psi[1:] <= psi[:-1] - gamma / 2 * tr.grad_sq[:-1] + 1e-12 * psi[:-1])
