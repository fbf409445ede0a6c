"""Run an online method on a loss sequence: the numba kernel, the numpy reference loop, or the array path.

The array path (``backend="xp"``, and the only one for CuPy losses) is the vectorised implementation of
:mod:`solvers.omd.batched` with one sequence: the whole run stays on the device of the losses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from solvers._checks import check_horizon
from solvers._xp import is_cupy
from solvers.omd import kernels
from solvers.omd.first_order import OnlineMethod
from solvers.omd.losses import LossSequence

__all__ = ["Trajectory", "run"]

Backend = Literal["auto", "numba", "numpy", "xp"]


@dataclass(frozen=True)
class Trajectory:
    """The history of one run, one row per round t = 1..T.

    Attributes
    ----------
    method
        Name of the method.
    x
        Played points x_t, shape (T, d).
    grads
        Observed gradients g_t = ∇f_t(x_t), shape (T, d).
    hints
        Hints M_t used to form x_t, shape (T, d) (zeros for non-optimistic methods).
    eta
        Step sizes η_t, shape (T,) (NaN where the method has none, e.g. OFTL).
    x_hat
        Secondary iterates x̂_t of mirror-descent methods, shape (T + 1, d), else None.
    """

    method: str
    x: np.ndarray
    grads: np.ndarray
    hints: np.ndarray
    eta: np.ndarray
    x_hat: np.ndarray | None = None

    @property
    def T(self) -> int:
        """Number of rounds."""
        return self.x.shape[0]


def _reference(method: OnlineMethod, losses: LossSequence, x1: np.ndarray | None) -> Trajectory:
    state = method.init(x1)
    T, d = losses.T, losses.dim
    xs, gs, ms = np.empty((T, d)), np.empty((T, d)), np.empty((T, d))
    etas = np.empty(T)
    x_hat = np.empty((T + 1, d)) if hasattr(state, "x_hat") else None
    for t in range(T):
        xs[t], ms[t], etas[t] = state.x, state.hint, state.eta
        if x_hat is not None:
            x_hat[t] = state.x_hat
        _raise_if_diverged(method.name, "iterate", state.x, t)
        gs[t] = losses.grad(t, state.x)
        _raise_if_diverged(method.name, "gradient", gs[t], t)
        state = method.update(gs[t], state)
    if x_hat is not None:
        x_hat[T] = state.x_hat
    if method.kernel == "oftl":
        etas[:] = np.nan
    return Trajectory(method.name, xs, gs, ms, etas, x_hat)


def _raise_if_diverged(name: str, what: str, value: np.ndarray, t: int) -> None:
    if not np.all(np.isfinite(value)):
        raise FloatingPointError(f"{name} diverged: non-finite {what} at round {t + 1}")


def _fused(method: OnlineMethod, losses: LossSequence, x1: np.ndarray | None) -> Trajectory:
    dom, p, code, a, b = method.domain, method.params, losses.code, losses.a, losses.b
    x_hat = None
    if method.kernel == "euclid":
        start = dom.center if x1 is None else dom.check_point("x1", x1)
        xs, x_hat, gs, ms, etas = kernels.run_euclid(
            code, a, b, float(dom.radius), start, int(p[0]), p[1], p[2], p[3], bool(p[4]))
    elif method.kernel == "oftrl":
        method.init(x1)  # validates x1
        xs, gs, ms, etas = kernels.run_oftrl(code, a, b, float(dom.radius), p[0])
    elif method.kernel == "oftl":
        start = dom.center if x1 is None else dom.check_point("x1", x1)
        xs, gs, ms = kernels.run_oftl(code, a, b, float(dom.radius), start, p[0])
        etas = np.full(losses.T, np.nan)
    elif method.kernel == "hedge":
        method.init(x1)
        xs, gs, ms, etas = kernels.run_hedge(code, a, b, p[0], p[1], bool(p[2]))
    else:
        raise ValueError(f"method {method.name!r} has no fused kernel; use backend='numpy'")
    bad_x = np.flatnonzero(~np.all(np.isfinite(xs), axis=1))
    bad_g = np.flatnonzero(~np.all(np.isfinite(gs), axis=1))
    if bad_x.size and (not bad_g.size or bad_x[0] <= bad_g[0]):  # the earliest failure is named
        _raise_if_diverged(method.name, "iterate", xs[bad_x[0]], int(bad_x[0]))
    if bad_g.size:
        _raise_if_diverged(method.name, "gradient", gs[bad_g[0]], int(bad_g[0]))
    return Trajectory(method.name, xs, gs, ms, etas, x_hat)


def run(method: OnlineMethod, losses: LossSequence, T: int | None = None, *,
        x1: np.ndarray | None = None, backend: Backend = "auto") -> Trajectory:
    """Play ``method`` against the first ``T`` losses (all of them by default).

    Parameters
    ----------
    method
        An :class:`~solvers.omd.first_order.OnlineMethod`.
    losses
        The realised losses; their dimension must match the method's domain.
    T
        Horizon, 1 <= T <= losses.T (default: losses.T).
    x1
        Optional starting point (default: the centre of the domain).
    backend
        ``"numba"`` (fused kernel), ``"numpy"`` (the ``init``/``update`` loop, the reference), ``"xp"``
        (the vectorised array path of :func:`solvers.omd.batched.run_batch` with one run; numpy or
        CuPy) or ``"auto"`` (numba where the method has a kernel; ``"xp"`` for CuPy losses).

    Returns
    -------
    Trajectory
        numpy arrays; CuPy arrays for CuPy losses (nothing is copied to the host during the run).

    Raises
    ------
    FloatingPointError
        If a gradient becomes non-finite (divergence), naming the round.
    """
    if not isinstance(method, OnlineMethod):
        raise TypeError(f"method must be an OnlineMethod, got {type(method).__name__}")
    if not isinstance(losses, LossSequence):
        raise TypeError(f"losses must be a LossSequence, got {type(losses).__name__}")
    if losses.dim != method.domain.dim:
        raise ValueError(f"losses have dimension {losses.dim} but the domain has "
                         f"{method.domain.dim}")
    if T is not None:
        T = check_horizon(T)
        if T > losses.T:
            raise ValueError(f"T must be at most the number of losses ({losses.T}), got {T}")
        losses = losses.prefix(T)
    if backend not in ("auto", "numba", "numpy", "xp"):
        raise ValueError(f"backend must be 'auto', 'numba', 'numpy' or 'xp', got {backend!r}")
    if backend == "xp" or is_cupy(losses.a):
        from solvers.omd.batched import LossBatch, run_batch

        if backend not in ("auto", "xp"):
            raise ValueError(f"backend={backend!r} runs on the CPU only; CuPy losses take backend='xp' or 'auto'")
        b = losses.b[None] if losses.kind == "square" else None
        return run_batch(method, LossBatch(losses.kind, losses.a[None], b), x1=x1, backend="xp").trajectory(0)
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported, not warned
        if backend == "numpy" or (backend == "auto" and method.kernel == "python"):
            return _reference(method, losses, x1)
        return _fused(method, losses, x1)
