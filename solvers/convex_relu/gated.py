r"""The gated-ReLU relaxation of C(𝒟): a group lasso solved by restarted FISTA (spec §3.2; claim CR5).

Drop the cones and merge v_i − w_i into u_i:

    min over u_1..u_P ∈ R^d of ½‖Σ_i D_iXu_i − y‖² + β Σ_i ‖u_i‖₂,

the training problem of the gated ReLU network g(x) = Σ_i 1[h_iᵀx ≥ 0]·xᵀu_i. Every feasible (v, w) of
C(𝒟) gives u_i = v_i − w_i with the same predictions and ‖u_i‖ ≤ ‖v_i‖ + ‖w_i‖, so f*_gated(𝒟) ≤ f*(𝒟)
(CR5).

FISTA (Beck–Teboulle 2009) with step 1/L, L = ‖F_a‖₂² for F_a = [D_1X … D_PX] (n × dP, never formed),
estimated by power iteration on F_aᵀF_a and enlarged by 1 %, since the Rayleigh quotient is a lower
estimate. Function restart (O'Donoghue–Candès 2015): when the objective rises, momentum restarts from the
last iterate; a rise right after a restart means L was underestimated, and L doubles. Stops when
‖u_{k+1} − u_k‖ ≤ tol·max(‖u_{k+1}‖, 1).

References
----------
Y. Bai, T. Gautam, S. Sojoudi, SIMODS 2023, arXiv:2201.01965 (sampled convex programs).
A. Mishkin, A. Sahiner, M. Pilanci, "Fast Convex Optimization for Two-Layer ReLU Networks", ICML 2022,
arXiv:2202.01331 (gated ReLU, R-FISTA).
A. Beck, M. Teboulle, SIAM J. Imaging Sci. 2009 (FISTA); B. O'Donoghue, E. Candès, Found. Comput. Math.
2015 (adaptive restart).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from solvers._checks import check_int, check_positive
from solvers._xp import array_namespace
from solvers.convex_relu._validate import check_beta, check_data, check_patterns
from solvers.convex_relu.losses import loss_value
from solvers.convex_relu.network import group_norms
from solvers.convex_relu.patterns import Patterns

__all__ = ["GatedHistory", "GatedNetwork", "GatedResult", "gated_fista", "gated_objective", "gated_predict"]


@dataclass(frozen=True, eq=False)
class GatedNetwork:
    """g(x) = Σ_i 1[h_iᵀx ≥ 0]·xᵀu_i with gates h_i (the pattern generators) and weights u_i.

    Attributes
    ----------
    U
        (P, d) weights, row i = u_i.
    generators
        (d, P) gates h_i.
    """

    U: Any
    generators: Any

    @property
    def width(self) -> int:
        """Number of nonzero u_i."""
        xp = array_namespace(self.U)
        return int(xp.sum(group_norms(self.U) > 0))

    def forward(self, X: Any) -> Any:
        """g(X) = rowsum(1[XH ≥ 0] ∘ XUᵀ), shape (n,)."""
        xp = array_namespace(X, self.U)
        return xp.sum((X @ self.generators >= 0.0) * (X @ self.U.T), axis=1)


@dataclass(frozen=True)
class GatedHistory:
    """One entry per recorded iteration: objective, step ‖u_{k+1} − u_k‖/max(‖u_{k+1}‖, 1), L, time (s)."""

    iteration: np.ndarray
    objective: np.ndarray
    step: np.ndarray
    L: np.ndarray
    time: np.ndarray

    def as_dict(self) -> dict[str, np.ndarray]:
        """The recorded columns, for a tidy table."""
        return dict(self.__dict__)


@dataclass(frozen=True, eq=False)
class GatedResult:
    """FISTA's answer U (P, d) with its history.

    ``status`` is ``"converged"`` (step ≤ tol), ``"max_iter"`` or ``"diverged"`` (a non-finite
    iterate: the last finite one is returned); ``restarts`` counts momentum restarts.
    """

    U: Any
    patterns: Patterns
    beta: float
    status: Literal["converged", "max_iter", "diverged"]
    message: str
    iterations: int
    objective: float
    L: float
    restarts: int
    history: GatedHistory

    @property
    def active_groups(self) -> int:
        """Number of nonzero u_i."""
        xp = array_namespace(self.U)
        return int(xp.sum(group_norms(self.U) > 0))

    @property
    def network(self) -> GatedNetwork:
        """The gated ReLU network with gates = the pattern generators."""
        return GatedNetwork(self.U, self.patterns.generators)


def gated_predict(X: Any, masks: Any, U: Any) -> Any:
    """Σ_i D_iXu_i = rowsum(Dm ∘ XUᵀ), shape (n,)."""
    xp = array_namespace(X, masks, U)
    return xp.sum(masks * (X @ U.T), axis=1)


def gated_objective(X: Any, y: Any, patterns: Patterns | Any, U: Any, beta: float, loss: str = "squared") -> float:
    r"""ℓ(Σ_i D_iXu_i, y) + β Σ_i ‖u_i‖₂ (``patterns`` may be the (n, P) mask)."""
    beta = check_beta(beta)
    masks = patterns.masks if isinstance(patterns, Patterns) else patterns
    xp = array_namespace(X, U)
    return loss_value(gated_predict(X, masks, U), y, loss) + beta * float(xp.sum(group_norms(U)))


def _lipschitz(X: Any, masks: Any, iters: int = 500, rtol: float = 1e-10) -> float:
    """λ_max(F_aᵀF_a) by power iteration from the all-ones (P, d) start (deterministic)."""
    xp = array_namespace(X, masks)
    P, d = masks.shape[1], X.shape[1]
    p = xp.ones((P, d)) / math.sqrt(P * d)
    lam = 0.0
    for _ in range(iters):
        q = (masks * gated_predict(X, masks, p)[:, None]).T @ X
        new = float(xp.sum(p * q))
        nrm = float(xp.sqrt(xp.sum(q * q)))
        if nrm == 0.0:
            return 0.0
        p = q / nrm
        if abs(new - lam) <= rtol * abs(new):
            return new
        lam = new
    return lam


def gated_fista(X: Any, y: Any, patterns: Patterns, beta: float, *, max_iter: int = 2000, tol: float = 1e-8,
                loss: str = "squared", record_every: int = 1,
                callback: Callable[[int, Any], Any] | None = None) -> GatedResult:
    r"""Solve the gated-ReLU group lasso min ½‖Σ_i D_iXu_i − y‖² + βΣ_i‖u_i‖₂ by restarted FISTA.

    Parameters
    ----------
    X, y
        (n, d) data with the bias column, (n,) targets (numpy or CuPy).
    patterns
        The gates 𝒟 (masks and generators).
    beta
        β > 0.
    max_iter
        Iteration cap (≥ 1).
    tol
        Stop when ‖u_{k+1} − u_k‖ ≤ tol·max(‖u_{k+1}‖, 1) (≥ 0).
    loss
        ``"squared"`` (FISTA needs a smooth loss).
    record_every
        Record the history every this many iterations (and at the last).
    callback
        Called as ``callback(iteration, U)`` at every recorded iteration; its result is ignored.

    Returns
    -------
    GatedResult

    References
    ----------
    Bai, Gautam, Sojoudi, SIMODS 2023 (§3.2 of the spec); Mishkin, Sahiner, Pilanci, ICML 2022.
    """
    if loss != "squared":
        raise ValueError(f"loss must be 'squared' for gated_fista (FISTA needs a smooth loss), got {loss!r}")
    X, y = check_data(X, y, loss)
    n, d = X.shape
    patterns = check_patterns(patterns, n, d)
    beta = check_beta(beta)
    max_iter = check_int("max_iter", max_iter, 1)
    tol = check_positive("tol", tol, allow_zero=True)
    record_every = check_int("record_every", record_every, 1)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")

    xp = array_namespace(X, y, patterns.masks)
    t0 = time.perf_counter()
    masks = patterns.masks
    L = 1.01 * _lipschitz(X, masks)
    if L == 0.0:  # every pattern empty on the data: u = 0 is optimal
        L = 1.0

    def grad_obj(U: Any) -> tuple[Any, float]:
        r = gated_predict(X, masks, U) - y
        return (masks * r[:, None]).T @ X, 0.5 * float(xp.dot(r, r)) + beta * float(xp.sum(group_norms(U)))

    def prox(A: Any, thr: float) -> Any:
        nrm = group_norms(A)
        return xp.maximum(0.0, 1.0 - thr / xp.maximum(nrm, 1e-300))[:, None] * A

    x = xp.zeros((patterns.P, d))
    z = x
    t = 1.0
    f_x = 0.5 * float(xp.dot(y, y))
    rec: dict[str, list] = {k: [] for k in ("iteration", "objective", "step", "L", "time")}
    status, message, restarts, just_restarted, k = "max_iter", "", 0, False, 0
    step = math.nan
    for k in range(1, max_iter + 1):
        g, _ = grad_obj(z)
        x_new = prox(z - g / L, beta / L)
        _, f_new = grad_obj(x_new)
        if not math.isfinite(f_new):
            status = "diverged"
            message = f"a non-finite objective at iteration {k}; the last finite iterate is returned"
            break
        if f_new > f_x + 1e-15 * abs(f_x):  # a rise beyond rounding
            if just_restarted:  # a plain proximal gradient step rose: L is too small
                L *= 2.0
            restarts += 1
            z, t, just_restarted = x, 1.0, True
            continue
        just_restarted = False
        dx = x_new - x
        step = math.sqrt(float(xp.sum(dx * dx))) / max(math.sqrt(float(xp.sum(x_new * x_new))), 1.0)
        t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        z = x_new + ((t - 1.0) / t_new) * dx
        x, f_x, t = x_new, f_new, t_new
        if k % record_every == 0 or k == max_iter or step <= tol:
            for key, val in (("iteration", k), ("objective", f_x), ("step", step), ("L", L),
                             ("time", time.perf_counter() - t0)):
                rec[key].append(val)
            if callback is not None:
                callback(k, x)
        if step <= tol:
            status, message = "converged", f"step {step:.3g} ≤ tol = {tol:g} at iteration {k}"
            break
    if status == "max_iter":
        message = f"max_iter = {max_iter} iterations done, objective {f_x:.10g}"
    if not rec["iteration"] or rec["iteration"][-1] != k:  # the last iteration was a restart: record the end
        for key, val in (("iteration", k), ("objective", f_x), ("step", step), ("L", L),
                         ("time", time.perf_counter() - t0)):
            rec[key].append(val)
        if callback is not None:
            callback(k, x)
    hist = GatedHistory(iteration=np.asarray(rec["iteration"], dtype=np.int64),
                        **{key: np.asarray(rec[key], dtype=float) for key in ("objective", "step", "L", "time")})
    return GatedResult(U=x, patterns=patterns, beta=beta, status=status, message=message, iterations=k,
                       objective=f_x, L=L, restarts=restarts, history=hist)
