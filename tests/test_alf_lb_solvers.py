"""Tests of the load-balancing solvers (solvers.alf_lb: routing, bias rules, online kernel, LP, aux loss).

Covers backend agreement (numba kernels vs numpy references, exact on loads and experts), the stable
(−value, index) order of biased top-K, the bias never entering the gate weights, the sign rule's integer
lattice and the gradient rule's schedules, causality and continuation of the online kernel, the
assignment LP against brute force and ``linear_sum_assignment`` with the identities of its dual
D(p) (spec alf_lb.md §2, §6), the auxiliary loss against finite differences, and input validation
(every error names its argument).
"""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from solvers.alf_lb import (
    BiasState,
    aux_balance_loss,
    constant,
    dual_subgradient,
    dual_value,
    gradient_rule,
    init,
    inverse_sqrt,
    inverse_t,
    route,
    run_online,
    run_online_numpy,
    sign_rule,
    softmax,
    solve_assignment_lp,
    update,
    update_numpy,
)

SETTINGS = {"deadline": None, "derandomize": True}
DTYPES = (np.float32, np.float64)

# One factory per kind of bias rule, each taking E: sign (plain, centred, frozen) and gradient (every
# schedule, both units, centred, frozen, projected).
RULES = {
    "sign": lambda E: sign_rule(E, 0.01),
    "sign_center": lambda E: sign_rule(E, 0.01, center=True),
    "sign_freeze": lambda E: sign_rule(E, 0.01, freeze_after=3),
    "grad_const": lambda E: gradient_rule(E, constant(0.05)),
    "grad_count": lambda E: gradient_rule(E, constant(1e-3), units="count"),
    "grad_inv_t": lambda E: gradient_rule(E, inverse_t(1.0, 1.0 / E)),
    "grad_inv_sqrt_center": lambda E: gradient_rule(E, inverse_sqrt(0.1), center=True),
    "grad_freeze": lambda E: gradient_rule(E, constant(0.05), freeze_after=2),
    "grad_proj": lambda E: gradient_rule(E, inverse_t(2.0, 1.0 / E), center=True, radius=0.05,
                                         anchor=np.linspace(-0.01, 0.01, E)),
}
SIGN_RULES = ("sign", "sign_center", "sign_freeze")


# ---------------------------------------------------------------------------------------------
# helpers


def _scores(rng: np.random.Generator, n: int, E: int, kind: str, dtype=np.float64) -> np.ndarray:
    """Scores with continuous values, integer values (many ties), equal rows, or a mix of both."""
    if kind == "normal":
        s = rng.standard_normal((n, E))
    elif kind == "int":
        s = rng.integers(0, 3, size=(n, E)).astype(float)
    elif kind == "equal":
        s = np.repeat(rng.standard_normal((n, 1)), E, axis=1)
    else:  # mixed: half the rows tied
        s = rng.standard_normal((n, E))
        s[::2] = rng.integers(0, 2, size=s[::2].shape)
    return s.astype(dtype)


def _brute_topk(scores: np.ndarray, bias: np.ndarray, K: int) -> np.ndarray:
    """Top-K by a plain sort of (−(s + b), index) per token, in the scores' precision."""
    biased = scores + bias.astype(scores.dtype)
    return np.array([sorted(range(scores.shape[1]), key=lambda i, v=row: (-v[i], i))[:K] for row in biased],
                    dtype=np.int64).reshape(scores.shape[0], K)


def _loads(rng: np.random.Generator, n: int, E: int, K: int) -> np.ndarray:
    """Loads of a genuine routing (each ≤ n, summing to K·n), from random scores."""
    return route(rng.standard_normal((n, E)), K).loads


def _brute_lp(scores: np.ndarray, K: int, C: int, tight: bool) -> float:
    """OPT of the assignment LP by enumerating every choice of a K-subset per token."""
    n, E = scores.shape
    subsets = np.array([[i in c for i in range(E)] for c in itertools.combinations(range(E), K)], dtype=np.int64)
    per_token = scores @ subsets.T  # (n, S): the value of each subset for each token
    choice = np.array(list(itertools.product(range(len(subsets)), repeat=n)), dtype=np.int64)  # (M, n)
    loads = subsets[choice].sum(axis=1)
    ok = np.all(loads == C, axis=1) if tight else np.all(loads <= C, axis=1)
    values = per_token[np.arange(n), choice].sum(axis=1)
    return float(values[ok].max())


def _dual_brute(scores: np.ndarray, K: int, p: np.ndarray, C: int) -> float:
    """D(p) = Σ_j topKsum(s_j − p) + C Σ p by a full sort."""
    return float(np.sort(scores - p, axis=1)[:, scores.shape[1] - K:].sum() + C * p.sum())


def _names(name: str) -> str:
    """A pattern for an error message that starts by naming the argument ``name``."""
    return rf"^{re.escape(name)}\b"


# ---------------------------------------------------------------------------------------------
# routing


