"""The generic array-namespace ("xp") paths on numpy, against the numba kernels and the single runs (CPU, no CuPy).

Every GPU code path of the solvers is the same code as an xp path that runs on numpy arrays; these tests
run it here, so CI exercises the logic of the CuPy path without a device. They also hold every batched
function (S seeds on a leading axis) to S separate calls of the single-run function.

Exact (``array_equal``) where the two paths do the same floating-point operations in the same order:
OMD's optimistic OMD / OGD, OFTRL and OFTL (sums over coordinates in index order, as in the kernels),
ALF-LB routing and online runs (same biased scores, same tie rule, the kernel's update arithmetic), the
EF21 batched runs (fused kernels per seed; the array path is row-wise), the bandit replays (sums in index
order, the same uniforms), the red-black SOR tables against per-job calls. To a stated tolerance
elsewhere: OMD's Hedge, entropic OMD and Sword++ (1e-12: numpy's ``exp`` is not LLVM's), the online
Newton step (1e-10: batched ``eigh``/``matmul`` against the one-matrix calls), matrix completion's row
solvers (1e-12, as in ``test_matrix_completion_solvers``). Red-black SOR is a different ordering from the
natural-order kernels: it is checked against Young's rate and against natural-order SOR on the permuted
(red-black ordered) matrix, which is the same iteration.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import solvers.alf_lb as al
import solvers.matrix_completion as mc
import solvers.omd as so
from solvers._xp import seqsum
from solvers.bandits import BinnedContextual, Exp3, TsallisINF, play, play_batch
from solvers.ef21 import RandK, TopK, econtrol, ef14, ef21, ef21w, gd, run, run_batch
from solvers.sor import Stencil5, jacobi_radius, optimal_omega, sor, sor_counts, sor_counts_redblack, young_radius

FAST = settings(deadline=None, derandomize=True, max_examples=6)


# ---------------------------------------------------------------------------------------------
# seqsum


def test_seqsum_is_the_serial_loop_bit_for_bit():
    x = np.random.default_rng(0).standard_normal((4, 1000))
    for row in range(4):
        acc = 0.0
        for v in x[row]:
            acc += v
        assert seqsum(x)[row] == acc
    assert seqsum(x, axis=0).shape == (1000,) and seqsum(x[0]).shape == ()
    assert not np.array_equal(seqsum(x), x.sum(axis=1))  # pairwise numpy.sum differs on this data


# ---------------------------------------------------------------------------------------------
# OMD


def _loss_batch(family: str, S: int, T: int, d: int, seed: int) -> so.LossBatch:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((S, T, d))
    if family == "square":
        a /= np.linalg.norm(a, axis=2, keepdims=True)
        return so.LossBatch("square", a, rng.standard_normal((S, T)))
    return so.LossBatch(family, a)


def _methods(d: int, radius: float, T: int) -> tuple[list, list, list]:
    """(exact methods, exp-based methods, Newton methods) on a ball / simplex of dimension d."""
    ball = so.Ball(d, radius)
    D, G = ball.diameter, 4.0
    rules = [so.constant(0.1), so.ogd_sqrt(D, G), so.ogd_inv_t(1.0), so.convex_adaptive(D, G, 1.0),
             so.strongly_convex(1.0)]
    exact = [so.optimistic_omd(ball, r, optimistic=o) for r in rules for o in (True, False)]
    exact += [so.oftrl(ball, 2.0), so.oftl(ball, 1.0)]
    simplex = so.Simplex(d)
    approx = [so.optimistic_hedge(simplex), so.optimistic_hedge(simplex, eta=0.3, optimistic=False),
              so.entropic_omd(simplex, 0.2), so.sword_pp(ball, G=G, T=T)]
    newton = [so.online_newton(ball, alpha=0.5, G=G), so.online_newton(ball, alpha=0.5, G=G, optimistic=False)]
    return exact, approx, newton


def _arrays(tr) -> list:
    return [tr.x, tr.grads, tr.hints, tr.eta] + ([] if tr.x_hat is None else [tr.x_hat])


@FAST
@given(family=st.sampled_from(["linear", "quadratic", "square"]), T=st.integers(1, 60), d=st.integers(2, 6),
       seed=st.integers(0, 2**31), radius=st.floats(0.3, 3.0))
def test_omd_batched_xp_path_equals_the_kernels_and_the_reference(family, T, d, seed, radius):
    S = 3
    losses = _loss_batch(family, S, T, d, seed)
    exact, approx, newton = _methods(d, radius, T)
    for method in exact + approx + newton:
        batch = so.run_batch(method, losses, backend="xp")
        assert batch.S == S and batch.T == T
        for s in range(S):
            got = _arrays(batch.trajectory(s))
            ref = _arrays(so.run(method, losses.sequence(s), backend="numpy"))
            if method in exact:
                fast = _arrays(so.run(method, losses.sequence(s), backend="numba"))
                for u, v in zip(got, fast, strict=True):
                    np.testing.assert_array_equal(u, v, err_msg=method.name)
            tol = 1e-10 if method in newton else 1e-12
            for u, v in zip(got, ref, strict=True):
                np.testing.assert_allclose(u, v, rtol=0, atol=tol * max(1.0, radius), err_msg=method.name)


def test_omd_run_xp_backend_and_per_seed_backends():
    losses = _loss_batch("square", 2, 40, 4, 3)
    method = so.optimistic_omd(so.Ball(4), so.convex_adaptive(2.0, 3.0))
    one = so.run(method, losses.sequence(1), backend="xp")
    np.testing.assert_array_equal(one.x, so.run(method, losses.sequence(1)).x)
    for backend in ("numba", "numpy"):
        b = so.run_batch(method, losses, backend=backend)
        np.testing.assert_allclose(b.x, so.run_batch(method, losses, backend="xp").x, rtol=0, atol=1e-12)
    # auto: numba for a kernel method on numpy, xp for the Python-loop methods
    newton = so.online_newton(so.Ball(4), alpha=1.0, G=3.0)
    np.testing.assert_allclose(so.run_batch(newton, losses).x, so.run_batch(newton, losses, backend="numpy").x,
                               rtol=0, atol=1e-10)


def test_omd_batched_start_points_and_prefix():
    losses = _loss_batch("quadratic", 3, 30, 3, 5)
    method = so.ogd(so.Ball(3, 2.0), so.ogd_sqrt(4.0, 5.0))
    x1 = np.array([[0.5, 0.0, 0.0], [0.0, -1.0, 0.5], [0.1, 0.2, 0.3]])
    batch = so.run_batch(method, losses, 20, x1=x1, backend="xp")
    assert batch.T == 20
    for s in range(3):
        np.testing.assert_array_equal(batch.x[s], so.run(method, losses.sequence(s), 20, x1=x1[s]).x)
    shared = so.run_batch(method, losses, x1=x1[1], backend="xp")
    np.testing.assert_array_equal(shared.x[0], so.run(method, losses.sequence(0), x1=x1[1]).x)
    stacked = so.LossBatch.stack([losses.sequence(s) for s in range(3)])
    np.testing.assert_array_equal(stacked.a, losses.a)


def test_omd_batched_divergence_names_round_and_seed():
    a = np.zeros((3, 6, 3))
    a[2] = 1e10
    losses = so.LossBatch("linear", a)
    for backend in ("xp", "numba", "numpy"):
        with np.errstate(all="ignore"), pytest.raises(FloatingPointError, match=r"round 2 \(seed 2\)"):
            so.run_batch(so.ogd(so.Ball(3), so.constant(1e300)), losses, backend=backend)


def test_omd_batched_bad_input():
    losses = _loss_batch("linear", 2, 5, 3, 0)
    method = so.ogd(so.Ball(3), so.constant(0.1))
    with pytest.raises(ValueError, match=r"\ba must have shape \(S, T, d\)"):
        so.LossBatch("linear", np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"\bb must be a finite array of shape \(2, 5\)"):
        so.LossBatch("square", np.zeros((2, 5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match=r"\bkind\b"):
        so.LossBatch("cubic", np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match=r"\bbackend\b"):
        so.run_batch(method, losses, backend="cupy")
    with pytest.raises(ValueError, match=r"dimension 3 but the domain has 4"):
        so.run_batch(so.ogd(so.Ball(4), so.constant(0.1)), losses)
    with pytest.raises(ValueError, match=r"\bx1 must have shape"):
        so.run_batch(method, losses, x1=np.zeros((3, 3)), backend="xp")
    with pytest.raises(ValueError, match=r"\bx1 must lie in the ball"):
        so.run_batch(method, losses, x1=np.full((2, 3), 5.0), backend="xp")
    with pytest.raises(ValueError, match=r"\bT must be at most"):
        so.run_batch(method, losses, 6)
    custom = method._replace(family="")
    with pytest.raises(ValueError, match="no vectorised implementation"):
        so.run_batch(custom, losses, backend="xp")
    with pytest.raises(TypeError, match=r"\blosses must be a LossBatch"):
        so.run_batch(method, losses.sequence(0))


# ---------------------------------------------------------------------------------------------
# ALF-LB


def _rules(E: int) -> list[al.BiasRule]:
    return [al.sign_rule(E, 1e-2), al.sign_rule(E, 1e-2, center=True, freeze_after=7),
            al.gradient_rule(E, al.constant(0.1)), al.gradient_rule(E, al.inverse_t(1.0, 0.5), center=True,
                                                                   units="count"),
            al.gradient_rule(E, al.inverse_sqrt(0.3), radius=0.05, anchor=np.linspace(-0.01, 0.01, E))]


@FAST
@given(S=st.integers(1, 3), B=st.integers(1, 12), n=st.integers(1, 40), E=st.integers(2, 20),
       seed=st.integers(0, 2**31), f32=st.booleans(), oracle=st.booleans())
def test_alf_lb_online_batch_xp_equals_kernel_and_single_runs(S, B, n, E, seed, f32, oracle):
    rng = np.random.default_rng(seed)
    K = int(rng.integers(1, E + 1))
    scores = rng.standard_normal((S, B, n, E)).astype(np.float32 if f32 else np.float64)
    for rule in _rules(E):
        fast = al.run_online_batch(rule, scores, K, oracle=oracle, backend="numba")
        arr = al.run_online_batch(rule, scores, K, oracle=oracle, backend="xp")
        for a, b in ((fast.loads, arr.loads), (fast.biases, arr.biases), (fast.state.bias, arr.state.bias),
                     (fast.state.steps, arr.state.steps)):
            np.testing.assert_array_equal(a, b, err_msg=rule.name)
        assert fast.state.t == arr.state.t == B
        for s in range(S):
            one = al.run_online(rule, scores[s], K, oracle=oracle)
            np.testing.assert_array_equal(one.loads, arr.loads[s])
            np.testing.assert_array_equal(one.state.bias, arr.state.bias[s])
            np.testing.assert_array_equal(al.run_online(rule, scores[s], K, oracle=oracle, backend="xp").biases,
                                          one.biases)


def test_alf_lb_online_batch_continues_from_a_state():
    rng = np.random.default_rng(1)
    scores = rng.standard_normal((2, 10, 30, 8))
    rule = al.gradient_rule(8, al.inverse_t(1.0, 1.0))
    whole = al.run_online_batch(rule, scores, 2, backend="xp")
    first = al.run_online_batch(rule, scores[:, :4], 2, backend="xp")
    rest = al.run_online_batch(rule, scores[:, 4:], 2, first.state, backend="numba")
    np.testing.assert_array_equal(np.concatenate([first.loads, rest.loads], axis=1), whole.loads)
    np.testing.assert_array_equal(rest.state.bias, whole.state.bias)


def test_alf_lb_update_xp_equals_the_kernel_step():
    E, n, K = 12, 50, 3
    rng = np.random.default_rng(2)
    for rule in _rules(E):
        state = al.init(rule)
        batch = al.BiasState(np.zeros((3, E)), np.zeros((3, E), dtype=np.int64), 0)
        for _ in range(5):
            loads = rng.multinomial(K * n, np.full(E, 1.0 / E), size=3)
            nxt = al.update_xp(rule, batch, loads, n, K)
            for s in range(3):
                single = al.BiasState(batch.bias[s], batch.steps[s], batch.t)
                ref = al.update(rule, single, loads[s], n, K)
                np.testing.assert_array_equal(nxt.bias[s], ref.bias)
                np.testing.assert_array_equal(nxt.steps[s], ref.steps)
            batch = nxt
            state = al.update_xp(rule, state, loads[0], n, K)
        assert state.t == batch.t == 5
    with pytest.raises(ValueError, match=r"\bloads must be non-negative integer counts"):
        al.update_xp(_rules(E)[0], al.init(_rules(E)[0]), np.full(E, 1), n, K)
    with pytest.raises(ValueError, match=r"\bloads must have shape"):
        al.update_xp(_rules(E)[0], al.init(_rules(E)[0]), np.zeros((2, E), dtype=int), n, K)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_alf_lb_route_batch_equals_route_ties_included(dtype):
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 3, (3, 40, 9)).astype(dtype)  # many exact ties
    bias = rng.integers(-1, 2, (3, 9)).astype(float)
    for backend in ("numba", "numpy"):
        rb = al.route_batch(scores, 3, bias, backend=backend)
        for s in range(3):
            one = al.route(scores[s], 3, bias[s], backend="numpy")
            np.testing.assert_array_equal(rb.experts[s], one.experts)
            np.testing.assert_array_equal(rb.scores[s], one.scores)
            np.testing.assert_array_equal(rb.loads[s], one.loads)
            np.testing.assert_array_equal(rb.assignment()[s], one.assignment())
    shared = al.route_batch(scores, 3, bias[0])
    np.testing.assert_array_equal(shared.experts[2], al.route(scores[2], 3, bias[0]).experts)
    assert al.route_batch(scores, 2).loads.sum(axis=1).tolist() == [80, 80, 80]


def test_alf_lb_batch_bad_input():
    with pytest.raises(ValueError, match=r"\bscores must be 3-D"):
        al.route_batch(np.zeros((4, 5)), 2)
    with pytest.raises(ValueError, match=r"\bscores must be finite"):
        al.route_batch(np.full((1, 4, 5), np.nan), 2)
    with pytest.raises(ValueError, match=r"\bbias must have shape"):
        al.route_batch(np.zeros((2, 4, 5)), 2, np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"\bK must satisfy"):
        al.route_batch(np.zeros((2, 4, 5)), 6)
    rule = al.sign_rule(5)
    with pytest.raises(ValueError, match=r"\bscores must be 4-D"):
        al.run_online_batch(rule, np.zeros((2, 4, 5)), 2)
    with pytest.raises(ValueError, match=r"\bstate.bias and state.steps must have shape"):
        al.run_online_batch(rule, np.zeros((2, 3, 4, 5)), 2, al.init(rule))
    with pytest.raises(ValueError, match=r"\bbackend\b"):
        al.run_online(rule, np.zeros((3, 4, 5)), 2, backend="cupy")


# ---------------------------------------------------------------------------------------------
# EF21


class LeastSquares:
    """f_i(x) = ‖A_i x − b_i‖²/(2N) on any array namespace (numpy here, CuPy in test_gpu)."""

    def __init__(self, n: int = 5, N: int = 8, d: int = 6, seed: int = 0, xp=np):
        rng = np.random.default_rng(seed)
        A = rng.standard_normal((n, N, d)) * np.sqrt(np.linspace(1.0, 4.0, n))[:, None, None]
        b = rng.standard_normal((n, N))
        self.n_clients, self.dim, self.N = n, d, N
        self.smoothness = np.array([np.linalg.eigvalsh(a.T @ a / N)[-1] for a in A])
        self.L = float(np.linalg.eigvalsh(np.einsum("ijk,ijl->kl", A, A) / (n * N))[-1])
        self.f_low = 0.0
        self.A, self.b, self.xp = xp.asarray(A), xp.asarray(b), xp

    def client_grads(self, x):
        r = self.A @ x - self.b
        return self.xp.einsum("ij,ijk->ik", r, self.A) / self.N

    def loss(self, x):
        r = self.A @ x - self.b
        return (r**2).sum() / (2 * self.N * self.n_clients)

    def grad(self, x):
        return self.client_grads(x).mean(axis=0)


_TRAJ = ("grad_sq", "loss", "G", "G_tilde", "x", "bits_values", "bits_indices")


def _ef21_methods(p: LeastSquares) -> list:
    return [(gd(), 0.5 / p.L), (ef21(TopK(1)), 0.05), (ef21(RandK(2)), 0.05), (ef21(TopK(2), "zero"), 0.05),
            (ef21w(TopK(2), p.smoothness), 0.05), (ef14(TopK(2)), 0.05), (econtrol(RandK(3), 0.1), 0.05),
            (econtrol(TopK(1), 0.0), 0.05), (ef21(TopK(1)), 50.0)]


@pytest.mark.parametrize("backend", ["auto", "xp"])
def test_ef21_run_batch_equals_single_runs_bit_for_bit(backend):
    p = LeastSquares()
    S = 3
    X0 = np.random.default_rng(1).standard_normal((S, p.dim))
    X0[2] *= 1e-3  # a run that reaches the target early while the others continue
    for method, gamma in _ef21_methods(p):
        randomized = method.compressor is not None and not method.compressor.deterministic
        rngs = [np.random.default_rng(10 + s) for s in range(S)] if randomized else None
        batch = run_batch(p, method, gamma, 60, x0=X0, rng=rngs, tol=1e-5, backend=backend)
        for s in range(S):
            one = run(p, method, gamma, 60, x0=X0[s], rng=np.random.default_rng(10 + s) if randomized else None,
                      tol=1e-5, backend=backend)
            assert (batch[s].status, batch[s].rounds) == (one.status, one.rounds), method.name
            for f in _TRAJ:
                np.testing.assert_array_equal(getattr(batch[s], f), getattr(one, f), err_msg=f"{method.name} {f}")


def test_ef21_run_batch_over_instances_and_mixed_statuses():
    probs = [LeastSquares(seed=s) for s in range(3)]
    X0 = np.random.default_rng(2).standard_normal((3, 6))
    gammas = 0.05
    batch = run_batch(probs, ef21(TopK(2)), gammas, 80, x0=X0, divergence=1e3)
    for s in range(3):
        one = run(probs[s], ef21(TopK(2)), gammas, 80, x0=X0[s], divergence=1e3)
        np.testing.assert_array_equal(batch[s].grad_sq, one.grad_sq)
        np.testing.assert_array_equal(batch[s].G_tilde, one.G_tilde)
    # γ = 2.5/L > 2/L: gradient descent diverges, and the batched run stops it where the single run does
    p = LeastSquares(seed=4)
    with np.errstate(all="ignore"):
        wild = run_batch([p, p], gd(), 2.5 / p.L, 50, x0=np.stack([X0[0], np.zeros(6)]), divergence=1e6)
        ref = run(p, gd(), 2.5 / p.L, 50, x0=X0[0], divergence=1e6)
    assert wild[0].status == ref.status == "diverged" and wild[0].rounds == ref.rounds
    np.testing.assert_array_equal(wild[0].x, ref.x)


def test_ef21_batched_state_update_equals_per_seed_updates():
    p = LeastSquares()
    rng = np.random.default_rng(5)
    G0, G1 = rng.standard_normal((2, 3, p.n_clients, p.dim))
    for method in (ef21(TopK(2)), ef21w(TopK(1), p.smoothness), ef14(TopK(3)), econtrol(TopK(2), 0.1)):
        for backend in ("auto", "xp"):
            state = method.update(method.init(G0, 0.1, backend=backend), G1, 0.1, backend=backend)
            for s in range(3):
                one = method.update(method.init(G0[s], 0.1, backend=backend), G1[s], 0.1, backend=backend)
                for a, b in zip(state, one, strict=True):
                    np.testing.assert_array_equal(a[s] if a.ndim > b.ndim else a, b, err_msg=method.name)
                assert method.error(state)[s] == pytest.approx(method.error(one), rel=1e-14)


def test_ef21_run_batch_bad_input():
    p = LeastSquares()
    x0 = np.zeros((2, p.dim))
    with pytest.raises(ValueError, match=r"\bx0 must have shape \(S, d\)"):
        run_batch(p, gd(), 0.1, 5, x0=np.zeros(p.dim))
    with pytest.raises(ValueError, match=r"\bx0 must have shape \(S, 6\)"):
        run_batch(p, gd(), 0.1, 5, x0=np.zeros((2, 5)))
    with pytest.raises(TypeError, match=r"\brng must be None or a sequence of S = 2"):
        run_batch(p, ef21(RandK(2)), 0.1, 5, x0=x0, rng=[1])
    with pytest.raises(ValueError, match=r"\brng is required"):
        run_batch(p, ef21(RandK(2)), 0.1, 5, x0=x0)
    with pytest.raises(ValueError, match=r"\bproblem must be one Problem or a sequence of S = 2"):
        run_batch([p, p, p], gd(), 0.1, 5, x0=x0)
    with pytest.raises(ValueError, match=r"same n_clients and dim"):
        run_batch([p, LeastSquares(n=4)], gd(), 0.1, 5, x0=x0)
    with pytest.raises(ValueError, match=r"\bgamma must be finite and > 0"):
        run_batch(p, gd(), 0.0, 5, x0=x0)


# ---------------------------------------------------------------------------------------------
# red-black SOR


def _redblack_permutation(N: int) -> np.ndarray:
    """Grid indices in red-black order: all red points (p + q even), then all black, each lexicographic."""
    idx = np.arange(N * N)
    colour = (idx // N + idx % N) % 2
    return np.concatenate([idx[colour == 0], idx[colour == 1]])


@pytest.mark.parametrize("N", [5, 8])
def test_redblack_counts_equal_natural_order_sor_on_the_redblack_ordered_matrix(N):
    """Red-black SOR is natural-order SOR on PAPᵀ with the red points first: the same counts."""
    A = Stencil5.laplacian(N, 0.3)
    perm = _redblack_permutation(N)
    P = sp.identity(N * N, format="csr")[perm]
    Arb = (P @ A.to_csr() @ P.T).tocsr()
    b = np.random.default_rng(N).standard_normal(N * N)
    omegas = np.array([0.7, 1.0, 1.3, 1.5, 1.8])
    table = sor_counts_redblack(A, b, omegas, tol=1e-9)
    want = [sor(Arb, b[perm], w, tol=1e-9).iterations for w in omegas]
    np.testing.assert_array_equal(table.iterations, want)
    assert table.converged.all()
    np.testing.assert_array_less(table.residual_norm, 1e-9)


def test_redblack_rate_is_youngs():
    """Residual contraction over six decades: Young's ρ(ω) below ω* (0.5 %) and above it (1 %)."""
    A = Stencil5.laplacian(16)
    beta = jacobi_radius(A)
    w_star = optimal_omega(beta)
    omegas = np.array([1.0, 1.3, 1.5, 1.8, 1.9])
    b = np.ones(A.n)
    k1 = sor_counts_redblack(A, b, omegas, tol=1e-4).iterations
    k2 = sor_counts_redblack(A, b, omegas, tol=1e-10).iterations
    rate = np.exp(np.log(1e-6) / (k2 - k1))
    rho = young_radius(omegas, beta)
    below = omegas < w_star
    np.testing.assert_allclose(rate[below], rho[below], rtol=5e-3)
    np.testing.assert_allclose(rate[~below], rho[~below], rtol=1e-2)
    # the two orderings differ by a transient only: counts within 10 %, the same best grid point
    nat = sor_counts(A, b, omegas, tol=1e-8).iterations
    rb = sor_counts_redblack(A, b, omegas, tol=1e-8).iterations
    np.testing.assert_allclose(rb, nat, rtol=0.1)
    assert np.argmin(rb) == np.argmin(nat)


