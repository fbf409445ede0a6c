r"""cvxpy reference programs for convex two-layer ReLU training (spec §3.4): standard, gated and robust.

With the patterns stored as Dm (n, P), S = 2Dm − 1 and the weights as V, W (P, d) (row i = v_i, w_i), the
programs are written vectorised, never as a loop over patterns:

- **standard** C(𝒟): min ℓ(ŷ, y) + β Σ_i (‖v_i‖₂ + ‖w_i‖₂), ŷ = ``cp.sum(cp.multiply(Dm, X @ (V − W).T), axis=1)``,
  s.t. ``cp.multiply(S, X @ V.T) >= 0`` and the same for W (the cones (2D_i − I)Xv_i ≥ 0);
- **gated** (§3.2): min ℓ(Σ_i D_iXu_i, y) + β Σ_i ‖u_i‖₂ without cones (U is returned in ``V``, W = 0);
- **robust** (ε > 0, §3.3): A = Dm @ (V − W) (n, d), margins x_kᵀa_k = ``cp.sum(cp.multiply(X, A), axis=1)``,
  the worst-case losses (1 − y_kx_kᵀa_k + ε‖a_k^f‖₁)_+ or ½(|y_k − x_kᵀa_k| + ε‖a_k^f‖₁)², and the robust cones
  (2D_i − I)Xv_i ≥ ε‖v_i^f‖₁·𝟙 (features only, never the bias). An SOCP.

The group penalty is ``cp.norm(V, 2, axis=1)``: with the (P, d) layout the groups are the rows, so the norm runs
along axis 1. (The spec's ``axis=0`` and ``X @ V`` are for a (d, P) layout.)

The value reported is recomputed in numpy from the returned (V, W) (the robust one through the closed form of
:mod:`~solvers.convex_relu.adversarial`), not taken from the solver, so it is the objective of the point
actually returned; the solver's own value is kept beside it.

References
----------
M. Pilanci, T. Ergen, "Neural Networks are Convex Regularizers", ICML 2020, arXiv:2002.10553 (the program C(𝒟)).
Y. Bai, T. Gautam, S. Sojoudi, SIMODS 2023, arXiv:2201.01965 (§3.4 baselines; §5 the robust program).
A. Mishkin, A. Sahiner, M. Pilanci, ICML 2022, arXiv:2202.01331 (the gated relaxation).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from solvers._xp import to_numpy
from solvers.convex_relu._validate import check_beta, check_data, check_eps, check_loss, check_patterns
from solvers.convex_relu.adversarial import certified_loss
from solvers.convex_relu.network import cone_violation, convex_objective, group_norms, recover
from solvers.convex_relu.patterns import Patterns

__all__ = ["CvxResult", "solve_cvxpy"]

_OK = ("optimal", "optimal_inaccurate")


@dataclass(frozen=True, eq=False)
class CvxResult:
    r"""A cvxpy solution of C(𝒟), its gated relaxation or its robust version.

    Attributes
    ----------
    V, W
        (P, d) weights (for ``gated``: U in V and W = 0). Zeros when every solver failed (see ``ok``).
    value
        The objective recomputed in numpy at (V, W): ℓ + βΣ(‖v_i‖ + ‖w_i‖), with the worst-case loss when
        eps > 0. +inf when every solver failed.
    solver_value
        The solver's optimal value (+inf when it gave none).
    solver, status
        The solver that produced the answer and its cvxpy status; ``attempts`` lists (solver, status) of every
        try, in order (Clarabel, then SCS on failure).
    solve_time, compile_time
        Wall time of the whole call (cvxpy compilation and every attempt included), and cvxpy's compilation
        time of the accepted attempt.
    violation
        ``cone_violation(X, patterns, V, W, eps)`` (0 for gated: no cones).
    """

    V: np.ndarray
    W: np.ndarray
    value: float
    solver_value: float
    solver: str
    status: str
    solve_time: float
    compile_time: float
    violation: float
    loss: str
    eps: float
    beta: float
    gated: bool
    patterns: Patterns
    attempts: tuple[tuple[str, str], ...]

    @property
    def ok(self) -> bool:
        """True when a solver returned an (at least inaccurately) optimal point."""
        return self.status in _OK

    def active_groups(self, tol: float = 1e-6) -> int:
        """Number of nonzero groups, counting ‖v_i‖ (and ‖w_i‖) > tol·(largest group norm) (spec §7)."""
        norms = np.concatenate([group_norms(self.V), group_norms(self.W)])
        top = float(norms.max()) if norms.size else 0.0
        return int(np.sum((norms > 0) & (norms > tol * top)))

    def network(self, tol: float = 1e-6) -> Any:
        r"""The recovered model after thresholding group norms at ``tol``·max (spec §7).

        Standard and robust programs give a :class:`ReLUNetwork` (:func:`recover`); the gated program gives the
        gated model Σ_i 1[Xh_i ≥ 0]·Xu_i (``gated.GatedNetwork``) on the patterns' generators.
        """
        if not self.gated:
            return recover(self.V, self.W, tol)
        from solvers.convex_relu.gated import GatedNetwork

        norms = group_norms(self.V)
        top = float(norms.max()) if norms.size else 0.0
        keep = (norms > 0) & (norms > tol * top)
        return GatedNetwork(self.V[keep], np.asarray(to_numpy(self.patterns.generators))[:, keep])


def _objective(cp: Any, X: np.ndarray, y: np.ndarray, Dm: np.ndarray, V: Any, W: Any, beta: float, loss: str,
               eps: float) -> Any:
    diff = V if W is None else V - W
    if eps == 0.0:
        yhat = cp.sum(cp.multiply(Dm, X @ diff.T), axis=1)
        data = 0.5 * cp.sum_squares(yhat - y) if loss == "squared" else cp.sum(cp.pos(1 - cp.multiply(y, yhat)))
    else:
        A = Dm @ diff
        margin = cp.sum(cp.multiply(X, A), axis=1)
        l1 = cp.norm(A[:, :-1], 1, axis=1)
        if loss == "squared":  # |y − m| + ε‖a^f‖₁ is nonnegative, so its square is DCP
            data = 0.5 * cp.sum_squares(cp.abs(y - margin) + eps * l1)
        else:
            data = cp.sum(cp.pos(1 - cp.multiply(y, margin) + eps * l1))
    penalty = cp.sum(cp.norm(V, 2, axis=1))
    if W is not None:
        penalty = penalty + cp.sum(cp.norm(W, 2, axis=1))
    return data + beta * penalty


def _cones(cp: Any, X: np.ndarray, S: np.ndarray, Z: Any, eps: float) -> Any:
    lhs = cp.multiply(S, X @ Z.T)  # (n, P): row k, column i = [(2D_i − I)Xz_i]_k
    if eps == 0.0:
        return lhs >= 0
    return lhs >= eps * cp.reshape(cp.norm(Z[:, :-1], 1, axis=1), (1, Z.shape[0]), order="C")


def solve_cvxpy(X: Any, y: Any, patterns: Patterns, beta: float, *, loss: Literal["squared", "hinge"] = "squared",
                eps: float = 0.0, gated: bool = False, solver: str | None = None, verbose: bool = False,
                **solver_opts: Any) -> CvxResult:
    r"""Solve the standard, gated or robust convex program with cvxpy (the reference of spec §3.4).

    .. math::
        \min_{v_i, w_i ∈ K_i^ε} \sum_k \max_{‖δ_k‖_∞ ≤ ε} ℓ_k\Big(\sum_i (D_i)_{kk}(x_k + δ_k)ᵀ(v_i − w_i)\Big)
        + β \sum_i (‖v_i‖₂ + ‖w_i‖₂),

    K_i^ε = {v : (2D_i − I)Xv ≥ ε‖v^f‖₁𝟙}; ε = 0 is C(𝒟). The inner maximum has the closed form of
    :func:`~solvers.convex_relu.adversarial.worst_case_losses`. ``gated=True`` drops the cones and merges
    v_i − w_i into one u_i (ε = 0 only).

    Parameters
    ----------
    X, y
        (n, d) data with the bias as last column; labels (±1 for the hinge).
    patterns
        The pattern set 𝒟.
    beta
        Weight decay β > 0.
    loss
        ``"squared"`` (½‖ŷ − y‖²) or ``"hinge"`` (Σ(1 − yŷ)_+).
    eps
        ℓ∞ radius ε ≥ 0 of the robust program (features only).
    gated
        Solve the gated relaxation (CR5: its value is ≤ that of C(𝒟)).
    solver
        A cvxpy solver name; None tries ``"CLARABEL"`` and falls back to ``"SCS"`` when Clarabel raises or ends
        without an optimal status. An explicit solver is tried alone.
    verbose, **solver_opts
        Passed to ``Problem.solve``.

    Returns
    -------
    CvxResult
        A failure of every solver is reported in ``status`` (``ok`` is False, value +inf), not raised.
    """
    loss = check_loss(loss)
    X, y = check_data(X, y, loss)
    n, d = X.shape
    patterns = check_patterns(patterns, n, d)
    beta = check_beta(beta)
    eps = check_eps(eps)
    if not isinstance(gated, bool):
        raise TypeError(f"gated must be a bool, got {type(gated).__name__}")
    if gated and eps > 0:
        raise ValueError("eps must be 0 with gated=True (the gates move with the input; no robust gated program)")
    if solver is not None and not isinstance(solver, str):
        raise TypeError(f"solver must be a cvxpy solver name or None, got {type(solver).__name__}")
    import cvxpy as cp

    candidates = ["CLARABEL", "SCS"] if solver is None else [solver.upper()]
    unknown = [s for s in candidates if s not in cp.installed_solvers()]
    if solver is not None and unknown:
        raise ValueError(f"solver must be an installed cvxpy solver {cp.installed_solvers()}, got {solver!r}")
    Xh, yh = np.asarray(to_numpy(X)), np.asarray(to_numpy(y))
    Dm = np.asarray(to_numpy(patterns.masks), dtype=float)
    patterns = Patterns(Dm, np.asarray(to_numpy(patterns.generators), dtype=float))  # the host copy
    P = patterns.P
    V = cp.Variable((P, d), name="V")
    W = None if gated else cp.Variable((P, d), name="W")
    constraints = [] if gated else [_cones(cp, Xh, 2.0 * Dm - 1.0, Z, eps) for Z in (V, W)]
    prob = cp.Problem(cp.Minimize(_objective(cp, Xh, yh, Dm, V, W, beta, loss, eps)), constraints)

    t0 = time.perf_counter()
    attempts: list[tuple[str, str]] = []
    used, status, compile_time = candidates[-1], "not solved", 0.0
    for name in candidates:
        if name not in cp.installed_solvers():
            attempts.append((name, "not installed"))
            continue
        try:
            prob.solve(solver=name, verbose=verbose, **solver_opts)
            status = str(prob.status)
        except cp.error.SolverError as exc:  # a failed solve is a result; the next solver is tried
            status = f"solver_error: {exc}"
        attempts.append((name, status))
        used, compile_time = name, float(prob.compilation_time or 0.0)
        if status in _OK and V.value is not None and (W is None or W.value is not None):
            break
    solve_time = time.perf_counter() - t0

    ok = status in _OK and V.value is not None and (W is None or W.value is not None)
    Vv = np.asarray(V.value, dtype=float) if ok else np.zeros((P, d))
    Wv = np.zeros((P, d)) if (W is None or not ok) else np.asarray(W.value, dtype=float)
    if ok and not (np.all(np.isfinite(Vv)) and np.all(np.isfinite(Wv))):
        ok, status = False, f"{status} (non-finite solution)"
        Vv, Wv = np.zeros((P, d)), np.zeros((P, d))
    if not ok and status in _OK:
        status = f"{status} (no solution returned)"
    if ok:
        if eps > 0:
            pen = float(group_norms(Vv).sum() + group_norms(Wv).sum())
            value = certified_loss(Xh, yh, patterns, Vv, Wv, eps, loss) + beta * pen
        else:
            value = convex_objective(Xh, yh, Dm, Vv, Wv, beta, loss)
        violation = 0.0 if gated else cone_violation(Xh, Dm, Vv, Wv, eps)
    else:
        value, violation = float("inf"), 0.0
    solver_value = float(prob.value) if ok and prob.value is not None and np.isfinite(prob.value) else float("inf")
    return CvxResult(V=Vv, W=Wv, value=float(value), solver_value=solver_value, solver=used, status=status,
                     solve_time=solve_time, compile_time=compile_time, violation=violation, loss=loss, eps=eps,
                     beta=beta, gated=gated, patterns=patterns, attempts=tuple(attempts))
