"""Every solver on CuPy arrays against the same seed on numpy (marked ``gpu``; skipped without CuPy or a CUDA device).

Tolerances, and why they are what they are:

- exact for integer results that a rounding difference cannot change: routing choices (s + b is one IEEE
  addition on both devices, and the stable order by (−value, index) is a total order), TopK/RandK
  selections (|v| is exact; RandK's keys come from the same host generator), the sign rule's biases
  (integer lattice u·k);
- exact, as asserted, for results a rounding difference could change only at an exact tie: ALF-LB loads
  under the gradient rule, red-black SOR counts, bandit arms, EF21 stop rounds. The GPU sums in another
  order (tree reductions, parallel scans, atomic adds), so a bias, a residual norm or a partial sum of p
  can differ in its last bits; a count or a choice flips only if the compared quantities are within those
  bits of each other, which the fixed seeds and continuous data here avoid;
- 1e-10 relative (with an absolute floor of 1e-12 times the data scale, for entries near 0) for float64
  results of linear algebra and of runs: reductions in another order, ``exp`` of the CUDA math library,
  cuSOLVER's ``eigh``/``qr`` against LAPACK's; 1e-8 for AltMin's history over several rounds of SVD, QR
  and CG, whose rounding differences are carried from round to round.

"No host copy inside the loop" is checked by counting the explicit device-to-host copies (the solvers'
``to_numpy``, and ``cupy.ndarray.get`` where the type lets itself be patched) of two runs that differ
only in their number of rounds: the count must not grow with the rounds (EF21: by at most the one read
of the stop flags per round that :func:`solvers.ef21.run` documents; SOR: one per 16 sweeps).
"""

from __future__ import annotations

import numpy as np
import pytest
from test_xp_paths import LeastSquares

import solvers.alf_lb as al
import solvers.alf_lb.online
import solvers.bandits.batched
import solvers.ef21.run
import solvers.matrix_completion as mc
import solvers.omd as so
import solvers.omd.batched
import solvers.sor.redblack
from solvers.bandits import Exp3, TsallisINF, play_batch
from solvers.ef21 import RandK, TopK, ef21, ef21w, gd, run, run_batch
from solvers.sor import Stencil5, sor_counts_redblack, ssor_pcg

cupy = pytest.importorskip("cupy")


def _usable_device() -> bool:
    try:
        from sims.backend import gpu_available
    except ImportError:  # the helper lives in sims; fall back to asking CUDA directly
        try:
            return int(cupy.cuda.runtime.getDeviceCount()) > 0
        except Exception:
            return False
    return gpu_available()


if not _usable_device():
    pytest.skip("no usable CUDA device", allow_module_level=True)

pytestmark = pytest.mark.gpu

RTOL = 1e-10


def _close(dev, host, rtol: float = RTOL, scale: float = 1.0) -> None:
    np.testing.assert_allclose(cupy.asnumpy(dev), host, rtol=rtol, atol=1e-12 * scale)


@pytest.fixture
def host_reads(monkeypatch):
    """A counter of explicit device-to-host copies made by the solvers."""
    count = {"n": 0}

    def counting(fn):
        def wrapper(*args, **kwargs):
            count["n"] += 1
            return fn(*args, **kwargs)
        return wrapper

    for mod in (solvers.omd.batched, solvers.alf_lb.online, solvers.ef21.run, solvers.sor.redblack,
                solvers.bandits.batched):
        if hasattr(mod, "to_numpy"):
            monkeypatch.setattr(mod, "to_numpy", counting(mod.to_numpy))
    try:
        monkeypatch.setattr(cupy.ndarray, "get", counting(cupy.ndarray.get))
    except (TypeError, AttributeError):
        pass  # an extension type that cannot be patched: the solvers' own copies are still counted
    return count


def _reads(count, fn) -> int:
    before = count["n"]
    fn()
    cupy.cuda.Device().synchronize()
    return count["n"] - before


# ---------------------------------------------------------------------------------------------
# OMD