def test_redblack_table_equals_per_job_calls_and_check_every_changes_nothing():
    A = Stencil5.laplacian(6)
    rng = np.random.default_rng(7)
    B = rng.standard_normal((3, 36))
    shifts = np.array([0.0, 0.5, 2.0])
    omegas = np.array([[1.1, 1.4], [1.2, 1.5], [0.9, 1.6]])
    table = sor_counts_redblack(A, B, omegas, shifts=shifts, tol=1e-8, maxiter=60)
    assert table.iterations.shape == (3, 2)
    for t in range(3):
        for g in range(2):
            one = sor_counts_redblack(Stencil5(6, A.center + shifts[t], A.off), B[t], [omegas[t, g]], tol=1e-8,
                                      maxiter=60)
            assert one.iterations[0] == table.iterations[t, g]
            assert one.residual_norm[0] == table.residual_norm[t, g]
    again = sor_counts_redblack(A, B, omegas, shifts=shifts, tol=1e-8, maxiter=60, check_every=7)
    np.testing.assert_array_equal(again.iterations, table.iterations)
    np.testing.assert_array_equal(again.residual_norm, table.residual_norm)
    capped = sor_counts_redblack(A, B[0], [1.0, 1.5], maxiter=5)
    assert capped.iterations.tolist() == [5, 5] and capped.capped.all()
    assert np.all(capped.residual_norm > 1e-8)


