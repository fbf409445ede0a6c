r"""SOR, SSOR and SSOR-preconditioned CG solves with the stopping rules of the spec, and cost tables.

- :func:`sor` — Algorithm 1: x = x0 (default 0); repeat one forward SOR sweep, r = b − Ax, k += 1
  until ‖r‖₂ < ε‖b‖₂ (strict, tested after every iteration, so k ≥ 1) or k = k_max ("capped").
  The count k is the cost; the bandit's loss is k − 1 ∈ [0, K].
- :func:`ssor` — Algorithm 8: x ← x + W̆_ω⁻¹r (a forward then a backward sweep) until ‖r_k‖ ≤ ε
  (absolute by default, as in the semi-stochastic analysis; ``relative=True`` tests ‖r_k‖ ≤ ε‖b‖).
- :func:`ssor_pcg` — CG preconditioned by W̆_ω = (D+ωL)D⁻¹(D+ωLᵀ)/(ω(2−ω)), stop ‖r‖ ≤ ε‖b‖ (relative
  to ‖b‖ even from a warm start, as SciPy and MATLAB do); cost = CG iterations. :func:`cg` without it.
- :func:`sor_counts` / :func:`pcg_counts` — the full-information tables cost[t, ω]: every ω of a grid on
  one system, or on a batch of right-hand sides with diagonal shifts (A + c_t I), in one numba call.

The whole iteration runs in one numba kernel per call (no Python loop per iteration); for a symmetric
A the residual of each iterate comes out of the sweep that produces it (see :mod:`solvers.sor.sweeps`).
A run that meets the cap without converging has ``capped=True`` and ``converged=False``; a run whose
residual becomes non-finite raises ``FloatingPointError``; CG on a matrix that turns out indefinite
raises ``numpy.linalg.LinAlgError`` (a ValueError) naming A.

References
----------
M. Khodak, E. Chow, M.-F. Balcan, A. Talwalkar, "Learning to Relax: Setting Solver Parameters Across a
Sequence of Linear System Instances", ICLR 2024, arXiv:2310.02246, Algorithms 1 and 8, §2.3 (Thm 2.3,
SSOR-PCG), App. G (experiments).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from solvers._xp import is_cupy
from solvers.sor import _kernels as K
from solvers.sor import _lanes
from solvers.sor._validate import (
    check_maxiter,
    check_omega,
    check_omegas,
    check_rhs,
    check_tol,
    check_x0,
    rhs_and_norm,
)
from solvers.sor.operators import CsrData, Operator, Stencil5, prepare

__all__ = ["CountTable", "SolveResult", "cg", "pcg_counts", "sor", "sor_counts", "ssor", "ssor_pcg"]

Backend = Literal["auto", "numba", "array"]

_EMPTY_I = np.empty(0, dtype=np.int32)
_EMPTY_F = np.empty(0)


@dataclass(frozen=True)
class SolveResult:
    """One solve and its history.

    Attributes
    ----------
    x
        The last iterate (numpy, or CuPy on the array path with CuPy input).
    iterations
        k: SOR/SSOR sweeps (a forward+backward pair counts once for SSOR) or CG iterations.
    residual_norm
        ‖r_k‖/‖b‖ (``relative``) or ‖r_k‖ (absolute SSOR), the quantity the stopping test compared.
    converged
        The stopping test was met at k ≤ maxiter.
    capped
        k = maxiter without meeting the test (never counted as converged).
    residuals
        The history ‖r_1‖, …, ‖r_k‖ in the units of ``residual_norm`` (CG: the recursive residual).
    method
        ``"sor"``, ``"ssor"``, ``"ssor_pcg"`` or ``"cg"``.
    omega
        The relaxation parameter (None for CG).
    relative
        Whether the norms are relative to ‖b‖.
    """

    x: np.ndarray
    iterations: int
    residual_norm: float
    converged: bool
    capped: bool
    residuals: np.ndarray
    method: str
    omega: float | None
    relative: bool = True

    @property
    def cost(self) -> int:
        """The cost the bandit observes: the iteration count (its loss is cost − 1 for SOR)."""
        return self.iterations


@dataclass(frozen=True)
class CountTable:
    """Iteration counts of many solves: one row per instance t, one column per ω.

    Attributes
    ----------
    omegas
        The grid as given: (G,), or (T, G) for a grid per instance.
    iterations
        Counts, int64, shape (T, G) (or (G,) for a single system).
    converged, capped
        Boolean arrays of the same shape; capped = ¬converged (a run that reached maxiter).
    residual_norm
        The final residual norm of each solve (relative to ‖b_t‖ unless an absolute SSOR test).
    maxiter
        The cap.
    """

    omegas: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    capped: np.ndarray
    residual_norm: np.ndarray
    maxiter: int

    @property
    def cost(self) -> np.ndarray:
        """The observed costs (= iterations)."""
        return self.iterations


# ---------------------------------------------------------------------------------------------
# helpers


def _check_backend(backend: str) -> None:
    if backend not in ("auto", "numba", "array"):
        raise ValueError(f"backend must be 'auto', 'numba' or 'array', got {backend!r}")


def _use_array(backend: str, *arrays: object) -> bool:
    _check_backend(backend)
    gpu = any(is_cupy(a) for a in arrays)
    if gpu and backend == "numba":
        raise ValueError("backend='numba' runs on the CPU only; CuPy input takes backend='auto' or 'array'")
    return gpu or backend == "array"


def _op_args(op: Operator) -> tuple:
    """(kind, indptr, indices, data, diag, center, off, N) for the kernels."""
    if isinstance(op, CsrData):
        return (K.CSR, op.indptr, op.indices, op.data, op.diag, 0.0, 0.0, 0)
    return (K.STENCIL, _EMPTY_I, _EMPTY_I, _EMPTY_F, _EMPTY_F, op.center, op.off, op.N)


def _fuse(op: Operator) -> bool:
    return isinstance(op, Stencil5) or op.symmetric


def _cpu_only(func: str, *arrays: object) -> None:
    if any(is_cupy(a) for a in arrays):
        raise TypeError(f"{func} runs on the CPU (numba kernels): pass numpy arrays, not CuPy arrays")


def _raise_status(method: str, status: int, k: int, omega: float | None) -> None:
    at = f" (ω = {omega!r})" if omega is not None else ""
    if status == K.DIVERGED:
        raise FloatingPointError(f"{method} diverged{at}: non-finite residual at iteration {k}; "
                                 "is A symmetric positive definite?")
    if status == K.BREAKDOWN:
        raise np.linalg.LinAlgError(f"A must be symmetric positive definite: {method} broke down{at} at "
                                    f"iteration {k} (pᵀAp ≤ 0 or rᵀz ≤ 0)")


def _check_spd_candidate(op: Operator) -> None:
    """What can be checked cheaply of SPD before CG: symmetry (CSR) or λ_min > 0 (stencil, exact)."""
    if isinstance(op, Stencil5):
        if not op.lambda_min > 0:
            raise ValueError(f"A must be symmetric positive definite, got λ_min = {op.lambda_min!r} "
                             f"(center = {op.center!r}, off = {op.off!r}, N = {op.N})")
    elif not op.asymmetry <= 1e-12:
        raise ValueError(f"A must be symmetric (CG), got relative asymmetry {op.asymmetry:.3g} "
                         "(symmetrise with (A + A.T)/2)")


def _nonzero(bn: float, name: str = "b") -> float:
    if bn == 0.0:
        raise ValueError(f"{name} must be nonzero: the stopping test is relative to ‖{name}‖")
    return bn


def _sor_like(method, A, b, omega, tol, maxiter, x0, ssor, relative, strict, backend) -> SolveResult:
    omega = check_omega(omega)
    tol = check_tol(tol)
    maxiter = check_maxiter(maxiter)
    if _use_array(backend, A, b, x0):
        from solvers.sor._array import array_sor

        return array_sor(method, A, b, omega, tol, maxiter, x0, ssor, relative, strict)
    op = prepare(A)
    n = op.n
    b, bn = rhs_and_norm(b, n)
    x = check_x0(x0, n)
    if relative:
        _nonzero(bn)
    thresh = tol * bn if relative else tol
    r = np.empty(n if isinstance(op, CsrData) else 0)
    ring = np.empty(op.N if isinstance(op, Stencil5) else 0)
    hist = np.empty(maxiter)
    k, status, rn = K.solve_sor(*_op_args(op), 0.0, _fuse(op), b, x, omega, thresh, strict, maxiter, ssor, r, ring,
                                hist)
    _raise_status(method, status, k, omega)
    scale = bn if relative else 1.0
    return SolveResult(x, int(k), float(rn / scale), status == K.CONVERGED, status == K.CAPPED,
                       hist[:k] / scale, method, omega, relative)


# ---------------------------------------------------------------------------------------------
# public solvers


def sor(A, b, omega: float, *, tol: float = 1e-8, maxiter: int = 10_000, x0=None,
        backend: Backend = "auto") -> SolveResult:
    r"""Solve Ax = b by SOR (Algorithm 1) and report the iteration count.

    x_0 = x0 (default 0); for k = 1, 2, …: one forward sweep x_k = x_{k−1} + W_ω⁻¹ r_{k−1},
    W_ω = D/ω + L; r_k = b − Ax_k; stop when ‖r_k‖₂ < tol·‖b‖₂ (strict) or k = maxiter. From x0 = 0,
    r_k = C_ω^k b with C_ω = I − AW_ω⁻¹.

    Parameters
    ----------
    A
        :class:`~solvers.sor.operators.Stencil5`, scipy.sparse matrix (any format), dense 2-D array, or a
        prepared :class:`~solvers.sor.operators.CsrData`; square, finite, nonzero diagonal. SOR converges
        for SPD A and 0 < ω < 2 (Ostrowski–Reich); other matrices are accepted and may cap or diverge.
    b
        Right-hand side, length n, finite and nonzero.
    omega
        Relaxation parameter, 0 < ω < 2 (ω = 1 is Gauss–Seidel).
    tol
        ε > 0, relative to ‖b‖.
    maxiter
        k_max ≥ 1.
    x0
        Start (default zeros); copied, never modified.
    backend
        ``"auto"`` (numba kernels on numpy input, the array path on CuPy input), ``"numba"`` or
        ``"array"`` (matrix form with sparse triangular solves; numpy or CuPy).

    Returns
    -------
    SolveResult
        x, iterations k (the cost), relative residual, converged/capped flags, residual history.

    Raises
    ------
    ValueError, TypeError
        Bad input (named), before any work.
    FloatingPointError
        The residual became non-finite (A is not SPD and SOR diverged).

    References
    ----------
    Khodak et al., ICLR 2024, Algorithm 1; spec sor_bandit.md §3.
    """
    return _sor_like("sor", A, b, omega, tol, maxiter, x0, False, True, True, backend)


def ssor(A, b, omega: float, *, tol: float = 1e-8, maxiter: int = 10_000, x0=None, relative: bool = False,
         backend: Backend = "auto") -> SolveResult:
    r"""Solve Ax = b by SSOR (Algorithm 8): x ← x + W̆_ω⁻¹(b − Ax), a forward then a backward sweep.

    W̆_ω = (ω/(2−ω))(D/ω+L)D⁻¹(D/ω+Lᵀ) = (D+ωL)D⁻¹(D+ωLᵀ)/(ω(2−ω)). Stops when ‖r_k‖ ≤ tol (absolute,
    the semi-stochastic setting of Thm 3.1, where ‖b‖ ≤ √n) or, with ``relative``, ‖r_k‖ ≤ tol·‖b‖;
    tested after every step (k ≥ 1). The paper's Algorithm 8 prints the return test inverted (spec §7);
    this is the intended test. Parameters and errors as in :func:`sor`; b may be zero in absolute mode.

    References
    ----------
    Khodak et al., ICLR 2024, Algorithm 8 and §3 (Thm 3.1).
    """
    if not isinstance(relative, bool | np.bool_):
        raise TypeError(f"relative must be a bool, got {type(relative).__name__}")
    return _sor_like("ssor", A, b, omega, tol, maxiter, x0, True, bool(relative), False, backend)


def _pcg(method, A, b, omega, tol, maxiter, x0, backend) -> SolveResult:
    tol = check_tol(tol)
    maxiter = check_maxiter(maxiter)
    if _use_array(backend, A, b, x0):
        from solvers.sor._array import array_pcg

        return array_pcg(method, A, b, omega, tol, maxiter, x0)
    op = prepare(A, positive_diagonal=True)
    _check_spd_candidate(op)
    n = op.n
    b, bn = rhs_and_norm(b, n)
    x = check_x0(x0, n)
    _nonzero(bn)
    r, z, p, q, hist = np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(maxiter)
    k, status, rn = K.solve_pcg(*_op_args(op), 0.0, b, x, -1.0 if omega is None else omega, tol * bn, maxiter,
                                r, z, p, q, hist)
    _raise_status(method, status, k, omega)
    return SolveResult(x, int(k), float(rn / bn), status == K.CONVERGED, status == K.CAPPED, hist[:k] / bn,
                       method, omega, True)


def ssor_pcg(A, b, omega: float, *, tol: float = 1e-8, maxiter: int = 10_000, x0=None,
             backend: Backend = "auto") -> SolveResult:
    r"""Solve an SPD system by CG preconditioned with SSOR, W̆_ω = (D+ωL)D⁻¹(D+ωLᵀ)/(ω(2−ω)).

    W̆_ω⁻¹r is applied as ω(2−ω)(D+ωLᵀ)⁻¹D(D+ωL)⁻¹r: a forward and a backward triangular solve. Stops
    when ‖r_k‖ ≤ tol·‖b‖ for the recursively updated residual, relative to ‖b‖ also from a warm start
    (as MATLAB ``pcg`` and SciPy ``cg(rtol=)``; SciPy tests "<"). cost = iterations = CG iterations, 0 when
    x0 already meets the test.

    Parameters
    ----------
    A
        SPD: positive diagonal and symmetric (relative asymmetry ≤ 1e-12 for CSR; a Stencil5 must have
        λ_min > 0). Positive definiteness of a CSR matrix is not checked in advance; a breakdown
        (pᵀAp ≤ 0) raises ``numpy.linalg.LinAlgError``.
    b, tol, maxiter, x0, backend
        As in :func:`sor` (b nonzero).
    omega
        0 < ω < 2 (W̆_ω is SPD for every such ω).

    References
    ----------
    Khodak et al., ICLR 2024, §2.3 (Lemma E.2, Thm 2.3) and App. G.2; Axelsson (1994), §7.
    """
    return _pcg("ssor_pcg", A, b, check_omega(omega), tol, maxiter, x0, backend)


def cg(A, b, *, tol: float = 1e-8, maxiter: int = 10_000, x0=None, backend: Backend = "auto") -> SolveResult:
    r"""Unpreconditioned CG (the heat baseline), with the stopping rule of :func:`ssor_pcg`.

    References
    ----------
    Hestenes and Stiefel (1952); Khodak et al., ICLR 2024, App. G.2 (the CG baseline).
    """
    return _pcg("cg", A, b, None, tol, maxiter, x0, backend)


# ---------------------------------------------------------------------------------------------
# tables


def sor_counts(A, b, omegas, *, shifts=None, tol: float = 1e-8, maxiter: int = 10_000, ssor: bool = False,
               relative: bool | None = None) -> CountTable:
    r"""Iteration counts SOR_t(ω) (or SSOR_t(ω)) from x0 = 0 for a grid of ω, in one numba call.

    For every instance t and every grid point g this is exactly ``sor(A + c_t I, b_t, ω_g).iterations``
    (``ssor(...)`` with ``ssor=True``), with the same stopping test, but without a Python call per solve.

    Parameters
    ----------
    A
        The base operator (Stencil5 — fastest — CSR, or CsrData), nonzero diagonal after every shift.
    b
        One right-hand side (n,) or one per instance (T, n); each row finite and nonzero in relative mode.
    omegas
        The grid, 1-D (G,), every ω in (0, 2); or 2-D (T, G), a grid per instance (e.g. Young's ω*(A_t)
        as a column).
    shifts
        None, a scalar, or (T,) diagonal shifts c_t: instance t is A + c_t I (the shifted-Laplacian family
        of the spec's Generator A). A 1-D b is shared by all T shifts.
    tol, maxiter
        As in :func:`sor`.
    ssor
        Count SSOR steps (Algorithm 8) instead of SOR sweeps.
    relative
        Test ‖r‖ against tol·‖b_t‖; default True for SOR (strict "<") and False for SSOR ("≤").

    Returns
    -------
    CountTable
        iterations[t, g], converged, capped and final residuals; shape (G,) when b is 1-D, shifts is None
        or a scalar and the grid is 1-D, else (T, G).
    """
    _cpu_only("sor_counts", A, b, omegas, shifts)
    omegas = check_omegas(omegas, allow_2d=True)
    tol = check_tol(tol)
    maxiter = check_maxiter(maxiter)
    if not isinstance(ssor, bool | np.bool_):
        raise TypeError(f"ssor must be a bool, got {type(ssor).__name__}")
    if relative is None:
        relative = not ssor
    elif not isinstance(relative, bool | np.bool_):
        raise TypeError(f"relative must be a bool or None, got {type(relative).__name__}")
    op = prepare(A)
    n = op.n
    B = check_rhs(b, n, batch=True)
    single = B.ndim == 1
    if shifts is None:
        c = np.zeros(1)
    else:
        c = np.asarray(shifts)
        if c.dtype.kind not in "fiu" or c.dtype == bool:
            raise TypeError(f"shifts must be real numbers, got dtype {c.dtype}")
        c = c.astype(np.float64)
        if c.ndim > 1:
            raise ValueError(f"shifts must be a scalar or 1-D, got shape {c.shape}")
        if not np.all(np.isfinite(c)):
            raise ValueError("shifts must be finite, got non-finite entries")
        single = single and c.ndim == 0
        c = np.atleast_1d(c)
    B2 = np.atleast_2d(B)
    if c.shape[0] != B2.shape[0]:
        if B2.shape[0] == 1:
            B2 = np.broadcast_to(B2, (c.shape[0], n))
        elif c.shape[0] == 1:
            c = np.full(B2.shape[0], c[0])
        else:
            raise ValueError(f"shifts must have one entry per row of b ({B2.shape[0]}), got {c.shape[0]}")
    OM = np.atleast_2d(omegas)
    if OM.shape[0] != 1:
        single = False
        if B2.shape[0] == 1 and c.shape[0] == 1:
            B2 = np.broadcast_to(B2, (OM.shape[0], n))
            c = np.full(OM.shape[0], c[0])
        if OM.shape[0] != B2.shape[0]:
            raise ValueError(f"omegas: a 2-D grid needs one row per instance ({B2.shape[0]}), got {OM.shape[0]}")
    B2 = np.ascontiguousarray(B2)
    diag = op.diag if isinstance(op, CsrData) else np.array([op.center])
    zero = np.isin(c, -diag)  # fl(a_ii + c) = 0 iff c = −a_ii exactly
    if zero.any():
        t = int(np.argmax(zero))
        raise ValueError(f"shifts: A + c_t I has a zero diagonal entry at t = {t} (c_t = {c[t]!r})")
    bn = np.sqrt(K.rows_sumsq(B2))
    if relative and not np.all(bn > 0):
        raise ValueError(f"b must be nonzero (row {int(np.argmin(bn))} is zero): the test is relative to ‖b‖")
    thresh = tol * bn if relative else np.full(bn.shape[0], tol)
    scale = bn if relative else np.ones(bn.shape[0])
    T, G = B2.shape[0], OM.shape[1]
    iters = np.empty((T, G), dtype=np.int64)
    status = np.empty((T, G), dtype=np.int8)
    norms = np.empty((T, G))
    _lanes.count_table(*_op_args(op), c, _fuse(op), B2, np.ascontiguousarray(OM), thresh, scale, not ssor, maxiter,
                       bool(ssor), iters, status, norms)
    bad = np.argwhere(status == K.DIVERGED)
    if bad.size:
        t, g = bad[0]
        w = float(OM[t if OM.shape[0] > 1 else 0, g])
        _raise_status("ssor" if ssor else "sor", K.DIVERGED, int(iters[t, g]), w)
    conv = status == K.CONVERGED
    if single:
        iters, conv, norms = iters[0], conv[0], norms[0]
    return CountTable(omegas, iters, conv, ~conv, norms, maxiter)


def pcg_counts(A, b, omegas, *, x0=None, tol: float = 1e-8, maxiter: int = 10_000) -> CountTable:
    r"""SSOR-PCG iteration counts on one SPD system for every ω of a grid (same x0 each), in one numba call.

    Each entry equals ``ssor_pcg(A, b, ω, tol=tol, maxiter=maxiter, x0=x0).iterations``.

    Returns
    -------
    CountTable
        Shape (G,); residual_norm relative to ‖b‖.
    """
    _cpu_only("pcg_counts", A, b, omegas, x0)
    omegas = check_omegas(omegas)
    tol = check_tol(tol)
    maxiter = check_maxiter(maxiter)
    op = prepare(A, positive_diagonal=True)
    _check_spd_candidate(op)
    n = op.n
    b, bn = rhs_and_norm(b, n)
    x0 = check_x0(x0, n)
    _nonzero(bn)
    G = omegas.shape[0]
    iters, status, norms = np.empty(G, dtype=np.int64), np.empty(G, dtype=np.int8), np.empty(G)
    K.pcg_table(*_op_args(op), 0.0, b, x0, omegas, tol * bn, maxiter, iters, status, norms)
    for g in range(G):
        _raise_status("ssor_pcg", int(status[g]), int(iters[g]), float(omegas[g]))
    conv = status == K.CONVERGED
    return CountTable(omegas, iters, conv, ~conv, norms / bn, maxiter)
