r"""The array path of the SOR solvers: the matrix forms with sparse triangular solves, on numpy or CuPy.

A sweep is inherently sequential, so on a GPU it is the triangular solve of its matrix form,
x ← x + (D/ω + L)⁻¹(b − Ax) (``cupyx.scipy.sparse.linalg.spsolve_triangular``; SciPy's on the CPU,
where this path is the reference the numba kernels are tested against). One Python iteration per
step: this path is for correctness and for GPU arrays, not for speed on small systems. On CuPy the
vectors stay on the device; each iteration reads the scalars its stopping test needs (SOR/SSOR: ‖r_k‖;
CG: ‖r_k‖, pᵀAp and rᵀz, which also guard against a breakdown). A triangular solve is sequential in
its dependency levels, so the GPU does not pay here; cost tables on the GPU use the red-black ordering
of :mod:`solvers.sor.redblack` instead.
"""

from __future__ import annotations

import math

import numpy as np

from solvers._xp import array_namespace, is_cupy
from solvers.sor._validate import check_rhs
from solvers.sor.operators import CsrData, Stencil5

__all__ = ["array_pcg", "array_sor", "array_sweep", "as_sparse"]


def _sparse(xp):
    if xp is np:
        import scipy.sparse as sparse
        from scipy.sparse.linalg import spsolve_triangular
    else:  # pragma: no cover - needs CuPy
        import cupyx.scipy.sparse as sparse
        from cupyx.scipy.sparse.linalg import spsolve_triangular
    return sparse, spsolve_triangular


def as_sparse(A, xp, *, positive_diagonal: bool = False, name: str = "A"):
    """A as a validated CSR matrix of namespace xp (scipy.sparse or cupyx.scipy.sparse) and its diagonal."""
    sparse, _ = _sparse(xp)
    if isinstance(A, Stencil5):
        A = A.to_csr()
    elif isinstance(A, CsrData):
        import scipy.sparse as sp

        A = sp.csr_matrix((A.data, A.indices, A.indptr), shape=(A.n, A.n))
    elif isinstance(A, np.ndarray):
        import scipy.sparse as sp

        if A.ndim != 2:
            raise ValueError(f"{name} must be a square matrix, got an array of shape {A.shape}")
        A = sp.csr_matrix(A)
    elif not (is_cupy(A) or hasattr(A, "tocsr")):
        raise TypeError(f"{name} must be a sparse matrix, a dense 2-D array or a Stencil5, got {type(A).__name__}")
    if A.shape[0] != A.shape[1] or A.shape[0] == 0:
        raise ValueError(f"{name} must be square and non-empty, got shape {A.shape}")
    if A.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be real, got dtype {A.dtype}")
    if xp is not np and not is_cupy(A):  # pragma: no cover - needs CuPy
        A = sparse.csr_matrix(A.astype(np.float64))
    A = A.tocsr().astype(xp.float64)
    if not bool(xp.all(xp.isfinite(A.data))):
        raise ValueError(f"{name} must be finite, got non-finite entries")
    d = A.diagonal()
    if positive_diagonal and not bool(xp.all(d > 0)):
        raise ValueError(f"{name} must have a positive diagonal (a_ii > 0)")
    if not bool(xp.all(d != 0)):
        raise ValueError(f"{name} must have a nonzero diagonal")
    return A, d


def _triangles(A, d, omega, xp):
    """(D/ω + L, D/ω + U) as CSR matrices of namespace xp."""
    sparse, _ = _sparse(xp)
    Dw = sparse.diags(d / omega, format="csr")
    return (Dw + sparse.tril(A, k=-1, format="csr")).tocsr(), (Dw + sparse.triu(A, k=1, format="csr")).tocsr()


def _norm(v, xp) -> float:
    return float(xp.sqrt(xp.sum(v * v)))


def array_sweep(A, b, x, omega, direction):
    """x ← x + (D/ω + L)⁻¹(b − Ax) (and/or the backward form), in place, in the namespace of x."""
    xp = array_namespace(b, x, A)
    A, d = as_sparse(A, xp)
    b = check_rhs(b, A.shape[0])
    if x.shape != (A.shape[0],):
        raise ValueError(f"x must have shape ({A.shape[0]},), got {x.shape}")
    _, solve = _sparse(xp)
    lower, upper = _triangles(A, d, omega, xp)
    if direction in ("forward", "symmetric"):
        x[...] = x + solve(lower, b - A @ x, lower=True)
    if direction in ("backward", "symmetric"):
        x[...] = x + solve(upper, b - A @ x, lower=False)
    return x