def test_redblack_bad_input_and_divergence():
    A = Stencil5.laplacian(4)
    b = np.ones(16)
    with pytest.raises(TypeError, match=r"\bA must be a Stencil5"):
        sor_counts_redblack(A.to_csr(), b, [1.0])
    with pytest.raises(ValueError, match=r"\bomegas must lie in \(0, 2\)"):
        sor_counts_redblack(A, b, [2.0])
    with pytest.raises(ValueError, match=r"\bb must be nonzero"):
        sor_counts_redblack(A, np.zeros(16), [1.0])
    with pytest.raises(ValueError, match=r"\bb must have shape"):
        sor_counts_redblack(A, np.ones(15), [1.0])
    with pytest.raises(ValueError, match=r"\bshifts: A \+ c_t I has a zero diagonal"):
        sor_counts_redblack(A, b, [1.0], shifts=[-4.0])
    with pytest.raises(ValueError, match=r"\bcheck_every must be >= 1"):
        sor_counts_redblack(A, b, [1.0], check_every=0)
    with pytest.raises(FloatingPointError, match=r"diverged \(ω = 1.5\)"):
        sor_counts_redblack(Stencil5(4, 1.0, -1.0), b, [1.5], maxiter=3000)  # indefinite: SOR blows up


# ---------------------------------------------------------------------------------------------
# bandits


