r"""Many independent runs at once: S loss sequences on a leading axis, every method vectorised over it.

A :class:`LossBatch` holds S realised sequences of the same family and shape, ``a`` of shape (S, T, d)
(and ``b`` (S, T) for the square loss); :func:`run_batch` plays one method against all of them and
returns a :class:`BatchTrajectory` whose arrays carry the seed axis first, so that row s is exactly
the :class:`~solvers.omd.run.Trajectory` of ``run(method, losses.sequence(s))``.

Three ways to compute it (``backend``):

- ``"numba"`` / ``"numpy"`` — the single-run kernel or reference loop of :func:`solvers.omd.run`, once
  per seed (numpy only): the definition the other path is tested against;
- ``"xp"`` — one loop over the rounds whose body works on (S, d) arrays of the input's namespace, numpy
  or CuPy. Nothing is copied to the host inside the loop: the divergence test (a non-finite iterate or
  gradient, naming the first bad round) runs once on the whole history at the end, as for the fused
  kernels, since a NaN or inf, once there, stays in every later iterate. The only host reads inside the
  loop are those of the online Newton step's projection root finder, one flag per 8 of its inner
  Newton steps (its iteration count is data dependent).

Sums over the d coordinates are taken in index order (:func:`solvers._xp.seqsum`), the order of the
numba kernels, so on numpy the xp path of optimistic OMD / OGD, OFTRL and OFTL reproduces the kernels
bit for bit. Hedge, entropic OMD and Sword++ differ from them in the last bits of ``exp`` (numpy's and
LLVM's are not the same function); the online Newton step in those of batched ``eigh``/``matmul``
against their one-matrix forms. The tests hold these to 1e-12 (1e-10 for Newton).

References
----------
S. Chen, Y.-J. Zhang, W.-W. Tu, P. Zhao, L. Zhang, arXiv 2302.04552 (optimistic OMD, the exp-concave
case); S. Sachs et al., arXiv 2202.07554 (OFTRL, OFTL); P. Zhao et al., arXiv 2112.14368 (Sword++).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from solvers._checks import check_horizon
from solvers._xp import array_namespace, is_cupy, seqsum, to_numpy
from solvers.omd.domains import Ball
from solvers.omd.first_order import OnlineMethod
from solvers.omd.losses import LOSS_CODES, LossSequence
from solvers.omd.newton import _MAX_ITER, _REL_TOL
from solvers.omd.run import Trajectory, run
from solvers.omd.steps import step_formula

__all__ = ["BatchTrajectory", "LossBatch", "run_batch"]

Backend = Literal["auto", "numba", "numpy", "xp"]
FAMILIES = ("euclid", "oftrl", "oftl", "hedge", "entropic", "newton", "sword")
_CHECK_EVERY = 8  # inner Newton steps of the projection between two host reads of "any still active"


@dataclass(frozen=True)
class LossBatch:
    """S realised loss sequences of one family, stacked on a leading axis.

    Parameters
    ----------
    kind
        ``"linear"``, ``"quadratic"`` or ``"square"`` (see :class:`~solvers.omd.losses.LossSequence`).
    a
        Array of shape (S, T, d), numpy or CuPy.
    b
        Array of shape (S, T) for ``"square"`` (ignored, zeros, otherwise), in the namespace of ``a``.
    """

    kind: str
    a: Any
    b: Any = None

    def __post_init__(self) -> None:
        if self.kind not in LOSS_CODES:
            raise ValueError(f"kind must be one of {sorted(LOSS_CODES)}, got {self.kind!r}")
        xp = array_namespace(self.a)
        a = xp.ascontiguousarray(xp.asarray(self.a, dtype=float))
        if a.ndim != 3 or min(a.shape) < 1:
            raise ValueError(f"a must have shape (S, T, d) with S, T, d >= 1, got {a.shape}")
        if not bool(xp.all(xp.isfinite(a))):
            raise ValueError("a must be finite")
        if self.kind == "square":
            if self.b is None:
                raise ValueError("b is required for the 'square' family")
            b = xp.ascontiguousarray(xp.asarray(self.b, dtype=float))
            if b.shape != a.shape[:2] or not bool(xp.all(xp.isfinite(b))):
                raise ValueError(f"b must be a finite array of shape {a.shape[:2]} (S, T)")
        else:
            b = xp.zeros(a.shape[:2])
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", b)

    @classmethod
    def stack(cls, sequences: Sequence[LossSequence]) -> LossBatch:
        """The batch of S :class:`LossSequence` of one family and shape (stacked in their namespace)."""
        seqs = list(sequences)
        if not seqs or not all(isinstance(q, LossSequence) for q in seqs):
            raise TypeError("sequences must be a non-empty sequence of LossSequence")
        if len({(q.kind, q.T, q.dim) for q in seqs}) != 1:
            raise ValueError("sequences must share one family, T and d")
        xp = array_namespace(*(q.a for q in seqs))
        b = xp.stack([q.b for q in seqs]) if seqs[0].kind == "square" else None
        return cls(seqs[0].kind, xp.stack([q.a for q in seqs]), b)

    @property
    def S(self) -> int:
        """Number of sequences (seeds)."""
        return int(self.a.shape[0])

    @property
    def T(self) -> int:
        """Rounds per sequence."""
        return int(self.a.shape[1])

    @property
    def dim(self) -> int:
        """Dimension d."""
        return int(self.a.shape[2])

    def sequence(self, s: int) -> LossSequence:
        """Sequence number s as a :class:`LossSequence` (views of the batch's arrays)."""
        return LossSequence(self.kind, self.a[s], self.b[s] if self.kind == "square" else None)

    def prefix(self, T: int) -> LossBatch:
        """The first T rounds of every sequence."""
        return LossBatch(self.kind, self.a[:, :T], self.b[:, :T] if self.kind == "square" else None)

    def grad(self, t: int, x: Any) -> Any:
        """Gradients of the t-th losses (0-based) at the S points x (S, d), in the kernels' order of sums."""
        a = self.a[:, t]
        if self.kind == "linear":
            return a.copy()
        if self.kind == "quadratic":
            return x - a
        xp = array_namespace(a, x)
        # r = ((−b + a₀x₀) + a₁x₁) + …, the kernel's accumulation
        r = seqsum(xp.concatenate([-self.b[:, t:t + 1], a * x], axis=1))
        return a * r[:, None]


@dataclass(frozen=True)
class BatchTrajectory:
    """The histories of S runs of one method, seed axis first.

    Attributes
    ----------
    method
        Name of the method.
    x, grads, hints
        (S, T, d): played points, observed gradients, hints.
    eta
        (S, T) step sizes (NaN where the method has none).
    x_hat
        (S, T + 1, d) secondary iterates of the mirror-descent methods, else None.
    """

    method: str
    x: Any
    grads: Any
    hints: Any
    eta: Any
    x_hat: Any = None

    @property
    def S(self) -> int:
        """Number of runs."""
        return int(self.x.shape[0])

    @property
    def T(self) -> int:
        """Rounds per run."""
        return int(self.x.shape[1])

    def trajectory(self, s: int) -> Trajectory:
        """Run s as a :class:`~solvers.omd.run.Trajectory` (arrays in the batch's namespace)."""
        return Trajectory(self.method, self.x[s], self.grads[s], self.hints[s], self.eta[s],
                          None if self.x_hat is None else self.x_hat[s])


# ---------------------------------------------------------------------------------------------
# the vectorised methods (arrays (S, d); one Python iteration per round)


def _sq(v: Any) -> Any:
    """Σ_i v_i² along the last axis, in index order."""
    return seqsum(v * v)


def _project(xp: Any, y: Any, radius: float) -> Any:
    """Row-wise projection on the ball: y·R/max(‖y‖, R), ‖y‖ summed in index order as the kernels do."""
    norm = xp.sqrt(_sq(y))
    return y * (radius / xp.maximum(norm, radius))[..., None]


def _col(eta: Any) -> Any:
    return eta[:, None] if hasattr(eta, "ndim") and eta.ndim == 1 else eta


def _softmin(xp: Any, z: Any) -> Any:
    w = xp.exp(-(z - z.min(axis=-1, keepdims=True)))
    return w / seqsum(w)[..., None]


def _step(xp: Any, code: int, p0: float, p1: float, p2: float, t: int, v: Any) -> Any:
    """η_t of a step rule; a host float unless it depends on V_{t−1} (convex_adaptive), then (S,)."""
    if code == 3:
        return p0 / xp.sqrt(p2 + 4.0 * p1 * p1 + v)
    return step_formula(code, p0, p1, p2, t, 0.0)


def _euclid(xp, method, losses, X1, out):
    xs, gs, ms, etas, xhat = out
    code, p0, p1, p2, optimistic = int(method.params[0]), *method.params[1:4], bool(method.params[4])
    R, S, T = float(method.domain.radius), losses.S, losses.T
    xh, m, v = X1.copy(), xp.zeros_like(X1), xp.zeros(S)
    eta = _step(xp, code, p0, p1, p2, 1, v)
    x = _project(xp, xh - _col(eta) * m, R)
    for t in range(T):
        xs[:, t], etas[:, t], xhat[:, t] = x, eta, xh
        g = losses.grad(t, x)
        gs[:, t] = g
        xh = _project(xp, xh - _col(eta) * g, R)
        v = v + _sq(g - m)
        if t + 1 < T:
            if optimistic:
                m = g
                ms[:, t + 1] = g
            eta = _step(xp, code, p0, p1, p2, t + 2, v)
            x = _project(xp, xh - _col(eta) * m, R)
    xhat[:, T] = xh


def _oftrl(xp, method, losses, X1, out):
    xs, gs, ms, etas, _ = out
    nu, R, S, T = method.params[0], float(method.domain.radius), losses.S, losses.T
    d2 = (2.0 * R) ** 2
    x, gsum, m = xp.zeros_like(X1), xp.zeros_like(X1), xp.zeros_like(X1)
    eta, acc = xp.full(S, d2 / nu), xp.zeros(S)
    for t in range(T):
        xs[:, t], etas[:, t] = x, eta
        g = losses.grad(t, x)
        gs[:, t] = g
        acc = acc + eta * _sq(g - m)
        gsum = gsum + g
        eta = d2 / (nu + acc)
        if t + 1 < T:
            m = g
            ms[:, t + 1] = g
            x = _project(xp, (-0.5 * eta)[:, None] * (gsum + g), R)


def _oftl(xp, method, losses, X1, out):
    xs, gs, ms, etas, _ = out
    mu, R, T = method.params[0], float(method.domain.radius), losses.T
    x, gsum, xsum = X1.copy(), xp.zeros_like(X1), xp.zeros_like(X1)
    etas[...] = xp.nan
    for t in range(T):
        xs[:, t] = x
        g = losses.grad(t, x)
        gs[:, t] = g
        gsum = gsum + g
        xsum = xsum + x
        if t + 1 < T:
            ms[:, t + 1] = g
            x = _project(xp, xsum / (t + 1) - (gsum + g) / (mu * (t + 1)), R)


def _hedge(xp, method, losses, X1, out):
    xs, gs, ms, etas, _ = out
    delta, fixed, optimistic = method.params[0], method.params[1], bool(method.params[2])
    S, T, d = losses.S, losses.T, losses.dim
    log_d = math.log(d)
    x, gsum, m, v = X1.copy(), xp.zeros_like(X1), xp.zeros_like(X1), xp.zeros(S)
    eta = xp.full(S, fixed if fixed > 0 else math.sqrt(log_d / delta))
    for t in range(T):
        xs[:, t], etas[:, t] = x, eta
        g = losses.grad(t, x)
        gs[:, t] = g
        big = xp.max(xp.abs(g - m), axis=1)
        gsum = gsum + g
        v = v + big * big
        if fixed <= 0:
            eta = xp.sqrt(log_d / (delta + v))
        if t + 1 < T:
            if optimistic:
                m = g
                ms[:, t + 1] = g
            x = _softmin(xp, eta[:, None] * (gsum + m))


def _entropic(xp, method, losses, X1, out):
    xs, gs, _, etas, _ = out
    eta = method.params[0]
    x = X1.copy()
    etas[...] = eta
    for t in range(losses.T):
        xs[:, t] = x
        g = losses.grad(t, x)
        gs[:, t] = g
        x = _softmin(xp, eta * g - xp.log(x))


def _project_eig(xp: Any, y: Any, lam: Any, Q: Any, radius: float) -> Any:
    """The U-norm projection of :func:`solvers.omd.newton.mahalanobis_projection`, row by row.

    The safeguarded Newton iteration on φ(ν) = 1/‖x(ν)‖ − 1/R of the one-row version, with a mask of
    the rows still iterating; a finished row keeps its ν, so reading the mask every few steps changes
    nothing but the work.
    """
    norm_y = xp.sqrt(_sq(y))
    outside = norm_y > radius
    c = lam * xp.einsum("sji,sj->si", Q, y)
    c2 = c * c
    S = y.shape[0]
    lo, nu = xp.zeros(S), xp.zeros(S)
    hi = xp.maximum(lam[:, -1] * norm_y / radius - lam[:, 0], 0.0)
    active = outside.copy()
    for it in range(_MAX_ITER):
        if it % _CHECK_EVERY == 0 and not bool(xp.any(active)):
            break
        w = 1.0 / (lam + nu[:, None])
        sq = seqsum(c2 * (w * w))
        norm_x = xp.sqrt(sq)
        active &= ~(xp.abs(norm_x - radius) <= _REL_TOL * radius)
        above = norm_x > radius
        lo = xp.where(active & above, nu, lo)
        hi = xp.where(active & ~above, nu, hi)
        slope = seqsum(c2 * (w * w * w)) / (sq * norm_x)
        nu_new = nu - (1.0 / norm_x - 1.0 / radius) / slope
        nu_new = xp.where((lo < nu_new) & (nu_new < hi), nu_new, 0.5 * (lo + hi))
        active &= nu_new != nu
        nu = xp.where(active, nu_new, nu)
    x = xp.einsum("sij,sj->si", Q, c / (lam + nu[:, None]))
    norm_x = xp.sqrt(_sq(x))
    x = x * xp.where(norm_x > radius, radius / norm_x, 1.0)[:, None]
    return xp.where(outside[:, None], x, y)


def _newton(xp, method, losses, X1, out):
    xs, gs, ms, etas, xhat = out
    beta, optimistic = method.params[3], bool(method.params[4])
    delta, R, S, T, d = method.params[2], float(method.domain.radius), losses.S, losses.T, losses.dim
    U = xp.broadcast_to(delta * xp.eye(d), (S, d, d)).copy()
    xh, m = X1.copy(), xp.zeros_like(X1)
    x = xh.copy()
    etas[...] = xp.nan

    def solve(lam, Q, r):  # U⁻¹r = Q diag(1/λ) Qᵀr
        return xp.einsum("sij,sj->si", Q, xp.einsum("sji,sj->si", Q, r) / lam)

    for t in range(T):
        xs[:, t], xhat[:, t] = x, xh
        g = losses.grad(t, x)
        gs[:, t] = g
        v = g - m
        U = U + (0.5 * beta) * (v[:, :, None] * v[:, None, :])
        lam, Q = xp.linalg.eigh(U)
        xh = _project_eig(xp, xh - solve(lam, Q, g), lam, Q, R)
        if optimistic:
            m = g
            x = _project_eig(xp, xh - solve(lam, Q, m), lam, Q, R)
        else:
            x = xh.copy()
        if t + 1 < T:
            ms[:, t + 1] = m
    xhat[:, T] = xh


def _sword(xp, method, losses, X1, out):
    xs, gs, ms, etas, _ = out
    grid = xp.asarray(method.params)
    n, R, G, D, T = grid.shape[0], float(method.domain.radius), method.consts[0], method.domain.diameter, losses.T
    log_n, floor = math.log(n), (G * D) ** 2
    steps = grid[None, :, None]
    base = xp.broadcast_to(X1[:, None, :], (losses.S, n, losses.dim)).copy()
    base_hat = base.copy()
    cum_loss = xp.zeros((losses.S, n))
    v = xp.zeros(losses.S)
    x, hint = X1.copy(), xp.zeros_like(X1)
    eta = xp.full(losses.S, math.sqrt(log_n / floor))
    for t in range(T):
        xs[:, t], ms[:, t], etas[:, t] = x, hint, eta
        g = losses.grad(t, x)
        gs[:, t] = g
        big = xp.max(xp.abs(xp.einsum("snd,sd->sn", base, g - hint)), axis=1)
        v = v + big * big
        cum_loss = cum_loss + xp.einsum("snd,sd->sn", base, g)
        base_hat = _project(xp, base_hat - steps * g[:, None, :], R)
        base = _project(xp, base_hat - steps * g[:, None, :], R)
        eta = xp.sqrt(log_n / (floor + v))
        p = _softmin(xp, eta[:, None] * (cum_loss + xp.einsum("snd,sd->sn", base, g)))
        x = _project(xp, xp.einsum("sn,snd->sd", p, base), R)
        hint = g


_IMPL = {"euclid": _euclid, "oftrl": _oftrl, "oftl": _oftl, "hedge": _hedge, "entropic": _entropic,
         "newton": _newton, "sword": _sword}
_HAS_X_HAT = ("euclid", "newton")


def _first_divergence(name: str, xs: Any, gs: Any, xp: Any) -> None:
    """Raise FloatingPointError at the earliest non-finite iterate or gradient (one host read)."""
    bad = to_numpy(xp.stack([~xp.all(xp.isfinite(xs), axis=2), ~xp.all(xp.isfinite(gs), axis=2)]))
    if not bad.any():
        return
    rounds = np.where(bad.any(axis=2), bad.argmax(axis=2), bad.shape[2])  # (2, S): first bad round
    s = int(np.argmin(rounds.min(axis=0)))
    t = int(rounds[:, s].min())
    what = "iterate" if rounds[0, s] <= rounds[1, s] else "gradient"  # the earliest failure is named
    seed = f" (seed {s})" if xs.shape[0] > 1 else ""
    raise FloatingPointError(f"{name} diverged: non-finite {what} at round {t + 1}{seed}")


def _start(method: OnlineMethod, x1: Any, S: int, xp: Any) -> Any:
    """The (S, d) starting points, each validated by the method's own ``init`` (on the host, once)."""
    d = method.domain.dim
    if x1 is None:
        host = np.broadcast_to(method.domain.center, (S, d))
        method.init(None)
    else:
        host = np.asarray(to_numpy(x1), dtype=float)
        if host.shape == (d,):
            host = np.broadcast_to(host, (S, d))
        if host.shape != (S, d):
            raise ValueError(f"x1 must have shape ({d},) or (S, d) = ({S}, {d}), got {host.shape}")
        for s in range(S):
            method.init(host[s].copy())
    return xp.asarray(np.ascontiguousarray(host))


def _run_xp(method: OnlineMethod, losses: LossBatch, x1: Any) -> BatchTrajectory:
    xp = array_namespace(losses.a)
    S, T, d = losses.a.shape
    X1 = _start(method, x1, S, xp)
    xhat = xp.empty((S, T + 1, d)) if method.family in _HAS_X_HAT else None
    out = (xp.empty((S, T, d)), xp.empty((S, T, d)), xp.zeros((S, T, d)), xp.empty((S, T)), xhat)
    try:
        _IMPL[method.family](xp, method, losses, X1, out)
    except np.linalg.LinAlgError as err:  # numpy's eigh on a matrix that turned non-finite
        raise FloatingPointError(f"{method.name} diverged: {err}") from err
    _first_divergence(method.name, out[0], out[1], xp)
    return BatchTrajectory(method.name, out[0], out[1], out[2], out[3], xhat)


def _run_each(method: OnlineMethod, losses: LossBatch, x1: Any, backend: str) -> BatchTrajectory:
    S = losses.S
    starts = None if x1 is None else _start(method, x1, S, np)
    runs = []
    for s in range(S):
        try:
            runs.append(run(method, losses.sequence(s), x1=None if starts is None else starts[s].copy(),
                            backend=backend))
        except FloatingPointError as err:
            raise FloatingPointError(f"{err} (seed {s})" if S > 1 else str(err)) from err
    x_hat = None if runs[0].x_hat is None else np.stack([r.x_hat for r in runs])
    return BatchTrajectory(method.name, np.stack([r.x for r in runs]), np.stack([r.grads for r in runs]),
                           np.stack([r.hints for r in runs]), np.stack([r.eta for r in runs]), x_hat)


def run_batch(method: OnlineMethod, losses: LossBatch, T: int | None = None, *, x1: Any = None,
              backend: Backend = "auto") -> BatchTrajectory:
    r"""Play ``method`` against each of the S sequences of ``losses``; seed axis first.

    Parameters
    ----------
    method
        An :class:`~solvers.omd.first_order.OnlineMethod` of this package (its ``family`` names the
        vectorised implementation).
    losses
        The S realised sequences (numpy or CuPy).
    T
        Horizon, 1 <= T <= losses.T (default: losses.T).
    x1
        Starting point(s): None (the centre), (d,) for every run, or (S, d).
    backend
        ``"xp"`` (vectorised over the runs, numpy or CuPy), ``"numba"`` / ``"numpy"`` (one
        :func:`~solvers.omd.run` per run, numpy only) or ``"auto"``: ``"numba"`` for numpy input and a
        method with a kernel, ``"xp"`` otherwise.

    Returns
    -------
    BatchTrajectory
        Row s equals ``run(method, losses.sequence(s), T, x1=x1[s])`` (see the module docstring for
        which paths agree bit for bit).

    Raises
    ------
    FloatingPointError
        If some run diverges, naming the round (and the seed when S > 1).
    """
    if not isinstance(method, OnlineMethod):
        raise TypeError(f"method must be an OnlineMethod, got {type(method).__name__}")
    if not isinstance(losses, LossBatch):
        raise TypeError(f"losses must be a LossBatch, got {type(losses).__name__}")
    if losses.dim != method.domain.dim:
        raise ValueError(f"losses have dimension {losses.dim} but the domain has {method.domain.dim}")
    if T is not None:
        T = check_horizon(T)
        if T > losses.T:
            raise ValueError(f"T must be at most the number of losses ({losses.T}), got {T}")
        losses = losses.prefix(T)
    if backend not in ("auto", "numba", "numpy", "xp"):
        raise ValueError(f"backend must be 'auto', 'numba', 'numpy' or 'xp', got {backend!r}")
    gpu = is_cupy(losses.a)
    if backend == "auto":
        backend = "xp" if gpu or method.kernel == "python" else "numba"
    if backend == "xp" and method.family not in FAMILIES:
        raise ValueError(f"method {method.name!r} has no vectorised implementation (family "
                         f"{method.family!r}); use backend='numpy' on numpy arrays")
    if backend != "xp" and gpu:
        raise ValueError(f"backend={backend!r} runs on the CPU only; CuPy losses take backend='xp' or 'auto'")
    if method.family in ("euclid", "newton", "sword") and not isinstance(method.domain, Ball):
        raise TypeError(f"method {method.name!r} needs a Ball domain")
    if backend != "xp":
        return _run_each(method, losses, x1, backend)
    with np.errstate(all="ignore"):  # divergence is reported once, at the end, not warned per round
        return _run_xp(method, losses, x1)