def array_sor(method, A, b, omega, tol, maxiter, x0, ssor, relative, strict):
    """Algorithm 1 (or 8 with ``ssor``) in matrix form; returns a SolveResult."""
    from solvers.sor.solve import SolveResult

    xp = array_namespace(b, x0, A)
    A, d = as_sparse(A, xp)
    n = A.shape[0]
    b = check_rhs(b, n)
    x = xp.zeros(n) if x0 is None else xp.array(check_rhs(x0, n, "x0"), copy=True)
    bn = _norm(b, xp)
    if relative and bn == 0:
        raise ValueError("b must be nonzero: the stopping test is relative to ‖b‖")
    thresh = tol * bn if relative else tol
    _, solve = _sparse(xp)
    lower, upper = _triangles(A, d, omega, xp)
    r = b - A @ x
    hist = []
    converged = False
    for k in range(1, maxiter + 1):
        x = x + solve(lower, r, lower=True)
        if ssor:
            x = x + solve(upper, b - A @ x, lower=False)
        r = b - A @ x
        rn = _norm(r, xp)
        hist.append(rn)
        if not math.isfinite(rn):
            raise FloatingPointError(f"{method} diverged (ω = {omega!r}): non-finite residual at iteration {k}; "
                                     "is A symmetric positive definite?")
        if rn < thresh or (not strict and rn == thresh):
            converged = True
            break
    scale = bn if relative else 1.0
    h = np.asarray(hist) / scale
    return SolveResult(x, len(hist), float(h[-1]), converged, not converged, h, method, omega, relative)


def array_pcg(method, A, b, omega, tol, maxiter, x0):
    """(P)CG with the SSOR preconditioner applied by two triangular solves; returns a SolveResult."""
    from solvers.sor.solve import SolveResult

    xp = array_namespace(b, x0, A)
    A, d = as_sparse(A, xp, positive_diagonal=True)
    n = A.shape[0]
    b = check_rhs(b, n)
    x = xp.zeros(n) if x0 is None else xp.array(check_rhs(x0, n, "x0"), copy=True)
    bn = _norm(b, xp)
    if bn == 0:
        raise ValueError("b must be nonzero: the stopping test is relative to ‖b‖")
    asym = A - A.T
    if asym.nnz and float(abs(asym).max()) > 1e-12 * float(abs(A).max()):
        raise ValueError("A must be symmetric (CG)")
    thresh = tol * bn
    _, solve = _sparse(xp)
    if omega is None:
        def precond(r):
            return r
    else:
        sparse, _ = _sparse(xp)
        lo = (sparse.diags(d, format="csr") + omega * sparse.tril(A, k=-1, format="csr")).tocsr()
        up = (sparse.diags(d, format="csr") + omega * sparse.triu(A, k=1, format="csr")).tocsr()

        def precond(r):
            return solve(up, d * solve(lo, omega * (2.0 - omega) * r, lower=True), lower=False)

    r = b - A @ x
    rn = _norm(r, xp)
    hist = []
    converged = rn <= thresh
    if not converged:
        z = precond(r)
        rz = float(xp.sum(r * z))
        p = z.copy()
        for k in range(1, maxiter + 1):
            q = A @ p
            pq = float(xp.sum(p * q))
            if not pq > 0 or not rz > 0:
                raise np.linalg.LinAlgError(f"A must be symmetric positive definite: {method} broke down at "
                                            f"iteration {k}")
            alpha = rz / pq
            x = x + alpha * p
            r = r - alpha * q
            rn = _norm(r, xp)
            hist.append(rn)
            if not math.isfinite(rn):
                raise FloatingPointError(f"{method} diverged: non-finite residual at iteration {k}")
            if rn <= thresh:
                converged = True
                break
            z = precond(r)
            rz_new = float(xp.sum(r * z))
            p = z + (rz_new / rz) * p
            rz = rz_new
    h = np.asarray(hist) / bn
    return SolveResult(x, len(hist), float(rn / bn), converged, not converged, h, method, omega, True)