@FAST
@given(T=st.integers(1, 150), d=st.integers(1, 9), seed=st.integers(0, 2**31), per_seed=st.booleans())
def test_bandit_play_batch_equals_play_bit_for_bit(T, d, seed, per_seed):
    rng = np.random.default_rng(seed)
    S, K = 3, 2.5
    costs = rng.random((S, T, d)) * K if per_seed else rng.random((T, d)) * K
    learners = [TsallisINF(d, K), TsallisINF(d, K, horizon=T), TsallisINF(d, K, eta=0.3, max_newton=2),
                Exp3(d, K), Exp3(d, K, horizon=T), Exp3(d, K, eta=0.5)]
    for learner in learners:
        batch = play_batch(learner, costs, [seed + s for s in range(S)], record_probabilities=True)
        for s in range(S):
            one = play(learner, costs[s] if per_seed else costs, rng=seed + s, record_probabilities=True)
            got = batch.run(s)
            np.testing.assert_array_equal(got.arms, one.arms, err_msg=repr(learner))
            np.testing.assert_array_equal(got.losses, one.losses)
            np.testing.assert_array_equal(got.probabilities, one.probabilities)


def test_bandit_play_batch_bad_input():
    costs = np.random.default_rng(0).random((10, 4))
    with pytest.raises(TypeError, match=r"faithful"):
        play_batch(TsallisINF(4, 1.0, faithful=True), costs, [0])
    with pytest.raises(TypeError, match=r"\blearner must be a TsallisINF or an Exp3"):
        play_batch(BinnedContextual(2, 0.0, 1.0, n_arms=4, K=1.0), costs, [0])
    with pytest.raises(TypeError, match=r"\brngs must be a non-empty sequence"):
        play_batch(Exp3(4, 1.0), costs, 3)
    with pytest.raises(ValueError, match=r"\bcosts must lie within \[0, K\]"):
        play_batch(Exp3(4, 1.0), costs * 5, [0])
    with pytest.raises(ValueError, match=r"one table per generator"):
        play_batch(Exp3(4, 1.0), np.stack([costs] * 3), [0, 1])
    with pytest.raises(ValueError, match=r"\bcosts must have one column per arm"):
        play_batch(Exp3(5, 1.0), costs, [0])