def _omd_losses(family: str, S: int = 3, T: int = 60, d: int = 5, seed: int = 0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((S, T, d))
    b = rng.standard_normal((S, T)) if family == "square" else None
    if family == "square":
        a /= np.linalg.norm(a, axis=2, keepdims=True)
    host = so.LossBatch(family, a, b)
    dev = so.LossBatch(family, cupy.asarray(a), None if b is None else cupy.asarray(b))
    return host, dev


def _omd_methods(d: int = 5, T: int = 60) -> list:
    ball, simplex = so.Ball(d, 1.5), so.Simplex(d)
    return [so.optimistic_omd(ball, so.convex_adaptive(3.0, 4.0)), so.ogd(ball, so.ogd_sqrt(3.0, 4.0)),
            so.oftrl(ball, 2.0), so.oftl(ball, 1.0), so.optimistic_hedge(simplex), so.entropic_omd(simplex, 0.2),
            so.online_newton(ball, alpha=0.5, G=4.0), so.sword_pp(ball, G=4.0, T=T)]


@pytest.mark.parametrize("family", ["linear", "quadratic", "square"])
def test_omd_run_batch_on_cupy_matches_numpy(family):
    host, dev = _omd_losses(family)
    for method in _omd_methods():
        want = so.run_batch(method, host, backend="xp")
        got = so.run_batch(method, dev)
        assert isinstance(got.x, cupy.ndarray)
        for g, w in ((got.x, want.x), (got.grads, want.grads), (got.hints, want.hints)):
            _close(g, w)
        np.testing.assert_allclose(cupy.asnumpy(got.eta), want.eta, rtol=RTOL)  # NaN where both have none


def test_omd_single_run_on_cupy_matches_the_kernel():
    host, dev = _omd_losses("square", S=1)
    method = so.optimistic_omd(so.Ball(5, 1.5), so.convex_adaptive(3.0, 4.0))
    got = so.run(method, dev.sequence(0))
    _close(got.x, so.run(method, host.sequence(0), backend="numba").x)
    with pytest.raises(ValueError, match=r"\bbackend='numba' runs on the CPU only"):
        so.run(method, dev.sequence(0), backend="numba")


def test_omd_no_host_copy_inside_the_loop(host_reads):
    method = so.optimistic_omd(so.Ball(5, 1.5), so.convex_adaptive(3.0, 4.0))
    _, short = _omd_losses("linear", T=20)
    _, long = _omd_losses("linear", T=200)
    assert _reads(host_reads, lambda: so.run_batch(method, long)) == _reads(
        host_reads, lambda: so.run_batch(method, short))


# ---------------------------------------------------------------------------------------------
# ALF-LB


def _scores(shape, seed: int = 0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_alf_lb_routing_on_cupy_is_exact(dtype):
    s = _scores((4, 256, 64), 1, dtype)
    b = 0.1 * _scores((4, 64), 2)
    want = al.route_batch(s, 6, b, backend="numba")
    got = al.route_batch(cupy.asarray(s), 6, cupy.asarray(b))
    for g, w in ((got.experts, want.experts), (got.scores, want.scores), (got.loads, want.loads)):
        np.testing.assert_array_equal(cupy.asnumpy(g), w)
    one = al.route(cupy.asarray(s[0]), 6, cupy.asarray(b[0]))
    np.testing.assert_array_equal(cupy.asnumpy(one.experts), want.experts[0])


def test_alf_lb_online_batch_on_cupy():
    s = _scores((3, 30, 128, 32), 3)
    for rule in (al.sign_rule(32, 1e-2), al.sign_rule(32, 1e-2, center=True)):
        want = al.run_online_batch(rule, s, 4, backend="numba")
        got = al.run_online_batch(rule, cupy.asarray(s), 4)
        np.testing.assert_array_equal(cupy.asnumpy(got.loads), want.loads)
        np.testing.assert_array_equal(cupy.asnumpy(got.state.bias), want.state.bias)  # u·k, k integer
    for rule in (al.gradient_rule(32, al.constant(0.05)),
                 al.gradient_rule(32, al.inverse_t(1.0, 0.5), center=True, radius=0.5)):
        want = al.run_online_batch(rule, s, 4, backend="numba")
        got = al.run_online_batch(rule, cupy.asarray(s), 4)
        np.testing.assert_array_equal(cupy.asnumpy(got.loads), want.loads)
        _close(got.state.bias, want.state.bias, rtol=1e-12)
    single = al.run_online(al.sign_rule(32, 1e-2), cupy.asarray(s[0]), 4)
    np.testing.assert_array_equal(cupy.asnumpy(single.loads),
                                  al.run_online(al.sign_rule(32, 1e-2), s[0], 4).loads)


def test_alf_lb_aux_loss_on_cupy():
    z = _scores((96, 16), 4)
    experts = al.route(z, 2).experts
    groups = np.repeat(np.arange(3), 32)
    for counting in ("micro", "global"):
        want = al.aux_balance_loss(z, experts, 0.01, groups=groups, counting=counting)
        got = al.aux_balance_loss(cupy.asarray(z), cupy.asarray(experts), 0.01, groups=cupy.asarray(groups),
                                  counting=counting)
        assert got.value == pytest.approx(want.value, rel=1e-12)
        _close(got.grad, want.grad, rtol=1e-12)


def test_alf_lb_no_host_copy_inside_the_loop(host_reads):
    rule = al.gradient_rule(16, al.constant(0.05))
    few, many = cupy.asarray(_scores((2, 5, 64, 16), 5)), cupy.asarray(_scores((2, 40, 64, 16), 6))
    assert _reads(host_reads, lambda: al.run_online_batch(rule, many, 2)) == _reads(
        host_reads, lambda: al.run_online_batch(rule, few, 2))


# ---------------------------------------------------------------------------------------------
# EF21


def test_ef21_compressors_on_cupy_are_exact():
    V = _scores((20, 50), 7)
    np.testing.assert_array_equal(cupy.asnumpy(TopK(3).compress(cupy.asarray(V))), TopK(3).compress(V))
    got = RandK(4).compress(cupy.asarray(V), np.random.default_rng(1))  # keys drawn on the host
    np.testing.assert_array_equal(cupy.asnumpy(got), RandK(4).compress(V, np.random.default_rng(1)))


@pytest.mark.parametrize("make", [lambda p: (gd(), 0.5 / p.L), lambda p: (ef21(TopK(2)), 0.05),
                                  lambda p: (ef21w(TopK(1), p.smoothness), 0.05),
                                  lambda p: (ef21(RandK(2)), 0.05)], ids=["gd", "ef21", "ef21w", "randk"])
def test_ef21_runs_on_cupy_match_numpy(make):
    host, dev = LeastSquares(), LeastSquares(xp=cupy)
    method, gamma = make(host)
    x0 = np.random.default_rng(2).standard_normal((3, host.dim))

    def rngs() -> list:
        return [np.random.default_rng(20 + s) for s in range(3)]

    want = run_batch(host, method, gamma, 80, x0=x0, rng=rngs(), tol=1e-8)
    got = run_batch(dev, method, gamma, 80, x0=cupy.asarray(x0), rng=rngs(), tol=1e-8)
    for g, w in zip(got, want, strict=True):
        assert (g.status, g.rounds) == (w.status, w.rounds)
        for f in ("grad_sq", "loss", "G", "G_tilde"):
            np.testing.assert_allclose(getattr(g, f), getattr(w, f), rtol=RTOL, atol=1e-14)
        assert isinstance(g.x, cupy.ndarray)
        _close(g.x, w.x)
    one = run(dev, method, gamma, 80, x0=cupy.asarray(x0[0]), rng=rngs()[0], tol=1e-8)
    np.testing.assert_allclose(one.grad_sq, want[0].grad_sq, rtol=RTOL, atol=1e-14)


def test_ef21_reads_the_host_once_per_round(host_reads):
    dev = LeastSquares(xp=cupy)
    x0 = cupy.asarray(np.random.default_rng(3).standard_normal((2, dev.dim)))
    few = _reads(host_reads, lambda: run_batch(dev, ef21(TopK(2)), 0.05, 10, x0=x0))
    many = _reads(host_reads, lambda: run_batch(dev, ef21(TopK(2)), 0.05, 60, x0=x0))
    assert many - few <= 2 * 50  # the stop flags, one read per round (counted twice if get is patched)


# ---------------------------------------------------------------------------------------------
# SOR


def test_redblack_counts_on_cupy_match_numpy():
    A = Stencil5.laplacian(24, 0.2)
    rng = np.random.default_rng(8)
    B = rng.standard_normal((4, A.n))
    shifts = np.array([0.0, 0.1, 0.5, 1.0])
    omegas = np.linspace(1.0, 1.9, 10)
    want = sor_counts_redblack(A, B, omegas, shifts=shifts)
    got = sor_counts_redblack(A, cupy.asarray(B), omegas, shifts=shifts)
    np.testing.assert_array_equal(got.iterations, want.iterations)
    np.testing.assert_allclose(got.residual_norm, want.residual_norm, rtol=1e-12)


def test_redblack_reads_the_host_once_per_16_sweeps(host_reads):
    A = Stencil5.laplacian(16)
    b = cupy.ones(A.n)
    few = _reads(host_reads, lambda: sor_counts_redblack(A, b, [1.5], tol=1e-3))
    many = _reads(host_reads, lambda: sor_counts_redblack(A, b, [1.5], tol=1e-12))
    k = sor_counts_redblack(A, np.ones(A.n), [1.5], tol=1e-12).iterations[0]
    assert many - few <= 2 * (k // 16 + 1)


def test_ssor_pcg_array_path_on_cupy():
    A = Stencil5.laplacian(20)
    b = np.random.default_rng(9).standard_normal(A.n)
    want = ssor_pcg(A, b, 1.6)
    got = ssor_pcg(A, cupy.asarray(b), 1.6)
    assert got.iterations == want.iterations
    _close(got.x, want.x, rtol=1e-8)


# ---------------------------------------------------------------------------------------------
# bandits


@pytest.mark.parametrize("make", [lambda T: TsallisINF(10, 2.0), lambda T: TsallisINF(10, 2.0, horizon=T),
                                  lambda T: Exp3(10, 2.0)], ids=["tsallis", "tsallis-T", "exp3"])
def test_bandit_play_batch_on_cupy_matches_numpy(make):
    T = 300
    costs = np.random.default_rng(10).random((4, T, 10)) * 2.0
    learner = make(T)
    want = play_batch(learner, costs, [1, 2, 3, 4], record_probabilities=True)
    got = play_batch(learner, cupy.asarray(costs), [1, 2, 3, 4], record_probabilities=True)
    np.testing.assert_array_equal(cupy.asnumpy(got.arms), want.arms)
    np.testing.assert_array_equal(cupy.asnumpy(got.losses), want.losses)
    _close(got.probabilities, want.probabilities, rtol=1e-12)


def test_bandit_no_host_copy_inside_the_loop(host_reads):
    learner = Exp3(8, 1.0)
    costs = cupy.asarray(np.random.default_rng(11).random((200, 8)))
    assert _reads(host_reads, lambda: play_batch(learner, costs, [1, 2])) == _reads(
        host_reads, lambda: play_batch(learner, costs[:20], [1, 2]))


# ---------------------------------------------------------------------------------------------
# matrix completion


def _mc_instance(seed: int = 0, m: int = 120, n: int = 100, k: int = 3):
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.standard_normal((m, k)))[0]
    V = np.linalg.qr(rng.standard_normal((n, k)))[0]
    s = np.linspace(2.0, 1.0, k)
    mask = rng.random((m, n)) < 0.3
    ii, jj = np.nonzero(mask)
    vals = np.einsum("ql,ql->q", U[ii] * s, V[jj])
    host = mc.observations(ii, jj, vals, (m, n))
    dev = mc.observations(cupy.asarray(ii), cupy.asarray(jj), cupy.asarray(vals), (m, n))
    return host, dev, (U, V, s)


@pytest.mark.parametrize("make", [mc.exact, lambda: mc.cg(5), lambda: mc.cg(40, tol=1e-4),
                                  lambda: mc.sketch_precond(rng=3)], ids=["exact", "cg", "cg-tol", "sketch"])
def test_matrix_completion_row_solvers_on_cupy(make):
    host, dev, _ = _mc_instance()
    B = np.random.default_rng(12).standard_normal((host.shape[1], 3))
    solver = make()
    want = solver.solve(host, B, backend="xp")
    got = make().solve(dev, cupy.asarray(B))
    _close(got.X, want.X, scale=float(np.abs(want.X).max()))
    if getattr(solver, "tol", None) is None:  # a certified stop may flip at a rounding tie; fixed steps cannot
        assert got.flops == want.flops
        np.testing.assert_array_equal(cupy.asnumpy(got.steps), want.steps)


def test_altmin_on_cupy_matches_numpy():
    host, dev, truth = _mc_instance(1)
    want = mc.altmin(host, 3, T=5, truth=truth, backend="xp")
    got = mc.altmin(dev, 3, T=5, truth=tuple(cupy.asarray(t) for t in truth))
    assert got.rounds == want.rounds
    np.testing.assert_allclose(got.history.res_omega, want.history.res_omega, rtol=1e-8)
    np.testing.assert_allclose(got.history.relF, want.history.relF, rtol=1e-8)
    rows, cols = host.rows[:50], host.cols[:50]
    np.testing.assert_allclose(cupy.asnumpy(got.predict(cupy.asarray(rows), cupy.asarray(cols))),
                               want.predict(rows, cols), rtol=1e-8, atol=1e-12)