@settings(max_examples=60, **SETTINGS)
@given(n=st.integers(1, 40), E=st.integers(1, 70), data=st.data(), dtype=st.sampled_from(DTYPES),
       kind=st.sampled_from(["normal", "int", "equal", "mixed"]), biased=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_route_backends_agree_and_order_is_stable(n, E, data, dtype, kind, biased, seed):
    K = data.draw(st.integers(1, E), label="K")
    rng = np.random.default_rng(seed)
    s = _scores(rng, n, E, kind, dtype)
    # integer-valued biases keep ties among the biased scores of integer-valued scores
    b = (rng.integers(-1, 2, E) if kind in ("int", "mixed") else rng.standard_normal(E)) if biased else None
    fast, ref = route(s, K, b, backend="numba"), route(s, K, b, backend="numpy")
    np.testing.assert_array_equal(fast.experts, ref.experts)
    np.testing.assert_array_equal(fast.scores, ref.scores)
    np.testing.assert_array_equal(fast.loads, ref.loads)
    np.testing.assert_array_equal(route(s, K, b).experts, fast.experts)  # "auto" is the kernel on numpy
    for r in (fast, ref):
        assert r.experts.dtype == np.int64 and r.loads.dtype == np.int64 and r.scores.dtype == dtype
        assert r.experts.shape == (n, K) and r.scores.shape == (n, K) and r.loads.shape == (E,)
        assert r.loads.sum() == K * n
    bias = np.zeros(E) if b is None else np.asarray(b, dtype=float)
    np.testing.assert_array_equal(fast.experts, _brute_topk(s, bias, K))
    np.testing.assert_array_equal(fast.scores, np.take_along_axis(s, fast.experts, axis=1))  # unbiased
    x = fast.assignment()
    assert x.dtype == np.int8 and set(np.unique(x)) <= {0, 1}
    np.testing.assert_array_equal(x.sum(axis=1), np.full(n, K))
    np.testing.assert_array_equal(x.sum(axis=0), fast.loads)
    np.testing.assert_array_equal(np.bincount(fast.experts.ravel(), minlength=E), fast.loads)
    np.testing.assert_array_equal(np.sort(np.flatnonzero(x[0])), np.sort(fast.experts[0]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_route_equal_rows_take_the_lowest_indices(dtype):
    s = np.full((5, 9), 0.5, dtype=dtype)
    for K in (1, 4, 9):
        for backend in ("numba", "numpy"):
            r = route(s, K, backend=backend)
            np.testing.assert_array_equal(r.experts, np.tile(np.arange(K), (5, 1)))
    # a constant shift of the bias changes nothing; a bias on one expert moves it first
    r = route(s, 2, np.full(9, 3.0))
    np.testing.assert_array_equal(r.experts, np.tile([0, 1], (5, 1)))
    b = np.zeros(9)
    b[7] = 1e-3
    np.testing.assert_array_equal(route(s, 2, b).experts, np.tile([7, 0], (5, 1)))


def test_route_many_blocks_and_layouts_agree():
    rng = np.random.default_rng(7)
    s = rng.standard_normal((5000, 16))  # several blocks of the parallel kernel
    b = 0.3 * rng.standard_normal(16)
    for arr in (s, np.asfortranarray(s), s.astype(np.float32)):
        fast, ref = route(arr, 3, b, backend="numba"), route(arr, 3, b, backend="numpy")
        np.testing.assert_array_equal(fast.experts, ref.experts)
        np.testing.assert_array_equal(fast.loads, ref.loads)
        assert fast.loads.sum() == 3 * 5000
    t = rng.standard_normal((16, 300)).T  # a non-contiguous view
    np.testing.assert_array_equal(route(t, 2, backend="numba").experts, route(t, 2, backend="numpy").experts)
    ints = rng.integers(-3, 4, size=(50, 6))  # integer input is routed as float64
    r = route(ints, 2)
    assert r.scores.dtype == np.float64
    np.testing.assert_array_equal(r.experts, route(ints.astype(float), 2, backend="numpy").experts)


@settings(max_examples=40, **SETTINGS)
@given(n=st.integers(1, 50), E=st.integers(2, 20), data=st.data(), dtype=st.sampled_from(DTYPES),
       seed=st.integers(0, 2**32 - 1))
def test_bias_never_enters_the_gate_weights(n, E, data, dtype, seed):
    K = data.draw(st.integers(1, E), label="K")
    rng = np.random.default_rng(seed)
    s = (1.0 / (1.0 + np.exp(-rng.standard_normal((n, E))))).astype(dtype)  # sigmoid affinities
    b = data.draw(st.sampled_from([0.01, 0.3, 3.0]), label="bias scale") * rng.standard_normal(E)
    dense = []
    for bias in (None, b, b + 5.0):
        r = route(s, K, bias)
        w = r.gate_weights()
        np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-6 if dtype == np.float32 else 1e-12)
        np.testing.assert_allclose(w, r.scores / r.scores.sum(axis=1, keepdims=True), rtol=4 * np.finfo(dtype).eps)
        W = np.zeros((n, E), dtype=w.dtype)
        np.put_along_axis(W, r.experts, w, axis=1)
        dense.append((r.assignment().astype(bool), W))
    (x0, W0), (xb, Wb), (xs, Ws) = dense
    same = np.all(x0 == xb, axis=1)  # tokens whose selected set the bias left unchanged
    # Σ_{k∈S_j} s_jk is summed in expert-index order, so the weights are bitwise identical even where
    # the bias reorders the selected set
    np.testing.assert_array_equal(Wb[same], W0[same])
    np.testing.assert_array_equal(xs, xb)  # b + c·1 selects the same sets ...
    np.testing.assert_array_equal(Ws, Wb)  # ... with the same weights
    assert np.all((W0 > 0) == x0)


def test_gate_weights_need_positive_sums():
    s = np.array([[0.2, 0.5, 0.1], [-0.4, 0.3, -0.5]])  # token 1 selects 0.3 and −0.4: sum −0.1
    for bad in (s, np.array([[0.2, 0.5, 0.1], [0.0, 0.0, 0.0]])):
        r = route(bad, 2)
        with pytest.raises(ValueError, match=_names("scores")):
            r.gate_weights()
    w = route(np.abs(s), 2).gate_weights()
    np.testing.assert_allclose(w.sum(axis=1), 1.0)


def test_route_float16_is_routed_or_rejected_by_name():
    s = np.random.default_rng(0).standard_normal((6, 5)).astype(np.float16)
    try:
        fast = route(s, 2, backend="numba")
    except (TypeError, ValueError) as err:
        assert "scores" in str(err)
    else:
        np.testing.assert_array_equal(fast.experts, route(s, 2, backend="numpy").experts)


# ---------------------------------------------------------------------------------------------
# bad input


S = np.random.default_rng(0).standard_normal((8, 4))


@pytest.mark.parametrize("call, exc, name", [
    (lambda: route(S[0], 2), ValueError, "scores"),
    (lambda: route(S[None], 2), ValueError, "scores"),
    (lambda: route(np.zeros((0, 4)), 2), ValueError, "scores"),
    (lambda: route(np.where(S > 1, np.nan, S), 2), ValueError, "scores"),
    (lambda: route(np.where(S > 1, np.inf, S), 2), ValueError, "scores"),
    (lambda: route(S + 1j, 2), TypeError, "scores"),
    (lambda: route(S, 0), ValueError, "K"),
    (lambda: route(S, 5), ValueError, "K"),
    (lambda: route(S, 2.0), TypeError, "K"),
    (lambda: route(S, True), TypeError, "K"),
    (lambda: route(S, 2, np.zeros(3)), ValueError, "bias"),
    (lambda: route(S, 2, np.zeros((4, 1))), ValueError, "bias"),
    (lambda: route(S, 2, np.array([0.0, np.nan, 0.0, 0.0])), ValueError, "bias"),
    (lambda: route(S, 2, np.array([0.0, np.inf, 0.0, 0.0])), ValueError, "bias"),
    (lambda: route(S, 2, backend="cuda"), ValueError, "backend"),
    (lambda: solve_assignment_lp(S, 2, capacity=3), ValueError, "capacity"),  # 4·3 < 2·8
    (lambda: solve_assignment_lp(S, 2, capacity=9), ValueError, "capacity"),  # > n
    (lambda: solve_assignment_lp(S[:7], 2), ValueError, "capacity"),  # K·n/E = 14/4
    (lambda: solve_assignment_lp(S, 2, capacity=4.0), TypeError, "capacity"),
    (lambda: solve_assignment_lp(S, 5), ValueError, "K"),
    (lambda: solve_assignment_lp(S[:, :1] * np.nan, 1), ValueError, "scores"),
    (lambda: dual_value(S, 2, np.zeros(3)), ValueError, "prices"),
    (lambda: dual_value(S, 2, np.array([0.0, np.nan, 0.0, 0.0])), ValueError, "prices"),
    (lambda: dual_subgradient(S, 2, np.zeros(5)), ValueError, "prices"),
    (lambda: dual_subgradient(S[:7], 2, np.zeros(4)), ValueError, "capacity"),
    (lambda: sign_rule(4, 0.0), ValueError, "u"),
    (lambda: sign_rule(4, -1e-3), ValueError, "u"),
    (lambda: sign_rule(4, math.nan), ValueError, "u"),
    (lambda: sign_rule(4, "1e-3"), TypeError, "u"),
    (lambda: sign_rule(0), ValueError, "E"),
    (lambda: sign_rule(4, freeze_after=-1), ValueError, "freeze_after"),
    (lambda: sign_rule(4, freeze_after=2.5), ValueError, "freeze_after"),
    (lambda: constant(0.0), ValueError, "eta"),
    (lambda: constant(-0.1), ValueError, "eta"),
    (lambda: inverse_t(0.0, 1.0), ValueError, "c"),
    (lambda: inverse_t(-1.0, 1.0), ValueError, "c"),
    (lambda: inverse_t(1.0, 0.0), ValueError, "mu"),
    (lambda: inverse_t(1.0, -2.0), ValueError, "mu"),
    (lambda: inverse_sqrt(0.0), ValueError, "eta0"),
    (lambda: gradient_rule(4, constant(0.1), units="tokens"), ValueError, "units"),
    (lambda: gradient_rule(4, 0.1), TypeError, "schedule"),
    (lambda: gradient_rule(4, constant(0.1), freeze_after=-3), ValueError, "freeze_after"),
    (lambda: gradient_rule(4, constant(0.1), radius=0.0), ValueError, "radius"),
    (lambda: gradient_rule(4, constant(0.1), radius=-1.0), ValueError, "radius"),
    (lambda: gradient_rule(4, constant(0.1), radius=1.0, anchor=np.zeros(3)), ValueError, "anchor"),
    (lambda: gradient_rule(4, constant(0.1), anchor=[0.0, np.inf, 0.0, 0.0]), ValueError, "anchor"),
    (lambda: init(sign_rule(4), np.ones(4)), ValueError, "bias"),
    (lambda: init(gradient_rule(4, constant(0.1)), np.ones(3)), ValueError, "bias"),
    (lambda: run_online(sign_rule(4), S, 2), ValueError, "scores"),
    (lambda: run_online(sign_rule(4), np.where(S > 1, np.nan, S)[None], 2), ValueError, "scores"),
    (lambda: run_online(sign_rule(4), S[None], 5), ValueError, "K"),
    (lambda: run_online(sign_rule(4), S[None], 2, BiasState(np.zeros(3), np.zeros(3, np.int64), 0)),
     ValueError, "state"),
    (lambda: run_online_numpy(sign_rule(4), S, 2), ValueError, "scores"),
    (lambda: run_online_numpy(sign_rule(4), S[None], 0), ValueError, "K"),
])
def test_bad_input_is_rejected_by_name(call, exc, name):
    with pytest.raises(exc, match=_names(name)):
        call()


@pytest.mark.parametrize("rule", ["sign", "grad_const", "grad_count"])
@pytest.mark.parametrize("loads", [
    np.array([4, 4, 4, 4]),  # wrong sum: K·n = 2·10 = 20
    np.array([5, 5, 5, 5, 0]),  # wrong shape
    np.array([[5, 5, 5, 5]]),  # wrong shape
    np.array([12, 10, -2, 0]),  # negative
    np.array([5.0, 5.0, 5.0, 5.0]),  # not integer counts
])
def test_update_rejects_bad_loads(rule, loads):
    r = RULES[rule](4)
    with pytest.raises(ValueError, match=_names("loads")):
        update(r, init(r), loads, 10, 2)


def test_update_rejects_empty_batch_by_name():
    r = RULES["grad_const"](4)
    with pytest.raises(ValueError, match=_names("n")):
        update(r, init(r), np.zeros(4, dtype=np.int64), 0, 2)


# ---------------------------------------------------------------------------------------------
# bias rules


def test_sign_step_by_hand_and_sign_of_zero():
    E, K, n, u = 4, 2, 4, 0.25  # mean load K·n/E = 2
    loads = np.array([2, 2, 3, 1])
    for step in (update, update_numpy):
        st1 = step(sign_rule(E, u), init(sign_rule(E, u)), loads, n, K)
        np.testing.assert_array_equal(st1.steps, [0, 0, -1, 1])  # sign(0) = 0 at the mean
        np.testing.assert_array_equal(st1.bias, [0.0, 0.0, -u, u])
        assert st1.t == 1
        centred = sign_rule(E, u, center=True)
        st2 = step(centred, init(centred), loads, n, K)
        np.testing.assert_array_equal(st2.steps, [0, 0, -4, 4])  # E·σ − Σσ with Σσ = 0
        np.testing.assert_array_equal(st2.bias, [0.0, 0.0, -u, u])
        st3 = step(centred, init(centred), np.array([1, 1, 1, 5]), n, K)  # σ = (1, 1, 1, −1), Σσ = 2
        np.testing.assert_array_equal(st3.steps, [2, 2, 2, -6])
        np.testing.assert_allclose(st3.bias, (u / E) * np.array([2, 2, 2, -6]), rtol=0, atol=0)
        balanced = step(sign_rule(E, u), init(sign_rule(E, u)), np.full(E, 2), n, K)
        np.testing.assert_array_equal(balanced.bias, np.zeros(E))


@pytest.mark.parametrize("units", ["fraction", "count"])
def test_gradient_step_by_hand(units):
    E, K, n = 4, 2, 10
    loads = np.array([8, 6, 4, 2])
    g = K / E - loads / n if units == "fraction" else K * n / E - loads
    for sched in (constant(0.3), inverse_t(2.0, 0.5), inverse_sqrt(0.2)):
        rule = gradient_rule(E, sched, units=units)
        state = init(rule)
        for t in (1, 2, 3):
            before = state.bias
            state = update(rule, state, loads, n, K)
            assert state.t == t
            np.testing.assert_allclose(state.bias - before, float(sched.eta(t)) * g, rtol=1e-13, atol=1e-15)


def test_schedules_eta():
    t = np.arange(1, 6)
    np.testing.assert_allclose(constant(0.3).eta(t), 0.3)
    np.testing.assert_allclose(inverse_t(2.0, 0.5).eta(t), 4.0 / t)  # c/(μt)
    np.testing.assert_allclose(inverse_sqrt(0.2).eta(t), 0.2 / np.sqrt(t))
    assert float(inverse_sqrt(0.2).eta(4)) == pytest.approx(0.1)
    assert float(inverse_t(1.0, 0.125).eta(1)) == pytest.approx(8.0)


@settings(max_examples=30, **SETTINGS)
@given(E=st.integers(1, 12), data=st.data(), n=st.integers(1, 30), T=st.integers(1, 25),
       center=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_sign_rule_lives_on_its_integer_lattice(E, data, n, T, center, seed):
    K = data.draw(st.integers(1, E), label="K")
    u = data.draw(st.sampled_from([1e-3, 0.01, 0.37]), label="u")
    rng = np.random.default_rng(seed)
    rule = sign_rule(E, u, center=center)
    state = init(rule)
    for _ in range(T):
        loads = _loads(rng, n, E, K)
        nxt = update(rule, state, loads, n, K)
        assert nxt.steps.dtype == np.int64
        sigma = np.sign(K * n - E * loads)
        if center:
            np.testing.assert_array_equal(nxt.steps - state.steps, E * sigma - sigma.sum())
            assert nxt.steps.sum() == 0
            np.testing.assert_array_equal(nxt.bias, (u / E) * nxt.steps)
            assert abs(nxt.bias.sum() - state.bias.sum()) <= 1e-12 * max(1.0, np.abs(nxt.bias).sum())
        else:
            np.testing.assert_array_equal(nxt.steps - state.steps, sigma)
            np.testing.assert_array_equal(nxt.bias, u * nxt.steps)
        state = nxt


@settings(max_examples=25, **SETTINGS)
@given(E=st.integers(2, 12), data=st.data(), n=st.integers(1, 30), seed=st.integers(0, 2**32 - 1),
       sched=st.sampled_from(["constant", "inverse_t", "inverse_sqrt"]), units=st.sampled_from(["fraction", "count"]))
def test_centred_gradient_update_sums_to_zero(E, data, n, seed, sched, units):
    K = data.draw(st.integers(1, E), label="K")
    schedule = {"constant": constant(0.2), "inverse_t": inverse_t(1.0, 0.5), "inverse_sqrt": inverse_sqrt(0.3)}[sched]
    rng = np.random.default_rng(seed)
    rule = gradient_rule(E, schedule, units=units, center=True)
    state = init(rule, rng.standard_normal(E))
    for _ in range(10):
        nxt = update(rule, state, _loads(rng, n, E, K), n, K)
        delta = nxt.bias - state.bias
        assert abs(delta.sum()) <= 1e-12 * max(1.0, np.abs(delta).sum())
        state = nxt


@pytest.mark.parametrize("rule", ["sign_freeze", "grad_freeze"])
def test_freeze_stops_updates(rule):
    E, K, n = 5, 2, 10
    r = RULES[rule](E)
    imbalanced = np.array([10, 6, 2, 2, 0])
    for step in (update, update_numpy):
        state, history = init(r), []
        for _ in range(8):
            state = step(r, state, imbalanced, n, K)
            history.append(state.bias.copy())
        assert state.t == 8
        for t in range(1, r.freeze_after):  # moving until freeze_after ...
            assert not np.array_equal(history[t], history[t - 1])
        for t in range(r.freeze_after, 8):  # ... and frozen after it
            np.testing.assert_array_equal(history[t], history[r.freeze_after - 1])
    never = gradient_rule(E, constant(1.0), freeze_after=0)
    np.testing.assert_array_equal(update(never, init(never), imbalanced, n, K).bias, np.zeros(E))


@settings(max_examples=25, **SETTINGS)
@given(E=st.integers(2, 12), data=st.data(), n=st.integers(1, 20), seed=st.integers(0, 2**32 - 1),
       R=st.sampled_from([1e-3, 0.05, 1.0]), center=st.booleans())
def test_projection_keeps_the_bias_in_the_ball(E, data, n, seed, R, center):
    K = data.draw(st.integers(1, E), label="K")
    rng = np.random.default_rng(seed)
    anchor = 0.1 * rng.standard_normal(E)
    proj = gradient_rule(E, inverse_t(2.0, 1.0 / E), center=center, radius=R, anchor=anchor)
    free = gradient_rule(E, inverse_t(2.0, 1.0 / E), center=center)
    state = init(proj, anchor)
    for _ in range(15):
        loads = _loads(rng, n, E, K)
        nxt = update(proj, state, loads, n, K)
        assert np.linalg.norm(nxt.bias - anchor) <= R * (1 + 1e-12)
        unprojected = update(free, BiasState(state.bias, state.steps, state.t), loads, n, K).bias
        if np.linalg.norm(unprojected - anchor) <= R:  # inside the ball the projection is the identity
            np.testing.assert_array_equal(nxt.bias, unprojected)
        else:  # outside it, the radial projection onto the sphere
            ref = anchor + (unprojected - anchor) * (R / np.linalg.norm(unprojected - anchor))
            np.testing.assert_allclose(nxt.bias, ref, rtol=1e-12, atol=1e-15)
        state = nxt


@pytest.mark.parametrize("name", list(RULES))
def test_update_numba_equals_numpy_and_bias_moves(name):
    E, K, n = 7, 3, 21
    rng = np.random.default_rng(list(RULES).index(name))
    rule = RULES[name](E)
    a, b = init(rule), init(rule)
    for i in range(30):
        loads = _loads(rng, n, E, K)
        a, b = update(rule, a, loads, n, K), update_numpy(rule, b, loads, n, K)
        assert a.t == b.t == i + 1
        np.testing.assert_array_equal(a.steps, b.steps)
        np.testing.assert_allclose(a.bias, b.bias, rtol=1e-12, atol=1e-12)
    # a bias declared but never updated (MaxText #2494) would pass everything else: one imbalanced step moves it
    imbalanced = np.array([21, 21, 21, 0, 0, 0, 0])
    for step in (update, update_numpy):
        moved = step(rule, init(rule), imbalanced, n, K)
        assert np.all(moved.bias[:3] < 0) and np.all(moved.bias[3:] > 0)  # b = −p moves towards balance


# ---------------------------------------------------------------------------------------------
# online runs


@settings(max_examples=45, **SETTINGS)
@given(name=st.sampled_from(list(RULES)), dtype=st.sampled_from(DTYPES), oracle=st.booleans(),
       B=st.integers(1, 12), n=st.integers(1, 30), E=st.integers(2, 10), data=st.data(),
       seed=st.integers(0, 2**32 - 1))
def test_online_kernel_equals_numpy_reference(name, dtype, oracle, B, n, E, data, seed):
    K = data.draw(st.integers(1, E), label="K")
    # the sign rule's biases are exact lattice points, so it is also run on tied integer scores
    kind = data.draw(st.sampled_from(["normal", "int"]), label="kind") if name in SIGN_RULES else "normal"
    rng = np.random.default_rng(seed)
    s = np.stack([_scores(rng, n, E, kind, dtype) for _ in range(B)])
    rule = RULES[name](E)
    fast, ref = run_online(rule, s, K, oracle=oracle), run_online_numpy(rule, s, K, oracle=oracle)
    np.testing.assert_array_equal(fast.loads, ref.loads)
    np.testing.assert_allclose(fast.biases, ref.biases, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast.state.bias, ref.state.bias, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(fast.state.steps, ref.state.steps)
    assert fast.state.t == ref.state.t == B
    assert fast.loads.shape == (B, E) and fast.biases.shape == (B, E)
    np.testing.assert_array_equal(fast.loads.sum(axis=1), np.full(B, K * n))
    for t in range(B):  # each batch's loads are the routing with the bias it reports
        np.testing.assert_array_equal(fast.loads[t], route(s[t], K, fast.biases[t]).loads)
    if not oracle:
        np.testing.assert_array_equal(fast.biases[0], np.zeros(E))


@pytest.mark.parametrize("name", list(RULES))
def test_online_oracle_reroutes_with_the_causal_bias_sequence(name):
    B, n, E, K = 10, 24, 6, 2
    rng = np.random.default_rng(3)
    s = rng.standard_normal((B, n, E)) + rng.standard_normal(E)
    rule = RULES[name](E)
    causal, oracle = run_online(rule, s, K), run_online(rule, s, K, oracle=True)
    # both update on the loads of the causal routing, so oracle batch t uses causal bias t + 1
    np.testing.assert_array_equal(oracle.biases[:-1], causal.biases[1:])
    np.testing.assert_array_equal(oracle.biases[-1], causal.state.bias)
    np.testing.assert_array_equal(oracle.state.bias, causal.state.bias)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(RULES))
def test_online_is_causal_and_continues_from_its_state(name, dtype):
    B, n, E, K, t0 = 12, 20, 5, 2, 5
    rng = np.random.default_rng(11)
    s = (rng.standard_normal((B, n, E)) + rng.standard_normal(E)).astype(dtype)
    rule = RULES[name](E)
    full = run_online(rule, s, K)
    later = s.copy()
    later[t0:] = (rng.standard_normal((B - t0, n, E)) + 5.0 * rng.standard_normal(E)).astype(dtype)
    changed = run_online(rule, later, K)
    # the bias of batch t depends on batches < t only: biases up to t0 (inclusive) and loads before t0 agree
    np.testing.assert_array_equal(changed.biases[: t0 + 1], full.biases[: t0 + 1])
    np.testing.assert_array_equal(changed.loads[:t0], full.loads[:t0])
    # continuing from a returned state is the same as one long run (schedules count on from state.t)
    for runner in (run_online, run_online_numpy):
        one = runner(rule, s, K)
        first = runner(rule, s[:t0], K)
        second = runner(rule, s[t0:], K, first.state)
        np.testing.assert_array_equal(np.concatenate([first.loads, second.loads]), one.loads)
        np.testing.assert_array_equal(np.concatenate([first.biases, second.biases]), one.biases)
        np.testing.assert_array_equal(second.state.bias, one.state.bias)
        np.testing.assert_array_equal(second.state.steps, one.state.steps)
        assert second.state.t == one.state.t == B
    # the input state is not modified in place
    start = init(rule)
    run_online(rule, s, K, start)
    np.testing.assert_array_equal(start.bias, np.zeros(E))


def test_online_equals_a_loop_of_route_and_update():
    B, n, E, K = 15, 32, 8, 2
    rng = np.random.default_rng(5)
    s = rng.standard_normal((B, n, E)) + np.linspace(-1, 1, E)
    for name in ("sign", "grad_inv_t", "grad_proj"):
        rule = RULES[name](E)
        run, state = run_online(rule, s, K), init(rule)
        for t in range(B):
            loads = route(s[t], K, state.bias).loads
            np.testing.assert_array_equal(run.loads[t], loads)
            np.testing.assert_array_equal(run.biases[t], state.bias)
            state = update(rule, state, loads, n, K)
        np.testing.assert_allclose(run.state.bias, state.bias, rtol=0, atol=1e-14)


# ---------------------------------------------------------------------------------------------
# assignment LP and its dual


def _lp_case(data, n_max: int, E_max: int, seed: int):
    """A random instance (scores, K, capacity or None, C, tight) with a feasible capacity."""
    n = data.draw(st.integers(1, n_max), label="n")
    E = data.draw(st.integers(1, E_max), label="E")
    K = data.draw(st.integers(1, E), label="K")
    kind = data.draw(st.sampled_from(["normal", "int"]), label="kind")
    lo = -(-K * n // E)
    if (K * n) % E == 0 and data.draw(st.booleans(), label="default capacity"):
        capacity, C = None, K * n // E
    else:
        C = capacity = data.draw(st.integers(lo, n), label="capacity")
    scores = _scores(np.random.default_rng(seed), n, E, kind)
    return scores, K, capacity, C, E * C == K * n


@settings(max_examples=40, **SETTINGS)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_lp_is_integral_feasible_and_optimal_by_brute_force(data, seed):
    s, K, capacity, C, tight = _lp_case(data, 6, 4, seed)
    n, E = s.shape
    lp = solve_assignment_lp(s, K, capacity)
    assert lp.capacity == C
    assert lp.x.dtype == np.int8 and set(np.unique(lp.x)) <= {0, 1}
    assert lp.integrality_gap <= 1e-9
    np.testing.assert_array_equal(lp.x.sum(axis=1), np.full(n, K))
    if tight:
        np.testing.assert_array_equal(lp.x.sum(axis=0), np.full(E, C))
    else:  # capacity as an inequality: the prices are ≥ 0
        assert np.all(lp.x.sum(axis=0) <= C)
        assert np.all(lp.prices >= -1e-9)
    assert lp.value == pytest.approx(float(np.sum(s * lp.x)), rel=1e-12, abs=1e-12)
    assert lp.value == pytest.approx(_brute_lp(s, K, C, tight), rel=1e-9, abs=1e-9)
    np.testing.assert_array_equal(lp.bias, -lp.prices)
    # strong duality at p*, weak duality at random p (p ≥ 0 under the inequality capacity)
    assert dual_value(s, K, lp.prices, capacity) == pytest.approx(lp.value, rel=1e-8, abs=1e-8)
    rng = np.random.default_rng(seed + 1)
    for _ in range(5):
        p = rng.standard_normal(E) * data.draw(st.sampled_from([0.1, 1.0, 10.0]), label="p scale")
        p = p if tight else np.abs(p)
        d = dual_value(s, K, p, capacity)
        assert d == pytest.approx(_dual_brute(s, K, p, C), rel=1e-12, abs=1e-12)
        assert d >= lp.value - 1e-9 * max(1.0, abs(lp.value))


@settings(max_examples=25, **SETTINGS)
@given(n=st.integers(2, 40), E=st.integers(2, 8), data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_lp_with_one_expert_per_token_is_a_linear_sum_assignment(n, E, data, seed):
    lo = -(-n // E)
    C = data.draw(st.integers(lo, min(n, lo + 2)), label="capacity")
    s = np.random.default_rng(seed).standard_normal((n, E))
    lp = solve_assignment_lp(s, 1, capacity=C)
    rep = np.repeat(s, C, axis=1)  # expert i replicated C times: an n × (E·C) assignment problem
    rows, cols = linear_sum_assignment(rep, maximize=True)
    assert lp.value == pytest.approx(float(rep[rows, cols].sum()), rel=1e-9, abs=1e-9)
    if E * C > n:  # capacity as an inequality: prices are non-negative, positive only on full experts
        loads = lp.x.sum(axis=0)
        assert np.all(lp.prices >= -1e-9)
        assert np.all(loads[lp.prices > 1e-9] == C)


@settings(max_examples=30, **SETTINGS)
@given(n=st.integers(2, 30), E=st.integers(2, 8), data=st.data(), seed=st.integers(0, 2**32 - 1),
       kind=st.sampled_from(["normal", "int"]))
def test_dual_function_identities(n, E, data, seed, kind):
    K = data.draw(st.integers(1, E), label="K")
    n = -(-n // (E // math.gcd(K, E))) * (E // math.gcd(K, E))  # round n up so that K·n/E is an integer
    C = K * n // E
    rng = np.random.default_rng(seed)
    s = _scores(rng, n, E, kind)
    lp = solve_assignment_lp(s, K)
    tol = 1e-9 * max(1.0, float(np.abs(s).sum()))
    for _ in range(5):
        p, q = rng.standard_normal(E), rng.standard_normal(E)
        c = float(rng.standard_normal() * 10)
        d_p = dual_value(s, K, p)
        assert dual_value(s, K, p + c) == pytest.approx(d_p, rel=1e-10, abs=tol)  # D(p + c·1) = D(p)
        g = dual_subgradient(s, K, p)
        np.testing.assert_array_equal(g, C - route(s, K, -p).loads)
        assert g.sum() == 0
        assert dual_value(s, K, q) >= d_p + g @ (q - p) - tol  # g(p) ∈ ∂D(p)
        assert d_p >= lp.value - tol
    # biased top-K at b = −p is a best response: its Lagrangian value is D(p)
    p = rng.standard_normal(E)
    x = route(s, K, -p).assignment()
    lagrangian = float(np.sum(s * x) - p @ (x.sum(axis=0) - C))
    assert lagrangian == pytest.approx(dual_value(s, K, p), rel=1e-12, abs=tol)


# ---------------------------------------------------------------------------------------------
# auxiliary loss


@pytest.mark.parametrize("counting", ["micro", "global"])
@pytest.mark.parametrize("G", [1, 3])
@pytest.mark.parametrize("K", [1, 2])
def test_aux_loss_is_alpha_at_uniform_routing(counting, G, K):
    E, per = 4, 8  # each micro-batch has 8 tokens, a multiple of E
    m = G * per
    experts = (np.arange(m)[:, None] + np.arange(K)[None, :]) % E
    groups = np.repeat(np.arange(G), per)
    aux = aux_balance_loss(np.zeros((m, E)), experts, 0.3, groups=groups, counting=counting)
    assert aux.value == pytest.approx(0.3, rel=1e-14)
    np.testing.assert_allclose(aux.f, 1 / E, rtol=1e-14)
    np.testing.assert_allclose(aux.P, 1 / E, rtol=1e-14)
    assert aux.f.shape == aux.P.shape == (G, E)
    np.testing.assert_allclose(aux.grad, 0.0, atol=1e-15)  # uniform s' and f: a stationary point


@settings(max_examples=30, **SETTINGS)
@given(m=st.integers(2, 16), E=st.integers(2, 6), data=st.data(), G=st.integers(1, 3),
       counting=st.sampled_from(["micro", "global"]), seed=st.integers(0, 2**32 - 1))
def test_aux_loss_gradient_by_central_differences(m, E, data, G, counting, seed):
    K = data.draw(st.integers(1, E), label="K")
    alpha = data.draw(st.sampled_from([1e-3, 0.1, 2.0]), label="alpha")
    G = min(G, m)
    rng = np.random.default_rng(seed)
    z = 2.0 * rng.standard_normal((m, E))
    experts = route(z + rng.standard_normal((m, E)), K).experts  # f is held fixed: experts are an input
    groups = rng.permutation(np.arange(m) % G)
    aux = aux_balance_loss(z, experts, alpha, groups=groups, counting=counting)
    # the value from its definition: α·E·mean_g Σ_i f_gi P_gi
    probs = softmax(z)
    chosen = np.zeros((m, E))
    np.put_along_axis(chosen, experts, 1.0, axis=1)
    P = np.array([probs[groups == g].mean(axis=0) for g in range(G)])
    if counting == "micro":
        f = np.array([chosen[groups == g].sum(axis=0) / (K * np.sum(groups == g)) for g in range(G)])
    else:
        f = np.tile(chosen.sum(axis=0) / (K * m), (G, 1))
        assert np.all(aux.f == aux.f[0])  # global counting: the same f in every group
    np.testing.assert_allclose(aux.f, f, rtol=1e-13)
    np.testing.assert_allclose(aux.P, P, rtol=1e-13)
    np.testing.assert_allclose(aux.f.sum(axis=1), 1.0, rtol=1e-13)
    assert aux.value == pytest.approx(alpha * E * np.mean(np.sum(f * P, axis=1)), rel=1e-13)
    h = 1e-6
    fd = np.empty((m, E))
    for j in range(m):
        for i in range(E):
            e = np.zeros((m, E))
            e[j, i] = h
            up = aux_balance_loss(z + e, experts, alpha, groups=groups, counting=counting).value
            down = aux_balance_loss(z - e, experts, alpha, groups=groups, counting=counting).value
            fd[j, i] = (up - down) / (2 * h)
    np.testing.assert_allclose(aux.grad, fd, rtol=1e-5, atol=1e-8 * alpha * E)


def test_aux_loss_counting_modes_differ_only_in_f():
    rng = np.random.default_rng(2)
    m, E, K = 24, 6, 2
    z = rng.standard_normal((m, E))
    groups = np.repeat([0, 1, 2], 8)
    z[groups == 0, 0] += 3.0  # micro-batch 0 prefers expert 0
    experts = route(z, K).experts
    micro = aux_balance_loss(z, experts, 1.0, groups=groups, counting="micro")
    glob = aux_balance_loss(z, experts, 1.0, groups=groups, counting="global")
    np.testing.assert_array_equal(micro.P, glob.P)
    np.testing.assert_allclose(glob.f[0], micro.f.mean(axis=0), rtol=1e-13)  # equal group sizes
    assert not np.allclose(micro.f[0], glob.f[0])
    single = aux_balance_loss(z, experts, 1.0)
    np.testing.assert_allclose(aux_balance_loss(z, experts, 1.0, counting="global").value, single.value)


Z = np.random.default_rng(1).standard_normal((6, 4))
EX = route(Z, 2).experts


@pytest.mark.parametrize("kwargs, exc, name", [
    ({"experts": EX[:5]}, ValueError, "experts"),
    ({"experts": EX[:, 0]}, ValueError, "experts"),
    ({"experts": EX + 4}, ValueError, "experts"),
    ({"experts": EX - 5}, ValueError, "experts"),
    ({"groups": np.zeros(5, dtype=int)}, ValueError, "groups"),
    ({"groups": np.array([0, 0, 1, 1, -1, 0])}, ValueError, "groups"),
    ({"groups": np.array([0.0, 0, 1, 1, 1, 0])}, ValueError, "groups"),
    ({"groups": np.array([0, 0, 2, 2, 2, 0])}, ValueError, "groups"),  # micro-batch 1 empty
    ({"counting": "local"}, ValueError, "counting"),
    ({"alpha": 0.0}, ValueError, "alpha"),
    ({"alpha": -1e-3}, ValueError, "alpha"),
    ({"alpha": math.inf}, ValueError, "alpha"),
    ({"logits": np.where(Z > 1, np.nan, Z)}, ValueError, "logits"),
    ({"logits": Z[0]}, ValueError, "logits"),
])
def test_aux_loss_rejects_bad_input_by_name(kwargs, exc, name):
    args = {"logits": Z, "experts": EX, "alpha": 0.1} | kwargs
    logits, experts, alpha = args.pop("logits"), args.pop("experts"), args.pop("alpha")
    with pytest.raises(exc, match=_names(name)):
        aux_balance_loss(logits, experts, alpha, **args)


def test_aux_loss_rejects_float_experts_by_name():
    with pytest.raises((TypeError, ValueError), match=_names("experts")):
        aux_balance_loss(Z, EX.astype(float), 0.1)


def test_aux_loss_rejects_repeated_experts_by_name():
    with pytest.raises(ValueError, match=_names("experts")):
        aux_balance_loss(Z, np.zeros((6, 2), dtype=np.int64), 0.1)