# ---------------------------------------------------------------------------------------------
# matrix completion: the xp path counts the same work and reports the same diagnostics


def _mc_problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    m, n, k = 40, 30, 3
    mask = rng.random((m, n)) < 0.4
    mask[0] = False
    mask[0, :2] = True  # an underdetermined row (SVD path)
    ii, jj = np.nonzero(mask)
    obs = mc.observations(ii, jj, rng.standard_normal(ii.size), (m, n))
    return obs, rng.standard_normal((n, k))


@pytest.mark.parametrize("make", [mc.exact, lambda: mc.cg(4), lambda: mc.cg(50, tol=1e-3),
                                  lambda: mc.sketch_precond(rng=3),
                                  lambda: mc.sketch_precond(sketch="countsketch", certify=True, rng=4)],
                         ids=["exact", "cg", "cg-certified", "sketch", "countsketch"])
def test_matrix_completion_xp_path_counts_and_diagnostics(make):
    obs, B = _mc_problem()
    solver = make()  # a fresh solver per path: the sketch solvers consume their own generator
    a = solver.solve(obs, B, backend="numba")
    b = make().solve(obs, B, backend="xp")
    np.testing.assert_allclose(b.X, a.X, rtol=0, atol=1e-10 * np.abs(a.X).max())
    np.testing.assert_array_equal(b.steps, a.steps)
    np.testing.assert_array_equal(b.certified, a.certified)
    np.testing.assert_array_equal(np.sort(b.lstsq_rows), np.sort(a.lstsq_rows))
    assert b.underdetermined == a.underdetermined == 1
    if solver.name == "cg":  # exact solves (alone or inside sketch_precond) use eigh on the xp path: another model
        assert b.flops == a.flops
    assert isinstance(b.flops, int) and math.isfinite(b.flops)
